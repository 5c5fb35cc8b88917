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

import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _schema as S

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

    ``status`` is gained, lost, up, down or unchanged; ``baseline_score`` and ``score`` are mean
    scores (null where absent), ``log2fc = log2((score + pseudocount) / (baseline_score +
    pseudocount))``. Extra keywords: ``pseudocount=0.001``, ``fold_change=1.5`` (the least fold
    change that counts as up or down), and every filter.

    >>> signaling_change(store, "MX1+ Mono", day=7, group="high")                   # doctest: +SKIP
    >>> signaling_change(store, "Treg", day=7, group="high", direction="in", ligand="CD86")  # doctest: +SKIP
    """
    return store.query("signaling_change", cell_type=cell_type, day=day, group=group, baseline=baseline,
                       direction=direction, **filters)


def top_changes(store: Store, *, day: int, group: str = S.NO_GROUP, baseline: int = 0, limit: int = 20,
                **filters: Any) -> pd.DataFrame:
    """The largest changes of the whole network between ``baseline`` and ``day`` in one group.

    Ranked by |log2fc|, then |delta|; ``status="gained"`` (or lost, up, down) keeps one kind.

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


# --- hints for empty answers ------------------------------------------------------------

_PATHWAYS = f"MATCH (p:{S.PATHWAY_NODE}) RETURN p.{S.NAME} AS {S.NAME} ORDER BY {S.NAME}"
_INTERACTIONS = (
    f"MATCH (i:{S.INTERACTION_NODE}) RETURN i.{S.NAME} AS {S.INTERACTION}, i.{S.LIGAND} AS {S.LIGAND}, "
    f"i.{S.RECEPTOR} AS {S.RECEPTOR} ORDER BY {S.INTERACTION}"
)
_GENES = f"MATCH (g:{S.GENE}) RETURN g.{S.SYMBOL} AS {S.SYMBOL} ORDER BY {S.SYMBOL}"
_METHODS = f"MATCH (run:{S.RUN}) RETURN DISTINCT run.{S.METHOD} AS {S.METHOD} ORDER BY {S.METHOD}"

CELL_TYPE_PARAMS = ("cell_type", "sender", "receiver", "partner")
DAY_PARAMS = ("day", "baseline")
DIRECTIONS = ("out", "in")
MAX_LISTED = 20


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _unknown(kind: str, param: str, value: Any, known: list) -> str:
    msg = f"no {kind} {_show(value)} (${param}) in the store"
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=3) if isinstance(value, str) else []
    if close:
        msg += f"; did you mean {' or '.join(repr(c) for c in close)}?"
    shown = ", ".join(str(k) for k in known[:MAX_LISTED]) + (", …" if len(known) > MAX_LISTED else "")
    return msg + f" (known: {shown or 'none'})"


def hint_for(store: Store, params: Mapping[str, Any]) -> str | None:
    """Why a query may have come back empty: parameter values the store doesn't know.

    Checks ``cell_type``/``sender``/``receiver``/``partner`` against the cell types,
    ``day``/``baseline`` against the days, ``group`` against the groups, then the
    combination cell type × day × group, and ``pathway``, ``interaction``, ``ligand``,
    ``receptor``, ``gene``, ``method`` and ``direction``. Returns one message naming the
    valid values (with close matches), or None when every value is known (then the answer
    is empty because nothing passed the filters).

    >>> hint_for(store, {"cell_type": "MX1 Mono", "day": 7, "group": "high"})          # doctest: +SKIP
    "no cell type 'MX1 Mono' ($cell_type) in the store; did you mean 'MX1+ Mono'? (known: ...)"
    """
    given = {k: v for k, v in params.items() if v is not None}
    problems: list[str] = []
    if given.get("direction") is not None and given["direction"] not in DIRECTIONS:
        problems.append(f"$direction must be \"out\" or \"in\", not {_show(given['direction'])}")

    states = store.cell_states()
    cell_types = sorted(states[S.CELL_TYPE_PROP].unique().tolist()) if len(states) else []
    days = sorted(int(d) for d in states[S.DAY].unique()) if len(states) else []
    groups = sorted(states[S.GROUP].unique().tolist()) if len(states) else []
    for p in CELL_TYPE_PARAMS:
        if p in given and given[p] not in cell_types:
            problems.append(_unknown("cell type", p, given[p], cell_types))
    for p in DAY_PARAMS:
        if p in given and given[p] not in days:
            problems.append(_unknown("day", p, given[p], days))
    if S.GROUP in given and given[S.GROUP] not in groups:
        problems.append(_unknown("group", S.GROUP, given[S.GROUP], groups))
    if not problems and len(states):
        problems += _missing_states(states, given)

    if "pathway" in given:
        known = store.cypher(_PATHWAYS)
        known = known[S.NAME].tolist() if len(known) else []
        if given["pathway"] not in known:
            problems.append(_unknown("pathway", "pathway", given["pathway"], known))
    if any(p in given for p in (S.INTERACTION, S.LIGAND, S.RECEPTOR)):
        inter = store.cypher(_INTERACTIONS)
        for p in (S.INTERACTION, S.LIGAND, S.RECEPTOR):
            known = sorted(set(inter[p])) if len(inter) else []
            if p in given and given[p] not in known:
                problems.append(_unknown(p, p, given[p], known))
    if "gene" in given:
        genes = store.cypher(_GENES)
        known = genes[S.SYMBOL].tolist() if len(genes) else []
        if given["gene"] not in known:
            problems.append(_unknown("gene", "gene", given["gene"], known))
    if S.METHOD in given:
        methods = store.cypher(_METHODS)
        known = [m for m in methods[S.METHOD].tolist() if m is not None] if len(methods) else []
        if given[S.METHOD] not in known:
            problems.append(_unknown("method", S.METHOD, given[S.METHOD], known))
    return "; ".join(problems) or None


def _missing_states(states: pd.DataFrame, given: Mapping[str, Any]) -> list[str]:
    """Known cell type, day and group that never occur together."""
    out = []
    group = given.get(S.GROUP)
    for p in CELL_TYPE_PARAMS:
        if p not in given:
            continue
        mine = states[states[S.CELL_TYPE_PROP] == given[p]]
        if group is not None:
            mine = mine[mine[S.GROUP] == group]
            if mine.empty:
                have = sorted(states.loc[states[S.CELL_TYPE_PROP] == given[p], S.GROUP].unique())
                out.append(f"{given[p]!r} has no cell state in group {group!r} (its groups: {', '.join(have)})")
                continue
        for d in DAY_PARAMS:
            if d in given and given[d] not in set(mine[S.DAY]):
                where = f" in group {group!r}" if group is not None else ""
                have = ", ".join(str(int(x)) for x in sorted(mine[S.DAY].unique()))
                out.append(f"{given[p]!r} has no cell state on day {given[d]}{where} (its days: {have})")
    if not out and group is not None:
        in_group = states[states[S.GROUP] == group]
        for d in DAY_PARAMS:
            if d in given and given[d] not in set(in_group[S.DAY]):
                have = ", ".join(str(int(x)) for x in sorted(in_group[S.DAY].unique()))
                out.append(f"group {group!r} has no day {given[d]} (its days: {have})")
    return out
