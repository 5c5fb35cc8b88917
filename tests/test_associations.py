"""Clinical associations on the simulated trial: planted effects found, null p-values uniform, numbers = scipy's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from commgraph.associations import associate, co_variation, responders
from commgraph.datasets import PLANTED_CLINICAL_EFFECTS, sample_sheet, simulate_msc_study
from commgraph.errors import InputError

PATIENTS = ["low", "high"]
PLANTED = {e["kind"]: e for e in PLANTED_CLINICAL_EFFECTS}
SIGN = {"positive": 1, "negative": -1}


def library_fractions(adata) -> pd.DataFrame:
    """Per library and cell type: the fraction of the library's cells (tidy, with patient, group, day)."""
    obs = adata.obs
    frac = pd.crosstab(obs["library"], obs["cell_type"], normalize="index").stack().rename("value").reset_index()
    frac.columns = ["sample", "feature", "value"]
    lib = obs.drop_duplicates("library").set_index("library")
    for col, src in (("patient", "sample"), ("group", "group"), ("day", "day")):
        frac[col] = frac["sample"].map(lib[src].astype(str) if col != "day" else lib[src]).to_numpy()
    frac["feature"] = frac["feature"].astype(str)
    return frac


@pytest.fixture(scope="module")
def study():
    adata = simulate_msc_study(n_cells=24_000, n_patients_per_group=10, n_healthy=2, days=(0, 7, 28), seed=1)
    return sample_sheet(adata), library_fractions(adata)


def _change(frame, value, day, baseline=0):
    wide = frame.pivot(index="patient", columns="day", values=value)
    return (wide[day] - wide[baseline]).dropna()


def test_child_pugh_tracks_mx1_change(study):
    sheet, frac = study
    e = PLANTED["association"]
    res = associate(sheet, frac, score=e["score"], day=e["day"], baseline=e["baseline"], groups=PATIENTS)
    row = res.set_index("feature").loc[e["cell_type"]]
    assert SIGN[e["direction"]] * row["rho"] > 0.5 and row["p"] < 0.01 and row["fdr"] < 0.05
    assert row["n_patients"] == 20 and row["n_dropped"] == 0
    assert len(res) == 12 and res["p"].is_monotonic_increasing
    assert res.attrs["params"]["correction"] == "fdr_bh"
    # rho is scipy's Spearman on the per-patient changes
    cp = _change(sheet[sheet["group"].isin(PATIENTS)], e["score"], e["day"])
    mx1 = _change(frac[frac["feature"] == e["cell_type"]], "value", e["day"])
    want = stats.spearmanr(cp, mx1.reindex(cp.index)).statistic
    assert row["rho"] == pytest.approx(want, abs=1e-12)
    # fdr is Benjamini-Hochberg over the features tested
    from statsmodels.stats.multitest import multipletests

    assert res["fdr"].to_numpy() == pytest.approx(multipletests(res["p"], method="fdr_bh")[1])


def test_levels_on_one_day(study):
    sheet, frac = study
    res = associate(sheet, frac, score="albumin", day=7, change=False, groups=PATIENTS).set_index("feature")
    level = sheet[sheet["day"] == 7].set_index("patient")["albumin"]
    nb = frac[(frac["feature"] == "Naive B") & (frac["day"] == 7)].set_index("patient")["value"]
    assert res.loc["Naive B", "rho"] == pytest.approx(stats.spearmanr(level, nb.reindex(level.index)).statistic,
                                                      abs=1e-12)


def test_dropped_patients_are_counted(study):
    sheet, frac = study
    # healthy donors have no day 28 and no score; one patient loses the day-28 library
    gone = frac[~((frac["patient"] == "P03") & (frac["day"] == 28))]
    row = associate(sheet, gone, score="child_pugh", day=28, n_perm=99).set_index("feature").loc["MX1+ Mono"]
    assert row["n_patients"] == 19 and row["n_dropped"] == 3


def test_permutation_p_is_exact_for_few_patients():
    # 5 patients, perfectly monotone: 2 of the 5! pairings reach |rho| = 1
    rows = [{"sample": f"P{i}_d{d}", "patient": f"P{i}", "group": "g", "day": d,
             "score": 10 - (i if d else 0), "feature": "f", "value": -float(i) if d else 0.0}
            for i in range(5) for d in (0, 7)]
    frame = pd.DataFrame(rows)
    row = associate(frame, frame, score="score", day=7).iloc[0]
    assert row["rho"] == pytest.approx(1.0) and row["p"] == pytest.approx(2 / 120, rel=1e-9)


def test_null_p_values_are_uniform(study):
    """Patient labels of the features shuffled 200 times: the permutation p-values are ~U(0, 1)."""
    sheet, frac = study
    mx1 = frac[(frac["feature"] == "MX1+ Mono") & frac["group"].isin(PATIENTS)]
    patients = mx1["patient"].unique()
    rng = np.random.default_rng(7)
    ps = []
    for i in range(200):
        relabel = dict(zip(patients, rng.permutation(patients)))
        shuffled = mx1.assign(patient=mx1["patient"].map(relabel))
        ps.append(associate(sheet, shuffled, score="child_pugh", day=28, groups=PATIENTS, n_perm=999,
                            seed=i)["p"].iloc[0])
    ps = np.array(ps)
    assert stats.kstest(ps, "uniform").pvalue > 0.01
    assert (ps < 0.05).sum() <= stats.binom.ppf(0.999, 200, 0.05)


def test_co_variation_as_planted(study):
    _, frac = study
    planted = [e for e in PLANTED_CLINICAL_EFFECTS if e["kind"] == "co_variation"]
    res = co_variation(frac, planted[0]["cell_type"], groups=PATIENTS).set_index("feature")
    assert len(res) == 11 and (res["n_patients"] == 20).all() and (res["n_observations"] == 60).all()
    for e in planted:
        row = res.loc[e["partner"]]
        assert SIGN[e["direction"]] * row["rho"] > 0.3 and row["fdr"] < 0.05, e["name"]
    # rho is scipy's Spearman on within-patient centred fractions
    wide = frac[frac["group"].isin(PATIENTS)].pivot(index=["patient", "day"], columns="feature", values="value")
    centred = wide - wide.groupby(level="patient").transform("mean")
    want = stats.spearmanr(centred["MX1+ Mono"], centred["Naive B"]).statistic
    assert res.loc["Naive B", "rho"] == pytest.approx(want, abs=1e-12)


def test_co_variation_null_is_uniform(study):
    """A partner's fractions shuffled across days within each patient: p-values ~U(0, 1)."""
    _, frac = study
    two = frac[frac["feature"].isin(["MX1+ Mono", "Naive B"]) & frac["group"].isin(PATIENTS)]
    mx1, nb = two[two["feature"] == "MX1+ Mono"], two[two["feature"] == "Naive B"]
    rng = np.random.default_rng(11)
    ps = []
    for i in range(200):
        shuffled = nb.assign(value=nb.groupby("patient")["value"].transform(lambda v: rng.permutation(v.to_numpy())))
        ps.append(co_variation(pd.concat([mx1, shuffled]), "MX1+ Mono", n_perm=999, seed=i)["p"].iloc[0])
    ps = np.array(ps)
    assert stats.kstest(ps, "uniform").pvalue > 0.01
    assert (ps < 0.05).sum() <= stats.binom.ppf(0.999, 200, 0.05)


def test_responders(study):
    sheet, frac = study
    res = responders(sheet, frac, score="child_pugh", day=28, threshold=2, groups=PATIENTS).set_index("feature")
    row = res.loc["MX1+ Mono"]
    cp = _change(sheet[sheet["group"].isin(PATIENTS)], "child_pugh", 28)
    resp = cp <= -2
    assert row["n_responders"] == resp.sum() and row["n_responders"] + row["n_others"] == 20
    # responders kept MX1+ monocytes lower
    assert row["difference"] < 0 and row["p"] < 0.05
    mx1 = _change(frac[frac["feature"] == "MX1+ Mono"], "value", 28).reindex(cp.index)
    want = stats.mannwhitneyu(mx1[resp], mx1[~resp], alternative="two-sided")
    assert row["u"] == want.statistic and row["p"] == pytest.approx(want.pvalue)
    assert row["difference"] == pytest.approx(mx1[resp].median() - mx1[~resp].median())
    assert res.attrs["params"]["n_responders"] == resp.sum()


def test_clear_errors(study):
    sheet, frac = study
    few = sheet[sheet["patient"].isin(["P01", "P02"])]
    with pytest.raises(InputError, match="2 patient.s. have the child_pugh change, day 28 vs 0; .* at least 3"):
        associate(few, frac, score="child_pugh", day=28)
    with pytest.raises(InputError, match="column 'meld_score'"):
        associate(sheet, frac, score="meld_score", day=28)
    with pytest.raises(InputError, match="column 'value'"):
        associate(sheet, frac.drop(columns="value"), score="meld", day=28)
    with pytest.raises(InputError, match="two values for patient"):
        associate(sheet, pd.concat([frac, frac.head(1)]), score="meld", day=28)
    with pytest.raises(InputError, match="one side of the threshold"):
        responders(sheet, frac, score="child_pugh", day=28, threshold=20)
    with pytest.raises(InputError, match="no cell type 'Mast'"):
        co_variation(frac, "Mast")
