"""A load runs in a bounded LadybugDB buffer pool sized by its largest part (so that its peak RSS
is set by the part, not by the store it loads into): loads larger than the pool's floor give the
same store as under LadybugDB's default pool, and a bad ``COMMGRAPH_LOAD_POOL_MB`` is refused."""

from __future__ import annotations

import sys
import warnings

import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.errors import StoreError
from commgraph.stores.embedded import ENV_LOAD_POOL, LOAD_POOL_MB, _load_pool_mb

from conftest import REPO

sys.path.insert(0, str(REPO))
from bench import generate as G  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Four CellPhoneDB-like runs of 150k edges: one fails to COPY in a 128 MiB pool."""
    old = G.CACHE
    G.CACHE = tmp_path_factory.mktemp("pool-cache")
    try:
        study = G.Study(n_cell_types=30, edges_per_run=150_000, days=(0, 7), groups=("low", "high"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [G.run_table(study, d, g) for d, g in study.runs]
    finally:
        G.CACHE = old


def _content(st) -> tuple:
    sig = st.cypher(f"MATCH ()-[r:{S.SIGNALS}]->() RETURN r.{S.RUN_ID} AS run, count(*) AS n, "
                    f"sum(r.{S.SCORE}) AS score ORDER BY run")
    summ = st.cypher(f"MATCH ()-[r:{S.SUMMARY}]->() RETURN r.{S.RUN_ID} AS run, sum(r.{S.N_INTERACTIONS}) AS n "
                     "ORDER BY run")
    return (sig["run"].tolist(), sig["n"].tolist(), sig["score"].round(4).tolist(), summ["n"].tolist())


def test_the_pool_is_sized_by_the_largest_part(monkeypatch):
    monkeypatch.delenv(ENV_LOAD_POOL, raising=False)
    assert _load_pool_mb(0) == _load_pool_mb(100_000) == LOAD_POOL_MB
    assert _load_pool_mb(1_000_000) == 1954  # 2 KB an edge above the floor
    monkeypatch.setenv(ENV_LOAD_POOL, "64")
    assert _load_pool_mb(10_000) == 64


def test_loads_beyond_the_floor_equal_a_large_pool(tmp_path, monkeypatch, runs):
    table = pd.concat(runs, ignore_index=True)
    monkeypatch.setenv(ENV_LOAD_POOL, "16384")  # as good as unbounded here
    with cg.connect(tmp_path / "large.lbug") as st:
        st.load(table)
        want = _content(st)
    monkeypatch.setenv(ENV_LOAD_POOL, "64")  # every part needs more than the floor
    with cg.connect(tmp_path / "bounded.lbug") as st:
        st.load(table, chunk_rows=300_000)  # two parts of two runs
        st.load(runs[1])  # a replacement: the sweep deletes a run's edges in the bounded pool
        for r in runs[2:]:
            st.load(r)  # one part each
        got = _content(st)
        assert st._pool_mb == 0  # questions afterwards run in the default pool
    assert got == want and sum(got[1]) == len(table)


def test_a_bad_pool_setting_is_refused_and_writes_nothing(tmp_path, monkeypatch, runs):
    for bad in ("lots", "12", "-5"):
        monkeypatch.setenv(ENV_LOAD_POOL, bad)
        with cg.connect(tmp_path / "x.lbug") as st:
            with pytest.raises(StoreError, match=ENV_LOAD_POOL):
                st.load(runs[0])
            assert st.stats()["signals"] == 0


def test_a_pool_too_small_is_a_clear_error_and_writes_nothing(tmp_path, monkeypatch, runs):
    import commgraph.stores.embedded as E

    monkeypatch.setenv(ENV_LOAD_POOL, "64")
    monkeypatch.setattr(E, "LOAD_POOL_BYTES_PER_EDGE", 64)  # a sizing rule far too small: 64 MiB for 150k edges
    with cg.connect(tmp_path / "x.lbug") as st:
        st.load(runs[0].head(1000))
        with pytest.raises(StoreError, match=f"64 MiB buffer pool; set {ENV_LOAD_POOL} higher"):
            st.load(runs[1])
        assert st.stats()["signals"] == 1000 and len(st.runs()) == 1
