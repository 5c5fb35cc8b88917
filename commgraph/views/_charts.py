"""Statistical figures in the forms the field reads, as Vega-Lite specs built with ``altair``.

Each function takes the answer of a named query (a DataFrame, exactly as ``store.query``
returns it) and returns a Vega-Lite spec (a dict). The data travel inside the spec as one
named inline dataset (``rows``), so a page (or a test) can read back what a chart drew with
``view.data("rows")``. The page embeds Vega, Vega-Lite and vega-embed once, inlined (the bundle
``vl-convert-python`` ships; Vega, Vega-Lite and vega-embed are BSD-3-Clause licensed), so it
opens offline from ``file://``; vega-embed's action menu saves each figure as SVG or PNG.

Colours: red for an increase, blue for a decrease (the network views' ``UP``/``DOWN``); groups
and cell types get categorical colours from Vega's ``tableau10``/``category20``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from .. import _schema as S
from .._time import CONDITION, DAY, time_text
from ._html import _plain, script_json
from ._layout import DOWN, UP

INSTALL_HINT = "the report's figures need altair and vl-convert-python: pip install 'commgraph[views]'"
DATA = "rows"  # the name of every chart's dataset
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class TimeScale:
    """How a figure shows the study's time: a day study as before ("day", numbers); other units
    with the unit in the axis title ("time (h)") and each tick at a timepoint, as text ("6 h",
    "LPS 4h", "stimulated")."""

    unit: str = DAY
    labels: dict = field(default_factory=dict)

    @property
    def plain(self) -> bool:
        return self.unit == DAY and not self.labels

    @property
    def title(self) -> str:
        return {"hour": "time (h)", "week": "time (weeks)", CONDITION: "condition"}.get(self.unit, "day")

    def text(self, value: Any) -> str:
        return time_text(value, self.unit, self.labels.get(int(value)) if value is not None else None)

    @property
    def noun(self) -> str:
        """What a timepoint is called in words: "day" (a day study, as before), "time", "condition"."""
        return "day" if self.plain else CONDITION if self.unit == CONDITION else "time"

    def on(self, value: Any) -> str:
        """A timepoint after a preposition: "on day 7", "at 6 h", "in week 2", "in condition stimulated"."""
        text = self.text(value)
        if self.unit == DAY and text.startswith("day "):
            return f"on {text}"
        if self.unit == CONDITION and not text.startswith("condition "):
            return f"in condition {text}"
        return f"in {text}" if self.unit in ("week", CONDITION) else f"at {text}"

    def axis(self, alt, values: Sequence[Any], **kw):
        """The x axis of a time field: ticks at the timepoints, each as text (kw: the day study's axis)."""
        if self.plain:
            return alt.Axis(**kw) if kw else alt.Undefined
        vals = sorted({int(v) for v in values if v is not None and not pd.isna(v)})
        expr = "datum.label"
        for v in reversed(vals):
            expr = f"datum.value == {v} ? {_js_str(self.text(v))} : {expr}"
        return alt.Axis(values=vals, labelExpr=expr)


def time_scale(store) -> TimeScale:
    """The store's time unit and labels (a store without runs, or an older one, reads as days)."""
    try:
        unit = store.time_unit()
    except Exception:  # noqa: BLE001
        return TimeScale()
    if unit == DAY:
        return TimeScale()
    return TimeScale(unit, dict(store.time_labels()))


def _with_time(df: pd.DataFrame, time: TimeScale) -> pd.DataFrame:
    """``df`` with each row's time as text in a ``time`` column (not for a day study)."""
    if time.plain or S.DAY not in df.columns:
        return df
    df = df.copy()
    df["time"] = [time.text(d) for d in df[S.DAY]]
    return df


def _time_tip(alt, df: pd.DataFrame, time: TimeScale, kind: str = "Q"):
    """The tooltip of a time field: the number (a day study, as before) or its text (the ``time``
    column :func:`_with_time` added)."""
    if time.plain:
        return alt.Tooltip(f"day:{kind}") if kind == "O" else "day:Q"
    return alt.Tooltip("time:N", title="time" if time.unit != CONDITION else "condition")


def _js_str(text: str) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _alt():
    try:
        import altair as alt
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return alt


@functools.cache
def vega_js() -> str:
    """Vega, Vega-Lite and vega-embed in one script that sets ``window.vegaEmbed`` (from vl-convert)."""
    try:
        import vl_convert as vlc
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return vlc.javascript_bundle().replace("</script", "<\\/script")


def versions() -> dict[str, str]:
    import vl_convert as vlc

    alt = _alt()
    return {"altair": alt.__version__, "vega-lite": alt.SCHEMA_VERSION.lstrip("v"), "vl-convert": vlc.__version__}


def _records(df: pd.DataFrame) -> list[dict]:
    return _plain(df.to_dict("records"))


def _data(df: pd.DataFrame):
    alt = _alt()
    return alt.InlineData(values=_records(df), name=DATA)


def _finish(chart, *, title: str, subtitle: str | Sequence[str] | None = None) -> dict:
    alt = _alt()
    t = alt.TitleParams(title, subtitle=subtitle or alt.Undefined, anchor="start", fontSize=14, subtitleFontSize=12,
                        subtitleColor="#5f6670")
    spec = chart.properties(title=t).configure(font=FONT).configure_axis(labelFontSize=11, titleFontSize=12) \
        .configure_legend(labelFontSize=11, titleFontSize=12, labelLimit=0, titleLimit=0) \
        .configure_view(stroke="#d0d4d9").to_dict()
    spec.pop("$schema", None)  # the page's Vega-Lite is the bundled one; the schema URL is never fetched
    return spec


def _diverging(field: str, title: str, values: pd.Series):
    """Red up, blue down, white at 0, symmetric around 0."""
    alt = _alt()
    m = float(values.abs().max()) if len(values) and values.notna().any() else 1.0
    m = m or 1.0
    return alt.Color(f"{field}:Q", title=title,
                     scale=alt.Scale(domain=[-m, 0, m], range=[DOWN, "#f7f7f7", UP]),
                     legend=alt.Legend(format=".2~f", gradientLength=140))


def fmt(v: float) -> str:
    """A number for a table cell: 3 significant digits, thousands separated above 100."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if v == 0:
        return "0"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_p(x: float) -> str:
    """A p-value or FDR as printed everywhere (the report's sentences, figure tooltips)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.2g}" if x >= 0.001 else f"{x:.1e}"


# --- the figures ------------------------------------------------------------------------------


def change_heatmap(summary: pd.DataFrame, *, title: str, subtitle: str, fdr: float) -> dict:
    """CellChat's differential heatmap from ``change_summary``: sender × receiver, colour = the
    summed change of the significant features (net_delta), text = how many rose (↑) and fell (↓)."""
    alt = _alt()
    df = summary.copy()
    df["n_changed"] = df["n_up"] + df["n_down"]
    df["label"] = [f"{u}↑ {d}↓" if u + d else "" for u, d in zip(df["n_up"], df["n_down"])]
    base = alt.Chart(_data(df)).encode(
        x=alt.X("receiver:N", title="receiver", axis=alt.Axis(labelAngle=-40, labelLimit=200)),
        y=alt.Y("sender:N", title="sender", axis=alt.Axis(labelLimit=200)))
    tip = [alt.Tooltip("sender:N"), alt.Tooltip("receiver:N"), alt.Tooltip("n_tested:Q", title="tested"),
           alt.Tooltip("n_up:Q", title=f"rose (FDR ≤ {fdr:g})"), alt.Tooltip("n_down:Q", title=f"fell (FDR ≤ {fdr:g})"),
           alt.Tooltip("net_delta:Q", title="summed change of those", format=".3~f")]
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1).encode(
        color=_diverging("net_delta", "summed change (score)", df["net_delta"]), tooltip=tip)
    text = base.transform_filter("datum.n_changed > 0").mark_text(fontSize=10, color="#111").encode(text="label:N")
    n = max(df["sender"].nunique(), df["receiver"].nunique(), 1)
    side = max(220, min(54 * n, 760))  # room for "12↑ 34↓" in a cell
    return _finish((rect + text).properties(width=side, height=side), title=title, subtitle=subtitle)


def dot_plot(dots: pd.DataFrame, *, title: str, subtitle: str, fdr: float, time: TimeScale = TimeScale()) -> dict:
    """LIANA's dot plot: one row per feature (the focus cell type's pair with a partner), one
    column per day; size = −log10 FDR, colour = log2 fold change; a black ring marks FDR ≤ cut."""
    alt = _alt()
    df = dots.copy()
    df["neg_log10_fdr"] = [-math.log10(max(f, 1e-300)) for f in df["fdr"]]
    df["passes"] = df["fdr"] <= fdr
    order = list(dict.fromkeys(df["feature"]))
    df = _with_time(df, time)
    chart = alt.Chart(_data(df)).mark_circle(stroke="#111").encode(
        x=alt.X("day:O", title=f"{time.title} (against its baseline)", axis=time.axis(alt, df["day"])),
        y=alt.Y("feature:N", title=None, sort=order, axis=alt.Axis(labelLimit=360)),
        size=alt.Size("neg_log10_fdr:Q", title="−log10 FDR", scale=alt.Scale(range=[15, 420], zero=True),
                      legend=alt.Legend(format=".1f")),
        color=_diverging("log2fc", "log2 fold change", df["log2fc"]),
        strokeWidth=alt.condition("datum.passes", alt.value(1.5), alt.value(0)),
        tooltip=[alt.Tooltip("feature:N"), _time_tip(alt, df, time, "O"), alt.Tooltip("delta:Q", title="mean change (score)", format=".3~f"),
                 alt.Tooltip("log2fc:Q", format=".2f"), alt.Tooltip("fdr:Q", title="FDR", format=".2g"),
                 alt.Tooltip("n:Q", title="patients")])
    return _finish(chart.properties(width=max(120, 60 * df["day"].nunique()), height=max(260, 19 * len(order))),
                   title=title, subtitle=subtitle)


def flow_lines(flow: pd.DataFrame, *, title: str, subtitle: str, groups: Sequence[str],
               time: TimeScale = TimeScale()) -> dict:
    """CellChat's information flow per pathway, over days, one panel per group (``pathway_flow``)."""
    alt = _alt()
    flow = flow.copy()
    flow = _with_time(flow, time)
    chart = alt.Chart(_data(flow)).mark_line(point=alt.OverlayMarkDef(size=36)).encode(
        x=alt.X("day:Q", title=time.title, axis=time.axis(alt, flow["day"], tickMinStep=1, format="d")),
        y=alt.Y("flow:Q", title="information flow (summed score)"),
        color=alt.Color("pathway:N", title="pathway", scale=alt.Scale(scheme="tableau10")),
        tooltip=["pathway:N", "group:N", _time_tip(alt, flow, time), alt.Tooltip("flow:Q", format=".3~f"),
                 alt.Tooltip("n_interactions:Q", title="interactions")])
    return _finish(chart.properties(width=260, height=200).facet(
        column=alt.Column("group:N", title="group", sort=list(groups))), title=title, subtitle=subtitle)


def role_scatter(roles: pd.DataFrame, *, title: str, subtitle: str, baseline: int, day: int,
                 time: TimeScale = TimeScale()) -> dict:
    """Signaling roles (``roles``): outgoing vs incoming strength of each cell type on the baseline
    (hollow) and the day (filled), joined by a line per cell type."""
    alt = _alt()
    df = roles.copy()
    df["when"] = [time.text(d) for d in df[S.DAY]]
    df = _with_time(df, time)
    base = alt.Chart(_data(df)).encode(
        x=alt.X("out_strength:Q", title="outgoing strength (summed score sent)", scale=alt.Scale(zero=False)),
        y=alt.Y("in_strength:Q", title="incoming strength (summed score received)", scale=alt.Scale(zero=False)),
        color=alt.Color("cell_type:N", title="cell type", scale=alt.Scale(scheme="category20")))
    line = base.mark_line(strokeWidth=1.2, opacity=0.7).encode(detail="cell_type:N", order="day:Q")
    pts = base.mark_point(size=70, strokeWidth=2).encode(
        shape=alt.Shape("when:N", title="", sort=[time.text(baseline), time.text(day)],
                        scale=alt.Scale(range=["circle", "triangle-right"]),
                        legend=alt.Legend(symbolStrokeColor="#333", symbolFillColor="#bbbbbb", symbolStrokeWidth=1.5)),
        fill=alt.condition(f"datum.day == {int(day)}", alt.Color("cell_type:N", legend=None), alt.value("#ffffff")),
        tooltip=["cell_type:N", _time_tip(alt, df, time), alt.Tooltip("out_strength:Q", format=".3~f"),
                 alt.Tooltip("in_strength:Q", format=".3~f")])
    labels = base.transform_filter(f"datum.day == {int(day)}").mark_text(align="left", dx=7, dy=-6, fontSize=10) \
        .encode(text="cell_type:N")
    return _finish((line + pts + labels).properties(width=520, height=380), title=title, subtitle=subtitle)


def composition_lines(comp: pd.DataFrame, *, title: str, subtitle: str, groups: Sequence[str], focus: str,
                      time: TimeScale = TimeScale()) -> dict:
    """Cell composition over days (``cell_composition``): % of counted cells, one panel per group."""
    alt = _alt()
    df = comp.copy()
    df["percent"] = df[S.FRACTION] * 100
    df["is_focus"] = df[S.CELL_TYPE_PROP] == focus
    df = _with_time(df, time)
    chart = alt.Chart(_data(df)).mark_line(point=alt.OverlayMarkDef(size=28)).encode(
        x=alt.X("day:Q", title=time.title, axis=time.axis(alt, df["day"], tickMinStep=1, format="d")),
        y=alt.Y("percent:Q", title="% of counted cells"),
        color=alt.Color("cell_type:N", title="cell type", scale=alt.Scale(scheme="category20")),
        strokeWidth=alt.condition("datum.is_focus", alt.value(3.5), alt.value(1.2)),
        tooltip=["cell_type:N", "group:N", _time_tip(alt, df, time), alt.Tooltip("percent:Q", format=".2f", title="%"),
                 alt.Tooltip("n_cells:Q", title="cells")])
    return _finish(chart.properties(width=220, height=200).facet(
        column=alt.Column("group:N", title="group", sort=list(groups))), title=title, subtitle=subtitle)


def trajectories(traj: pd.DataFrame, *, title: str, subtitle: str, time: TimeScale = TimeScale()) -> dict:
    """Clinical scores per patient over days, one panel per score (its own y scale), coloured
    by group (``clinical_trajectory``; a ``score`` column names the score)."""
    alt = _alt()
    df = traj.dropna(subset=["value"]).copy()
    df = _with_time(df, time)
    chart = alt.Chart(_data(df)).mark_line(point=alt.OverlayMarkDef(size=30), opacity=0.8).encode(
        x=alt.X("day:Q", title=time.title, axis=time.axis(alt, df["day"], tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title="score", scale=alt.Scale(zero=False)),
        color=alt.Color("group:N", title="group", scale=alt.Scale(scheme="tableau10")),
        detail="patient:N",
        tooltip=["score:N", "patient:N", "group:N", _time_tip(alt, df, time), alt.Tooltip("value:Q")])
    chart = chart.properties(width=260, height=200).facet(column=alt.Column("score:N", title=None)) \
        .resolve_scale(y="independent")
    return _finish(chart, title=title, subtitle=subtitle)


def biomarker_scatter(points: pd.DataFrame, *, title: str, subtitle: str, x: str) -> dict:
    """One point per patient and score: the change of a cell type's fraction against the change
    of the score; one panel per score (``panel``: the score with its rho and p)."""
    alt = _alt()
    chart = alt.Chart(_data(points)).mark_point(size=80, filled=True, opacity=0.85).encode(
        x=alt.X("x:Q", title=x, scale=alt.Scale(zero=False)),
        y=alt.Y("y:Q", title="change of the score", scale=alt.Scale(zero=False)),
        color=alt.Color("group:N", title="group", scale=alt.Scale(scheme="tableau10")),
        tooltip=["patient:N", "group:N", "score:N", alt.Tooltip("x:Q", title=x, format=".3~f"),
                 alt.Tooltip("y:Q", title="change of the score", format=".3~f")])
    chart = chart.properties(width=260, height=220).facet(
        column=alt.Column("panel:N", title=None, header=alt.Header(labelFontSize=12, labelLimit=0))) \
        .resolve_scale(y="independent")
    return _finish(chart, title=title, subtitle=subtitle)


def patient_lines(points: pd.DataFrame, *, title: str, subtitle: str, pair: str,
                  time: TimeScale = TimeScale()) -> dict:
    """Per-sample scores of one ligand–receptor pair over days, one panel per group and one line
    per patient (``points``: interaction, group, patient, sample, day, score; every pair the page
    can choose, filtered by the Vega parameter ``pair``, which the lr view sets)."""
    alt = _alt()
    df = _with_time(points.dropna(subset=[S.SCORE]).copy(), time)
    pick = alt.param(name="pair", value=pair)
    chart = alt.Chart(_data(df)).transform_filter("datum.interaction == pair").mark_line(
        point=alt.OverlayMarkDef(size=40, filled=True), opacity=0.85).encode(
        x=alt.X("day:Q", title=time.title, axis=time.axis(alt, df["day"], tickMinStep=1, format="d")),
        y=alt.Y("score:Q", title="per-sample score (summed over sender → receiver)"),
        color=alt.Color("patient:N", title="patient", scale=alt.Scale(scheme="tableau20")),
        detail="patient:N",
        tooltip=["patient:N", "sample:N", "group:N", _time_tip(alt, df, time), alt.Tooltip("score:Q", format=".4~g")],
    ).properties(width=230, height=190).add_params(pick)
    chart = chart.facet(column=alt.Column("group:N", title="group"))
    spec = _finish(chart, title=title, subtitle=subtitle)
    spec["title"]["text"] = {"expr": f"pair + {_js_str(' ' + title)}"}  # names the pair the page shows
    return spec


# --- on a page ---------------------------------------------------------------------------------


def chart_block(spec: dict, chart_id: str, *, caption: str = "", note: str = "") -> str:
    """A figure the page script draws with vega-embed (``caption``, ``note``: trusted HTML)."""
    import html

    cid = html.escape(chart_id, quote=True)
    cap = f"<figcaption>{caption}{note}</figcaption>" if caption or note else ""
    return (f'<figure class="cg-fig cg-chart-fig"><div id="{cid}" class="cg-chart"></div>{cap}</figure>\n'
            f'<script type="application/json" data-commgraph-chart="{cid}">{script_json(spec)}</script>\n')


CHART_JS = """
(function () {
  window.commgraphCharts = window.commgraphCharts || {};
  window.commgraphChartErrors = window.commgraphChartErrors || {};
  var nodes = document.querySelectorAll('script[data-commgraph-chart]');
  window.commgraphChartsExpected = nodes.length;
  nodes.forEach(function (s) {
    var id = s.getAttribute('data-commgraph-chart'), el = document.getElementById(id);
    var spec = JSON.parse(s.textContent);
    vegaEmbed(el, spec, { renderer: 'svg', downloadFileName: id,
                          actions: { export: true, source: false, compiled: false, editor: false } })
      .then(function (r) { window.commgraphCharts[id] = r; })
      .catch(function (e) { window.commgraphChartErrors[id] = String(e); el.textContent = 'figure failed: ' + e;
                            console.error('figure ' + id + ': ' + e); });
  });
})();
"""


def chart_scripts() -> str:
    """The scripts a page with charts needs (once per page)."""
    return f"<script>{vega_js()}</script>\n<script>{CHART_JS}</script>\n"
