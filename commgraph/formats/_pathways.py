"""Pathway for every row: the tool's own, else CellChatDB's, else a fallback, else unannotated.

The bundled table ``loaders/cellchatdb_pathways.csv`` (derived from CellChatDB, GPL-3.0;
see ``loaders/NOTICE.md``) maps a canonical (ligand, receptor) pair to CellChatDB's
``pathway_name``. A pair is looked up as given and, failing that, reversed (CellPhoneDB
lists some adhesion pairs receptor first); the pathway belongs to the pair either way.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .. import _schema as S
from .._resources import resource_dir

PATHWAYS_FILE = "cellchatdb_pathways.csv"


@lru_cache(maxsize=1)
def pathway_table() -> pd.DataFrame:
    """The bundled CellChatDB interaction → pathway table (ligand, receptor, pathway, annotation)."""
    return pd.read_csv(resource_dir("loaders") / PATHWAYS_FILE, dtype="string")


@lru_cache(maxsize=1)
def _lookup() -> dict[tuple[str, str], str]:
    t = pathway_table()
    return dict(zip(zip(t[S.LIGAND], t[S.RECEPTOR]), t[S.PATHWAY]))


def lookup_pathway(ligand: str, receptor: str) -> str | None:
    """CellChatDB pathway of a canonical pair (either orientation), or None."""
    d = _lookup()
    return d.get((ligand, receptor)) or d.get((receptor, ligand))


def annotate(
    pair_codes: np.ndarray,
    pair_ligands: np.ndarray,
    pair_receptors: np.ndarray,
    *,
    own: pd.Series | None = None,
    fallback: pd.Series | None = None,
) -> pd.Categorical:
    """Pathway per row, worked out once per distinct (ligand, receptor) pair.

    ``pair_codes[i]`` indexes row i's pair in ``pair_ligands`` / ``pair_receptors``.
    ``own`` (the tool's pathway) and ``fallback`` (e.g. CellPhoneDB ``classification``)
    are row-aligned and may be None or hold missing/blank values; the fallback counts per
    pair (its first non-blank value among the pair's rows). String work is done on the
    distinct values only (categoricals), never per row.
    """
    d = _lookup()
    per_pair = pd.Series(
        [d.get((lig, rec)) or d.get((rec, lig)) for lig, rec in zip(pair_ligands, pair_receptors)],
        dtype="object",
    )
    if fallback is not None and per_pair.isna().any():
        fb = _clean(fallback)
        first = pd.Series(fb.codes).where(fb.codes >= 0).groupby(pair_codes).first()  # NaN skipped
        values = pd.Series(np.asarray(fb.categories, dtype=object)).reindex(first.to_numpy())
        per_pair = per_pair.fillna(pd.Series(values.to_numpy(), index=first.index).reindex(per_pair.index))
    per_pair = per_pair.fillna(S.UNANNOTATED).astype(str)
    codes, cats = pd.factorize(per_pair)
    rows = pd.Categorical.from_codes(codes[pair_codes], categories=pd.Index(cats))
    if own is None:
        return rows
    o = _clean(own)
    if (o.codes < 0).all():
        return rows
    merged = pd.Series(o).astype(object)
    missing = o.codes < 0
    merged[missing] = np.asarray(rows.astype(object))[missing]
    return pd.Categorical(merged)


def _clean(values: pd.Series | pd.Categorical) -> pd.Categorical:
    """As a categorical with stripped categories; blank becomes missing."""
    cat = values.array if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype) else (
        values if isinstance(values, pd.Categorical) else pd.Categorical(pd.Series(values).astype("string"))
    )
    cleaned = [str(c).strip() for c in cat.categories]
    new_codes, uniq = pd.factorize(pd.Series([c if c else None for c in cleaned], dtype=object))
    codes = np.where(cat.codes >= 0, new_codes[np.maximum(cat.codes, 0)] if len(new_codes) else -1, -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object))
