"""Neo4j 5 server store, through the official driver (with neo4j-rust-ext for encoding).

Loading follows the visibility rule in ``_base``: new SIGNALS edges are CREATEd in batches
of column lists under a fresh ``load_id``; one small transaction then points the Run node at
that ``load_id``; stale edges (a replaced load, or one a killed client left behind) are
deleted in batches. Re-running an interrupted load therefore gives the same graph.

SIGNALS rows are sorted by (from, to) so a batch looks each endpoint pair up once; string
columns go as a per-batch dictionary plus codes and load-wide constants as one value, which
keeps both the Python encoding and the server's parameter decoding small.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import numpy as np
import pandas as pd

from .. import _schema as S
from .._graph import FROM, SIGNAL_COLUMNS, TO, GraphFrames, interaction_summaries, next_edges, node_columns, pooled_counts
from .._progress import track
from ..errors import StoreError
from ._base import (CELL_STATES, COUNTED_AT, DELETE_COUNTED_IN, MARK_STALE, SET_COUNTS, SAMPLES_OF_RUN, DROP_CELL_TYPES, DROP_STATES, SHEET_DROP_MEASUREMENTS, SHEET_LINK,
                    SHEET_ORPHANS, SHEET_SET_PATIENT, SHEET_UNLINK, INTERACTION_SUMMARY_BACKFILL, Store)

BATCH = 20_000
# SIGNALS edges per transaction, and transactions in flight at once: measured on a 2-core box,
# 1.5k-2.5k rows beat 5k-50k (smaller transactions to sort and commit) and a second writer
# keeps the server busy while one transaction commits (~20% faster; a third adds nothing)
SIGNALS_BATCH = 2_000
WRITERS = 2
MIN_VERSION = (5, 23)  # CALL (r) { ... } subqueries (clear), new in Neo4j 5.23


def as_one_list(text: str, columns: tuple[str, ...]) -> str:
    """A read whose rows come back as one record: ``rows``, a list of ``[column, …]`` lists."""
    returned = ", ".join(f"`{c}`" for c in columns)
    return f"CALL () {{\n{text}\n}}\nRETURN collect([{returned}]) AS rows"


# runs with live edges and no listed InteractionSummary (see Neo4jStore._runs_unlisted): an index
# seek each on SIGNALS (run_id, load_id) and on InteractionSummary.run_id, stopping at the first hit
RUNS_UNLISTED = f"""
MATCH (run:{S.RUN})
WHERE EXISTS {{ MATCH ()-[r:{S.SIGNALS}]->() WHERE r.{S.RUN_ID} = run.{S.RUN_ID} AND r.{S.LOAD_ID} = run.{S.LOAD_ID} }}
  AND NOT EXISTS {{ MATCH (s:{S.INTERACTION_SUMMARY}) WHERE s.{S.RUN_ID} = run.{S.RUN_ID}
                    AND s.{S.LOAD_ID} = run.{S.LOAD_ID} AND s.{S.SENDERS} IS NOT NULL }}
RETURN run.{S.RUN_ID} AS id ORDER BY id
"""

LOCK = "CommgraphLock"  # a singleton node whose write lock serialises NEXT rebuilds (not part of the model)

# what the named queries filter or delete on; created idempotently before the first write (a
# connect that only reads needs no write or schema rights)
INDEXES = [
    f"CREATE INDEX cellstate_type IF NOT EXISTS FOR (n:{S.CELL_STATE}) ON (n.{S.CELL_TYPE_PROP})",
    f"CREATE INDEX cellstate_day_group IF NOT EXISTS FOR (n:{S.CELL_STATE}) ON (n.{S.DAY}, n.`{S.GROUP}`)",
    # a run's edges older than a load (DELETE_STALE) and one run's live edges (Store.signals) are one
    # seek; on run_id alone, the sweep read every edge of the run to compare its load_id
    f"CREATE INDEX signals_run_load IF NOT EXISTS FOR ()-[r:{S.SIGNALS}]-() ON (r.{S.RUN_ID}, r.{S.LOAD_ID})",
    "DROP INDEX signals_run IF EXISTS",  # stores written before: the index above serves its seeks
    f"CREATE INDEX summary_run_load IF NOT EXISTS FOR ()-[r:{S.SUMMARY}]-() ON (r.{S.RUN_ID}, r.{S.LOAD_ID})",
    f"CREATE INDEX pathway_summary_run_load IF NOT EXISTS FOR ()-[r:{S.PATHWAY_SUMMARY}]-() ON (r.{S.RUN_ID}, r.{S.LOAD_ID})",
    f"CREATE INDEX changed_contrast IF NOT EXISTS FOR ()-[r:{S.CHANGED}]-() ON (r.{S.CONTRAST_PROP})",
    # The interaction questions look their edges up by name (r.interaction = nm after the Interaction
    # nodes the filters leave: an index seek, see cypher/lr_trajectory.cypher); every SIGNALS create
    # pays for it (measured in the report of issue 17)
    f"CREATE INDEX signals_interaction IF NOT EXISTS FOR ()-[r:{S.SIGNALS}]-() ON (r.{S.INTERACTION})",
    f"CREATE INDEX interactionsummary_run IF NOT EXISTS FOR (n:{S.INTERACTION_SUMMARY}) ON (n.{S.RUN_ID})",
    # interaction_catalogue keeps a summary whose load_id a Run carries (a join: LadybugDB tests a
    # list per row slowly); without the index Neo4j hashes the Run nodes again for every Interaction
    f"CREATE INDEX run_load IF NOT EXISTS FOR (n:{S.RUN}) ON (n.{S.LOAD_ID})",
    # one lock node even when two loads MERGE it at once (without the constraint both would create one)
    f"CREATE CONSTRAINT lock_name IF NOT EXISTS FOR (n:{LOCK}) REQUIRE n.name IS UNIQUE",
]


def _constraints() -> list[str]:
    return [
        f"CREATE CONSTRAINT {t.label.lower()}_key IF NOT EXISTS FOR (n:{t.label}) REQUIRE n.`{t.key}` IS UNIQUE"
        for t in S.NODE_TABLES
    ]


def _signals_query(scalar: set[str], coded: set[str], rel: str = S.SIGNALS) -> str:
    """Edges of pair j are rows $pair_start[j] .. $pair_start[j+1]-1; a property is one value
    ($p), a dictionary entry ($d_p[$v_p[i]]) or one value per edge ($v_p[i]). Any relationship
    table of the schema written per load goes this way (``rel``)."""
    def value(n: str) -> str:
        return f"$s_{n}" if n in scalar else f"$d_{n}[$v_{n}[i]]" if n in coded else f"$v_{n}[i]"

    r = S.REL_TABLE[rel]
    props = ", ".join(f"`{n}`: {value(n)}" for n, _ in r.properties)
    return (
        "UNWIND range(0, size($pair_from) - 1) AS j "
        f"MATCH (a:{r.source} {{`{S.NODE_TABLE[r.source].key}`: $pair_from[j]}}) "
        f"MATCH (b:{r.target} {{`{S.NODE_TABLE[r.target].key}`: $pair_to[j]}}) "
        "UNWIND range($pair_start[j], $pair_start[j + 1] - 1) AS i "
        f"CREATE (a)-[:{rel} {{{props}}}]->(b)"
    )


# edges (or summaries) of the run older than load $keep (_delete_run: all of them): a concurrent
# load's newer edges survive. Two statements, not `$keep IS NULL OR ...`, which no index seek serves
def _delete_stale(rel: str) -> str:
    return (f"MATCH ()-[r:{rel}]->() WHERE r.{S.RUN_ID} = $run_id AND r.{S.LOAD_ID} < $keep "
            f"WITH r LIMIT $batch DELETE r RETURN count(*) AS n")


def _delete_run(rel: str) -> str:
    return (f"MATCH ()-[r:{rel}]->() WHERE r.{S.RUN_ID} = $run_id "
            f"WITH r LIMIT $batch DELETE r RETURN count(*) AS n")


DELETE_STALE_SUMMARIES = (
    f"MATCH (s:{S.INTERACTION_SUMMARY}) WHERE s.{S.RUN_ID} = $run_id AND ($keep IS NULL OR s.{S.LOAD_ID} < $keep) "
    f"DETACH DELETE s"
)
# the switch: a run points at this load unless a later load of it already switched. Writing the
# key first takes the node's write lock, so the load_id compared is the last committed one (a
# WHERE read before the lock could let an earlier load overwrite a later one)
SWITCH = (f"UNWIND $rows AS row MERGE (run:{S.RUN} {{{S.RUN_ID}: row.{S.RUN_ID}}}) "
          f"SET run.{S.RUN_ID} = row.{S.RUN_ID} "
          f"WITH run, row WHERE run.{S.LOAD_ID} IS NULL OR run.{S.LOAD_ID} <= row.{S.LOAD_ID} SET run = row")


def _plain(values) -> list:
    """Python values with None for missing (numpy NaN is not null to Neo4j); a column of lists
    (InteractionSummary's edges) as Python lists."""
    if isinstance(getattr(values, "dtype", None), pd.ArrowDtype):
        return values.tolist()
    if len(values) and isinstance(next(iter(values)), (list, np.ndarray)):
        return [np.asarray(v).tolist() for v in values]
    a = np.asarray(values)
    if a.dtype.kind in "biu":
        return a.tolist()
    missing = pd.isna(a)
    if not missing.any():
        return a.tolist()
    a = a.astype(object)
    a[missing] = None
    return a.tolist()


def _signal_batches(sig: pd.DataFrame, size: int, rel: str = S.SIGNALS):
    """(Cypher, parameters) for each batch of ``size`` rows of ``rel`` (SIGNALS by default),
    sorted by endpoint pair."""
    fcode, fkeys = pd.factorize(sig[FROM])
    tcode, tkeys = pd.factorize(sig[TO])
    order = np.lexsort((tcode, fcode))
    fcode, tcode = fcode[order], tcode[order]
    fkeys, tkeys = np.asarray(fkeys, dtype=object), np.asarray(tkeys, dtype=object)
    scalar, coded, plain = {}, {}, {}
    for n, _ in S.REL_TABLE[rel].properties:
        col = sig[n]
        if col.dtype.kind in "biuf":  # numbers and flags: one value per edge
            plain[n] = col.to_numpy()[order]
            continue
        codes, uniq = pd.factorize(col)  # -1 for missing
        uniq = _plain(uniq)
        if len(uniq) == 0 or (len(uniq) == 1 and codes.min() == 0):
            scalar[n] = uniq[0] if uniq else None  # one value for the whole load (run_id, load_id, ...)
        else:
            coded[n] = (codes[order], np.asarray(uniq + [None], dtype=object))  # code -1 -> the None at the end
    query = _signals_query(set(scalar), set(coded), rel)
    for lo in range(0, len(sig), size):
        f, t = fcode[lo : lo + size], tcode[lo : lo + size]
        starts = np.flatnonzero(np.r_[True, (f[1:] != f[:-1]) | (t[1:] != t[:-1])])
        params = {
            "pair_from": fkeys[f[starts]].tolist(),
            "pair_to": tkeys[t[starts]].tolist(),
            "pair_start": starts.tolist() + [len(f)],
        }
        params.update({f"s_{n}": v for n, v in scalar.items()})
        params.update({f"v_{n}": _plain(v[lo : lo + size]) for n, v in plain.items()})
        for n, (codes, words) in coded.items():
            used, local = np.unique(codes[lo : lo + size], return_inverse=True)  # this batch's dictionary
            params[f"d_{n}"] = words[used].tolist()
            params[f"v_{n}"] = local.tolist()
        yield query, params


def _rows(frame: pd.DataFrame) -> list[dict]:
    cols = {c: _plain(frame[c]) for c in frame.columns}
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())] if len(frame) else []


def check_version(version: str, uri: str) -> None:
    """Refuse a server older than :data:`MIN_VERSION` (calendar versions 2025.x and later are newer)."""
    parts = [int(x) for x in version.split(".")[:2] if x.isdigit()]
    if tuple(parts) < MIN_VERSION:
        need = ".".join(map(str, MIN_VERSION))
        raise StoreError(f"Neo4j {version} at {uri} is too old: commgraph needs Neo4j {need} or newer")


class Neo4jStore(Store):
    def __init__(self, uri: str, *, user: str | None = None, password: str | None = None, database: str | None = None,
                 progress: bool = True, read_only: bool = False):
        import neo4j
        from neo4j.exceptions import AuthError, ServiceUnavailable

        self.uri = uri
        self.database = database or os.environ.get("NEO4J_DATABASE", "neo4j")
        self.progress = progress
        user = user or os.environ.get("NEO4J_USER", "neo4j")
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
        if not password:  # Neo4j passwords are never empty
            raise StoreError(f"no password for {uri}: set NEO4J_PASSWORD (the command line also asks for it "
                             "when run in a terminal; Python: connect(uri, password=...))")
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password), notifications_min_severity="OFF")
            self._driver.verify_connectivity()
        except AuthError:
            raise StoreError(f"Neo4j at {uri} refused user {user!r}: wrong user or password") from None
        except (ServiceUnavailable, OSError) as ex:
            raise StoreError(f"no Neo4j server answers at {uri} ({type(ex).__name__}); is it running?") from None
        except ValueError as ex:
            raise StoreError(f"bad Neo4j URI {uri!r}: {ex}") from None
        self.read_only = read_only
        self._schema_done = False
        comp = self.cypher("CALL dbms.components() YIELD name, versions, edition RETURN versions[0] AS v, edition")
        self.version, self.edition = str(comp["v"][0]), str(comp["edition"][0])
        try:
            check_version(self.version, uri)
            self._add_summaries()
            if self._runs_unlisted():  # lr_trajectory and the catalogue read the lists
                if read_only:
                    self._summaries_pending = (
                        "some runs' interaction summaries are missing or lack their edge lists (written by an "
                        "older commgraph, or a backfill cut short); connect once without read_only=True to add "
                        "them (interaction_catalogue and lr_trajectory read them)")
                    warnings.warn(f"{uri}: {self._summaries_pending}", stacklevel=3)
                else:
                    self._writable()  # which adds them
        except StoreError:
            self.close()
            raise

    def _writable(self) -> None:
        """Before the first write: refuse on a read-only store, else create constraints and indexes."""
        if self.read_only:
            raise StoreError(f"{self.uri} is open read-only; connect without read_only=True to change it")
        if not self._schema_done:
            for stmt in _constraints() + INDEXES:
                self._run(stmt)
            self._schema_done = True
            self._backfill_interaction_summaries()

    def _runs_unlisted(self) -> list[str]:
        """Runs with live edges but no listed InteractionSummary: written before the summaries existed
        or listed their edges, or left by a backfill killed part-way (it writes a run's summaries in
        one transaction, so one listed summary stands for the run's). Two index seeks a run."""
        return [r["id"] for r in self._run(RUNS_UNLISTED)]

    def _backfill_interaction_summaries(self) -> None:
        """A store written before InteractionSummary existed or listed its edges (or by neo4j-admin
        import of an older export): (re)create the summaries of its live edges, so the questions
        reading them answer. Run by run, each in one transaction (a whole 10M-edge study's lists in
        one would strain the server's transaction memory): a kill part-way leaves runs that are
        whole, listed or not, and the next writable connect finishes the rest."""
        pending = set(self._runs_unlisted())
        if not pending:
            return
        rows = self.cypher(INTERACTION_SUMMARY_BACKFILL, {"pvalue": S.SUMMARY_PVALUE})
        nodes = interaction_summaries(rows[rows[S.RUN_ID].isin(pending)])
        create = (f"UNWIND $rows AS row MATCH (i:{S.INTERACTION_NODE} {{{S.NAME}: row.{S.INTERACTION}}}) "
                  f"CREATE (i)-[:{S.HAS_SUMMARY}]->(s:{S.INTERACTION_SUMMARY}) SET s = row")

        def write(tx, run_id: str, part: pd.DataFrame) -> None:
            tx.run(f"MATCH (s:{S.INTERACTION_SUMMARY}) WHERE s.{S.RUN_ID} = $id DETACH DELETE s", id=run_id).consume()
            rows = _rows(part)
            for i in range(0, len(rows), BATCH):
                tx.run(create, rows=rows[i : i + BATCH]).consume()

        with self._driver.session(database=self.database) as session:
            for run_id, part in track(nodes.groupby(S.RUN_ID, sort=True), total=len(pending), show=self.progress,
                                      description=f"Neo4j: interaction summaries of {len(pending):,} runs"):
                session.execute_write(write, run_id, part)

    # --- plumbing -----------------------------------------------------------------------
    def cypher(self, text: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        import neo4j

        return self._driver.execute_query(
            text, parameters_=parameters or {}, database_=self.database, result_transformer_=neo4j.Result.to_df,
            routing_=neo4j.RoutingControl.READ if self.read_only else neo4j.RoutingControl.WRITE,
        )

    def _answer(self, text: str, parameters: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
        # The rows as one record holding a list of them: the driver reads a record at a time (two
        # socket reads and a Record object each, ~30 µs), which at 10k+ rows costs more than the
        # server's work; one list arrives as one message (at 10M edges lr_trajectory given an
        # interaction, 15k rows: 683 -> 282 ms; the differential's read of one day and group, 100k
        # rows: 2.8 -> 0.8 s). A named question runs as written inside the subquery, so a Browser
        # user pasting it gets the same rows. The list is built on the server: one larger than a
        # transaction may hold (db.memory.transaction.max; a transient error) falls back at once to
        # streaming the rows, so the list goes as an auto-commit run, which the driver does not retry
        # (execute_query would, for 30 s); the fallback keeps execute_query's retries for the rest.
        import neo4j

        mode = neo4j.READ_ACCESS if self.read_only else neo4j.WRITE_ACCESS
        try:
            with self._driver.session(database=self.database, default_access_mode=mode) as session:
                rows = session.run(as_one_list(text, columns), parameters).single(strict=True)["rows"]
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as ex:
            if not ex.is_retryable():
                raise
            return self.cypher(text, parameters)
        return pd.DataFrame(rows, columns=list(columns))

    def _run(self, text: str, parameters: dict[str, Any] | None = None):
        records, _, _ = self._driver.execute_query(text, parameters_=parameters or {}, database_=self.database)
        return records

    def _live_load(self, run_id: str) -> str | None:
        got = self._run(f"MATCH (run:{S.RUN} {{{S.RUN_ID}: $id}}) RETURN run.{S.LOAD_ID} AS l", {"id": run_id})
        return got[0]["l"] if got else None

    def _sweep(self, run_id: str, keep: str | None) -> None:
        """Delete the run's edges and summaries older than load ``keep`` (all of them when None)."""
        for rel in S.LOAD_RELS:
            query = _delete_run(rel) if keep is None else _delete_stale(rel)
            while self._run(query, {"run_id": run_id, "keep": keep, "batch": BATCH})[0]["n"]:
                pass
        self._run(DELETE_STALE_SUMMARIES, {"run_id": run_id, "keep": keep})

    # --- writing ------------------------------------------------------------------------
    def _write(self, frames_iter) -> pd.DataFrame:
        self._writable()
        done = []  # each table's frames without its edges (what follows the switch needs)
        for frames in frames_iter:
            self._stage(frames)
            done.append(dataclasses.replace(frames, signals=frames.signals.iloc[0:0]))
        if not done:
            return pd.DataFrame()
        runs = pd.concat([f.runs for f in done], ignore_index=True)
        stale = self._stale_ids(runs)

        def switch(tx) -> None:
            # one transaction makes every run of this load visible at once, with what derives from
            # them (sample links, per-sample counts, pooled totals, stale contrasts, NEXT): a client
            # killed at any instant leaves all of it old or all of it new
            tx.run(f"MERGE (l:{LOCK} {{name: 'next'}}) SET l.at = timestamp()").consume()  # switches in turn
            tx.run(SWITCH, rows=_rows(runs)).consume()
            for frames in done:
                self._counts(tx, frames)
            if stale:
                tx.run(MARK_STALE, ids=stale).consume()
            self._next(tx)

        with self._driver.session(database=self.database) as session:
            session.execute_write(switch)
        # what is older than the live load goes: the load replaced, leftovers of a killed one, and
        # this one's edges too if a later load of the run switched first
        for run_id in runs[S.RUN_ID]:
            self._sweep(run_id, self._live_load(run_id))
        return runs

    def _stage(self, frames: GraphFrames) -> None:
        """Nodes, their links and the SIGNALS edges of one table; invisible until the switch.

        Only nodes the server lacks are written, with the links that hang off them, in one
        transaction (as the embedded store does): most of a run's nodes (interactions, genes,
        pathways) are already there from earlier runs, and a node is never left without its links.
        """
        fresh = {}
        for label, frame in frames.nodes().items():
            key = S.NODE_TABLE[label].key
            have = self._run(f"UNWIND $keys AS k MATCH (n:{label} {{`{key}`: k}}) RETURN k", {"keys": _plain(frame[key])})
            fresh[label] = frame[~frame[key].isin({r["k"] for r in have})]

        def nodes(tx) -> None:
            for label, frame in fresh.items():
                key = S.NODE_TABLE[label].key
                # counts are set after the switch, with the run they belong to
                cols = [c for c in node_columns(label) if c not in (S.N_CELLS, S.FRACTION)]
                rows = _rows(frame[cols])
                for i in range(0, len(rows), BATCH):  # MERGE: a concurrent load may create it first
                    tx.run(f"UNWIND $rows AS row MERGE (n:{label} {{`{key}`: row.`{key}`}}) ON CREATE SET n = row",
                           rows=rows[i : i + BATCH]).consume()
            for rel, frame in frames.rels().items():
                r = S.REL_TABLE[rel]
                # a link hangs off its new node: the source's, but a HAS_SUMMARY's new end is its summary
                end, owner = (TO, r.target) if rel == S.HAS_SUMMARY else (FROM, r.source)
                frame = frame[frame[end].isin(fresh[owner][S.NODE_TABLE[owner].key])]
                ks, kt = S.NODE_TABLE[r.source].key, S.NODE_TABLE[r.target].key
                rows = _rows(frame)
                for i in range(0, len(rows), BATCH):
                    tx.run(f"UNWIND $rows AS row MATCH (a:{r.source} {{`{ks}`: row.`{FROM}`}}) "
                           f"MATCH (b:{r.target} {{`{kt}`: row.`{TO}`}}) MERGE (a)-[:{rel}]->(b)",
                           rows=rows[i : i + BATCH]).consume()

        if any(len(f) for f in fresh.values()):
            with self._driver.session(database=self.database) as session:
                session.execute_write(nodes)
        self._create_signals(frames.signals[SIGNAL_COLUMNS])
        # the edges' summaries, under the same load ids: invisible until the switch like them, and a
        # killed load's are swept with them
        # (through the same column-wise writer as SIGNALS: row maps cost ~25 µs a relationship)
        for rel, frame in ((S.SUMMARY, frames.summary), (S.PATHWAY_SUMMARY, frames.pathway_summary)):
            if len(frame):
                self._create_signals(frame, rel)

    def _create_summaries(self, summary: pd.DataFrame, pathway: pd.DataFrame, run=None) -> None:
        run = run or self._run
        for rel, frame in ((S.SUMMARY, summary), (S.PATHWAY_SUMMARY, pathway)):
            props = [n for n, _ in S.REL_TABLE[rel].properties]
            for lo in range(0, len(frame), BATCH):
                part = frame.iloc[lo : lo + BATCH]
                run(
                    f"UNWIND range(0, size($f) - 1) AS i "
                    f"MATCH (a:{S.CELL_STATE} {{{S.KEY_PROP}: $f[i]}}) MATCH (b:{S.CELL_STATE} {{{S.KEY_PROP}: $t[i]}}) "
                    f"CREATE (a)-[r:{rel}]->(b) SET r = $p[i]",
                    {"f": _plain(part[FROM]), "t": _plain(part[TO]), "p": _rows(part[props])},
                )

    def _add_summaries(self) -> None:
        """A store written before the summary layer: its summaries, from its edges (all of them:
        a killed load's leftovers get summaries that its sweep removes with them)."""
        if self._run(f"MATCH ()-[r:{S.SIGNALS}]->() RETURN r LIMIT 1") and not any(
                self._run(f"MATCH ()-[r:{rel}]->() RETURN r LIMIT 1") for rel in (S.SUMMARY, S.PATHWAY_SUMMARY)):
            if self.read_only:
                raise StoreError(f"{self.uri} was written before commgraph kept a summary layer: connect once "
                                 "without read_only=True to add it")
            self._writable()
            frames = self._summary_backfill()
            with self._driver.session(database=self.database) as session:  # one transaction: all or none
                session.execute_write(lambda tx: self._create_summaries(*frames, run=lambda q, p: tx.run(q, p).consume()))

    def _counts(self, tx, frames: GraphFrames) -> None:
        """In the switch: FROM_SAMPLE links, per-sample counts and CellState totals of one table."""
        if len(frames.from_sample):
            tx.run(
                f"UNWIND $rows AS row MATCH (run:{S.RUN} {{{S.RUN_ID}: row.`{FROM}`}}) "
                f"MATCH (x:{S.SAMPLE_NODE} {{{S.ID}: row.`{TO}`}}) MERGE (run)-[:{S.FROM_SAMPLE}]->(x)",
                rows=_rows(frames.from_sample),
            ).consume()
        if frames.sample_ids:  # a sample's counts are replaced whole, then pooled per day × group
            tx.run(DELETE_COUNTED_IN, ids=frames.sample_ids).consume()
            tx.run(
                f"UNWIND $rows AS row MATCH (s:{S.CELL_STATE} {{{S.KEY_PROP}: row.`{FROM}`}}) "
                f"MATCH (x:{S.SAMPLE_NODE} {{{S.ID}: row.`{TO}`}}) "
                f"CREATE (s)-[:{S.COUNTED_IN} {{{S.N_CELLS}: row.{S.N_CELLS}, {S.FRACTION}: row.{S.FRACTION}}}]->(x)",
                rows=_rows(frames.counted_in),
            ).consume()
            keys = frames.counted_in[FROM].unique()
            splits = frames.cell_states.set_index(S.KEY_PROP).loc[keys][[S.DAY, S.GROUP]].drop_duplicates()
            counted = tx.run(COUNTED_AT, splits=[{S.DAY: int(d), "g": str(g)} for d, g in splits.itertuples(index=False)]).to_df()
            pooled = pooled_counts(counted) if len(counted) else pd.DataFrame()
            if len(pooled):
                tx.run(SET_COUNTS, rows=[{"k": k, "n": int(n), "f": float(f)}
                                         for k, n, f in pooled.itertuples(index=False)]).consume()
        if len(frames.counted_states):
            tx.run(
                f"UNWIND $rows AS row MATCH (s:{S.CELL_STATE} {{{S.KEY_PROP}: row.{S.KEY_PROP}}}) "
                f"SET s.{S.N_CELLS} = row.{S.N_CELLS}, s.{S.FRACTION} = row.{S.FRACTION}",
                rows=_rows(frames.counted_states),
            ).consume()

    def _create_signals(self, sig: pd.DataFrame, rel: str = S.SIGNALS) -> None:
        """CREATE the edges (of SIGNALS, or another table written per load), ``WRITERS`` batches
        (transactions) in flight; all are done before the switch."""
        size = min(BATCH, SIGNALS_BATCH)  # a smaller BATCH (the kill test's) caps these too
        n = -(-len(sig) // size)
        batches = track(_signal_batches(sig, size, rel), description=f"Neo4j: {len(sig):,} {rel}",
                        total=n, show=self.progress and n > 1)
        with ThreadPoolExecutor(WRITERS) as pool:
            pending: set = set()
            for query, params in batches:
                if len(pending) >= WRITERS:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        f.result()  # a failed batch fails the load (the next load sweeps what it left)
                pending.add(pool.submit(self._run, query, params))
            for f in pending:
                f.result()

    def _rebuild_next(self) -> None:
        """NEXT from the committed CellStates, in one transaction that first locks a singleton node:
        concurrent loads rebuild one after the other, each from every state committed before it
        (a delete and a create in separate transactions let two loads double every link)."""
        def rebuild(tx) -> None:
            tx.run(f"MERGE (l:{LOCK} {{name: 'next'}}) SET l.at = timestamp()").consume()
            self._next(tx)

        with self._driver.session(database=self.database) as session:
            session.execute_write(rebuild)

    @staticmethod
    def _next(tx) -> None:
        nxt = next_edges(tx.run(CELL_STATES).to_df())
        tx.run(f"MATCH ()-[n:{S.NEXT}]->() DELETE n").consume()
        tx.run(
            f"UNWIND $rows AS row MATCH (a:{S.CELL_STATE} {{{S.KEY_PROP}: row.`{FROM}`}}) "
            f"MATCH (b:{S.CELL_STATE} {{{S.KEY_PROP}: row.`{TO}`}}) CREATE (a)-[:{S.NEXT}]->(b)",
            rows=_rows(nxt),
        ).consume()

    def remove_run(self, run_id: str) -> None:
        self._require_run(run_id)
        self._writable()
        samples = self.cypher(SAMPLES_OF_RUN, {"id": run_id})
        self._run(f"MATCH (run:{S.RUN} {{{S.RUN_ID}: $id}}) DETACH DELETE run", {"id": run_id})  # invisible now
        self._mark_stale(pd.DataFrame({S.RUN_ID: [run_id]}))
        self._sweep(run_id, None)
        self._drop_sample_counts(samples)
        self._drop_orphans()

    def _drop_orphans(self) -> None:
        """CellStates no live run uses any more, CellTypes without states; NEXT rebuilt."""
        self._run(DROP_STATES, {"keys": self._orphan_states()})
        self._run(DROP_CELL_TYPES)
        self._rebuild_next()

    def _write_sample_sheet(self, f) -> None:
        self._writable()
        rows = [{"id": i, "patient": p} for i, p in zip(f.samples[S.ID], f.samples[S.PATIENT])]
        ids = f.samples[S.ID].tolist()

        def work(tx):
            tx.run(SHEET_SET_PATIENT, rows=rows).consume()
            tx.run(SHEET_UNLINK, ids=ids).consume()
            tx.run(f"UNWIND $rows AS row MERGE (p:{S.PATIENT_NODE} {{{S.ID}: row.{S.ID}}}) SET p = row",
                   rows=_rows(f.patients)).consume()
            tx.run(SHEET_LINK, rows=rows).consume()
            tx.run(SHEET_ORPHANS).consume()
            tx.run(SHEET_DROP_MEASUREMENTS, ids=ids).consume()
            for lo in range(0, len(f.measurements), BATCH):
                tx.run(f"UNWIND $rows AS row CREATE (m:{S.MEASUREMENT}) SET m = row",
                       rows=_rows(f.measurements.iloc[lo : lo + BATCH])).consume()
                tx.run(f"UNWIND $rows AS row MATCH (x:{S.SAMPLE_NODE} {{{S.ID}: row.`{FROM}`}}) "
                       f"MATCH (m:{S.MEASUREMENT} {{{S.KEY_PROP}: row.`{TO}`}}) CREATE (x)-[:{S.MEASURED}]->(m)",
                       rows=_rows(f.measured.iloc[lo : lo + BATCH])).consume()

        with self._driver.session(database=self.database) as session:
            session.execute_write(work)

    def write_contrasts(self, nodes: pd.DataFrame, edges: Iterable[pd.DataFrame]) -> None:
        """One transaction: the old contrasts of these ids go and the new ones come, or nothing."""
        self._writable()
        props = [n for n, _ in S.CHANGED_PROPERTIES]
        ids = nodes[S.ID].tolist()
        parts = list(edges)  # all computed before the transaction: the driver may retry it

        def work(tx):
            tx.run(f"MATCH ()-[r:{S.CHANGED}]->() WHERE r.{S.CONTRAST_PROP} IN $ids DELETE r", ids=ids).consume()
            tx.run(f"MATCH (k:{S.CONTRAST}) WHERE k.{S.ID} IN $ids DELETE k", ids=ids).consume()
            tx.run(f"UNWIND $rows AS row CREATE (k:{S.CONTRAST}) SET k = row", rows=_rows(nodes)).consume()
            for part in (frame.iloc[lo : lo + BATCH] for frame in parts for lo in range(0, len(frame), BATCH)):
                tx.run(
                    f"UNWIND range(0, size($f) - 1) AS i "
                    f"MATCH (a:{S.CELL_STATE} {{{S.KEY_PROP}: $f[i]}}) MATCH (b:{S.CELL_STATE} {{{S.KEY_PROP}: $t[i]}}) "
                    f"CREATE (a)-[r:{S.CHANGED}]->(b) SET r = $p[i]",
                    f=_plain(part[FROM]), t=_plain(part[TO]), p=_rows(part[props]),
                ).consume()

        with self._driver.session(database=self.database) as session:
            session.execute_write(work)

    def clear(self) -> None:
        # relationships first: DETACH DELETE of dense nodes in one batch exhausts the tx memory
        self._writable()
        with self._driver.session(database=self.database) as session:
            session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS").consume()
            session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self._driver.close()
