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



# --- orientation resources for tables that list some pairs receptor first (csv format) --------


@lru_cache(maxsize=1)
def directed_pairs() -> frozenset[tuple[str, str]]:
    """(ligand, receptor) pairs, canonical, that the bundled resources state with a direction:
    CellChatDB's (ligand, receptor) table and CellPhoneDB v5.0.0's interactions oriented by the
    rule above (Ligand-Receptor rows partner A first; others turned when only partner A is a
    receptor). A pair both resources list both ways round is left out (no direction)."""
    from ._pathways import pathway_table

    t = pathway_table()
    pairs = set(zip(t[S.LIGAND], t[S.RECEPTOR]))
    path = _database_path(None)
    with zipfile.ZipFile(path) as z:
        names = {Path(n).name: n for n in z.namelist()}
        it = pd.read_csv(io.BytesIO(z.read(names["interaction_table.csv"])), dtype="string")
        md = pd.read_csv(io.BytesIO(z.read(names["multidata_table.csv"])), dtype="string")
    name = dict(zip(md["id_multidata"], md["name"]))
    receptor = dict(zip(md["id_multidata"], md["receptor"].str.lower() == "true"))
    symbols = partner_symbols(None)
    for a_id, b_id, direction in zip(it["multidata_1_id"], it["multidata_2_id"], it["directionality"]):
        a, b = symbols.get(name.get(a_id)), symbols.get(name.get(b_id))
        if not isinstance(a, str) or not isinstance(b, str):
            continue
        ma, mb = _SMALL_MOLECULE.match(name[a_id]), _SMALL_MOLECULE.match(name[b_id])
        a = S.small_molecule_name(ma.group(1), a) if ma else a
        b = S.small_molecule_name(mb.group(1), b) if mb else b
        swap = direction != LIGAND_RECEPTOR and receptor.get(a_id) and not receptor.get(b_id)
        pairs.add((b, a) if swap else (a, b))
    both = {p for p in pairs if (p[1], p[0]) in pairs}
    return frozenset(pairs - both)


@lru_cache(maxsize=1)
def receptor_genes() -> frozenset[str]:
    """Genes the bundled resources only ever use on the receptor side (a receptor list for
    orienting pairs neither resource knows)."""
    pairs = directed_pairs()
    ligands = {g for lig, _ in pairs for g in S.subunit_genes(lig)}
    receptors = {g for _, rec in pairs for g in S.subunit_genes(rec)}
    return frozenset(receptors - ligands)


def _v2_name(name: str) -> str:
    """A v5 complex name as CellPhoneDB v2-v4 wrote it in ``interacting_pair``: spaces for the last
    underscore-joined words, integrins without the prefix ("integrin_aLb2_complex" -> "aLb2 complex",
    "ACVR_1B2A_receptor" -> "ACVR_1B2A receptor")."""
    n = name.removeprefix("integrin_")
    for word in ("complex", "receptor"):
        if n.endswith("_" + word):
            return n[: -len(word) - 1] + " " + word
    return n


@lru_cache(maxsize=1)
def known_names() -> frozenset[str]:
    """Every partner name the bundled resources know: gene symbols, CellPhoneDB partner and
    complex names (also as CellPhoneDB <= v4 wrote them, with spaces), canonical subunit names.
    Used to split a pair column on a separator that also occurs inside names ('_')."""
    symbols = partner_symbols(None)
    out = set(symbols) | {_v2_name(k) for k in symbols} | {k.replace("_", " ") for k in symbols}
    out |= {v for v in symbols.values() if isinstance(v, str)}
    for v in list(out):
        out.update(S.subunit_genes(v))
    for lig, rec in directed_pairs():
        out.update((lig, rec, *S.subunit_genes(lig), *S.subunit_genes(rec)))
    return frozenset(out)


def cellphonedb_names(names) -> dict[str, str]:
    """name -> canonical symbols for names CellPhoneDB's database knows (complexes, also written
    with spaces as CellPhoneDB <= v4 did: "ACVR_1B2A receptor" -> ACVR1B_ACVR2A; small molecules
    keep the metabolite's name); other names are left out."""
    symbols = partner_symbols(None)
    v2 = {_v2_name(k): k for k in symbols}
    out = {}
    for n in names:
        key = str(n).strip()
        key = key if key in symbols else v2.get(key, key.replace(" ", "_"))
        sym = symbols.get(key)
        if isinstance(sym, str):
            m = _SMALL_MOLECULE.match(key.replace(" ", "_"))
            out[n] = S.small_molecule_name(m.group(1), sym) if m else sym
    return out
