"""Derived keys (CellState key, interaction name, default run id, contrast id) never collide: no two
distinct inputs give one key, whatever characters the names hold; ordinary names keep the keys
older stores hold."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S

# every character a separator or escape could be confused with, and two plain ones
ALPHABET = ["A", "b", "|", "\\", "^", "-", "v", "s", "0"]


def names(max_len: int) -> list[str]:
    return ["".join(p) for n in range(max_len + 1) for p in itertools.product(ALPHABET, repeat=n)]


def test_state_key_is_injective():
    short = names(2)  # 91 names
    keys = {}
    for ct, g in itertools.product(short, repeat=2):
        for day in (0, -3, 10):
            k = S.state_key(ct, day, g)
            assert keys.setdefault(k, (ct, day, g)) == (ct, day, g), f"{k!r}: {keys[k]} and {(ct, day, g)}"


def test_interaction_name_is_injective():
    seen = {}
    for lig, rec in itertools.product(names(2), repeat=2):
        k = S.interaction_name(lig, rec)
        assert seen.setdefault(k, (lig, rec)) == (lig, rec), f"{k!r}: {seen[k]} and {(lig, rec)}"


def test_run_id_and_contrast_id_are_injective():
    short = names(2)
    runs, contrasts = {}, {}
    for g, smp in itertools.product(short, short + [None]):
        k = S.default_run_id("csv", 7, g, smp)
        assert runs.setdefault(k, (g, smp)) == (g, smp), f"{k!r}: {runs[k]} and {(g, smp)}"
    for g, ref in itertools.product(short, short + [None]):
        k = S.contrast_id("dose_time" if ref is not None else "time", g, 7, 0, "liana:x|y", ref)
        assert contrasts.setdefault(k, (g, ref)) == (g, ref), f"{k!r}: {contrasts[k]} and {(g, ref)}"


def test_the_reported_collisions_are_apart():
    assert S.state_key("A|0|b", 0, "x") != S.state_key("A", 0, "b|0|x")
    assert S.interaction_name("A^B", "C") != S.interaction_name("A", "B^C")
    assert S.default_run_id("csv", 0, "a|b") != S.default_run_id("csv", 0, "a", "b")
    assert S.contrast_id("dose_time", "a-vs-b", 7, 0, "m", "c") != S.contrast_id("dose_time", "a", 7, 0, "m", "b-vs-c")


def test_ordinary_names_keep_the_old_readable_keys():
    """What a store built before escaping holds: the same strings for every name without '|', '^' or '\\'."""
    for ct, day, group in [("MX1+ Mono", 7, "high"), ("CD4 Effector T", 0, "all"), ("NA", -3, "low dose")]:
        assert S.state_key(ct, day, group) == f"{ct}|{day}|{group}"
    assert S.interaction_name("ICAM1", "ITGAL_ITGB2") == "ICAM1^ITGAL_ITGB2"
    assert S.interaction_name("CD86", "CTLA4") == "CD86^CTLA4"
    assert S.default_run_id("cellphonedb", 7, "high") == "cellphonedb|d7|high"
    assert S.default_run_id("liana", 7, "high", "P03_d7") == "liana|d7|high|P03_d7"
    assert S.contrast_id("dose_time", "high", 7, 0, "liana:cellphonedb", "low") == \
        "dose_time|high-vs-low|d7-vs-d0|liana:cellphonedb"
    assert S.contrast_id("time", "high", 7, 0, "liana:cellphonedb") == "time|high|d7-vs-d0|liana:cellphonedb"


def test_graph_keys_equal_state_key():
    short = names(1)
    ct = pd.Series([a for a in short for _ in short])
    group = pd.Series([b for _ in short for b in short])
    day = pd.Series(np.arange(len(ct)) % 5 - 2)
    want = [S.state_key(a, d, b) for a, d, b in zip(ct, day, group)]
    assert list(S.state_keys(ct, day, group)) == want
    assert list(S.state_keys(ct, day, group, categorical=True)) == want
    assert len(set(want)) == len(want)  # escaping keeps colliding names apart


def _run(source, target, ligand, receptor):
    return pd.DataFrame({S.SOURCE: [source], S.TARGET: [target], S.LIGAND: [ligand], S.RECEPTOR: [receptor],
                         S.SCORE: [0.5]})


def test_colliding_names_load_into_separate_states_and_interactions(tmp_path):
    """The issue's reproduction: before, both runs' edges landed on one CellState and one Interaction."""
    with cg.connect(tmp_path / "s.lbug") as store:
        cg.load(store, "csv", _run("A|0|b", "A|0|b", "A^B", "C"), day=0, group="x")
        cg.load(store, "csv", _run("A", "A", "A", "B^C"), day=0, group="b|0|x")
        states = store.cell_states()
        assert len(states) == 2 and states[S.KEY_PROP].is_unique
        by_group = {g: set(s[S.CELL_TYPE_PROP]) for g, s in states.groupby(S.GROUP)}
        assert by_group == {"x": {"A|0|b"}, "b|0|x": {"A"}}
        sig = store.signals()
        assert sorted(zip(sig[S.SOURCE], sig[S.GROUP], sig[S.INTERACTION])) == [
            ("A", "b|0|x", "A^B\\^C"), ("A|0|b", "x", "A\\^B^C")]
        inter = store.interactions().set_index(S.NAME)
        assert inter.loc["A\\^B^C", S.LIGAND] == "A^B" and inter.loc["A^B\\^C", S.RECEPTOR] == "B^C"
        assert len(store.runs()) == 2  # run ids csv|d0|x and csv|d0|b\|0\|x: neither replaced the other
        # the display name a user types still finds an ordinary pair
        cg.load(store, "csv", _run("T", "B", "CD86", "CTLA4"), day=0, group="x")
        got = store.query("signaling_change", cell_type="T", day=0, group="x", baseline=0, interaction="CD86^CTLA4",
                          significant_only=False)
        assert list(got[S.INTERACTION]) == ["CD86^CTLA4"]


@pytest.mark.parametrize("group,sample", [("a|b", None), ("a", "b")])
def test_default_run_ids_of_group_and_sample_differ(group, sample):
    t = cg.read("csv", _run("A", "B", "L", "R"), day=0, group=group, sample=sample)
    assert t[S.RUN_ID].iloc[0] == ("csv|d0|a\\|b" if sample is None else "csv|d0|a|b")
