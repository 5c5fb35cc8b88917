"""The summary layer (SUMMARY, PATHWAY_SUMMARY) always equals an aggregation of the visible SIGNALS
edges, computed here independently with pandas over ``store.signals()``: after loads, a replacement,
a removal, a multi-run load, a killed load, and the backfill of a store written before the layer;
and the aggregating questions give pandas' answers on a study with negative scores (the summary's
score cut) on both paths."""

from __future__ import annotations

import signal
import time

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from conftest import synthetic_table

KEY = ["from", "to", S.RUN_ID, S.METHOD, S.SAMPLE]
AGG = [S.N_INTERACTIONS, S.TOTAL_SCORE, S.N_SIGNIFICANT, S.SIGNIFICANT_SCORE, S.MAX_SCORE, S.MAX_SIGNIFICANT_SCORE,
       S.N_SIGNIFICANT_NEGATIVE, S.SIGNIFICANT_NEGATIVE_SCORE]


def expected(edges: pd.DataFrame, *, pathway: bool) -> pd.DataFrame:
    """The summary from the edges, by the questions' defaults: score >= 0; significant and p <= 0.05
    (a missing p passes)."""
    e = edges.copy()
    e["from"] = [S.state_key(c, d, g) for c, d, g in zip(e[S.SOURCE], e[S.DAY], e[S.GROUP])]
    e["to"] = [S.state_key(c, d, g) for c, d, g in zip(e[S.TARGET], e[S.DAY], e[S.GROUP])]
    kept = e[S.SCORE] >= 0.0
    sig = e[S.SIGNIFICANT].astype(bool) & (e[S.PVALUE].fillna(0.0) <= 0.05)
    e["_n"], e["_t"] = kept.astype(int), e[S.SCORE].where(kept, 0.0)
    e["_ns"], e["_ts"] = (kept & sig).astype(int), e[S.SCORE].where(kept & sig, 0.0)
    e["_m"], e["_ms"] = e[S.SCORE].where(kept), e[S.SCORE].where(kept & sig)
    e["_nn"], e["_tn"] = (~kept & sig).astype(int), e[S.SCORE].where(~kept & sig, 0.0)
    by = KEY + ([S.PATHWAY] if pathway else [])
    for c in by:
        e[c] = e[c].astype(object).where(e[c].notna(), "<null>")
    g = e.groupby(by, dropna=False)
    out = pd.DataFrame({S.N_INTERACTIONS: g["_n"].sum(), S.TOTAL_SCORE: g["_t"].sum(), S.N_SIGNIFICANT: g["_ns"].sum(),
                        S.SIGNIFICANT_SCORE: g["_ts"].sum(), S.MAX_SCORE: g["_m"].max(),
                        S.MAX_SIGNIFICANT_SCORE: g["_ms"].max(), S.N_SIGNIFICANT_NEGATIVE: g["_nn"].sum(),
                        S.SIGNIFICANT_NEGATIVE_SCORE: g["_tn"].sum()}).reset_index()
    return out.sort_values(by).reset_index(drop=True)


def stored(store, *, pathway: bool) -> pd.DataFrame:
    rel = S.PATHWAY_SUMMARY if pathway else S.SUMMARY
    props = [S.RUN_ID, S.METHOD, S.SAMPLE] + ([S.PATHWAY] if pathway else []) + AGG
    got = store.cypher(f"MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live "
                       f"MATCH (a:{S.CELL_STATE})-[m:{rel}]->(b:{S.CELL_STATE}) WHERE m.{S.LOAD_ID} IN live "
                       f"RETURN a.{S.KEY_PROP} AS from_key, b.{S.KEY_PROP} AS to_key, "
                       + ", ".join(f"m.{p} AS {p}" for p in props))
    got = got.rename(columns={"from_key": "from", "to_key": "to"})
    by = KEY + ([S.PATHWAY] if pathway else [])
    for c in by:
        got[c] = got[c].astype(object).where(got[c].notna(), "<null>")
    return got[by + AGG].sort_values(by).reset_index(drop=True)


def check(store) -> None:
    """Summary == aggregation of the visible edges, each live summary row carries its Run's load id,
    and no summary row outlives its edges (every row is live once a write is done)."""
    edges = store.signals()
    for pathway in (False, True):
        want, got = expected(edges, pathway=pathway), stored(store, pathway=pathway)
        assert len(got) == len(want), f"pathway={pathway}: {len(got)} summary rows, {len(want)} from the edges"
        for c in want.columns:
            if c in AGG and want[c].dtype.kind == "f":
                np.testing.assert_allclose(got[c].astype(float), want[c].astype(float), rtol=1e-9, atol=1e-12,
                                           err_msg=c)
            else:
                assert got[c].astype(object).tolist() == want[c].astype(object).tolist(), c
    for rel in (S.SUMMARY, S.PATHWAY_SUMMARY):
        stray = store.cypher(f"MATCH ()-[m:{rel}]->() OPTIONAL MATCH (run:{S.RUN}) WHERE run.{S.RUN_ID} = m.{S.RUN_ID} "
                             f"WITH m, run WHERE run IS NULL OR run.{S.LOAD_ID} <> m.{S.LOAD_ID} RETURN count(*) AS n")
        assert int(stray["n"][0]) == 0, f"{rel}: rows of no live load"


def varied(seed: int, *, tag: str = "", days=(0, 7)) -> pd.DataFrame:
    """Synthetic runs with what the summary must get right: negative scores, missing p-values,
    significant calls with p above the cut, a sample."""
    t = synthetic_table(seed=seed, tag=tag, days=days, groups=("high", "low"))
    rng = np.random.default_rng(seed)
    t[S.SCORE] = t[S.SCORE] - 0.2  # some below 0
    t.loc[rng.random(len(t)) < 0.2, S.PVALUE] = None
    t[S.SIGNIFICANT] = rng.random(len(t)) < 0.6  # some significant with p > 0.05
    t[S.PVALUE] = t[S.PVALUE] * 1.5
    t[S.SAMPLE] = np.where(t[S.GROUP] == "high", "P1", None)
    return t


def _exercise(store) -> None:
    store.load(varied(0))
    check(store)
    again = varied(1)  # the same runs again, other values and fewer rows
    store.load(again.iloc[: len(again) * 2 // 3])
    check(store)
    store.remove_run(sorted(store.runs()[S.RUN_ID])[0])
    check(store)
    store.load_many([(varied(2, tag="b", days=(3,)), None), (varied(3, tag="c", days=(14,)), None)])
    check(store)
    assert len(store.runs()) == 7


def test_summary_follows_loads_replacements_and_removals_embedded(tmp_path):
    with cg.connect(tmp_path / "s.lbug") as store:
        _exercise(store)


@pytest.mark.neo4j
def test_summary_follows_loads_replacements_and_removals_neo4j(neo4j_store):
    _exercise(neo4j_store)


def test_a_store_written_before_the_summary_layer_gets_it_on_open(tmp_path):
    path = tmp_path / "old.lbug"
    with cg.connect(path) as store:
        store.load(varied(0))
        store.load(varied(1, tag="b"))
        want = store.query("network")
        store.cypher(f"DROP TABLE {S.SUMMARY}")  # what a store of an older commgraph lacks
        store.cypher(f"DROP TABLE {S.PATHWAY_SUMMARY}")
    with cg.connect(path, read_only=True) as store:  # a reader opens it first: the layer is added once
        check(store)
        pd.testing.assert_frame_equal(store.query("network"), want)
    with cg.connect(path) as store:
        check(store)


@pytest.mark.neo4j
def test_a_neo4j_store_written_before_the_summary_layer_gets_it_on_connect(neo4j_store, neo4j_uri):
    neo4j_store.load(varied(0))
    neo4j_store.cypher(f"MATCH ()-[m:{S.SUMMARY}|{S.PATHWAY_SUMMARY}]->() DELETE m")
    with pytest.raises(cg.StoreError, match="summary layer"):
        cg.connect(neo4j_uri, read_only=True)
    with cg.connect(neo4j_uri) as store:
        check(store)


def test_killed_loads_leave_the_summary_equal_to_the_edges(tmp_path):
    """SIGKILL a load (bench.kills' campaign: a replace and a new run in one load) at instants
    spread over it; the store opened afterwards (finishing or undoing the load) has a summary equal
    to its visible edges, and no summary row of the interrupted load is left over."""
    from bench.kills import Campaign, _child, _read_log

    c = Campaign(20_000, workdir=tmp_path)
    for share in (0.05, 0.35, 0.6, 0.75, 0.85, 0.95):  # before, in and after the stage, switch and sweep
        c._fresh()
        child = _child(c.uri, c.rows)
        log = []
        for line in child.stdout:  # the load starts after imports and building the tables
            log += _read_log([line])
            if log and log[-1][1][:1] == ["go"]:
                break
        time.sleep(share * c.duration)
        child.send_signal(signal.SIGKILL)
        child.stdout.read()
        child.wait()
        with cg.connect(c.uri) as store:
            check(store)


NEGATIVE_CASES = [case for case in __import__("test_queries").CASES
                  if case[0] in ("signaling_by_day", "dose_response", "roles", "network", "pathway_flow",
                                 "graph_network", "graph_ego", "graph_trajectory")]


@pytest.fixture(scope="module")
def negative(tmp_path_factory):
    """test_queries' study with a third of its scores below 0 (the summary layer's score cut)."""
    from test_queries import study_counts, study_table

    t = study_table()
    t[S.SCORE] = np.where(np.arange(len(t)) % 3 == 0, -t[S.SCORE], t[S.SCORE])
    with cg.connect(tmp_path_factory.mktemp("neg") / "n.lbug") as store:
        store.load(t, cell_counts=study_counts())
        yield store, t


@pytest.mark.parametrize("case", NEGATIVE_CASES, ids=lambda c: __import__("test_queries")._case_id(c))
def test_aggregating_questions_with_negative_scores(negative, case):
    from test_queries import REFERENCE, assert_same

    store, t = negative
    name, params = case
    assert_same(store.query(name, **params), REFERENCE[name](t, **params), what=str(case))
