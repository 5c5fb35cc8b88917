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

import os
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as S
from ._common import Parsed, best_first, report_collisions, small_int
from ._cpdb_files import (
    CLASSIFICATION,
    ID,
    PAIR,
    PAIR_SEP,
    SCORE_EXTRA,
    Wide,
    check_pairs,
    check_pvalue_range,
    check_scores,
    check_unique_ids,
    gather,
    read_outputs,
    read_wide,
    row_order,
    same_order,
)
from ._cpdb_orient import _database_path, orient, partner_symbols

# reading and orientation live in _cpdb_files and _cpdb_orient; these names stay importable from here
__all__ = ["finish", "long_table", "orient", "parse", "partner_symbols", "read_wide"]


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


# CellPhoneDB <= v3 (`cellphonedb method statistical_analysis|degs_analysis`) wrote fixed names into out/
V2_FILES = {"means": "means.txt", "pvalues": "pvalues.txt", "significant_means": "significant_means.txt"}
V3_DEG_FILES = {"means": "means.txt", "relevant_interactions": "relevant_interactions.txt"}


def layout(source: Any) -> str | None:
    """Which CellPhoneDB output a folder (or a file in it) holds, by its files: ``method2``
    (``statistical_analysis_*``, v4-v5), ``method3`` (``degs_analysis_*``, v4-v5), ``method2_v2``
    (``means.txt`` + ``pvalues.txt`` + ``significant_means.txt``, v2-v3) or ``method3_v3``
    (``means.txt`` + ``relevant_interactions.txt``, v3); None for a dict or DataFrame."""
    from pathlib import Path

    from ..errors import InputError

    if isinstance(source, (dict, pd.DataFrame)) or not isinstance(source, (str, os.PathLike)):
        return None
    path = Path(source)
    if not path.exists():
        raise InputError("no such file or folder", file=str(path))
    folder = path if path.is_dir() else path.parent
    names = {p.name for p in folder.iterdir() if p.is_file()}
    if path.is_file():  # the file named says which run
        n = path.name
        if n.startswith("statistical_analysis_"):
            return "method2"
        if n.startswith("degs_analysis_"):
            return "method3"
        if n in ("relevant_interactions.txt",) or (n in ("means.txt", "significant_means.txt", "deconvoluted.txt")
                                                    and "relevant_interactions.txt" in names and "pvalues.txt" not in names):
            return "method3_v3"
        if n in ("means.txt", "pvalues.txt", "significant_means.txt", "deconvoluted.txt"):
            return "method2_v2"
    kinds = []
    if any(n.startswith("statistical_analysis_means_") for n in names):
        kinds.append("method2")
    if any(n.startswith("degs_analysis_means_") for n in names):
        kinds.append("method3")
    if set(V2_FILES.values()) <= names:
        kinds.append("method2_v2")
    elif set(V3_DEG_FILES.values()) <= names:
        kinds.append("method3_v3")
    if len(kinds) > 1:
        raise InputError(f"the folder holds outputs of several CellPhoneDB runs ({', '.join(kinds)}); "
                         f"give one of their files instead of the folder", file=str(folder))
    if not kinds and "means.txt" in names:
        raise InputError("means.txt without pvalues.txt or relevant_interactions.txt: CellPhoneDB method 1 "
                         "(no statistics) is not read; run method 2 or 3", file=str(folder))
    return kinds[0] if kinds else None


def parse(source: Any, *, fmt: Any, database: str | os.PathLike | None = None, suffix: str | None = None) -> Parsed:
    """Parse CellPhoneDB output: method 2 (see the module docstring), or method 3 when the folder
    holds DEG-based output (then as :mod:`commgraph.formats.cellphonedb_deg`); v4-v5 file names
    (``statistical_analysis_means_<suffix>.txt``) or v2-v3 ones (``means.txt``, ``pvalues.txt``,
    ``significant_means.txt``; ``relevant_interactions.txt`` for v3 DEG). Outputs without
    ``directionality`` (before v5) are oriented by the receptor flags alone (rule 2)."""
    import dataclasses
    from pathlib import Path

    from . import get_format

    kind = layout(source)
    if kind is not None and kind.endswith(("_v2", "_v3")) and Path(source).is_file():
        source = Path(source).parent
    if kind in ("method3", "method3_v3"):
        from . import cellphonedb_deg

        deg = get_format("cellphonedb_deg")
        if kind == "method3_v3":
            deg = dataclasses.replace(deg, files=V3_DEG_FILES, optional_files=())
        parsed = cellphonedb_deg.parse(source, fmt=deg, database=database, suffix=suffix)
        parsed.options["layout"] = kind
        return parsed
    if kind == "method2_v2":
        fmt = dataclasses.replace(fmt, files=V2_FILES, optional_files=())
    wides, files, where, used_suffix = read_outputs(source, fmt, suffix)
    means, pvalues, sig = wides["means"], wides["pvalues"], wides["significant_means"]
    check_unique_ids(means)
    check_scores(means, fmt.score.get("range"))
    check_pvalue_range(pvalues)
    for other in (pvalues, sig):
        check_pairs(means, other)
    scores = wides.get("interaction_scores")
    if scores is not None:
        check_pairs(means, scores)

    pvalue = gather(means, pvalues, None if same_order(means, pvalues) else row_order(means, pvalues))
    significant_cells = gather(means, sig, None if same_order(means, sig) else row_order(means, sig))
    parsed = finish(means, fmt=fmt, pvalue=pvalue, significant=~np.isnan(significant_cells), scores=scores,
                    database=database, where=where, files=files, suffix=used_suffix)
    if kind == "method2_v2":
        parsed.options["layout"] = kind
    return parsed


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
        options={"database": db.name if database is None else str(db), "suffix": suffix or None},
        fallback_pathway=fallback,
    )

