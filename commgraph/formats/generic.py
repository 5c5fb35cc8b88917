"""Generic long CSV/TSV: one row per sender, receiver, ligand, receptor (format ``csv``).

Columns are named with ``columns`` — native → canonical, as a dict
(``{"sender": "source", "recv": "target"}``) or a string ``"sender=source,recv=target"``.
A column already carrying a canonical name needs no entry. Required after renaming:
source, target, ligand, receptor, score; optional: pvalue, significant, pathway, sample.
The delimiter comes from ``sep`` or the extension (``.csv`` comma, ``.tsv``/``.txt`` tab,
else sniffed). ``score_direction="lower"`` (ranks, distances) turns the score around as
``1 - value``. ``significant``: the mapped column if any (true/false, 1/0, yes/no), else
``pvalue <= threshold``, else ``all_significant``. Ligands/receptors written as
``_``-joined subunits are sorted. Every other numeric column goes into ``extra``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

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
    first_row,
    map_categorical,
    numeric_columns,
    read_delimited,
    require_columns,
    require_rows,
    sorted_subunits,
    to_float,
)

MAPPABLE = (S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.SCORE, S.PVALUE, S.SIGNIFICANT, S.PATHWAY, S.SAMPLE)
NAMES = (S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.PATHWAY, S.SAMPLE)  # text as written: "NA" is a name
REQUIRED = (S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.SCORE)
_TRUE = {"true", "1", "yes", "t", "y", "1.0"}
_FALSE = {"false", "0", "no", "f", "n", "0.0"}


def column_map(columns: Mapping[str, str] | str | None) -> dict[str, str]:
    """native → canonical from a dict or ``"a=source,b=target"``."""
    if columns is None:
        return {}
    if isinstance(columns, str):
        pairs = {}
        for item in filter(None, (part.strip() for part in columns.split(","))):
            native, sep, canonical = item.partition("=")
            if not sep or not native.strip() or not canonical.strip():
                raise InputError(f"column map entry {item!r} is not native=canonical", column="columns")
            pairs[native.strip()] = canonical.strip()
        columns = pairs
    if not isinstance(columns, Mapping):
        raise InputError("columns must be a dict or a 'native=canonical,...' string", column="columns")
    for native, canonical in columns.items():
        if canonical not in MAPPABLE:
            raise InputError(f"{canonical!r} is not a column the csv format can fill; use one of {', '.join(MAPPABLE)}", column=str(native))
    targets = list(columns.values())
    dup = {c for c in targets if targets.count(c) > 1}
    if dup:
        raise InputError(f"two columns map to {sorted(dup)[0]!r}", column="columns")
    return dict(columns)


def parse(
    source: Any,
    *,
    fmt: Any,
    columns: Mapping[str, str] | str | None = None,
    sep: str | None = None,
    score_direction: str = "higher",
    threshold: float = 0.05,
    all_significant: bool = False,
    tool: str | None = None,
) -> Parsed:
    """Parse a generic long table (see the module docstring)."""
    if score_direction not in ("higher", "lower"):
        raise InputError(f"score_direction must be 'higher' or 'lower', not {score_direction!r}", column="score_direction")
    mapping = column_map(columns)
    if isinstance(source, pd.DataFrame):
        df, where, files = source, "<csv DataFrame>", []
    else:
        path = Path(source)
        native_names = {native for native, canonical in mapping.items() if canonical in NAMES}
        names = native_names | {c for c in NAMES if c not in mapping.values()}
        df, where, files = read_delimited(path, sep=sep, names=names, what="table"), str(path), [str(path)]
    require_rows(df, where)
    missing_native = [n for n in mapping if n not in df.columns]
    if missing_native:
        raise InputError(f"column {missing_native[0]!r} named in the column map is not in the table", file=where, column=missing_native[0], row=0)
    clash = [c for c in mapping.values() if c in df.columns and c not in mapping]
    if clash:
        raise InputError(f"the table already has a column {clash[0]!r} and the map sends another one there", file=where, column=clash[0], row=0)
    df = df.reset_index(drop=True).rename(columns=mapping)
    require_columns(df, REQUIRED, where)
    keys = [S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR]
    check_text(df, keys, where)
    sample = None
    if S.SAMPLE in df.columns:  # trimmed like every name; a blank cell is a row without a sample
        sample = df[S.SAMPLE].astype("string").str.strip()
        sample = sample.mask(sample == "")
    has_sample = sample is not None and bool(sample.notna().any())
    check_duplicates(df.assign(**{S.SAMPLE: sample}) if has_sample else df, keys + ([S.SAMPLE] if has_sample else []),
                     where, column=S.RECEPTOR)
    native_of = {v: k for k, v in mapping.items()}

    def name(canonical: str) -> str:
        return native_of.get(canonical, canonical)

    raw = to_float(df[S.SCORE], file=where, column=name(S.SCORE))
    check_scores(raw, file=where, column=name(S.SCORE))
    score = raw if score_direction == "higher" else 1.0 - raw
    pvalue = None
    if S.PVALUE in df.columns:
        pvalue = to_float(df[S.PVALUE], file=where, column=name(S.PVALUE))
        check_pvalues(pvalue, file=where, column=name(S.PVALUE))
    if S.SIGNIFICANT in df.columns:
        text = df[S.SIGNIFICANT].astype("string").str.strip().str.lower()
        bad = ~text.isin(_TRUE | _FALSE) | text.isna()
        if bad.any():
            row = first_row(bad)
            raise InputError(f"{df[S.SIGNIFICANT].iloc[row - 1]!r} is not true/false", file=where, column=name(S.SIGNIFICANT), row=row)
        significant = text.isin(_TRUE).to_numpy(dtype=bool)
    elif pvalue is not None:
        with np.errstate(invalid="ignore"):
            significant = pvalue <= float(threshold)
    else:
        significant = np.full(len(df), bool(all_significant))

    used = set(MAPPABLE)
    extra_cols = numeric_columns(df, used)
    lig = clean_names(df[S.LIGAND])
    rec = clean_names(df[S.RECEPTOR])
    table = pd.DataFrame(
        {
            S.SOURCE: clean_names(df[S.SOURCE]),
            S.TARGET: clean_names(df[S.TARGET]),
            S.LIGAND: map_categorical(lig, sorted_subunits(lig.categories)),
            S.RECEPTOR: map_categorical(rec, sorted_subunits(rec.categories)),
            S.SCORE: score,
            S.PVALUE: pvalue if pvalue is not None else np.full(len(df), np.nan),
            S.SIGNIFICANT: significant,
            S.EXTRA: extra_json(df[extra_cols]),
        }
    )
    if S.PATHWAY in df.columns:
        table[S.PATHWAY] = df[S.PATHWAY].to_numpy()
    if has_sample:
        table[S.SAMPLE] = sample.to_numpy()
    return Parsed(
        table=table,
        file=where,
        source_files=files,
        method=tool or fmt.method,
        options={
            "columns": mapping,
            "sep": sep,
            "score_direction": score_direction,
            "threshold": float(threshold),
            "all_significant": bool(all_significant),
        },
        tool=tool,
    )
