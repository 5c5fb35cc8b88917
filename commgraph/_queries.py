"""Named queries: the ``cypher/*.cypher`` files, their headers, and parameter binding.

A file opens with a header Neo4j Browser ignores and we parse::

    // signaling_by_day: a cell type's signaling per day and group
    // $cell_type string — the cell type | $pathway string = null — only this pathway
    // returns: day, group, n_interactions, total_score
    // :params {cell_type: "MX1+ Mono", pathway: null}

The Python API runs the file's text unchanged (the embedded store only the branches of a UNION
the parameters take, which answer the same rows: see ``branches``), so Browser, notebook and CLI
agree. The ``:params {…}`` line is what a Neo4j Browser user runs first: every parameter at its default (a
required one at an example value), as a map the Browser accepts in one paste (it rejects a block
of ``:param`` lines, and a query with a parameter left unset fails with ``ParameterMissing``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import _schema as S
from ._resources import resource_dir
from .errors import QueryError

TYPES = {"string": str, "int": int, "float": float, "bool": bool}
MAX_STRING = 1_000_000  # a parameter is only ever a value; this just bounds memory

# Values a parameter may take beyond its type, by name (the same meaning in every file): outside
# them an engine fails (LIMIT -1), divides by zero (pseudocount 0) or quietly answers nothing
# (direction "both"), so they are refused with one line before the query runs.
CHOICES = {"direction": ("out", "in"), "status": ("gained", "lost", "up", "down")}
RANGES = {  # name -> (low, high, low included)
    "limit": (0, None, True),
    "pvalue": (0.0, 1.0, True),
    "pseudocount": (0.0, None, False),
    "fold_change": (1.0, None, True),
}

# What "significant" means, said once: the query files can't include one another and must run
# unchanged in Neo4j Browser, so tools/cypher_fragments.py writes these texts into them and
# tests/test_queries.py fails when a file says it any other way. A missing p-value passes, a
# null $pvalue is no cut (parameters are checked: $pvalue in [0, 1]), a null $significant_only
# is no filter.
SIGNIFICANT = "r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)"
SIGNIFICANT_FILTER = f"(({SIGNIFICANT}) OR NOT coalesce($significant_only, false))"
# which path a question takes for n_significant: the per run × interaction summaries count it at
# this cut (InteractionSummary, S.SUMMARY_PVALUE); any other $pvalue reads the SIGNALS edges
SUMMARY_CUT = f"coalesce($pvalue, 1.0) = {S.SUMMARY_PVALUE}"
DETAIL_CUT = f"coalesce($pvalue, 1.0) <> {S.SUMMARY_PVALUE}"

# --- the guard: what a query checks itself, for Neo4j Browser (the Python API checks first) -----
#
# A Browser user sets parameters by hand, and nothing stands between a wrong value and the engine:
# `:param day => "7"` (a string) or a day never sampled would make signaling_change call every
# interaction "lost". So each branch of each file opens with a guard derived from its header (written
# into the files by tools/cypher_fragments.py, checked by tests/test_queries.py): a parameter of the
# wrong type, out of its range, or a cell type, day or group the store has no CellState for, leaves no
# row, and the query answers nothing. Portable: no valueType()/toInteger() (LadybugDB has neither);
# a number is what compares with 0 (a string gives null in Neo4j), an integer a number whose `% 1` is 0
# (Neo4j Browser sends every :params number as a float: 7.0 is a day), under CASE so `% 1` never sees a
# string; coalesce() types a null parameter for LadybugDB's binder and lets null through.

LIVE = "MATCH (run:Run) WITH collect(run.load_id) AS live"  # every SIGNALS read keeps to live runs
GUARD_CARRY = ("live", "1 AS checked")  # after the live-run line; or first in a branch that has none
STATE_DAYS = ("day", "baseline")  # anchored on a CellState, with the file's cell_type and group


def _ref(name: str) -> str:
    return f"$`{name}`" if name == "group" else f"${name}"


def _prop(name: str) -> str:
    return f"x.`{name}`" if name == "group" else f"x.{name}"


def guard_conditions(params: tuple[Param, ...]) -> list[str]:
    """The guard's conditions for a file's parameters: types and ranges, then CellState anchors."""
    out = []
    for p in params:
        ref = _ref(p.name)
        if p.type in ("int", "float"):
            low, high, closed = RANGES.get(p.name, (None, None, True))
            zero = "0" if p.type == "int" else "0.0"
            inside = zero if low is None else _num(low if closed else low + 1, p.type)  # what null stands for
            x = f"coalesce({ref}, {inside})"
            if low is None:
                test = f"({x} >= {zero} OR {x} < {zero})"
            else:
                test = f"{x} {'>=' if closed else '>'} {_num(low, p.type)}"
                if high is not None:
                    test = f"({test} AND {x} <= {_num(high, p.type)})"
            out.append(f"CASE WHEN {test} THEN {x} % 1 = 0 END" if p.type == "int" else test)
        elif p.type == "bool":
            out.append(f"coalesce({ref}, true) IN [true, false]")
        elif p.name in CHOICES:
            choices = ", ".join(json.dumps(c) for c in CHOICES[p.name])
            out.append(f"coalesce({ref}, {json.dumps(CHOICES[p.name][0])}) IN [{choices}]")
    names = {p.name: p for p in params}
    states = [n for n in ("cell_type", "group") if n in names]
    days = [n for n in STATE_DAYS if n in names] or ([None] if states else [])
    for day in days:
        conds = []
        for n in ([day] if day else []) + states:
            prop = _prop("day" if n in STATE_DAYS else n)
            optional = names[n].default is None and not names[n].required  # null: every one; else null matches none
            conds.append(f"({prop} = {_ref(n)} OR {_ref(n)} IS NULL)" if optional else f"{prop} = {_ref(n)}")
        out.append("EXISTS { MATCH (x:CellState) WHERE " + " AND ".join(conds) + " }")
    return out


# --- the path: summary layer or detail edges ------------------------------------------------
#
# An aggregating question reads the summary layer (SUMMARY, or PATHWAY_SUMMARY when given a pathway;
# see commgraph._graph.summaries) when its filters are the ones the summary was computed at: no
# per-interaction filter, min_score exactly SUMMARY_MIN_SCORE, and p-value SUMMARY_PVALUE or
# significance not asked for; otherwise the SIGNALS edges. Each branch of a file says which path it is
# on in one line after its guard (written by tools/cypher_fragments.py from the header): the line lets
# no row through on the other path, so the branch not taken reads nothing. A summary relationship is
# always `m`, and these pick its count, score and top score by $significant_only.
PATH_START = "WITH live AS live WHERE "
PER_INTERACTION = ("ligand", "receptor", "interaction")
SUMMARY_N = "CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END"
SUMMARY_SCORE = "CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END"
SUMMARY_MAX = "CASE WHEN coalesce($significant_only, false) THEN m.max_significant_score ELSE m.max_score END"
PATHS = ("detail", "summary", "pathway_summary")


def summary_condition(params: tuple[Param, ...]) -> str:
    """When a file's parameters let it read the summary layer (any pathway)."""
    names = {p.name for p in params}
    pvalue = f"coalesce($pvalue, -1.0) = {cypher_literal(S.SUMMARY_PVALUE, 'float')}"
    if "min_score" in names:
        conds = [f"coalesce($min_score, -1.0) = {cypher_literal(S.SUMMARY_MIN_SCORE, 'float')}",
                 f"({pvalue} OR NOT coalesce($significant_only, false))"]
    else:  # no score cut (graph_trajectory): the summary holds the significant edges of any score
        conds = [pvalue, "coalesce($significant_only, false)"]
    per = [n for n in PER_INTERACTION if n in names]
    if per:  # the coalesce only types the parameters as strings for LadybugDB's binder (a null one
        # is first seen here, and would be typed BOOL); the IS NULL tests decide
        conds.append(f"coalesce({', '.join('$' + n for n in per)}, \"\") = \"\"")
        conds += [f"${n} IS NULL" for n in per]
    return " AND ".join(conds)


def path_line(params: tuple[Param, ...], path: str, *, by_pathway: bool) -> str:
    """The line after a branch's guard that keeps it to its path; ``by_pathway``: the file has both
    summary branches, and $pathway picks between them (else its one summary branch takes either)."""
    cond = summary_condition(params)
    if path == "detail":
        return f"{PATH_START}NOT ({cond})"
    if not by_pathway:
        return f"{PATH_START}{cond}"
    return f"{PATH_START}{cond} AND $pathway IS {'NOT ' if path == 'pathway_summary' else ''}NULL"


# LadybugDB plans a MATCH apart from the WITH before it and joins them, so the path line alone
# leaves it reading the edges of a branch not taken (350 ms of 10M edges for no row). A test of the
# same condition on the MATCH's own nodes is applied where they are scanned, before any edge is read:
# the node the branch starts from gets one: the first of its first MATCH that the MATCH's WHERE line
# names, else the pattern's first (a key is never null, so on the path it keeps every row). Gating the
# other end too made LadybugDB join instead of expand (8 s instead of 1 s at 10M edges).
# A branch for one direction (WHERE $direction = "out" …) repeats that test in its gate for the
# same reason: the other direction's edges unread (partners at 10M edges 60 → 52 ms, signaling_by_day
# given a ligand 313 → 187 ms).
GATE = "  AND {v}.key = CASE WHEN {cond} THEN {v}.key END"
_FIRST_MATCH = re.compile(r"^MATCH \(\w+:CellState\)")
_STATE_VAR = re.compile(r"\((\w+):CellState\)")
_DIRECTION = re.compile(r'^WHERE (\$direction = "(?:out|in)") AND ')


def branch_direction(where_line: str) -> str | None:
    """The direction test a branch's first WHERE line opens with, if any."""
    m = _DIRECTION.match(where_line)
    return m.group(1) if m else None


def gate_lines(params: tuple[Param, ...], path: str | None, match_line: str, where_line: str, *,
               by_pathway: bool) -> list[str]:
    """The gate line that follows the WHERE line of a branch's first MATCH (see GATE): its path's
    condition (none in a file without a summary path) and its direction, if it has one."""
    conds = [c for c in (branch_direction(where_line),
                         path and path_line(params, path, by_pathway=by_pathway)[len(PATH_START):]) if c]
    if not conds:
        return []
    names = _STATE_VAR.findall(match_line)
    start = next((v for v in names if re.search(rf"\b{v}\.", where_line)), names[0])
    return [GATE.format(v=start, cond=" AND ".join(conds))]


def is_gate(line: str) -> bool:
    return line.startswith("  AND ") and ".key = CASE WHEN " in line


def branch_path(branch_text: str) -> str:
    """Which path a branch's text is on, by the relationship it reads."""
    if ":PATHWAY_SUMMARY]" in branch_text:
        return "pathway_summary"
    return "summary" if ":SUMMARY]" in branch_text else "detail"


def _num(value: float, type_: str) -> str:
    return str(int(value)) if type_ == "int" else cypher_literal(value, "float")


def guard_lines(params: tuple[Param, ...], carry: str) -> list[str]:
    """``WITH <carry> WHERE …`` and ``  AND …`` lines: the guard as it stands in a file."""
    conds = guard_conditions(params)
    if not conds:
        return []
    return [f"WITH {carry} WHERE {conds[0]}"] + [f"  AND {c}" for c in conds[1:]]


_PARAM = re.compile(r"^\$(?P<name>\w+)\s+(?P<type>\w+)(?:\s*=\s*(?P<default>.+?))?\s*[—-]+\s*(?P<doc>.*)$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    required: bool
    doc: str

    def describe(self) -> str:
        d = "" if self.required else f" = {json.dumps(self.default)}"  # as Cypher writes it: null, "all", true
        return f"${self.name} {self.type}{d} — {self.doc}"


@dataclass(frozen=True)
class QuerySpec:
    name: str
    description: str
    params: tuple[Param, ...]
    returns: tuple[str, ...]
    browser: dict[str, Any]  # the header's `:params {…}` map: defaults, required ones at an example value
    text: str
    path: str
    # a UNION's ORDER BY as (column, is-null test, descending) keys: the engines don't keep a
    # branch's order through UNION ALL (LadybugDB collects a branch's rows from parallel
    # threads), so shape() sorts the answer by the order every branch declares
    order: tuple[tuple[str, bool, bool], ...] = ()

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    def bind(self, values: dict[str, Any], *, from_text: bool = False) -> dict[str, Any]:
        """Check names and types, fill defaults. ``from_text``: values are CLI strings."""
        unknown = [k for k in values if k not in self.param_names]
        if unknown:
            raise QueryError(
                f"query {self.name!r} has no parameter {unknown[0]!r}; its parameters are:\n  "
                + "\n  ".join(p.describe() for p in self.params)
            )
        out = {}
        for p in self.params:
            if p.name not in values:
                if p.required:
                    raise QueryError(f"query {self.name!r} needs ${p.name} ({p.type}): {p.doc}")
                out[p.name] = p.default
                continue
            out[p.name] = _convert(self.name, p, values[p.name], from_text)
            _check_value(self.name, p.name, out[p.name])
        return out

    def browser_values(self, values: dict[str, Any] | None = None, *, from_text: bool = False) -> dict[str, Any]:
        """Every parameter for Neo4j Browser: ``values`` (checked like :meth:`bind`) over the
        header's ``:params`` map, in the order the header declares them."""
        values = dict(values or {})
        unknown = [k for k in values if k not in self.param_names]
        if unknown:
            self.bind(values, from_text=from_text)  # raises, listing the parameters
        out = {}
        for p in self.params:
            if p.name in values:
                out[p.name] = _convert(self.name, p, values[p.name], from_text)
                _check_value(self.name, p.name, out[p.name])
            else:
                out[p.name] = self.browser.get(p.name, p.default)
        return out

    def browser_line(self, values: dict[str, Any] | None = None, *, from_text: bool = False) -> str:
        """The ``:params {…}`` line Neo4j Browser takes in one paste, ``values`` over the defaults."""
        got = self.browser_values(values, from_text=from_text)
        return params_line({p.name: (got[p.name], p.type) for p in self.params})

    @property
    def browser_integers(self) -> tuple[str, ...]:
        """Parameters Neo4j needs as integers (``LIMIT $x``, ``SKIP $x``). Neo4j Browser reads a
        ``:params`` map itself and makes every number a float (``limit: 20`` arrives as 20.0, which
        LIMIT refuses; a day compares equal either way), so these get a ``:param x => 20`` line of
        their own, whose right-hand side the server evaluates: an integer."""
        used = set(re.findall(r"\b(?:LIMIT|SKIP)\s+\$`?(\w+)", self.text))
        return tuple(p.name for p in self.params if p.name in used and p.type == "int")

    def browser_lines(self, values: dict[str, Any] | None = None, *, from_text: bool = False) -> list[str]:
        """The Browser commands that set every parameter, to run one at a time before the query:
        the ``:params {…}`` line, then a ``:param x => n`` line per :attr:`browser_integers`."""
        got = self.browser_values(values, from_text=from_text)
        return [self.browser_line(got)] + [f":param {k} => {cypher_literal(got[k], 'int')}"
                                           for k in self.browser_integers if got[k] is not None]

    def for_browser(self, values: dict[str, Any] | None = None, *, from_text: bool = False) -> str:
        """What to paste into Neo4j Browser: :meth:`browser_lines` (run each first), a blank line,
        then the query (the file without its own ``// :params`` comment, which shows the defaults)."""
        query = "\n".join(line for line in self.text.splitlines() if not _is_params_comment(line))
        lines = "\n".join(self.browser_lines(values, from_text=from_text))
        return f"{lines}\n\n{query.rstrip()}\n"

    def shape(self, df: pd.DataFrame) -> pd.DataFrame:
        if len(df.columns) == 0:  # an empty answer from the embedded engine has no columns
            return pd.DataFrame(columns=list(self.returns))
        if list(df.columns) != list(self.returns):
            raise AssertionError(f"{self.path}: returns {list(df.columns)}, header says {list(self.returns)}")
        df = _in_order(df, self.order) if self.order else df.reset_index(drop=True)
        for col in df.columns:
            # a count summed from integers (InteractionSummary.n_pairs): LadybugDB sums INT64 to
            # INT128, which reaches pandas as float; counts are integers on both engines
            if col.startswith("n_") and df[col].dtype.kind == "f" and len(df) and df[col].notna().all() \
                    and (df[col] % 1 == 0).all():
                df[col] = df[col].astype("int64")
        for col in df.columns:  # the graph files' nodes and edges: one form from both engines
            if df[col].dtype == object and _holds_elements(df[col]):
                df[col] = [element_properties(v) for v in df[col]]
        return df

    @property
    def draws(self) -> bool:
        """Whether the file returns nodes and edges for Neo4j Browser's graph view (``graph_*``)."""
        return self.name.startswith("graph_")

    @property
    def group(self) -> str:
        """Its heading in ``commgraph queries`` and its folder among Neo4j Browser favourites."""
        return GROUPS[1] if self.draws else GROUPS[0]

    def header(self) -> str:
        return "\n".join(
            [f"{self.name}: {self.description}"]
            + [f"  {p.describe()}" for p in self.params]
            + [f"  returns: {', '.join(self.returns)}"]
        )


def _is_element(value: Any) -> bool:
    """A node or relationship: the Neo4j driver's objects, or LadybugDB's dicts (``_LABEL``, ``_ID``)."""
    if isinstance(value, dict):
        return "_LABEL" in value and "_ID" in value
    return hasattr(value, "element_id") and hasattr(value, "items")


def _holds_elements(column: pd.Series) -> bool:
    """Whether a returned column holds nodes or relationships. A Cypher column holds one kind of
    value (or null), so its first non-null value tells; testing every value cost more than the
    engine's work for answers of 10k+ rows (at 10M edges: 16 ms of signaling_change's, 150 ms of the
    catalogue's)."""
    for value in column:
        if value is not None and not (isinstance(value, float) and value != value):  # not null, not NaN
            return _is_element(value)
    return False


def element_properties(value: Any) -> dict[str, Any] | None:
    """A node's or relationship's properties as a plain dict, the same from both engines: LadybugDB
    gives every property of the table (unset ones null) plus its internal ids, Neo4j only what is set.
    An edge's load id is left out: bookkeeping of the load that wrote it (see README, the graph model),
    different in every store that holds the same run."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return {k: v for k, v in sorted(value.items()) if not k.startswith("_") and v is not None and k != S.LOAD_ID}


def _convert(query: str, p: Param, value: Any, from_text: bool) -> Any:
    out = _convert_type(query, p, value, from_text)
    if isinstance(out, int) and not isinstance(out, bool) and not S.INT64_MIN <= out <= S.INT64_MAX:
        raise QueryError(f"query {query!r}: ${p.name} = {out} is out of range (a 64-bit integer)")
    return out


def _convert_type(query: str, p: Param, value: Any, from_text: bool) -> Any:
    if value is None:
        if p.required:
            raise QueryError(f"query {query!r}: ${p.name} can't be null")
        return None
    want = TYPES[p.type]
    if from_text and isinstance(value, str):
        if value.lower() == "null" and not p.required:
            return None
        try:
            if want is bool:
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                return value.lower() in ("true", "1")
            return want(value)
        except ValueError:
            raise QueryError(f"query {query!r}: ${p.name} must be {p.type}, got {value!r}") from None
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if want is int and hasattr(value, "is_integer") and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise QueryError(f"query {query!r}: ${p.name} must be {p.type}, got {type(value).__name__} {value!r}")
    if want is str and len(value) > MAX_STRING:
        raise QueryError(f"query {query!r}: ${p.name} is longer than {MAX_STRING:,} characters")
    return value


def _check_value(query: str, name: str, value: Any) -> None:
    if value is None:
        return
    if name in CHOICES and value not in CHOICES[name]:
        raise QueryError(f"query {query!r}: ${name} must be one of {', '.join(CHOICES[name])}, not {value!r}")
    if name in RANGES:
        low, high, closed = RANGES[name]
        if (value < low if closed else value <= low) or (high is not None and value > high):
            want = (f"between {low:g} and {high:g}" if high is not None
                    else f"at least {low:g}" if closed else f"greater than {low:g}")
            raise QueryError(f"query {query!r}: ${name} must be {want}, got {value!r}")


def _literal(text: str, type_: str) -> Any:
    text = text.strip()
    if text == "null":
        return None
    if type_ == "string":
        return text.strip("\"'")
    if type_ == "bool":
        return text.lower() == "true"
    return TYPES[type_](text)


# --- the `:params {…}` line: a Cypher map literal (the Browser reads it with jsonic) -------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<float>-?\d+\.\d+(?:[eE][-+]?\d+)?)|(?P<int>-?\d+)"""
    r"""|(?P<word>[A-Za-z_]\w*)|(?P<punct>[{}:,]))"""
)


def cypher_literal(value: Any, type_: str) -> str:
    """``value`` as a literal of parameter type ``type_``: null, true/false, an int without
    quotes, a float with a decimal point, a double-quoted string."""
    if value is None:
        return "null"
    if type_ == "bool":
        return "true" if value else "false"
    if type_ == "int":
        return str(int(value))
    if type_ == "float":
        text = repr(float(value))
        if text in ("nan", "inf", "-inf"):
            raise QueryError(f"{value!r} has no Cypher literal")
        mantissa, _, exponent = text.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        return mantissa + (f"e{exponent}" if exponent else "")
    return json.dumps(str(value), ensure_ascii=False)


def params_line(values: dict[str, tuple[Any, str]]) -> str:
    """``:params {name: literal, …}`` from ``{name: (value, type)}``."""
    return ":params {" + ", ".join(f"{k}: {cypher_literal(v, t)}" for k, (v, t) in values.items()) + "}"


def parse_params_map(text: str) -> dict[str, Any]:
    """A ``{key: literal, …}`` map of null, true/false, ints, floats and double-quoted strings
    (what a ``:params`` line holds) as a dict; a QueryError when it is anything else."""
    pos, tokens = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"can't read the :params map at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    words = {"null": None, "true": True, "false": False}
    out: dict[str, Any] = {}
    it = iter(tokens)

    def expect(kind, value=None):
        tok = next(it, None)
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            raise QueryError(f"the :params map {text!r} is not a map of literals (at {tok!r})")
        return tok[1]

    expect("punct", "{")
    tok = next(it, None)
    while tok != ("punct", "}"):
        if tok is None or tok[0] != "word":
            raise QueryError(f"the :params map {text!r} is not a map of literals (at {tok!r})")
        key = tok[1]
        expect("punct", ":")
        kind, raw = next(it, (None, None))
        if kind == "string":
            value = json.loads(raw)
        elif kind == "int":
            value = int(raw)
        elif kind == "float":
            value = float(raw)
        elif kind == "word" and raw in words:
            value = words[raw]
        else:
            raise QueryError(f"the :params map {text!r}: {key} has no literal value")
        if key in out:
            raise QueryError(f"the :params map {text!r} names {key} twice")
        out[key] = value
        tok = next(it, None)
        if tok == ("punct", ","):
            tok = next(it, None)
        elif tok != ("punct", "}"):
            raise QueryError(f"the :params map {text!r} is not a map of literals (at {tok!r})")
    if next(it, None) is not None:
        raise QueryError(f"the :params map {text!r} has text after its closing brace")
    return out


def _is_params_comment(line: str) -> bool:
    return line.startswith("//") and line[2:].strip().startswith(":params ")


def parse(text: str, path: str = "<text>") -> QuerySpec:
    header = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        header.append(line[2:].strip())
    if not header or ":" not in header[0]:
        raise QueryError(f"{path}: a named query opens with '// name: description'")
    name, description = (s.strip() for s in header[0].split(":", 1))
    params, returns, browser = [], (), {}
    for line in header[1:]:
        if line.startswith("$"):
            for part in line.split(" | "):
                m = _PARAM.match(part.strip())
                if not m or m["type"] not in TYPES:
                    raise QueryError(f"{path}: can't read parameter {part!r} (want '$name type [= default] — doc')")
                required = m["default"] is None
                default = None if required else _literal(m["default"], m["type"])
                params.append(Param(m["name"], m["type"], default, required, m["doc"].strip()))
        elif line.startswith("returns:"):
            returns = tuple(c.strip() for c in line.split(":", 1)[1].split(","))
        elif line.startswith(":params "):
            try:
                browser = parse_params_map(line[len(":params "):])
            except QueryError as ex:
                raise QueryError(f"{path}: {ex}") from None
    return QuerySpec(name, description, tuple(params), returns, browser, text, path, _union_order(text, path, returns))


_UNION = re.compile(r"^\s*UNION(?:\s+ALL)?\s*$", re.M | re.I)
_FINAL_ORDER = re.compile(r"\bRETURN\b(?:(?!\bRETURN\b).)*?\bORDER\s+BY\s+(?P<keys>.+?)\s*(?:\bSKIP\b|\bLIMIT\b|$)", re.S | re.I)
_ORDER_KEY = re.compile(r"^`?(?P<col>\w+)`?(?P<null>\s+IS\s+NULL)?(?:\s+(?P<dir>ASC|DESC))?$", re.I)


def _union_order(text: str, path: str, returns: tuple[str, ...]) -> tuple[tuple[str, bool, bool], ...]:
    """The ORDER BY that ends every branch of a UNION, as sort keys on returned columns; ``()``
    for a query without UNION (the engine orders it). Branches that disagree are an error."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    branches = _UNION.split(body)
    if len(branches) < 2:
        return ()
    orders = set()
    for branch in branches:
        m = None
        for m in _FINAL_ORDER.finditer(branch):
            pass
        if m is None or re.search(r"\bRETURN\b", branch[m.end():], re.I):
            raise QueryError(f"{path}: every branch of a UNION ends 'RETURN … ORDER BY …' (the answer is sorted by it)")
        orders.add(" ".join(m["keys"].split()))
    if len(orders) > 1:
        raise QueryError(f"{path}: the branches of the UNION order differently: {sorted(orders)}")
    keys = orders.pop()
    got = _order_keys(keys)
    if got is None or any(col not in returns for col, _, _ in got):
        raise QueryError(f"{path}: can't sort by {keys!r} (want returned columns [IS NULL] [DESC])")
    return got


def _in_order(df: pd.DataFrame, order: tuple[tuple[str, bool, bool], ...]) -> pd.DataFrame:
    """``df`` sorted as Cypher's ORDER BY would: null is the largest value (last ascending,
    first descending) on both engines; ties keep the engine's order."""
    keys, ascending = {}, []
    for i, (col, is_null, desc) in enumerate(order):
        keys[f"{i}n"] = df[col].isna().to_numpy()
        ascending.append(not desc)
        if not is_null:
            keys[f"{i}v"] = df[col].to_numpy()
            ascending.append(not desc)
    rank = pd.DataFrame(keys).sort_values(list(keys), ascending=ascending, kind="stable", na_position="last").index
    return df.iloc[rank].reset_index(drop=True)


# --- the branches a call takes (embedded) -----------------------------------------------------
# A branch of a UNION with a path or a direction has a gate on its first MATCH: a test on parameters
# alone that lets a row through only when it is true (GATE, or lr_trajectory's `CASE WHEN … THEN
# true ELSE v.key IS NULL END`: a key is never null). LadybugDB plans every branch of a text on every
# run, whatever the store's size: at 10M edges signaling_by_day's six branches take 80-100 ms, the one
# a default call takes 18 ms alone. So the embedded store asks the engine which gates hold (one small
# RETURN: the engine's own semantics, no second reading of Cypher in Python) and runs the branches
# taken as the same UNION ALL: the others answer nothing, so the rows are the same
# (tests/test_query_parity.py compares them with Neo4j running the whole file, as a Browser user does).
# Both texts open with TYPING: LadybugDB types a parameter at its first use (`$sender IS NULL` makes
# it a boolean), and the whole file's first uses may be in a branch left out.
_GATE_LINES = (re.compile(r"^\s+AND (\w+)\.key = CASE WHEN (?P<cond>.+) THEN \1\.key END\s*(?://.*)?$"),
               re.compile(r"^\s+AND CASE WHEN (?P<cond>.+) THEN true ELSE \w+\.key IS NULL END\s*(?://.*)?$"))
_UNION_ALL = re.compile(r"^\s*UNION\s+ALL\s*$", re.M | re.I)
_TYPED = {"string": '""', "int": "0", "float": "0.0", "bool": "false"}


@dataclass(frozen=True)
class Branch:
    text: str
    gate: str | None  # a condition on parameters alone the branch needs to be true; None: always run


@functools.lru_cache(maxsize=256)
def branches(text: str) -> tuple[Branch, ...]:
    """A UNION ALL's branches with their gates; one ungated branch for any other text."""
    parts = _UNION_ALL.split(text)
    if len(parts) < 2 or len(_UNION.findall(text)) != len(parts) - 1:  # a plain UNION too: run it whole
        return (Branch(text, None),)
    out = []
    for part in parts:
        conds = [m["cond"] for line in part.splitlines() for g in _GATE_LINES if (m := g.match(line))]
        if not all(_on_parameters_alone(c) for c in conds):
            conds = []  # a gate that reads the graph is no gate here: the branch always runs
        out.append(Branch(part.strip("\n"), " AND ".join(f"({c})" for c in conds) if conds else None))
    return tuple(out)


_GATE_WORDS = {"and", "or", "not", "is", "null", "true", "false", "in", "coalesce", "case", "when", "then", "else", "end"}


def _on_parameters_alone(cond: str) -> bool:
    """Whether a condition names nothing but parameters and literals: its value is then the call's
    alone (the same for every store), so a store may keep it per parameter set."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"|\$`\w+`|\$\w+|\b\d+(?:\.\d+)?\b', " ", cond)
    return all(w.lower() in _GATE_WORDS for w in re.findall(r"[A-Za-z_]\w*", bare)) and "." not in bare


def typing(params: tuple[Param, ...], text: str) -> str:
    """``WITH coalesce($p, <a value of its type>) AS …`` for each parameter ``text`` uses."""
    used = [p for p in params if re.search(rf"\$`?{p.name}`?(?!\w)", text)]
    if not used:
        return ""
    return "WITH " + ", ".join(f"coalesce({_ref(p.name)}, {_TYPED[p.type]}) AS typed_{p.name}" for p in used)


def gate_probe(spec: QuerySpec, parts: tuple[Branch, ...]) -> str | None:
    """One RETURN of every gate (``g0``, ``g1``, … by branch); None when no branch is gated."""
    gates = [f"({b.gate}) AS g{k}" for k, b in enumerate(parts) if b.gate]
    if not gates:
        return None
    return f"{typing(spec.params, ' '.join(b.gate for b in parts if b.gate))}\nRETURN {', '.join(gates)}".lstrip()


def taken(spec: QuerySpec, parts: tuple[Branch, ...], held: dict[str, bool]) -> str | None:
    """The text of the branches a call takes, given the probe's answers (``g{k}`` → true); None
    when none is taken (the caller runs the whole file, which answers nothing)."""
    keep = [b.text for k, b in enumerate(parts) if b.gate is None or held.get(f"g{k}") is True]
    if not keep or len(keep) == len(parts):
        return None
    text = "\nUNION ALL\n".join(keep)
    return f"{typing(spec.params, text)}\n{text}".lstrip()


_ORDER_LINE = re.compile(r"^ORDER\s+BY\s+(?P<keys>.+?)\s*(?://.*)?$", re.I)


def unsorted(spec: QuerySpec, text: str) -> str:
    """``text`` (a named query's file, or the branches a call takes) without the ORDER BY line that
    ends each branch of its UNION, for an engine whose rows :meth:`QuerySpec.shape` sorts by those
    keys anyway. LadybugDB's sort was a tenth to a fifth of an answer of 10k+ rows at 10M edges
    (lr_trajectory of an interaction, 17k rows: 98 -> 77 ms end to end; measured). Kept: an ORDER
    BY with SKIP or LIMIT after it, one inside a WITH, and those of a file that draws (its nodes and
    edges may tie on the keys). The keys order the rows of every shipped file fully
    (tests/test_queries.py), so the answer is the one the engine sorted."""
    if not spec.order or spec.draws:
        return text
    lines = text.splitlines()
    out = []
    for k, line in enumerate(lines):
        m = _ORDER_LINE.match(line)
        if m and _order_keys(m["keys"]) == spec.order and _ends_branch(lines[k + 1:]):
            continue
        out.append(line)
    return "\n".join(out)


def _order_keys(keys: str) -> tuple[tuple[str, bool, bool], ...] | None:
    got = []
    for item in keys.split(","):
        k = _ORDER_KEY.match(item.strip())
        if not k:
            return None
        got.append((k["col"], bool(k["null"]), (k["dir"] or "").upper() == "DESC"))
    return tuple(got)


def _ends_branch(rest: list[str]) -> bool:
    """Whether nothing but blank and comment lines come before the next UNION or the end."""
    for line in rest:
        if _UNION.match(line):
            return True
        if line.strip() and not line.lstrip().startswith("//"):
            return False
    return True


@functools.cache
def _all() -> dict[str, QuerySpec]:
    specs = {}
    for path in sorted(resource_dir("cypher").glob("*.cypher")):
        spec = parse(path.read_text(), str(path))
        if spec.name != path.stem:
            raise QueryError(f"{path}: header names {spec.name!r}, file is {path.stem!r}")
        specs[spec.name] = spec
    return specs


def get_query(name: str) -> QuerySpec:
    try:
        return _all()[name]
    except KeyError:
        raise QueryError(f"no named query {name!r}; known: {', '.join(_all())}") from None


GROUPS = ("questions", "graph views")  # tables; nodes and edges to draw in Neo4j Browser
FAVORITES_ZIP = "commgraph-favorites.zip"


def favorite_path(spec: QuerySpec) -> str:
    """Where a query goes in the favourites zip: ``commgraph <group>/<name>.cypher``. Neo4j Browser
    5.x files each ``.cypher`` entry of a dropped zip as a favourite in a folder named after its
    directory, and names the favourite after its first line without the ``//``: the query's
    ``name: description``, as ``commgraph queries`` lists it."""
    return f"commgraph {spec.group}/{spec.name}.cypher"


def browser_favorites(directory) -> list:
    """Write Neo4j Browser favourites of every named query to ``directory``: ``commgraph-favorites.zip``
    (drag it onto the Browser window: the Browser 5.x favourites drawer has no import button, its
    file drop takes a zip of ``.cypher`` files) and the style ``commgraph.grass`` (dragged the same
    way). Returns the paths written. The zip is the same bytes for the same query files."""
    import zipfile
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    target = out / FAVORITES_ZIP
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for spec in sorted(_all().values(), key=lambda s: (GROUPS.index(s.group), s.name)):
            info = zipfile.ZipInfo(favorite_path(spec), date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, spec.text)
    style = out / "commgraph.grass"
    style.write_text((resource_dir("cypher") / "commgraph.grass").read_text())
    return [target, style]


def list_queries() -> pd.DataFrame:
    """The named queries: name, description, parameters, returned columns."""
    return pd.DataFrame(
        [
            {
                "name": s.name,
                "description": s.description,
                "parameters": "; ".join(p.describe() for p in s.params),
                "returns": ", ".join(s.returns),
            }
            for s in _all().values()
        ],
        columns=["name", "description", "parameters", "returns"],
    )
