"""Moving a study between stores: copy (push/pull) and CSVs for ``neo4j-admin database import``."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

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
_CHUNK = 500_000  # rows per CSV append: an export holds one chunk in memory, not a table


def _node_query(t: S.NodeTable) -> str:
    return f"MATCH (n:{t.label}) RETURN " + ", ".join(f"n.`{n}` AS `{n}`" for n, _ in t.properties)


def _rel_query(r: S.RelTable, where: str = "") -> str:
    ks, kt = S.NODE_TABLE[r.source].key, S.NODE_TABLE[r.target].key
    cols = [f"a.`{ks}` AS `{FROM}`", f"b.`{kt}` AS `{TO}`"] + [f"r.`{n}` AS `{n}`" for n, _ in r.properties]
    return f"MATCH (a:{r.source})-[r:{r.type}]->(b:{r.target}) {where} RETURN " + ", ".join(cols)


def _written_per_run(r: S.RelTable) -> bool:
    """Edges written per load (SIGNALS, and any other table carrying run_id and load_id): only
    those of a live load are part of the study."""
    names = {n for n, _ in r.properties}
    return S.RUN_ID in names and S.LOAD_ID in names


def _chunks(store: Store, query: str, params: dict, scratch: Path, per_run: list[dict] | None) -> Iterator[pd.DataFrame]:
    """A query's rows in chunks. The embedded store writes them to Parquet inside the engine in
    one pass; another store is read run by run (``per_run``: the parameters of each) or whole."""
    if hasattr(store, "rows_to_parquet"):
        import pyarrow.parquet as pq

        path = scratch / "rows.parquet"
        store.rows_to_parquet(query, params, path)
        try:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=_CHUNK):
                yield batch.to_pandas()
        finally:
            path.unlink(missing_ok=True)
        return
    for p in per_run if per_run is not None else [params]:
        yield store.cypher(query, p)


def _csv(frame: pd.DataFrame, types: list[tuple[str, str]], path: Path, header: list[str] | None) -> None:
    """Append rows to a CSV as neo4j-admin reads them: whole numbers without '.0' (a column with
    nulls comes back as floats), booleans as true/false, lists as their items joined by ';'."""
    f = frame.copy()
    for name, ty in types:
        if ty == "INT64":
            f[name] = pd.to_numeric(f[name]).round().astype("Int64")
        elif ty == "BOOLEAN":
            f[name] = f[name].map({True: "true", False: "false"})
        elif ty.endswith("[]"):
            f[name] = [_array(v, ty, name, path) for v in f[name]]
    f.to_csv(path, index=False, header=header if header else False, mode="w" if header else "a")


def _array(items, ty: str, name: str, path: Path) -> str | None:
    """One list property as a neo4j-admin array field."""
    if items is None:
        return None
    if ty == "BOOLEAN[]":
        return _ARRAY_SEP.join("true" if x else "false" for x in items)
    words = [str(x) for x in items]
    if ty == "STRING[]" and any(_ARRAY_SEP in w for w in words):
        bad = next(w for w in words if _ARRAY_SEP in w)
        raise CommgraphError(f"{path.name}: column {name} holds {bad!r}, and neo4j-admin splits array items "
                             f"on {_ARRAY_SEP!r}: rename it, or push without --bulk")
    return _ARRAY_SEP.join(words)


def export_neo4j_import(
    store: Store, directory: str | os.PathLike, *, database: str = "neo4j", progress: bool = True
) -> str:
    """Write node and relationship CSVs (with headers) for ``neo4j-admin database import full``.

    Every node and relationship table of the schema is written as the store holds it (Run nodes,
    cell counts, sample sheets, contrasts and whatever else the schema declares), without the
    edges of replaced or unfinished loads. Tables come out in chunks (the embedded store streams
    them through Parquet), so the export of a large study needs little memory. Returns the
    command that loads the files into an empty database named ``database``.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    runs = store.cypher(f"MATCH (run:{S.RUN}) RETURN run.`{S.RUN_ID}` AS r, run.`{S.LOAD_ID}` AS l")
    if runs.empty:
        raise CommgraphError(f"{store.uri} holds no runs to export")
    live = [str(x) for x in runs["l"]]
    per_run = [{"run_id": str(r), "load_id": str(ld)} for r, ld in zip(runs["r"], runs["l"])]
    scratch = Path(tempfile.mkdtemp(prefix="commgraph-export-"))
    args = []
    try:
        tables = [(t.label, t.properties, _node_query(t), {}, None,
                   [f"{n}:ID({t.label})" if n == t.key else f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in t.properties]
                   + [":LABEL"], "nodes") for t in S.NODE_TABLES]
        for r in S.REL_TABLES:
            head = [f":START_ID({r.source})", f":END_ID({r.target})"] + [f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in r.properties]
            if _written_per_run(r):  # live loads only: one seek per run on Neo4j, one filtered pass embedded
                q = (_rel_query(r, f"WHERE r.`{S.LOAD_ID}` IN $live"), {"live": live},
                     _rel_query(r, f"WHERE r.`{S.RUN_ID}` = $run_id AND r.`{S.LOAD_ID}` = $load_id"))
                spec = (r.type, r.properties, q[0] if hasattr(store, "rows_to_parquet") else q[2], q[1], per_run)
            else:
                spec = (r.type, r.properties, _rel_query(r), {}, None)
            tables.append((*spec, head + [":TYPE"], "relationships"))
        for name, props, query, params, runs_of, header, kind in track(tables, description=f"exporting {store.uri}",
                                                                       show=progress):
            path = out / f"{name.lower()}.csv"
            rows = 0
            for chunk in _chunks(store, query, params, scratch, runs_of):
                if chunk.empty:
                    continue
                chunk[":LABEL" if kind == "nodes" else ":TYPE"] = name
                _csv(chunk, list(props), path, header if rows == 0 else None)
                rows += len(chunk)
            if rows:
                args.append(f"--{kind}={name}={path.name}")
            else:
                path.unlink(missing_ok=True)
    finally:
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
    folder in ``work_dir`` (the system's by default; about 270 bytes per SIGNALS edge) and are
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
