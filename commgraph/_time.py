"""Time as studies record it: a whole number in a unit (hour, day, week) with an optional label, or
an unordered condition (control, stimulated).

The stored ``day`` property (CellState, Run, Sample, Contrast) and the ``$day`` query parameter
keep their names and integer type for every existing store and query: they hold the timepoint's
number *in the study's unit* (``4`` with unit ``hour`` is 4 hours, not 4 days). A Run records the
unit (``time_unit``) and the label (``time_label``, e.g. ``"LPS 4h"`` or ``"stimulated"``); a store
holds one unit (loading another one is refused, see :func:`check_same_unit`). For conditions the
number is the condition's position (0, 1, … in the order the study gives, first seen first) and the
label is its name; nothing reads them as ordered in time.

:func:`time_text` is the one way to show a timepoint (CLI tables; views and reports after them).
This module sits at the bottom of the layers (no commgraph imports besides ``errors``).
"""

from __future__ import annotations

import math
import re
from typing import Iterable

from .errors import InputError

DAY, HOUR, WEEK, CONDITION = "day", "hour", "week", "condition"
UNITS: tuple[str, ...] = (DAY, HOUR, WEEK, CONDITION)
DEFAULT_UNIT = DAY
ORDERED = (HOUR, DAY, WEEK)  # units of time; a condition is not one
_IN_HOURS = {HOUR: 1, DAY: 24, WEEK: 168}
SYMBOL = {HOUR: "h", DAY: "d", WEEK: "wk"}

# spellings of each unit in files and on the command line
_ALIASES = {
    HOUR: ("h", "hr", "hrs", "hour", "hours", "hpi", "hpf"),
    DAY: ("d", "day", "days", "dpi"),
    WEEK: ("w", "wk", "wks", "week", "weeks"),
}
_UNIT_OF = {a: u for u, names in _ALIASES.items() for a in names}
_UNIT_OF.update({CONDITION: CONDITION, "conditions": CONDITION})
_WORDS = "|".join(sorted(_UNIT_OF, key=len, reverse=True))
# "4h", "4 h", "4 hours", "48hpi" (number first) or "day 3", "D3", "week 2" (unit first)
_NUMBER_UNIT = re.compile(rf"(?<![A-Za-z0-9.])(?P<n>-?\d+(?:\.\d+)?)\s*(?P<u>{_WORDS})(?![A-Za-z])", re.I)
_UNIT_NUMBER = re.compile(rf"(?<![A-Za-z])(?P<u>{_WORDS})\s*[-_ ]?\s*(?P<n>-?\d+(?:\.\d+)?)(?![\d.])", re.I)
_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")


def unit_name(unit: str | None) -> str:
    """The canonical unit for a spelling (``"h"``, ``"hours"`` → ``"hour"``); None → ``"day"``."""
    if unit is None or (isinstance(unit, float) and math.isnan(unit)) or str(unit).strip() == "":
        return DEFAULT_UNIT
    u = _UNIT_OF.get(str(unit).strip().lower())
    if u is None:
        raise InputError(f"time unit {unit!r} is not one of {', '.join(UNITS)} (or h, d, w, hours, days, weeks)",
                         column="time_unit")
    return u


def _whole(x: float, text: object, unit: str) -> int:
    if not float(x).is_integer():
        finer = {WEEK: "day", DAY: "hour"}.get(unit)
        hint = f" (give the study's timepoints in {finer}s)" if finer else ""
        raise InputError(f"timepoint {text!r} is not a whole number of {unit}s{hint}", column="time")
    return int(x)


def convert(value: float, from_unit: str, to_unit: str, text: object = None) -> int:
    """A number of ``from_unit`` in ``to_unit`` (whole numbers only: 2 d = 48 h; 36 h is not whole days)."""
    if from_unit == to_unit:
        return _whole(value, text if text is not None else value, to_unit)
    if from_unit not in _IN_HOURS or to_unit not in _IN_HOURS:
        raise InputError(f"timepoint {text!r} is in {from_unit}s, the study in {to_unit}s", column="time")
    hours = value * _IN_HOURS[from_unit]
    return _whole(hours / _IN_HOURS[to_unit], text if text is not None else value, to_unit)


def parse_time(text: object, unit: str | None = None) -> tuple[int, str, str | None]:
    """One timepoint as written → (number in the unit, unit, label or None).

    ``"4"`` with unit hour → (4, hour, None); ``"4h"`` / ``"4 hours"`` → (4, hour, None);
    ``"day 3"`` / ``"D3"`` → (3, day, None); ``"LPS 4h"`` → (4, hour, "LPS 4h"). A number written
    in another unit of time is converted when it comes out whole (``"2d"`` in an hours study is 48).
    ``unit`` ``None`` takes the unit the text names (day if it names none). Conditions have no
    number here: see :func:`condition_numbers`.
    """
    want = None if unit is None else unit_name(unit)
    if want == CONDITION:
        raise InputError("a condition has no number; number conditions with condition_numbers()", column="time")
    if isinstance(text, bool):
        raise InputError(f"timepoint {text!r} is not a number", column="time")
    if isinstance(text, (int, float)):
        if isinstance(text, float) and math.isnan(text):
            raise InputError("timepoint is missing", column="time")
        u = want or DEFAULT_UNIT
        return _whole(float(text), text, u), u, None
    s = str(text).strip()
    if not s:
        raise InputError("timepoint is missing", column="time")
    if _NUMBER.match(s):
        u = want or DEFAULT_UNIT
        return _whole(float(s), s, u), u, None
    m = _NUMBER_UNIT.search(s) or _UNIT_NUMBER.search(s)
    if m is None or _UNIT_OF[m.group("u").lower()] == CONDITION:
        raise InputError(f"timepoint {s!r} names no number with a unit (like 4h, day 3, week 2); "
                         f"for conditions such as control/stimulated use time unit 'condition'", column="time")
    written = _UNIT_OF[m.group("u").lower()]
    u = want or written
    value = convert(float(m.group("n")), written, u, s)
    whole_text = m.group(0).strip() == s
    return value, u, None if whole_text else s


def condition_numbers(labels: Iterable[object], order: Iterable[str] | str | None = None) -> dict[str, int]:
    """Condition name → its number: the position in ``order`` (a list or ``"control,stimulated"``)
    when given, else first seen first. A name missing from a given order is an error."""
    seen: list[str] = []
    for x in labels:
        s = str(x).strip()
        if not s:
            raise InputError("condition is missing", column="time")
        if s not in seen:
            seen.append(s)
    if order is None:
        return {s: i for i, s in enumerate(seen)}
    given = [p.strip() for p in order.split(",")] if isinstance(order, str) else [str(p).strip() for p in order]
    given = [g for g in given if g]
    unknown = [s for s in seen if s not in given]
    if unknown:
        raise InputError(f"condition {unknown[0]!r} is not in the given order ({', '.join(given)})", column="time")
    return {s: i for i, s in enumerate(given)}


def time_text(value: object, unit: str | None = None, label: str | None = None) -> str:
    """A timepoint for people: ``"4 h"``, ``"day 3"``, ``"week 2"``, ``"LPS 4h"``, ``"stimulated"``.

    A label is shown as written (it names the timepoint, e.g. "LPS 4h" or "pre"); a condition
    without a label shows its number. Missing values show as an empty string.
    """
    u = unit_name(unit)
    if label is not None and not (isinstance(label, float) and math.isnan(label)) and str(label).strip():
        return str(label).strip()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    n = int(value) if float(value).is_integer() else value
    if u == DAY:
        return f"day {n}"
    if u == WEEK:
        return f"week {n}"
    if u == HOUR:
        return f"{n} h"
    return f"condition {n}"


def check_same_unit(stored: str | None, loading: Iterable[str], *, where: str = "the store") -> None:
    """Refuse a load whose unit differs from the store's: one study, one unit (days and hours mixed
    would put "4" hours next to "4" days on one axis)."""
    units = {unit_name(u) for u in loading}
    if len(units) > 1:
        raise InputError(f"the runs being loaded mix time units ({', '.join(sorted(units))}); one study uses one unit",
                         column="time_unit")
    if stored is None or not units:
        return
    (new,) = units
    if new != unit_name(stored):
        raise InputError(f"{where} holds a study timed in {unit_name(stored)}s; these runs are timed in {new}s "
                         f"(load them in {unit_name(stored)}s, or into another store)", column="time_unit")
