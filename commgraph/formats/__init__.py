"""Input formats: tools are data.

Each input format is described by one YAML file in ``loaders/`` (``loaders/cellphonedb.yaml``
…): what it reads, which native column becomes the canonical ``score`` (and how it is turned
so that higher = stronger), the p-value, the significance rule, the citation and the native
→ canonical column map. :data:`FORMATS` holds them as :class:`Format` objects; the CLI and
the docs read :func:`formats_table`.

:func:`read` parses one run's output with the format's parser, gives every row a pathway
(the tool's own, else CellChatDB's for the ligand–receptor pair, else a fallback such as
CellPhoneDB's ``classification``, else ``unannotated``), fills the run columns (day, group,
sample, method, run_id) and the provenance columns, and validates the result against the
canonical schema.
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import yaml

from .. import _schema as S
from .._resources import resource_dir
from ..errors import InputError
from ._common import Parsed, check_day, check_options, options_json, read_bytes, read_delimited, scan_delimited
from ._pathways import annotate, annotations, lookup_pathway, pathway_table, read_pathway_table

__all__ = ["FORMATS", "Format", "formats_table", "read", "get_format", "lookup_pathway", "pathway_table",
           "check_day", "read_bytes", "read_delimited", "scan_delimited"]  # the checked text reading, for the other readers

# YAML fields; those named after the canonical column they describe use its constant
_REQUIRED_KEYS = ("name", "title", S.TOOL, S.METHOD, "parser", "reads", S.SCORE, S.PVALUE, S.SIGNIFICANT, "citation")
_OPTIONAL_KEYS = ("columns", S.EXTRA, "options", "methods", "files", "optional_files", "pathway_fallback", "complexes")
# read() options that fill the provenance columns of the same names
PROVENANCE_OPTIONS = (S.TOOL_VERSION, S.DATABASE_VERSION, S.PARAMETERS)


@dataclass(frozen=True)
class Format:
    """One input format, as described by its ``loaders/<name>.yaml``."""

    name: str  # CLI name
    title: str
    tool: str  # value of the canonical ``tool`` column
    method: str  # value of ``method``; "{method}" is filled by the parser (LIANA)
    parser: str  # dotted path of the parse function
    reads: str
    score: Mapping[str, str]  # column, direction (always ends higher = stronger), transform
    pvalue: str | None
    significant: str
    citation: str
    columns: Mapping[str, str] = field(default_factory=dict)  # native -> canonical
    extra: Any = None  # native columns kept in the extra JSON (list, or a sentence)
    options: Mapping[str, str] = field(default_factory=dict)  # parser option -> meaning
    methods: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # LIANA method table
    files: Mapping[str, str] = field(default_factory=dict)  # role -> file name pattern
    optional_files: tuple[str, ...] = ()
    pathway_fallback: str | None = None
    complexes: str | None = None  # bundled complex table (CellChat)
    path: Path | None = None

    @property
    def score_text(self) -> str:
        col, direction, transform = self.score.get("column", ""), self.score.get("direction", ""), self.score.get("transform", "none")
        text = f"{col}, {direction} = stronger"
        return text if transform in ("none", None) else f"{text}; score = {transform}"

    @property
    def extra_text(self) -> str:
        """The tool's other scores kept in ``extra``: a list of columns or a sentence."""
        if not self.extra:
            return "none"
        return self.extra if isinstance(self.extra, str) else ", ".join(map(str, self.extra))

    def parse_function(self) -> Callable[..., Parsed]:
        module, _, func = self.parser.rpartition(".")
        return getattr(importlib.import_module(module), func)

    def option_names(self) -> tuple[str, ...]:
        sig = inspect.signature(self.parse_function())
        return tuple(p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY and p.name != "fmt")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _read_spec(path: Path) -> Format:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise InputError("a format file must hold a mapping", file=str(path))
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    unknown = [k for k in data if k not in _REQUIRED_KEYS + _OPTIONAL_KEYS]
    if missing or unknown:
        raise InputError(
            "format file " + "; ".join(
                part for part in (f"lacks {', '.join(missing)}" if missing else "", f"has unknown keys {', '.join(unknown)}" if unknown else "") if part
            ),
            file=str(path),
            column=(missing or unknown)[0],
        )
    columns = data.get("columns") or {}
    bad = [v for v in columns.values() if v not in S.COLUMN_NAMES]
    if bad:
        raise InputError(f"columns map to unknown canonical column(s) {bad}", file=str(path), column="columns")
    if path.stem != data["name"]:
        raise InputError(f"file name must be {data['name']}.yaml", file=str(path), column="name")
    pvalue, score = data[S.PVALUE], data[S.SCORE]
    return Format(
        name=str(data["name"]),
        title=str(data["title"]),
        tool=str(data[S.TOOL]),
        method=str(data[S.METHOD]),
        parser=str(data["parser"]),
        reads=" ".join(str(data["reads"]).split()),
        score=_freeze(dict(score) if isinstance(score, dict) else {"column": str(score)}),
        pvalue=None if pvalue in (None, "none") else " ".join(str(pvalue).split()),
        significant=" ".join(str(data[S.SIGNIFICANT]).split()),
        citation=" ".join(str(data["citation"]).split()),
        columns=_freeze(dict(columns)),
        extra=_freeze(data.get(S.EXTRA)),
        options=_freeze({k: " ".join(str(v).split()) for k, v in (data.get("options") or {}).items()}),
        methods=_freeze(data.get("methods") or {}),
        files=_freeze(data.get("files") or {}),
        optional_files=tuple(data.get("optional_files") or ()),
        pathway_fallback=data.get("pathway_fallback"),
        complexes=data.get("complexes"),
        path=path,
    )


def _read_specs() -> dict[str, Format]:
    formats = {}
    for path in sorted(resource_dir("loaders").glob("*.yaml")):
        fmt = _read_spec(path)
        formats[fmt.name] = fmt
    return formats


FORMATS: Mapping[str, Format] = MappingProxyType(_read_specs())


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(f"unknown format {name!r}; known formats: {', '.join(sorted(FORMATS))}", column="format") from None


def formats_table() -> pd.DataFrame:
    """The registered formats (name, title, reads, score, pvalue, significant, extra, citation), for
    the CLI and README: every descriptive field of the YAML files."""
    return pd.DataFrame(
        [{"name": f.name, "title": f.title, "reads": f.reads, S.SCORE: f.score_text, S.PVALUE: f.pvalue or "none",
          S.SIGNIFICANT: f.significant, S.EXTRA: f.extra_text, "citation": f.citation} for f in FORMATS.values()]
    )


def _constant(value: Any, n: int, dtype: str) -> Any:
    if dtype == "category":
        if value is None:
            return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object))
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([str(value)]))
    return value


def read(
    format: str,
    source: Any,
    *,
    day: int | str | None = None,
    group: str = S.NO_GROUP,
    sample: str | None = None,
    patient: str | None = None,
    run_id: str | None = None,
    time_unit: str | None = None,
    time_label: str | None = None,
    time_order: Any = None,
    pathways: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """Read one run's result (or, from a long table with time/group/sample columns, many runs)
    into the canonical interaction table (validated).

    ``format`` is a name in :data:`FORMATS`; ``source`` a path or, where the format allows,
    an in-memory object (CellPhoneDB: the dict ``call()`` returns; LIANA: an AnnData with
    ``uns["liana_res"]`` or a DataFrame; CellChat and csv: a DataFrame). ``day``, ``group``
    and ``sample`` describe the run (a file's own sample column, as in LIANA ``by_sample``
    output, wins over ``sample``); ``patient`` names the patient the sample came from (it pairs a
    patient's days in :func:`commgraph.differential`); ``run_id`` defaults to ``"{format}|d{day}|{group}"``
    plus ``"|{sample}"`` when a sample is given.

    Time: ``day`` is a whole number in ``time_unit`` (``day`` by default; ``hour``, ``week``, or
    ``condition`` for unordered conditions) or a text such as ``"4h"``, ``"LPS 4h"``, ``"week 2"``
    (see :func:`commgraph._time.parse_time`); for conditions it is the condition's name (numbered by
    ``time_order``, e.g. ``"control,stimulated"``) or its number with ``time_label`` the name.
    A long table whose parser gives per-row day/group/sample columns (the csv format's
    ``time_col``, ``group_col``, ``sample_col``) becomes one run per (time, group, sample); its
    run ids are ``"{run_id or format}|{time}|{group}[|{sample}]"``.

    ``pathways`` (a CSV path or DataFrame with ligand, receptor, pathway) wins over the bundled
    pathway table. ``options`` go to the format's parser (see ``FORMATS[format].options``),
    except ``tool_version``, ``database_version`` and ``parameters`` (a dict of the run's own
    parameters) which fill the provenance columns. What the reader did that the user should know
    (pairs turned round, pathway coverage) is in ``table.attrs["notes"]``.
    """
    from .. import _time as T

    fmt = get_format(format)
    provenance = {k: options.pop(k) for k in PROVENANCE_OPTIONS if k in options}
    allowed = fmt.option_names()
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise InputError(
            f"format {fmt.name!r} has no option {unknown[0]!r}; its options: {', '.join(allowed + PROVENANCE_OPTIONS)}",
            column=unknown[0],
        )
    unit = None if time_unit is None else T.unit_name(time_unit)
    options = check_options(fmt.parse_function(), options, format=fmt.name)

    parsed: Parsed = fmt.parse_function()(source, fmt=fmt, **options)
    t = parsed.table
    n = len(t)
    if n == 0:
        raise InputError("no interactions", file=parsed.file)
    per_row_time = S.DAY in t.columns
    if per_row_time and day is not None:
        raise InputError("the table has a time column: give no day as well", file=parsed.file, column=S.DAY)
    if not per_row_time and day is None:
        raise InputError("give the run's day (or time: --day 4 --time-unit hour, or a time column for a long table)",
                         file=parsed.file, column=S.DAY)

    # interaction and pathway, once per distinct (ligand, receptor)
    lig = t[S.LIGAND].array if isinstance(t[S.LIGAND].dtype, pd.CategoricalDtype) else pd.Categorical(t[S.LIGAND])
    rec = t[S.RECEPTOR].array if isinstance(t[S.RECEPTOR].dtype, pd.CategoricalDtype) else pd.Categorical(t[S.RECEPTOR])
    combined = lig.codes.astype(np.int64) * (len(rec.categories) + 1) + rec.codes.astype(np.int64)
    pair_codes, pair_keys = pd.factorize(combined)
    pair_lig = np.asarray(lig.categories, dtype=object)[pair_keys // (len(rec.categories) + 1)]
    pair_rec = np.asarray(rec.categories, dtype=object)[pair_keys % (len(rec.categories) + 1)]
    names = np.array([S.interaction_name(a, b) for a, b in zip(pair_lig, pair_rec)], dtype=object)
    user_pathways = read_pathway_table(pathways) if pathways is not None else None
    pathway = annotate(
        pair_codes,
        pair_lig,
        pair_rec,
        own=t[S.PATHWAY] if S.PATHWAY in t.columns else None,
        fallback=parsed.fallback_pathway,
        user=user_pathways,
    )
    out = pd.DataFrame(
        {
            S.SOURCE: t[S.SOURCE].to_numpy() if not isinstance(t[S.SOURCE].dtype, pd.CategoricalDtype) else t[S.SOURCE].array,
            S.TARGET: t[S.TARGET].to_numpy() if not isinstance(t[S.TARGET].dtype, pd.CategoricalDtype) else t[S.TARGET].array,
            S.LIGAND: lig,
            S.RECEPTOR: rec,
            S.INTERACTION: pd.Categorical.from_codes(pair_codes, categories=pd.Index(names)),  # pairs are distinct
            S.PATHWAY: pathway,
            S.SCORE: t[S.SCORE].to_numpy(),
            S.PVALUE: t[S.PVALUE].to_numpy() if S.PVALUE in t.columns else np.full(n, np.nan),
            S.SIGNIFICANT: t[S.SIGNIFICANT].to_numpy(dtype=bool),
        }
    )
    # --- the run columns: constant for a run, per row for a long table ------------------
    if per_row_time:
        day_codes, day_values = pd.factorize(pd.Series(t[S.DAY]).astype(object).where(pd.Series(t[S.DAY]).notna(), None))
        if (day_codes < 0).any():
            raise InputError("timepoint is missing", file=parsed.file, column=parsed.time_column or S.DAY,
                             row=int(np.flatnonzero(day_codes < 0)[0]) + 1)
        numbers, labels, unit = _timepoints(list(day_values), unit, time_order, file=parsed.file,
                                            column=parsed.time_column or S.DAY)
        out[S.DAY] = np.asarray(numbers, dtype=np.int64)[day_codes]
        lab_codes, lab_uniq = pd.factorize(pd.Series(labels, dtype=object))  # None -> -1
        out[S.TIME_LABEL] = pd.Categorical.from_codes(lab_codes[day_codes], categories=pd.Index(lab_uniq, dtype=object))
        time_tokens = np.array([_time_token(v, unit, lab) for v, lab in zip(numbers, labels)], dtype=object)[day_codes]
    else:
        (number,), (label,), unit = _timepoints([day], unit, time_order, file=parsed.file, column=S.DAY)
        if time_label is not None and str(time_label).strip():
            label = str(time_label).strip()
        out[S.DAY] = number
        out[S.TIME_LABEL] = _constant(label, n, "category")
        time_tokens = None
    out[S.TIME_UNIT] = _constant(unit, n, "category")
    per_row_group = S.GROUP in t.columns
    if per_row_group:
        g = pd.Series(t[S.GROUP]).astype("string").str.strip()
        if g.isna().any() or (g == "").any():
            raise InputError("empty group", file=parsed.file, column=parsed.group_column or S.GROUP,
                             row=int(np.flatnonzero((g.isna() | (g == "")).to_numpy())[0]) + 1)
        out[S.GROUP] = pd.Categorical(g.to_numpy(dtype=object))
    else:
        out[S.GROUP] = _constant(str(group), n, "category")  # categorical already: validate needn't convert
    file_has_sample = S.SAMPLE in t.columns and t[S.SAMPLE].notna().any()
    if file_has_sample:
        out[S.SAMPLE] = t[S.SAMPLE].array
    else:
        out[S.SAMPLE] = _constant(None if sample is None else str(sample), n, "category")
    if S.PATIENT in t.columns and t[S.PATIENT].notna().any():
        out[S.PATIENT] = pd.Categorical(pd.Series(t[S.PATIENT]).astype("string").to_numpy(dtype=object, na_value=None))
    else:
        if patient is not None and out[S.SAMPLE].isna().all():
            raise InputError(f"patient {patient!r} is given but the run has no sample (give the sample too)",
                             file=parsed.file, column=S.PATIENT)
        out[S.PATIENT] = _constant(None if patient is None else str(patient), n, "category")
    out[S.METHOD] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[parsed.method])
    if per_row_time or per_row_group or parsed.sample_column:
        # one run per (time, group, sample): a long table holds a study
        base = run_id or fmt.name
        tokens = time_tokens if time_tokens is not None else np.full(n, _time_token(int(out[S.DAY].iloc[0]), unit,
                                                                                     out[S.TIME_LABEL].iloc[0]), dtype=object)
        parts = pd.DataFrame({"t": tokens, "g": np.asarray(out[S.GROUP], dtype=object),
                              "s": np.asarray(out[S.SAMPLE].astype(object).where(out[S.SAMPLE].notna(), ""), dtype=object)})
        codes, uniq = pd.factorize(pd.MultiIndex.from_frame(parts))
        rid = [S.default_run_id(base, a, b, c or None) for a, b, c in uniq]
        out[S.RUN_ID] = pd.Categorical.from_codes(codes, categories=pd.Index(rid))
    else:
        token = _time_token(int(out[S.DAY].iloc[0]), unit, out[S.TIME_LABEL].iloc[0])
        rid = run_id or S.default_run_id(fmt.name, token, str(group), None if sample is None else str(sample))
        out[S.RUN_ID] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[rid])
    run_parameters = provenance.get(S.PARAMETERS) or {}
    if not isinstance(run_parameters, dict):
        raise InputError("parameters must be a dict of the run's parameters", column=S.PARAMETERS)
    params = json.loads(options_json(dict(run_parameters)))
    read_options = {"format": fmt.name, **parsed.options}
    if pathways is not None:
        read_options["pathways"] = str(pathways) if not isinstance(pathways, pd.DataFrame) else "<DataFrame>"
    params["read"] = json.loads(options_json(read_options))
    out[S.TOOL] = _constant(parsed.tool or fmt.tool, n, "category")
    out[S.TOOL_VERSION] = _constant(provenance.get(S.TOOL_VERSION) or parsed.tool_version, n, "category")
    out[S.DATABASE_VERSION] = _constant(provenance.get(S.DATABASE_VERSION) or parsed.database_version, n, "category")
    out[S.PARAMETERS] = _constant(json.dumps(params, sort_keys=True), n, "category")
    out[S.SOURCE_FILES] = _constant(";".join(parsed.source_files) or None, n, "category")
    out[S.EXTRA] = t[S.EXTRA].array if S.EXTRA in t.columns else pd.Series(pd.NA, index=out.index, dtype="string")
    # validate returns the columns in canonical order: selecting them here first copied every column
    table = S.validate(out, file=parsed.file)
    # what the Run and Interaction nodes carry besides the rows (see _graph.build)
    table.attrs["format"] = fmt.name
    table.attrs["annotation"] = annotations(names, pair_lig, pair_rec)
    known = int((np.asarray(table[S.PATHWAY].astype(object)) != S.UNANNOTATED).sum())
    table.attrs["pathway_rows"] = (known, len(table))
    table.attrs["notes"] = [*parsed.notes, coverage_note(known, len(table))]
    return table


def coverage_note(known: int, total: int) -> str:
    """"pathway known for 91% of rows (910 of 1,000)": what a load reports."""
    share = 100.0 * known / total if total else 0.0
    return f"pathway known for {share:.0f}% of rows ({known:,} of {total:,})"


def _time_token(value: int, unit: str, label: Any) -> str:
    """The time part of a default run id: d7 (days, as before units), 4h, w2, or the condition's name."""
    from .. import _time as T

    if unit == T.CONDITION:
        return str(label) if isinstance(label, str) and label else f"c{value}"
    return {T.DAY: f"d{value}", T.HOUR: f"{value}h", T.WEEK: f"w{value}"}[unit]


def _timepoints(values: list, unit: str | None, order: Any, *, file: str, column: str) -> tuple[list[int], list, str]:
    """Numbers, labels and the unit for the distinct timepoints of a read (see _time.parse_time)."""
    from .. import _time as T

    if unit == T.CONDITION:
        labels, numbers = [], []
        named = [v for v in values if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool))]
        try:
            position = T.condition_numbers(named, order) if named else {}
        except InputError as ex:
            raise InputError(ex.message, file=file, column=column) from None
        for v in values:
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                numbers.append(int(v))
                labels.append(None)
            else:
                numbers.append(position[str(v).strip()])
                labels.append(str(v).strip())
        return numbers, labels, unit
    parsed = []
    for v in values:
        try:
            parsed.append(T.parse_time(v.item() if isinstance(v, np.generic) else v, unit))
        except InputError as ex:
            raise InputError(ex.message, file=file, column=column) from None
    units = {u for _, u, _ in parsed}
    if len(units) > 1:  # no unit given and the texts name several: convert to the finest
        finest = min(units, key=T.ORDERED.index)
        return _timepoints(values, finest, order, file=file, column=column)
    numbers = []
    for p in parsed:  # the stores hold 64-bit integers
        try:
            numbers.append(check_day(p[0]))
        except InputError as ex:
            raise InputError(ex.message, file=file, column=column) from None
    return numbers, [p[2] for p in parsed], (units.pop() if units else (unit or T.DEFAULT_UNIT))
