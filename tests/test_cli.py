"""The command line as a user runs it: load, manifest, stats, runs, remove, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from conftest import synthetic_table

NATIVE = [S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.SCORE, S.PVALUE]


def cli(*args, db=None, check=True):
    env = {**os.environ}
    if db is not None:
        env["COMMGRAPH_DB"] = str(db)
    r = subprocess.run([sys.executable, "-m", "commgraph.cli", *map(str, args)], capture_output=True, text=True,
                       env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"commgraph {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r


@pytest.fixture
def study(tmp_path):
    """Two runs as plain CSV files and a manifest listing them."""
    for day in (0, 7):
        t = synthetic_table(days=(day,), seed=day)
        t[NATIVE].to_csv(tmp_path / f"day{day}.csv", index=False)
    pd.DataFrame({S.CELL_TYPE_PROP: ["MX1+ Mono", "Treg", "CD4 Naive T"], S.N_CELLS: [10, 20, 70]}).to_csv(
        tmp_path / "counts0.csv", index=False)
    (tmp_path / "study.csv").write_text(
        "path,format,day,group,cell_counts\n"
        "day0.csv,csv,0,high,counts0.csv\n"
        "day7.csv,csv,7,high,\n"
    )
    return tmp_path


def snapshot(db) -> tuple:
    with cg.connect(db, read_only=True) as st:
        return len(st.runs()), len(st.signals()), len(st.cell_states())


def test_load_one_run_and_stats(study):
    db = study / "s.lbug"
    r = cli("load", "csv", study / "day0.csv", "--day", 0, "--group", "high", db=db)
    assert "loaded 1 run(s), 27 interactions" in r.stderr
    out = cli("stats", db=db).stdout
    assert "runs: 1" in out and "SIGNALS: 27" in out
    runs = cli("runs", "--format", "csv", db=db).stdout
    assert "csv|d0|high" in runs


def test_manifest_loads_every_run_with_counts(study):
    db = study / "s.lbug"
    cli("load", "--manifest", study / "study.csv", db=db)
    with cg.connect(db, read_only=True) as st:
        assert sorted(st.runs()[S.RUN_ID]) == ["csv|d0|high", "csv|d7|high"]
        states = st.cell_states().set_index(S.KEY_PROP)
        assert states.loc["Treg|0|high", S.N_CELLS] == 20
        assert states.loc["CD4 Naive T|0|high", S.FRACTION] == pytest.approx(0.7)


def test_yaml_manifest(study):
    (study / "study.yaml").write_text(
        "runs:\n"
        "  - {path: day0.csv, format: csv, day: 0, group: low, sample: P1}\n"
        "  - {path: day7.csv, format: csv, day: 7, group: low, sample: P1, options: {threshold: 0.01}}\n"
    )
    runs = cg.load_manifest(study / "s.lbug", study / "study.yaml", progress=False)
    assert sorted(runs[S.RUN_ID]) == ["csv|d0|low|P1", "csv|d7|low|P1"]


def test_loading_twice_keeps_one_copy(study):
    db = study / "s.lbug"
    for _ in range(2):
        cli("load", "--manifest", study / "study.csv", db=db)
    assert snapshot(db)[:2] == (2, 54)


def test_remove(study):
    db = study / "s.lbug"
    cli("load", "--manifest", study / "study.csv", db=db)
    cli("remove", "csv|d0|high", db=db)
    assert snapshot(db)[:2] == (1, 27)
    r = cli("remove", "nope", db=db, check=False)
    assert r.returncode == 1 and "no run 'nope'" in r.stderr


@pytest.mark.parametrize(
    "manifest, message",
    [
        ("path,format,day\nday0.csv,csv,0\nmissing.csv,csv,7\n", "study.csv, column 'path', row 2: "),
        ("path,format,day\nday0.csv,nosuch,0\n", "column 'format', row 1: unknown format 'nosuch'"),
        ("path,format,day\nday0.csv,csv,seven\n", "column 'day', row 1: day 'seven' is not a whole number"),
        ("path,format\nday0.csv,csv\n", "column 'day'"),
        ("path,format,day\n", "lists no runs"),
        ("path,format,day\nday0.csv,csv,0\nday0.csv,csv,0\n", "listed twice"),
    ],
)
def test_bad_manifest_leaves_store_unchanged(study, manifest, message):
    db = study / "s.lbug"
    cli("load", "csv", study / "day7.csv", "--day", 7, db=db)
    before = snapshot(db)
    (study / "study.csv").write_text(manifest)
    r = cli("load", "--manifest", study / "study.csv", db=db, check=False)
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(db) == before


def test_bad_row_in_second_run_writes_nothing(study):
    db = study / "s.lbug"
    cli("load", "csv", study / "day7.csv", "--day", 7, "--group", "other", db=db)
    before = snapshot(db)
    bad = pd.read_csv(study / "day7.csv")
    bad.loc[4, S.PVALUE] = 1.7
    bad.to_csv(study / "day7.csv", index=False)
    r = cli("load", "--manifest", study / "study.csv", db=db, check=False)
    assert r.returncode == 1
    assert "day7.csv" in r.stderr and "column 'pvalue'" in r.stderr and "row 5" in r.stderr
    assert snapshot(db) == before  # day 0 of the manifest was fine, and is not loaded either


def test_unknown_format_and_missing_arguments(study):
    db = study / "s.lbug"
    r = cli("load", "nosuch", study / "day0.csv", "--day", 0, db=db, check=False)
    assert r.returncode == 1 and "nosuch" in r.stderr and "csv" in r.stderr
    r = cli("load", "csv", study / "day0.csv", db=db, check=False)
    assert r.returncode == 1 and "--day" in r.stderr
    assert not db.exists() or snapshot(db)[0] == 0


def test_formats_and_schema_list_the_registry():
    out = cli("formats").stdout
    for name in ("cellphonedb", "cellphonedb_deg", "liana", "cellchat", "csv"):
        assert name in out
    assert "significant" in cli("schema").stdout


def test_chunk_rows_must_be_positive_on_the_command_line(study):
    db = study / "s.lbug"
    r = cli("load", "--manifest", study / "study.csv", "--chunk-rows", 0, db=db, check=False)
    assert r.returncode != 0 and "--chunk-rows" in r.stderr
    assert not db.exists()
    cli("load", "--manifest", study / "study.csv", "--chunk-rows", 27, db=db)
    assert snapshot(db)[:2] == (2, 54)
