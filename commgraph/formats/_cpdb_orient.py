"""CellPhoneDB partner names to HGNC symbols (through the database zip), and which partner is
the ligand: the orientation rule of :mod:`commgraph.formats.cellphonedb`.
"""

from __future__ import annotations

import io
import re
import os
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .. import _schema as S
from .._resources import resource_dir
from ..errors import InputError
from ._cpdb_files import (
    DIRECTIONALITY,
    GENE_A,
    GENE_B,
    LIGAND_RECEPTOR,
    PARTNER_A,
    PARTNER_B,
    RECEPTOR_A,
    RECEPTOR_B,
    Wide,
)

BUNDLED_DATABASE = "cellphonedb-v5.0.0.zip"
# CellPhoneDB names a small molecule after the metabolite and the enzyme(s) making it
_SMALL_MOLECULE = re.compile(r"^(.+?)_by[A-Z0-9]")
_TRUE = {"true", "1", "yes", "t"}


def _database_path(database: str | os.PathLike | None) -> Path:
    path = Path(database) if database is not None else resource_dir("loaders") / BUNDLED_DATABASE
    if not path.is_file():
        raise InputError("CellPhoneDB database zip not found", file=str(path), column="database")
    return path


def partner_symbols(database: str | os.PathLike | None = None) -> Mapping[str, str]:
    """CellPhoneDB partner name (UniProt accession or complex name) → canonical symbol(s)."""
    path = _database_path(database)
    return _partner_symbols(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _partner_symbols(path: str, _mtime: int) -> Mapping[str, str]:
    try:
        with zipfile.ZipFile(path) as z:
            names = {Path(n).name: n for n in z.namelist()}

            def table(name: str) -> pd.DataFrame:
                return pd.read_csv(io.BytesIO(z.read(names[name])), dtype="string")

            if "multidata_table.csv" in names:
                md, prot, genes, comp = (table(f) for f in ("multidata_table.csv", "protein_table.csv", "gene_table.csv", "complex_composition_table.csv"))
                gene_of_protein = genes.drop_duplicates("protein_id").set_index("protein_id")["hgnc_symbol"]
                symbol_of_md = prot.set_index("protein_multidata_id")["id_protein"].map(gene_of_protein).dropna()
                comp = comp.assign(symbol=comp["protein_multidata_id"].map(symbol_of_md)).dropna(subset=["symbol"])
                complex_symbols = comp.groupby("complex_multidata_id")["symbol"].agg(lambda s: S.SUBUNIT_SEP.join(sorted(set(s))))
                by_id = pd.concat([symbol_of_md, complex_symbols])
                by_id = by_id[~by_id.index.duplicated()]
                return dict(zip(md["name"], md["id_multidata"].map(by_id)))
            if "gene_input.csv" in names and "complex_input.csv" in names:
                genes, comp = table("gene_input.csv"), table("complex_input.csv")
                sym = genes.drop_duplicates("uniprot").set_index("uniprot")["hgnc_symbol"]
                out = dict(sym.items())
                subunit_cols = [c for c in comp.columns if c.startswith("uniprot_")]
                for name, row in zip(comp["complex_name"], comp[subunit_cols].itertuples(index=False)):
                    parts = sorted({sym.get(u) for u in row if isinstance(u, str) and sym.get(u) is not None})
                    if parts:
                        out[name] = S.SUBUNIT_SEP.join(parts)
                return out
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise InputError(f"not a readable CellPhoneDB database zip ({e})", file=path, column="database") from e
    raise InputError(
        "not a CellPhoneDB database zip (expected multidata_table.csv or gene_input.csv + complex_input.csv)",
        file=path,
        column="database",
    )


def _flag(values: pd.Series) -> np.ndarray:
    return np.array([str(v).strip().lower() in _TRUE for v in values], dtype=bool)


def orient(main: Wide, database: str | os.PathLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per interaction: swap flag, ligand symbol, receptor symbol (see the module docstring).

    Works on the interactions (a few thousand), not on the long table.
    """
    a = main.annot
    for col in (PARTNER_A, PARTNER_B, RECEPTOR_A, RECEPTOR_B):
        if col not in a.columns:
            raise InputError(f"missing column {col!r} in the header", file=main.file, column=col, row=0)
    symbols = partner_symbols(database)
    sides = []
    for partner, gene in ((PARTNER_A, GENE_A), (PARTNER_B, GENE_B)):
        genes = a[gene].tolist() if gene in a.columns else [""] * len(a)
        out = []
        for i, (raw, g) in enumerate(zip(a[partner].tolist(), genes)):
            kind, sep, name = str(raw).partition(":")
            name = (name if sep else kind).strip()
            if not name:
                raise InputError("empty partner name", file=main.file, column=partner, row=i + 1)
            sym = symbols.get(name)
            if sym is None:  # CellPhoneDB <= v4 wrote complex names with spaces ("ACVR_1B2A receptor")
                sym = symbols.get(name.replace(" ", "_"))
            molecule = _SMALL_MOLECULE.match(name)
            if sym is not None and molecule:  # keep the metabolite's name, with the enzymes that make it
                sym = S.small_molecule_name(molecule.group(1), sym)
            if sym is None and kind.strip() != "complex" and str(g).strip():
                sym = str(g).strip()  # a simple partner the database lacks: CellPhoneDB's gene name
            if sym is None:
                raise InputError(
                    f"{raw!r} is not in the CellPhoneDB database used for gene names "
                    f"(pass database= the cellphonedb.zip the run used)",
                    file=main.file,
                    column=partner,
                    row=i + 1,
                )
            out.append(sym)
        sides.append(np.array(out, dtype=object))
    ra, rb = _flag(a[RECEPTOR_A]), _flag(a[RECEPTOR_B])
    if DIRECTIONALITY in a.columns:
        ligand_receptor = np.array([str(v).strip() == LIGAND_RECEPTOR for v in a[DIRECTIONALITY]], dtype=bool)
    else:
        ligand_receptor = np.zeros(len(a), dtype=bool)
    swap = ~ligand_receptor & ra & ~rb
    ligand = np.where(swap, sides[1], sides[0])
    receptor = np.where(swap, sides[0], sides[1])
    return swap, ligand, receptor

