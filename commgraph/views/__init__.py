"""Interactive HTML network views of a store, each one self-contained and offline.

Four kinds, every number read from the named queries (``cypher/*.cypher``):

``network``
    One day and group: cell types as nodes (size: share of the day's counted cells, colour:
    lineage), significant signaling as directed edges aggregated per sender → receiver (width:
    total score; hover: the strongest ligand–receptor pairs and pathways; click: all of them).
    Optionally one ``pathway``; ``expand=True`` starts with one edge per pair (also a checkbox).
    Only the ``max_edges=30`` strongest edges are drawn at first (a select in the page shows 5 …
    all); the title states the cut ("the strongest 30 of 144 edges (total score ≥ 41.2)").
``diff``
    Change first: with tested changes in the store (``commgraph differential``) only the
    features passing the FDR and |log2 FC| cut-offs (selects in the page; the title states them)
    are drawn, summed per sender → receiver, red rose / blue fell, width scaled to the widest
    drawn change; a focus cell type (default: the sender with the most changes) keeps its
    colours while the rest is greyed. Without tests: CellChat's differential network of summed
    significant score (red grew, blue shrank, dashed gained or lost).
``ego``
    One cell type (default: the most changed sender) and its partners, what it sends and
    receives, with an in-page day slider, group switch and pathway / ligand–receptor filter over
    every day × group (all embedded in the page). With tested changes in the store it opens in
    change mode (``mode="change"``; a select switches to ``"absolute"``): a day against its
    baseline, only the tested features (``differential``) passing the FDR and |log2 FC| cut-offs
    (``fdr=0.05``, ``min_abs_log2fc=0``; selects in the page, stated in the title), red rose /
    blue fell, width = |summed mean paired change| scaled to the widest drawn edge (its value in
    the legend). Without tests the page says so and draws the day's scores.
``lr``
    One ligand–receptor pair (default: the most significant change of the most changed sender;
    or ``interaction="CD86^CTLA4"``, ``ligand=``/``receptor=``) or a ``pathway`` across every
    cell type, day and group selectable in the page; the same change mode as ``ego`` (the
    pair's tested features from every sender). When the store has per-sample runs, a Vega-Lite
    figure under the network shows the chosen pair's per-sample score over days, one panel per
    group and one line per patient (:func:`commgraph.per_sample_scores`, the values
    ``differential`` tests), and follows the pair chosen in the page.

Every view shares fixed positions (a circle ordered by lineage; physics off), so what changes
between days is the edges, not the layout. Filters for the queries: ``pvalue=0.05``,
``significant_only=True``, ``min_score=0.0``, ``method=None``. For big studies (50 cell types,
thousands of pairs) ``diff`` and ``lr`` first draw the ``max_edges=500`` strongest
edges (a select in the page shows more or all); details live in tooltips and the side panel.

>>> from commgraph.views import view, write_views
>>> view(store, "ego", cell_type="MX1+ Mono", out="ego.html")          # doctest: +SKIP
>>> write_views(store, "views/")                                         # doctest: +SKIP

A page loads nothing from the network: vis-network (from the ``pyvis`` package) and the page
script are inlined and the data is embedded as JSON. After drawing, a page exposes
``window.commgraphDrawn = {nodes, edges, day, group, ...}`` (what vis-network holds) for tests.
"""

from __future__ import annotations

import html
import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import QueryError
from ._data import FILTER_DEFAULTS, SPECS, default_cell_type, default_interaction, focus_contrast
from ._html import page, view_block
from ._layout import LINEAGE_COLORS, LINEAGE_RULES, lineage_of

if TYPE_CHECKING:
    from ..stores import Store

KINDS: tuple[str, ...] = ("network", "diff", "ego", "lr")

__all__ = [
    "FILTER_DEFAULTS",
    "KINDS",
    "LINEAGE_COLORS",
    "LINEAGE_RULES",
    "ViewFile",
    "default_cell_type",
    "default_interaction",
    "focus_contrast",
    "lineage_of",
    "render",
    "view",
    "view_data",
    "write_views",
]


class ViewFile(type(Path())):  # a concrete PosixPath / WindowsPath
    """A written page: a :class:`~pathlib.Path` that shows itself inline in Jupyter."""

    height = 780

    def _repr_html_(self) -> str:
        doc = html.escape(self.read_text(encoding="utf-8"), quote=True)
        return (f'<iframe srcdoc="{doc}" sandbox="allow-scripts" title="{html.escape(self.name)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #ddd"></iframe>')


def view_data(store: Store, kind: str, **params: Any) -> dict:
    """The JSON-able data a view page embeds (see ``commgraph/views/_data.py``)."""
    try:
        build = SPECS[kind]
    except KeyError:
        raise QueryError(f"no view {kind!r}; the views are {', '.join(KINDS)}") from None
    # None means "the default" for a view's own options (not for the query filters, where
    # e.g. min_score=None means no cut), so callers such as the CLI can pass every option
    params = {k: v for k, v in params.items() if v is not None or k in FILTER_DEFAULTS}
    sig = inspect.signature(build)
    takes = [n for n, p in sig.parameters.items() if n != "store" and p.kind is not p.VAR_KEYWORD]
    unknown = sorted(set(params) - set(takes) - set(FILTER_DEFAULTS))
    if unknown:
        raise QueryError(f"view {kind!r} has no option {unknown[0]!r}; its options: "
                         + ", ".join(takes + list(FILTER_DEFAULTS)))
    return with_times(store, build(store, **params))


def with_times(store: Store, spec: dict) -> dict:
    """A view's data with the study's time unit: a day study's data as before; otherwise ``times``
    (each day number → its text: "6 h", "stimulated"), ``time_unit`` and ``time_noun`` for the page's
    controls, and the titles, subtitle and legend saying "6 h" where they said "day 6"."""
    import re

    from ._charts import time_scale

    ts = time_scale(store)
    if ts.plain:
        return spec
    days = {int(f["day"]) for f in spec.get("frames", [])} | {int(f["baseline"]) for f in spec.get("frames", [])
                                                              if f.get("baseline") is not None}
    spec["time_unit"], spec["time_noun"] = ts.unit, ts.noun
    try:  # every timepoint of the study, so a page's every time reads the same
        days |= {int(d) for d in store.timepoints()["day"].dropna().unique()}
    except Exception:  # noqa: BLE001 - the frames' own times suffice
        pass
    spec["times"] = {str(d): ts.text(d) for d in sorted(days)}

    def words(text: str) -> str:
        text = text.replace("day {day}", "{day}").replace("day {baseline}", "{baseline}")
        text = re.sub(r"\bon day (-?\d+)", lambda m: ts.on(int(m.group(1))), text)
        text = re.sub(r"\bday (-?\d+)", lambda m: ts.text(int(m.group(1))), text)
        return text.replace("the day's", f"the {ts.noun}'s")

    for part in (spec, spec.get("change") or {}):  # the change mode of ego and lr reads the same
        for key in ("title", "subtitle"):
            if isinstance(part.get(key), str):
                part[key] = words(part[key])
        for items in [*(part.get("legend") or {}).values(), part.get("legend_nodes") or [], part.get("legend_edges") or []]:
            for item in items:
                if isinstance(item.get("label"), str):
                    item["label"] = words(item["label"])
    return spec


def _time(spec: dict, day: Any) -> str:
    return str(spec.get("times", {}).get(str(day), day)) if day is not None and day != "" else ""


def _title(spec: dict) -> str:
    first = next((f for f in spec["frames"] if f["day"] == spec["initial"]["day"]
                  and f["group"] == spec["initial"]["group"]), spec["frames"][0])
    return (spec["title"].replace("{day}", _time(spec, first["day"])).replace("{group}", str(first["group"]))
            .replace("{baseline}", _time(spec, first.get("baseline", ""))))


def _footer(spec: dict) -> str:
    from .. import __version__

    queries = ", ".join(f"<code>{html.escape(q)}</code>" for q in spec.get("queries", []))
    return (f'<footer class="cg-sub" style="padding:0 16px 10px">commgraph {html.escape(__version__)} · '
            f"data from the named queries {queries} of {html.escape(spec['store'])} · drawn with vis-network, "
            "offline</footer>\n")


def render(store: Store, kind: str, **params: Any) -> str:
    """One view as a self-contained HTML document (a string)."""
    spec = view_data(store, kind, **params)
    points = spec.pop("per_sample", None)
    if not points:
        return page(_title(spec), view_block(spec, f"cg-{kind}") + _footer(spec))
    import pandas as pd

    from ._charts import chart_block, patient_lines, time_scale

    chart_id = spec["patient_chart"] = f"cg-{kind}-patients"
    pair = spec["initial"].get("pair") or spec.get("subject")
    chart = patient_lines(pd.DataFrame(points), pair=pair, time=time_scale(store),
                          title="per patient over days",
                          subtitle="each line one patient: the pair's score in that patient's sample (its own run), "
                                   "summed over sender → receiver; 0 = not detected, no point = a cell type absent")
    block = chart_block(chart, chart_id, caption="The values the change mode's test compares (paired by patient); "
                                                 "follows the pair chosen above.")
    block = f'<div class="cg-patients" style="padding:4px 16px 0">{block}</div>\n'
    return page(_title(spec), view_block(spec, f"cg-{kind}") + block + _footer(spec), charts=True)


def view(store: Store, kind: str = "ego", *, out: str | os.PathLike | None = None, **params: Any) -> ViewFile:
    """Write one view (``network``, ``diff``, ``ego`` or ``lr``) to ``out`` and return its path.

    ``out`` defaults to ``commgraph-KIND.html`` in the working directory. The returned path
    shows the page inline when it is the last value of a Jupyter cell. ``params`` are the
    view's options (see the module docs), e.g. ``day=7, group="high", pathway="ICAM"``.

    >>> view(store, "diff", day=7, group="high", baseline=0, out="diff.html")   # doctest: +SKIP
    """
    text = render(store, kind, **params)
    path = ViewFile(out if out is not None else f"commgraph-{kind}.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_views(store: Store, out_dir: str | os.PathLike, *, cell_type: str | None = None,
                day: int | None = None, group: str | None = None, baseline: int | None = None,
                interaction: str | None = None, pathway: str | None = None,
                **filters: Any) -> dict[str, ViewFile]:
    """Write every view into ``out_dir`` (``network.html``, ``diff.html``, ``ego.html``,
    ``lr.html`` and an ``index.html`` linking them); returns kind → path.

    ``day``/``group`` pick what the single-day views show (default: the group sampled on the
    most days and its day of largest change from the first day); ``cell_type`` the ego view
    (default: the most changed sender); ``interaction`` the ``lr`` view (default: that sender's
    most significant change);
    ``pathway`` narrows the network and diff views.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cell_type = cell_type or default_cell_type(store)
    if day is None or group is None:  # one day and group for every page: where the cell type changed most
        best = focus_contrast(store, cell_type, group=group, day=day)
        if best is not None:
            group, day = best[0], best[1]
    written = {"network": view(store, "network", out=out / "network.html", day=day, group=group, pathway=pathway,
                               **filters)}
    skipped = {}
    try:
        written["diff"] = view(store, "diff", out=out / "diff.html", day=day, group=group, baseline=baseline,
                               pathway=pathway, focus=cell_type, **filters)
    except QueryError as ex:  # a group sampled on one day only has nothing to compare
        if day is not None:
            raise
        skipped["diff"] = str(ex)
    written["ego"] = view(store, "ego", out=out / "ego.html", cell_type=cell_type, day=day, group=group, **filters)
    written["lr"] = view(store, "lr", out=out / "lr.html", interaction=interaction, day=day, group=group, **filters)
    from ._charts import time_scale

    noun = time_scale(store).noun  # "day" in a day study, as before; else "time" or "condition"
    items = "".join(f'<li><a href="{html.escape(p.name)}">{html.escape(k)}</a> — '
                    f'{html.escape(_DESCRIBE[k].replace("day", noun))}</li>' for k, p in written.items())
    items += "".join(f"<li>{html.escape(k)}: not written — {html.escape(why)}</li>" for k, why in skipped.items())
    index = page(f"commgraph views of {store.uri}",
                 f'<main class="cg-report"><header><h1>Network views of {html.escape(store.uri)}</h1></header>'
                 f"<ul>{items}</ul></main>\n", with_views=False)
    idx = ViewFile(out / "index.html")
    idx.write_text(index, encoding="utf-8")
    return {**written, "index": idx}


_DESCRIBE = {
    "network": "one day and group, signaling aggregated per sender → receiver",
    "diff": "a day against the baseline: what grew, shrank, appeared, vanished",
    "ego": "one cell type and its partners, every day and group",
    "lr": "one ligand–receptor pair across every cell type, day and group",
}
