"""Issue 14: real studies as they come — hours, conditions, long tables, receptor-first pairs,
older CellPhoneDB layouts, method 3 through ``cellphonedb``, one pathway vocabulary.

Fixtures (tests/data/README.md, "Real layouts"; written by tests/data/make_real_layouts.py):
- ``timecourse_hours/cpdb_long_hours.tsv``: melted CellPhoneDB v2 statistical_analysis output
  (``interacting_pair``, ``A|B`` cell pair, mean, p-value; ventolab/CellphoneDB
  Docs/RESULTS-DOCUMENTATION.md) over 0-48 h, six of ten pairs receptor first;
- ``cellphonedb_v2/``: ``means.txt``, ``pvalues.txt``, ``significant_means.txt`` (v2-v3 layout:
  ``id_cp_interaction … is_integrin`` then ``A|B`` columns, no ``directionality``/``classification``);
- ``cellphonedb_v4/``: the same tables as ``statistical_analysis_*_<timestamp>.txt`` (v4 names);
- ``cellphonedb_deg/``: a real CellPhoneDB v5 method-3 run (``degs_analysis_*``);
- ``conditions/liana_control_stimulated.csv``: LIANA+ rank_aggregate columns with a ``condition``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph import _time as T
from commgraph.errors import InputError
from commgraph.formats import read
from commgraph.formats._pathways import pair_pathway
from conftest import DATA, REPO

HOURS = DATA / "timecourse_hours" / "cpdb_long_hours.tsv"
V2 = DATA / "cellphonedb_v2"
V4 = DATA / "cellphonedb_v4"
V5 = DATA / "cellphonedb"
DEG = DATA / "cellphonedb_deg"
CONDITIONS = DATA / "conditions" / "liana_control_stimulated.csv"
LONG = dict(time_col="time", time_unit="hour", pair_col="interacting_pair", cell_pair_col="cell_pair",
            columns="mean=score", complex_names="cellphonedb")
RECEPTOR_FIRST = {"CD74_MIF", "CD74_APP", "DPP4_CXCL10", "CCR1_CCL5", "FPR1_ANXA1", "ACVR_1B2A receptor_INHBA"}


def cli(*args, db=None, check=True):
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    if db is not None:
        env["COMMGRAPH_DB"] = str(db)
    r = subprocess.run([sys.executable, "-m", "commgraph.cli", *map(str, args)], capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"commgraph {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r


# --- time -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, unit, expected", [
    ("4", "hour", (4, "hour", None)),
    (4, None, (4, "day", None)),
    ("4h", None, (4, "hour", None)),
    ("4 hours", "hour", (4, "hour", None)),
    ("LPS 4h", None, (4, "hour", "LPS 4h")),
    ("day 3", None, (3, "day", None)),
    ("D7", None, (7, "day", None)),
    ("week 2", None, (2, "week", None)),
    ("2d", "hour", (48, "hour", None)),
    ("1 wk", "day", (7, "day", None)),
])
def test_parse_time(text, unit, expected):
    assert T.parse_time(text, unit) == expected


@pytest.mark.parametrize("text, unit, message", [
    ("36h", "day", "not a whole number of days"),
    ("seven", None, "names no number with a unit"),
    ("4.5", "hour", "not a whole number of hours"),
    ("4h", "condition", "condition has no number"),
])
def test_parse_time_refuses(text, unit, message):
    with pytest.raises(InputError, match=message):
        T.parse_time(text, unit)


def test_time_text_and_conditions():
    assert [T.time_text(4, "hour"), T.time_text(3), T.time_text(2, "week"), T.time_text(4, "hour", "LPS 4h"),
            T.time_text(1, "condition", "stimulated"), T.time_text(None, "hour")] == \
        ["4 h", "day 3", "week 2", "LPS 4h", "stimulated", ""]
    assert T.condition_numbers(["stimulated", "control", "stimulated"]) == {"stimulated": 0, "control": 1}
    assert T.condition_numbers(["stimulated", "control"], "control,stimulated") == {"control": 0, "stimulated": 1}
    with pytest.raises(InputError, match="'mock' is not in the given order"):
        T.condition_numbers(["mock"], ["control", "stimulated"])


# --- the hours-based long table with receptor-first pairs --------------------------------------


def test_long_table_in_hours_becomes_one_run_per_timepoint_with_pairs_turned_round():
    raw = pd.read_csv(HOURS, sep="\t")
    t = read("csv", HOURS, orient="resource", **LONG)
    assert sorted(t[S.DAY].unique()) == [0, 2, 4, 6, 12, 24, 48]
    assert set(t[S.TIME_UNIT].astype(str)) == {"hour"} and t[S.TIME_LABEL].isna().all()
    assert sorted(t[S.RUN_ID].unique()) == sorted(f"csv|{h}h|all" for h in (0, 2, 4, 6, 12, 24, 48))
    assert t.attrs["notes"][0] == "turned 6 of 10 pairs round (by the bundled CellChatDB and CellPhoneDB resources)"
    assert t.attrs["notes"][1] == "pathway known for 100% of rows (630 of 630)"
    assert sorted(t[S.INTERACTION].unique()) == sorted([
        "MIF^CD74", "APP^CD74", "CXCL10^DPP4", "CCL5^CCR1", "ANXA1^FPR1", "INHBA^ACVR1B_ACVR2A",
        "ICAM1^ITGAL_ITGB2", "LGALS9^HAVCR2", "SPP1^CD44", "TNF^TNFRSF1A"])
    # a turned row: partner A (the receptor, CD74) is expressed by A, so A receives
    row = raw[(raw["time"] == "6h") & (raw["interacting_pair"] == "CD74_MIF") & (raw["cell_pair"] == "Mono|CD4T")].iloc[0]
    got = t[(t[S.DAY] == 6) & (t[S.INTERACTION] == "MIF^CD74") & (t[S.SOURCE] == "CD4T") & (t[S.TARGET] == "Mono")]
    assert len(got) == 1 and got[S.SCORE].iloc[0] == pytest.approx(row["mean"])
    # a pair listed ligand first keeps its cells
    row = raw[(raw["time"] == "0h") & (raw["interacting_pair"] == "SPP1_CD44") & (raw["cell_pair"] == "Mono|NK")].iloc[0]
    got = t[(t[S.DAY] == 0) & (t[S.INTERACTION] == "SPP1^CD44") & (t[S.SOURCE] == "Mono") & (t[S.TARGET] == "NK")]
    assert got[S.SCORE].iloc[0] == pytest.approx(row["mean"])
    # significance from the p-value: the same count as pandas on the file, per timepoint
    expected = raw.assign(sig=raw["pvalue"] <= 0.05).groupby("time")["sig"].sum()
    got = t.groupby(S.DAY)[S.SIGNIFICANT].sum()
    assert {int(k.rstrip("h")): int(v) for k, v in expected.items()} == {int(k): int(v) for k, v in got.items()}


def test_orientation_is_an_option_and_has_three_sources(tmp_path):
    plain = read("csv", HOURS, **LONG)
    assert "CD74^MIF" in set(plain[S.INTERACTION]) and not any(n.startswith("turned") for n in plain.attrs["notes"])
    listed = read("csv", HOURS, receptors="CD74,DPP4,CCR1,FPR1,ACVR1B,ACVR2A", **LONG)
    assert listed.attrs["notes"][0].startswith("turned 6 of 10 pairs round")
    receptors = tmp_path / "receptors.txt"
    receptors.write_text("# receptors\nCD74\nFPR1\n")
    some = read("csv", HOURS, receptors=str(receptors), **LONG)
    assert some.attrs["notes"][0].startswith("turned 3 of 10 pairs round")  # CD74_MIF, CD74_APP, FPR1_ANXA1
    flagged = pd.read_csv(HOURS, sep="\t")
    flagged["receptor_first"] = flagged["interacting_pair"].isin(RECEPTOR_FIRST)
    by_flag = read("csv", flagged, flag_col="receptor_first", **LONG)
    by_resource = read("csv", HOURS, orient="resource", **LONG)
    key = [S.DAY, S.SOURCE, S.TARGET, S.INTERACTION]
    a = by_flag[key + [S.SCORE]].astype({c: str for c in key[1:]}).sort_values(key).reset_index(drop=True)
    b = by_resource[key + [S.SCORE]].astype({c: str for c in key[1:]}).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_complex_names_kept_when_asked():
    kept = read("csv", HOURS, **{**LONG, "complex_names": "keep"})
    assert "ACVR_1B2A receptor" in set(kept[S.LIGAND].astype(str))  # not re-sorted into '1B2A receptor_ACVR'
    assert "aLb2 complex" in set(kept[S.RECEPTOR].astype(str))
    sorted_ = read("csv", HOURS, **{**LONG, "complex_names": "sort"})
    assert "1B2A receptor_ACVR" in set(sorted_[S.LIGAND].astype(str))  # the old behaviour, still the default


def test_pair_column_splits_and_says_where_it_cannot():
    t = pd.DataFrame({"pair": ["MIF^CD74_CXCR4", "APP^CD74"], "source": "A", "target": "B", "score": [1.0, 2.0]})
    got = read("csv", t, day=0, pair_col="pair")
    assert list(got[S.INTERACTION]) == ["MIF^CD74_CXCR4", "APP^CD74"]
    bad = pd.DataFrame({"pair": ["FOO_BAR_BAZ"], "source": "A", "target": "B", "score": [1.0]})
    with pytest.raises(InputError, match="row 1: 'FOO_BAR_BAZ' splits at '_' in 2 places and no split leaves known names"):
        read("csv", bad, day=0, pair_col="pair")


# --- score direction lower ---------------------------------------------------------------------


def test_lower_is_stronger_for_ranks_and_for_values_in_0_1(store):
    t = pd.DataFrame({"source": "A", "target": "B", "ligand": ["L1", "L2", "L3"], "receptor": "R",
                      "rank": [1, 2, 3]})
    ranks = read("csv", t, day=0, columns="rank=score", score_direction="lower", all_significant=True)
    np.testing.assert_allclose(ranks[S.SCORE], [1.0, 0.5, 1 / 3])
    store.load(ranks)
    got = store.query("signaling_by_day", cell_type="A")  # default min_score=0: none dropped
    assert int(got["n_interactions"].sum()) == 3
    unit = read("csv", t.assign(rank=[0.0, 0.25, 1.0]), day=0, columns="rank=score", score_direction="lower")
    np.testing.assert_allclose(unit[S.SCORE], [1.0, 0.75, 0.0])
    with pytest.raises(InputError, match="values in \\[0, 1\\] .* or ranks >= 1"):
        read("csv", t.assign(rank=[0.5, 2.0, 3.0]), day=0, columns="rank=score", score_direction="lower")
    forced = read("csv", t.assign(rank=[0.5, 2.0, 4.0]), day=0, columns="rank=score", score_direction="lower",
                  score_transform="reciprocal")
    np.testing.assert_allclose(forced[S.SCORE], [2.0, 0.5, 0.25])


# --- CellPhoneDB: older layouts and method 3 through `cellphonedb` ------------------------------


def _cells(t):
    key = [S.SOURCE, S.TARGET, S.INTERACTION]
    return t[key + [S.SCORE, S.PVALUE, S.SIGNIFICANT]].astype({c: str for c in key}).sort_values(key).reset_index(drop=True)


def test_cellphonedb_v2_and_v4_folders_load():
    from commgraph.formats.cellphonedb import layout

    assert layout(V2) == "method2_v2" and layout(V4) == "method2" and layout(DEG) == "method3"
    assert layout(V2 / "pvalues.txt") == "method2_v2"
    v2 = read("cellphonedb", V2, day=0)
    v4 = read("cellphonedb", V4, day=0)
    sig = pd.read_csv(V2 / "significant_means.txt", sep="\t")
    pairs = [c for c in sig.columns if "|" in c]
    assert len(v2) == 30 * len(pairs)
    # two v5 interactions can become one pair (collisions are reported); here none does
    assert int(v2[S.SIGNIFICANT].sum()) == int(sig[pairs].notna().to_numpy().sum())
    pd.testing.assert_frame_equal(_cells(v2), _cells(v4))
    assert list(read("cellphonedb", V2 / "means.txt", day=0)[S.SCORE]) == list(v2[S.SCORE])
    # v5 read of the same run: the same cells, except the Ligand-Receptor interactions v5 flags
    # receptor_a=True, receptor_b=False, which v5's directionality keeps ligand first and an older
    # layout (no directionality) can only orient by the flags (rule 2 of formats/cellphonedb.py)
    raw = pd.read_csv(V5 / "statistical_analysis_means_fixture.txt", sep="\t").iloc[:30]
    flagged = int(((raw["directionality"] == "Ligand-Receptor") & raw["receptor_a"] & ~raw["receptor_b"]).sum())
    assert flagged > 0
    v5 = read("cellphonedb", V5, day=0)
    both = _cells(v2).merge(_cells(v5), on=[S.SOURCE, S.TARGET, S.INTERACTION], suffixes=("", "_v5"))
    assert len(both) == (30 - flagged) * len(pairs)
    np.testing.assert_allclose(both[S.SCORE], both[f"{S.SCORE}_v5"])
    np.testing.assert_allclose(both[S.PVALUE], both[f"{S.PVALUE}_v5"])


def test_method3_folder_loads_through_cellphonedb():
    via_cpdb = read("cellphonedb", DEG, day=0)
    direct = read("cellphonedb_deg", DEG, day=0)
    pd.testing.assert_frame_equal(_cells(via_cpdb), _cells(direct))
    assert set(via_cpdb[S.METHOD].astype(str)) == {"cellphonedb:degs"}
    assert via_cpdb[S.PVALUE].isna().all()


def test_cellphonedb_small_molecules_keep_the_metabolite_name():
    t = read("cellphonedb", V5, day=0)
    ligands = set(t[S.LIGAND].astype(str))
    assert {"Cholesterol(LIPA)", "Cholesterol(DHCR24)", "ProstaglandinE2(PTGES2)"} <= ligands
    by = t.groupby(t[S.LIGAND].astype(str))[S.PATHWAY].agg(lambda p: set(p.astype(str)))
    assert by["Cholesterol(LIPA)"] == {"Cholesterol"} and by["ProstaglandinE2(PTGES2)"] == {"Prostaglandin"}
    # CellChatDB files 22-hydroxycholesterol made by CYP11A1 under 27HC: not taken for the metabolite
    assert pair_pathway("CYP11A1", "NR1H4") == "27HC"
    assert pair_pathway("22Hydroxycholesterol(CYP11A1)", "NR1H4") is None
    assert S.subunit_genes("5-HT(SLC6A4,TPH1)") == ["SLC6A4", "TPH1"]


# --- one pathway vocabulary, whatever loads first ---------------------------------------------


def test_pathway_vocabulary_and_no_load_order_dependence(tmp_path):
    from commgraph.formats._pathways import classification_table

    cls = dict(zip(classification_table()["classification"], classification_table()[S.PATHWAY]))
    assert cls["Adhesion by Collagen/Integrin"] == "COLLAGEN"
    assert cls["Signaling by Amyloid-beta precursor protein"] == "APP"
    assert cls["Signaling by WNT inhibition"] == "WNT"
    assert pair_pathway("MIF", "CD74") == "MIF" and pair_pathway("CXCL10", "DPP4") == "CXCL"
    for order in ((V5, DATA / "cellchat" / "subset_communication.csv"), (DATA / "cellchat" / "subset_communication.csv", V5)):
        with cg.connect(tmp_path / f"s{len(list(tmp_path.iterdir()))}.lbug") as st:
            for i, source in enumerate(order):
                st.load(read("cellchat" if source.suffix == ".csv" else "cellphonedb", source, day=i))
            disagree = st.cypher(f"MATCH ()-[r:{S.SIGNALS}]->() MATCH (i:{S.INTERACTION_NODE} {{name: r.interaction}}) "
                                 f"WHERE i.pathway <> r.pathway RETURN count(*) AS n")
            assert int(disagree["n"].iloc[0]) == 0


# --- control vs stimulated ----------------------------------------------------------------------


def test_conditions_are_unordered_named_timepoints(store):
    t = read("csv", CONDITIONS, time_col="condition", time_unit="condition", time_order="control,stimulated",
             columns="ligand_complex=ligand,receptor_complex=receptor,magnitude_rank=score",
             score_direction="lower", all_significant=True)
    assert set(zip(t[S.DAY], t[S.TIME_LABEL].astype(str))) == {(0, "control"), (1, "stimulated")}
    assert sorted(t[S.RUN_ID].unique()) == ["csv|control|all", "csv|stimulated|all"]
    store.load(t)
    assert store.time_unit() == "condition" and store.time_labels() == {0: "control", 1: "stimulated"}
    flow = store.query("signaling_by_day", cell_type="Myeloid")
    assert list(flow[S.DAY]) == [0, 1]
    assert flow["total_score"].iloc[1] > flow["total_score"].iloc[0]  # stimulated Myeloid send more
    with pytest.raises(InputError, match="holds a study timed in conditions; these runs are timed in days"):
        store.load(read("liana", DATA / "liana" / "rank_aggregate.csv", day=0))


def test_cli_control_vs_stimulated_one_run_at_a_time(tmp_path):
    db = tmp_path / "cond.lbug"
    liana = DATA / "liana" / "rank_aggregate.csv"
    cli("load", "liana", liana, "--day", "control", "--time-unit", "condition", db=db)
    cli("load", "liana", liana, "--day", "stimulated", "--time-unit", "condition", db=db)
    cli("load", "liana", liana, "--day", "control", "--time-unit", "condition", db=db)  # reloaded: same number
    with cg.connect(db, read_only=True) as st:
        assert st.time_labels() == {0: "control", 1: "stimulated"}
        assert sorted(st.runs()[S.RUN_ID]) == ["liana|control|all", "liana|stimulated|all"]
    stats = cli("stats", db=db).stdout
    assert "conditions: [control, stimulated]" in stats
    q = cli("query", "pathway_flow", "-p", "day=stimulated", db=db).stdout
    assert "stimulated" in q and "control" not in q
    bad = cli("query", "pathway_flow", "-p", "day=mock", db=db, check=False)
    assert bad.returncode == 1 and "no condition 'mock' ($day) in the store (known: control, stimulated)" in bad.stderr
    q = cli("query", "signaling_by_day", "-p", "cell_type=Myeloid", db=db).stdout
    rows = [line.split() for line in q.splitlines() if line.strip().startswith(("control", "stimulated"))]
    assert [r[0] for r in rows] == ["control", "stimulated"]


def test_cli_hours_long_table_end_to_end(tmp_path):
    db = tmp_path / "hours.lbug"
    r = cli("load", "csv", HOURS, "--time-col", "time", "--time-unit", "hour", "-o", "pair_col=interacting_pair",
            "-o", "cell_pair_col=cell_pair", "-o", "columns=mean=score", "-o", "orient=resource",
            "-o", "complex_names=cellphonedb", db=db)
    assert "note: turned 6 of 10 pairs round" in r.stderr
    assert "note: pathway known for 100% of rows (630 of 630)" in r.stderr
    assert "loaded 7 run(s), 630 interactions" in r.stderr
    stats = cli("stats", db=db).stdout
    assert "times: [0 h, 2 h, 4 h, 6 h, 12 h, 24 h, 48 h]" in stats
    flow = cli("query", "pathway_flow", "-p", "day=6h", db=db).stdout
    header = next(line for line in flow.splitlines() if line.split()[:1] == ["pathway"])
    assert header.split()[:3] == ["pathway", "group", "time"]
    assert "6 h" in flow and "12 h" not in flow
    as_csv = pd.read_csv(pd.io.common.StringIO(cli("query", "lr_trajectory", "-p", "ligand=MIF", "-p", "receptor=CD74",
                                                   "-f", "csv", db=db).stdout))
    assert {S.DAY, S.TIME_UNIT, "time"} <= set(as_csv.columns)
    assert set(as_csv[S.DAY]) == {0, 2, 4, 6, 12, 24, 48} and set(as_csv[S.TIME_UNIT]) == {"hour"}
    hint = cli("query", "pathway_flow", "-p", "day=5h", db=db, check=False)
    assert hint.returncode == 1
    assert "hint: no time 5 h ($day = 5) in the store (known: 0 h, 2 h, 4 h, 6 h, 12 h, 24 h, 48 h)" in hint.stderr
    bad = cli("load", "liana", DATA / "liana" / "rank_aggregate.csv", "--day", "3", db=db, check=False)
    assert bad.returncode == 1 and "holds a study timed in hours; these runs are timed in days" in bad.stderr


def test_manifest_with_units_labels_and_a_long_table(tmp_path):
    manifest = tmp_path / "study.csv"
    pd.DataFrame([
        {"path": str(DATA / "liana" / "rank_aggregate.csv"), "format": "liana", "day": "LPS 4h", "group": "lps"},
        {"path": str(DATA / "liana" / "rank_aggregate.csv"), "format": "liana", "day": "0h", "group": "lps"},
    ]).to_csv(manifest, index=False)
    with cg.connect(tmp_path / "m.lbug") as st:
        runs = cg.load_manifest(st, manifest, progress=False)
        assert sorted(runs[S.RUN_ID]) == ["liana|0h|lps", "liana|4h|lps"]
        assert st.time_unit() == "hour" and st.time_labels() == {4: "LPS 4h"}
        assert runs.attrs["notes"] and runs.attrs["notes"][-1].startswith("pathway known for")
    long = tmp_path / "long.yaml"
    long.write_text(f"time_unit: hour\nruns:\n  - path: {HOURS}\n    format: csv\n"
                    f"    options: {{time_col: time, pair_col: interacting_pair, cell_pair_col: cell_pair,"
                    f" columns: mean=score, orient: resource, complex_names: cellphonedb}}\n"
                    f"  - path: {DATA / 'liana' / 'rank_aggregate.csv'}\n    format: liana\n    day: 3\n")
    with cg.connect(tmp_path / "long.lbug") as st:
        runs = cg.load_manifest(st, long, progress=False)  # the study's unit applies to day: 3 too
        assert len(runs) == 8 and runs.attrs["notes"][0].startswith("turned 6 of 10 pairs round")
        assert "liana|3h|all" in set(runs[S.RUN_ID]) and st.time_unit() == "hour"


def test_readme_hours_example_is_what_the_cli_prints(tmp_path):
    """README "Real studies": each command of the hours example, run on the fixture, prints every
    line the README shows after it."""
    import re
    import shlex
    import shutil

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Real studies", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(bash)?\n(.*?)```", section, re.S)
    shutil.copy(HOURS, tmp_path / HOURS.name)
    db = tmp_path / "lps.lbug"
    checked = 0
    for (lang, text), (next_lang, shown) in zip(blocks, blocks[1:] + [("bash", "")]):
        if lang != "bash":
            continue
        command = shlex.split(text.replace("\\\n", " "), comments=True)
        assert command[0] == "commgraph"
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", "COMMGRAPH_DB": str(db)}
        r = subprocess.run([sys.executable, "-m", "commgraph.cli", *command[1:]], capture_output=True, text=True,
                           env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        printed = {line.rstrip() for line in (r.stdout + r.stderr).splitlines()}
        if next_lang != "bash":
            for line in shown.splitlines():
                assert line.rstrip() in printed, (command, line)
                checked += 1
    assert checked == 14  # 3 load lines, 2 of stats, the 9 of the table


def test_user_pathway_file_wins(tmp_path):
    mine = tmp_path / "pathways.csv"
    mine.write_text("interaction,pathway\nMIF^CD74,MY_MIF\nCD74^APP,MY_APP\n")  # either way round
    t = read("csv", HOURS, orient="resource", pathways=str(mine), **LONG)
    by = t.drop_duplicates(S.INTERACTION).set_index(S.INTERACTION)[S.PATHWAY].astype(str)
    assert (by["MIF^CD74"], by["APP^CD74"], by["SPP1^CD44"]) == ("MY_MIF", "MY_APP", "SPP1")
    assert '"pathways": "' in str(t[S.PARAMETERS].iloc[0])  # the run records which table it used
    mine.write_text("ligand,receptor,pathway\nMIF,CD74,A\nMIF,CD74,B\n")
    with pytest.raises(InputError, match="row 2: MIF\\^CD74 is given two pathways"):
        read("csv", HOURS, pathways=str(mine), **LONG)
    with pytest.raises(InputError, match="pathway table not found"):
        read("csv", HOURS, pathways=str(tmp_path / "none.csv"), **LONG)


def test_manifest_of_conditions_numbers_them_in_its_order(tmp_path):
    liana = DATA / "liana" / "rank_aggregate.csv"
    counts = tmp_path / "counts.csv"
    counts.write_text("cell_type,n_cells\nMyeloid,10\nTcells,5\n")
    manifest = tmp_path / "study.csv"
    pd.DataFrame([
        {"path": str(liana), "format": "liana", "day": "stimulated", "time_unit": "condition", "cell_counts": str(counts)},
        {"path": str(liana), "format": "liana", "day": "control", "time_unit": "condition", "cell_counts": ""},
    ]).to_csv(manifest, index=False)
    with cg.connect(tmp_path / "c.lbug") as st:
        runs = cg.load_manifest(st, manifest, progress=False)
        assert sorted(runs[S.RUN_ID]) == ["liana|control|all", "liana|stimulated|all"]
        assert st.time_labels() == {0: "stimulated", 1: "control"}  # the manifest's order
        states = st.cell_states()
        assert states.loc[states[S.CELL_TYPE_PROP] == "Myeloid"].set_index(S.DAY)[S.N_CELLS].to_dict()[0] == 10
