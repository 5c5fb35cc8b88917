"""Replicate-aware differential communication: paired, moderated tests of change over days and doses.

Per sample (one patient on one day) every feature takes the tool's score, summed at three levels:

- ``interaction``: (sender, receiver, ligand^receptor);
- ``pair``: (sender, receiver), every interaction summed (CellChat's ``net$weight``);
- ``pathway``: (sender, receiver, pathway), summed.

A feature absent from a sample's output while both cell types were present in that sample
scores 0 (not detected); when either cell type is absent from the sample (fewer than
``min_cells`` cells, or not in the run at all) the value is *missing*, never 0.

One linear model per feature is fitted over every sample of the groups sampled on two days or
more: a fixed effect per patient (so each patient is compared with their own baseline) and one
coefficient per group × non-baseline day — limma's paired design (limma User's Guide, "paired
samples"). Empirical-Bayes moderated t statistics come from ``pylimma`` (a port of limma,
checked against R limma 3.54 in ``tests/test_differential.py``); ``legacy=True`` selects the
prior estimator that limma < 3.61 uses for features with missing values, so that the numbers
equal the R reference installed here. Contrasts (each fitted once, read many times):

- ``time``: day *d* against the group's baseline day, within a dose group;
- ``dose_time``: the day-*d* change in one group minus the same change in another
  (dose × time interaction), for groups sampled with the same baseline.

Features are filtered before fitting as edgeR's ``filterByExpr`` does: kept when detected
(score > 0) in at least as many samples as the smallest group × day has. A feature is reported
in a contrast when at least ``min_patients`` patients have both days (in each group for
``dose_time``) and when it is detected in at least ``min_detection`` (half) of the samples on
each day compared (in each group for ``dose_time``); the rest are counted as skipped. The
second rule matters: a pair near a tool's expression threshold (LIANA's ``expr_prop``) is present
in some samples and absent (0) in others, and when by chance it is absent in every baseline
sample and present on the day the model sees a large change with no variance — on null
simulations such pairs made every false call, and no planted one was lost without them
(``bench.differential``). FDR is Benjamini–Hochberg within each contrast
and level (``statsmodels``). ``delta`` is the model's estimate of the mean paired change (score units; with no sample
missing it equals the mean of the patients' own differences);
``log2fc`` compares the paired patients' mean scores with a pseudocount of one tenth of the
median non-zero value at that level, so a pair absent on one side gives a finite, modest fold
change instead of one set by a tiny constant.
"""

from __future__ import annotations

import collections
import datetime as _dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from . import _schema as S
from ._progress import track
from .errors import InputError
from .stores import Store

LEVELS = ("interaction", "pair", "pathway")
TIME, DOSE_TIME = "time", "dose_time"
PSEUDOCOUNT_SHARE = 0.1  # of the level's median non-zero value

# the feature key of each level, and the annotation kept with it
_KEYS = {
    "interaction": [S.SOURCE, S.TARGET, S.INTERACTION],
    "pair": [S.SOURCE, S.TARGET],
    "pathway": [S.SOURCE, S.TARGET, S.PATHWAY],
}

RESULT_COLUMNS = [
    S.CONTRAST_PROP, S.KIND, S.GROUP, S.REFERENCE, S.DAY, S.BASELINE, S.LEVEL, S.SOURCE, S.TARGET,
    S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY, S.DELTA, S.REFERENCE_DELTA, S.LOG2FC, S.T_STAT, S.P_PROP,
    S.FDR, S.MEAN_BASELINE, S.MEAN_DAY, S.N_PROP, S.DETECTED_BASELINE, S.DETECTED_DAY,
]
CONTRAST_COLUMNS = [
    S.ID, S.KIND, S.GROUP, S.REFERENCE, S.DAY, S.BASELINE, S.METHOD, S.N_PATIENTS, "n_samples", "n_tested",
    "n_skipped", "n_filtered", "n_up", "n_down",
]


@dataclass
class Differential:
    """What :func:`differential` computed: every tested feature, and one row per contrast.

    ``results`` has one row per contrast × level × tested feature (all of them, not only the
    significant, so FDR can be recomputed); ``contrasts`` counts per contrast how many
    features were tested, skipped (too few paired patients, or not estimable), filtered
    before fitting (rarely detected), and called up or down at ``fdr`` < 0.05 on the
    ``interaction`` level; ``settings`` is the record retrieval and drawing read back.
    """

    contrasts: pd.DataFrame
    settings: dict = field(default_factory=dict)
    _parts: list[dict[str, np.ndarray]] = field(default_factory=list, repr=False, compare=False)

    @functools.cached_property
    def results(self) -> pd.DataFrame:
        # built on first use: the CLI without --out never needs it (3.4M rows, 3 s at 10M edges)
        parts, self._parts = self._parts, []
        return _columns(parts, RESULT_COLUMNS) if parts else pd.DataFrame(columns=RESULT_COLUMNS)

    def table(self, contrast: str | None = None, *, level: str = "interaction", fdr: float = 1.0) -> pd.DataFrame:
        """One contrast's (or every contrast's) results at ``level`` with FDR ≤ ``fdr``, by p-value."""
        r = self.results[(self.results[S.LEVEL] == level) & (self.results[S.FDR] <= fdr)]
        if contrast is not None:
            r = r[r[S.CONTRAST_PROP] == contrast]
        return r.sort_values([S.CONTRAST_PROP, S.P_PROP]).reset_index(drop=True)


# --- the study design, from the store ---------------------------------------------------------


@dataclass
class _Design:
    runs: pd.DataFrame  # one per sample: run_id, sample, patient, day, group, method
    method: str
    baselines: dict[str, int]  # group -> baseline day
    days: dict[str, list[int]]  # group -> days after baseline


def contrast_id(kind: str, group: str, day: int, baseline: int, method: str, reference: str | None = None) -> str:
    """The id of a contrast: what it compares, in words a Browser user can type."""
    return S.contrast_id(kind, group, day, baseline, method, reference)


def _design(store: Store, *, groups: Sequence[str] | None, days: Sequence[int] | None, baseline: int | None,
            method: str | None) -> _Design:
    runs = store.runs()
    per_sample = runs[runs[S.SAMPLE].notna() & ~runs[S.SAMPLE].astype(str).str.contains(";")]
    if per_sample.empty:
        raise InputError(f"no per-sample runs in {store.uri}: differential needs one run per sample "
                         "(patient × day); load runs with a sample (manifest column 'sample', or "
                         "`commgraph infer --sample-key`)")
    methods = sorted(per_sample[S.METHOD].dropna().unique())
    if method is None:
        if len(methods) > 1:
            raise InputError(f"the store's per-sample runs mix inference methods ({', '.join(methods)}): a contrast "
                             "compares runs of one method; choose one with method= (--method)")
        method = methods[0]
    elif method not in methods:
        raise InputError(f"no per-sample runs of method {method!r} (methods: {', '.join(methods)})")
    r = per_sample[per_sample[S.METHOD] == method].copy()
    dup = r[r.duplicated(S.SAMPLE, keep=False)]
    if len(dup):
        raise InputError(f"sample {dup[S.SAMPLE].iloc[0]!r} has several runs of method {method!r} "
                         f"({', '.join(dup[dup[S.SAMPLE] == dup[S.SAMPLE].iloc[0]][S.RUN_ID])}): remove all but one")
    # the Sample node knows the patient (from the run, or a sample sheet loaded since)
    patients = store.samples().set_index(S.SAMPLE)[S.PATIENT]
    r[S.PATIENT] = r[S.SAMPLE].map(patients).where(lambda p: p.notna(), r[S.PATIENT])
    r[S.PATIENT] = r[S.PATIENT].where(r[S.PATIENT].notna(), r[S.SAMPLE]).astype(str)
    r[S.DAY] = r[S.DAY].astype("int64")
    two = r.groupby(S.PATIENT)[S.GROUP].nunique()
    if (two > 1).any():
        p = two[two > 1].index[0]
        raise InputError(f"patient {p!r} has samples in groups {', '.join(sorted(r[r[S.PATIENT] == p][S.GROUP].unique()))}: "
                         "a patient belongs to one dose group")
    dupday = r[r.duplicated([S.PATIENT, S.DAY], keep=False)]
    if len(dupday):
        raise InputError(f"patient {dupday[S.PATIENT].iloc[0]!r} has two samples on day {int(dupday[S.DAY].iloc[0])} "
                         f"({', '.join(dupday[S.SAMPLE].iloc[:2])}): one sample per patient and day")

    known = sorted(r[S.GROUP].unique())
    asked = list(groups) if groups is not None else known
    unknown = [g for g in asked if g not in known]
    if unknown:
        raise InputError(f"no per-sample runs of group {unknown[0]!r} (groups: {', '.join(known)})")
    baselines, later = {}, {}
    for g in asked:
        gdays = sorted(r[r[S.GROUP] == g][S.DAY].unique())
        if len(gdays) < 2:
            if groups is not None:
                raise InputError(f"group {g!r} was sampled on one day only (day {gdays[0]}): nothing to compare")
            continue  # healthy donors and the like: no change to test
        b = gdays[0] if baseline is None else int(baseline)
        if b not in gdays:
            if groups is not None or baseline is not None and len(asked) == 1:
                raise InputError(f"group {g!r} has no samples on baseline day {b} (days: {', '.join(map(str, gdays))})")
            continue
        want = [d for d in gdays if d != b and (days is None or d in days)]
        if days is not None and groups is not None:
            missing = [d for d in days if d not in gdays]
            if missing:
                raise InputError(f"group {g!r} has no samples on day {missing[0]} (days: {', '.join(map(str, gdays))})")
        if want:
            baselines[g], later[g] = b, want
    if not baselines:
        raise InputError("no group has samples on a baseline day and a later day"
                         + (f" among days {', '.join(map(str, days))}" if days is not None else ""))
    return _Design(r[r[S.GROUP].isin(baselines)].reset_index(drop=True), method, baselines, later)


# --- per-sample feature matrices ---------------------------------------------------------------


@dataclass
class _Level:
    name: str
    features: pd.DataFrame  # the key columns (+ annotations), one row per feature
    values: np.ndarray  # features × samples; NaN = a cell type absent from the sample
    pseudocount: float


class _Names:
    """Names ↔ small integer codes, grown frame by frame (a study repeats a few hundred names on
    millions of edges: features are keyed by codes, never by strings per edge)."""

    def __init__(self):
        self.ids: dict[str, int] = {}

    def encode(self, column: pd.Series) -> np.ndarray:
        codes, uniq = pd.factorize(column)  # a categorical factorizes by its codes
        ids = np.array([self.ids.setdefault(str(u), len(self.ids)) for u in uniq] + [-1], dtype=np.int32)
        return ids[codes]  # code -1 (a missing name) picks the -1 at the end

    @property
    def names(self) -> np.ndarray:
        return np.array(list(self.ids), dtype=object)

    def ranks(self) -> np.ndarray:
        """Each code's place in the sorted names (how a groupby over the strings orders them)."""
        order = np.argsort(self.names, kind="stable")
        out = np.empty(len(order), dtype=np.int64)
        out[order] = np.arange(len(order))
        return out


def _features(store: Store, design: _Design, *, levels: Sequence[str], min_cells: int, significant_only: bool,
              progress: bool, interactions: Sequence[str] | None = None) -> dict[str, _Level]:
    samples = design.runs[S.SAMPLE].tolist()
    col = {s: j for j, s in enumerate(samples)}
    run_ids = design.runs[S.RUN_ID].tolist()
    position = {r: k for k, r in enumerate(run_ids)}
    ns = len(samples)
    column_of = np.array([col[s] for s in samples], dtype=np.int32)  # run position → sample column
    types, names, paths = _Names(), _Names(), _Names()
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("k", "row", "src", "tgt", "inter", "path", "score")}
    seen = []  # (cell type, sample column) pairs of every edge, before any filter: who was present
    n_frames = len(design.runs[[S.DAY, S.GROUP]].drop_duplicates())  # one per day × group (see Store.run_scores)
    read = False
    for frame in track(store.run_scores(run_ids), description="reading per-sample runs", show=progress, total=n_frames):
        read = True
        rk, ruids = pd.factorize(frame[S.RUN_ID])
        k = np.array([position[r] for r in ruids], dtype=np.int32)[rk]
        src, tgt = types.encode(frame[S.SOURCE]), types.encode(frame[S.TARGET])
        here = np.zeros(len(types.ids) * ns, dtype=bool)
        here[src.astype(np.int64) * ns + column_of[k]] = True
        here[tgt.astype(np.int64) * ns + column_of[k]] = True
        seen.append(np.flatnonzero(here))
        keep = np.ones(len(frame), dtype=bool)
        if significant_only:
            keep &= frame[S.SIGNIFICANT].astype(bool).to_numpy()
        if interactions is not None:  # only these (per-sample points of a view); presence is read above
            keep &= frame[S.INTERACTION].isin(interactions).to_numpy()
        for name, v in (("k", k), ("row", np.arange(len(frame), dtype=np.int32)), ("src", src), ("tgt", tgt),
                        ("inter", names.encode(frame[S.INTERACTION])), ("path", paths.encode(frame[S.PATHWAY])),
                        ("score", frame[S.SCORE].to_numpy(dtype=float))):
            cols[name].append(v[keep])
        del frame
    e = {c: np.concatenate(v) if v else np.zeros(0, dtype=float if c == "score" else np.int32) for c, v in cols.items()}
    del cols
    j = column_of[e["k"]]

    counts = store.sample_counts()
    if len(counts):  # a cell type with enough cells counts as present even where it sends nothing
        ok = counts[(counts[S.N_CELLS] >= min_cells) & counts[S.SAMPLE].isin(col)]
        seen.append(types.encode(ok[S.CELL_TYPE_PROP]).astype(np.int64) * ns + ok[S.SAMPLE].map(col).to_numpy())
    pres = np.zeros(len(types.ids) * ns, dtype=bool)
    if seen:
        pres[np.concatenate(seen)] = True
    pres = pres.reshape(len(types.ids), ns)

    annot = None
    if read:
        # each interaction's pathway as the first run (in design order) that has it gives it
        at = e["k"].astype(np.int64) * (int(e["row"].max(initial=0)) + 1) + e["row"]  # (run, row): unique
        named = e["inter"] >= 0
        first = np.full(len(names.ids), np.iinfo(np.int64).max)
        np.minimum.at(first, e["inter"][named], at[named])
        pick = np.flatnonzero(named & (at == first[np.where(named, e["inter"], 0)]))
        pick = pick[np.argsort(e["inter"][pick], kind="stable")]
        pathway = pd.DataFrame({S.INTERACTION: names.names[e["inter"][pick]],
                                S.PATHWAY: np.where(e["path"][pick] >= 0, paths.names[e["path"][pick]]
                                                    if len(paths.ids) else None, None)})
        lr = store.interactions()[[S.NAME, S.LIGAND, S.RECEPTOR]].rename(columns={S.NAME: S.INTERACTION})
        annot = pathway.merge(lr, on=S.INTERACTION, how="left")[[S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY]]

    third = {"interaction": ("inter", names, S.INTERACTION), "pathway": ("path", paths, S.PATHWAY)}
    out = {}
    for lv in levels:
        parts = [(e["src"], types, S.SOURCE), (e["tgt"], types, S.TARGET)]
        if lv in third:
            c, vocab, label = third[lv]
            parts.append((e[c], vocab, label))
        valid = np.logical_and.reduce([p[0] >= 0 for p in parts])  # a missing pathway is no feature (as groupby)
        fcode, digits = S.combine_codes([codes[valid] for codes, _, _ in parts], [len(v.ids) for _, v, _ in parts])
        nf = len(digits[0])
        # features in the order a run-by-run read meets them: by first run, then by the names
        first_k = np.full(nf, np.iinfo(np.int64).max)
        np.minimum.at(first_k, fcode, e["k"][valid].astype(np.int64))  # one dtype: numpy's fast path (15× faster)
        ranked = [vocab.ranks()[d] for d, (_, vocab, _) in zip(digits, parts)]
        order = np.lexsort(tuple(reversed([first_k] + ranked)))
        renumber = np.empty(nf, dtype=np.int64)
        renumber[order] = np.arange(nf)
        feats = pd.DataFrame({label: vocab.names[d[order]] for d, (_, vocab, label) in zip(digits, parts)})
        flat = renumber[fcode] * ns + j[valid]
        values = np.bincount(flat, weights=np.nan_to_num(e["score"][valid]), minlength=nf * ns).reshape(nf, ns)
        both = pres[digits[0][order]] & pres[digits[1][order]]
        values[~both] = np.nan
        if lv == "interaction" and annot is not None:
            feats = feats.merge(annot, on=S.INTERACTION, how="left")
        positive = values[values > 0]
        pc = PSEUDOCOUNT_SHARE * float(np.median(positive)) if positive.size else 1.0
        out[lv] = _Level(lv, feats, values, pc)
    return out


def per_sample_scores(store: Store, *, interactions: Sequence[str] | None = None, method: str | None = None,
                      min_cells: int = 10, significant_only: bool = False) -> pd.DataFrame:
    """The per-sample values :func:`differential` tests, at the interaction level, as a long
    table: sample, patient, group, day, source, target, interaction, score — the tool's score
    of the sample's run (the per-sample SIGNALS edges), 0 where not detected while both cell
    types were present, NaN where one was absent. ``interactions``: only these. Empty when the
    store holds no per-sample runs with a baseline and a later day."""
    cols = [S.SAMPLE, S.PATIENT, S.GROUP, S.DAY, S.SOURCE, S.TARGET, S.INTERACTION, S.SCORE]
    try:
        design = _design(store, groups=None, days=None, baseline=None, method=method)
    except InputError:
        return pd.DataFrame(columns=cols)
    lv = _features(store, design, levels=["interaction"], min_cells=min_cells, significant_only=significant_only,
                   progress=False, interactions=interactions)["interaction"]
    if not len(lv.features):
        return pd.DataFrame(columns=cols)
    runs = design.runs
    wide = pd.DataFrame(lv.values, columns=runs[S.SAMPLE].tolist())
    wide[[S.SOURCE, S.TARGET, S.INTERACTION]] = lv.features[[S.SOURCE, S.TARGET, S.INTERACTION]].to_numpy()
    long = wide.melt(id_vars=[S.SOURCE, S.TARGET, S.INTERACTION], var_name=S.SAMPLE, value_name=S.SCORE)
    long = long.merge(runs[[S.SAMPLE, S.PATIENT, S.GROUP, S.DAY]], on=S.SAMPLE, how="left")
    long[S.SCORE] = long[S.SCORE].astype(float)
    return long[cols].sort_values([S.INTERACTION, S.GROUP, S.PATIENT, S.DAY, S.SOURCE, S.TARGET]).reset_index(drop=True)


# --- the model -----------------------------------------------------------------------------------


def design_matrix(runs: pd.DataFrame, baselines: dict[str, int]) -> pd.DataFrame:
    """Samples × coefficients: one column per patient (their own baseline level) and one per
    group × later day (that day's mean change from baseline in that group)."""
    X = pd.get_dummies(runs[S.PATIENT]).astype(float)
    X.columns = [f"patient:{c}" for c in X.columns]
    for g, b in baselines.items():
        for d in sorted(runs[runs[S.GROUP] == g][S.DAY].unique()):
            if d != b:
                X[_coef(g, d)] = ((runs[S.GROUP] == g) & (runs[S.DAY] == d)).astype(float).to_numpy()
    X.index = runs[S.SAMPLE].to_numpy()
    return X


def _coef(group: str, day: int) -> str:
    return f"{group}:day{int(day)}"


def _keep(values: np.ndarray, runs: pd.DataFrame) -> np.ndarray:
    """filterByExpr's rule: detected in at least as many samples as the smallest group × day
    has; and not constant (a feature with no variance has nothing to test)."""
    k = max(2, int(runs.groupby([S.GROUP, S.DAY]).size().min()))
    detected = np.sum(values > 0, axis=1)
    filled = np.isfinite(values)
    hi = np.where(filled, values, -np.inf).max(axis=1, initial=-np.inf)
    lo = np.where(filled, values, np.inf).min(axis=1, initial=np.inf)
    return (detected >= k) & (hi > lo)


def fit_contrasts(values: np.ndarray, X: pd.DataFrame, contrasts: pd.DataFrame) -> dict[str, np.ndarray]:
    """limma: ``lmFit`` (NA-aware, feature by feature) → ``contrasts.fit`` → ``eBayes``.

    ``contrasts`` is coefficients × contrasts. Returns coefficient, t, p (features × contrasts).
    """
    import pylimma

    fit, pattern = _lm_fit(values, X.to_numpy())
    fit = _contrasts_fit(fit, contrasts.to_numpy(), pattern)
    eb = pylimma.e_bayes(fit, legacy=True)  # limma < 3.61's prior estimator; see the module doc
    return {"coef": np.asarray(eb["coefficients"]), "t": np.asarray(eb["t"]), "p": np.asarray(eb["p_value"])}


def _lm_fit(values: np.ndarray, X: np.ndarray) -> tuple[dict, np.ndarray]:
    """``lmFit`` with missing values, fitted once per missingness pattern; and each feature's pattern.

    limma fits a feature with missing values on its observed samples alone, one feature at a
    time (seconds per thousand features here). Features missing the same samples share that
    reduced design, so each pattern is one vectorised fit (``lm_series``) over the observed
    columns: the same numbers, since every feature's least-squares fit is independent. The
    covariance of the coefficients stays the full design's, as in limma.
    """
    import pylimma

    finite = np.isfinite(values)
    if finite.all():
        return pylimma.lm_fit(values, X), np.zeros(len(values), dtype=np.int64)
    fit = pylimma.lm_fit(np.where(finite, values, 0.0), X)  # the full-design fit; incomplete rows redone below
    patterns, inverse = np.unique(finite, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    for k, obs in enumerate(patterns):
        if obs.all():
            continue
        rows = np.flatnonzero(inverse == k)
        for key in ("coefficients", "stdev_unscaled"):
            fit[key][rows] = np.nan
        fit["sigma"][rows] = np.nan
        fit["df_residual"] = np.asarray(fit["df_residual"], dtype=float)
        fit["df_residual"][rows] = 0.0
        if not obs.any():
            continue
        part = pylimma.lm_series(values[np.ix_(rows, obs)], X[obs])
        for key in ("coefficients", "stdev_unscaled", "sigma", "df_residual"):
            fit[key][rows] = part[key]
    fit["Amean"] = np.nanmean(values, axis=1)
    return fit, inverse


def _contrasts_fit(fit: dict, contrasts: np.ndarray, pattern: np.ndarray) -> dict:
    """``contrasts.fit``, its per-feature work done once per missingness pattern.

    A feature's new standard errors depend only on its ``stdev_unscaled`` row (with its NA
    coefficients), and features missing the same samples share that row (see :func:`_lm_fit`).
    pylimma forms them feature by feature (an einsum over features × coefficients² × contrasts:
    16 s and 2 GB at 381k features × 40 contrasts), so it is run on one feature of each pattern
    and its answer spread to the rest. The new coefficients are the product with the contrast
    matrix, as ``contrasts.fit`` forms them: an NA coefficient under a zero weight counts as 0,
    and a contrast of an NA coefficient is NA (where the new standard error is).
    """
    import pylimma
    from pylimma.classes import _MARRAYLM_I, _MARRAYLM_IJ, _MARRAYLM_IX, MArrayLM

    _, reps, inverse = np.unique(pattern, return_index=True, return_inverse=True)
    if 2 * len(reps) > len(pattern):  # hardly any feature shares a pattern: nothing to spare
        return pylimma.contrasts_fit(fit, contrasts)
    one = pylimma.contrasts_fit(MArrayLM(fit)[reps, :], contrasts)
    out = MArrayLM({k: (fit[k] if k in fit and k in _MARRAYLM_I + _MARRAYLM_IJ + _MARRAYLM_IX else v)
                    for k, v in one.items()})
    stdev = np.asarray(one["stdev_unscaled"])[np.asarray(inverse).ravel()]
    coef = np.nan_to_num(np.asarray(fit["coefficients"], dtype=float), nan=0.0) @ contrasts
    coef[np.isnan(stdev)] = np.nan
    out["coefficients"], out["stdev_unscaled"] = coef, stdev
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    from statsmodels.stats.multitest import multipletests

    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]  # statsmodels' default is Holm–Sidak
    return out


def _contrast_specs(design: _Design, *, dose_time: bool, pairs: Sequence[tuple[str, str]] | None) -> list[dict]:
    specs = []
    for g, later in design.days.items():
        for d in later:
            specs.append({S.KIND: TIME, S.GROUP: g, S.REFERENCE: None, S.DAY: d, S.BASELINE: design.baselines[g]})
    if dose_time:
        if pairs is None:
            pairs = list(combinations(sorted(design.days), 2))
        for g1, g2 in pairs:
            for g in (g1, g2):
                if g not in design.days:
                    raise InputError(f"group {g!r} can't enter a dose × time contrast: it has no baseline and later "
                                     f"day (groups: {', '.join(design.days)})")
            if design.baselines[g1] != design.baselines[g2]:
                continue
            for d in design.days[g1]:
                if d in design.days[g2]:
                    specs.append({S.KIND: DOSE_TIME, S.GROUP: g1, S.REFERENCE: g2, S.DAY: d,
                                  S.BASELINE: design.baselines[g1]})
    for s in specs:
        s[S.ID] = contrast_id(s[S.KIND], s[S.GROUP], s[S.DAY], s[S.BASELINE], design.method, s[S.REFERENCE])
    return specs


def _paired(values: np.ndarray, runs: pd.DataFrame, group: str, day: int, baseline: int):
    """Per feature: patients of the group with both days, their mean scores and detection rates."""
    g = runs[runs[S.GROUP] == group]
    base = g[g[S.DAY] == baseline].set_index(S.PATIENT)
    later = g[g[S.DAY] == day].set_index(S.PATIENT)
    patients = base.index.intersection(later.index)
    vb, vd = values[:, base.loc[patients, "_row"].to_numpy()], values[:, later.loc[patients, "_row"].to_numpy()]
    both = ~np.isnan(vb) & ~np.isnan(vd)
    n = both.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mb = np.where(both, vb, 0).sum(axis=1) / n
        md = np.where(both, vd, 0).sum(axis=1) / n
        allb, alld = values[:, base["_row"].to_numpy()], values[:, later["_row"].to_numpy()]
        detb = np.nansum(allb > 0, axis=1) / np.sum(~np.isnan(allb), axis=1)
        detd = np.nansum(alld > 0, axis=1) / np.sum(~np.isnan(alld), axis=1)
    return n, mb, md, detb, detd


def differential(store: Store, *, groups: Sequence[str] | None = None, days: Sequence[int] | None = None,
                 baseline: int | None = None, dose_time: bool = True,
                 pairs: Sequence[tuple[str, str]] | None = None, levels: Sequence[str] = LEVELS,
                 method: str | None = None, min_cells: int = 10, min_patients: int = 2,
                 min_detection: float = 0.5, significant_only: bool = False, write: bool = True,
                 progress: bool = True) -> Differential:
    """Test how communication changes over days and between dose groups, paired by patient.

    With no options: every group sampled on two days or more, each later day against the
    group's first day (``baseline`` fixes another), and the dose × time contrast for every
    pair of groups (``pairs``: ``[("high", "low")]`` = high's change minus low's). Results go
    into the store as ``Contrast`` nodes and ``CHANGED`` edges (``write=False``: only returned);
    computing a contrast again replaces it. See the module docstring for the model.

    >>> res = cg.differential(store)                                   # doctest: +SKIP
    >>> res.table("time|high|d7-vs-d0|liana:cellphonedb", fdr=0.05)    # doctest: +SKIP
    """
    if not 0.0 <= min_detection <= 1.0:
        raise InputError(f"min_detection is a share of samples, in [0, 1] (got {min_detection})")
    design, runs, specs, feats, X, C = _prepare(
        store, groups=groups, days=days, baseline=baseline, dose_time=dose_time, pairs=pairs, levels=levels,
        method=method, min_cells=min_cells, min_patients=min_patients, significant_only=significant_only,
        progress=progress)
    pseudocounts = {lv: feats[lv].pseudocount for lv in levels}
    settings = {"method": design.method, "levels": list(levels), "min_cells": min_cells, "min_patients": min_patients,
                "min_detection": min_detection,
                "significant_only": significant_only, "model": "~ 0 + patient + group:day (limma, eBayes legacy)",
                "pseudocounts": pseudocounts, "fdr": "BH within contrast and level"}
    about = [_contrast_row(s, design, runs) for s in specs]  # what a contrast is, before any fit
    fitted: dict[str, tuple[list[dict], list[dict]]] = {}  # level -> (tested features, summary rows)

    def each_level():
        # the smallest level first: an engine writes one level's edges while the next is fitted
        for lv in sorted(_levels(levels), key=lambda lv: len(feats[lv].features)):
            level = feats.pop(lv)  # each level's matrices go once it is fitted: the write needs the memory
            keep = _keep(level.values, runs)
            vals = level.values[keep]
            f = level.features[keep].reset_index(drop=True)
            fit = fit_contrasts(vals, X, C) if len(f) else None
            paired = functools.cache(functools.partial(_paired, vals, runs))  # a group's change serves its
            # time contrast and every dose × time contrast it is in
            parts = [_one_contrast(s, paired, f, fit, k, level.pseudocount, min_patients, min_detection, lv)
                     for k, s in enumerate(specs)]
            fitted[lv] = (parts, [_summary_row(a, res, n_feat=len(f), n_filtered=int((~keep).sum()), level=lv)
                                  for a, res in zip(about, parts)])
            del level, vals, fit, paired
            yield f, parts

    fitting = track(each_level(), description="fitting (limma)", show=progress, total=len(_levels(levels)))
    if write:
        write_contrasts(store, pd.DataFrame(about), settings, fitting)
    else:
        collections.deque(fitting, maxlen=0)
    parts = [p for lv in _levels(levels) for p in fitted[lv][0]]
    summary = [row for lv in _levels(levels) for row in fitted[lv][1]]
    fitted.clear()
    return Differential(_summaries(summary), settings, parts)


def _levels(levels: Sequence[str]) -> list[str]:
    """The levels asked for, each once, in the order given (the results' order)."""
    return list(dict.fromkeys(levels))


def _columns(parts: list[dict[str, np.ndarray]], columns: Sequence[str]) -> pd.DataFrame:
    """Tested features of several contrasts (column arrays each) as one frame. Left unconsolidated
    (copy=False): stacking 3M-row columns into blocks took 11 s at 10M edges, and filtering a frame
    (what readers do) never needs it."""
    return pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in columns}, copy=False)


def _prepare(store: Store, *, groups, days, baseline, dose_time, pairs, levels, method, min_cells, min_patients,
             significant_only, progress):
    """The design, the contrasts asked for and the per-sample feature matrices."""
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise InputError(f"unknown level {bad[0]!r} (levels: {', '.join(LEVELS)})")
    if min_patients < 2:
        raise InputError("min_patients must be at least 2 (a paired test needs two patients)")
    design = _design(store, groups=groups, days=days, baseline=baseline, method=method)
    runs = design.runs.copy()
    runs["_row"] = runs.index
    specs = _contrast_specs(design, dose_time=dose_time, pairs=pairs)
    for s in specs:  # each contrast needs patients with both days
        for g in (s[S.GROUP], s[S.REFERENCE]):
            if g is None:
                continue
            gr = runs[runs[S.GROUP] == g]
            n = len(set(gr[gr[S.DAY] == s[S.BASELINE]][S.PATIENT]) & set(gr[gr[S.DAY] == s[S.DAY]][S.PATIENT]))
            s.setdefault("_n", []).append(n)
            if n < min_patients and (groups is not None or days is not None):
                raise InputError(
                    f"group {g!r}: {n} patient(s) have samples on both day {s[S.BASELINE]} and day {s[S.DAY]}; "
                    f"a paired test needs at least {min_patients}"
                    + (" (every sample is its own patient: add a 'patient' column to the manifest, or "
                       "`commgraph infer --patient-key`)" if (runs[S.PATIENT] == runs[S.SAMPLE]).all() else ""))
    specs = [s for s in specs if min(s["_n"]) >= min_patients]
    if not specs:
        unpaired = (runs[S.PATIENT] == runs[S.SAMPLE]).all()
        raise InputError(f"no contrast has {min_patients} patients with samples on both days"
                         + (": the runs name no patients, so no sample pairs with another (add a 'patient' "
                            "column to the manifest, or `commgraph infer --patient-key`)" if unpaired else ""))
    feats = _features(store, design, levels=levels, min_cells=min_cells, significant_only=significant_only,
                      progress=progress)
    X = design_matrix(runs, design.baselines)
    C = pd.DataFrame(0.0, index=X.columns, columns=[s[S.ID] for s in specs])
    for s in specs:
        C.loc[_coef(s[S.GROUP], s[S.DAY]), s[S.ID]] = 1.0
        if s[S.REFERENCE] is not None:
            C.loc[_coef(s[S.REFERENCE], s[S.DAY]), s[S.ID]] = -1.0

    return design, runs, specs, feats, X, C


def model_matrices(store: Store, *, level: str = "interaction", **options) -> dict[str, pd.DataFrame]:
    """What :func:`differential` fits at one level, to check or refit elsewhere (e.g. in R):
    ``values`` (features × samples, after filtering; NaN = missing), ``design`` (samples ×
    coefficients), ``contrasts`` (coefficients × contrasts) and ``features`` (their keys)."""
    opts = {"groups": None, "days": None, "baseline": None, "dose_time": True, "pairs": None, "method": None,
            "min_cells": 10, "min_patients": 2, "significant_only": False, "progress": False, **options}
    design, runs, specs, feats, X, C = _prepare(store, levels=[level], **opts)
    lv = feats[level]
    keep = _keep(lv.values, runs)
    return {"values": pd.DataFrame(lv.values[keep], columns=X.index), "design": X, "contrasts": C,
            "features": lv.features[keep].reset_index(drop=True)}


def _one_contrast(s: dict, paired, f: pd.DataFrame, fit, k: int, pc: float, min_patients: int,
                  min_detection: float, level: str) -> dict[str, np.ndarray]:
    """One contrast's tested features, as columns; ``paired(group, day, baseline)`` is :func:`_paired`
    over the level's values."""
    n, mb, md, detb, detd = paired(s[S.GROUP], s[S.DAY], s[S.BASELINE])
    coef = fit["coef"][:, k] if fit is not None else np.zeros(0)
    t = fit["t"][:, k] if fit is not None else np.zeros(0)
    p = fit["p"][:, k] if fit is not None else np.zeros(0)
    lfc = np.log2((md + pc) / (mb + pc))
    ref_delta = np.full(len(f), np.nan)
    ok = (n >= min_patients) & (np.fmin(detb, detd) >= min_detection)
    if s[S.REFERENCE] is not None:
        n2, mb2, md2, detb2, detd2 = paired(s[S.REFERENCE], s[S.DAY], s[S.BASELINE])
        ok &= (n2 >= min_patients) & (np.fmin(detb2, detd2) >= min_detection)
        lfc = lfc - np.log2((md2 + pc) / (mb2 + pc))
        ref_delta = md2 - mb2
        n = np.minimum(n, n2)
    tested = np.flatnonzero(ok & np.isfinite(t) & np.isfinite(p))  # only these rows are built: at 10M edges,
    # 40 contrasts × every feature as rows of strings was most of the run's time and memory
    m = len(tested)
    out = {c: _constant(s[c], m) for c in (S.KIND, S.GROUP, S.REFERENCE)}
    out[S.CONTRAST_PROP] = _constant(s[S.ID], m)
    out[S.LEVEL] = _constant(level, m)
    out[_FEATURE] = tested
    out[S.DAY], out[S.BASELINE] = np.full(m, s[S.DAY], dtype=np.int64), np.full(m, s[S.BASELINE], dtype=np.int64)
    for c in (S.SOURCE, S.TARGET, S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY):  # a level's missing key: NaN
        out[c] = f[c].to_numpy()[tested] if c in f else np.full(m, np.nan)
    for c, v in ((S.DELTA, coef), (S.REFERENCE_DELTA, ref_delta), (S.LOG2FC, lfc), (S.T_STAT, t), (S.P_PROP, p),
                 (S.MEAN_BASELINE, mb), (S.MEAN_DAY, md), (S.DETECTED_BASELINE, detb), (S.DETECTED_DAY, detd)):
        out[c] = np.asarray(v, dtype=float)[tested]
    out[S.FDR] = _bh(out[S.P_PROP])
    out[S.N_PROP] = n[tested].astype("int64")
    return out


_FEATURE = "_feature"  # a tested row's position in its level's features (for the CHANGED edges' codes)


def _constant(value, m: int) -> np.ndarray:
    """``value`` ``m`` times, as objects (``np.full`` of a string is ~20× slower: 3 s at 10M edges)."""
    out = np.empty(m, dtype=object)
    out.fill(value)
    return out


def _contrast_row(s: dict, design: _Design, runs: pd.DataFrame) -> dict:
    """What a contrast is, known before any fit: its Contrast node's fields."""
    groups = [s[S.GROUP]] + ([s[S.REFERENCE]] if s[S.REFERENCE] else [])
    r = runs[runs[S.GROUP].isin(groups) & runs[S.DAY].isin([s[S.DAY], s[S.BASELINE]])]
    return {S.ID: s[S.ID], S.KIND: s[S.KIND], S.GROUP: s[S.GROUP], S.REFERENCE: s[S.REFERENCE], S.DAY: s[S.DAY],
            S.BASELINE: s[S.BASELINE], S.METHOD: design.method, S.N_PATIENTS: int(sum(s["_n"])),
            "n_samples": len(r), S.RUNS_PROP: ";".join(sorted(r[S.RUN_ID]))}


def _summary_row(about: dict, tested: dict[str, np.ndarray], *, n_feat: int, n_filtered: int, level: str) -> dict:
    called = tested[S.DELTA][tested[S.FDR] < 0.05]
    return {**about, "n_tested": len(tested[S.FDR]), "n_skipped": n_feat - len(tested[S.FDR]),
            "n_filtered": n_filtered, "n_up": int((called > 0).sum()), "n_down": int((called < 0).sum()),
            S.LEVEL: level}


def _summaries(rows: list[dict]) -> pd.DataFrame:
    """One row per contrast; the counts are the interaction level's (others as level:count)."""
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=CONTRAST_COLUMNS + [S.RUNS_PROP])
    first = df.drop_duplicates(S.ID).set_index(S.ID)
    out = df[df[S.LEVEL] == df[S.LEVEL].iloc[0]].set_index(S.ID)
    out = out.reindex(first.index)
    return out.reset_index()[CONTRAST_COLUMNS + [S.RUNS_PROP]]


# --- results into the graph ----------------------------------------------------------------------


def write_contrasts(store: Store, contrasts: pd.DataFrame, settings: dict,
                    levels: Iterable[tuple[pd.DataFrame, list[dict[str, np.ndarray]]]]) -> None:
    """Contrast nodes and CHANGED edges, replacing contrasts of the same ids, all at once.
    ``levels``: each level's features and its tested ones (one column dict per contrast),
    computed as the store asks for them, so that it can write one level while the next is fitted."""
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    c = contrasts
    nodes = pd.DataFrame({
        S.ID: c[S.ID], S.KIND: c[S.KIND], S.GROUP: c[S.GROUP], S.REFERENCE: c[S.REFERENCE],
        S.DAY: c[S.DAY].astype("int64"), S.BASELINE: c[S.BASELINE].astype("int64"), S.METHOD: c[S.METHOD],
        S.N_PATIENTS: c[S.N_PATIENTS].astype("int64"), S.RUNS_PROP: c[S.RUNS_PROP],
        S.SETTINGS: json.dumps(settings, sort_keys=True, default=str), S.COMPUTED_AT: now, S.STALE: False,
    })
    states = set(store.cell_states()[S.KEY_PROP])
    store.write_contrasts(nodes, (_changed_edges(f, parts, states) for f, parts in levels))


def _changed_edges(features: pd.DataFrame, parts: list[dict[str, np.ndarray]], states: set[str]) -> pd.DataFrame:
    """One level's tested features as CHANGED edges (``from``/``to`` CellState keys first).

    Names that repeat on millions of edges go to the engine as categoricals (dictionary
    columns), coded from what they vary with rather than factorized edge by edge (3 s at 10M
    edges): a feature's names by its row in ``features``, a contrast's by its part."""
    parts = [p for p in parts if len(p[_FEATURE])]
    row = np.concatenate([p[_FEATURE] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    part = np.repeat(np.arange(len(parts)), [len(p[_FEATURE]) for p in parts])

    def by_part(*names: str) -> tuple[np.ndarray, list[tuple]]:
        """Each edge's code among the distinct values ``names`` take in the parts, and those values."""
        seen: dict[tuple, int] = {}
        code = np.array([seen.setdefault(tuple(p[n][0] for n in names), len(seen)) for p in parts], dtype=np.int64)
        return code[part], list(seen)

    def strings(name: str) -> pd.Categorical:
        if name in (S.CONTRAST_PROP, S.LEVEL):
            codes, values = by_part(name)
            return pd.Categorical.from_codes(codes, [v for v, in values], validate=False)
        if name not in features:  # a level without this key (pair: no interaction)
            return pd.Categorical.from_codes(np.full(len(row), -1), pd.Index([], dtype=object), validate=False)
        codes, names = pd.factorize(features[name])  # a missing name: -1, a null
        return pd.Categorical.from_codes(codes[row], names, validate=False)

    at, days_groups = by_part(S.DAY, S.GROUP)
    ends = {}
    for end, name in (("from", S.SOURCE), ("to", S.TARGET)):
        types, names = pd.factorize(features[name])
        assert (types >= 0).all(), f"a feature without its {name}"  # every level has both ends
        keys = [S.state_key(t, d, g) for d, g in days_groups for t in names]  # day × group × cell type
        ends[end] = pd.Categorical.from_codes(at * len(names) + types[row], keys, validate=False)
    known = np.logical_and.reduce([np.isin(k.codes, np.flatnonzero(k.categories.isin(states))) for k in ends.values()])
    return pd.DataFrame({**{end: k[known] for end, k in ends.items()},
                         **{name: (strings(name)[known] if type_ == "STRING"
                                   else np.concatenate([p[name] for p in parts])[known] if parts
                                   else np.zeros(0, dtype="int64" if type_ == "INT64" else float))
                            for name, type_ in S.CHANGED_PROPERTIES}},
                        copy=False)  # as the results: no stacking of millions of rows into blocks
