"""Kill campaign: SIGKILL a process loading into a store at many instants, then check the store.

The store first holds the *old* content: run X (version 1) and run Y. The killed process loads
one load of two tables (``Store.load_many``, as a manifest does): run X version 2 (a replace, other
scores, more rows) and run Z (a new day, per-sample counts, so new CellStates, COUNTED_IN, pooled
totals and NEXT links). After each kill the store is opened (read-write: an interrupted load is
finished or undone there) and its content compared with the old and the new content: every
visible edge, run, CellState with its counts, per-sample counts, a named query's answer, and the
raw count of every node label and relationship type. Then the load is run again and compared
with an uninterrupted load.

Kill instants: spread evenly over a timed uninterrupted load, plus instants inside every
COMMIT and CHECKPOINT the timed load went through (the commit/checkpoint window), found by
timing each statement of the uninterrupted load, not guessed.

    python -m bench.kills --kills 100 --rows 1500000            # embedded store
    python -m bench.kills --kills 20 --neo4j bolt://127.0.0.1:7731   # a Neo4j server (NEO4J_PASSWORD)

On Neo4j the killed process is the client; the server keeps running. Its leftovers (edges of a
load that never switched, its new nodes) stay invisible until the next load of that run sweeps
them, so there the raw counts are compared after the re-run only.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def big_table(n_rows: int, *, day: int = 7, group: str = "high", run_id: str = "X", seed: int = 0,
              n_types: int = 12, sample: str | None = None, patient: str | None = None) -> pd.DataFrame:
    """A canonical table of about ``n_rows`` rows: n_types² sender × receiver pairs × interactions."""
    from commgraph import _schema as S

    rng = np.random.default_rng(seed)
    types = [f"T{i:02d}" for i in range(n_types)]
    n_int = max(1, -(-n_rows // (n_types * n_types)))
    n = n_types * n_types * n_int
    idx = np.arange(n)
    pair, k = idx // n_int, idx % n_int
    p = rng.random(n) * 0.1
    cat = pd.Categorical.from_codes
    return pd.DataFrame({
        S.SOURCE: cat(pair // n_types, types), S.TARGET: cat(pair % n_types, types),
        S.LIGAND: cat(k, [f"L{i}" for i in range(n_int)]), S.RECEPTOR: cat(k, [f"R{i}" for i in range(n_int)]),
        S.INTERACTION: cat(k, [f"L{i}^R{i}" for i in range(n_int)]),
        S.PATHWAY: cat(k % 20, [f"P{i}" for i in range(20)]),
        S.SCORE: rng.random(n), S.PVALUE: p, S.SIGNIFICANT: p < 0.05,
        S.DAY: day, S.GROUP: group, S.SAMPLE: sample, S.PATIENT: patient, S.METHOD: "synthetic",
        S.RUN_ID: run_id, S.TOOL: "synthetic",
    })


def old_items(rows: int) -> list:
    from commgraph import _schema as S

    y = big_table(max(rows // 10, 200), day=0, run_id="Y", seed=2)
    counts = pd.DataFrame({S.CELL_TYPE_PROP: ["T00", "T01"], S.DAY: 0, S.GROUP: "high", S.N_CELLS: [10, 30]})
    return [(big_table(rows // 2, run_id="X", seed=0), None), (y, counts)]


def new_items(rows: int) -> list:
    from commgraph import _schema as S

    z = big_table(max(rows // 10, 200), day=14, run_id="Z", seed=3, sample="P1_d14", patient="P1")
    counts = pd.DataFrame({S.CELL_TYPE_PROP: ["T00", "T01", "T02"], S.DAY: 14, S.GROUP: "high",
                           S.N_CELLS: [5, 15, 30], S.SAMPLE: "P1_d14", S.PATIENT: "P1"})
    return [(big_table(rows, run_id="X", seed=1), None), (z, counts)]


def load_items(store, items) -> pd.DataFrame:
    """One load of several tables; a commgraph without Store.load_many (before the crash-safe
    replace) gets them as one table, the way its load_manifest did."""
    if hasattr(store, "load_many"):
        return store.load_many(items)
    counts = [c for _, c in items if c is not None]
    table = pd.concat([t.astype({c: object for c in t.columns if isinstance(t[c].dtype, pd.CategoricalDtype)})
                       for t, _ in items], ignore_index=True)
    return store.load(table, cell_counts=pd.concat(counts, ignore_index=True) if counts else None)


def content(store) -> dict:
    """What a user sees, a named query's answer, and raw counts of every node label and relationship type."""
    from commgraph import _schema as S

    def norm(df, by):
        df = df.sort_values(by).reset_index(drop=True) if len(df) else df.reset_index(drop=True)
        return df.astype(object).where(df.notna(), None).to_dict("list")

    out = {
        "signals": norm(store.signals()[[S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION, S.DAY, S.SCORE]],
                        [S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION]),
        "runs": norm(store.runs()[[S.RUN_ID, S.DAY, S.N_ROWS, S.SAMPLE]], [S.RUN_ID]),
        "states": norm(store.cell_states(), [S.KEY_PROP]),
        "sample_counts": norm(store.sample_counts(), [S.SAMPLE, S.CELL_TYPE_PROP]),
        "next": norm(store.cypher(f"MATCH (a:{S.CELL_STATE})-[:{S.NEXT}]->(b:{S.CELL_STATE}) "
                                  f"RETURN a.{S.KEY_PROP} AS a, b.{S.KEY_PROP} AS b"), ["a", "b"]),
        "query": norm(store.query("signaling_by_day", cell_type="T00"), ["day", "group"])
        if "signaling_by_day" in _queries() else None,
    }
    runs = store.runs()
    covered = set(zip(runs[S.DAY], runs[S.GROUP]))
    states = store.cell_states()
    out["states_of_runs"] = norm(states[[(d, g) in covered for d, g in zip(states[S.DAY], states[S.GROUP])]], [S.KEY_PROP])
    raw = {}
    for rel in S.REL_TABLES:
        raw[rel.type] = int(store.cypher(f"MATCH ()-[r:{rel.type}]->() RETURN count(r) AS n")["n"][0])
    for node in S.NODE_TABLES:
        raw[node.label] = int(store.cypher(f"MATCH (n:{node.label}) RETURN count(n) AS n")["n"][0])
    out["raw"] = raw
    for v in out.values():  # floats compare to 9 digits (engines round differently in the last bits)
        if isinstance(v, dict):
            for k, col in v.items():
                if isinstance(col, list):
                    v[k] = [round(x, 9) if isinstance(x, float) else x for x in col]
    return out


def _queries() -> set:
    from commgraph._queries import list_queries

    q = list_queries()
    return set(q["name"]) if hasattr(q, "columns") else set(q)


def visible(c: dict) -> dict:
    """What a Neo4j client kill is held to: every visible thing but raw counts and CellStates of a
    day × group no run covers (a killed load's new states, empty, stay until a load sweeps them)."""
    return {k: v for k, v in c.items() if k not in ("raw", "states")}


CHILD = """
import sys, time, os
sys.path.insert(0, {repo!r})
import commgraph as cg
from bench.kills import load_items, new_items
items = new_items({rows})
t0 = None
def log(*what):
    print(round(time.perf_counter() - t0, 4), *what, flush=True)
try:
    import ladybug
    from commgraph.stores import embedded
    execute = ladybug.Connection.execute
    def traced(self, q, *a, **k):
        word = str(q).split()[0].upper()
        if word in ("COMMIT", "CHECKPOINT", "COPY", "BEGIN"):
            log("stmt", word, str(q).split()[1] if word == "COPY" else "")
        out = execute(self, q, *a, **k)
        if word in ("COMMIT", "CHECKPOINT"):
            log("done", word)
        return out
    ladybug.Connection.execute = traced
    journal = getattr(embedded.EmbeddedStore, "_journal_write", None)  # none before the crash-safe replace
    def traced_journal(self, step, **kw):
        journal(self, step, **kw)
        log("journal", step)
    if journal is not None:
        embedded.EmbeddedStore._journal_write = traced_journal
except ImportError:
    pass
st = cg.connect({uri!r})
t0 = time.perf_counter()
log("go")
load_items(st, items)
log("loaded")
st.close()
log("closed")
"""


def _child(uri: str, rows: int) -> subprocess.Popen:
    code = CHILD.format(repo=str(REPO), rows=rows, uri=uri)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ.copy())


def _phase(log: list[tuple[float, list[str]]], at: float) -> str:
    """The step a kill at ``at`` seconds landed in, from the child's log (or the timed run's)."""
    step, inside = "before stage", ""
    for t, what in log:
        if t > at:
            break
        if what[0] == "journal":
            step = {"stage": "stage", "switch": "switch", "remove": "remove"}.get(what[1], what[1])
            inside = ""
        elif what[0] == "stmt":
            inside = what[1] if what[1] in ("COMMIT", "CHECKPOINT") else ""
        elif what[0] == "done":
            inside = ""
        elif what[0] == "loaded":
            step, inside = "after load", ""
    if step == "switch" and any(w[0] == "journal" and w[1] == "switch" for t, w in log if t <= at):
        # the switch journal is written before the switch transaction; after its checkpoint comes the sweep
        done = [t for t, w in log if w[:2] == ["done", "CHECKPOINT"] and t <= at]
        switch_at = max(t for t, w in log if w[:2] == ["journal", "switch"])
        n_ckpt = sum(1 for t in done if t > switch_at)
        step = "switch" if n_ckpt == 0 else "sweep"
    return step + (f" ({inside.lower()})" if inside else "")


def _read_log(lines) -> list[tuple[float, list[str]]]:
    out = []
    for line in lines:
        parts = line.split()
        try:
            out.append((float(parts[0]), parts[1:]))
        except (ValueError, IndexError):
            pass
    return out


class Campaign:
    def __init__(self, rows: int, *, neo4j: str | None = None, workdir: Path | None = None):
        import commgraph as cg

        self.cg, self.rows, self.neo4j = cg, rows, neo4j
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="commgraph-kills-"))
        self.base = self.dir / "base.lbug"
        self.uri = neo4j or str(self.dir / "k.lbug")
        self.old = self._prepare(reference=False)
        self.new = self._reference()

    def _fresh(self) -> None:
        """Put the old content in place (a copy of the base file; on Neo4j: clear and load)."""
        if self.neo4j:
            with self.cg.connect(self.neo4j) as st:
                st.clear()
                load_items(st, old_items(self.rows))
            return
        for f in Path(self.uri).parent.glob(Path(self.uri).name + "*"):
            f.unlink()
        shutil.copy(self.base, self.uri)

    def _prepare(self, reference: bool) -> dict:
        if not self.neo4j:
            with self.cg.connect(self.base) as st:
                load_items(st, old_items(self.rows))
        self._fresh()
        with self.cg.connect(self.uri) as st:
            return content(st)

    def _reference(self) -> dict:
        """An uninterrupted load in a child, timed statement by statement: the new content and the windows."""
        self._fresh()
        child = _child(self.uri, self.rows)
        self.timed = _read_log(child.stdout)
        child.wait()
        if child.returncode:
            raise RuntimeError(f"the uninterrupted load failed ({child.returncode})")
        self.duration = next(t for t, w in self.timed if w[0] == "loaded")
        with self.cg.connect(self.uri) as st:
            return content(st)

    def windows(self) -> list[tuple[float, float, str, int]]:
        """(start, end, what, k) of every COMMIT and CHECKPOINT of the timed load (the k-th such statement)."""
        out, start, seen = [], None, collections.Counter()
        for t, w in self.timed:
            if w[0] == "stmt" and w[1] in ("COMMIT", "CHECKPOINT"):
                seen[w[1]] += 1
                start = (t, w[1], seen[w[1]])
            elif w[0] == "done" and start is not None:
                out.append((start[0], t, start[1], start[2]))
                start = None
        return out

    def instants(self, n: int, seed: int = 0) -> list:
        """Half spread evenly over the load (seconds after it starts), half inside its commit and
        checkpoint windows: (statement, k, share of the window), timed from when the killed process
        starts that k-th statement, so that a slower or faster run still dies inside it."""
        rng = np.random.default_rng(seed)
        wins = self.windows()
        spread = list(np.linspace(0.02, 1.02, max(1, n - n // 2 if wins else n)) * self.duration)
        inside, m = [], n // 2
        for i in range(m if wins else 0):  # every window once before any twice, spread over the load
            a, b, word, k = wins[round(i * (len(wins) - 1) / max(1, min(m, len(wins)) - 1)) % len(wins)
                                 if i < len(wins) else i % len(wins)]
            inside.append((word, k, float(rng.uniform(0.05, 0.95)), b - a))
        return [float(x) for x in spread] + inside

    def kill_at(self, at) -> dict:
        self._fresh()
        child = _child(self.uri, self.rows)
        log = []
        for line in child.stdout:  # the load starts after imports and building the tables
            log += _read_log([line])
            if log and log[-1][1][:1] == ["go"]:
                break
        t0 = time.perf_counter()
        if isinstance(at, tuple):  # inside the k-th COMMIT/CHECKPOINT: wait until it starts
            word, k, share, length = at
            for line in child.stdout:
                log += _read_log([line])
                if sum(1 for _, w in log if w[:2] == ["stmt", word]) >= k:
                    break
            t0, at = time.perf_counter() - log[-1][0], log[-1][0] + share * length
        while time.perf_counter() - t0 < at:
            time.sleep(min(0.005, max(0.0, at - (time.perf_counter() - t0))))
        child.send_signal(signal.SIGKILL)
        log += _read_log(child.stdout.read().splitlines())
        child.wait()
        phase = _phase(log, at) if not self.neo4j else (
            "after load" if any(w[0] == "loaded" for _, w in log) else f"client, {min(at / self.duration, 1):.0%} into the load")
        if not self.neo4j and not hasattr(self.cg.stores._base.Store, "load_many"):
            # commgraph before the crash-safe replace opened read-only first, which LadybugDB refuses
            # while a checkpoint recovery is pending; its next load opened read-write, as here
            import ladybug

            with __import__("contextlib").suppress(RuntimeError):
                ladybug.Database(self.uri).close()
        try:
            with self.cg.connect(self.uri) as st:
                got = content(st)
        except Exception as ex:  # noqa: BLE001 - an unopenable store is an outcome to count
            return {"at": round(at, 3), "phase": phase, "outcome": "error", "error": str(ex).splitlines()[0][:400]}
        if self.neo4j:
            outcome = ("old" if visible(got) == visible(self.old) else "new" if visible(got) == visible(self.new)
                       else "neither")
        else:
            outcome = "old" if got == self.old else "new" if got == self.new else "neither"
        with self.cg.connect(self.uri) as st:  # the re-run equals an uninterrupted load
            load_items(st, new_items(self.rows))
            rerun = content(st) == self.new
        return {"at": round(at, 3), "phase": phase, "outcome": outcome, "rerun_equal": rerun,
                **({"diff": sorted(k for k in got if got[k] != self.old.get(k) and got[k] != self.new.get(k))}
                   if outcome == "neither" else {})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.kills", description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--rows", type=int, default=200_000, help="rows of the replacing run X (Z and Y are a tenth)")
    ap.add_argument("--neo4j", default=None, help="bolt:// URI of a Neo4j server to run against instead")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write every kill's record as JSON here")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    c = Campaign(args.rows, neo4j=args.neo4j)
    print(f"uninterrupted load: {c.duration:.2f} s; commit/checkpoint windows: "
          + ", ".join(f"{a:.2f}-{b:.2f} {w}" for a, b, w, _ in c.windows()), flush=True)
    records = []
    for at in c.instants(args.kills, args.seed):
        r = c.kill_at(at)
        records.append(r)
        print(json.dumps(r), flush=True)
    table = collections.Counter((r["phase"], r["outcome"]) for r in records)
    print(f"\n{len(records)} kills, {args.rows:,} rows, {'Neo4j ' + args.neo4j if args.neo4j else 'embedded'}, "
          f"{time.perf_counter() - t:.0f} s")
    for (phase, outcome), n in sorted(table.items()):
        print(f"  {phase:28s} {outcome:10s} {n}")
    bad = [r for r in records if r["outcome"] not in ("old", "new") or not r.get("rerun_equal")]
    print(f"  not old-or-new, or re-run different: {len(bad)}")
    if args.out:
        Path(args.out).write_text(json.dumps(records, indent=1))
    if not args.neo4j:
        shutil.rmtree(c.dir, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
