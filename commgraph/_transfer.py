"""Moving a study between stores: copy (push/pull) and CSVs for ``neo4j-admin database import``."""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from . import _schema as S
from ._graph import FROM, TO
from ._progress import track
from .errors import CommgraphError
from .stores import Store

PROVENANCE = [S.TOOL, S.TOOL_VERSION, S.DATABASE_VERSION, S.PARAMETERS, S.SOURCE_FILES]
TIME = [S.TIME_UNIT, S.TIME_LABEL]


def _with_time(store: Store, runs: pd.DataFrame) -> pd.DataFrame:
    """The runs with their time unit and label (see Store.timepoints)."""
    t = store.timepoints()[[S.RUN_ID, *TIME]]
    return runs.drop(columns=[c for c in TIME if c in runs.columns]).merge(t, on=S.RUN_ID, how="left")


def study_table(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everything a store holds as (canonical table with provenance, cell counts).

    The whole study in one DataFrame: for a large store, :func:`copy_store` and
    :func:`export_neo4j_import` read it run by run instead.
    """
    runs = _with_time(store, store.runs())
    table = store.signals().merge(runs[[S.RUN_ID, *PROVENANCE, *TIME]], on=S.RUN_ID, how="left")
    table.attrs["annotation"] = _annotation(store)
    return table, _cell_counts(store)


def _annotation(store: Store) -> dict[str, str]:
    ann = store.interactions().dropna(subset=[S.ANNOTATION])
    return dict(zip(ann[S.NAME], ann[S.ANNOTATION]))


def _cell_counts(store: Store) -> pd.DataFrame:
    states = store.cell_states()
    counts = states.dropna(subset=[S.N_CELLS])[[S.CELL_TYPE_PROP, S.DAY, S.GROUP, S.N_CELLS]]
    return counts.astype({S.N_CELLS: "int64"})


def _run_tables(store: Store, *, description: str, progress: bool) -> Iterator[pd.DataFrame]:
    """Each run of ``store`` as a canonical table with provenance, one at a time, so that
    copying or exporting a study holds one run in memory, not the whole study."""
    runs = _with_time(store, store.runs())
    annotation = _annotation(store)
    for run in track(runs.to_dict("records"), description=description, show=progress):
        part = store.signals(run[S.RUN_ID])
        for col in PROVENANCE + TIME:
            part[col] = run[col]
        part[S.PATIENT] = run.get(S.PATIENT)
        part.attrs = {"annotation": annotation, "format": run[S.FORMAT]}
        yield part


def copy_store(source: Store, target: Store, *, progress: bool = True) -> pd.DataFrame:
    """Copy every run of ``source`` into ``target`` (runs already there are replaced), with its
    patient, its cell counts (per sample where the source keeps them) and the sample sheets'
    clinical values. Contrasts are not copied: compute them in the target (``differential``)."""
    counts = _cell_counts(source)
    per_sample = source.sample_counts()
    loaded = []
    for part in _run_tables(source, description=f"copying to {target.uri}", progress=progress):
        if part.empty:
            continue
        samples = set(part[S.SAMPLE].dropna())
        if samples and per_sample[S.SAMPLE].isin(samples).any():
            c = per_sample[per_sample[S.SAMPLE].isin(samples)][[S.CELL_TYPE_PROP, S.DAY, S.GROUP, S.N_CELLS, S.SAMPLE,
                                                                  S.PATIENT]]
        else:
            days, groups = set(part[S.DAY]), set(part[S.GROUP])
            c = counts[counts[S.DAY].isin(days) & counts[S.GROUP].isin(groups)]
        loaded.append(target.load(part, cell_counts=c))
    sheet = sample_sheet_of(source)
    if sheet is not None:
        target.load_samples(sheet)
    return pd.concat(loaded, ignore_index=True) if loaded else source.runs().iloc[0:0]


def sample_sheet_of(store: Store) -> pd.DataFrame | None:
    """The clinical values a store holds, as the sample sheet they came from (None without any)."""
    m = store.measurements()
    if m.empty:
        return None
    keys = [S.SAMPLE, S.PATIENT, S.GROUP, S.DAY]
    value = m[S.VALUE].astype(object).where(m[S.VALUE].notna(), m[S.TEXT])
    wide = m.assign(_v=value).pivot(index=keys, columns=S.VARIABLE, values="_v").reset_index()
    wide.columns.name = None
    return wide


# --- neo4j-admin database import ------------------------------------------------------------

_NEO4J_TYPES = {"STRING": "string", "INT64": "long", "DOUBLE": "double", "BOOLEAN": "boolean",
                "STRING[]": "string[]", "DOUBLE[]": "double[]", "BOOLEAN[]": "boolean[]"}
_ARRAY_SEP = ";"  # neo4j-admin's default --array-delimiter
_CHUNK = 500_000  # rows (or list items) per query and CSV append: an export holds one chunk in memory


@dataclass(frozen=True)
class _Export:
    """One node or relationship table of the schema as the export reads it."""
    name: str
    kind: str  # "nodes" or "relationships"
    properties: tuple[tuple[str, str], ...]
    header: list[str]
    match: str  # the MATCH clause, `a` the node or the edge's source
    returns: str
    batch_key: str | None = None  # rows are read in batches of this key's values (None: whole)
    weight: str = "1"  # each row counted as this many (a node's list items)
    live_only: bool = False  # edges written per load: only those of a live load are part of the study

    @classmethod
    def of_nodes(cls, t: S.NodeTable) -> "_Export":
        header = [f"{n}:ID({t.label})" if n == t.key else f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in t.properties]
        returns = ", ".join(f"a.`{n}` AS `{n}`" for n, _ in t.properties)
        lists = [n for n, ty in t.properties if ty.endswith("[]")]
        via = next((r for r in S.REL_TABLES if r.target == t.label and r.source != t.label), None)
        if not lists or via is None:
            return cls(t.label, "nodes", t.properties, header, f"MATCH (a:{t.label})", returns)
        # nodes with lists (InteractionSummary: an item per edge) in batches of the nodes that link to
        # them: the engine holds a query's result in full, and a filtered scan costs a whole one
        return cls(t.label, "nodes", t.properties, header, f"MATCH (p:{via.source})-[:{via.type}]->(a:{t.label})",
                   returns, f"p.`{S.NODE_TABLE[via.source].key}`",
                   " + ".join(["1", *(f"coalesce(size(a.`{n}`), 0)" for n in lists)]))

    @classmethod
    def of_rels(cls, r: S.RelTable) -> "_Export":
        ks, kt = S.NODE_TABLE[r.source].key, S.NODE_TABLE[r.target].key
        header = [f":START_ID({r.source})", f":END_ID({r.target})"] + [f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in r.properties]
        names = {n for n, _ in r.properties}
        returns = ", ".join([f"a.`{ks}` AS `{FROM}`", f"b.`{kt}` AS `{TO}`"] + [f"r.`{n}` AS `{n}`" for n, _ in r.properties])
        return cls(r.type, "relationships", r.properties, header, f"MATCH (a:{r.source})-[r:{r.type}]->(b:{r.target})",
                   returns, f"a.`{ks}`", live_only=S.RUN_ID in names and S.LOAD_ID in names)

    @property
    def columns(self) -> list[str]:
        return ([FROM, TO] if self.kind == "relationships" else []) + [n for n, _ in self.properties]

    def query(self, *conditions: str) -> str:
        return f"{self._where(*conditions)} RETURN {self.returns}"

    def weights(self) -> str:
        """Rows per value of the batch key."""
        return f"{self._where()} RETURN {self.batch_key} AS k, sum({self.weight}) AS n"

    def _where(self, *conditions: str) -> str:
        where = [c for c in (f"r.`{S.LOAD_ID}` IN $live" if self.live_only else "", *conditions) if c]
        return f"{self.match} {'WHERE ' + ' AND '.join(where) if where else ''}"


def _batches(weights: pd.DataFrame) -> Iterator[list]:
    """Keys in batches of about ``_CHUNK`` rows (a key with more rows is a batch of its own)."""
    keys, n = [], 0
    for k, w in zip(weights["k"].tolist(), weights["n"].tolist()):
        if keys and n + w > _CHUNK:
            yield keys
            keys, n = [], 0
        keys.append(k)
        n += w
    if keys:
        yield keys


def _chunks(store: Store, t: _Export, live: list[str], scratch: Path) -> Iterator[pa.Table]:
    """A table's rows as Arrow tables of about ``_CHUNK`` rows (or list items), read in batches
    of the batch key's values: an engine holds a query's result in full (the embedded one ~500
    bytes a SIGNALS edge). The embedded store writes each batch to Parquet inside the engine; a
    server's rows come through pandas."""
    params = {"live": live} if t.live_only else {}
    if t.batch_key is None:
        batches = [(t.query(), params)]
    else:
        query = t.query(f"{t.batch_key} IN $keys")
        batches = ((query, {**params, "keys": keys}) for keys in _batches(store.cypher(t.weights(), params)))
    path, embedded = scratch / "rows.parquet", hasattr(store, "rows_to_parquet")
    for query, p in batches:
        if not embedded:
            yield _arrow(store.cypher(query, p), t.columns, list(t.properties))
            continue
        store.rows_to_parquet(query, p, path)
        try:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=_CHUNK):
                yield pa.Table.from_batches([batch])
        finally:
            path.unlink(missing_ok=True)


def _arrow_type(ty: str):
    scalar = {"STRING": pa.string(), "INT64": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}
    return pa.list_(scalar[ty[:-2]]) if ty.endswith("[]") else scalar[ty]


def _arrow(frame: pd.DataFrame, columns: list[str], types: list[tuple[str, str]]):
    """A query's rows (a DataFrame from a server) as Arrow: whole numbers back from the floats a
    column with nulls comes as."""
    for name, ty in types:
        if ty == "INT64" and frame[name].dtype.kind == "f":
            frame[name] = frame[name].round().astype("Int64")
    return pa.Table.from_pandas(frame[columns], preserve_index=False)


def _csv(table: pa.Table, types: list[tuple[str, str]], path: Path, header: list[str] | None) -> None:
    """Append rows to a CSV as neo4j-admin reads them (pyarrow's writer: pandas' to_csv was most
    of an export's time): whole numbers without '.0', booleans as true/false, NaN as empty, lists
    as their items joined by ';' (an empty list as no value, as a null)."""
    kinds = dict(types)
    columns = []
    for name in table.column_names:
        col, ty = table.column(name), kinds.get(name, "STRING")
        col = pc.cast(col, _arrow_type(ty))
        if ty == "DOUBLE":
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, pa.float64()), col)
        elif ty.endswith("[]"):
            items = pc.list_flatten(col) if ty == "STRING[]" else None
            if items is not None and len(items) and pc.any(split := pc.match_substring(items, _ARRAY_SEP)).as_py():
                bad = pc.filter(items, split)[0].as_py()
                raise CommgraphError(f"{path.name}: column {name} holds {bad!r}, and neo4j-admin splits array items "
                                     f"on {_ARRAY_SEP!r}: rename it, or push without --bulk")
            joined = pc.binary_join(pc.cast(col, pa.list_(pa.string())), _ARRAY_SEP)
            col = pc.if_else(pc.equal(pc.list_value_length(col), 0), pa.scalar(None, pa.string()), joined)
        columns.append(col)
    with open(path, "wb" if header else "ab") as f:
        if header:
            f.write((",".join(header) + "\n").encode())
        pcsv.write_csv(pa.table(columns, names=table.column_names), f, pcsv.WriteOptions(include_header=False))


def export_neo4j_import(
    store: Store, directory: str | os.PathLike, *, database: str = "neo4j", progress: bool = True
) -> str:
    """Write node and relationship CSVs (with headers) for ``neo4j-admin database import full``.

    Every node and relationship table of the schema is written as the store holds it (Run nodes,
    cell counts, sample sheets, contrasts and whatever else the schema declares), without the
    edges of replaced or unfinished loads; labels and types come from the command's arguments.
    Tables come out in chunks of about 500k rows (see ``_chunks``), so the export of a large study
    needs the memory of a chunk, not of the study. Returns the command that loads the files into
    an empty database named ``database``.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    runs = store.cypher(f"MATCH (run:{S.RUN}) RETURN run.`{S.LOAD_ID}` AS l")
    if runs.empty:
        raise CommgraphError(f"{store.uri} holds no runs to export")
    live = [str(x) for x in runs["l"]]
    tables = [_Export.of_nodes(t) for t in S.NODE_TABLES] + [_Export.of_rels(r) for r in S.REL_TABLES]
    scratch = Path(tempfile.mkdtemp(prefix="commgraph-export-"))
    args = []
    # a chunk is written to CSV while the engine reads the next (neither holds the GIL)
    pool = cf.ThreadPoolExecutor(1, thread_name_prefix="commgraph-export")
    try:
        for t in track(tables, description=f"exporting {store.uri}", show=progress):
            path = out / f"{t.name.lower()}.csv"
            rows, writing = 0, None
            for chunk in _chunks(store, t, live, scratch):
                if chunk.num_rows:
                    if writing is not None:
                        writing.result()
                    writing = pool.submit(_csv, chunk, list(t.properties), path, t.header if rows == 0 else None)
                    rows += chunk.num_rows
            if writing is not None:
                writing.result()
            if t.kind == "nodes" and t.batch_key is not None:  # read through links: every node reached?
                held = int(store.cypher(f"MATCH (a:{t.name}) RETURN count(*) AS n")["n"].iloc[0])
                if held != rows:
                    raise CommgraphError(f"{store.uri}: {held - rows} of {held} {t.name} nodes are not linked "
                                         f"by {t.match.split()[1]}: push without --bulk")
            if rows:  # the label or type comes from the argument, not a column
                args.append(f"--{t.kind}={t.name}={path.name}")
            else:
                path.unlink(missing_ok=True)
    finally:
        pool.shutdown(cancel_futures=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return f"cd {out} && neo4j-admin database import full " + " ".join(args) + f" --overwrite-destination=true {database}"


def push_bulk(store: Store, neo4j_admin: str | list[str], *, database: str = "neo4j", overwrite: bool = False,
              work_dir: str | os.PathLike | None = None, progress: bool = True) -> dict:
    """Build a Neo4j database from ``store`` with ``neo4j-admin database import full``: the fast
    path for a first build, when the server's files are on this machine.

    ``neo4j_admin`` is the command that runs neo4j-admin for that server (``$NEO4J_HOME/bin/neo4j-admin``,
    or e.g. ``tools/neo4j-test-server/server.sh admin``). The server must be stopped (Neo4j
    Community cannot take one database offline) and ``database`` must not exist unless
    ``overwrite`` (its contents are then replaced). Indexes and constraints are not part of an
    import: commgraph creates them on its first write to the server. The CSVs go to a temporary
    folder in ``work_dir`` (the system's by default; about 360 bytes per SIGNALS edge) and are
    removed afterwards. Returns the seconds of the export and the import, and the import's counts.
    """
    import re
    import shlex
    import subprocess
    import time

    cmd = shlex.split(neo4j_admin) if isinstance(neo4j_admin, str) else list(neo4j_admin)
    if not cmd:
        raise CommgraphError("no neo4j-admin command given")
    out = Path(tempfile.mkdtemp(prefix="commgraph-bulk-", dir=work_dir))
    try:
        t0 = time.perf_counter()
        files = export_neo4j_import(store, out, database=database, progress=progress)
        export_s = time.perf_counter() - t0
        args = [a for a in files.split(" import full ", 1)[1].split() if a.startswith(("--nodes=", "--relationships="))]
        # the database name first: after the variadic --nodes/--relationships it reads as a file
        argv = [*cmd, "database", "import", "full", database, *args, f"--overwrite-destination={str(overwrite).lower()}"]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(argv, cwd=out, capture_output=True, text=True)
        except OSError as ex:
            raise CommgraphError(f"cannot run neo4j-admin ({cmd[0]}): {ex.strerror or ex}") from None
        import_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    text = done.stdout + "\n" + done.stderr
    if done.returncode != 0:
        if "database is in use" in text:
            raise CommgraphError(f"Neo4j database {database!r} is in use: stop the server first "
                                 "(neo4j-admin import writes the database files offline)")
        if "already exist" in text:
            raise CommgraphError(f"Neo4j database {database!r} already exists: pass --overwrite to replace it "
                                 "(its contents are lost), or push without --bulk to add runs to it")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith((" ", "\t"))]
        why = next((ln for ln in lines if "Exception" in ln or "rror" in ln), lines[-1] if lines else "no output")
        raise CommgraphError(f"neo4j-admin import into {database!r} failed (exit {done.returncode}): {why}")
    counts = {}
    for what in ("nodes", "relationships"):
        m = re.search(rf"Imported:.*?(\d+) {what}" if what == "nodes" else rf"(\d+) {what}", text, re.S)
        counts[what] = int(m.group(1)) if m else None
    return {"export_s": export_s, "import_s": import_s, **counts}
