"""The per run × interaction summaries (InteractionSummary, read by interaction_catalogue) always
equal an aggregation of the live SIGNALS edges: after a load, a replacement, a removal and a load a
client abandoned after staging it; on both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph._graph import build, new_load_id
from commgraph.stores._base import SIGNALS_TABLE
from commgraph.stores.embedded import EmbeddedStore
from conftest import synthetic_table

LIVE_SUMMARIES = f"""
MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live
MATCH (i:{S.INTERACTION_NODE})-[:{S.HAS_SUMMARY}]->(s:{S.INTERACTION_SUMMARY})
WHERE s.{S.LOAD_ID} IN live AND i.{S.NAME} = s.{S.INTERACTION}
RETURN s.{S.RUN_ID} AS {S.RUN_ID}, s.{S.INTERACTION} AS {S.INTERACTION}, s.{S.DAY} AS {S.DAY},
       s.`{S.GROUP}` AS `{S.GROUP}`, s.{S.N_PAIRS} AS {S.N_PAIRS}, s.{S.N_SIGNIFICANT} AS {S.N_SIGNIFICANT},
       s.{S.MAX_SCORE} AS {S.MAX_SCORE}, s.{S.TOTAL_SCORE} AS {S.TOTAL_SCORE}, s.{S.MIN_PVALUE} AS {S.MIN_PVALUE},
       s.{S.SENDERS} AS {S.SENDERS}, s.{S.RECEIVERS} AS {S.RECEIVERS}, s.{S.SCORES} AS {S.SCORES},
       s.{S.PVALUES} AS {S.PVALUES}, s.{S.CALLS} AS {S.CALLS}
"""
LISTS = [S.SENDERS, S.RECEIVERS, S.SCORES, S.PVALUES, S.CALLS]
ALL_SUMMARIES = f"MATCH (s:{S.INTERACTION_SUMMARY}) RETURN count(s) AS n"
KEYS = [S.RUN_ID, S.INTERACTION, S.DAY, S.GROUP]


def _from_edges(store) -> pd.DataFrame:
    """The summaries as pandas computes them from the live edges the store returns."""
    e = store.cypher(SIGNALS_TABLE)
    if e.empty:
        return pd.DataFrame(columns=KEYS + [S.N_PAIRS, S.N_SIGNIFICANT, S.MAX_SCORE, S.TOTAL_SCORE, S.MIN_PVALUE])
    e["_sig"] = e[S.SIGNIFICANT].astype(bool) & ~(e[S.PVALUE].astype(float) > 0.05)
    out = (e.groupby(KEYS, as_index=False)
           .agg(**{S.N_PAIRS: (S.SCORE, "size"), S.N_SIGNIFICANT: ("_sig", "sum"), S.MAX_SCORE: (S.SCORE, "max"),
                   S.TOTAL_SCORE: (S.SCORE, "sum"), S.MIN_PVALUE: (S.PVALUE, "min")}))
    # each summary's edges as the sorted (sender, receiver, score, p-value or NO_PVALUE, call) tuples
    e["_edge"] = list(zip(e[S.SOURCE].astype(str), e[S.TARGET].astype(str), e[S.SCORE].astype(float).round(9),
                          e[S.PVALUE].astype(float).fillna(S.NO_PVALUE).round(9), e[S.SIGNIFICANT].astype(bool)))
    edges = e.groupby(KEYS)["_edge"].agg(sorted).rename("_edges").reset_index()
    return out.merge(edges, on=KEYS)


def _listed(row) -> list:
    """A summary's lists as the sorted tuples _from_edges makes (the lists are aligned, in any order)."""
    s, r, sc, p, c = (list(row[n]) for n in LISTS)
    assert len(s) == len(r) == len(sc) == len(p) == len(c) == row[S.N_PAIRS]
    return sorted(zip(map(str, s), map(str, r), (round(float(x), 9) for x in sc), (round(float(x), 9) for x in p),
                      map(bool, c)))


def check(store) -> int:
    """Live summaries equal the edges' aggregation, and no other summary is left; returns their number."""
    got = store.cypher(LIVE_SUMMARIES).sort_values(KEYS).reset_index(drop=True)
    want = _from_edges(store).sort_values(KEYS).reset_index(drop=True)
    assert len(got) == len(want)
    assert (got[KEYS].astype(str).to_numpy() == want[KEYS].astype(str).to_numpy()).all()
    for c in (S.N_PAIRS, S.N_SIGNIFICANT):
        assert got[c].astype(int).tolist() == want[c].astype(int).tolist(), c
    for c in (S.MAX_SCORE, S.TOTAL_SCORE, S.MIN_PVALUE):
        assert np.allclose(got[c].astype(float), want[c].astype(float), rtol=1e-9, equal_nan=True), c
    assert [_listed(row) for _, row in got.iterrows()] == want["_edges"].tolist()
    assert int(store.cypher(ALL_SUMMARIES)["n"][0]) == len(got)  # nothing stale left behind
    return len(got)


def _abandoned_stage(store, table: pd.DataFrame) -> None:
    """What a client killed between staging a load and switching it leaves: staged edges and summaries."""
    frames = build(S.validate(table), load_id=new_load_id())
    store._writable()
    if isinstance(store, EmbeddedStore):
        store._staged = {"fresh": {}, "load_ids": []}
    store._stage(frames)


def _story(store, reopen=None) -> None:
    base = synthetic_table(days=(0, 7), seed=1)
    store.load(base)
    assert check(store) == 2 * 3  # 2 runs × 3 interactions
    # a replacement of day 7: other scores, one interaction fewer
    d7 = synthetic_table(days=(7,), seed=2)
    d7 = d7[d7[S.INTERACTION] != "APP^CD74"]
    store.load(d7)
    assert check(store) == 3 + 2
    # a load abandoned after its stage changes nothing visible; the next load of its run sweeps it
    _abandoned_stage(store, synthetic_table(days=(0,), seed=3))
    if reopen:
        store = reopen(store)
    got = store.query("interaction_catalogue", interaction="APP^CD74")
    assert got["n_pairs"].tolist() == [9]  # day 0 only, the abandoned load's edges not counted
    store.load(synthetic_table(days=(0,), seed=4))
    assert check(store) == 3 + 2
    store.remove_run("synthetic|d7|high")
    assert check(store) == 3
    # the catalogue reads what the summaries say, at the default cut and (from the edges) at another
    full = store.query("interaction_catalogue")
    detail = store.query("interaction_catalogue", pvalue=0.0500001)
    pd.testing.assert_frame_equal(full[["interaction", "group", "day", "n_runs", "n_pairs", "n_significant"]],
                                  detail[["interaction", "group", "day", "n_runs", "n_pairs", "n_significant"]])
    return store


def test_summaries_follow_the_edges_embedded(tmp_path):
    def reopen(st):  # the abandoned stage is undone when the store is next opened
        st.close()
        return cg.connect(tmp_path / "s.lbug")

    st = _story(cg.connect(tmp_path / "s.lbug"), reopen=reopen)
    st.close()


@pytest.mark.neo4j
def test_summaries_follow_the_edges_neo4j(neo4j_store):
    _story(neo4j_store)


def test_an_older_store_gains_its_summaries(tmp_path):
    """A store written before InteractionSummary existed is backfilled from its edges when opened."""
    path = tmp_path / "old.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table(days=(0, 7), seed=5))
        st.cypher(f"MATCH (s:{S.INTERACTION_SUMMARY}) DETACH DELETE s")
        st._conn.execute(f"DROP TABLE {S.HAS_SUMMARY}")
        st._conn.execute(f"DROP TABLE {S.INTERACTION_SUMMARY}")
    with cg.connect(path) as st:
        assert check(st) == 6
        assert st.query("interaction_catalogue")["n_runs"].sum() == 6


def test_an_older_store_gains_its_summaries_edge_lists(tmp_path):
    """A store whose summaries were written before they listed their edges gets them listed when
    opened for writing (the catalogue and lr_trajectory read the lists)."""
    path = tmp_path / "old.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table(days=(0, 7), seed=5))
        want = st.query("lr_trajectory", interaction="CD86^CTLA4")
        for name in LISTS:
            st._conn.execute(f"ALTER TABLE {S.INTERACTION_SUMMARY} DROP {name}")
    with pytest.warns(UserWarning, match="open it once without read_only=True"):
        with cg.connect(path, read_only=True) as ro:  # told, and the questions reading the lists refuse
            for name in ("lr_trajectory", "interaction_catalogue"):
                with pytest.raises(cg.QueryError, match="open it once without read_only=True"):
                    ro.query(name, interaction="CD86^CTLA4")
            assert len(ro.query("signaling_by_day", cell_type="Treg")) > 0
    with cg.connect(path) as st:
        assert check(st) == 6
        pd.testing.assert_frame_equal(st.query("lr_trajectory", interaction="CD86^CTLA4"), want)
        assert len(want) > 0


@pytest.mark.neo4j
def test_an_older_neo4j_store_gains_its_summaries_edge_lists(neo4j_store, neo4j_uri):
    """On Neo4j too: summaries without the lists are replaced by listed ones when a client connects
    without read_only; a read-only client leaves them (and is told nothing is changed)."""
    neo4j_store.load(synthetic_table(days=(0, 7), seed=5))
    want = neo4j_store.query("lr_trajectory", ligand="CD86")
    neo4j_store.cypher(f"MATCH (s:{S.INTERACTION_SUMMARY}) REMOVE " + ", ".join(f"s.{n}" for n in LISTS))
    with pytest.warns(UserWarning, match="connect once without read_only=True"):
        with cg.connect(neo4j_uri, read_only=True) as ro:
            assert len(ro._runs_unlisted()) == 2  # both runs
    with cg.connect(neo4j_uri) as st:
        assert st._runs_unlisted() == []
        assert check(st) == 6
        pd.testing.assert_frame_equal(st.query("lr_trajectory", ligand="CD86"), want)
        assert len(want) > 0


@pytest.mark.neo4j
def test_a_neo4j_backfill_killed_part_way_is_finished_on_the_next_connect(neo4j_store, neo4j_uri):
    """The Neo4j backfill writes a run's summaries in one transaction, run by run: a kill part-way
    leaves some runs listed, some with older unlisted summaries and (a store from before the
    summaries) some with none. Every such run is found, not only when the first summary read is
    unlisted, and the next writable connect completes them; lr_trajectory then answers in full."""
    neo4j_store.load(synthetic_table(days=(0, 7), groups=("low", "high"), seed=5))
    want = neo4j_store.query("lr_trajectory", ligand="CD86")
    runs = sorted(neo4j_store.runs()[S.RUN_ID])
    assert len(runs) == 4 and neo4j_store._runs_unlisted() == []
    unlisted, missing = runs[1], runs[2]
    neo4j_store.cypher(f"MATCH (s:{S.INTERACTION_SUMMARY}) WHERE s.{S.RUN_ID} = $id REMOVE "
                       + ", ".join(f"s.{n}" for n in LISTS), {"id": unlisted})
    neo4j_store.cypher(f"MATCH (s:{S.INTERACTION_SUMMARY}) WHERE s.{S.RUN_ID} = $id DETACH DELETE s", {"id": missing})
    with pytest.warns(UserWarning, match="connect once without read_only=True"):
        with cg.connect(neo4j_uri, read_only=True) as ro:
            assert ro._runs_unlisted() == sorted([unlisted, missing])
            for name in ("lr_trajectory", "interaction_catalogue"):  # refused, not answered from 2 of 4 runs
                with pytest.raises(cg.QueryError, match="connect once without read_only=True"):
                    ro.query(name, ligand="CD86")
            assert len(ro.query("signaling_by_day", cell_type="Treg")) > 0  # the rest answer
    with cg.connect(neo4j_uri) as st:
        assert st._runs_unlisted() == []
        assert check(st) == 12  # 4 runs × 3 interactions
        pd.testing.assert_frame_equal(st.query("lr_trajectory", ligand="CD86"), want)
        # only one run's summaries missing, every summary left listed: found all the same
        st.cypher(f"MATCH (s:{S.INTERACTION_SUMMARY}) WHERE s.{S.RUN_ID} = $id DETACH DELETE s", {"id": runs[3]})
    with cg.connect(neo4j_uri) as st:
        assert check(st) == 12
        pd.testing.assert_frame_equal(st.query("lr_trajectory", ligand="CD86"), want)


def _many_interactions(n: int = 1000) -> pd.DataFrame:
    """A study of many interactions (as real ones are: ~3k), so that Neo4j's planner weighs an index
    seek by interaction name against a scan with realistic selectivity."""
    rng = np.random.default_rng(0)
    types = ("MX1+ Mono", "Treg", "CD4 Naive T", "B naive")
    rows = []
    for day in (0, 7):
        for k in range(n):
            lig, rec = f"L{k}", f"R{k}"
            for s in types:
                for t in types:
                    p = float(rng.random() * 0.1)
                    rows.append({S.SOURCE: s, S.TARGET: t, S.LIGAND: lig, S.RECEPTOR: rec,
                                 S.INTERACTION: S.interaction_name(lig, rec), S.PATHWAY: f"P{k % 7}",
                                 S.SCORE: float(rng.random()), S.PVALUE: p, S.SIGNIFICANT: p < 0.05, S.DAY: day,
                                 S.GROUP: "high", S.SAMPLE: None, S.METHOD: "m", S.RUN_ID: f"m|d{day}|high", S.TOOL: "m"})
    return pd.DataFrame(rows)


def _operators(plan: dict, out: list) -> list:
    out.append((plan.get("operatorType", ""), str(plan.get("args", {}).get("Details", "")), plan.get("rows")))
    for child in plan.get("children", []):
        _operators(child, out)
    return out


@pytest.mark.neo4j
def test_a_given_interaction_is_an_index_seek_on_neo4j(neo4j_store):
    """Given an interaction (or a ligand), the questions reach its edges from an index: lr_trajectory
    through the Interaction node's summaries, which list them (PROFILE: no SIGNALS edge read at all);
    given a method too, and the catalogue, by an index seek on SIGNALS.interaction (the seek yields
    exactly its edges). Neither reads every edge."""
    from commgraph._queries import get_query

    neo4j_store.load(_many_interactions())
    n_edges = int(neo4j_store.cypher("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n")["n"][0])
    # an index still populating is not planned with; fresh statistics so the plan is the one a user gets
    neo4j_store.cypher("CALL db.awaitIndexes(300)")
    neo4j_store.cypher("CALL db.prepareForReplanning(300)")
    # (question, parameters, rows or pairs answered, edges the seek yields: the interaction's 32, also
    # when a sender is given — Neo4j starts from the name, not from the sender's edges of every
    # interaction; 0: read from the summaries, no seek)
    for name, params, want, read in [("lr_trajectory", {"interaction": "L3^R3"}, 32, 0),
                                     ("lr_trajectory", {"ligand": "L5"}, 32, 0),
                                     ("lr_trajectory", {"interaction": "L3^R3", "sender": "Treg"}, 8, 0),
                                     ("lr_trajectory", {"interaction": "L3^R3", "method": "m"}, 32, 32),
                                     ("lr_trajectory", {"ligand": "L5", "method": "m"}, 32, 32),
                                     ("lr_trajectory", {"interaction": "L3^R3", "sender": "Treg", "method": "m"}, 8, 32),
                                     ("interaction_catalogue", {"interaction": "L3^R3", "pvalue": 0.01}, 32, 32)]:
        got = neo4j_store.query(name, **params)  # the answer itself first: its edges, one row each or counted
        assert (len(got) if name == "lr_trajectory" else int(got["n_pairs"].sum())) == want, (name, params, got)
        spec = get_query(name)
        _, summary, _ = neo4j_store._driver.execute_query("PROFILE " + spec.text, parameters_=spec.bind(params),
                                                          database_=neo4j_store.database)
        ops = _operators(summary.profile, [])
        seeks = [o for o in ops if "RelationshipIndexSeek" in o[0] and "SIGNALS(interaction)" in o[1]]
        assert sum(o[2] for o in seeks) == read, (name, params, seeks)
        if read == 0:  # no SIGNALS edge touched: the interaction's two summaries (one a run) hold its edges
            assert not [o for o in ops if "SIGNALS" in o[1] and o[2]], (name, params, ops)
            assert [o for o in ops if "HAS_SUMMARY" in o[1] and o[2] == 2], (name, params, ops)
        # nothing else read the SIGNALS edges wholesale
        scans = [o for o in ops if ("RelationshipIndexScan" in o[0] or "RelationshipTypeScan" in o[0]
                                    or "AllNodesScan" in o[0]) and o[2]]
        assert not scans, (name, params, scans)
        assert n_edges == 32000


@pytest.mark.neo4j
def test_the_catalogue_finds_live_summaries_by_an_index_seek_on_neo4j(neo4j_store):
    """The catalogue keeps a summary whose load_id a Run carries: Neo4j looks each one's Run up in
    the Run(load_id) index, rather than hashing every Run node again for every Interaction."""
    from commgraph._queries import get_query

    neo4j_store.load(synthetic_table(days=(0, 7), seed=1))
    _abandoned_stage(neo4j_store, synthetic_table(days=(0,), seed=3))  # summaries no Run carries
    neo4j_store.cypher("CALL db.awaitIndexes(300)")
    neo4j_store.cypher("CALL db.prepareForReplanning(300)")
    spec = get_query("interaction_catalogue")
    got = neo4j_store.query("interaction_catalogue")
    assert got["n_runs"].sum() == 2 * 3  # 2 runs × 3 interactions: the abandoned stage's not counted
    _, summary, _ = neo4j_store._driver.execute_query("PROFILE " + spec.text, parameters_=spec.bind({}),
                                                      database_=neo4j_store.database)
    ops = _operators(summary.profile, [])
    seeks = [o for o in ops if "NodeIndexSeek" in o[0] and "Run(load_id)" in o[1]]
    assert seeks, ops
    assert not [o for o in ops if "ValueHashJoin" in o[0]], ops


@pytest.mark.neo4j
def test_a_cell_type_question_starts_from_its_states_on_neo4j_in_either_direction(neo4j_store):
    """The gate each direction's branch carries for LadybugDB (``s.key = CASE WHEN $direction = …``)
    leaves Neo4j's plan as it was: a seek of the cell type's states in the CellState(cell_type) index,
    then their edges only (PROFILE: no scan of CellStates or SIGNALS edges)."""
    from commgraph._queries import get_query

    neo4j_store.load(_many_interactions())
    neo4j_store.cypher("CALL db.awaitIndexes(300)")
    neo4j_store.cypher("CALL db.prepareForReplanning(300)")
    for name, params in [("partners", {"cell_type": "Treg", "day": 7, "group": "high"}),
                         ("signaling_change", {"cell_type": "Treg", "day": 7, "group": "high", "significant_only": False}),
                         ("signaling_by_day", {"cell_type": "Treg", "ligand": "L3"}),
                         ("dose_response", {"cell_type": "Treg", "day": 7, "ligand": "L3"})]:
        for direction in ("out", "in"):
            got = neo4j_store.query(name, **params, direction=direction)
            assert len(got), (name, direction)
            spec = get_query(name)
            _, summary, _ = neo4j_store._driver.execute_query(
                "PROFILE " + spec.text, parameters_=spec.bind({**params, "direction": direction}),
                database_=neo4j_store.database)
            ops = _operators(summary.profile, [])
            assert [o for o in ops if "NodeIndexSeek" in o[0] and " s:CellState(cell_type)" in o[1]], (name, ops)
            scans = [o for o in ops if ("NodeByLabelScan" in o[0] or "AllNodesScan" in o[0]
                                        or "RelationshipTypeScan" in o[0] or "RelationshipIndexScan" in o[0]) and o[2]]
            assert not scans, (name, direction, scans)
