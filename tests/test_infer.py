"""`infer` on real tools: both methods on the simulated study and on CellPhoneDB's test data."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.infer import infer
from conftest import DATA, REPO

pytestmark = pytest.mark.slow
anndata = pytest.importorskip("anndata")


@pytest.fixture(scope="module")
def small_study():
    from commgraph.datasets import simulate_msc_study

    return simulate_msc_study(n_cells=6000, days=(0, 7), n_patients_per_group=2, n_healthy=2, seed=1)


@pytest.fixture(scope="module")
def cpdb_test():
    """CellPhoneDB's own test data (10 cells, log-normalised, Ensembl IDs) with day and group."""
    ad = anndata.read_h5ad(DATA / "cellphonedb-test" / "test.h5ad")
    meta = pd.read_csv(DATA / "cellphonedb-test" / "test_meta.txt", sep="\t").set_index("Cell")
    ad.obs["cell_type"] = meta.loc[ad.obs_names, "cell_type"].to_numpy()
    ad.obs["day"], ad.obs["group"] = "D0", "test"  # a "D0" label is read as day 0
    return ad


def _load(manifest, tmp_path):
    with cg.connect(tmp_path / "s.lbug") as st:
        runs = cg.load_manifest(st, manifest, progress=False)
        return runs, st.stats(), st.query("cell_composition")


@pytest.mark.parametrize("method", ["liana", "cellphonedb"])
def test_both_methods_on_the_simulated_study(small_study, tmp_path, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manifest = infer(small_study, cell_type_key="cell_type", day_key="day", group_key="group", layer="counts",
                         method=method, out=tmp_path / "runs", n_perms=100, progress=False)
    m = pd.read_csv(manifest)
    assert sorted(zip(m[S.DAY], m[S.GROUP])) == [(0, "healthy"), (0, "high"), (0, "low"), (7, "high"), (7, "low")]
    runs, stats, comp = _load(manifest, tmp_path)
    assert len(runs) == 5 and stats["significant"] > 0
    # cell counts per split went into the CellStates and sum to the split's cells
    obs = small_study.obs
    want = obs.groupby(["day", "group"], observed=True).size()
    got = comp.groupby([S.DAY, S.GROUP])[S.N_CELLS].sum()
    for (day, group), n in want.items():
        assert got[(day, group)] == n
    assert comp.groupby([S.DAY, S.GROUP])[S.FRACTION].sum().to_numpy() == pytest.approx(1.0)


def test_cellphonedb_on_its_own_test_data(cpdb_test, tmp_path):
    manifest = infer(cpdb_test, cell_type_key="cell_type", day_key="day", group_key="group", method="cellphonedb",
                     normalized=True, min_cells=1, out=tmp_path / "runs", progress=False)
    runs, stats, _ = _load(manifest, tmp_path)
    assert runs[S.RUN_ID].tolist() == ["cellphonedb|d0|test"]
    sig = pd.read_csv(next((tmp_path / "runs" / "day0_test").glob("statistical_analysis_significant_means_*.txt")),
                      sep="\t")
    pairs = [c for c in sig.columns if "|" in c]
    assert stats["significant"] == int(sig[pairs].notna().to_numpy().sum())


def test_liana_on_cellphonedb_test_data_with_symbols(cpdb_test, tmp_path):
    with pytest.raises(cg.InputError, match="Ensembl IDs.*var_names"):
        infer(cpdb_test, cell_type_key="cell_type", day_key="day", method="liana", normalized=True,
              out=tmp_path / "x", progress=False)
    genes = pd.read_csv(zipfile.ZipFile(REPO / "loaders" / "cellphonedb-v5.0.0.zip").open("gene_table.csv"))
    symbol = dict(zip(genes["ensembl"], genes["gene_name"]))
    ad = cpdb_test[:, cpdb_test.var_names.isin(list(symbol))].copy()
    ad.var_names = [symbol[g] for g in ad.var_names]
    ad = ad[:, ~ad.var_names.duplicated()].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manifest = infer(ad, cell_type_key="cell_type", day_key="day", group_key="group", method="liana",
                         normalized=True, min_cells=1, out=tmp_path / "runs", n_jobs=1, progress=False)
    runs, stats, _ = _load(manifest, tmp_path)
    assert runs[S.RUN_ID].tolist() == ["liana|d0|test"] and stats["signals"] > 0


def _tiny(x=None, **obs):
    x = np.array([[1, 0, 3], [0, 2, 1], [4, 1, 0], [2, 2, 2]], dtype=float) if x is None else x
    ad = anndata.AnnData(X=x, var=pd.DataFrame(index=["ICAM1", "ITGAL", "ITGB2"]))
    ad.obs["ct"], ad.obs["day"], ad.obs["group"] = ["a", "a", "b", "b"], [0, 0, 0, 0], "g"
    for k, v in obs.items():
        ad.obs[k] = v
    return ad


@pytest.mark.parametrize(
    "adata, kwargs, message",
    [
        (_tiny(), {"cell_type_key": "celltype"}, "cell_type_key='celltype' is not a column of adata.obs"),
        (_tiny(), {"group_key": "arm"}, "group_key='arm' is not a column"),
        (_tiny(day=["0", "3", "seven", "7"]), {}, "day that isn't a whole number: 'seven'"),
        (_tiny(x=-np.ones((4, 3))), {}, "negative values"),
        (_tiny(x=np.full((4, 3), 0.5)), {}, "not raw counts"),
    ],
)
def test_bad_input(tmp_path, adata, kwargs, message):
    args = {"cell_type_key": "ct", "day_key": "day", "group_key": "group", "method": "cellphonedb",
            "out": tmp_path / "o", "progress": False, **kwargs}
    with pytest.raises(cg.InputError, match=message):
        infer(adata, **args)
    assert not (tmp_path / "o" / "manifest.csv").exists()


def test_ensembl_ids_for_liana_name_the_fix(tmp_path):
    ad = _tiny()
    ad.var_names = ["ENSG00000090339", "ENSG00000005844", "ENSG00000160255"]
    with pytest.raises(cg.InputError, match="adata.var_names = adata.var\\['gene_symbols'\\]"):
        infer(ad, cell_type_key="ct", day_key="day", method="liana", out=tmp_path / "o", progress=False)


def test_too_few_cells_are_reported(small_study, tmp_path):
    sub = small_study[(small_study.obs["day"] == 0) & (small_study.obs["group"] == "healthy")].copy()
    with pytest.warns(UserWarning, match="too few cells"):
        infer(sub, cell_type_key="cell_type", day_key="day", group_key="group", layer="counts", method="liana",
              min_cells=60, out=tmp_path / "runs", n_perms=10, n_jobs=1, progress=False)
    skipped = pd.read_csv(tmp_path / "runs" / "skipped.csv")
    counts = sub.obs["cell_type"].value_counts()
    assert set(skipped[S.CELL_TYPE_PROP]) == set(counts[counts < 60].index)
