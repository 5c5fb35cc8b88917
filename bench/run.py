"""``python -m bench``: loading, querying and the demo at study scale, with side-by-side floors.

Every figure is a median over repeated runs; every comparison is a ratio of two medians
measured in the same run, interleaved (A B, B A, ...), so that a noisy neighbour hits both
sides alike. Results go to ``bench/results.md`` (``--out``). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from commgraph.stores._base import LOAD_CHUNK_ROWS

from . import generate as G
from ._child import run_counts
from ._common import (REPO, ChildResult, Neo4jInstance, fmt_n, fmt_s, git_state, interleaved, machine, median,
                      run_child, timed, versions)

# --- modes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    parse_study: G.Study  # the run whose CellPhoneDB / LIANA+ files are parsed
    load_sizes: tuple[int, ...]  # one-shot Store.load vs bare COPY
    query_sizes: tuple[int, ...]
    memory_size: int
    neo4j_sizes: tuple[int, ...]
    per_row: int  # rows for the per-row MERGE loader
    import_size: int
    repeat: int
    neo4j_budget: float  # seconds for our Neo4j loader at the largest size
    engines: str  # default --engines
    query_by_run: bool = True  # build the query stores run by run (else reuse the one-shot load's store)
    layout: str = "pooled"  # the study the load/query/memory/neo4j sizes use: "pooled" (20 runs) or "per-sample"
    stream_sizes: tuple[int, ...] = ()  # per-sample studies streamed through load_many (bounded memory), peak RSS
    differential_size: int = 0  # per-sample study `commgraph differential` is timed over (0: none)
    per_sample: tuple = ()  # SampleStudy keyword arguments besides n_edges, as (name, value) pairs
    differential_cli: bool = True  # also time `commgraph differential` (the CLI); smoke: the API only
    load_repeat: int = 0  # repeats of the one-shot loads up to 2M edges (0: --repeat)
    duck_in_memory: bool = True  # the DuckDB peer also reads the table into memory (xl: Parquet only, since
    # pandas, DuckDB, the embedded store and Neo4j each holding 30M rows passed this machine's 24 GB)

    def sample_study(self, n: int) -> G.SampleStudy:
        return G.SampleStudy(n_edges=n, **dict(self.per_sample))

    def paths(self, n: int, layout: str | None = None) -> tuple[Path, Path]:
        """(table, cell counts) of the study of ``n`` edges in ``layout`` (default: the mode's), generated
        (run by run for per-sample studies) if not cached."""
        if (layout or self.layout) == "per-sample":
            ps = self.sample_study(n)
            return G.per_sample_table(ps, progress=True), G.per_sample_counts_path(ps)
        return G.canonical_table(n, read=False), G.counts_path(n)


FULL_DENSITY = G.Study.for_edges(10_000_000)
# a tiny per-sample study for the smoke run: 1 group × 3 patients × days 0, 7 (6 runs)
SMOKE_SAMPLES = (("n_patients", 3), ("n_cell_types", 8), ("days", (0, 7)), ("groups", ("high",)),
                 ("max_interactions", 400))  # 30 cell types, 500k expressed cells per run (19%)
MODES = {
    "smoke": Mode(parse_study=G.Study(n_cell_types=12, edges_per_run=80_000), load_sizes=(100_000,),
                  query_sizes=(100_000,), memory_size=100_000, neo4j_sizes=(100_000,), per_row=300,
                  import_size=100_000, repeat=3, neo4j_budget=120, engines="embedded", query_by_run=False,
                  stream_sizes=(60_000,), differential_size=60_000, per_sample=SMOKE_SAMPLES,
                  differential_cli=False, load_repeat=1),
    "small": Mode(parse_study=FULL_DENSITY, load_sizes=(1_000_000,), query_sizes=(1_000_000, 5_000_000),
                  memory_size=5_000_000, neo4j_sizes=(1_000_000,), per_row=1_000, import_size=1_000_000, repeat=5,
                  neo4j_budget=900, engines="embedded,neo4j", stream_sizes=(1_000_000,),
                  differential_size=1_000_000),
    "full": Mode(parse_study=FULL_DENSITY, load_sizes=(1_000_000, 10_000_000), query_sizes=(1_000_000, 10_000_000),
                 memory_size=10_000_000, neo4j_sizes=(1_000_000, 10_000_000), per_row=5_000, import_size=10_000_000,
                 repeat=5, neo4j_budget=2_400, engines="embedded,neo4j", stream_sizes=(10_000_000,),
                 differential_size=10_000_000),
    # the per-patient scale of issue 17: 30M edges, one run per sample (4 groups × 6 patients × 5 days)
    # xl's code paths at 1M/3M (per-sample layout, 4 groups × 2 patients × 5 days, embedded by default): minutes
    "check": Mode(parse_study=FULL_DENSITY, load_sizes=(1_000_000,), query_sizes=(1_000_000,), memory_size=1_000_000,
                  neo4j_sizes=(1_000_000,), per_row=0, import_size=0, repeat=3, neo4j_budget=600,
                  engines="embedded", layout="per-sample", stream_sizes=(1_000_000, 3_000_000),
                  differential_size=1_000_000, per_sample=(("n_patients", 2),)),  # 40 runs: fits a 6 GB cap today
    # the per-patient scale of issue 17: 30M edges, one run per sample (4 groups × 6 patients × 5 days)
    "xl": Mode(parse_study=FULL_DENSITY, load_sizes=(), query_sizes=(30_000_000,), memory_size=0,
               neo4j_sizes=(30_000_000,), per_row=0, import_size=0, repeat=5, neo4j_budget=2_400,
               engines="embedded,neo4j", layout="per-sample", stream_sizes=(10_000_000, 30_000_000),
               differential_size=10_000_000, duck_in_memory=False),
}
SECTIONS = ("parse", "embedded", "memory", "stream", "queries", "neo4j", "differential", "demo")

ANCHOR = G.ANCHOR


@dataclass(frozen=True)
class Case:
    """One named question with the parameters a user would send. ``anchor``: what it starts
    from — "cell type" (MX1+ monocytes: their CellStates are the starting point), "interaction"
    (a ligand–receptor pair the study has), or "none" (the whole store, e.g. the catalogue)."""

    label: str
    query: str
    params: dict
    anchor: str


CASES: tuple[Case, ...] = (
    Case("signaling_by_day", "signaling_by_day", {"cell_type": ANCHOR}, "cell type"),
    Case("partners", "partners", {"cell_type": ANCHOR, "day": 7, "group": "high"}, "cell type"),
    Case("signaling_change", "signaling_change", {"cell_type": ANCHOR, "day": 7, "group": "high"}, "cell type"),
    Case("dose_response", "dose_response", {"cell_type": ANCHOR, "day": 7}, "cell type"),
    Case("top_changes", "top_changes", {"day": 7, "group": "high", "sender": ANCHOR}, "cell type"),
    Case("network", "network", {"day": 7, "group": "high", "sender": ANCHOR}, "cell type"),
    Case("roles", "roles", {"day": 7, "group": "high", "cell_type": ANCHOR}, "cell type"),
    Case("pathway_flow", "pathway_flow", {"group": "high", "sender": ANCHOR}, "cell type"),
    Case("lr_trajectory", "lr_trajectory", {"ligand": "ICAM1", "receptor": "ITGAL_ITGB2", "sender": ANCHOR},
         "cell type"),
    Case("lr_trajectory (interaction)", "lr_trajectory", {"interaction": "CD86^CTLA4"}, "interaction"),
    Case("cell_composition", "cell_composition", {"cell_type": ANCHOR}, "cell type"),
    Case("interaction_catalogue (interaction)", "interaction_catalogue", {"interaction": "ICAM1^ITGAL_ITGB2"},
         "interaction"),
    Case("interaction_catalogue", "interaction_catalogue", {}, "none"),
)
QUERY_PARAMS: dict[str, dict] = {c.label: c.params for c in CASES}  # kept for scripts that read it
# the questions that aggregate (issue 17: a summary layer should make them >= 10x faster than the table peers)
AGGREGATING = {"signaling_by_day", "dose_response", "roles", "network", "pathway_flow"}

TARGETS = {
    "parse": 1.5,  # commgraph.formats.read / pandas.read_csv, at most
    "embedded_rate": 300_000,  # edges/s, at least
    "embedded_vs_copy": 0.8,  # Store.load rate / bare COPY rate, at least
    "neo4j_rate": 100_000,  # rels/s, at least
    "neo4j_vs_per_row": 20.0,  # at least
    "anchored_ms": {"embedded": 50.0, "neo4j": 100.0},  # each anchored question, warm, at most
    "catalogue_ms": 200.0,  # interaction_catalogue unfiltered, both engines, at most
    "vs_peers": 1.0,  # peer time / engine time for every question, at least (pandas and DuckDB)
    "aggregating_vs_peers": 10.0,  # the same for the aggregating questions, at least
    "memory_gb": 2.5,  # peak RSS loading the memory size, at most
    "memory_growth": 1.10,  # peak RSS streaming 30M / streaming 10M, at most
    "differential_s": 60.0,  # `commgraph differential` over the 10M per-sample study, at most
}


def guard(rep: "Report", what: str, fn, *args, **kw):
    """Run one benchmark; a failure is reported (and logged) instead of ending the run."""
    try:
        return fn(*args, **kw)
    except Exception as ex:  # noqa: BLE001 - a benchmark must not take the others down
        import traceback

        traceback.print_exc()
        rep.skipped.append(f"{what} failed: {type(ex).__name__}: {str(ex).splitlines()[0][:300] if str(ex) else ''}")
        rep.failures += 1
        log(f"{what} FAILED: {type(ex).__name__}: {ex}")
        return None


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def size_label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


# --- the report ----------------------------------------------------------------------------


@dataclass
class Report:
    mode: str
    command: str
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())
    machine: dict = field(default_factory=machine)
    sections: dict[str, list[str]] = field(default_factory=dict)
    targets: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    failures: int = 0  # benchmarks that crashed (not: targets missed)

    def add(self, section: str, *lines: str) -> None:
        self.sections.setdefault(section, []).extend(lines)

    def table(self, section: str, header: list[str], rows: list[list[str]]) -> None:
        self.add(section, "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
                 *("| " + " | ".join(str(c) for c in r) + " |" for r in rows), "")

    def target(self, name: str, measured: float, goal: float, *, at_least: bool, shown: str, goal_shown: str,
               margin: str | None = None) -> str:
        override = margin
        if measured != measured:
            status, margin = "not measured", ""
        else:
            met = measured >= goal if at_least else measured <= goal
            factor = (measured / goal) if at_least else (goal / measured if measured else float("inf"))
            if met:
                status, margin = "**met**", f"{factor:.2f}× the target"
            else:
                status, margin = "**missed**", f"{factor:.2f}× the target ({1 / factor:.1f}× short)" if factor else "–"
        self.targets.append({"name": name, "target": goal_shown, "measured": shown, "status": status,
                             "margin": margin if override is None else override})
        return status.strip("*")


# --- parse --------------------------------------------------------------------------------------


def bench_parse(rep: Report, mode: Mode, repeat: int) -> None:
    import commgraph as cg

    study = mode.parse_study
    day, group = 7, "high"
    folder = G.cellphonedb_run(study, day, group)
    files = sorted(folder.glob("statistical_analysis_*.txt"))
    size = sum(p.stat().st_size for p in files)
    n_int = len(G.study_interactions(study))
    n_pairs = len(G.pair_columns(study))
    log(f"parse: CellPhoneDB run {n_int} interactions × {n_pairs} pairs ({size / 1e6:.0f} MB)")
    rows = len(cg.read("cellphonedb", folder, day=day, group=group))  # warm caches (database zip, imports)
    times = interleaved({
        "commgraph.formats.read": lambda: cg.read("cellphonedb", folder, day=day, group=group),
        "pandas.read_csv": lambda: [pd.read_csv(p, sep="\t") for p in files],
        "pandas.read_csv(engine=pyarrow)": lambda: [pd.read_csv(p, sep="\t", engine="pyarrow") for p in files],
    }, repeat)
    ours, floor = median(times["commgraph.formats.read"]), median(times["pandas.read_csv"])
    ratio = ours / floor
    rep.add("parse", f"CellPhoneDB v5 method-2 output of one run (day {day}, {group}): {n_int:,} interactions × "
                     f"{n_pairs} sender|receiver columns, files means + pvalues + significant_means "
                     f"({size / 1e6:.0f} MB) → {rows:,} canonical rows. Median of {repeat}, interleaved.", "")
    rep.table("parse", ["reader", "median", "rows/s", "vs pandas.read_csv"], [
        [k, fmt_s(median(v)), fmt_n(rows / median(v)), f"{median(v) / floor:.2f}×"] for k, v in times.items()])
    status = rep.target("parse: formats.read(cellphonedb) / pandas.read_csv", ratio, TARGETS["parse"], at_least=False,
                        shown=f"{ratio:.2f}×", goal_shown="≤ 1.5×")
    log(f"parse: cellphonedb {fmt_s(ours)} vs read_csv {fmt_s(floor)} = {ratio:.2f}× ({status})")

    # LIANA+ (no target; for the record)
    csv = G.liana_run(study, day, group)
    lrows = len(cg.read("liana", csv, day=day, group=group))
    ltimes = interleaved({
        "commgraph.formats.read": lambda: cg.read("liana", csv, day=day, group=group),
        "pandas.read_csv": lambda: pd.read_csv(csv),
    }, max(1, min(repeat, 3)))
    lfloor = median(ltimes["pandas.read_csv"])
    rep.add("parse", f"LIANA+ rank_aggregate table of the same run ({csv.stat().st_size / 1e6:.0f} MB CSV, "
                     f"{lrows:,} rows; no target, for the record):", "")
    rep.table("parse", ["reader", "median", "rows/s", "vs pandas.read_csv"], [
        [k, fmt_s(median(v)), fmt_n(lrows / median(v)), f"{median(v) / lfloor:.2f}×"] for k, v in ltimes.items()])


# --- embedded load -----------------------------------------------------------------------------


def _load_child(table: Path, counts: Path | None, db: Path, mode: str, *, cap_mb: float, timeout: float,
                breakdown: bool = False, chunk: int = 0, cleanup: bool = True) -> ChildResult:
    args = {"table": str(table), "counts": str(counts) if counts else None, "db": str(db), "mode": mode,
            "breakdown": breakdown, "chunk": chunk, "cleanup": cleanup}
    return run_child("embedded_load", args, mem_cap_mb=cap_mb, timeout=timeout)


def load_peak_gb(res: ChildResult) -> float:
    """Peak RSS of a loading child while it loaded (before its verifying count of every edge, which
    reads the whole store through LadybugDB's read cache); its peak at exit (or polled) if the child died first."""
    hwm = (res.result or {}).get("load_hwm_mb") if res.ok else None
    return (hwm if hwm is not None else res.max_rss_mb) / 1024


def _fail(res: ChildResult) -> str:
    if res.killed:
        return f"killed: {res.killed}"
    last = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    return "failed: " + (last[-1][:300] if last else "no output")


def bench_embedded(rep: Report, mode: Mode, repeat: int, work: Path, cap_mb: float, loads: dict) -> None:
    rows = []
    for n in mode.load_sizes:
        table, counts = mode.paths(n)
        reps = (mode.load_repeat or repeat) if n <= 2_000_000 else 1
        chunk = 0 if n <= 2_000_000 else 1_000_000
        store_runs: list[ChildResult] = []
        bare_runs: list[ChildResult] = []
        for i in range(reps):
            order = ("store", "bare") if i % 2 == 0 else ("bare", "store")
            for m in order:
                log(f"embedded {size_label(n)}: {m} load {i + 1}/{reps}")
                keep = m == "store" and i == reps - 1
                db = work / (f"emb-keep-{size_label(n)}" if keep else f"emb-{m}") / "db.lbug"
                res = _load_child(table, counts, db, m, cap_mb=cap_mb, timeout=3600, cleanup=not keep,
                                  breakdown=(m == "store" and i == 0), chunk=chunk if m == "bare" else 0)
                (store_runs if m == "store" else bare_runs).append(res)
                if not res.ok:
                    log(f"  {m}: {_fail(res)}")
        ok_s = [r for r in store_runs if r.ok]
        ok_b = [r for r in bare_runs if r.ok]
        edges = (ok_s or ok_b or [ChildResult(False, {"n_edges": float('nan')})])[0].result.get("n_edges", float("nan"))
        s_med = median([r.result["seconds"] for r in ok_s])
        b_med = median([r.result["seconds"] for r in ok_b])
        s_rate, b_rate = edges / s_med, edges / b_med
        loads[n] = {"store": store_runs, "bare": bare_runs}
        bd = ok_s[0].result if ok_s and "validate_s" in ok_s[0].result else {}
        rows.append([size_label(n), fmt_n(edges), f"{len(ok_s)}/{reps}",
                     fmt_s(s_med) if ok_s else _fail(store_runs[0]), fmt_n(s_rate),
                     fmt_s(b_med) if ok_b else _fail(bare_runs[0]), fmt_n(b_rate),
                     f"{s_rate / b_rate:.2f}×" if ok_s and ok_b else "–",
                     f"{fmt_s(bd['validate_s'])} / {fmt_s(bd['build_s'])}" if bd else "–",
                     f"{median([load_peak_gb(r) for r in store_runs]):.2f} GB"])
        rep.target(f"embedded load {size_label(n)}: Store.load edges/s", s_rate, TARGETS["embedded_rate"],
                   at_least=True, shown=f"{fmt_n(s_rate)}/s", goal_shown="≥ 300,000/s")
        rep.target(f"embedded load {size_label(n)}: Store.load / bare COPY", s_rate / b_rate,
                   TARGETS["embedded_vs_copy"], at_least=True, shown=f"{s_rate / b_rate:.2f}×", goal_shown="≥ 0.8×")
        log(f"embedded {size_label(n)}: Store.load {fmt_n(s_rate)}/s, bare COPY {fmt_n(b_rate)}/s")
    rep.add("embedded", "`Store.load(table, cell_counts=...)` of the whole study table (all its runs, one call, one "
                        "transaction) into a fresh LadybugDB store, against the floor: a fresh database with the "
                        "same schema (`_ddl()`), the CellState nodes already copied, then only "
                        "`COPY SIGNALS FROM <pyarrow.Table>` of the same edges (from/to keys + SIGNALS properties, "
                        "as `_graph.build` lays them out; above 2M edges in 1M-row COPYs inside one transaction). "
                        "Each load runs in its own child process (timing covers the load call only, not reading "
                        "the parquet); store and bare alternate. validate / build: `_schema.validate` and "
                        "`_graph.build` timed alone in the first repeat.", "")
    rep.table("embedded", ["edges", "rows", "runs ok", "Store.load (median)", "edges/s", "bare COPY (median)",
                           "edges/s", "Store.load / COPY", "validate / build", "peak RSS (Store.load child)"], rows)


# --- memory --------------------------------------------------------------------------------


def bench_memory(rep: Report, mode: Mode, work: Path, cap_mb: float, loads: dict) -> None:
    points = []
    for n, runs in sorted(loads.items()):
        for r in runs["store"][1:]:  # a repeat without the breakdown (which builds the whole table first)
            points.append((n, r))
            break
    n = mode.memory_size
    if n not in {size for size, _ in points}:  # not loaded, or loaded once with the breakdown: a clean load
        log(f"memory: Store.load of {size_label(n)} in a child process (cap {cap_mb / 1024:.0f} GB)")
        res = _load_child(*mode.paths(n), work / "mem" / "db.lbug", "store",
                          cap_mb=cap_mb, timeout=3600)
        points.append((n, res))
    rows = []
    peak_at_size = float("nan")
    for size, r in points:
        peak = load_peak_gb(r)
        table_gb = r.result.get("rss_after_read_mb", float("nan")) / 1024
        if size == n:
            peak_at_size = peak if r.ok else float("nan")
        rows.append([size_label(size), f"{table_gb:.2f} GB", f"{peak:.2f} GB" + ("" if r.ok else " (killed)"),
                     f"{peak - table_gb:.2f} GB", f"{r.max_rss_mb / 1024:.2f} GB", "yes" if r.ok else _fail(r)])
    rep.add("memory", "Peak RSS of a child process that reads the canonical table (parquet, strings as "
                      "categoricals) and calls `Store.load` on it once (embedded store): `VmHWM` when the load "
                      "returns; then with the child's count of the stored edges (the child's `VmHWM` as it exits), "
                      "which reads every edge through LadybugDB's read cache. The parent kills the child if its "
                      f"RSS passes the memory cap (`--mem-cap-gb`, here {cap_mb / 1024:.0f} GB) so the shared "
                      "machine stays safe.", "")
    rep.table("memory", ["edges", "RSS after reading the table", "peak RSS loading", "peak − table", "with the count",
                         "completed"], rows)
    killed = [r for s, r in points if s == n and not r.ok]
    if killed:
        lower = killed[0].max_rss_mb / 1024
        rep.target(f"memory: peak RSS loading {size_label(n)}", lower, TARGETS["memory_gb"], at_least=False,
                   shown=f"> {lower:.1f} GB (killed at the cap)", goal_shown="< 2.5 GB")
    else:
        rep.target(f"memory: peak RSS loading {size_label(n)}", peak_at_size, TARGETS["memory_gb"], at_least=False,
                   shown=f"{peak_at_size:.2f} GB", goal_shown="< 2.5 GB")


# --- streaming a per-sample study in bounded memory ----------------------------------------------


def bench_stream(rep: Report, mode: Mode, work: Path, cap_mb: float, streamed: dict) -> None:
    """Per-sample studies loaded as ``load_manifest`` loads a study too large to hold: one
    ``load_many`` over the runs, read one at a time from the parquet (one row group per run) in
    day × group order, in a child process: peak RSS should follow a part, not the study."""
    rows, peaks = [], {}
    for n in mode.stream_sizes:
        table, counts = mode.paths(n, "per-sample")
        ps = mode.sample_study(n)
        db = work / f"stream-{size_label(n)}" / "db.lbug"
        log(f"stream {size_label(n)}: {len(ps.runs)} per-sample runs, one load_many (cap {cap_mb / 1024:.0f} GB)")
        res = _load_child(table, counts, db, "many", cap_mb=cap_mb, timeout=7200, cleanup=False)
        if res.ok:
            streamed[n] = db
            r = res.result
            peaks[n] = load_peak_gb(res)
            rows.append([size_label(n), fmt_n(r["n_edges"]), str(r["n_runs"]), fmt_n(r["largest_run"]),
                         fmt_s(r["seconds"]), fmt_n(r["n_edges"] / r["seconds"]), fmt_s(r["read_s"]),
                         f"{peaks[n]:.2f} GB", f"{res.max_rss_mb / 1024:.2f} GB", "yes"])
            log(f"stream {size_label(n)}: {r['n_edges']:,} edges in {r['seconds']:.1f} s, peak RSS {peaks[n]:.2f} GB "
                f"loading, {res.max_rss_mb / 1024:.2f} GB with the count")
        else:
            peaks[n] = float("nan")
            rows.append([size_label(n), "–", str(len(ps.runs)), fmt_n(ps.edges_per_run), "–", "–", "–",
                         f"{res.max_rss_mb / 1024:.2f} GB", "–", _fail(res)])
            rep.skipped.append(f"stream load of {size_label(n)}: {_fail(res)}")
            log(f"stream {size_label(n)}: {_fail(res)}")
        rate = (res.result["n_edges"] / res.result["seconds"]) if res.ok else float("nan")
        rep.target(f"embedded load {size_label(n)} per-sample, streamed (load_many): edges/s", rate,
                   TARGETS["embedded_rate"], at_least=True, shown=f"{fmt_n(rate)}/s", goal_shown="≥ 300,000/s")
    ps0 = mode.sample_study(mode.stream_sizes[0]) if mode.stream_sizes else None
    rep.add("stream", "A per-sample study (" + (f"{len(ps0.groups)} groups × {ps0.n_patients} patients × "
                      f"{len(ps0.days)} days = {len(ps0.runs)} runs, one per sample" if ps0 else "") + ") loaded "
                      "as `load_manifest` loads a study too large to hold: one `load_many` (one load, visible at "
                      "once) over the runs, read one at a time (one parquet row group per run) in day × group "
                      "order, in a child process that never holds the study; `load_many` joins consecutive runs "
                      f"into parts of up to {LOAD_CHUNK_ROWS:,} rows, so a day × group's patients share a part. "
                      "Peak RSS (`VmHWM` when the load returns) should be set by a part, not by the number of "
                      "runs. The child then counts the stored edges (`Store.stats`), which reads every edge "
                      "through LadybugDB's read cache (80% of RAM by default): its peak with that count "
                      "(`VmHWM` as it exits) is the next column, a question's memory, not the load's. Time includes "
                      "reading the parquet (read column).", "")
    rep.table("stream", ["edges", "loaded", "runs", "largest run", "total", "edges/s", "read",
                         "peak RSS loading", "with the count", "completed"], rows)
    ten = next((n for n in mode.stream_sizes if n == 10_000_000), None)
    if ten is not None:
        rep.target(f"memory: peak RSS loading {size_label(ten)} per-sample, streamed", peaks[ten],
                   TARGETS["memory_gb"], at_least=False, shown=f"{peaks[ten]:.2f} GB", goal_shown="< 2.5 GB")
    big = max(mode.stream_sizes, default=0)
    if len(mode.stream_sizes) > 1 and big > min(mode.stream_sizes):
        small = min(mode.stream_sizes)
        growth = peaks[big] / peaks[small]
        rep.target(f"memory: peak RSS at {size_label(big)} / at {size_label(small)} (per-sample, streamed)", growth,
                   TARGETS["memory_growth"], at_least=False,
                   shown=f"{growth:.2f}× ({peaks[big]:.2f} / {peaks[small]:.2f} GB)", goal_shown="≤ 1.10×")


# --- differential over the per-sample study -------------------------------------------------------


def bench_differential(rep: Report, mode: Mode, work: Path, cap_mb: float, streamed: dict) -> None:
    """``commgraph.differential`` (API, not writing) and ``commgraph differential`` (the CLI: computes and
    writes the contrasts and CHANGED edges) over the per-sample study of ``mode.differential_size`` edges."""
    n = mode.differential_size
    ps = mode.sample_study(n)
    db = streamed.get(n)
    if db is None:
        table, counts = mode.paths(n, "per-sample")
        db = work / f"stream-{size_label(n)}" / "db.lbug"
        log(f"differential {size_label(n)}: loading the per-sample study (load_many)")
        res = _load_child(table, counts, db, "many", cap_mb=cap_mb, timeout=7200, cleanup=False)
        if not res.ok:
            rep.skipped.append(f"differential at {size_label(n)}: the load {_fail(res)}")
            return
        streamed[n] = db
    log(f"differential {size_label(n)}: commgraph.differential(write=False) in a child process")
    api = run_child("differential", {"db": str(db)}, mem_cap_mb=cap_mb, timeout=3600)
    cli_s, cli_peak, cli_err = float("nan"), float("nan"), ""
    if mode.differential_cli:
        log(f"differential {size_label(n)}: the CLI (computes and writes)")
        done = run_child("cli", {"argv": ["differential", "--db", str(db), "--format", "csv"]}, mem_cap_mb=cap_mb,
                         timeout=3600)
        if done.ok and done.result.get("exit") == 0:
            cli_s, cli_peak = done.seconds, done.max_rss_mb / 1024
        else:
            cli_err = _fail(done) if not done.ok else f"exit {done.result.get('exit')}: {done.stderr.strip()[-200:]}"
    r = api.result
    peak = (r.get("hwm_mb", api.max_rss_mb) if api.ok else api.max_rss_mb) / 1024
    rows = [["`commgraph.differential(store, write=False)`", fmt_s(r["seconds"]) if api.ok else _fail(api),
             f"{peak:.2f} GB", fmt_n(r.get("contrasts", float("nan"))),
             fmt_n(r.get("tested", float("nan"))), fmt_n(r.get("calls", float("nan")))],
            ["`commgraph differential --db …` (process wall time: start-up, compute, write)",
             (fmt_s(cli_s) if not cli_err else cli_err) if mode.differential_cli else "not timed in this size",
             f"{cli_peak:.2f} GB" if cli_peak == cli_peak else "–", "–", "–", "–"]]
    rep.add("differential", f"The per-sample study of {size_label(n)} edges ({len(ps.groups)} groups × {ps.n_patients} "
                            f"patients × {len(ps.days)} days = {len(ps.runs)} runs; "
                            f"{fmt_n(r.get('signals', float('nan')))} SIGNALS edges in the store), every contrast "
                            "(each later day against the group's first, dose × time), default settings. Peak RSS: the "
                            "API's `VmHWM` when it returns (the child counts the stored edges afterwards), the CLI "
                            "process's `VmHWM` as it exits:", "")
    rep.table("differential", ["call", "time", "peak RSS", "contrasts", "tested features", "FDR < 0.05"], rows)
    log(f"differential {size_label(n)}: API {r.get('seconds', float('nan')):.1f} s ({peak:.2f} GB), "
        f"CLI {cli_s:.1f} s ({cli_peak:.2f} GB){' ' + cli_err if cli_err else ''}")
    if cli_err:
        rep.skipped.append(f"differential CLI at {size_label(n)}: {cli_err}")
    if n >= 10_000_000 and mode.differential_cli:  # the target is at 10M
        rep.target(f"differential over the {size_label(n)} per-sample study (CLI)",
                   float("nan") if cli_err else cli_s, TARGETS["differential_s"], at_least=False,
                   shown="failed" if cli_err else fmt_s(cli_s), goal_shown="< 60 s")


# --- Neo4j ---------------------------------------------------------------------------------------


# MERGE on the edge's identity, SET the rest (MERGE can't match on a null property such as sample)
PER_ROW = ("MERGE (a:CellState {key: $from}) MERGE (b:CellState {key: $to}) "
           "MERGE (a)-[r:SIGNALS {run_id: $run_id, interaction: $interaction}]->(b) "
           "SET r.ligand = $ligand, r.receptor = $receptor, r.pathway = $pathway, r.score = $score, "
           "r.pvalue = $pvalue, r.significant = $significant, r.method = $method, r.load_id = $load_id, "
           "r.sample = $sample, r.extra = $extra")


class Neo4jBench:
    def __init__(self, rep: Report, mode: Mode, repeat: int, args, work: Path):
        self.rep, self.mode, self.repeat, self.args, self.work = rep, mode, repeat, args, work
        self.instance: Neo4jInstance | None = None
        self.uri = args.neo4j
        if self.uri in (None, "auto"):
            os.environ.setdefault("NEO4J_PASSWORD", "commgraph-test")  # the test server's default
            self.instance = Neo4jInstance(args.neo4j_home, args.neo4j_port, heap=args.neo4j_heap,
                                          pagecache=args.neo4j_pagecache)
            self.uri = self.instance.uri
        self.load_rows: list[list[str]] = []
        self.loaded_size = 0
        self.loaded_complete = False
        self.per_row_rate = float("nan")
        self.server_version = ""

    # -- plumbing
    def start(self) -> bool:
        if self.instance:
            log(f"neo4j: starting own instance in {self.instance.home} on {self.uri}")
            self.instance.wipe()
        self.connect().close()
        return True

    def stop(self) -> None:
        if self.instance:
            log("neo4j: stopping own instance")
            self.instance.stop()

    def connect(self):
        import commgraph as cg

        store = cg.connect(self.uri)
        store.progress = False
        self.server_version = f"Neo4j {store.version} {store.edition}"
        return store

    def wipe(self) -> float:
        if self.instance:
            return self.instance.wipe()
        store = self.connect()
        t, _ = timed(store.clear)
        store.close()
        return t

    # -- per-row MERGE, the tutorial way
    def per_row(self, table: pd.DataFrame) -> None:
        from commgraph import _schema as S
        from commgraph._graph import build
        from commgraph.stores.neo4j import _rows

        n = self.mode.per_row
        part = table[table[S.RUN_ID] == "cellphonedb|d7|high"].head(n)
        rows = _rows(build(S.validate(part.reset_index(drop=True)), load_id="per-row").signals)
        log(f"neo4j: per-row MERGE loader, {len(rows):,} rows, one transaction each")
        self.wipe()
        store = self.connect()  # creates the constraints and indexes our loader would find
        driver = store._driver
        t = time.perf_counter()
        with driver.session(database=store.database) as session:
            for row in rows:
                session.execute_write(lambda tx, r=row: tx.run(PER_ROW, r).consume())
        sec = time.perf_counter() - t
        store.close()
        self.per_row_rate = len(rows) / sec
        self.per_row_rows = len(rows)
        self.per_row_seconds = sec
        log(f"neo4j: per-row {self.per_row_rate:,.0f} rows/s")

    # -- our loader
    def load(self, n: int, table: pd.DataFrame, counts: pd.DataFrame, budget: float) -> None:
        from commgraph import _schema as S

        reps = min(self.repeat, 3) if n <= 2_000_000 else 1
        results = []
        for i in range(reps):
            wipe_s = self.wipe()
            store = self.connect()
            loaded, t0, partial = 0, time.perf_counter(), ""
            runs = list(table.groupby(S.RUN_ID, observed=True, sort=False))
            for k, (run_id, part) in enumerate(runs):
                store.load(part.reset_index(drop=True), cell_counts=run_counts(counts, part))
                loaded += len(part)
                elapsed = time.perf_counter() - t0
                if elapsed > budget and k < len(runs) - 1:
                    partial = (f"stopped by the time budget ({budget:.0f} s) after {k + 1} of {len(runs)} runs "
                               f"({loaded:,} of {len(table):,} edges)")
                    break
            sec = time.perf_counter() - t0
            store.close()
            results.append((loaded, sec, partial, wipe_s))
            log(f"neo4j {size_label(n)}: load {i + 1}/{reps}: {loaded:,} rels in {sec:.1f} s = {loaded / sec:,.0f}/s"
                + (f" ({partial})" if partial else ""))
            if partial:
                break
        rates = [ld / s for ld, s, _, _ in results]
        rate = median(rates)
        partial = next((p for _, _, p, _ in results if p), "")
        self.loaded_size, self.loaded_complete = n, not partial
        self.load_rows.append([size_label(n), fmt_n(results[-1][0]), f"{len(results)}", fmt_s(median([s for _, s, _, _ in results])),
                               fmt_n(rate), partial or "complete"])
        self.rep.target(f"Neo4j load {size_label(n)}: our loader rels/s", rate, TARGETS["neo4j_rate"], at_least=True,
                        shown=f"{fmt_n(rate)}/s", goal_shown="≥ 100,000/s")
        if self.per_row_rate == self.per_row_rate:
            self.rep.target(f"Neo4j load {size_label(n)}: our loader / per-row MERGE", rate / self.per_row_rate,
                            TARGETS["neo4j_vs_per_row"], at_least=True, shown=f"{rate / self.per_row_rate:.0f}×",
                            goal_shown="≥ 20×")
        if partial:
            self.rep.skipped.append(f"Neo4j load of {size_label(n)}: {partial}; the rate is over what was loaded.")
        self.rates = getattr(self, "rates", {})
        self.rates[n] = rate

    # -- neo4j-admin database import
    def admin_import(self, n: int, db: Path) -> None:
        log(f"neo4j-admin import {size_label(n)}: export_neo4j_import from the embedded store")
        out = self.work / f"export-{size_label(n)}"
        res = run_child("export", {"db": str(db), "out": str(out)}, mem_cap_mb=self.args.mem_cap_gb * 1024,
                        timeout=3600)
        if not res.ok:
            self.rep.skipped.append(f"neo4j-admin import of {size_label(n)}: the export {_fail(res)}")
            self.import_row = None
            return
        cmd = res.result["command"]
        args = cmd.split("neo4j-admin database import full ", 1)[1].split()
        importer = Neo4jInstance(self.args.neo4j_import_home, self.args.neo4j_port + 1)
        importer.stop()
        shutil.rmtree(importer.home, ignore_errors=True)
        log(f"neo4j-admin import {size_label(n)}: server.sh import into {importer.home}")
        t = time.perf_counter()
        done = importer.admin_import(args, cwd=str(out))
        sec = time.perf_counter() - t
        text = done.stdout + done.stderr
        rels = nodes = float("nan")
        import re

        m = re.search(r"Imported:\s*(\d+) nodes\s*(\d+) relationships", text.replace("\n", " "))
        if m:
            nodes, rels = int(m.group(1)), int(m.group(2))
        ok = done.returncode == 0
        size = sum(res.result["files"].values())
        self.import_row = {"n": n, "export_s": res.result["seconds"], "export_hwm": res.result["hwm_mb"],
                           "import_s": sec, "ok": ok, "rels": rels, "nodes": nodes, "csv_mb": size / 1e6,
                           "tail": "" if ok else text[-1500:]}
        importer.destroy()
        shutil.rmtree(out, ignore_errors=True)
        log(f"neo4j-admin import {size_label(n)}: export {res.result['seconds']:.1f} s, import {sec:.1f} s, ok={ok}")

    def write(self) -> None:
        from commgraph.stores import neo4j as N

        rep = self.rep
        rep.add("neo4j", f"Own test server ({self.server_version or 'Neo4j'}, `{self.uri}`; heap {self.args.neo4j_heap}, "
                         f"page cache {self.args.neo4j_pagecache}), emptied before every load "
                         + ("(stop, delete the data directory, start). " if self.instance else "(`Store.clear()`). ")
                         + "Our loader: `Store.load` once per run (a store grown run by run), i.e. "
                           f"batched `UNWIND` `CREATE` sorted by sender|receiver pair ({N.SIGNALS_BATCH:,} edges per batch, "
                           f"{N.WRITERS} transactions at a time) after the node MERGEs; rate = SIGNALS edges / wall time "
                           "of all the loads.", "")
        rep.table("neo4j", ["edges", "loaded", "loads", "time (median)", "rels/s (median)", "state"], self.load_rows)
        if self.per_row_rate == self.per_row_rate:
            rep.add("neo4j", f"Per-row MERGE loader (per row: `MERGE (a:CellState {{key}}) MERGE (b:CellState {{key}}) "
                             f"MERGE (a)-[r:SIGNALS {{run_id, interaction}}]->(b) SET r.… = …` (the other 10 "
                             f"properties), each row in its own `execute_write` transaction, the way tutorials and "
                             f"py2neo users write it; the same constraints and indexes present): "
                             f"{self.per_row_rows:,} rows of run d7/high in {fmt_s(self.per_row_seconds)} = "
                             f"**{fmt_n(self.per_row_rate)} rows/s**.", "")
        row = getattr(self, "import_row", None)
        if row:
            rate = row["rels"] / row["import_s"] if row["rels"] == row["rels"] else float("nan")
            rep.add("neo4j", f"`neo4j-admin database import full` of the CSVs `commgraph.export_neo4j_import` writes "
                             f"from the embedded store holding {size_label(row['n'])} edges ({row['csv_mb']:.0f} MB of "
                             f"CSV), into a separate stopped instance (`server.sh import`, own NEO4J_TEST_HOME):", "")
            ours = getattr(self, "rates", {}).get(row["n"], float("nan"))
            rep.table("neo4j", ["step", "time", "rate", "vs our loader"], [
                ["export_neo4j_import (embedded store → CSV)", fmt_s(row["export_s"]),
                 f"{fmt_n(row['rels'] / row['export_s'])} rels/s" if rate == rate else "–",
                 f"peak RSS {row['export_hwm'] / 1024:.2f} GB"],
                ["neo4j-admin database import full (JVM start included)", fmt_s(row["import_s"]),
                 f"{fmt_n(rate)} rels/s" if rate == rate else "–",
                 f"import is {rate / ours:.1f}× our loader" if rate == rate and ours == ours else "–"],
                ["export + import", fmt_s(row["export_s"] + row["import_s"]),
                 f"{fmt_n(row['rels'] / (row['export_s'] + row['import_s']))} rels/s" if rate == rate else "–",
                 f"{row['rels'] / (row['export_s'] + row['import_s']) / ours:.1f}× our loader" if rate == rate and ours == ours else "–"],
            ])
            rep.add("neo4j", f"Import report: {fmt_n(row['nodes'])} nodes, {fmt_n(row['rels'])} relationships "
                             f"(all relationship types; SIGNALS dominate)."
                    + ("" if row["ok"] else f" **The import failed:** `{row['tail'][-400:]}`"), "")


# --- queries ---------------------------------------------------------------------------------


def bench_queries(rep: Report, n: int, repeat: int, engines: dict, table: pd.DataFrame, counts: pd.DataFrame,
                  largest: dict[str, bool], paths: tuple[Path, Path], duck_in_memory: bool = True) -> None:
    """Every case on every engine and on the table peers (pandas over the in-memory table; DuckDB
    over the same Parquet file, read into memory and straight from the file), interleaved.
    ``largest[engine]``: this is the largest size the engine is queried at (targets are judged there)."""
    from . import pandas_queries as PQ

    peers: dict = {}
    try:
        from .duckdb_queries import Duck

        if duck_in_memory:
            peers["duckdb"] = Duck(*paths, memory=True)
        peers["duckdb (parquet)"] = Duck(*paths, memory=False)
    except ImportError:
        rep.skipped.append("DuckDB peer: `duckdb` is not installed (pip install 'commgraph[bench]')")
    duck = "duckdb" if "duckdb" in peers else "duckdb (parquet)"  # the DuckDB peer the targets compare with
    rows = []
    got: dict[str, list[dict]] = {}
    wins: dict[str, list[str]] = {}
    for case in CASES:
        fn, params = PQ.QUERIES[case.query], case.params

        def pandas_call(fn=fn, params=params, q=case.query):
            return fn(table, counts=counts, **params) if q == "cell_composition" else fn(table, **params)

        calls = {"pandas": pandas_call}
        for pname, peer in peers.items():
            calls[pname] = (lambda d=peer, q=case.query, p=params: d.query(q, **p))
        for ename, store in engines.items():
            calls[ename] = (lambda st=store, q=case.query, p=params: st.query(q, **p))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answers = {k: f() for k, f in calls.items()}  # warm-up, and the answers to compare
            times = interleaved(calls, repeat)
        med = {k: median(v) for k, v in times.items()}
        pmed, dmed = med["pandas"], med.get(duck, float("nan"))
        cells = [case.label, case.anchor, fmt_n(len(answers["pandas"])), fmt_s(pmed)]
        for pname in peers:
            same = PQ.agree(answers[pname], answers["pandas"])
            cells += [fmt_s(med[pname]), same]
        for ename in engines:
            emed = med[ename]
            cells += [fmt_s(emed), f"{pmed / emed:.1f}×", f"{dmed / emed:.1f}×" if peers else "–",
                      PQ.agree(answers[ename], answers["pandas"])]
            got.setdefault(ename, []).append({"case": case, "s": emed, "vs_pandas": pmed / emed,
                                              "vs_duckdb": dmed / emed if peers else float("nan")})
        best = min(med, key=med.get)
        wins.setdefault(best, []).append(case.label)
        cells.append(best)
        rows.append(cells)
        log(f"queries {size_label(n)}: {case.label}: " + "; ".join(f"{k} {fmt_s(v)}" for k, v in med.items()))
    for peer in peers.values():
        peer.close()
    for ename, res in got.items():
        if largest.get(ename):
            _query_targets(rep, n, ename, res, duck if peers else None)
    header = ["question", "anchor", "rows", "pandas"]
    for pname in peers:
        header += [pname, "same"]
    for ename in engines:
        header += [ename, "pandas / " + ename, f"{duck} / " + ename, "same"]
    header.append("fastest")
    rep.add("queries", f"**{size_label(n)} edges** ({len(table):,} rows, {_layout_words(table)}), median of "
                       f"{repeat} after one warm-up, engines and peers interleaved; \"same\": the answer equals "
                       "pandas'; a ratio above 1× means the engine is faster than that peer:", "")
    rep.table("queries", header, rows)
    rep.add("queries", "Fastest per question: " + "; ".join(f"**{k}** {len(v)} ({', '.join(v)})"
                                                           for k, v in sorted(wins.items(), key=lambda kv: -len(kv[1])))
            + ".", "")


def _layout_words(table: pd.DataFrame) -> str:
    from commgraph import _schema as S

    runs = table[S.RUN_ID].nunique()
    per_sample = S.SAMPLE in table.columns and table[S.SAMPLE].notna().any()
    return f"{runs} {'per-sample' if per_sample else 'pooled'} runs"


def _query_targets(rep: Report, n: int, ename: str, res: list[dict], duck: str | None) -> None:
    """Issue 17's query targets for one engine at its largest size."""
    label = size_label(n)
    limit = TARGETS["anchored_ms"].get(ename, 50.0)
    anchored = [r for r in res if r["case"].anchor != "none"]
    if anchored:
        fast = [r for r in anchored if r["s"] * 1e3 < limit]
        slow = max(anchored, key=lambda r: r["s"])
        rep.target(f"anchored questions, {ename}, {label}: each < {limit:.0f} ms", len(fast) / len(anchored), 1.0,
                   at_least=True, shown=f"{len(fast)} of {len(anchored)} (slowest {slow['case'].label} "
                                        f"{fmt_s(slow['s'])})", goal_shown=f"all < {limit:.0f} ms",
                   margin=f"slowest is {slow['s'] * 1e3 / limit:.1f}× the limit" if len(fast) < len(anchored)
                   else f"slowest at {slow['s'] * 1e3 / limit:.2f}× the limit")
    for r in res:
        if r["case"].anchor == "none":
            rep.target(f"{r['case'].label} (unfiltered), {ename}, {label}", r["s"] * 1e3, TARGETS["catalogue_ms"],
                       at_least=False, shown=fmt_s(r["s"]), goal_shown=f"< {TARGETS['catalogue_ms']:.0f} ms")
    for peer in ["pandas"] + ([duck] if duck else []):
        key = "vs_pandas" if peer == "pandas" else "vs_duckdb"
        ok = [r for r in res if r[key] >= TARGETS["vs_peers"]]
        worst = min(res, key=lambda r: r[key])
        rep.target(f"every question, {ename}, {label}: at least as fast as {peer}", len(ok) / len(res), 1.0,
                   at_least=True, shown=f"{len(ok)} of {len(res)} (worst {worst['case'].label} {worst[key]:.2f}×)",
                   goal_shown="all ≥ 1×", margin=f"worst needs {1 / worst[key]:.1f}× more speed" if len(ok) < len(res)
                   else f"worst at {worst[key]:.1f}×")
        agg = [r for r in res if r["case"].query in AGGREGATING]
        if agg:
            ok = [r for r in agg if r[key] >= TARGETS["aggregating_vs_peers"]]
            worst = min(agg, key=lambda r: r[key])
            rep.target(f"aggregating questions, {ename}, {label}: ≥ 10× faster than {peer}", len(ok) / len(agg), 1.0,
                       at_least=True, shown=f"{len(ok)} of {len(agg)} (worst {worst['case'].label} "
                                            f"{worst[key]:.2f}×)", goal_shown="all ≥ 10×",
                       margin=f"worst needs {TARGETS['aggregating_vs_peers'] / worst[key]:.1f}× more speed"
                       if len(ok) < len(agg) else f"worst at {worst[key] / TARGETS['aggregating_vs_peers']:.1f}× "
                                                  "the target")


# --- demo -----------------------------------------------------------------------------------------


def bench_demo(rep: Report, *, run: bool, timeout: float = 1800) -> None:
    cli = [sys.executable, "-c", "import sys; sys.argv[0] = 'commgraph'; from commgraph.cli import main; main()"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("COMMGRAPH_BENCH_PATH", ""),
                                                                      str(REPO)) if p)}
    probe = subprocess.run(cli + ["demo", "--help"], capture_output=True, text=True, env=env, timeout=120)
    if probe.returncode != 0:
        rep.add("demo", "`commgraph demo --help` exits with status "
                        f"{probe.returncode}: **not yet available** (no `demo` command in this checkout).", "")
        rep.skipped.append("demo: not yet available (`commgraph demo --help` fails)")
        log("demo: not yet available")
        return
    if not run:
        rep.add("demo", "`commgraph demo --help` exits 0: the command exists. Not timed in this size (it takes "
                        "minutes; `--size small` and `full` time it).", "")
        rep.skipped.append("demo: available, not timed in the smoke size")
        log("demo: available, not timed in smoke")
        return
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        t = time.perf_counter()
        done = subprocess.run(cli + ["demo"], capture_output=True, text=True, env=env, cwd=tmp, timeout=timeout)
        sec = time.perf_counter() - t
    ok = done.returncode == 0
    said = [ln.strip() for ln in done.stdout.splitlines() if "claims agree" in ln or ln.strip().startswith("Times:")]
    rep.add("demo", f"`commgraph demo` (defaults, in an empty temporary directory): **{fmt_s(sec)}** wall time, exit "
                    f"status {done.returncode}." + (f" It reports: {' '.join(said)}" if said else "")
            + ("" if ok else f" Last error output: `{done.stderr.strip()[-300:] or '(none)'}`"), "")
    log(f"demo: {sec:.1f} s, exit {done.returncode}")


# --- writing results.md ---------------------------------------------------------------------------


def write_report(rep: Report, path: Path, mode_name: str, mode: Mode, args, engines: list[str]) -> None:
    end = dt.datetime.now().astimezone()
    wall = (end - rep.started).total_seconds()
    mach = dict(rep.machine)
    mach["load average at end (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    vers = versions()
    import commgraph

    where = Path(commgraph.__file__).resolve().parent.parent
    vers["commgraph"] = f"{where} @ {git_state(where)}"
    if rep.info.get("neo4j server"):
        vers["neo4j server"] = rep.info["neo4j server"]
    lines = [
        "# commgraph benchmarks",
        "",
        f"Written by `{rep.command}` on {rep.started:%Y-%m-%d %H:%M %Z}; **size `{mode_name}`**, engines "
        f"{', '.join(engines)}, {args.repeat or mode.repeat} repeats; wall time {wall / 60:.1f} min.",
        "",
        "Every figure is a median over repeated runs; every comparison is the ratio of two medians measured "
        "side by side in this run (alternating A B / B A). The machine is shared and noisy (other engineers run "
        "tests on it): see the load averages below, and read single figures with that in mind; the ratios are "
        "the robust part.",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in mach.items()),
        *(f"| {k} | {v} |" for k, v in vers.items()),
        "",
        "## Data",
        "",
        f"Synthetic study from `bench/generate.py` (seed {G.Study().seed}): {len(G.CELL_TYPES)} PBMC cell types × days "
        f"{', '.join(map(str, G.DAYS))} × groups {', '.join(G.GROUPS)} = 20 CellPhoneDB runs over the full "
        f"CellPhoneDB v5.0.0 interaction list ({len(G.interactions()):,} interactions, "
        f"{len(G.CELL_TYPES) ** 2} sender|receiver pairs per run). The canonical table of N edges holds the expressed "
        "(mean > 0) cells of the 20 runs at a density of N / 20 per run, exactly as `commgraph.formats.read` turns "
        "those CellPhoneDB files into rows (`generate.verify_run` checks this against the real parser); strings are "
        "categoricals, as parsers hand them over. Cell counts per cell type × day × group are loaded with them.",
        "",
        *(_per_sample_words(mode) if mode.stream_sizes or mode.differential_size or mode.layout == "per-sample"
          else []),
        f"Sizes here: {mode.layout} layout for the load, memory, query and Neo4j sections.",
        "",
        "## Targets",
        "",
        "| benchmark | target | measured | status | margin |",
        "|---|---|---|---|---|",
        *(f"| {t['name']} | {t['target']} | {t['measured']} | {t['status']} | {t['margin']} |" for t in rep.targets),
        "",
    ]
    titles = {"parse": "Parse: CellPhoneDB output → canonical table", "embedded": "Embedded load (LadybugDB)",
              "memory": "Memory: peak RSS while loading", "stream": "Streaming a per-sample study (load_many)",
              "neo4j": "Neo4j load", "queries": "Named questions: the graph store against pandas and DuckDB",
              "differential": "Differential over a per-sample study", "demo": "Demo"}
    for key in ("parse", "embedded", "memory", "stream", "neo4j", "queries", "differential", "demo"):
        if key in rep.sections:
            lines += [f"## {titles[key]}", "", *rep.sections[key]]
    lines += ["## Skipped or partial", ""]
    lines += [f"- {s}" for s in rep.skipped] or ["- nothing"]
    lines += ["", "## How to run", "",
              "```sh",
              ". .venv/bin/activate",
              "python -m bench --size smoke                 # CI: < 60 s, embedded engine only",
              "python -m bench --size small                 # ~25 min; starts its own Neo4j on port 7690",
              "python -m bench --size full --neo4j-budget 2400",
              "python -m bench --size xl                    # 30M per-sample; writes bench/results-xl.md",
              "python -m bench --size check                 # xl's sections at 1M/3M, embedded: minutes",
              "python -m bench.generate --help              # the data generator alone",
              "```", ""]
    text = "\n".join(lines)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    for start, end in (("<!-- differential:start -->", "<!-- differential:end -->"),):
        if start in old and end in old:  # a section another script owns (python -m bench.differential): keep it
            text = text.rstrip("\n") + "\n\n" + old[old.index(start): old.index(end) + len(end)] + "\n"
    path.write_text(text, encoding="utf-8")
    log(f"wrote {path}")


def _per_sample_words(mode: Mode) -> list[str]:
    ps = mode.sample_study(max(mode.stream_sizes or (mode.differential_size,)))
    return [f"Per-sample study (`generate.SampleStudy`): {len(ps.groups)} groups × {ps.n_patients} patients × days "
            f"{', '.join(map(str, ps.days))} = {len(ps.runs)} runs, one per sample (`sample` P07_d3, `patient` P07), "
            "each a CellPhoneDB run of the same model with a per-patient offset on every partner × cell type, a "
            "per-patient response strength and per-sample noise; cell counts per sample. Written run by run (one "
            "parquet row group per run) under `$COMMGRAPH_BENCH_CACHE/per_sample/`.", ""]


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=list(MODES), default="small")
    ap.add_argument("--engines", default=None, help="comma-separated: embedded,neo4j (default: smoke embedded, "
                                                    "else both)")
    ap.add_argument("--neo4j", default=None, metavar="URI",
                    help="a Neo4j server to use (it is CLEARED); default 'auto': start a private instance "
                         "(--neo4j-home, --neo4j-port) and stop it afterwards")
    ap.add_argument("--neo4j-home", default="/tmp/bench-neo4j")
    ap.add_argument("--neo4j-import-home", default="/tmp/bench-neo4j-import")
    ap.add_argument("--neo4j-port", type=int, default=7690, help="Bolt port of the private instance (import: +1)")
    ap.add_argument("--neo4j-heap", default="3g")
    ap.add_argument("--neo4j-pagecache", default="3g")
    ap.add_argument("--neo4j-budget", type=float, default=None,
                    help="seconds our Neo4j loader may spend on the largest size; the rest is skipped and reported")
    ap.add_argument("--repeat", type=int, default=None, help="repeats per measurement (default: smoke 3, else 5)")
    ap.add_argument("--out", default=None, help="default bench/results.md (size xl: bench/results-xl.md, so that "
                                                "the 10M and 30M reports stand side by side)")
    ap.add_argument("--mem-cap-gb", type=float, default=10.0,
                    help="kill a loading child process whose RSS passes this (default 10)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset of " + ",".join(SECTIONS))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (stores, exports)")
    args = ap.parse_args(argv)

    mode = MODES[args.size]
    if args.out is None:
        args.out = str(Path(__file__).resolve().parent / ("results-xl.md" if args.size == "xl" else "results.md"))
    repeat = args.repeat or mode.repeat
    engines = [e.strip() for e in (args.engines or mode.engines).split(",") if e.strip()]
    sections = {s.strip() for s in args.sections.split(",")}
    budget = args.neo4j_budget if args.neo4j_budget is not None else mode.neo4j_budget
    cap_mb = args.mem_cap_gb * 1024
    rep = Report(mode=args.size, command="python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]))
    work = G.CACHE / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t_start = time.perf_counter()

    log(f"size {args.size}: generating (or reusing) the data")
    for n in sorted((set(mode.load_sizes) | set(mode.query_sizes) | {mode.memory_size} | set(mode.neo4j_sizes))
                    - {0}):
        mode.paths(n)
    for n in sorted(set(mode.stream_sizes) | {mode.differential_size} - {0}):
        mode.paths(n, "per-sample")
    if args.size == "smoke":
        st = G.Study(n_cell_types=8, edges_per_run=15_000, max_interactions=400)
        G.verify_run(st, 7, "high")
        rep.add("parse", "Generator check: the canonical rows of a small run equal `commgraph.formats.read` of its "
                         "CellPhoneDB files (mean > 0): **yes**.", "")

    if "parse" in sections:
        guard(rep, "parse", bench_parse, rep, mode, repeat)
    loads: dict = {}
    if "embedded" in sections and "embedded" in engines:
        guard(rep, "embedded load", bench_embedded, rep, mode, repeat, work, cap_mb, loads)
    if "memory" in sections and "embedded" in engines and mode.memory_size:
        guard(rep, "memory", bench_memory, rep, mode, work, cap_mb, loads)
    streamed: dict[int, Path] = {}
    if "stream" in sections and "embedded" in engines and mode.stream_sizes:
        guard(rep, "stream load", bench_stream, rep, mode, work, cap_mb, streamed)

    neo = None
    if "neo4j" in engines and ({"neo4j", "queries"} & sections):
        neo = Neo4jBench(rep, mode, repeat, args, work)
        if not guard(rep, "Neo4j server start", neo.start):
            neo.stop()
            neo = None
    try:
        query_dbs: dict[int, Path] = {}
        by_run_rows = []
        sizes = sorted((set(mode.query_sizes) | ({mode.import_size} if neo and "neo4j" in sections else set()))
                       - {0}) if {"embedded", "queries", "neo4j"} & sections else []  # the stores those sections use
        for n in sizes:
            kept = work / f"emb-keep-{size_label(n)}" / "db.lbug"
            if not mode.query_by_run and kept.exists():
                query_dbs[n] = kept
            elif mode.layout == "per-sample" and n in streamed:  # the stream section built it
                query_dbs[n] = streamed[n]
            elif "embedded" in engines or (neo and n == mode.import_size):
                db = work / f"query-{size_label(n)}" / "db.lbug"
                for attempt in (1, 2):  # a second try: a shared machine can fail one (e.g. a checkpoint lock)
                    log(f"embedded {size_label(n)}: building the query store run by run (20 × Store.load)"
                        + (" (retry)" if attempt > 1 else ""))
                    res = _load_child(*mode.paths(n), db, "runs", cap_mb=cap_mb,
                                      timeout=7200, cleanup=False)
                    if res.ok:
                        break
                    log(f"  {_fail(res)}")
                    rep.skipped.append(f"embedded query store of {size_label(n)}, attempt {attempt}: {_fail(res)}")
                if res.ok:
                    query_dbs[n] = db
                    per = res.result["per_run_s"]
                    by_run_rows.append([size_label(n), fmt_n(res.result["n_edges"]), fmt_s(res.result["seconds"]),
                                        fmt_n(res.result["n_edges"] / res.result["seconds"]), fmt_s(per[0]),
                                        fmt_s(per[-1]), f"{load_peak_gb(res):.2f} GB"])
            table = counts = None
            if neo and "neo4j" in sections and n in mode.neo4j_sizes:
                table, counts = G.read_canonical(mode.paths(n)[0]), pd.read_parquet(mode.paths(n)[1])
                if n == mode.neo4j_sizes[0] and mode.per_row:
                    guard(rep, "Neo4j per-row MERGE loader", neo.per_row, table)
                guard(rep, f"Neo4j load of {size_label(n)}", neo.load, n, table, counts, budget)
            if neo and "neo4j" in sections and n == mode.import_size and n in query_dbs:
                guard(rep, f"neo4j-admin import of {size_label(n)}", neo.admin_import, n, query_dbs[n])
            if "queries" in sections and n in mode.query_sizes:
                if table is None:
                    table, counts = G.read_canonical(mode.paths(n)[0]), pd.read_parquet(mode.paths(n)[1])
                import commgraph as cg

                engines_here = {}
                if "embedded" in engines and n in query_dbs:
                    engines_here["embedded"] = cg.connect(query_dbs[n], read_only=True)
                if neo and neo.loaded_size == n:
                    store = guard(rep, "Neo4j connect", neo.connect)
                    if store is not None:
                        engines_here["neo4j"] = store
                    if not neo.loaded_complete:
                        rep.skipped.append(f"Neo4j queries at {size_label(n)} ran on the partially loaded store.")
                elif neo:
                    rep.skipped.append(f"Neo4j queries at {size_label(n)}: Neo4j is loaded at "
                                       f"{', '.join(size_label(s) for s in mode.neo4j_sizes)} only in this size.")
                top = {"embedded": n == max(mode.query_sizes),
                       "neo4j": n == max([q for q in mode.query_sizes if q in mode.neo4j_sizes] or [0])}
                guard(rep, f"queries at {size_label(n)}", bench_queries, rep, n, repeat, engines_here, table, counts,
                      largest=top, paths=mode.paths(n), duck_in_memory=mode.duck_in_memory)
                for s in engines_here.values():
                    s.close()
            del table, counts
        if by_run_rows:
            rep.add("embedded", "Loading the same tables run by run (one `Store.load` per run: a store "
                                "grown run by run; this builds the query stores):", "")
            rep.table("embedded", ["edges", "rows", "total", "edges/s", "first run", "last run", "peak RSS"],
                      by_run_rows)
    finally:
        if neo:
            guard(rep, "Neo4j report", neo.write)
            if neo.server_version:
                rep.info["neo4j server"] = neo.server_version
            neo.stop()
    if "differential" in sections and "embedded" in engines and mode.differential_size:
        guard(rep, "differential", bench_differential, rep, mode, work, cap_mb, streamed)
    if "demo" in sections:
        guard(rep, "demo", bench_demo, rep, run=args.size != "smoke")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    write_report(rep, Path(args.out), args.size, mode, args, engines)
    log(f"done in {time.perf_counter() - t_start:.0f} s"
        + (f"; {rep.failures} benchmark(s) FAILED (see 'Skipped or partial')" if rep.failures else ""))
    return 1 if rep.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
