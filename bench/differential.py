"""``python -m bench.differential``: is ``commgraph differential`` calibrated, how much does it find,
and how long does it take at scale?

- **Calibration**: null studies (``simulate_msc_study(effects=False)``: no change with day or
  dose), each run through real LIANA+ per sample (patient × day) and loaded; every FDR < 0.05
  call is a false one. Reported per seed: calls per contrast, and the share of p-values below
  0.05 (uniform p-values give 5%).
- **Recall**: the planted study (``effects=True``), day 7 against day 0 per dose group: the
  share of planted (sender, receiver, interaction) features called at FDR < 0.05 in the
  planted direction, with 4 and with 3 patients per group; calls from other senders are listed
  (the planted ligands reach every receiver, so calls of MX1+ Mono to unlisted receivers are
  real effects, not false ones).
- **Scale**: ``differential`` on a per-sample embedded store of ``--edges`` SIGNALS edges (a
  synthetic score table: patient offsets plus noise), timed in one run.

Writes ``bench/differential.md`` and replaces the "Differential" section of ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import commgraph as cg
from commgraph import _schema as S

from ._common import REPO, git_state, machine

MARK_START, MARK_END = "<!-- differential:start -->", "<!-- differential:end -->"


def per_sample_study(folder: Path, *, seed: int, effects: bool, n_patients: int, n_cells: int) -> Path:
    """Simulate, infer per sample with LIANA+ (its CellPhoneDB method), load; the store's path."""
    from commgraph.datasets import simulate_msc_study
    from commgraph.infer import infer

    ad = simulate_msc_study(n_patients_per_group=n_patients, n_cells=n_cells, seed=seed, effects=effects)
    manifest = infer(ad, cell_type_key="cell_type", day_key="day", group_key="group", sample_key="library",
                     method="liana", out=folder / "runs", layer="counts", n_jobs=2, seed=seed, progress=False)
    m = pd.read_csv(manifest)
    m["patient"] = m["sample"].str.split("_d").str[0]  # library P03_d7 -> patient P03
    m.to_csv(manifest, index=False)
    db = folder / "study.lbug"
    with cg.connect(db) as st:
        cg.load_manifest(st, manifest, progress=False)
    return db


def planted_features() -> pd.DataFrame:
    from commgraph.datasets import PLANTED_EFFECTS

    rows = [{S.SOURCE: e["sender"], S.TARGET: r, S.INTERACTION: S.interaction_name(e["ligand"], e["receptor"]),
             "sign": -1 if e["direction"] == "down" else 1} for e in PLANTED_EFFECTS for r in e["receivers"]]
    return pd.DataFrame(rows)


def recall_of(res: cg.Differential, group: str, day: int = 7) -> dict:
    planted = planted_features()
    r = res.results[(res.results[S.KIND] == "time") & (res.results[S.GROUP] == group) & (res.results[S.DAY] == day)
                    & (res.results[S.LEVEL] == "interaction")]
    calls = r[r[S.FDR] < 0.05]
    hit = planted.merge(calls, on=[S.SOURCE, S.TARGET, S.INTERACTION], how="left")
    found = int((np.sign(hit[S.DELTA]) == hit["sign"]).sum())
    mx1 = calls[calls[S.SOURCE] == "MX1+ Mono"]
    return {"group": group, "planted": len(planted), "found": found, "recall": found / len(planted),
            "tested": len(r), "calls": len(calls), "calls_from_mx1_not_listed": len(mx1) - found,
            "calls_from_other_senders": int((calls[S.SOURCE] != "MX1+ Mono").sum())}


def calibration(seeds: list[int], *, n_patients: int, n_cells: int, work: Path) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        folder = work / f"null{seed}"
        t = time.perf_counter()
        db = per_sample_study(folder, seed=seed, effects=False, n_patients=n_patients, n_cells=n_cells)
        with cg.connect(db) as st:
            res = cg.differential(st, levels=("interaction",), write=False, progress=False)
        r = res.results
        for cid, g in r.groupby(S.CONTRAST_PROP):
            rows.append({"seed": seed, "contrast": cid, "tested": len(g), "calls": int((g[S.FDR] < 0.05).sum()),
                         "p<0.05": float((g[S.P_PROP] < 0.05).mean())})
        print(f"null seed {seed}: {int((r[S.FDR] < 0.05).sum())} calls over {r[S.CONTRAST_PROP].nunique()} contrasts "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    return pd.DataFrame(rows)


def recall(n_patients: int, *, seed: int, n_cells: int, work: Path) -> pd.DataFrame:
    folder = work / f"planted{n_patients}"
    db = per_sample_study(folder, seed=seed, effects=True, n_patients=n_patients, n_cells=n_cells)
    with cg.connect(db) as st:
        res = cg.differential(st, write=False, progress=False)
    shutil.rmtree(folder, ignore_errors=True)
    out = pd.DataFrame([recall_of(res, g) for g in ("low", "high")])
    out.insert(0, "patients_per_group", n_patients)
    return out


def synthetic_per_sample_store(db: Path, *, n_edges: int, n_patients: int = 4, days=(0, 7, 14),
                               groups=("low", "high"), n_types: int = 30, seed: int = 0) -> int:
    """Per-sample runs whose edges add up to about ``n_edges``: every sample scores the same
    feature set (sender × receiver × interaction) with a patient offset and noise."""
    n_samples = n_patients * len(days) * len(groups)
    per = n_edges // n_samples
    n_lr = max(1, per // (n_types * n_types))
    rng = np.random.default_rng(seed)
    types = [f"type{i:02d}" for i in range(n_types)]
    src = np.repeat(np.arange(n_types), n_types * n_lr)
    dst = np.tile(np.repeat(np.arange(n_types), n_lr), n_types)
    lr = np.tile(np.arange(n_lr), n_types * n_types)
    base = rng.gamma(2.0, 0.5, size=len(src))
    inter = np.array([f"L{i}^R{i}" for i in range(n_lr)], dtype=object)
    total = 0
    with cg.connect(db) as st:
        pid = 0
        for g in groups:
            for _ in range(n_patients):
                pid += 1
                offset = rng.normal(0, 0.3, size=len(src))
                for d in days:
                    sample = f"P{pid:02d}_d{d}"
                    score = base + offset + rng.normal(0, 0.3, size=len(src))
                    keep = score > 0.2
                    n = int(keep.sum())
                    t = pd.DataFrame({
                        S.SOURCE: pd.Categorical.from_codes(src[keep], types),
                        S.TARGET: pd.Categorical.from_codes(dst[keep], types),
                        S.LIGAND: pd.Categorical.from_codes(lr[keep], [f"L{i}" for i in range(n_lr)]),
                        S.RECEPTOR: pd.Categorical.from_codes(lr[keep], [f"R{i}" for i in range(n_lr)]),
                        S.INTERACTION: pd.Categorical.from_codes(lr[keep], inter),
                        S.PATHWAY: pd.Categorical.from_codes(lr[keep] % 20, [f"PW{i}" for i in range(20)]),
                        S.SCORE: score[keep], S.SIGNIFICANT: np.ones(n, dtype=bool), S.DAY: d,
                        S.GROUP: g, S.SAMPLE: sample, S.PATIENT: f"P{pid:02d}", S.METHOD: "synthetic",
                        S.RUN_ID: f"synthetic|{sample}", S.TOOL: "synthetic"})
                    st.load(t)
                    total += n
    return total


def scale(n_edges: int, work: Path) -> dict:
    db = work / "scale.lbug"
    t = time.perf_counter()
    n = synthetic_per_sample_store(db, n_edges=n_edges)
    load_s = time.perf_counter() - t
    with cg.connect(db) as st:
        t = time.perf_counter()
        res = cg.differential(st, progress=False, write=False)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        res = cg.differential(st, progress=False, write=True)
        all_s = time.perf_counter() - t
        q = {}
        for name, params in (("differential", dict(cell_type="type00", day=7, group="high")),
                             ("change_summary", dict(day=7, group="high")),
                             ("dose_effect", dict(day=7, group="high", reference="low"))):
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                st.query(name, **params)
                times.append(time.perf_counter() - t0)
            q[name] = float(np.median(times))
    shutil.rmtree(db, ignore_errors=True)
    return {"edges": n, "samples": 24, "load_s": load_s, "differential_s": fit_s, "with_write_s": all_s,
            "results": len(res.results), "queries_s": q}


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.differential", description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=4, help="null studies (each ~1.5 min of LIANA+)")
    ap.add_argument("--edges", type=int, default=10_000_000, help="SIGNALS edges of the scale store (0: skip)")
    ap.add_argument("--n-cells", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "differential.md")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cg-bench-diff-"))
    m = machine()
    started = time.perf_counter()
    try:
        cal = calibration(list(range(100, 100 + a.seeds)), n_patients=4, n_cells=a.n_cells, work=work)
        rec = pd.concat([recall(n, seed=0, n_cells=a.n_cells, work=work) for n in (4, 3)], ignore_index=True)
        big = scale(a.edges, work) if a.edges else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_seed = cal.groupby("seed").agg(contrasts=("contrast", "nunique"), tested=("tested", "sum"),
                                        calls=("calls", "sum"), contrasts_with_calls=("calls", lambda c: int((c > 0).sum())),
                                        p_below_05=("p<0.05", "mean")).reset_index()
    text = [
        "## Differential: calibration, recall, scale",
        "",
        f"`python -m bench.differential --seeds {a.seeds} --edges {a.edges}` at {git_state(REPO)}, "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {m['cores']} cores ({m['cpu']}), load at start "
        f"{m['load average at start (1/5/15 min)']}; {time.perf_counter() - started:.0f} s in all.",
        "",
        "**Null studies** (`simulate_msc_study(effects=False, n_patients_per_group=4)`, LIANA+ per sample, "
        "every contrast at the interaction level; every call is false):",
        "",
        _md(per_seed),
        "",
        f"Contrasts with any FDR < 0.05 call: {int(per_seed['contrasts_with_calls'].sum())} of "
        f"{int(per_seed['contrasts'].sum())} (BH at 0.05 promises at most 5% under a complete null); "
        f"studies with any call: {int((per_seed['calls'] > 0).sum())} of {len(per_seed)}; "
        f"share of p < 0.05 over all tests: {float((cal['p<0.05'] * cal['tested']).sum() / cal['tested'].sum()):.3f}.",
        "",
        "**Planted study** (`effects=True`, seed 0), day 7 vs day 0, planted (sender, receiver, interaction) "
        "features called at FDR < 0.05 in the planted direction:",
        "",
        _md(rec),
    ]
    if big:
        text += ["", f"**Scale**: {big['edges']:,} SIGNALS edges in {big['samples']} per-sample runs (embedded): "
                 f"load {big['load_s']:.0f} s; `differential` (3 levels, every contrast) {big['differential_s']:.1f} s "
                 f"without writing, {big['with_write_s']:.1f} s writing {big['results']:,} CHANGED edges; named "
                 "queries (median of 3): " + ", ".join(f"`{k}` {v * 1000:.0f} ms" for k, v in big["queries_s"].items())
                 + "."]
    body = "\n".join(text) + "\n"
    a.out.write_text(body)
    results = REPO / "bench" / "results.md"
    old = results.read_text() if results.exists() else ""
    if MARK_START in old:
        old = old[: old.index(MARK_START)] + old[old.index(MARK_END) + len(MARK_END):].lstrip("\n")
    results.write_text(old.rstrip("\n") + f"\n\n{MARK_START}\n{body}{MARK_END}\n")
    print(body)


if __name__ == "__main__":
    main()
