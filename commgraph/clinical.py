"""The study's clinical questions asked of a store: sample sheets joined with the graph.

The statistics live in :mod:`commgraph.associations` (pandas in, pandas out); this module reads
their inputs from a store — clinical values (``Measurement`` records of a sample sheet), the
per-sample cell-type fractions (``COUNTED_IN``) and per-sample communication (``SIGNALS`` of
per-sample runs) — so the same question gives the same answer on either engine.

>>> from commgraph import clinical
>>> clinical.associate(store, score="child_pugh", day=28)                      # doctest: +SKIP
>>> clinical.associate(store, score="child_pugh", day=28, of="sending")        # doctest: +SKIP
>>> clinical.co_variation(store, "MX1+ Mono")                                  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from . import _schema as S
from . import associations as A
from .errors import InputError
from .stores import Store

FEATURES = ("fraction", "sending", "receiving")
_SAMPLE_COLS = [S.SAMPLE, S.PATIENT, S.GROUP, S.DAY]


def clinical_table(store: Store) -> pd.DataFrame:
    """The sample sheets loaded into the store, one row per sample (wide, like the sheet)."""
    from ._transfer import sample_sheet_of

    out = sample_sheet_of(store)
    if out is None:
        raise InputError(f"no clinical values in {store.uri}: load a sample sheet first "
                         "(`commgraph samples load SHEET`)")
    for c in out.columns[len(_SAMPLE_COLS):]:
        num = pd.to_numeric(out[c], errors="coerce")
        if num.notna().sum() == out[c].notna().sum():
            out[c] = num
    return out


def features(store: Store, of: str = "fraction", *, cell_types: Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy per-sample features (sample, patient, group, day, feature, value).

    ``fraction``: each cell type's share of the sample's cells; ``sending``/``receiving``: each
    cell type's summed score as sender / receiver in the sample's run (per-sample runs only).
    """
    if of == "fraction":
        c = store.sample_counts()
        if c.empty:
            raise InputError(f"no per-sample cell counts in {store.uri}: load runs with a sample and cell_counts")
        out = c.rename(columns={S.CELL_TYPE_PROP: "feature", S.FRACTION: "value"})
    elif of in ("sending", "receiving"):
        side = S.SOURCE if of == "sending" else S.TARGET
        samples = store.samples().set_index(S.SAMPLE)
        runs = store.runs()
        runs = runs[runs[S.SAMPLE].isin(samples.index)]
        if runs.empty:
            raise InputError(f"no per-sample runs in {store.uri}")
        if runs[S.METHOD].nunique() > 1:
            raise InputError(f"per-sample runs of several methods ({', '.join(sorted(runs[S.METHOD].unique()))}): "
                             "sum one method's scores at a time")
        parts = []
        for run_id, sample in zip(runs[S.RUN_ID], runs[S.SAMPLE]):
            e = store.signals(run_id)
            part = e.groupby(side, observed=True)[S.SCORE].sum().rename("value").rename_axis("feature").reset_index()
            part[S.SAMPLE] = sample
            parts.append(part)
        out = pd.concat(parts, ignore_index=True).merge(samples[[S.PATIENT, S.GROUP, S.DAY]], left_on=S.SAMPLE,
                                                        right_index=True)
    else:
        raise InputError(f"unknown feature kind {of!r} (one of {', '.join(FEATURES)})")
    if cell_types is not None:
        out = out[out["feature"].isin(cell_types)]
    return out[_SAMPLE_COLS + ["feature", "value"]].reset_index(drop=True)


def associate(store: Store, *, score: str, day: int, baseline: int = 0, of: str = "fraction", change: bool = True,
              groups: Sequence[str] | None = None, cell_types: Sequence[str] | None = None, **options) -> pd.DataFrame:
    """Across patients, Spearman's rho between a clinical score's change (day vs baseline) and
    each feature's change (see :func:`commgraph.associations.associate`)."""
    return A.associate(clinical_table(store), features(store, of, cell_types=cell_types), score=score, day=day,
                       baseline=baseline, change=change, groups=groups, **options)


def co_variation(store: Store, cell_type: str, *, groups: Sequence[str] | None = None, **options) -> pd.DataFrame:
    """One cell type's fraction against every other's across patients and days
    (see :func:`commgraph.associations.co_variation`)."""
    return A.co_variation(features(store, "fraction"), cell_type, groups=groups, **options)


def responders(store: Store, *, score: str, day: int, threshold: float, baseline: int = 0, of: str = "fraction",
               groups: Sequence[str] | None = None, **options) -> pd.DataFrame:
    """Patients whose score improved by at least ``threshold`` against the others, each feature's
    change compared (see :func:`commgraph.associations.responders`)."""
    return A.responders(clinical_table(store), features(store, of), score=score, day=day, threshold=threshold,
                        baseline=baseline, groups=groups, **options)
