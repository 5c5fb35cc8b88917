"""A study report a PI can read: tested findings in sentences, methods, then figures.

The page opens with what changed — sentences generated from the stored differential results
(``differential``, ``dose_effect``, ``cell_composition`` and, where a sample sheet was loaded,
the clinical association) — then says how (the inference tools and versions from the Run
nodes, what "score" means, the statistics), then shows the figures the field reads, drawn with
Vega-Lite from the named queries: a differential heatmap (``change_summary``), a dot plot of the
focus cell type's most changed pairs (``differential``), information flow per pathway
(``pathway_flow``), signaling roles (``roles``), cell composition (``cell_composition``),
clinical trajectories and the biomarker scatter (``clinical_trajectory``, ``commgraph.clinical``),
and the interactive networks (``commgraph.views``). Each heading is plain language; the query
behind it is in a numbered footnote.

Nothing is taken from the demo: the focus cell type is the sender with the most tested changes,
the group and day the contrast where it changed most, the key pairs its top changes in both
directions — unless given (``cell_type=``, ``group=``, ``day=``, ``interactions=``).

>>> from commgraph.report import write_report
>>> write_report(store, "report.html")                                    # doctest: +SKIP
>>> write_report(store, "report.pdf", format="pdf")                       # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from . import _schema as S
from .errors import QueryError
from .views import ViewFile
from .views import parts as V

if TYPE_CHECKING:
    from .stores import Store

__all__ = ["Focus", "choose_focus", "findings", "render_report", "write_report"]

FDR = 0.05
N_KEY = 3  # key pairs per direction


def _e(x: Any) -> str:
    return html.escape(str(x))


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def fmt_fdr(x: float) -> str:
    return V.fmt_p(x)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def pair_name(interaction: str) -> str:
    """CD86^CTLA4 → CD86–CTLA4 (a receptor complex keeps its underscore subunits joined by '+')."""
    lig, _, rec = str(interaction).partition("^")
    return f"{lig.replace('_', '+')}–{rec.replace('_', '+')}" if rec else str(interaction)


# --- what the report is about -------------------------------------------------------------------


@dataclass
class Focus:
    """What the report follows, chosen from the data unless given."""

    cell_type: str
    group: str
    day: int
    baseline: int
    tested: bool  # the store holds a time contrast for (group, day)
    interactions: list[str] = field(default_factory=list)  # key pairs (both directions)
    why: str = ""
    answers: dict = field(default_factory=dict, repr=False, compare=False)  # computed once per report
    time: V.TimeScale = field(default_factory=V.TimeScale, repr=False, compare=False)  # the study's unit, labels

    def t(self, value: Any) -> str:
        """A timepoint as the study writes it: "day 7", "6 h", "stimulated" (see ``time_text``)."""
        return self.time.text(value)

    def on(self, value: Any) -> str:
        """A timepoint after a preposition: "on day 7", "at 6 h", "in week 2", "in condition stimulated"."""
        return self.time.on(value)

    @property
    def noun(self) -> str:
        """What a timepoint is called in headings: "day" (a day study, as before), "time", "condition"."""
        return self.time.noun


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _time_contrasts(store: Store) -> pd.DataFrame:
    c = store.contrasts()
    if c.empty:
        return c
    return c[c[S.KIND] == "time"].sort_values([S.GROUP, S.DAY]).reset_index(drop=True)


def _calls(store: Store, group: str, day: int, fdr: float) -> pd.DataFrame:
    """change_summary of one time contrast, per sender→receiver pair."""
    return V.query(store, "change_summary", day=int(day), group=group, fdr=fdr)


def choose_focus(store: Store, *, cell_type: str | None = None, group: str | None = None, day: int | None = None,
                 interactions: Sequence[str] | None = None, fdr: float = FDR) -> Focus:
    """The focus cell type (the sender with the most tested changes over every time contrast),
    the contrast (group, day) where it changed most, and its key pairs (its most significant
    changes there, sent and received)."""
    states = store.cell_states()
    if states.empty:
        raise QueryError(f"the store {store.uri} holds no cell states: load a study first")
    if cell_type is not None and not (states[S.CELL_TYPE_PROP] == cell_type).any():
        V.check_known(store, {S.CELL_TYPE_PROP: cell_type})
        raise QueryError(f"no cell type {cell_type!r} in {store.uri}")
    if group is not None:
        V.pick_group(store, states, group)
    why = ""
    time = V.time_scale(store)
    if cell_type is None:
        cell_type = V.most_changed_sender(store, fdr=fdr)
        if cell_type is not None:
            why = (f"{cell_type} is the sender with the most tested changes at FDR ≤ {fdr:g} over the "
                   f"{len(_time_contrasts(store))} time contrasts")
    best = V.focus_contrast(store, cell_type, group=group, day=day, fdr=fdr) if cell_type is not None else None
    if best is not None:
        f = Focus(cell_type, best[0], best[1], best[2], True, why=why, time=time)
        f.interactions = list(interactions) if interactions else key_pairs(store, f, fdr=fdr)
        return f
    # no tested change to go by: the cell type and day of largest change in summed score
    if cell_type is None:
        roles = V.query(store, "roles")
        cell_type = str(roles.groupby(S.CELL_TYPE_PROP)["out_strength"].sum().idxmax()) if len(roles) \
            else str(states[S.CELL_TYPE_PROP].iloc[0])
    mine = states[states[S.CELL_TYPE_PROP] == cell_type]
    group = V.pick_group(store, mine, group)
    days = V.frames_of(states)[group]
    baseline = days[0]
    if day is None:
        by_day = V.query(store, "signaling_by_day", cell_type=cell_type, group=group)
        day = V.peak_day(by_day.set_index(S.DAY)["total_score"], days, baseline)
    day = V.check_day(store, days, day, group)
    f = Focus(cell_type, group, day, baseline, False, list(interactions or []),
              why="no differential results in the store (run `commgraph differential`)", time=time)
    if not f.interactions and day != baseline:  # untested: the pairs whose summed score changed most
        for direction in ("out", "in"):
            ch = V.query(store, "signaling_change", cell_type=cell_type, day=day, group=group, baseline=baseline,
                         direction=direction)
            if len(ch):
                ch = ch.assign(_a=ch["delta"].abs()).sort_values("_a", ascending=False, kind="stable")
                f.interactions += [i for i in dict.fromkeys(ch[S.INTERACTION]) if i not in f.interactions][:N_KEY]
    return f


def _tested(store: Store, f: Focus, direction: str, *, fdr: float, group: str | None = None,
            day: int | None = None) -> pd.DataFrame:
    """The focus cell type's tested features; self-signaling counts once, as sent ("out")."""
    t = V.query(store, "differential", cell_type=f.cell_type, day=int(day if day is not None else f.day),
                group=group or f.group, direction=direction, fdr=fdr)
    return t[t["partner"] != f.cell_type].reset_index(drop=True) if direction == "in" else t


def _top(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` most significant changes, one row per ligand–receptor pair (its best partner),
    with the most significant rise and fall both in when there are both."""
    if df.empty:
        return df
    ranked = df.assign(_a=df[S.LOG2FC].abs()).sort_values(["fdr", "_a"], ascending=[True, False])
    ranked = ranked.drop_duplicates(S.INTERACTION)
    picks = [ranked[ranked["delta"] > 0].head(1), ranked[ranked["delta"] < 0].head(1), ranked]
    out = pd.concat(picks).drop_duplicates([S.INTERACTION, "partner"]).head(n)
    return out.sort_values(["fdr", "_a"], ascending=[True, False]).drop(columns="_a")


def key_pairs(store: Store, f: Focus, *, fdr: float = FDR, n: int = N_KEY) -> list[str]:
    """The focus cell type's most significant changes in its contrast, sent and received."""
    out = []
    for direction in ("out", "in"):
        for r in _top(_tested(store, f, direction, fdr=fdr), n).itertuples(index=False):
            if r.interaction not in out:
                out.append(str(r.interaction))
    return out


# --- the sentences ---------------------------------------------------------------------------


def _pair_sentence(f: Focus, r: Any, direction: str, *, group: str, day: int) -> str:
    src, dst = (f.cell_type, r.partner) if direction == "out" else (r.partner, f.cell_type)
    fold = 2 ** abs(float(r.log2fc))
    verb = "rose" if r.delta > 0 else "fell"
    return (f"{_cap(f.on(day))} in group {group}, {src} → {dst} {pair_name(r.interaction)} {verb} {fold:.2f}-fold "
            f"(log2 FC {float(r.log2fc):+.2f}; mean score {float(r.mean_baseline):.3f} {f.on(int(r.baseline))}, "
            f"{float(r.mean_day):.3f} {f.on(day)}), FDR {fmt_fdr(float(r.fdr))}, n = {int(r.n)} patients.")


def findings(store: Store, f: Focus, *, fdr: float = FDR, per_direction: int = N_KEY) -> list[dict]:
    """The summary: one dict per sentence (``text``, ``query``, ``params``), every number in
    ``text`` read from the query named there."""
    out: list[dict] = []
    if not f.tested:
        out.append({"text": f"This store holds no tested changes ({f.why}); the figures show summed scores only.",
                    "query": None, "params": {}})
        return out
    counts = {}
    for direction in ("out", "in"):
        counts[direction] = _tested(store, f, direction, fdr=fdr)
    up = {d: int((counts[d]["delta"] > 0).sum()) for d in counts}
    down = {d: int((counts[d]["delta"] < 0).sum()) for d in counts}
    out.append({"text": f"{_cap(f.on(f.day))} against {f.t(f.baseline)} in group {f.group}, {f.cell_type} sent "
                        f"{up['out']} ligand–receptor pairs more strongly and {down['out']} less strongly, and received "
                        f"{up['in']} more strongly and {down['in']} less strongly (paired over patients, "
                        f"FDR ≤ {fdr:g}).",
                "query": "differential", "kind": "counts",
                "params": {"cell_type": f.cell_type, "day": f.day, "group": f.group, "direction": "out", "fdr": fdr},
                "more": [{"cell_type": f.cell_type, "day": f.day, "group": f.group, "direction": "in", "fdr": fdr}]})
    for direction in ("out", "in"):
        for r in _top(counts[direction], per_direction).itertuples(index=False):
            out.append({"text": _pair_sentence(f, r, direction, group=f.group, day=f.day), "query": "differential",
                        "kind": "pair", "params": {"cell_type": f.cell_type, "day": f.day, "group": f.group,
                                                   "direction": direction, "partner": r.partner, "fdr": 1.0}})
    # the same day in the other groups, and the dose × time contrasts of this group
    contrasts = store.contrasts()
    for k in contrasts[(contrasts[S.KIND] == "time") & (contrasts[S.DAY] == f.day)
                       & (contrasts[S.GROUP] != f.group)].itertuples(index=False):
        n = {d: len(_tested(store, f, d, fdr=fdr, group=k.group)) for d in ("out", "in")}
        out.append({"text": f"In group {k.group} {f.on(f.day)}, {n['out']} pairs sent and {n['in']} received by "
                            f"{f.cell_type} changed at FDR ≤ {fdr:g}.",
                    "query": "differential", "kind": "other_group",
                    "params": {"cell_type": f.cell_type, "day": f.day, "group": k.group, "fdr": fdr}})
    dose = contrasts[(contrasts[S.KIND] == "dose_time") & (contrasts[S.DAY] == f.day)
                     & ((contrasts[S.GROUP] == f.group) | (contrasts[S.REFERENCE] == f.group))]
    for k in dose.itertuples(index=False):
        other, sign = (k.reference, 1) if k.group == f.group else (k.group, -1)
        d = V.query(store, "dose_effect", day=f.day, group=k.group, reference=k.reference, fdr=fdr, sender=f.cell_type)
        larger = int((sign * d["difference"] > 0).sum())
        smaller = int((sign * d["difference"] < 0).sum())
        out.append({"text": f"Against group {other}, the {f'day-{f.day}' if f.time.plain else f.t(f.day)} change of {len(d)} pairs sent by "
                            f"{f.cell_type} differed (dose × time, FDR ≤ {fdr:g}): in group {f.group}, {larger} rose "
                            f"more or fell less and {smaller} the other way.",
                    "query": "dose_effect", "kind": "dose",
                    "params": {"day": f.day, "group": k.group, "reference": k.reference, "fdr": fdr,
                               "sender": f.cell_type}})
    comp = V.query(store, "cell_composition", cell_type=f.cell_type, group=f.group)
    fr = comp.set_index(S.DAY)[S.FRACTION] if len(comp) else pd.Series(dtype=float)
    if f.baseline in fr.index and f.day in fr.index:
        out.append({"text": f"{f.cell_type} made up {pct(fr[f.baseline])} of the counted cells {f.on(f.baseline)} "
                            f"and {pct(fr[f.day])} {f.on(f.day)} in group {f.group}; summed scores move with it, "
                            f"the per-patient tests above compare each patient with their own baseline.",
                    "query": "cell_composition", "kind": "composition",
                    "params": {"cell_type": f.cell_type, "group": f.group}})
    clin = clinical_link(store, f)
    if clin is not None:
        out.append({"text": clin["text"], "query": "clinical", "kind": "clinical", "params": clin["params"]})
    return out


def clinical_scores(store: Store) -> list[str]:
    """Numeric clinical variables of the loaded sample sheets, in the sheet's column order."""
    from . import clinical
    from .errors import InputError

    try:
        sheet = clinical.clinical_table(store)
    except InputError:
        return []
    fixed = {S.SAMPLE, S.PATIENT, S.GROUP, S.DAY}
    return [c for c in sheet.columns if c not in fixed and pd.api.types.is_numeric_dtype(sheet[c])]


def clinical_link(store: Store, f: Focus) -> dict | None:
    """See :func:`_clinical_link`; computed once per Focus (its permutation tests take seconds)."""
    if "clinical" not in f.answers:
        f.answers["clinical"] = _clinical_link(store, f)
    return f.answers["clinical"]


def _clinical_link(store: Store, f: Focus) -> dict | None:
    """Spearman across patients between the change of the focus cell type's fraction and the
    change of each numeric clinical score, baseline to the last scored day (every score is
    reported: none is picked for its p-value)."""
    from . import clinical
    from .errors import InputError

    scores = clinical_scores(store)
    if not scores:
        return None
    traj = pd.concat([V.query(store, "clinical_trajectory", score=sc).assign(score=sc) for sc in scores],
                     ignore_index=True).dropna(subset=["value"])
    days = sorted(d for d in traj[S.DAY].unique() if d != f.baseline)
    if not days:
        return None
    day = int(days[-1])
    groups = sorted(traj.loc[traj[S.DAY] == day, S.GROUP].unique())
    rows = []
    for sc in scores:
        try:
            a = clinical.associate(store, score=sc, day=day, baseline=f.baseline, groups=groups,
                                   cell_types=[f.cell_type])
        except InputError:
            continue
        hit = a[a["feature"] == f.cell_type]
        if len(hit) and not pd.isna(hit["rho"].iloc[0]):
            r = hit.iloc[0]
            rows.append({"score": sc, "rho": float(r["rho"]), "p": float(r["p"]), "n": int(r["n_patients"])})
    if not rows:
        return None
    items = [f"{r['score']} (rho {r['rho']:+.2f}, p {r['p']:.3f}, n = {r['n']})" for r in rows]
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    text = (f"Across patients, the change of {f.cell_type}'s fraction from {f.t(f.baseline)} to {f.t(day)} went with "
            f"the change of {listed} (Spearman, permutation p; every score in the sample sheet).")
    return {"text": text, "day": day, "groups": groups, "scores": rows, "trajectories": traj,
            "params": {"day": day, "baseline": f.baseline, "groups": groups, "cell_type": f.cell_type}}


# --- the page ------------------------------------------------------------------------------------


def table(df: pd.DataFrame, *, show: int = 15) -> str:
    """An HTML table; rows after the first ``show`` fold into a <details>."""
    if df is None or df.empty:
        return '<p class="cg-note">(no rows)</p>'

    def cell(v):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return '<td class="num">–</td>'
        if isinstance(v, bool):
            return f"<td>{'yes' if v else 'no'}</td>"
        if isinstance(v, (int,)) or getattr(getattr(v, "dtype", None), "kind", "-") in "iu":
            return f'<td class="num">{int(v):,}</td>'
        if isinstance(v, float) or getattr(getattr(v, "dtype", None), "kind", "-") == "f":
            return f'<td class="num">{V.fmt(float(v))}</td>'
        return f"<td>{_e(v)}</td>"

    def rows(part):
        return "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>" for r in part.itertuples(index=False))

    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    first = f'<table class="cg-table"><thead><tr>{head}</tr></thead><tbody>{rows(df.head(show))}</tbody></table>'
    if len(df) <= show:
        return first
    rest = f'<table class="cg-table"><thead><tr>{head}</tr></thead><tbody>{rows(df.iloc[show:])}</tbody></table>'
    return first + f"<details><summary>{len(df) - show} more rows</summary>{rest}</details>"


SCORE_UNITS = {  # what a tool's score column measures
    "magnitude_rank": "1 − LIANA+'s aggregated magnitude rank: unitless, 0–1, higher = stronger",
    "lr_means": "mean of ligand and receptor expression (log-normalised counts)",
    "lr_probs": "CellChat's communication probability (0–1)",
    "lr_gmeans": "geometric mean of ligand and receptor expression (log-normalised counts)",
    "expr_prod": "product of ligand and receptor expression (log-normalised counts²)",
    "lrscore": "SingleCellSignalR's LR score (0–1)",
    "inter_score": "scSeqComm's interaction score (0–1)",
    "lr_logfc": "mean log2 fold change of ligand and receptor",
}


def score_meaning(method: str) -> str:
    """What 'score' means for runs of one method, from the format registry."""
    from .formats import FORMATS

    tool, _, sub = str(method).partition(":")
    fmt = FORMATS.get(tool) or next((f for f in FORMATS.values() if f.tool == tool), None)
    if fmt is None:
        return "the tool's magnitude (higher = stronger)"
    if sub and fmt.methods and sub in fmt.methods:
        col = fmt.methods[sub].get("score_column")
        return f"{SCORE_UNITS.get(col, col)} (column {col} of {fmt.title.split(' (')[0]} {sub})"
    col = fmt.score.get("column", "")
    return f"{SCORE_UNITS.get(col, fmt.score_text)} ({fmt.title})"


class _Report:
    def __init__(self, store: Store, focus: Focus, *, views: bool, fdr: float, filters: dict):
        self.store, self.f, self.views, self.fdr = store, focus, views, fdr
        self.filters = V.check_filters(filters)
        self.states = store.cell_states()
        self.groups = list(V.frames_of(self.states))
        self.notes: list[str] = []  # footnotes: the query behind each figure
        self.sections: list[tuple[str, str, str]] = []
        self.n_chart = 0

    def note(self, name: str, **params: Any) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in params.items() if v is not None)
        call = f'store.query("{name}"{", " if args else ""}{args})' if name != "clinical" \
            else f"commgraph.clinical.associate(store, score=SCORE, {args})"
        self.notes.append(f"<code>{html.escape(call, quote=False)}</code>")
        n = len(self.notes)
        return f'<sup class="cg-fn"><a href="#fn{n}" id="fnref{n}">{n}</a></sup>'

    def chart(self, spec: dict, caption: str, note: str = "") -> str:
        self.n_chart += 1
        return V.chart_block(spec, f"cg-chart-{self.n_chart}", caption=_e(caption), note=note)

    def add(self, anchor: str, title: str, body: str) -> None:
        self.sections.append((anchor, title, body))

    # --- sections --------------------------------------------------------------------------
    def summary(self) -> str:
        items = findings(self.store, self.f, fdr=self.fdr)
        def notes(it: dict) -> str:
            if not it["query"]:
                return ""
            return "".join(self.note(it["query"], **p) for p in [it["params"], *it.get("more", [])])

        lis = "".join(f'<li data-finding="{_e(it.get("kind", ""))}">{_e(it["text"])}{notes(it)}</li>' for it in items)
        why = f'<p class="cg-note">Focus: {_e(self.f.why)}.</p>' if self.f.why else ""
        return f'<ul class="cg-findings">{lis}</ul>{why}'

    def methods(self) -> str:
        runs = self.store.runs()
        tools = []
        for (method, tool, tv, dbv), part in runs.groupby(
                [S.METHOD, S.TOOL, S.TOOL_VERSION, S.DATABASE_VERSION], dropna=False):
            tv = tv if isinstance(tv, str) and tv else "version not recorded"
            dbv = dbv if isinstance(dbv, str) and dbv else "not recorded"
            tools.append(f"<li><b>{_e(method)}</b> ({_e(tool)} {_e(tv)}; resource {_e(dbv)}): {len(part)} runs. "
                         f"Score: {_e(score_meaning(method))}.</li>")
        c = self.store.contrasts()
        stats = ""
        if len(c):
            settings = json.loads(c["settings"].iloc[0]) if "settings" in c.columns and isinstance(c["settings"].iloc[0], str) else {}
            kinds = ", ".join(f"{n} {k}" for k, n in c[S.KIND].value_counts().sort_index().items())
            one, noun = ("on one day", "day") if self.f.time.plain else (f"at one {self.f.noun}", self.f.noun)
            stats = (f"<p>Statistics: per sample (one patient {one}) each feature is the tool's score; a pair "
                     f"not detected while both cell types were present counts 0, a cell type absent from a sample is "
                     f"missing. One linear model per feature ({_e(settings.get('model', 'limma, paired design'))}): a "
                     f"fixed effect per patient, so each patient is compared with their own baseline; limma's "
                     f"empirical-Bayes moderated t (pylimma); Benjamini–Hochberg FDR within each contrast "
                     f"({_e(settings.get('fdr', 'BH'))}). A feature is tested when detected in at least "
                     f"{_e(settings.get('min_detection', 0.5))} of the samples {'on' if noun == 'day' else 'at'} each {noun} compared and when at least "
                     f"{_e(settings.get('min_patients', 2))} patients have both {noun}s. Fold changes compare the paired "
                     f"patients' mean scores with a pseudocount of a tenth of the level's median non-zero score. "
                     f"Contrasts in the store: {_e(kinds)}"
                     + (f"; {int(c['stale'].sum())} stale (compute again)" if c["stale"].any() else "") + ".</p>")
        else:
            stats = "<p>No differential results: run <code>commgraph differential</code> to test change.</p>"
        from . import __version__

        libs = V.chart_versions()
        return (f"<p>Inference runs loaded ({len(runs)}):</p><ul>{''.join(tools)}</ul>{stats}"
                f"<p>Significant interactions in the figures of summed score: {_e(V.thresholds(self.filters))}. "
                f"Software: commgraph {_e(__version__)}; figures drawn with Vega-Lite {_e(libs['vega-lite'])} "
                f"(altair {_e(libs['altair'])}), networks with vis-network (pyvis).</p>")

    def heatmap(self) -> str:
        f = self.f
        cs = _calls(self.store, f.group, f.day, self.fdr)
        if cs.empty:
            return '<p class="cg-note">(no tested pairs)</p>'
        n_up, n_down = int(cs["n_up"].sum()), int(cs["n_down"].sum())
        spec = V.change_heatmap(cs, title=f"Changed signaling, {f.t(f.day)} vs {f.t(f.baseline)}, group {f.group}",
                                subtitle=f"{n_up} features rose and {n_down} fell at FDR ≤ {self.fdr:g} (of "
                                         f"{int(cs['n_tested'].sum())} tested)", fdr=self.fdr)
        return self.chart(spec, "Each cell: ligand–receptor features of that sender → receiver pair that changed "
                                "(↑ rose, ↓ fell); colour: their summed mean paired change in score units "
                                "(red up, blue down).",
                          self.note("change_summary", day=f.day, group=f.group, fdr=self.fdr))

    def dots(self) -> str:
        f = self.f
        contrasts = _time_contrasts(self.store)
        days = sorted(int(d) for d in contrasts.loc[contrasts[S.GROUP] == f.group, S.DAY])
        feats, frames = [], []
        for direction in ("out", "in"):
            top = _top(_tested(self.store, f, direction, fdr=self.fdr), 6)
            for r in top.itertuples(index=False):
                label = (f"→ {r.partner}: {pair_name(r.interaction)}" if direction == "out"
                         else f"{r.partner} →: {pair_name(r.interaction)}")
                feats.append((direction, r.partner, r.interaction, label))
        if not feats:
            return f'<p class="cg-note">No pair of {_e(f.cell_type)} changed at FDR ≤ {self.fdr:g}.</p>'
        for d in days:
            for direction in ("out", "in"):
                t = _tested(self.store, f, direction, fdr=1.0, day=d)
                for dr, partner, inter, label in feats:
                    if dr != direction:
                        continue
                    hit = t[(t["partner"] == partner) & (t[S.INTERACTION] == inter)]
                    if len(hit):
                        frames.append({"feature": label, "day": d, **{k: hit.iloc[0][k] for k in
                                                                      ("delta", "log2fc", "fdr", "n")}})
        dots = pd.DataFrame(frames)
        spec = V.dot_plot(dots, title=f"{f.cell_type}: its most changed pairs over {f.noun}s, group {f.group}",
                          subtitle=f"rows: the top {len(feats)} of {f.t(f.day)} (sent: → partner; received: partner →)",
                          fdr=self.fdr, time=f.time)
        return self.chart(spec, f"Each dot: one pair {'on one day' if f.time.plain else f'at one {f.noun}'} "
                                f"against {f.t(f.baseline)}, paired over patients. "
                                f"Size: −log10 FDR; colour: log2 fold change; black ring: FDR ≤ {self.fdr:g}; "
                                f"no dot: not tested {'that day' if f.time.plain else f'at that {f.noun}'}.",
                          self.note("differential", cell_type=f.cell_type, day=days[0] if days else f.day,
                                    group=f.group, direction="out", fdr=1.0))

    def key_pair_table(self) -> str:
        f = self.f
        parts = []
        for direction, verb in (("out", "sent"), ("in", "received")):
            t = _tested(self.store, f, direction, fdr=1.0)
            t = t[t[S.INTERACTION].isin(f.interactions)]
            if t.empty:
                continue
            t = t.sort_values("fdr")[["partner", S.INTERACTION, "pathway", "mean_baseline", "mean_day", "delta",
                                      "log2fc", "fdr", "n"]]
            parts.append(f"<h3>Key pairs {verb} by {_e(f.cell_type)}, {_e(f.t(f.day))} vs {_e(f.t(f.baseline))}, group "
                         f"{_e(f.group)}{self.note('differential', cell_type=f.cell_type, day=f.day, group=f.group, direction=direction, fdr=1.0)}</h3>"
                         + table(t, show=12))
        return "".join(parts) or '<p class="cg-note">(no key pairs)</p>'

    def flow(self) -> str:
        flow = V.query(self.store, "pathway_flow", **self.filters)
        if flow.empty:
            return '<p class="cg-note">(no significant signaling)</p>'
        flow, single = self._several_days(flow)
        known = flow[flow[S.PATHWAY] != S.UNANNOTATED]
        top = known.groupby(S.PATHWAY)["flow"].sum().sort_values(ascending=False).head(8).index
        shown = known[known[S.PATHWAY].isin(top)]
        spec = V.flow_lines(shown, title=f"Information flow of the 8 largest pathways, by {self.f.noun} and group",
                            subtitle="summed score of the significant interactions of each pathway",
                            groups=[g for g in self.groups if g not in single], time=self.f.time)
        left = known[S.PATHWAY].nunique() - len(top)
        rest = [f"{left} smaller pathway{'s' if left != 1 else ''}"] if left else []
        if (flow[S.PATHWAY] == S.UNANNOTATED).any():
            rest.append(f"'{S.UNANNOTATED}' (pairs no pathway source knows)")
        rest += [f"group {g} (sampled {self.f.on(single[g])} only)" for g in single]
        return self.chart(spec, ("Left out here, in the query's answer: " + "; ".join(rest) + ".") if rest else
                          "Every pathway is shown.",
                          self.note("pathway_flow"))

    def roles(self) -> str:
        f = self.f
        r = V.query(self.store, "roles", group=f.group, **self.filters)
        r = r[r[S.DAY].isin([f.baseline, f.day])]
        if r.empty:
            return '<p class="cg-note">(no significant signaling)</p>'
        spec = V.role_scatter(r, title=f"Signaling roles, {f.t(f.baseline)} → {f.t(f.day)}, group {f.group}",
                              subtitle=f"each cell type moves from its baseline (hollow) to the {f.noun} (filled)",
                              baseline=f.baseline, day=f.day, time=f.time)
        return self.chart(spec, "Outgoing and incoming strength: summed score of the significant interactions a "
                                "cell type sends and receives (score units).",
                          self.note("roles", group=f.group))

    def composition(self) -> str:
        comp = V.query(self.store, "cell_composition")
        if comp.empty:
            return '<p class="cg-note">No cell counts were loaded (load with <code>cell_counts=</code>).</p>'
        comp, single = self._several_days(comp)
        spec = V.composition_lines(comp, title=f"Cell composition by {self.f.noun} and group",
                                   subtitle=f"% of the counted cells; thick line: {self.f.cell_type}",
                                   groups=[g for g in self.groups if g not in single], focus=self.f.cell_type,
                                   time=self.f.time)
        left = "".join(f" Group {g} (sampled {self.f.on(d)} only) is in the query's answer." for g, d in single.items())
        return self.chart(spec, f"Pooled over the samples of each {self.f.noun} and group." + left, self.note("cell_composition"))

    def _several_days(self, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
        """Rows of groups sampled on more than one day; and the others with their one day."""
        days = df.groupby(S.GROUP)[S.DAY].nunique()
        single = {str(g): int(df.loc[df[S.GROUP] == g, S.DAY].iloc[0]) for g in days[days < 2].index}
        if len(single) == len(days):
            return df, {}
        return df[~df[S.GROUP].isin(single)], single

    def clinical(self) -> str:
        link = clinical_link(self.store, self.f)
        scores = clinical_scores(self.store)
        if not scores:
            return ""
        f = self.f
        traj = pd.concat([V.query(self.store, "clinical_trajectory", score=sc).assign(score=sc) for sc in scores],
                         ignore_index=True)
        out = self.chart(V.trajectories(traj, title=f"Clinical scores per patient over {f.noun}s",
                                        subtitle="one line per patient; each score on its own scale", time=f.time),
                         f"From the sample sheet: {', '.join(scores)}.",
                         self.note("clinical_trajectory", score=scores[0]))
        if link is None:
            return out
        from . import clinical

        d, b = link["day"], f.baseline
        fr = clinical.features(self.store, "fraction", cell_types=[f.cell_type])
        fr = fr[fr[S.GROUP].isin(link["groups"])]
        wide = fr.pivot_table(index=[S.PATIENT, S.GROUP], columns=S.DAY, values="value")
        if not {d, b} <= set(wide.columns):
            return out
        x = ((wide[d] - wide[b]) * 100).rename("x")
        x.index.names = ["patient", S.GROUP]
        parts = []
        for r in link["scores"]:
            t = traj[(traj["score"] == r["score"]) & traj[S.GROUP].isin(link["groups"])]
            t = t.pivot_table(index=["patient", S.GROUP], columns=S.DAY, values="value")
            if not {d, b} <= set(t.columns):
                continue
            y = (t[d] - t[b]).rename("y")
            pts = pd.concat([x, y], axis=1, join="inner").dropna().reset_index()
            parts.append(pts.assign(score=r["score"], panel=f"{r['score']}: rho {r['rho']:+.2f}, p {r['p']:.3f}"))
        if not parts:
            return out
        spec = V.biomarker_scatter(
            pd.concat(parts, ignore_index=True),
            title=f"Change of {f.cell_type} fraction vs change of each clinical score, {f.t(b)} → {f.t(d)}",
            subtitle="one point per patient; Spearman rho and permutation p above each panel",
            x=f"Δ {f.cell_type} (% points)")
        return out + self.chart(spec, "commgraph.clinical.associate, per score.",
                                self.note("clinical_trajectory", score=link["scores"][0]["score"]))

    def networks(self) -> str:
        from .views import view_data

        f, blocks = self.f, []
        if f.tested:
            spec = view_data(self.store, "diff", day=f.day, group=f.group, baseline=f.baseline, focus=f.cell_type,
                             fdr=self.fdr, **self.filters)
            blocks.append(V.view_block(spec, "cg-report-diff"))
        spec = view_data(self.store, "ego", cell_type=f.cell_type, day=f.day, group=f.group, **self.filters)
        blocks.append(V.view_block(spec, "cg-report-ego"))
        if f.interactions:
            spec = view_data(self.store, "lr", interaction=f.interactions[0], day=f.day, group=f.group,
                             patients=False, **self.filters)  # the report draws no per-patient figure here
            blocks.append(V.view_block(spec, "cg-report-lr"))
        return ('<p class="cg-note">Hover an edge for its ligand–receptor pairs, click for all of them; the controls '
                f"change the cut-offs, {f.noun} and group in the page.</p>" + "".join(blocks))

    def render(self) -> str:
        f = self.f
        self.add("summary", "What changed", self.summary())
        self.add("methods", "How it was measured", self.methods())
        if f.tested:
            self.add("heatmap", "Which cell types changed their signaling", self.heatmap())
            self.add("pairs", f"Which pairs of {f.cell_type} changed", self.dots() + self.key_pair_table())
        self.add("flow", "Which pathways carry the signaling", self.flow())
        self.add("roles", "Which cell types send and receive more", self.roles())
        self.add("composition", "How the cell mix changes", self.composition())
        clin = self.clinical()
        if clin:
            self.add("clinical", "How patients' clinical scores relate", clin)
        if self.views:
            self.add("networks", "The networks, interactive", self.networks())
        nav = "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t, _ in self.sections)
        body = "".join(f'<section id="{a}"><h2>{_e(t)}</h2>{b}</section>' for a, t, b in self.sections)
        notes = "".join(f'<li id="fn{i}">{n} <a href="#fnref{i}">↩</a></li>' for i, n in enumerate(self.notes, 1))
        title = f"How {f.cell_type} signaling changes: {f.t(f.day)} against {f.t(f.baseline)}, group {f.group}"
        head = (f"<header><h1>{_e(title)}</h1>"
                f'<p class="cg-note">store {_e(self.store.uri)} · tested changes at FDR ≤ {self.fdr:g} · '
                f"every number below is read from the store with the named query in the footnotes</p></header>")
        doc = (f'<main class="cg-report">{head}<nav><ol>{nav}</ol></nav>{body}'
               f'<section id="notes"><h2>The queries behind the figures</h2><ol class="cg-notes">{notes}</ol></section>'
               "</main>\n")
        return V.page(title, doc, with_views=self.views, charts=self.n_chart > 0)


def render_report(store: Store, *, cell_type: str | None = None, group: str | None = None, day: int | None = None,
                  interactions: Sequence[str] | None = None, views: bool = True, fdr: float = FDR,
                  **filters: Any) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    focus = choose_focus(store, cell_type=cell_type, group=group, day=day, interactions=interactions, fdr=fdr)
    return _Report(store, focus, views=views, fdr=fdr, filters=filters).render()


def print_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *, chromium: str | None = None,
              timeout: float = 120) -> Path:
    """Print an HTML page to PDF with headless Chromium (waits for the figures to draw)."""
    import shutil

    exe = chromium or os.environ.get("COMMGRAPH_CHROMIUM") or next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    if not exe:
        raise QueryError("printing a PDF needs Chromium (Debian: apt-get install chromium), or set COMMGRAPH_CHROMIUM")
    pdf_path = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="commgraph-pdf-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf_path}", Path(html_path).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not pdf_path.is_file():
        raise QueryError(f"Chromium could not print {html_path}: {(done.stderr or '').strip()[-400:]}")
    return pdf_path


def write_report(store: Store, out: str | os.PathLike = "report.html", *, cell_type: str | None = None,
                 group: str | None = None, day: int | None = None, interactions: Sequence[str] | None = None,
                 views: bool = True, fdr: float = FDR, format: str | None = None, **filters: Any) -> Path:
    """Write the study report and return its path (an HTML page shows inline in Jupyter).

    The focus cell type, group and day default to the data's largest tested change (see
    :func:`choose_focus`); ``interactions`` are the key pairs (default: the focus's top changes,
    sent and received); ``views=False`` leaves out the interactive networks; ``fdr`` is the
    cut-off of a tested change. ``format="pdf"`` (or an ``out`` ending in ``.pdf``) prints the
    page with headless Chromium. ``filters`` (``pvalue``, ``significant_only``, ``min_score``,
    ``method``) apply to the figures of summed score.
    """
    fmt = (format or ("pdf" if str(out).lower().endswith(".pdf") else "html")).lower()
    if fmt not in ("html", "pdf"):
        raise QueryError(f"unknown report format {format!r} (html or pdf)")
    text = render_report(store, cell_type=cell_type, group=group, day=day, interactions=interactions, views=views,
                         fdr=fdr, **filters)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "pdf":
        if out.suffix.lower() != ".pdf":
            out = out.with_suffix(".pdf")
        with tempfile.TemporaryDirectory(prefix="commgraph-report-") as tmp:
            page = Path(tmp) / "report.html"
            page.write_text(text, encoding="utf-8")
            return print_pdf(page, out)
    path = ViewFile(out)
    path.write_text(text, encoding="utf-8")
    return path
