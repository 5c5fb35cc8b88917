"""Reads must not write: opening a store to ask questions leaves its file (or the server's schema) alone."""

from __future__ import annotations

import hashlib

import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.stores.neo4j import check_version
from conftest import synthetic_table

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ask(store) -> None:
    store.query("roles", day=7, group="high")
    store.query("top_changes", day=3, group="high")  # a hint: reads the CellStates
    store.runs(), store.stats()


@pytest.mark.parametrize("read_only", [False, True])
def test_querying_an_embedded_store_leaves_its_file_unchanged(tmp_path, read_only):
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table())
    before = _digest(path)
    with cg.connect(path, read_only=read_only) as st:
        _ask(st)
    assert _digest(path) == before


def test_an_embedded_store_opened_for_reading_still_loads(tmp_path):
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load(synthetic_table(days=(0,)))
    with cg.connect(path) as st:
        _ask(st)
        st.load(synthetic_table(days=(7,)))  # the first write opens it for writing
        st.cypher("MATCH (s:CellState) WHERE s.day = 7 SET s.n_cells = 5")
        assert st.stats()["days"] == [0, 7]
    with cg.connect(path, read_only=True) as st:
        assert set(st.cell_states()[S.DAY]) == {0, 7}
        with pytest.raises(cg.StoreError, match="read-only"):
            st.remove_run("synthetic|d0|high")
        with pytest.raises(cg.StoreError, match="read-only"):
            st.load(synthetic_table(days=(14,)))


def test_neo4j_version_check_needs_5_23():
    check_version("5.26.0", "bolt://x")
    check_version("2025.01.0", "bolt://x")
    for old in ("5.22.0", "4.4.30"):
        with pytest.raises(cg.StoreError, match="5.23"):
            check_version(old, "bolt://x")


@pytest.mark.neo4j
def test_neo4j_connect_changes_no_schema_and_read_only_refuses_writes(neo4j_store, neo4j_uri):
    neo4j_store.load(synthetic_table())
    neo4j_store.cypher("DROP INDEX signals_run_load IF EXISTS")
    names = lambda st: set(st.cypher("SHOW INDEXES YIELD name RETURN name")["name"])  # noqa: E731
    with cg.connect(neo4j_uri, read_only=True) as ro:
        _ask(ro)
        assert "signals_run_load" not in names(ro)  # connecting to read created nothing
        with pytest.raises(cg.StoreError, match="read-only"):
            ro.load(synthetic_table(days=(14,)))
        with pytest.raises(Exception, match="(?i)read"):
            ro.cypher("CREATE (:CellType {name: 'x'})")
    with cg.connect(neo4j_uri) as rw:
        _ask(rw)
        assert "signals_run_load" not in names(rw)  # nor did connecting to maybe write
        rw.load(synthetic_table(days=(14,)))
        assert "signals_run_load" in names(rw)  # the first load makes the schema it needs
