"""LIANA+ results: ``adata.uns["liana_res"]`` (AnnData, .h5ad path), a DataFrame, or CSV/TSV.

One row per ``source, target, ligand_complex, receptor_complex`` (plus the sample column
for ``rank_aggregate.by_sample`` / ``<method>.by_sample`` output). Which LIANA method made
the table is read from its columns, in the order of the ``methods`` table of
``loaders/liana.yaml`` (``rank_aggregate`` first, as it carries every method's columns), or
given with ``method=``. That table also says, per method, which column becomes ``score``
(``rank_aggregate``: ``1 - magnitude_rank``, so higher = stronger), which is the p-value and
which column is compared with ``threshold`` for ``significant`` (methods without a test
mark no row significant). Every other numeric column goes into ``extra``.

Complexes (``ITGAL_ITGB2``) are written with their subunits sorted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as S
from ..errors import InputError
from ._common import (
    Parsed,
    check_duplicates,
    check_pvalues,
    check_scores,
    check_text,
    clean_names,
    extra_json,
    map_categorical,
    numeric_columns,
    read_delimited,
    require_columns,
    require_rows,
    sorted_subunits,
    to_float,
)

DEFAULT_UNS_KEY = "liana_res"
# keys of the methods table in loaders/liana.yaml
DETECT, SCORE_COLUMN, TRANSFORM, PVALUE_COLUMN, SIGNIFICANT_COLUMN = "detect", "score_column", "transform", "pvalue_column", "significant_column"
RANGE = "range"  # the score column's valid values, [low, high] (null: open end)
NAME_COLUMNS = ("ligand", "receptor")  # LIANA's own gene columns next to the *_complex ones: names too
TRANSFORMS = {"none": lambda x: x, "one_minus": lambda x: 1.0 - x}


def _table(source: Any, uns_key: str, names: tuple[str, ...] = ()) -> tuple[pd.DataFrame, str, list[str]]:
    if isinstance(source, pd.DataFrame):
        return source, "<liana DataFrame>", []
    if hasattr(source, "uns") and hasattr(source, "obs"):  # AnnData / MuData, without importing anndata
        where = f"<AnnData>.uns[{uns_key!r}]"
        if uns_key not in source.uns:
            raise InputError(f"the AnnData has no uns[{uns_key!r}] (keys: {', '.join(map(str, source.uns.keys())) or 'none'})", file=where)
        return _as_frame(source.uns[uns_key], where), where, []
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() == ".h5ad":
            if not path.is_file():
                raise InputError("file not found", file=str(path))
            try:
                import anndata
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise InputError("reading .h5ad needs anndata: pip install 'commgraph[infer]'", file=str(path)) from e
            try:
                adata = anndata.read_h5ad(path, backed="r")
            except Exception as e:  # h5py/anndata say "truncated", "not an HDF5 file", … in many types
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise InputError(f"can't be read as an .h5ad file ({first})", file=str(path)) from None
            try:
                table, _, _ = _table(adata, uns_key)
            finally:
                adata.file.close()
            return table, f"{path}:uns[{uns_key!r}]", [str(path)]
        return read_delimited(path, names=names, what="LIANA result file"), str(path), [str(path)]
    raise InputError(f"can't read LIANA results from a {type(source).__name__}", file=f"<{type(source).__name__}>")


def _as_frame(value: Any, where: str) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        return value
    raise InputError(f"expected a DataFrame, found {type(value).__name__}", file=where)


def detect_method(df: pd.DataFrame, methods: Any, where: str) -> str:
    """The LIANA method whose columns the table has. A rank_aggregate table carries every method's
    columns: one with several methods' columns but not both ranks is a rank_aggregate table that
    lost its rank columns (an error, not a single-method run)."""
    found = [name for name, spec in methods.items() if all(c in df.columns for c in spec[DETECT])]
    aggregate = next(iter(methods))  # rank_aggregate: first in the table
    ranks = list(methods[aggregate][DETECT])
    if aggregate in found:
        return aggregate
    partial = [c for c in ranks if c in df.columns]
    if partial or len(found) > 1:
        missing = [c for c in ranks if c not in df.columns]
        raise InputError(
            f"the table has columns of {', '.join(found) if found else 'rank_aggregate'}"
            f"{' (several methods: a rank_aggregate table)' if len(found) > 1 else ''} but not "
            f"{' and '.join(missing)}: a rank_aggregate table needs {' and '.join(ranks)}; "
            f"pass method= to read one method's columns",
            file=where, column=missing[0], row=0)
    if found:
        return found[0]
    raise InputError(
        "can't tell which LIANA method made this table: none of "
        + "; ".join(f"{name} ({', '.join(spec['detect'])})" for name, spec in methods.items())
        + " has all its columns; pass method=",
        file=where,
        column=next(iter(methods.values()))[SCORE_COLUMN],
        row=0,
    )


def parse(
    source: Any,
    *,
    fmt: Any,
    method: str | None = None,
    threshold: float = 0.05,
    sample_column: str = S.SAMPLE,
    uns_key: str = DEFAULT_UNS_KEY,
) -> Parsed:
    """Parse a LIANA+ result table (see the module docstring)."""
    names = tuple(native for native, canonical in fmt.columns.items() if canonical != S.SAMPLE) + (sample_column,) \
        + tuple(NAME_COLUMNS)
    df, where, files = _table(source, uns_key, names)
    if df.shape[1] == 0:
        raise InputError("the table is empty", file=where)
    require_rows(df, where)
    df = df.reset_index(drop=True)
    if method is None:
        method = detect_method(df, fmt.methods, where)
    elif method not in fmt.methods:
        raise InputError(f"unknown LIANA method {method!r}; known: {', '.join(fmt.methods)}", file=where, column=S.METHOD)
    spec = fmt.methods[method]
    native = {canonical: col for col, canonical in fmt.columns.items()}  # canonical -> native
    if sample_column != S.SAMPLE:
        native[S.SAMPLE] = sample_column
    keys = [native[S.SOURCE], native[S.TARGET], native[S.LIGAND], native[S.RECEPTOR]]
    needed = keys + [spec[SCORE_COLUMN]] + [c for c in (spec.get(PVALUE_COLUMN), spec.get(SIGNIFICANT_COLUMN)) if c]
    require_columns(df, needed, where)
    check_text(df, keys, where)
    sample_native = native[S.SAMPLE]
    has_sample = sample_native in df.columns
    if has_sample:
        check_text(df, [sample_native], where)
    check_duplicates(df, keys + ([sample_native] if has_sample else []), where, column=native[S.RECEPTOR])

    raw = to_float(df[spec[SCORE_COLUMN]], file=where, column=spec[SCORE_COLUMN])
    check_scores(raw, file=where, column=spec[SCORE_COLUMN], valid=spec.get(RANGE))
    transform = spec.get(TRANSFORM) or "none"
    score = TRANSFORMS[transform](raw)
    pvalue = None
    if spec.get(PVALUE_COLUMN):
        pvalue = to_float(df[spec[PVALUE_COLUMN]], file=where, column=spec[PVALUE_COLUMN])
        check_pvalues(pvalue, file=where, column=spec[PVALUE_COLUMN])
    if spec.get(SIGNIFICANT_COLUMN):
        test = pvalue if spec[SIGNIFICANT_COLUMN] == spec.get(PVALUE_COLUMN) else to_float(df[spec[SIGNIFICANT_COLUMN]], file=where, column=spec[SIGNIFICANT_COLUMN])
        if spec[SIGNIFICANT_COLUMN] != spec.get(PVALUE_COLUMN):
            check_pvalues(test, file=where, column=spec[SIGNIFICANT_COLUMN])  # ranks live in [0, 1] too
        with np.errstate(invalid="ignore"):
            significant = test <= float(threshold)
    else:
        significant = np.zeros(len(df), dtype=bool)

    used = set(keys) | {sample_native, spec.get(PVALUE_COLUMN)}
    if transform == "none":
        used.add(spec[SCORE_COLUMN])
    extra_cols = numeric_columns(df, used)
    ligand = clean_names(df[native[S.LIGAND]])
    ligand = map_categorical(ligand, sorted_subunits(ligand.categories))
    receptor = clean_names(df[native[S.RECEPTOR]])
    receptor = map_categorical(receptor, sorted_subunits(receptor.categories))
    table = pd.DataFrame(
        {
            S.SOURCE: clean_names(df[native[S.SOURCE]]),
            S.TARGET: clean_names(df[native[S.TARGET]]),
            S.LIGAND: ligand,
            S.RECEPTOR: receptor,
            S.SCORE: score,
            S.PVALUE: pvalue if pvalue is not None else np.full(len(df), np.nan),
            S.SIGNIFICANT: significant,
            S.EXTRA: extra_json(df[extra_cols]),
        }
    )
    if has_sample:
        table[S.SAMPLE] = clean_names(df[sample_native])
    return Parsed(
        table=table,
        file=where,
        source_files=files,
        method=fmt.method.replace("{method}", method),
        options={S.METHOD: method, "threshold": float(threshold), "sample_column": sample_column, "uns_key": uns_key},
    )
