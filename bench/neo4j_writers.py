"""Neo4j load variants side by side: `Store.load` once per run into an emptied server.

    python -m bench.neo4j_writers --size 1M --variants main,here --repeat 3 \
        --home /tmp/neo4j-x --port 7741

A variant is a checkout of the package (``main`` = /work/main, ``here`` = this one, or a path)
optionally with overrides of `commgraph.stores.neo4j` settings (``here:WRITERS=3,SIGNALS_BATCH=5000``).
Each load runs in its own child process; variants alternate (A B / B A) within each repeat, and
the server is emptied (stop, delete the data directory, start) before every load.

Besides wall time it records the CPU seconds the server (the JVM) and the client spent: on a
machine shared with other work the wall rate depends on what else runs, CPU per edge much less.
Prints one JSON line per load and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from ._common import REPO, Neo4jInstance, median

SIZES = {"1M": "v2-ct30-d5-g4-e50000-s20251124", "10M": "v2-ct30-d5-g4-e500000-s20251124"}

CHILD = r"""
import json, os, sys, time
import pandas as pd
import commgraph as cg
from commgraph import _schema as S
from commgraph.stores import neo4j as N

uri, base, pid, settings = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
for k, v in settings.items():
    setattr(N, k, v)

def cpu(p):  # utime + stime of a process, seconds
    with open(f"/proc/{p}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

table = pd.read_parquet(base + ".parquet")
counts = pd.read_parquet(base + ".counts.parquet")
store = cg.connect(uri)
store.progress = False
s0, c0, t0 = cpu(pid), time.process_time(), time.perf_counter()
for _, part in table.groupby(S.RUN_ID, observed=True, sort=False):
    day, group = int(part[S.DAY].iloc[0]), str(part[S.GROUP].iloc[0])
    c = counts[(counts[S.DAY] == day) & (counts[S.GROUP] == group)]
    store.load(part.reset_index(drop=True), cell_counts=c)
sec, server, client = time.perf_counter() - t0, cpu(pid) - s0, time.process_time() - c0
n = int(store.cypher("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n")["n"][0])
store.close()
print(json.dumps({"seconds": sec, "rels": n, "rate": n / sec, "server_cpu": server, "client_cpu": client,
                  "cpu_us_per_rel": (server + client) / n * 1e6}))
"""


def parse_variant(spec: str) -> tuple[str, dict]:
    code, _, sets = spec.partition(":")
    path = {"main": "/work/main", "here": str(REPO)}.get(code, code)
    settings = {}
    for item in filter(None, sets.split(",")):
        k, v = item.split("=")
        settings[k] = int(v)
    return path, settings


def load_once(server: Neo4jInstance, base: Path, spec: str) -> dict:
    path, settings = parse_variant(spec)
    pid = int((server.home / "server.pid").read_text())
    env = {**os.environ, "PYTHONPATH": path, "NEO4J_PASSWORD": server.env["NEO4J_PASSWORD"]}
    done = subprocess.run([sys.executable, "-c", CHILD, server.uri, str(base), str(pid), json.dumps(settings)],
                          env=env, cwd=path, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{spec}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bulk(base: Path, home: str, work: Path) -> dict:
    """`push_bulk` of an embedded store holding the table into a fresh, stopped test-server home:
    seconds of the export and of neo4j-admin (JVM start included)."""
    import shutil
    import time

    import pandas as pd

    import commgraph as cg
    from commgraph import _schema as S

    from ._common import SERVER_SH

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    table = pd.read_parquet(f"{base}.parquet")
    counts = pd.read_parquet(f"{base}.counts.parquet")
    with cg.connect(work / "study.lbug") as store:
        t0 = time.perf_counter()
        store.load(table, cell_counts=counts[[S.CELL_TYPE_PROP, S.DAY, S.GROUP, S.N_CELLS]])
        load_s = time.perf_counter() - t0
        del table
        shutil.rmtree(home, ignore_errors=True)
        os.environ.update({"NEO4J_TEST_HOME": home, "NEO4J_HTTP_PORT": "off", "NEO4J_CDS": "0",
                           "NEO4J_ADMIN_HEAP": "2g"})
        got = cg.push_bulk(store, ["bash", str(SERVER_SH), "admin"], work_dir=work, progress=False)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return {"embedded_load_s": load_s, **got}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1M", choices=sorted(SIZES))
    ap.add_argument("--variants", default="main;here", help="';'-separated variants")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", default=os.environ.get("COMMGRAPH_BENCH_CACHE", "/work/bench-cache"))
    ap.add_argument("--home", required=True, help="NEO4J_TEST_HOME of a server this script may wipe")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--heap", default="3g")
    ap.add_argument("--pagecache", default="3g")
    ap.add_argument("--bulk", action="store_true", help="time push_bulk (export + neo4j-admin) instead")
    a = ap.parse_args(argv)
    base = Path(a.cache) / "canonical" / SIZES[a.size]
    if a.bulk:  # --home: a fresh home for neo4j-admin (deleted before and after)
        for r in range(a.repeat):
            got = bulk(base, a.home, Path(a.cache) / "neo4jload" / "bulk")
            print(json.dumps({"size": a.size, "repeat": r, **got}), flush=True)
        return
    server = Neo4jInstance(a.home, a.port, heap=a.heap, pagecache=a.pagecache)
    names = a.variants.split(";")
    got: dict[str, list[dict]] = {n: [] for n in names}
    for r in range(a.repeat):
        for name in (names if r % 2 == 0 else names[::-1]):
            server.wipe()
            res = load_once(server, base, name)
            got[name].append(res)
            print(json.dumps({"size": a.size, "variant": name, "repeat": r, **res}), flush=True)
    server.stop()
    for name in names:
        rates = [x["rate"] for x in got[name]]
        cpu = [x["cpu_us_per_rel"] for x in got[name]]
        print(f"{a.size} {name}: median {median(rates):,.0f} rels/s ({', '.join(f'{x:,.0f}' for x in rates)}); "
              f"server+client CPU median {median(cpu):.1f} us/rel ({', '.join(f'{x:.1f}' for x in cpu)})", flush=True)


if __name__ == "__main__":
    main()
