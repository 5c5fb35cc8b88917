"""``python -m bench.export``: ``export_neo4j_import`` (the first half of ``push --bulk``) side by side.

    python -m bench.export --edges 10000000 --variants "main=/path/to/old/checkout;here=." --repeat 2

Each variant is a checkout of the package; each export runs in its own child process
(``bench._child export``) over the same read-only embedded store of the pooled study (loaded
once, as the bench's query section loads it, unless ``--db`` names one), variants alternated
within each repeat. Reported: medians of the export's seconds and of the child's peak RSS, and
the CSVs' size. Then ``neo4j-admin database import full`` of the last variant's CSVs into a fresh
home of the test server (``server.sh import``), so the table shows what ``push --bulk`` takes in
all. Writes ``bench/export.md``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ._common import REPO, Neo4jInstance, fmt_n, fmt_s, git_state, machine, ran, run_child, write_md


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.split("\n")[0])
    ap.add_argument("--edges", type=int, default=10_000_000, help="size of the bench's pooled study")
    ap.add_argument("--db", type=Path, help="an embedded store to export instead of loading one")
    ap.add_argument("--variants", default=f"here={REPO}", help="';'-separated NAME=CHECKOUT")
    ap.add_argument("--repeat", type=int, default=2, help="child processes per variant (median)")
    ap.add_argument("--mem-cap-gb", type=float, default=12.0)
    ap.add_argument("--no-import", action="store_true", help="skip neo4j-admin import")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "export.md")
    a = ap.parse_args(argv)
    started, m = time.perf_counter(), machine()
    variants = dict(v.split("=", 1) for v in a.variants.split(";"))
    work = Path(tempfile.mkdtemp(prefix="commgraph-bench-export-"))
    try:
        db = a.db
        if db is None:
            from .run import MODES, _fail, _load_child

            table, counts = MODES["full"].paths(a.edges, "pooled")
            db = work / "study" / "db.lbug"
            res = _load_child(table, counts, db, "runs", cap_mb=a.mem_cap_gb * 1024, timeout=7200, cleanup=False)
            if not res.ok:
                raise SystemExit(f"loading the pooled study of {a.edges:,} edges {_fail(res)}")
        import commgraph as cg

        with cg.connect(db, read_only=True) as store:
            edges = int(store.cypher("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n")["n"].iloc[0])
        got: dict[str, list[dict]] = {n: [] for n in variants}
        out = work / "csv"
        for r in range(a.repeat):
            for name in (list(variants) if r % 2 == 0 else list(variants)[::-1]):
                res = run_child("export", {"db": str(db), "out": str(out)}, mem_cap_mb=a.mem_cap_gb * 1024,
                                timeout=3600, env={"COMMGRAPH_BENCH_PATH": str(Path(variants[name]).resolve())})
                if not res.ok:
                    raise SystemExit(f"export by {name} failed: {res.killed or res.stderr[-1500:]}")
                got[name].append({"seconds": res.result["seconds"], "hwm_gb": res.max_rss_mb / 1024,
                                  "csv_mb": sum(res.result["files"].values()) / 1e6, "command": res.result["command"]})
                print(name, r, f"{res.result['seconds']:.1f} s", f"{res.max_rss_mb / 1024:.2f} GB", flush=True)
        imported = None if a.no_import else _import(got[name][-1]["command"], out, work / "neo4j-home")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = ["# `export_neo4j_import` side by side (embedded store → neo4j-admin CSVs)", "",
             ran(f"python -m bench.export {' '.join(argv or sys.argv[1:])}", started, m) + " "
             + (f"The bench's pooled study: {edges:,} SIGNALS edges. " if a.db is None else f"{a.db}: {edges:,} SIGNALS edges. ")
             + f"Medians of {a.repeat} child processes per variant, variants alternated. "
             + "Variants: " + ", ".join(f"{n} = {p} ({git_state(Path(p))})" for n, p in variants.items()) + ".", "",
             "| variant | export | SIGNALS edges/s | peak RSS | CSV |", "|---|---:|---:|---:|---:|"]
    for name, runs in got.items():
        sec = statistics.median(x["seconds"] for x in runs)
        lines.append(f"| {name} | {fmt_s(sec)} ({', '.join(fmt_s(x['seconds']) for x in runs)}) | "
                     f"{fmt_n(edges / sec)} | {statistics.median(x['hwm_gb'] for x in runs):.2f} GB | "
                     f"{runs[-1]['csv_mb']:,.0f} MB |")
    if imported:
        lines += ["", f"`neo4j-admin database import full` of {name}'s CSVs (JVM start included): "
                      f"{fmt_s(imported['seconds'])}, {imported['nodes']:,} nodes and {imported['rels']:,} relationships"
                      + (f" ({fmt_n(imported['rels'] / imported['seconds'])} rels/s)." if imported["rels"] else ".")]
    write_md(a.out, lines + [""])


def _import(command: str, csv_dir: Path, home: Path) -> dict:
    """``server.sh import`` of an export into a fresh home; seconds and what neo4j-admin reports."""
    with socket.socket() as s:  # neo4j-admin opens no port, but the instance wants one
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Neo4jInstance(str(home), port)
    t = time.perf_counter()
    done = server.admin_import(command.split("neo4j-admin database import full ", 1)[1].split(), cwd=str(csv_dir))
    seconds = time.perf_counter() - t
    text = (done.stdout + done.stderr).replace("\n", " ")
    server.destroy()
    if done.returncode != 0:
        raise SystemExit(f"neo4j-admin import failed: {text[-1500:]}")
    found = re.search(r"Imported:\s*(\d+) nodes\s*(\d+) relationships", text)
    return {"seconds": seconds, "nodes": int(found.group(1)) if found else 0, "rels": int(found.group(2)) if found else 0}


if __name__ == "__main__":
    main()
