"""Run ligand–receptor inference per day × group (× sample) from one AnnData.

``infer`` splits the cells, runs LIANA+ or CellPhoneDB on each split (on a Dask cluster:
a local one by default, or any running scheduler), and writes each run's native result
files, a ``cell_counts.csv`` per split and a ``manifest.csv`` that
:func:`commgraph.load_manifest` reads. Raw counts go in; each split is normalised (library
size 10,000, log1p) the way both tools expect.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _schema as S
from ._progress import track
from ._resources import resource_dir
from .errors import CommgraphError, InputError

METHODS = ("liana", "cellphonedb")
CPDB_DATABASE = "cellphonedb-v5.0.0.zip"  # vendored in loaders/ (MIT, ventolab/cellphonedb-data v5.0.0)
_ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{6,}")
ENV_SCHEDULER = "COMMGRAPH_DASK_SCHEDULER"  # address of a running Dask scheduler
CONNECT_TIMEOUT = 30  # seconds to reach a running scheduler
WORKER_WAIT = 600  # seconds to wait for a first worker on a remote scheduler (batch queues are slow)


class InferenceError(CommgraphError):
    """Some splits' inference failed; the others' outputs, the manifest of those and ``failed.csv`` are kept."""

    def __init__(self, message: str, *, manifest: Path | None = None, failed: Path | None = None):
        self.manifest, self.failed = manifest, failed
        super().__init__(message)


@dataclass(frozen=True)
class Split:
    day: int
    group: str
    sample: str | None
    cells: np.ndarray  # positions in the AnnData
    patient: str | None = None

    @property
    def name(self) -> str:
        return f"day{self.day}_{self.group}" + (f"_{self.sample}" if self.sample else "")


def _require_anndata():
    try:
        import anndata  # noqa: F401
    except ImportError:
        raise InputError("inference needs the 'infer' extra: pip install 'commgraph[infer]'") from None


def _counts(adata, layer: str | None, normalized: bool = False):
    """The expression matrix, checked: non-negative, and whole numbers unless ``normalized``."""
    import scipy.sparse as sp

    x = adata.layers[layer] if layer else adata.X
    where = f"layers[{layer!r}]" if layer else ".X"
    values = x.data if sp.issparse(x) else np.asarray(x).ravel()
    sample = values[: 2_000_000]
    if sample.size and np.nanmin(sample) < 0:
        raise InputError(f"{where} has negative values: commgraph infer needs raw counts "
                         "(pass layer= naming the raw-count layer)")
    if not normalized and sample.size and not np.allclose(sample, np.round(sample)):
        hint = " (try layer='counts')" if "counts" in adata.layers and not layer else ""
        raise InputError(f"{where} is not raw counts (non-integer values, e.g. {sample[~np.isclose(sample, np.round(sample))][0]:.3g}): "
                         f"commgraph infer normalises itself and needs raw counts{hint}; "
                         "for data already log-normalised pass normalized=True (--normalized)")
    return x


def gene_ids(adata) -> str:
    """``"ensembl"`` when most var_names are Ensembl gene IDs, else ``"symbol"``."""
    names = pd.Index(adata.var_names.astype(str))
    return "ensembl" if names.str.match(_ENSEMBL).mean() > 0.5 else "symbol"


def _check_genes(adata, method: str, resource_genes: set[str]) -> str:
    ids = gene_ids(adata)
    if ids == "ensembl" and method == "liana":
        raise InputError(f"genes are Ensembl IDs (e.g. {adata.var_names[0]}) but LIANA+ resources use HGNC symbols: "
                         "set adata.var_names to a symbol column (adata.var_names = adata.var['gene_symbols']), "
                         "or use method='cellphonedb', which reads Ensembl IDs")
    names = set(adata.var_names.astype(str))
    if ids == "symbol" and resource_genes and len(resource_genes & names) < 0.05 * len(resource_genes):
        raise InputError(f"only {len(resource_genes & names)} of the resource's {len(resource_genes)} genes are in "
                         "adata.var_names: are the genes HGNC symbols of human genes?")
    return ids


def splits_of(adata, *, cell_type_key: str, day_key: str, group_key: str | None = None,
              sample_key: str | None = None, patient_key: str | None = None) -> list[Split]:
    """The day × group (× sample) splits of the cells, checking the obs keys.

    With ``patient_key`` each split's patient is the one value of that column among its
    cells; a sample whose cells name two patients is an error.
    """
    obs = adata.obs
    for what, key in (("cell_type_key", cell_type_key), ("day_key", day_key), ("group_key", group_key),
                      ("sample_key", sample_key), ("patient_key", patient_key)):
        if key is not None and key not in obs.columns:
            raise InputError(f"{what}={key!r} is not a column of adata.obs (columns: {', '.join(map(str, obs.columns))})")
    if patient_key is not None and sample_key is None:
        raise InputError("patient_key needs sample_key: a patient belongs to a sample's run, and a pooled "
                         "day × group split holds many patients")
    day = pd.to_numeric(obs[day_key].astype(str).str.replace(r"^[Dd](ay)?\s*", "", regex=True), errors="coerce")
    bad = day.isna() | (day != day.round())
    if bad.any():
        raise InputError(f"adata.obs[{day_key!r}] has a day that isn't a whole number: {obs[day_key].iloc[int(np.argmax(bad.to_numpy()))]!r} "
                         "(days are numbers relative to dosing: 0, 3, 7, …)")
    keys = pd.DataFrame({"day": day.astype(int).to_numpy(),
                         "group": obs[group_key].astype(str).to_numpy() if group_key else S.NO_GROUP,
                         "sample": obs[sample_key].astype(str).to_numpy() if sample_key else ""})
    out = []
    for (d, g, s), idx in keys.groupby(["day", "group", "sample"], sort=True).indices.items():
        idx = np.sort(idx)
        patient = _patient_of(obs[patient_key].iloc[idx], sample=s, key=patient_key) if patient_key else None
        out.append(Split(int(d), str(g), s or None, idx, patient))
    return out


def _patient_of(values: pd.Series, *, sample: str, key: str) -> str:
    if values.isna().any():
        raise InputError(f"sample {sample!r} has cells without a patient in adata.obs[{key!r}]")
    patients = sorted(values.astype(str).unique())
    if len(patients) > 1:
        more = f" (and {len(patients) - 2} more)" if len(patients) > 2 else ""
        raise InputError(f"sample {sample!r} spans two patients in adata.obs[{key!r}]: "
                         f"{patients[0]!r} and {patients[1]!r}{more}; a sample is one patient's library")
    return patients[0]


MANIFEST_COLUMNS = ("path", "format", "day", "group", "sample", "patient", "options", "cell_counts")
FAILED_COLUMNS = ("split", "day", "group", "sample", "patient", "error")


def infer(adata, *, cell_type_key: str, day_key: str, group_key: str | None = None, sample_key: str | None = None,
          patient_key: str | None = None, method: str = "liana", out: str | os.PathLike = "commgraph-infer",
          liana_method: str = "cellphonedb", resource: str = "consensus",
          cpdb_database: str | os.PathLike | None = None, layer: str | None = None, normalized: bool = False,
          min_cells: int = 10, n_perms: int = 100, seed: int = 0, n_jobs: int = 2, scheduler: Any = None,
          progress: bool = True) -> Path:
    """Run inference per split and write native outputs plus ``out/manifest.csv``; returns its path.

    ``method="liana"`` runs ``liana.mt.<liana_method>`` (default ``cellphonedb``; also
    ``rank_aggregate``, ``cellchat``, …) with LIANA's bundled ``resource``; ``"cellphonedb"``
    runs CellPhoneDB's statistical analysis with ``cpdb_database`` (default: the vendored
    v5.0.0 zip). ``normalized=True`` takes ``.X`` (or ``layer``) as already log-normalised.
    Cell types with fewer than ``min_cells`` cells in a split are left out of
    that split's inference and listed in ``out/skipped.csv`` (and warned about).

    Splits are day × group, or day × group × sample with ``sample_key`` (one run per
    library). ``patient_key`` (needs ``sample_key``) names the obs column of the patient;
    each run's patient goes into the manifest's ``patient`` column, and a sample whose
    cells name two patients is an :class:`~commgraph.InputError`.

    The splits run as tasks on Dask: on a ``LocalCluster`` of ``n_jobs`` single-threaded
    worker processes, or on a running cluster when ``scheduler`` is its address
    (``"tcp://host:8786"``; also a cluster object with a ``scheduler_address``, such as
    dask-jobqueue's ``SLURMCluster``) or the ``COMMGRAPH_DASK_SCHEDULER`` environment
    variable is set. With ``n_jobs=1`` (or a single split) and no scheduler, everything
    runs in this process. Workers need commgraph with the ``infer`` extra, not this
    machine's files: each task gets its split's matrix and sends its output files back,
    and they are written here.

    A split whose inference fails does not stop the others: it is warned about, listed in
    ``out/failed.csv`` (split, day, group, sample, patient, the error's first line), left out
    of the manifest, and at the end :class:`InferenceError` says how many failed.

    >>> manifest = infer(adata, cell_type_key="cell_type", day_key="day", group_key="group")  # doctest: +SKIP
    >>> cg.load_manifest("study.lbug", manifest)                                             # doctest: +SKIP
    """
    _require_anndata()
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method == "cellphonedb" and n_perms < 100:  # CellPhoneDB 5.0.1 divides by iterations // 100
        raise InputError(f"CellPhoneDB needs at least 100 permutations (n_perms={n_perms})")
    if isinstance(adata, (str, os.PathLike)):
        import anndata

        path = Path(adata)
        if not path.exists():
            raise InputError("AnnData file not found", file=str(path))
        try:
            adata = anndata.read_h5ad(path)
        except Exception as e:  # h5py/anndata: truncated, not HDF5, not an AnnData — in many exception types
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise InputError(f"can't be read as an .h5ad file ({type(e).__name__}: {first})", file=str(path)) from None
    if cell_type_key not in adata.obs.columns:
        raise InputError(f"cell_type_key={cell_type_key!r} is not a column of adata.obs "
                         f"(columns: {', '.join(map(str, adata.obs.columns))})")
    splits = splits_of(adata, cell_type_key=cell_type_key, day_key=day_key, group_key=group_key,
                       sample_key=sample_key, patient_key=patient_key)
    x_all = _counts(adata, layer, normalized)
    ids = _check_genes(adata, method, _resource_genes(method, resource))
    if method == "liana":
        _check_liana_method(liana_method)
    db = Path(cpdb_database) if cpdb_database else resource_dir("loaders") / CPDB_DATABASE
    if method == "cellphonedb" and not db.exists():
        raise InputError("CellPhoneDB database not found", file=str(db))

    plans, skipped = _plans(adata, splits, cell_type_key=cell_type_key, min_cells=min_cells)
    runs = [(split, cells) for split, _, cells in plans if cells is not None]
    if not runs:
        raise InputError("no split has two cell types with enough cells: lower min_cells or check the keys")
    options = dict(method=method, liana_method=liana_method, resource=resource, n_perms=n_perms, seed=seed,
                   normalized=normalized, gene_ids=ids,
                   database=db.read_bytes() if method == "cellphonedb" else None)  # workers may not see our files
    var_names = adata.var_names.astype(str).to_numpy()
    cell_types = adata.obs[cell_type_key].astype(str)

    def data_of(cells: np.ndarray) -> tuple:
        return x_all[cells], pd.DataFrame({"cell_type": cell_types.iloc[cells].to_numpy()},
                                          index=adata.obs_names[cells].astype(str))

    scheduler = scheduler if scheduler is not None else os.environ.get(ENV_SCHEDULER) or None
    in_process = scheduler is None and (n_jobs <= 1 or len(runs) == 1)
    out = Path(out)
    errors: dict[str, BaseException] = {}
    with contextlib.nullcontext() if in_process else _dask_client(scheduler, min(n_jobs, len(runs))) as client:
        out.mkdir(parents=True, exist_ok=True)  # only once the cluster answers: a bad address writes nothing
        for split, counts, _ in plans:
            (out / split.name).mkdir(exist_ok=True)
            counts.to_csv(out / split.name / "cell_counts.csv", index=False)
        if skipped:
            pd.DataFrame(skipped).to_csv(out / "skipped.csv", index=False)
            warnings.warn(f"{len(skipped)} cell type × split combination(s) had too few cells and were left out; "
                          f"see {out / 'skipped.csv'}", stacklevel=2)
        (out / "failed.csv").unlink(missing_ok=True)  # from an earlier run into this folder
        what = f"{method} per day × group" + (" × sample" if sample_key else "")
        for split, files, error in _outcomes(runs, data_of, var_names, options, client=client, progress=progress,
                                             what=what):
            if error is None:
                for name, content in files.items():
                    (out / split.name / name).write_bytes(content)
            else:
                errors[split.name] = error
                warnings.warn(f"inference failed for {_describe(split)}: {_one_line(error)}", stacklevel=2)
    return _write_manifest(out, [split for split, _ in runs], errors, method=method, liana_method=liana_method,
                           resource=resource, db=db)


def _plans(adata, splits: list[Split], *, cell_type_key: str, min_cells: int) -> tuple[list, list[dict]]:
    """Per split: its cell counts and the cells to run on (None: too few cell types); and what was left out."""
    plans, skipped = [], []
    for split in splits:
        types = adata.obs[cell_type_key].iloc[split.cells].astype(str)
        counts = types.value_counts().rename_axis(S.CELL_TYPE_PROP).reset_index(name=S.N_CELLS)
        counts = counts.sort_values(S.CELL_TYPE_PROP)
        enough = counts[counts[S.N_CELLS] >= min_cells][S.CELL_TYPE_PROP]
        for row in counts[counts[S.N_CELLS] < min_cells].itertuples(index=False):
            skipped.append({"split": split.name, S.CELL_TYPE_PROP: row[0], S.N_CELLS: int(row[1]),
                            "reason": f"fewer than {min_cells} cells"})
        if len(enough) < 2:
            skipped.append({"split": split.name, S.CELL_TYPE_PROP: "*", S.N_CELLS: int(len(types)),
                            "reason": "fewer than two cell types with enough cells: no inference"})
        plans.append((split, counts, split.cells[types.isin(enough).to_numpy()] if len(enough) >= 2 else None))
    return plans, skipped


def _write_manifest(out: Path, runs: list[Split], errors: dict[str, BaseException], *, method: str,
                    liana_method: str, resource: str, db: Path) -> Path:
    """``manifest.csv`` of the runs that succeeded; with failures also ``failed.csv``, then InferenceError."""
    path = out / "manifest.csv"
    options = _manifest_options(method, liana_method, resource, db)
    pd.DataFrame([{"path": s.name if method == "cellphonedb" else f"{s.name}/liana.csv", "format": method,
                   "day": s.day, "group": s.group, "sample": s.sample or "", "patient": s.patient or "",
                   "options": options, "cell_counts": f"{s.name}/cell_counts.csv"} for s in runs if s.name not in errors],
                 columns=list(MANIFEST_COLUMNS)).to_csv(path, index=False)
    if not errors:
        return path
    failed = [s for s in runs if s.name in errors]
    failed_csv = out / "failed.csv"
    pd.DataFrame([{"split": s.name, "day": s.day, "group": s.group, "sample": s.sample or "",
                   "patient": s.patient or "", "error": _one_line(errors[s.name])} for s in failed],
                 columns=list(FAILED_COLUMNS)).to_csv(failed_csv, index=False)
    first = failed[0]
    raise InferenceError(
        f"inference failed for {len(failed)} of {len(runs)} split(s), first {_describe(first)}: "
        f"{_one_line(errors[first.name])}; {path} lists the {len(runs) - len(failed)} that succeeded, "
        f"{failed_csv} the failed ones", manifest=path, failed=failed_csv) from errors[first.name]


def _describe(split: Split) -> str:
    return (f"{split.name} (day {split.day}, group {split.group}"
            + (f", sample {split.sample}" if split.sample else "") + ")")


def _one_line(error: BaseException, limit: int = 300) -> str:
    """The error's type and first line, cut to ``limit`` characters (LIANA+ lists every missing gene)."""
    args = error.args
    # Dask sends a message over 10,000 characters as ("Long error message", its start)
    text = args[1] if len(args) == 2 and args[0] == "Long error message" and isinstance(args[1], str) else str(error)
    lines = text.strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _manifest_options(method: str, liana_method: str, resource: str, db: Path) -> str:
    """The manifest's options: LIANA's method, and the tool and database versions this run used
    (they become the Run node's tool_version and database_version)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version(method)
    except PackageNotFoundError:  # pragma: no cover - inference needs the package
        tool_version = None
    if method == "cellphonedb":
        options = {"database_version": Path(db).stem}
    else:
        options = {"method": liana_method, "database_version": f"liana resource {resource}"}
    if tool_version:
        options["tool_version"] = tool_version
    return json.dumps(options)


def _resource_genes(method: str, resource: str) -> set[str]:
    if method != "liana":
        return set()
    from liana.resource import select_resource

    res = select_resource(resource)
    genes = set()
    for col in ("ligand", "receptor"):
        genes |= {g for v in res[col].astype(str) for g in v.split("_")}
    return genes


def _check_liana_method(name: str) -> None:
    import liana as li

    if not callable(getattr(li.mt, name, None)):
        known = sorted(m for m in dir(li.mt) if not m.startswith("_") and callable(getattr(li.mt, m)))
        raise InputError(f"LIANA+ has no method {name!r} (known: {', '.join(known)})")


@contextlib.contextmanager
def _dask_client(scheduler: Any, n_workers: int) -> Iterator[Any]:
    """A Dask client of the scheduler at ``scheduler``, or of a new LocalCluster of ``n_workers`` processes."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("parallel inference runs on Dask: pip install 'commgraph[infer]' "
                         "(or n_jobs=1 to run in this process)") from None
    # the in-process scheduler and the client log every worker's coming and going at INFO
    with _log_level("distributed", logging.ERROR), _connected(scheduler, n_workers) as client:
        yield client


@contextlib.contextmanager
def _log_level(name: str, level: int) -> Iterator[None]:
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)


@contextlib.contextmanager
def _connected(scheduler: Any, n_workers: int) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler is None:
        # one thread per worker: the tools are single-threaded numpy; no memory cap, as a process pool had none
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, memory_limit=0,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster, set_as_default=False) as client:
            yield client
        return
    address = getattr(scheduler, "scheduler_address", scheduler)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise InferenceError(f"can't reach the Dask scheduler at {address}: {_one_line(e)}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise InferenceError(f"no Dask worker joined the scheduler at {address} within {WORKER_WAIT} s") from None
        yield client


def _outcomes(runs: list[tuple[Split, np.ndarray]], data_of, var_names: np.ndarray, options: dict, *, client: Any,
              progress: bool, what: str) -> Iterator[tuple[Split, dict[str, bytes] | None, BaseException | None]]:
    """Run every split, here or on the client's cluster; yield (split, its files, None) or (split, None, error)."""
    if client is None:
        for split, cells in track(runs, description=what, show=progress):
            try:
                files = _run_one(data_of(cells), var_names, options)
            except Exception as e:  # noqa: BLE001 - any tool error fails this split only
                yield split, None, e
            else:
                yield split, files, None
        return
    from distributed import as_completed

    # the gene names and options once per worker; each split's matrix goes to a worker as data, not in the graph
    [shared] = client.scatter([(var_names, options)], broadcast=True, hash=False)
    todo = {}
    for split, cells in runs:
        [data] = client.scatter([data_of(cells)], hash=False)
        key = f"commgraph-infer-{split.name}-{uuid.uuid4().hex[:8]}"
        todo[client.submit(_run_shared, data, shared, key=key, pure=False)] = split
    for future in track(as_completed(todo, loop=client.loop), description=what, show=progress, total=len(todo)):
        split = todo.pop(future)
        try:
            files = future.result()
        except Exception as e:  # noqa: BLE001 - the task's own error, raised here by Dask
            yield split, None, e
        else:
            yield split, files, None
        future.release()


def _run_shared(data: tuple, shared: tuple) -> dict[str, bytes]:
    return _run_one(data, *shared)


def _run_one(data: tuple, var_names: np.ndarray, options: dict) -> dict[str, bytes]:
    """Run one split in a scratch folder of whichever process runs it; return its output files' bytes."""
    with tempfile.TemporaryDirectory(prefix="commgraph-infer-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LIANA+/anndata/pandas deprecation chatter, per split
        scratch, run_dir = Path(tmp), Path(tmp) / "out"
        run_dir.mkdir()
        _run_split(_split_adata(*data, var_names, options["normalized"]), options, run_dir, scratch)
        return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.is_file()}


def _split_adata(counts, obs: pd.DataFrame, var_names: np.ndarray, normalized: bool):
    import anndata
    import scanpy as sc

    ad = anndata.AnnData(X=counts.astype(np.float32), obs=obs, var=pd.DataFrame(index=var_names))
    if not normalized:
        sc.pp.normalize_total(ad, target_sum=1e4)
        sc.pp.log1p(ad)
    return ad


def _run_split(ad, options: dict, run_dir: Path, scratch: Path) -> None:
    if options["method"] == "liana":
        import liana as li

        fn = getattr(li.mt, options["liana_method"])
        kw: dict[str, Any] = dict(groupby="cell_type", resource_name=options["resource"], expr_prop=0.1,
                                  use_raw=False, verbose=False, inplace=True, seed=options["seed"])
        if options["liana_method"] in ("cellphonedb", "cellchat", "rank_aggregate"):
            kw["n_perms"] = options["n_perms"]
        fn(ad, **kw)
        ad.uns["liana_res"].to_csv(run_dir / "liana.csv", index=False)
    else:
        from cellphonedb.src.core.methods import cpdb_statistical_analysis_method

        # its logger writes to the stream it saw at import; quiet it to warnings
        logging.getLogger("cellphonedb.src.core.core_logger").setLevel(logging.WARNING)

        meta = run_dir / "meta.tsv"
        pd.DataFrame({"barcode_sample": ad.obs_names, "cell_type": ad.obs["cell_type"].to_numpy()}).to_csv(
            meta, sep="\t", index=False)
        h5, db = scratch / "normalised.h5ad", scratch / "database.zip"
        ad.write_h5ad(h5)
        db.write_bytes(options["database"])
        # CellPhoneDB prints its progress; keep it beside the results, not on the user's screen
        with open(run_dir / "cellphonedb.log", "w") as log, contextlib.redirect_stdout(log), \
                contextlib.redirect_stderr(log):
            cpdb_statistical_analysis_method.call(
                cpdb_file_path=str(db), meta_file_path=str(meta), counts_file_path=str(h5),
                counts_data="ensembl" if options["gene_ids"] == "ensembl" else "hgnc_symbol",
                output_path=str(run_dir), iterations=options["n_perms"], threads=1, debug_seed=options["seed"],
                output_suffix="run",
            )
