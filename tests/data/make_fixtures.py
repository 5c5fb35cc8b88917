"""Regenerate the tool fixtures in tests/data/<tool>/ from real runs (see README.md here).

Run from the repository top, offline, with the [infer] extras installed:

    python tests/data/make_fixtures.py [--only cellphonedb,cellphonedb_deg,liana,cellchat]

Inputs (all public, unchanged; see /work/shared/data/README.md or set COMMGRAPH_REFDATA):
- CellPhoneDB's own test data (ventolab/CellphoneDB example_data/test_data, MIT):
  test.h5ad (10 cells x 17,198 genes, var names = Ensembl ids, log-normalised),
  test_meta.txt (cell -> cell_type: Myeloid, NKcells_0, NKcells_1, Tcells), test_degs.txt;
- the CellPhoneDB v5.0.0 database zip (vendored as loaders/cellphonedb-v5.0.0.zip);
- CellChatDB human interaction.csv (jinworks/CellChat 75253cd, GPL-3.0).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from commgraph import _schema as S  # noqa: E402
from commgraph.formats import FORMATS  # noqa: E402

REFDATA = Path(os.environ.get("COMMGRAPH_REFDATA", "/work/shared/data"))
CPDB_TEST = REFDATA / "cellphonedb-test"
DATABASE = REPO / "loaders" / "cellphonedb-v5.0.0.zip"
CELLCHATDB = REFDATA / "cellchatdb-human"
SUFFIX = "fixture"
SAMPLE_KEY = S.SAMPLE  # obs column of the invented samples = LIANA's default sample column name  # CellPhoneDB output_suffix; without it CellPhoneDB stamps the date and time
SEED = 42

CPDB_KEEP = {  # files kept from each CellPhoneDB run (the deconvoluted tables are not read)
    "cellphonedb": ("means", "pvalues", "significant_means", "interaction_scores"),
    "cellphonedb_deg": ("means", "relevant_interactions", "significant_means", "interaction_scores"),
}


def _patch_cellphonedb_scoring() -> None:
    """CellPhoneDB 5.0.1's interaction scoring hands scikit-learn a DataFrame with a repeated
    gene name (NRXN1: two proteins, one gene); scikit-learn >= 1.6 rejects duplicate feature
    names. Fit on the numbers instead — the same computation, no feature names."""
    from sklearn.preprocessing import MinMaxScaler
    from cellphonedb.utils import scoring_utils

    def scale_expression(matrix: pd.DataFrame, upper_range: int) -> pd.DataFrame:
        values = matrix.T.to_numpy()
        scaled = MinMaxScaler(feature_range=(0, upper_range), clip=True).fit(values).transform(values).T
        return pd.DataFrame(scaled, index=matrix.index, columns=matrix.columns)

    scoring_utils.scale_expression = scale_expression


def _keep(folder: Path, prefix: str, roles: tuple[str, ...]) -> None:
    for p in folder.iterdir():
        if not any(p.name == f"{prefix}_{r}_{SUFFIX}.txt" for r in roles):
            p.unlink()


def cellphonedb() -> None:
    """Method 2 (statistical analysis) on CellPhoneDB's test data."""
    _patch_cellphonedb_scoring()
    from cellphonedb.src.core.methods import cpdb_statistical_analysis_method

    out = HERE / "cellphonedb"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cpdb_statistical_analysis_method.call(
        cpdb_file_path=str(DATABASE),
        meta_file_path=str(CPDB_TEST / "test_meta.txt"),
        counts_file_path=str(CPDB_TEST / "test.h5ad"),
        counts_data="ensembl",  # test.h5ad's var names are Ensembl ids; 'hgnc_symbol' filters every gene out
        iterations=100,
        threads=1,  # debug_seed makes p-values reproducible only single-threaded (CellPhoneDB's docs)
        debug_seed=SEED,
        score_interactions=True,
        output_path=str(out),
        output_suffix=SUFFIX,
    )
    _keep(out, "statistical_analysis", CPDB_KEEP["cellphonedb"])


def cellphonedb_deg() -> None:
    """Method 3 (DEG-based analysis) on CellPhoneDB's test data and its test_degs.txt."""
    _patch_cellphonedb_scoring()
    from cellphonedb.src.core.methods import cpdb_degs_analysis_method

    out = HERE / "cellphonedb_deg"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cpdb_degs_analysis_method.call(
        cpdb_file_path=str(DATABASE),
        meta_file_path=str(CPDB_TEST / "test_meta.txt"),
        counts_file_path=str(CPDB_TEST / "test.h5ad"),
        degs_file_path=str(CPDB_TEST / "test_degs.txt"),
        counts_data="ensembl",
        threads=2,
        score_interactions=True,
        output_path=str(out),
        output_suffix=SUFFIX,
    )
    _keep(out, "degs_analysis", CPDB_KEEP["cellphonedb_deg"])


def symbol_anndata():
    """test.h5ad with Ensembl ids turned into HGNC symbols (CellPhoneDB v5.0.0 gene_table;
    ids the table lacks keep their id, so LIANA's resource ignores them; no symbol repeats)
    and obs['cell_type'] from test_meta.txt."""
    import anndata as ad

    with zipfile.ZipFile(DATABASE) as z:
        genes = pd.read_csv(z.open("gene_table.csv"), dtype=str)
    to_symbol = genes.drop_duplicates("ensembl").set_index("ensembl")["hgnc_symbol"]
    adata = ad.read_h5ad(CPDB_TEST / "test.h5ad")
    symbols = pd.Index([to_symbol.get(g, g) for g in adata.var_names])
    keep = ~symbols.duplicated()
    adata = adata[:, keep].copy()
    adata.var_names = symbols[keep]
    meta = pd.read_csv(CPDB_TEST / "test_meta.txt", sep="\t", index_col=0)
    adata.obs["cell_type"] = pd.Categorical(meta.loc[adata.obs_names, "cell_type"])
    return adata


def liana() -> None:
    """LIANA+ rank_aggregate, its CellPhoneDB method and rank_aggregate.by_sample."""
    import anndata as ad
    import liana as li

    out = HERE / "liana"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    adata = symbol_anndata()
    common = dict(groupby="cell_type", resource_name="consensus", expr_prop=0.1, min_cells=1,
                  use_raw=False, n_perms=100, seed=SEED, verbose=False)
    li.mt.rank_aggregate(adata, key_added="liana_res", **common)
    li.mt.cellphonedb(adata, key_added="liana_cellphonedb", **common)
    # an invented two-sample split: cells alternate s1, s2 in obs order (the test data has no samples)
    adata.obs[SAMPLE_KEY] = pd.Categorical(np.where(np.arange(adata.n_obs) % 2 == 0, "s1", "s2"))
    li.mt.rank_aggregate.by_sample(adata, sample_key=SAMPLE_KEY, key_added="liana_by_sample", **common)

    adata.uns["liana_res"].to_csv(out / "rank_aggregate.csv", index=False)
    adata.uns["liana_cellphonedb"].to_csv(out / "cellphonedb.csv", index=False)
    adata.uns["liana_by_sample"].to_csv(out / "by_sample.csv", index=False)
    # the same rank_aggregate result inside an .h5ad, as users save it (no genes kept: uns only)
    slim = ad.AnnData(obs=adata.obs[["cell_type"]].copy(), uns={"liana_res": adata.uns["liana_res"].reset_index(drop=True)})
    slim.write_h5ad(out / "rank_aggregate.h5ad", compression="gzip")


CELLCHAT_CELL_TYPES = ("MX1+ Mono", "CD14 Mono", "LGALS2+ Mono", "Treg", "CD4 Naive T", "NK")
CELLCHAT_INTERACTIONS = (  # CellChatDB interaction_name values
    "ICAM1_ITGAL_ITGB2", "ICAM1_ITGAX_ITGB2", "CD86_CTLA4", "CD86_CD28", "APP_CD74", "IL16_CD4",
    "ANXA1_FPR1", "ANXA1_FPR2", "LGALS9_HAVCR2", "LGALS9_CD44", "LGALS9_CD45", "RETN_CAP1",
    "RETN_TLR4", "TGFB1_TGFBR1_TGFBR2", "MIF_CD74_CXCR4", "MIF_CD74_CD44", "IL23A_IL23R_IL12RB1",
)
# subsetCommunication()'s columns, in order; the first four and prob/pval/pathway_name are in the
# cellchat format's column map (CellChat names several of them like the canonical columns)
_N = {canonical: native for native, canonical in FORMATS["cellchat"].columns.items()}
CELLCHAT_COLUMNS = (_N[S.SOURCE], _N[S.TARGET], _N[S.LIGAND], _N[S.RECEPTOR], _N[S.SCORE], _N[S.PVALUE],
                    "interaction_name", "interaction_name_2", _N[S.PATHWAY], "annotation", "evidence")


def cellchat() -> None:
    """CellChat can't run here (R). Build, by hand, the data frame subsetCommunication(cellchat,
    thresh = 1) returns — its documented columns — from real CellChatDB rows, with invented
    sender/receiver pairs, prob and pval (seeded), saved the way write.csv saves it."""
    out = HERE / "cellchat"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    db = pd.read_csv(CELLCHATDB / "interaction.csv").set_index("interaction_name", drop=False)
    rng = np.random.default_rng(SEED)
    rows = []
    pairs = [(s, t) for s in CELLCHAT_CELL_TYPES for t in CELLCHAT_CELL_TYPES]
    for name in CELLCHAT_INTERACTIONS:
        r = db.loc[name]
        for i in sorted(rng.choice(len(pairs), size=4, replace=False)):
            source, target = pairs[i]
            prob = float(f"{rng.uniform(1e-4, 0.2):.3g}")
            pval = float(rng.choice([0.0, 0.0, 0.0, 0.01, 0.02, 0.04, 0.1, 0.38]))
            # CellChatDB's interaction.csv names its ligand/receptor columns like CellChat's output
            rows.append([source, target, r[_N[S.LIGAND]], r[_N[S.RECEPTOR]], prob, pval, name,
                         r["interaction_name_2"], r[_N[S.PATHWAY]], r["annotation"], r["evidence"]])
    table = pd.DataFrame(rows, columns=list(CELLCHAT_COLUMNS))
    table.index = pd.RangeIndex(1, len(table) + 1).astype(str)
    table.to_csv(out / "subset_communication.csv", quoting=csv.QUOTE_NONNUMERIC, index_label="")


STEPS = {"cellphonedb": cellphonedb, "cellphonedb_deg": cellphonedb_deg, "liana": liana, "cellchat": cellchat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(STEPS), help="comma-separated: " + ", ".join(STEPS))
    args = parser.parse_args()
    for name in args.only.split(","):
        STEPS[name.strip()]()
        size = sum(p.stat().st_size for p in (HERE / name.strip()).iterdir())
        print(f"{name}: {size / 1024:.0f} KB in tests/data/{name.strip()}/")


if __name__ == "__main__":
    main()
