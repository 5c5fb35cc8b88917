"""Generic long CSV/TSV: one row per sender, receiver, ligand, receptor (format ``csv``).

Columns are named with ``columns`` — native → canonical, as a dict
(``{"sender": "source", "recv": "target"}``) or a string ``"sender=source,recv=target"``.
A column already carrying a canonical name needs no entry. Required after renaming:
source, target, ligand, receptor, score; optional: pvalue, significant, pathway, sample.
The delimiter comes from ``sep`` or the extension (``.csv`` comma, ``.tsv``/``.txt`` tab,
else sniffed). ``score_direction="lower"`` (ranks, distances) turns the score around so that
higher = stronger with ``score_transform``: ``auto`` (default) takes ``1 - value`` when every
value lies in [0, 1] (normalised ranks, distances) and ``1 / value`` when every value is ≥ 1
(ranks, 1 = strongest: ranks 1, 2, 3 become 1, 0.5, 0.33, all above the default ``min_score=0``);
``one_minus`` and ``reciprocal`` force one. ``significant``: the mapped column if any
(true/false, 1/0, yes/no), else ``pvalue <= threshold``, else ``all_significant``.
Every other numeric column goes into ``extra``.

Long tables (a study in one file)
---------------------------------
``time_col``, ``group_col``, ``sample_col`` and ``patient_col`` name columns whose values say
which run a row belongs to: one file becomes one run per (time, group, sample). Time values
are numbers in the run's ``time_unit`` or texts like ``4h``, ``LPS 4h``, ``day 3``
(see :func:`commgraph._time.parse_time`), or condition names with ``time_unit="condition"``.

Pairs, orientation, complexes
-----------------------------
``cell_pair_col`` names one column holding sender and receiver (CellPhoneDB's ``A|B``), split at
``cell_pair_sep`` (default ``|``); in CellPhoneDB's naming partner A is expressed by A.
``pair_col`` names one column holding both partners (``MIF_CD74``, ``ICAM1^ITGAL_ITGB2``), split
into ligand and receptor at ``pair_sep`` (default: ``^`` when every value holds one, else ``_``).
A separator that also occurs inside names (``_`` in CellPhoneDB's ``ACVR_1B2A receptor_GDF11``)
is resolved with the names the bundled CellPhoneDB and CellChatDB resources know: the split that
leaves known names on both sides wins; a value no split resolves is an error.

``orient`` turns round pairs listed receptor first, before anything else is done with them:
``resource`` — by the direction the bundled CellChatDB and CellPhoneDB v5 resources give the pair
(either way round), else when only the first partner is a receptor by ``receptor_genes``;
``receptors`` — when the first partner is in the ``receptors`` list (a list, ``"A,B"`` or a file
with one name a line) and the second is not; ``flag`` — when the ``flag_col`` column is true.
The source and target of a turned row are swapped with its partners (the receptor's cell type
receives). The reader says how many pairs it turned round ("turned 95 of 252 pairs round").

``complex_names``: ``sort`` (default) writes ``_``-joined subunits sorted (``ITGB2_ITGAL`` →
``ITGAL_ITGB2``); ``keep`` leaves every name as written (``ACVR_1B2A receptor`` stays as it is);
``cellphonedb`` turns CellPhoneDB complex names into their subunit genes through the bundled
database (``ACVR_1B2A receptor`` → ``ACVR1B_ACVR2A``), other names sorted as ``sort`` does.
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


RUN_COLUMNS = {"time_col": S.DAY, "group_col": S.GROUP, "sample_col": S.SAMPLE, "patient_col": S.PATIENT}
TRANSFORMS = ("auto", "one_minus", "reciprocal")
ORIENTS = ("resource", "receptors", "flag")
COMPLEX_NAMES = ("sort", "keep", "cellphonedb")


def lower_is_stronger(raw: np.ndarray, transform: str, *, file: str, column: str) -> tuple[np.ndarray, str]:
    """A score where lower = stronger, turned so that higher = stronger (see the module docstring);
    returns the scores and the transform used."""
    if transform not in TRANSFORMS:
        raise InputError(f"score_transform must be one of {', '.join(TRANSFORMS)}, not {transform!r}", column="score_transform")
    lo, hi = float(np.min(raw)), float(np.max(raw))
    if transform == "auto":
        if lo >= 0 and hi <= 1:
            transform = "one_minus"
        elif lo >= 1:
            transform = "reciprocal"
        else:
            raise InputError(
                f"score_direction=lower needs values in [0, 1] (1 - value) or ranks >= 1 (1 / value); "
                f"these run from {lo:g} to {hi:g}", file=file, column=column)
    if transform == "one_minus":
        if lo < 0 or hi > 1:
            raise InputError(f"score_transform=one_minus needs values in [0, 1]; these run from {lo:g} to {hi:g}",
                             file=file, column=column)
        return 1.0 - raw, transform
    if lo <= 0:
        raise InputError(f"score_transform=reciprocal needs values > 0 (ranks); the lowest is {lo:g}", file=file, column=column)
    return 1.0 / raw, transform


def _name_list(value: Any, what: str) -> set[str]:
    """A list of names: a list, "A,B,C", or a file with one name a line."""
    if value is None:
        return set()
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v).strip() for v in value if str(v).strip()}
    text = str(value)
    path = Path(text)
    if "," not in text and path.is_file():
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}
    if "," not in text and (path.suffix or "/" in text):
        raise InputError(f"{what} file not found", file=text, column=what)
    return {p.strip() for p in text.split(",") if p.strip()}


def split_pairs(values: pd.Series, sep: str | None, *, file: str, column: str) -> tuple[pd.Series, pd.Series, str]:
    """A pair column split into (first, second) partners; works on the distinct values."""
    text = values.astype("string").str.strip()
    uniq = pd.unique(text.dropna())
    if sep is None:
        sep = "^" if len(uniq) and all(S.INTERACTION_SEP in u for u in uniq) else "_"
    known = None
    first, second = {}, {}
    for u in uniq:
        parts = u.split(sep)
        if len(parts) < 2:
            row = int(np.flatnonzero((text == u).to_numpy())[0]) + 1
            raise InputError(f"{u!r} holds no separator {sep!r} between ligand and receptor", file=file, column=column, row=row)
        if len(parts) == 2:
            first[u], second[u] = parts[0].strip(), parts[1].strip()
            continue
        if known is None:
            from ._cpdb_orient import known_names

            known = known_names()
        cuts = [(sep.join(parts[:i]).strip(), sep.join(parts[i:]).strip()) for i in range(1, len(parts))]
        both = [c for c in cuts if c[0] in known and c[1] in known]
        if len(both) != 1:
            row = int(np.flatnonzero((text == u).to_numpy())[0]) + 1
            why = "no split leaves" if not both else f"{len(both)} splits leave"
            raise InputError(f"{u!r} splits at {sep!r} in {len(cuts)} places and {why} known names on both sides; "
                             f"give the ligand and receptor columns, or another pair_sep", file=file, column=column, row=row)
        first[u], second[u] = both[0]
    missing = text.isna()
    if missing.any():
        raise InputError("empty value", file=file, column=column, row=first_row(missing))
    return text.map(first), text.map(second), sep


def parse(
    source: Any,
    *,
    fmt: Any,
    columns: Mapping[str, str] | str | None = None,
    sep: str | None = None,
    score_direction: str = "higher",
    score_transform: str = "auto",
    threshold: float = 0.05,
    all_significant: bool = False,
    tool: str | None = None,
    time_col: str | None = None,
    group_col: str | None = None,
    sample_col: str | None = None,
    patient_col: str | None = None,
    pair_col: str | None = None,
    pair_sep: str | None = None,
    cell_pair_col: str | None = None,
    cell_pair_sep: str = "|",
    orient: str | None = None,
    receptors: Any = None,
    flag_col: str | None = None,
    complex_names: str = "sort",
) -> Parsed:
    """Parse a generic long table (see the module docstring)."""
    if score_direction not in ("higher", "lower"):
        raise InputError(f"score_direction must be 'higher' or 'lower', not {score_direction!r}", column="score_direction")
    if complex_names not in COMPLEX_NAMES:
        raise InputError(f"complex_names must be one of {', '.join(COMPLEX_NAMES)}, not {complex_names!r}", column="complex_names")
    if orient is None and receptors is not None:
        orient = "receptors"
    if orient is None and flag_col is not None:
        orient = "flag"
    if orient is not None and orient not in ORIENTS:
        raise InputError(f"orient must be one of {', '.join(ORIENTS)}, not {orient!r}", column="orient")
    if orient == "receptors" and receptors is None:
        raise InputError("orient=receptors needs the receptors option (a list, 'A,B' or a file)", column="receptors")
    if orient == "flag" and flag_col is None:
        raise InputError("orient=flag needs flag_col, the column that is true where the receptor is listed first", column="flag_col")
    run_cols = {opt: col for opt, col in (("time_col", time_col), ("group_col", group_col), ("sample_col", sample_col),
                                          ("patient_col", patient_col)) if col is not None}
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
    for opt, col in [*run_cols.items(), *((("pair_col", pair_col),) if pair_col else ()),
                     *((("cell_pair_col", cell_pair_col),) if cell_pair_col else ()),
                     *((("flag_col", flag_col),) if flag_col else ())]:
        if col not in df.columns:
            raise InputError(f"column {col!r} ({opt}) is not in the table; found {', '.join(map(str, df.columns[:20]))}",
                             file=where, column=col, row=0)
    taken = [c for c in run_cols.values() if c in mapping]
    if taken:
        raise InputError(f"column {taken[0]!r} is both in the column map and a run column", file=where, column=taken[0], row=0)
    df = df.reset_index(drop=True)
    run_values = {RUN_COLUMNS[opt]: df[col] for opt, col in run_cols.items()}
    pair_values = df[pair_col] if pair_col else None
    cell_values = df[cell_pair_col] if cell_pair_col else None
    flag_values = df[flag_col] if flag_col else None
    df = df.drop(columns=list(dict.fromkeys([*run_cols.values(), *([pair_col] if pair_col else []),
                                              *([cell_pair_col] if cell_pair_col else [])]))).rename(columns=mapping)
    if cell_values is not None:
        clash = [c for c in (S.SOURCE, S.TARGET) if c in df.columns]
        if clash:
            raise InputError(f"the table has a {clash[0]} column and a cell pair column {cell_pair_col!r}: give one",
                             file=where, column=cell_pair_col, row=0)
        parts = cell_values.astype("string").str.split(cell_pair_sep, n=1, expand=True, regex=False)
        bad = parts[1].isna() if parts.shape[1] > 1 else pd.Series(True, index=df.index)
        if bad.any():
            row = first_row(bad)
            raise InputError(f"{cell_values.iloc[row - 1]!r} is not sender{cell_pair_sep}receiver", file=where,
                             column=cell_pair_col, row=row)
        df[S.SOURCE], df[S.TARGET] = parts[0].str.strip(), parts[1].str.strip()
    if pair_values is not None:
        clash = [c for c in (S.LIGAND, S.RECEPTOR) if c in df.columns]
        if clash:
            raise InputError(f"the table has a {clash[0]} column and a pair column {pair_col!r}: give one", file=where, column=pair_col, row=0)
        df[S.LIGAND], df[S.RECEPTOR], pair_sep = split_pairs(pair_values, pair_sep, file=where, column=pair_col)
    for canonical, values in run_values.items():
        if canonical in df.columns:
            raise InputError(f"the table already has a {canonical!r} column; name the run column another way",
                             file=where, column=canonical, row=0)
        df[canonical] = values
    require_columns(df, REQUIRED, where)
    keys = [S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR]
    check_text(df, keys, where)
    if S.SAMPLE in df.columns:  # trimmed like every name; a blank cell is a row without a sample
        sample = df[S.SAMPLE].astype("string").str.strip()
        df[S.SAMPLE] = sample.mask(sample == "")
    has_sample = S.SAMPLE in df.columns and bool(df[S.SAMPLE].notna().any())
    run_keys = [c for c in (S.DAY, S.GROUP) if c in run_values]
    check_duplicates(df, keys + run_keys + ([S.SAMPLE] if has_sample else []), where, column=S.RECEPTOR)
    native_of = {v: k for k, v in mapping.items()}

    def name(canonical: str) -> str:
        return native_of.get(canonical, canonical)

    raw = to_float(df[S.SCORE], file=where, column=name(S.SCORE))
    check_scores(raw, file=where, column=name(S.SCORE))
    transform = None
    if score_direction == "higher":
        score = raw
    else:
        score, transform = lower_is_stronger(raw, score_transform, file=where, column=name(S.SCORE))
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

    used = set(MAPPABLE) | {S.DAY, S.GROUP, S.SAMPLE, S.PATIENT}
    extra_cols = numeric_columns(df, used)
    lig, rec = clean_names(df[S.LIGAND]), clean_names(df[S.RECEPTOR])
    lig = map_categorical(lig, _names(lig.categories, complex_names))
    rec = map_categorical(rec, _names(rec.categories, complex_names))
    src, tgt = clean_names(df[S.SOURCE]), clean_names(df[S.TARGET])
    notes = []
    if orient is not None:
        turn = _turn(lig, rec, orient, receptors=receptors, flags=flag_values, file=where, flag_col=flag_col)
        pairs = pd.DataFrame({"l": lig.codes, "r": rec.codes})
        distinct = ~pairs.duplicated().to_numpy()
        n_pairs, n_turned = int(distinct.sum()), int((distinct & turn).sum())
        notes.append(f"turned {n_turned} of {n_pairs} pairs round ({_orient_text(orient)})")
        if turn.any():
            lig, rec = _swap(lig, rec, turn)
            src, tgt = _swap(src, tgt, turn)
            check_duplicates(pd.DataFrame({S.SOURCE: np.asarray(src), S.TARGET: np.asarray(tgt), S.LIGAND: np.asarray(lig),
                                           S.RECEPTOR: np.asarray(rec), **{k: df[k].to_numpy() for k in run_keys},
                                           **({S.SAMPLE: df[S.SAMPLE].to_numpy()} if has_sample else {})}),
                             keys + run_keys + ([S.SAMPLE] if has_sample else []), where, column=S.RECEPTOR)
    table = pd.DataFrame(
        {
            S.SOURCE: src,
            S.TARGET: tgt,
            S.LIGAND: lig,
            S.RECEPTOR: rec,
            S.SCORE: score,
            S.PVALUE: pvalue if pvalue is not None else np.full(len(df), np.nan),
            S.SIGNIFICANT: significant,
            S.EXTRA: extra_json(df[extra_cols]),
        }
    )
    if S.PATHWAY in df.columns:
        table[S.PATHWAY] = df[S.PATHWAY].to_numpy()
    if has_sample:
        table[S.SAMPLE] = df[S.SAMPLE].astype("string").to_numpy()
    for canonical in (S.DAY, S.GROUP, S.PATIENT):
        if canonical in run_values:
            table[canonical] = df[canonical].to_numpy()
    options = {
        "columns": mapping,
        "sep": sep,
        "score_direction": score_direction,
        "threshold": float(threshold),
        "all_significant": bool(all_significant),
    }
    if transform is not None:
        options["score_transform"] = transform
    options.update({k: v for k, v in {**run_cols, "pair_col": pair_col, "pair_sep": pair_sep if pair_col else None,
                                      "cell_pair_col": cell_pair_col,
                                      "cell_pair_sep": cell_pair_sep if cell_pair_col else None,
                                      "orient": orient, "flag_col": flag_col,
                                      "receptors": receptors if isinstance(receptors, str) else (sorted(receptors) if receptors else None)}.items()
                    if v is not None})
    if complex_names != "sort":
        options["complex_names"] = complex_names
    return Parsed(
        table=table,
        file=where,
        source_files=files,
        method=tool or fmt.method,
        options=options,
        tool=tool,
        notes=notes,
        time_column=time_col,
        group_column=group_col,
        sample_column=sample_col,
    )


def _names(names, how: str) -> dict[str, str]:
    """Ligand/receptor names as the complex_names option says (see the module docstring)."""
    if how == "keep":
        return {}
    if how == "cellphonedb":
        from ._cpdb_orient import cellphonedb_names

        known = cellphonedb_names(names)
        rest = sorted_subunits([n for n in names if n not in known])
        return {**rest, **known}
    return sorted_subunits(names)


def _swap(a: pd.Categorical, b: pd.Categorical, turn: np.ndarray) -> tuple[pd.Categorical, pd.Categorical]:
    """Exchange a and b where ``turn`` (on shared categories: codes only)."""
    cats = a.categories.union(b.categories)
    ca = pd.Categorical(a, categories=cats).codes
    cb = pd.Categorical(b, categories=cats).codes
    na, nb = np.where(turn, cb, ca), np.where(turn, ca, cb)
    return (pd.Categorical.from_codes(na, categories=cats).remove_unused_categories(),
            pd.Categorical.from_codes(nb, categories=cats).remove_unused_categories())


def _turn(lig: pd.Categorical, rec: pd.Categorical, orient: str, *, receptors, flags, file: str, flag_col) -> np.ndarray:
    """Per row: is the pair listed receptor first (see the module docstring)?"""
    if orient == "flag":
        text = flags.astype("string").str.strip().str.lower()
        bad = ~text.isin(_TRUE | _FALSE) | text.isna()
        if bad.any():
            row = first_row(bad)
            raise InputError(f"{flags.iloc[row - 1]!r} is not true/false", file=file, column=flag_col, row=row)
        return text.isin(_TRUE).to_numpy(dtype=bool)
    pairs = pd.DataFrame({"l": np.asarray(lig, dtype=object), "r": np.asarray(rec, dtype=object)})
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(pairs))
    if orient == "receptors":
        known = _name_list(receptors, "receptors")

        def is_receptor(name: str) -> bool:
            return name in known or all(g in known for g in S.subunit_genes(name))

        per_pair = np.array([is_receptor(a) and not is_receptor(b) for a, b in uniq], dtype=bool)
    else:
        from ._cpdb_orient import directed_pairs, receptor_genes

        directed, only_receptors = directed_pairs(), receptor_genes()

        def receptor_first(a: str, b: str) -> bool:
            if (a, b) in directed:
                return False
            if (b, a) in directed:
                return True
            ra = all(g in only_receptors for g in S.subunit_genes(a))
            rb = all(g in only_receptors for g in S.subunit_genes(b))
            return ra and not rb

        per_pair = np.array([receptor_first(a, b) for a, b in uniq], dtype=bool)
    return per_pair[codes]


def _orient_text(orient: str) -> str:
    return {"resource": "by the bundled CellChatDB and CellPhoneDB resources",
            "receptors": "first partner in the receptor list", "flag": "by the flag column"}[orient]
