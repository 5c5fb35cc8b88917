"""Sample sheets: one row per sample (a library: one patient on one day) with clinical values.

A sheet has the columns ``sample``, ``patient``, ``day``, ``group`` and any number of clinical or
lab columns (Child-Pugh, MELD, albumin, a categorical stage, ...).  A clinical column is numeric
when every non-empty value parses as a number (integers stay integers, ``Int64``; others
``float64``); a column where more than half of the values parse but some do not is an error
(a typo such as ``"3,2"`` or ``"<5"`` in a lab column), naming the value; any other column is a
category.  Empty cells and ``NA``/``N/A``/``NaN``/``null``/``None`` are missing.

:func:`sample_measurements` turns a sheet into long records (sample, variable, value, text):
that is how a store keeps clinical values, so a new column needs no schema change.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import _schema as S
from .errors import InputError

PATIENT, VARIABLE, VALUE, TEXT = S.PATIENT, S.VARIABLE, S.VALUE, S.TEXT
REQUIRED: tuple[str, ...] = (S.SAMPLE, PATIENT, S.DAY, S.GROUP)
MEASUREMENT_COLUMNS: tuple[str, ...] = (S.SAMPLE, VARIABLE, VALUE, TEXT)

_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})
_INT = re.compile(r"[+-]?\d+")


def read_sample_sheet(source: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """Read and check a sample sheet (CSV, or TSV by a ``.tsv``/``.tab`` suffix; or a DataFrame).

    Returns one row per sample in file order: ``sample``, ``patient``, ``group`` (str), ``day``
    (int64), then the clinical columns typed as the module docstring says.  Raises
    :class:`~commgraph.errors.InputError` naming file, column and 1-based data row on a missing
    required column, an empty required value, a duplicate sample, a patient in two groups, a day
    that is not a whole number, a stray non-number in a numeric column, or an empty sheet.

    >>> sheet = cg.read_sample_sheet("samples.csv")   # doctest: +SKIP
    """
    if isinstance(source, pd.DataFrame):
        where = "<DataFrame>"
        table = source.astype(object).where(source.notna(), "").astype(str)
        table.columns = [str(c) for c in source.columns]
    else:
        where = str(source)
        table = _read_text(Path(source))
    return _check(table, where)


def _read_text(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("sample sheet not found", file=str(path))
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    from .formats import read_bytes, scan_delimited

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh, delimiter=sep), None)
    except (UnicodeDecodeError, csv.Error):  # the scan below says which row and byte
        header = None
        scan_delimited(read_bytes(path, what="sample sheet"), str(path), sep, what="sample sheet")
    if not header or not any(h.strip() for h in header):
        raise InputError("the sample sheet is empty", file=str(path))
    names = [h.strip() for h in header]
    for i, name in enumerate(names):
        if not name:
            raise InputError(f"column {i + 1} has no name", file=str(path))
        if name in names[:i]:
            raise InputError("duplicate column", file=str(path), column=name)
    # the reading layer's checks: NUL/control or non-UTF-8 bytes, a cut last line, stray quotes, ragged rows
    scan_delimited(read_bytes(path, what="sample sheet"), str(path), sep, what="sample sheet")
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.ParserError as ex:  # e.g. a row with more cells than the header
        raise InputError(f"not a readable table: {ex}", file=str(path)) from None
    table.columns = names
    return table


def _check(table: pd.DataFrame, where: str) -> pd.DataFrame:
    if table.empty:
        raise InputError("the sample sheet lists no samples", file=where)
    for col in REQUIRED:
        if col not in table.columns:
            raise InputError(f"missing column {col!r} (required: {', '.join(REQUIRED)})", file=where, column=col)
    table = table.apply(lambda s: s.str.strip())
    for col in REQUIRED:
        empty = table[col].str.lower().isin(_MISSING)
        if empty.any():
            raise InputError(f"no {col}", file=where, column=col, row=_row(empty))

    out = pd.DataFrame({S.SAMPLE: table[S.SAMPLE], PATIENT: table[PATIENT]})
    dup = table[S.SAMPLE].duplicated()
    if dup.any():
        i = _row(dup)
        first = int(np.flatnonzero(table[S.SAMPLE].to_numpy() == table[S.SAMPLE].iloc[i - 1])[0]) + 1
        raise InputError(f"duplicate sample {table[S.SAMPLE].iloc[i - 1]!r} (first on row {first})",
                         file=where, column=S.SAMPLE, row=i)
    days = pd.to_numeric(table[S.DAY], errors="coerce")
    bad = days.isna() | (days % 1 != 0)
    if bad.any():
        i = _row(bad)
        raise InputError(f"day {table[S.DAY].iloc[i - 1]!r} is not a whole number", file=where, column=S.DAY, row=i)
    out[S.DAY] = days.astype("int64")
    out[S.GROUP] = table[S.GROUP]
    first_group: dict[str, tuple[str, int]] = {}
    for i, (patient, group) in enumerate(zip(table[PATIENT], table[S.GROUP]), start=1):
        seen = first_group.setdefault(patient, (group, i))
        if seen[0] != group:
            raise InputError(f"patient {patient!r} is in group {group!r} here and in {seen[0]!r} on row {seen[1]}",
                             file=where, column=S.GROUP, row=i)
    for col in table.columns:
        if col not in REQUIRED:
            out[col] = _typed(table[col], col, where)
    return out.reset_index(drop=True)


def _typed(values: pd.Series, col: str, where: str) -> pd.Series:
    """A clinical column as Int64, float64 or category (see the module docstring)."""
    missing = values.str.lower().isin(_MISSING)
    numbers = pd.to_numeric(values.where(~missing), errors="coerce")
    stray = numbers.isna() & ~missing
    n_present = int((~missing).sum())
    if not stray.any() and n_present:
        if values[~missing].str.fullmatch(_INT).all():
            return numbers.astype("Int64")
        return numbers.astype("float64")
    if stray.any() and (n_present - int(stray.sum())) * 2 > n_present:
        i = _row(stray)
        raise InputError(f"{values.iloc[i - 1]!r} is not a number (the column's other values are)",
                         file=where, column=col, row=i)
    return pd.Series(pd.Categorical(values.where(~missing)), index=values.index)


def _row(mask: pd.Series) -> int:
    """1-based data row of the first True."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1


def sample_measurements(sheet: pd.DataFrame) -> pd.DataFrame:
    """A sheet's clinical columns as long records: ``sample, variable, value, text``.

    One record per sample and non-missing clinical value, in sheet order: numeric columns give
    ``value`` (float) and ``text`` None; other columns give ``value`` NaN and ``text`` (str).
    """
    missing = [c for c in REQUIRED if c not in sheet.columns]
    if missing:
        raise InputError(f"missing column {missing[0]!r} (required: {', '.join(REQUIRED)})", file="<DataFrame>",
                         column=missing[0])
    parts = []
    for col in (c for c in sheet.columns if c not in REQUIRED):
        s = sheet[col]
        keep = s.notna().to_numpy()
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        parts.append(pd.DataFrame({
            S.SAMPLE: sheet[S.SAMPLE].astype(str).to_numpy()[keep],
            VARIABLE: col,
            VALUE: s[keep].astype("float64").to_numpy() if numeric else np.nan,
            TEXT: None if numeric else s[keep].astype(str).to_numpy(),
            "_order": np.flatnonzero(keep),
        }))
    if not parts:
        return pd.DataFrame({S.SAMPLE: pd.Series(dtype=object), VARIABLE: pd.Series(dtype=object),
                             VALUE: pd.Series(dtype="float64"), TEXT: pd.Series(dtype=object)})
    long = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable")
    long[TEXT] = long[TEXT].astype(object).where(long[TEXT].notna(), None)
    return long.drop(columns="_order").reset_index(drop=True)[list(MEASUREMENT_COLUMNS)]
