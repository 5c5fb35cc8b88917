"""A load written in parts of whole runs (``chunk_rows``) gives the same store as one written
whole, and stays all or nothing across its parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph._graph import run_chunks
from commgraph.errors import InputError
from commgraph.stores.embedded import JOURNAL, EmbeddedStore

from conftest import per_sample_tables, synthetic_table

DAYS, GROUPS = (0, 3, 7, 14), ("low", "high")


def _pooled_counts(table: pd.DataFrame, *, extra_split=(28, "high")) -> pd.DataFrame:
    """Counts of every day × group of the table, and of one split no run covers (its states come
    from the counts alone)."""
    rng = np.random.default_rng(1)
    rows = []
    splits = table[[S.DAY, S.GROUP]].drop_duplicates().itertuples(index=False)
    for d, g in [*splits, extra_split]:
        for ct in ("MX1+ Mono", "Treg", "CD4 Naive T", "NK"):
            rows.append({S.CELL_TYPE_PROP: ct, S.DAY: int(d), S.GROUP: g, S.N_CELLS: int(rng.integers(5, 500))})
    return pd.DataFrame(rows)


def _sample_counts(tables: list[pd.DataFrame]) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for t in tables:
        r = t.iloc[0]
        for ct in sorted(set(t[S.SOURCE]) | set(t[S.TARGET])):
            rows.append({S.CELL_TYPE_PROP: ct, S.DAY: int(r[S.DAY]), S.GROUP: r[S.GROUP], S.N_CELLS: int(rng.integers(5, 500)),
                         S.SAMPLE: r[S.SAMPLE], S.PATIENT: r[S.PATIENT]})
    return pd.DataFrame(rows)


def _content(st) -> dict:
    """Everything a load writes, in a form that doesn't depend on load ids or times."""
    runs = st.runs().drop(columns=[S.LOADED_AT]).sort_values(S.RUN_ID).reset_index(drop=True)
    sig = st.signals()
    sig = sig.sort_values([S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION]).reset_index(drop=True)
    nodes = {label: int(st.cypher(f"MATCH (n:{label}) RETURN count(n) AS n")["n"][0])
             for label in (S.CELL_TYPE, S.CELL_STATE, S.INTERACTION_NODE, S.PATHWAY_NODE, S.GENE, S.SAMPLE_NODE,
                           S.PATIENT_NODE)}
    rels = {rel: int(st.cypher(f"MATCH ()-[r:{rel}]->() RETURN count(*) AS n")["n"][0])
            for rel in (S.SIGNALS, S.NEXT, S.OF_TYPE, S.IN_PATHWAY, S.HAS_LIGAND, S.HAS_RECEPTOR, S.FROM_SAMPLE,
                        S.COUNTED_IN, S.OF_PATIENT)}
    nxt = st.cypher(f"MATCH (a:{S.CELL_STATE})-[:{S.NEXT}]->(b:{S.CELL_STATE}) RETURN a.{S.KEY_PROP} AS ka, "
                    f"b.{S.KEY_PROP} AS kb ORDER BY ka, kb")
    return {"runs": runs, "signals": sig, "states": st.cell_states().reset_index(drop=True),
            "interactions": st.interactions(), "samples": st.samples(),
            "sample_counts": st.sample_counts().reset_index(drop=True), "nodes": nodes, "rels": rels, "next": nxt}


def _assert_same(a: dict, b: dict) -> None:
    assert a["nodes"] == b["nodes"]
    assert a["rels"] == b["rels"]
    for k in ("runs", "signals", "states", "interactions", "samples", "sample_counts", "next"):
        pd.testing.assert_frame_equal(a[k], b[k], check_dtype=False, obj=k)


def test_run_chunks_hold_whole_runs_and_each_split_counts_once():
    table = S.validate(synthetic_table(days=DAYS, groups=GROUPS))
    counts = _pooled_counts(table)
    parts = list(run_chunks(table, counts, 60))  # runs of 27 rows: two per part
    assert len(parts) == 4
    runs = [set(p[S.RUN_ID].unique()) for p, _ in parts]
    assert all(len(r) == 2 for r in runs) and set().union(*runs) == set(table[S.RUN_ID].unique())
    assert sum(len(p) for p, _ in parts) == len(table)
    for p, c in parts:  # a part reads as a table of its own: only its own runs as categories
        assert list(p[S.RUN_ID].cat.categories) == sorted(p[S.RUN_ID].unique())
    # every split's counts go with exactly one part: the one holding its runs (the uncovered one with the first)
    got = pd.concat([c for _, c in parts if c is not None], ignore_index=True)
    assert len(got) == len(counts)
    for p, c in parts:
        if c is None:
            continue
        have = {(int(d), str(g)) for d, g in p[[S.DAY, S.GROUP]].drop_duplicates().itertuples(index=False)}
        split = {(int(d), str(g)) for d, g in c[[S.DAY, S.GROUP]].drop_duplicates().itertuples(index=False)}
        assert split - have <= {(28, "high")}
    assert (28, "high") in {(int(d), g) for d, g in zip(parts[0][1][S.DAY], parts[0][1][S.GROUP])}
    # a run larger than the limit is a part by itself
    assert [len(p) for p, _ in run_chunks(table, None, 10)] == [27] * 8


@pytest.mark.parametrize("chunk_rows", [27, 60, 100])
def test_loading_in_parts_gives_the_same_store(tmp_path, chunk_rows):
    table = synthetic_table(days=DAYS, groups=GROUPS)
    counts = _pooled_counts(table)
    with cg.connect(tmp_path / "whole.lbug") as whole, cg.connect(tmp_path / "parts.lbug") as parts:
        whole.load(table, cell_counts=counts)
        parts.load(table, cell_counts=counts, chunk_rows=chunk_rows)
        a, b = _content(whole), _content(parts)
    _assert_same(a, b)
    assert len(a["runs"]) == 8 and a["rels"][S.SIGNALS] == len(table)
    assert a["states"][S.N_CELLS].notna().all()  # each split's counts reached its states


def test_per_sample_study_in_parts_gives_the_same_store(tmp_path):
    tables = per_sample_tables(n_patients=2, days=(0, 7), n_lr=6)
    table = pd.concat(tables, ignore_index=True)
    counts = _sample_counts(tables)
    with cg.connect(tmp_path / "whole.lbug") as whole, cg.connect(tmp_path / "parts.lbug") as parts:
        whole.load(table, cell_counts=counts)
        parts.load(table, cell_counts=counts, chunk_rows=len(tables[0]) + 1)
        a, b = _content(whole), _content(parts)
    _assert_same(a, b)
    assert a["rels"][S.COUNTED_IN] == len(counts) and a["nodes"][S.SAMPLE_NODE] == len(tables)
    assert a["states"][S.N_CELLS].notna().all()  # pooled from the per-sample counts


def test_replacing_a_study_in_parts(tmp_path):
    """A second load of the same runs, in parts, replaces them: old edges swept, nothing doubled."""
    table = synthetic_table(days=DAYS, groups=GROUPS)
    again = synthetic_table(days=DAYS, groups=GROUPS, seed=9)
    with cg.connect(tmp_path / "s.lbug") as st:
        st.load(table, chunk_rows=27)
        st.load(again, chunk_rows=27)
        assert st.cypher(f"MATCH ()-[r:{S.SIGNALS}]->() RETURN count(*) AS n")["n"][0] == len(again)
        got = st.signals().sort_values([S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION])[S.SCORE].to_numpy()
    want = S.validate(again).sort_values([S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION])[S.SCORE].to_numpy()
    np.testing.assert_allclose(got, want)


def _raw(st) -> tuple:
    """What is on disk, visible or not: every SIGNALS edge with its load id, every node count."""
    edges = st.cypher(f"MATCH ()-[r:{S.SIGNALS}]->() RETURN r.{S.LOAD_ID} AS l, count(*) AS n ORDER BY l")
    nodes = st.cypher("MATCH (n) RETURN count(n) AS n")["n"][0]
    return edges, int(nodes)


def test_a_bad_table_after_written_parts_leaves_nothing(tmp_path):
    """load_many: the first table is staged in several parts, the second is bad: the old runs stay,
    the staged edges and new nodes are gone, no journal is left."""
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table(days=(0,), groups=GROUPS))
        before, runs = _raw(st), st.runs()
        good = synthetic_table(days=DAYS, groups=GROUPS, seed=3)  # replaces day 0, adds days 3-14
        bad = synthetic_table(days=(28,), groups=("high",), seed=4)
        bad.loc[5, S.SCORE] = np.nan
        with pytest.raises(InputError, match="score is missing"):
            st.load_many([(good, None), (bad, None)], chunk_rows=27)
        after = _raw(st)
        pd.testing.assert_frame_equal(before[0], after[0])
        assert before[1] == after[1]
        pd.testing.assert_frame_equal(runs, st.runs())
        assert sorted(set(st.cell_states()[S.DAY])) == [0]
    assert not Path(f"{path}{JOURNAL}").exists()


def test_a_failure_in_a_later_part_leaves_nothing(tmp_path, monkeypatch):
    """The third part's stage fails (a full disk, say) after two parts were committed invisibly."""
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table(days=(0,), groups=GROUPS))
        before, runs = _raw(st), st.runs()
        stage, calls = EmbeddedStore._stage, []

        def failing(self, frames):
            calls.append(len(frames.signals))
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
            return stage(self, frames)

        monkeypatch.setattr(EmbeddedStore, "_stage", failing)
        with pytest.raises(cg.StoreError, match="No space left"):
            st.load(synthetic_table(days=DAYS, groups=GROUPS, seed=3), chunk_rows=27)
        monkeypatch.undo()
        assert len(calls) == 3
        after = _raw(st)
        pd.testing.assert_frame_equal(before[0], after[0])
        assert before[1] == after[1]
        pd.testing.assert_frame_equal(runs, st.runs())
    assert not Path(f"{path}{JOURNAL}").exists()


def test_a_bad_row_in_a_later_run_of_one_table_writes_nothing(tmp_path):
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table(days=(0,), groups=GROUPS))
        before = _raw(st)
        t = synthetic_table(days=DAYS, groups=GROUPS, seed=3)
        t.loc[len(t) - 2, S.PVALUE] = 2.0  # in the last run
        with pytest.raises(InputError, match=f"row {len(t) - 1}"):
            st.load(t, chunk_rows=27)
        after = _raw(st)
        pd.testing.assert_frame_equal(before[0], after[0])
        assert before[1] == after[1]


def test_chunk_rows_must_be_positive(store, table):
    with pytest.raises(ValueError, match="chunk_rows"):
        store.load(table, chunk_rows=-1)


def _splits(part: pd.DataFrame) -> set:
    return {(int(d), str(g)) for d, g in part[[S.DAY, S.GROUP]].drop_duplicates().itertuples(index=False)}


def test_run_chunks_keep_the_runs_of_a_split_together():
    """A per-sample study in patient order: its parts hold whole day × group splits, so no part adds
    edges to CellStates an earlier part wrote (LadybugDB rewrites its edge group for those)."""
    tables = per_sample_tables(n_patients=4, days=(0, 7, 14), n_lr=6)  # patient by patient
    table = S.validate(pd.concat(tables, ignore_index=True))
    split_rows = table.groupby([S.DAY, S.GROUP], observed=True).size()
    parts = [p for p, _ in run_chunks(table, _sample_counts(tables), int(split_rows.max()))]
    seen = [_splits(p) for p in parts]
    assert len(parts) >= len(split_rows) // 2 and sum(len(p) for p in parts) == len(table)
    for i, a in enumerate(seen):
        for b in seen[i + 1:]:
            assert not a & b, (a, b)
    # a split larger than the limit goes in parts of whole runs
    run_rows = table.groupby(S.RUN_ID, observed=True).size()
    assert sorted(len(p) for p, _ in run_chunks(table, None, int(run_rows.min()) - 1)) == sorted(run_rows)


def test_load_many_joins_small_tables_into_parts(tmp_path, monkeypatch):
    """Run tables given one by one are written in parts of up to chunk_rows rows, not one each;
    per-sample and pooled counts are never joined; the store is the one a whole load gives."""
    tables = per_sample_tables(n_patients=2, days=(0, 7), n_lr=6)
    counts = _sample_counts(tables)
    by_sample = [(t, counts[counts[S.SAMPLE] == t[S.SAMPLE].iloc[0]]) for t in tables]
    stage, staged = EmbeddedStore._stage, []

    def counting(self, frames):
        staged.append(sorted(frames.runs[S.RUN_ID]))
        return stage(self, frames)

    monkeypatch.setattr(EmbeddedStore, "_stage", counting)
    with cg.connect(tmp_path / "whole.lbug") as whole, cg.connect(tmp_path / "many.lbug") as many:
        whole.load(pd.concat(tables, ignore_index=True), cell_counts=counts)
        staged.clear()
        limit = max(sum(len(t) for t in tables[:4]), sum(len(t) for t in tables[4:]))
        many.load_many(by_sample, chunk_rows=limit)
        assert [len(s) for s in staged] == [4, 4]
        assert sorted(r for s in staged for r in s) == sorted(t[S.RUN_ID].iloc[0] for t in tables)
        _assert_same(_content(whole), _content(many))
        # a pooled run after per-sample ones is a part of its own, though it would fit
        staged.clear()
        pooled = synthetic_table(days=(28,), groups=("high",))
        many.load_many([*by_sample[:2], (pooled, _pooled_counts(pooled, extra_split=(28, "high")))],
                       chunk_rows=10 * limit)
        assert [len(s) for s in staged] == [2, 1]
        assert many.cell_states().query(f"{S.DAY} == 28")[S.N_CELLS].notna().all()


def test_a_manifest_too_large_to_hold_is_written_split_by_split(tmp_path, monkeypatch):
    """load_manifest streams a study larger than KEEP_IN_MEMORY run by run: listed patient by
    patient, it still writes each day × group's runs in one part."""
    from commgraph import _load

    tables = per_sample_tables(n_patients=3, days=(0, 7), n_lr=6)
    counts = _sample_counts(tables)
    rows = []
    for t in tables:
        sample = t[S.SAMPLE].iloc[0]
        t.to_csv(tmp_path / f"{sample}.csv", index=False)
        counts[counts[S.SAMPLE] == sample][[S.CELL_TYPE_PROP, S.N_CELLS]].to_csv(tmp_path / f"{sample}_n.csv", index=False)
        rows.append({"path": f"{sample}.csv", "format": "csv", "day": t[S.DAY].iloc[0], "group": t[S.GROUP].iloc[0],
                     "sample": sample, "patient": t[S.PATIENT].iloc[0], "cell_counts": f"{sample}_n.csv"})
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.csv", index=False)
    split_rows = pd.concat(tables).groupby([S.DAY, S.GROUP]).size()
    monkeypatch.setattr(_load, "KEEP_IN_MEMORY", 1)
    monkeypatch.setattr(cg.stores._base, "LOAD_CHUNK_ROWS", int(split_rows.max()))
    stage, staged = EmbeddedStore._stage, []

    def recording(self, frames):
        staged.append({(int(d), str(g)) for d, g in frames.runs[[S.DAY, S.GROUP]].itertuples(index=False)})
        return stage(self, frames)

    monkeypatch.setattr(EmbeddedStore, "_stage", recording)
    with cg.connect(tmp_path / "m.lbug") as st:
        cg.load_manifest(st, tmp_path / "manifest.csv", progress=False)
        assert st.stats()["signals"] == sum(len(t) for t in tables)
        assert st.cell_states()[S.N_CELLS].notna().all()
    for i, a in enumerate(staged):
        for b in staged[i + 1:]:
            assert not a & b, staged
    assert set().union(*staged) == set(split_rows.index)
    # chunk_rows reaches the load: the whole study in one part
    staged.clear()
    with cg.connect(tmp_path / "one.lbug") as st:
        cg.load_manifest(st, tmp_path / "manifest.csv", progress=False, chunk_rows=int(split_rows.sum()))
    assert staged == [set(split_rows.index)]
