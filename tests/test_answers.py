"""Answers that never mislead: a day, baseline, group or cell type the store doesn't have gets
the hint (and an empty answer), never rows; removed runs leave no CellStates, counts or NEXT
behind; rankings of change go by the size of the change."""

from __future__ import annotations

import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph import questions as Q
from conftest import synthetic_table

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _n(store, text: str) -> int:
    return int(store.cypher(text)["n"][0])


def test_top_changes_on_a_day_the_store_lacks_is_a_hint(store):
    store.load(synthetic_table(days=(0,)))
    got = Q.top_changes(store, day=3, group="high")
    assert got.empty and "day 3" in got.attrs["hint"] and "known: 0" in got.attrs["hint"]
    got = Q.top_changes(store, day=0, group="high", baseline=5)  # a missing baseline, too
    assert got.empty and "day 5" in got.attrs["hint"]


def test_group_never_sampled_on_that_day_is_a_hint(store):
    store.load(synthetic_table(days=(0, 7), groups=("high",)))
    store.load(synthetic_table(days=(0,), groups=("healthy",), tag="h"))
    got = Q.signaling_change(store, "MX1+ Mono", day=7, group="healthy")
    assert got.empty and "day 7" in got.attrs["hint"] and "'healthy'" in got.attrs["hint"]
    got = Q.top_changes(store, day=7, group="healthy")
    assert got.empty and "group 'healthy' has no day 7" in got.attrs["hint"]
    # where both days exist the answer stands, without a hint
    ok = Q.signaling_change(store, "MX1+ Mono", day=7, group="high", significant_only=False)
    assert len(ok) and "hint" not in ok.attrs


def _removed_day7(store):
    counts = pd.DataFrame({S.CELL_TYPE_PROP: ["MX1+ Mono", "Treg", "CD4 Naive T"] * 2, S.DAY: [0] * 3 + [7] * 3,
                           S.GROUP: "high", S.N_CELLS: [10, 20, 70, 30, 30, 40]})
    store.load(synthetic_table(days=(0, 7)), cell_counts=counts)
    assert _n(store, "MATCH ()-[n:NEXT]->() RETURN count(n) AS n") == 3
    store.remove_run("synthetic|d7|high")


def _assert_day7_gone(store):
    states = store.cell_states()
    assert set(states[S.DAY]) == {0}, "the removed run's CellStates stay behind"
    assert _n(store, "MATCH ()-[n:NEXT]->() RETURN count(n) AS n") == 0
    assert _n(store, "MATCH (s:CellState) WHERE s.day = 7 RETURN count(s) AS n") == 0
    assert states[S.N_CELLS].tolist() == [70, 10, 20]  # day 0's counts stay
    got = Q.top_changes(store, day=7, group="high")
    assert got.empty and "day 7" in got.attrs["hint"]
    assert store.stats()["days"] == [0]


def test_removed_run_leaves_no_states_counts_or_next(store):
    _removed_day7(store)
    _assert_day7_gone(store)


def test_removing_one_of_two_runs_of_a_day_keeps_its_states(store):
    store.load(synthetic_table(days=(0, 7)))
    store.load(synthetic_table(days=(7,), tag="b", method="other"))
    store.remove_run("synthetic|d7|high")
    assert set(store.cell_states()[S.DAY]) == {0, 7}
    assert _n(store, "MATCH ()-[n:NEXT]->() RETURN count(n) AS n") == 3


@pytest.mark.neo4j
def test_removed_run_leaves_nothing_behind_on_neo4j(neo4j_store):
    _removed_day7(neo4j_store)
    _assert_day7_gone(neo4j_store)


def _two_days(gain: float) -> pd.DataFrame:
    """Day 0 → 7: a big drop of a strong pair (up/down) and a faint pair that appears (gained)."""
    rows = []
    for day, strong, faint in ((0, 3.0, None), (7, 1.0, gain)):
        for lig, rec, score in (("ICAM1", "ITGAL_ITGB2", strong), ("CD86", "CTLA4", faint)):
            if score is None:
                continue
            rows.append({S.SOURCE: "MX1+ Mono", S.TARGET: "Treg", S.LIGAND: lig, S.RECEPTOR: rec,
                         S.INTERACTION: S.interaction_name(lig, rec), S.PATHWAY: "X", S.SCORE: score,
                         S.PVALUE: 0.001, S.SIGNIFICANT: True, S.DAY: day, S.GROUP: "high", S.METHOD: "m",
                         S.RUN_ID: f"m|d{day}", S.TOOL: "m"})
    return pd.DataFrame(rows)


def test_top_changes_ranks_by_the_size_of_the_change(store):
    store.load(_two_days(gain=0.02))
    got = Q.top_changes(store, day=7, group="high")
    # a faint gained pair (delta 0.02, log2fc ~ 4.4 from the pseudocount) ranks below a drop of 2.0
    assert got["interaction"].tolist() == ["ICAM1^ITGAL_ITGB2", "CD86^CTLA4"]
    assert got["delta"].tolist() == pytest.approx([-2.0, 0.02])
    assert got["status"].tolist() == ["down", "gained"]


# --- parameter values the engines can't take are refused up front; a failed query breaks nothing ---


@pytest.mark.parametrize("params, message", [
    ({"limit": -1}, r"\$limit must be at least 0"),
    ({"pvalue": 1.5}, r"\$pvalue must be between 0 and 1"),
    ({"pseudocount": 0.0}, r"\$pseudocount must be greater than 0"),
    ({"fold_change": 0.5}, r"\$fold_change must be at least 1"),
    ({"status": "better"}, r"\$status must be one of gained, lost, up, down"),
])
def test_out_of_range_parameters_are_one_clear_error(store, params, message):
    store.load(synthetic_table())
    with pytest.raises(cg.QueryError, match=message):
        store.query("top_changes", day=7, group="high", **params)
    assert len(store.query("top_changes", day=7, group="high", limit=3)) == 3


def test_direction_other_than_out_or_in_is_an_error(store):
    store.load(synthetic_table())
    with pytest.raises(cg.QueryError, match=r'\$direction must be one of out, in, not .both.'):
        store.query("signaling_change", cell_type="MX1+ Mono", day=7, group="high", direction="both")


def test_a_query_the_engine_refuses_does_not_break_the_next(store):
    """LadybugDB's connection caches a prepared statement per query text; one that failed at run
    time kept failing with the same error until the store was reopened."""
    store.load(synthetic_table())
    text = "MATCH (s:CellState) RETURN s.key AS k ORDER BY k LIMIT $n"
    with pytest.raises(RuntimeError, match="non-negative"):
        store.cypher(text, {"n": -1})
    assert len(store.cypher(text, {"n": 2})) == 2
