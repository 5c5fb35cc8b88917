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
from ._common import small_int

PATHWAYS_FILE = "cellchatdb_pathways.csv"


@lru_cache(maxsize=1)
def pathway_table() -> pd.DataFrame:
    """The bundled CellChatDB interaction → pathway table (ligand, receptor, pathway, annotation)."""
    return pd.read_csv(resource_dir("loaders") / PATHWAYS_FILE, dtype="string")


@lru_cache(maxsize=1)
def _lookup() -> dict[tuple[str, str], str]:
    t = pathway_table()
    return dict(zip(zip(t[S.LIGAND], t[S.RECEPTOR]), t[S.PATHWAY]))


@lru_cache(maxsize=1)
def _annotation_lookup() -> dict[tuple[str, str], str]:
    t = pathway_table().dropna(subset=[S.ANNOTATION])
    return dict(zip(zip(t[S.LIGAND], t[S.RECEPTOR]), t[S.ANNOTATION]))


def annotations(names, ligands, receptors) -> dict[str, str]:
    """Interaction name -> CellChatDB annotation (Secreted Signaling, Cell-Cell Contact, ...) of
    the pairs the bundled table knows (either orientation); what the Interaction nodes carry."""
    d = _annotation_lookup()
    out = {}
    for name, lig, rec in zip(names, ligands, receptors):
        a = d.get((lig, rec)) or d.get((rec, lig))
        if a:
            out[str(name)] = str(a)
    return out


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
        # each pair's first row with a fallback: the smallest such row number per pair
        n = len(fb.codes)
        first = np.full(len(per_pair), n, dtype=np.intp)
        np.minimum.at(first, pair_codes, np.where(fb.codes >= 0, np.arange(n), n))
        code = np.append(fb.codes, -1)[first]  # -1: no row of the pair has one
        per_pair = per_pair.fillna(pd.Series(np.append(np.asarray(fb.categories, dtype=object), None)[code]))
    per_pair = per_pair.fillna(S.UNANNOTATED).astype(str)
    codes, cats = pd.factorize(per_pair)
    # small codes before broadcasting to the rows: less memory to move
    rows = pd.Categorical.from_codes(codes.astype(small_int(len(cats)))[pair_codes], categories=pd.Index(cats), validate=False)
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
    # one lookup per row; the appended -1 is where code -1 (missing) lands
    codes = np.append(new_codes, -1).astype(small_int(len(uniq)))[cat.codes]
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object), validate=False)
