"""One answer everywhere: every named query, every parameter set, on both engines."""

from __future__ import annotations

import neo4j.exceptions
import pandas as pd
import pytest

import commgraph as cg
from commgraph._queries import get_query
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


def _first_cases():
    seen, out = set(), []
    for name, params in CASES:
        if name not in seen:
            seen.add(name)
            out.append((name, params))
    return out


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_same_answer_on_both_engines(both, case):
    name, params = case
    emb, neo = both
    want = emb.query(name, **params)
    assert_same(neo.query(name, **params), want, what=f"{name} {params}")


@pytest.mark.parametrize("case", _first_cases(), ids=_case_id)
def test_a_named_answer_on_neo4j_is_the_files_own_rows(both, case):
    """``query`` fetches the rows as one list (a subquery around the file): the same rows, in the
    same order and types, as the file run alone the way Neo4j Browser runs it."""
    name, params = case
    _, neo = both
    spec = get_query(name)
    alone = spec.shape(neo.cypher(spec.text, spec.bind(params)))
    assert len(alone), f"{name}: the case itself answers nothing"
    pd.testing.assert_frame_equal(neo.query(name, **params), alone)


@pytest.mark.parametrize("value", HOSTILE[:4])
def test_hostile_values_are_only_values_on_neo4j(both, value):
    _, neo = both
    before = neo.stats()["signals"]
    with pytest.warns(UserWarning):
        assert neo.query("partners", cell_type=value, day=7, group="high").empty
    assert neo.stats()["signals"] == before


# --- what Neo4j Browser sends: values typed by hand, numbers as floats ---------------------------

def _wrong_values(p):
    """Values of the wrong type (or outside a parameter's meaning) a Browser user can set."""
    if p.type == "int":
        return [str(7), 7.5, True]
    if p.type == "float":
        return ["0.05", True, [0.05]]
    if p.type == "bool":
        return ["true", "false", 1]
    if p.name in ("direction", "status"):
        return ["both", 1]
    return []


@pytest.mark.parametrize("case", _first_cases(), ids=_case_id)
def test_a_wrong_type_gives_no_rows_in_neo4j(both, case):
    """As Neo4j Browser runs a file (no Python checks first): a parameter of the wrong type answers
    nothing, never a confident table (a string day once made every interaction 'lost')."""
    name, params = case
    _, neo = both
    spec = get_query(name)
    full = spec.bind(params)
    assert len(neo.cypher(spec.text, full)), f"{name}: the case itself answers nothing"
    refused = []
    for p in spec.params:
        for bad in _wrong_values(p):
            try:
                got = neo.cypher(spec.text, {**full, p.name: bad})
            except neo4j.exceptions.ClientError as ex:  # the planner's type check, or LIMIT's: loud, fine
                assert "Type mismatch" in str(ex) or "LIMIT" in str(ex), ex
                refused.append(p.name)
                continue
            assert got.empty, f"{name} ${p.name}={bad!r}: {len(got)} rows"
    # Neo4j refuses before running only where the parameter meets a function or LIMIT
    assert set(refused) <= {"pseudocount", "fold_change", "limit"}, (name, refused)


def _integers(name):
    spec = get_query(name)
    return [p.name for p in spec.params if p.type == "int" and p.name not in spec.browser_integers]


@pytest.mark.parametrize("case", [c for c in CASES if any(c[1].get(k, get_query(c[0]).browser.get(k)) is not None
                                                          for k in _integers(c[0]))], ids=_case_id)
def test_integral_floats_are_integers_in_neo4j(both, case):
    """Neo4j Browser reads a :params map itself and sends 7 as 7.0: the same answer (LIMIT, which
    takes only an integer, gets its own ':param limit => n' line; see QuerySpec.browser_integers)."""
    name, params = case
    emb, neo = both
    spec = get_query(name)
    full = spec.bind(params)
    floats = {k: float(full[k]) for k in _integers(name) if full[k] is not None}
    assert floats
    got = spec.shape(neo.cypher(spec.text, {**full, **floats}))
    assert_same(got, emb.query(name, **params), what=f"{name} {floats}")
