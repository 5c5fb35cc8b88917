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


if __name__ == "__main__":
    t = derive(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
    print(f"wrote {len(t)} interactions, {t[PATHWAY].nunique()} pathways")
