"""A study report: one self-contained HTML page with the answers of the main named queries.

Tables for the answers, inline SVG where a picture beats a table (a cell type's signaling by
pathway × day, the key ligand–receptor pairs over time, the dose comparison, senders and
receivers over time), and the four interactive network views (``commgraph.views``) embedded
in the page, all offline: nothing is fetched when the page opens.

>>> from commgraph.report import write_report
>>> write_report(store, "report.html", cell_type="MX1+ Mono")              # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from . import _schema as S
from .views import ViewFile
from .views import parts as V

if TYPE_CHECKING:
    from .stores import Store

__all__ = ["KEY_INTERACTIONS", "render_report", "write_report"]

KEY_INTERACTIONS = V.KEY_INTERACTIONS
STATUSES = ("gained", "up", "down", "lost")


# --- HTML pieces ------------------------------------------------------------------------


def _e(x: Any) -> str:
    return html.escape(str(x))


def _cell(v: Any, col: str) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return '<td class="num">–</td>' if col not in ("status",) else "<td>–</td>"
    if isinstance(v, bool):
        return f"<td>{'yes' if v else 'no'}</td>"
    if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu"):
        return f'<td class="num">{int(v):,}</td>'
    if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
        return f'<td class="num">{V.fmt(float(v))}</td>'
    if col == "status":
        return f'<td class="st-{_e(v)}">{_e(v)}</td>'
    return f"<td>{_e(v)}</td>"


def table(df: pd.DataFrame, *, show: int = 15, caption: str | None = None) -> str:
    """An HTML table; rows after the first ``show`` fold into a <details>."""
    if df is None or df.empty:
        return '<p class="cg-note">(no rows)</p>'

    def rows(part: pd.DataFrame) -> str:
        return "".join("<tr>" + "".join(_cell(v, c) for c, v in zip(part.columns, r)) + "</tr>"
                       for r in part.itertuples(index=False))

    head = "".join(f'<th class="{"num" if pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool else ""}">'
                   f"{_e(c)}</th>" for c in df.columns)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    first = f'<table class="cg-table">{cap}<thead><tr>{head}</tr></thead><tbody>{rows(df.head(show))}</tbody></table>'
    if len(df) <= show:
        return first
    rest = (f'<table class="cg-table"><thead><tr>{head}</tr></thead><tbody>{rows(df.iloc[show:])}</tbody></table>')
    return first + f"<details><summary>{len(df) - show} more rows</summary>{rest}</details>"


def _call(name: str, **params: Any) -> str:
    """How to ask the same in Python, for the note under a section."""
    args = ", ".join(f"{k}={v!r}" for k, v in params.items() if v is not None)
    return f'<code>store.query("{_e(name)}"{", " if args else ""}{_e(args)})</code>'


def _top_pathways(m: pd.DataFrame, n: int) -> tuple[pd.DataFrame, str]:
    """The ``n`` pathways with the largest summed value, without 'unannotated'; and a note on the rest."""
    rest = []
    if S.UNANNOTATED in m.index:
        rest.append(f"'{S.UNANNOTATED}' (pairs no pathway source knows)")
        m = m.drop(index=S.UNANNOTATED)
    m = m.loc[m.sum(axis=1).sort_values(ascending=False).index]
    if len(m) > n:
        rest.append(f"{len(m) - n} smaller pathway{'s' if len(m) - n > 1 else ''}")
    return m.head(n), ("left out: " + " and ".join(rest) + " — see the query's answer") if rest else ""


def _fig(svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure class="cg-fig">{svg}{cap}</figure>'


class _Report:
    def __init__(self, store: Store, *, cell_type: str, group: str | None, day: int | None, baseline: int,
                 interactions: Sequence[str], views: bool, top: int, filters: dict[str, Any]):
        self.store, self.cell_type, self.baseline, self.top, self.views = store, cell_type, int(baseline), top, views
        self.pathway_rows = 15
        self.f = V.check_filters(filters)
        self.interactions = tuple(interactions)
        self.states = store.cell_states()
        self.groups = V.frames_of(self.states)
        mine = self.states[self.states[S.CELL_TYPE_PROP] == cell_type]
        if mine.empty:
            V.check_known(store, {S.CELL_TYPE_PROP: cell_type})
        self.group = V.pick_group(store, mine if len(mine) else self.states, group)
        days = self.groups[self.group]
        if self.baseline not in days:
            V.check_day(store, days, self.baseline, self.group, what="baseline day")
        if day is None:
            by_day = V.query(store, "signaling_by_day", cell_type=cell_type, group=self.group, **self.f)
            day = V.peak_day(by_day.set_index(S.DAY)["total_score"], days, self.baseline)
        self.day = V.check_day(store, days, day, self.group)
        self.colors = {g: V.SERIES[i % len(V.SERIES)] for i, g in enumerate(self.groups)}
        self.sections: list[tuple[str, str, str]] = []  # (anchor, title, html)

    def add(self, anchor: str, title: str, body: str) -> None:
        self.sections.append((anchor, title, body))

    # --- sections -------------------------------------------------------------------------
    def study(self) -> str:
        s = self.store.stats()
        kpi = "".join(f"<div><b>{_e(v)}</b>{_e(k)}</div>" for k, v in (
            ("runs", s["runs"]), ("cell types", s["cell_types"]), ("days", ", ".join(map(str, s["days"]))),
            ("groups", ", ".join(s["groups"])), ("interactions (SIGNALS)", f"{s['signals']:,}"),
            ("significant", f"{s['significant']:,}")))
        runs = self.store.runs()
        keep = [c for c in (S.RUN_ID, S.METHOD, S.DAY, S.GROUP, S.SAMPLE, S.N_ROWS, S.N_SIGNIFICANT, S.TOOL_VERSION,
                            S.DATABASE_VERSION) if c in runs.columns]
        return (f'<div class="cg-kpi">{kpi}</div>'
                f'<p class="cg-note">Counts are over every loaded run. Thresholds used below: {_e(V.thresholds(self.f))}.</p>'
                f"<details><summary>interactions per day and group</summary>{table(s['by_day_group'], show=1000)}</details>"
                f"<details><summary>runs ({len(runs)})</summary>{table(runs[keep], show=1000)}</details>")

    def over_time(self) -> str:
        ct, figs, tabs = self.cell_type, [], []
        for direction, verb in (("out", "sends"), ("in", "receives")):
            df = V.query(self.store, "signaling_by_day", cell_type=ct, direction=direction, **self.f)
            series = [{"name": g, "x": part[S.DAY].tolist(), "y": part["total_score"].tolist(), "color": self.colors.get(g)}
                      for g, part in df.groupby(S.GROUP, sort=True)]
            figs.append(_fig(V.line_plot(series, title=f"What {ct} {verb}", xlabel="day",
                                            ylabel="total score"), f"summed score of its significant interactions"))
            tabs.append(f"<h3>{_e(ct)} {verb} ({_call('signaling_by_day', cell_type=ct, direction=direction)})</h3>"
                        + table(df, show=40))
        return f'<div class="cg-figs">{"".join(figs)}</div>' + "".join(tabs)

    def pathways(self) -> str:
        ct, figs = self.cell_type, []
        for direction, who in (("sender", "sent by"), ("receiver", "received by")):
            for g in self.groups:
                df = V.query(self.store, "pathway_flow", group=g, **{direction: ct}, **self.f)
                if df.empty:
                    continue
                m = df.pivot_table(index=S.PATHWAY, columns=S.DAY, values="flow", aggfunc="sum")
                m, rest = _top_pathways(m, self.pathway_rows)
                figs.append(_fig(V.heatmap(m, title=f"Pathways {who} {ct} — group {g}", value="flow (total score)"),
                                 rest))
        note = (f'<p class="cg-note">Information flow (summed significant score) per pathway and day; '
                f"{_call('pathway_flow', sender=ct, group=self.group)}. Blank: no significant interaction.</p>")
        return note + f'<div class="cg-figs">{"".join(figs) or "<p>(none)</p>"}</div>'

    def change(self) -> str:
        ct, out = self.cell_type, []
        for direction, verb in (("out", "sends"), ("in", "receives")):
            df = V.query(self.store, "signaling_change", cell_type=ct, day=self.day, group=self.group,
                         baseline=self.baseline, direction=direction, **self.f)
            counts = df["status"].value_counts() if len(df) else pd.Series(dtype=int)
            summary = " · ".join(f'<span class="st-{s}">{int(counts.get(s, 0))} {s}</span>'
                                 for s in (*STATUSES, "unchanged"))
            changed = df[df["status"] != "unchanged"].copy()
            changed = changed.reindex(changed["delta"].abs().sort_values(ascending=False, kind="stable").index)
            out.append(f"<h3>What {_e(ct)} {verb}: {summary}</h3>"
                       f'<p class="cg-note">{_call("signaling_change", cell_type=ct, day=self.day, group=self.group, baseline=self.baseline, direction=direction)}; '
                       "largest change in score (|delta|) first, unchanged pairs left out.</p>"
                       + table(changed.drop(columns=["ligand", "receptor"]), show=self.top))
        return "".join(out)

    def key_pairs(self) -> str:
        cat = V.query(self.store, "interaction_catalogue")
        seen = set(cat.loc[cat["n_pairs"] > 0, S.INTERACTION])
        present = [i for i in self.interactions if i in seen]
        missing = [i for i in self.interactions if i not in seen]
        figs, tabs = [], []
        for name in present:
            df = V.query(self.store, "lr_trajectory", interaction=name, sender=self.cell_type,
                         pvalue=self.f["pvalue"], min_score=self.f["min_score"], method=self.f["method"],
                         significant_only=False)
            if df.empty:
                figs.append(_fig(V.line_plot([], title=name, xlabel="day", ylabel="summed score"),
                                 f"in the store, but {self.cell_type} does not send it"))
                continue
            agg = df.groupby([S.GROUP, S.DAY]).agg(score=("mean_score", "sum"), sig=("n_significant", "sum")).reset_index()
            series = [{"name": g, "x": p[S.DAY].tolist(), "y": p["score"].tolist(), "filled": (p["sig"] > 0).tolist(),
                       "color": self.colors.get(g)} for g, p in agg.groupby(S.GROUP, sort=True)]
            n_recv = df["receiver"].nunique()
            figs.append(_fig(V.line_plot(series, title=name, xlabel="day", ylabel="summed score", width=296,
                                            height=220),
                             f"from {self.cell_type} to {n_recv} receiver{'s' if n_recv != 1 else ''}"))
            tabs.append(f"<details><summary>{_e(name)}: {len(df)} rows</summary>{table(df, show=1000)}</details>")
        note = (f'<p class="cg-note">Each pair sent by {_e(self.cell_type)}: its score summed over receivers per day '
                f"(every inferred edge; filled marker: significant for at least one receiver); "
                f"{_call('lr_trajectory', interaction=present[0] if present else None, sender=self.cell_type)}."
                + (f" Not in this store: {_e(', '.join(missing))}." if missing else "") + "</p>")
        return note + f'<div class="cg-figs">{"".join(figs)}</div>' + "".join(tabs)

    def dose(self) -> str:
        ct, parts = self.cell_type, []
        mine = self.states[self.states[S.CELL_TYPE_PROP] == ct]
        has = {(int(d), str(g)) for d, g in zip(mine[S.DAY], mine[S.GROUP])}
        days = sorted({d for d, _ in has if d != self.baseline})
        figs = []
        for direction, verb in (("out", "sends"), ("in", "receives")):
            frames = []
            for d in days:
                df = V.query(self.store, "dose_response", cell_type=ct, day=d, baseline=self.baseline,
                             direction=direction, **self.f)
                # a group not sampled on that day (or on the baseline) has nothing to compare
                df = df[[(d, g) in has and (self.baseline, g) in has for g in df[S.GROUP]]]
                frames.append(df.assign(day=d))
            both = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            if both.empty:
                continue
            both = both[["day", *[c for c in both.columns if c != "day"]]]
            m = both.pivot_table(index="day", columns=S.GROUP, values="log2fc")
            figs.append(_fig(V.bar_plot(m, title=f"What {ct} {verb}: day vs day {self.baseline}", xlabel="day",
                                           ylabel="log2FC", colors=self.colors),
                             "log2 of the total significant score on the day over the baseline day, per group"))
            parts.append(f"<h3>What {_e(ct)} {verb} "
                         f"({_call('dose_response', cell_type=ct, day=self.day, baseline=self.baseline, direction=direction)})</h3>"
                         + table(both, show=40))
        return f'<div class="cg-figs">{"".join(figs)}</div>' + "".join(parts)

    def roles(self) -> str:
        figs = []
        for metric, label in (("out_strength", "sends"), ("in_strength", "receives")):
            df = V.query(self.store, "roles", group=self.group, **self.f)
            if df.empty:
                continue
            m = df.pivot_table(index=S.CELL_TYPE_PROP, columns=S.DAY, values=metric, aggfunc="sum")
            base = m[self.baseline] if self.baseline in m.columns else 0.0
            delta = m.sub(base, axis=0).drop(columns=[self.baseline], errors="ignore")
            figs.append(_fig(V.heatmap(m.sort_index(), title=f"What each cell type {label} — group {self.group}",
                                          value="total score")))
            if not delta.empty:
                figs.append(_fig(V.heatmap(delta.sort_index(), diverging=True,
                                              title=f"… change from day {self.baseline}", value=f"Δ vs day {self.baseline}")))
        day_roles = V.query(self.store, "roles", day=self.day, group=self.group, **self.f)
        day_roles = day_roles.sort_values("out_strength", ascending=False)
        return (f'<p class="cg-note">{_call("roles", group=self.group)}: summed significant score sent (out) and '
                f"received (in) per cell type and day.</p>"
                f'<div class="cg-figs">{"".join(figs)}</div>'
                f"<h3>Day {self.day}, group {_e(self.group)} ({_call('roles', day=self.day, group=self.group)})</h3>"
                + table(day_roles, show=60))

    def network_changes(self) -> str:
        top = V.query(self.store, "top_changes", day=self.day, group=self.group, baseline=self.baseline,
                      limit=self.top, **self.f)
        flow = V.query(self.store, "pathway_flow", group=self.group, **self.f)
        fig = ""
        if len(flow):
            m = flow.pivot_table(index=S.PATHWAY, columns=S.DAY, values="share", aggfunc="sum") * 100
            m, rest = _top_pathways(m, self.pathway_rows)
            fig = _fig(V.heatmap(m, title=f"Pathway share of all signaling — group {self.group}",
                                    value="% of the day's flow"), rest)
        return (f"<h3>Largest changes, day {self.day} against day {self.baseline}, group {_e(self.group)}</h3>"
                f'<p class="cg-note">{_call("top_changes", day=self.day, group=self.group, baseline=self.baseline, limit=self.top)}</p>'
                + table(top.drop(columns=["ligand", "receptor"]), show=self.top)
                + f"<h3>Pathways ({_call('pathway_flow', group=self.group)})</h3>"
                + f'<div class="cg-figs">{fig}</div>')

    def composition(self) -> str:
        comp = V.query(self.store, "cell_composition")
        if comp.empty:
            return '<p class="cg-note">No cell counts were loaded (load with <code>cell_counts=</code>).</p>'
        m = comp.pivot_table(index=S.CELL_TYPE_PROP, columns=[S.GROUP, S.DAY], values=S.FRACTION, aggfunc="sum") * 100
        m.columns = [f"{g} d{d}" for g, d in m.columns]
        return (f'<p class="cg-note">% of the counted cells of each day and group ({_call("cell_composition")}).</p>'
                + table(m.round(2).reset_index(), show=80))

    def network_views(self) -> str:
        from .views import view_data

        blocks = []
        specs = (
            ("network", dict(day=self.day, group=self.group)),
            ("diff", dict(day=self.day, group=self.group, baseline=self.baseline)),
            ("ego", dict(cell_type=self.cell_type, day=self.day, group=self.group)),
            ("lr", dict(group=self.group)),  # opens on the day the pair signals most
        )
        for kind, params in specs:
            if kind == "diff" and self.day == self.baseline:
                blocks.append(f'<p class="cg-note">No change view: day {self.day} is the baseline.</p>')
                continue
            spec = view_data(self.store, kind, **params, **self.f)
            blocks.append(V.view_block(spec, f"cg-report-{kind}"))
        return ('<p class="cg-note">Hover an edge for its strongest ligand–receptor pairs, click for all of them; '
                "the ego and pair views step through days and groups in the page.</p>" + "".join(blocks))

    def render(self) -> str:
        ct = self.cell_type
        self.add("study", "Study", self.study())
        self.add("over-time", f"{ct} over time", self.over_time())
        self.add("pathways", f"Pathways of {ct} by day", self.pathways())
        self.add("change", f"{ct}: day {self.day} against day {self.baseline} (group {self.group})", self.change())
        self.add("pairs", "Key ligand–receptor pairs over time", self.key_pairs())
        self.add("dose", f"Dose comparison for {ct}", self.dose())
        self.add("roles", f"Senders and receivers (group {self.group})", self.roles())
        self.add("network", f"Whole network: day {self.day} against day {self.baseline}", self.network_changes())
        self.add("composition", "Cell composition", self.composition())
        if self.views:
            self.add("views", "Interactive networks", self.network_views())
        nav = "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t, _ in self.sections)
        body = "".join(f'<section id="{a}"><h2>{_e(t)}</h2>{b}</section>' for a, t, b in self.sections)
        from . import __version__

        title = f"Cell–cell communication report: {ct}"
        head = (f"<header><h1>{_e(title)}</h1>"
                f'<p class="cg-note">store {_e(self.store.uri)} · focus {_e(ct)} · group {_e(self.group)} · '
                f"day {self.day} against day {self.baseline} · {_e(V.thresholds(self.f))} · commgraph "
                f"{_e(__version__)}</p></header>")
        doc = f'<main class="cg-report">{head}<nav><ol>{nav}</ol></nav>{body}</main>\n'
        return V.page(title, doc, with_views=self.views)


def render_report(store: Store, *, cell_type: str = V.DEFAULT_CELL_TYPE, group: str | None = None,
                  day: int | None = None, baseline: int = 0, interactions: Sequence[str] = KEY_INTERACTIONS,
                  views: bool = True, top: int = 20, **filters: Any) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    return _Report(store, cell_type=cell_type, group=group, day=day, baseline=baseline, interactions=interactions,
                   views=views, top=top, filters=filters).render()


def write_report(store: Store, out: str | os.PathLike = "report.html", *, cell_type: str = V.DEFAULT_CELL_TYPE,
                 group: str | None = None, day: int | None = None, baseline: int = 0,
                 interactions: Sequence[str] = KEY_INTERACTIONS, views: bool = True, top: int = 20,
                 **filters: Any) -> Path:
    """Write one self-contained HTML report of a study and return its path (shown inline in Jupyter).

    Focus on ``cell_type`` in ``group`` (default: the group sampled on the most days), comparing
    ``day`` (default: the day its outgoing signaling differs most from the baseline) with
    ``baseline``. ``interactions`` are the pairs plotted over time (those the store holds);
    ``views=False`` leaves out the interactive networks (and vis-network, ~470 kB); ``top`` rows
    of the change tables are shown before the rest folds away. ``filters``: ``pvalue=0.05``,
    ``significant_only=True``, ``min_score=0.0``, ``method=None``, as for the named queries.

    >>> write_report(store, "report.html", cell_type="MX1+ Mono", group="high")   # doctest: +SKIP
    """
    text = render_report(store, cell_type=cell_type, group=group, day=day, baseline=baseline,
                         interactions=interactions, views=views, top=top, **filters)
    path = ViewFile(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
