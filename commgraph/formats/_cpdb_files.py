"""CellPhoneDB output files: finding them, reading the wide tables (one row per interaction,
one column per ``A|B`` cell-type pair) and checking and aligning them. Used by the
``cellphonedb`` and ``cellphonedb_deg`` parsers (see :mod:`commgraph.formats.cellphonedb`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from ._common import first_row, number, read_bytes, scan_delimited

# native CellPhoneDB columns (not canonical names)
ID = "id_cp_interaction"
PAIR = "interacting_pair"
PARTNER_A, PARTNER_B = "partner_a", "partner_b"
GENE_A, GENE_B = "gene_a", "gene_b"
RECEPTOR_A, RECEPTOR_B = "receptor_a", "receptor_b"
DIRECTIONALITY = "directionality"
CLASSIFICATION = "classification"
LIGAND_RECEPTOR = "Ligand-Receptor"
SCORE_EXTRA = "interaction_score"
ANNOTATION_COLUMNS = frozenset(
    {ID, PAIR, PARTNER_A, PARTNER_B, GENE_A, GENE_B, "secreted", RECEPTOR_A, RECEPTOR_B, "annotation_strategy",
     "is_integrin", DIRECTIONALITY, CLASSIFICATION, "rank"}
)
PAIR_SEP = "|"
PARALLEL_BYTES = 4 << 20  # read the files in parallel above this total size
BLOCK_SIZE = 1 << 23  # pyarrow CSV block: fewer, larger chunks suit these wide tables


@dataclass
class Wide:
    """One wide CellPhoneDB table: annotation columns plus the 'A|B' cells as one matrix."""

    file: str
    annot: pd.DataFrame  # annotation columns as strings, rows in file order
    pairs: list[str]  # 'A|B' headers in file order
    matrix: np.ndarray  # float64 (pair, interaction), NaN = empty cell; raveled it is the long order
    values: dict[str, np.ndarray] = field(init=False)  # header -> its matrix row (a view)

    def __post_init__(self) -> None:
        self.values = dict(zip(self.pairs, self.matrix))

    def ids(self) -> pd.Index:
        return pd.Index(self.annot[ID])


def _check_header(columns: list[str], file: str, role: str) -> list[str]:
    if ID not in columns:
        raise InputError(f"missing column {ID!r} (the {role} file's header)", file=file, column=ID, row=0)
    seen = set()
    for c in columns:
        if c in seen:
            raise InputError("column appears twice in the header", file=file, column=c, row=0)
        seen.add(c)
    pairs = [c for c in columns if c not in ANNOTATION_COLUMNS]
    for c in pairs:
        parts = c.split(PAIR_SEP)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError(
                f"header {c!r} is neither a CellPhoneDB annotation column nor a cell-type pair 'A{PAIR_SEP}B'",
                file=file,
                column=c,
                row=0,
            )
    return pairs


def read_wide(path: Path, role: str) -> Wide:
    """Read a CellPhoneDB output file quickly (pyarrow, all cores), with clear errors."""
    file = str(path)
    if path.stat().st_size == 0:
        raise InputError(f"the {role} file is empty", file=file)
    data = read_bytes(path, what=f"{role} file")  # without a UTF-8 byte-order mark
    columns = scan_delimited(data, file, "\t", what=f"{role} file")  # NUL, encoding, quotes, ragged or cut rows
    if not columns or columns == [""]:
        raise InputError(f"the {role} file is empty", file=file)
    pairs = _check_header(columns, file, role)
    annot_cols = [c for c in columns if c in ANNOTATION_COLUMNS]
    types = {c: pa.string() for c in annot_cols}
    types.update({c: pa.float64() for c in pairs})
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
    except pa.ArrowInvalid:
        # a cell that isn't a number (or a ragged row): find it with pandas and say where
        df = _read_text(data, file, role)
        return from_frame(df, file, role)
    if table.num_rows == 0:
        raise InputError(f"the {role} file has a header but no interactions", file=file, row=1)
    annot = table.select(annot_cols).to_pandas()
    # all cells in one array, column after column: already the long table's order
    cells = pa.chunked_array([ch for c in pairs for ch in table.column(c).chunks], type=pa.float64()).to_numpy()
    if not cells.flags.writeable:  # one chunk is lent by Arrow read-only; the table must own its arrays
        cells = cells.copy()
    return Wide(file, annot, pairs, cells.reshape(len(pairs), table.num_rows))


def _read_text(data: bytes, file: str, role: str) -> pd.DataFrame:
    import io

    try:
        return pd.read_csv(io.BytesIO(data), sep="\t", dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, ValueError) as e:
        raise InputError(f"the {role} file is not a tab-separated table ({str(e).strip().splitlines()[0]})",
                         file=file) from e


def from_frame(df: pd.DataFrame, file: str, role: str) -> Wide:
    """A wide table given as a DataFrame (the dict ``call()`` returns, or the slow path)."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{role} must be a DataFrame, not {type(df).__name__}", file=file)
    columns = [str(c) for c in df.columns]
    pairs = _check_header(columns, file, role)
    if len(df) == 0:
        raise InputError(f"the {role} table has a header but no interactions", file=file, row=1)
    df = df.reset_index(drop=True)
    df.columns = columns
    annot = df[[c for c in columns if c in ANNOTATION_COLUMNS]].astype(object)
    annot = annot.where(annot.notna(), "").astype(str)
    matrix = np.empty((len(pairs), len(df)), dtype="float64")
    for j, c in enumerate(pairs):
        s = df[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            matrix[j] = s.to_numpy(dtype="float64", na_value=np.nan)
            continue
        text = s.astype("string").str.strip()
        num = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = num.isna() & text.notna() & (text != "") & ~text.str.upper().isin(["NA", "NAN"])
        if bad.any():
            row = first_row(bad)
            raise InputError(f"{s.iloc[row - 1]!r} is not a number", file=file, column=c, row=row)
        matrix[j] = num.to_numpy(dtype="float64", na_value=np.nan)
    return Wide(file, annot, pairs, matrix)


def _split_pattern(pattern: str) -> tuple[str, str]:
    head, _, tail = pattern.partition("{suffix}")
    return head, tail


def locate(source: Any, files: Mapping[str, str], optional: tuple[str, ...], suffix: str | None) -> tuple[dict[str, Path], str]:
    """Role → path for a CellPhoneDB output folder (or a file in it), and the suffix used."""
    path = Path(source)
    if not path.exists():
        raise InputError("no such file or folder", file=str(path))
    folder = path if path.is_dir() else path.parent
    if path.is_file() and suffix is None:
        for pattern in files.values():
            head, tail = _split_pattern(pattern)
            if path.name.startswith(head) and path.name.endswith(tail) and len(path.name) > len(head) + len(tail):
                suffix = path.name[len(head): len(path.name) - len(tail)]
                break
        else:
            raise InputError(
                f"not a CellPhoneDB output file; expected a name like {', '.join(p.replace('{suffix}', '*') for p in files.values())}",
                file=str(path),
            )
    first_role = next(iter(files))
    head, tail = _split_pattern(files[first_role])
    if suffix is None:
        found = sorted(p.name[len(head): len(p.name) - len(tail)] for p in folder.glob(head + "*" + tail))
        if not found:
            raise InputError(f"no file matching {head}*{tail} (the {first_role} file)", file=str(folder))
        if len(found) > 1:
            raise InputError(
                f"several CellPhoneDB runs match {head}*{tail}: suffixes {', '.join(found)}; choose one with suffix=",
                file=str(folder),
            )
        suffix = found[0]
    located = {}
    for role, pattern in files.items():
        p = folder / pattern.replace("{suffix}", suffix)
        if p.is_file():
            located[role] = p
        elif role not in optional:
            raise InputError(
                f"the {role} file is missing: expected {p.name} (pattern {pattern.replace('{suffix}', '*')})",
                file=str(folder),
            )
    return located, suffix


def read_outputs(source: Any, fmt: Any, suffix: str | None) -> tuple[dict[str, Wide], list[str], str, str | None]:
    """Wide tables by role from a folder/file or a dict, plus source files and a name for errors."""
    roles = dict(fmt.files)
    optional = tuple(fmt.optional_files)
    if isinstance(source, Mapping):
        where = f"<{fmt.name} dict>"
        missing = [r for r in roles if r not in optional and r not in source]
        if missing:
            raise InputError(f"the dict lacks key {missing[0]!r} (it needs {', '.join(r for r in roles if r not in optional)})", file=where)
        wides = {r: from_frame(source[r], f"{where}[{r!r}]", r) for r in roles if r in source and source[r] is not None}
        return wides, [], where, None
    if isinstance(source, pd.DataFrame):
        raise InputError(f"{fmt.name} needs a folder, a file in it or the dict call() returns, not one DataFrame", file=label_of(source))
    located, suffix = locate(source, roles, optional, suffix)
    if sum(p.stat().st_size for p in located.values()) > PARALLEL_BYTES:
        with ThreadPoolExecutor(max_workers=len(located)) as pool:  # pyarrow releases the GIL
            done = {role: pool.submit(read_wide, p, role) for role, p in located.items()}
        wides = {role: f.result() for role, f in done.items()}
    else:  # small files: starting threads costs more than it saves
        wides = {role: read_wide(p, role) for role, p in located.items()}
    return wides, [str(p) for p in located.values()], str(located[next(iter(roles))]), suffix


def label_of(source: Any) -> str:
    return f"<{type(source).__name__}>"


def check_unique_ids(w: Wide) -> None:
    ids = w.annot[ID]
    empty = ids.str.strip() == ""
    if empty.any():
        raise InputError("empty interaction id", file=w.file, column=ID, row=first_row(empty))
    dup = ids.duplicated()
    if dup.any():
        row = first_row(dup)
        raise InputError(f"interaction {ids.iloc[row - 1]} appears twice", file=w.file, column=ID, row=row)


def row_order(main: Wide, other: Wide, *, complete: bool = True) -> np.ndarray:
    """Positions in ``other`` of ``main``'s interactions (-1 where absent and allowed)."""
    check_unique_ids(other)
    idx = other.ids().get_indexer(main.ids())
    if complete and (idx < 0).any():
        row = first_row(idx < 0)
        raise InputError(
            f"interaction {main.annot[ID].iloc[row - 1]} of {main.file} is missing here", file=other.file, column=ID
        )
    return idx


def check_pairs(main: Wide, other: Wide) -> None:
    missing = [c for c in main.pairs if c not in other.values]
    if missing:
        raise InputError(f"cell-type pair column {missing[0]!r} of {main.file} is missing here", file=other.file, column=missing[0], row=0)


def check_pvalue_range(w: Wide) -> None:
    with np.errstate(invalid="ignore"):
        ok = (w.matrix >= 0) & (w.matrix <= 1)  # False for NaN too
    if not ok.all():  # one pass over all cells; the first bad column is then looked at alone
        j = first_row(~ok.all(axis=1)) - 1
        c, v = w.pairs[j], w.matrix[j]
        if np.isnan(v).any():
            raise InputError("p-value is missing", file=w.file, column=c, row=first_row(np.isnan(v)))
        row = first_row(~ok[j])
        raise InputError(f"p-value {number(v[row - 1])} is outside [0, 1]", file=w.file, column=c, row=row)


def gather(main: Wide, other: Wide, order: np.ndarray | None, *, fill: float = np.nan) -> np.ndarray:
    """``other``'s cells as one long array in ``main``'s (pair-major, main-row) order."""
    where = {c: j for j, c in enumerate(other.pairs)}
    cols = np.array([where.get(c, -1) for c in main.pairs], dtype=np.intp)
    if order is None and np.array_equal(cols, np.arange(len(other.pairs))):
        return other.matrix.reshape(-1)  # same rows and columns in the same order: no copy
    out = np.full((len(main.pairs), len(main.annot)), fill, dtype="float64")
    have = cols >= 0
    if order is None:
        out[have] = other.matrix[cols[have]]
    else:
        rows = order >= 0
        out[np.ix_(have, rows)] = other.matrix[np.ix_(cols[have], order[rows])]
    return out.reshape(-1)


def check_scores(main: Wide, valid=None) -> None:
    """Means are finite and inside the format's declared range (``valid`` = [low, high], null: open)."""
    bad = ~np.isfinite(main.matrix)
    if valid:
        low, high = valid
        with np.errstate(invalid="ignore"):
            if low is not None:
                bad |= main.matrix < float(low)
            if high is not None:
                bad |= main.matrix > float(high)
    if bad.any():  # the first bad cell, column by column (argmax: the first True)
        j, i = divmod(int(bad.argmax()), bad.shape[1])
        v = main.matrix[j, i]
        what = ("mean is missing" if np.isnan(v) else "mean is not finite" if not np.isfinite(v)
                else f"mean {number(v)} is outside the format's range [{'-inf' if valid[0] is None else f'{float(valid[0]):g}'}, "
                     f"{'inf' if valid[1] is None else f'{float(valid[1]):g}'}]")
        raise InputError(what, file=main.file, column=main.pairs[j], row=i + 1)


def same_order(main: Wide, other: Wide) -> bool:
    return len(main.annot) == len(other.annot) and bool((main.annot[ID].to_numpy() == other.annot[ID].to_numpy()).all())

