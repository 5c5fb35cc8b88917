"""CellPhoneDB v5 statistical analysis (method 2).

Input: the folder that ``cpdb_statistical_analysis_method.call(output_path=...)`` wrote
(``statistical_analysis_{means,pvalues,significant_means}_<suffix>.txt`` and optionally
``statistical_analysis_interaction_scores_<suffix>.txt``; ``<suffix>`` is a timestamp such
as ``11_24_2026_172137`` unless ``output_suffix`` was given), any one file in it, or the
dict of DataFrames ``call()`` returns. Each file is wide: one row per interaction
(``id_cp_interaction``, ``interacting_pair``, ``partner_a``, ``partner_b``, ``gene_a``,
``gene_b``, ``secreted``, ``receptor_a``, ``receptor_b``, ``annotation_strategy``,
``is_integrin``, ``directionality``, ``classification``; significant_means also ``rank``)
then one column per cell-type pair ``A|B``, in which partner_a's expression is taken in
cell type A and partner_b's in cell type B.

Output: one row per (interaction, ``A|B`` column): ``score`` = the means cell, ``pvalue`` =
the pvalues cell, ``significant`` = the significant_means cell is non-empty (so the number
of significant rows equals the number of non-empty cells in significant_means), ``extra`` =
``{"id_cp_interaction", "interacting_pair"[, "interaction_score"]}``.

Orientation rule (ligand on ``source``, receptor on ``target``)
--------------------------------------------------------------
1. ``directionality == "Ligand-Receptor"``: CellPhoneDB v5 curates these interactions with
   the ligand as partner_a, so keep the given order: source = A, target = B,
   ligand = partner_a, receptor = partner_b. The ``receptor_a``/``receptor_b`` flags are
   *not* used for these rows: they are per-protein annotations, and in database v5.0.0 the
   22 Ligand-Receptor interactions flagged receptor_a=True, receptor_b=False all list the
   ligand first (CD86–CTLA4, CD80–CD28, ICAM1–integrin_aLb2_complex, PVR–TIGIT,
   SEMA4D–CD72, …); swapping them would turn ICAM1→ITGAL_ITGB2 into ITGAL_ITGB2→ICAM1.
2. Any other directionality (Adhesion-Adhesion, Receptor-Receptor, Ligand-Ligand,
   Gap-Gap) or no ``directionality`` column (CellPhoneDB ≤ v4): if ``receptor_a`` is true
   and ``receptor_b`` is false, partner_a is the receptor, so the column ``A|B`` means
   cell type B sends partner_b as ligand to A: swap — source = B, target = A,
   ligand = partner_b, receptor = partner_a.
3. Otherwise (both receptors, neither, or partner_b the receptor): keep the given order.

Names: partners are ``simple:<UniProt or name>`` or ``complex:<complex name>``; both become
HGNC symbols through the CellPhoneDB database tables (``multidata_table``,
``protein_table``, ``gene_table``, ``complex_composition_table`` inside the database zip;
default the bundled ``loaders/cellphonedb-v5.0.0.zip``; the older ``gene_input.csv`` /
``complex_input.csv`` layout is read too). A complex becomes its subunit symbols sorted and
joined with ``_`` (``integrin_aLb2_complex`` → ``ITGAL_ITGB2``; a small-molecule "complex"
such as ``ProstaglandinE2_byPTGES3`` becomes its biosynthesis enzyme(s), ``PTGES3``). A
simple partner missing from the database falls back to ``gene_a``/``gene_b``.

When two CellPhoneDB interactions become the same ligand–receptor pair (in v5.0.0:
LeukotrieneC4_byLTC4S / LipoxinA4_byALOX5 → CYSLTR1, and IFNL3 with Type_III_IFNR /
IL28_receptor), each cell-type pair keeps one row: significant first, then the higher
score, then the lower p-value; ``extra`` names the CellPhoneDB interaction kept.
"""

from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .. import _schema as S
from .._resources import resource_dir
from ..errors import InputError
from ._common import Parsed, best_first, first_row, report_collisions, small_int

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
BUNDLED_DATABASE = "cellphonedb-v5.0.0.zip"
PARALLEL_BYTES = 4 << 20  # read the files in parallel above this total size
BLOCK_SIZE = 1 << 23  # pyarrow CSV block: fewer, larger chunks suit these wide tables
_TRUE = {"true", "1", "yes", "t"}


# --- database: partner name -> HGNC symbol(s) --------------------------------------------


def _database_path(database: str | os.PathLike | None) -> Path:
    path = Path(database) if database is not None else resource_dir("loaders") / BUNDLED_DATABASE
    if not path.is_file():
        raise InputError("CellPhoneDB database zip not found", file=str(path), column="database")
    return path


def partner_symbols(database: str | os.PathLike | None = None) -> Mapping[str, str]:
    """CellPhoneDB partner name (UniProt accession or complex name) → canonical symbol(s)."""
    path = _database_path(database)
    return _partner_symbols(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _partner_symbols(path: str, _mtime: int) -> Mapping[str, str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = {Path(n).name: n for n in z.namelist()}

            def table(name: str) -> pd.DataFrame:
                return pd.read_csv(io.BytesIO(z.read(names[name])), dtype="string")

            if "multidata_table.csv" in names:
                md, prot, genes, comp = (table(f) for f in ("multidata_table.csv", "protein_table.csv", "gene_table.csv", "complex_composition_table.csv"))
                gene_of_protein = genes.drop_duplicates("protein_id").set_index("protein_id")["hgnc_symbol"]
                symbol_of_md = prot.set_index("protein_multidata_id")["id_protein"].map(gene_of_protein).dropna()
                comp = comp.assign(symbol=comp["protein_multidata_id"].map(symbol_of_md)).dropna(subset=["symbol"])
                complex_symbols = comp.groupby("complex_multidata_id")["symbol"].agg(lambda s: S.SUBUNIT_SEP.join(sorted(set(s))))
                by_id = pd.concat([symbol_of_md, complex_symbols])
                by_id = by_id[~by_id.index.duplicated()]
                return dict(zip(md["name"], md["id_multidata"].map(by_id)))
            if "gene_input.csv" in names and "complex_input.csv" in names:
                genes, comp = table("gene_input.csv"), table("complex_input.csv")
                sym = genes.drop_duplicates("uniprot").set_index("uniprot")["hgnc_symbol"]
                out = dict(sym.items())
                subunit_cols = [c for c in comp.columns if c.startswith("uniprot_")]
                for name, row in zip(comp["complex_name"], comp[subunit_cols].itertuples(index=False)):
                    parts = sorted({sym.get(u) for u in row if isinstance(u, str) and sym.get(u) is not None})
                    if parts:
                        out[name] = S.SUBUNIT_SEP.join(parts)
                return out
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise InputError(f"not a readable CellPhoneDB database zip ({e})", file=path, column="database") from e
    raise InputError(
        "not a CellPhoneDB database zip (expected multidata_table.csv or gene_input.csv + complex_input.csv)",
        file=path,
        column="database",
    )


# --- reading the wide files --------------------------------------------------------------


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


def _header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8", newline="") as fh:
        line = fh.readline()
    return line.rstrip("\r\n").split("\t") if line.strip() else []


def read_wide(path: Path, role: str) -> Wide:
    """Read a CellPhoneDB output file quickly (pyarrow, all cores), with clear errors."""
    file = str(path)
    if path.stat().st_size == 0:
        raise InputError(f"the {role} file is empty", file=file)
    columns = _header(path)
    if not columns:
        raise InputError(f"the {role} file is empty", file=file)
    pairs = _check_header(columns, file, role)
    annot_cols = [c for c in columns if c in ANNOTATION_COLUMNS]
    types = {c: pa.string() for c in annot_cols}
    types.update({c: pa.float64() for c in pairs})
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
    except pa.ArrowInvalid:
        # a cell that isn't a number (or a ragged row): find it with pandas and say where
        df = _read_text(path, role)
        return from_frame(df, file, role)
    if table.num_rows == 0:
        raise InputError(f"the {role} file has a header but no interactions", file=file, row=1)
    annot = table.select(annot_cols).to_pandas()
    # all cells in one array, column after column: already the long table's order
    cells = pa.chunked_array([ch for c in pairs for ch in table.column(c).chunks], type=pa.float64()).to_numpy()
    if not cells.flags.writeable:  # one chunk is lent by Arrow read-only; the table must own its arrays
        cells = cells.copy()
    return Wide(file, annot, pairs, cells.reshape(len(pairs), table.num_rows))


def _read_text(path: Path, role: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.ParserError as e:
        raise InputError(f"the {role} file is not a tab-separated table ({str(e).strip()})", file=str(path)) from e


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


# --- locating the files ------------------------------------------------------------------


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


def load(source: Any, fmt: Any, suffix: str | None) -> tuple[dict[str, Wide], list[str], str, str | None]:
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


# --- aligning and orienting --------------------------------------------------------------


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


def _flag(values: pd.Series) -> np.ndarray:
    return np.array([str(v).strip().lower() in _TRUE for v in values], dtype=bool)


def orient(main: Wide, database: str | os.PathLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per interaction: swap flag, ligand symbol, receptor symbol (see the module docstring).

    Works on the interactions (a few thousand), not on the long table.
    """
    a = main.annot
    for col in (PARTNER_A, PARTNER_B, RECEPTOR_A, RECEPTOR_B):
        if col not in a.columns:
            raise InputError(f"missing column {col!r} in the header", file=main.file, column=col, row=0)
    symbols = partner_symbols(database)
    sides = []
    for partner, gene in ((PARTNER_A, GENE_A), (PARTNER_B, GENE_B)):
        genes = a[gene].tolist() if gene in a.columns else [""] * len(a)
        out = []
        for i, (raw, g) in enumerate(zip(a[partner].tolist(), genes)):
            kind, sep, name = str(raw).partition(":")
            name = (name if sep else kind).strip()
            if not name:
                raise InputError("empty partner name", file=main.file, column=partner, row=i + 1)
            sym = symbols.get(name)
            if sym is None and kind.strip() != "complex" and str(g).strip():
                sym = str(g).strip()  # a simple partner the database lacks: CellPhoneDB's gene name
            if sym is None:
                raise InputError(
                    f"{raw!r} is not in the CellPhoneDB database used for gene names "
                    f"(pass database= the cellphonedb.zip the run used)",
                    file=main.file,
                    column=partner,
                    row=i + 1,
                )
            out.append(sym)
        sides.append(np.array(out, dtype=object))
    ra, rb = _flag(a[RECEPTOR_A]), _flag(a[RECEPTOR_B])
    if DIRECTIONALITY in a.columns:
        ligand_receptor = np.array([str(v).strip() == LIGAND_RECEPTOR for v in a[DIRECTIONALITY]], dtype=bool)
    else:
        ligand_receptor = np.zeros(len(a), dtype=bool)
    swap = ~ligand_receptor & ra & ~rb
    ligand = np.where(swap, sides[1], sides[0])
    receptor = np.where(swap, sides[0], sides[1])
    return swap, ligand, receptor


def long_table(
    main: Wide,
    *,
    score: np.ndarray,
    pvalue: np.ndarray | None,
    significant: np.ndarray,
    extra_score: np.ndarray | None,
    database: str | os.PathLike | None,
    fallback_column: str | None = CLASSIFICATION,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """The long table (pair-major: all interactions of the first 'A|B' column, then the next).

    ``score``, ``pvalue``, ``significant`` and ``extra_score`` are already long, aligned to
    ``main``'s rows within each pair column. Returns the table and the row-aligned
    classification (pathway fallback). Built from codes: no Python loop over rows.
    """
    n_int, n_pair = len(main.annot), len(main.pairs)
    n = n_int * n_pair
    swap, ligand, receptor = orient(main, database)
    split = [p.split(PAIR_SEP) for p in main.pairs]
    cell_codes, cell_types = pd.factorize(pd.Index([s[0].strip() for s in split] + [s[1].strip() for s in split]))
    cell_codes = cell_codes.astype(small_int(len(cell_types)))  # small codes: less memory to move
    a_long, b_long = np.repeat(cell_codes[:n_pair], n_int), np.repeat(cell_codes[n_pair:], n_int)
    swap_long = np.tile(swap, n_pair)
    source_codes = np.where(swap_long, b_long, a_long)
    target_codes = np.where(swap_long, a_long, b_long)
    lig_codes, lig_cats = pd.factorize(ligand)
    rec_codes, rec_cats = pd.factorize(receptor)
    lig_codes, rec_codes = lig_codes.astype(small_int(len(lig_cats))), rec_codes.astype(small_int(len(rec_cats)))
    if pvalue is None:
        pvalue = np.full(n, np.nan)

    # two CellPhoneDB interactions that become the same ligand-receptor pair: keep one row
    # per cell-type pair (significant first, then higher score, then lower p-value)
    pair_key = lig_codes.astype(np.int64) * (len(rec_cats) + 1) + rec_codes
    shared = pd.Series(pair_key).duplicated(keep=False).to_numpy()
    keep = None
    if shared.any():
        rows = np.flatnonzero(np.tile(shared, n_pair))  # only the colliding interactions' rows
        order = best_first(score[rows], pvalue[rows], significant[rows])
        key = pd.DataFrame({"s": source_codes[rows], "t": target_codes[rows], "k": pair_key[rows % n_int]})
        drop = rows[order[key.iloc[order].duplicated().to_numpy()]]
        _report_collisions(main, shared, lig_cats[lig_codes], rec_cats[rec_codes], len(drop))
        keep = np.ones(n, dtype=bool)
        keep[drop] = False
        source_codes, target_codes = source_codes[keep], target_codes[keep]
        score, pvalue, significant = score[keep], pvalue[keep], significant[keep]
        if extra_score is not None:
            extra_score = extra_score[keep]

    def per_row(values: np.ndarray) -> np.ndarray:  # per-interaction values on the rows: tiling beats a gather
        long = np.tile(values, n_pair)
        return long if keep is None else long[keep]

    interaction_long = per_row(np.arange(n_int, dtype=small_int(n_int)))

    def cat(codes: np.ndarray, categories: Any) -> pd.Categorical:  # codes are in range by construction
        return pd.Categorical.from_codes(codes, categories=pd.Index(categories), validate=False)

    ids = main.annot[ID].to_numpy(dtype=object)
    pairs = main.annot[PAIR].to_numpy(dtype=object) if PAIR in main.annot.columns else ids
    table = pd.DataFrame(
        {
            S.SOURCE: cat(source_codes, cell_types),
            S.TARGET: cat(target_codes, cell_types),
            S.LIGAND: cat(per_row(lig_codes), lig_cats),
            S.RECEPTOR: cat(per_row(rec_codes), rec_cats),
            S.SCORE: score,
            S.PVALUE: pvalue,
            S.SIGNIFICANT: significant,
        },
        copy=False,
    )
    # per-interaction JSON {id, pair}, shared through categorical codes
    per_interaction = pd.DataFrame({ID: ids, PAIR: pairs}).to_json(orient="records", lines=True).splitlines()
    if extra_score is None:
        table[S.EXTRA] = cat(interaction_long, per_interaction)
    else:
        table[S.EXTRA] = _with_score(per_interaction, interaction_long, extra_score)
    fallback = None
    if fallback_column is not None and fallback_column in main.annot.columns:
        cls = main.annot[fallback_column]
        codes, uniq = pd.factorize(cls.where(cls.str.strip() != ""))
        fallback = pd.Series(cat(per_row(codes.astype(small_int(len(uniq)))), uniq))
    return table, fallback


def _report_collisions(main, shared: np.ndarray, ligand: np.ndarray, receptor: np.ndarray, n_dropped: int) -> None:
    ids = main.annot[ID].to_numpy(dtype=object)[shared]
    names = main.annot[PAIR].to_numpy(dtype=object)[shared] if PAIR in main.annot.columns else ids
    merged: dict[str, list[str]] = {}
    for i, name, lig, rec in zip(ids, names, ligand[shared], receptor[shared]):
        merged.setdefault(S.interaction_name(lig, rec), []).append(f"{i} ({name})")
    report_collisions(main.file, "CellPhoneDB", n_dropped, merged)


def _with_score(per_interaction: list[str], interaction: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row JSON ``{id, pair, "interaction_score": x}`` built once per distinct (interaction, score).

    Same text as ``DataFrame.to_json(orient="records", double_precision=10)`` per row: the
    numbers go through that very encoder, on the distinct values only.
    """
    score_codes, uniq = pd.factorize(score.view(np.int64))  # bit patterns: -0.0 and NaN stay as written
    numbers = pd.Series(uniq.view(np.float64)).to_json(orient="values", double_precision=10)[1:-1].split(",")
    combo, combos = pd.factorize(interaction.astype(np.int64) * max(len(uniq), 1) + score_codes)
    i, k = np.divmod(combos, max(len(uniq), 1))
    heads = [j[:-1] + f',"{SCORE_EXTRA}":' for j in per_interaction]
    text = np.array([heads[a] + numbers[b] + "}" for a, b in zip(i.tolist(), k.tolist())], dtype=object)
    return text[combo]


def check_pvalue_range(w: Wide) -> None:
    with np.errstate(invalid="ignore"):
        ok = (w.matrix >= 0) & (w.matrix <= 1)  # False for NaN too
    if not ok.all():  # one pass over all cells; the first bad column is then looked at alone
        j = first_row(~ok.all(axis=1)) - 1
        c, v = w.pairs[j], w.matrix[j]
        if np.isnan(v).any():
            raise InputError("p-value is missing", file=w.file, column=c, row=first_row(np.isnan(v)))
        row = first_row(~ok[j])
        raise InputError(f"p-value {float(v[row - 1])!r} is outside [0, 1]", file=w.file, column=c, row=row)


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


def check_scores(main: Wide) -> None:
    bad = ~np.isfinite(main.matrix)
    if bad.any():  # the first bad cell, column by column (argmax: the first True)
        j, i = divmod(int(bad.argmax()), bad.shape[1])
        what = "mean is missing" if np.isnan(main.matrix[j, i]) else "mean is not finite"
        raise InputError(what, file=main.file, column=main.pairs[j], row=i + 1)


def same_order(main: Wide, other: Wide) -> bool:
    return len(main.annot) == len(other.annot) and bool((main.annot[ID].to_numpy() == other.annot[ID].to_numpy()).all())


# --- the parser --------------------------------------------------------------------------


def parse(source: Any, *, fmt: Any, database: str | os.PathLike | None = None, suffix: str | None = None) -> Parsed:
    """Parse CellPhoneDB method-2 output (see the module docstring)."""
    wides, files, where, used_suffix = load(source, fmt, suffix)
    means, pvalues, sig = wides["means"], wides["pvalues"], wides["significant_means"]
    check_unique_ids(means)
    check_scores(means)
    check_pvalue_range(pvalues)
    for other in (pvalues, sig):
        check_pairs(means, other)
    scores = wides.get("interaction_scores")
    if scores is not None:
        check_pairs(means, scores)

    pvalue = gather(means, pvalues, None if same_order(means, pvalues) else row_order(means, pvalues))
    significant_cells = gather(means, sig, None if same_order(means, sig) else row_order(means, sig))
    return finish(means, fmt=fmt, pvalue=pvalue, significant=~np.isnan(significant_cells), scores=scores,
                  database=database, where=where, files=files, suffix=used_suffix)


def finish(means: Wide, *, fmt: Any, pvalue, significant, scores: Wide | None, database, where: str, files,
           suffix) -> Parsed:
    """The long table and its provenance, the same for methods 2 and 3 (scores: interaction_scores)."""
    score = means.matrix.reshape(-1)  # pair-major: the long order
    extra = None
    if scores is not None:
        extra = gather(means, scores, None if same_order(means, scores) else row_order(means, scores))
    table, fallback = long_table(means, score=score, pvalue=pvalue, significant=significant, extra_score=extra,
                                 database=database, fallback_column=fmt.pathway_fallback)
    db = _database_path(database)
    return Parsed(
        table=table,
        file=where,
        source_files=files,
        method=fmt.method,
        options={"database": db.name if database is None else str(db), "suffix": suffix},
        fallback_pathway=fallback,
    )
