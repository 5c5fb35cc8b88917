"""Moving a study between stores: copy (push/pull) and CSVs for ``neo4j-admin database import``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd

from . import _schema as S
from ._graph import FROM, TO, build, next_edges
from ._progress import track
from .stores import Store
from .stores._base import INTERACTIONS

PROVENANCE = [S.TOOL, S.TOOL_VERSION, S.DATABASE_VERSION, S.PARAMETERS, S.SOURCE_FILES]


def study_table(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everything a store holds as (canonical table with provenance, cell counts)."""
    runs = store.runs()
    sig = store.signals()
    table = sig.merge(runs[[S.RUN_ID, *PROVENANCE]], on=S.RUN_ID, how="left")
    ann = store.cypher(INTERACTIONS).dropna(subset=[S.ANNOTATION])
    table.attrs["annotation"] = dict(zip(ann[S.NAME], ann[S.ANNOTATION]))
    states = store.cell_states()
    counts = states.dropna(subset=[S.N_CELLS])[[S.CELL_TYPE_PROP, S.DAY, S.GROUP, S.N_CELLS]]
    return table, counts.astype({S.N_CELLS: "int64"})


def copy_store(source: Store, target: Store, *, progress: bool = True) -> pd.DataFrame:
    """Copy every run of ``source`` into ``target`` (runs already there are replaced)."""
    table, counts = study_table(source)
    if table.empty:
        return table
    loaded = []
    run_ids = sorted(table[S.RUN_ID].unique())
    for run_id in track(run_ids, description=f"copying to {target.uri}", show=progress):
        part = table[table[S.RUN_ID] == run_id]
        part.attrs = table.attrs
        day, group = int(part[S.DAY].iloc[0]), str(part[S.GROUP].iloc[0])
        c = counts[(counts[S.DAY] == day) & (counts[S.GROUP] == group)]
        loaded.append(target.load(part, cell_counts=c))
    return pd.concat(loaded, ignore_index=True)


# --- neo4j-admin database import ------------------------------------------------------------

_NEO4J_TYPES = {"STRING": "string", "INT64": "long", "DOUBLE": "double", "BOOLEAN": "boolean"}


def _node_header(label: str) -> list[str]:
    t = S.NODE_TABLE[label]
    return [f"{n}:ID({label})" if n == t.key else f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in t.properties] + [":LABEL"]


def export_neo4j_import(store: Store, directory: str | os.PathLike, *, database: str = "neo4j") -> str:
    """Write node and relationship CSVs (with headers) for ``neo4j-admin database import full``.

    Returns the command that loads them into an empty database named ``database``.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table, counts = study_table(store)
    frames = build(S.validate(table), load_id=uuid.uuid4().hex, cell_counts=counts)
    runs = store.runs()
    runs[S.LOAD_ID] = frames.load_id  # the imported edges all belong to this one load
    nodes = {**frames.nodes(), S.RUN: runs}
    args = []
    for label, frame in nodes.items():
        cols = [n for n, _ in S.NODE_TABLE[label].properties]
        f = frame[cols].copy()
        f[":LABEL"] = label
        path = out / f"{label.lower()}.csv"
        f.to_csv(path, index=False, header=_node_header(label))
        args.append(f"--nodes={label}={path.name}")
    states = frames.cell_states
    rels = {**frames.rels(), S.SIGNALS: frames.signals, S.NEXT: next_edges(states)}
    for rel, frame in rels.items():
        r = S.REL_TABLE[rel]
        f = frame.copy()
        header = [f":START_ID({r.source})", f":END_ID({r.target})"] + [
            f"{n}:{_NEO4J_TYPES[ty]}" for n, ty in r.properties
        ]
        cols = [FROM, TO] + [n for n, _ in r.properties]
        f = f[cols]
        for name, ty in r.properties:
            if ty == "BOOLEAN":  # neo4j-admin reads true/false, not pandas' True/False
                f[name] = f[name].map({True: "true", False: "false"})
        f[":TYPE"] = rel
        path = out / f"{rel.lower()}.csv"
        f.to_csv(path, index=False, header=header + [":TYPE"])
        args.append(f"--relationships={rel}={path.name}")
    return f"cd {out} && neo4j-admin database import full " + " ".join(args) + f" --overwrite-destination=true {database}"
