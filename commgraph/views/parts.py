"""What the views are built from, for other pages (the HTML report): queries without the
empty-answer warning, parameter checks, Vega-Lite figures and the page shell.

``commgraph.report`` uses these instead of reaching into the views' private modules; they
are the views' contract with it.
"""

from __future__ import annotations

from ._charts import (
    biomarker_scatter,
    change_heatmap,
    chart_block,
    composition_lines,
    dot_plot,
    flow_lines,
    fmt,
    fmt_p,
    role_scatter,
    time_scale,
    trajectories,
    TimeScale,
)
from ._charts import versions as chart_versions
from ._data import (
    check_day,
    check_filters,
    check_known,
    focus_contrast,
    frames_of,
    most_changed_sender,
    peak_day,
    pick_group,
    query,
    thresholds,
)
from ._html import page, view_block

__all__ = [
    "biomarker_scatter",
    "change_heatmap",
    "chart_block",
    "chart_versions",
    "check_day",
    "check_filters",
    "check_known",
    "composition_lines",
    "dot_plot",
    "flow_lines",
    "fmt",
    "focus_contrast",
    "most_changed_sender",
    "fmt_p",
    "frames_of",
    "page",
    "peak_day",
    "pick_group",
    "query",
    "role_scatter",
    "thresholds",
    "time_scale",
    "TimeScale",
    "trajectories",
    "view_block",
]
