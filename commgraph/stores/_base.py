"""The one small interface both stores share, and the Cypher they share.

Visibility of runs (the same on both engines, so every named query reads the same way):
each load writes its SIGNALS edges with a fresh ``load_id`` and makes the run's ``Run`` node
point at that ``load_id`` last. Queries only read edges whose ``load_id`` is a live Run's:

    MATCH (run:Run) WITH collect(run.load_id) AS live
    MATCH (a:CellState)-[r:SIGNALS]->(b:CellState) WHERE r.load_id IN live ...

so a reader never sees half a run, and edges of an interrupted or replaced load stay
invisible until the next load of that run sweeps them away.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from .. import _schema as S
from .._graph import FROM, GraphFrames, build, join_runs, new_load_id, per_sample, run_chunks
from .._hints import hint_for, state_hint
from .._time import DEFAULT_UNIT, check_same_unit
from ..errors import HintWarning, QueryError

# rows per part of a load: a table is built and staged in parts of whole runs up to this size (one
# transaction each, all invisible until the switch), so a load's memory does not grow with the study.
# LadybugDB holds a transaction's edges in memory until it commits, so the part sets a load's peak
# over its table: a 10M-edge Store.load (table 1.09 GB) peaked at 2.40 GB with 1M-row parts and
# 1.95 GB with 500k, 9% slower (110 vs 101 s; measured)
LOAD_CHUNK_ROWS = 500_000


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic collector paused while an answer becomes Python objects: every 700 new
    objects start a collection pass, which at 50k+ rows took longer than the conversion itself (the
    catalogue's gene lists at 10M edges: 80 -> 16 ms; measured). Rows hold no cycles; any made
    meanwhile go at the first collection after."""
    if not gc.isenabled():  # paused already (a caller's, or another thread's, pause)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Bookkeeping queries (not questions users ask; those live in cypher/).
RUNS = f"""
MATCH (run:{S.RUN})
RETURN run.{S.RUN_ID} AS {S.RUN_ID}, run.{S.FORMAT} AS {S.FORMAT}, run.{S.METHOD} AS {S.METHOD},
       run.{S.DAY} AS {S.DAY}, run.`{S.GROUP}` AS `{S.GROUP}`, run.{S.SAMPLE} AS {S.SAMPLE},
       run.{S.PATIENT} AS {S.PATIENT}, run.{S.N_ROWS} AS {S.N_ROWS}, run.{S.N_SIGNIFICANT} AS {S.N_SIGNIFICANT},
       run.{S.TOOL} AS {S.TOOL}, run.{S.TOOL_VERSION} AS {S.TOOL_VERSION},
       run.{S.DATABASE_VERSION} AS {S.DATABASE_VERSION}, run.{S.PARAMETERS} AS {S.PARAMETERS},
       run.{S.SOURCE_FILES} AS {S.SOURCE_FILES}, run.{S.LOADED_AT} AS {S.LOADED_AT}
ORDER BY {S.DAY}, `{S.GROUP}`, {S.RUN_ID}
"""

TIMEPOINTS = f"""
MATCH (run:{S.RUN})
RETURN run.{S.RUN_ID} AS {S.RUN_ID}, run.{S.DAY} AS {S.DAY}, run.{S.TIME_UNIT} AS {S.TIME_UNIT},
       run.{S.TIME_LABEL} AS {S.TIME_LABEL}
"""

SIGNALS_BY_DAY_GROUP = f"""
MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(:{S.CELL_STATE})
WHERE r.{S.LOAD_ID} IN live
RETURN a.{S.DAY} AS {S.DAY}, a.`{S.GROUP}` AS `{S.GROUP}`, count(r) AS signals,
       sum(CASE WHEN r.{S.SIGNIFICANT} THEN 1 ELSE 0 END) AS significant
ORDER BY {S.DAY}, `{S.GROUP}`
"""

CELL_STATE_COLUMNS = (S.KEY_PROP, S.CELL_TYPE_PROP, S.DAY, S.GROUP, S.N_CELLS, S.FRACTION)
CELL_STATES = f"""
MATCH (s:{S.CELL_STATE})
RETURN s.{S.KEY_PROP} AS {S.KEY_PROP}, s.{S.CELL_TYPE_PROP} AS {S.CELL_TYPE_PROP}, s.{S.DAY} AS {S.DAY},
       s.`{S.GROUP}` AS `{S.GROUP}`, s.{S.N_CELLS} AS {S.N_CELLS}, s.{S.FRACTION} AS {S.FRACTION}
ORDER BY {S.CELL_TYPE_PROP}, `{S.GROUP}`, {S.DAY}
"""

# SIGNALS edges as canonical rows: what `pull`/`push`/export copy and parity tests compare
_SIGNALS_ROWS = f"""
RETURN a.{S.CELL_TYPE_PROP} AS {S.SOURCE}, b.{S.CELL_TYPE_PROP} AS {S.TARGET},
       r.{S.LIGAND} AS {S.LIGAND}, r.{S.RECEPTOR} AS {S.RECEPTOR}, r.{S.INTERACTION} AS {S.INTERACTION},
       r.{S.PATHWAY} AS {S.PATHWAY}, r.{S.SCORE} AS {S.SCORE}, r.{S.PVALUE} AS {S.PVALUE},
       r.{S.SIGNIFICANT} AS {S.SIGNIFICANT}, a.{S.DAY} AS {S.DAY}, a.`{S.GROUP}` AS `{S.GROUP}`,
       r.{S.SAMPLE} AS {S.SAMPLE}, r.{S.METHOD} AS {S.METHOD}, r.{S.RUN_ID} AS {S.RUN_ID},
       r.{S.EXTRA} AS {S.EXTRA}
"""

SIGNALS_TABLE = f"""
MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(b:{S.CELL_STATE})
WHERE r.{S.LOAD_ID} IN live
{_SIGNALS_ROWS}"""

RUN_AT = f"""
MATCH (run:{S.RUN}) WHERE run.{S.RUN_ID} = $run_id
RETURN run.{S.LOAD_ID} AS {S.LOAD_ID}, run.{S.DAY} AS {S.DAY}, run.`{S.GROUP}` AS `{S.GROUP}`
"""

# One run's live edges. A run of one day and group (the usual case) starts from that day's
# and group's CellStates, so reading a large study run by run doesn't scan every edge per run.
RUN_SIGNALS = f"""
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(b:{S.CELL_STATE})
WHERE r.{S.RUN_ID} = $run_id AND r.{S.LOAD_ID} = $load_id
{_SIGNALS_ROWS}"""

RUN_SIGNALS_AT = f"""
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(b:{S.CELL_STATE})
WHERE a.{S.DAY} = $day AND a.`{S.GROUP}` = $`{S.GROUP}` AND r.{S.RUN_ID} = $run_id AND r.{S.LOAD_ID} = $load_id
{_SIGNALS_ROWS}"""

# Several runs' live edges, lean (what the differential reads: per sample × feature scores). One
# query per day × group from its CellStates: a per-sample study has a run per patient there, and
# reading run by run read each of them once per run (6× the edges at 6 patients), with every column.
# A run's live edges are its run id and live load id together (a load id holds no '|'): two lists
# would let in the stale edges of a run replaced since a load it shared with another.
RUNS_SCORES = (S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION, S.PATHWAY, S.SCORE, S.SIGNIFICANT)


def runs_scores_at(source: str = f"a.{S.CELL_TYPE_PROP}", target: str = f"b.{S.CELL_TYPE_PROP}") -> str:
    """The live edges of one day × group's runs (``$live``: run_id|load_id), lean; the cell types of
    the sender ``a`` and receiver ``b`` as the expressions given."""
    return f"""
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(b:{S.CELL_STATE})
WHERE a.{S.DAY} = $day AND a.`{S.GROUP}` = $at_group AND (r.{S.RUN_ID} + '|' + r.{S.LOAD_ID}) IN $live
RETURN r.{S.RUN_ID} AS {S.RUN_ID}, {source} AS {S.SOURCE}, {target} AS {S.TARGET},
       r.{S.INTERACTION} AS {S.INTERACTION}, r.{S.PATHWAY} AS {S.PATHWAY}, r.{S.SCORE} AS {S.SCORE},
       r.{S.SIGNIFICANT} AS {S.SIGNIFICANT}
"""


RUNS_SCORES_AT = runs_scores_at()

RUNS_AT = f"""
MATCH (run:{S.RUN}) WHERE run.{S.RUN_ID} IN $run_ids
RETURN run.{S.RUN_ID} AS {S.RUN_ID}, run.{S.LOAD_ID} AS {S.LOAD_ID}, run.{S.DAY} AS {S.DAY}, run.`{S.GROUP}` AS `{S.GROUP}`
"""

# The summary layer of a store written before it existed: every SIGNALS edge (live or not: the
# journal of an interrupted load may yet switch or drop its edges, and their summaries go with them
# by load id), aggregated as commgraph._graph.summaries does, per pathway (SUMMARY is collapsed from
# it); one day × group of senders at a time, so the engine's aggregation stays small (10M edges at
# once overflowed a 1.5 GB LadybugDB buffer pool)
_KEPT = f"r.{S.SCORE} >= $min_score"
_SIG = f"r.{S.SIGNIFICANT} AND coalesce(r.{S.PVALUE}, 0.0) <= $pvalue"
SUMMARY_BACKFILL = f"""
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(b:{S.CELL_STATE})
WHERE a.{S.DAY} = $day AND a.`{S.GROUP}` = $`{S.GROUP}`
RETURN a.{S.KEY_PROP} AS from_key, b.{S.KEY_PROP} AS to_key, r.{S.RUN_ID} AS {S.RUN_ID}, r.{S.LOAD_ID} AS {S.LOAD_ID},
       r.{S.METHOD} AS {S.METHOD}, r.{S.SAMPLE} AS {S.SAMPLE}, r.{S.PATHWAY} AS {S.PATHWAY},
       sum(CASE WHEN {_KEPT} THEN 1 ELSE 0 END) AS {S.N_INTERACTIONS},
       sum(CASE WHEN {_KEPT} THEN r.{S.SCORE} ELSE 0.0 END) AS {S.TOTAL_SCORE},
       sum(CASE WHEN {_KEPT} AND {_SIG} THEN 1 ELSE 0 END) AS {S.N_SIGNIFICANT},
       sum(CASE WHEN {_KEPT} AND {_SIG} THEN r.{S.SCORE} ELSE 0.0 END) AS {S.SIGNIFICANT_SCORE},
       max(CASE WHEN {_KEPT} THEN r.{S.SCORE} END) AS {S.MAX_SCORE},
       max(CASE WHEN {_KEPT} AND {_SIG} THEN r.{S.SCORE} END) AS {S.MAX_SIGNIFICANT_SCORE},
       sum(CASE WHEN NOT {_KEPT} AND {_SIG} THEN 1 ELSE 0 END) AS {S.N_SIGNIFICANT_NEGATIVE},
       sum(CASE WHEN NOT {_KEPT} AND {_SIG} THEN r.{S.SCORE} ELSE 0.0 END) AS {S.SIGNIFICANT_NEGATIVE_SCORE}
"""

def sweep_summaries(run_ids: list[str] | None) -> tuple[str, dict]:
    """InteractionSummary nodes no live Run points at (of these runs; of all when None), deleted
    like the SIGNALS edges they summarise."""
    only = f"s.{S.RUN_ID} IN $ids AND " if run_ids is not None else ""
    return (f"MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live "
            f"MATCH (s:{S.INTERACTION_SUMMARY}) WHERE {only}NOT s.{S.LOAD_ID} IN live DETACH DELETE s",
            {"ids": run_ids} if run_ids is not None else {})


# per run × interaction aggregation of the live SIGNALS edges: what build() writes as
# InteractionSummary nodes, read back to fill them into a store written before they existed
INTERACTION_SUMMARY_BACKFILL = f"""
MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(b:{S.CELL_STATE})
WHERE r.{S.LOAD_ID} IN live
RETURN r.{S.RUN_ID} AS {S.RUN_ID}, r.{S.LOAD_ID} AS {S.LOAD_ID}, r.{S.INTERACTION} AS {S.INTERACTION},
       a.{S.DAY} AS {S.DAY}, a.`{S.GROUP}` AS `{S.GROUP}`, count(r) AS {S.N_PAIRS},
       count(CASE WHEN r.{S.SIGNIFICANT} AND coalesce(r.{S.PVALUE}, 0.0) <= $pvalue THEN 1 END) AS {S.N_SIGNIFICANT},
       max(r.{S.SCORE}) AS {S.MAX_SCORE}, sum(r.{S.SCORE}) AS {S.TOTAL_SCORE}, min(r.{S.PVALUE}) AS {S.MIN_PVALUE},
       collect(a.{S.CELL_TYPE_PROP}) AS {S.SENDERS}, collect(b.{S.CELL_TYPE_PROP}) AS {S.RECEIVERS},
       collect(r.{S.SCORE}) AS {S.SCORES}, collect(coalesce(r.{S.PVALUE}, {S.NO_PVALUE})) AS {S.PVALUES},
       collect(r.{S.SIGNIFICANT}) AS {S.CALLS}
"""

# per-sample counts of the given day × group splits, to pool onto their CellStates
COUNTED_AT = f"""
UNWIND $splits AS sp
MATCH (s:{S.CELL_STATE})-[c:{S.COUNTED_IN}]->(:{S.SAMPLE_NODE})
WHERE s.{S.DAY} = sp.{S.DAY} AND s.`{S.GROUP}` = sp.g
RETURN s.{S.KEY_PROP} AS {S.KEY_PROP}, s.{S.DAY} AS {S.DAY}, s.`{S.GROUP}` AS `{S.GROUP}`, c.{S.N_CELLS} AS {S.N_CELLS}
"""

SET_COUNTS = (f"UNWIND $rows AS row MATCH (s:{S.CELL_STATE}) WHERE s.{S.KEY_PROP} = row.k "
              f"SET s.{S.N_CELLS} = row.n, s.{S.FRACTION} = row.f")

SAMPLES_OF_RUN = (f"MATCH (run:{S.RUN})-[:{S.FROM_SAMPLE}]->(x:{S.SAMPLE_NODE}) WHERE run.{S.RUN_ID} = $id "
                  f"RETURN x.{S.ID} AS {S.ID}, x.{S.DAY} AS {S.DAY}, x.`{S.GROUP}` AS `{S.GROUP}`")
SAMPLES_WITHOUT_RUNS = (f"UNWIND $ids AS id MATCH (x:{S.SAMPLE_NODE}) WHERE x.{S.ID} = id "
                        f"AND NOT EXISTS {{ MATCH (:{S.RUN})-[:{S.FROM_SAMPLE}]->(x) }} "
                        f"RETURN x.{S.ID} AS {S.ID}, x.{S.DAY} AS {S.DAY}, x.`{S.GROUP}` AS `{S.GROUP}`")

DELETE_COUNTED_IN = (f"UNWIND $ids AS id MATCH (:{S.CELL_STATE})-[c:{S.COUNTED_IN}]->(x:{S.SAMPLE_NODE}) "
                     f"WHERE x.{S.ID} = id DELETE c")

# per-sample counts: which sample, patient, day and group each count belongs to
SAMPLE_COUNTS = f"""
MATCH (s:{S.CELL_STATE})-[c:{S.COUNTED_IN}]->(x:{S.SAMPLE_NODE})
RETURN x.{S.ID} AS {S.SAMPLE}, x.{S.PATIENT} AS {S.PATIENT}, x.{S.DAY} AS {S.DAY}, x.`{S.GROUP}` AS `{S.GROUP}`,
       s.{S.CELL_TYPE_PROP} AS {S.CELL_TYPE_PROP}, c.{S.N_CELLS} AS {S.N_CELLS}, c.{S.FRACTION} AS {S.FRACTION}
ORDER BY {S.SAMPLE}, {S.CELL_TYPE_PROP}
"""

SAMPLES = f"""
MATCH (x:{S.SAMPLE_NODE})
OPTIONAL MATCH (run:{S.RUN})-[:{S.FROM_SAMPLE}]->(x)
RETURN x.{S.ID} AS {S.SAMPLE}, x.{S.PATIENT} AS {S.PATIENT}, x.{S.DAY} AS {S.DAY}, x.`{S.GROUP}` AS `{S.GROUP}`,
       count(run) AS n_runs
ORDER BY `{S.GROUP}`, {S.PATIENT}, {S.DAY}
"""

CONTRASTS = f"""
MATCH (k:{S.CONTRAST})
RETURN k.{S.ID} AS {S.ID}, k.{S.KIND} AS {S.KIND}, k.`{S.GROUP}` AS `{S.GROUP}`, k.{S.REFERENCE} AS {S.REFERENCE},
       k.{S.DAY} AS {S.DAY}, k.{S.BASELINE} AS {S.BASELINE}, k.{S.METHOD} AS {S.METHOD},
       k.{S.N_PATIENTS} AS {S.N_PATIENTS}, k.{S.RUNS_PROP} AS {S.RUNS_PROP}, k.{S.SETTINGS} AS {S.SETTINGS},
       k.{S.COMPUTED_AT} AS {S.COMPUTED_AT}, k.{S.STALE} AS {S.STALE}
ORDER BY {S.ID}
"""

MEASUREMENTS = f"""
MATCH (x:{S.SAMPLE_NODE})-[:{S.MEASURED}]->(m:{S.MEASUREMENT})
RETURN x.{S.ID} AS {S.SAMPLE}, x.{S.PATIENT} AS {S.PATIENT}, x.`{S.GROUP}` AS `{S.GROUP}`, x.{S.DAY} AS {S.DAY},
       m.{S.VARIABLE} AS {S.VARIABLE}, m.{S.VALUE} AS {S.VALUE}, m.{S.TEXT} AS {S.TEXT}
ORDER BY {S.SAMPLE}, {S.VARIABLE}
"""

# a sample sheet's statements, shared by both engines (each runs them in one transaction)
SHEET_SET_PATIENT = (f"UNWIND $rows AS row MATCH (x:{S.SAMPLE_NODE}) WHERE x.{S.ID} = row.id "
                     f"SET x.{S.PATIENT} = row.patient")
SHEET_UNLINK = (f"UNWIND $ids AS id MATCH (x:{S.SAMPLE_NODE})-[r:{S.OF_PATIENT}]->(:{S.PATIENT_NODE}) "
                f"WHERE x.{S.ID} = id DELETE r")
SHEET_LINK = (f"UNWIND $rows AS row MATCH (x:{S.SAMPLE_NODE}), (p:{S.PATIENT_NODE}) "
              f"WHERE x.{S.ID} = row.id AND p.{S.ID} = row.patient CREATE (x)-[:{S.OF_PATIENT}]->(p)")
SHEET_ORPHANS = (f"MATCH (p:{S.PATIENT_NODE}) WHERE NOT EXISTS {{ MATCH (p)<-[:{S.OF_PATIENT}]-(:{S.SAMPLE_NODE}) }} "
                 f"DELETE p")
SHEET_DROP_MEASUREMENTS = (f"UNWIND $ids AS id MATCH (x:{S.SAMPLE_NODE})-[:{S.MEASURED}]->(m:{S.MEASUREMENT}) "
                           f"WHERE x.{S.ID} = id DETACH DELETE m")

MARK_STALE = f"UNWIND $ids AS id MATCH (k:{S.CONTRAST}) WHERE k.{S.ID} = id SET k.{S.STALE} = true"
# Day × group pairs that live edges reach: only needed for runs that span days or groups
LIVE_DAY_GROUPS = f"""
MATCH (run:{S.RUN}) WITH collect(run.{S.LOAD_ID}) AS live
MATCH (a:{S.CELL_STATE})-[r:{S.SIGNALS}]->(:{S.CELL_STATE})
WHERE r.{S.LOAD_ID} IN live
RETURN DISTINCT a.{S.DAY} AS {S.DAY}, a.`{S.GROUP}` AS `{S.GROUP}`
"""

# After a run is removed: its day × group's CellStates (with their counts and whatever hangs off
# them) go when no live run is left there, CellTypes without states go, and NEXT is rebuilt.
DROP_STATES = f"MATCH (s:{S.CELL_STATE}) WHERE s.{S.KEY_PROP} IN $keys DETACH DELETE s"
DROP_CELL_TYPES = (
    f"MATCH (c:{S.CELL_TYPE}) WHERE NOT EXISTS {{ MATCH (:{S.CELL_STATE})-[:{S.OF_TYPE}]->(c) }} DELETE c"
)

INTERACTIONS = f"""
MATCH (i:{S.INTERACTION_NODE})
RETURN i.{S.NAME} AS {S.NAME}, i.{S.LIGAND} AS {S.LIGAND}, i.{S.RECEPTOR} AS {S.RECEPTOR},
       i.{S.PATHWAY} AS {S.PATHWAY}, i.{S.ANNOTATION} AS {S.ANNOTATION}
ORDER BY {S.NAME}
"""


class Store(ABC):
    """A graph store: load canonical tables, answer named queries as DataFrames.

    Open one with :func:`commgraph.connect`. Use as a context manager to close it.
    """

    uri: str
    # set when a read-only open finds the InteractionSummary layer incomplete (an older store, or a
    # backfill cut short): the questions reading it refuse rather than answer from part of the runs
    _summaries_pending: str | None = None

    # --- engine-specific ----------------------------------------------------------------
    @abstractmethod
    def cypher(self, text: str, parameters: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one Cypher statement with parameters; the result as a DataFrame."""

    def _answer(self, text: str, parameters: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
        """A named query's rows (an engine may fetch them in a form faster than :meth:`cypher`'s)."""
        return self.cypher(text, parameters)

    def _cypher_categorical(self, text: str, parameters: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
        """:meth:`_answer` with its string columns as categoricals (for reads of millions of rows
        that repeat a few hundred names; an engine may encode them on its side)."""
        df = self._answer(text, parameters, columns)
        for col in df.columns:  # strings only: a flag column with nulls stays as it came
            if df[col].dtype == object and pd.api.types.infer_dtype(df[col], skipna=True) in ("string", "empty"):
                df[col] = df[col].astype("category")
        return df

    @abstractmethod
    def _write(self, frames_iter) -> pd.DataFrame:
        """Write one load (frames of one or more tables, all under one ``load_id``) so that it
        replaces its runs and every run becomes visible at once, marking contrasts that used them
        stale; returns the runs."""

    @abstractmethod
    def write_contrasts(self, nodes: pd.DataFrame, edges: Iterable[pd.DataFrame]) -> None:
        """Write Contrast nodes and their CHANGED edges (frames of them, ``from``/``to`` CellState
        keys first, computed as they are taken), replacing contrasts of the same ids; all or
        nothing (see :func:`commgraph.differential`)."""

    @abstractmethod
    def _write_sample_sheet(self, frames) -> None:
        """Write a checked sample sheet's frames (see :meth:`load_samples`), all or nothing."""

    @abstractmethod
    def remove_run(self, run_id: str) -> None:
        """Take one run (its Run node and its SIGNALS edges) out of the store."""

    @abstractmethod
    def clear(self) -> None:
        """Delete everything in the store (the schema stays)."""

    @abstractmethod
    def close(self) -> None: ...

    # --- shared -------------------------------------------------------------------------
    def load(self, table: pd.DataFrame, *, cell_counts: pd.DataFrame | None = None,
             chunk_rows: int | None = None) -> pd.DataFrame:
        """Load a validated canonical table (one or more runs) and return its runs.

        A run already in the store under the same ``run_id`` is replaced; readers see
        either the old run or the new one, never a mix. ``cell_counts`` (columns
        ``cell_type, day, group, n_cells``) sets the CellState counts and fractions.
        A table of more than ``chunk_rows`` rows (default :data:`LOAD_CHUNK_ROWS`) is built and
        written in parts of whole runs, still as one load (see :meth:`load_many`).
        """
        return self.load_many([(table, cell_counts)], chunk_rows=chunk_rows)

    def load_many(self, items, *, chunk_rows: int | None = None) -> pd.DataFrame:
        """Load several ``(table, cell_counts)`` pairs (an iterable, read one at a time) as one
        load: every run of all of them becomes visible in one switch, or none does. Each table is
        validated whole; consecutive tables are joined while they fit in ``chunk_rows`` rows, then
        built and written in parts of whole runs of at most ``chunk_rows`` rows, so that memory is
        bounded by a part (or the largest run), not by the study. Give the runs of one day × group
        one after another (``load_manifest`` does): a part's new CellStates are the cheap ones to
        write edges to (see ``_graph.run_chunks``)."""
        load_id = new_load_id()
        limit = int(chunk_rows or LOAD_CHUNK_ROWS)
        if limit < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows!r}")

        def joined():
            held, rows, kinds = [], 0, set()
            for table, counts in items:
                table = S.validate(table)
                self._check_time_unit(table)  # one study, one unit
                kind = set() if counts is None else {per_sample(counts)}  # pooled and per-sample counts stay apart
                if held and (rows + len(table) > limit or len(kinds | kind) > 1):
                    out, held, rows, kinds = join_runs(held), [], 0, set()  # the joined tables go now
                    yield out
                    del out
                held.append((table, counts))
                rows, kinds = rows + len(table), kinds | kind
                del table
            if held:
                out, held = join_runs(held), []
                yield out

        def frames():
            for table, counts in joined():
                for part, part_counts in run_chunks(table, counts, limit):
                    yield build(part, load_id=load_id, cell_counts=part_counts)
                    del part
                del table

        return self._write(frames())

    def query(self, name: str, /, **parameters: Any) -> pd.DataFrame:
        """Run the named query ``cypher/NAME.cypher`` with its parameters (see ``list_queries``).

        A cell type, day, baseline or group the store doesn't have (or a cell type never seen
        on that day in that group) gives an empty answer with a hint, without running the
        query: comparing against a day never sampled would list everything as gained or lost.
        An answer empty for another unknown value (pathway, interaction, …) carries a hint
        too. The hint, naming the valid values, is in ``df.attrs["hint"]`` and issued as a
        warning; see :func:`commgraph.questions.hint_for`.
        """
        from .._queries import get_query

        spec = get_query(name)
        params = spec.bind(parameters)
        if self._summaries_pending and S.INTERACTION_SUMMARY in spec.text:
            raise QueryError(f"query {name!r} on {self.uri}: {self._summaries_pending}")
        hint = state_hint(self, params)
        if hint:
            df = spec.shape(pd.DataFrame())
        else:
            with gc_paused():
                df = spec.shape(self._run_query(name, spec.text, params, spec.returns))
            if df.empty:
                hint = hint_for(self, params)
        if hint:
            df.attrs["hint"] = hint
            warnings.warn(f"{name}: empty answer; {hint}", HintWarning, stacklevel=2)
        return df

    def _run_query(self, name: str, text: str, params: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
        """The engine's answer (``columns``: what the file's header says it returns); an engine error
        (a store from an older schema, a server gone) becomes one line naming the query, the original
        chained for debugging."""
        try:
            return self._answer(self._branches_taken(name, text, params), params, columns)
        except Exception as ex:  # noqa: BLE001 - engine errors come in each driver's own classes
            detail = (str(ex).strip().splitlines() or [type(ex).__name__])[0]
            raise QueryError(f"query {name!r} failed on {self.uri}: {detail}") from ex

    def _branches_taken(self, name: str, text: str, params: dict[str, Any]) -> str:
        """The text to run for a named query with these parameters: the whole file here; an engine
        that plans every branch of a UNION on every run sends only the branches taken."""
        return text

    def runs(self) -> pd.DataFrame:
        return self.cypher(RUNS)

    def timepoints(self) -> pd.DataFrame:
        """Each run's timepoint: run_id, day (the number, in time_unit), time_unit, time_label.
        Runs of stores made before units existed read as days."""
        try:
            t = self.cypher(TIMEPOINTS)
        except Exception:  # noqa: BLE001 - an older store opened read-only lacks the properties
            t = self.cypher(f"MATCH (run:{S.RUN}) RETURN run.{S.RUN_ID} AS {S.RUN_ID}, run.{S.DAY} AS {S.DAY}")
            t[S.TIME_UNIT], t[S.TIME_LABEL] = None, None
        if t.empty:
            return pd.DataFrame(columns=[S.RUN_ID, S.DAY, S.TIME_UNIT, S.TIME_LABEL])
        t[S.TIME_UNIT] = t[S.TIME_UNIT].where(t[S.TIME_UNIT].notna(), DEFAULT_UNIT)
        return t

    def time_unit(self) -> str:
        """The study's time unit: day (also for an empty store or one made before units), hour,
        week or condition. One store holds one unit (see :func:`commgraph._time.check_same_unit`)."""
        units = self.timepoints()[S.TIME_UNIT].unique()
        return str(units[0]) if len(units) == 1 else DEFAULT_UNIT

    def time_labels(self) -> dict[int, str]:
        """day number -> the label its runs give it (only where they agree on one)."""
        t = self.timepoints().dropna(subset=[S.DAY, S.TIME_LABEL])
        out = {}
        for day, labels in t.groupby(S.DAY)[S.TIME_LABEL]:
            if labels.nunique() == 1:
                out[int(day)] = str(labels.iloc[0])
        return out

    def _check_time_unit(self, table: pd.DataFrame) -> None:
        """One study, one unit: refuse runs timed in another unit than the runs already stored
        (runs being replaced don't count)."""
        unit = table[S.TIME_UNIT]  # categorical (validated): its used categories, no per-row objects
        loading = list(unit.cat.remove_unused_categories().cat.categories) + ([DEFAULT_UNIT] if unit.isna().any() else [])
        stored = self.timepoints()
        stored = stored[~stored[S.RUN_ID].isin(table[S.RUN_ID].unique())]
        units = stored[S.TIME_UNIT].unique()
        check_same_unit(str(units[0]) if len(units) else None, loading, where=str(self.uri))
        if len(units) > 1:
            check_same_unit(None, units, where=str(self.uri))

    def contrasts(self) -> pd.DataFrame:
        """Stored contrasts (see :func:`commgraph.differential`), with whether they are stale."""
        return self.cypher(CONTRASTS)

    def _mark_stale(self, runs: pd.DataFrame) -> None:
        """A contrast is stale once a run it used is replaced or removed, or a new per-sample run
        of its method joins one of its groups (its answer would differ if computed again)."""
        stale = self._stale_ids(runs)
        if stale:
            self.cypher(MARK_STALE, {"ids": stale})

    def _stale_ids(self, runs: pd.DataFrame) -> list[str]:
        c = self.contrasts()
        if c.empty:
            return []
        stale = []
        for k in c.itertuples(index=False):
            used = set(str(getattr(k, S.RUNS_PROP) or "").split(";"))
            for r in runs.itertuples(index=False):
                joins = (isinstance(getattr(r, S.SAMPLE, None), str) and getattr(r, S.METHOD, None) == getattr(k, S.METHOD)
                         and getattr(r, S.GROUP, None) in (getattr(k, S.GROUP), getattr(k, S.REFERENCE)))
                if getattr(r, S.RUN_ID) in used or joins:
                    stale.append(getattr(k, S.ID))
                    break
        return stale

    def load_samples(self, sheet, *, file: str | None = None) -> pd.DataFrame:
        """Attach a sample sheet (path or DataFrame; see :func:`commgraph.read_sample_sheet`) to the
        samples the store holds: each sample's patient, and its clinical values as Measurement
        records (a sample's earlier records are replaced). Every sample must already be in the
        store with the sheet's day and group; nothing is written unless the whole sheet fits.
        Returns the sheet as read."""
        from .._graph import sample_sheet_frames
        from .._samples import read_sample_sheet, sample_measurements
        from ..errors import InputError

        where = file or (str(sheet) if not isinstance(sheet, pd.DataFrame) else "<DataFrame>")
        table = read_sample_sheet(sheet)
        known = self.samples().set_index(S.SAMPLE)
        for i, row in enumerate(table.itertuples(index=False), start=1):
            sample, patient = getattr(row, S.SAMPLE), getattr(row, S.PATIENT)
            if sample not in known.index:
                have = ", ".join(known.index[:8]) or "none"
                raise InputError(f"sample {sample!r} is not in the store (load its runs first; samples: {have}"
                                 f"{', …' if len(known) > 8 else ''})", file=where, column=S.SAMPLE, row=i)
            k = known.loc[sample]
            for col in (S.DAY, S.GROUP):
                if str(getattr(row, col)) != str(k[col]):
                    raise InputError(f"sample {sample!r} is {col} {getattr(row, col)!r} here but {k[col]!r} in the store",
                                     file=where, column=col, row=i)
            if k[S.PATIENT] not in (sample, patient):
                raise InputError(f"sample {sample!r} belongs to patient {k[S.PATIENT]!r} in the store, not {patient!r}",
                                 file=where, column=S.PATIENT, row=i)
        self._write_sample_sheet(sample_sheet_frames(table, sample_measurements(table)))
        return table

    def measurements(self) -> pd.DataFrame:
        """Clinical values from sample sheets: sample, patient, group, day, variable, value, text."""
        return self.cypher(MEASUREMENTS)

    def samples(self) -> pd.DataFrame:
        """Samples (libraries) with their patient, day, group and number of live runs."""
        return self.cypher(SAMPLES)

    def sample_counts(self) -> pd.DataFrame:
        """Per-sample cell counts and fractions (one row per sample × cell type)."""
        return self.cypher(SAMPLE_COUNTS)

    def _pool_counts(self, frames: GraphFrames) -> None:
        """Set the CellState totals of the day × group splits whose per-sample counts this load
        replaced: the sum over every sample of the split, and its fraction of the split's total."""
        if frames.counted_in.empty:
            return
        keys = frames.counted_in[FROM].unique()
        states = frames.cell_states.set_index(S.KEY_PROP).loc[keys]
        self._pool_splits(states[[S.DAY, S.GROUP]].drop_duplicates())

    def _pool_splits(self, splits: pd.DataFrame) -> None:
        from .._graph import pooled_counts

        counted = self.cypher(COUNTED_AT, {"splits": [{S.DAY: int(d), "g": str(g)} for d, g in splits.itertuples(index=False)]})
        pooled = pooled_counts(counted)
        if pooled.empty:  # no sample of these splits keeps counts (their states go with their last run)
            return
        self.cypher(SET_COUNTS, {"rows": [{"k": k, "n": int(n), "f": float(f)} for k, n, f in pooled.itertuples(index=False)]})

    def _drop_sample_counts(self, samples: pd.DataFrame) -> None:
        """After a run is removed: a sample no run comes from any more loses its per-sample counts
        (they came with its runs), and its day × group's CellState totals are pooled again."""
        if samples.empty:
            return
        gone = self.cypher(SAMPLES_WITHOUT_RUNS, {"ids": samples[S.ID].tolist()})
        if gone.empty:
            return
        self.cypher(DELETE_COUNTED_IN, {"ids": gone[S.ID].tolist()})
        self._pool_splits(gone[[S.DAY, S.GROUP]].drop_duplicates())

    def _summary_backfill(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """SUMMARY and PATHWAY_SUMMARY rows of the edges a store holds (for a store written before
        the summary layer), as :func:`commgraph._graph.summaries` would have written them."""
        from .._graph import PATHWAY_SUMMARY_COLUMNS, TO, collapse

        states = self.cell_states()
        splits = states[[S.DAY, S.GROUP]].drop_duplicates() if len(states) else pd.DataFrame(columns=[S.DAY, S.GROUP])
        parts = [self.cypher(SUMMARY_BACKFILL, {"min_score": S.SUMMARY_MIN_SCORE, "pvalue": S.SUMMARY_PVALUE,
                                                S.DAY: int(d), S.GROUP: str(g)})
                 for d, g in splits.itertuples(index=False)]
        parts = [p for p in parts if len(p)]
        rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if rows.empty:
            return collapse(rows), pd.DataFrame(columns=PATHWAY_SUMMARY_COLUMNS)
        rows = rows.rename(columns={"from_key": FROM, "to_key": TO})
        for c in (S.N_INTERACTIONS, S.N_SIGNIFICANT, S.N_SIGNIFICANT_NEGATIVE):
            rows[c] = rows[c].astype("int64")
        for c in (S.MAX_SCORE, S.MAX_SIGNIFICANT_SCORE):
            rows[c] = rows[c].astype(float)
        for c in (S.METHOD, S.SAMPLE, S.PATHWAY):
            rows[c] = rows[c].astype(object).where(rows[c].notna(), None)
        pathway = rows[PATHWAY_SUMMARY_COLUMNS]
        return collapse(pathway), pathway

    def cell_states(self) -> pd.DataFrame:
        # read before every question (its hint check): the engine's fast path for rows
        return self._answer(CELL_STATES, {}, CELL_STATE_COLUMNS)

    def interactions(self) -> pd.DataFrame:
        """The Interaction nodes: name, ligand, receptor, pathway, annotation."""
        return self.cypher(INTERACTIONS)

    def signals(self, run_id: str | None = None) -> pd.DataFrame:
        """Every visible SIGNALS edge (or one run's) as a canonical table (without provenance columns)."""
        if run_id is None:
            return self.cypher(SIGNALS_TABLE)
        run = self.cypher(RUN_AT, {"run_id": run_id})
        if run.empty:
            self._require_run(run_id)
        run = run.iloc[0]
        params = {"run_id": run_id, S.LOAD_ID: run[S.LOAD_ID]}
        if pd.isna(run[S.DAY]) or pd.isna(run[S.GROUP]):  # a run across days or groups
            return self.cypher(RUN_SIGNALS, params)
        return self.cypher(RUN_SIGNALS_AT, {**params, S.DAY: int(run[S.DAY]), S.GROUP: str(run[S.GROUP])})

    def run_scores(self, run_ids: list[str]) -> Iterator[pd.DataFrame]:
        """The live edges of ``run_ids``, lean: run_id, source, target, interaction, pathway, score,
        significant (the names as categoricals); one frame per day × group of the runs (a run across
        days or groups: its own)."""
        runs = self.cypher(RUNS_AT, {"run_ids": list(run_ids)})
        for missing in sorted(set(run_ids) - set(runs[S.RUN_ID])):
            self._require_run(missing)
        whole = runs[S.DAY].notna() & runs[S.GROUP].notna()
        yield from self._scores_at([
            {"day": int(day), "at_group": str(group),
             "live": [f"{r}|{load}" for r, load in zip(part[S.RUN_ID], part[S.LOAD_ID])]}
            for (day, group), part in runs[whole].groupby([S.DAY, S.GROUP], sort=True)])
        for run_id in runs.loc[~whole, S.RUN_ID]:
            t = self.signals(run_id).assign(**{S.RUN_ID: run_id})
            names = [S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION, S.PATHWAY]
            yield t[names + [S.SCORE, S.SIGNIFICANT]].astype({c: "category" for c in names})

    def _scores_at(self, reads: list[dict[str, Any]]) -> Iterator[pd.DataFrame]:
        """:data:`RUNS_SCORES_AT` for each parameter set, in order (an engine may read ahead)."""
        for params in reads:
            yield self._cypher_categorical(RUNS_SCORES_AT, params, RUNS_SCORES)

    def stats(self) -> dict[str, pd.DataFrame | int]:
        """What the store holds: counts of runs, cell types, days, groups, SIGNALS per day × group."""
        states = self.cell_states()
        per = self.cypher(SIGNALS_BY_DAY_GROUP)
        return {
            "runs": len(self.runs()),
            "cell_types": int(states[S.CELL_TYPE_PROP].nunique()) if len(states) else 0,
            "days": sorted(int(d) for d in states[S.DAY].unique()) if len(states) else [],
            "groups": sorted(states[S.GROUP].unique().tolist()) if len(states) else [],
            "signals": int(per["signals"].sum()) if len(per) else 0,
            "significant": int(per["significant"].sum()) if len(per) else 0,
            "by_day_group": per,
        }

    def _orphan_states(self) -> list[str]:
        """Keys of CellStates on a day × group that no live run covers any more."""
        runs = self.runs()
        whole = runs[S.DAY].notna() & runs[S.GROUP].notna()
        covered = {(int(d), str(g)) for d, g in zip(runs.loc[whole, S.DAY], runs.loc[whole, S.GROUP])}
        if not whole.all():  # a run across days or groups: ask its edges
            spans = self.cypher(LIVE_DAY_GROUPS)
            covered |= {(int(d), str(g)) for d, g in zip(spans[S.DAY], spans[S.GROUP])} if len(spans) else set()
        states = self.cell_states()
        if states.empty:
            return []
        return [k for k, d, g in zip(states[S.KEY_PROP], states[S.DAY], states[S.GROUP])
                if (int(d), str(g)) not in covered]

    def _require_run(self, run_id: str) -> None:
        if not (self.runs()[S.RUN_ID] == run_id).any():
            known = ", ".join(self.runs()[S.RUN_ID].tolist()[:20]) or "none"
            raise QueryError(f"no run {run_id!r} in {self.uri} (loaded runs: {known})")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"
