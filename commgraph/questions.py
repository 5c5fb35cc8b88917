"""The questions people ask of a study, as named Python functions.

Each helper is a one-liner over :meth:`Store.query` and the ``cypher/<name>.cypher`` file of
the same name, so a notebook, the CLI and Neo4j Browser get the same answer; the header of
each file documents every parameter (``commgraph queries`` lists them). Filters that every
signaling query shares, all optional keyword arguments:

``pathway``, ``ligand``, ``receptor``, ``interaction``, ``method``
    only edges with this value (``None``: no filter).
``significant_only=True``, ``pvalue=0.05``, ``min_score=0.0``
    count an interaction when the tool called it significant and its p-value (where the
    tool gives one) is at most ``pvalue``, and its score is at least ``min_score``.

On top, algorithms Cypher can't express portably run in networkx on a query's result:
:func:`centrality` and :func:`centrality_change` (CellChat's ``netAnalysis_computeCentrality``
and ``rankNet``, CrossTalkeR's ranking across several states). :func:`hint_for` explains an
empty answer by the parameter values the store doesn't know.

>>> import commgraph as cg
>>> from commgraph import questions as q
>>> store = cg.connect("study.lbug")                                              # doctest: +SKIP
>>> q.signaling_change(store, "MX1+ Mono", day=7, group="high")                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _schema as S
from ._hints import hint_for, state_hint

if TYPE_CHECKING:
    from .stores import Store

__all__ = [
    "cell_composition",
    "centrality",
    "centrality_change",
    "dose_response",
    "hint_for",
    "interaction_catalogue",
    "lr_trajectory",
    "network",
    "partners",
    "pathway_flow",
    "roles",
    "signaling_by_day",
    "signaling_change",
    "state_hint",
    "top_changes",
]


# --- named queries ----------------------------------------------------------------------


def signaling_by_day(store: Store, cell_type: str, *, direction: str = "out", **filters: Any) -> pd.DataFrame:
    """A cell type's outgoing (``direction="out"``) or incoming (``"in"``) signaling per day and group.

    Columns: day, group, n_interactions, n_partners, n_runs, total_score, mean_score.
    Filters: group, partner, pathway, ligand, receptor, interaction, method and the shared ones.

    >>> signaling_by_day(store, "MX1+ Mono", group="high")                         # doctest: +SKIP
    >>> signaling_by_day(store, "Treg", direction="in", ligand="CD86")             # doctest: +SKIP
    """
    return store.query("signaling_by_day", cell_type=cell_type, direction=direction, **filters)


def partners(store: Store, cell_type: str, *, day: int, group: str = S.NO_GROUP, direction: str = "out",
             **filters: Any) -> pd.DataFrame:
    """Whom a cell type signals to (``"out"``) or hears from (``"in"``) on one day and group.

    One row per partner and interaction: ligand, receptor, pathway, score (mean over the runs
    that show it), pvalue (the largest of theirs), n_runs; strongest first.

    >>> partners(store, "MX1+ Mono", day=7, group="high")                          # doctest: +SKIP
    """
    return store.query("partners", cell_type=cell_type, day=day, group=group, direction=direction, **filters)


def signaling_change(store: Store, cell_type: str, *, day: int, group: str = S.NO_GROUP, baseline: int = 0,
                     direction: str = "out", **filters: Any) -> pd.DataFrame:
    """Day ``day`` against ``baseline`` within a group, per partner and interaction.

    ``status`` is gained (only on ``day``), lost (only on ``baseline``), up, down or unchanged;
    ``baseline_score`` and ``score`` are mean scores (null where absent), ``delta = score -
    baseline_score`` with a missing side as 0 (so a gained pair's delta is its score, a lost
    pair's minus its baseline score), ``log2fc = log2((score + pseudocount) / (baseline_score +
    pseudocount))`` (for gained and lost pairs this mostly reflects the pseudocount). Extra keywords: ``pseudocount=0.001``, ``fold_change=1.5`` (the least fold
    change that counts as up or down), and every filter.

    >>> signaling_change(store, "MX1+ Mono", day=7, group="high")                   # doctest: +SKIP
    >>> signaling_change(store, "Treg", day=7, group="high", direction="in", ligand="CD86")  # doctest: +SKIP
    """
    return store.query("signaling_change", cell_type=cell_type, day=day, group=group, baseline=baseline,
                       direction=direction, **filters)


def top_changes(store: Store, *, day: int, group: str = S.NO_GROUP, baseline: int = 0, limit: int = 20,
                **filters: Any) -> pd.DataFrame:
    """The largest changes of the whole network between ``baseline`` and ``day`` in one group.

    Ranked by the size of the change, |delta|, then |log2fc|: the log2fc of a gained or lost
    pair is ``log2((score + pseudocount) / pseudocount)``, set by the pseudocount rather than
    by the data, so ranking by it would put every faint appearance first.
    ``status="gained"`` (or lost, up, down) keeps one kind.

    >>> top_changes(store, day=7, group="high", limit=10)                           # doctest: +SKIP
    """
    return store.query("top_changes", day=day, group=group, baseline=baseline, limit=limit, **filters)


def lr_trajectory(store: Store, ligand: str | None = None, receptor: str | None = None, *,
                  interaction: str | None = None, **filters: Any) -> pd.DataFrame:
    """One ligand–receptor pair across every day and group, per sender and receiver.

    Every inferred edge counts by default (``significant_only=False``); n_significant says
    how many were significant. Narrow with ``sender=``, ``receiver=``, ``group=``.

    >>> lr_trajectory(store, "ICAM1", "ITGAL_ITGB2", sender="MX1+ Mono")            # doctest: +SKIP
    >>> lr_trajectory(store, interaction="CD86^CTLA4", receiver="Treg")            # doctest: +SKIP
    """
    return store.query("lr_trajectory", ligand=ligand, receptor=receptor, interaction=interaction, **filters)


def pathway_flow(store: Store, **filters: Any) -> pd.DataFrame:
    """Information flow (summed significant score) per pathway, day and group, and its share.

    >>> pathway_flow(store, group="high", sender="MX1+ Mono")                       # doctest: +SKIP
    """
    return store.query("pathway_flow", **filters)


def dose_response(store: Store, cell_type: str, *, day: int, baseline: int = 0, direction: str = "out",
                  **filters: Any) -> pd.DataFrame:
    """How a cell type's signaling on ``day`` differs from ``baseline`` in each dose group.

    Per group: n_baseline, n_day (significant interactions), baseline_score, score (total
    scores), delta and log2fc (``pseudocount=0.001``).

    >>> dose_response(store, "MX1+ Mono", day=7)                                    # doctest: +SKIP
    """
    return store.query("dose_response", cell_type=cell_type, day=day, baseline=baseline, direction=direction,
                       **filters)


def roles(store: Store, **filters: Any) -> pd.DataFrame:
    """Senders and receivers per day and group: out/in strength, out/in degree, n_out/n_in.

    >>> roles(store, group="high", day=7)                                           # doctest: +SKIP
    """
    return store.query("roles", **filters)


def network(store: Store, **filters: Any) -> pd.DataFrame:
    """The aggregated cell-type network: per day, group, sender and receiver, n_interactions,
    total_score and mean_score (CellChat's count and weight matrices, as an edge list).

    >>> network(store, day=7, group="high", pathway="ICAM")                          # doctest: +SKIP
    """
    return store.query("network", **filters)


def cell_composition(store: Store, **filters: Any) -> pd.DataFrame:
    """Cell counts and fractions per cell type, group and day (``cell_type=``, ``day=``, ``group=``).

    >>> cell_composition(store, cell_type="MX1+ Mono")                              # doctest: +SKIP
    """
    return store.query("cell_composition", **filters)


def interaction_catalogue(store: Store, interaction: str | None = None, **filters: Any) -> pd.DataFrame:
    """What the store knows of interactions and where live runs show them.

    Select by ``interaction``, ``ligand``, ``receptor``, ``gene`` (a subunit) or ``pathway``.

    >>> interaction_catalogue(store, "ICAM1^ITGAL_ITGB2")                            # doctest: +SKIP
    >>> interaction_catalogue(store, gene="ITGB2")                                  # doctest: +SKIP
    """
    return store.query("interaction_catalogue", interaction=interaction, **filters)


# --- networkx ---------------------------------------------------------------------------

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
    edges = network(store, **({S.GROUP: group} if group is not None else {}), **filters)
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
