"""The embedded default: LadybugDB, in-process, on disk.

Bulk writes are COPY FROM DataFrames (LadybugDB maps COPY columns by position, so frames come in
schema order). A load follows the visibility rule in ``_base`` in three transactions, each
followed by a CHECKPOINT, with a journal file next to the store saying which step is under way:

1. **stage**: COPY the load's new nodes and its SIGNALS edges under a fresh ``load_id``;
   nothing is deleted, so nothing visible changes;
2. **switch**: point the Run nodes at the new ``load_id`` (one small transaction for every run of
   the load), with their FROM_SAMPLE links, per-sample counts, pooled CellState totals and NEXT;
3. **sweep**: delete edges no live Run points at, and CellStates no live run covers.

A process killed at any instant leaves the journal behind; the next open of the store finishes
the load (killed after the stage was checkpointed: the switch is redone from the journal, then
the sweep) or undoes it (killed before: the staged edges and new nodes are deleted). Why not one
transaction: LadybugDB 0.22, killed during the COMMIT of a transaction that deletes edges and
COPYs others, recovers with the deletes kept and the COPYs dropped (the replaced run gone, the
new one absent), and a kill while a large commit writes its WAL leaves a WAL it refuses to open
("Checksum verification failed"); see ``bench/kills.py``. Since every commgraph transaction is
checkpointed before the next begins, a torn WAL holds only the interrupted transaction, which
never committed: it is moved aside (``<store>.wal.torn``) and the journal decides.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as S
from .._graph import FROM, TO, GraphFrames, interaction_summaries, next_edges, node_columns
from ..errors import StoreError
from ._base import (CELL_STATES, runs_scores_at, DELETE_COUNTED_IN, SAMPLES_OF_RUN, SET_COUNTS, DROP_CELL_TYPES, DROP_STATES, SHEET_DROP_MEASUREMENTS, SHEET_LINK,
                    SHEET_ORPHANS, SHEET_SET_PATIENT, SHEET_UNLINK, INTERACTION_SUMMARY_BACKFILL, Store, sweep_summaries)

# rows per COPY statement; all of them still go in the stage's one transaction
COPY_ROWS = 250_000
JOURNAL = ".commgraph-journal"  # next to the store: the step an unfinished write is at
CORE_TABLES = (S.RUN, S.CELL_STATE, S.SIGNALS)  # a store without these is not a commgraph store


@dataclass
class _Switch:
    """What the switch writes, kept in the journal so that an open after a kill can redo it."""

    load_id: str
    runs: pd.DataFrame
    from_sample: list = field(default_factory=list)
    counted_in: list = field(default_factory=list)  # frames of per-sample counts
    sample_ids: list = field(default_factory=list)
    counted_states: list = field(default_factory=list)  # frames of pooled counts (key, n_cells, fraction)
    splits: list = field(default_factory=list)  # (day, group) whose totals are pooled from per-sample counts


def _damaged(path: Path, why: str) -> StoreError:
    return StoreError(f"{path} {why}: restore it from a backup, or start over with "
                      f"`commgraph load --force-new` (deletes it)")


def _io_error(path: Path, ex: BaseException) -> StoreError | None:
    """A disk-full or I/O failure as one line (None for other errors)."""
    text = str(ex)
    if isinstance(ex, OSError) and ex.strerror:
        reason = ex.strerror
    elif isinstance(ex, RuntimeError) and ("IO exception" in text or "No space left" in text):
        reason = text.rsplit("Error: ", 1)[-1].strip().splitlines()[0] if "Error: " in text else text.splitlines()[0]
    else:
        return None
    return StoreError(f"cannot write {path}: {reason}; the store keeps its previous content (an unfinished "
                      f"write is undone when it is next opened with room to write)")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _ddl() -> list[str]:
    out = []
    for t in S.NODE_TABLES:
        props = ", ".join(f"`{n}` {ty}" for n, ty in t.properties)
        out.append(f"CREATE NODE TABLE IF NOT EXISTS {t.label}({props}, PRIMARY KEY(`{t.key}`))")
    return out + [_rel_ddl(r) for r in S.REL_TABLES]


def _rel_ddl(r: S.RelTable) -> str:
    props = "".join(f", `{n}` {ty}" for n, ty in r.properties)
    one_way = " WITH (storage_direction = 'fwd')" if r.forward_only else ""
    return f"CREATE REL TABLE IF NOT EXISTS {r.type}(FROM {r.source} TO {r.target}{props}){one_way}"


# RUNS_SCORES_AT with the cell types as their CellStates' offsets (see EmbeddedStore._scores_at)
STATE_OFFSETS = f"MATCH (s:{S.CELL_STATE}) RETURN offset(id(s)) AS offset, s.{S.CELL_TYPE_PROP} AS {S.CELL_TYPE_PROP}"
RUNS_SCORES_AT_OFFSETS = runs_scores_at("offset(id(a))", "offset(id(b))")


def _categorical_frame(result) -> pd.DataFrame:
    """A query result through Arrow, its strings dictionary-encoded there (as categoricals)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = result.get_as_arrow()
    for i, name in enumerate(table.column_names):
        if pa.types.is_string(table.schema.field(i).type) or pa.types.is_large_string(table.schema.field(i).type):
            table = table.set_column(i, name, pc.dictionary_encode(table.column(i)))
    return table.to_pandas()


# a node, relationship or path (alone or in a list) comes from get_as_df in a form of its own, with
# its label and ids: named answers with one (the graph_* files) are fetched through it, every other
# answer through Arrow
_ELEMENT_TYPES = ("NODE", "REL")
# below this many rows get_as_df is the quicker (Arrow's per-column conversions cost ~2 ms)
_ARROW_ROWS = 1_000


def _arrow_frame(result) -> pd.DataFrame:
    """A query result through Arrow, in the form get_as_df gives it (lists as Python lists, counts
    as integers). get_as_df's row-by-row conversion was 20-30% of a named answer of 10k+ rows at 10M
    edges; through Arrow signaling_change, lr_trajectory of an interaction and the catalogue took
    8-16% less time end to end."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = result.get_as_arrow()
    out = {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_decimal(col.type):  # LadybugDB sums integers into INT128
            col = pc.cast(col, pa.int64())
            out[name] = col.to_pandas() if col.null_count == 0 else pd.array(col.to_pylist(), dtype="Int64")
        elif pa.types.is_nested(col.type):
            out[name] = pd.Series(col.to_pylist(), dtype=object)
        else:
            out[name] = col.to_pandas()
    return pd.DataFrame(out)


class EmbeddedStore(Store):
    """A LadybugDB database at ``path`` (created on first use)."""

    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True, force_new: bool = False):
        self.path = Path(path)
        self.uri = str(self.path)
        self._journal = Path(f"{self.path}{JOURNAL}")
        self._taken: dict[tuple, str] = {}  # named query text × parameters -> the branches they take
        if force_new and not read_only:  # start over: the old file (and its WAL, journal) go
            for old in (self.path, Path(f"{self.path}.wal"), self._journal):
                old.unlink(missing_ok=True)
        if (read_only or not create) and not self.path.exists():
            raise StoreError(f"no store at {self.path} (load something into it first)")
        self._created = not self.path.exists()
        self._may_write = not read_only
        # An existing store opens read-only until something writes: LadybugDB rewrites the file
        # whenever a read-write handle closes, so asking questions would change it (and its checksum).
        self._open(read_only=read_only or not self._created)
        if self._summaries_missing:  # written before the summary layer: add it before anyone reads
            self._add_summaries()
        if self._journal.exists():  # a write was interrupted: finish or undo it before anyone reads
            self._recover()
        if not self._created and self._lacks_interaction_summaries():
            self._backfill_interaction_summaries()

    def _open(self, *, read_only: bool) -> None:
        import ladybug

        try:
            self._db = ladybug.Database(str(self.path), read_only=read_only)
        except RuntimeError as ex:
            msg = (str(ex).strip().splitlines() or [type(ex).__name__])[0]
            wal = Path(f"{self.path}.wal")
            if "WAL file is corrupted" in msg and self._journal.exists() and wal.exists():
                # the WAL of the transaction a kill interrupted (every earlier one was checkpointed)
                torn = Path(f"{self.path}.wal.torn")
                os.replace(wal, torn)
                warnings.warn(f"{self.path}: the interrupted write's WAL was torn; moved to {torn}", stacklevel=3)
                return self._open(read_only=read_only)
            if read_only and "recovery is pending" in msg and not getattr(self, "_recovering", False):
                # a process was killed during a checkpoint: LadybugDB completes it on a read-write open
                self._recovering = True
                try:
                    try:
                        self._open(read_only=False)
                    except StoreError as ex:
                        raise StoreError(f"{self.path} needs the recovery of an interrupted write, which failed "
                                         f"({ex}); free space or fix the I/O error, then open it again") from None
                    self._conn.close()
                    self._db.close()
                    return self._open(read_only=True)
                finally:
                    self._recovering = False
            if "read-only" in msg.lower() and not read_only and not os.access(self.path, os.W_OK):
                raise StoreError(f"cannot open {self.path} for writing: permission denied") from None
            raise _damaged(self.path, f"cannot be opened as a LadybugDB store ({msg})") from None
        self._conn = ladybug.Connection(self._db)
        self._order = {t.label: node_columns(t.label) for t in S.NODE_TABLES}
        self._read_only = read_only
        self._summaries_missing = False
        if not self._created:
            have = self._tables()
            missing = [t for t in CORE_TABLES if t not in have]
            what = None
            if missing:  # never re-create the schema over a store that had one: that empties it
                what = ("has no commgraph schema" if len(missing) == len(CORE_TABLES) else "has a damaged schema") + \
                    f" (missing table {missing[0]})"
            else:
                what = self._probe(have)
            if what:
                self._conn.close()
                self._db.close()
                raise _damaged(self.path, what)
            self._summaries_missing = self._no_summaries(have)
        if not read_only:
            for stmt in _ddl():
                self._conn.execute(stmt)
            self._add_new_properties()

    def _probe(self, tables: set[str]) -> str | None:
        """Read a little of every table (counts, a first edge; the Run and CellState rows whole): a
        store whose pages are damaged fails here, at open, not half-way through a question."""
        queries = [f"MATCH (n:{t.label}) RETURN count(n)" for t in S.NODE_TABLES if t.label in tables]
        # count(*), not count(r): that one reads every edge (1.2 s for 1.5M), this one the table's metadata
        queries += [q for r in S.REL_TABLES if r.type in tables
                    for q in (f"MATCH ()-[r:{r.type}]->() RETURN count(*)", f"MATCH ()-[r:{r.type}]->() RETURN r LIMIT 1")]
        queries += [f"MATCH (n:{S.RUN}) RETURN n", f"MATCH (n:{S.CELL_STATE}) RETURN n"]
        for q in queries:
            try:
                self._conn.execute(q)
            except RuntimeError as ex:
                return f"is damaged ({q.split(':')[1].split(')')[0]}: {(str(ex).strip().splitlines() or ['?'])[0]})"
        return None

    def _no_summaries(self, tables: set[str]) -> bool:
        """A store written before the summary layer (or killed while adding it): edges but no
        summary of them. Every SIGNALS edge has a PATHWAY_SUMMARY row from the same load, so a
        store with edges and no rows lacks the layer. (count(*) reads the table's metadata only.)"""
        if S.SIGNALS not in tables:
            return False
        if not {S.SUMMARY, S.PATHWAY_SUMMARY} <= tables:
            return True
        def count(rel):
            return int(self._conn.execute(f"MATCH ()-[r:{rel}]->() RETURN count(*)").get_next()[0])
        return count(S.SIGNALS) > 0 and (count(S.SUMMARY) == 0 or count(S.PATHWAY_SUMMARY) == 0)

    def _tables(self) -> set[str]:
        return set(self._conn.execute("CALL show_tables() RETURN name").get_as_df()["name"])

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

    def _lacks_interaction_summaries(self) -> bool:
        """No InteractionSummary table, or an empty one beside runs (a backfill killed after the
        table was created): counts read from table metadata, not by reading rows."""
        if S.INTERACTION_SUMMARY not in self._tables():
            return True
        have = set(self._conn.execute(f"CALL table_info('{S.INTERACTION_SUMMARY}') RETURN name").get_as_df()["name"])
        if S.SENDERS not in have:  # written before the summaries listed their edges
            return True
        first = self._conn.execute(f"MATCH (s:{S.INTERACTION_SUMMARY}) RETURN s.{S.SENDERS} IS NULL LIMIT 1")
        if first.has_next() and first.get_next()[0]:
            return True  # the lists' column added to older summaries (all of them: one transaction), not filled
        return (self._conn.execute(f"MATCH (s:{S.INTERACTION_SUMMARY}) RETURN count(*)").get_next()[0] == 0
                and self._conn.execute(f"MATCH ()-[r:{S.SIGNALS}]->() RETURN count(*)").get_next()[0] > 0)

    def _backfill_interaction_summaries(self) -> None:
        """A store written before InteractionSummary existed, or before it listed its edges: (re)create
        it from the live SIGNALS edges (one aggregation over every edge: 3 minutes for 10M edges on a
        busy 2-core machine), so the questions reading it answer. The rows pass through Parquet
        written by the engine, the lists as Arrow lists: as Python lists, a 10M-edge study's took 8 GB."""
        import tempfile

        import pyarrow.parquet as pq

        if not self._may_write:
            self._summaries_pending = ("written by an older commgraph, the store lacks the interaction summaries or "
                                       "their edge lists; open it once without read_only=True to add them "
                                       "(interaction_catalogue and lr_trajectory read them)")
            warnings.warn(f"{self.path}: {self._summaries_pending}", stacklevel=3)
            return
        self._writable()  # creates the table
        with tempfile.TemporaryDirectory(prefix="commgraph-summaries-") as scratch:
            path = Path(scratch) / "summaries.parquet"
            self.rows_to_parquet(INTERACTION_SUMMARY_BACKFILL, {"pvalue": S.SUMMARY_PVALUE}, path)
            rows = pq.read_table(path).to_pandas(
                types_mapper=lambda t: pd.ArrowDtype(t) if str(t).startswith(("list", "large_list")) else None)
        nodes = interaction_summaries(rows)
        with self._transaction() as c:
            c.execute(f"MATCH (s:{S.INTERACTION_SUMMARY}) DETACH DELETE s")
            self._copy(S.INTERACTION_SUMMARY, nodes[self._order[S.INTERACTION_SUMMARY]])
            self._copy(S.HAS_SUMMARY, pd.DataFrame({FROM: nodes[S.INTERACTION], TO: nodes[S.KEY_PROP]}))

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
        return self._frame(self._execute(text, parameters))

    def _answer(self, text: str, parameters: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
        result = self._execute(text, parameters)
        if result.get_num_tuples() < _ARROW_ROWS or any(
                e in t for t in result.get_column_data_types() for e in _ELEMENT_TYPES):
            return self._frame(result)
        return _arrow_frame(result)

    @staticmethod
    def _frame(result) -> pd.DataFrame:
        df = result.get_as_df()
        # LadybugDB sums integers into INT128, which its DataFrame conversion makes float; counts come
        # back as integers, as Neo4j gives them (float64 holds every count below 2**53 exactly)
        for col, type_ in zip(list(df.columns), result.get_column_data_types()):
            if type_ == "INT128" and df[col].dtype.kind == "f":
                df[col] = df[col].astype("int64") if df[col].notna().all() else df[col].astype("Int64")
        return df

    def _branches_taken(self, name: str, text: str, params: dict[str, Any]) -> str:
        # only the branches these parameters take: LadybugDB plans every branch on every run (see
        # _queries.branches; at 10M edges signaling_by_day 80-100 -> ~20 ms, most of it planning)
        # and without the final ORDER BYs that shape() sorts by anyway (_queries.unsorted)
        from .._queries import branches, gate_probe, get_query, taken, unsorted

        key = (text, tuple(sorted((k, type(v).__name__, repr(v)) for k, v in params.items())))
        if key in self._taken:  # gates read parameters alone (_queries.branches): one probe per call shape
            return self._taken[key]
        spec = get_query(name)
        parts = branches(text)
        probe = gate_probe(spec, parts)
        if probe is None:
            return unsorted(spec, text)
        try:
            held = self.cypher(probe, params).iloc[0].to_dict()
        except RuntimeError:  # the whole file then runs, and reports its own error
            return text
        sent = unsorted(spec, taken(spec, parts, {k: v is True or v is np.True_ for k, v in held.items()}) or text)
        if len(self._taken) >= 1024:
            self._taken.clear()
        self._taken[key] = sent
        return sent

    def _cypher_categorical(self, text: str, parameters: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
        # through Arrow, strings dictionary-encoded there: no Python string per row (half the time
        # of get_as_df on the differential's 10M-edge read, and no hashing of strings afterwards)
        return _categorical_frame(self._execute(text, parameters))

    def _scores_at(self, reads: list[dict[str, Any]]) -> Iterator[pd.DataFrame]:
        # The differential's read of every edge of a study, day × group by day × group. Two reads are
        # under way at once, each on its own connection (LadybugDB runs a query and builds its Arrow
        # table without holding the GIL), at most two frames ahead of the reader; cell types come back
        # as their CellStates' offsets, named from one small read (a string per edge end cost the
        # engine ~0.2 s per 500k edges). The 20 reads of a 10M-edge per-sample study: 11.3 s -> 6.7 s.
        import concurrent.futures as cf
        import threading

        import ladybug
        import numpy as np

        if not reads:
            return
        states = self._execute(STATE_OFFSETS, {}).get_as_df()
        codes, cell_types = pd.factorize(states[S.CELL_TYPE_PROP])
        named = np.full(int(states["offset"].max()) + 1, -1, dtype=codes.dtype)
        named[states["offset"].to_numpy()] = codes
        local, opened = threading.local(), []

        def read(params: dict[str, Any]) -> pd.DataFrame:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = ladybug.Connection(self._db)
                opened.append(conn)
            frame = _categorical_frame(conn.execute(RUNS_SCORES_AT_OFFSETS, params))
            for end in (S.SOURCE, S.TARGET):
                frame[end] = pd.Categorical.from_codes(named[frame[end].to_numpy()], categories=cell_types)
            return frame

        pool = cf.ThreadPoolExecutor(2, thread_name_prefix="commgraph-read")
        ahead = collections.deque(pool.submit(read, params) for params in reads[:2])
        later = iter(reads[2:])
        try:
            while ahead:
                frame = ahead.popleft().result()
                params = next(later, None)
                if params is not None:
                    ahead.append(pool.submit(read, params))
                yield frame
                del frame
        finally:  # also when the reader stops early or a read fails: the reads under way end first
            pool.shutdown(wait=True, cancel_futures=True)
            for conn in opened:
                conn.close()

    def _execute(self, text: str, parameters: dict[str, Any] | None):
        # `group` is a reserved word in LadybugDB, so queries write that parameter $`group`;
        # LadybugDB then names it with the backticks (Neo4j without them)
        params = {(f"`{k}`" if f"$`{k}`" in text else k): v for k, v in (parameters or {}).items()}
        try:
            result = self._conn.execute(text, params)
        except RuntimeError as ex:
            if self._read_only and self._may_write and "read-only" in str(ex):
                self._writable()  # ad-hoc Cypher that writes, on a store opened for reading so far
                return self._execute(text, parameters)
            # LadybugDB's connection caches a prepared statement per query text, and one that failed
            # at run time (LIMIT -1) keeps failing; a fresh connection prepares it anew. A failed
            # statement has already ended any open transaction, so nothing is lost.
            import ladybug

            self._conn = ladybug.Connection(self._db)
            raise
        return result

    def rows_to_parquet(self, text: str, parameters: dict[str, Any], path: str | Path) -> None:
        """Write a query's rows to a Parquet file from inside the engine: one pass, and the rows
        never all in Python (how a large store is exported). ``path`` is ours, never a user's."""
        if any(c in str(path) for c in "'\"\\"):
            raise StoreError(f"cannot export to {path}: quotes or backslashes in the path")
        self._conn.execute(f"COPY ({text}) TO '{path}'", parameters)

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
        """One write transaction: committed when the block ends, rolled back when it raises;
        checkpointed after the commit, so the WAL never holds more than the transaction under way."""
        self._writable()
        c = self._conn
        c.execute("BEGIN TRANSACTION")
        self._committed = False
        try:
            yield c
            c.execute("COMMIT")
            self._committed = True
        except BaseException:
            try:
                c.execute("ROLLBACK")
            except RuntimeError:
                pass  # a failed statement already ended the transaction
            raise
        self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            self._conn.execute("CHECKPOINT")
        except RuntimeError as ex:
            raise StoreError(f"cannot write {self.path}: {(str(ex).strip().splitlines() or ['?'])[0]}") from None

    # --- the journal: which step of a write is under way ----------------------------------
    def _journal_write(self, step: str, **payload) -> None:
        tmp = Path(f"{self._journal}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump({"step": step, "at": time.time(), **payload}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._journal)
        _fsync_dir(self._journal)

    def _journal_read(self) -> dict:
        try:
            with open(self._journal, "rb") as f:
                return pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError):
            return {"step": "unknown"}  # cut short while written: nothing after it had begun

    def _journal_done(self) -> None:
        Path(f"{self._journal}.tmp").unlink(missing_ok=True)
        self._journal.unlink(missing_ok=True)
        _fsync_dir(self._journal)

    def _add_summaries(self) -> None:
        """Create the summary tables of a store written before them and fill them from its edges,
        in one transaction (a kill leaves the tables empty or absent: the next open does it again).
        A store opened with read_only=True is written this once, then reopened read-only."""
        strict, self._may_write = not self._may_write, True
        try:
            self._writable()  # the DDL of a read-write open creates the tables
            summary, pathway = self._summary_backfill()
            with self._transaction() as c:
                for rel in (S.SUMMARY, S.PATHWAY_SUMMARY):
                    c.execute(f"MATCH ()-[r:{rel}]->() DELETE r")
                self._copy(S.SUMMARY, summary)
                self._copy(S.PATHWAY_SUMMARY, pathway)
        finally:
            self._may_write = not strict
        self._summaries_missing = False
        if strict:
            self._conn.close()
            self._db.close()
            self._open(read_only=True)

    def _recover(self) -> None:
        """Finish or undo the write a killed process left (see the module's docstring). A store
        opened with read_only=True is written this once, then reopened read-only."""
        strict, self._may_write = not self._may_write, True
        try:
            self._writable()
            self._recover_step(self._journal_read())
        finally:
            self._may_write = not strict
        if strict:
            self._conn.close()
            self._db.close()
            self._open(read_only=True)

    def _recover_step(self, j: dict) -> None:
        if j["step"] == "stage":  # not switched: the staged edges and new nodes go
            with self._transaction() as c:
                for rel in S.LOAD_RELS:  # the staged edges and their summaries
                    c.execute(f"MATCH ()-[r:{rel}]->() WHERE r.{S.LOAD_ID} IN $ls DELETE r", {"ls": j["load_ids"]})
                for label, keys in j["fresh"].items():
                    key = S.NODE_TABLE[label].key
                    c.execute(f"MATCH (n:{label}) WHERE n.`{key}` IN $keys DETACH DELETE n", {"keys": keys})
        elif j["step"] == "switch":  # staged and checkpointed: switch (again), then sweep
            self._switch(j["switch"])
        elif j["step"] == "remove":
            self._unlink_run(j["run_id"], j["samples"])
        self._sweep()
        self._journal_done()

    # --- writing ------------------------------------------------------------------------
    def _write(self, frames_iter) -> pd.DataFrame:
        self._writable()
        if self._journal.exists():
            self._recover()
        sw = None
        self._staged = {"fresh": {}, "load_ids": []}
        self._switched = False  # until the switch commits, an error (a bad table, a full disk) leaves the old content
        try:
            for frames in frames_iter:
                if sw is None:
                    sw = _Switch(load_id=frames.load_id, runs=frames.runs.iloc[0:0])
                self._stage(frames)
                self._release()
                sw.runs = pd.concat([sw.runs, frames.runs], ignore_index=True) if len(sw.runs) else frames.runs
                if len(frames.from_sample):
                    sw.from_sample.append(frames.from_sample)
                if frames.sample_ids:
                    sw.sample_ids += frames.sample_ids
                    sw.counted_in.append(frames.counted_in)
                    keys = frames.counted_in[FROM].unique()
                    states = frames.cell_states.set_index(S.KEY_PROP).loc[keys]
                    sw.splits += [(int(d), str(g)) for d, g in states[[S.DAY, S.GROUP]].drop_duplicates().itertuples(index=False)]
                if len(frames.counted_states):
                    sw.counted_states.append(frames.counted_states)
                del frames  # before the next part is built: one part's frames at a time
            if sw is None:
                return pd.DataFrame()
            # only runs the store held before have older edges to sweep: staged leftovers of a killed or
            # failed load were undone (from the journal) before this one began, so a load of new runs skips
            # the sweep's scan of every edge (at 10M edges 11 s and +1.5 GB RSS, the load's peak)
            had = set(self.runs()[S.RUN_ID])
            replaced = [str(r) for r in sw.runs[S.RUN_ID] if str(r) in had]
            self._journal_write("switch", switch=sw, **self._staged)  # from here on an open after a kill finishes the load
            self._switch(sw)
        except BaseException as ex:
            if not self._switched:  # failed before the switch committed: the old content stays, alone
                self._abandon()
            io = _io_error(self.path, ex)
            if io is not None:
                raise io from None
            raise
        self._sweep(replaced)
        self._journal_done()
        self._release()
        return sw.runs

    def _release(self) -> None:
        """Close and reopen the database: LadybugDB holds on to memory for every write until its
        Database closes (~1.6 KB per edge loaded, measured: a 10M-edge study loaded run by run in one
        process passed 10 GB), so a load reopens after each staged part and at its end, and its
        memory is set by the part, not by what the process loaded before (~0.1 s a reopen)."""
        self._conn.close()
        self._db.close()
        self._open(read_only=self._read_only)

    def _abandon(self) -> None:
        """Undo a stage after an error in this process (disk full, a failed statement); when even
        that fails, the journal stays and the next open undoes it."""
        with contextlib.suppress(Exception):
            self._journal_write("stage", **self._staged)
            self._recover_step({"step": "stage", **self._staged})
            self._journal_done()

    def _stage(self, frames: GraphFrames) -> None:
        """COPY one load's new nodes (and their links) and its SIGNALS edges; nothing visible changes."""
        fresh = {}
        for label, frame in frames.nodes().items():
            key = S.NODE_TABLE[label].key
            have = self._existing(label, frame[key])
            fresh[label] = frame[~frame[key].isin(have)]
        # a kill from here until the switch is journaled undoes this stage (and earlier ones of the load)
        st = self._staged
        for label, f in fresh.items():
            st["fresh"][label] = st["fresh"].get(label, []) + f[S.NODE_TABLE[label].key].tolist()
        st["load_ids"] += frames.runs[S.LOAD_ID].tolist()
        self._journal_write("stage", **st)
        # the new node each link hangs off, and its end (HAS_SUMMARY: the summary, always new)
        owner = {S.OF_TYPE: S.CELL_STATE, S.IN_PATHWAY: S.INTERACTION_NODE,
                 S.HAS_LIGAND: S.INTERACTION_NODE, S.HAS_RECEPTOR: S.INTERACTION_NODE, S.OF_PATIENT: S.SAMPLE_NODE,
                 S.HAS_SUMMARY: S.INTERACTION_SUMMARY}
        with self._transaction():
            for label, frame in fresh.items():
                self._copy(label, frame[self._order[label]])
            for rel, frame in frames.rels().items():
                new = set(fresh[owner[rel]][S.NODE_TABLE[owner[rel]].key])
                self._copy(rel, frame[frame[TO if rel == S.HAS_SUMMARY else FROM].isin(new)])
            for rel, frame in frames.edges_and_summaries().items():  # SIGNALS and their summaries, one transaction
                self._copy(rel, frame)

    def _switch(self, sw: _Switch) -> None:
        """Make every run of a load visible at once; idempotent, so an open after a kill redoes it."""
        ids = [str(r) for r in sw.runs[S.RUN_ID]]
        with self._transaction() as c:
            c.execute(f"MATCH (run:{S.RUN}) WHERE run.{S.RUN_ID} IN $ids DETACH DELETE run", {"ids": ids})
            self._copy(S.RUN, sw.runs[self._order[S.RUN]])
            for f in sw.from_sample:
                self._copy(S.FROM_SAMPLE, f)
            if sw.sample_ids:  # a sample's counts are replaced whole, then pooled per day × group
                c.execute(DELETE_COUNTED_IN, {"ids": sw.sample_ids})
                for f in sw.counted_in:
                    self._copy(S.COUNTED_IN, f)
            for counted in sw.counted_states:
                c.execute(SET_COUNTS, {"rows": [{"k": k, "n": int(n), "f": float(x)}
                                                for k, n, x in counted.itertuples(index=False)]})
            if sw.splits:
                self._pool_splits(pd.DataFrame(sw.splits, columns=[S.DAY, S.GROUP]).drop_duplicates())
            self._mark_stale(sw.runs)
            self._rebuild_next()
        self._switched = True

    def _sweep(self, run_ids: list[str] | None = None) -> None:
        """Delete SIGNALS edges no live Run points at (of these runs; of all when None), and
        CellStates on a day × group no live run covers."""
        only = f"r.{S.RUN_ID} IN $ids AND " if run_ids is not None else ""
        if run_ids != []:  # [] = no run replaced: no edge to sweep
            with self._transaction() as c:
                for rel in S.LOAD_RELS:
                    c.execute(f"MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live "
                              f"MATCH ()-[r:{rel}]->() WHERE {only}NOT r.{S.LOAD_ID} IN live DELETE r",
                              {"ids": run_ids} if run_ids is not None else {})
                c.execute(*sweep_summaries(run_ids))
        if self._orphan_states():
            with self._transaction():
                self._drop_orphans()

    def _rebuild_next(self) -> None:
        self._conn.execute(f"MATCH ()-[n:{S.NEXT}]->() DELETE n")
        self._copy(S.NEXT, next_edges(self.cypher(CELL_STATES)))

    def remove_run(self, run_id: str) -> None:
        self._require_run(run_id)
        self._writable()
        samples = self.cypher(SAMPLES_OF_RUN, {"id": run_id})
        self._journal_write("remove", run_id=run_id, samples=samples)  # an open after a kill redoes it
        try:
            self._unlink_run(run_id, samples)
        except BaseException:
            if not self._committed:
                self._journal_done()
            raise
        self._sweep([run_id])
        self._journal_done()

    def _unlink_run(self, run_id: str, samples: pd.DataFrame) -> None:
        """The Run node goes (its edges are invisible from then on), and what depended on it."""
        with self._transaction() as c:
            c.execute(f"MATCH (run:{S.RUN}) WHERE run.{S.RUN_ID} = $id DETACH DELETE run", {"id": run_id})
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

    def write_contrasts(self, nodes: pd.DataFrame, edges: Iterable[pd.DataFrame]) -> None:
        import concurrent.futures as cf

        with self._transaction() as c:
            ids = {"ids": nodes[S.ID].tolist()}
            stored = c.execute(f"MATCH (k:{S.CONTRAST}) RETURN k.{S.ID}").get_as_df().iloc[:, 0]
            if stored.isin(ids["ids"]).all():
                # every stored contrast is replaced: a new, empty CHANGED table, in the same transaction
                # (LadybugDB deletes edges one at a time: 3.4M CHANGED edges took ~110 s; this, none)
                c.execute(f"DROP TABLE {S.CHANGED}")
                c.execute(_rel_ddl(S.REL_TABLE[S.CHANGED]))
            else:
                c.execute(f"MATCH ()-[r:{S.CHANGED}]->() WHERE r.{S.CONTRAST_PROP} IN $ids DELETE r", ids)
                # a store written before CHANGED lost ligand and receptor: the kept edges lose them too
                held = c.execute(f"CALL TABLE_INFO('{S.CHANGED}') RETURN name").get_as_df()["name"]
                for gone in sorted(set(held) - {name for name, _ in S.CHANGED_PROPERTIES}):
                    c.execute(f"ALTER TABLE {S.CHANGED} DROP `{gone}`")
            c.execute(f"MATCH (k:{S.CONTRAST}) WHERE k.{S.ID} IN $ids DELETE k", ids)
            self._copy(S.CONTRAST, nodes[self._order[S.CONTRAST]])
            # a part is copied while the caller computes the next one (LadybugDB's COPY holds no GIL):
            # at 10M edges the differential's pathway level was written while its interaction level was fitted
            with cf.ThreadPoolExecutor(1, thread_name_prefix="commgraph-write") as pool:
                copying = None
                for part in edges:
                    if copying is not None:
                        copying.result()
                    copying = pool.submit(self._copy, S.CHANGED, part)
                if copying is not None:
                    copying.result()

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
