"""CellChat: the data frame ``subsetCommunication(cellchat)`` returns, saved as CSV.

Columns (CellChat v1/v2): ``source, target, ligand, receptor, prob, pval,
interaction_name, interaction_name_2, pathway_name, annotation, evidence``. ``write.csv``
adds a leading unnamed row-name column, which is ignored.

``ligand`` and ``receptor`` are CellChatDB names: a gene symbol (``ICAM1``) or a complex
name (``ITGAL_ITGB2``, ``TGFbR1_R2``, ``IL23 complex``). Complex names become their subunit
symbols, sorted and joined with ``_``, through CellChatDB's complex table (default the
bundled human ``loaders/cellchatdb_complex.csv``; ``complexes=`` another one, e.g. the
mouse table). ``score`` = ``prob``; ``pvalue`` = ``pval``; ``significant`` = ``pval <=
threshold`` (0.05, subsetCommunication's default ``thresh``, so its default output is all
significant); ``pathway`` = ``pathway_name``; ``extra`` = ``{"interaction_name": ...}``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as S
from .._resources import resource_dir
from ..errors import InputError
from ._common import (
    Parsed,
    best_first,
    check_duplicates,
    check_pvalues,
    check_scores,
    check_text,
    clean_names,
    extra_json,
    map_categorical,
    read_delimited,
    report_collisions,
    require_columns,
    require_rows,
    to_float,
)

INTERACTION_NAME = "interaction_name"
# text columns besides the mapped names: read as written ("NA" is a name, not missing)
TEXT_COLUMNS = (INTERACTION_NAME, "interaction_name_2", "annotation", "evidence")


def complex_subunits(path: str | os.PathLike) -> dict[str, str]:
    """CellChatDB complex name → sorted subunit symbols joined with '_'."""
    p = Path(path)
    if not p.is_file():
        raise InputError("CellChatDB complex table not found", file=str(p), column="complexes")
    return _complex_subunits(str(p), p.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _complex_subunits(path: str, _mtime: int) -> dict[str, str]:
    table = pd.read_csv(path, dtype="string")
    subunit_cols = [c for c in table.columns if c.lower().startswith("subunit")]
    if not subunit_cols:
        raise InputError("no subunit_* columns", file=path, column="subunit_1", row=0)
    stacked = table[subunit_cols].stack().str.strip()
    stacked = stacked[stacked != ""]
    names = table.iloc[:, 0]
    return {names[i]: S.SUBUNIT_SEP.join(sorted(set(s))) for i, s in stacked.groupby(level=0)}


def parse(source: Any, *, fmt: Any, threshold: float = 0.05, complexes: str | os.PathLike | None = None) -> Parsed:
    """Parse a CellChat subsetCommunication() table (see the module docstring)."""
    if isinstance(source, pd.DataFrame):
        df, where, files = source, "<cellchat DataFrame>", []
    else:
        path = Path(source)
        names = tuple(native for native, canonical in fmt.columns.items() if canonical not in (S.SCORE, S.PVALUE)) + TEXT_COLUMNS
        df = read_delimited(path, sep="\t" if path.suffix.lower() in (".tsv", ".txt") else ",", names=names,
                            what="CellChat table")
        where, files = str(path), [str(path)]
    if df.shape[1] > 0 and (str(df.columns[0]).startswith("Unnamed: 0") or str(df.columns[0]).strip() == ""):
        df = df.iloc[:, 1:]  # write.csv row names
    require_rows(df, where)
    df = df.reset_index(drop=True)
    native = {canonical: col for col, canonical in fmt.columns.items()}
    keys = [native[S.SOURCE], native[S.TARGET], native[S.LIGAND], native[S.RECEPTOR]]
    require_columns(df, keys + [native[S.SCORE], native[S.PVALUE]], where)
    check_text(df, keys, where)
    check_duplicates(df, keys, where, column=native[S.RECEPTOR])

    score = to_float(df[native[S.SCORE]], file=where, column=native[S.SCORE])
    check_scores(score, file=where, column=native[S.SCORE], valid=fmt.score.get("range"))
    pvalue = to_float(df[native[S.PVALUE]], file=where, column=native[S.PVALUE])
    check_pvalues(pvalue, file=where, column=native[S.PVALUE])
    with np.errstate(invalid="ignore"):
        significant = pvalue <= float(threshold)

    table_path = Path(complexes) if complexes is not None else resource_dir("loaders") / fmt.complexes
    subunits = complex_subunits(table_path)
    table = pd.DataFrame(
        {
            S.SOURCE: clean_names(df[native[S.SOURCE]]),
            S.TARGET: clean_names(df[native[S.TARGET]]),
            S.LIGAND: map_categorical(clean_names(df[native[S.LIGAND]]), subunits),
            S.RECEPTOR: map_categorical(clean_names(df[native[S.RECEPTOR]]), subunits),
            S.SCORE: score,
            S.PVALUE: pvalue,
            S.SIGNIFICANT: significant,
            S.EXTRA: extra_json(df[[INTERACTION_NAME]]) if INTERACTION_NAME in df.columns else pd.Series(pd.NA, index=df.index, dtype="string"),
        }
    )
    if native.get(S.PATHWAY) in df.columns:
        table[S.PATHWAY] = df[native[S.PATHWAY]].to_numpy()
    table = _merge_collisions(table, df, native, where)
    return Parsed(
        table=table,
        file=where,
        source_files=files,
        method=fmt.method,
        options={"threshold": float(threshold), "complexes": table_path.name if complexes is None else str(table_path)},
    )


def _merge_collisions(table: pd.DataFrame, df: pd.DataFrame, native: dict, where: str) -> pd.DataFrame:
    """Two CellChatDB interactions whose complexes have the same subunits (CALCRL_RAMP1 and
    CALCR_RAMP1) become one canonical pair: keep one row per cell-type pair, as the CellPhoneDB
    loader does, and report which."""
    key = [S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR]
    if not table.duplicated(key).any():
        return table
    ranked = table.iloc[best_first(table[S.SCORE].to_numpy(), table[S.PVALUE].to_numpy(),
                                   table[S.SIGNIFICANT].to_numpy())]
    drop = ranked.index[ranked.duplicated(key)]
    shared = table.duplicated(key, keep=False).to_numpy()
    names = (df[INTERACTION_NAME].astype(str) if INTERACTION_NAME in df.columns
             else df[native[S.LIGAND]].astype(str) + " - " + df[native[S.RECEPTOR]].astype(str))
    pairs = pd.Series([S.interaction_name(a, b) for a, b in zip(table[S.LIGAND].astype(str), table[S.RECEPTOR].astype(str))],
                      index=table.index)
    merged = names[shared].groupby(pairs[shared].to_numpy(), sort=True).agg(list).to_dict()
    report_collisions(where, "CellChatDB", len(drop), merged)
    return table.drop(index=drop).reset_index(drop=True)
