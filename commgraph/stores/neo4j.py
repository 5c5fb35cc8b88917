"""Neo4j 5 server store, through the official driver (with neo4j-rust-ext for encoding).

Loading follows the visibility rule in ``_base``: new SIGNALS edges are CREATEd in batches
of column lists under a fresh ``load_id``; one small transaction then points the Run node at
that ``load_id``; stale edges (a replaced load, or one a killed client left behind) are
deleted in batches. Re-running an interrupted load therefore gives the same graph.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as S
from .._graph import FROM, SIGNAL_COLUMNS, TO, GraphFrames, next_edges, node_columns
from .._progress import track
from ..errors import StoreError
from ._base import CELL_STATES, Store

BATCH = 20_000
MIN_VERSION = 5

# what the named queries filter or delete on; created idempotently on connect
INDEXES = [
    f"CREATE INDEX cellstate_type IF NOT EXISTS FOR (n:{S.CELL_STATE}) ON (n.{S.CELL_TYPE_PROP})",
    f"CREATE INDEX cellstate_day_group IF NOT EXISTS FOR (n:{S.CELL_STATE}) ON (n.{S.DAY}, n.`{S.GROUP}`)",
    f"CREATE INDEX signals_run IF NOT EXISTS FOR ()-[r:{S.SIGNALS}]-() ON (r.{S.RUN_ID})",
    f"CREATE INDEX signals_interaction IF NOT EXISTS FOR ()-[r:{S.SIGNALS}]-() ON (r.{S.INTERACTION})",
]


def _constraints() -> list[str]:
    return [
        f"CREATE CONSTRAINT {t.label.lower()}_key IF NOT EXISTS FOR (n:{t.label}) REQUIRE n.`{t.key}` IS UNIQUE"
        for t in S.NODE_TABLES
    ]


def _create_signals() -> str:
    props = ", ".join(f"`{n}`: ${n}[i]" for n, _ in S.SIGNALS_PROPERTIES)
    return (
        f"UNWIND range(0, size(${FROM}) - 1) AS i "
        f"MATCH (a:{S.CELL_STATE} {{{S.KEY_PROP}: ${FROM}[i]}}) "
        f"MATCH (b:{S.CELL_STATE} {{{S.KEY_PROP}: ${TO}[i]}}) "
        f"CREATE (a)-[:{S.SIGNALS} {{{props}}}]->(b)"
    )


CREATE_SIGNALS = _create_signals()
DELETE_STALE = (
    f"MATCH ()-[r:{S.SIGNALS}]->() WHERE r.{S.RUN_ID} = $run_id AND ($keep IS NULL OR r.{S.LOAD_ID} <> $keep) "
    f"WITH r LIMIT $batch DELETE r RETURN count(*) AS n"
)


def _column_lists(frame: pd.DataFrame) -> dict[str, list]:
    """Columns as plain lists with None for missing (numpy NaN is not null to Neo4j)."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind == "f":
            arr = col.to_numpy(dtype=float)
            out[c] = [None if np.isnan(v) else v for v in arr.tolist()] if np.isnan(arr).any() else arr.tolist()
        elif col.dtype.kind == "b":
            out[c] = col.to_numpy(dtype=bool).tolist()
        else:
            out[c] = [None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v for v in col.tolist()]
    return out


def _rows(frame: pd.DataFrame) -> list[dict]:
    cols = _column_lists(frame)
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())] if len(frame) else []


class Neo4jStore(Store):
    def __init__(self, uri: str, *, user: str | None = None, password: str | None = None, database: str | None = None,
                 progress: bool = True):
        import neo4j
        from neo4j.exceptions import AuthError, ServiceUnavailable

        self.uri = uri
        self.database = database or os.environ.get("NEO4J_DATABASE", "neo4j")
        self.progress = progress
        user = user or os.environ.get("NEO4J_USER", "neo4j")
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
        if password is None:
            raise StoreError(f"no password for {uri}: set NEO4J_PASSWORD or pass --password")
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password), notifications_min_severity="OFF")
            self._driver.verify_connectivity()
        except AuthError:
            raise StoreError(f"Neo4j at {uri} refused user {user!r}: wrong user or password") from None
        except (ServiceUnavailable, OSError) as ex:
            raise StoreError(f"no Neo4j server answers at {uri} ({type(ex).__name__}); is it running?") from None
        except ValueError as ex:
            raise StoreError(f"bad Neo4j URI {uri!r}: {ex}") from None
        comp = self.cypher("CALL dbms.components() YIELD name, versions, edition RETURN versions[0] AS v, edition")
        self.version, self.edition = str(comp["v"][0]), str(comp["edition"][0])
        if int(self.version.split(".")[0]) < MIN_VERSION:
            self.close()
            raise StoreError(f"Neo4j {self.version} at {uri} is too old: commgraph needs Neo4j {MIN_VERSION} or newer")
        for stmt in _constraints() + INDEXES:
            self._run(stmt)

    # --- plumbing -----------------------------------------------------------------------
    def cypher(self, text: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        import neo4j

        return self._driver.execute_query(
            text, parameters_=parameters or {}, database_=self.database, result_transformer_=neo4j.Result.to_df
        )

    def _run(self, text: str, parameters: dict[str, Any] | None = None):
        records, _, _ = self._driver.execute_query(text, parameters_=parameters or {}, database_=self.database)
        return records

    def _live_load(self, run_id: str) -> str | None:
        got = self._run(f"MATCH (run:{S.RUN} {{{S.RUN_ID}: $id}}) RETURN run.{S.LOAD_ID} AS l", {"id": run_id})
        return got[0]["l"] if got else None

    def _sweep(self, run_id: str, keep: str | None) -> None:
        """Delete the run's edges that are not of load ``keep`` (all of them when None)."""
        while self._run(DELETE_STALE, {"run_id": run_id, "keep": keep, "batch": BATCH})[0]["n"]:
            pass

    # --- writing ------------------------------------------------------------------------
    def _write(self, frames: GraphFrames) -> None:
        for run_id in frames.runs[S.RUN_ID]:
            self._sweep(run_id, self._live_load(run_id))  # leftovers of an interrupted load
        for label, frame in frames.nodes().items():
            key = S.NODE_TABLE[label].key
            # counts are set after the switch, with the run they belong to
            cols = [c for c in node_columns(label) if c not in (S.N_CELLS, S.FRACTION)]
            rows = _rows(frame[cols])
            for i in range(0, len(rows), BATCH):
                self._run(
                    f"UNWIND $rows AS row MERGE (n:{label} {{`{key}`: row.`{key}`}}) ON CREATE SET n = row",
                    {"rows": rows[i : i + BATCH]},
                )
        for rel, frame in frames.rels().items():
            r = S.REL_TABLE[rel]
            ks, kt = S.NODE_TABLE[r.source].key, S.NODE_TABLE[r.target].key
            rows = _rows(frame)
            for i in range(0, len(rows), BATCH):
                self._run(
                    f"UNWIND $rows AS row MATCH (a:{r.source} {{`{ks}`: row.`{FROM}`}}) "
                    f"MATCH (b:{r.target} {{`{kt}`: row.`{TO}`}}) MERGE (a)-[:{rel}]->(b)",
                    {"rows": rows[i : i + BATCH]},
                )
        sig = frames.signals[SIGNAL_COLUMNS]
        starts = range(0, len(sig), BATCH)
        for i in track(starts, description=f"Neo4j: {len(sig):,} SIGNALS", show=self.progress and len(starts) > 1):
            self._run(CREATE_SIGNALS, _column_lists(sig.iloc[i : i + BATCH]))
        # the switch: one small transaction makes every run of this load visible at once
        self._run(
            f"UNWIND $rows AS row MERGE (run:{S.RUN} {{{S.RUN_ID}: row.{S.RUN_ID}}}) SET run = row",
            {"rows": _rows(frames.runs)},
        )
        if len(frames.counted_states):
            self._run(
                f"UNWIND $rows AS row MATCH (s:{S.CELL_STATE} {{{S.KEY_PROP}: row.{S.KEY_PROP}}}) "
                f"SET s.{S.N_CELLS} = row.{S.N_CELLS}, s.{S.FRACTION} = row.{S.FRACTION}",
                {"rows": _rows(frames.counted_states)},
            )
        for run_id in frames.runs[S.RUN_ID]:
            self._sweep(run_id, frames.load_id)
        self._rebuild_next()

    def _rebuild_next(self) -> None:
        nxt = next_edges(self.cypher(CELL_STATES))
        self._driver.execute_query(
            f"MATCH ()-[n:{S.NEXT}]->() DELETE n", database_=self.database
        )
        self._run(
            f"UNWIND $rows AS row MATCH (a:{S.CELL_STATE} {{{S.KEY_PROP}: row.`{FROM}`}}) "
            f"MATCH (b:{S.CELL_STATE} {{{S.KEY_PROP}: row.`{TO}`}}) CREATE (a)-[:{S.NEXT}]->(b)",
            {"rows": _rows(nxt)},
        )

    def remove_run(self, run_id: str) -> None:
        self._require_run(run_id)
        self._run(f"MATCH (run:{S.RUN} {{{S.RUN_ID}: $id}}) DELETE run", {"id": run_id})  # invisible now
        self._sweep(run_id, None)

    def clear(self) -> None:
        # relationships first: DETACH DELETE of dense nodes in one batch exhausts the tx memory
        with self._driver.session(database=self.database) as session:
            session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS").consume()
            session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self._driver.close()
