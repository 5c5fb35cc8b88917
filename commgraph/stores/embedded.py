"""The embedded default: LadybugDB, in-process, on disk.

A load is one transaction: COPY FROM DataFrames for the bulk (LadybugDB maps COPY columns by
position, so frames come in schema order), and a failed statement rolls the whole load back.
"""

from __future__ import annotations

import contextlib

from pathlib import Path
from typing import Any

import pandas as pd

from .. import _schema as S
from .._graph import FROM, TO, GraphFrames, next_edges, node_columns
from ..errors import StoreError
from ._base import (CELL_STATES, DELETE_COUNTED_IN, SAMPLES_OF_RUN, SET_COUNTS, DROP_CELL_TYPES, DROP_STATES, SHEET_DROP_MEASUREMENTS, SHEET_LINK,
                    SHEET_ORPHANS, SHEET_SET_PATIENT, SHEET_UNLINK, Store)

# rows per COPY statement; all of them still go in the load's one transaction
COPY_ROWS = 250_000


def _ddl() -> list[str]:
    out = []
    for t in S.NODE_TABLES:
        props = ", ".join(f"`{n}` {ty}" for n, ty in t.properties)
        out.append(f"CREATE NODE TABLE IF NOT EXISTS {t.label}({props}, PRIMARY KEY(`{t.key}`))")
    for r in S.REL_TABLES:
        props = "".join(f", `{n}` {ty}" for n, ty in r.properties)
        out.append(f"CREATE REL TABLE IF NOT EXISTS {r.type}(FROM {r.source} TO {r.target}{props})")
    return out


class EmbeddedStore(Store):
    """A LadybugDB database at ``path`` (created on first use)."""

    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True):
        self.path = Path(path)
        self.uri = str(self.path)
        if (read_only or not create) and not self.path.exists():
            raise StoreError(f"no store at {self.path} (load something into it first)")
        self._created = not self.path.exists()
        self._may_write = not read_only
        # An existing store opens read-only until something writes: LadybugDB rewrites the file
        # whenever a read-write handle closes, so asking questions would change it (and its checksum).
        self._open(read_only=read_only or not self._created)

    def _open(self, *, read_only: bool) -> None:
        import ladybug

        try:
            self._db = ladybug.Database(str(self.path), read_only=read_only)
        except RuntimeError as ex:
            raise StoreError(f"cannot open {self.path}: {ex}") from None
        self._conn = ladybug.Connection(self._db)
        self._order = {t.label: node_columns(t.label) for t in S.NODE_TABLES}
        self._read_only = read_only
        if not read_only:
            for stmt in _ddl():
                self._conn.execute(stmt)
            self._add_new_properties()

    def _add_new_properties(self) -> None:
        """A store made by an older commgraph lacks properties added since (Run.patient, …):
        add them, empty, so that COPY's positional columns line up."""
        for t in S.NODE_TABLES:
            have = list(self._conn.execute(f"CALL table_info('{t.label}') RETURN name").get_as_df()["name"])
            for name, type_ in t.properties:
                if name not in have:
                    self._conn.execute(f"ALTER TABLE {t.label} ADD `{name}` {type_}")
                    have.append(name)
            self._order[t.label] = have  # COPY maps by position: the table's order, not the schema's

    def _writable(self) -> None:
        """Reopen for writing before the first write (refused when opened with read_only=True)."""
        if not self._read_only:
            return
        if not self._may_write:
            raise StoreError(f"{self.path} is open read-only; connect without read_only=True to change it")
        self._conn.close()
        self._db.close()
        self._open(read_only=False)

    def cypher(self, text: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        # `group` is a reserved word in LadybugDB, so queries write that parameter $`group`;
        # LadybugDB then names it with the backticks (Neo4j without them)
        params = {(f"`{k}`" if f"$`{k}`" in text else k): v for k, v in (parameters or {}).items()}
        try:
            result = self._conn.execute(text, params)
        except RuntimeError as ex:
            if self._read_only and self._may_write and "read-only" in str(ex):
                self._writable()  # ad-hoc Cypher that writes, on a store opened for reading so far
                return self.cypher(text, parameters)
            # LadybugDB's connection caches a prepared statement per query text, and one that failed
            # at run time (LIMIT -1) keeps failing; a fresh connection prepares it anew. A failed
            # statement has already ended any open transaction, so nothing is lost.
            import ladybug

            self._conn = ladybug.Connection(self._db)
            raise
        return result.get_as_df()

    # --- writing ------------------------------------------------------------------------
    def _existing(self, label: str, keys: pd.Series) -> set:
        key = S.NODE_TABLE[label].key
        got = self.cypher(f"UNWIND $keys AS k MATCH (n:{label}) WHERE n.`{key}` = k RETURN n.`{key}` AS k", {"keys": keys.tolist()})
        return set(got["k"]) if len(got) else set()

    def _copy(self, table: str, frame: pd.DataFrame) -> None:
        """COPY a frame through Arrow (categoricals become dictionary columns, no per-row
        objects), in slices: one COPY of millions of edges needs several times the memory."""
        import pyarrow as pa

        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        for start in range(0, arrow.num_rows, COPY_ROWS):
            self._conn.execute(f"COPY {table} FROM $rows", {"rows": arrow.slice(start, COPY_ROWS)})

    @contextlib.contextmanager
    def _transaction(self):
        """One write transaction: committed when the block ends, rolled back when it raises."""
        self._writable()
        c = self._conn
        c.execute("BEGIN TRANSACTION")
        try:
            yield c
            c.execute("COMMIT")
        except BaseException:
            try:
                c.execute("ROLLBACK")
            except RuntimeError:
                pass  # a failed statement already ended the transaction
            raise

    def _write(self, frames: GraphFrames) -> None:
        with self._transaction() as c:
            # only runs already here have edges to take out, all in one scan of the SIGNALS edges
            have = self._existing(S.RUN, frames.runs[S.RUN_ID])
            if have:
                self._delete_runs(sorted(have))
            new_keys: dict[str, set] = {}
            for label, frame in frames.nodes().items():
                key = S.NODE_TABLE[label].key
                have = self._existing(label, frame[key])
                fresh = frame[~frame[key].isin(have)]
                new_keys[label] = set(fresh[key])
                self._copy(label, fresh[self._order[label]])
            # counts for states that already existed
            known = frames.counted_states[~frames.counted_states[S.KEY_PROP].isin(new_keys[S.CELL_STATE])]
            if len(known):
                c.execute(SET_COUNTS, {"rows": [{"k": k, "n": int(n), "f": float(f)}
                                                for k, n, f in known.itertuples(index=False)]})
            owner = {S.OF_TYPE: S.CELL_STATE, S.IN_PATHWAY: S.INTERACTION_NODE,
                     S.HAS_LIGAND: S.INTERACTION_NODE, S.HAS_RECEPTOR: S.INTERACTION_NODE, S.OF_PATIENT: S.SAMPLE_NODE}
            for rel, frame in frames.rels().items():
                self._copy(rel, frame[frame[FROM].isin(new_keys[owner[rel]])])
            self._copy(S.SIGNALS, frames.signals)
            self._copy(S.RUN, frames.runs[self._order[S.RUN]])
            self._copy(S.FROM_SAMPLE, frames.from_sample)
            if frames.sample_ids:  # a sample's counts are replaced whole, then pooled per day × group
                c.execute(DELETE_COUNTED_IN, {"ids": frames.sample_ids})
                self._copy(S.COUNTED_IN, frames.counted_in)
                self._pool_counts(frames)
            self._rebuild_next()

    def _rebuild_next(self) -> None:
        self._conn.execute(f"MATCH ()-[n:{S.NEXT}]->() DELETE n")
        self._copy(S.NEXT, next_edges(self.cypher(CELL_STATES)))

    def _delete_run(self, run_id: str) -> None:
        self._delete_runs([run_id])

    def _delete_runs(self, run_ids: list[str]) -> None:
        self._conn.execute(f"MATCH ()-[r:{S.SIGNALS}]->() WHERE r.{S.RUN_ID} IN $ids DELETE r", {"ids": run_ids})
        self._conn.execute(f"MATCH (run:{S.RUN}) WHERE run.{S.RUN_ID} IN $ids DETACH DELETE run", {"ids": run_ids})

    def remove_run(self, run_id: str) -> None:
        self._require_run(run_id)
        with self._transaction():
            samples = self.cypher(SAMPLES_OF_RUN, {"id": run_id})
            self._delete_run(run_id)
            self._mark_stale(pd.DataFrame({S.RUN_ID: [run_id]}))
            self._drop_sample_counts(samples)
            self._drop_orphans()

    def _write_sample_sheet(self, f) -> None:
        with self._transaction() as c:
            rows = {"rows": [{"id": i, "patient": p} for i, p in zip(f.samples[S.ID], f.samples[S.PATIENT])]}
            ids = {"ids": f.samples[S.ID].tolist()}
            c.execute(SHEET_SET_PATIENT, rows)
            c.execute(SHEET_UNLINK, ids)
            have = self._existing(S.PATIENT_NODE, f.patients[S.ID])
            self._copy(S.PATIENT_NODE, f.patients[~f.patients[S.ID].isin(have)][self._order[S.PATIENT_NODE]])
            c.execute(SHEET_LINK, rows)
            c.execute(SHEET_ORPHANS)
            c.execute(SHEET_DROP_MEASUREMENTS, ids)
            self._copy(S.MEASUREMENT, f.measurements[self._order[S.MEASUREMENT]])
            self._copy(S.MEASURED, f.measured)

    def write_contrasts(self, nodes: pd.DataFrame, edges: pd.DataFrame) -> None:
        with self._transaction() as c:
            ids = {"ids": nodes[S.ID].tolist()}
            c.execute(f"MATCH ()-[r:{S.CHANGED}]->() WHERE r.{S.CONTRAST_PROP} IN $ids DELETE r", ids)
            c.execute(f"MATCH (k:{S.CONTRAST}) WHERE k.{S.ID} IN $ids DELETE k", ids)
            self._copy(S.CONTRAST, nodes[self._order[S.CONTRAST]])
            self._copy(S.CHANGED, edges)
    def _drop_orphans(self) -> None:
        """CellStates no live run uses any more, CellTypes without states; NEXT rebuilt."""
        self._conn.execute(DROP_STATES, {"keys": self._orphan_states()})
        self._conn.execute(DROP_CELL_TYPES)
        self._rebuild_next()

    def clear(self) -> None:
        self._writable()
        for label in (t.label for t in S.NODE_TABLES):
            self._conn.execute(f"MATCH (n:{label}) DETACH DELETE n")

    def close(self) -> None:
        # a store this open created and nothing was loaded into (a load that failed) leaves no file
        empty = self._created and self.cypher("MATCH (n) RETURN count(n) AS n")["n"][0] == 0
        self._conn.close()
        self._db.close()
        if empty:
            for leftover in (self.path, Path(f"{self.path}.wal")):
                leftover.unlink(missing_ok=True)
