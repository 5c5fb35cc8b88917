"""What a run says about itself once loaded: its format, and each interaction's CellChatDB annotation."""

from __future__ import annotations

from pathlib import Path

import pytest

import commgraph as cg
from commgraph import _schema as S

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("fmt, source, options", [
    ("cellchat", DATA / "cellchat" / "subset_communication.csv", {}),
    ("liana", DATA / "liana" / "rank_aggregate.csv", {}),
])
def test_run_format_and_interaction_annotation_are_stored(store, fmt, source, options):
    cg.load(store, fmt, source, day=0, group="high", **options)
    runs = store.runs()
    assert runs[S.FORMAT].tolist() == [fmt]
    ann = store.cypher("MATCH (i:Interaction) RETURN i.name AS name, i.annotation AS annotation")
    by_name = dict(zip(ann["name"], ann["annotation"]))
    # CellChatDB's annotation of the pair (the bundled table), where the pair is in it
    assert by_name.get("ICAM1^ITGAL_ITGB2", "Cell-Cell Contact") == "Cell-Cell Contact"
    assert ann["annotation"].notna().any()
    assert set(ann["annotation"].dropna()) <= {"Secreted Signaling", "Cell-Cell Contact", "ECM-Receptor",
                                                "Non-protein Signaling"}


def test_read_carries_format_and_annotation():
    t = cg.read("cellchat", DATA / "cellchat" / "subset_communication.csv", day=0)
    assert t.attrs["format"] == "cellchat"
    assert t.attrs["annotation"]["ICAM1^ITGAL_ITGB2"] == "Cell-Cell Contact"


@pytest.mark.parametrize("method", ["liana", "cellphonedb"])
def test_inferred_runs_carry_tool_and_database_versions(method):
    """The manifest `commgraph infer` (and so the demo) writes names the versions it ran with."""
    import json
    from importlib.metadata import version

    from commgraph.infer import CPDB_DATABASE, _manifest_options

    opts = json.loads(_manifest_options(method, "cellphonedb", "consensus", Path("loaders") / CPDB_DATABASE))
    assert opts["tool_version"] == version(method)
    assert opts["database_version"] == ("cellphonedb-v5.0.0" if method == "cellphonedb" else "liana resource consensus")
    t = cg.read("cellchat", DATA / "cellchat" / "subset_communication.csv", day=0,
                **{k: v for k, v in opts.items() if k != "method"})
    assert set(t[S.TOOL_VERSION]) == {opts["tool_version"]}
    assert set(t[S.DATABASE_VERSION]) == {opts["database_version"]}


def _cellchat_rows(rows):
    import pandas as pd

    cols = ["source", "target", "ligand", "receptor", "prob", "pval", "interaction_name", "pathway_name"]
    return pd.DataFrame(rows, columns=cols)


def test_cellchat_pairs_that_reduce_to_one_canonical_pair_are_merged_and_reported():
    """CellChatDB's CALCRL_RAMP1 and CALCR_RAMP1 are both the subunits CALCR, RAMP1: one row per
    cell-type pair is kept (significant first, then the higher score), as CellPhoneDB's loader does."""
    df = _cellchat_rows([
        ("MX1+ Mono", "Treg", "ADM", "CALCRL_RAMP1", 0.2, 0.01, "ADM_CALCRL_RAMP1", "CALCR"),
        ("MX1+ Mono", "Treg", "ADM", "CALCR_RAMP1", 0.5, 0.01, "ADM_CALCR_RAMP1", "CALCR"),
        ("Treg", "MX1+ Mono", "ADM", "CALCRL_RAMP1", 0.9, 0.20, "ADM_CALCRL_RAMP1", "CALCR"),
        ("Treg", "MX1+ Mono", "ADM", "CALCR_RAMP1", 0.1, 0.01, "ADM_CALCR_RAMP1", "CALCR"),
        ("Treg", "Treg", "ICAM1", "ITGAL_ITGB2", 0.3, 0.01, "ICAM1_ITGAL_ITGB2", "ICAM"),
    ])
    with pytest.warns(UserWarning, match=r"2 row\(s\).*CALCRL_RAMP1.*CALCR_RAMP1|2 row\(s\).*CALCR_RAMP1.*CALCRL_RAMP1"):
        t = cg.read("cellchat", df, day=0)
    assert len(t) == 3
    adm = t[t[S.LIGAND] == "ADM"].set_index(S.SOURCE)
    assert set(adm[S.RECEPTOR]) == {"CALCR_RAMP1"}
    assert adm.loc["MX1+ Mono", S.SCORE] == pytest.approx(0.5)  # both significant: the stronger
    assert adm.loc["Treg", S.SCORE] == pytest.approx(0.1)  # the significant one wins over a stronger non-significant
    assert "ADM_CALCR_RAMP1" in adm.loc["MX1+ Mono", S.EXTRA]


def test_cellphonedb_collisions_are_reported(tmp_path):
    """The CellPhoneDB loader already kept one row per collision; now it says which."""
    from test_formats import _row, _two_row_cpdb

    rows = [
        _row("IL16_CD4", "simple:Q14005", "simple:P01730", "IL16", "CD4", False, True, "Ligand-Receptor"),
        _row("CD4_IL16", "simple:P01730", "simple:Q14005", "CD4", "IL16", True, False, "Adhesion-Adhesion"),
    ]
    with pytest.warns(UserWarning, match=r"2 row\(s\).*IL16\^CD4.*CPI-TEST0.*CPI-TEST1"):
        t = cg.read("cellphonedb", _two_row_cpdb(tmp_path, rows), day=0)
    assert len(t) == 2 and set(t[S.INTERACTION]) == {"IL16^CD4"}


def test_every_registry_field_drives_code_or_shows():
    """The YAML fields no code read: pathway_fallback now picks the CellPhoneDB fallback column,
    pvalue/significant/extra are printed by `commgraph formats` (formats_table)."""
    import dataclasses

    from commgraph.formats import FORMATS, formats_table
    from commgraph.formats import cellphonedb as cpdb
    from test_formats import CPDB

    fmt = FORMATS["cellphonedb"]
    assert cpdb.parse(CPDB, fmt=fmt).fallback_pathway is not None
    assert cpdb.parse(CPDB, fmt=dataclasses.replace(fmt, pathway_fallback=None)).fallback_pathway is None
    table = formats_table().set_index("name")
    for name, f in FORMATS.items():
        assert table.loc[name, S.SIGNIFICANT] == f.significant
        assert table.loc[name, S.PVALUE] == (f.pvalue or "none")
    assert "magnitude_rank" in table.loc["liana", S.SIGNIFICANT] or "specificity_rank" in table.loc["liana", S.SIGNIFICANT]
