"""The simulator: seeded, and its switches do what they say."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def pair():
    from commgraph.datasets import simulate_msc_study

    kw = dict(n_cells=8000, days=(0, 3, 7), n_patients_per_group=3, n_healthy=1, seed=3)
    return simulate_msc_study(**kw), simulate_msc_study(**kw, effects=False)


def _mx1_ligand_log2(adata, ligand, group, day):
    """log2 of the mean count of a ligand in MX1+ Mono of one group and day."""
    obs = adata.obs
    rows = ((obs["cell_type"] == "MX1+ Mono") & (obs["group"] == group) & (obs["day"] == day)).to_numpy()
    j = adata.var_names.get_loc(ligand)
    return float(np.log2(adata.layers["counts"][rows, j].mean()))


def _mx1_fraction(adata, group, day):
    obs = adata.obs[(adata.obs["group"] == group) & (adata.obs["day"] == day)]
    return float((obs["cell_type"] == "MX1+ Mono").mean())


def test_null_study_has_no_change_with_day(pair):
    planted, null = pair
    # the planted ICAM1 fall (log2 -3.5 at the high dose, day 7) is there, and gone in the null study
    assert _mx1_ligand_log2(planted, "ICAM1", "high", 7) - _mx1_ligand_log2(planted, "ICAM1", "high", 0) < -2.5
    assert abs(_mx1_ligand_log2(null, "ICAM1", "high", 7) - _mx1_ligand_log2(null, "ICAM1", "high", 0)) < 0.7
    # the MX1+ fraction rise on day 3 (x2.5 at the high dose) is gone too
    assert _mx1_fraction(planted, "high", 3) / _mx1_fraction(planted, "high", 0) > 1.5
    assert 0.75 < _mx1_fraction(null, "high", 3) / _mx1_fraction(null, "high", 0) < 1.33
    # the baseline patient-vs-healthy difference stays
    mono = ["MX1+ Mono", "CD14 Mono", "LGALS2+ Mono", "CD16 Mono"]
    frac = null.obs.groupby(["group", "day"], observed=True)["cell_type"].apply(lambda s: s.isin(mono).mean())
    assert frac[("high", 0)] > frac[("healthy", 0)] * 1.3
    assert null.uns["simulation"]["effects"] is False


def test_same_layout_either_way(pair):
    planted, null = pair
    assert (planted.obs_names == null.obs_names).all() and (planted.var_names == null.var_names).all()
    assert planted.obs["library"].equals(null.obs["library"])


def _changes(sheet, score, day=28, baseline=0):
    pts = sheet[sheet["group"] != "healthy"]
    wide = pts.pivot_table(index=["patient", "group"], columns="day", values=score)
    return (wide[day] - wide[baseline]).groupby(level="group").mean()


def test_sample_sheet_layout_and_ranges(pair):
    from commgraph.datasets import CLINICAL_SCORES, GROUPS, sample_sheet

    planted, _ = pair
    sheet = sample_sheet(planted)
    assert list(sheet.columns) == ["sample", "patient", "day", "group", *CLINICAL_SCORES]
    assert list(sheet["sample"]) == list(planted.obs["library"].cat.categories)
    assert list(planted.obs["group"].cat.categories) == list(GROUPS)
    lib = planted.obs.drop_duplicates("library").set_index("library")
    assert (sheet.set_index("sample")["patient"] == lib["sample"].astype(str)).all()
    healthy = sheet["group"] == "healthy"
    assert sheet.loc[healthy, list(CLINICAL_SCORES)].isna().all().all()
    pts = sheet[~healthy]
    assert pts["child_pugh"].between(5, 15).all() and pts["meld"].between(6, 40).all()
    assert str(pts["child_pugh"].dtype) == "Int64" and pts["albumin"].between(15, 55).all()
    sheet.loc[0, "day"] = 99  # a copy: the AnnData's sheet is untouched
    assert sample_sheet(planted).loc[0, "day"] == 0


def test_clinical_shape_is_planted_and_seeded():
    from commgraph.datasets import simulate_msc_study, sample_sheet

    kw = dict(n_cells=200, n_patients_per_group=12, n_healthy=0, days=(0, 28), seed=5)
    sheet = sample_sheet(simulate_msc_study(**kw))
    assert sheet.equals(sample_sheet(simulate_msc_study(**kw)))
    cp, meld, alb = (_changes(sheet, s) for s in ("child_pugh", "meld", "albumin"))
    # more improvement at the higher dose: Child-Pugh and MELD fall more, albumin rises more
    assert cp["high"] < cp["low"] < 0 and meld["high"] < meld["low"] < 0 and alb["high"] > alb["low"] > 0
    # planted: 4 points at the high dose, 0.45 of that at the low (the 5-point floor trims a few)
    assert cp["high"] == pytest.approx(-3.6, abs=0.7) and cp["low"] == pytest.approx(-1.6, abs=0.6)
    # the null study: same patients and day-0 scores, no dose effect
    null = sample_sheet(simulate_msc_study(**kw, effects=False))
    day0 = sheet["day"] == 0
    assert null[day0].equals(sheet[day0])
    assert abs(_changes(null, "child_pugh")["high"] - _changes(null, "child_pugh")["low"]) < 0.8  # planted: 2.2


def test_treg_fall_on_days_3_and_7(pair):
    planted, null = pair
    for group in ("low", "high"):
        f = {day: planted.obs[(planted.obs["group"] == group) & (planted.obs["day"] == day)]["cell_type"]
             .eq("Treg").mean() for day in (0, 3, 7)}
        assert f[3] < 0.8 * f[0] and f[7] < 0.8 * f[0]
    f0, f3 = ((null.obs[(null.obs["group"] == "high") & (null.obs["day"] == d)]["cell_type"] == "Treg").mean()
              for d in (0, 3))
    assert 0.7 < f3 / f0 < 1.4


@pytest.mark.parametrize("design", ["phase_ia", "phase_ib"])
def test_trial_designs(design):
    from commgraph.datasets import STUDY_DESIGNS, simulate_msc_study, sample_sheet

    d = STUDY_DESIGNS[design]
    adata = simulate_msc_study(n_cells=600, n_patients_per_group=2, n_healthy=1, seed=0, **d)
    assert list(adata.obs["group"].cat.categories) == ["healthy", *d["groups"]]
    sheet = sample_sheet(adata)
    pts = sheet[sheet["group"] != "healthy"]
    assert sorted(pts["day"].unique()) == list(d["days"])
    assert len(pts) == 2 * len(d["groups"]) * len(d["days"]) and pts["patient"].nunique() == 2 * len(d["groups"])
    assert adata.uns["simulation"]["dosing_days"] == list(d["dosing_days"])


def test_bad_designs():
    from commgraph.datasets import simulate_msc_study

    with pytest.raises(ValueError, match="healthy"):
        simulate_msc_study(n_cells=100, groups={"healthy": 1.0})
    with pytest.raises(ValueError, match="dosing_days"):
        simulate_msc_study(n_cells=100, dosing_days=())


def test_healthy_only_study_has_an_unscored_sheet():
    from commgraph.datasets import simulate_msc_study, sample_sheet

    sheet = sample_sheet(simulate_msc_study(n_cells=100, n_patients_per_group=0, n_healthy=2))
    assert sheet["sample"].tolist() == ["H01_d0", "H02_d0"] and sheet["child_pugh"].isna().all()
