"""Stores: the embedded LadybugDB default and a Neo4j server, behind one interface."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StoreError
from ._base import Store

ENV_DB = "COMMGRAPH_DB"
DEFAULT_DB = "commgraph.lbug"
SERVER_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def connect(uri: str | os.PathLike | None = None, *, user: str | None = None, password: str | None = None,
            database: str | None = None, read_only: bool = False, create: bool = True, force_new: bool = False) -> Store:
    """Open a store: a path means the embedded LadybugDB store, ``bolt://``/``neo4j://`` a server.

    Without ``uri``, ``$COMMGRAPH_DB`` or ``./commgraph.lbug``. For a server, ``user`` and
    ``password`` default to ``$NEO4J_USER`` (``neo4j``) and ``$NEO4J_PASSWORD``. An embedded
    store is created on first use unless ``create=False`` or ``read_only=True`` (then a missing
    path is a :class:`StoreError`); one created by this call and still empty when closed (a
    load that failed) is removed again. ``force_new=True`` deletes an embedded store's file first and
    starts an empty one (the way out of a damaged store, when there is no backup to restore).

    >>> store = connect("study.lbug")                      # doctest: +SKIP
    >>> store.query("roles", day=7, group="high")          # doctest: +SKIP
    """
    target = str(uri) if uri is not None else os.environ.get(ENV_DB, DEFAULT_DB)
    if target.startswith(SERVER_SCHEMES):
        from .neo4j import Neo4jStore

        if force_new:
            raise StoreError("--force-new (force_new) starts an embedded store over; it does not apply to a Neo4j "
                             "server (Store.clear() empties a database)")
        return Neo4jStore(target, user=user, password=password, database=database, read_only=read_only)
    if "://" in target:
        raise StoreError(
            f"unsupported store URI {target!r}: use a path for the embedded store or one of "
            + ", ".join(s for s in SERVER_SCHEMES)
        )
    from .embedded import EmbeddedStore

    return EmbeddedStore(Path(target), read_only=read_only, create=create, force_new=force_new)


__all__ = ["Store", "connect", "ENV_DB", "DEFAULT_DB"]
