"""Scale generator: a seeded synthetic study at realistic scale, in the tools' own formats.

The study: 30 PBMC cell types × days 0, 3, 7, 14, 28 × groups placebo, low, mid, high
(20 runs) over the full CellPhoneDB v5.0.0 interaction list (2,911 interactions, read from
``loaders/cellphonedb-v5.0.0.zip``: ``interaction_table.csv`` + ``multidata_table.csv`` +
``protein_table.csv`` + ``gene_table.csv``), 900 sender|receiver pairs per run.

Model. Every partner (protein or complex) has a latent expression propensity per cell type
(partner effect + cell-type effect + noise, fixed for the study) plus per-run noise; MX1+
monocytes turn interferon-like partners (and ICAM1, CD86, ANXA1, LGALS9, APP, IL16, RETN)
up after dosing, peaking on day 7, more at higher dose. In a run, interaction i is expressed
for the column ``A|B`` when min(propensity of partner_a in A, partner_b in B) is among the
run's top ``edges_per_run`` cells; there the CellPhoneDB mean is the mean of the two
partners' expression (3 decimals, > 0), the p-value (3 decimals, as 1,000 permutations give)
is low for strong cells and ~35% are <= 0.05; elsewhere mean 0.0 and p-value 1.0, as
CellPhoneDB writes them. ``significant_means`` holds the mean where p <= 0.05.

Outputs (all seeded, all cached under ``bench/.cache/`` or ``$COMMGRAPH_BENCH_CACHE``):

* CellPhoneDB v5 method-2 folders: ``statistical_analysis_{means,pvalues,significant_means}_<suffix>.txt``
  with CellPhoneDB's own annotation columns, built from the database the way CellPhoneDB
  builds them (``interacting_pair``, ``partner_a``/``partner_b`` = ``simple:``/``complex:``,
  ``gene_a``/``gene_b``, ``secreted``, ``receptor_a``/``receptor_b``, ``is_integrin``, ...);
* LIANA+ ``rank_aggregate`` tables (CSV), one per run, the expressed cells only (LIANA keeps
  only pairs passing ``expr_prop``);
* canonical tables (parquet) of N SIGNALS edges: the expressed (mean > 0) cells of the 20
  CellPhoneDB runs of a study whose ``edges_per_run`` = N / 20, exactly as
  ``commgraph.formats.read`` turns those runs into rows (orientation, complex names,
  pathways, ``extra`` and the de-duplication of colliding pairs come from the real parser,
  applied to a one-column probe run). :func:`verify_run` checks that claim on a real run.

Run ``python -m bench.generate --help``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from commgraph import _schema as S  # noqa: E402

DATABASE = REPO / "loaders" / "cellphonedb-v5.0.0.zip"
CACHE = Path(os.environ.get("COMMGRAPH_BENCH_CACHE", BENCH / ".cache"))
SUFFIX = "bench"  # CellPhoneDB output_suffix

CELL_TYPES = (
    "MX1+ Mono", "CD14 Mono", "CD16 Mono", "LGALS2+ Mono", "cDC1", "cDC2", "pDC", "ASDC",
    "CD4 Naive T", "CD4 TCM", "CD4 TEM", "CD4 CTL", "Treg", "CD8 Naive T", "CD8 TCM", "CD8 TEM",
    "MAIT", "gdT", "dnT", "NK", "NK CD56bright", "NK Proliferating", "B naive", "B intermediate",
    "B memory", "Plasmablast", "Platelet", "Eryth", "HSPC", "ILC",
)
DAYS = (0, 3, 7, 14, 28)
GROUPS = ("placebo", "low", "mid", "high")
ANCHOR = "MX1+ Mono"  # the cell type the benchmarks' anchored queries ask about
DOSE = {"placebo": 0.0, "low": 0.5, "mid": 1.0, "high": 2.0}
PEAK = {0: 0.0, 3: 0.5, 7: 1.0, 14: 0.4, 28: 0.1}
# the pairs DESIGN.md's users ask about: well expressed in blood, so present at every size
HIGHLIGHT = ("ICAM1_integrin_aLb2_complex", "CD86_CTLA4", "APP_CD74", "ANXA1_FPR1", "LGALS9_HAVCR2")
RESPONDERS = ("ICAM1", "CD86", "ANXA1", "LGALS9", "APP", "IL16", "RETN", "MX1", "ISG15", "CXCL10")
# CellPhoneDB's annotation columns, in its order (means/pvalues; significant_means adds rank)
ANNOTATION = ["id_cp_interaction", "interacting_pair", "partner_a", "partner_b", "gene_a", "gene_b", "secreted",
              "receptor_a", "receptor_b", "annotation_strategy", "is_integrin", "directionality", "classification"]
LIANA_COLUMNS = ["source", "target", "ligand_complex", "receptor_complex", "lr_means", "cellphone_pvals", "expr_prod",
                 "scaled_weight", "lr_logfc", "spec_weight", "lrscore", "specificity_rank", "magnitude_rank"]


@dataclass(frozen=True)
class Study:
    """A synthetic study; ``edges_per_run`` sets the expression density (expressed cells per run)."""

    edges_per_run: int = 500_000
    n_cell_types: int = len(CELL_TYPES)
    days: tuple[int, ...] = DAYS
    groups: tuple[str, ...] = GROUPS
    seed: int = 20251124
    max_interactions: int | None = None  # None: the full CellPhoneDB list

    @property
    def cell_types(self) -> tuple[str, ...]:
        return CELL_TYPES[: self.n_cell_types]

    @property
    def runs(self) -> list[tuple[int, str]]:
        return [(d, g) for d in self.days for g in self.groups]

    @property
    def n_edges(self) -> int:
        return self.edges_per_run * len(self.runs)

    @property
    def tag(self) -> str:
        extra = "" if self.max_interactions is None else f"-i{self.max_interactions}"
        return (f"v2-ct{self.n_cell_types}-d{len(self.days)}-g{len(self.groups)}-e{self.edges_per_run}"
                f"{extra}-s{self.seed}")

    @staticmethod
    def for_edges(n_edges: int, **kw) -> "Study":
        base = Study(**kw)
        return replace(base, edges_per_run=int(round(n_edges / len(base.runs))))


# --- the CellPhoneDB database: interactions with CellPhoneDB's annotation columns ----------


@lru_cache(maxsize=2)
def interactions(database: str = str(DATABASE)) -> pd.DataFrame:
    """CellPhoneDB's annotation columns for every interaction of the database, in its order,
    plus the multidata ids of both partners (``md_a``, ``md_b``). Built as CellPhoneDB builds
    them (cpdb_statistical_analysis_complex_method.build_results)."""
    with zipfile.ZipFile(database) as z:
        def table(name):
            return pd.read_csv(io.BytesIO(z.read(name)), keep_default_na=False, na_values=[""])

        it, md = table("interaction_table.csv"), table("multidata_table.csv")
        prot, genes = table("protein_table.csv"), table("gene_table.csv")
    gene_of_protein = genes.drop_duplicates("protein_id").set_index("protein_id")["gene_name"]
    gene_of_md = prot.set_index("protein_multidata_id")["id_protein"].map(gene_of_protein)
    md = md.set_index("id_multidata")
    out = pd.DataFrame({"id_cp_interaction": it["id_cp_interaction"]})
    parts = {}
    for side, col in (("a", "multidata_1_id"), ("b", "multidata_2_id")):
        ids = it[col]
        m = md.loc[ids].reset_index(drop=True)
        gene = ids.map(gene_of_md)
        is_complex = m["is_complex"].astype(bool)
        parts[side] = (m, gene, is_complex)
        out[f"partner_{side}"] = np.where(is_complex, "complex:", "simple:") + m["name"].astype(str)
        out[f"gene_{side}"] = gene.where(~is_complex.to_numpy(), None)
        out[f"md_{side}"] = ids.to_numpy()
    (ma, ga, ca), (mb, gb, cb) = parts["a"], parts["b"]
    name_a = np.where(ca, ma["name"], ga.fillna(ma["name"]))
    name_b = np.where(cb, mb["name"], gb.fillna(mb["name"]))
    out["interacting_pair"] = pd.Series(name_a, dtype=object) + "_" + pd.Series(name_b, dtype=object)
    out["secreted"] = (ma["secreted"].astype(bool) | mb["secreted"].astype(bool)).to_numpy()
    out["receptor_a"] = ma["receptor"].astype(bool).to_numpy()
    out["receptor_b"] = mb["receptor"].astype(bool).to_numpy()
    out["annotation_strategy"] = it["annotation_strategy"]
    out["is_integrin"] = (ma["integrin"].astype(bool) | mb["integrin"].astype(bool)).to_numpy()
    out["directionality"] = it["directionality"]
    out["classification"] = it["classification"]
    out["gene_symbol_a"], out["gene_symbol_b"] = ga.to_numpy(), gb.to_numpy()
    return out[ANNOTATION + ["md_a", "md_b", "gene_symbol_a", "gene_symbol_b"]]


def study_interactions(study: Study) -> pd.DataFrame:
    it = interactions()
    if study.max_interactions is not None and study.max_interactions < len(it):
        rng = np.random.default_rng(study.seed + 1)
        keep = np.sort(rng.choice(len(it), size=study.max_interactions, replace=False))
        it = it.iloc[keep].reset_index(drop=True)
    return it


def pair_columns(study: Study) -> list[str]:
    """CellPhoneDB's 'A|B' columns: every ordered pair of (sorted) cell types."""
    cts = sorted(study.cell_types)
    return [f"{a}|{b}" for a in cts for b in cts]


# --- the latent model ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _propensity(study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Study-level propensity per partner × cell type, and which partners respond to dosing."""
    it = study_interactions(study)
    partners = np.unique(np.concatenate([it["md_a"].to_numpy(), it["md_b"].to_numpy()]))
    rng = np.random.default_rng(study.seed)
    n_p, n_c = len(partners), len(sorted(study.cell_types))
    base = rng.normal(0.0, 1.0, size=(n_p, 1)) + rng.normal(0.0, 0.6, size=(1, n_c)) + rng.normal(0.0, 1.0, size=(n_p, n_c))
    highlight = it["interacting_pair"].isin(HIGHLIGHT)
    hot = np.isin(partners, np.concatenate([it.loc[highlight, "md_a"], it.loc[highlight, "md_b"]]))
    base[hot] += 3.0
    responder = rng.random(n_p) < 0.08  # "interferon-stimulated" partners
    sym = pd.concat([pd.Series(it["gene_symbol_a"].to_numpy(), index=it["md_a"]),
                     pd.Series(it["gene_symbol_b"].to_numpy(), index=it["md_b"])])
    sym = sym[~sym.index.duplicated()]
    responder |= np.isin(sym.reindex(partners).to_numpy(dtype=object), RESPONDERS)
    level = rng.gamma(2.0, 0.35, size=(n_p, n_c))  # expression scale where expressed
    return partners, base, responder, level


def run_cells(study: Study, day: int, group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one run: (expressed mask, means, pvalues), each interactions × pairs (pair-major
    columns in :func:`pair_columns` order), means 0.0 and p-values 1.0 where not expressed."""
    partners, base, responder, level = _propensity(study)
    cts = sorted(study.cell_types)
    run_index = study.runs.index((day, group))
    rng = np.random.default_rng([study.seed, run_index])
    z = base + rng.normal(0.0, 0.35, size=base.shape)
    if ANCHOR in cts:
        effect = 1.2 * DOSE.get(group, 0.0) * PEAK.get(day, 0.0)
        z[responder, cts.index(ANCHOR)] += effect
    return _cells(study, z, rng)


def _cells(study: Study, z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expressed, means, pvalues) of one run from its latent propensity ``z`` (partners × cell
    types); ``rng`` draws the p-values."""
    it = study_interactions(study)
    partners, _, _, level = _propensity(study)
    n_c = len(study.cell_types)
    ia = np.searchsorted(partners, it["md_a"].to_numpy())
    ib = np.searchsorted(partners, it["md_b"].to_numpy())
    za, zb = z[ia].astype(np.float32), z[ib].astype(np.float32)  # interactions × cell types
    grid = np.minimum(za[:, :, None], zb[:, None, :]).reshape(len(it), n_c * n_c)  # [i, A*n_c + B]
    k = min(study.edges_per_run, grid.size)
    flat = grid.ravel()
    thr = np.partition(flat, flat.size - k)[flat.size - k] if k > 0 else np.inf
    expressed = grid >= thr
    if expressed.sum() > k:  # ties at the threshold: drop the surplus deterministically
        surplus = np.flatnonzero((grid == thr).ravel())[: int(expressed.sum() - k)]
        expressed.ravel()[surplus] = False
    la, lb = level[ia], level[ib]
    ea = la * np.exp(0.4 * (z[ia] - 1.0))
    eb = lb * np.exp(0.4 * (z[ib] - 1.0))
    means = ((ea[:, :, None] + eb[:, None, :]) / 2).reshape(grid.shape)
    means = np.maximum(np.round(means, 3), 0.001)
    means[~expressed] = 0.0
    # p-values: stronger (further above the threshold) cells are likelier significant
    strength = np.clip((grid - thr) / 1.5, 0.0, 3.0)
    u = rng.random(grid.shape)
    p = np.round(np.minimum(1.0, u ** (1.0 + 4.0 * strength) * 0.8), 3)
    p[~expressed] = 1.0
    return expressed, means, p


# --- writers -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _lut() -> np.ndarray:
    """Text of k/1000 as pandas/CellPhoneDB write it (repr), for k in 0..99,999; '' last."""
    vals = [repr(k / 1000) for k in range(100_000)]
    return np.array(vals + [""], dtype=object)


def _format_block(values: np.ndarray) -> list[str]:
    """Rows of tab-joined 3-decimal numbers; NaN as an empty cell."""
    lut = _lut()
    missing = np.isnan(values)
    codes = np.rint(np.nan_to_num(values) * 1000).astype(np.int64)
    if codes.max(initial=0) >= len(lut) - 1 or codes.min(initial=0) < 0:
        raise ValueError("values outside 0..99.999 do not fit the lookup table")
    codes[missing] = len(lut) - 1
    return ["\t".join(row) for row in lut[codes]]


def _annotation_lines(it: pd.DataFrame, rank: np.ndarray | None = None) -> list[str]:
    ann = it[ANNOTATION].copy()
    for c in ("secreted", "receptor_a", "receptor_b", "is_integrin"):
        ann[c] = ann[c].map({True: "True", False: "False"})
    ann = ann.astype(object).where(ann.notna(), "")
    rows = ["\t".join(map(str, r)) for r in ann.itertuples(index=False)]
    if rank is not None:
        rows = [f"{r}\t{repr(float(x))}" for r, x in zip(rows, rank)]
    return rows


def write_cellphonedb_run(study: Study, day: int, group: str, folder: Path) -> Path:
    """One run's CellPhoneDB v5 output folder (means, pvalues, significant_means)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / ".complete"
    if done.exists():
        return folder
    it = study_interactions(study)
    pairs = pair_columns(study)
    expressed, means, p = run_cells(study, day, group)
    sig = np.where(expressed & (p <= 0.05), means, np.nan)
    rank = np.round((~np.isnan(sig)).sum(axis=1) / len(pairs), 3)
    header = "\t".join(ANNOTATION + pairs)
    ann = _annotation_lines(it)
    for role, values, annot, head in (
        ("means", means, ann, header),
        ("pvalues", p, ann, header),
        ("significant_means", sig, _annotation_lines(it, rank), "\t".join(ANNOTATION + ["rank"] + pairs)),
    ):
        body = _format_block(values)
        path = folder / f"statistical_analysis_{role}_{SUFFIX}.txt"
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(head + "\n")
            fh.writelines(f"{a}\t{b}\n" for a, b in zip(annot, body))
    done.write_text(json.dumps({"study": study.tag, "day": day, "group": group}))
    return folder


def cellphonedb_run(study: Study, day: int, group: str) -> Path:
    return write_cellphonedb_run(study, day, group, CACHE / "cellphonedb" / study.tag / f"d{day}_{group}")


def write_liana_run(study: Study, day: int, group: str, path: Path) -> Path:
    """One run as LIANA+ rank_aggregate output (expressed cells only), CSV."""
    if path.exists():
        return path
    it = study_interactions(study)
    cts = sorted(study.cell_types)
    n_c = len(cts)
    expressed, means, p = run_cells(study, day, group)
    i_idx, col = np.nonzero(expressed)
    a, b = col // n_c, col % n_c
    probe = _probe(study)
    lig = probe["ligand"].to_numpy(dtype=object)[i_idx]
    rec = probe["receptor"].to_numpy(dtype=object)[i_idx]
    swap = probe["swap"].to_numpy()[i_idx]
    src = np.where(swap, b, a)
    dst = np.where(swap, a, b)
    keep = probe["kept"].to_numpy()[i_idx]  # LIANA's resource has each ligand-receptor pair once
    m, pv = means[i_idx, col], p[i_idx, col]
    rng = np.random.default_rng([study.seed, 99, study.runs.index((day, group))])
    n = len(m)
    mag = np.argsort(np.argsort(-m, kind="stable"), kind="stable") / max(n - 1, 1)
    spec = np.clip(pv * 0.6 + rng.random(n) * 0.05, 0, 1)
    cat = pd.Categorical.from_codes
    df = pd.DataFrame({
        "source": cat(src, cts), "target": cat(dst, cts), "ligand_complex": lig, "receptor_complex": rec,
        "lr_means": m, "cellphone_pvals": pv, "expr_prod": np.round(m * m * 2, 4),
        "scaled_weight": np.round(rng.random(n), 4), "lr_logfc": np.round(rng.normal(0, 1, n), 4),
        "spec_weight": np.round(rng.random(n) * 0.2, 4), "lrscore": np.round(0.5 + 0.5 * rng.random(n), 4),
        "specificity_rank": spec, "magnitude_rank": mag,
    })[keep]
    df = df.sort_values("magnitude_rank", kind="stable")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.rename(path)
    return path


def liana_run(study: Study, day: int, group: str) -> Path:
    return write_liana_run(study, day, group, CACHE / "liana" / study.tag / f"d{day}_{group}.csv")


# --- canonical tables ----------------------------------------------------------------------


@lru_cache(maxsize=4)
def _probe(study: Study) -> pd.DataFrame:
    """Per interaction, what commgraph's CellPhoneDB parser makes of it: ligand, receptor,
    interaction, pathway, extra, swap (source is the B side) and kept (not dropped as a
    duplicate ligand–receptor pair). Read from a one-column run through the real parser."""
    import commgraph as cg

    it = study_interactions(study)
    folder = CACHE / "probe" / study.tag
    folder.mkdir(parents=True, exist_ok=True)
    col = "SENDER|RECEIVER"
    header = "\t".join(ANNOTATION + [col])
    ann = _annotation_lines(it)
    # distinct scores so that the parser's choice among colliding pairs is the first of them
    scores = [repr(round(9.0 - i * 1e-3, 3)) for i in range(len(it))]
    for role in ("means", "pvalues"):
        vals = scores if role == "means" else ["0.001"] * len(it)
        (folder / f"statistical_analysis_{role}_{SUFFIX}.txt").write_text(
            header + "\n" + "".join(f"{a}\t{v}\n" for a, v in zip(ann, vals)))
    sig_head = "\t".join(ANNOTATION + ["rank", col])
    (folder / f"statistical_analysis_significant_means_{SUFFIX}.txt").write_text(
        sig_head + "\n" + "".join(f"{a}\t1.0\t{v}\n" for a, v in zip(ann, scores)))
    t = cg.read("cellphonedb", folder, day=0)
    ids = t[S.EXTRA].astype(str).map(lambda s: json.loads(s)["id_cp_interaction"])
    got = pd.DataFrame({
        "id": ids.to_numpy(), "ligand": t[S.LIGAND].astype(str).to_numpy(),
        "receptor": t[S.RECEPTOR].astype(str).to_numpy(), "interaction": t[S.INTERACTION].astype(str).to_numpy(),
        "pathway": t[S.PATHWAY].astype(str).to_numpy(), "extra": t[S.EXTRA].astype(str).to_numpy(),
        "swap": (t[S.SOURCE].astype(str) == "RECEIVER").to_numpy(),
    }).set_index("id")
    out = got.reindex(it["id_cp_interaction"]).reset_index(drop=True)
    out["kept"] = out["ligand"].notna()
    # colliding interactions (dropped in the probe) still carry their names: the parser
    # keeps, per cell pair, the best of them, so each may win somewhere
    dropped = ~out["kept"]
    if dropped.any():
        from commgraph.formats.cellphonedb import orient, read_wide

        w = read_wide(folder / f"statistical_analysis_means_{SUFFIX}.txt", "means")
        swap, lig, rec = orient(w, None)
        for j in np.flatnonzero(dropped.to_numpy()):
            out.loc[j, ["ligand", "receptor", "swap"]] = [lig[j], rec[j], bool(swap[j])]
            out.loc[j, "interaction"] = S.interaction_name(lig[j], rec[j])
            out.loc[j, "pathway"] = got.loc[got["interaction"] == out.loc[j, "interaction"], "pathway"].iloc[0]
            out.loc[j, "extra"] = json.dumps({"id_cp_interaction": it["id_cp_interaction"].iloc[j],
                                              "interacting_pair": it["interacting_pair"].iloc[j]},
                                             separators=(",", ":"))
    out["swap"] = out["swap"].astype(bool)
    return out


def run_table(study: Study, day: int, group: str) -> pd.DataFrame:
    """The expressed rows of one run as ``commgraph.formats.read`` would give them
    (canonical columns; strings as categoricals)."""
    expressed, means, p = run_cells(study, day, group)
    return _table(study, expressed, means, p, day=day, group=group, run_id=f"cellphonedb|d{day}|{group}",
                  source_files=f"synthetic:{study.tag}/d{day}_{group}")


def _table(study: Study, expressed: np.ndarray, means: np.ndarray, p: np.ndarray, *, day: int, group: str,
           run_id: str, source_files: str, sample: str | None = None, patient: str | None = None) -> pd.DataFrame:
    """Canonical rows of one run's expressed cells, as the CellPhoneDB parser makes them."""
    probe = _probe(study)
    cts = sorted(study.cell_types)
    n_c = len(cts)
    i_idx, col = np.nonzero(expressed.T)  # pair-major like the parser: col = pair, i = interaction
    i_idx, col = col, i_idx
    a, b = col // n_c, col % n_c
    swap = probe["swap"].to_numpy()[i_idx]
    src, dst = np.where(swap, b, a), np.where(swap, a, b)
    score, pv = means[i_idx, col], p[i_idx, col]
    sig = pv <= 0.05
    codes, names = pd.factorize(probe["interaction"])
    inter = codes[i_idx]
    # colliding interactions: per (source, target, pair) keep significant, then higher score, then lower p
    multi = pd.Series(codes).duplicated(keep=False).to_numpy()[i_idx]
    keep = np.ones(len(i_idx), dtype=bool)
    if multi.any():
        rows = np.flatnonzero(multi)
        order = np.lexsort((pv[rows], -score[rows], ~sig[rows]))
        key = pd.DataFrame({"s": src[rows], "t": dst[rows], "k": inter[rows]})
        drop = rows[order[key.iloc[order].duplicated().to_numpy()]]
        keep[drop] = False
    i_idx, src, dst, score, pv, sig, inter = (x[keep] for x in (i_idx, src, dst, score, pv, sig, inter))
    cells = pd.Index(cts)
    n = len(i_idx)

    def per_interaction(col: str) -> pd.Categorical:
        c, u = pd.factorize(probe[col])
        return pd.Categorical.from_codes(c[i_idx], categories=pd.Index(u))

    def const(v) -> pd.Categorical:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[v])

    def none() -> pd.Categorical:
        return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object))

    params = json.dumps({"read": {"database": DATABASE.name, "format": "cellphonedb", "suffix": SUFFIX}},
                        sort_keys=True)
    return pd.DataFrame({
        S.SOURCE: pd.Categorical.from_codes(src, categories=cells),
        S.TARGET: pd.Categorical.from_codes(dst, categories=cells),
        S.LIGAND: per_interaction("ligand"),
        S.RECEPTOR: per_interaction("receptor"),
        S.INTERACTION: pd.Categorical.from_codes(inter, categories=pd.Index(names)),
        S.PATHWAY: per_interaction("pathway"),
        S.SCORE: score,
        S.PVALUE: pv,
        S.SIGNIFICANT: sig,
        S.DAY: np.full(n, day, dtype=np.int64),
        S.GROUP: const(group),
        S.SAMPLE: none() if sample is None else const(sample),
        **({} if patient is None else {S.PATIENT: const(patient)}),
        S.METHOD: const("cellphonedb"),
        S.RUN_ID: const(run_id),
        S.TOOL: const("cellphonedb"),
        S.TOOL_VERSION: pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object)),
        S.DATABASE_VERSION: pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object)),
        S.PARAMETERS: const(params),
        S.SOURCE_FILES: const(source_files),
        S.EXTRA: per_interaction("extra"),
    })


def _union_categoricals(frames: list[pd.DataFrame]) -> pd.DataFrame:
    from pandas.api.types import union_categoricals

    out = {}
    for c in frames[0].columns:
        if isinstance(frames[0][c].dtype, pd.CategoricalDtype):
            out[c] = union_categoricals([f[c] for f in frames], ignore_order=True)
        else:
            out[c] = np.concatenate([f[c].to_numpy() for f in frames])
    return pd.DataFrame(out)


def cell_counts(study: Study) -> pd.DataFrame:
    """Cells per cell type, day and group (``cell_type, day, group, n_cells``), seeded; MX1+
    monocytes expand after dosing like their signaling."""
    rng = np.random.default_rng(study.seed + 7)
    cts = list(study.cell_types)
    base = rng.gamma(2.0, 400.0, size=len(cts)).astype(int) + 20
    rows = []
    for r, (day, group) in enumerate(study.runs):
        noise = np.random.default_rng([study.seed + 7, r]).normal(1.0, 0.1, size=len(cts))
        for j, ct in enumerate(cts):
            n = base[j] * max(noise[j], 0.2)
            if ct == ANCHOR:
                n *= 1.0 + DOSE.get(group, 0.0) * PEAK.get(day, 0.0)
            rows.append({S.CELL_TYPE_PROP: ct, S.DAY: day, S.GROUP: group, S.N_CELLS: int(n)})
    return pd.DataFrame(rows)


def counts_path(n_edges: int, **study_kw) -> Path:
    return CACHE / "canonical" / f"{Study.for_edges(n_edges, **study_kw).tag}.counts.parquet"


def canonical_path(n_edges: int, **study_kw) -> Path:
    return CACHE / "canonical" / f"{Study.for_edges(n_edges, **study_kw).tag}.parquet"


def canonical_table(n_edges: int, *, read: bool = True, **study_kw) -> pd.DataFrame | Path:
    """The canonical table of the study with ~``n_edges`` SIGNALS edges (cached parquet).

    Strings are categoricals (as parsers hand them over, and as a notebook would hold them).
    """
    study = Study.for_edges(n_edges, **study_kw)
    path = canonical_path(n_edges, **study_kw)
    if not path.exists():
        parts = [run_table(study, d, g) for d, g in study.runs]
        table = _union_categoricals(parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        table.to_parquet(tmp, index=False, compression="zstd", row_group_size=1_000_000)
        cell_counts(study).to_parquet(counts_path(n_edges, **study_kw), index=False)
        tmp.rename(path)
        del table, parts
    return read_canonical(path) if read else path


def read_canonical(path: str | os.PathLike) -> pd.DataFrame:
    """A cached canonical table; strings as categoricals (all-null columns too)."""
    df = pd.read_parquet(path)
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype("category")
    return df


# --- the per-sample study: one run per patient × day ---------------------------------------------


@dataclass(frozen=True)
class SampleStudy:
    """A per-patient study: ``n_patients`` patients per group, each sampled on every day, one
    CellPhoneDB run per sample (``sample`` = ``P07_d3``, ``patient`` = ``P07``), ~``n_edges``
    expressed cells in all. Per-sample variation: each patient has a fixed offset on every
    partner × cell type (normal, sd 0.3) and a response strength of their own (lognormal), and
    every sample its own noise (sd 0.35), so that ``differential`` has patients to pair and
    effects to find (MX1+ monocytes' responders, peaking on day 7, scaled by dose)."""

    n_edges: int = 10_000_000
    n_patients: int = 6
    n_cell_types: int = len(CELL_TYPES)
    days: tuple[int, ...] = DAYS
    groups: tuple[str, ...] = GROUPS
    seed: int = 20251124
    max_interactions: int | None = None

    @property
    def runs(self) -> list[tuple[str, int, int]]:
        """(group, patient number, day) per sample; patients numbered across groups from 1."""
        return [(g, gi * self.n_patients + k + 1, d) for gi, g in enumerate(self.groups)
                for k in range(self.n_patients) for d in self.days]

    @property
    def edges_per_run(self) -> int:
        return int(round(self.n_edges / len(self.runs)))

    @property
    def study(self) -> Study:
        """The pooled-study parameters this study shares (interactions, propensities, parser probe)."""
        return Study(edges_per_run=self.edges_per_run, n_cell_types=self.n_cell_types, days=self.days,
                     groups=self.groups, seed=self.seed, max_interactions=self.max_interactions)

    @property
    def tag(self) -> str:
        extra = "" if self.max_interactions is None else f"-i{self.max_interactions}"
        return (f"ps1-ct{self.n_cell_types}-d{len(self.days)}-g{len(self.groups)}-p{self.n_patients}"
                f"-e{self.edges_per_run}{extra}-s{self.seed}")

    @staticmethod
    def sample_id(patient: int, day: int) -> str:
        return f"P{patient:02d}_d{day}"


def sample_cells(ps: SampleStudy, group: str, patient: int, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sample's (expressed, means, pvalues), as :func:`run_cells` for a pooled run."""
    study = ps.study
    partners, base, responder, level = _propensity(study)
    cts = sorted(study.cell_types)
    prng = np.random.default_rng([ps.seed, 777, patient])  # the patient: the same on every day
    offset = prng.normal(0.0, 0.3, size=base.shape)
    strength = prng.lognormal(0.0, 0.35)
    rng = np.random.default_rng([ps.seed, 778, patient, day])
    z = base + offset + rng.normal(0.0, 0.35, size=base.shape)
    if ANCHOR in cts:
        z[responder, cts.index(ANCHOR)] += 1.2 * strength * DOSE.get(group, 0.0) * PEAK.get(day, 0.0)
    return _cells(study, z, rng)


def sample_table(ps: SampleStudy, group: str, patient: int, day: int) -> pd.DataFrame:
    sample = ps.sample_id(patient, day)
    expressed, means, p = sample_cells(ps, group, patient, day)
    return _table(ps.study, expressed, means, p, day=day, group=group, run_id=f"cellphonedb|{sample}",
                  source_files=f"synthetic:{ps.tag}/{sample}", sample=sample, patient=f"P{patient:02d}")


def sample_counts(ps: SampleStudy) -> pd.DataFrame:
    """Cells per cell type and sample (``cell_type, day, group, sample, n_cells``): a patient
    factor per cell type, sample noise; MX1+ monocytes expand after dosing."""
    rng = np.random.default_rng(ps.seed + 7)
    cts = list(ps.study.cell_types)
    base = rng.gamma(2.0, 80.0, size=len(cts)) + 5
    rows = []
    for group, patient, day in ps.runs:
        pf = np.random.default_rng([ps.seed, 779, patient]).lognormal(0.0, 0.3, size=len(cts))
        noise = np.random.default_rng([ps.seed, 780, patient, day]).lognormal(0.0, 0.2, size=len(cts))
        for j, ct in enumerate(cts):
            n = base[j] * pf[j] * noise[j]
            if ct == ANCHOR:
                n *= 1.0 + DOSE.get(group, 0.0) * PEAK.get(day, 0.0)
            rows.append({S.CELL_TYPE_PROP: ct, S.DAY: day, S.GROUP: group, S.SAMPLE: ps.sample_id(patient, day),
                         S.N_CELLS: max(int(n), 1)})
    return pd.DataFrame(rows)


LAYOUT_KEY = b"commgraph.bench.layout"


def per_sample_path(ps: SampleStudy) -> Path:
    return CACHE / "per_sample" / f"{ps.tag}.parquet"


def per_sample_counts_path(ps: SampleStudy) -> Path:
    return CACHE / "per_sample" / f"{ps.tag}.counts.parquet"


def per_sample_table(ps: SampleStudy, *, progress: bool = False) -> Path:
    """The per-sample study's canonical table (cached parquet, one row group per run), written
    run by run: memory is one run's, not the study's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = per_sample_path(ps)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = schema = None
    t0 = time.perf_counter()
    try:
        for i, (group, patient, day) in enumerate(ps.runs):
            tab = pa.Table.from_pandas(sample_table(ps, group, patient, day), preserve_index=False)
            if schema is None:  # one schema for every run: dictionaries of strings with int32 codes
                fields = [pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                          if pa.types.is_dictionary(f.type) else f for f in tab.schema]
                schema = pa.schema(fields, metadata={**tab.schema.metadata, LAYOUT_KEY: b"one run per row group"})
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(tab.cast(schema), row_group_size=len(tab) + 1)
            if progress and (i + 1) % 10 == 0:
                print(f"  {ps.tag}: {i + 1}/{len(ps.runs)} runs ({time.perf_counter() - t0:.0f} s)", flush=True)
    finally:
        if writer is not None:
            writer.close()
    sample_counts(ps).to_parquet(per_sample_counts_path(ps), index=False)
    tmp.rename(path)
    return path


def iter_runs(path: str | os.PathLike, *, by_split: bool = False):
    """A cached table run by run (one row group each in per-sample tables; pooled tables are
    grouped by run id after reading): (run_id, DataFrame with strings as categoricals). In file
    order, or with ``by_split`` in day × group order, as ``load_manifest`` writes a manifest's runs."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    if LAYOUT_KEY in (f.schema_arrow.metadata or {}):
        order = list(range(f.metadata.num_row_groups))
        if by_split:
            first = [f.read_row_group(i, columns=[S.DAY, S.GROUP]).slice(0, 1).to_pylist()[0] for i in order]
            order.sort(key=lambda i: (first[i][S.DAY], first[i][S.GROUP]))
        for i in order:
            df = f.read_row_group(i).to_pandas()
            yield str(df[S.RUN_ID].iloc[0]), df
        return
    table = read_canonical(path)
    if by_split:
        table = table.sort_values([S.DAY, S.GROUP], kind="stable")
    for run_id, part in table.groupby(S.RUN_ID, observed=True, sort=False):
        yield str(run_id), part.reset_index(drop=True)


def verify_run(study: Study, day: int, group: str) -> None:
    """The canonical rows of a run equal ``commgraph.formats.read`` of its CellPhoneDB files
    restricted to expressed cells (mean > 0). Raises AssertionError if not."""
    import commgraph as cg

    folder = cellphonedb_run(study, day, group)
    parsed = cg.read("cellphonedb", folder, day=day, group=group, run_id=f"cellphonedb|d{day}|{group}")
    parsed = parsed[parsed[S.SCORE] > 0]
    mine = run_table(study, day, group)
    cols = [S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.INTERACTION, S.PATHWAY, S.SCORE, S.PVALUE, S.SIGNIFICANT,
            S.EXTRA]
    a = parsed[cols].astype({c: str for c in cols if c not in (S.SCORE, S.PVALUE, S.SIGNIFICANT)})
    b = mine[cols].astype({c: str for c in cols if c not in (S.SCORE, S.PVALUE, S.SIGNIFICANT)})
    key = [S.SOURCE, S.TARGET, S.INTERACTION]
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b), f"{len(a)} parsed rows vs {len(b)} generated"
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


# --- command line ------------------------------------------------------------------------------


def edge_count(text: str) -> int:
    """'10M', '250k' or '1000000' as a number of edges."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--edges", default="1M,5M,10M",
                    help="canonical table sizes (SIGNALS edges), comma-separated (default 1M,5M,10M)")
    ap.add_argument("--cellphonedb-runs", type=int, default=1,
                    help="how many of the 20 runs to write as CellPhoneDB folders (0..20; default 1)")
    ap.add_argument("--liana-runs", type=int, default=1, help="how many runs to write as LIANA+ CSV (default 1)")
    ap.add_argument("--density-edges", type=int, default=10_000_000,
                    help="expression density of the tool files, as the study's total expressed cells (default 10M)")
    ap.add_argument("--per-sample", default="",
                    help="per-sample study tables (one run per patient × day, 6 patients per group), e.g. 10M,30M")
    ap.add_argument("--verify", action="store_true", help="check one run against commgraph.formats.read")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tool_study = Study.for_edges(args.density_edges)
    for d, g in tool_study.runs[: args.cellphonedb_runs]:
        print("cellphonedb", cellphonedb_run(tool_study, d, g))
    for d, g in tool_study.runs[: args.liana_runs]:
        print("liana", liana_run(tool_study, d, g))
    for n in [edge_count(x) for x in args.edges.split(",") if x.strip()]:
        path = canonical_table(n, read=False)
        print(f"canonical {n:,}: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    for n in [edge_count(x) for x in args.per_sample.split(",") if x.strip()]:
        path = per_sample_table(SampleStudy(n_edges=n), progress=True)
        print(f"per-sample {n:,}: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    if args.verify:
        d, g = tool_study.runs[0]
        verify_run(tool_study, d, g)
        print("verify: canonical rows == commgraph.formats.read(...) of the CellPhoneDB files (mean > 0)")
    print(f"done in {time.perf_counter() - t0:.1f}s; cache {CACHE}")


if __name__ == "__main__":
    main()
