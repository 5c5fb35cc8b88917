"""The benchmark's table peers answer the named questions alike: DuckDB SQL over the canonical
Parquet (in memory and straight from the file) equals the pandas answers, for every case the
benchmark times, on pooled and on per-sample tables; the per-sample generator streams run by run."""

from __future__ import annotations

import sys
import warnings

import pandas as pd
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))
pytest.importorskip("duckdb", reason="the DuckDB peer needs `pip install 'commgraph[bench]'`")

from bench import generate as G  # noqa: E402
from bench import pandas_queries as PQ  # noqa: E402
from bench.duckdb_queries import Duck  # noqa: E402
from bench.run import CASES  # noqa: E402

SMALL = dict(n_cell_types=8, max_interactions=300)


@pytest.fixture(scope="module")
def per_sample(tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench-cache")
    old = G.CACHE
    G.CACHE = cache
    try:
        ps = G.SampleStudy(n_edges=24_000, n_patients=2, days=(0, 7), groups=("low", "high"), **SMALL)
        path = G.per_sample_table(ps)
        yield ps, path, G.per_sample_counts_path(ps)
    finally:
        G.CACHE = old


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pooled")
    study = G.Study(edges_per_run=3_000, days=(0, 7), groups=("low", "high"), **SMALL)
    old = G.CACHE
    G.CACHE = folder
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pd.concat([G.run_table(study, d, g) for d, g in study.runs], ignore_index=True)
    finally:
        G.CACHE = old
    path, counts = folder / "t.parquet", folder / "c.parquet"
    table.to_parquet(path, index=False)
    pd.DataFrame({"cell_type": ["MX1+ Mono", "CD14 Mono"] * 2, "day": [0, 0, 7, 7], "group": ["high"] * 4,
                  "n_cells": [10, 30, 20, 30]}).to_parquet(counts, index=False)
    return path, counts


def _check_all(path, counts):
    t = G.read_canonical(path)
    c = pd.read_parquet(counts)
    for memory in (True, False):
        duck = Duck(path, counts, memory=memory)
        for case in CASES:
            fn = PQ.QUERIES[case.query]
            want = fn(t, counts=c, **case.params) if case.query == "cell_composition" else fn(t, **case.params)
            got = duck.query(case.query, **case.params)
            assert PQ.agree(got, want) == "yes", (case.label, memory, PQ.agree(got, want))
        duck.close()
    return t


def test_duckdb_equals_pandas_pooled(pooled):
    t = _check_all(*pooled)
    assert (t[G.S.SOURCE] == G.ANCHOR).any()


def test_duckdb_equals_pandas_per_sample(per_sample):
    ps, path, counts = per_sample
    t = _check_all(path, counts)
    assert t[G.S.SAMPLE].nunique() == len(ps.runs) == 8
    assert t[G.S.PATIENT].nunique() == 4


def test_per_sample_table_streams_one_run_per_row_group(per_sample):
    ps, path, _ = per_sample
    runs = list(G.iter_runs(path))
    assert len(runs) == len(ps.runs)
    assert all(len(df) == ps.edges_per_run and df[G.S.RUN_ID].nunique() == 1 for _, df in runs)
    # patients differ: the same cell pair and interaction scores differently in two patients' day-0 samples
    a, b = (df.set_index([G.S.SOURCE, G.S.TARGET, G.S.INTERACTION])[G.S.SCORE] for _, df in runs[:3:2])
    both = a.index.intersection(b.index)
    assert len(both) > 100 and (a[both] != b[both]).mean() > 0.5


def test_cell_composition_pools_samples_like_the_store(per_sample, tmp_path):
    """A CellState holds its day × group's pooled cells, so the peers pool per-sample counts too."""
    import commgraph as cg

    ps, path, counts = per_sample
    t, c = G.read_canonical(path), pd.read_parquet(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cg.connect(tmp_path / "db.lbug") as st:
            for _, part in G.iter_runs(path):
                st.load(part, cell_counts=c[c[G.S.SAMPLE] == str(part[G.S.SAMPLE].iloc[0])])
            got = st.query("cell_composition", cell_type=G.ANCHOR)
    want = PQ.cell_composition(t, counts=c, cell_type=G.ANCHOR)
    assert len(want) == len(ps.groups) * len(ps.days)
    assert PQ.agree(got, want) == "yes"


def test_the_store_answers_every_bench_case_as_pandas_does(pooled, tmp_path):
    """The peers answer the named question the store answers: the bench's "same" column compares them,
    and a peer that ranks differently (top_changes by |log2fc| first, until this test) times another
    question."""
    import commgraph as cg

    path, counts = pooled
    t, c = G.read_canonical(path), pd.read_parquet(counts)
    with cg.connect(tmp_path / "s.lbug") as store:
        store.load(t, cell_counts=c)
        answered = set()
        for case in CASES:
            fn = PQ.QUERIES[case.query]
            want = fn(t, counts=c, **case.params) if case.query == "cell_composition" else fn(t, **case.params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = store.query(case.query, **case.params)
            assert PQ.agree(got, want) == "yes", (case.label, PQ.agree(got, want))
            if len(want):
                answered.add(case.label)
    # the small table lacks some of the bench's interactions; the ranked and aggregating ones answer
    assert {"top_changes", "signaling_change", "partners", "network", "roles", "pathway_flow"} <= answered, answered
    assert len(answered) >= len(CASES) - 3, answered


def test_top_changes_peers_rank_by_delta_first(pooled, tmp_path):
    """A faint gain (0 -> 0.5: log2fc ~9) against a large rise (10 -> 20: log2fc 1): the store ranks
    by |delta| first, so the rise leads, and so must the peers (they ranked by |log2fc| first before)."""
    import commgraph as cg

    path, _ = pooled
    row = G.read_canonical(path).iloc[[0]].astype(object)
    rows = []
    for receiver, interaction, base, after in (("A", "X1^Y1", None, 0.5), ("B", "X2^Y2", 10.0, 20.0)):
        ligand, receptor = interaction.split("^")
        for day, score in ((0, base), (7, after)):
            if score is None:
                continue
            r = row.copy()
            r[G.S.SOURCE], r[G.S.TARGET], r[G.S.INTERACTION] = G.ANCHOR, receiver, interaction
            r[G.S.LIGAND], r[G.S.RECEPTOR], r[G.S.SCORE], r[G.S.DAY], r[G.S.GROUP] = ligand, receptor, score, day, "high"
            r[G.S.PVALUE], r[G.S.SIGNIFICANT], r[G.S.RUN_ID] = 0.001, True, f"t|d{day}"
            rows.append(r)
    t = G.S.validate(pd.concat(rows, ignore_index=True))
    with cg.connect(tmp_path / "s.lbug") as store:
        store.load(t)
        got = store.query("top_changes", day=7, group="high", limit=1)
    assert got["receiver"].tolist() == ["B"]
    want = PQ.QUERIES["top_changes"](t, day=7, group="high", limit=1)
    duck_path = tmp_path / "t.parquet"
    t.to_parquet(duck_path, index=False)
    duck = Duck(duck_path, None, memory=True)
    try:
        assert PQ.agree(want, got) == "yes" and PQ.agree(duck.query("top_changes", day=7, group="high", limit=1), got) == "yes"
    finally:
        duck.close()
