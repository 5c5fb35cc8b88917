"""Helpers the parsers share: reading files with clear errors, checks, subunits, extra JSON.

Every check raises :class:`~commgraph.errors.InputError` naming the file, the column and
the first row at fault (data rows counted from 1, header not counted).
"""

from __future__ import annotations

import csv
import io
import json
import re
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


# name columns are read as written: a cell type called NA or None is a name (see read_delimited)
UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_DELIMITERS = ",\t;"
_CONTROL = np.zeros(256, dtype=bool)  # byte -> is a control character a field may not hold
_CONTROL[[*range(32), 127]] = True
_CONTROL[[9, 10, 13]] = False


def number(x: Any) -> str:
    """A number as people write it in a message (``-1.0``, ``1e+308``, ``inf``), never ``np.float64(…)``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return repr(x)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def _line_of(data: bytes, pos: int) -> tuple[int, int]:
    """(0-based line, offset of that line's start) of byte ``pos``."""
    line = data.count(b"\n", 0, pos)
    start = data.rfind(b"\n", 0, pos) + 1
    return line, start


def _row_of_line(data: bytes, line: int) -> int:
    """Data row (1-based; header = 0) of 0-based physical line ``line``, not counting blank lines
    (pandas skips them). Only for files without quotes, where a line is a row."""
    if line == 0:
        return 0
    blank = 0
    pos = 0
    for i in range(line):
        end = data.index(b"\n", pos)
        if data[pos:end] in (b"", b"\r"):
            blank += 1
        pos = end + 1
    return line - blank


def scan_delimited(data: bytes, file: str, sep: str, *, what: str = "file") -> list[str]:
    """Check the bytes of a delimited text file and return its header's names.

    Refused, naming the row (and column where there is one): a NUL byte or another control
    character (tab, line feed and carriage return aside), a byte that isn't UTF-8, a carriage
    return without a line feed, a file that doesn't end with a line break (cut short inside its
    last line), a quote that never closes or stands inside an unquoted field, a row with more or
    fewer fields than the header, a name that appears twice in the header. A UTF-8 byte-order
    mark must have been removed (``data`` starts after it).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"the {what} is UTF-16 encoded; save it as UTF-8", file=file, row=0)
    arr = np.frombuffer(data, dtype=np.uint8)
    control = _CONTROL[arr]  # NUL and the other control bytes but tab, LF and CR
    if control.any():
        pos = int(np.flatnonzero(control)[0])
        line, start = _line_of(data, pos)
        what_byte = "a NUL byte (\\x00)" if data[pos] == 0 else f"a control character (\\x{data[pos]:02x})"
        raise InputError(f"holds {what_byte} inside a field", file=file,
                         column=_field_at(data, start, pos, sep, _first_line_fields(data, sep)),
                         row=_row_of_line(data, line))
    text = None
    if len(arr) and arr.max() >= 128:  # not plain ASCII: must be UTF-8
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line, start = _line_of(data, e.start)
            raise InputError(f"byte 0x{data[e.start]:02x} is not UTF-8 (save the {what} as UTF-8)", file=file,
                             column=_field_at(data, start, e.start, sep, _first_line_fields(data, sep)),
                             row=_row_of_line(data, line)) from None
    cr = np.flatnonzero(arr == 13)
    if len(cr):
        after = cr + 1
        lone = (after >= len(arr)) | (arr[np.minimum(after, len(arr) - 1)] != 10)
        if lone.any():
            line, _ = _line_of(data, int(cr[lone][0]))
            raise InputError("holds a carriage return (\\r) that ends no line", file=file, row=_row_of_line(data, line))
    if not data.endswith(b"\n"):
        last = data.count(b"\n")
        raise InputError(
            f"the {what} ends inside its last line (no line break after it): cut short? "
            "A complete file ends with a line break", file=file, row=_row_of_line(data, last) if last else 0)
    if b'"' in data:
        return _scan_quoted(text if text is not None else data.decode("ascii"), file, sep)
    return _scan_plain(data, file, sep)


def _first_line_fields(data: bytes, sep: str) -> list[str]:
    end = data.find(b"\n")
    line = data[: end if end >= 0 else len(data)].decode("utf-8", errors="replace")
    line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", line)  # only to name a column: the error is elsewhere
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:
        return line.split(sep)


def _field_at(data: bytes, start: int, pos: int, sep: str, header: list[str]) -> str | None:
    i = data.count(sep.encode(), start, pos)
    return header[i] if i < len(header) else None


def _check_header(header: list[str], file: str) -> list[str]:
    seen = set()
    for c in header:
        if c in seen:
            raise InputError("column name appears twice in the header", file=file, column=c, row=0)
        seen.add(c)
    return header


def _field_count_error(file: str, header: list[str], n: int, row: int, last: bool) -> InputError:
    m = len(header)
    if n < m:
        cut = ": the file looks cut short" if last else ""
        return InputError(f"row has {n} field(s), the header has {m}{cut}", file=file, column=header[n], row=row)
    return InputError(f"row has {n} fields, the header has {m}", file=file, row=row)


def _scan_plain(data: bytes, file: str, sep: str) -> list[str]:
    """No quotes anywhere: every line is a row; count separators per line (vectorised)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    seps = np.flatnonzero(arr == ord(sep))
    fields = np.searchsorted(seps, ends) - np.searchsorted(seps, starts) + 1
    length = ends - starts
    blank = (length == 0) | ((length == 1) & (arr[np.minimum(starts, len(arr) - 1)] == 13))
    header = _check_header(data[: ends[0]].decode("utf-8").rstrip("\r").split(sep), file)
    bad = ~blank & (fields != fields[0])
    bad[0] = False
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = i - int(blank[:i].sum())
        last = not (~blank[i + 1:]).any()
        raise _field_count_error(file, header, int(fields[i]), row, last)
    return header


def _scan_quoted(text: str, file: str, sep: str) -> list[str]:
    """Quotes somewhere: parse as RFC 4180 (strict) and check each field holding a quote was quoted."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', doublequote=True, strict=True)
    header: list[str] | None = None
    row = -1
    cursor = 0
    try:
        for record in reader:
            if not record:  # a blank line: pandas skips it
                continue
            row += 1
            if header is None:
                header = record
            elif len(record) != len(header):
                rest = reader.line_num
                last = text.count("\n") <= rest
                raise _field_count_error(file, header, len(record), row, last)
            for j, value in enumerate(record):
                if '"' in value:  # legal only as a quoted field with its quotes doubled
                    quoted = '"' + value.replace('"', '""') + '"'
                    found = text.find(quoted, cursor)
                    if found < 0:
                        raise InputError(
                            "a quote (\") stands inside an unquoted field (a field with a quote in it must be quoted "
                            "and the quote doubled)", file=file, column=header[j] if row and j < len(header) else None,
                            row=row)
                    cursor = found + len(quoted)
    except csv.Error as e:
        row = max(row, 0) + (0 if header is None else 1)
        msg = str(e)
        if "end of data" in msg or "EOF" in msg:
            raise InputError("unbalanced quotes: a quote (\") opened here never closes (or the file is cut short)",
                             file=file, row=row if header is not None else 0) from None
        raise InputError(f"unbalanced quotes: a quoted field is followed by text before the next separator ({msg})", file=file,
                         row=row if header is not None else 0) from None
    if header is None:
        raise InputError("the file is empty", file=file)
    return _check_header(header, file)


def sniff_separator(data: bytes, path: Path) -> str:
    """The delimiter from the extension (.csv comma, .tsv/.txt/.tab tab), else sniffed (, tab ;)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return ","
    if suffix in (".tsv", ".txt", ".tab"):
        return "\t"
    sample = data[:65536].decode("utf-8", errors="replace")
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_bytes(path: Path, *, what: str = "file") -> bytes:
    """A file's bytes without a UTF-8 byte-order mark; missing and empty files are errors."""
    if not path.is_file():
        raise InputError(f"{what} not found", file=str(path))
    data = path.read_bytes()
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    if not data.strip():
        raise InputError(f"the {what} is empty", file=str(path))
    return data


def read_delimited(path: Path, *, sep: str | None = None, names: Iterable[str] = (), what: str = "file") -> pd.DataFrame:
    """Read a CSV/TSV file (delimiter from ``sep`` or the extension) after :func:`scan_delimited`.

    ``names`` are the columns holding names (cell types, genes, samples, pathways): read as text,
    exactly as written (``NA`` and ``None`` are names there; an empty cell is ``""``). Every other
    column treats pandas' usual markers (``NA``, ``NaN``, empty, …) as missing.
    """
    data = read_bytes(path, what=what)
    if sep is None:
        sep = sniff_separator(data, path)
    header = scan_delimited(data, str(path), sep, what=what)
    text = [c for c in header if c in set(names)]
    try:
        df = pd.read_csv(io.BytesIO(data), sep=sep, engine="c", dtype={c: str for c in text}, encoding="utf-8")
        blank = [c for c in text if df[c].isna().any()]
        if blank:  # "NA", "None", "" … read as missing: read those name columns again, as written
            exact = pd.read_csv(io.BytesIO(data), sep=sep, engine="c", usecols=blank, dtype=str, keep_default_na=False,
                                encoding="utf-8")
            for c in blank:
                df[c] = exact[c].to_numpy()
        return df
    except pd.errors.EmptyDataError as e:
        raise InputError("the file is empty", file=str(path)) from e
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"can't be read as a delimited table ({str(e).strip().splitlines()[0]})", file=str(path)) from e


def clean_names(values: pd.Series | pd.Categorical) -> pd.Categorical:
    """Names (cell types, genes, samples) as text with surrounding white space removed: the one
    trimming rule of every reader (worked on the distinct values)."""
    if isinstance(values, pd.Series) and not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(str)
    cat = categorical(values)
    return map_categorical(cat, {c: str(c).strip() for c in cat.categories})


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
        raise InputError(f"p-value {number(p[i])} is outside [0, 1]", file=file, column=column, row=row)


def check_scores(x: np.ndarray, *, file: str, column: str, valid: Any = None) -> None:
    """Scores must be finite and, where the format declares a range (``valid``: [low, high], either
    end null for none), inside it."""
    bad = ~np.isfinite(x)
    if bad.any():
        row = first_row(bad)
        what = "missing" if np.isnan(x[row - 1]) else f"{number(x[row - 1])}, not a finite number"
        raise InputError(f"score is {what}", file=file, column=column, row=row)
    check_range(x, valid, file=file, column=column)


def check_range(x: np.ndarray, valid: Any, *, file: str, column: str, what: str = "score") -> None:
    """Values (NaN allowed) inside the declared range ``valid`` = [low, high] (null: open end)."""
    if not valid:
        return
    low, high = (None if v is None else float(v) for v in valid)
    with np.errstate(invalid="ignore"):
        outside = np.zeros(len(x), dtype=bool)
        if low is not None:
            outside |= x < low
        if high is not None:
            outside |= x > high
    if outside.any():
        row = first_row(outside)
        span = f"[{f'{low:g}' if low is not None else '-inf'}, {f'{high:g}' if high is not None else 'inf'}]"
        raise InputError(f"{what} {number(x[row - 1])} is outside the format's range {span}", file=file, column=column,
                         row=row)


def check_options(function: Any, options: dict[str, Any], *, format: str) -> dict[str, Any]:
    """Options given as text (``-o threshold=0.01``) or values, checked against the parser's defaults:
    a float option takes a finite number (``threshold`` one in [0, 1]), a bool option true/false.
    Returns the options with numbers and booleans as such."""
    import inspect

    params = inspect.signature(function).parameters
    out = dict(options)
    for name, value in options.items():
        default = params[name].default if name in params else None
        if isinstance(default, bool):
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                value = value.strip().lower() in _TRUE
            if not isinstance(value, (bool, np.bool_)):
                raise InputError(f"option {name!r} of format {format!r} must be true or false, not {value!r}", column=name)
            out[name] = bool(value)
        elif isinstance(default, float):
            try:
                v = float(value)
            except (TypeError, ValueError, OverflowError):
                raise InputError(f"option {name!r} of format {format!r} must be a number, not {value!r}", column=name) from None
            if isinstance(value, bool) or not np.isfinite(v):
                raise InputError(f"option {name!r} of format {format!r} must be a finite number, not {value!r}", column=name)
            if name == "threshold" and not 0 <= v <= 1:
                raise InputError(f"option 'threshold' of format {format!r} is a p-value (or rank) cut-off in [0, 1], "
                                 f"not {number(v)}", column=name)
            out[name] = v
    return out


def check_day(day: Any) -> int:
    """A day as a whole number that fits the stores' 64-bit integers."""
    value = day
    if isinstance(day, str):  # '7', '1e30' as a manifest writes them
        try:
            value = int(day.strip())
        except ValueError:
            try:
                value = float(day)
            except ValueError:
                value = None
    try:
        as_int = int(value)
        whole = as_int == value
    except (TypeError, ValueError, OverflowError):
        whole = False
    if isinstance(day, bool) or not whole:
        raise InputError(f"day {day!r} is not a whole number", column=S.DAY)
    if not S.INT64_MIN <= as_int <= S.INT64_MAX:
        raise InputError(f"day {day!r} is out of range (a day is a 64-bit integer: {S.INT64_MIN} to {S.INT64_MAX})",
                         column=S.DAY)
    return as_int


_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n"})


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
