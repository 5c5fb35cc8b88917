"""What the views are built from, for other pages (the HTML report): queries without the
empty-answer warning, parameter checks, SVG plots and the page shell.

``commgraph.report`` uses these instead of reaching into the views' private modules; they
are the views' contract with it.
"""

from __future__ import annotations

from ._data import (
    DEFAULT_CELL_TYPE,
    KEY_INTERACTIONS,
    check_day,
    check_filters,
    check_known,
    frames_of,
    peak_day,
    pick_group,
    query,
    thresholds,
)
from ._html import page, view_block
from ._svg import SERIES, bar_plot, fmt, heatmap, line_plot

__all__ = [
    "DEFAULT_CELL_TYPE",
    "KEY_INTERACTIONS",
    "SERIES",
    "bar_plot",
    "check_day",
    "check_filters",
    "check_known",
    "fmt",
    "frames_of",
    "heatmap",
    "line_plot",
    "page",
    "peak_day",
    "pick_group",
    "query",
    "thresholds",
    "view_block",
]
