"""Derive loaders/cellchatdb_pathways.csv and loaders/cellchatdb_complex.csv from CellChatDB.

Source: CellChatDB (human) as exported to CSV from ``data/CellChatDB.human.rda`` of
jinworks/CellChat, commit 75253cd (2026-03-04), GPL-3.0 — the files under
``/work/shared/data/cellchatdb-human/`` (or pass another folder as the first argument).

How:
- ``cellchatdb_complex.csv`` is ``complex.csv`` copied unchanged (complex name → subunits).
- ``cellchatdb_pathways.csv``: one row per CellChatDB interaction with the ligand and the
  receptor written canonically — a name found in ``complex.csv`` becomes its subunit gene
  symbols, de-duplicated, sorted and joined with ``_`` (``TGFbR1_R2`` → ``TGFBR1_TGFBR2``);
  any other name is already a gene symbol and is kept — plus ``pathway_name`` and
  ``annotation``. Rows that become the same (ligand, receptor) pair are kept once, first in
  CellChatDB's order (30 rows collapse, e.g. ``ADM_CALCR_RAMP1``/``ADM_CALCRL_RAMP1``; none of
  them disagree on the pathway). Sorted by ligand, receptor.

- ``cellphonedb_classification_pathways.csv``: CellPhoneDB v5.0.0's ``classification`` (the
  bundled ``loaders/cellphonedb-v5.0.0.zip``, MIT) → the CellChatDB pathway most of its
  interactions get from the table above (pair, else the ligand's single pathway), kept when that
  pathway holds at least 75% of the classification's interactions the table knows (at least 2):
  "Adhesion by Collagen/Integrin" → COLLAGEN (68 of 79), "Signaling by WNT inhibition" → WNT (99
  of 120), "Signaling by Amyloid-beta precursor protein" → APP. The pathway of a CellPhoneDB
  interaction CellChatDB doesn't know is then its classification's CellChatDB name where one
  exists. Classifications split between pathways ("Signaling by Chemokines": CCL 64, CXCL 27)
  are left out and stay as CellPhoneDB wrote them.

Run: ``python tests/data/make_pathways.py [cellchatdb-folder]`` from the repository top.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from commgraph._schema import ANNOTATION, LIGAND, PATHWAY, RECEPTOR, SUBUNIT_SEP  # noqa: E402

DEFAULT_SOURCE = Path("/work/shared/data/cellchatdb-human")


def subunit_map(complexes: pd.DataFrame) -> dict[str, str]:
    """complex name → its subunit symbols, de-duplicated, sorted, joined with '_'."""
    subunits = complexes.filter(like="subunit").stack().str.strip()  # drops empty cells
    subunits = subunits[subunits != ""]
    names = complexes.iloc[:, 0]
    return {names[i]: SUBUNIT_SEP.join(sorted(set(s))) for i, s in subunits.groupby(level=0)}


def derive(source: Path = DEFAULT_SOURCE, out: Path = REPO / "loaders") -> pd.DataFrame:
    interactions = pd.read_csv(source / "interaction.csv")
    complexes = pd.read_csv(source / "complex.csv")
    names = subunit_map(complexes)
    table = pd.DataFrame(
        {
            # CellChatDB's own columns are named ligand / receptor too
            LIGAND: interactions[LIGAND].map(lambda x: names.get(x, x)),
            RECEPTOR: interactions[RECEPTOR].map(lambda x: names.get(x, x)),
            PATHWAY: interactions["pathway_name"],
            ANNOTATION: interactions["annotation"],
        }
    )
    conflicts = table.groupby([LIGAND, RECEPTOR])[PATHWAY].nunique()
    if (conflicts > 1).any():
        raise SystemExit(f"pairs with more than one pathway: {conflicts[conflicts > 1].index.tolist()}")
    table = table.drop_duplicates([LIGAND, RECEPTOR], keep="first").sort_values([LIGAND, RECEPTOR])
    out.mkdir(exist_ok=True)
    table.to_csv(out / "cellchatdb_pathways.csv", index=False)
    shutil.copyfile(source / "complex.csv", out / "cellchatdb_complex.csv")
    return table


def derive_classifications(out: Path = REPO / "loaders", *, share: float = 0.75) -> pd.DataFrame:
    """CellPhoneDB classification -> CellChatDB pathway (see the module docstring)."""
    import io
    import zipfile

    from commgraph.formats._cpdb_orient import partner_symbols
    from commgraph.formats._pathways import pair_pathway

    with zipfile.ZipFile(REPO / "loaders" / "cellphonedb-v5.0.0.zip") as z:
        it = pd.read_csv(io.BytesIO(z.read("interaction_table.csv")))
        md = pd.read_csv(io.BytesIO(z.read("multidata_table.csv")))
    name = dict(zip(md["id_multidata"], md["name"]))
    symbols = partner_symbols()
    a = it["multidata_1_id"].map(name).map(symbols)
    b = it["multidata_2_id"].map(name).map(symbols)
    it["pw"] = [pair_pathway(x, y) if isinstance(x, str) and isinstance(y, str) else None for x, y in zip(a, b)]
    rows = []
    for cls, pw in it.dropna(subset=["pw", "classification"]).groupby("classification")["pw"]:
        counts = pw.value_counts()
        if counts.iloc[0] >= 2 and counts.iloc[0] >= share * counts.sum():
            rows.append({"classification": cls, PATHWAY: counts.index[0]})
    table = pd.DataFrame(rows, columns=["classification", PATHWAY]).sort_values("classification")
    table.to_csv(out / "cellphonedb_classification_pathways.csv", index=False)
    return table


if __name__ == "__main__":
    t = derive(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
    print(f"wrote {len(t)} interactions, {t[PATHWAY].nunique()} pathways")
    c = derive_classifications()
    print(f"wrote {len(c)} CellPhoneDB classifications mapped to CellChatDB pathways")
