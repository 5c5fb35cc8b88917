"""Moving a study between stores: copy (push/pull) and CSVs for ``neo4j-admin database import``."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from . import _schema as S
from ._graph import FROM, TO, build, new_load_id, next_edges, run_load_id
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

_NEO4J_TYPES = {"STRING": "string", "INT64": "long", "DOUBLE": "double", "BOOLEAN": "boolean"}


def export_neo4j_import(
    store: Store, directory: str | os.PathLike, *, database: str = "neo4j", progress: bool = True
) -> str:
    """Write node and relationship CSVs (with headers) for ``neo4j-admin database import full``.

    Reads the store run by run and appends each run's edges to ``signals.csv``, so the
    export of a large study needs the memory of one run. Returns the command that loads the
    files into an empty database named ``database``.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    runs = store.runs()
    if runs.empty:
        raise CommgraphError(f"{store.uri} holds no runs to export")
    runs = _with_time(store, runs)
    load_id = new_load_id()  # the imported edges all belong to this one load
    counts = _cell_counts(store)
    nodes: dict[str, list[pd.DataFrame]] = defaultdict(list)
    rels: dict[str, list[pd.DataFrame]] = defaultdict(list)
    # the edges and their summary layer, appended run by run (a build holds whole runs)
    load_paths = {rel: out / f"{rel.lower()}.csv" for rel in S.LOAD_RELS}
    for path in load_paths.values():
        path.unlink(missing_ok=True)
    for part in _run_tables(store, description=f"exporting {store.uri}", progress=progress):
        if part.empty:
            continue
        frames = build(S.validate(part), load_id=load_id, cell_counts=counts)
        for label, frame in frames.nodes().items():
            nodes[label].append(frame)
        for rel, frame in frames.rels().items():
            rels[rel].append(frame)
        for rel, frame in frames.edges_and_summaries().items():
            _write_rels(rel, frame, load_paths[rel], append=load_paths[rel].exists())

    args = []
    runs[S.LOAD_ID] = [run_load_id(load_id, r) for r in runs[S.RUN_ID]]  # each run's, as build() gives its edges
    for label, parts in [*nodes.items(), (S.RUN, [runs])]:
        t = S.NODE_TABLE[label]
        f = pd.concat(parts, ignore_index=True).drop_duplicates(subset=t.key)[[n for n, _ in t.properties]]
        f[":LABEL"] = label
        path = out / f"{label.lower()}.csv"
        header = [f"{n}:ID({label})" if n == t.key else f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in t.properties]
        f.to_csv(path, index=False, header=header + [":LABEL"])
        args.append(f"--nodes={label}={path.name}")
    states = pd.concat(nodes[S.CELL_STATE], ignore_index=True).drop_duplicates(subset=S.KEY_PROP)
    for rel, frame in [*((r, pd.concat(p, ignore_index=True).drop_duplicates()) for r, p in rels.items()),
                       (S.NEXT, next_edges(states))]:
        path = out / f"{rel.lower()}.csv"
        _write_rels(rel, frame, path, append=False)
        args.append(f"--relationships={rel}={path.name}")
    args += [f"--relationships={rel}={path.name}" for rel, path in load_paths.items() if path.exists()]
    return f"cd {out} && neo4j-admin database import full " + " ".join(args) + f" --overwrite-destination=true {database}"


def _write_rels(rel: str, frame: pd.DataFrame, path: Path, *, append: bool) -> None:
    r = S.REL_TABLE[rel]
    f = frame[[FROM, TO] + [n for n, _ in r.properties]].copy()
    for name, ty in r.properties:
        if ty == "BOOLEAN":  # neo4j-admin reads true/false, not pandas' True/False
            f[name] = f[name].map({True: "true", False: "false"})
    f[":TYPE"] = rel
    header = [f":START_ID({r.source})", f":END_ID({r.target})"] + [f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in r.properties]
    f.to_csv(path, index=False, header=False if append else header + [":TYPE"], mode="a" if append else "w")
