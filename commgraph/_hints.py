"""Hints: why an answer is empty, or why there is no answer at all.

A question about a cell type, day, baseline or group the store doesn't have (or a cell type
never seen on that day in that group) gets a hint naming the valid values, never rows: a
comparison against a day that was never sampled would otherwise list every interaction as
"lost". :func:`state_hint` checks only those (one small read of the CellStates, done before
a query runs); :func:`hint_for` also checks pathway, interaction, genes, method and direction
(done when an answer came back empty).

Stores call this module, so it imports nothing above ``_schema``: a store is only used
through its ``cell_states()`` and ``cypher()`` methods.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _schema as S

if TYPE_CHECKING:
    from .stores import Store

_PATHWAYS = f"MATCH (p:{S.PATHWAY_NODE}) RETURN p.{S.NAME} AS {S.NAME} ORDER BY {S.NAME}"
_INTERACTIONS = (
    f"MATCH (i:{S.INTERACTION_NODE}) RETURN i.{S.NAME} AS {S.INTERACTION}, i.{S.LIGAND} AS {S.LIGAND}, "
    f"i.{S.RECEPTOR} AS {S.RECEPTOR} ORDER BY {S.INTERACTION}"
)
_GENES = f"MATCH (g:{S.GENE}) RETURN g.{S.SYMBOL} AS {S.SYMBOL} ORDER BY {S.SYMBOL}"
_METHODS = f"MATCH (run:{S.RUN}) RETURN DISTINCT run.{S.METHOD} AS {S.METHOD} ORDER BY {S.METHOD}"
_CONTRASTS = (f"MATCH (k:{S.CONTRAST}) RETURN k.{S.KIND} AS {S.KIND}, k.`{S.GROUP}` AS `{S.GROUP}`, "
              f"k.{S.REFERENCE} AS {S.REFERENCE}, k.{S.DAY} AS {S.DAY}, k.{S.ID} AS {S.ID} ORDER BY {S.ID}")
_VARIABLES = f"MATCH (m:{S.MEASUREMENT}) RETURN DISTINCT m.{S.VARIABLE} AS {S.VARIABLE} ORDER BY {S.VARIABLE}"

CELL_TYPE_PARAMS = ("cell_type", "sender", "receiver", "partner")
DAY_PARAMS = ("day", "baseline")
DIRECTIONS = ("out", "in")
MAX_LISTED = 20


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _unknown(kind: str, param: str, value: Any, known: list) -> str:
    msg = f"no {kind} {_show(value)} (${param}) in the store"
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=3) if isinstance(value, str) else []
    if close:
        msg += f"; did you mean {' or '.join(repr(c) for c in close)}?"
    shown = ", ".join(str(k) for k in known[:MAX_LISTED]) + (", …" if len(known) > MAX_LISTED else "")
    return msg + f" (known: {shown or 'none'})"


def _asks_about_states(params: Mapping[str, Any]) -> bool:
    """Whether ``params`` name a cell type, day, baseline or group (what :func:`state_hint` checks)."""
    return any(params.get(p) is not None for p in (*CELL_TYPE_PARAMS, *DAY_PARAMS, S.GROUP))


def state_hint(store: Store, params: Mapping[str, Any]) -> str | None:
    """A hint when ``params`` name a cell type, day, baseline or group the store doesn't have,
    or a cell type × day × group that never occurs; None when all of them exist.

    Checked before a query runs: without it, ``top_changes`` against a day never sampled would
    list every interaction of the other day as gained or lost.

    >>> state_hint(store, {"day": 3, "group": "high"})                                 # doctest: +SKIP
    "no day 3 ($day) in the store (known: 0, 7)"
    """
    given = {k: v for k, v in params.items() if v is not None}
    return "; ".join(_state_problems(store, given)) or None


def _state_problems(store: Store, given: Mapping[str, Any]) -> list[str]:
    if not _asks_about_states(given):
        return []
    problems: list[str] = []
    states = store.cell_states()
    cell_types = sorted(states[S.CELL_TYPE_PROP].unique().tolist()) if len(states) else []
    days = sorted(int(d) for d in states[S.DAY].unique()) if len(states) else []
    groups = sorted(states[S.GROUP].unique().tolist()) if len(states) else []
    for p in CELL_TYPE_PARAMS:
        if p in given and given[p] not in cell_types:
            problems.append(_unknown("cell type", p, given[p], cell_types))
    # the study's time unit only words a problem: read when there is one (this check runs before
    # every question, and on Neo4j each read is a round trip)
    shower = functools.cache(lambda: _time_shower(store))
    for p in DAY_PARAMS:
        if p in given and given[p] not in days:
            show = shower()
            if show is None:
                problems.append(_unknown("day", p, given[p], days))
            else:  # a study timed in hours, weeks or conditions: say it in its unit
                known = ", ".join(show(d) for d in days[:MAX_LISTED]) + (", …" if len(days) > MAX_LISTED else "")
                problems.append(f"no time {show(given[p])} (${p} = {given[p]}) in the store (known: {known or 'none'})")
    if S.GROUP in given and given[S.GROUP] not in groups:
        problems.append(_unknown("group", S.GROUP, given[S.GROUP], groups))
    if not problems and len(states):
        problems += _missing_states(states, given, shower)
    return problems


def _time_shower(store: Store):
    """None for a study in days (hints as before); else value -> "4 h" / "LPS 4h" / "stimulated"."""
    from ._time import DAY, time_text

    try:
        unit = store.time_unit()
    except Exception:  # noqa: BLE001 - a store without the time properties is a study in days
        return None
    if unit == DAY:
        return None
    labels = store.time_labels()
    return lambda v: time_text(v, unit, labels.get(int(v)) if isinstance(v, (int, float)) else None)


def hint_for(store: Store, params: Mapping[str, Any]) -> str | None:
    """Why a query may have come back empty: parameter values the store doesn't know.

    Checks ``cell_type``/``sender``/``receiver``/``partner`` against the cell types,
    ``day``/``baseline`` against the days, ``group`` against the groups, then the
    combination cell type × day × group, and ``pathway``, ``interaction``, ``ligand``,
    ``receptor``, ``gene``, ``method`` and ``direction``. Returns one message naming the
    valid values (with close matches), or None when every value is known (then the answer
    is empty because nothing passed the filters).

    >>> hint_for(store, {"cell_type": "MX1 Mono", "day": 7, "group": "high"})          # doctest: +SKIP
    "no cell type 'MX1 Mono' ($cell_type) in the store; did you mean 'MX1+ Mono'? (known: ...)"
    """
    given = {k: v for k, v in params.items() if v is not None}
    problems: list[str] = []
    if given.get("direction") is not None and given["direction"] not in DIRECTIONS:
        problems.append(f"$direction must be \"out\" or \"in\", not {_show(given['direction'])}")
    problems += _state_problems(store, given)

    if "pathway" in given:
        known = store.cypher(_PATHWAYS)
        known = known[S.NAME].tolist() if len(known) else []
        if given["pathway"] not in known:
            problems.append(_unknown("pathway", "pathway", given["pathway"], known))
    if any(p in given for p in (S.INTERACTION, S.LIGAND, S.RECEPTOR)):
        inter = store.cypher(_INTERACTIONS)
        for p in (S.INTERACTION, S.LIGAND, S.RECEPTOR):
            known = sorted(set(inter[p])) if len(inter) else []
            if p in given and given[p] not in known:
                problems.append(_unknown(p, p, given[p], known))
    if "gene" in given:
        genes = store.cypher(_GENES)
        known = genes[S.SYMBOL].tolist() if len(genes) else []
        if given["gene"] not in known:
            problems.append(_unknown("gene", "gene", given["gene"], known))
    if "fdr" in params and S.DAY in given:  # a question about stored contrasts
        problems += _contrast_problems(store, given)
    if "score" in given:
        known = store.cypher(_VARIABLES)
        known = known[S.VARIABLE].tolist() if len(known) else []
        if given["score"] not in known:
            problems.append(_unknown("clinical score", "score", given["score"], known)
                            + ("" if known else "; load a sample sheet: commgraph samples load SHEET"))
    if S.METHOD in given:
        methods = store.cypher(_METHODS)
        known = [m for m in methods[S.METHOD].tolist() if m is not None] if len(methods) else []
        if given[S.METHOD] not in known:
            problems.append(_unknown("method", S.METHOD, given[S.METHOD], known))
    return "; ".join(problems) or None


def _contrast_problems(store: Store, given: Mapping[str, Any]) -> list[str]:
    """No contrast computed for the group and day asked about (with the reference, if any)."""
    c = store.cypher(_CONTRASTS)
    ref = given.get(S.REFERENCE)
    if len(c):
        want = (c[S.DAY] == given[S.DAY]) & (c[S.GROUP] == given.get(S.GROUP, S.NO_GROUP))
        want &= (c[S.REFERENCE] == ref) if ref is not None else c[S.REFERENCE].isna()
        if want.any():
            return []
    what = f"group {given.get(S.GROUP, S.NO_GROUP)!r}, day {given[S.DAY]}" + (f" vs group {ref!r}" if ref else "")
    shown = ", ".join(c[S.ID].tolist()[:MAX_LISTED]) if len(c) else "none"
    return [f"no contrast computed for {what} (computed: {shown}); run `commgraph differential`"]


def _missing_states(states: pd.DataFrame, given: Mapping[str, Any], shower=lambda: None) -> list[str]:
    """Known cell type, day and group that never occur together. ``shower()``: None for a study in
    days, else how to word a time (see :func:`_time_shower`); called only to word a problem."""
    out = []

    def word() -> str:
        return "day" if shower() is None else "time"

    def t(v) -> str:
        show = shower()
        return str(int(v)) if show is None else show(int(v))

    group = given.get(S.GROUP)
    for p in CELL_TYPE_PARAMS:
        if p not in given:
            continue
        mine = states[states[S.CELL_TYPE_PROP] == given[p]]
        if group is not None:
            mine = mine[mine[S.GROUP] == group]
            if mine.empty:
                have = sorted(states.loc[states[S.CELL_TYPE_PROP] == given[p], S.GROUP].unique())
                out.append(f"{given[p]!r} has no cell state in group {group!r} (its groups: {', '.join(have)})")
                continue
        for d in DAY_PARAMS:
            if d in given and given[d] not in set(mine[S.DAY]):
                where = f" in group {group!r}" if group is not None else ""
                have = ", ".join(t(x) for x in sorted(mine[S.DAY].unique()))
                out.append(f"{given[p]!r} has no cell state on {word()} {t(given[d])}{where} (its {word()}s: {have})")
    if not out and group is not None:
        in_group = states[states[S.GROUP] == group]
        for d in DAY_PARAMS:
            if d in given and given[d] not in set(in_group[S.DAY]):
                have = ", ".join(t(x) for x in sorted(in_group[S.DAY].unique()))
                out.append(f"group {group!r} has no {word()} {t(given[d])} (its {word()}s: {have})")
    return out
