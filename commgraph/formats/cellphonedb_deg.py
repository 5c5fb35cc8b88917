"""CellPhoneDB v5 DEG-based analysis (method 3).

Input: the folder that ``cpdb_degs_analysis_method.call(output_path=...)`` wrote —
``degs_analysis_means_<suffix>.txt``, ``degs_analysis_relevant_interactions_<suffix>.txt``
and optionally ``degs_analysis_interaction_scores_<suffix>.txt`` (it also writes
``degs_analysis_significant_means_*`` and ``deconvoluted*`` files, which are not needed) —
any one file in it, or the dict ``call()`` returns (keys ``means``,
``relevant_interactions``[, ``interaction_scores``]).

Output: one row per (interaction, ``A|B`` column of the means file): ``score`` = the means
cell, no p-value (method 3 has none), ``significant`` = the relevant_interactions cell is 1.
CellPhoneDB drops every row and column of relevant_interactions that holds no 1, so a cell
missing there counts as 0; a cell holding anything but 0 or 1 is an error.

Names, orientation and collisions: exactly as for method 2, see
:mod:`commgraph.formats.cellphonedb`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import Parsed, first_row, number
from ._cpdb_files import ID, check_pairs, check_scores, check_unique_ids, gather, read_outputs, row_order
from .cellphonedb import finish


def parse(source: Any, *, fmt: Any, database: str | os.PathLike | None = None, suffix: str | None = None) -> Parsed:
    """Parse CellPhoneDB method-3 output (see the module docstring)."""
    wides, files, where, used_suffix = read_outputs(source, fmt, suffix)
    means, relevant = wides["means"], wides["relevant_interactions"]
    check_unique_ids(means)
    check_scores(means, fmt.score.get("range"))
    for c in relevant.pairs:
        v = relevant.values[c]
        bad = ~np.isin(v, (0.0, 1.0))
        if bad.any():
            row = first_row(bad)
            raise InputError(f"{number(v[row - 1])} is not 0 or 1", file=relevant.file, column=c, row=row)
    extra_cols = [c for c in relevant.pairs if c not in means.values]
    if extra_cols:
        raise InputError(f"cell-type pair {extra_cols[0]!r} is not in {means.file}", file=relevant.file, column=extra_cols[0], row=0)
    order = row_order(means, relevant, complete=False)
    unknown = np.setdiff1d(relevant.ids().to_numpy(), means.ids().to_numpy())
    if len(unknown):
        row = first_row(relevant.annot[ID].isin(unknown))
        raise InputError(f"interaction {unknown[0]} is not in {means.file}", file=relevant.file, column=ID, row=row)
    significant = gather(means, relevant, order, fill=0.0) == 1.0

    scores = wides.get("interaction_scores")
    if scores is not None:
        check_pairs(means, scores)
    return finish(means, fmt=fmt, pvalue=None, significant=significant, scores=scores, database=database,
                  where=where, files=files, suffix=used_suffix)
