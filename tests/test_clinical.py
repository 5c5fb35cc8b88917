"""Sample sheets in the graph and the clinical questions asked of a store, on both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph import associations as A
from commgraph import clinical
from commgraph.datasets import sample_sheet, simulate_msc_study
from conftest import per_sample_tables

DAYS = (0, 7, 28)
N = 6  # patients per group


@pytest.fixture(scope="module")
def trial():
    """The simulated trial's sheet and per-library cell counts (no inference needed), and runs
    whose sample ids are the simulator's libraries (P01_d0, …)."""
    adata = simulate_msc_study(n_cells=12_000, n_patients_per_group=N, n_healthy=0, days=DAYS, seed=1)
    sheet = sample_sheet(adata)
    obs = adata.obs
    counts = (obs.groupby(["library", "cell_type"], observed=True).size().rename(S.N_CELLS).reset_index()
              .rename(columns={"library": S.SAMPLE, "cell_type": S.CELL_TYPE_PROP}))
    counts = counts.merge(sheet[[S.SAMPLE, S.PATIENT, S.DAY, S.GROUP]], on=S.SAMPLE)
    tables = per_sample_tables(n_patients=N, days=DAYS, groups=("low", "high"), n_lr=4,
                               cell_types=("MX1+ Mono", "Treg", "CD8 Effector T"))
    return sheet, counts, tables


def _study(store, trial, *, patients=True):
    sheet, counts, tables = trial
    for t in tables:
        sample = t[S.SAMPLE].iloc[0]
        if not patients:
            t = t.assign(**{S.PATIENT: None})
        store.load(t, cell_counts=counts[counts[S.SAMPLE] == sample])
    return store


def test_sheet_in_the_graph_and_the_trajectory_query(store, trial, tmp_path):
    sheet = trial[0]
    path = tmp_path / "sheet.csv"
    sheet.to_csv(path, index=False)
    _study(store, trial)
    store.load_samples(path)
    m = store.measurements()
    assert set(m[S.VARIABLE]) == {"child_pugh", "meld", "albumin"} and len(m) == 3 * len(sheet)
    got = store.query("clinical_trajectory", score="child_pugh", group="high")
    want = sheet[sheet[S.GROUP] == "high"].sort_values([S.PATIENT, S.DAY])
    assert got["sample"].tolist() == want[S.SAMPLE].tolist()
    assert np.allclose(got["value"], want["child_pugh"].astype(float))
    # loading the sheet again replaces the records, it doesn't add to them
    store.load_samples(path)
    assert len(store.measurements()) == len(m)


def test_associations_through_the_store_equal_the_frames(store, trial):
    sheet = trial[0]
    _study(store, trial)
    store.load_samples(sheet)
    got = clinical.associate(store, score="child_pugh", day=28, groups=["low", "high"])
    frac = clinical.features(store, "fraction")
    want = A.associate(sheet, frac, score="child_pugh", day=28, groups=["low", "high"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    mx1 = got.set_index("feature").loc["MX1+ Mono"]
    assert mx1["rho"] > 0.5 and mx1["p"] < 0.05 and mx1["n_patients"] == 2 * N  # the planted biomarker
    # the fractions read back from the graph are the counts' own
    f = frac.set_index([S.SAMPLE, "feature"])["value"]
    c = trial[1].assign(fraction=lambda d: d[S.N_CELLS] / d.groupby(S.SAMPLE)[S.N_CELLS].transform("sum"))
    assert np.allclose(f.loc[list(zip(c[S.SAMPLE], c[S.CELL_TYPE_PROP]))].to_numpy(), c["fraction"].to_numpy())
    cov = clinical.co_variation(store, "MX1+ Mono").set_index("feature")
    assert cov.loc["CD8 Effector T", "rho"] < 0
    send = clinical.associate(store, score="child_pugh", day=28, of="sending")
    assert set(send["feature"]) == {"MX1+ Mono", "Treg", "CD8 Effector T"}


def test_the_sheet_supplies_patients_for_pairing(store, trial):
    _study(store, trial, patients=False)
    with pytest.raises(cg.InputError, match="no sample pairs with another"):
        cg.differential(store, progress=False)
    store.load_samples(trial[0])
    res = cg.differential(store, progress=False, write=False)
    assert set(res.contrasts[S.N_PATIENTS]) >= {N}


@pytest.mark.parametrize("edit, column, match", [
    (lambda s: s.assign(sample=s["sample"].where(s.index != 3, "X99_d0")), "sample", "not in the store"),
    (lambda s: s.assign(day=s["day"].where(s.index != 4, 14)), "day", "day 14"),
    (lambda s: s.assign(patient=s["patient"].where(s.index != 5, "P12")), "patient", "patient"),
    (lambda s: s.assign(child_pugh=s["child_pugh"].astype(object).where(s.index != 6, "nine")), "child_pugh",
     "'nine' is not a number"),
    (lambda s: pd.concat([s, s.iloc[[2]]], ignore_index=True), "sample", "duplicate"),
])
def test_bad_sheets_are_one_line_errors_and_write_nothing(store, trial, tmp_path, edit, column, match):
    _study(store, trial)
    store.load_samples(trial[0])
    before = store.measurements()
    path = tmp_path / "bad.csv"
    edit(trial[0].copy()).to_csv(path, index=False)
    with pytest.raises(cg.InputError, match=match) as err:
        store.load_samples(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and column in msg and "row" in msg
    pd.testing.assert_frame_equal(store.measurements(), before)


def test_manifest_names_the_sheet(tmp_path, trial):
    sheet, counts, tables = trial
    rows = []
    for t in tables[:6]:
        sample = t[S.SAMPLE].iloc[0]
        t.drop(columns=[S.PATIENT]).to_csv(tmp_path / f"{sample}.csv", index=False)
        counts[counts[S.SAMPLE] == sample][[S.CELL_TYPE_PROP, S.N_CELLS]].to_csv(tmp_path / f"{sample}_n.csv", index=False)
        rows.append({"path": f"{sample}.csv", "format": "csv", "day": t[S.DAY].iloc[0], "group": t[S.GROUP].iloc[0],
                     "sample": sample, "cell_counts": f"{sample}_n.csv", "sample_sheet": "sheet.csv"})
    sheet[sheet[S.SAMPLE].isin([r["sample"] for r in rows])].to_csv(tmp_path / "sheet.csv", index=False)
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.csv", index=False)
    with cg.connect(tmp_path / "m.lbug") as st:
        cg.load_manifest(st, tmp_path / "manifest.csv", progress=False)
        assert len(st.measurements()) == 3 * len(rows)
        assert set(st.samples()[S.PATIENT]) == {"P01", "P02"}


@pytest.mark.neo4j
def test_same_answers_on_neo4j(trial, neo4j_store, tmp_path):
    from test_queries import assert_same

    with cg.connect(tmp_path / "e.lbug") as emb:
        for st in (emb, neo4j_store):
            _study(st, trial)
            st.load_samples(trial[0])
        for params in (dict(score="child_pugh"), dict(score="albumin", group="low"), dict(score="meld", patient="P03")):
            want = emb.query("clinical_trajectory", **params)
            assert len(want)
            assert_same(neo4j_store.query("clinical_trajectory", **params), want, what=str(params))
        for kw in (dict(score="child_pugh", day=28), dict(score="meld", day=7, of="sending")):
            pd.testing.assert_frame_equal(clinical.associate(neo4j_store, **kw), clinical.associate(emb, **kw))
        pd.testing.assert_frame_equal(clinical.co_variation(neo4j_store, "MX1+ Mono"), clinical.co_variation(emb, "MX1+ Mono"))
        pd.testing.assert_frame_equal(store_sorted(neo4j_store.measurements()), store_sorted(emb.measurements()))


def store_sorted(df):
    return df.sort_values([S.SAMPLE, S.VARIABLE]).reset_index(drop=True)


@pytest.mark.neo4j
def test_push_carries_patients_counts_and_the_sheet(trial, neo4j_store, tmp_path):
    with cg.connect(tmp_path / "src.lbug") as src:
        _study(src, trial)
        src.load_samples(trial[0])
        cg.copy_store(src, neo4j_store, progress=False)
        for what in ("samples", "sample_counts", "measurements"):
            got = getattr(neo4j_store, what)().sort_values(list(getattr(src, what)().columns[:2])).reset_index(drop=True)
            want = getattr(src, what)().sort_values(list(getattr(src, what)().columns[:2])).reset_index(drop=True)
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=what)
        a = cg.differential(src, progress=False, write=False).results
        b = cg.differential(neo4j_store, progress=False, write=False).results
        key = [S.CONTRAST_PROP, S.LEVEL, S.SOURCE, S.TARGET, S.INTERACTION, S.PATHWAY]
        a, b = (x.sort_values(key).reset_index(drop=True) for x in (a, b))
        assert len(a) > 100
        np.testing.assert_allclose(a[S.T_STAT], b[S.T_STAT], rtol=1e-9)
        np.testing.assert_allclose(a[S.FDR], b[S.FDR], rtol=1e-9)
