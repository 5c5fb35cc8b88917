"""What each view shows, read from the named queries.

Every number comes from ``store.query(NAME, ...)`` (``cypher/NAME.cypher``) or the Store's
``cell_states()``; this module only picks defaults, splits answers into day × group frames and
shapes them as JSON for the page. The page (``assets/commgraph-view.js``) draws a frame, and
for the ego view sums the shown ligand–receptor pairs per partner (so its in-page filter works
without a server).

A *spec* is a plain dict (JSON-able) with the keys the page script reads:

``kind``, ``title`` (``{day}``, ``{group}``, ``{baseline}`` are filled in by the page),
``subtitle``, ``nodes`` (every cell type the view can show, with lineage and fixed x/y),
``frames`` (per day × group: ``nodes`` present with their counts, ``edges`` aggregated per
sender → receiver when a query gives them, ``rows``: the ligand–receptor pairs behind them as
lists in ``row_columns`` order), ``initial`` (day, group, filter, expand), ``legend``,
``palette``, ``node_mode`` (``"frame"``: every cell state of the frame; ``"connected"``: the
focus and its partners), ``edge_mode`` (``"aggregate"``, ``"rows"`` or ``"diff"``).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import _schema as S
from ..errors import QueryError
from ._layout import DOWN, LINEAGE_COLORS, LINEAGES, UP, cell_type_colors, circle_positions, lineage_of

if TYPE_CHECKING:
    from ..stores import Store

#: The lr view carries this many pairs (the most often significant) for its in-page search.
PAIRS_EMBEDDED = 40
#: Draw at most this many edges at first (the strongest; the page can show all): a 50-cell-type
#: network has up to 2,500 sender → receiver pairs, and a hairball hides more than it shows.
MAX_EDGES = 500
#: The network view draws only this many of the strongest sender → receiver edges at first (a
#: select in the page shows more or all; the title states the cut): the demo's 12 cell types
#: make 144 pairs on a day, a tangle in which no edge can be followed.
NETWORK_MAX_EDGES = 30
#: The choices of that select (those below the day's number of edges, and "all").
NETWORK_CAPS = (5, 10, 20, 30, 50, 100, 200, 500, 1000)

#: Filters every view passes to the named queries, with the queries' own defaults.
FILTER_DEFAULTS: dict[str, Any] = {"method": None, "pvalue": 0.05, "significant_only": True, "min_score": 0.0}

# column names of the query answers read here (the queries' `returns:` headers)
SENDER, RECEIVER, PARTNER = "sender", "receiver", "partner"
N_INTERACTIONS, TOTAL_SCORE, MEAN_SCORE = "n_interactions", "total_score", "mean_score"
OUT_STRENGTH, IN_STRENGTH, N_OUT, N_IN = "out_strength", "in_strength", "n_out", "n_in"
STATUS, BASELINE_SCORE, DELTA, LOG2FC, N_RUNS = "status", "baseline_score", "delta", "log2fc", "n_runs"

ROW_COLUMNS = ["from", "to", S.INTERACTION, S.PATHWAY, S.SCORE, S.PVALUE]
LR_ROW_COLUMNS = ["from", "to", S.INTERACTION, S.PATHWAY, S.SCORE, N_RUNS]
DIFF_ROW_COLUMNS = ["from", "to", S.INTERACTION, S.PATHWAY, STATUS, BASELINE_SCORE, S.SCORE, DELTA]


# --- small helpers ----------------------------------------------------------------------


def query(store: Store, name: str, **params: Any) -> pd.DataFrame:
    """``store.query`` without the empty-answer warning (an empty frame is a normal answer here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return store.query(name, **params)


def check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(filters) - set(FILTER_DEFAULTS))
    if unknown:
        raise QueryError(
            f"unknown view option {unknown[0]!r}; the query filters a view takes are "
            + ", ".join(f"{k}={v!r}" for k, v in FILTER_DEFAULTS.items())
        )
    return {**FILTER_DEFAULTS, **filters}


def _num(x: Any) -> float | None:
    if x is None or x is pd.NA:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else round(v, 6)


def _int(x: Any) -> int | None:
    v = _num(x)
    return None if v is None else int(v)


def _str(x: Any) -> str | None:
    return None if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else str(x)


def thresholds(f: dict[str, Any]) -> str:
    """The significance rule of the queries, in words, for titles."""
    if f["significant_only"] is False or f["significant_only"] is None:
        parts = ["every inferred interaction"]
    else:
        p = f["pvalue"]
        parts = ["significant interactions (the tool's call" + (f", p ≤ {p:g} where given)" if p is not None else ")")]
    if f["min_score"] is not None:
        parts.append(f"score ≥ {f['min_score']:g}")
    if f["method"]:
        parts.append(f"method {f['method']}")
    return ", ".join(parts)


def check_known(store: Store, params: dict[str, Any]) -> None:
    """Raise with the store's own hint when a parameter names something it doesn't know."""
    from .._hints import hint_for

    hint = hint_for(store, {k: v for k, v in params.items() if v is not None})
    if hint:
        raise QueryError(hint)


def frames_of(states: pd.DataFrame) -> dict[str, list[int]]:
    """group -> sorted days that have cell states."""
    out: dict[str, list[int]] = {}
    for (g, d) in states[[S.GROUP, S.DAY]].drop_duplicates().itertuples(index=False):
        out.setdefault(str(g), []).append(int(d))
    return {g: sorted(ds) for g, ds in sorted(out.items())}


def pick_group(store: Store, states: pd.DataFrame, group: str | None) -> str:
    """The given group, or the one sampled on the most days (first by name on a tie)."""
    groups = frames_of(states)
    if not groups:
        raise QueryError(f"the store {store.uri} holds no cell states: load a study first")
    if group is not None:
        if group not in groups:
            check_known(store, {S.GROUP: group})
            raise QueryError(f"no group {group!r} in {store.uri}")
        return group
    return min(groups, key=lambda g: (-len(groups[g]), g))


def peak_day(totals: pd.Series, days: list[int], baseline: int) -> int:
    """The day (not the baseline) whose total differs most from the baseline's; the last day
    when there is nothing to compare."""
    others = [d for d in days if d != baseline]
    if not others:
        return days[-1]
    base = float(totals.get(baseline, 0.0))
    return max(others, key=lambda d: (abs(float(totals.get(d, 0.0)) - base), -d))


def check_day(store: Store, days: list[int], day: int, group: str, *, what: str = "day") -> int:
    if int(day) not in days:
        check_known(store, {"baseline" if what == "baseline day" else S.DAY: int(day), S.GROUP: group})
        raise QueryError(f"group {group!r} has no {what} {day} (its days: {', '.join(map(str, days))})")
    return int(day)


def composition(store: Store) -> dict[tuple[int, str], dict[str, dict]]:
    """(day, group) -> cell type -> {n_cells, fraction} from ``cell_composition``."""
    comp = query(store, "cell_composition")
    out: dict[tuple[int, str], dict[str, dict]] = {}
    for rec in comp.to_dict("records"):
        out.setdefault((int(rec[S.DAY]), str(rec[S.GROUP])), {})[str(rec[S.CELL_TYPE_PROP])] = {
            S.N_CELLS: _int(rec[S.N_CELLS]), S.FRACTION: _num(rec[S.FRACTION])}
    return out


def _frame_nodes(states: pd.DataFrame, comp: dict, day: int, group: str) -> dict[str, dict]:
    here = states[(states[S.DAY] == day) & (states[S.GROUP] == group)]
    counts = comp.get((day, group), {})
    return {str(c): dict(counts.get(str(c), {S.N_CELLS: None, S.FRACTION: None}))
            for c in sorted(here[S.CELL_TYPE_PROP].unique())}


def _nodes(cell_types, *, centre: str | None = None, own_colors: bool = False) -> list[dict]:
    """Nodes at fixed positions; ``own_colors``: each cell type its own colour (else by lineage)."""
    pos = circle_positions(cell_types, centre=centre)
    colors = cell_type_colors(pos) if own_colors else {}
    return [{"id": c, "lineage": lineage_of(c), "x": x, "y": y, **({"color": colors[c]} if c in colors else {})}
            for c, (x, y) in pos.items()]


def _palette() -> dict:
    return {"lineage": dict(LINEAGE_COLORS), "up": UP, "down": DOWN, "order": list(LINEAGES)}


def _agg_edges(edges: pd.DataFrame) -> list[dict]:
    return [{"from": str(r[SENDER]), "to": str(r[RECEIVER]), "value": _num(r[TOTAL_SCORE]),
             "n": _int(r[N_INTERACTIONS]), "mean": _num(r[MEAN_SCORE])}
            for r in edges.to_dict("records")]


def _partner_rows(store: Store, cell_type: str, day: int, group: str, direction: str, f: dict,
                  **more: Any) -> list[list]:
    part = query(store, "partners", cell_type=cell_type, day=day, group=group, direction=direction, **more, **f)
    rows = []
    for r in part.to_dict("records"):
        src, dst = (cell_type, r[PARTNER]) if direction == "out" else (r[PARTNER], cell_type)
        rows.append([str(src), str(dst), str(r[S.INTERACTION]), _str(r[S.PATHWAY]), _num(r[S.SCORE]),
                     _num(r[S.PVALUE])])
    return rows


def _legend_nodes(lineages: set[str], *, extra: list[dict] | None = None, own_colors: bool = False) -> list[dict]:
    if own_colors:
        items = [{"swatch": "dot", "color": "#888888", "label": "colour: one per cell type (an edge takes its sender's)"}]
    else:
        items = [{"swatch": "dot", "color": LINEAGE_COLORS[lin], "label": f"{lin} lineage"}
                 for lin in LINEAGES if lin in lineages]
    items.append({"swatch": "size", "label": "size: share of the day's counted cells"})
    items.append({"swatch": "dashed-dot", "label": "dashed border: cells not counted"})
    return items + (extra or [])


def _base_spec(store: Store, kind: str, f: dict) -> dict:
    return {"kind": kind, "store": store.uri, "thresholds": thresholds(f), "palette": _palette(),
            "filters": None, "expandable": False}


# --- change mode of ego and lr ------------------------------------------------------------

NO_TESTS_NOTE = ("This store holds no tested changes (run commgraph differential on a per-sample study): "
                 "the scores drawn are absolute, each day on its own.")


def _tested_row(src: str, dst: str, r: dict) -> list:
    return [str(src), str(dst), str(r[S.INTERACTION]), _str(r[S.PATHWAY]), _num(r[DELTA]), _num(r[LOG2FC]),
            _num(r[S.FDR]), _int(r["n"])]


def _time_contrasts(store: Store) -> list[tuple[str, int, int]]:
    """(group, day, baseline) of every time contrast, once each."""
    c = tested_contrasts(store)
    if c.empty:
        return []
    c = c.drop_duplicates([S.GROUP, S.DAY])
    return [(str(g), int(d), int(b)) for g, d, b in zip(c[S.GROUP], c[S.DAY], c[S.BASELINE])]


def change_part(store: Store, states: pd.DataFrame, *, kind: str, what: str, rows_of, f: dict,
                fdr: float, min_abs_log2fc: float) -> dict | None:
    """The change mode of a view (its spec's ``change``: what the page swaps in), or None when
    the store holds no time contrasts. ``rows_of(group, day)`` gives the tested features of one
    contrast as ``TESTED_ROW_COLUMNS`` rows (every tested one: the page applies the cut-offs)."""
    contrasts = _time_contrasts(store)
    if not contrasts:
        return None
    comp = composition(store)
    frames = [{S.DAY: d, S.GROUP: g, "baseline": b, "nodes": _frame_nodes(states, comp, d, g), "rows": rows_of(g, d)}
              for g, d, b in contrasts]
    return {
        "edge_mode": "tested", "row_columns": TESTED_ROW_COLUMNS, "frames": frames, "focus_select": False,
        "title": f"{what}: tested change — day {{day}} against day {{baseline}}, group {{group}}",
        "subtitle": (f"ligand–receptor features tested per patient (limma, paired; BH FDR), only those passing the "
                     f"cut-offs (defaults FDR ≤ {fdr:g}, |log2 FC| ≥ {min_abs_log2fc:g}), summed per sender → receiver"),
        "choices": {"fdr": list(FDR_CHOICES), "min_lfc": list(LFC_CHOICES)},
        "queries": ["differential", "cell_composition"],
        "legend_edges": [
            {"swatch": "line", "color": UP, "label": "rose: summed change of the passing features > 0"},
            {"swatch": "line", "color": DOWN, "label": "fell: summed change < 0"},
            {"swatch": "width", "label": "width: |summed mean paired change| (score units), scaled to the widest "
                                         "drawn edge (number below)"}],
    }


def _ego_rows(store: Store, cell_type: str, f: dict):
    def rows_of(group: str, day: int) -> list[list]:
        rows = []
        for direction in ("out", "in"):
            t = query(store, "differential", cell_type=cell_type, day=day, group=group, direction=direction,
                      fdr=1.0, method=f["method"])
            for r in t.to_dict("records"):
                src, dst = (cell_type, r[PARTNER]) if direction == "out" else (r[PARTNER], cell_type)
                if direction == "in" and src == cell_type:
                    continue  # an autocrine feature, already read as sent
                rows.append(_tested_row(src, dst, r))
        return rows
    return rows_of


def _lr_rows(store: Store, cell_types, keep, f: dict):
    def rows_of(group: str, day: int) -> list[list]:
        rows = []
        for ct in cell_types:
            t = query(store, "differential", cell_type=ct, day=day, group=group, direction="out", fdr=1.0,
                      method=f["method"])
            rows += [_tested_row(ct, r[PARTNER], r) for r in t.to_dict("records") if keep(r)]
        return rows
    return rows_of


def pick_mode(mode: str | None, change: dict | None) -> str:
    if mode not in (None, "change", "absolute"):
        raise QueryError(f"mode {mode!r}: give 'change' (tested change against the baseline) or 'absolute'")
    if change is None:
        return "absolute"
    return mode or "change"


# --- the four views ---------------------------------------------------------------------


def network_spec(store: Store, *, day: int | None = None, group: str | None = None, pathway: str | None = None,
                 expand: bool = False, max_edges: int | None = NETWORK_MAX_EDGES, **filters: Any) -> dict:
    """One day and group: every cell state, significant signaling aggregated per sender → receiver;
    the ``max_edges`` strongest edges (by total score; 0: all) are drawn at first, and a select
    in the page shows more or fewer (the title states how many and the weakest total drawn)."""
    f = check_filters(filters)
    states = store.cell_states()
    group = pick_group(store, states, group)
    if pathway is not None:
        check_known(store, {S.PATHWAY: pathway})
    days = frames_of(states)[group]
    if day is None:
        totals = query(store, "network", group=group, pathway=pathway, **f).groupby(S.DAY)[TOTAL_SCORE].sum()
        day = peak_day(totals, days, days[0])
    day = check_day(store, days, day, group)

    edges = query(store, "network", day=day, group=group, pathway=pathway, **f)
    rows: list[list] = []
    for sender in sorted(edges[SENDER].unique()):
        rows += _partner_rows(store, sender, day, group, "out", f, pathway=pathway)
    nodes = _frame_nodes(states, composition(store), day, group)
    for r in query(store, "roles", day=day, group=group, pathway=pathway, **f).to_dict("records"):
        if r[S.CELL_TYPE_PROP] in nodes:
            nodes[r[S.CELL_TYPE_PROP]].update(out=_num(r[OUT_STRENGTH]), **{"in": _num(r[IN_STRENGTH])},
                                              n_out=_int(r[N_OUT]), n_in=_int(r[N_IN]))

    all_types = sorted(states[S.CELL_TYPE_PROP].unique())
    what = f"signaling through {pathway}" if pathway else "cell–cell signaling"
    spec = _base_spec(store, "network", f)
    spec.update(
        title=f"Network of {what} — day {{day}}, group {{group}}",
        subtitle=f"{thresholds(f)}; edges aggregated per sender → receiver",
        nodes=_nodes(all_types, own_colors=True),
        frames=[{S.DAY: day, S.GROUP: group, "nodes": nodes, "edges": _agg_edges(edges), "rows": rows}],
        row_columns=ROW_COLUMNS,
        initial={S.DAY: day, S.GROUP: group, "filter": "", "expand": bool(expand), "max_edges": max_edges or 0},
        caps=list(NETWORK_CAPS), cap_in_title=True,
        node_mode="frame", edge_mode="aggregate", expandable=True,
        queries=["network", "partners", "roles", "cell_composition"],
        legend={"nodes": _legend_nodes({lineage_of(c) for c in all_types}, own_colors=True),
                "edges": [{"swatch": "line", "color": "#777", "label": "arrow: sender → receiver; colour: the sender's"},
                          {"swatch": "width", "label": "width: total score of the significant interactions"}]},
    )
    return spec


def tested_contrasts(store: Store) -> pd.DataFrame:
    """The store's time contrasts (group, day, baseline), from ``store.contrasts()``."""
    c = store.contrasts()
    if c.empty:
        return c
    return c[c[S.KIND] == "time"].sort_values([S.GROUP, S.DAY]).reset_index(drop=True)


def tested_changes(store: Store, *, day: int, group: str, cell_types, fdr: float = 1.0) -> pd.DataFrame:
    """Every tested feature of one time contrast, sender → receiver (``differential`` per sender)."""
    parts = []
    for ct in cell_types:
        t = query(store, "differential", cell_type=ct, day=int(day), group=group, direction="out", fdr=fdr)
        if len(t):
            parts.append(t.assign(sender=ct).rename(columns={PARTNER: RECEIVER}))
    cols = [SENDER, RECEIVER, S.INTERACTION, S.PATHWAY, DELTA, LOG2FC, S.FDR, "n", "mean_baseline", "mean_day"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


TESTED_ROW_COLUMNS = ["from", "to", S.INTERACTION, S.PATHWAY, DELTA, LOG2FC, S.FDR, "n"]
FDR_CHOICES = (0.001, 0.01, 0.05, 0.1, 0.25, 1.0)
LFC_CHOICES = (0.0, 0.5, 1.0, 2.0)


def diff_spec(store: Store, *, day: int | None = None, group: str | None = None, baseline: int | None = None,
              pathway: str | None = None, max_edges: int | None = MAX_EDGES, fdr: float = 0.05,
              min_abs_log2fc: float = 0.0, focus: str | None = None, **filters: Any) -> dict:
    """Day X against its baseline within a group, change first.

    With tested changes in the store (``commgraph differential``): only features passing the
    FDR and |log2 FC| cut-offs (changeable in the page) are drawn, summed per sender → receiver:
    red rose, blue fell, width = |summed mean paired change| scaled to the largest drawn edge;
    ``focus`` (default: the sender with the most changes) highlights one cell type's edges and
    dims the rest. Without tested changes: the change of summed significant score (untested)."""
    f = check_filters(filters)
    states = store.cell_states()
    group = pick_group(store, states, group)
    if pathway is not None:
        check_known(store, {S.PATHWAY: pathway})
    days = frames_of(states)[group]
    contrasts = tested_contrasts(store)
    mine = contrasts[contrasts[S.GROUP] == group] if len(contrasts) else contrasts
    if len(mine) and (day is None or int(day) in set(mine[S.DAY].astype(int))) \
            and (baseline is None or int(baseline) in set(mine[S.BASELINE].astype(int))):
        return _tested_diff_spec(store, states, contrasts, day=day, group=group, pathway=pathway, fdr=fdr,
                                 min_abs_log2fc=min_abs_log2fc, focus=focus, max_edges=max_edges, f=f)
    baseline = days[0] if baseline is None else baseline
    return _untested_diff_spec(store, states, days, day=day, group=group, baseline=baseline, pathway=pathway,
                               max_edges=max_edges, f=f)


def _tested_diff_spec(store: Store, states: pd.DataFrame, contrasts: pd.DataFrame, *, day, group, pathway, fdr,
                      min_abs_log2fc, focus, max_edges, f) -> dict:
    all_types = sorted(states[S.CELL_TYPE_PROP].unique())
    if focus is not None and focus not in all_types:
        check_known(store, {S.CELL_TYPE_PROP: focus})
        raise QueryError(f"no cell type {focus!r} in {store.uri}")
    frames, n_pass = [], {}
    comp = composition(store)
    for k in contrasts.itertuples(index=False):  # every group's contrasts: the group switch keeps the day
        d, b, g = int(k.day), int(k.baseline), str(k.group)
        t = tested_changes(store, day=d, group=g, cell_types=all_types)
        if pathway is not None:
            t = t[t[S.PATHWAY] == pathway]
        ok = t[(t[S.FDR] <= fdr) & (t[LOG2FC].abs() >= min_abs_log2fc)]
        if g == group:
            n_pass[d] = (len(ok), ok.groupby(SENDER).size())
        nodes = _frame_nodes(states, comp, b, g)
        nodes.update(_frame_nodes(states, comp, d, g))
        rows = [[str(r[SENDER]), str(r[RECEIVER]), str(r[S.INTERACTION]), _str(r[S.PATHWAY]), _num(r[DELTA]),
                 _num(r[LOG2FC]), _num(r[S.FDR]), _int(r["n"])] for r in t.to_dict("records")]
        frames.append({S.DAY: d, S.GROUP: g, "baseline": b, "nodes": nodes, "rows": rows})
    if day is None:
        day = max(n_pass, key=lambda d: (n_pass[d][0], -d))
    day = int(day)
    if focus is None:
        by = n_pass[day][1]
        focus = str(by.sort_values(ascending=False).index[0]) if len(by) else None
    what = f"signaling through {pathway}" if pathway else "signaling"
    spec = _base_spec(store, "diff", f)
    spec.update(
        title=f"Tested change of {what} — day {{day}} against day {{baseline}}, group {{group}}",
        subtitle=(f"ligand–receptor features tested per patient (limma, paired; BH FDR), summed per sender → receiver "
                  f"over those passing the cut-offs"),
        nodes=_nodes(all_types),
        frames=frames,
        row_columns=TESTED_ROW_COLUMNS,
        initial={S.DAY: day, S.GROUP: group, "filter": "", "expand": False, "max_edges": max_edges or 0,
                 "fdr": fdr, "min_lfc": min_abs_log2fc, "focus": focus or ""},
        choices={"fdr": list(FDR_CHOICES), "min_lfc": list(LFC_CHOICES)},
        focus=focus, node_mode="frame", edge_mode="tested",
        queries=["differential", "cell_composition"],
        legend={"nodes": _legend_nodes({lineage_of(c) for c in all_types},
                                       extra=[{"swatch": "ring", "label": "thick border: the focus cell type"}]),
                "edges": [{"swatch": "line", "color": UP, "label": "rose: summed change of the passing features > 0"},
                          {"swatch": "line", "color": DOWN, "label": "fell: summed change < 0"},
                          {"swatch": "line", "color": "#c8c8c8", "label": "grey: not touching the focus cell type"},
                          {"swatch": "width", "label": "width: |summed mean paired change| (score units), "
                                                       "scaled to the widest drawn edge"}]},
    )
    return spec


def _untested_diff_spec(store: Store, states: pd.DataFrame, days: list[int], *, day, group, baseline, pathway,
                        max_edges, f) -> dict:
    baseline = check_day(store, days, baseline, group, what="baseline day")
    if day is None:
        totals = query(store, "network", group=group, pathway=pathway, **f).groupby(S.DAY)[TOTAL_SCORE].sum()
        day = peak_day(totals, days, baseline)
    day = check_day(store, days, day, group)
    if day == baseline:
        raise QueryError(f"day and baseline are both {day}: pick another day to compare "
                         f"(group {group!r} has days {', '.join(map(str, days))})")

    e1 = query(store, "network", day=day, group=group, pathway=pathway, **f)
    e0 = query(store, "network", day=baseline, group=group, pathway=pathway, **f)
    keys = [SENDER, RECEIVER]
    both = e1[keys + [TOTAL_SCORE, N_INTERACTIONS]].merge(
        e0[keys + [TOTAL_SCORE, N_INTERACTIONS]], on=keys, how="outer", suffixes=("", "_0"), indicator=True)
    edges = []
    for r in both.to_dict("records"):
        s1, s0 = _num(r[TOTAL_SCORE]) or 0.0, _num(r[f"{TOTAL_SCORE}_0"]) or 0.0
        status = {"left_only": "gained", "right_only": "lost"}.get(str(r["_merge"]),
                                                                  "up" if s1 > s0 else "down" if s1 < s0 else "same")
        edges.append({"from": str(r[SENDER]), "to": str(r[RECEIVER]), "value": round(abs(s1 - s0), 6),
                      "delta": round(s1 - s0, 6), "score": s1, "baseline": s0, "status": status,
                      "n": _int(r[N_INTERACTIONS]) or 0, "n_baseline": _int(r[f"{N_INTERACTIONS}_0"]) or 0})
    changes = query(store, "top_changes", day=day, group=group, baseline=baseline, limit=10_000_000,
                    pathway=pathway, **f)
    rows = [[str(r[SENDER]), str(r[RECEIVER]), str(r[S.INTERACTION]), _str(r[S.PATHWAY]), str(r[STATUS]),
             _num(r[BASELINE_SCORE]), _num(r[S.SCORE]), _num(r[DELTA])] for r in changes.to_dict("records")]

    comp = composition(store)
    nodes = _frame_nodes(states, comp, baseline, group)
    for c, info in _frame_nodes(states, comp, day, group).items():
        nodes[c] = info  # the day's counts win; baseline-only cell types keep theirs
    for d, tag in ((day, ""), (baseline, "_0")):
        for r in query(store, "roles", day=d, group=group, pathway=pathway, **f).to_dict("records"):
            if r[S.CELL_TYPE_PROP] in nodes:
                nodes[r[S.CELL_TYPE_PROP]].update({f"out{tag}": _num(r[OUT_STRENGTH]), f"in{tag}": _num(r[IN_STRENGTH])})

    all_types = sorted(states[S.CELL_TYPE_PROP].unique())
    what = f"signaling through {pathway}" if pathway else "signaling"
    spec = _base_spec(store, "diff", f)
    spec.update(
        title=f"Change of {what} — day {{day}} against day {{baseline}}, group {{group}}",
        subtitle=f"{thresholds(f)}; per sender → receiver, total score on day {day} minus day {baseline}",
        nodes=_nodes(all_types),
        frames=[{S.DAY: day, S.GROUP: group, "baseline": baseline, "nodes": nodes, "edges": edges,
                 "rows": rows}],
        row_columns=DIFF_ROW_COLUMNS,
        initial={S.DAY: day, S.GROUP: group, "filter": "", "expand": False, "max_edges": max_edges or 0},
        node_mode="frame", edge_mode="diff",
        queries=["network", "top_changes", "roles", "cell_composition"],
        legend={"nodes": _legend_nodes({lineage_of(c) for c in all_types}),
                "edges": [{"swatch": "line", "color": UP, "label": "stronger than on the baseline day"},
                          {"swatch": "line", "color": DOWN, "label": "weaker than on the baseline day"},
                          {"swatch": "dashed", "color": UP, "label": "gained: only on this day"},
                          {"swatch": "dashed", "color": DOWN, "label": "lost: only on the baseline day"},
                          {"swatch": "width", "label": "width: size of the change of total score"}]},
    )
    return spec


def ego_spec(store: Store, cell_type: str | None = None, *, day: int | None = None, group: str | None = None,
             filter: str = "", expand: bool = False, mode: str | None = None, fdr: float = 0.05,
             min_abs_log2fc: float = 0.0, **filters: Any) -> dict:
    """One cell type and its partners on every day × group, steppable in the page.

    With tested changes in the store, ``mode="change"`` (the default there; a select in the page)
    draws a day against its baseline: only the tested features (``differential``, sent and
    received) passing the FDR and |log2 FC| cut-offs, red rose / blue fell; ``"absolute"``
    draws the day's scores. Without tests the page says so and draws the scores."""
    pick_mode(mode, None)  # a wrong mode fails before any query
    f = check_filters(filters)
    if cell_type is None:
        cell_type = default_cell_type(store)
    states = store.cell_states()
    mine = states[states[S.CELL_TYPE_PROP] == cell_type]
    if mine.empty:
        check_known(store, {S.CELL_TYPE_PROP: cell_type})
        raise QueryError(f"no cell type {cell_type!r} in {store.uri}")
    groups = frames_of(mine)
    if group is None:
        group = pick_group(store, mine, None)
    elif group not in groups:
        check_known(store, {S.CELL_TYPE_PROP: cell_type, S.GROUP: group})
        raise QueryError(f"{cell_type!r} has no cell state in group {group!r}")

    comp = composition(store)
    frames, partners = [], set()
    for g, days in groups.items():
        for d in days:
            rows = _partner_rows(store, cell_type, d, g, "out", f)
            rows += [r for r in _partner_rows(store, cell_type, d, g, "in", f) if r[0] != cell_type]
            partners |= {r[0] for r in rows} | {r[1] for r in rows}
            frames.append({S.DAY: d, S.GROUP: g, "nodes": _frame_nodes(states, comp, d, g), "rows": rows})
    if day is None:
        by_day = query(store, "signaling_by_day", cell_type=cell_type, group=group, **f)
        day = peak_day(by_day.set_index(S.DAY)[TOTAL_SCORE], groups[group], groups[group][0])
    day = check_day(store, groups[group], day, group)

    all_rows = [r for fr in frames for r in fr["rows"]]
    pathways = sorted({r[3] for r in all_rows if r[3]})
    interactions = sorted({r[2] for r in all_rows})
    if filter and filter not in pathways and filter not in interactions:
        raise QueryError(f"filter {filter!r} is neither a pathway nor an interaction of {cell_type!r}'s signaling "
                         f"(pathways: {', '.join(pathways) or 'none'})")
    types = sorted(partners | {cell_type})
    spec = _base_spec(store, "ego", f)
    spec.update(
        title=f"{cell_type} and its partners — day {{day}}, group {{group}}",
        subtitle=f"{thresholds(f)}; edges: what {cell_type} sends and receives, summed per partner",
        focus=cell_type,
        nodes=_nodes(types, centre=cell_type, own_colors=True),
        frames=frames,
        row_columns=ROW_COLUMNS,
        initial={S.DAY: day, S.GROUP: group, "filter": filter or "", "expand": bool(expand)},
        filters={"pathway": pathways, "interaction": interactions},
        node_mode="connected", edge_mode="rows", expandable=True,
        queries=["partners", "signaling_by_day", "cell_composition"],
        legend={"nodes": _legend_nodes({lineage_of(c) for c in types}, own_colors=True,
                                       extra=[{"swatch": "ring", "label": f"thick border: {cell_type}"}]),
                "edges": [{"swatch": "line", "color": "#777", "label": "arrow: sender → receiver; colour: the sender's"},
                          {"swatch": "width", "label": "width: summed score of the shown ligand–receptor pairs"}]},
    )
    change = change_part(store, states, kind="ego", what=f"{cell_type} and its partners",
                         rows_of=_ego_rows(store, cell_type, f), f=f, fdr=fdr, min_abs_log2fc=min_abs_log2fc)
    if change is not None:  # every partner a tested feature names has a place on the circle
        extra = {r[0] for fr in change["frames"] for r in fr["rows"]} | {r[1] for fr in change["frames"] for r in fr["rows"]}
        if extra - set(types):
            types = sorted(set(types) | extra)
            spec["nodes"] = _nodes(types, centre=cell_type, own_colors=True)
    _with_modes(spec, change, mode, fdr, min_abs_log2fc)
    return spec


def _with_modes(spec: dict, change: dict | None, mode: str | None, fdr: float, min_abs_log2fc: float) -> None:
    spec["initial"]["mode"] = pick_mode(mode, change)
    spec["initial"].update(fdr=fdr, min_lfc=min_abs_log2fc)
    spec["change"] = change
    if change is None:
        spec["note"] = NO_TESTS_NOTE
    else:
        spec["queries"] = spec["queries"] + [q for q in change["queries"] if q not in spec["queries"]]
        change["legend_nodes"] = [dict(it, label="faded: no tested change passing the cut-offs that day")
                                  if it.get("swatch") == "faded" else it for it in spec["legend"]["nodes"]]


def change_counts(store: Store, *, fdr: float = 0.05) -> pd.DataFrame:
    """Per time contrast and cell type, how many tested features it sends and receives that
    changed at ``fdr`` (``change_summary``): group, day, baseline, cell_type, role, n, size."""
    rows = []
    for k in tested_contrasts(store).itertuples(index=False):
        cs = query(store, "change_summary", day=int(k.day), group=k.group, fdr=fdr)
        cs = cs.assign(n=cs["n_up"] + cs["n_down"], size=cs["net_delta"].abs())
        for role in (SENDER, RECEIVER):
            for ct, r in cs.groupby(role)[["n", "size"]].sum().iterrows():
                rows.append({S.GROUP: k.group, S.DAY: int(k.day), S.BASELINE: int(k.baseline), S.CELL_TYPE_PROP: ct,
                             "role": role, "n": int(r["n"]), "size": float(r["size"])})
    return pd.DataFrame(rows, columns=[S.GROUP, S.DAY, S.BASELINE, S.CELL_TYPE_PROP, "role", "n", "size"])


def most_changed_sender(store: Store, *, fdr: float = 0.05) -> str | None:
    """The sender with the most tested changes over every time contrast (None: nothing tested)."""
    c = change_counts(store, fdr=fdr)
    c = c[c["role"] == SENDER].groupby(S.CELL_TYPE_PROP)[["n", "size"]].sum()
    if c.empty or c["n"].max() == 0:
        return None
    return str(c.sort_values(["n", "size"], ascending=False).index[0])


def focus_contrast(store: Store, cell_type: str, *, group: str | None = None, day: int | None = None,
                   fdr: float = 0.05) -> tuple[str, int, int, int] | None:
    """(group, day, baseline, n changed) of the time contrast where ``cell_type`` (as sender or
    receiver) has the most tested changes; None when nothing was tested."""
    c = change_counts(store, fdr=fdr)
    c = c[c[S.CELL_TYPE_PROP] == cell_type]
    if group is not None:
        c = c[c[S.GROUP] == group]
    if day is not None:
        c = c[c[S.DAY] == int(day)]
    if c.empty:
        return None
    c = c.groupby([S.GROUP, S.DAY, S.BASELINE])[["n", "size"]].sum().reset_index()
    best = c.sort_values(["n", "size", S.DAY], ascending=[False, False, True]).iloc[0]
    return str(best[S.GROUP]), int(best[S.DAY]), int(best[S.BASELINE]), int(best["n"])


def default_cell_type(store: Store) -> str:
    """The most changed sender, or without tests the strongest sender."""
    ct = most_changed_sender(store)
    if ct is not None:
        return ct
    roles = query(store, "roles")
    if roles.empty:
        raise QueryError(f"the store {store.uri} holds no significant signaling: load a study first")
    return str(roles.groupby(S.CELL_TYPE_PROP)[OUT_STRENGTH].sum().idxmax())


def changed_interactions(store: Store, *, fdr: float = 0.05) -> list[str]:
    """The interactions that changed (tested, at ``fdr``) for the most changed sender, sent or
    received, in the contrast where it changed most; [] without tests."""
    ct = most_changed_sender(store, fdr=fdr)
    if ct is None:
        return []
    best = focus_contrast(store, ct, fdr=fdr)
    if best is None:
        return []
    out = []
    for direction in ("out", "in"):
        t = query(store, "differential", cell_type=ct, day=best[1], group=best[0], direction=direction, fdr=fdr)
        out += [str(i) for i in t[S.INTERACTION]]
    return list(dict.fromkeys(out))


def default_interaction(store: Store) -> str:
    """The most significant tested change of the most changed sender, else the interaction most
    often significant."""
    ct = most_changed_sender(store)
    if ct is not None:
        c = change_counts(store)
        best = c[(c[S.CELL_TYPE_PROP] == ct) & (c["role"] == SENDER)].sort_values(["n", "size"], ascending=False).iloc[0]
        t = query(store, "differential", cell_type=ct, day=int(best[S.DAY]), group=best[S.GROUP], fdr=0.05)
        if len(t):
            return str(t.sort_values(S.FDR).iloc[0][S.INTERACTION])
    cat = query(store, "interaction_catalogue")
    seen = cat[cat["n_pairs"] > 0]
    if seen.empty:
        raise QueryError(f"the store {store.uri} holds no interactions: load a study first")
    return str(seen.groupby(S.INTERACTION)["n_significant"].sum().sort_values(ascending=False).index[0])


def lr_spec(store: Store, interaction: str | None = None, *, ligand: str | None = None, receptor: str | None = None,
            pathway: str | None = None, day: int | None = None, group: str | None = None,
            max_edges: int | None = MAX_EDGES, n_pairs: int = PAIRS_EMBEDDED, mode: str | None = None,
            fdr: float = 0.05, min_abs_log2fc: float = 0.0, patients: bool = True, **filters: Any) -> dict:
    """One ligand–receptor pair (or ligand, receptor, pathway) across every cell type, per day × group.

    With ``interaction`` (or the default), the page also carries the ``n_pairs`` pairs most often
    significant (and the given one) and a searchable box switches between them."""
    pick_mode(mode, None)
    f = check_filters(filters)
    if interaction is None and ligand is None and receptor is None and pathway is None:
        interaction = default_interaction(store)
    if pathway is not None and (interaction or ligand or receptor):
        raise QueryError("give a pathway or a ligand–receptor pair (interaction / ligand / receptor), not both")
    check_known(store, {S.INTERACTION: interaction, S.LIGAND: ligand, S.RECEPTOR: receptor, S.PATHWAY: pathway})
    states = store.cell_states()
    group = pick_group(store, states, group)
    sel = {S.INTERACTION: interaction, S.LIGAND: ligand, S.RECEPTOR: receptor, S.PATHWAY: pathway}

    edges = query(store, "network", **sel, **f)
    if pathway is not None:
        cat = query(store, "interaction_catalogue", pathway=pathway)
        names = sorted(cat[S.INTERACTION].unique())
        trajectories = [query(store, "lr_trajectory", interaction=n, **f) for n in names]
    else:
        trajectories = [query(store, "lr_trajectory", interaction=interaction, ligand=ligand, receptor=receptor, **f)]
    pairs: list[str] = []
    edges_by: dict[str, pd.DataFrame] = {}
    if interaction is not None and n_pairs:
        every = query(store, "interaction_catalogue")
        top = (every.groupby(S.INTERACTION)["n_significant"].sum().sort_values(ascending=False, kind="stable"))
        pairs = {interaction, *[str(i) for i in top.index[:n_pairs] if top[i] > 0]}
        pairs |= set(changed_interactions(store))
        pairs = sorted(pairs)
        for name in pairs:
            if name != interaction:
                trajectories.append(query(store, "lr_trajectory", interaction=name, **f))
        edges_by = {name: (edges if name == interaction else query(store, "network", interaction=name, **f))
                    for name in pairs}
        cat = every
    else:
        cat = query(store, "interaction_catalogue", **sel)
    pw = dict(zip(cat[S.INTERACTION], cat[S.PATHWAY]))
    rows_by: dict[tuple[int, str], list[list]] = {}
    for traj in trajectories:
        for r in traj.to_dict("records"):
            rows_by.setdefault((int(r[S.DAY]), str(r[S.GROUP])), []).append(
                [str(r[SENDER]), str(r[RECEIVER]), str(r[S.INTERACTION]), _str(pw.get(r[S.INTERACTION])),
                 _num(r[MEAN_SCORE]), _int(r[N_RUNS])])

    comp = composition(store)
    groups = frames_of(states)
    frames = []
    for g, days in groups.items():
        for d in days:
            e = edges[(edges[S.DAY] == d) & (edges[S.GROUP] == g)]
            frame = {S.DAY: d, S.GROUP: g, "nodes": _frame_nodes(states, comp, d, g),
                     "edges": _agg_edges(e), "rows": rows_by.get((d, g), [])}
            if pairs:
                frame["edges_by"] = {n: _agg_edges(x[(x[S.DAY] == d) & (x[S.GROUP] == g)])
                                     for n, x in edges_by.items()}
            frames.append(frame)
    if day is None:  # the day the pair (or pathway) signals most in that group
        totals = edges[edges[S.GROUP] == group].groupby(S.DAY)[TOTAL_SCORE].sum()
        day = int(totals.idxmax()) if len(totals) else groups[group][0]
    day = check_day(store, groups[group], day, group)

    what = (f"pathway {pathway}" if pathway else interaction if interaction
            else " ".join(p for p in (f"ligand {ligand}" if ligand else "", f"receptor {receptor}" if receptor else "") if p))
    all_types = sorted(states[S.CELL_TYPE_PROP].unique())
    spec = _base_spec(store, "lr", f)
    spec.update(
        title=("{pair}" if pairs else what) + " across cell types — day {day}, group {group}",
        subtitle=f"{thresholds(f)}; edges aggregated per sender → receiver",
        selection={k: v for k, v in sel.items() if v is not None},
        subject=what,
        pairs=pairs,
        nodes=_nodes(all_types, own_colors=True),
        frames=frames,
        row_columns=LR_ROW_COLUMNS,
        initial={S.DAY: day, S.GROUP: group, "filter": "", "expand": False, "max_edges": max_edges or 0,
                 "pair": interaction if pairs else None},
        node_mode="frame", edge_mode="aggregate", fade_isolated=True,
        queries=["network", "lr_trajectory", "interaction_catalogue", "cell_composition"],
        legend={"nodes": _legend_nodes({lineage_of(c) for c in all_types}, own_colors=True,
                                       extra=[{"swatch": "faded", "label": "faded: no significant signaling of the pair "
                                                                            "that day"}]),
                "edges": [{"swatch": "line", "color": "#777", "label": "arrow: sender → receiver; colour: the sender's"},
                          {"swatch": "width", "label": "width: total score"}]},
    )
    if pairs:
        wanted = set(pairs)
        keep = lambda r: str(r[S.INTERACTION]) in wanted  # noqa: E731
    elif pathway is not None:
        keep = lambda r: r[S.PATHWAY] == pathway  # noqa: E731
    elif interaction is not None:
        keep = lambda r: str(r[S.INTERACTION]) == interaction  # noqa: E731
    else:
        keep = lambda r: ((ligand is None or str(r[S.INTERACTION]).split("^")[0] == ligand)  # noqa: E731
                          and (receptor is None or str(r[S.INTERACTION]).split("^")[-1] == receptor))
    names = pairs or ([interaction] if interaction is not None else [])
    if names and patients:  # per-patient points: the per-sample values differential tests, summed per sample
        from .._differential import per_sample_scores

        ps = per_sample_scores(store, interactions=names, method=f["method"])
        if len(ps):
            ps = (ps.groupby([S.INTERACTION, S.GROUP, S.PATIENT, S.SAMPLE, S.DAY], as_index=False)[S.SCORE]
                  .sum(min_count=1))
            spec["per_sample"] = [{S.INTERACTION: str(r[S.INTERACTION]), S.GROUP: str(r[S.GROUP]),
                                   S.PATIENT: str(r[S.PATIENT]), S.SAMPLE: str(r[S.SAMPLE]), S.DAY: int(r[S.DAY]),
                                   S.SCORE: _num(r[S.SCORE])} for r in ps.to_dict("records")]
    change = change_part(store, states, kind="lr", what=("{pair}" if pairs else what) + " across cell types",
                         rows_of=_lr_rows(store, all_types, keep, f), f=f, fdr=fdr, min_abs_log2fc=min_abs_log2fc)
    _with_modes(spec, change, mode, fdr, min_abs_log2fc)
    return spec


SPECS = {"network": network_spec, "diff": diff_spec, "ego": ego_spec, "lr": lr_spec}
