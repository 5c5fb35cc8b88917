"""Simulated single-cell data for demos and tests.

:func:`simulate_msc_study` simulates peripheral blood mononuclear cell (PBMC)
single-cell RNA counts from a clinical study of mesenchymal stromal cell (MSC)
infusion in decompensated cirrhosis: healthy donors sampled once (day 0) and
patients in a ``low`` and a ``high`` dose group sampled on several days (or
the trial's own designs, :data:`STUDY_DESIGNS`), with a sample sheet of
clinical scores per patient and day (:func:`sample_sheet`).

A few cell-cell communication effects are planted in the data (see
:data:`PLANTED_EFFECTS`, :data:`PLANTED_COMPOSITION_EFFECTS` and, for the
clinical side, :data:`PLANTED_CLINICAL_EFFECTS`), chosen so that
a ligand-receptor inference with LIANA+ and its ``consensus`` resource, run
separately per ``day x group`` split, recovers them.  The constants describe the
effects as data so that a demo can phrase claims from them; whether a claim
holds has to be checked on inference output, not by reading the simulator.

Layout of the returned :class:`anndata.AnnData`
------------------------------------------------

``X``
    ``scipy.sparse.csr_matrix`` of ``float32``: log-normalised expression,
    ``log1p(counts / total_counts_per_cell * 1e4)`` (natural log), which is what
    LIANA+ methods expect.  There is no ``.raw``: call LIANA with
    ``use_raw=False``.
``layers["counts"]``
    ``scipy.sparse.csr_matrix`` of ``int32``: the raw simulated UMI counts.
``obs``
    ``cell_type`` (categorical, categories in :data:`CELL_TYPES` order),
    ``day`` (int64), ``group`` (categorical, categories :data:`GROUPS` =
    ``healthy``, ``low``, ``high``), ``sample`` (categorical donor / patient
    id: ``H01``.. for healthy donors, ``P01``.. for patients, low-dose patients
    first), ``library`` (categorical, one sequencing sample = donor x day, e.g.
    ``P04_d7``), ``n_counts`` (int64, total counts per cell).  obs_names are
    ``<library>_<i>``.
``var``
    index = gene symbols; ``gene_class`` (categorical: ``lr`` = gene of the
    LIANA ``consensus`` resource, complexes split into subunits; ``marker``;
    ``background``).
``uns["simulation"]``
    the arguments used (``n_cells``, ``n_patients_per_group``, ``n_healthy``,
    ``days``, ``seed``, ``effects``, ``groups``, ``dosing_days``);
    ``uns["log1p"] = {"base": None}`` as scanpy writes it.
``uns["sample_sheet"]``
    one row per library: ``sample`` (= ``library``), ``patient``, ``day``,
    ``group``, ``child_pugh``, ``meld`` (nullable ints), ``albumin`` (g/L);
    healthy donors are not scored (missing values).  Read it with
    :func:`sample_sheet`.

Everything random is drawn from generators spawned from
``numpy.random.SeedSequence(seed)`` (one each for the mean profiles, the
composition, the counts, and the patients: their own MX1+ response and
clinical scores), so the same arguments give identical counts
(and the same genes, cells and obs).  The genes do not depend on the seed; the
per-cell-type mean profiles of the non-planted genes do.

How the effects are planted
---------------------------

* Composition: patients have more monocytes and B cells and fewer T and NK
  cells than healthy donors; in patients the ``MX1+ Mono`` fraction rises on
  day 3, dips on day 7 and is back at the day-0 level by day 28, more so at the
  high dose.  On top, each patient has an own MX1+ Mono fold (log2 sd 0.8,
  reached by day 14 and kept; centred within the group so the pooled course
  stays the planted one).  ``CD8 Effector T`` and ``Memory B`` move against,
  ``Naive B`` with, the MX1+ Mono fold (0.4-0.5 log2 per log2): the
  co-variation the trial reported.  ``Treg`` halve on days 3 and 7 in every
  patient group.  Each library's composition is Dirichlet-distributed around
  the expected one, and its cell-type counts multinomial.
* Clinical scores (patients only): baseline Child-Pugh ~9.5, MELD ~16,
  albumin ~29 g/L; a patient's improvement grows to its full size by day 28:
  ``2.5 * dose_weight - 2 * (own MX1+ log2 fold, centred in the group)``
  Child-Pugh points (plus a per-patient term, sd 0.3), MELD falling 1.5 and
  albumin rising 1.5 g/L per Child-Pugh point; visit noise on each score.
  So the higher dose improves more, and a patient whose MX1+ monocytes stay
  low improves more (Child-Pugh change and MX1+ fraction change correlate
  positively across patients).
* Signalling: the planted ligands are multiplied in ``MX1+ Mono`` of patients
  by ``2 ** (+-3.5 * dose_weight * time_weight(day))`` with dose weights
  ``low`` 0.45, ``high`` 1 and time weights 0, 0.25, 1, 0.4, 0.05 on days 0, 3,
  7, 14, 28 (linear in between, 0 from day 60).  Every interaction of these
  ligands sent by ``MX1+ Mono`` changes, not only the listed pairs.  Receptors
  and all other genes do not change with day or dose.
* Counts: gamma-Poisson (negative binomial, dispersion ~0.3) around
  ``mean profile x donor/library deviation x per-cell size factor``.

Recovered with LIANA+ 1.10 (``resource_name="consensus"``, ``expr_prop=0.1``,
``use_raw=False``) per ``day x group`` split: CellPhoneDB ``lr_means`` (higher
= stronger) shows every planted direction, dose order and time course; the
rank_aggregate ``magnitude_rank`` (lower = stronger, in (0, 1]) shows the
directions, but it saturates near 0, so compare sizes of changes (dose, day
14 vs day 7) on ``lr_means`` or on ``-log10(magnitude_rank)``, not on raw
``magnitude_rank`` differences.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "CELL_TYPES",
    "GROUPS",
    "DEFAULT_DAYS",
    "PLANTED_EFFECTS",
    "PLANTED_COMPOSITION_EFFECTS",
    "PLANTED_CLINICAL_EFFECTS",
    "DEFAULT_GROUPS",
    "STUDY_DESIGNS",
    "CLINICAL_SCORES",
    "simulate_msc_study",
    "sample_sheet",
]

#: Cell types, in the order of the ``cell_type`` categories.
CELL_TYPES: tuple[str, ...] = (
    "MX1+ Mono",
    "CD14 Mono",
    "LGALS2+ Mono",
    "CD16 Mono",
    "Treg",
    "CD4 Naive T",
    "CD4 Effector T",
    "CD8 Naive T",
    "CD8 Effector T",
    "Naive B",
    "Memory B",
    "NK",
)

#: Values of ``obs["group"]``, in category order.
GROUPS: tuple[str, ...] = ("healthy", "low", "high")

#: Default sampling days of the patients (healthy donors: day 0 only).
DEFAULT_DAYS: tuple[int, ...] = (0, 3, 7, 14, 28)

#: Default patient groups and their dose weights: the size of every planted
#: change with dose, as a fraction of the top dose's (on the log scale for the
#: ligands and the composition, in points for the clinical improvement).
DEFAULT_GROUPS: dict[str, float] = {"low": 0.45, "high": 1.0}

#: The trial's own designs, as keyword arguments of :func:`simulate_msc_study`
#: (``simulate_msc_study(**STUDY_DESIGNS["phase_ia"])``).  Phase Ia: four dose
#: levels (cells per infusion), one infusion on day 0, sampled on days 3, 7, 14
#: and 28.  Phase Ib: multi-dose arms, infusions on days 0, 7, 14 and 21 (each
#: sample taken before that day's infusion), sampled on days 7, 14, 21 and 28;
#: the two Ib arm doses here are illustrative.  Dose weights are dose / top dose.
STUDY_DESIGNS: dict[str, dict] = {
    "phase_ia": {"groups": {"5.0e7": 0.25, "1.0e8": 0.5, "1.5e8": 0.75, "2.0e8": 1.0},
                 "days": (0, 3, 7, 14, 28), "dosing_days": (0,)},
    "phase_ib": {"groups": {"1.0e8 x4": 0.5, "2.0e8 x4": 1.0},
                 "days": (0, 7, 14, 21, 28), "dosing_days": (0, 7, 14, 21)},
}

#: Clinical columns of the simulated sample sheet: Child-Pugh score (integer,
#: 5-15), MELD score (integer, 6-40), serum albumin (g/L, one decimal).  Lower
#: Child-Pugh and MELD and higher albumin are better.
CLINICAL_SCORES: tuple[str, ...] = ("child_pugh", "meld", "albumin")

_MONO = ("MX1+ Mono", "CD14 Mono", "LGALS2+ Mono", "CD16 Mono")
_T = ("Treg", "CD4 Naive T", "CD4 Effector T", "CD8 Naive T", "CD8 Effector T")
_B = ("Naive B", "Memory B")
_NK = ("NK",)
_LINEAGE = {**{c: "mono" for c in _MONO}, **{c: "t" for c in _T},
            **{c: "b" for c in _B}, **{c: "nk" for c in _NK}}

_SENDER = "MX1+ Mono"

#: Ligand-receptor effects planted in the sender ``MX1+ Mono`` of patients
#: after dosing.  ``ligand``/``receptor`` are spelled exactly as LIANA's
#: ``ligand_complex``/``receptor_complex`` columns spell them with the
#: ``consensus`` resource.  ``direction`` is the change of the interaction's
#: magnitude (e.g. CellPhoneDB ``lr_means``) versus the same dose group on
#: day 0: it is largest on ``peak_day``, weaker on ``weaker_day``, back near
#: day 0 by ``recovery_day``, and larger in the ``high`` than in the ``low``
#: dose group.  It is planted by changing the ligand's expression in the sender
#: only; the receptors are expressed in the ``receivers`` at every time point,
#: so the interaction is detected on day 0 as well (and in healthy donors).
PLANTED_EFFECTS: tuple[dict, ...] = tuple(
    {
        "ligand": lig,
        "receptor": rec,
        "sender": _SENDER,
        "receivers": tuple(receivers),
        "direction": direction,
        "peak_day": 7,
        "weaker_day": 14,
        "recovery_day": 28,
        "stronger_dose": "high",
        "weaker_dose": "low",
        "pathway": pathway,
    }
    for lig, rec, receivers, direction, pathway in [
        ("ICAM1", "ITGAL_ITGB2",
         ("CD4 Effector T", "CD8 Effector T", "NK"), "down", "ICAM"),
        ("APP", "CD74",
         ("Naive B", "Memory B", "CD14 Mono"), "down", "APP"),
        ("LGALS9", "HAVCR2",
         ("NK", "CD8 Effector T", "CD14 Mono"), "down", "GALECTIN"),
        ("LGALS9", "CD44",
         ("CD4 Effector T", "CD8 Effector T", "NK"), "down", "GALECTIN"),
        ("LGALS9", "PTPRC",
         ("CD4 Naive T", "Naive B", "NK"), "down", "GALECTIN"),
        ("RETN", "CAP1",
         ("CD14 Mono", "CD16 Mono", "LGALS2+ Mono"), "down", "RESISTIN"),
        ("CD86", "CTLA4",
         ("Treg",), "up", "CD86"),
        ("IL16", "CD4",
         ("CD4 Naive T", "CD4 Effector T", "Treg"), "up", "IL16"),
        ("ANXA1", "FPR1",
         ("LGALS2+ Mono",), "up", "ANNEXIN"),
    ]
)

#: Cell-composition effects.  Each compares the summed fraction of
#: ``cell_types`` among all cells of a ``day x group`` split (donors pooled)
#: with a reference split: ``direction`` is the change from ``reference`` to
#: the split.  ``stronger_dose`` (if present) means the fold change is larger
#: in that dose group.  Baseline effects hold for the lineage totals; single
#: small cell types may deviate by chance.
PLANTED_COMPOSITION_EFFECTS: tuple[dict, ...] = (
    {"name": "baseline monocytes up", "cell_types": _MONO,
     "groups": ("low", "high"), "day": 0, "reference": ("healthy", 0),
     "direction": "up"},
    {"name": "baseline B cells up", "cell_types": _B,
     "groups": ("low", "high"), "day": 0, "reference": ("healthy", 0),
     "direction": "up"},
    {"name": "baseline T cells down", "cell_types": _T,
     "groups": ("low", "high"), "day": 0, "reference": ("healthy", 0),
     "direction": "down"},
    {"name": "baseline NK cells down", "cell_types": _NK,
     "groups": ("low", "high"), "day": 0, "reference": ("healthy", 0),
     "direction": "down"},
    {"name": "MX1+ Mono up on day 3", "cell_types": ("MX1+ Mono",),
     "groups": ("low", "high"), "day": 3, "reference": ("same group", 0),
     "direction": "up", "stronger_dose": "high"},
    {"name": "MX1+ Mono down on day 7", "cell_types": ("MX1+ Mono",),
     "groups": ("low", "high"), "day": 7, "reference": ("same group", 0),
     "direction": "down", "stronger_dose": "high"},
    {"name": "MX1+ Mono recovering by day 28", "cell_types": ("MX1+ Mono",),
     "groups": ("low", "high"), "day": 28, "reference": ("same group", 7),
     "direction": "up"},
)

#: The trial's clinical and biomarker shape, planted in patients (see
#: :func:`simulate_msc_study`; none of it with ``effects=False``).  ``dose``:
#: by ``day``, each score changed from ``baseline`` in ``direction`` (lower
#: Child-Pugh and MELD, higher albumin = improvement), more in groups with a
#: larger dose weight (``high`` vs ``low`` in the default design).
#: ``association``: across patients, the change of ``score`` (day vs baseline)
#: rises with the change of the ``cell_type``'s fraction (Spearman rho > 0):
#: patients whose Child-Pugh fell most kept MX1+ monocytes low.
#: ``composition``: the fraction of ``cell_types`` in every patient group on
#: ``days`` vs day 0.  ``co_variation``: within patients, across days, the
#: ``partner``'s fraction moves with (``positive``) or against (``negative``)
#: the ``cell_type``'s.
PLANTED_CLINICAL_EFFECTS: tuple[dict, ...] = (
    {"name": "more improvement at the higher dose by day 28", "kind": "dose",
     "scores": {"child_pugh": "down", "meld": "down", "albumin": "up"},
     "day": 28, "baseline": 0, "stronger_dose": "high", "weaker_dose": "low"},
    {"name": "Child-Pugh change tracks the MX1+ Mono fraction change", "kind": "association",
     "score": "child_pugh", "cell_type": "MX1+ Mono", "day": 28, "baseline": 0,
     "direction": "positive"},
    {"name": "Treg down on days 3 and 7", "kind": "composition", "cell_types": ("Treg",),
     "days": (3, 7), "reference": ("same group", 0), "direction": "down"},
    *({"name": f"MX1+ Mono fraction co-varies {d}ly with {p}", "kind": "co_variation",
       "cell_type": "MX1+ Mono", "partner": p, "direction": d}
      for p, d in (("CD8 Effector T", "negative"), ("Naive B", "positive"),
                   ("Memory B", "negative"))),
)

# --------------------------------------------------------------------------
# simulation parameters (the "biology")

# healthy PBMC composition (fractions, sum 1)
_HEALTHY_FRACTIONS = {
    "MX1+ Mono": 0.05, "CD14 Mono": 0.11, "LGALS2+ Mono": 0.04,
    "CD16 Mono": 0.04, "Treg": 0.07, "CD4 Naive T": 0.13,
    "CD4 Effector T": 0.11, "CD8 Naive T": 0.07, "CD8 Effector T": 0.10,
    "Naive B": 0.07, "Memory B": 0.05, "NK": 0.16,
}
# patients vs healthy on day 0 (multiplicative, before renormalising)
_PATIENT_LINEAGE_FOLD = {"mono": 1.8, "b": 1.6, "t": 0.7, "nk": 0.55}
# log2 fold of the MX1+ Mono fraction vs day 0, at the high dose, by day
_MX1_FRACTION_KNOTS = ((0, 3, 7, 14, 28, 60), (0.0, 1.3, -1.8, -0.6, 0.0, 0.0))
# time course of the ligand effects (fraction of the day-7 effect)
_LR_TIME_KNOTS = ((0, 3, 7, 14, 28, 60), (0.0, 0.25, 1.0, 0.4, 0.05, 0.0))
# per-patient MX1+ Mono response: sd (log2) of a patient's own fraction fold,
# reached by day 14 and kept (the fraction of it, by day)
_MX1_PATIENT_SD = 0.8
_MX1_PATIENT_KNOTS = ((0, 3, 7, 14, 28, 60), (0.0, 0.2, 0.6, 1.0, 1.0, 1.0))
# cell types whose fraction moves with the MX1+ Mono fold (log2 per log2)
_MX1_COUPLING = {"CD8 Effector T": -0.4, "Naive B": 0.5, "Memory B": -0.4}
# log2 fold of the Treg fraction vs day 0, every patient group, by day
_TREG_KNOTS = ((0, 3, 7, 14, 28, 60), (0.0, -1.0, -1.0, -0.3, 0.0, 0.0))
# clinical: baseline mean and sd per score (decompensated cirrhosis), the
# improvement (Child-Pugh points) at dose weight 1 and its time course, the
# Child-Pugh points per log2 of the patient's MX1+ fold, the sd of a patient's
# own improvement, the other scores per Child-Pugh point and visit noise
_CLIN_BASELINE = {"child_pugh": (9.5, 1.3), "meld": (16.0, 4.0), "albumin": (29.0, 4.0)}
_CLIN_RANGE = {"child_pugh": (5, 15), "meld": (6, 40), "albumin": (15.0, 55.0)}
_CP_GAIN = 4.0  # Child-Pugh points by day 28 at the high dose: visible against the patients' own MX1+ spread with 4 per group
_CLIN_KNOTS = ((0, 3, 7, 14, 28, 60), (0.0, 0.1, 0.3, 0.6, 1.0, 1.0))
_CP_PER_MX1_LOG2 = 2.0
_CLIN_PATIENT_SD = 0.3
_CLIN_PER_CP = {"child_pugh": -1.0, "meld": -1.5, "albumin": 1.5}
_CLIN_VISIT_SD = {"child_pugh": 0.3, "meld": 1.0, "albumin": 1.2}
# log2 fold of the planted ligands in MX1+ Mono at the high dose on day 7
_LR_LOG2FC = 3.5
# Dirichlet concentration of the per-library composition
_COMPOSITION_CONCENTRATION = 3000.0
# NB dispersion (var = mu + phi mu^2), median over genes
_DISPERSION = 0.3
# sd (natural log) of donor-level and library-level expression deviations
_DONOR_SD = 0.10
_LIBRARY_SD = 0.05
# median and sd (natural log) of the mean counts of non-background genes
_OTHER_BASE_MEDIAN = 0.01
_OTHER_BASE_SD = 1.5
# sd (natural log) of per-cell size factors
_SIZE_SD = 0.3
# relative RNA content per lineage
_LINEAGE_SIZE = {"mono": 1.3, "t": 0.9, "b": 1.0, "nk": 1.0}

_BACKGROUND_GENES = (
    "ACTB", "ACTG1", "AIF1", "ARHGDIB", "ATP5F1E", "ATP5MG", "BTF3", "CALM1",
    "CALM2", "CD37", "CD52", "CD53", "CFL1", "CORO1A", "COTL1", "CYBA", "DDX5",
    "EEF1A1", "EEF1B2", "EEF1D", "EEF1G", "EEF2", "EIF1", "EIF3E", "EIF4A2",
    "ENO1", "FAU", "FTH1", "FTL", "GAPDH", "GMFG", "GNAS", "GNB2L1", "H3F3A",
    "H3F3B", "HINT1", "HNRNPA1", "JUNB", "LAPTM5", "LDHB", "MALAT1", "MT-ATP6",
    "MT-CO1", "MT-CO2", "MT-CO3", "MT-CYB", "MT-ND1", "MT-ND2", "MT-ND3",
    "MT-ND4", "MT-ND4L", "MT-ND5", "MYL6", "NACA", "NEAT1", "NPM1", "OAZ1",
    "PABPC1", "PFN1", "PPIA", "PTMA", "RACK1", "RPL10", "RPL10A", "RPL11",
    "RPL12", "RPL13", "RPL13A", "RPL14", "RPL15", "RPL18", "RPL18A", "RPL19",
    "RPL21", "RPL23", "RPL23A", "RPL24", "RPL26", "RPL27", "RPL27A", "RPL28",
    "RPL29", "RPL3", "RPL30", "RPL31", "RPL32", "RPL34", "RPL35", "RPL35A",
    "RPL36", "RPL37", "RPL37A", "RPL38", "RPL39", "RPL4", "RPL41", "RPL5",
    "RPL6", "RPL7", "RPL7A", "RPL8", "RPL9", "RPLP0", "RPLP1", "RPLP2", "RPS11",
    "RPS12", "RPS13", "RPS14", "RPS15", "RPS15A", "RPS16", "RPS18", "RPS19",
    "RPS2", "RPS20", "RPS21", "RPS23", "RPS24", "RPS25", "RPS26", "RPS27",
    "RPS27A", "RPS28", "RPS29", "RPS3", "RPS3A", "RPS4X", "RPS5", "RPS6",
    "RPS7", "RPS8", "RPS9", "RPSA", "SERF2", "SH3BGRL3", "SRGN", "SRSF5",
    "SRSF7", "TMSB10", "TMSB4X", "TOMM7", "TPT1", "TXNIP", "UBA52", "UBB",
    "UBC", "UQCRB", "YBX1", "ZFP36", "ZFP36L2", "ATP5F1B", "COX4I1", "COX7C",
    "DUSP1", "FOS", "IER2", "JUN", "KLF6", "NFKBIA", "PNRC1", "SELENOP",
    "TSC22D3", "CHCHD2", "NDUFA4", "PSAP", "SAT1", "TYROBP", "FCER1G", "CST3",
)

# marker / planted gene means (counts per cell at size factor 1) by cell type
# or lineage; anything not listed keeps its random profile.
_SET_MEANS: dict[str, dict[str, float]] = {
    # interferon-stimulated genes, high in MX1+ Mono
    "MX1": {"*": 0.3, "mono": 0.6, "MX1+ Mono": 8.0},
    "ISG15": {"*": 1.0, "mono": 2.0, "MX1+ Mono": 20.0},
    "IFI6": {"*": 0.5, "mono": 1.0, "MX1+ Mono": 12.0},
    "IFIT1": {"*": 0.1, "mono": 0.2, "MX1+ Mono": 5.0},
    "IFIT3": {"*": 0.2, "mono": 0.4, "MX1+ Mono": 6.0},
    "IFI44L": {"*": 0.2, "mono": 0.3, "MX1+ Mono": 4.0},
    "OAS1": {"*": 0.2, "mono": 0.3, "MX1+ Mono": 3.0},
    "IFITM3": {"*": 1.0, "mono": 4.0, "MX1+ Mono": 15.0},
    # monocytes
    "CD14": {"*": 0.05, "mono": 8.0, "CD16 Mono": 1.0},
    "LYZ": {"*": 1.0, "mono": 60.0, "CD16 Mono": 20.0},
    "S100A8": {"*": 0.5, "mono": 50.0, "CD16 Mono": 5.0},
    "S100A9": {"*": 0.8, "mono": 60.0, "CD16 Mono": 10.0},
    "VCAN": {"*": 0.05, "mono": 5.0, "CD16 Mono": 0.5},
    "LGALS2": {"*": 0.05, "mono": 0.5, "LGALS2+ Mono": 8.0},
    "FCGR3A": {"*": 0.1, "mono": 0.3, "CD16 Mono": 10.0, "NK": 6.0},
    "MS4A7": {"*": 0.05, "mono": 1.0, "CD16 Mono": 6.0},
    # T cells
    "CD3D": {"*": 0.05, "t": 6.0},
    "CD3E": {"*": 0.05, "t": 5.0},
    "CD4": {"*": 0.05, "mono": 0.15, "Treg": 4.0, "CD4 Naive T": 4.0,
            "CD4 Effector T": 4.0},
    "CD8A": {"*": 0.05, "CD8 Naive T": 4.0, "CD8 Effector T": 4.0},
    "CD8B": {"*": 0.05, "CD8 Naive T": 3.0, "CD8 Effector T": 3.0},
    "FOXP3": {"*": 0.02, "Treg": 3.0},
    "IL2RA": {"*": 0.05, "Treg": 3.0, "CD4 Effector T": 0.3},
    "CTLA4": {"*": 0.03, "Treg": 6.0, "CD4 Effector T": 0.3},
    "CCR7": {"*": 0.1, "CD4 Naive T": 3.0, "CD8 Naive T": 3.0, "Treg": 1.0,
             "Naive B": 1.0},
    "SELL": {"*": 0.2, "CD4 Naive T": 3.0, "CD8 Naive T": 3.0, "Naive B": 2.0,
             "mono": 1.0},
    "LEF1": {"*": 0.05, "CD4 Naive T": 2.0, "CD8 Naive T": 2.0},
    "TCF7": {"*": 0.05, "CD4 Naive T": 2.0, "CD8 Naive T": 2.0},
    "IL7R": {"*": 0.1, "t": 2.0, "CD8 Effector T": 0.5, "Treg": 1.0},
    "GZMK": {"*": 0.05, "CD8 Effector T": 4.0, "CD4 Effector T": 0.8},
    "CCL5": {"*": 0.2, "CD8 Effector T": 15.0, "NK": 8.0,
             "CD4 Effector T": 2.0},
    # B cells
    "MS4A1": {"*": 0.05, "b": 5.0},
    "CD79A": {"*": 0.05, "b": 8.0},
    "CD19": {"*": 0.02, "b": 1.5},
    "TCL1A": {"*": 0.02, "Naive B": 5.0, "Memory B": 0.5},
    "IGHD": {"*": 0.02, "Naive B": 6.0, "Memory B": 0.5},
    "IGHM": {"*": 0.05, "Naive B": 15.0, "Memory B": 5.0},
    "CD27": {"*": 0.05, "Memory B": 2.0, "t": 1.0, "CD8 Effector T": 0.5},
    # NK / cytotoxic
    "NKG7": {"*": 0.1, "NK": 15.0, "CD8 Effector T": 5.0},
    "GNLY": {"*": 0.1, "NK": 20.0, "CD8 Effector T": 3.0},
    "GZMB": {"*": 0.05, "NK": 8.0, "CD8 Effector T": 1.0},
    "PRF1": {"*": 0.05, "NK": 5.0, "CD8 Effector T": 2.0},
    "KLRD1": {"*": 0.05, "NK": 4.0, "CD8 Effector T": 1.0},
    # planted ligands (sender MX1+ Mono) -- baseline levels
    "ICAM1": {"*": 0.2, "mono": 1.0, "MX1+ Mono": 6.0},
    "APP": {"*": 0.3, "mono": 1.0, "MX1+ Mono": 5.0},
    "LGALS9": {"*": 0.3, "mono": 1.5, "MX1+ Mono": 6.0},
    "RETN": {"*": 0.02, "mono": 1.5, "MX1+ Mono": 6.0, "CD16 Mono": 0.3},
    "CD86": {"*": 0.02, "mono": 0.6, "MX1+ Mono": 1.0},
    "IL16": {"*": 0.05, "t": 1.0, "mono": 0.2, "MX1+ Mono": 1.0},
    "ANXA1": {"*": 0.5, "mono": 3.0, "t": 2.0, "nk": 2.0, "MX1+ Mono": 1.0},
    # planted receptors (receivers) -- constant over time
    "ITGAL": {"*": 0.5, "t": 4.0, "nk": 4.0, "b": 1.0, "mono": 1.0},
    "ITGB2": {"*": 2.0, "t": 4.0, "nk": 5.0, "mono": 6.0},
    "CD74": {"*": 2.0, "b": 25.0, "mono": 30.0, "CD16 Mono": 15.0},
    "HAVCR2": {"*": 0.05, "mono": 4.0, "NK": 4.0, "CD8 Effector T": 4.0},
    "CD44": {"*": 3.0, "CD4 Effector T": 5.0, "CD8 Effector T": 5.0,
             "NK": 5.0, "mono": 4.0},
    "PTPRC": {"*": 6.0, "mono": 5.0},
    "CAP1": {"*": 3.0, "mono": 8.0},
    "FPR1": {"*": 0.02, "mono": 1.5, "LGALS2+ Mono": 5.0, "CD16 Mono": 0.8},
}


def _consensus_genes() -> list[str]:
    """Genes of LIANA's ``consensus`` resource, complexes split into subunits."""
    import liana  # lazy: importing liana takes a few seconds

    resource = liana.resource.select_resource("consensus")
    genes: set[str] = set()
    for column in ("ligand", "receptor"):
        for entry in resource[column].astype(str):
            genes.update(g for g in entry.split("_") if g)
    return sorted(genes)


def _interp(knots, x: float) -> float:
    xs, ys = knots
    return float(np.interp(x, xs, ys))


def _course(knots, day: int, dosing_days: Sequence[int]) -> float:
    """A single infusion's time course, summed over the infusions before ``day``."""
    return sum(_interp(knots, day - t) for t in dosing_days if day >= t)


def _type_fractions(weight: float | None, day: int, *, dosing_days: Sequence[int] = (0,),
                    patient_log2: float = 0.0, effects: bool = True) -> np.ndarray:
    """Expected composition of one library (before per-library noise).

    ``weight`` is the group's dose weight (``None`` for healthy donors);
    ``patient_log2`` the patient's own MX1+ Mono fold at this day.
    ``effects=False`` keeps the patient-vs-healthy baseline but drops the change
    with day and dose.
    """
    frac = np.array([_HEALTHY_FRACTIONS[c] for c in CELL_TYPES], dtype=float)
    if weight is not None:
        frac *= np.array([_PATIENT_LINEAGE_FOLD[_LINEAGE[c]] for c in CELL_TYPES])
        frac /= frac.sum()
        if effects:
            mx1 = weight * _course(_MX1_FRACTION_KNOTS, day, dosing_days) + patient_log2
            frac[CELL_TYPES.index("MX1+ Mono")] *= 2.0 ** mx1
            for cell_type, slope in _MX1_COUPLING.items():
                frac[CELL_TYPES.index(cell_type)] *= 2.0 ** (slope * mx1)
            frac[CELL_TYPES.index("Treg")] *= 2.0 ** _course(_TREG_KNOTS, day, dosing_days)
    return frac / frac.sum()


def _mean_profiles(genes: list[str], gene_class: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Per-cell-type mean counts (cell types x genes) at size factor 1."""
    n_genes = len(genes)
    lineages = ("mono", "t", "b", "nk")
    # baseline level per gene
    base = np.empty(n_genes)
    is_bg = gene_class == "background"
    base[is_bg] = rng.lognormal(np.log(6.0), 1.0, is_bg.sum())
    base[~is_bg] = rng.lognormal(np.log(_OTHER_BASE_MEDIAN), _OTHER_BASE_SD,
                                 (~is_bg).sum())
    base = np.minimum(base, 200.0)
    # lineage and cell-type deviations (stronger for non-housekeeping genes)
    sd = np.where(is_bg, 0.25, 1.0)
    lin_dev = {lin: rng.normal(0.0, 1.0, n_genes) * sd for lin in lineages}
    profiles = np.empty((len(CELL_TYPES), n_genes))
    for i, ct in enumerate(CELL_TYPES):
        dev = lin_dev[_LINEAGE[ct]] + rng.normal(0.0, 0.5, n_genes) * sd
        profiles[i] = base * np.exp(dev)
    profiles = np.minimum(profiles, 300.0)
    # explicit marker / planted genes
    index = {g: j for j, g in enumerate(genes)}
    for gene, spec in _SET_MEANS.items():
        j = index[gene]
        for i, ct in enumerate(CELL_TYPES):
            value = spec.get(ct, spec.get(_LINEAGE[ct], spec.get("*")))
            if value is not None:
                profiles[i, j] = value
    # lineage RNA content
    profiles *= np.array([_LINEAGE_SIZE[_LINEAGE[c]] for c in CELL_TYPES])[:, None]
    return profiles


def _ligand_log2fc(weight: float, day: int, dosing_days: Sequence[int]) -> float:
    """log2 fold of the planted ligands in MX1+ Mono (positive magnitude)."""
    return _LR_LOG2FC * weight * _course(_LR_TIME_KNOTS, day, dosing_days)


def _patients(groups: dict[str, float], n_per_group: int,
              rng: np.random.Generator) -> pd.DataFrame:
    """Per patient: group, dose weight, own MX1+ fold (log2), own improvement, baselines.

    The MX1+ folds are centred so that their linear mean is 1 within a group,
    which keeps the pooled group trajectory the planted one; the clinical link
    uses them centred on the log scale (``mx1_dev``), which keeps each group's
    mean improvement the planted one.
    """
    rows = []
    for k, (group, weight) in enumerate(groups.items()):
        ids = [f"P{k * n_per_group + p + 1:02d}" for p in range(n_per_group)]
        fold = 2.0 ** rng.normal(0.0, _MX1_PATIENT_SD, n_per_group)
        mx1 = np.log2(fold / fold.mean()) if n_per_group else fold
        own = rng.normal(0.0, _CLIN_PATIENT_SD, n_per_group)
        base = {s: rng.normal(m, sd, n_per_group) for s, (m, sd) in _CLIN_BASELINE.items()}
        for i, pid in enumerate(ids):
            rows.append({"patient": pid, "group": group, "weight": weight, "mx1_log2": mx1[i],
                         "mx1_dev": mx1[i] - mx1.mean(),
                         "own": own[i], **{s: base[s][i] for s in CLINICAL_SCORES}})
    return pd.DataFrame(rows, columns=["patient", "group", "weight", "mx1_log2", "mx1_dev", "own",
                                       *CLINICAL_SCORES])


def _clinical_row(patient: pd.Series, day: int, first_dose: int, *, effects: bool,
                  rng: np.random.Generator) -> dict:
    """Child-Pugh, MELD and albumin of one patient on one day."""
    ramp = _interp(_CLIN_KNOTS, day - first_dose)
    gain = (_CP_GAIN * patient["weight"] - _CP_PER_MX1_LOG2 * patient["mx1_dev"]) if effects else 0.0
    improvement = ramp * (gain + patient["own"])  # Child-Pugh points
    out = {}
    for score in CLINICAL_SCORES:
        lo, hi = _CLIN_RANGE[score]
        value = patient[score] + _CLIN_PER_CP[score] * improvement + rng.normal(0.0, _CLIN_VISIT_SD[score])
        value = float(np.clip(value, lo, hi))
        out[score] = round(value, 1) if score == "albumin" else int(round(value))
    return out


def simulate_msc_study(
    *,
    n_cells: int = 20_000,
    n_patients_per_group: int = 3,
    n_healthy: int = 3,
    days: Sequence[int] = DEFAULT_DAYS,
    seed: int = 0,
    effects: bool = True,
    groups: Mapping[str, float] | None = None,
    dosing_days: Sequence[int] = (0,),
) -> ad.AnnData:
    """Simulate PBMC scRNA-seq counts of an MSC-infusion study in cirrhosis.

    Parameters
    ----------
    n_cells
        Total number of cells, split evenly over the libraries (one library per
        healthy donor, and one per patient and day); the first
        ``n_cells % n_libraries`` libraries get one cell more.  With the
        defaults there are ``3 + 2 * 3 * 5 = 33`` libraries, so
        ``n_cells=20_000`` gives ~606 cells per library and ~1,800 cells per
        ``day x group`` split (3 donors pooled).
    n_patients_per_group
        Patients per dose group (first group: ``P01``..; the next: the next
        ids).
    n_healthy
        Healthy donors (``H01``..), sampled on day 0 only.
    days
        Sampling days of the patients; the planted effects are defined for
        any non-negative day (peak at day 7, see :data:`PLANTED_EFFECTS`).
    seed
        Seed of the random generator; same arguments give identical data.
    effects
        ``False`` simulates a null study: no ligand change and no composition
        change with day or dose (patients still differ from healthy donors at
        baseline), and clinical scores that drift per patient but not with dose
        or MX1+ monocytes; drawn from the same random streams.  For
        calibrating tests of change.
    groups
        Patient groups (``obs["group"]`` values after ``healthy``) and their
        dose weights, in order; default :data:`DEFAULT_GROUPS`
        (``low`` 0.45, ``high`` 1).  :data:`STUDY_DESIGNS` holds the trial's.
    dosing_days
        Infusion days; each infusion's effect time course is added on (log
        scale) to the earlier ones'.  The clinical improvement runs from the
        first infusion.

    Returns
    -------
    anndata.AnnData
        Cells x genes; see the module docstring for the layout.
    """
    days = tuple(int(d) for d in days)
    dosing_days = tuple(int(d) for d in dosing_days)
    groups = dict(DEFAULT_GROUPS if groups is None else groups)
    if "healthy" in groups or any(not w >= 0 for w in groups.values()):
        raise ValueError(f"groups must map names other than 'healthy' to dose weights >= 0, got {groups}")
    if not dosing_days or any(d < 0 for d in dosing_days):
        raise ValueError(f"dosing_days must be non-negative ints, got {dosing_days}")
    if n_patients_per_group < 0 or n_healthy < 0:
        raise ValueError("n_patients_per_group and n_healthy must be >= 0")
    if any(d < 0 for d in days) or len(set(days)) != len(days):
        raise ValueError(f"days must be distinct non-negative ints, got {days}")

    # genes
    markers = sorted(_SET_MEANS)
    lr_genes = _consensus_genes()
    lr_set = set(lr_genes)
    genes = sorted(set(lr_genes) | set(markers) | set(_BACKGROUND_GENES))
    gene_class = np.array(
        ["lr" if g in lr_set else "marker" if g in _SET_MEANS else "background"
         for g in genes]
    )
    n_genes = len(genes)

    # libraries
    libraries: list[tuple[str, str, int]] = []  # (sample, group, day)
    for h in range(n_healthy):
        libraries.append((f"H{h + 1:02d}", "healthy", 0))
    for k, group in enumerate(groups):
        for p in range(n_patients_per_group):
            sample = f"P{k * n_patients_per_group + p + 1:02d}"
            for day in days:
                libraries.append((sample, group, day))
    n_lib = len(libraries)
    if n_lib == 0:
        raise ValueError("no libraries to simulate")
    if n_cells < n_lib:
        raise ValueError(f"n_cells={n_cells} is below the number of libraries ({n_lib})")
    cells_per_lib = np.full(n_lib, n_cells // n_lib)
    cells_per_lib[: n_cells % n_lib] += 1

    # independent streams, so that composition does not depend on the
    # expression parameters (gamma/Poisson draws use a variable number of bits)
    # (the patient stream is the 4th child: the first three are as before it)
    rng_profile, rng_comp, rng, rng_patient = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    patients = _patients(groups, n_patients_per_group, rng_patient).set_index("patient", drop=False)
    profiles = _mean_profiles(genes, gene_class, rng_profile)
    log_profiles = np.log(profiles)
    # gene-wise NB dispersion
    phi = _DISPERSION * rng.lognormal(0.0, 0.3, n_genes)
    # donor-level expression deviations
    donors = sorted({s for s, _, _ in libraries})
    donor_dev = {s: rng.normal(0.0, _DONOR_SD, n_genes) for s in donors}

    sender = CELL_TYPES.index(_SENDER)
    gene_index = {g: j for j, g in enumerate(genes)}
    planted_up = sorted({e["ligand"] for e in PLANTED_EFFECTS if e["direction"] == "up"})
    planted_down = sorted({e["ligand"] for e in PLANTED_EFFECTS if e["direction"] == "down"})
    up_idx = np.array([gene_index[g] for g in planted_up])
    down_idx = np.array([gene_index[g] for g in planted_down])

    blocks = []
    obs_parts = []
    sheet = []
    first_dose = min(dosing_days)
    for (sample, group, day), n_lib_cells in zip(libraries, cells_per_lib):
        weight = groups.get(group)  # None: healthy donor
        row = {"sample": f"{sample}_d{day}", "patient": sample, "day": day, "group": group}
        patient_log2 = 0.0
        if weight is not None:
            patient = patients.loc[sample]
            patient_log2 = patient["mx1_log2"] * _interp(_MX1_PATIENT_KNOTS, day - first_dose)
            row.update(_clinical_row(patient, day, first_dose, effects=effects, rng=rng_patient))
        sheet.append(row)
        frac = _type_fractions(weight, day, dosing_days=dosing_days, patient_log2=patient_log2,
                               effects=effects)
        frac = rng_comp.dirichlet(_COMPOSITION_CONCENTRATION * frac)
        n_by_type = rng_comp.multinomial(n_lib_cells, frac)
        lib_dev = donor_dev[sample] + rng.normal(0.0, _LIBRARY_SD, n_genes)
        lfc = np.log(2.0) * _ligand_log2fc(weight, day, dosing_days) if effects and weight else 0.0
        type_codes = np.repeat(np.arange(len(CELL_TYPES)), n_by_type)
        log_mu = log_profiles[type_codes] + lib_dev
        if lfc:
            rows = type_codes == sender
            log_mu[np.ix_(rows, up_idx)] += lfc
            log_mu[np.ix_(rows, down_idx)] -= lfc
        size = rng.lognormal(0.0, _SIZE_SD, n_lib_cells)
        mu = np.exp(log_mu) * size[:, None]
        lam = rng.gamma(1.0 / phi, mu * phi)
        counts = rng.poisson(lam).astype(np.int32)
        blocks.append(sp.csr_matrix(counts))
        obs_parts.append(pd.DataFrame({
            "cell_type": np.asarray(CELL_TYPES, dtype=object)[type_codes],
            "day": np.full(n_lib_cells, day, dtype=np.int64),
            "group": group,
            "sample": sample,
            "library": f"{sample}_d{day}",
        }))

    counts = sp.vstack(blocks, format="csr").astype(np.int32)
    obs = pd.concat(obs_parts, ignore_index=True)
    obs.index = (obs["library"] + "_" + obs.groupby("library").cumcount().astype(str)).values
    obs["cell_type"] = pd.Categorical(obs["cell_type"], categories=list(CELL_TYPES))
    obs["group"] = pd.Categorical(obs["group"], categories=["healthy", *groups])
    obs["sample"] = pd.Categorical(obs["sample"],
                                   categories=list(dict.fromkeys(obs["sample"])))
    obs["day"] = obs["day"].astype(np.int64)
    obs["library"] = pd.Categorical(obs["library"],
                                    categories=list(dict.fromkeys(obs["library"])))
    n_counts = np.asarray(counts.sum(axis=1)).ravel()
    obs["n_counts"] = n_counts.astype(np.int64)

    # log-normalise: log1p(counts / total * 1e4)
    scale = 1e4 / np.maximum(n_counts, 1)
    X = sp.diags(scale.astype(np.float64)) @ counts.astype(np.float64)
    X = sp.csr_matrix(X)
    X.data = np.log1p(X.data)
    X = X.astype(np.float32)

    var = pd.DataFrame(
        {"gene_class": pd.Categorical(gene_class, categories=["lr", "marker", "background"])},
        index=pd.Index(genes, name=None),
    )
    adata = ad.AnnData(X=X, obs=obs, var=var, layers={"counts": counts})
    adata.uns["log1p"] = {"base": None}
    adata.uns["simulation"] = {
        "n_cells": int(n_cells),
        "n_patients_per_group": int(n_patients_per_group),
        "n_healthy": int(n_healthy),
        "days": list(days),
        "seed": int(seed),
        "effects": bool(effects),
        "groups": {str(g): float(w) for g, w in groups.items()},
        "dosing_days": list(dosing_days),
    }
    adata.uns["sample_sheet"] = _sheet_frame(sheet)
    return adata


def _sheet_frame(rows: list[dict]) -> pd.DataFrame:
    sheet = pd.DataFrame(rows, columns=["sample", "patient", "day", "group", *CLINICAL_SCORES])
    sheet["day"] = sheet["day"].astype(np.int64)
    for score in ("child_pugh", "meld"):
        sheet[score] = sheet[score].astype("Int64")  # healthy donors: not assessed
    sheet["albumin"] = sheet["albumin"].astype(float)
    return sheet


def sample_sheet(adata: ad.AnnData) -> pd.DataFrame:
    """The simulated study's sample sheet: one row per library (a copy).

    Columns: ``sample`` (the library id, ``obs["library"]``), ``patient``
    (``obs["sample"]``), ``day``, ``group`` and :data:`CLINICAL_SCORES`
    (empty for healthy donors, who are not scored).  This is the layout
    :func:`commgraph.read_sample_sheet` reads from CSV.
    """
    if "sample_sheet" not in adata.uns:
        raise KeyError("this AnnData has no uns['sample_sheet']: "
                       "simulate it with commgraph.datasets.simulate_msc_study")
    sheet = adata.uns["sample_sheet"]
    return (sheet if isinstance(sheet, pd.DataFrame) else pd.DataFrame(sheet)).copy()
