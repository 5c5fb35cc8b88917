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
