"""The named queries' questions answered with pandas over the flat canonical table.

This is the notebook user's alternative: hold the table in memory (strings as categoricals,
as parsers hand them over) and filter-and-groupby. Each function takes the same parameters as
``cypher/<name>.cypher`` (only those the benchmark uses, with the queries' defaults) and
returns the same columns. They filter on the anchor first (cheap categorical comparisons),
then apply the significance rule, then group with ``observed=True``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from commgraph import _schema as S

SRC, DST = S.SOURCE, S.TARGET


def _keep(t: pd.DataFrame, *, pvalue=0.05, significant_only=True, min_score=0.0) -> pd.DataFrame:
    m = np.ones(len(t), dtype=bool)
    if min_score is not None:
        m &= (t[S.SCORE] >= min_score).to_numpy()
    if significant_only:
        p = t[S.PVALUE]
        ok = p.isna() | (p <= pvalue) if pvalue is not None else pd.Series(True, index=t.index)
        m &= (t[S.SIGNIFICANT] & ok).to_numpy()
    return t[m]


def _eq(t: pd.DataFrame, col: str, value) -> np.ndarray:
    return (t[col] == value).to_numpy()


def _str(df: pd.DataFrame, cols) -> pd.DataFrame:
    """Categorical keys back to plain strings (small frames only)."""
    for c in cols:
        if c in df.columns and isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str)
    return df


def signaling_by_day(t, *, cell_type, direction="out", **_):
    me, other = (SRC, DST) if direction == "out" else (DST, SRC)
    e = _keep(t[_eq(t, me, cell_type)])
    g = e.groupby([S.DAY, S.GROUP], observed=True, sort=False).agg(
        n_interactions=(S.SCORE, "size"), n_partners=(other, "nunique"), n_runs=(S.RUN_ID, "nunique"),
        total_score=(S.SCORE, "sum"), mean_score=(S.SCORE, "mean")).reset_index()
    return _str(g, [S.GROUP]).sort_values([S.DAY, S.GROUP], kind="mergesort").reset_index(drop=True)


def partners(t, *, cell_type, day, group="all", direction="out", **_):
    me, other = (SRC, DST) if direction == "out" else (DST, SRC)
    e = _keep(t[_eq(t, me, cell_type) & (t[S.DAY] == day).to_numpy() & _eq(t, S.GROUP, group)])
    e = _str(e.assign(partner=e[other]), ["partner", S.PATHWAY])
    g = e.groupby(["partner", S.INTERACTION, S.LIGAND, S.RECEPTOR], observed=True, sort=False).agg(
        pathway=(S.PATHWAY, "min"), score=(S.SCORE, "mean"), pvalue=(S.PVALUE, "max"),
        n_runs=(S.RUN_ID, "nunique")).reset_index()
    g = _str(g, [S.INTERACTION, S.LIGAND, S.RECEPTOR])
    return g.sort_values(["score", "partner", S.INTERACTION], ascending=[False, True, True],
                         kind="mergesort").reset_index(drop=True)


def _change(e, keys, day, baseline, pseudocount=0.001, fold_change=1.5):
    e = _str(e, [S.PATHWAY])
    grp = e.groupby(keys, observed=True, sort=False)
    pw = grp[S.PATHWAY].min()
    d = e[S.DAY].to_numpy()
    m0 = e[d == baseline].groupby(keys, observed=True, sort=False)[S.SCORE].mean().rename("baseline_score")
    m1 = e[d == day].groupby(keys, observed=True, sort=False)[S.SCORE].mean().rename("score")
    out = pd.concat([pw, m0, m1], axis=1).reset_index()
    s0, s1 = out["baseline_score"].fillna(0.0), out["score"].fillna(0.0)
    out["log2fc"] = np.log2((s1 + pseudocount) / (s0 + pseudocount))
    out["delta"] = s1 - s0
    thr = math.log2(fold_change)
    out["status"] = np.select([out["baseline_score"].isna(), out["score"].isna(), out["log2fc"] >= thr,
                               out["log2fc"] <= -thr], ["gained", "lost", "up", "down"], "unchanged")
    return _str(out, keys)


def signaling_change(t, *, cell_type, day, group="all", baseline=0, direction="out", **_):
    me, other = (SRC, DST) if direction == "out" else (DST, SRC)
    m = _eq(t, me, cell_type) & _eq(t, S.GROUP, group) & t[S.DAY].isin([day, baseline]).to_numpy()
    e = _keep(t[m])
    e = e.assign(partner=e[other])
    out = _change(e, ["partner", S.INTERACTION, S.LIGAND, S.RECEPTOR], day, baseline)
    cols = ["partner", S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY, "status", "baseline_score", "score", "delta",
            "log2fc"]
    return out[cols].sort_values(["partner", S.INTERACTION], kind="mergesort").reset_index(drop=True)


def top_changes(t, *, day, group="all", baseline=0, limit=20, sender=None, **_):
    m = _eq(t, S.GROUP, group) & t[S.DAY].isin([day, baseline]).to_numpy()
    if sender is not None:
        m &= _eq(t, SRC, sender)
    e = _keep(t[m]).rename(columns={SRC: "sender", DST: "receiver"})
    out = _change(e, ["sender", "receiver", S.INTERACTION, S.LIGAND, S.RECEPTOR], day, baseline)
    out = out[out["status"] != "unchanged"]
    # as cypher/top_changes.cypher ranks: |delta| first, then |log2fc|
    out = out.assign(_a=out["log2fc"].abs(), _d=out["delta"].abs()).sort_values(
        ["_d", "_a", "sender", "receiver", S.INTERACTION], ascending=[False, False, True, True, True], kind="mergesort")
    cols = ["sender", "receiver", S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY, "status", "baseline_score", "score",
            "delta", "log2fc"]
    return out[cols].head(limit).reset_index(drop=True)


def dose_response(t, *, cell_type, day, baseline=0, direction="out", pseudocount=0.001, **_):
    me = SRC if direction == "out" else DST
    e = _keep(t[_eq(t, me, cell_type) & t[S.DAY].isin([day, baseline]).to_numpy()])
    d = e[S.DAY].to_numpy()
    g = pd.DataFrame({
        "n_baseline": e[d == baseline].groupby(S.GROUP, observed=True).size(),
        "n_day": e[d == day].groupby(S.GROUP, observed=True).size(),
        "baseline_score": e[d == baseline].groupby(S.GROUP, observed=True)[S.SCORE].sum(),
        "score": e[d == day].groupby(S.GROUP, observed=True)[S.SCORE].sum(),
    }).fillna(0)
    g.index = g.index.astype(str)
    g = g.reset_index(names=S.GROUP)
    g[["n_baseline", "n_day"]] = g[["n_baseline", "n_day"]].astype("int64")
    g["delta"] = g["score"] - g["baseline_score"]
    g["log2fc"] = np.log2((g["score"] + pseudocount) / (g["baseline_score"] + pseudocount))
    return g.sort_values(S.GROUP, kind="mergesort").reset_index(drop=True)


def roles(t, *, day=None, group=None, cell_type=None, **_):
    m = np.ones(len(t), dtype=bool)
    if day is not None:
        m &= (t[S.DAY] == day).to_numpy()
    if group is not None:
        m &= _eq(t, S.GROUP, group)
    if cell_type is not None:
        m &= _eq(t, SRC, cell_type) | _eq(t, DST, cell_type)
    e = _keep(t[m])
    keys = [S.DAY, S.GROUP, "cell_type"]
    out = e.rename(columns={SRC: "cell_type"}).groupby(keys, observed=True).agg(
        out_strength=(S.SCORE, "sum"), out_degree=(DST, "nunique"), n_out=(S.SCORE, "size"))
    inn = e.rename(columns={DST: "cell_type"}).groupby(keys, observed=True).agg(
        in_strength=(S.SCORE, "sum"), in_degree=(SRC, "nunique"), n_in=(S.SCORE, "size"))
    g = out.join(inn, how="outer").fillna(0).reset_index()
    g = _str(g, [S.GROUP, "cell_type"])
    if cell_type is not None:
        g = g[g["cell_type"] == cell_type]
    for c in ("out_degree", "in_degree", "n_out", "n_in"):
        g[c] = g[c].astype("int64")
    cols = keys + ["out_strength", "in_strength", "out_degree", "in_degree", "n_out", "n_in"]
    return g[cols].sort_values(keys, kind="mergesort").reset_index(drop=True)


def network(t, *, day=None, group=None, sender=None, receiver=None, **_):
    m = np.ones(len(t), dtype=bool)
    for col, v in ((S.GROUP, group), (SRC, sender), (DST, receiver)):
        if v is not None:
            m &= _eq(t, col, v)
    if day is not None:
        m &= (t[S.DAY] == day).to_numpy()
    e = _keep(t[m])
    g = e.groupby([S.DAY, S.GROUP, SRC, DST], observed=True, sort=False).agg(
        n_interactions=(S.SCORE, "size"), total_score=(S.SCORE, "sum"), mean_score=(S.SCORE, "mean")).reset_index()
    g = _str(g.rename(columns={SRC: "sender", DST: "receiver"}), [S.GROUP, "sender", "receiver"])
    return g.sort_values([S.DAY, S.GROUP, "sender", "receiver"], kind="mergesort").reset_index(drop=True)


def pathway_flow(t, *, group=None, day=None, sender=None, receiver=None, pathway=None, **_):
    m = np.ones(len(t), dtype=bool)
    for col, v in ((S.GROUP, group), (SRC, sender), (DST, receiver), (S.PATHWAY, pathway)):
        if v is not None:
            m &= _eq(t, col, v)
    if day is not None:
        m &= (t[S.DAY] == day).to_numpy()
    e = _keep(t[m])
    g = e.groupby([S.PATHWAY, S.GROUP, S.DAY], observed=True, sort=False).agg(
        n_interactions=(S.SCORE, "size"), flow=(S.SCORE, "sum")).reset_index()
    total = g.groupby([S.GROUP, S.DAY], observed=True)["flow"].transform("sum")
    g["share"] = (g["flow"] / total).where(total > 0)
    g = _str(g, [S.PATHWAY, S.GROUP])
    return g.sort_values([S.PATHWAY, S.GROUP, S.DAY], kind="mergesort").reset_index(drop=True)


def lr_trajectory(t, *, ligand=None, receptor=None, interaction=None, sender=None, receiver=None, pvalue=0.05,
                  significant_only=False, min_score=0.0, **_):
    m = np.ones(len(t), dtype=bool)
    for col, v in ((S.LIGAND, ligand), (S.RECEPTOR, receptor), (S.INTERACTION, interaction), (SRC, sender),
                   (DST, receiver)):
        if v is not None:
            m &= _eq(t, col, v)
    e = _keep(t[m], pvalue=pvalue, significant_only=significant_only, min_score=min_score)
    p = e[S.PVALUE]
    e = e.assign(_sig=e[S.SIGNIFICANT] & (p.isna() | (p <= pvalue)))
    g = e.groupby([S.INTERACTION, SRC, DST, S.GROUP, S.DAY], observed=True, sort=False).agg(
        n_runs=(S.RUN_ID, "nunique"), n_significant=("_sig", "sum"), mean_score=(S.SCORE, "mean"),
        max_score=(S.SCORE, "max"), min_pvalue=(S.PVALUE, "min")).reset_index()
    g = _str(g.rename(columns={SRC: "sender", DST: "receiver"}), [S.INTERACTION, "sender", "receiver", S.GROUP])
    return g.sort_values([S.INTERACTION, "sender", "receiver", S.GROUP, S.DAY], kind="mergesort").reset_index(drop=True)


def cell_composition(t, *, counts: pd.DataFrame, cell_type=None, day=None, group=None, **_):
    # a CellState holds the pooled cells of its day × group: per-sample counts add up first
    c = counts.groupby([S.CELL_TYPE_PROP, S.DAY, S.GROUP], as_index=False, sort=False)[S.N_CELLS].sum()
    c[S.FRACTION] = c[S.N_CELLS] / c.groupby([S.DAY, S.GROUP])[S.N_CELLS].transform("sum")
    for col, v in ((S.CELL_TYPE_PROP, cell_type), (S.DAY, day), (S.GROUP, group)):
        if v is not None:
            c = c[c[col] == v]
    cols = [S.CELL_TYPE_PROP, S.GROUP, S.DAY, S.N_CELLS, S.FRACTION]
    return c[cols].sort_values([S.CELL_TYPE_PROP, S.GROUP, S.DAY], kind="mergesort").reset_index(drop=True)


def _genes(names: pd.Series) -> list[list[str]]:
    """Sorted subunit genes of each ligand or receptor, as the store holds them (``subunit_genes``:
    complexes split at "_", small molecules' enzymes from their parentheses)."""
    memo = {v: sorted(S.subunit_genes(v)) for v in pd.unique(names)}
    return [memo[v] for v in names]


def interaction_catalogue(t, *, interaction=None, pvalue=0.05, **_):
    e = t[_eq(t, S.INTERACTION, interaction)] if interaction is not None else t
    p = e[S.PVALUE]
    e = e.assign(_sig=e[S.SIGNIFICANT] & (p.isna() | (p <= pvalue)))
    g = e.groupby([S.INTERACTION, S.GROUP, S.DAY], observed=True, sort=False).agg(
        n_runs=(S.RUN_ID, "nunique"), n_pairs=(S.SCORE, "size"), n_significant=("_sig", "sum"),
        max_score=(S.SCORE, "max")).reset_index()
    first = e.drop_duplicates(S.INTERACTION)[[S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY]]
    g = _str(g.merge(first, on=S.INTERACTION, how="left"), [S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY, S.GROUP])
    g["annotation"] = None
    g["ligand_genes"] = _genes(g[S.LIGAND])
    g["receptor_genes"] = _genes(g[S.RECEPTOR])
    g = g.rename(columns={S.INTERACTION: "interaction"})
    cols = ["interaction", S.LIGAND, S.RECEPTOR, S.PATHWAY, "annotation", "ligand_genes", "receptor_genes", S.GROUP,
            S.DAY, "n_runs", "n_pairs", "n_significant", "max_score"]
    return g[cols].sort_values(["interaction", S.GROUP, S.DAY], kind="mergesort").reset_index(drop=True)


QUERIES = {
    "signaling_by_day": signaling_by_day,
    "partners": partners,
    "signaling_change": signaling_change,
    "top_changes": top_changes,
    "dose_response": dose_response,
    "roles": roles,
    "network": network,
    "pathway_flow": pathway_flow,
    "lr_trajectory": lr_trajectory,
    "cell_composition": cell_composition,
    "interaction_catalogue": interaction_catalogue,
}


def agree(got: pd.DataFrame, want: pd.DataFrame, *, rel: float = 1e-6) -> str:
    """'yes' when both answers have the same columns and rows (numbers within ``rel``,
    compared after sorting each column), else what differs."""
    if list(got.columns) != list(want.columns):
        return f"columns differ: {list(got.columns)} vs {list(want.columns)}"
    if len(got) != len(want):
        return f"{len(got)} rows vs {len(want)} from pandas"
    for c in want.columns:
        a, b = got[c], want[c]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            x = np.sort(pd.to_numeric(a, errors="coerce").to_numpy(dtype=float))
            y = np.sort(pd.to_numeric(b, errors="coerce").to_numpy(dtype=float))
            if not np.allclose(x, y, rtol=rel, atol=1e-9, equal_nan=True):
                return f"column {c} differs"
        else:
            x = sorted(map(_norm, a.tolist()))
            y = sorted(map(_norm, b.tolist()))
            if x != y:
                return f"column {c} differs"
    return "yes"


def _norm(v) -> str:
    if isinstance(v, (list, tuple, np.ndarray)):
        return "|".join(map(str, v))
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "<null>"
    return str(v)
