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

Also here, from their own modules: :func:`centrality` and :func:`centrality_change` (networkx
on a query's result, ``commgraph._centrality``) and :func:`hint_for` / :func:`state_hint`, which
explain an empty answer by the parameter values the store doesn't know (``commgraph._hints``).

>>> import commgraph as cg
>>> from commgraph import questions as q
>>> store = cg.connect("study.lbug")                                              # doctest: +SKIP
>>> q.signaling_change(store, "MX1+ Mono", day=7, group="high")                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _schema as S
from ._centrality import METRICS, WEIGHTS, centrality, centrality_change
from ._hints import hint_for, state_hint

if TYPE_CHECKING:
    from .stores import Store

__all__ = [
    "METRICS",
    "WEIGHTS",
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
