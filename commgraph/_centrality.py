"""Centrality of cell types in each day's aggregated network, and its change from a baseline:
what Cypher can't say portably, computed in networkx on the ``network`` query's answer
(CellChat's ``netAnalysis_computeCentrality`` and ``rankNet``, CrossTalkeR's ranking across
several states). Re-exported by :mod:`commgraph.questions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _schema as S

if TYPE_CHECKING:
    from .stores import Store

WEIGHTS = ("total_score", "n_interactions", "mean_score")
METRICS = ("pagerank", "out_strength", "in_strength", "betweenness")


def _networkx():
    try:
        import networkx
    except ImportError:  # pragma: no cover - a declared dependency
        raise ImportError("centrality needs networkx: pip install networkx") from None
    return networkx


def centrality(store: Store, *, group: str | None = None, days: Iterable[int] | None = None,
               weight: str = "total_score", **filters: Any) -> pd.DataFrame:
    """Centrality of each cell type in each day's aggregated cell-type network.

    The network of a day and group is the :func:`network` query's edge list (sender →
    receiver, weighted by ``weight``: ``total_score``, ``n_interactions`` or ``mean_score``;
    ``filters`` go to that query, e.g. ``pathway="ICAM"``). Per cell type × day:

    - ``pagerank``: weighted PageRank (who receives from important senders),
    - ``out_strength`` / ``in_strength``: summed weight sent / received (self-signaling in both),
    - ``betweenness``: normalised betweenness with distance = 1 / weight (a strong edge is short).

    Columns: group, day, cell_type, pagerank, out_strength, in_strength, betweenness.
    A cell type without a surviving edge on a day has no row for it.

    >>> centrality(store, group="high")                                             # doctest: +SKIP
    """
    if weight not in WEIGHTS:
        raise ValueError(f"weight must be one of {', '.join(WEIGHTS)}, not {weight!r}")
    edges = store.query("network", **({S.GROUP: group} if group is not None else {}), **filters)
    if days is not None:
        edges = edges[edges[S.DAY].isin(list(days))]
    rows = [
        row
        for (grp, day), part in edges.groupby([S.GROUP, S.DAY], sort=True)
        for row in _centrality_rows(part, weight, grp, int(day))
    ]
    cols = [S.GROUP, S.DAY, S.CELL_TYPE_PROP, *METRICS]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values([S.GROUP, S.DAY, S.CELL_TYPE_PROP], ignore_index=True)


def _centrality_rows(edges: pd.DataFrame, weight: str, group: str, day: int) -> list[dict]:
    nx = _networkx()
    g = nx.DiGraph()
    for src, dst, w in zip(edges["sender"], edges["receiver"], edges[weight].astype(float)):
        g.add_edge(src, dst, weight=w, distance=(1.0 / w) if w > 0 else float("inf"))
    # PageRank and paths only over positive weights (a score can be negative with min_score=None)
    pos = nx.DiGraph()
    pos.add_nodes_from(g)
    pos.add_edges_from((u, v, d) for u, v, d in g.edges(data=True) if d["weight"] > 0)
    pagerank = nx.pagerank(pos, weight="weight") if pos.number_of_edges() else {n: 1.0 / len(g) for n in g}
    betweenness = nx.betweenness_centrality(pos, weight="distance", normalized=True)
    out_s = dict(g.out_degree(weight="weight"))
    in_s = dict(g.in_degree(weight="weight"))
    return [
        {S.GROUP: group, S.DAY: day, S.CELL_TYPE_PROP: n, "pagerank": pagerank[n], "out_strength": float(out_s[n]),
         "in_strength": float(in_s[n]), "betweenness": betweenness[n]}
        for n in g.nodes
    ]


def centrality_change(store: Store, *, group: str | None = None, baseline: int = 0,
                      days: Iterable[int] | None = None, weight: str = "total_score",
                      **filters: Any) -> pd.DataFrame:
    """How each cell type's centrality moves from ``baseline`` to every other day, per group.

    Long format, one row per group, cell type, day and metric (see :func:`centrality`):
    ``baseline_value``, ``value``, ``delta = value - baseline_value``. A cell type absent from
    a day's network counts 0 there. ``days`` limits the days compared (the baseline is always
    read). Rows of the baseline day itself are kept (delta 0) so a time course starts at 0.

    >>> ch = centrality_change(store, group="high")                                 # doctest: +SKIP
    >>> ch[ch.metric == "pagerank"].pivot(index="cell_type", columns="day", values="delta")  # doctest: +SKIP
    """
    wanted = None if days is None else sorted({int(d) for d in days} | {int(baseline)})
    cent = centrality(store, group=group, days=wanted, weight=weight, **filters)
    cols = [S.GROUP, S.CELL_TYPE_PROP, S.DAY, "metric", "baseline_value", "value", "delta"]
    if cent.empty:
        return pd.DataFrame(columns=cols)
    frames = []
    for grp, part in cent.groupby(S.GROUP, sort=True):
        # every cell type seen in the group, on every day of the group: absent = 0
        grid = pd.MultiIndex.from_product(
            [sorted(part[S.CELL_TYPE_PROP].unique()), sorted(part[S.DAY].unique())], names=[S.CELL_TYPE_PROP, S.DAY]
        ).to_frame(index=False)
        full = grid.merge(part[[S.CELL_TYPE_PROP, S.DAY, *METRICS]], how="left", on=[S.CELL_TYPE_PROP, S.DAY])
        full[list(METRICS)] = full[list(METRICS)].fillna(0.0)
        long = full.melt(id_vars=[S.CELL_TYPE_PROP, S.DAY], value_vars=list(METRICS), var_name="metric",
                         value_name="value")
        base = long[long[S.DAY] == baseline][[S.CELL_TYPE_PROP, "metric", "value"]]
        long = long.merge(base.rename(columns={"value": "baseline_value"}), how="left", on=[S.CELL_TYPE_PROP, "metric"])
        long["baseline_value"] = long["baseline_value"].fillna(0.0)
        long[S.GROUP] = grp
        frames.append(long)
    out = pd.concat(frames, ignore_index=True)
    out["delta"] = out["value"] - out["baseline_value"]
    order = {m: i for i, m in enumerate(METRICS)}
    out = out.sort_values([S.GROUP, S.CELL_TYPE_PROP, "metric", S.DAY], ignore_index=True,
                          key=lambda c: c.map(order) if c.name == "metric" else c)
    return out[cols]
