"""Run ligand–receptor inference per day × group (× sample) from one AnnData.

``infer`` splits the cells, runs LIANA+ or CellPhoneDB on each split (in parallel worker
processes), and writes each run's native result files, a ``cell_counts.csv`` per split and
a ``manifest.csv`` that :func:`commgraph.load_manifest` reads. Raw counts go in; each
split is normalised (library size 10,000, log1p) the way both tools expect.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _schema as S
from ._progress import track
from ._resources import resource_dir
from .errors import InputError

METHODS = ("liana", "cellphonedb")
CPDB_DATABASE = "cellphonedb-v5.0.0.zip"  # vendored in loaders/ (MIT, ventolab/cellphonedb-data v5.0.0)
_ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{6,}")


@dataclass(frozen=True)
class Split:
    day: int
    group: str
    sample: str | None
    cells: np.ndarray  # positions in the AnnData

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
              sample_key: str | None = None) -> list[Split]:
    """The day × group (× sample) splits of the cells, checking the obs keys."""
    obs = adata.obs
    for what, key in (("cell_type_key", cell_type_key), ("day_key", day_key), ("group_key", group_key),
                      ("sample_key", sample_key)):
        if key is not None and key not in obs.columns:
            raise InputError(f"{what}={key!r} is not a column of adata.obs (columns: {', '.join(map(str, obs.columns))})")
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
        out.append(Split(int(d), str(g), s or None, np.sort(idx)))
    return out


def infer(adata, *, cell_type_key: str, day_key: str, group_key: str | None = None, sample_key: str | None = None,
          method: str = "liana", out: str | os.PathLike = "commgraph-infer", liana_method: str = "cellphonedb",
          resource: str = "consensus", cpdb_database: str | os.PathLike | None = None, layer: str | None = None,
          normalized: bool = False, min_cells: int = 10, n_perms: int = 100, seed: int = 0, n_jobs: int = 2,
          progress: bool = True) -> Path:
    """Run inference per split and write native outputs plus ``out/manifest.csv``; returns its path.

    ``method="liana"`` runs ``liana.mt.<liana_method>`` (default ``cellphonedb``; also
    ``rank_aggregate``, ``cellchat``, …) with LIANA's bundled ``resource``; ``"cellphonedb"``
    runs CellPhoneDB's statistical analysis with ``cpdb_database`` (default: the vendored
    v5.0.0 zip). ``normalized=True`` takes ``.X`` (or ``layer``) as already log-normalised.
    Cell types with fewer than ``min_cells`` cells in a split are left out of
    that split's inference and listed in ``out/skipped.csv`` (and warned about).

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
        adata = anndata.read_h5ad(path)
    if cell_type_key not in adata.obs.columns:
        raise InputError(f"cell_type_key={cell_type_key!r} is not a column of adata.obs "
                         f"(columns: {', '.join(map(str, adata.obs.columns))})")
    splits = splits_of(adata, cell_type_key=cell_type_key, day_key=day_key, group_key=group_key,
                       sample_key=sample_key)
    _counts(adata, layer, normalized)
    ids = _check_genes(adata, method, _resource_genes(method, resource))
    db = Path(cpdb_database) if cpdb_database else resource_dir("loaders") / CPDB_DATABASE
    if method == "cellphonedb" and not db.exists():
        raise InputError("CellPhoneDB database not found", file=str(db))

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs, manifest, skipped = [], [], []
    for split in splits:
        sub = adata[split.cells]
        types = sub.obs[cell_type_key].astype(str)
        counts = types.value_counts().rename_axis(S.CELL_TYPE_PROP).reset_index(name=S.N_CELLS)
        counts = counts.sort_values(S.CELL_TYPE_PROP)
        small = counts[counts[S.N_CELLS] < min_cells]
        for row in small.itertuples(index=False):
            skipped.append({"split": split.name, S.CELL_TYPE_PROP: row[0], S.N_CELLS: int(row[1]),
                            "reason": f"fewer than {min_cells} cells"})
        keep = types.isin(counts[counts[S.N_CELLS] >= min_cells][S.CELL_TYPE_PROP]).to_numpy()
        run_dir = out / split.name
        run_dir.mkdir(exist_ok=True)
        counts.to_csv(run_dir / "cell_counts.csv", index=False)
        if keep.sum() == 0 or (counts[S.N_CELLS] >= min_cells).sum() < 2:
            skipped.append({"split": split.name, S.CELL_TYPE_PROP: "*", S.N_CELLS: int(len(types)),
                            "reason": "fewer than two cell types with enough cells: no inference"})
            continue
        x = _counts(sub, layer, normalized)[keep]
        jobs.append(dict(counts=x, obs=pd.DataFrame({"cell_type": types[keep].to_numpy()},
                                                    index=sub.obs_names[keep].astype(str)),
                         var_names=sub.var_names.astype(str).to_numpy(), method=method, liana_method=liana_method,
                         resource=resource, db=str(db), n_perms=n_perms, seed=seed, run_dir=str(run_dir),
                         normalized=normalized, gene_ids=ids))
        manifest.append({"path": split.name if method == "cellphonedb" else f"{split.name}/liana.csv",
                         "format": method, "day": split.day, "group": split.group, "sample": split.sample or "",
                         "options": _manifest_options(method, liana_method, resource, db),
                         "cell_counts": f"{split.name}/cell_counts.csv"})
    if skipped:
        pd.DataFrame(skipped).to_csv(out / "skipped.csv", index=False)
        warnings.warn(f"{len(skipped)} cell type × split combination(s) had too few cells and were left out; "
                      f"see {out / 'skipped.csv'}", stacklevel=2)
    if not jobs:
        raise InputError("no split has two cell types with enough cells: lower min_cells or check the keys")
    _run_all(jobs, n_jobs=n_jobs, progress=progress, what=f"{method} per day × group")
    path = out / "manifest.csv"
    pd.DataFrame(manifest).to_csv(path, index=False)
    return path


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


def _run_all(jobs: list[dict], *, n_jobs: int, progress: bool, what: str) -> None:
    if n_jobs <= 1 or len(jobs) == 1:
        for job in track(jobs, description=what, show=progress):
            _run_one(job)
        return
    import multiprocessing as mp

    # spawn, not fork: numba/scanpy have started OpenMP threads in this process by now
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_run_one, job) for job in jobs]
        for f in track(as_completed(futures), description=what, show=progress, total=len(futures)):
            f.result()


def _split_adata(job: dict):
    import anndata
    import scanpy as sc

    ad = anndata.AnnData(X=job["counts"].astype(np.float32), obs=job["obs"],
                         var=pd.DataFrame(index=job["var_names"]))
    if not job["normalized"]:
        sc.pp.normalize_total(ad, target_sum=1e4)
        sc.pp.log1p(ad)
    return ad


def _run_one(job: dict) -> None:
    with warnings.catch_warnings():  # LIANA+/anndata/pandas deprecation chatter, per split
        warnings.simplefilter("ignore")
        _run_split(job)


def _run_split(job: dict) -> None:
    ad = _split_adata(job)
    run_dir = Path(job["run_dir"])
    if job["method"] == "liana":
        import liana as li

        fn = getattr(li.mt, job["liana_method"], None)
        if fn is None:
            raise InputError(f"LIANA+ has no method {job['liana_method']!r}")
        kw: dict[str, Any] = dict(groupby="cell_type", resource_name=job["resource"], expr_prop=0.1, use_raw=False,
                                  verbose=False, inplace=True, seed=job["seed"])
        if job["liana_method"] in ("cellphonedb", "cellchat", "rank_aggregate"):
            kw["n_perms"] = job["n_perms"]
        fn(ad, **kw)
        ad.uns["liana_res"].to_csv(run_dir / "liana.csv", index=False)
    else:
        import logging

        from cellphonedb.src.core.methods import cpdb_statistical_analysis_method

        # its logger writes to the stream it saw at import; quiet it to warnings
        logging.getLogger("cellphonedb.src.core.core_logger").setLevel(logging.WARNING)

        meta = run_dir / "meta.tsv"
        pd.DataFrame({"barcode_sample": ad.obs_names, "cell_type": ad.obs["cell_type"].to_numpy()}).to_csv(
            meta, sep="\t", index=False)
        h5 = run_dir / "normalised.h5ad"
        ad.write_h5ad(h5)
        # CellPhoneDB prints its progress; keep it beside the results, not on the user's screen
        with warnings.catch_warnings(), open(run_dir / "cellphonedb.log", "w") as log, \
                contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            warnings.simplefilter("ignore")
            cpdb_statistical_analysis_method.call(
                cpdb_file_path=job["db"], meta_file_path=str(meta), counts_file_path=str(h5),
                counts_data="ensembl" if job["gene_ids"] == "ensembl" else "hgnc_symbol", output_path=str(run_dir), iterations=job["n_perms"], threads=1,
                debug_seed=job["seed"], output_suffix="run",
            )
        h5.unlink()
