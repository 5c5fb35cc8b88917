"""``python -m bench.layout``: what the SIGNALS edge layout costs the embedded store.

A bare ``COPY SIGNALS`` of today's edges is the floor under Store.load (which runs at ~0.3-0.4x
of it, results.md: Store.load / bare COPY), so a load at issue 17's rate needs a leaner edge, not
only a leaner loader. This measures the floor
for three layouts of the same edges, each a bare COPY into a fresh LadybugDB database in the
250k-row slices of one transaction that ``Store.load`` uses, then one COMMIT:

- **documented**: the properties of DESIGN.md's graph model plus ``load_id`` and ``extra``
  (``commgraph._schema.SIGNALS_PROPERTIES``, what stores hold today);
- **run and interaction on nodes**: ligand, receptor and pathway left to the Interaction node,
  method and run_id to the Run node (``load_id`` names the run); interaction, sample, extra,
  load_id stay;
- **integer codes**: as above, with interaction and load_id as INT32 codes into the
  Interaction and Run nodes (sample and extra the only strings);
- **documented + a copy from the Interaction node**: the documented edges, and beside them in
  the same transaction a second, lean copy of each edge (sender state → its Interaction node:
  receiver key, score, pvalue, significant, load_id) that LadybugDB stores by Interaction, so
  one interaction's edges are an index lookup and its adjacency (it has no index on a
  relationship property: DESIGN.md's "an Interaction node linked to its edges").

Each child also times reads on the loaded edges (median of 5, warm): the edges of one
interaction (``lr_trajectory`` given only an interaction scans them) asked two ways, by a
value the caller already holds (the name, or its code) and as one Cypher file must ask it,
from the name a user gives (a code looked up on the Interaction node, a join; the copy read
through the Interaction node); and a per-state-pair aggregate of every significant edge (what
the summary layer spares the aggregating questions).

Writes ``bench/layout.md``. The two lean layouts change the graph model Browser users query
(``r.ligand`` would be ``i.ligand`` through the Interaction node); the copy adds a relationship
type to it and writes every edge twice: design decisions, measured here so that they can be
taken on figures.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from commgraph import _schema as S
from commgraph._graph import FROM, TO, build, node_columns

from ._common import REPO, machine, median, ran, run_child, write_md

_ON_NODES = (S.LIGAND, S.RECEPTOR, S.PATHWAY, S.METHOD, S.RUN_ID)  # on Interaction and Run instead
CODED = (S.INTERACTION, S.LOAD_ID)  # the integer-codes layout keeps these as INT32 codes
COPIED = "documented + a copy from the Interaction node"
LAYOUTS = {
    "documented": (),
    "run and interaction on nodes": _ON_NODES,
    "integer codes": _ON_NODES + CODED,
    COPIED: (),
}
OCCURS = "OCCURS"  # the copy's relationship: (Interaction)-[:OCCURS]->(sender CellState)
RECEIVER = "receiver"  # the copy's receiver CellState key
_OCCURS_PROPS = ((RECEIVER, "STRING"), (S.SCORE, "DOUBLE"), (S.PVALUE, "DOUBLE"), (S.SIGNIFICANT, "BOOLEAN"),
                 (S.LOAD_ID, "STRING"))
SLICE = 250_000
PROBE = "CD86^CTLA4"


def child(a: dict) -> dict:
    """Bare COPY + COMMIT of one layout (runs in ``bench._child``)."""
    import dataclasses

    import ladybug
    import pyarrow as pa

    from commgraph.stores.embedded import _ddl, _rel_ddl

    from ._child import _fresh, _status
    from .generate import read_canonical

    drop = LAYOUTS[a["layout"]]
    frames = build(S.validate(read_canonical(a["table"])), load_id="layout")
    states = frames.cell_states.reset_index(drop=True)  # noqa: F841 (COPY reads it by name)
    inter = frames.interactions[node_columns(S.INTERACTION_NODE)].reset_index(drop=True)
    sig = frames.signals.reset_index(drop=True)
    del frames
    probe: object = PROBE
    props = [(n, t) for n, t in S.SIGNALS_PROPERTIES if n not in drop]
    occurs = None
    if a["layout"] == "integer codes":
        names = list(sig[S.INTERACTION].cat.categories)
        probe = int(names.index(PROBE))
        inter["code"] = inter[S.NAME].map({n: k for k, n in enumerate(names)}).astype("int32")
        for c in CODED:
            sig[c + "_code"] = sig[c].cat.codes.astype("int32")
        props += [(c + "_code", "INT32") for c in CODED]
    elif a["layout"] == COPIED:
        lean = sig[[S.INTERACTION, FROM, TO, S.SCORE, S.PVALUE, S.SIGNIFICANT, S.LOAD_ID]]
        lean.columns = [FROM, TO, *[n for n, _ in _OCCURS_PROPS]]  # Interaction -> sender, receiver key on the edge
        occurs = pa.Table.from_pandas(lean, preserve_index=False)
        del lean
    sig = sig[[FROM, TO, *[n for n, _ in props]]]
    arrow = pa.Table.from_pandas(sig, preserve_index=False)
    del sig
    gc.collect()
    _fresh(a["db"])
    db = ladybug.Database(a["db"])
    conn = ladybug.Connection(db)
    signals = _rel_ddl(S.REL_TABLE[S.SIGNALS])
    for stmt in _ddl():  # the store's schema, SIGNALS with this layout's properties
        conn.execute(_rel_ddl(dataclasses.replace(S.REL_TABLE[S.SIGNALS], properties=tuple(props)))
                     if stmt == signals else stmt)
    if a["layout"] == "integer codes":
        conn.execute(f"ALTER TABLE {S.INTERACTION_NODE} ADD code INT32")
    if occurs is not None:
        conn.execute(_rel_ddl(S.RelTable(OCCURS, S.INTERACTION_NODE, S.CELL_STATE, _OCCURS_PROPS)))
    conn.execute(f"COPY {S.CELL_STATE} FROM states")
    conn.execute(f"COPY {S.INTERACTION_NODE} FROM inter")
    t = time.perf_counter()
    conn.execute("BEGIN TRANSACTION")
    for table, rows in ((S.SIGNALS, arrow), (OCCURS, occurs)):
        for start in range(0, 0 if rows is None else rows.num_rows, SLICE):
            part = rows.slice(start, SLICE)  # noqa: F841
            conn.execute(f"COPY {table} FROM part")
    copied = time.perf_counter()
    conn.execute("COMMIT")
    done = time.perf_counter()
    key = S.INTERACTION + "_code" if a["layout"] == "integer codes" else S.INTERACTION
    edges = f"MATCH (x:{S.CELL_STATE})-[r:{S.SIGNALS}]->(y:{S.CELL_STATE})"
    ret = f"RETURN x.{S.CELL_TYPE_PROP} AS s, y.{S.CELL_TYPE_PROP} AS t, x.{S.DAY} AS d, r.{S.SCORE} AS score"
    by_name = f"{edges} WHERE r.{S.INTERACTION} = $p {ret}"  # what lr_trajectory does today
    asked = {  # one interaction from the name a user gives, as one Cypher file can ask it
        "integer codes": f"MATCH (i:{S.INTERACTION_NODE}) WHERE i.{S.NAME} = $p WITH i.code AS k "
                         f"{edges} WHERE r.{key} = k {ret}",
        COPIED: f"MATCH (i:{S.INTERACTION_NODE})-[r:{OCCURS}]->(x:{S.CELL_STATE}) WHERE i.{S.NAME} = $p "
                f"MATCH (y:{S.CELL_STATE}) WHERE y.{S.KEY_PROP} = r.{RECEIVER} {ret}",
    }.get(a["layout"], by_name)
    reads = {
        "one interaction": (f"{edges} WHERE r.{key} = $p {ret}", {"p": probe}),
        "one interaction asked": (asked, {"p": PROBE}),
        "significant per state pair": (f"{edges} WHERE r.{S.SIGNIFICANT} "
                                       f"RETURN x.{S.KEY_PROP} AS s, y.{S.KEY_PROP} AS t, count(*) AS n, "
                                       f"sum(r.{S.SCORE}) AS w", {}),
    }
    out = {"edges": arrow.num_rows, "copy_s": copied - t, "commit_s": done - copied, "seconds": done - t,
           "hwm_mb": _status("VmHWM"), "strings": sum(t == "STRING" for _, t in props), "properties": len(props),
           "copy properties": 0 if occurs is None else len(_OCCURS_PROPS),
           "copy strings": 0 if occurs is None else sum(t == "STRING" for _, t in _OCCURS_PROPS)}
    for name, (q, p) in reads.items():
        xs, rows = [], 0
        for _ in range(6):
            t0 = time.perf_counter()
            rows = len(conn.execute(q, p).get_as_df())
            xs.append(time.perf_counter() - t0)
        out[name] = statistics.median(xs[1:])
        out[name + " rows"] = rows
    conn.close()
    db.close()
    out["disk_mb"] = sum(f.stat().st_size for f in Path(a["db"]).parent.rglob("*") if f.is_file()) / 1e6
    return out


def measure(n_edges: int, repeat: int, work: Path, mem_cap_mb: float) -> list[dict]:
    from .generate import canonical_table

    table = canonical_table(n_edges, read=False)
    names = list(LAYOUTS)
    rows: dict[str, list[dict]] = {n: [] for n in names}
    for i in range(repeat):
        for name in names if i % 2 == 0 else names[::-1]:  # A B C, C B A: a noisy neighbour hits all alike
            res = run_child("layout", {"layout": name, "table": str(table), "db": str(work / "db" / "db")},
                            mem_cap_mb=mem_cap_mb, timeout=3600)
            if not res.ok:
                raise SystemExit(f"layout {name!r} at {n_edges:,} edges failed: {res.killed or res.stderr[-2000:]}")
            rows[name].append(res.result)
    out = []
    for name in names:
        rs = rows[name]
        med = {k: median([r[k] for r in rs]) for k in ("seconds", "copy_s", "commit_s", "one interaction",
                                                        "one interaction asked", "significant per state pair",
                                                        "hwm_mb", "disk_mb")}
        if rs[0]["one interaction rows"] != rs[0]["one interaction asked rows"]:
            raise SystemExit(f"layout {name!r}: the two reads of one interaction disagree "
                             f"({rs[0]['one interaction rows']:,} vs {rs[0]['one interaction asked rows']:,} rows)")
        out.append({"edges": rs[0]["edges"], "layout": name, **{k: rs[0][k] for k in (
                    "properties", "strings", "copy properties", "copy strings")}, **med,
                    "rows": rs[0]["one interaction rows"], "pairs": rs[0]["significant per state pair rows"]})
    return out


def _md(rows: list[dict]) -> list[str]:
    lines = ["| edges | layout | properties (strings) | COPY + COMMIT | edges/s | vs documented | COMMIT | "
             "one interaction, by value | one interaction, from its name in one query | "
             "significant per state pair | peak RSS | on disk |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = {r["edges"]: r["seconds"] for r in rows if r["layout"] == "documented"}
    for r in rows:
        props = f"{r['properties']} ({r['strings']})"
        if r["copy properties"]:
            props += f" + {r['copy properties']} ({r['copy strings']})"
        lines.append(
            f"| {r['edges']:,} | {r['layout']} | {props} | {r['seconds']:.1f} s | "
            f"{r['edges'] / r['seconds']:,.0f} | {base[r['edges']] / r['seconds']:.2f}× | {r['commit_s']:.1f} s | "
            f"{r['one interaction'] * 1000:.0f} ms ({r['rows']:,} rows) | {r['one interaction asked'] * 1000:.0f} ms | "
            f"{r['significant per state pair'] * 1000:.0f} ms ({r['pairs']:,} pairs) | "
            f"{r['hwm_mb'] / 1024:.2f} GB | {r['disk_mb']:,.0f} MB |")
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.layout", description=__doc__.split("\n")[0])
    ap.add_argument("--edges", default="1000000,10000000", help="comma-separated sizes of the bench's pooled study")
    ap.add_argument("--repeat", type=int, default=3, help="children per layout and size (median)")
    ap.add_argument("--mem-cap-gb", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "layout.md")
    a = ap.parse_args(argv)
    m = machine()
    started = time.perf_counter()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="cg-bench-layout-") as work:
        for n in (int(x) for x in a.edges.split(",")):
            rows += measure(n, a.repeat, Path(work), a.mem_cap_gb * 1024)
    text = [
        "# SIGNALS edge layout: what each layout costs a bare load (embedded)",
        "",
        ran(f"python -m bench.layout --edges {a.edges} --repeat {a.repeat}", started, m)
        + f" Medians of {a.repeat} child processes per row, layouts alternated; reads median of 5 warm. See the "
        "module docstring (`bench/layout.py`) for the layouts.",
        "",
        *_md(rows),
        "",
    ]
    write_md(a.out, text)


if __name__ == "__main__":
    main()
