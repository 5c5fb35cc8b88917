"""The one-command demo: simulate an MSC trial, infer per sample, load, test, and answer.

LIANA+ runs once per sample (patient × day); :func:`commgraph.differential` tests each day
against the patient's own baseline and the dose × time contrast; every finding is read back
from the graph with the named queries (``differential``, ``dose_effect``,
``cell_composition``, …), never from the simulator's parameters: the simulator only says
what to ask.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import _schema as S
from .stores import Store

SENDER = "MX1+ Mono"
PATIENT_GROUPS = ("low", "high")
BASELINE = 0
PATIENTS_PER_GROUP = 4  # paired tests need replicates; with 3 the day-7 recall still holds (bench.differential)
FDR = 0.05
N_CELLS = 40_000  # ~850 cells a library: MX1+ monocytes stay countable at their day-7 low
RECALL = 0.8  # share of the planted features a claim about them needs called


@dataclass
class DemoResult:
    out: Path
    store: str
    findings: pd.DataFrame
    summary: pd.DataFrame
    changes: pd.DataFrame
    contrasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def all_agree(self) -> bool:
        return bool(self.findings["agrees"].all())


def run_demo(out: str | Path = "demo-out", *, n_cells: int | None = None, seed: int = 0, method: str = "liana",
             n_patients: int = PATIENTS_PER_GROUP, n_jobs: int = 2, views: bool = True,
             progress: bool = True) -> DemoResult:
    """Simulate → infer per sample (real LIANA+ or CellPhoneDB) → load into ``out/study.lbug``
    → test (``differential``) → answer."""
    from ._differential import differential
    from ._load import load_manifest
    from .datasets import sample_sheet, simulate_msc_study
    from .infer import infer
    from .stores import connect

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings = {}
    t = time.perf_counter()
    adata = simulate_msc_study(seed=seed, n_patients_per_group=n_patients, n_cells=n_cells or N_CELLS)
    timings["simulate"] = time.perf_counter() - t

    t = time.perf_counter()
    runs_dir = out / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    # one run per library (patient × day); the patient pairs a patient's days in the tests
    manifest = infer(adata, cell_type_key="cell_type", day_key="day", group_key="group", sample_key="library",
                     patient_key="sample", method=method, out=runs_dir, layer="counts", n_jobs=n_jobs, seed=seed,
                     progress=progress)
    timings["infer"] = time.perf_counter() - t

    t = time.perf_counter()
    db = out / "study.lbug"
    for p in (db, Path(f"{db}.wal")):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    with connect(db) as store:
        load_manifest(store, manifest, progress=progress)
        sheet = out / "sample_sheet.csv"  # the trial's clinical scores per patient and day
        sample_sheet(adata).to_csv(sheet, index=False)
        store.load_samples(sheet)
        timings["load"] = time.perf_counter() - t
        t = time.perf_counter()
        contrasts = differential(store, progress=progress).contrasts
        timings["test"] = time.perf_counter() - t
        t = time.perf_counter()
        findings = check_findings(store)
        summary = mx1_summary(store)
        changes = mx1_changes(store, day=7)
        timings["answer"] = time.perf_counter() - t
        files = []
        if views:
            files = _write_views(store, out)
    return DemoResult(out, str(db), findings, summary, changes, contrasts, timings, files)


def _write_views(store: Store, out: Path) -> list[Path]:
    try:
        from .views import write_views
        from .report import write_report
    except ImportError:  # views land with their own issue; the demo works without them
        return []
    # the pages pick their cell type, group and day from the tested changes, as for any study
    files = list(write_views(store, out / "views").values())
    files.append(write_report(store, out / "report.html"))
    return files


# --- the questions ----------------------------------------------------------------------------


def mx1_summary(store: Store, cell_type: str = SENDER) -> pd.DataFrame:
    """Outgoing and incoming total significant score per group and day, and the change vs day 0."""
    rows = []
    for direction in ("out", "in"):
        df = store.query("signaling_by_day", cell_type=cell_type, direction=direction)
        for group in PATIENT_GROUPS:
            g = df[df[S.GROUP] == group].set_index(S.DAY)
            if BASELINE not in g.index:
                continue
            base = float(g.loc[BASELINE, "total_score"])
            for day, r in g.iterrows():
                rows.append({"direction": direction, S.GROUP: group, S.DAY: int(day),
                             "n_interactions": int(r["n_interactions"]), "total_score": float(r["total_score"]),
                             "change_vs_day0": float(r["total_score"]) - base,
                             "percent": 100.0 * (float(r["total_score"]) - base) / base if base else np.nan})
    return pd.DataFrame(rows)


def mx1_changes(store: Store, *, day: int, cell_type: str = SENDER) -> pd.DataFrame:
    """Ligand–receptor pairs sent by the cell type that changed at ``day`` vs day 0 at FDR < 0.05
    (paired over patients), per group, through the ``differential`` query."""
    parts = []
    for group in PATIENT_GROUPS:
        df = store.query("differential", cell_type=cell_type, day=day, group=group, fdr=FDR)
        df.insert(0, S.GROUP, group)
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def _tested(store: Store, group: str, day: int) -> pd.DataFrame:
    """Every tested feature the sender sends on ``day`` vs baseline in ``group`` (fdr=1: all)."""
    return store.query("differential", cell_type=SENDER, day=day, group=group, fdr=1.0).set_index(
        ["partner", S.INTERACTION])


def check_findings(store: Store) -> pd.DataFrame:
    """Each planted effect as a claim, the test the graph holds for it, and whether they agree.

    A pair "rises" or "falls" when its paired day-7 vs day-0 test has FDR < 0.05 with that sign;
    the time course and the dose claims read the day-14 and dose × time contrasts the same way.
    """
    from .datasets import PLANTED_EFFECTS

    tests = {(g, d): _tested(store, g, d) for g in PATIENT_GROUPS for d in (7, 14, 28)}
    dose = store.query("dose_effect", day=7, group="high", reference="low", fdr=1.0, sender=SENDER)
    dose = dose.set_index(["receiver", S.INTERACTION])
    rows = []
    hits = {g: 0 for g in PATIENT_GROUPS}
    peaks = late = dose_hits = n_all = 0
    for e in PLANTED_EFFECTS:
        sign = -1 if e["direction"] == "down" else 1
        inter = S.interaction_name(e["ligand"], e["receptor"])
        keys = [(r, inter) for r in e["receivers"]]
        said, ok = [], True
        for g in PATIENT_GROUPS:
            t = tests[(g, e["peak_day"])].reindex(keys)
            called = (t[S.FDR] < FDR) & (np.sign(t[S.DELTA]) == sign)
            hits[g] += int(called.sum())
            ok &= bool(called.all()) if g == e["stronger_dose"] else True
            n = t["n"].dropna()
            said.append(f"{g}: {int(called.sum())}/{len(keys)} at FDR < {FDR}, Δ {t[S.DELTA].min():+.2f}…"
                        f"{t[S.DELTA].max():+.2f}, n = {int(n.min()) if len(n) else 0}–{int(n.max()) if len(n) else 0}")
        hi7 = tests[(e["stronger_dose"], e["peak_day"])].reindex(keys)
        hi14 = tests[(e["stronger_dose"], e["weaker_day"])].reindex(keys)
        peaks += int(((hi7[S.FDR] < FDR) & (hi7[S.DELTA].abs() > hi14[S.DELTA].abs())).sum())
        for g in PATIENT_GROUPS:
            t28 = tests[(g, e["recovery_day"])].reindex(keys)
            late += int((t28[S.FDR] < FDR).sum())
        d = dose.reindex(keys)
        dose_hits += int(((d[S.FDR] < FDR) & (np.sign(d["difference"]) == sign)).sum())
        n_all += len(keys)
        verb = "falls" if sign < 0 else "rises"
        rows.append({
            "claim": f"{inter} from {e['sender']} to {', '.join(e['receivers'])} {verb} on day 7 vs day 0 "
                     f"({e['stronger_dose']} dose; paired test per patient)",
            "graph says": "; ".join(said),
            "agrees": ok,
        })
    rows += [
        {"claim": f"the planted pairs change by day 7 at the high dose (≥ {RECALL:.0%} of them at FDR < {FDR})",
         "graph says": f"{hits['high']}/{n_all} called in the planted direction", "agrees": hits["high"] >= RECALL * n_all},
        {"claim": f"… and at the low dose (≥ {RECALL:.0%})",
         "graph says": f"{hits['low']}/{n_all} called in the planted direction", "agrees": hits["low"] >= RECALL * n_all},
        {"claim": "the change peaks on day 7: significant then, and larger than on day 14 (high dose)",
         "graph says": f"{peaks}/{n_all} pairs", "agrees": peaks >= RECALL * n_all},
        {"claim": "the change has faded by day 28 (no planted pair called on day 28, either dose)",
         "graph says": f"{late} of {2 * n_all} tests called", "agrees": late <= 0.1 * 2 * n_all},
        {"claim": "the day-7 change is larger at the high dose (dose × time contrast, high vs low)",
         "graph says": f"{dose_hits}/{n_all} pairs at FDR < {FDR} in the planted direction",
         "agrees": dose_hits >= RECALL * n_all},
    ]
    rows += _composition_findings(store)
    rows += _clinical_findings(store)
    return pd.DataFrame(rows, columns=["claim", "graph says", "agrees"])


def _clinical_findings(store: Store) -> list[dict]:
    """The trial's patient-level claims, from the sample sheet and per-sample counts in the graph."""
    from . import clinical

    cp = store.query("clinical_trajectory", score="child_pugh")
    cp = cp[cp[S.GROUP].isin(PATIENT_GROUPS)].pivot_table(index=[S.GROUP, "patient"], columns=S.DAY, values="value")
    change = cp[28] - cp[BASELINE]
    mean = change.groupby(level=0).mean()
    improved = (change <= -1).groupby(level=0).sum()
    n = change.groupby(level=0).size()
    rows = [{"claim": "Child-Pugh improves more at the high dose by day 28 (mean change per patient)",
             "graph says": "; ".join(f"{g}: {mean[g]:+.2f} points, {int(improved[g])}/{int(n[g])} patients improved ≥ 1"
                                     for g in PATIENT_GROUPS),
             "agrees": bool(mean["high"] < mean["low"] < 0)}]
    a = clinical.associate(store, score="child_pugh", day=28, groups=PATIENT_GROUPS).set_index("feature").loc[SENDER]
    rows.append({"claim": f"a patient's Child-Pugh change (day 28 vs 0) rises with their {SENDER} fraction change "
                          "(Spearman across patients; the direction — a small demo is not powered for p < 0.05)",
                 "graph says": f"rho {a['rho']:+.2f}, permutation p {a['p']:.3f}, {int(a['n_patients'])} patients",
                 "agrees": bool(a["rho"] > 0)})
    cov = clinical.co_variation(store, SENDER, groups=PATIENT_GROUPS).set_index("feature")
    for partner, sign in (("CD8 Effector T", -1), ("Naive B", 1), ("Memory B", -1)):
        r = cov.loc[partner]
        rows.append({"claim": f"{SENDER} fraction moves {'with' if sign > 0 else 'against'} {partner} within patients "
                              "across days (p < 0.05)",
                     "graph says": f"rho {r['rho']:+.2f}, p {r['p']:.4f}, {int(r['n_patients'])} patients",
                     "agrees": bool(np.sign(r["rho"]) == sign and r["p"] < FDR)})
    comp = store.query("cell_composition", cell_type="Treg")
    f = comp[comp[S.GROUP].isin(PATIENT_GROUPS)].set_index([S.GROUP, S.DAY])[S.FRACTION]
    ok = all(f[(g, d)] < f[(g, BASELINE)] for g in PATIENT_GROUPS for d in (3, 7))
    rows.append({"claim": "CD4 Treg fall on days 3 and 7 (both doses)",
                 "graph says": "; ".join(f"{g}: day 0 {f[(g, 0)]:.1%}, 3 {f[(g, 3)]:.1%}, 7 {f[(g, 7)]:.1%}"
                                         for g in PATIENT_GROUPS),
                 "agrees": ok})
    return rows


LINEAGES = {  # the lineages the trial's composition findings speak of
    "monocytes": ("MX1+ Mono", "CD14 Mono", "LGALS2+ Mono", "CD16 Mono"),
    "B cells": ("Naive B", "Memory B"),
    "T cells": ("Treg", "CD4 Naive T", "CD4 Effector T", "CD8 Naive T", "CD8 Effector T"),
    "NK cells": ("NK",),
}


def _composition_findings(store: Store) -> list[dict]:
    comp = store.query("cell_composition")
    frac = comp.pivot_table(index=[S.GROUP, S.DAY], columns=S.CELL_TYPE_PROP, values=S.FRACTION, aggfunc="sum")
    rows = []
    healthy = frac.loc[("healthy", BASELINE)]
    for lineage, direction in (("monocytes", "more"), ("B cells", "more"), ("T cells", "fewer"), ("NK cells", "fewer")):
        cols = [c for c in LINEAGES[lineage] if c in frac.columns]
        h = float(healthy[cols].sum())
        p = {g: float(frac.loc[(g, BASELINE), cols].sum()) for g in PATIENT_GROUPS}
        ok = all((v > h) if direction == "more" else (v < h) for v in p.values())
        rows.append({"claim": f"baseline patients have {direction} {lineage} than healthy donors",
                     "graph says": f"healthy {h:.1%}; patients low {p['low']:.1%}, high {p['high']:.1%}", "agrees": ok})
    mx1 = frac[SENDER]
    for group in PATIENT_GROUPS:
        f = mx1.loc[group]
        d0, d3, d7, d28 = (float(f.loc[d]) for d in (0, 3, 7, 28))
        rows.append({"claim": f"{SENDER} fraction ({group} dose) rises on day 3, falls on day 7, returns by day 28",
                     "graph says": f"day 0 {d0:.1%}, 3 {d3:.1%}, 7 {d7:.1%}, 28 {d28:.1%}",
                     "agrees": d3 > d0 and d7 < d0 and abs(d28 - d0) < min(abs(d3 - d0), abs(d7 - d0))})
    return rows


def print_demo(result: DemoResult, console=None) -> None:
    """The demo's answer, for a terminal."""
    from rich.console import Console
    from rich.table import Table

    con = console if isinstance(console, Console) else Console()
    s = result.summary
    con.rule(f"[bold]How does {SENDER} signaling change after MSC dosing?")
    for direction, word in (("out", "sent by"), ("in", "received by")):
        con.print(f"\n[bold]Total significant signaling {word} {SENDER}[/bold] (change vs day 0):")
        for group in PATIENT_GROUPS:
            g = s[(s["direction"] == direction) & (s[S.GROUP] == group)].sort_values(S.DAY)
            parts = [f"day {int(r.day)}: {r.percent:+.1f}%" for r in g.itertuples() if r.day != BASELINE]
            con.print(f"  {group:>4} dose  " + "   ".join(parts), highlight=False)
    out = s[s["direction"] == "out"]
    peak = out.loc[out["change_vs_day0"].abs().idxmax()]
    con.print(f"\nLargest change in outgoing signaling: day {int(peak[S.DAY])}, {peak[S.GROUP]} dose "
              f"({peak['percent']:+.1f}%).", highlight=False)
    ch = result.changes
    for group in PATIENT_GROUPS:
        g = ch[ch[S.GROUP] == group]
        fell, rose = g[g[S.DELTA] < 0].nsmallest(6, S.DELTA), g[g[S.DELTA] > 0].nlargest(6, S.DELTA)
        con.print(f"\n[bold]Day 7 vs day 0, {group} dose[/bold] — pairs from {SENDER} that changed "
                  f"(paired over patients, FDR < {FDR}; {len(g)} in all)")
        con.print("  fell: " + ", ".join(f"{r.interaction} → {r.partner} ({r.delta:+.2f})" for r in fell.itertuples()),
                  highlight=False)
        con.print("  rose: " + ", ".join(f"{r.interaction} → {r.partner} ({r.delta:+.2f})" for r in rose.itertuples()),
                  highlight=False)
        pw = g.groupby("pathway")[S.DELTA].sum().drop("unannotated", errors="ignore").sort_values()
        down, up = pw[pw < 0].index[:5], pw[pw > 0].index[::-1][:5]
        con.print(f"  pathways down: {', '.join(down) or '-'}; up: {', '.join(up) or '-'}", highlight=False)

    c = result.contrasts
    if len(c):
        con.print(f"\n{len(c)} contrasts tested (limma, patient as a block; BH FDR): "
                  + ", ".join(f"{r.group}{'−' + r.reference if isinstance(r.reference, str) else ''} d{r.day}: "
                              f"{r.n_up}↑ {r.n_down}↓" for r in c.itertuples()), highlight=False)
    table = Table(title="Findings: each planted effect, checked through the graph's tests and named queries")
    for col in ("claim", "graph says", "agrees"):
        table.add_column(col, overflow="fold")
    for r in result.findings.itertuples(index=False):
        table.add_row(r[0], r[1], "[green]yes[/green]" if r[2] else "[red]NO[/red]")
    con.print(table)
    n, ok = len(result.findings), int(result.findings["agrees"].sum())
    con.print(f"{ok}/{n} claims agree.  Times: " + ", ".join(f"{k} {v:.0f}s" for k, v in result.timings.items()))
    con.print(f"Store: {result.store}   (try: commgraph query differential --db {result.store} "
              f"-p cell_type='{SENDER}' -p day=7 -p group=high)", highlight=False, soft_wrap=True)
    for f in result.files:
        con.print(f"wrote {f}", highlight=False)
