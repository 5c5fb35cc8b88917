"""``python -m bench.changed_write``: where ``commgraph differential`` spends the time of its write.

Over the 10M-edge per-sample study the CLI takes about twice the API's time (results.md): it also
writes every tested feature as a CHANGED edge, 3.4M of them with 15 properties. This captures the
edges one ``commgraph.differential`` run writes for a store (the store's ``write_contrasts``
intercepted: nothing written), then writes them into fresh copies of that store, each child
process one way LadybugDB could take them:

- **as the store writes**: DROP and CREATE the CHANGED table (stored one way, forward only), COPY
  each level's edges in the 250k-row slices ``EmbeddedStore._copy`` uses, one transaction, COMMIT;
- **both directions**: the same with the table stored both ways, as the store wrote it before;
- **one COPY per level**: the same without slices;
- **sorted by state**: the same as the store, each level's edges sorted by sender and receiver state;
- **auto_checkpoint off**: the same as the store after ``CALL auto_checkpoint=false``; the
  CHECKPOINT the store runs after every COMMIT then does the work;
- **outside a transaction**: one COPY of every edge into an empty table (as a staging table a
  rename could swap in would be written).

Timed per child: the COPY statements, the COMMIT, the CHECKPOINT after it; peak RSS is the child's.
Writes ``bench/changed-write.md``.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ._common import copy_store, machine, per_sample_args, per_sample_store, ran, run_child, write_md

WAYS = ("as the store writes", "both directions", "one COPY per level", "sorted by state", "auto_checkpoint off",
        "outside a transaction")


def capture(db: Path, parts: Path) -> dict:
    """Run the differential over ``db`` and keep the CHANGED edges it would write, one pickle a level."""
    import commgraph as cg
    from commgraph.stores.embedded import EmbeddedStore

    sizes: list[int] = []

    def keep(self, nodes, edges) -> None:
        for i, frame in enumerate(edges):
            frame.to_pickle(parts / f"level{i}.pkl")
            sizes.append(len(frame))

    EmbeddedStore.write_contrasts = keep
    t0 = time.perf_counter()
    with cg.connect(db) as store:
        cg.differential(store, progress=False)
    return {"levels": sizes, "seconds": time.perf_counter() - t0}


def child(a: dict) -> dict:
    """One way of writing the captured edges into a fresh copy of the store (``bench._child``)."""
    import pandas as pd

    import commgraph as cg
    from commgraph import _schema as S
    from commgraph._graph import FROM, TO
    from commgraph.stores import embedded as E

    way, work = a["way"], Path(a["work"])
    copy = copy_store(Path(a["db"]), work)
    parts = [pd.read_pickle(p) for p in sorted(Path(a["parts"]).glob("level*.pkl"))]
    if way == "sorted by state":
        parts = [p.sort_values([FROM, TO], kind="stable").reset_index(drop=True) for p in parts]
    if way == "outside a transaction":
        one = pd.concat(parts, ignore_index=True)  # categoricals of different categories become objects
        parts = [one.astype({c: "category" for c in one.columns if one[c].dtype == object})]
    if way in ("one COPY per level", "outside a transaction"):
        E.COPY_ROWS = max(len(p) for p in parts)
    store = cg.connect(copy)
    store._writable()
    c = store._conn
    if way == "auto_checkpoint off":
        c.execute("CALL auto_checkpoint=false")
    out: dict = {"way": way, "edges": sum(len(p) for p in parts)}
    t0 = time.perf_counter()
    if way != "outside a transaction":
        c.execute("BEGIN TRANSACTION")
    c.execute(f"DROP TABLE {S.CHANGED}")
    table = S.REL_TABLE[S.CHANGED]
    c.execute(E._rel_ddl(dataclasses.replace(table, forward_only=False) if way == "both directions" else table))
    for p in parts:
        store._copy(S.CHANGED, p)
    out["copy_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if way != "outside a transaction":
        c.execute("COMMIT")
    out["commit_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    store._checkpoint()
    out["checkpoint_s"] = time.perf_counter() - t0
    out["stored"] = int(store.cypher(f"MATCH ()-[r:{S.CHANGED}]->() RETURN count(r) AS n")["n"][0])
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv=None) -> None:
    a = per_sample_args("python -m bench.changed_write", __doc__, "changed-write.md", 2, argv)
    m = machine()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cg-bench-changed-") as tmp:
        work = Path(tmp)
        db = a.db or per_sample_store(a.edges, work, a.mem_cap_gb * 1024)
        (work / "parts").mkdir()
        got = run_child("changed_write", {"capture": True, "db": str(db), "parts": str(work / "parts")},
                        mem_cap_mb=a.mem_cap_gb * 1024, timeout=3600)
        if not got.ok:
            raise SystemExit(f"the differential over {db} failed: {got.killed or got.stderr[-2000:]}")
        runs: dict[str, list] = {w: [] for w in WAYS}
        for i in range(a.repeat):
            for way in WAYS if i % 2 == 0 else WAYS[::-1]:  # A B C, C B A: a noisy neighbour hits all alike
                res = run_child("changed_write", {"way": way, "db": str(db), "parts": str(work / "parts"),
                                                  "work": str(work / "copy")},
                                mem_cap_mb=a.mem_cap_gb * 1024, timeout=3600)
                if not res.ok:
                    raise SystemExit(f"{way!r} failed: {res.killed or res.stderr[-2000:]}")
                runs[way].append({**res.result, "peak_gb": res.max_rss_mb / 1024})
    levels = got.result["levels"]
    lines = ["| way | COPY | COMMIT | CHECKPOINT | in all | peak RSS | edges stored |", "|---|---:|---:|---:|---:|---:|---:|"]
    for way in WAYS:
        rs = runs[way]
        med = {k: statistics.median(r[k] for r in rs) for k in ("copy_s", "commit_s", "checkpoint_s", "peak_gb")}
        total = statistics.median(r["copy_s"] + r["commit_s"] + r["checkpoint_s"] for r in rs)
        lines.append(f"| {way} | {med['copy_s']:.1f} s | {med['commit_s']:.1f} s | {med['checkpoint_s']:.1f} s | "
                     f"{total:.1f} s | {med['peak_gb']:.2f} GB | {rs[0]['stored']:,} |")
    text = [
        "# The differential's write of CHANGED edges (embedded)",
        "",
        (ran(f"python -m bench.changed_write --edges {a.edges} --repeat {a.repeat}", started, m) + " "
         f"{'The store ' + str(a.db) if a.db else f'The per-sample study of {a.edges:,} edges'}: the differential "
         f"(default settings, {got.result['seconds']:.1f} s, writing nothing) gives {sum(levels):,} CHANGED edges in "
         f"{len(levels)} levels ({', '.join(f'{n:,}' for n in levels)}). Medians of {a.repeat} child processes per "
        "way, ways alternated. See the module docstring (`bench/changed_write.py`) for the ways."),
        "",
        *lines,
        "",
    ]
    write_md(a.out, text)


if __name__ == "__main__":
    main()
