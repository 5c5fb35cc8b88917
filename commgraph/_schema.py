"""The one schema: canonical interaction table columns and the graph model.

Every loader ends with :func:`validate`; every store builds its tables from the
``NODE_TABLES``/``REL_TABLES`` below. No other module spells a column name as a string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._time import UNITS as TIME_UNITS
from .errors import InputError

# --- canonical interaction table -------------------------------------------------------

SOURCE = "source"
TARGET = "target"
LIGAND = "ligand"
RECEPTOR = "receptor"
INTERACTION = "interaction"
PATHWAY = "pathway"
SCORE = "score"
PVALUE = "pvalue"
SIGNIFICANT = "significant"
DAY = "day"
GROUP = "group"
SAMPLE = "sample"
PATIENT = "patient"
TIME_UNIT = "time_unit"  # the unit of `day`: day (default), hour, week or condition (see commgraph._time)
TIME_LABEL = "time_label"  # the timepoint as the study names it ("LPS 4h", "stimulated"), when it has a name
METHOD = "method"
RUN_ID = "run_id"
# provenance, repeated on every row (categoricals keep that cheap)
TOOL = "tool"
TOOL_VERSION = "tool_version"
DATABASE_VERSION = "database_version"
PARAMETERS = "parameters"
SOURCE_FILES = "source_files"
# the tool's own other scores, as one JSON object per row
EXTRA = "extra"

SUBUNIT_SEP = "_"  # complexes are written as their subunit genes joined: ITGAL_ITGB2
INTERACTION_SEP = "^"  # interaction = ligand^receptor (LIANA's convention; never in a symbol)
UNANNOTATED = "unannotated"  # pathway when no source knows one
NO_GROUP = "all"  # group of a study without arms
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # days and counts are 64-bit integers in both stores


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # pandas dtype after validation
    required: bool
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column(SOURCE, "category", True, "sender cell type"),
    Column(TARGET, "category", True, "receiver cell type"),
    Column(LIGAND, "category", True, "ligand gene; a complex as its subunits joined by '_'"),
    Column(RECEPTOR, "category", True, "receptor gene; a complex as its subunits joined by '_'"),
    Column(INTERACTION, "category", True, "ligand^receptor"),
    Column(PATHWAY, "category", True, f"signaling pathway (CellChatDB naming); '{UNANNOTATED}' if unknown"),
    Column(SCORE, "float64", True, "the tool's magnitude score; higher = stronger (ranks are turned around)"),
    Column(PVALUE, "float64", False, "the tool's p-value in [0, 1]; NaN if the tool gives none"),
    Column(SIGNIFICANT, "bool", True, "significant by the tool's own rule (or the loader's threshold)"),
    Column(DAY, "int64", True, "timepoint: day of sampling relative to dosing (0 = baseline), or a whole number in time_unit"),
    Column(GROUP, "category", True, f"dose arm or cohort; '{NO_GROUP}' when the study has none"),
    Column(SAMPLE, "category", False, "sample (one library: a patient on a day); missing for pooled runs"),
    Column(PATIENT, "category", False, "patient the sample came from (pairs a patient's days); missing: the sample is its own patient"),
    Column(TIME_UNIT, "category", False, "unit of day: day (missing = day), hour, week, or condition (unordered; day = its position)"),
    Column(TIME_LABEL, "category", False, "the timepoint's name as the study gives it (\"LPS 4h\", \"stimulated\"), if any"),
    Column(METHOD, "category", True, "inference method, e.g. cellphonedb, liana:rank_aggregate, cellchat"),
    Column(RUN_ID, "category", True, "the run this row came from"),
    Column(TOOL, "category", True, "tool that produced the file"),
    Column(TOOL_VERSION, "category", False, "tool version, when known"),
    Column(DATABASE_VERSION, "category", False, "ligand–receptor resource and version, when known"),
    Column(PARAMETERS, "category", False, "the run's parameters as JSON"),
    Column(SOURCE_FILES, "category", False, "input files, ';'-separated"),
    Column(EXTRA, "object", False, "the tool's other scores as a JSON object (a categorical when the reader made one)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
KEY: tuple[str, ...] = (SOURCE, TARGET, INTERACTION, SAMPLE, RUN_ID)  # one row per key

# --- graph model ------------------------------------------------------------------------
# One definition, rendered to LadybugDB DDL and to Neo4j constraints by the stores.
# Property types use LadybugDB names; Neo4j is schemaless apart from the keys.

CELL_TYPE = "CellType"
CELL_STATE = "CellState"
RUN = "Run"
INTERACTION_NODE = "Interaction"
PATHWAY_NODE = "Pathway"
GENE = "Gene"
SIGNALS = "SIGNALS"
OF_TYPE = "OF_TYPE"
NEXT = "NEXT"
IN_PATHWAY = "IN_PATHWAY"
HAS_LIGAND = "HAS_LIGAND"
HAS_RECEPTOR = "HAS_RECEPTOR"
PATIENT_NODE = "Patient"
SAMPLE_NODE = "Sample"
CONTRAST = "Contrast"
OF_PATIENT = "OF_PATIENT"
FROM_SAMPLE = "FROM_SAMPLE"
COUNTED_IN = "COUNTED_IN"
CHANGED = "CHANGED"
MEASUREMENT = "Measurement"
MEASURED = "MEASURED"
# the summary layer: per run × sender state × receiver state (× pathway), the aggregates the
# aggregating questions read at their default filters (see commgraph._graph.summaries)
SUMMARY = "SUMMARY"
PATHWAY_SUMMARY = "PATHWAY_SUMMARY"
# per run × interaction summary of the SIGNALS edges (written and swept with them, by load_id)
INTERACTION_SUMMARY = "InteractionSummary"
HAS_SUMMARY = "HAS_SUMMARY"

# node and edge property names that are not canonical columns
NAME = "name"
KEY_PROP = "key"
CELL_TYPE_PROP = "cell_type"
N_CELLS = "n_cells"
FRACTION = "fraction"
LINEAGE = "lineage"
SYMBOL = "symbol"
ANNOTATION = "annotation"
LOAD_ID = "load_id"  # which load of a run an edge belongs to; see Store docs
FORMAT = "format"
N_ROWS = "n_rows"
N_SIGNIFICANT = "n_significant"
LOADED_AT = "loaded_at"
ID = "id"
N_PAIRS = "n_pairs"
MIN_PVALUE = "min_pvalue"
# InteractionSummary's copy of its edges, aligned lists with one entry per edge: the interaction's
# edges read from its Interaction node, not found by a scan of every SIGNALS edge
SENDERS = "senders"  # sender cell type
RECEIVERS = "receivers"  # receiver cell type
SCORES = "scores"
PVALUES = "pvalues"  # NO_PVALUE where the tool gives none (a Neo4j list property holds no null)
CALLS = "calls"  # the tool's significance call (the edge's `significant`)
NO_PVALUE = -1.0
# clinical and lab values of a sample (sample sheets): one record per sample × variable, so a
# new column of a sheet needs no schema change on either engine
VARIABLE = "variable"
VALUE = "value"
TEXT = "text"
# Contrast nodes and CHANGED edges (see commgraph.differential)
KIND = "kind"
REFERENCE = "reference"  # the other dose group of a dose × time contrast
BASELINE = "baseline"
RUNS_PROP = "runs"  # run ids a contrast used, ';'-joined
N_PATIENTS = "n_patients"
COMPUTED_AT = "computed_at"
STALE = "stale"
SETTINGS = "settings"  # JSON: levels, filters, pseudocounts — what retrieval reads back
CONTRAST_PROP = "contrast"
LEVEL = "level"
DELTA = "delta"
REFERENCE_DELTA = "reference_delta"
LOG2FC = "log2fc"
T_STAT = "t"
P_PROP = "p"
FDR = "fdr"
MEAN_BASELINE = "mean_baseline"
MEAN_DAY = "mean_day"
N_PROP = "n"
DETECTED_BASELINE = "detected_baseline"
DETECTED_DAY = "detected_day"
# SUMMARY / PATHWAY_SUMMARY aggregates, over a run's SIGNALS edges of one state pair (and pathway)
N_INTERACTIONS = "n_interactions"  # edges scoring >= SUMMARY_MIN_SCORE
TOTAL_SCORE = "total_score"  # their summed score
SIGNIFICANT_SCORE = "significant_score"  # summed score of those also significant (N_SIGNIFICANT counts them)
MAX_SCORE = "max_score"  # the highest score of the N_INTERACTIONS edges (graph views pick their edge by it)
MAX_SIGNIFICANT_SCORE = "max_significant_score"
N_SIGNIFICANT_NEGATIVE = "n_significant_negative"  # significant edges scoring below SUMMARY_MIN_SCORE (graph_trajectory has no score cut)
SIGNIFICANT_NEGATIVE_SCORE = "significant_negative_score"
# The filters the summary is computed at: the questions' defaults. A question reads the summary only
# when its parameters are these (min_score exactly this, and pvalue this or significance unused).
SUMMARY_MIN_SCORE = 0.0
SUMMARY_PVALUE = 0.05


@dataclass(frozen=True)
class NodeTable:
    label: str
    key: str
    properties: tuple[tuple[str, str], ...]  # (name, LadybugDB type), key first


@dataclass(frozen=True)
class RelTable:
    type: str
    source: str
    target: str
    properties: tuple[tuple[str, str], ...] = ()
    # read only from its source (every question starts there): LadybugDB stores it one way
    forward_only: bool = False


# One node per run × interaction: the interaction's edges in that run counted (n_significant at the
# default p-value cut 0.05, _queries.SIGNIFICANT) and listed (SENDERS … CALLS), linked from its
# Interaction node, carrying the run's load_id like its SIGNALS edges: the stores write and sweep it
# with the edges.
INTERACTION_SUMMARY_TABLE = NodeTable(
    INTERACTION_SUMMARY,
    KEY_PROP,
    (
        (KEY_PROP, "STRING"),  # load_id|interaction|day|group
        (INTERACTION, "STRING"),
        (RUN_ID, "STRING"),
        (LOAD_ID, "STRING"),
        (DAY, "INT64"),
        (GROUP, "STRING"),
        (N_PAIRS, "INT64"),
        (N_SIGNIFICANT, "INT64"),
        (MAX_SCORE, "DOUBLE"),
        (TOTAL_SCORE, "DOUBLE"),
        (MIN_PVALUE, "DOUBLE"),
        (SENDERS, "STRING[]"),
        (RECEIVERS, "STRING[]"),
        (SCORES, "DOUBLE[]"),
        (PVALUES, "DOUBLE[]"),
        (CALLS, "BOOLEAN[]"),
    ),
)

NODE_TABLES: tuple[NodeTable, ...] = (
    NodeTable(CELL_TYPE, NAME, ((NAME, "STRING"), (LINEAGE, "STRING"))),
    NodeTable(
        CELL_STATE,
        KEY_PROP,
        (
            (KEY_PROP, "STRING"),
            (CELL_TYPE_PROP, "STRING"),
            (DAY, "INT64"),
            (GROUP, "STRING"),
            (N_CELLS, "INT64"),
            (FRACTION, "DOUBLE"),
        ),
    ),
    NodeTable(
        RUN,
        RUN_ID,
        (
            (RUN_ID, "STRING"),
            (LOAD_ID, "STRING"),
            (FORMAT, "STRING"),
            (METHOD, "STRING"),
            (TOOL, "STRING"),
            (TOOL_VERSION, "STRING"),
            (DATABASE_VERSION, "STRING"),
            (PARAMETERS, "STRING"),
            (SOURCE_FILES, "STRING"),
            (DAY, "INT64"),
            (GROUP, "STRING"),
            (SAMPLE, "STRING"),
            (PATIENT, "STRING"),
            (N_ROWS, "INT64"),
            (N_SIGNIFICANT, "INT64"),
            (LOADED_AT, "STRING"),
            (TIME_UNIT, "STRING"),  # appended: older stores gain them (see EmbeddedStore._add_new_properties)
            (TIME_LABEL, "STRING"),
        ),
    ),
    NodeTable(
        INTERACTION_NODE,
        NAME,
        ((NAME, "STRING"), (LIGAND, "STRING"), (RECEPTOR, "STRING"), (PATHWAY, "STRING"), (ANNOTATION, "STRING")),
    ),
    NodeTable(PATHWAY_NODE, NAME, ((NAME, "STRING"),)),
    NodeTable(GENE, SYMBOL, ((SYMBOL, "STRING"),)),
    NodeTable(PATIENT_NODE, ID, ((ID, "STRING"), (GROUP, "STRING"))),
    NodeTable(SAMPLE_NODE, ID, ((ID, "STRING"), (PATIENT, "STRING"), (DAY, "INT64"), (GROUP, "STRING"))),
    NodeTable(MEASUREMENT, KEY_PROP, ((KEY_PROP, "STRING"), (SAMPLE, "STRING"), (VARIABLE, "STRING"),
                                      (VALUE, "DOUBLE"), (TEXT, "STRING"))),
    NodeTable(
        CONTRAST,
        ID,
        (
            (ID, "STRING"),
            (KIND, "STRING"),
            (GROUP, "STRING"),
            (REFERENCE, "STRING"),
            (DAY, "INT64"),
            (BASELINE, "INT64"),
            (METHOD, "STRING"),
            (N_PATIENTS, "INT64"),
            (RUNS_PROP, "STRING"),
            (SETTINGS, "STRING"),
            (COMPUTED_AT, "STRING"),
            (STALE, "BOOLEAN"),
        ),
    ),
    INTERACTION_SUMMARY_TABLE,
)

SIGNALS_PROPERTIES: tuple[tuple[str, str], ...] = (
    (LIGAND, "STRING"),
    (RECEPTOR, "STRING"),
    (INTERACTION, "STRING"),
    (PATHWAY, "STRING"),
    (SCORE, "DOUBLE"),
    (PVALUE, "DOUBLE"),
    (SIGNIFICANT, "BOOLEAN"),
    (METHOD, "STRING"),
    (RUN_ID, "STRING"),
    (LOAD_ID, "STRING"),
    (SAMPLE, "STRING"),
    (EXTRA, "STRING"),
)

# one tested feature of one contrast, between the CellStates of the contrast's day and group; an
# interaction's ligand and receptor are its Interaction node's (two strings fewer on each of 3.4M
# edges took the differential's write at 10M edges from 32 to 28 s)
CHANGED_PROPERTIES: tuple[tuple[str, str], ...] = (
    (CONTRAST_PROP, "STRING"),
    (LEVEL, "STRING"),
    (INTERACTION, "STRING"),
    (PATHWAY, "STRING"),
    (DELTA, "DOUBLE"),
    (REFERENCE_DELTA, "DOUBLE"),
    (LOG2FC, "DOUBLE"),
    (T_STAT, "DOUBLE"),
    (P_PROP, "DOUBLE"),
    (FDR, "DOUBLE"),
    (MEAN_BASELINE, "DOUBLE"),
    (MEAN_DAY, "DOUBLE"),
    (N_PROP, "INT64"),
    (DETECTED_BASELINE, "DOUBLE"),
    (DETECTED_DAY, "DOUBLE"),
)

SUMMARY_AGGREGATES: tuple[tuple[str, str], ...] = (
    (N_INTERACTIONS, "INT64"),
    (TOTAL_SCORE, "DOUBLE"),
    (N_SIGNIFICANT, "INT64"),
    (SIGNIFICANT_SCORE, "DOUBLE"),
    (MAX_SCORE, "DOUBLE"),
    (MAX_SIGNIFICANT_SCORE, "DOUBLE"),
    (N_SIGNIFICANT_NEGATIVE, "INT64"),
    (SIGNIFICANT_NEGATIVE_SCORE, "DOUBLE"),
)
SUMMARY_PROPERTIES: tuple[tuple[str, str], ...] = (
    (RUN_ID, "STRING"), (LOAD_ID, "STRING"), (METHOD, "STRING"), (SAMPLE, "STRING"), *SUMMARY_AGGREGATES)
PATHWAY_SUMMARY_PROPERTIES: tuple[tuple[str, str], ...] = (
    (RUN_ID, "STRING"), (LOAD_ID, "STRING"), (METHOD, "STRING"), (SAMPLE, "STRING"), (PATHWAY, "STRING"),
    *SUMMARY_AGGREGATES)

REL_TABLES: tuple[RelTable, ...] = (
    RelTable(SIGNALS, CELL_STATE, CELL_STATE, SIGNALS_PROPERTIES),
    RelTable(OF_TYPE, CELL_STATE, CELL_TYPE),
    RelTable(NEXT, CELL_STATE, CELL_STATE),
    RelTable(IN_PATHWAY, INTERACTION_NODE, PATHWAY_NODE),
    RelTable(HAS_LIGAND, INTERACTION_NODE, GENE),
    RelTable(HAS_RECEPTOR, INTERACTION_NODE, GENE),
    RelTable(OF_PATIENT, SAMPLE_NODE, PATIENT_NODE),
    RelTable(FROM_SAMPLE, RUN, SAMPLE_NODE),
    RelTable(COUNTED_IN, CELL_STATE, SAMPLE_NODE, ((N_CELLS, "INT64"), (FRACTION, "DOUBLE"))),
    RelTable(MEASURED, SAMPLE_NODE, MEASUREMENT),
    # one way: the differential's write of 3.4M edges at 10M took 29 s both ways, 14 s one way
    RelTable(CHANGED, CELL_STATE, CELL_STATE, CHANGED_PROPERTIES, forward_only=True),
    RelTable(SUMMARY, CELL_STATE, CELL_STATE, SUMMARY_PROPERTIES),
    RelTable(PATHWAY_SUMMARY, CELL_STATE, CELL_STATE, PATHWAY_SUMMARY_PROPERTIES),
    RelTable(HAS_SUMMARY, INTERACTION_NODE, INTERACTION_SUMMARY),
)
# relationships that belong to one load of a run (load_id): written in the same step as the
# SIGNALS edges, hidden and swept by the same rule
LOAD_RELS: tuple[str, ...] = (SIGNALS, SUMMARY, PATHWAY_SUMMARY)

NODE_TABLE = {t.label: t for t in NODE_TABLES}
REL_TABLE = {t.type: t for t in REL_TABLES}


# --- derived keys ------------------------------------------------------------------------
# Keys are built from names with separators between them. So that no two distinct inputs give
# one key whatever characters the names hold, each name is escaped: a backslash becomes "\\\\" and
# the key's separator "\\<sep>". Names without "\\" or the separator (every real cell type, gene
# and group seen so far) are written unchanged, so keys stay readable and a store built before
# this rule keeps its keys.

KEY_SEP = "|"  # between the parts of a CellState key and a default run id
ESCAPE = "\\"


def escape(name: object, *separators: str) -> str:
    """``name`` with backslashes doubled and each separator preceded by a backslash (reversible)."""
    text = str(name).replace(ESCAPE, ESCAPE + ESCAPE)
    for sep in separators:
        text = text.replace(sep, ESCAPE + sep)
    return text


def escape_array(values, *separators: str) -> np.ndarray:
    """:func:`escape` over an array of names, worked on its distinct values."""
    uniq, codes = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    return np.array([escape(u, *separators) for u in uniq], dtype=object)[codes.reshape(-1)]


def state_key(cell_type: str, day: int, group: str) -> str:
    """CellState key: one node per cell type × day × group (``MX1+ Mono|7|high``)."""
    return f"{escape(cell_type, KEY_SEP)}{KEY_SEP}{int(day)}{KEY_SEP}{escape(group, KEY_SEP)}"


def combine_codes(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows given as codes into vocabularies of these sizes, numbered by distinct row: each row's
    number (in order of first appearance) and, per column, each distinct row's code."""
    sizes = [max(n, 1) for n in sizes]
    if np.prod([float(n) for n in sizes]) >= 2.0**62:  # the mixed radix would overflow
        uniq, first, fcode = np.unique(np.stack(codes, axis=1), axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        renumber = np.empty(len(uniq), dtype=np.int64)
        renumber[order] = np.arange(len(uniq))
        return renumber[np.asarray(fcode).ravel()], [uniq[order, i] for i in range(len(codes))]
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c, n in zip(codes, sizes):  # a mixed radix: one number per distinct row
        key = key * n + c
    fcode, fkey = pd.factorize(key)
    digits = []
    for n in reversed(sizes):
        digits.append(fkey % n)
        fkey = fkey // n
    return fcode, digits[::-1]


def state_keys(cell_type, day, group, *, categorical: bool = False) -> np.ndarray | pd.Categorical:
    """:func:`state_key` over columns, worked on their distinct (cell type, day, group) rows
    (millions of edges name a few hundred states); ``categorical``: as a categorical of them."""
    if len(cell_type) == 0:
        return pd.Categorical([]) if categorical else np.array([], dtype=object)
    cols = [pd.factorize(np.asarray(v, dtype=object if i != 1 else "int64"), use_na_sentinel=False)
            for i, v in enumerate((cell_type, day, group))]
    rows, digits = combine_codes([codes for codes, _ in cols], [len(uniq) for _, uniq in cols])
    ct, d, g = (np.asarray(uniq, dtype=object)[dig] for dig, (_, uniq) in zip(digits, cols))
    keys = np.array([state_key(a, b, c) for a, b, c in zip(ct, d, g)], dtype=object)  # distinct, as escaping is 1:1
    return pd.Categorical.from_codes(rows, keys) if categorical else keys[rows]


def measurement_key(sample: str, variable: str) -> str:
    """Measurement key: JSON of the pair, so no two (sample, variable) pairs share one."""
    import json

    return json.dumps([str(sample), str(variable)])


def interaction_name(ligand: str, receptor: str) -> str:
    """``LIGAND^RECEPTOR`` — the Interaction key and the name queries take (``CD86^CTLA4``); a '^' or
    '\\' inside a gene name is escaped (``A\\^B^C`` is A^B → C, ``A^B\\^C`` is A → B^C)."""
    return f"{escape(ligand, INTERACTION_SEP)}{INTERACTION_SEP}{escape(receptor, INTERACTION_SEP)}"


def default_run_id(format: str, day: int | str, group: str, sample: str | None = None) -> str:
    """``FORMAT|dDAY|GROUP[|SAMPLE]``, group and sample escaped (group ``a|b`` is not group a, sample b).
    ``day`` is a number of days, or the time part as text (``4h``, ``w2``, a condition's name)."""
    time = escape(day, KEY_SEP) if isinstance(day, str) else f"d{int(day)}"
    rid = f"{format}{KEY_SEP}{time}{KEY_SEP}{escape(group, KEY_SEP)}"
    return rid if sample is None else f"{rid}{KEY_SEP}{escape(sample, KEY_SEP)}"


def contrast_id(kind: str, group: str, day: int, baseline: int, method: str, reference: str | None = None) -> str:
    """``KIND|GROUP|dDAY-vs-dBASELINE|METHOD``; with a reference group the second part is
    ``GROUP-vs-REFERENCE`` and a '-' inside those two names is escaped too."""
    if reference is None:
        groups = escape(group, KEY_SEP)
    else:
        groups = f"{escape(group, KEY_SEP, '-')}-vs-{escape(reference, KEY_SEP, '-')}"
    return f"{kind}{KEY_SEP}{groups}{KEY_SEP}d{int(day)}-vs-d{int(baseline)}{KEY_SEP}{escape(method, KEY_SEP)}"


def small_molecule_name(metabolite: str, enzymes: str) -> str:
    """A small-molecule ligand keeps the metabolite's name, with the gene(s) that make it:
    ``22Hydroxycholesterol(CYP11A1)``, ``5-HT(SLC6A4,TPH1)`` (``enzymes`` '_'-joined, as subunits)."""
    genes = ",".join(sorted({g for g in str(enzymes).split(SUBUNIT_SEP) if g}))
    return f"{metabolite}({genes})" if genes else str(metabolite)


def subunit_genes(name: str) -> list[str]:
    """The genes behind a ligand or receptor name: ``ITGAL_ITGB2`` → ITGAL, ITGB2; a small molecule
    ``22Hydroxycholesterol(CYP11A1)`` → CYP11A1 (the enzymes that make it)."""
    s = str(name)
    if s.endswith(")") and "(" in s:
        return [g for g in s[s.rindex("(") + 1:-1].split(",") if g]
    return [g for g in s.split(SUBUNIT_SEP) if g]


# --- validation -------------------------------------------------------------------------


def _bad_row(mask: np.ndarray | pd.Series) -> int:
    """First offending row, 1-based as people count data rows."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def validate(table: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a canonical interaction table and return it with canonical dtypes and order.

    Raises :class:`~commgraph.errors.InputError` naming the file, column and first row at
    fault. Rows are numbered from 1 in the table's order. The input is not modified.
    """
    where = file or "<table>"
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise InputError(f"missing required column(s) {', '.join(missing)}", file=where, column=missing[0])
    if table.empty:
        raise InputError("no interactions (the table is empty)", file=where)

    index = pd.RangeIndex(len(table))
    renumber = not table.index.equals(index)
    # pandas < 3 can't tell "not a number" from "missing" after to_numeric; _coerce does
    cols = {}
    for col in COLUMNS:
        if col.name in table.columns:
            values = table[col.name].reset_index(drop=True) if renumber else table[col.name]
            cols[col.name] = _coerce(values, col, where)
        elif col.dtype == "float64":
            cols[col.name] = pd.Series(np.full(len(table), np.nan), index=index)
        else:
            cols[col.name] = pd.Series([None] * len(table), index=index,
                                       dtype="category" if col.dtype == "category" else object)
    # columns already canonical are shared with the input, not copied (a 10M-edge table read from
    # Parquet is ~1 GB); nothing downstream writes into a validated table's columns in place
    out = pd.DataFrame(cols, index=index, copy=False)

    for col in (SOURCE, TARGET, LIGAND, RECEPTOR, INTERACTION, PATHWAY, GROUP, METHOD, RUN_ID):
        cats = out[col].cat.categories
        blank = cats[cats.str.strip() == ""]
        empty = out[col].isna() | (out[col].isin(blank) if len(blank) else False)
        if empty.any():
            raise InputError("empty value", file=where, column=col, row=_bad_row(empty))
    units = out[TIME_UNIT].cat.categories
    bad_units = units[~units.isin(TIME_UNITS)]
    if len(bad_units):
        row = _bad_row(out[TIME_UNIT].isin(bad_units))
        raise InputError(f"time unit {bad_units[0]!r} is not one of {', '.join(TIME_UNITS)}", file=where, column=TIME_UNIT, row=row)
    if out[SCORE].isna().any():
        raise InputError("score is missing", file=where, column=SCORE, row=_bad_row(out[SCORE].isna()))
    if not np.isfinite(out[SCORE]).all():
        raise InputError("score is not finite", file=where, column=SCORE, row=_bad_row(~np.isfinite(out[SCORE])))
    p = out[PVALUE]
    outside = p.notna() & ((p < 0) | (p > 1))
    if outside.any():
        row = _bad_row(outside)
        raise InputError(f"p-value {float(p.iloc[row - 1])!r} is outside [0, 1]", file=where, column=PVALUE, row=row)
    dup = _duplicated(out)
    if dup.any():
        row = _bad_row(dup)
        r = out.iloc[row - 1]
        raise InputError(
            f"duplicate row for {r[SOURCE]} -> {r[TARGET]} {r[INTERACTION]}"
            + (f" (sample {r[SAMPLE]})" if pd.notna(r[SAMPLE]) else ""),
            file=where,
            column=INTERACTION,
            row=row,
        )
    for k, v in table.attrs.items():
        out.attrs[k] = v
    return out


def _duplicated(out: pd.DataFrame) -> pd.Series:
    """Rows repeating an earlier row's KEY; the key columns are categorical, so their codes make one
    integer key (hashing one int64 column is several times faster than hashing five)."""
    codes = {c: out[c].cat.codes.to_numpy() for c in KEY}
    # a column with one value throughout (a run's sample and run_id) can't tell rows apart: leave it out
    cols = [c for c in KEY if len(out[c].cat.categories) > 1 or codes[c].min() != codes[c].max()]
    sizes = [len(out[c].cat.categories) + 1 for c in cols]  # +1: code -1 (missing) becomes 0
    span = math.prod(sizes)  # a Python int: no overflow in the test itself
    if span >= 2**62:
        return out.duplicated(list(KEY), keep="first")
    key = np.zeros(len(out), dtype=np.int64)
    for c, size in zip(cols, sizes):
        key *= size
        key += codes[c]
        key += 1
    if span <= 32 * len(out):  # the usual case: mark each key in a bitmap, no hashing
        seen = np.zeros(span, dtype=bool)
        seen[key] = True
        if np.count_nonzero(seen) == len(out):
            return pd.Series(False, index=out.index)
    return pd.Series(pd.Series(key).duplicated(keep="first").to_numpy(), index=out.index)


def _coerce(values: pd.Series, col: Column, where: str) -> pd.Series:
    if col.dtype == "object":
        cats = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else None
        if cats is not None and (cats.dtype == object or len(cats) == 0):
            # kept as it came (CellPhoneDB's per-interaction JSON): the same strings, each held once
            return values
        missing = values.isna()
        if missing.all():  # the usual `extra`: no per-row `where` over millions of nulls
            return pd.Series(np.full(len(values), None, dtype=object), index=values.index, dtype=object, copy=False)
        return values.astype(object).where(~missing, None)
    if col.dtype == "category":
        if isinstance(values.dtype, pd.CategoricalDtype):
            cat = values
        elif values.isna().all():  # e.g. no samples: astype would first infer a type from millions of nulls
            codes = np.full(len(values), -1, dtype=np.int8)
            return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index([], dtype=object))),
                             index=values.index)
        else:
            cat = values.astype("category")
        cats = cat.cat.categories
        if not (cats.dtype == object and all(isinstance(c, str) for c in cats)):
            cat = cat.cat.rename_categories([str(c) for c in cats])
        # drop unused categories (pandas' remove_unused_categories sorts every code: slow on millions)
        codes = cat.cat.codes.to_numpy()
        if len(cats) <= 1:  # a run-wide constant (group, method, run_id, …) or all missing
            return cat if len(cats) == 0 or codes.max() == 0 else cat.cat.set_categories([])
        # codes + 1 fits the codes' own dtype (pandas picks it with room for -1); bin 0 counts the missing
        used = np.bincount(codes + 1, minlength=len(cats) + 1)[1:] > 0
        return cat if used.all() else cat.cat.set_categories(cat.cat.categories[used])
    if col.dtype == "float64":
        if values.dtype == np.float64:
            return values
        num = pd.to_numeric(values, errors="coerce")
        missing = values.isna() | values.astype(str).str.strip().str.upper().isin(["", "NA", "NAN", "NONE"]) \
            if values.dtype == object else values.isna()
        bad = num.isna() & ~missing
        if bad.any():
            row = _bad_row(bad)
            raise InputError(f"{values.iloc[row - 1]!r} is not a number", file=where, column=col.name, row=row)
        return num.astype("float64")
    if col.dtype == "int64":
        if values.dtype == np.int64:
            return values
        num = pd.to_numeric(values, errors="coerce")
        bad = num.isna() | (num.notna() & (num != np.round(num)))
        if bad.any():
            row = _bad_row(bad)
            raise InputError(f"{values.iloc[row - 1]!r} is not a whole number", file=where, column=col.name, row=row)
        return num.astype("int64")
    if col.dtype == "bool":
        if values.dtype == bool:
            return values
        mapped = values.map(_BOOL).astype("object")
        bad = mapped.isna()
        if bad.any():
            row = _bad_row(bad)
            raise InputError(f"{values.iloc[row - 1]!r} is not true/false", file=where, column=col.name, row=row)
        return mapped.astype(bool)
    raise AssertionError(col.dtype)


_BOOL = {True: True, False: False, 1: True, 0: False, "True": True, "False": False, "true": True, "false": False,
         "TRUE": True, "FALSE": False, "1": True, "0": False, "yes": True, "no": False}


def describe_columns() -> pd.DataFrame:
    """The canonical table as a DataFrame (name, dtype, required, meaning), for docs and CLI."""
    return pd.DataFrame([c.__dict__ for c in COLUMNS])
