"""Named queries (cypher/*.cypher) against an independent pandas computation over the same table.

A small deterministic study (5 cell types, days 0/3/7/14, groups low/high, 7 interactions,
two methods, a second sample on one day) is loaded once into the embedded store; every
named query runs with several parameter sets and its answer is compared row by row (order
included) with pandas. Planted pairs give a few numbers to check by hand.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph import questions as Q
from commgraph._queries import (GUARD_CARRY, LIVE, PATH_START, SUMMARY_MAX, SUMMARY_N, SUMMARY_SCORE, TYPES, _all, parse,
                                get_query, guard_lines, is_gate, unsorted)
from commgraph._queries import branches as union_branches
from commgraph.errors import QueryError

CELL_TYPES = ("MX1+ Mono", "LGALS2+ Mono", "CD4 Naive T", "Treg", "B 'naive'")
COUNT_ONLY = "Platelet"  # counted (group high only), never signals
DAYS = (0, 3, 7, 14)
GROUPS = ("low", "high")
PAIRS = (
    ("ICAM1", "ITGAL_ITGB2", "ICAM"),
    ("CD86", "CTLA4", "CD86"),
    ("APP", "CD74", "APP"),
    ("IL16", "CD4", "IL16"),
    ("ANXA1", "FPR1", "ANNEXIN"),
    ("LGALS9", "HAVCR2", "GALECTIN"),
)
LIANA_ONLY = ("RETN", "CAP1", "RESISTIN")  # only the LIANA+ run on day 7 shows resistin
ICAM, CD86, ANXA1 = "ICAM1^ITGAL_ITGB2", "CD86^CTLA4", "ANXA1^FPR1"
MX1, LGALS2, CD4T, TREG = "MX1+ Mono", "LGALS2+ Mono", "CD4 Naive T", "Treg"
# (source, target, interaction, group) -> {day: score}; significant, p = 0.001; absent on other days
PLANTED = {
    (MX1, CD4T, ICAM, "high"): {0: 0.2, 3: 0.5, 7: 1.0, 14: 0.3},
    (MX1, CD4T, ICAM, "low"): {0: 0.2, 3: 0.25, 7: 0.4, 14: 0.2},
    (MX1, TREG, CD86, "high"): {0: 0.4, 3: 0.3},  # lost from day 7 on
    (MX1, LGALS2, ANXA1, "high"): {7: 0.6, 14: 0.2},  # gained on day 7
}
CPDB, LIANA = "cellphonedb", "liana:rank_aggregate"
LIANA_RUN, P2_RUN = "liana|d7|high", "cpdb|d3|high|P2"


def _row(src, dst, lig, rec, pw, score, p, sig, day, group, *, method=CPDB, run_id=None, sample=None):
    return {
        S.SOURCE: src, S.TARGET: dst, S.LIGAND: lig, S.RECEPTOR: rec, S.INTERACTION: S.interaction_name(lig, rec),
        S.PATHWAY: pw, S.SCORE: score, S.PVALUE: p, S.SIGNIFICANT: sig, S.DAY: day, S.GROUP: group,
        S.SAMPLE: sample, S.METHOD: method, S.RUN_ID: run_id or f"cpdb|d{day}|{group}",
        S.TOOL: method.split(":")[0], S.TOOL_VERSION: "5.0.1" if method == CPDB else "1.5.0",
        S.DATABASE_VERSION: "v5.0.0" if method == CPDB else "consensus", S.PARAMETERS: "{}",
        S.SOURCE_FILES: "synthetic", S.EXTRA: None,
    }


def study_table(seed: int = 7) -> pd.DataFrame:
    """The canonical table of the synthetic study (validated)."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in DAYS:
        for group in GROUPS:
            for src in CELL_TYPES:
                for dst in CELL_TYPES:
                    for lig, rec, pw in PAIRS:
                        key = (src, dst, S.interaction_name(lig, rec), group)
                        if key in PLANTED:
                            if day in PLANTED[key]:
                                rows.append(_row(src, dst, lig, rec, pw, PLANTED[key][day], 0.001, True, day, group))
                            continue
                        draw = rng.random(5)
                        if draw[0] > 0.75:
                            continue  # not inferred in this run
                        score = round(float(draw[1]) * 2, 6)
                        p = round(float(draw[2]) * 0.12, 6)
                        sig = p < 0.05
                        if draw[3] < 0.08:
                            sig = not sig  # the tool's own rule disagrees with p < 0.05
                        if draw[4] < 0.06:
                            p = None  # no p-value
                        rows.append(_row(src, dst, lig, rec, pw, score, p, sig, day, group))
    rows.append(_row(TREG, MX1, "IL16", "CD4", "IL16", -0.25, 0.01, True, 7, "high", run_id="cpdb|d7|high"))
    table = pd.DataFrame(rows)
    table = table.drop_duplicates([S.SOURCE, S.TARGET, S.INTERACTION, S.RUN_ID], keep="last")
    planted = set(PLANTED)

    def is_planted(t):
        return pd.Series([k in planted for k in zip(t[S.SOURCE], t[S.TARGET], t[S.INTERACTION], t[S.GROUP])],
                         index=t.index)

    # a second sample (its own run) on day 3, high: most pairs again, scores 10% up
    d3 = table[(table[S.DAY] == 3) & (table[S.GROUP] == "high")]
    d3 = d3[~is_planted(d3)].iloc[::2].copy()
    d3[S.SCORE] = (d3[S.SCORE] * 1.1).round(6)
    d3[S.RUN_ID], d3[S.SAMPLE] = P2_RUN, "P2"
    # a LIANA+ run on day 7, high: no p-values, its own significance; plus resistin
    d7 = table[(table[S.DAY] == 7) & (table[S.GROUP] == "high")]
    d7 = d7[~is_planted(d7)].iloc[::3].copy()
    d7[S.SCORE] = (1 - d7[S.SCORE] / 2).round(6)
    d7[S.PVALUE], d7[S.SIGNIFICANT] = None, d7[S.SCORE] > 0.5
    d7[S.METHOD], d7[S.TOOL], d7[S.RUN_ID] = LIANA, "liana", LIANA_RUN
    retn = [_row(src, dst, *LIANA_ONLY, 0.7 if src == MX1 else 0.3, None, src == MX1, 7, "high", method=LIANA,
                 run_id=LIANA_RUN) for src in (MX1, TREG) for dst in (MX1, CD4T)]
    parts = [S.validate(part) for part in (table, d3, d7, pd.DataFrame(retn))]
    out = S.validate(pd.concat(parts, ignore_index=True))
    # the pandas references group by plain strings (categoricals would add unobserved groups)
    return out.astype({c: object for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)})


def study_counts() -> pd.DataFrame:
    rows = [
        {S.CELL_TYPE_PROP: ct, S.DAY: day, S.GROUP: group, S.N_CELLS: 50 + 17 * i + 3 * day + (11 if group == "high" else 0)}
        for i, ct in enumerate(CELL_TYPES) for day in DAYS for group in GROUPS
        if (ct, day, group) != ("B 'naive'", 14, "low")
    ]
    rows += [{S.CELL_TYPE_PROP: COUNT_ONLY, S.DAY: day, S.GROUP: "high", S.N_CELLS: 5 + day} for day in DAYS]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def canonical() -> pd.DataFrame:
    """The study's canonical table, as loaded."""
    return study_table()


@pytest.fixture(scope="module")
def study(tmp_path_factory, canonical):
    """The study in an embedded store (read by every test of this module; don't write to it)."""
    with cg.connect(tmp_path_factory.mktemp("queries") / "study.lbug") as store:
        store.load(canonical, cell_counts=study_counts())
        yield store


# --- the pandas side ---------------------------------------------------------------------

SHARED = {"pvalue": 0.05, "significant_only": True, "min_score": 0.0}
EDGE_FILTERS = (S.PATHWAY, S.LIGAND, S.RECEPTOR, S.INTERACTION, S.METHOD)


def keep(t, *, pvalue=0.05, significant_only=True, min_score=0.0):
    m = pd.Series(True, index=t.index)
    if min_score is not None:
        m &= t[S.SCORE] >= min_score
    if significant_only:  # None and False: every inferred interaction
        m &= t[S.SIGNIFICANT] & (_p_ok(t, pvalue))
    return t[m]


def _p_ok(t, pvalue):
    return pd.Series(True, index=t.index) if pvalue is None else (t[S.PVALUE].isna() | (t[S.PVALUE] <= pvalue))


def edges(t, *, group=None, day=None, sender=None, receiver=None, pvalue=0.05, significant_only=True,
          min_score=0.0, **f):
    for col in EDGE_FILTERS:
        if f.get(col) is not None:
            t = t[t[col] == f[col]]
    for col, v in ((S.GROUP, group), (S.DAY, day), (S.SOURCE, sender), (S.TARGET, receiver)):
        if v is not None:
            t = t[t[col] == v]
    return keep(t, pvalue=pvalue, significant_only=significant_only, min_score=min_score)


def side(t, cell_type, direction, partner=None):
    """Edges of cell_type in a direction, with a `partner` column."""
    if direction not in ("out", "in"):
        return t.iloc[0:0].assign(partner=pd.Series(dtype="string"))
    me, other = (S.SOURCE, S.TARGET) if direction == "out" else (S.TARGET, S.SOURCE)
    t = t[t[me] == cell_type]
    if partner is not None:
        t = t[t[other] == partner]
    return t.assign(partner=t[other])


def ordered(df, by, ascending=True):
    return df.sort_values(by, ascending=ascending, kind="mergesort").reset_index(drop=True)


def ref_signaling_by_day(t, *, cell_type, direction="out", partner=None, **f):
    e = side(edges(t, **f), cell_type, direction, partner)
    g = e.groupby([S.DAY, S.GROUP], as_index=False).agg(
        n_interactions=(S.SCORE, "size"), n_partners=("partner", "nunique"), n_runs=(S.RUN_ID, "nunique"),
        total_score=(S.SCORE, "sum"), mean_score=(S.SCORE, "mean"))
    return ordered(g, [S.DAY, S.GROUP])


def ref_partners(t, *, cell_type, day, group="all", direction="out", partner=None, **f):
    e = side(edges(t, day=day, group=group, **f), cell_type, direction, partner)
    g = e.groupby(["partner", S.INTERACTION, S.LIGAND, S.RECEPTOR], as_index=False).agg(
        pathway=(S.PATHWAY, "min"), score=(S.SCORE, "mean"), pvalue=(S.PVALUE, "max"), n_runs=(S.RUN_ID, "nunique"))
    return ordered(g, ["score", "partner", S.INTERACTION], [False, True, True])


def _change(e, keys, day, baseline, pseudocount, fold_change):
    both = e[e[S.DAY].isin([day, baseline])]
    m0 = both[both[S.DAY] == baseline].groupby(keys)[S.SCORE].mean().rename("baseline_score")
    m1 = both[both[S.DAY] == day].groupby(keys)[S.SCORE].mean().rename("score")
    pw = both.groupby(keys)[S.PATHWAY].min()
    out = pd.concat([pw, m0, m1], axis=1).reset_index()
    s0, s1 = out["baseline_score"].fillna(0.0), out["score"].fillna(0.0)
    out["log2fc"] = np.log2((s1 + pseudocount) / (s0 + pseudocount))
    out["delta"] = s1 - s0
    thr = math.log2(fold_change)
    out["status"] = np.select(
        [out["baseline_score"].isna(), out["score"].isna(), out["log2fc"] >= thr, out["log2fc"] <= -thr],
        ["gained", "lost", "up", "down"], "unchanged")
    return out


def ref_signaling_change(t, *, cell_type, day, group="all", baseline=0, direction="out", partner=None,
                         pseudocount=0.001, fold_change=1.5, **f):
    e = side(edges(t, group=group, **f), cell_type, direction, partner)
    out = _change(e, ["partner", S.INTERACTION, S.LIGAND, S.RECEPTOR], day, baseline, pseudocount, fold_change)
    cols = ["partner", S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY, "status", "baseline_score", "score", "delta",
            "log2fc"]
    return ordered(out[cols], ["partner", S.INTERACTION])


def ref_top_changes(t, *, day, group="all", baseline=0, limit=20, status=None, pseudocount=0.001, fold_change=1.5,
                    **f):
    e = edges(t, group=group, **f).rename(columns={S.SOURCE: "sender", S.TARGET: "receiver"})
    out = _change(e, ["sender", "receiver", S.INTERACTION, S.LIGAND, S.RECEPTOR], day, baseline, pseudocount,
                  fold_change)
    out = out[(out["status"] != "unchanged") & ((out["status"] == status) if status is not None else True)]
    out = out.assign(_a=out["log2fc"].abs(), _d=out["delta"].abs())
    out = ordered(out, ["_d", "_a", "sender", "receiver", S.INTERACTION], [False, False, True, True, True])
    cols = ["sender", "receiver", S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY, "status", "baseline_score",
            "score", "delta", "log2fc"]
    return out[cols].head(limit).reset_index(drop=True)


def ref_lr_trajectory(t, *, pvalue=0.05, significant_only=False, min_score=0.0, **f):
    e = edges(t, pvalue=pvalue, significant_only=significant_only, min_score=min_score, **f)
    e = e.assign(_sig=e[S.SIGNIFICANT] & _p_ok(e, pvalue))
    g = e.groupby([S.INTERACTION, S.SOURCE, S.TARGET, S.GROUP, S.DAY], as_index=False).agg(
        n_runs=(S.RUN_ID, "nunique"), n_significant=("_sig", "sum"), mean_score=(S.SCORE, "mean"),
        max_score=(S.SCORE, "max"), min_pvalue=(S.PVALUE, "min"))
    g = g.rename(columns={S.SOURCE: "sender", S.TARGET: "receiver"})
    return ordered(g, [S.INTERACTION, "sender", "receiver", S.GROUP, S.DAY])


def ref_pathway_flow(t, **f):
    e = edges(t, **f)
    g = e.groupby([S.PATHWAY, S.GROUP, S.DAY], as_index=False).agg(n_interactions=(S.SCORE, "size"),
                                                                   flow=(S.SCORE, "sum"))
    total = g.groupby([S.GROUP, S.DAY])["flow"].transform("sum")
    g["share"] = (g["flow"] / total).where(total > 0)
    return ordered(g, [S.PATHWAY, S.GROUP, S.DAY])


def ref_dose_response(t, *, cell_type, day, baseline=0, direction="out", partner=None, pseudocount=0.001, **f):
    e = side(edges(t, **f), cell_type, direction, partner)
    e = e[e[S.DAY].isin([day, baseline])]
    sampled = set(zip(t[S.SOURCE], t[S.DAY], t[S.GROUP])) | set(zip(t[S.TARGET], t[S.DAY], t[S.GROUP]))
    rows = []
    for group, g in e.groupby(S.GROUP):
        if not {(cell_type, day, group), (cell_type, baseline, group)} <= sampled:
            continue  # not sampled on both days in this group: no change to show
        b, d = g[g[S.DAY] == baseline], g[g[S.DAY] == day]
        s0, s1 = float(b[S.SCORE].sum()), float(d[S.SCORE].sum())
        rows.append({S.GROUP: group, "n_baseline": len(b), "n_day": len(d), "baseline_score": s0, "score": s1,
                     "delta": s1 - s0, "log2fc": math.log2((s1 + pseudocount) / (s0 + pseudocount))})
    cols = [S.GROUP, "n_baseline", "n_day", "baseline_score", "score", "delta", "log2fc"]
    return ordered(pd.DataFrame(rows, columns=cols), [S.GROUP])


def ref_roles(t, *, day=None, group=None, cell_type=None, **f):
    e = edges(t, **f)
    keys = [S.DAY, S.GROUP, "cell_type"]
    out = e.rename(columns={S.SOURCE: "cell_type"}).groupby(keys).agg(
        out_strength=(S.SCORE, "sum"), out_degree=(S.TARGET, "nunique"), n_out=(S.SCORE, "size"))
    inn = e.rename(columns={S.TARGET: "cell_type"}).groupby(keys).agg(
        in_strength=(S.SCORE, "sum"), in_degree=(S.SOURCE, "nunique"), n_in=(S.SCORE, "size"))
    g = out.join(inn, how="outer").fillna(0).reset_index()
    for col, v in ((S.DAY, day), (S.GROUP, group), ("cell_type", cell_type)):
        if v is not None:
            g = g[g[col] == v]
    for c in ("out_degree", "in_degree", "n_out", "n_in"):
        g[c] = g[c].astype("int64")
    cols = keys + ["out_strength", "in_strength", "out_degree", "in_degree", "n_out", "n_in"]
    return ordered(g[cols], keys)


def ref_network(t, **f):
    e = edges(t, **f)
    g = e.groupby([S.DAY, S.GROUP, S.SOURCE, S.TARGET], as_index=False).agg(
        n_interactions=(S.SCORE, "size"), total_score=(S.SCORE, "sum"), mean_score=(S.SCORE, "mean"))
    g = g.rename(columns={S.SOURCE: "sender", S.TARGET: "receiver"})
    return ordered(g, [S.DAY, S.GROUP, "sender", "receiver"])


def ref_cell_composition(t, *, cell_type=None, day=None, group=None):
    c = study_counts()
    c[S.FRACTION] = c[S.N_CELLS] / c.groupby([S.DAY, S.GROUP])[S.N_CELLS].transform("sum")
    for col, v in ((S.CELL_TYPE_PROP, cell_type), (S.DAY, day), (S.GROUP, group)):
        if v is not None:
            c = c[c[col] == v]
    return ordered(c[[S.CELL_TYPE_PROP, S.GROUP, S.DAY, S.N_CELLS, S.FRACTION]], [S.CELL_TYPE_PROP, S.GROUP, S.DAY])


def ref_interaction_catalogue(t, *, interaction=None, ligand=None, receptor=None, gene=None, pathway=None,
                              pvalue=0.05, known=None):
    """``known``: the table the store learnt its interactions from (default ``t``)."""
    inter = (t if known is None else known).drop_duplicates(S.INTERACTION)[[S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY]]
    for col, v in ((S.INTERACTION, interaction), (S.LIGAND, ligand), (S.RECEPTOR, receptor), (S.PATHWAY, pathway)):
        if v is not None:
            inter = inter[inter[col] == v]
    if gene is not None:
        inter = inter[[gene in (f"{lg}_{rc}".split("_")) for lg, rc in zip(inter[S.LIGAND], inter[S.RECEPTOR])]]
    e = t[t[S.INTERACTION].isin(inter[S.INTERACTION])]
    e = e.assign(_sig=e[S.SIGNIFICANT] & _p_ok(e, pvalue))
    seen = e.groupby([S.INTERACTION, S.GROUP, S.DAY], as_index=False).agg(
        n_runs=(S.RUN_ID, "nunique"), n_pairs=(S.SCORE, "size"), n_significant=("_sig", "sum"),
        max_score=(S.SCORE, "max"))
    out = inter.merge(seen, on=S.INTERACTION, how="left")
    for col in ("n_runs", "n_pairs", "n_significant"):  # never seen: one row, counts 0
        out[col] = out[col].fillna(0).astype("int64")
    out.insert(4, "annotation", None)
    out.insert(5, "ligand_genes", [sorted(x.split("_")) for x in out[S.LIGAND]])
    out.insert(6, "receptor_genes", [sorted(x.split("_")) for x in out[S.RECEPTOR]])
    out = ordered(out.assign(_unseen=out[S.DAY].isna()), ["_unseen", S.INTERACTION, S.GROUP, S.DAY])
    return out.drop(columns="_unseen")  # interactions no live run shows come last


def _state(cell_type, day, group):
    """A CellState as the graph files return it (its properties, unset ones left out)."""
    c = study_counts()
    c[S.FRACTION] = c[S.N_CELLS] / c.groupby([S.DAY, S.GROUP])[S.N_CELLS].transform("sum")
    row = c[(c[S.CELL_TYPE_PROP] == cell_type) & (c[S.DAY] == day) & (c[S.GROUP] == group)]
    out = {S.CELL_TYPE_PROP: cell_type, S.DAY: int(day), S.GROUP: group, "key": S.state_key(cell_type, day, group)}
    if len(row):
        out |= {S.N_CELLS: int(row[S.N_CELLS].iloc[0]), S.FRACTION: float(row[S.FRACTION].iloc[0])}
    return dict(sorted(out.items()))


def _edge(row):
    names = [n for n, _ in S.SIGNALS_PROPERTIES if n != S.LOAD_ID]
    return dict(sorted((n, row[n]) for n in names if n in row and not _null(row[n])))


def _strongest(e, keys):
    """Per pair: count, total, and the highest-scoring edge (ties: interaction, then run)."""
    e = e.sort_values([S.SCORE, S.INTERACTION, S.RUN_ID], ascending=[False, True, True], kind="mergesort")
    rows = []
    for (src, dst), g in e.groupby(keys, sort=False):
        top = g.iloc[0]
        rows.append({"sender": src, "receiver": dst, "n_interactions": len(g), "total_score": g[S.SCORE].sum(),
                     S.INTERACTION: top[S.INTERACTION], S.SCORE: top[S.SCORE],
                     "sender_state": _state(src, top[S.DAY], top[S.GROUP]), "edge": _edge(top),
                     "receiver_state": _state(dst, top[S.DAY], top[S.GROUP])})
    cols = ["sender", "receiver", "n_interactions", "total_score", S.INTERACTION, S.SCORE, "sender_state", "edge",
            "receiver_state"]
    return ordered(pd.DataFrame(rows, columns=cols), ["sender", "receiver"])


def ref_graph_network(t, *, day, group="all", **f):
    return _strongest(edges(t, day=day, group=group, **f), [S.SOURCE, S.TARGET])


def ref_graph_ego(t, *, cell_type, day, group="all", **f):
    e = edges(t, day=day, group=group, **f)
    return _strongest(e[(e[S.SOURCE] == cell_type) | (e[S.TARGET] == cell_type)], [S.SOURCE, S.TARGET])


def ref_graph_trajectory(t, *, cell_type, group=None, pvalue=0.05, significant_only=True):
    states = pd.concat([t[[S.SOURCE, S.DAY, S.GROUP]].set_axis([S.CELL_TYPE_PROP, S.DAY, S.GROUP], axis=1),
                       t[[S.TARGET, S.DAY, S.GROUP]].set_axis([S.CELL_TYPE_PROP, S.DAY, S.GROUP], axis=1),
                       study_counts()[[S.CELL_TYPE_PROP, S.DAY, S.GROUP]]]).drop_duplicates()
    states = states[states[S.CELL_TYPE_PROP] == cell_type]
    if group is not None:
        states = states[states[S.GROUP] == group]
    sent = edges(t, group=group, sender=cell_type, pvalue=pvalue, significant_only=significant_only, min_score=None)
    rows = []
    for (g, d), _ in states.groupby([S.GROUP, S.DAY]):
        days = sorted(states.loc[states[S.GROUP] == g, S.DAY])
        nxt = next((x for x in days if x > d), None)
        mine = sent[(sent[S.GROUP] == g) & (sent[S.DAY] == d)]
        st = _state(cell_type, d, g)
        rows.append({S.GROUP: g, S.DAY: d, "next_day": nxt, S.N_CELLS: st.get(S.N_CELLS),
                     "n_interactions": len(mine), "total_score": float(mine[S.SCORE].sum()),
                     "state": st, "next": {} if nxt is not None else None,
                     "next_state": _state(cell_type, nxt, g) if nxt is not None else None})
    return ordered(pd.DataFrame(rows), [S.GROUP, S.DAY])


REFERENCE = {name[4:]: fn for name, fn in globals().items() if name.startswith("ref_")}

CASES = [
    ("signaling_by_day", {"cell_type": MX1}),
    ("signaling_by_day", {"cell_type": MX1, "direction": "in"}),
    ("signaling_by_day", {"cell_type": TREG, "direction": "in", "ligand": "CD86", "group": "high"}),
    ("signaling_by_day", {"cell_type": MX1, "pathway": "ICAM", "partner": CD4T}),
    ("signaling_by_day", {"cell_type": CD4T, "significant_only": False, "min_score": None}),
    ("signaling_by_day", {"cell_type": MX1, "pvalue": 0.01, "method": CPDB}),
    ("signaling_by_day", {"cell_type": "B 'naive'", "receptor": "CD74", "interaction": "APP^CD74"}),
    ("signaling_by_day", {"cell_type": TREG, "pvalue": None, "direction": "in", "partner": "B 'naive'"}),
    ("signaling_by_day", {"cell_type": TREG, "significant_only": None}),
    ("partners", {"cell_type": MX1, "day": 7, "group": "high"}),
    ("partners", {"cell_type": TREG, "day": 3, "group": "high", "direction": "in"}),
    ("partners", {"cell_type": MX1, "day": 0, "group": "low", "partner": TREG, "significant_only": False}),
    ("partners", {"cell_type": MX1, "day": 7, "group": "high", "method": LIANA, "min_score": 0.6}),
    ("partners", {"cell_type": LGALS2, "day": 14, "group": "low", "pathway": "GALECTIN", "pvalue": None}),
    ("signaling_change", {"cell_type": MX1, "day": 7, "group": "high"}),
    ("signaling_change", {"cell_type": MX1, "day": 14, "group": "low", "direction": "in"}),
    ("signaling_change", {"cell_type": TREG, "day": 3, "group": "high", "direction": "in", "fold_change": 1.2,
                          "pseudocount": 0.1}),
    ("signaling_change", {"cell_type": CD4T, "day": 7, "group": "high", "baseline": 3, "significant_only": False}),
    ("signaling_change", {"cell_type": MX1, "day": 0, "group": "high"}),
    ("signaling_change", {"cell_type": LGALS2, "day": 7, "group": "high", "pathway": "ANNEXIN", "partner": MX1,
                          "direction": "in"}),
    ("top_changes", {"day": 7, "group": "high"}),
    ("top_changes", {"day": 14, "group": "low", "limit": 5}),
    ("top_changes", {"day": 7, "group": "high", "status": "lost", "limit": 100}),
    ("top_changes", {"day": 3, "group": "high", "baseline": 7, "sender": MX1, "pathway": "ICAM", "limit": 50}),
    ("top_changes", {"day": 7, "group": "high", "receiver": TREG, "significant_only": False, "pseudocount": 0.5}),
    ("top_changes", {"day": 7, "group": "high", "status": "down", "fold_change": 4.0}),
    ("lr_trajectory", {"ligand": "ICAM1", "receptor": "ITGAL_ITGB2"}),
    ("lr_trajectory", {"interaction": CD86, "receiver": TREG}),
    ("lr_trajectory", {"ligand": "ICAM1", "sender": MX1, "group": "high", "significant_only": True}),
    ("lr_trajectory", {"receptor": "CD74", "method": CPDB, "pvalue": 0.01}),
    ("lr_trajectory", {"ligand": "RETN", "min_score": None}),
    ("lr_trajectory", {"sender": MX1, "receiver": CD4T}),  # no interaction given: every edge is read
    ("lr_trajectory", {"interaction": ICAM, "sender": MX1}),
    # given an interaction and no sender, a ligand or receptor is tested on its Interaction node, not its edges
    ("lr_trajectory", {"interaction": CD86, "ligand": "CD86", "method": CPDB, "group": "high"}),
    ("lr_trajectory", {"interaction": CD86, "receptor": "CD74"}),  # no such pair: empty, as pandas says
    ("pathway_flow", {}),
    ("pathway_flow", {"group": "high", "sender": MX1}),
    ("pathway_flow", {"receiver": TREG, "day": 7}),
    ("pathway_flow", {"pathway": "ICAM", "significant_only": False}),
    ("dose_response", {"cell_type": MX1, "day": 7}),
    ("dose_response", {"cell_type": MX1, "day": 14, "direction": "in", "pathway": "ICAM"}),
    ("dose_response", {"cell_type": TREG, "day": 3, "partner": MX1, "direction": "in", "pseudocount": 0.01}),
    ("dose_response", {"cell_type": CD4T, "day": 0, "baseline": 7, "ligand": "APP", "receptor": "CD74"}),
    ("roles", {}),
    ("roles", {"day": 7, "group": "high"}),
    ("roles", {"cell_type": MX1, "pathway": "ICAM"}),
    ("roles", {"group": "low", "significant_only": False, "min_score": 0.5}),
    ("roles", {"method": LIANA}),
    ("network", {}),
    ("network", {"day": 7, "group": "high", "pathway": "CD86"}),
    ("network", {"sender": MX1, "receiver": CD4T, "interaction": ICAM}),
    ("network", {"ligand": "LGALS9", "receptor": "HAVCR2", "min_score": None, "pvalue": 0.02}),
    ("graph_network", {"day": 7, "group": "high"}),
    ("graph_network", {"day": 0, "group": "low", "pathway": "ICAM", "significant_only": False}),
    ("graph_network", {"day": 7, "group": "high", "method": LIANA, "min_score": 0.6}),
    ("graph_ego", {"cell_type": MX1, "day": 7, "group": "high"}),
    ("graph_ego", {"cell_type": TREG, "day": 3, "group": "high", "pvalue": None, "min_score": None}),
    ("graph_ego", {"cell_type": LGALS2, "day": 14, "group": "low", "pathway": "GALECTIN"}),
    ("graph_trajectory", {"cell_type": MX1}),
    ("graph_trajectory", {"cell_type": "B 'naive'", "group": "low", "significant_only": False}),
    ("graph_trajectory", {"cell_type": COUNT_ONLY}),
    # the summary layer and the detail edges: each aggregating file on both paths (see _queries.path_line)
    ("signaling_by_day", {"cell_type": MX1, "significant_only": False, "pvalue": 0.01}),
    ("dose_response", {"cell_type": MX1, "day": 7, "min_score": 0.3}),
    ("dose_response", {"cell_type": TREG, "day": 7, "direction": "in", "significant_only": False}),
    ("roles", {"day": 7, "pathway": "ICAM", "significant_only": False}),
    ("network", {"day": 7, "group": "high", "significant_only": False}),
    ("network", {"group": "low", "pvalue": 0.01}),
    ("pathway_flow", {"min_score": 0.5}),
    ("pathway_flow", {"sender": MX1, "pvalue": 0.01, "day": 7}),
    ("graph_network", {"day": 7, "group": "high", "significant_only": False}),
    ("graph_ego", {"cell_type": MX1, "day": 7, "group": "high", "pathway": "ICAM", "significant_only": False}),
    ("graph_trajectory", {"cell_type": MX1, "group": "high", "pvalue": 0.01}),
    ("cell_composition", {}),
    ("cell_composition", {"cell_type": MX1}),
    ("cell_composition", {"day": 14, "group": "low"}),
    ("interaction_catalogue", {}),
    ("interaction_catalogue", {"interaction": ICAM}),
    ("interaction_catalogue", {"gene": "ITGB2"}),
    ("interaction_catalogue", {"pathway": "CD86", "pvalue": None}),
    ("interaction_catalogue", {"ligand": "LGALS9", "receptor": "HAVCR2"}),
    ("interaction_catalogue", {"gene": "CAP1"}),
    ("interaction_catalogue", {"interaction": ICAM, "pvalue": 0.01}),  # another cut: the detail edges
    ("interaction_catalogue", {"gene": "ITGB2", "pvalue": 0.5}),
]


def assert_same(got: pd.DataFrame, want: pd.DataFrame, *, what: str = "") -> None:
    """Same columns, rows and order; numbers within 1e-9 (relative), nulls equal."""
    assert list(got.columns) == list(want.columns), what
    assert len(got) == len(want), f"{what}: {len(got)} rows, want {len(want)}\n{got}\n{want}"
    for col in want.columns:
        g, w = list(got[col]), list(want[col])
        for i, (a, b) in enumerate(zip(g, w)):
            if isinstance(b, list) or isinstance(a, (list, np.ndarray)):
                assert list(a) == list(b), f"{what}: {col}[{i}] {a!r} != {b!r}"
            elif _null(a) or _null(b):
                assert _null(a) and _null(b), f"{what}: {col}[{i}] {a!r} != {b!r}"
            elif isinstance(b, (int, float, np.integer, np.floating)) and not isinstance(b, (bool, np.bool_)):
                assert float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-12), f"{what}: {col}[{i}] {a!r} != {b!r}"
            else:
                assert a == b, f"{what}: {col}[{i}] {a!r} != {b!r}"


def _null(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _case_id(case):
    name, params = case
    return name + "[" + ",".join(f"{k}={v}" for k, v in params.items()) + "]"


# --- every query against pandas ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_query_matches_pandas(study, canonical, case):
    name, params = case
    got = study.query(name, **params)
    assert list(got.columns) == list(get_query(name).returns)
    want = REFERENCE[name](canonical, **params)
    assert_same(got, want, what=_case_id(case))


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_the_branches_taken_answer_as_the_whole_file(study, case):
    """The embedded store runs only the branches of a UNION the parameters take (LadybugDB plans
    every branch on every run): the same rows as the whole file, the way a Browser user runs it."""
    name, params = case
    spec = get_query(name)
    bound = spec.bind(params)
    sent = study._branches_taken(name, spec.text, bound)
    whole = spec.shape(study.cypher(spec.text, bound))
    assert_same(study.query(name, **params), whole, what=_case_id(case))
    assert_same(spec.shape(study.cypher(sent, bound)), whole, what=_case_id(case))
    parts = union_branches(spec.text)
    if sum(b.gate is not None for b in parts) > 1:  # gated branches exclude one another: some are left out
        assert sent != spec.text and sent.count("UNION ALL") < len(parts) - 1, _case_id(case)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_an_answer_fetched_through_arrow_is_the_one_get_as_df_gives(study, case, monkeypatch):
    """The embedded store fetches a named answer of many rows through Arrow: forced for every
    answer here, the frame is the one get_as_df gives, column types included (lists as lists,
    INT128 sums as integers, nulls as they were)."""
    from commgraph.stores import embedded

    name, params = case
    spec = get_query(name)
    bound = spec.bind(params)
    sent = study._branches_taken(name, spec.text, bound)
    monkeypatch.setattr(embedded, "_ARROW_ROWS", 10**9)
    via_df = spec.shape(study._answer(sent, bound, spec.returns))
    monkeypatch.setattr(embedded, "_ARROW_ROWS", 0)
    via_arrow = spec.shape(study._answer(sent, bound, spec.returns))
    pd.testing.assert_frame_equal(via_arrow, via_df, check_exact=True)


def test_only_a_gate_on_parameters_alone_leaves_a_branch_out():
    """A branch is left out only by a gate whose value is the call's alone (so a store may keep it per
    parameter set); a gate that reads the graph keeps its branch in the text."""
    text = "\n".join([
        "MATCH (a:CellState)-[r:SIGNALS]->(b)", "WHERE r.score > 0",
        '  AND a.key = CASE WHEN $direction = "out" AND coalesce($pvalue, 1.0) = 0.05 THEN a.key END',
        "RETURN a.key AS k ORDER BY k", "UNION ALL",
        "MATCH (a:CellState)-[r:SIGNALS]->(b)", "WHERE r.score > 0",
        "  AND a.key = CASE WHEN b.day = $day THEN a.key END",
        "RETURN a.key AS k ORDER BY k"])
    gated, reads_graph = union_branches(text)
    assert gated.gate == '($direction = "out" AND coalesce($pvalue, 1.0) = 0.05)'
    assert reads_graph.gate is None


# the questions about stored contrasts: checked against their own computation and on both
# engines in test_differential.py (the descriptive study here has no per-sample runs)
CONTRAST_QUERIES = {"differential", "dose_effect", "change_summary", "clinical_trajectory"}  # + test_clinical.py


def test_every_query_is_tested_and_no_answer_is_trivially_empty(study):
    descriptive = set(_all()) - CONTRAST_QUERIES
    assert set(REFERENCE) == descriptive, "a query without a pandas reference (or the reverse)"
    assert {name for name, _ in CASES} == descriptive
    for name in descriptive:
        nonempty = [p for n, p in CASES if n == name and len(study.query(n, **p))]
        assert len(nonempty) >= 2, f"{name}: fewer than two parameter sets with an answer"


# --- numbers planted by hand --------------------------------------------------------------


def test_planted_changes(study):
    ch = Q.signaling_change(study, MX1, day=7, group="high").set_index(["partner", "interaction"])
    icam = ch.loc[(CD4T, ICAM)]
    assert icam["status"] == "up"
    assert (icam["baseline_score"], icam["score"], icam["delta"]) == pytest.approx((0.2, 1.0, 0.8))
    assert icam["log2fc"] == pytest.approx(math.log2(1.001 / 0.201))
    lost = ch.loc[(TREG, CD86)]
    assert lost["status"] == "lost" and lost["baseline_score"] == pytest.approx(0.4) and pd.isna(lost["score"])
    assert lost["log2fc"] == pytest.approx(math.log2(0.001 / 0.401))
    gained = ch.loc[(LGALS2, ANXA1)]
    assert gained["status"] == "gained" and pd.isna(gained["baseline_score"]) and gained["score"] == pytest.approx(0.6)

    low = Q.signaling_change(study, MX1, day=14, group="low", interaction=ICAM, partner=CD4T)
    assert low[["status", "log2fc"]].values.tolist() == [["unchanged", 0.0]]
    # the threshold decides up vs unchanged: 0.4 vs 0.2 is a 2-fold change
    d7 = dict(cell_type=MX1, day=7, group="low", interaction=ICAM, partner=CD4T)
    assert Q.signaling_change(study, **d7)["status"].tolist() == ["up"]
    assert Q.signaling_change(study, **d7, fold_change=2.5)["status"].tolist() == ["unchanged"]

    dose = Q.dose_response(study, MX1, day=7, partner=CD4T, interaction=ICAM)
    assert dose[S.GROUP].tolist() == ["high", "low"]
    assert dose["score"].tolist() == pytest.approx([1.0, 0.4])
    assert dose["log2fc"].tolist() == pytest.approx([math.log2(1.001 / 0.201), math.log2(0.401 / 0.201)])

    traj = Q.lr_trajectory(study, "ICAM1", "ITGAL_ITGB2", sender=MX1, receiver=CD4T, group="high")
    assert traj[S.DAY].tolist() == [0, 3, 7, 14]
    assert traj["mean_score"].tolist() == pytest.approx([0.2, 0.5, 1.0, 0.3])

    top = Q.top_changes(study, day=7, group="high", status="lost", limit=100)
    assert (MX1, TREG, CD86) in set(zip(top["sender"], top["receiver"], top["interaction"]))


def test_catalogue_of_a_complex(study):
    cat = Q.interaction_catalogue(study, ICAM)
    first = cat.iloc[0]
    assert (first["ligand"], first["receptor"], first["pathway"]) == ("ICAM1", "ITGAL_ITGB2", "ICAM")
    assert list(first["ligand_genes"]) == ["ICAM1"] and list(first["receptor_genes"]) == ["ITGAL", "ITGB2"]
    assert sorted(set(zip(cat[S.GROUP], cat[S.DAY]))) == sorted((g, d) for g in GROUPS for d in DAYS)
    seen = Q.interaction_catalogue(study, gene="CAP1")
    assert seen[["interaction", S.GROUP, S.DAY, "n_runs", "n_pairs"]].values.tolist() == [["RETN^CAP1", "high", 7, 1, 4]]


def test_partners_average_over_samples(study, canonical):
    got = Q.partners(study, TREG, day=3, group="high", direction="in", significant_only=False)
    assert set(got["n_runs"]) == {1, 2}  # pairs the second sample shows too are averaged over both
    two = got[got["n_runs"] == 2].iloc[0]
    t = canonical
    rows = t[(t[S.DAY] == 3) & (t[S.GROUP] == "high") & (t[S.TARGET] == TREG) & (t[S.SOURCE] == two["partner"])
             & (t[S.INTERACTION] == two["interaction"])]
    assert len(rows) == 2 and two["score"] == pytest.approx(rows[S.SCORE].mean())


# --- the headers and the live-run rule -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_all()))
def test_header_and_live_rule(name):
    spec = get_query(name)
    text = spec.text
    body = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
    # Neo4j Browser: one `:params {…}` line naming every parameter (checked in full below)
    assert list(spec.browser) == spec.param_names, f"{name}: :params names {list(spec.browser)}"
    # every parameter is used; `group` is a reserved word in LadybugDB: only ever backticked
    for p in spec.param_names:
        assert re.search(rf"\$`?{p}\b", body), f"{name}: ${p} declared but not used"
    assert not re.search(r"\$group\b", body) and not re.search(r"\.group\b", body)
    # every SIGNALS edge read is filtered to live runs
    rels = re.findall(r"\[(\w+):SIGNALS\]", body)
    if rels:
        assert "MATCH (run:Run) WITH collect(run.load_id) AS live" in body
    for r in rels:
        assert f"{r}.load_id IN live" in body, f"{name}: SIGNALS edge {r} not limited to live runs"
    assert "[:SIGNALS]" not in body and "-[:SIGNALS" not in body
    # so is every summary read (the summary layer follows the same rule), always as `m`
    for rel in ("SUMMARY", "PATHWAY_SUMMARY"):
        assert re.findall(rf"\[(\w*):{rel}\]", body) in ([], ["m"] * body.count(f":{rel}]")), name
    if ":SUMMARY]" in body or ":PATHWAY_SUMMARY]" in body:
        assert "m.load_id IN live" in body and LIVE in body, f"{name}: summary not limited to live runs"
    # no dialect traps
    for bad in ("toString(", "toFloat(", "toInteger(", "type(", "CALL {", "log(", "+="):
        assert bad not in body, f"{name}: {bad} is not portable"


# --- the `:params {…}` line a Neo4j Browser user pastes first -----------------------------------


def params_lines(spec) -> list[str]:
    return [line[2:].strip() for line in spec.text.splitlines()
            if line.startswith("//") and line[2:].strip().startswith(":params")]


def ladybug_map(line: str) -> dict:
    """The map of a ``:params`` line as the embedded engine reads it: ``RETURN {…} AS m``.
    LadybugDB reserves ``group``, so every key is backticked here (Neo4j and the Browser take
    the line as it stands; see the Neo4j test below)."""
    import ladybug

    text = line.removeprefix(":params ")
    quoted = re.sub(r'("(?:[^"\\]|\\.)*")|([{,]\s*)(\w+)(\s*:)',
                    lambda m: m[1] or f"{m[2]}`{m[3]}`{m[4]}", text)
    conn = ladybug.Connection(ladybug.Database(":memory:"))
    result = conn.execute(f"RETURN {quoted} AS m")
    (row,) = [result.get_next() for _ in iter(result.has_next, False)]
    return row[0]


@pytest.mark.parametrize("name", sorted(_all()))
def test_params_line_pastes_every_parameter_at_its_default(name):
    spec = get_query(name)
    lines = params_lines(spec)
    assert len(lines) == 1, f"{name}: {len(lines)} `:params` lines"
    assert "// browser:" not in spec.text
    got = ladybug_map(lines[0])
    assert list(got) == spec.param_names, f"{name}: :params names {list(got)}"
    assert got == spec.browser  # the engine reads the literal as the package does
    for p in spec.params:
        value = got[p.name]
        if p.required:  # an example value, of the declared type
            assert type(value) is TYPES[p.type], f"{name}: ${p.name} = {value!r} is not {p.type}"
        else:
            assert value == p.default and (value is None or type(value) is TYPES[p.type]), (
                f"{name}: :params has {p.name}: {value!r}, the header declares {p.default!r}")
    # the line is the package's own rendering of those values, so `--browser` prints the same form
    assert spec.browser_line() == lines[0]


def test_params_line_with_values_over_the_defaults():
    spec = get_query("pathway_flow")
    line = spec.browser_line({"group": "high", "day": "7", "significant_only": "false", "pvalue": "0.01"},
                             from_text=True)
    assert line == (':params {pathway: null, group: "high", day: 7, sender: null, receiver: null, method: null, '
                    'pvalue: 0.01, significant_only: false, min_score: 0.0}')
    assert ladybug_map(line) == {**spec.browser, "group": "high", "day": 7, "significant_only": False, "pvalue": 0.01}
    # a float given as a whole number keeps its decimal point; a string keeps its quotes escaped
    line = get_query("partners").browser_line({"min_score": 1, "cell_type": 'B "naive"'})
    assert 'min_score: 1.0' in line and r'cell_type: "B \"naive\""' in line
    assert ladybug_map(line)["cell_type"] == 'B "naive"'
    with pytest.raises(QueryError, match="must be int"):
        spec.browser_line({"day": "seven"}, from_text=True)
    with pytest.raises(QueryError, match="has no parameter 'days'"):
        spec.browser_line({"days": 7})
    with pytest.raises(QueryError, match="direction must be one of"):
        get_query("partners").browser_line({"direction": "both"})


def test_for_browser_is_the_params_line_then_the_query():
    spec = get_query("top_changes")
    text = spec.for_browser({"day": 14, "group": "low", "limit": 5})
    first, limit, blank, *query = text.splitlines()
    assert first == spec.browser_line({"day": 14, "group": "low", "limit": 5}) and blank == ""
    assert "day: 14, group: \"low\", baseline: 0, limit: 5," in first
    # Neo4j Browser makes a :params map's numbers floats, and LIMIT takes only an integer (seen in
    # Browser 5.24: "LIMIT: Invalid input. '2.0' is not a valid value"): the server evaluates `=>`
    assert spec.browser_integers == ("limit",) and limit == ":param limit => 5"
    assert [n for n, s in _all().items() if s.browser_integers] == ["top_changes"]
    assert get_query("partners").browser_lines() == [get_query("partners").browser_line()]
    # the query as the file has it, less the comment showing the defaults
    assert query == [line for line in spec.text.splitlines() if not line.startswith("// :params")]


@pytest.mark.neo4j
def test_params_lines_are_cypher_maps_on_neo4j(neo4j_uri):
    with cg.connect(neo4j_uri, read_only=True) as server:
        for name, spec in _all().items():
            (line,) = params_lines(spec)
            got = server.cypher(f"RETURN {line.removeprefix(':params ')} AS m")["m"][0]
            assert got == spec.browser, name
            assert all(type(got[p.name]) is type(spec.browser[p.name]) for p in spec.params), name


# --- parameters: errors, nulls, hostile values ------------------------------------------------


def test_wrong_parameter_name_lists_the_valid_ones(study):
    with pytest.raises(cg.QueryError) as err:
        study.query("partners", celltype=MX1, day=7, group="high")
    msg = str(err.value)
    assert "celltype" in msg and "$cell_type string" in msg and "$day int" in msg and "$significant_only bool" in msg


@pytest.mark.parametrize("bad", [{"day": "seven"}, {"day": 7.5}, {"day": True}, {"cell_type": 3},
                                 {"significant_only": "yes"}, {"pvalue": "0.05"}])
def test_wrong_parameter_type(study, bad):
    params = {"cell_type": MX1, "day": 7, "group": "high", **bad}
    with pytest.raises(cg.QueryError, match=rf"\${next(iter(bad))} must be"):
        study.query("partners", **params)


def test_missing_and_null_required_parameters(study):
    with pytest.raises(cg.QueryError, match=r"needs \$day"):
        study.query("signaling_change", cell_type=MX1, group="high")
    with pytest.raises(cg.QueryError, match="can't be null"):
        study.query("signaling_change", cell_type=None, day=7, group="high")
    with pytest.raises(cg.QueryError, match="no named query"):
        study.query("signalling_change", cell_type=MX1, day=7)


REQUIRED = {"cell_type": MX1, "day": 7, "group": "high", "score": "child_pugh"}


@pytest.mark.parametrize("name", sorted(_all()))
def test_null_filters_mean_no_filter(study, name):
    spec = get_query(name)
    base = {p.name: REQUIRED[p.name] for p in spec.params if p.required}
    if "group" in spec.param_names and spec.params[spec.param_names.index("group")].default is not None:
        base["group"] = "high"
    nulls = {p.name: None for p in spec.params if not p.required and p.default is None}
    assert nulls, name
    assert_same(study.query(name, **base, **nulls), study.query(name, **base), what=name)


def _store_snapshot(store):
    counts = store.cypher("MATCH (n) RETURN count(n) AS n")["n"][0], store.cypher(
        "MATCH ()-[r]->() RETURN count(r) AS n")["n"][0]
    return counts, store.stats()["signals"]


HOSTILE = [
    "MX1+ Mono'",
    'MX1+ Mono"',
    "'}) MATCH (n) DETACH DELETE n //",
    '"}) MATCH (n) DETACH DELETE n //',
    "high' OR '1'='1",
    "`) DETACH DELETE n //",
    "MX1+ Mono\\",
    "x" * 100_000,
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # the empty answers' hints
@pytest.mark.parametrize("name", sorted(_all()))
def test_hostile_parameters_return_empty_and_leave_the_store_intact(study, name):
    spec = get_query(name)
    before = _store_snapshot(study)
    strings = [p.name for p in spec.params if p.type == "string"]
    target = next(p for p in ("cell_type", "interaction", "sender", "pathway", "reference", "score") if p in strings)
    base = {p.name: REQUIRED[p.name] for p in spec.params if p.required}
    for value in HOSTILE:
        got = study.query(name, **{**base, target: value})
        assert got.empty and list(got.columns) == list(spec.returns), f"{name} ${target}={value[:40]!r}"
    if "group" in strings:
        assert study.query(name, **{**base, "group": HOSTILE[2]}).empty
    assert _store_snapshot(study) == before


def test_empty_answer_carries_a_hint(study):
    with pytest.warns(UserWarning, match="did you mean 'MX1\\+ Mono'"):
        got = study.query("signaling_change", cell_type="MX1 Mono", day=7, group="high")
    assert got.empty and "did you mean 'MX1+ Mono'" in got.attrs["hint"]
    with pytest.warns(UserWarning, match="high, low"):
        got = Q.partners(study, MX1, day=7)  # group defaults to "all"; this study has arms
    assert "no group 'all'" in got.attrs["hint"]
    assert "hint" not in study.query("partners", cell_type=MX1, day=7, group="high").attrs


def test_direction_must_be_out_or_in(study):
    with pytest.raises(cg.QueryError, match=r"\$direction must be one of out, in"):
        study.query("signaling_by_day", cell_type=MX1, direction="sideways")
    with pytest.raises(cg.QueryError, match=r"\$status must be one of gained, lost, up, down, not 'unchanged'"):
        study.query("top_changes", day=7, group="high", status="unchanged")  # top_changes leaves those out
    assert "out" in Q.hint_for(study, {"cell_type": MX1, "direction": "sideways"})


# --- the live-run rule on data: a stale edge and a removed run are invisible -------------------


@pytest.mark.filterwarnings("ignore::UserWarning")  # hints: the removed run's method is gone
def test_stale_and_removed_edges_are_invisible(tmp_path, canonical):
    with cg.connect(tmp_path / "stale.lbug") as store:
        store.load(canonical, cell_counts=study_counts())
        cases = [(n, p) for n, p in CASES if n != "cell_composition"]
        before = [store.query(n, **p) for n, p in cases]
        # an edge of a load that never became live (e.g. a killed load), strong enough to show anywhere
        store.cypher(
            "MATCH (a:CellState), (b:CellState) WHERE a.key = $a AND b.key = $b "
            "CREATE (a)-[:SIGNALS {ligand: 'ICAM1', receptor: 'ITGAL_ITGB2', interaction: $i, pathway: 'ICAM', "
            "score: 1000.0, pvalue: 0.0, significant: true, method: $m, run_id: 'cpdb|d7|high', load_id: 'stale'}]->(b)",
            {"a": S.state_key(MX1, 7, "high"), "b": S.state_key(TREG, 7, "high"), "i": ICAM, "m": CPDB},
        )
        assert store.cypher("MATCH ()-[r:SIGNALS]->() WHERE r.load_id = 'stale' RETURN count(r) AS n")["n"][0] == 1
        for (n, p), want in zip(cases, before):
            assert_same(store.query(n, **p), want, what=f"stale edge: {_case_id((n, p))}")

        store.remove_run(LIANA_RUN)
        rest = canonical[canonical[S.RUN_ID] != LIANA_RUN]
        for n, p in cases:
            extra = {"known": canonical} if n == "interaction_catalogue" else {}
            assert_same(store.query(n, **p), REFERENCE[n](rest, **p, **extra), what=f"removed run: {_case_id((n, p))}")
        retn = Q.interaction_catalogue(store, "RETN^CAP1")  # known, no longer seen
        assert len(retn) == 1 and pd.isna(retn[S.DAY][0]) and retn["n_runs"][0] == 0


# --- questions.py: networkx and hints -------------------------------------------------------


def test_centrality_matches_networkx(study, canonical):
    import networkx as nx

    got = Q.centrality(study, group="high", days=[0, 7])
    assert list(got.columns) == ["group", "day", "cell_type", "pagerank", "out_strength", "in_strength", "betweenness"]
    assert sorted(set(got[S.DAY])) == [0, 7] and set(got[S.GROUP]) == {"high"}
    net = ref_network(canonical, group="high")
    for day in (0, 7):
        e = net[net[S.DAY] == day]
        g = nx.DiGraph()
        for s, r, w in zip(e["sender"], e["receiver"], e["total_score"]):
            g.add_edge(s, r, weight=w, distance=1 / w)
        mine = got[got[S.DAY] == day].set_index("cell_type")
        assert sorted(mine.index) == sorted(g.nodes)
        pr, bc = nx.pagerank(g, weight="weight"), nx.betweenness_centrality(g, weight="distance")
        for n in g.nodes:
            assert mine.loc[n, "pagerank"] == pytest.approx(pr[n])
            assert mine.loc[n, "betweenness"] == pytest.approx(bc[n])
            assert mine.loc[n, "out_strength"] == pytest.approx(e.loc[e["sender"] == n, "total_score"].sum())
            assert mine.loc[n, "in_strength"] == pytest.approx(e.loc[e["receiver"] == n, "total_score"].sum())
        assert mine["pagerank"].sum() == pytest.approx(1.0)
    # weights and filters pass through
    icam = Q.centrality(study, group="high", weight="n_interactions", pathway="ICAM")
    net_icam = ref_network(canonical, group="high", pathway="ICAM")
    d7 = icam[icam[S.DAY] == 7].set_index("cell_type")["out_strength"]
    want = net_icam[net_icam[S.DAY] == 7].groupby("sender")["n_interactions"].sum()
    assert d7[want.index].tolist() == pytest.approx(want.tolist())
    with pytest.raises(ValueError, match="weight"):
        Q.centrality(study, weight="pvalue")


def test_centrality_change_against_baseline(study):
    cent = Q.centrality(study)
    ch = Q.centrality_change(study)
    assert list(ch.columns) == ["group", "cell_type", "day", "metric", "baseline_value", "value", "delta"]
    assert set(ch["metric"]) == set(Q.METRICS) and set(ch[S.GROUP]) == set(GROUPS)
    assert ch["delta"].to_numpy() == pytest.approx((ch["value"] - ch["baseline_value"]).to_numpy())
    assert (ch.loc[ch[S.DAY] == 0, "delta"] == 0).all()
    row = ch[(ch[S.GROUP] == "high") & (ch["cell_type"] == MX1) & (ch[S.DAY] == 7) & (ch["metric"] == "pagerank")]
    c = cent[(cent[S.GROUP] == "high") & (cent["cell_type"] == MX1)].set_index(S.DAY)["pagerank"]
    assert row["value"].item() == pytest.approx(c[7]) and row["baseline_value"].item() == pytest.approx(c[0])
    # every cell type on every day of its group (absent: 0), four states each
    per = ch.groupby([S.GROUP, "cell_type", "metric"]).size()
    assert (per == len(DAYS)).all()
    only = Q.centrality_change(study, group="low", days=[14])
    assert sorted(set(only[S.DAY])) == [0, 14]


def test_hints_name_valid_values(study):
    assert Q.hint_for(study, {"cell_type": MX1, "day": 7, "group": "high", "pathway": "ICAM"}) is None
    h = Q.hint_for(study, {"cell_type": "MX1 Mono", "day": 7, "group": "high"})
    assert "'MX1 Mono'" in h and "did you mean 'MX1+ Mono'" in h and "Treg" in h
    h = Q.hint_for(study, {"cell_type": MX1, "day": 5, "group": "medium", "pathway": None})
    assert "day 5" in h and "0, 3, 7, 14" in h and "'medium'" in h and "high, low" in h
    assert "'Platelet' has no cell state in group 'low'" in Q.hint_for(study, {"cell_type": COUNT_ONLY, "group": "low"})
    h = Q.hint_for(study, {"partner": "Tregs", "pathway": "ICAM1", "method": "cellchat", "gene": "ITGB9"})
    assert "did you mean 'Treg'" in h and "did you mean 'ICAM'" in h and "liana:rank_aggregate" in h and "ITGB2" in h
    h = Q.hint_for(study, {"interaction": "ICAM1-ITGAL_ITGB2"})
    assert ICAM in h
    assert len(Q.hint_for(study, {"cell_type": "x" * 100_000})) < 2000
    # the default group of a study with arms is not there
    assert "high, low" in Q.hint_for(study, {"cell_type": MX1, "day": 7, "group": "all"})


def test_significance_is_said_one_way_in_every_file():
    """The predicate was pasted 13 times in 9 files; now every file says commgraph._queries'
    SIGNIFICANT (or SIGNIFICANT_FILTER) verbatim, and nothing else reads r.significant."""
    from commgraph._queries import DETAIL_CUT, SIGNIFICANT, SIGNIFICANT_FILTER, SUMMARY_CUT

    users = 0
    for spec in _all().values():
        body = "\n".join(line for line in spec.text.splitlines() if not line.startswith("//"))
        rest = body.replace(SIGNIFICANT_FILTER, "").replace(SIGNIFICANT, "").replace(SUMMARY_CUT, "").replace(DETAIL_CUT, "")
        for carry in GUARD_CARRY:  # the guard checks $pvalue's and $significant_only's types (tested below)
            rest = rest.replace("\n".join(guard_lines(spec.params, carry)), "")
        # the path line (summary layer or detail edges) and the summary's count and score pickers
        rest = "\n".join(line for line in rest.splitlines() if not line.startswith(PATH_START) and not is_gate(line))
        for fragment in (SUMMARY_N, SUMMARY_SCORE, SUMMARY_MAX):
            rest = rest.replace(fragment, "")
        assert "r.significant" not in rest and "$significant_only" not in rest, f"{spec.name}: another spelling"
        assert "$pvalue" not in rest, spec.name
        users += SIGNIFICANT in body
    # every query that reads SIGNALS edges reads significance (cell_composition and the questions
    # about contrasts and sample sheets read no SIGNALS)
    assert users == sum(":SIGNALS]" in s.text for s in _all().values()) == len(_all()) - 5


# --- the guard: Neo4j Browser users set parameters by hand ------------------------------------


def branches(spec) -> list[list[str]]:
    body = [line for line in spec.text.splitlines() if not line.startswith("//")]
    out = [[]]
    for line in body:
        if line in ("UNION ALL", "UNION"):
            out.append([])
        else:
            out[-1].append(line)
    return out


@pytest.mark.parametrize("name", sorted(_all()))
def test_every_branch_opens_with_the_guard_its_header_implies(name):
    spec = get_query(name)
    for branch in branches(spec):
        if branch[0] == LIVE:
            want = guard_lines(spec.params, "live")
            assert branch[1:1 + len(want)] == want, f"{name}: run python tools/cypher_fragments.py"
        else:
            want = guard_lines(spec.params, "1 AS checked")
            assert branch[:len(want)] == want, f"{name}: run python tools/cypher_fragments.py"
            assert LIVE not in branch
        assert want, f"{name}: nothing to guard"
        # what the guard checks: every number (an integer: also whole), bool and choice parameter
        text = "\n".join(want)
        for p in spec.params:
            if p.type != "string" or p.name in ("direction", "status"):
                assert f"${p.name}" in text, f"{name}: ${p.name} unchecked"
    import subprocess
    import sys as _sys
    from conftest import REPO

    done = subprocess.run([_sys.executable, str(REPO / "tools" / "cypher_fragments.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_branch_for_one_direction_gates_its_start_on_that_direction():
    """LadybugDB tests a MATCH's WHERE after reading the edges, but a test on the start node where it
    scans the nodes: each direction's branch repeats its $direction there, so a question for "out"
    reads none of the cell type's incoming edges (and its summary branches none of theirs)."""
    from commgraph._queries import branch_direction

    seen = {}
    for name, spec in _all().items():
        for branch in branches(spec):
            at = [i for i, line in enumerate(branch) if branch_direction(line)]
            for i in at:
                test = branch_direction(branch[i])
                assert is_gate(branch[i + 1]) and f"CASE WHEN {test} " in branch[i + 1], (name, branch[i + 1])
                seen.setdefault(name, set()).add(test)
    # both directions, in every question that asks for one
    assert {n for n, s in seen.items() if len(s) == 2} == {
        n for n, spec in _all().items() if "direction" in spec.param_names} == {
        "partners", "signaling_change", "signaling_by_day", "dose_response", "differential"}


MISSING_STATE = {"cell_type": "Mono MX1+", "sender": "Mono MX1+", "partner": "Mono MX1+", "day": 5,
                 "baseline": 5, "group": "medium"}


@pytest.mark.parametrize("case", [c for c in CASES if set(c[1]) & set(MISSING_STATE)
                                  or {"cell_type", "day", "group"} & set(get_query(c[0]).param_names)],
                         ids=_case_id)
def test_a_state_the_store_lacks_gives_no_rows_even_unchecked(study, case):
    """Run as Neo4j Browser runs it (no hint first): a cell type, day, baseline or group the store
    doesn't have, or a day it has but not for that cell type and group, gives no rows."""
    name, params = case
    spec = get_query(name)
    full = spec.bind(params)
    for key, bad in MISSING_STATE.items():
        if key in spec.param_names:
            got = study.cypher(spec.text, {**full, key: bad})
            assert got.empty, f"{name} ${key}={bad!r}: {len(got)} rows"
    if "day" in spec.param_names and "group" in spec.param_names and "cell_type" in spec.param_names:
        # B 'naive' was never counted on day 14 in group low, but day 14 and group low exist
        got = study.cypher(spec.text, {**full, "cell_type": COUNT_ONLY, "day": 14, "group": "low"})
        assert got.empty, name


# --- UNION answers: sorted by the order every branch declares ---------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if get_query(c[0]).order], ids=_case_id)
def test_a_union_answer_is_in_its_declared_order_whatever_order_the_engine_gives(study, case):
    """UNION ALL keeps no branch's ORDER BY (LadybugDB collects a branch's rows from parallel threads:
    CI once saw graph_trajectory's day 3 before day 0), so the answer is sorted after the engine."""
    name, params = case
    spec = get_query(name)
    raw = study.cypher(spec.text, spec.bind(params))
    want = spec.shape(raw)
    if len(want) < 2:
        pytest.skip("one row: nothing to order")
    shuffled = spec.shape(raw.iloc[::-1].sample(frac=1, random_state=7))
    assert_same(shuffled, want, what=f"shuffled {_case_id(case)}")
    keys = [c for c, _, _ in spec.order]
    for (c, is_null, desc) in spec.order[:1]:  # the first key is monotone down the answer
        col = want[c].isna() if is_null else want[c]
        vals = [v for v in col if not _null(v)]
        assert vals == sorted(vals, reverse=desc), f"{name}: {keys}"


def test_union_order_nulls_last_and_descending():
    text = ("// q: a query\n// returns: a, b\nUNWIND [1] AS x RETURN x AS a, x AS b ORDER BY b DESC, a\n"
            "UNION ALL\nUNWIND [2] AS x RETURN x AS a, x AS b ORDER BY b DESC, a")
    spec = parse(text)
    assert spec.order == (("b", False, True), ("a", False, False))
    df = pd.DataFrame({"a": [3.0, None, 1.0, 2.0], "b": [1.0, 1.0, 1.0, None]})
    got = spec.shape(df)
    # descending: null (the largest value) first; ascending: null last
    assert [None if _null(v) else v for v in got["b"]] == [None, 1.0, 1.0, 1.0]
    assert [None if _null(v) else v for v in got["a"]] == [2.0, 1.0, 3.0, None]
    for bad, why in ((text.replace("ORDER BY b DESC, a\nUNION", "ORDER BY a\nUNION"), "order differently"),
                     (text.replace(" ORDER BY b DESC, a\nUNION", "\nUNION"), "ends 'RETURN"),
                     (text.replace("ORDER BY b DESC, a", "ORDER BY c"), "can't sort by")):
        with pytest.raises(QueryError, match=why):
            parse(bad)



def test_unsorted_drops_only_the_order_that_ends_each_branch():
    """The embedded store leaves out the ORDER BY that ends each branch (shape() sorts by it);
    an ORDER BY inside a WITH, one followed by LIMIT, or one in a file that draws, stays."""
    text = ("// q: a query\n// returns: a, b\n"
            "UNWIND [1, 2] AS x WITH x ORDER BY x SKIP 0\nRETURN x AS a, x AS b\nORDER BY b DESC, a\n"
            "UNION ALL\nUNWIND [3] AS x RETURN x AS a, x AS b\nORDER BY b DESC, a\n\n// the end\n")
    got = unsorted(parse(text), text)
    assert got.count("ORDER BY") == 1 and "WITH x ORDER BY x SKIP 0" in got
    assert got.replace("\n", " ").count("RETURN x AS a, x AS b") == 2 and "UNION ALL" in got
    limited = text.replace("ORDER BY b DESC, a\n\n", "ORDER BY b DESC, a\nLIMIT 1\n")
    assert unsorted(parse(limited), limited).count("ORDER BY b DESC, a") == 1  # the branch with LIMIT keeps it
    drawing = text.replace("// q: a query", "// graph_q: a query")
    assert unsorted(parse(drawing), drawing) == drawing
    single = "// q: a query\n// returns: a\nUNWIND [2, 1] AS x RETURN x AS a\nORDER BY a"
    assert unsorted(parse(single), single) == single  # no UNION: the engine's order is the answer's


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_a_union_orders_its_rows_fully_so_the_engine_need_not_sort(study, case):
    """A UNION's answer is sorted by shape() alone on the embedded store (the engine's ORDER BY is
    left out, _queries.unsorted): its keys must leave no two rows tied, or their order would be the
    engine's whim."""
    name, params = case
    spec = get_query(name)
    if not spec.order or spec.draws:
        pytest.skip("no UNION order left out")
    got = study.query(name, **params)
    keys = list(dict.fromkeys(col for col, _, _ in spec.order))
    tied = got[got.duplicated(subset=keys, keep=False)]
    assert tied.empty, f"{_case_id(case)}: rows tied on {keys}:\n{tied}"


def test_shape_turns_node_columns_into_properties_whatever_their_first_rows():
    """A column of nodes (LadybugDB's form: a dict with _LABEL and _ID) becomes plain property
    dicts even when its first rows are null (an OPTIONAL MATCH); maps and strings stay as they are."""
    spec = parse("// q: a query\n// returns: n, m, s\nRETURN 1 AS n, 2 AS m, 3 AS s")
    node = {"_LABEL": "CellState", "_ID": {"offset": 0, "table": 0}, "key": "a", "day": 7, "n_cells": None,
            "load_id": "x"}
    got = spec.shape(pd.DataFrame({"n": [None, float("nan"), node], "m": [None, {"day": 7}, {"_LABEL": "x"}],
                                   "s": ["a", None, "b"]}))
    assert got["n"].tolist()[2] == {"day": 7, "key": "a"}  # unset and bookkeeping properties left out
    assert got["n"].tolist()[0] is None and got["n"].tolist()[1] is None
    assert got["m"].tolist()[1:] == [{"day": 7}, {"_LABEL": "x"}]
    assert got["s"].tolist() == ["a", None, "b"]


@pytest.mark.parametrize("name", ["top_changes", "pathway_flow", "network", "roles"])
def test_anchored_questions_leave_the_receiver_unlabelled(name):
    """With `-[r:SIGNALS]->(b:CellState)` Neo4j's planner paired the anchor's CellStates with every
    CellState and ran Expand(Into) per pair: top_changes at 10M edges 19M db hits, 1.5 s (unlabelled:
    Expand(All) from the anchor, 0.12 s). The test store is too small for the planner to choose that
    plan, so the text is checked for a label on the receiver end of their edge patterns."""
    text = get_query(name).text
    assert re.search(r"\[\w+:\w+\]->\(\w+:CellState\)", text) is None
    assert re.search(r"\[\w+:(SIGNALS|SUMMARY|PATHWAY_SUMMARY)\]->\(b\)", text)
