"""Clinical associations across patients: pandas in, pandas out, no store.

Inputs are tidy frames, one row per sample (a library: one patient on one day):

``clinical``
    ``sample, patient, group, day`` and one column per clinical score (a sample sheet, see
    :func:`commgraph.read_sample_sheet`).
``features``
    ``sample, patient, group, day, feature, value``: a cell type's fraction, a cell type's
    summed sending or receiving score, one ligand–receptor feature, ... (``cell_type`` and
    ``fraction`` are accepted for ``feature`` and ``value``).

The questions (issue 13):

* :func:`associate` — across patients, Spearman's rho between the change of a clinical score
  (day vs baseline) and the change of each feature, a permutation p-value
  (:func:`scipy.stats.permutation_test`, pairings; exact when n! is below ``n_perm``) and BH FDR
  across the features tested; ``change=False`` correlates the levels on one day.
* :func:`co_variation` — across patients and days, one cell type's fraction against every
  other's (see the function for the treatment of repeated measures).
* :func:`responders` — patients split by a threshold on a clinical change; each feature's
  change compared between responders and the others (Mann–Whitney U, BH).

Every result carries ``attrs["params"]``, the arguments that made it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from . import _schema as S
from ._samples import PATIENT
from .errors import InputError

__all__ = ["associate", "co_variation", "responders"]

FEATURE, VALUE = "feature", "value"
_KEYS = (S.SAMPLE, PATIENT, S.GROUP, S.DAY)


# --- inputs ----------------------------------------------------------------------------------


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    for col in columns:
        if col not in frame.columns:
            raise InputError(f"missing column {col!r} (want {', '.join(columns)})", file=f"<{what}>", column=col)


def _tidy_features(features: pd.DataFrame, what: str = "features") -> pd.DataFrame:
    if FEATURE not in features.columns and S.CELL_TYPE_PROP in features.columns:
        features = features.rename(columns={S.CELL_TYPE_PROP: FEATURE})
    if VALUE not in features.columns and S.FRACTION in features.columns:
        features = features.rename(columns={S.FRACTION: VALUE})
    _need(features, (PATIENT, S.DAY, FEATURE, VALUE), what)
    out = features[[c for c in (*_KEYS, FEATURE, VALUE) if c in features.columns]].copy()
    out[VALUE] = pd.to_numeric(out[VALUE], errors="coerce").astype("float64")
    dup = out.duplicated([PATIENT, S.DAY, FEATURE])
    if dup.any():
        r = out[dup].iloc[0]
        raise InputError(f"two values for patient {r[PATIENT]!r}, day {r[S.DAY]}, feature {r[FEATURE]!r}",
                         file=f"<{what}>", column=FEATURE, row=int(np.flatnonzero(dup.to_numpy())[0]) + 1)
    return out


def _in_groups(frame: pd.DataFrame, groups: Sequence[str] | None) -> pd.DataFrame:
    if groups is None or S.GROUP not in frame.columns:
        return frame
    return frame[frame[S.GROUP].astype(str).isin([str(g) for g in groups])]


def _clinical_values(clinical: pd.DataFrame, score: str, *, day: int, baseline: int, change: bool,
                     groups: Sequence[str] | None) -> pd.Series:
    """Per patient: the score's change (day minus baseline) or its level on ``day``; missing dropped."""
    _need(clinical, (PATIENT, S.DAY, score), "clinical")
    c = _in_groups(clinical, groups)
    c = pd.DataFrame({PATIENT: c[PATIENT], S.DAY: c[S.DAY].astype("int64"),
                      "v": pd.to_numeric(c[score], errors="coerce").astype("float64")})
    dup = c.duplicated([PATIENT, S.DAY])
    if dup.any():
        r = c[dup].iloc[0]
        raise InputError(f"two {score!r} values for patient {r[PATIENT]!r} on day {r[S.DAY]}", file="<clinical>",
                         column=score, row=int(np.flatnonzero(dup.to_numpy())[0]) + 1)
    wide = c.pivot(index=PATIENT, columns=S.DAY, values="v")
    return _by_day(wide, day=day, baseline=baseline, change=change)


def _by_day(wide: pd.DataFrame, *, day: int, baseline: int, change: bool) -> pd.Series:
    at = wide[day] if day in wide.columns else pd.Series(np.nan, index=wide.index)
    if not change:
        return at
    base = wide[baseline] if baseline in wide.columns else pd.Series(np.nan, index=wide.index)
    return at - base


def _feature_values(features: pd.DataFrame, *, day: int, baseline: int, change: bool) -> pd.DataFrame:
    """Patients x features: each feature's change (or level) per patient."""
    names = pd.Index(pd.unique(features[FEATURE]))
    patients = pd.Index(pd.unique(features[PATIENT]))

    def on(d):
        f = features[features[S.DAY].astype("int64") == d]
        return f.pivot(index=PATIENT, columns=FEATURE, values=VALUE).reindex(index=patients, columns=names)

    return on(day) - on(baseline) if change else on(day)


# --- statistics ------------------------------------------------------------------------------


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg over the finite p-values; NaN stays NaN."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def _rank_corr(x, y, axis=-1):
    """Spearman's rho along ``axis`` (vectorised, for permutation_test)."""
    from scipy.stats import rankdata

    rx = rankdata(x, axis=axis)
    ry = rankdata(y, axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=axis) / np.sqrt((rx * rx).sum(axis=axis) * (ry * ry).sum(axis=axis))


def _spearman_permutation(x, y, *, n_perm: int = 9999, rng=None) -> tuple[float, float]:
    """Spearman's rho (scipy.stats.spearmanr) and its two-sided permutation p-value.

    The p-value is :func:`scipy.stats.permutation_test` over pairings, permuting ``x`` against a
    fixed ``y`` (so there are ``n!`` pairings, and the test is exact when ``n!`` is at most
    ``n_perm``; as scipy's own Spearman example); NaN when either side is constant.
    """
    from scipy.stats import permutation_test, spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rho = float(spearmanr(x, y).statistic)
    if not np.isfinite(rho):
        return np.nan, np.nan
    res = permutation_test((x,), lambda xs, axis=-1: _rank_corr(xs, y, axis=axis), permutation_type="pairings",
                           vectorized=True, n_resamples=n_perm, alternative="two-sided", rng=rng)
    return rho, float(res.pvalue)


# --- questions -------------------------------------------------------------------------------


def associate(clinical: pd.DataFrame, features: pd.DataFrame, *, score: str, day: int, baseline: int = 0,
              change: bool = True, groups: Sequence[str] | None = None, n_perm: int = 9999,
              seed: int | None = 0) -> pd.DataFrame:
    """Across patients, Spearman's rho between a clinical score and each feature.

    With ``change=True`` both sides are per-patient changes (``day`` minus ``baseline``); with
    ``change=False`` the levels on ``day``.  Only patients of ``groups`` (default: all) count;
    a patient missing either side of a feature is dropped from that feature and counted in
    ``n_dropped`` (healthy donors, sampled once and not scored, count there unless ``groups``
    leaves them out).  Raises :class:`InputError` when fewer than 3 patients have the clinical side;
    a feature with fewer than 3 patients gets NaN.

    Returns one row per feature, by p-value: ``feature, rho, p, fdr, n_patients, n_dropped``
    (``p``: permutation, two-sided; ``fdr``: Benjamini–Hochberg over the features tested).

    >>> cg.associate(sheet, fractions, score="child_pugh", day=28)   # doctest: +SKIP
    """
    clin = _clinical_values(clinical, score, day=day, baseline=baseline, change=change, groups=groups).dropna()
    what = f"{score} {'change, day ' + str(day) + ' vs ' + str(baseline) if change else 'on day ' + str(day)}"
    if len(clin) < 3:
        raise InputError(f"{len(clin)} patient(s) have the {what}; an association needs at least 3",
                         file="<clinical>", column=score)
    feats = _feature_values(_in_groups(_tidy_features(features), groups), day=day, baseline=baseline, change=change)
    rng = np.random.default_rng(seed)
    patients = set(clin.index) | set(feats.index)
    rows = []
    for name in feats.columns:
        pair = pd.concat([clin.rename("c"), feats[name].rename("f")], axis=1, join="inner").dropna()
        n = len(pair)
        rho, p = _spearman_permutation(pair["c"], pair["f"], n_perm=n_perm, rng=rng) if n >= 3 else (np.nan, np.nan)
        rows.append({FEATURE: name, "rho": rho, "p": p, "n_patients": n, "n_dropped": len(patients) - n})
    out = pd.DataFrame(rows, columns=[FEATURE, "rho", "p", "n_patients", "n_dropped"])
    out.insert(3, "fdr", _bh(out["p"].to_numpy()))
    out = out.sort_values(["p", FEATURE], na_position="last", kind="stable").reset_index(drop=True)
    out.attrs["params"] = {"question": "associate", "score": score, "day": day, "baseline": baseline,
                           "change": change, "groups": None if groups is None else list(groups),
                           "method": "spearman", "p": f"permutation ({n_perm} resamples, pairings)",
                           "correction": "fdr_bh", "seed": seed}
    return out


def co_variation(fractions: pd.DataFrame, cell_type: str, *, groups: Sequence[str] | None = None,
                 days: Sequence[int] | None = None, n_perm: int = 9999, seed: int | None = 0) -> pd.DataFrame:
    """Across patients and days, one cell type's fraction against every other cell type's.

    Repeated measures: each patient's values are centred on that patient's mean over the days
    used, and Spearman's rho is taken over all (patient, day) pairs of centred values.  Centring
    removes the between-patient level (disease severity, dose group, a patient's own baseline)
    that would otherwise make two cell types correlate just because some patients have more of
    both; what stays is how the two fractions move together over time within patients — the
    trial's claim.  The p-value permutes the partner's values across days *within* each
    patient (restricted permutations: under the null, only a patient's own days are
    exchangeable), so it respects the blocks; scipy's ``permutation_test`` has no blocked
    design, so the permutations are drawn here and the statistic is scipy's Spearman.
    Patients with fewer than two days are left out.  Fractions are compositional (they sum to
    1), which pulls correlations slightly negative: read a weak negative rho with care.

    Returns one row per other cell type, by p-value:
    ``feature, rho, p, fdr, n_patients, n_observations``.
    """
    from scipy.stats import rankdata, spearmanr

    f = _in_groups(_tidy_features(fractions, "fractions"), groups)
    if days is not None:
        f = f[f[S.DAY].astype("int64").isin([int(d) for d in days])]
    wide = f.pivot_table(index=[PATIENT, S.DAY], columns=FEATURE, values=VALUE, aggfunc="first", observed=True)
    if cell_type not in wide.columns:
        raise InputError(f"no cell type {cell_type!r} (have: {', '.join(map(str, wide.columns))})",
                         file="<fractions>", column=FEATURE)
    wide = wide[wide[cell_type].notna()]
    n_days = wide.groupby(level=PATIENT).size()
    wide = wide[wide.index.get_level_values(PATIENT).isin(n_days[n_days >= 2].index)]
    if wide.index.get_level_values(PATIENT).nunique() < 3:
        raise InputError(f"fewer than 3 patients have {cell_type!r} on two or more days", file="<fractions>",
                         column=FEATURE)
    rng = np.random.default_rng(seed)
    rows = []
    for other in (c for c in wide.columns if c != cell_type):
        # each patient centred over the days it has both cell types
        both = wide[[cell_type, other]].dropna()
        keep = both.groupby(level=PATIENT).size()
        both = both[both.index.get_level_values(PATIENT).isin(keep[keep >= 2].index)]
        pair = both - both.groupby(level=PATIENT).transform("mean")
        n_pat = pair.index.get_level_values(PATIENT).nunique()
        if n_pat < 3:
            rows.append({FEATURE: other, "rho": np.nan, "p": np.nan, "n_patients": n_pat,
                         "n_observations": len(pair)})
            continue
        x, y = pair[cell_type].to_numpy(), pair[other].to_numpy()
        rho = float(spearmanr(x, y).statistic)
        p = np.nan
        if np.isfinite(rho):
            blocks = pd.factorize(pair.index.get_level_values(PATIENT))[0]
            null = _rank_corr(rankdata(x)[None, :], rankdata(y)[_within_blocks(blocks, n_perm, rng)])
            p = float((1 + np.sum(np.abs(null) >= abs(rho) * (1 - 1e-12))) / (n_perm + 1))
        rows.append({FEATURE: other, "rho": rho, "p": p, "n_patients": n_pat, "n_observations": len(pair)})
    out = pd.DataFrame(rows, columns=[FEATURE, "rho", "p", "n_patients", "n_observations"])
    out.insert(3, "fdr", _bh(out["p"].to_numpy()))
    out = out.sort_values(["p", FEATURE], na_position="last", kind="stable").reset_index(drop=True)
    out.attrs["params"] = {"question": "co_variation", "cell_type": cell_type,
                           "groups": None if groups is None else list(groups),
                           "days": None if days is None else list(days), "method": "spearman, within-patient centred",
                           "p": f"permutation within patients ({n_perm} resamples)", "correction": "fdr_bh",
                           "seed": seed}
    return out


def _within_blocks(blocks: np.ndarray, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """``n_perm`` index permutations (rows) that move items only within their block."""
    order = np.argsort(blocks, kind="stable")
    keys = blocks[order][None, :] + rng.random((n_perm, len(blocks)))  # block id + U(0,1): sorts within blocks
    perm = order[np.argsort(keys, axis=1)]
    out = np.empty_like(perm)
    out[:, order] = perm  # item at position order[k] takes a random item of its own block
    return out


def responders(clinical: pd.DataFrame, features: pd.DataFrame, *, score: str, day: int, threshold: float,
               better: str = "lower", baseline: int = 0, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Responders vs the others: each feature's change compared by Mann–Whitney U.

    A patient responds when the score improved by at least ``threshold`` from ``baseline`` to
    ``day`` (``better="lower"``: fell by ``threshold`` or more, as Child-Pugh or MELD;
    ``"higher"``: rose, as albumin).  Each feature's change over the same days is compared
    between responders and the others (:func:`scipy.stats.mannwhitneyu`, two-sided; exact for
    small samples without ties), BH FDR across features.

    Returns one row per feature, by p-value: ``feature, n_responders, n_others,
    median_responders, median_others, difference`` (responders minus others, medians),
    ``u`` (the responders' U), ``p``, ``fdr``.
    """
    from scipy.stats import mannwhitneyu

    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")
    clin = _clinical_values(clinical, score, day=day, baseline=baseline, change=True, groups=groups).dropna()
    improved = -clin if better == "lower" else clin
    is_resp = improved >= threshold
    if is_resp.all() or not is_resp.any():
        raise InputError(f"all {len(clin)} patients fall on one side of the threshold "
                         f"({score} {'fell' if better == 'lower' else 'rose'} by >= {threshold} from day {baseline} "
                         f"to {day}: {int(is_resp.sum())})", file="<clinical>", column=score)
    feats = _feature_values(_in_groups(_tidy_features(features), groups), day=day, baseline=baseline, change=True)
    rows = []
    for name in feats.columns:
        v = feats[name].reindex(clin.index).dropna()
        a, b = v[is_resp.reindex(v.index)], v[~is_resp.reindex(v.index)]
        row = {FEATURE: name, "n_responders": len(a), "n_others": len(b),
               "median_responders": a.median() if len(a) else np.nan,
               "median_others": b.median() if len(b) else np.nan, "u": np.nan, "p": np.nan}
        if len(a) and len(b):
            res = mannwhitneyu(a.to_numpy(), b.to_numpy(), alternative="two-sided")
            row["u"], row["p"] = float(res.statistic), float(res.pvalue)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[FEATURE, "n_responders", "n_others", "median_responders", "median_others",
                                      "u", "p"])
    out.insert(5, "difference", out["median_responders"] - out["median_others"])
    out["fdr"] = _bh(out["p"].to_numpy())
    out = out.sort_values(["p", FEATURE], na_position="last", kind="stable").reset_index(drop=True)
    out.attrs["params"] = {"question": "responders", "score": score, "day": day, "baseline": baseline,
                           "threshold": threshold, "better": better,
                           "groups": None if groups is None else list(groups),
                           "n_responders": int(is_resp.sum()), "n_others": int((~is_resp).sum()),
                           "method": "mannwhitneyu, two-sided", "correction": "fdr_bh"}
    return out
