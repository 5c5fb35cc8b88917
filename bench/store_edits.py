"""``python -m bench.store_edits``: what editing a loaded per-sample study costs on the embedded store.

A per-patient study grows and gets fixed sample by sample: a new patient's sample arrives, a sample is
re-run and loaded again (which replaces it), a sample is withdrawn. Each edit below runs on a fresh
copy of one loaded per-sample store, in a child process of its own, as a user would make it:

- **add a sample**: a new patient's sample on a day × group the store has (an existing sample's
  table under new sample, patient and run names), ``Store.load`` with its cell counts;
- **replace a sample**: the same sample's table loaded again (``Store.load``);
- **replace a day × group's samples, one load**: every sample of one day × group in one
  ``Store.load_many`` (what ``commgraph load --manifest`` does);
- **remove a sample**: ``Store.remove_run``.

A load is three checkpointed steps (README, "Durability"): stage (COPY the new edges and nodes, then
COMMIT), switch (the Run nodes and counts), sweep (delete the edges no live run points at); a removal
unlinks the run, then sweeps. Each step is timed by wrapping the store's method for it; peak RSS is
the child's. Writes ``bench/store-edits.md``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ._common import copy_store, machine, per_sample_args, per_sample_store, ran, run_child, write_md

EDITS = ("add a sample", "replace a sample", "replace a day × group's samples, one load", "remove a sample")
STEPS = ("_stage", "_switch", "_sweep", "_unlink_run")  # EmbeddedStore methods, timed (cumulative)


def _split_runs(table: Path) -> list:
    """The first day × group's runs (run_id, frame), in file order."""
    from commgraph import _schema as S

    from .generate import iter_runs

    out, split = [], None
    for run_id, df in iter_runs(table, by_split=True):
        here = (int(df[S.DAY].iloc[0]), str(df[S.GROUP].iloc[0]))
        if split is not None and here != split:
            break
        split = here
        out.append((run_id, df))
    return out


def _renamed(df, counts):
    """One sample's table and counts as a new patient's ("P_NEW") sample of the same day × group."""
    from commgraph import _schema as S

    day = int(df[S.DAY].iloc[0])
    sample, patient = f"P_NEW_d{day}", "P_NEW"
    old = str(df[S.SAMPLE].iloc[0])
    run_id = S.default_run_id(str(df[S.METHOD].iloc[0]), day, str(df[S.GROUP].iloc[0]), sample)
    df = df.assign(**{S.SAMPLE: sample, S.PATIENT: patient, S.RUN_ID: run_id})
    df = df.astype({c: "category" for c in (S.SAMPLE, S.PATIENT, S.RUN_ID)})
    return df, counts[counts[S.SAMPLE] == old].assign(**{S.SAMPLE: sample})


def child(a: dict) -> dict:
    """One edit on a fresh copy of the store (``bench._child``)."""
    import pandas as pd

    import commgraph as cg
    from commgraph.stores.embedded import EmbeddedStore

    from ._child import run_counts

    edit, work = a["edit"], Path(a["work"])
    copy = copy_store(Path(a["db"]), work)
    counts = pd.read_parquet(a["counts"])
    runs = _split_runs(Path(a["table"]))
    spent = dict.fromkeys(STEPS, 0.0)

    def timed(name):
        method = getattr(EmbeddedStore, name)

        def wrapper(self, *args, **kw):
            t = time.perf_counter()
            try:
                return method(self, *args, **kw)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    for name in STEPS:
        setattr(EmbeddedStore, name, timed(name))
    store = cg.connect(copy)
    before = store.stats()["signals"]
    run_id, first = runs[0]
    t0 = time.perf_counter()
    if edit == "add a sample":
        df, c = _renamed(first, counts)
        store.load(df, cell_counts=c)
        written = len(df)
    elif edit == "replace a sample":
        store.load(first, cell_counts=run_counts(counts, first))
        written = len(first)
    elif edit == "replace a day × group's samples, one load":
        store.load_many((df, run_counts(counts, df)) for _, df in runs)
        written = sum(len(df) for _, df in runs)
    else:
        store.remove_run(run_id)
        written = 0
    seconds = time.perf_counter() - t0
    after = store.stats()["signals"]
    store.close()
    shutil.rmtree(work, ignore_errors=True)
    return {"edit": edit, "seconds": seconds, "written": written, "split_runs": len(runs),
            "signals_before": int(before), "signals_after": int(after), "run_edges": len(first),
            **{f"{k.strip('_')}_s": v for k, v in spent.items()}}


def main(argv=None) -> None:
    from .run import MODES

    a = per_sample_args("python -m bench.store_edits", __doc__, "store-edits.md", 1, argv)
    m = machine()
    started = time.perf_counter()
    table, counts = MODES["full"].paths(a.edges, "per-sample")
    results: dict[str, list] = {e: [] for e in EDITS}
    with tempfile.TemporaryDirectory(prefix="cg-bench-edits-") as tmp:
        work = Path(tmp)
        db = a.db or per_sample_store(a.edges, work, a.mem_cap_gb * 1024)
        for i in range(a.repeat):
            for edit in EDITS if i % 2 == 0 else EDITS[::-1]:
                res = run_child("store_edits", {"edit": edit, "db": str(db), "table": str(table), "counts": str(counts),
                                                "work": str(work / "copy")},
                                mem_cap_mb=a.mem_cap_gb * 1024, timeout=3600)
                if not res.ok:
                    raise SystemExit(f"{edit!r} failed: {res.killed or res.stderr[-2000:]}")
                results[edit].append({**res.result, "peak_gb": res.max_rss_mb / 1024})
    lines = ["| edit | edges written | in all | stage | switch | sweep | unlink | peak RSS | SIGNALS before → after |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for edit in EDITS:
        rs = results[edit]
        med = {k: statistics.median(r[k] for r in rs) for k in ("seconds", "stage_s", "switch_s", "sweep_s", "unlink_run_s",
                                                                  "peak_gb")}
        r0 = rs[0]
        lines.append(f"| {edit} | {r0['written']:,} | {med['seconds']:.1f} s | {med['stage_s']:.1f} s | "
                     f"{med['switch_s']:.1f} s | {med['sweep_s']:.1f} s | {med['unlink_run_s']:.1f} s | "
                     f"{med['peak_gb']:.2f} GB | {r0['signals_before']:,} → {r0['signals_after']:,} |")
    text = [
        "# Editing a loaded per-sample study (embedded)",
        "",
        (ran(f"python -m bench.store_edits --edges {a.edges} --repeat {a.repeat}", started, m) + " "
         f"{'The store ' + str(a.db) if a.db else f'The per-sample study of {a.edges:,} edges'}, loaded with "
         f"`load_many`; one sample is {results[EDITS[0]][0]['run_edges']:,} edges, a day × group "
         f"{results[EDITS[2]][0]['split_runs']} samples. Each edit on a fresh copy of the store in its own child "
         f"process, medians of {a.repeat}; the steps are those of the module docstring (`bench/store_edits.py`)."),
        "",
        *lines,
        "",
    ]
    write_md(a.out, text)


if __name__ == "__main__":
    main()
