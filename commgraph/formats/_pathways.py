"""Pathway for every row, in one vocabulary: CellChatDB's pathway names.

Per distinct (ligand, receptor) pair, the first of these that knows it:

1. the user's table (``pathways=``: a CSV or DataFrame with ligand, receptor, pathway) — it wins
   over everything bundled;
2. the bundled table ``loaders/cellchatdb_pathways.csv`` (derived from CellChatDB, GPL-3.0;
   see ``loaders/NOTICE.md``): CellChatDB's ``pathway_name`` of the pair, looked up as given
   and, failing that, reversed (CellPhoneDB lists some adhesion pairs receptor first);
3. the ligand's pathway, when every CellChatDB interaction of that ligand is in one pathway
   (MIF^CD74 → MIF, CXCL10^DPP4 → CXCL, CCL2^CCR5 → CCL: CellChatDB pathways are named after
   ligand families);
4. the tool's own pathway (CellChat ``pathway_name``), if the row has one;
5. the fallback (CellPhoneDB ``classification``) turned into CellChatDB's name through the
   bundled ``loaders/cellphonedb_classification_pathways.csv`` where a mapping exists
   ("Signaling by Amyloid-beta precursor protein" → APP), else as the tool wrote it;
6. ``unannotated``.

The answer depends on the pair alone (and the user's table), never on which tool or load came
first, so an Interaction node and every SIGNALS edge of it carry the same pathway.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .. import _schema as S
from .._resources import resource_dir
from ._common import small_int

PATHWAYS_FILE = "cellchatdb_pathways.csv"
CLASSIFICATION_FILE = "cellphonedb_classification_pathways.csv"


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


@lru_cache(maxsize=1)
def _ligand_lookup() -> dict[str, str]:
    """ligand -> its pathway, for ligands whose CellChatDB interactions all share one pathway."""
    t = pathway_table()
    per = t.groupby(S.LIGAND)[S.PATHWAY].agg(lambda s: s.iloc[0] if s.nunique() == 1 else None).dropna()
    return dict(per.items())


@lru_cache(maxsize=1)
def classification_table() -> pd.DataFrame:
    """CellPhoneDB classification -> CellChatDB pathway (bundled; see tests/data/make_pathways.py)."""
    return pd.read_csv(resource_dir("loaders") / CLASSIFICATION_FILE, dtype="string")


@lru_cache(maxsize=1)
def _classification_lookup() -> dict[str, str]:
    t = classification_table()
    return dict(zip(t["classification"], t[S.PATHWAY]))


def read_pathway_table(source) -> dict[tuple[str, str], str]:
    """The user's pathway table: a CSV path or DataFrame with columns ligand, receptor, pathway
    (complexes as ``_``-joined subunits, in any order: they are sorted as everywhere else), or
    interaction (``ligand^receptor``) and pathway. Returns (ligand, receptor) -> pathway."""
    from ..errors import InputError
    from ._common import read_delimited

    if isinstance(source, pd.DataFrame):
        df, where = source, "<pathways DataFrame>"
    else:
        from pathlib import Path

        path = Path(source)
        if not path.is_file():
            raise InputError("pathway table not found", file=str(path), column="pathways")
        df, where = read_delimited(path, sep=None, what="pathway table"), str(path)
    df = df.rename(columns={"pathway_name": S.PATHWAY})
    if S.PATHWAY not in df.columns or not ({S.LIGAND, S.RECEPTOR} <= set(df.columns) or S.INTERACTION in df.columns):
        raise InputError("a pathway table needs columns ligand, receptor, pathway (or interaction, pathway)",
                         file=where, column=S.PATHWAY, row=0)
    if {S.LIGAND, S.RECEPTOR} <= set(df.columns):
        lig, rec = df[S.LIGAND].astype("string"), df[S.RECEPTOR].astype("string")
    else:
        split = df[S.INTERACTION].astype("string").str.split(S.INTERACTION_SEP, n=1, expand=True)
        if split.shape[1] < 2 or split[1].isna().any():
            bad = split[1].isna() if split.shape[1] > 1 else pd.Series(True, index=df.index)
            raise InputError(f"interaction is not ligand{S.INTERACTION_SEP}receptor", file=where,
                             column=S.INTERACTION, row=int(bad.to_numpy().argmax()) + 1)
        lig, rec = split[0], split[1]
    out = {}
    for i, (a, b, p) in enumerate(zip(lig, rec, df[S.PATHWAY].astype("string")), start=1):
        if pd.isna(a) or pd.isna(b) or pd.isna(p) or not str(p).strip():
            raise InputError("empty value", file=where, column=S.PATHWAY if pd.isna(p) or not str(p).strip() else S.LIGAND, row=i)
        key = (_canonical(a), _canonical(b))
        if key in out and out[key] != str(p).strip():
            raise InputError(f"{S.interaction_name(*key)} is given two pathways ({out[key]}, {str(p).strip()})",
                             file=where, column=S.PATHWAY, row=i)
        out[key] = str(p).strip()
    return out


def _canonical(name: str) -> str:
    parts = sorted({p.strip() for p in str(name).split(S.SUBUNIT_SEP) if p.strip()})
    return S.SUBUNIT_SEP.join(parts) if parts else str(name).strip()


def pair_pathway(ligand: str, receptor: str, user: dict | None = None) -> str | None:
    """The vocabulary's pathway of a canonical pair from the pair alone (steps 1-3 of the module
    docstring), or None."""
    if user:
        p = user.get((ligand, receptor)) or user.get((receptor, ligand))
        if p:
            return p
    d = _lookup()
    genes = S.subunit_genes(ligand)
    if ligand.endswith(")") and "(" in ligand:  # a small molecule: its metabolite names the pathway
        metabolite = ligand[: ligand.rindex("(")].lower()
        p = d.get((S.SUBUNIT_SEP.join(genes), receptor))  # CellChatDB files metabolites under their enzymes
        # ... and its label must be this metabolite's (CellChatDB lists 22-hydroxycholesterol made by
        # CYP11A1 under "27HC"): Prostaglandin for ProstaglandinE2, Cholesterol for Cholesterol
        return p if p and (metabolite.startswith(p.lower()) or p.lower().startswith(metabolite)) else None
    p = d.get((ligand, receptor)) or d.get((receptor, ligand))
    if p:
        return p
    by_ligand = _ligand_lookup()
    return by_ligand.get(ligand)


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
    user: dict | None = None,
) -> pd.Categorical:
    """Pathway per row, worked out once per distinct (ligand, receptor) pair.

    ``pair_codes[i]`` indexes row i's pair in ``pair_ligands`` / ``pair_receptors``.
    ``own`` (the tool's pathway) and ``fallback`` (e.g. CellPhoneDB ``classification``)
    are row-aligned and may be None or hold missing/blank values; the fallback counts per
    pair (its first non-blank value among the pair's rows). String work is done on the
    distinct values only (categoricals), never per row.
    """
    per_pair = pd.Series([pair_pathway(lig, rec, user) for lig, rec in zip(pair_ligands, pair_receptors)], dtype="object")
    classified = _classification_lookup()
    for values in (own, fallback):  # the tool's own pathway, then the fallback (mapped into the vocabulary)
        if values is None or not per_pair.isna().any():
            continue
        fb = _clean(values)
        # each pair's first row with a value: the smallest such row number per pair
        n = len(fb.codes)
        first = np.full(len(per_pair), n, dtype=np.intp)
        np.minimum.at(first, pair_codes, np.where(fb.codes >= 0, np.arange(n), n))
        code = np.append(fb.codes, -1)[first]  # -1: no row of the pair has one
        cats = np.append(np.asarray([classified.get(c, c) for c in fb.categories], dtype=object), None)
        per_pair = per_pair.fillna(pd.Series(cats[code]))
    per_pair = per_pair.fillna(S.UNANNOTATED).astype(str)
    codes, cats = pd.factorize(per_pair)
    # small codes before broadcasting to the rows: less memory to move
    return pd.Categorical.from_codes(codes.astype(small_int(len(cats)))[pair_codes], categories=pd.Index(cats), validate=False)


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
