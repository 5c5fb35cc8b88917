"""Lineage of a cell type, colours, and the fixed node positions every view shares.

Lineage is read from the cell-type name with a small rule table, :data:`LINEAGE_RULES`:
the name is split into lower-case words and the first rule with a matching word wins.

- myeloid — a word starting with ``mono`` (Mono, Monocyte) or ``macro``, or ``dc``/``cdc``/``pdc``:
  "MX1+ Mono", "CD14 Mono", "LGALS2+ Mono"
- NK — a word starting with ``nk``: "NK", "CD56bright NK", "NKT"
- T — ``t``, ``treg``/``tregs``, ``mait`` or ``gdt``: "CD4 Naive T", "Treg", "T cells"
- B — ``b`` or a word starting with ``plasma``: "Naive B", "B 'naive'", "Plasmablast"
- other — anything else: "Platelet"

Positions are computed once per view from every cell type the view can show (a circle
ordered by lineage, then name; in the ego view the focus sits in the middle), and vis-network
physics is off, so a cell type stays where it is while days and groups change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

MYELOID, NK, T, B, OTHER = "myeloid", "NK", "T", "B", "other"
LINEAGES: tuple[str, ...] = (MYELOID, T, B, NK, OTHER)  # order around the circle

#: (lineage, regular expression on one lower-cased word of the name); first match wins.
LINEAGE_RULES: tuple[tuple[str, str], ...] = (
    (MYELOID, r"mono.*|macro.*|c?dcs?|pdcs?"),
    (NK, r"nk.*"),
    (T, r"t|tregs?|mait|gdt"),
    (B, r"b|plasma.*"),
)

#: Okabe–Ito colours (colour-blind safe); red and blue are left for increase / decrease.
LINEAGE_COLORS: dict[str, str] = {
    MYELOID: "#E69F00",
    T: "#56B4E9",
    B: "#009E73",
    NK: "#CC79A7",
    OTHER: "#9E9E9E",
}
UP, DOWN = "#D55E00", "#0072B2"  # increase (vermillion) / decrease (blue), as CellChat's red / blue

_WORD = re.compile(r"[a-z0-9]+")
_RULES = tuple((lineage, re.compile(rf"(?:{rx})")) for lineage, rx in LINEAGE_RULES)


def lineage_of(cell_type: str) -> str:
    """The lineage of a cell type by :data:`LINEAGE_RULES` (``"other"`` when no rule matches).

    >>> lineage_of("MX1+ Mono"), lineage_of("Treg"), lineage_of("Naive B"), lineage_of("NK")
    ('myeloid', 'T', 'B', 'NK')
    >>> lineage_of("Platelet")
    'other'
    """
    words = _WORD.findall(str(cell_type).lower())
    for lineage, rx in _RULES:
        if any(rx.fullmatch(w) for w in words):
            return lineage
    return OTHER


def order_cell_types(cell_types: Iterable[str]) -> list[str]:
    """Cell types ordered by lineage (:data:`LINEAGES`), then by name."""
    rank = {lin: i for i, lin in enumerate(LINEAGES)}
    return sorted(set(cell_types), key=lambda c: (rank[lineage_of(c)], str(c).lower(), str(c)))


def circle_radius(n: int, *, spacing: float = 120.0, minimum: float = 220.0) -> float:
    """A radius leaving about ``spacing`` px between neighbours on the circle."""
    return max(minimum, n * spacing / (2 * math.pi))


def circle_positions(cell_types: Iterable[str], *, centre: str | None = None) -> dict[str, tuple[float, float]]:
    """Fixed positions: a circle ordered by lineage starting at the top, clockwise;
    ``centre`` (the ego view's focus) in the middle."""
    ring = [c for c in order_cell_types(cell_types) if c != centre]
    r = circle_radius(len(ring), minimum=260.0 if centre is not None else 220.0)
    pos = {}
    for i, c in enumerate(ring):
        a = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
        pos[c] = (round(r * math.cos(a), 1), round(r * math.sin(a), 1))
    if centre is not None:
        pos[centre] = (0.0, 0.0)
    return pos
