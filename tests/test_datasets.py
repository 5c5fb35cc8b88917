"""The simulator: seeded, and its switches do what they say."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def pair():
    from commgraph.datasets import simulate_msc_study

    kw = dict(n_cells=8000, days=(0, 3, 7), n_patients_per_group=3, n_healthy=1, seed=3)
    return simulate_msc_study(**kw), simulate_msc_study(**kw, effects=False)


def _mx1_ligand_log2(adata, ligand, group, day):
    """log2 of the mean count of a ligand in MX1+ Mono of one group and day."""
    obs = adata.obs
    rows = ((obs["cell_type"] == "MX1+ Mono") & (obs["group"] == group) & (obs["day"] == day)).to_numpy()
    j = adata.var_names.get_loc(ligand)
    return float(np.log2(adata.layers["counts"][rows, j].mean()))


def _mx1_fraction(adata, group, day):
    obs = adata.obs[(adata.obs["group"] == group) & (adata.obs["day"] == day)]
    return float((obs["cell_type"] == "MX1+ Mono").mean())


def test_null_study_has_no_change_with_day(pair):
    planted, null = pair
    # the planted ICAM1 fall (log2 -3.5 at the high dose, day 7) is there, and gone in the null study
    assert _mx1_ligand_log2(planted, "ICAM1", "high", 7) - _mx1_ligand_log2(planted, "ICAM1", "high", 0) < -2.5
    assert abs(_mx1_ligand_log2(null, "ICAM1", "high", 7) - _mx1_ligand_log2(null, "ICAM1", "high", 0)) < 0.7
    # the MX1+ fraction rise on day 3 (x2.5 at the high dose) is gone too
    assert _mx1_fraction(planted, "high", 3) / _mx1_fraction(planted, "high", 0) > 1.8
    assert 0.7 < _mx1_fraction(null, "high", 3) / _mx1_fraction(null, "high", 0) < 1.4
    # the baseline patient-vs-healthy difference stays
    mono = ["MX1+ Mono", "CD14 Mono", "LGALS2+ Mono", "CD16 Mono"]
    frac = null.obs.groupby(["group", "day"], observed=True)["cell_type"].apply(lambda s: s.isin(mono).mean())
    assert frac[("high", 0)] > frac[("healthy", 0)] * 1.3
    assert null.uns["simulation"]["effects"] is False


def test_same_layout_either_way(pair):
    planted, null = pair
    assert (planted.obs_names == null.obs_names).all() and (planted.var_names == null.var_names).all()
    assert planted.obs["library"].equals(null.obs["library"])
