"""`infer` on real tools: both methods on the simulated study and on CellPhoneDB's test data."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.infer import InferenceError, infer
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
    m = pd.read_csv(manifest, keep_default_na=False)  # without patient_key the patient column is there, empty
    assert list(m.columns) == ["path", "format", "day", "group", "sample", "patient", "options", "cell_counts"]
    assert m["patient"].tolist() == [""]
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


# --- Dask, failures and patients -------------------------------------------------------------

PER_LIBRARY = dict(cell_type_key="cell_type", day_key="day", group_key="group", sample_key="library",
                   patient_key="sample", layer="counts", method="liana", n_perms=20, progress=False)


@pytest.fixture(scope="module")
def libraries():
    """9 libraries of ~330 cells: healthy donor H01 on day 0, patients P01–P04 on days 0 and 7.

    The simulator's ``sample`` is the patient and ``library`` the patient × day sample.
    """
    from commgraph.datasets import simulate_msc_study

    return simulate_msc_study(n_cells=3000, n_patients_per_group=2, n_healthy=1, days=(0, 7), seed=1)


@pytest.fixture(scope="module")
def in_process(libraries, tmp_path_factory):
    """One LIANA+ run per library, all in this process (n_jobs=1): what the cluster must reproduce."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return infer(libraries, **PER_LIBRARY, n_jobs=1, scheduler=None,
                     out=tmp_path_factory.mktemp("in-process") / "runs")


@pytest.fixture(scope="module")
def cluster():
    """A running Dask cluster of two worker processes that tests reach by its address only."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture
def failing(libraries):
    """Three libraries; in P01_d0 no cell expresses any gene of LIANA's resource, which LIANA+ refuses."""
    from liana.resource import select_resource
    import scipy.sparse as sp

    ad = libraries[libraries.obs["library"].isin(["H01_d0", "P01_d0", "P03_d0"])].copy()
    res = select_resource("consensus")
    genes = {g for col in ("ligand", "receptor") for v in res[col].astype(str) for g in v.split("_")}
    x = ad.layers["counts"]
    dense = x.toarray() if sp.issparse(x) else np.array(x)
    dense[np.ix_((ad.obs["library"] == "P01_d0").to_numpy(), ad.var_names.isin(list(genes)))] = 0
    ad.layers["counts"] = sp.csr_matrix(dense) if sp.issparse(x) else dense
    return ad


def test_local_cluster_gives_the_in_process_results(libraries, in_process, tmp_path, monkeypatch):
    import commgraph.infer as inf

    monkeypatch.delenv(inf.ENV_SCHEDULER, raising=False)
    workers = []
    real = inf._dask_client

    def spy(scheduler, n_workers):  # records the cluster the splits ran on; runs the real thing
        with real(scheduler, n_workers) as client:
            workers.append(len(client.scheduler_info()["workers"]))
            yield client

    monkeypatch.setattr(inf, "_dask_client", contextlib.contextmanager(spy))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        manifest = infer(libraries, **PER_LIBRARY, n_jobs=2, out=tmp_path / "runs")
    assert workers == [2]
    want, got = pd.read_csv(in_process), pd.read_csv(manifest)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == libraries.obs["library"].nunique() == 9
    for run, counts in zip(want["path"], want["cell_counts"]):
        a, b = pd.read_csv(in_process.parent / run), pd.read_csv(manifest.parent / run)
        assert len(a) > 100
        pd.testing.assert_frame_equal(b, a, rtol=1e-9, atol=1e-12)
        pd.testing.assert_frame_equal(pd.read_csv(manifest.parent / counts), pd.read_csv(in_process.parent / counts))
    assert not (manifest.parent / "failed.csv").exists()


def test_each_sample_run_names_its_patient(libraries, in_process):
    m = pd.read_csv(in_process, dtype=str)
    truth = libraries.obs[["library", "sample", "day", "group"]].drop_duplicates().astype(str)
    got = m[["sample", "patient", "day", "group"]].rename(columns={"sample": "library", "patient": "sample"})
    pd.testing.assert_frame_equal(got.sort_values("library").reset_index(drop=True),
                                  truth.sort_values("library").reset_index(drop=True)[got.columns])
    assert set(m["patient"]) == {"H01", "P01", "P02", "P03", "P04"}


@pytest.mark.parametrize("change, kwargs, message", [
    (("P01_d7", "P02"), {}, "sample 'P01_d7' spans two patients in adata.obs\\['sample'\\]: 'P01' and 'P02'"),
    (("P03_d0", None), {}, "sample 'P03_d0' has cells without a patient"),
    (None, {"sample_key": None}, "patient_key needs sample_key"),
    (None, {"patient_key": "donor"}, "patient_key='donor' is not a column of adata.obs"),
])
def test_patient_errors(libraries, tmp_path, change, kwargs, message):
    ad = libraries.copy()
    if change:
        library, patient = change
        obs = ad.obs["sample"].astype(object)
        cells = np.flatnonzero((ad.obs["library"] == library).to_numpy())[:5]  # a few cells of another patient
        obs.iloc[cells] = patient
        ad.obs["sample"] = obs
    with pytest.raises(cg.InputError, match=message):
        infer(ad, **{**PER_LIBRARY, **kwargs}, n_jobs=1, out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()  # nothing written


def _check_failure(out, libraries):
    """P01_d0 failed for LIANA+'s own reason; the other two libraries' runs are complete and listed."""
    failed = pd.read_csv(out / "failed.csv", keep_default_na=False)
    assert failed[["split", "day", "group", "sample", "patient"]].values.tolist() == [
        ["day0_low_P01_d0", 0, "low", "P01_d0", "P01"]]
    assert failed["error"][0].startswith("ValueError: Please check if appropriate organism/ID type was provided")
    assert len(failed["error"][0]) <= 300  # LIANA's message lists every missing gene; one line is cut short
    m = pd.read_csv(out / "manifest.csv")
    assert m["sample"].tolist() == ["H01_d0", "P03_d0"]
    for run in m["path"]:
        assert len(pd.read_csv(out / run)) > 100
    assert not (out / "day0_low_P01_d0" / "liana.csv").exists()
    assert (out / "day0_low_P01_d0" / "cell_counts.csv").exists()


def test_a_failing_split_keeps_the_others_and_is_listed(failing, libraries, tmp_path):
    out = tmp_path / "runs"
    with pytest.warns(UserWarning, match="inference failed for day0_low_P01_d0 \\(day 0, group low, sample P01_d0\\)"), \
            pytest.raises(InferenceError, match="inference failed for 1 of 3 split\\(s\\), first day0_low_P01_d0") as e:
        infer(failing, **PER_LIBRARY, n_jobs=1, out=out)
    assert e.value.failed == out / "failed.csv" and e.value.manifest == out / "manifest.csv"
    assert isinstance(e.value, cg.CommgraphError) and "ValueError: Please check" in str(e.value)
    _check_failure(out, libraries)


def test_a_failing_split_on_a_running_scheduler_exits_1_with_one_line(failing, libraries, cluster, tmp_path):
    """The CLI, on a cluster it reaches through COMMGRAPH_DASK_SCHEDULER."""
    failing.write_h5ad(tmp_path / "study.h5ad")
    out = tmp_path / "runs"
    env = {**os.environ, "COMMGRAPH_DASK_SCHEDULER": cluster.scheduler_address, "PYTHONWARNINGS": "ignore"}
    r = subprocess.run([sys.executable, "-m", "commgraph.cli", "infer", str(tmp_path / "study.h5ad"),
                        "--cell-type-key", "cell_type", "--day-key", "day", "--group-key", "group",
                        "--sample-key", "library", "--patient-key", "sample", "--layer", "counts",
                        "--n-perms", "20", "--out", str(out)], capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: inference failed for 1 of 3 split(s)"), r.stderr
    assert str(out / "failed.csv") in lines[0]
    _check_failure(out, libraries)


def test_an_unreachable_scheduler_is_one_line_before_anything_is_written(libraries, tmp_path, monkeypatch):
    import commgraph.infer as inf

    monkeypatch.setattr(inf, "CONNECT_TIMEOUT", 2)  # Dask retries a refused connection until then
    with pytest.raises(InferenceError, match="can't reach the Dask scheduler at tcp://127.0.0.1:9"):
        infer(libraries, **PER_LIBRARY, scheduler="tcp://127.0.0.1:9", out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
