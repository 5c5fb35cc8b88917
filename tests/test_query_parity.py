"""One answer everywhere: every named query, every parameter set, on both engines."""

from __future__ import annotations

import pytest

import commgraph as cg
from test_queries import CASES, CONTRAST_QUERIES, HOSTILE, _case_id, assert_same, study_counts, study_table

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def both(tmp_path_factory, neo4j_uri):
    table, counts = study_table(), study_counts()
    with cg.connect(tmp_path_factory.mktemp("parity") / "e.lbug") as emb, cg.connect(neo4j_uri) as neo:
        neo.clear()
        emb.load(table, cell_counts=counts)
        neo.load(table, cell_counts=counts)
        yield emb, neo
        neo.clear()


def test_every_named_query_is_covered():
    assert {name for name, _ in CASES} | CONTRAST_QUERIES == set(cg.list_queries()["name"])


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_same_answer_on_both_engines(both, case):
    name, params = case
    emb, neo = both
    want = emb.query(name, **params)
    assert_same(neo.query(name, **params), want, what=f"{name} {params}")


@pytest.mark.parametrize("value", HOSTILE[:4])
def test_hostile_values_are_only_values_on_neo4j(both, value):
    _, neo = both
    before = neo.stats()["signals"]
    with pytest.warns(UserWarning):
        assert neo.query("partners", cell_type=value, day=7, group="high").empty
    assert neo.stats()["signals"] == before
