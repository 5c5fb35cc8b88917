"""Helpers the parsers share: reading files with clear errors, checks, subunits, extra JSON.

Every check raises :class:`~commgraph.errors.InputError` naming the file, the column and
the first row at fault (data rows counted from 1, header not counted).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .. import _schema as S
from ..errors import InputError


@dataclass
class Parsed:
    """What a parser hands back to :func:`commgraph.formats.read`.

    ``table`` holds canonical columns SOURCE, TARGET, LIGAND, RECEPTOR, SCORE, PVALUE,
    SIGNIFICANT, EXTRA and, when the tool has them, PATHWAY (the tool's own) and SAMPLE.
    String columns may be categoricals (cheap for long tables).
    """

    table: pd.DataFrame
    file: str  # name used in error messages for the table as a whole
    source_files: list[str]
    method: str
    options: dict[str, Any] = field(default_factory=dict)  # effective parser options, for provenance
    fallback_pathway: pd.Series | None = None  # e.g. CellPhoneDB classification, row-aligned
    tool_version: str | None = None
    database_version: str | None = None
    tool: str | None = None  # overrides the format's tool (generic csv)
    notes: list[str] = field(default_factory=list)  # what the reader did that the user should know
    # native names of the long table's run columns, when the parser gave per-row day/group/sample
    time_column: str | None = None
    group_column: str | None = None
    sample_column: str | None = None


def first_row(mask: np.ndarray | pd.Series) -> int:
    """1-based position of the first True."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def label(source: Any, kind: str) -> str:
    """A name for an in-memory source in error messages."""
    return f"<{kind} {type(source).__name__}>"


def read_delimited(path: Path, *, sep: str | None = None, dtype: Any = None, what: str = "file") -> pd.DataFrame:
    """Read a CSV/TSV file with the delimiter from ``sep`` or the extension."""
    if not path.is_file():
        raise InputError(f"{what} not found", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path))
    if sep is None:
        sep = "," if path.suffix.lower() == ".csv" else "\t" if path.suffix.lower() in (".tsv", ".txt", ".tab") else None
    try:
        return pd.read_csv(path, sep=sep, dtype=dtype, engine="c" if sep else "python", keep_default_na=True)
    except pd.errors.EmptyDataError as e:
        raise InputError("the file is empty", file=str(path)) from e
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(f"can't be read as a delimited table ({str(e).strip()})", file=str(path)) from e


def require_columns(df: pd.DataFrame, columns: Iterable[str], file: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(map(repr, missing))} in the header; found {', '.join(map(str, df.columns[:20]))}",
            file=file,
            column=missing[0],
            row=0,
        )


def require_rows(df: pd.DataFrame, file: str) -> None:
    if len(df) == 0:
        raise InputError("no rows (the file holds only a header)", file=file)


def to_float(values: pd.Series | np.ndarray, *, file: str, column: str) -> np.ndarray:
    """Numbers as float64; NA stays NaN; anything else that doesn't parse raises."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype="float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna() & ~s.astype("string").str.strip().str.upper().isin(["", "NA", "NAN", "NULL"])
    if bad.any():
        row = first_row(bad)
        raise InputError(f"{s.iloc[row - 1]!r} is not a number", file=file, column=column, row=row)
    return num.to_numpy(dtype="float64", na_value=np.nan)


def check_pvalues(p: np.ndarray, *, file: str, column: str, rows: np.ndarray | None = None) -> None:
    """p-values must lie in [0, 1] (NaN allowed). ``rows`` maps positions to file rows."""
    with np.errstate(invalid="ignore"):
        outside = (p < 0) | (p > 1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        row = int(rows[i]) if rows is not None else i + 1
        raise InputError(f"p-value {float(p[i])!r} is outside [0, 1]", file=file, column=column, row=row)


def check_scores(x: np.ndarray, *, file: str, column: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        row = first_row(bad)
        what = "missing" if np.isnan(x[row - 1]) else f"{x[row - 1]!r}, not a finite number"
        raise InputError(f"score is {what}", file=file, column=column, row=row)


def check_text(df: pd.DataFrame, columns: Iterable[str], file: str) -> None:
    """Identifier columns (cell types, genes) must not be empty."""
    for c in columns:
        s = df[c]
        empty = s.isna() | (s.astype("string").str.strip() == "")
        if empty.any():
            raise InputError("empty value", file=file, column=c, row=first_row(empty))


def check_duplicates(df: pd.DataFrame, key: list[str], file: str, *, column: str | None = None) -> None:
    dup = df.duplicated(key, keep="first")
    if dup.any():
        row = first_row(dup)
        first = int(np.flatnonzero((df[key] == df[key].iloc[row - 1]).all(axis=1))[0]) + 1
        what = ", ".join(f"{k}={df[k].iloc[row - 1]}" for k in key)
        raise InputError(f"duplicate key ({what}); first seen in row {first}", file=file, column=column or key[-1], row=row)


def best_first(score: np.ndarray, pvalue: np.ndarray, significant: np.ndarray) -> np.ndarray:
    """Row order for resolving collisions: significant first, then higher score, then lower p-value."""
    return np.lexsort((np.nan_to_num(pvalue, nan=np.inf), -score, ~significant))


def report_collisions(file: str, tool: str, n_dropped: int, merged: dict[str, Iterable[str]]) -> None:
    """Warn that distinct native interactions became one canonical pair and one row per cell-type
    pair was kept (``merged``: canonical pair -> the native interactions behind it)."""
    shown = "; ".join(f"{pair} <- {', '.join(sorted(set(names)))}" for pair, names in list(merged.items())[:5])
    more = f"; and {len(merged) - 5} more pair(s)" if len(merged) > 5 else ""
    warnings.warn(
        f"{file}: {n_dropped} row(s) left out where {tool} interactions became the same ligand-receptor pair "
        f"(kept per cell-type pair: significant first, then the higher score, then the lower p-value): {shown}{more}",
        UserWarning, stacklevel=4,
    )


def sorted_subunits(names: pd.Series | pd.Index | Iterable[str], sep: str = S.SUBUNIT_SEP) -> dict[str, str]:
    """name → its '_'-separated parts de-duplicated and sorted (``ITGB2_ITGAL`` → ``ITGAL_ITGB2``).

    Works on the distinct names only; callers map the result back (cheap on categoricals).
    """
    out = {}
    for name in pd.unique(pd.Series(list(names) if not isinstance(names, pd.Series) else names).dropna()):
        parts = sorted({p.strip() for p in str(name).split(sep) if p.strip()})
        out[name] = S.SUBUNIT_SEP.join(parts) if parts else str(name)
    return out


def small_int(n: int) -> type:
    """The smallest signed integer type for categorical codes -1..n-1 (what pandas would pick)."""
    return np.int8 if n < 2**7 else np.int16 if n < 2**15 else np.int32


def categorical(values: pd.Series | np.ndarray | list) -> pd.Categorical:
    return values.array if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype) else pd.Categorical(values)


def map_categorical(values: pd.Series | pd.Categorical, mapping: dict[str, str]) -> pd.Categorical:
    """Map a string column through ``mapping`` (missing keys kept) working on its categories."""
    cat = categorical(values)
    new = [mapping.get(c, c) for c in cat.categories]
    codes_new, uniq = pd.factorize(pd.Index(new))
    codes = np.where(cat.codes >= 0, codes_new[np.maximum(cat.codes, 0)], -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniq))


def extra_json(df: pd.DataFrame) -> pd.Series:
    """One JSON object per row from the given columns (vectorised; NaN becomes null)."""
    if df.shape[1] == 0 or len(df) == 0:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    lines = df.reset_index(drop=True).to_json(orient="records", lines=True, double_precision=10).splitlines()
    return pd.Series(lines, index=df.index, dtype="string")


def numeric_columns(df: pd.DataFrame, exclude: Iterable[str]) -> list[str]:
    skip = set(exclude)
    return [c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype)]


def options_json(options: dict[str, Any]) -> str:
    return json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}, sort_keys=True, default=str)
