"""Helpers the benchmarks share: timing, machine facts, child processes with a memory watch,
and a private Neo4j test-server instance."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SERVER_SH = REPO / "tools" / "neo4j-test-server" / "server.sh"


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int, *, warmup: int = 0) -> dict[str, list[float]]:
    """Time each function ``repeat`` times, alternating between them (A B, B A, A B, ...), so
    that a noisy neighbour hits every contestant alike. Returns seconds per name."""
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    out: dict[str, list[float]] = {n: [] for n in names}
    for i in range(repeat):
        order = names if i % 2 == 0 else names[::-1]
        for n in order:
            out[n].append(timed(fns[n])[0])
    return out


def fmt_s(seconds: float) -> str:
    if seconds != seconds:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_n(x: float) -> str:
    if x != x:
        return "–"
    return f"{x:,.0f}"


# --- machine and versions ----------------------------------------------------------------------


def _meminfo_gib() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": f"{_meminfo_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in load),
    }


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return "not installed"


def git_state(path: Path) -> str:
    try:
        rev = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{rev}{' + uncommitted changes' if dirty else ''}" if rev else "not a git checkout"
    except Exception:
        return "unknown"


def ran(command: str, started: float, m: dict[str, str]) -> str:
    """How a standalone bench file was made: the command, the code, when, the machine, its load, how long."""
    import datetime as dt

    return (f"`{command}` at {git_state(REPO)}, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{m['cores']} cores ({m['cpu']}), load at start {m['load average at start (1/5/15 min)']}; "
            f"{time.perf_counter() - started:.0f} s in all.")


def write_md(path: Path, lines: list[str]) -> None:
    """Write a standalone bench file and show it."""
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def versions() -> dict[str, str]:
    java = "not found"
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=20)
        java = (out.stderr or out.stdout).splitlines()[0]
    except Exception:
        pass
    return {
        "python": sys.version.split()[0],
        "pandas": _version("pandas"),
        "numpy": _version("numpy"),
        "pyarrow": _version("pyarrow"),
        "ladybug": _version("ladybug"),
        "neo4j (driver)": _version("neo4j"),
        "neo4j-rust-ext": _version("neo4j-rust-ext"),
        "java": java,
    }


# --- child processes with a memory watch ----------------------------------------------------------


@dataclass
class ChildResult:
    ok: bool
    result: dict = field(default_factory=dict)
    seconds: float = 0.0
    max_rss_mb: float = float("nan")  # the child's VmHWM at exit (or the polled peak if it reported none)
    polled_peak_mb: float = float("nan")  # highest VmRSS seen while polling
    killed: str = ""  # why it was killed (memory cap, timeout)
    stderr: str = ""


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_child(task: str, args: dict, *, mem_cap_mb: float, timeout: float, env: dict | None = None) -> ChildResult:
    """Run ``python -m bench._child TASK`` with ``args`` (JSON on stdin); the child prints
    its JSON result as the last stdout line. Killed (SIGKILL) if its RSS passes
    ``mem_cap_mb`` or it runs past ``timeout`` seconds. Peak RSS: the VmHWM the child reports as
    it exits, else (killed, crashed) the highest RSS polled. Not wait4's ru_maxrss: Linux carries
    the parent's RSS at fork across exec into it (a 9 MB child of a 2 GB parent reports 1.9 GB)."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONPATH", "")
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (full_env.get("COMMGRAPH_BENCH_PATH", ""), str(REPO),
                                                          full_env["PYTHONPATH"]) if p)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench._child", task], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=str(REPO))
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(args))
    proc.stdin.close()
    # drain pipes in threads so a chatty child can't block
    import threading

    out_chunks: list[str] = []
    err_chunks: list[str] = []
    threads = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
               for s, b in ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
    for th in threads:
        th.start()
    peak, killed, status, usage = 0.0, "", None, None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        rss = _rss_mb(proc.pid)
        if rss == rss:
            peak = max(peak, rss)
        elapsed = time.perf_counter() - t0
        if not killed and rss == rss and rss > mem_cap_mb:
            killed = f"RSS {rss / 1024:.1f} GB passed the memory cap of {mem_cap_mb / 1024:.1f} GB after {elapsed:.0f} s"
            os.kill(proc.pid, signal.SIGKILL)
        elif not killed and elapsed > timeout:
            killed = f"still running after the time limit of {timeout:.0f} s"
            os.kill(proc.pid, signal.SIGKILL)
        time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for th in threads:
        th.join(timeout=10)
    seconds = time.perf_counter() - t0
    out = "".join(out_chunks)
    err = "".join(err_chunks)
    result: dict = {}
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    ok = proc.returncode == 0 and not killed and bool(result)
    own = result.get("process_hwm_mb")
    return ChildResult(ok=ok, result=result, seconds=seconds, max_rss_mb=own if own is not None else peak,
                       polled_peak_mb=peak, killed=killed, stderr=err[-3000:])


# --- a private Neo4j test server ---------------------------------------------------------------


class Neo4jInstance:
    """One instance of tools/neo4j-test-server with its own home and port."""

    def __init__(self, home: str, bolt_port: int, *, heap: str = "3g", pagecache: str = "3g", admin_heap: str = "2g"):
        self.home = Path(home)
        self.bolt_port = bolt_port
        self.env = {
            "NEO4J_TEST_HOME": str(self.home),
            "NEO4J_BOLT_PORT": str(bolt_port),
            "NEO4J_HTTP_PORT": "off",
            "NEO4J_HEAP": heap,
            "NEO4J_PAGECACHE": pagecache,
            "NEO4J_ADMIN_HEAP": admin_heap,
            "NEO4J_CDS": "0",  # don't write the shared class-data archive in tools/.../target
            "NEO4J_PASSWORD": os.environ.get("NEO4J_PASSWORD", "commgraph-test"),
        }
        self.started_by_us = False

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def _sh(self, *args: str, cwd: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(SERVER_SH), *args], env={**os.environ, **self.env}, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)

    def running(self) -> bool:
        return self._sh("status", timeout=60).returncode == 0

    def start(self) -> None:
        out = self._sh("start", timeout=400)
        if out.returncode != 0:
            raise RuntimeError(f"Neo4j instance in {self.home} did not start:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        self.started_by_us = True

    def stop(self) -> None:
        self._sh("stop", timeout=200)

    def wipe(self) -> float:
        """Stop, delete the data directory, start again: an empty database. Returns seconds."""
        t = time.perf_counter()
        self.stop()
        shutil.rmtree(self.home / "data", ignore_errors=True)
        self.start()
        return time.perf_counter() - t

    def admin_import(self, args: list[str], cwd: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        return self._sh("import", *args, cwd=cwd, timeout=timeout)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def per_sample_args(prog: str, doc: str, out: str, repeat: int, argv=None) -> argparse.Namespace:
    """The options of a standalone bench over the bench's loaded per-sample study."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    ap.add_argument("--edges", type=int, default=10_000_000, help="size of the bench's per-sample study to load")
    ap.add_argument("--db", type=Path, help="an embedded store of that study to use instead of loading one")
    ap.add_argument("--repeat", type=int, default=repeat, help="child processes per variant (median)")
    ap.add_argument("--mem-cap-gb", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / out)
    return ap.parse_args(argv)


def per_sample_store(edges: int, work: Path, cap_mb: float) -> Path:
    """A per-sample store of ``edges`` edges under ``work``, loaded as the bench's differential section loads it."""
    from .run import MODES, _fail, _load_child

    table, counts = MODES["full"].paths(edges, "per-sample")
    db = work / "study" / "db.lbug"
    res = _load_child(table, counts, db, "many", cap_mb=cap_mb, timeout=7200, cleanup=False)
    if not res.ok:
        raise SystemExit(f"loading the per-sample study of {edges:,} edges {_fail(res)}")
    return db


def copy_store(db: Path, work: Path) -> Path:
    """A fresh copy of the embedded store ``db`` (its file and the files named after it: WAL,
    journal) in the empty directory ``work``; the copy's path. Nothing else beside ``db`` is copied."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for f in db.parent.glob(db.name + "*"):
        shutil.copy2(f, work / f.name)
    return work / db.name
