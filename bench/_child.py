"""Work the benchmarks run in a child process (so that its peak RSS is its own and a runaway
load can be killed): ``python -m bench._child TASK`` with JSON arguments on stdin; the JSON
result is the last line of stdout."""

from __future__ import annotations

import gc
import json
import shutil
import sys
import time
from pathlib import Path


def _status(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _fresh(db: str) -> None:
    p = Path(db)
    shutil.rmtree(p.parent, ignore_errors=True)
    p.parent.mkdir(parents=True, exist_ok=True)


def embedded_load(a: dict) -> dict:
    import pandas as pd

    import commgraph as cg
    from commgraph import _schema as S

    from .generate import read_canonical

    mode = a["mode"]
    counts = pd.read_parquet(a["counts"]) if a.get("counts") else None
    if mode == "runs":  # one Store.load per run (a store grown run by run); per-sample tables are streamed
        return _by_run(a, counts)
    if mode == "many":  # one load_many over the runs read one at a time, as load_manifest streams a study
        return _many(a, counts)
    table = read_canonical(a["table"])
    gc.collect()
    out: dict = {"n_edges": len(table), "rss_after_read_mb": _status("VmRSS")}
    _fresh(a["db"])
    if mode == "store":
        if a.get("breakdown"):
            from commgraph._graph import build

            t = time.perf_counter()
            v = S.validate(table)
            out["validate_s"] = time.perf_counter() - t
            t = time.perf_counter()
            build(v, load_id="breakdown", cell_counts=counts)
            out["build_s"] = time.perf_counter() - t
            del v
            gc.collect()
            out["rss_before_load_mb"] = _status("VmRSS")
        store = cg.connect(a["db"])
        t = time.perf_counter()
        store.load(table, cell_counts=counts)
        out["seconds"] = time.perf_counter() - t
        out["load_hwm_mb"] = _status("VmHWM")  # the load's peak: the count below reads every edge
        out["loaded"] = int(store.stats()["signals"])
        store.close()
    elif mode == "bare":  # the floor: COPY SIGNALS FROM an Arrow table, nothing else
        import ladybug
        import pyarrow as pa

        from commgraph._graph import build
        from commgraph.stores.embedded import _ddl

        frames = build(S.validate(table), load_id="bare", cell_counts=counts)
        states = frames.cell_states.reset_index(drop=True)  # noqa: F841
        sig = pa.Table.from_pandas(frames.signals.reset_index(drop=True), preserve_index=False)
        del frames, table
        gc.collect()
        db = ladybug.Database(a["db"])
        conn = ladybug.Connection(db)
        for stmt in _ddl():
            conn.execute(stmt)
        conn.execute("COPY CellState FROM states")
        out["rss_before_load_mb"] = _status("VmRSS")
        chunk = int(a.get("chunk") or 0)
        t = time.perf_counter()
        if chunk and chunk < sig.num_rows:
            conn.execute("BEGIN TRANSACTION")
            for i in range(0, sig.num_rows, chunk):
                part = sig.slice(i, chunk)  # noqa: F841
                conn.execute("COPY SIGNALS FROM part")
            conn.execute("COMMIT")
        else:
            conn.execute("COPY SIGNALS FROM sig")
        out["seconds"] = time.perf_counter() - t
        got = conn.execute("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n").get_as_df()
        out["loaded"] = int(got["n"].iloc[0])
        conn.close()
        db.close()
    else:
        raise ValueError(mode)
    out["hwm_mb"] = _status("VmHWM")
    if a.get("cleanup"):
        shutil.rmtree(Path(a["db"]).parent, ignore_errors=True)
    return out


def run_counts(counts, part):
    """The cell counts that go with one run: its sample's, or its day × group's."""
    from commgraph import _schema as S

    if counts is None:
        return None
    if S.SAMPLE in counts.columns and S.SAMPLE in part.columns and part[S.SAMPLE].notna().any():
        return counts[counts[S.SAMPLE] == str(part[S.SAMPLE].iloc[0])]
    day, group = int(part[S.DAY].iloc[0]), str(part[S.GROUP].iloc[0])
    return counts[(counts[S.DAY] == day) & (counts[S.GROUP] == group)]


def _many(a: dict, counts) -> dict:
    """One ``Store.load_many`` over the runs, read one at a time (one parquet row group each) in
    day × group order, as ``load_manifest`` loads a study too large to hold: the process never holds
    the study, and the runs of one split share a part."""
    import commgraph as cg

    from .generate import iter_runs

    _fresh(a["db"])
    store = cg.connect(a["db"])
    sizes, read_s = [], [0.0]
    out: dict = {"rss_before_mb": _status("VmRSS")}

    def items():
        runs = iter_runs(a["table"], by_split=True)
        while True:
            t = time.perf_counter()
            nxt = next(runs, None)
            read_s[0] += time.perf_counter() - t
            if nxt is None:
                return
            part = nxt[1]
            sizes.append(len(part))
            yield part, run_counts(counts, part)
            del part, nxt

    t0 = time.perf_counter()
    store.load_many(items())
    out["seconds"] = time.perf_counter() - t0  # reading included
    out["read_s"] = read_s[0]
    out["n_runs"] = len(sizes)
    return _loaded(a, store, out, sizes)


def _loaded(a: dict, store, out: dict, sizes: list[int]) -> dict:
    """What a streamed load reports once its loads return: sizes, the loads' peak, then the count."""
    out["n_edges"] = int(sum(sizes))
    out["largest_run"] = int(max(sizes)) if sizes else 0
    out["load_hwm_mb"] = _status("VmHWM")  # the loads' peak: the count below reads every edge (LadybugDB's
    # default read pool keeps what it touched: at 30M edges the count alone took the process to 5 GB)
    out["loaded"] = int(store.stats()["signals"])
    store.close()
    out["hwm_mb"] = _status("VmHWM")
    if a.get("cleanup"):
        shutil.rmtree(Path(a["db"]).parent, ignore_errors=True)
    return out


def _by_run(a: dict, counts) -> dict:
    """One ``Store.load`` per run. A per-sample table (one row group per run) is read run by run,
    so the process never holds the study; a pooled table is read whole, then grouped."""
    import commgraph as cg

    from .generate import iter_runs

    _fresh(a["db"])
    store = cg.connect(a["db"])
    per_run, sizes = [], []
    out: dict = {"rss_before_mb": _status("VmRSS")}
    t0 = time.perf_counter()
    read_s = 0.0
    runs = iter_runs(a["table"])
    while True:
        t = time.perf_counter()
        nxt = next(runs, None)
        read_s += time.perf_counter() - t
        if nxt is None:
            break
        _, part = nxt
        t = time.perf_counter()
        store.load(part, cell_counts=run_counts(counts, part))
        per_run.append(time.perf_counter() - t)
        sizes.append(len(part))
        del part, nxt
    out["seconds"] = time.perf_counter() - t0  # reading included when streamed
    out["read_s"] = read_s
    out["per_run_s"] = per_run
    return _loaded(a, store, out, sizes)


def differential(a: dict) -> dict:
    """``commgraph.differential`` over a store (not writing), timed; then the CLI is timed by the parent."""
    import commgraph as cg
    from commgraph import _schema as S

    with cg.connect(a["db"]) as store:
        t = time.perf_counter()
        res = cg.differential(store, write=False, progress=False)
        tested = len(res.results)  # built on first use: a user of the API asks for them
        seconds = time.perf_counter() - t
        hwm = _status("VmHWM")  # the differential's peak: the count below reads every edge through the read cache
        stats = store.stats()
    c = res.contrasts
    return {"seconds": seconds, "signals": int(stats["signals"]), "contrasts": int(len(c)),
            "tested": int(tested), "calls": int((res.results[S.FDR] < 0.05).sum()) if len(res.results) else 0,
            "hwm_mb": hwm}


def cli(a: dict) -> dict:
    """``commgraph ARGV`` in this process, as a user runs it (the parent times the process and
    takes its peak RSS from the process's VmHWM at exit); its output goes to stdout before the JSON result."""
    from commgraph.cli import main

    sys.argv = ["commgraph", *a["argv"]]
    try:
        main()
        code = 0
    except SystemExit as ex:
        code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
    sys.stdout.flush()
    return {"exit": code}


def export(a: dict) -> dict:
    import commgraph as cg

    out_dir = Path(a["out"])
    shutil.rmtree(out_dir, ignore_errors=True)
    store = cg.connect(a["db"], read_only=True)
    t = time.perf_counter()
    command = cg.export_neo4j_import(store, out_dir, progress=False)
    seconds = time.perf_counter() - t
    store.close()
    files = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir())}
    return {"seconds": seconds, "command": command, "files": files, "hwm_mb": _status("VmHWM")}


def layout(a: dict) -> dict:
    from .layout import child

    return child(a)


def changed_write(a: dict) -> dict:
    from .changed_write import capture, child

    return capture(Path(a["db"]), Path(a["parts"])) if a.get("capture") else child(a)


def store_edits(a: dict) -> dict:
    from .store_edits import child

    return child(a)


TASKS = {"embedded_load": embedded_load, "export": export, "differential": differential, "cli": cli, "layout": layout,
         "changed_write": changed_write, "store_edits": store_edits}


def main() -> None:
    task = sys.argv[1]
    args = json.loads(sys.stdin.read() or "{}")
    result = TASKS[task](args)
    # the process's own peak, for run_child: VmHWM belongs to this exec'd image alone
    result["process_hwm_mb"] = _status("VmHWM")
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
