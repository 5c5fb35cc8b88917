"""Input formats: registry, parsers on real tool output, orientation, pathways, errors."""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commgraph import _schema as S
from commgraph.errors import InputError
from commgraph.formats import FORMATS, formats_table, get_format, lookup_pathway, pathway_table, read
from commgraph.formats import liana as L
from commgraph.formats.cellphonedb import partner_symbols

DATA = Path(__file__).parent / "data"
CPDB = DATA / "cellphonedb"
CPDB_DEG = DATA / "cellphonedb_deg"
LIANA = DATA / "liana"
CELLCHAT = DATA / "cellchat" / "subset_communication.csv"
CPDB_FILES = {r: CPDB / f"statistical_analysis_{r}_fixture.txt" for r in ("means", "pvalues", "significant_means", "interaction_scores")}
# the generic csv format, pointed at the CellChat fixture
CSV_MAP = "source=source,target=target,ligand=ligand,receptor=receptor,prob=score,pval=pvalue,pathway_name=pathway"

FIXTURES = [
    ("cellphonedb", CPDB, {}),
    ("cellphonedb", CPDB_FILES["means"], {}),
    ("cellphonedb_deg", CPDB_DEG, {}),
    ("liana", LIANA / "rank_aggregate.csv", {}),
    ("liana", LIANA / "cellphonedb.csv", {}),
    ("liana", LIANA / "by_sample.csv", {}),
    ("liana", LIANA / "rank_aggregate.h5ad", {}),
    ("cellchat", CELLCHAT, {}),
    ("csv", CELLCHAT, {"columns": CSV_MAP}),
]
DESIGN_PAIRS = {  # DESIGN.md's interactions -> CellChatDB pathway
    ("ICAM1", "ITGAL_ITGB2"): "ICAM",
    ("CD86", "CTLA4"): "CD86",
    ("APP", "CD74"): "APP",
    ("IL16", "CD4"): "IL16",
    ("ANXA1", "FPR1"): "ANNEXIN",
    ("LGALS9", "HAVCR2"): "GALECTIN",
    ("LGALS9", "CD44"): "GALECTIN",
    ("LGALS9", "PTPRC"): "GALECTIN",
    ("RETN", "CAP1"): "RESISTIN",
}
PROVENANCE = (S.TOOL, S.PARAMETERS, S.SOURCE_FILES)
# canonical -> native column names, from the YAML column maps (LIANA and CellChat happen to
# use several canonical names natively)
LIANA_NATIVE = {canonical: native for native, canonical in FORMATS["liana"].columns.items()}
CELLCHAT_NATIVE = {canonical: native for native, canonical in FORMATS["cellchat"].columns.items()}


def tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


def write_tsv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, sep="\t", index=False)


def copy_cpdb(tmp_path: Path, *, with_scores: bool = True) -> Path:
    out = tmp_path / "cpdb"
    out.mkdir()
    for role, p in CPDB_FILES.items():
        if with_scores or role != "interaction_scores":
            shutil.copy(p, out / p.name)
    return out


def assert_names(err: pytest.ExceptionInfo, *parts: object) -> None:
    msg = str(err.value)
    for part in parts:
        assert str(part) in msg, f"{part!r} not in {msg!r}"


# --- registry -------------------------------------------------------------------------------


def test_registry_lists_the_formats_and_their_options():
    assert set(FORMATS) == {"cellphonedb", "cellphonedb_deg", "liana", "cellchat", "csv"}
    for fmt in FORMATS.values():
        assert fmt.path.name == f"{fmt.name}.yaml"
        assert fmt.score.get("direction", "").startswith("higher")
        assert set(fmt.options) == set(fmt.option_names()), fmt.name  # YAML documents every option
        assert all(v in S.COLUMN_NAMES for v in fmt.columns.values())
    table = formats_table()
    assert list(table.columns) == ["name", "title", "reads", S.SCORE, S.PVALUE, S.SIGNIFICANT, S.EXTRA, "citation"]
    assert "1 - magnitude_rank" in table.set_index("name").loc["liana", S.SCORE]


def test_unknown_format_lists_known_ones():
    with pytest.raises(InputError) as err:
        read("cellfone", CPDB, day=0)
    assert_names(err, "cellfone", *sorted(FORMATS))


def test_unknown_option_is_refused():
    with pytest.raises(InputError) as err:
        read("cellchat", CELLCHAT, day=0, treshold=0.1)
    assert_names(err, "treshold", "threshold")


def test_liana_method_table_matches_liana():
    li = pytest.importorskip("liana")
    fmt = get_format("liana")
    by_name = {}
    for m in (li.mt.cellphonedb, li.mt.cellchat, li.mt.geometric_mean, li.mt.connectome, li.mt.natmi,
              li.mt.singlecellsignalr, li.mt.scseqcomm, li.mt.logfc, li.mt.rank_aggregate):
        by_name[m.method_name.lower().replace(" ", "_")] = m
    for name, spec in fmt.methods.items():
        m = by_name[name]
        if name == "log2fc":  # no magnitude score: the specificity (lr_logfc, higher = stronger) is the score
            assert spec[L.SCORE_COLUMN] == m.specificity and not m.specificity_ascending
            continue
        assert spec[L.SCORE_COLUMN] == m.magnitude
        assert (spec[L.TRANSFORM] == "one_minus") == bool(m.magnitude_ascending)
        if spec[L.PVALUE_COLUMN]:
            assert spec[L.PVALUE_COLUMN] == m.specificity and m.specificity_ascending


# --- every format parses its fixture ---------------------------------------------------------


@pytest.mark.parametrize("fmt,source,options", FIXTURES, ids=[f"{f}-{Path(s).name}" for f, s, _ in FIXTURES])
def test_fixture_parses_and_validates(fmt, source, options):
    t = read(fmt, source, day=7, group="high", **options)
    assert list(t.columns) == list(S.COLUMN_NAMES)
    assert len(t) > 0
    pd.testing.assert_frame_equal(S.validate(t), t)
    for col in PROVENANCE:
        assert t[col].notna().all(), col
    assert (t[S.TOOL] == get_format(fmt).tool).all()
    params = json.loads(t[S.PARAMETERS].iloc[0])
    assert params["read"]["format"] == fmt
    assert (t[S.DAY] == 7).all() and (t[S.GROUP] == "high").all()
    assert (t[S.RUN_ID] == f"{fmt}|d7|high").all()
    assert t[S.PATHWAY].notna().all()
    assert t[S.SIGNIFICANT].any() and not t[S.SIGNIFICANT].all() or fmt == "cellphonedb_deg"
    assert (t[S.INTERACTION].astype(str) == t[S.LIGAND].astype(str) + S.INTERACTION_SEP + t[S.RECEPTOR].astype(str)).all()
    extra = t[S.EXTRA].dropna()
    assert len(extra) == len(t) and isinstance(json.loads(extra.iloc[0]), dict)


def test_run_columns_sample_and_provenance_options():
    t = read("cellchat", CELLCHAT, day=3, group="low", sample="P04", tool_version="2.1.2",
             database_version="CellChatDB v2", parameters={"type": "triMean"})
    assert (t[S.SAMPLE] == "P04").all() and (t[S.RUN_ID] == "cellchat|d3|low|P04").all()
    assert (t[S.TOOL_VERSION] == "2.1.2").all() and (t[S.DATABASE_VERSION] == "CellChatDB v2").all()
    assert json.loads(t[S.PARAMETERS].iloc[0])["type"] == "triMean"
    t = read("cellchat", CELLCHAT, day=0, run_id="my-run")
    assert (t[S.RUN_ID] == "my-run").all() and t[S.SAMPLE].isna().all() and (t[S.GROUP] == S.NO_GROUP).all()


# --- CellPhoneDB ------------------------------------------------------------------------------


def test_cellphonedb_significant_equals_non_empty_significant_means_cells():
    sig = tsv(CPDB_FILES["significant_means"])
    cells = sig[[c for c in sig.columns if "|" in c]]
    expected = int(cells.notna().sum().sum())
    t = read("cellphonedb", CPDB, day=0)
    assert expected > 0
    assert int(t[S.SIGNIFICANT].sum()) == expected
    n_int, n_pairs = len(sig), cells.shape[1]
    assert len(t) == n_int * n_pairs


def test_cellphonedb_scores_pvalues_and_extra_come_from_the_files():
    means, pvalues, scores = (tsv(CPDB_FILES[r]) for r in ("means", "pvalues", "interaction_scores"))
    pair_cols = [c for c in means.columns if "|" in c]
    t = read("cellphonedb", CPDB, day=0)
    assert t[S.SCORE].sum() == pytest.approx(means[pair_cols].to_numpy().sum(), rel=1e-9)
    assert t[S.PVALUE].sum() == pytest.approx(pvalues[pair_cols].to_numpy().sum(), rel=1e-9)
    extra = pd.json_normalize([json.loads(x) for x in t[S.EXTRA]])
    assert extra["interaction_score"].sum() == pytest.approx(scores[pair_cols].to_numpy().sum(), rel=1e-9)
    # one known cell: ICAM3_CD209 (ligand first, Ligand-Receptor) in NKcells_0|NKcells_0
    row = means.index[means["interacting_pair"] == "ICAM3_CD209"][0]
    hit = t[(t[S.INTERACTION] == "ICAM3^CD209") & (t[S.SOURCE] == "NKcells_0") & (t[S.TARGET] == "NKcells_0")]
    assert hit[S.SCORE].iloc[0] == pytest.approx(means.loc[row, "NKcells_0|NKcells_0"])
    assert hit[S.PVALUE].iloc[0] == pytest.approx(pvalues.loc[row, "NKcells_0|NKcells_0"])


def _two_row_cpdb(tmp_path: Path, rows: list[dict], *, directionality: bool = True) -> Path:
    """A minimal CellPhoneDB method-2 output: given annotation rows, two cell types."""
    ann = pd.DataFrame(rows)
    ann.insert(0, "id_cp_interaction", [f"CPI-TEST{i}" for i in range(len(ann))])
    for col, default in (("secreted", False), ("annotation_strategy", "curated"), ("is_integrin", False), ("classification", "")):
        ann[col] = default
    if not directionality:
        ann = ann.drop(columns="directionality")
    pairs = {"B cell|T cell": [0.5] * len(ann), "T cell|B cell": [0.25] * len(ann)}
    out = tmp_path / "hand"
    out.mkdir()
    write_tsv(pd.concat([ann, pd.DataFrame(pairs)], axis=1), out / "statistical_analysis_means_x.txt")
    write_tsv(pd.concat([ann, pd.DataFrame({k: [0.01] * len(ann) for k in pairs})], axis=1), out / "statistical_analysis_pvalues_x.txt")
    sig = pd.concat([ann, pd.DataFrame({"rank": 1.0}, index=ann.index), pd.DataFrame(pairs)], axis=1)
    write_tsv(sig, out / "statistical_analysis_significant_means_x.txt")
    return out


def _row(pair, a, b, ga, gb, ra, rb, direction):
    return {"interacting_pair": pair, "partner_a": a, "partner_b": b, "gene_a": ga, "gene_b": gb,
            "receptor_a": ra, "receptor_b": rb, "directionality": direction}


def test_cellphonedb_orientation_both_ways(tmp_path):
    rows = [
        # partner_a the receptor, partner_b not, not Ligand-Receptor: swap (B cell|T cell -> T cell sends ANXA1)
        _row("FPR1_ANXA1", "simple:P21462", "simple:P04083", "FPR1", "ANXA1", True, False, "Adhesion-Adhesion"),
        # partner_b the receptor: keep
        _row("IL16_CD4", "simple:Q14005", "simple:P01730", "IL16", "CD4", False, True, "Ligand-Receptor"),
    ]
    t = read("cellphonedb", _two_row_cpdb(tmp_path, rows), day=0)
    got = {(r.source, r.target, r.ligand, r.receptor, r.score) for r in t.itertuples()}
    assert got == {
        ("T cell", "B cell", "ANXA1", "FPR1", 0.5),  # column 'B cell|T cell', swapped
        ("B cell", "T cell", "ANXA1", "FPR1", 0.25),  # column 'T cell|B cell', swapped
        ("B cell", "T cell", "IL16", "CD4", 0.5),
        ("T cell", "B cell", "IL16", "CD4", 0.25),
    }


def test_cellphonedb_ligand_receptor_directionality_wins_over_receptor_flags(tmp_path):
    # CellPhoneDB v5.0.0 flags CD86 and ICAM1 as receptors, the integrin complex not; the
    # curated Ligand-Receptor order (ligand first) is kept
    rows = [
        _row("CD86_CTLA4", "simple:P42081", "simple:P16410", "CD86", "CTLA4", True, False, "Ligand-Receptor"),
        _row("ICAM1_integrin_aLb2_complex", "simple:P05362", "complex:integrin_aLb2_complex", "ICAM1", "", True, False, "Ligand-Receptor"),
    ]
    t = read("cellphonedb", _two_row_cpdb(tmp_path, rows), day=0)
    fwd = t[(t[S.SOURCE] == "B cell") & (t[S.TARGET] == "T cell")]
    assert set(zip(fwd[S.LIGAND], fwd[S.RECEPTOR], fwd[S.PATHWAY])) == {("CD86", "CTLA4", "CD86"), ("ICAM1", "ITGAL_ITGB2", "ICAM")}
    assert (fwd[S.SCORE] == 0.5).all()


def test_cellphonedb_without_directionality_uses_receptor_flags(tmp_path):
    rows = [_row("CTLA4_CD86", "simple:P16410", "simple:P42081", "CTLA4", "CD86", True, False, "")]
    t = read("cellphonedb", _two_row_cpdb(tmp_path, rows, directionality=False), day=0)
    r = t[t[S.SCORE] == 0.5].iloc[0]
    assert (r[S.SOURCE], r[S.TARGET], r[S.LIGAND], r[S.RECEPTOR]) == ("T cell", "B cell", "CD86", "CTLA4")


def test_cellphonedb_complexes_become_sorted_subunits():
    names = partner_symbols()
    assert names["integrin_aLb2_complex"] == "ITGAL_ITGB2"
    assert names["P05362"] == "ICAM1"
    t = read("cellphonedb", CPDB, day=0)
    assert "ICAM1^ITGAL_ITGB2" in set(t[S.INTERACTION])
    assert "HLA-E^CD94_NKG2A" not in set(t[S.INTERACTION])
    assert "HLA-E^KLRC1_KLRD1" in set(t[S.INTERACTION])  # complex:CD94:NKG2A
    for side in (S.LIGAND, S.RECEPTOR):
        for name in t[side].unique():
            parts = name.split(S.SUBUNIT_SEP)
            assert parts == sorted(parts), name


def test_cellphonedb_dict_equals_files():
    """The dict call() returns: the same tables, means as float32, a non-default index."""
    source = {}
    for role, p in CPDB_FILES.items():
        df = tsv(p)
        pair_cols = [c for c in df.columns if "|" in c]
        if role == "means":
            df[pair_cols] = df[pair_cols].astype("float32")
        source[role] = df.set_index(pd.Index(np.arange(len(df)) * 7 + 3))
    source["CellSign_active_interactions"] = pd.DataFrame  # call() puts the class itself there
    from_files = read("cellphonedb", CPDB, day=0)
    from_dict = read("cellphonedb", source, day=0)
    assert_same_table(from_dict, from_files)


@pytest.mark.slow
def test_cellphonedb_real_call_dict_equals_its_files(tmp_path):
    """Run CellPhoneDB method 2 on its own test data; read its dict and its folder."""
    pytest.importorskip("cellphonedb")
    from cellphonedb.src.core.methods import cpdb_statistical_analysis_method

    test_data = Path("/work/shared/data/cellphonedb-test")
    if not test_data.is_dir():
        pytest.skip("CellPhoneDB test data not available")
    from commgraph._resources import resource_dir

    result = cpdb_statistical_analysis_method.call(
        cpdb_file_path=str(resource_dir("loaders") / "cellphonedb-v5.0.0.zip"),
        meta_file_path=str(test_data / "test_meta.txt"),
        counts_file_path=str(test_data / "test.h5ad"),
        counts_data="ensembl", iterations=100, threads=1, debug_seed=1, output_path=str(tmp_path),  # < 50 iterations crash single-threaded
    )
    assert_same_table(read("cellphonedb", result, day=0), read("cellphonedb", tmp_path, day=0))


def test_cellphonedb_deg_significant_is_relevant_interactions():
    rel = tsv(next(CPDB_DEG.glob("degs_analysis_relevant_interactions_*.txt")))
    expected = int((rel[[c for c in rel.columns if "|" in c]] == 1).sum().sum())
    t = read("cellphonedb_deg", CPDB_DEG, day=0)
    assert int(t[S.SIGNIFICANT].sum()) == expected == 4
    assert t[S.PVALUE].isna().all() and (t[S.METHOD] == "cellphonedb:degs").all()
    sig = t[t[S.SIGNIFICANT]]
    assert set(sig[S.INTERACTION]) == {"NCAM1^AGRN", "JAG2^NOTCH2"}


# --- LIANA ---------------------------------------------------------------------------------------


def test_liana_rank_aggregate_score_is_turned_around():
    raw = pd.read_csv(LIANA / "rank_aggregate.csv")
    t = read("liana", LIANA / "rank_aggregate.csv", day=0)
    assert (t[S.METHOD] == "liana:rank_aggregate").all()
    np.testing.assert_allclose(t[S.SCORE], 1 - raw["magnitude_rank"], rtol=1e-12)
    np.testing.assert_array_equal(t[S.SIGNIFICANT], raw["specificity_rank"] <= 0.05)
    assert t[S.PVALUE].isna().all()
    assert "specificity_rank" in json.loads(t[S.EXTRA].iloc[0])
    strict = read("liana", LIANA / "rank_aggregate.csv", day=0, threshold=0.01)
    assert strict[S.SIGNIFICANT].sum() == (raw["specificity_rank"] <= 0.01).sum()


def test_liana_single_method_and_forced_method():
    raw = pd.read_csv(LIANA / "cellphonedb.csv")
    t = read("liana", LIANA / "cellphonedb.csv", day=0)
    assert (t[S.METHOD] == "liana:cellphonedb").all()
    np.testing.assert_allclose(t[S.SCORE], raw["lr_means"], rtol=1e-6)
    np.testing.assert_allclose(t[S.PVALUE], raw["cellphone_pvals"])
    np.testing.assert_array_equal(t[S.SIGNIFICANT], raw["cellphone_pvals"] <= 0.05)
    # a rank_aggregate table read as one of its methods
    nat = read("liana", LIANA / "rank_aggregate.csv", day=0, method="natmi")
    assert (nat[S.METHOD] == "liana:natmi").all() and not nat[S.SIGNIFICANT].any()


def test_liana_by_sample_keeps_its_samples():
    raw = pd.read_csv(LIANA / "by_sample.csv")
    t = read("liana", LIANA / "by_sample.csv", day=14, group="low", sample="ignored")
    assert sorted(t[S.SAMPLE].unique()) == ["s1", "s2"]
    assert t.groupby(S.SAMPLE, observed=True).size().to_dict() == raw.groupby(LIANA_NATIVE[S.SAMPLE]).size().to_dict()
    renamed = raw.rename(columns={LIANA_NATIVE[S.SAMPLE]: "patient"})
    t2 = read("liana", renamed, day=14, sample_column="patient")
    assert sorted(t2[S.SAMPLE].unique()) == ["s1", "s2"]


def test_liana_anndata_equals_csv():
    anndata = pytest.importorskip("anndata")
    adata = anndata.read_h5ad(LIANA / "rank_aggregate.h5ad")  # LIANA's own result, float32 columns
    from_anndata = read("liana", adata, day=0)
    from_csv = read("liana", LIANA / "rank_aggregate.csv", day=0)
    assert_same_table(from_anndata, from_csv)
    adata.uns["other"] = adata.uns.pop("liana_res")
    assert_same_table(read("liana", adata, day=0, uns_key="other"), from_csv)


def test_liana_complexes_sorted():
    n = LIANA_NATIVE
    df = pd.DataFrame({n[S.SOURCE]: ["A", "A"], n[S.TARGET]: ["B", "B"], n[S.LIGAND]: ["ICAM1", "ICAM1"],
                       n[S.RECEPTOR]: ["ITGB2_ITGAL", "SPN"], "lr_means": [1.0, 2.0], "cellphone_pvals": [0.01, 0.5]})
    t = read("liana", df, day=0)
    assert list(t[S.RECEPTOR]) == ["ITGAL_ITGB2", "SPN"]
    assert list(t[S.PATHWAY]) == ["ICAM", "ICAM"]


# --- CellChat and csv ------------------------------------------------------------------------------


def test_cellchat_complexes_pathways_and_threshold():
    raw = pd.read_csv(CELLCHAT)
    t = read("cellchat", CELLCHAT, day=0)
    assert len(t) == len(raw)
    pairs = set(zip(t[S.LIGAND], t[S.RECEPTOR]))
    assert {("TGFB1", "TGFBR1_TGFBR2"), ("IL12B_IL23A", "IL12RB1_IL23R"), ("MIF", "CD44_CD74"), ("ICAM1", "ITGAL_ITGB2")} <= pairs
    np.testing.assert_array_equal(t[S.PATHWAY], raw["pathway_name"])  # the tool's own pathway
    np.testing.assert_array_equal(t[S.SIGNIFICANT], raw["pval"] <= 0.05)
    assert read("cellchat", CELLCHAT, day=0, threshold=1.0)[S.SIGNIFICANT].all()


def test_csv_generic_map_direction_and_extra(tmp_path):
    n = CELLCHAT_NATIVE
    raw = pd.read_csv(CELLCHAT).drop(columns=["Unnamed: 0"]).rename(columns={n[S.SOURCE]: "sender", n[S.TARGET]: "receiver"})
    raw["rank"] = np.linspace(0, 1, len(raw))
    path = tmp_path / "lr.tsv"
    raw.to_csv(path, sep="\t", index=False)
    mapping = {"sender": S.SOURCE, "receiver": S.TARGET, "rank": S.SCORE, "pval": S.PVALUE}
    t = read("csv", path, day=0, columns=mapping, score_direction="lower", tool="mytool")
    np.testing.assert_allclose(t[S.SCORE], 1 - raw["rank"])
    assert (t[S.TOOL] == "mytool").all() and (t[S.METHOD] == "mytool").all()
    assert "prob" in json.loads(t[S.EXTRA].iloc[0])
    assert (t[S.PATHWAY].iloc[:4] == "ICAM").all()  # CellChatDB lookup: no pathway column mapped
    flags = raw.assign(sig=np.where(raw["pval"] < 0.03, "yes", "no"))
    t2 = read("csv", flags, day=0, columns="sender=source,receiver=target,prob=score,sig=significant")
    np.testing.assert_array_equal(t2[S.SIGNIFICANT], raw["pval"] < 0.03)
    t3 = read("csv", flags.drop(columns=["pval", "sig"]), day=0, columns="sender=source,receiver=target,prob=score", all_significant=True)
    assert t3[S.SIGNIFICANT].all() and t3[S.PVALUE].isna().all()


# --- pathways ---------------------------------------------------------------------------------------


def test_design_pairs_get_cellchatdb_pathways():
    for (ligand, receptor), pathway in DESIGN_PAIRS.items():
        assert lookup_pathway(ligand, receptor) == pathway, (ligand, receptor)
    t = pathway_table()
    assert list(t.columns) == [S.LIGAND, S.RECEPTOR, S.PATHWAY, S.ANNOTATION]
    assert not t.duplicated([S.LIGAND, S.RECEPTOR]).any()


def test_pathway_order_user_cellchatdb_ligand_own_classification_unannotated():
    """One vocabulary, decided by the pair: the user's table, CellChatDB's pair, CellChatDB's ligand
    family, the tool's own, CellPhoneDB's classification mapped into CellChatDB names, unannotated."""
    t = read("cellphonedb", CPDB, day=0)
    by = t.drop_duplicates(S.INTERACTION).set_index(S.INTERACTION)[S.PATHWAY]
    assert by["ICAM1^ITGAL_ITGB2"] == "ICAM"  # CellChatDB
    assert by["LGALS9^HAVCR2"] == "GALECTIN"
    assert lookup_pathway("ICAM2", "CD209") is None
    assert by["ICAM2^CD209"] == "ICAM"  # not in CellChatDB, but every CellChatDB ICAM2 pair is ICAM
    assert by["CD44^TYROBP"] == S.UNANNOTATED  # nothing knows it
    raw = pd.read_csv(CELLCHAT)
    raw.loc[0, "pathway_name"] = "MY_PATHWAY"
    raw.loc[1, "pathway_name"] = np.nan
    own = read("cellchat", raw, day=0)
    assert own[S.PATHWAY].iloc[0] == lookup_pathway(own[S.LIGAND].iloc[0], own[S.RECEPTOR].iloc[0])  # the pair decides
    assert own[S.PATHWAY].iloc[1] == "ICAM"  # missing: CellChatDB
    raw.loc[0, ["ligand", "receptor"]] = ["NOTAGENE1", "NOTAGENE2"]
    own = read("cellchat", raw, day=0)
    assert own[S.PATHWAY].iloc[0] == "MY_PATHWAY"  # a pair nothing bundled knows: the tool's own
    mine = pd.DataFrame({"ligand": ["ICAM1", "CD44"], "receptor": ["ITGB2_ITGAL", "TYROBP"], "pathway": ["MINE", "MINE2"]})
    t = read("cellphonedb", CPDB, day=0, pathways=mine)
    by = t.drop_duplicates(S.INTERACTION).set_index(S.INTERACTION)[S.PATHWAY]
    assert (by["ICAM1^ITGAL_ITGB2"], by["CD44^TYROBP"], by["LGALS9^HAVCR2"]) == ("MINE", "MINE2", "GALECTIN")


# --- same table from memory and from files -------------------------------------------------------


def assert_same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) == len(b)
    skip = {S.SOURCE_FILES, S.PARAMETERS, S.EXTRA, S.SCORE, S.PVALUE}
    for col in S.COLUMN_NAMES:
        if col not in skip:
            pd.testing.assert_series_equal(a[col], b[col], check_categorical=False, obj=col)
    np.testing.assert_allclose(a[S.SCORE], b[S.SCORE], rtol=1e-6)
    np.testing.assert_allclose(a[S.PVALUE], b[S.PVALUE], rtol=1e-6, equal_nan=True)
    ea = pd.json_normalize([json.loads(x) for x in a[S.EXTRA]])
    eb = pd.json_normalize([json.loads(x) for x in b[S.EXTRA]])
    assert list(ea.columns) == list(eb.columns)
    for c in ea.columns:
        if pd.api.types.is_numeric_dtype(ea[c]):
            np.testing.assert_allclose(ea[c], eb[c], rtol=1e-6, atol=1e-12)
        else:
            assert (ea[c] == eb[c]).all()


# --- bad inputs -------------------------------------------------------------------------------------


def _edit_means(tmp_path, edit):
    folder = copy_cpdb(tmp_path)
    path = folder / CPDB_FILES["means"].name
    write_tsv(edit(tsv(path)), path)
    return folder, path


def test_cellphonedb_missing_file(tmp_path):
    folder = copy_cpdb(tmp_path)
    (folder / CPDB_FILES["pvalues"].name).unlink()
    with pytest.raises(InputError) as err:
        read("cellphonedb", folder, day=0)
    assert_names(err, folder, "statistical_analysis_pvalues_*.txt", "pvalues")
    with pytest.raises(InputError) as err:
        read("cellphonedb", tmp_path, day=0)  # no CellPhoneDB output at all
    assert_names(err, tmp_path, "statistical_analysis_means_*.txt")


def test_cellphonedb_two_runs_in_one_folder_need_a_suffix(tmp_path):
    folder = copy_cpdb(tmp_path, with_scores=False)
    for role in ("means", "pvalues", "significant_means"):
        shutil.copy(CPDB_FILES[role], folder / f"statistical_analysis_{role}_11_24_2026_172137.txt")
    with pytest.raises(InputError) as err:
        read("cellphonedb", folder, day=0)
    assert_names(err, "11_24_2026_172137", "fixture", "suffix=")
    assert len(read("cellphonedb", folder, day=0, suffix="11_24_2026_172137")) == 1600


@pytest.mark.parametrize(
    "case,edit,column,row",
    [
        ("missing column", lambda d: d.drop(columns=["partner_b"]), "partner_b", 0),
        ("not a number", lambda d: d.assign(**{"Myeloid|Tcells": d["Myeloid|Tcells"].astype(object).where(d.index != 4, "1.2.3")}), "Myeloid|Tcells", 5),
        ("bad pair header", lambda d: d.rename(columns={"Myeloid|Tcells": "Myeloid-Tcells"}), "Myeloid-Tcells", 0),
        ("three-part header", lambda d: d.rename(columns={"Myeloid|Tcells": "Myeloid|T|cells"}), "Myeloid|T|cells", 0),
        ("duplicate key", lambda d: pd.concat([d, d.iloc[[2]]], ignore_index=True), "id_cp_interaction", 101),
        ("unknown complex", lambda d: d.assign(partner_b=d["partner_b"].where(d.index != 9, "complex:no_such_complex")), "partner_b", 10),
    ],
)
def test_cellphonedb_bad_means(tmp_path, case, edit, column, row):
    folder, path = _edit_means(tmp_path, edit)
    with pytest.raises(InputError) as err:
        read("cellphonedb", folder, day=0)
    assert_names(err, path, f"column {column!r}", f"row {row}")


def test_cellphonedb_pvalue_outside_0_1(tmp_path):
    folder = copy_cpdb(tmp_path)
    path = folder / CPDB_FILES["pvalues"].name
    d = tsv(path)
    d.loc[6, "NKcells_1|Tcells"] = 1.5
    write_tsv(d, path)
    with pytest.raises(InputError) as err:
        read("cellphonedb", folder, day=0)
    assert_names(err, path, "column 'NKcells_1|Tcells'", "row 7", "p-value 1.5 is outside [0, 1]")


@pytest.mark.parametrize("content", ["", "id_cp_interaction\tinteracting_pair\tMyeloid|Tcells\n"], ids=["empty", "header-only"])
def test_cellphonedb_empty_file(tmp_path, content):
    folder = copy_cpdb(tmp_path)
    path = folder / CPDB_FILES["means"].name
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read("cellphonedb", folder, day=0)
    assert_names(err, path)


def test_cellphonedb_deg_relevant_not_0_or_1(tmp_path):
    folder = tmp_path / "deg"
    shutil.copytree(CPDB_DEG, folder)
    path = next(folder.glob("degs_analysis_relevant_interactions_*.txt"))
    d = tsv(path)
    d.loc[1, "NKcells_0|NKcells_0"] = 2
    write_tsv(d, path)
    with pytest.raises(InputError) as err:
        read("cellphonedb_deg", folder, day=0)
    assert_names(err, path, "column 'NKcells_0|NKcells_0'", "row 2")


@pytest.mark.parametrize(
    "fmt,fixture,options,edit,column,row",
    [
        ("liana", LIANA / "cellphonedb.csv", {}, lambda d: d.drop(columns=["receptor_complex"]), "receptor_complex", 0),
        ("liana", LIANA / "cellphonedb.csv", {}, lambda d: d.assign(lr_means=d["lr_means"].astype(object).where(d.index != 3, "high")), "lr_means", 4),
        ("liana", LIANA / "cellphonedb.csv", {}, lambda d: d.assign(cellphone_pvals=d["cellphone_pvals"].where(d.index != 10, -0.2)), "cellphone_pvals", 11),
        ("liana", LIANA / "cellphonedb.csv", {}, lambda d: pd.concat([d, d.iloc[[5]]], ignore_index=True), "receptor_complex", 779),
        ("liana", LIANA / "by_sample.csv", {}, lambda d: d.assign(**{LIANA_NATIVE[S.SOURCE]: d[LIANA_NATIVE[S.SOURCE]].where(d.index != 7, "")}), LIANA_NATIVE[S.SOURCE], 8),
        ("cellchat", CELLCHAT, {}, lambda d: d.assign(prob=d["prob"].astype(object).where(d.index != 2, "n/a!")), "prob", 3),
        ("cellchat", CELLCHAT, {}, lambda d: d.assign(pval=d["pval"].where(d.index != 5, 7.0)), "pval", 6),
        ("cellchat", CELLCHAT, {}, lambda d: pd.concat([d, d.iloc[[0]]], ignore_index=True), CELLCHAT_NATIVE[S.RECEPTOR], 69),
        ("cellchat", CELLCHAT, {}, lambda d: d.drop(columns=["pval"]), "pval", 0),
        ("csv", CELLCHAT, {"columns": CSV_MAP}, lambda d: d.assign(prob=d["prob"].astype(object).where(d.index != 0, "x")), "prob", 1),
        ("csv", CELLCHAT, {"columns": CSV_MAP}, lambda d: d.drop(columns=["prob"]), "prob", 0),
    ],
    ids=["liana-missing-column", "liana-not-a-number", "liana-pvalue", "liana-duplicate", "liana-empty-cell-type",
         "cellchat-not-a-number", "cellchat-pvalue", "cellchat-duplicate", "cellchat-missing-column",
         "csv-not-a-number", "csv-mapped-column-missing"],
)
def test_long_formats_bad_input(tmp_path, fmt, fixture, options, edit, column, row):
    df = pd.read_csv(fixture)
    path = tmp_path / fixture.name
    edit(df).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read(fmt, path, day=0, **options)
    assert_names(err, path, f"column {column!r}", f"row {row}")  # row 0 = the header


@pytest.mark.parametrize("fmt,options", [("liana", {}), ("cellchat", {}), ("csv", {"columns": CSV_MAP})])
@pytest.mark.parametrize("content", ["", "source,target,ligand_complex,receptor_complex,lr_means,cellphone_pvals,prob,pval,ligand,receptor\n"],
                         ids=["empty", "header-only"])
def test_long_formats_empty_file(tmp_path, fmt, options, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read(fmt, path, day=0, **options)
    assert_names(err, path)


def test_missing_path_and_bad_day():
    with pytest.raises(InputError) as err:
        read("liana", "/no/such/liana.csv", day=0)
    assert_names(err, "/no/such/liana.csv")
    with pytest.raises(InputError) as err:
        read("cellchat", CELLCHAT, day=3.5)
    assert_names(err, S.DAY, "3.5")


def test_signature_is_data_first_then_keywords():
    params = inspect.signature(read).parameters
    assert [p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD] == ["format", S.SOURCE]
    assert params[S.GROUP].default == S.NO_GROUP


def test_cellphonedb_database_option(tmp_path):
    from commgraph._resources import resource_dir

    bundled = resource_dir("loaders") / "cellphonedb-v5.0.0.zip"
    t = read("cellphonedb", CPDB, day=0, database=bundled)
    assert json.loads(t[S.PARAMETERS].iloc[0])["read"]["database"] == str(bundled)
    assert_same_table(t, read("cellphonedb", CPDB, day=0))
    not_a_zip = tmp_path / "cellphonedb.zip"
    not_a_zip.write_text("nope")
    with pytest.raises(InputError) as err:
        read("cellphonedb", CPDB, day=0, database=not_a_zip)
    assert_names(err, not_a_zip, "database")
