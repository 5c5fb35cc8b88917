"""Colours, and the fixed node positions every view shares; lineage comes from ``commgraph._lineage``.

Positions are computed once per view from every cell type the view can show (a circle
ordered by lineage, then name; in the ego view the focus sits in the middle), and vis-network
physics is off, so a cell type stays where it is while days and groups change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .._lineage import B, LINEAGE_RULES, LINEAGES, MYELOID, NK, OTHER, T, lineage_of

__all__ = ["B", "LINEAGE_COLORS", "LINEAGE_RULES", "LINEAGES", "MYELOID", "NK", "OTHER", "T", "DOWN", "UP",
           "cell_type_colors", "circle_positions", "circle_radius", "lineage_of", "order_cell_types"]

#: Okabe–Ito colours (colour-blind safe); red and blue are left for increase / decrease.
LINEAGE_COLORS: dict[str, str] = {
    MYELOID: "#E69F00",
    T: "#56B4E9",
    B: "#009E73",
    NK: "#CC79A7",
    OTHER: "#9E9E9E",
}
UP, DOWN = "#D55E00", "#0072B2"  # increase (vermillion) / decrease (blue), as CellChat's red / blue


#: One colour per cell type (Tableau 20, in lineage order) for the views whose edges take the
#: sender's colour: with lineage colours four monocyte types were one orange.
CELL_TYPE_PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F", "#FF9DA7",
                     "#A0CBE8", "#FFBE7D", "#8CD17D", "#D4A6C8", "#86BCB6", "#F1CE63", "#D7B5A6", "#BAB0AC",
                     "#499894", "#B6992D", "#79706E", "#E15759")


def cell_type_colors(cell_types: Iterable[str]) -> dict[str, str]:
    """cell type -> its colour, in lineage order (neighbours on the circle differ)."""
    return {c: CELL_TYPE_PALETTE[i % len(CELL_TYPE_PALETTE)] for i, c in enumerate(order_cell_types(cell_types))}


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
