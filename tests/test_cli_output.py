"""The command line's messages and tables as a user sees them in an 80-column terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import commgraph as cg
from commgraph import _schema as S
from test_cli import NATIVE, study  # noqa: F401  (the fixture: two CSV runs and a manifest)


def cli(*args, db=None, env=None):
    e = {**os.environ, "COLUMNS": "80", **(env or {})}
    e.pop("COMMGRAPH_DB", None)
    if db is not None:
        e["COMMGRAPH_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "commgraph.cli", *map(str, args)], capture_output=True, text=True,
                          env=e, stdin=subprocess.DEVNULL)


@pytest.fixture
def loaded(study):  # noqa: F811
    db = study / "s.lbug"
    assert cli("load", "--manifest", study / "study.csv", db=db).returncode == 0
    return db


def test_queries_prints_null_defaults_as_null():
    out = cli("queries").stdout
    assert "$cell_type string = null" in out and "'null'" not in out
    assert '$group string = "all"' in out and "$limit int = 20" in out and "$significant_only bool = true" in out


def test_an_empty_answer_prints_its_hint_once_and_exits_1(loaded):
    r = cli("query", "partners", "-p", "cell_type=Nope", "-p", "day=7", "-p", "group=high", db=loaded)
    assert r.returncode == 1
    assert r.stderr.count("no cell type 'Nope'") == 1, r.stderr
    assert "UserWarning" not in r.stderr and "cli.py" not in r.stderr


def test_a_day_the_store_lacks_is_a_hint_not_a_table(loaded):
    r = cli("query", "top_changes", "-p", "day=3", "-p", "group=high", "-f", "csv", db=loaded)
    assert r.returncode == 1 and "day 3" in r.stderr
    assert r.stdout.strip() == "sender,receiver,interaction,ligand,receptor,pathway,status,baseline_score,score,delta,log2fc"


@pytest.mark.parametrize("args", [("query", "roles"), ("runs",)])
def test_unknown_output_format_is_an_error(loaded, args):
    r = cli(*args, "-f", "xml", db=loaded)
    assert r.returncode == 1 and "format 'xml'" in r.stderr and "table, csv, json" in r.stderr
    assert r.stdout == ""


def test_bad_direction_and_limit_are_one_line_errors(loaded):
    r = cli("query", "signaling_change", "-p", "cell_type=Treg", "-p", "day=7", "-p", "group=high",
            "-p", "direction=both", db=loaded)
    assert r.returncode == 1 and "$direction must be one of out, in" in r.stderr
    r = cli("query", "top_changes", "-p", "day=7", "-p", "group=high", "-p", "limit=-1", db=loaded)
    assert r.returncode == 1 and "$limit must be at least 0" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_remove_from_a_store_that_does_not_exist_creates_nothing(tmp_path):
    r = cli("remove", "csv|d0|high", db=tmp_path / "typo.lbug")
    assert r.returncode == 1 and "no store at" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failed_load_leaves_no_store_file(study):  # noqa: F811
    (study / "bad.csv").write_text("path,format,day\nday0.csv,nosuch,0\n")
    db = study / "new.lbug"
    r = cli("load", "--manifest", study / "bad.csv", db=db)
    assert r.returncode == 1
    assert not any(p.name.startswith("new.lbug") for p in study.iterdir())
    r = cli("load", "csv", study / "missing.csv", "--day", 0, db=db)
    assert r.returncode == 1
    assert not any(p.name.startswith("new.lbug") for p in study.iterdir())


def test_missing_neo4j_password_names_what_to_do():
    r = cli("stats", "--db", "bolt://127.0.0.1:1", env={"NEO4J_PASSWORD": ""})
    assert r.returncode == 1 and "NEO4J_PASSWORD" in r.stderr and "--password" not in r.stderr


def test_runs_fits_80_columns_one_line_per_run(loaded):
    lines = cli("runs", db=loaded).stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    for run_id in ("csv|d0|high", "csv|d7|high"):
        assert sum(run_id in line for line in lines) == 1
        row = next(line for line in lines if run_id in line)
        assert " csv " in row and " 27 " in row  # the format and n_rows on the run's line
    assert S.PARAMETERS in cli("runs", "-f", "csv", db=loaded).stdout.splitlines()[0]


def test_wide_query_tables_keep_each_row_on_one_line(loaded):
    lines = cli("query", "top_changes", "-p", "day=7", "-p", "group=high", "-p", "limit=3", db=loaded).stdout
    rows = [line for line in lines.splitlines() if "^" in line]
    assert len(rows) == 3, lines  # one line per row, cells not folded into fragments
    for line in rows:
        assert any(i in line for i in ("ICAM1^ITGAL_ITGB2", "CD86^CTLA4", "APP^CD74"))
    with cg.connect(loaded, read_only=True) as st:
        want = st.query("top_changes", day=7, group="high", limit=3)
    for row, (sender, receiver) in zip(rows, zip(want["sender"], want["receiver"])):
        assert sender in row and receiver in row


def test_an_engine_error_is_one_line_naming_the_query(loaded):
    with cg.connect(loaded) as st:
        # a store every named query fails on (as one from an older schema would); a store without its
        # Run table is refused when opened (tests/test_durability.py), so a property goes instead
        st.cypher("ALTER TABLE Run DROP load_id")
    r = cli("query", "roles", "-p", "day=7", "-p", "group=high", db=loaded)
    assert r.returncode == 1 and "query 'roles' failed on" in r.stderr and "load_id" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_query_browser_prints_the_params_line_then_the_query(loaded, tmp_path):
    from commgraph._queries import get_query, parse_params_map

    r = cli("query", "partners", "--browser", "-p", "cell_type=Treg", "-p", "day=7", "-p", "group=high",
            "-p", "significant_only=false", db=tmp_path / "none.lbug")
    assert r.returncode == 0 and r.stderr == ""
    assert not (tmp_path / "none.lbug").exists()  # nothing to open: it only prints
    first, blank, *query = r.stdout.splitlines()
    assert first == (':params {cell_type: "Treg", day: 7, group: "high", direction: "out", partner: null, '
                     'pathway: null, ligand: null, receptor: null, interaction: null, method: null, pvalue: 0.05, '
                     'significant_only: false, min_score: 0.0}')
    assert blank == "" and query[0].startswith("// partners:") and not any(":params" in q for q in query)
    # pasted as printed, the line's parameters and the query give the answer `commgraph query` gives
    params = parse_params_map(first.removeprefix(":params "))
    with cg.connect(loaded, read_only=True) as store:
        pasted = store.cypher("\n".join(query), params)
        assert pasted.equals(store.query("partners", cell_type="Treg", day=7, group="high", significant_only=False))
    assert len(pasted) > 0
    assert len(query) == len(get_query("partners").text.splitlines()) - 1  # the file, less the :params comment
    r = cli("query", "partners", "--browser", "-p", "day=seven")
    assert r.returncode == 1 and "$day must be int" in r.stderr and r.stdout == ""


# --- progress bars: on a terminal only, never on stdout ----------------------------------------


def test_progress_off_a_terminal_writes_nothing(capfd):
    from commgraph._progress import track

    assert list(track(range(5), description="copying")) == list(range(5))
    assert capfd.readouterr() == ("", "")  # rich's finished bar off a terminal was one blank line


def test_export_prints_only_its_command(loaded, tmp_path):
    r = cli("export", "neo4j-import", tmp_path / "csv", db=loaded)
    assert r.returncode == 0
    assert r.stdout.startswith("cd ") and "neo4j-admin database import full" in r.stdout.splitlines()[0]
    assert r.stdout.count("\n") == 1  # the command, one line, nothing before it
    assert r.stderr.startswith("wrote ") and "\n\n" not in r.stderr


@pytest.mark.neo4j
def test_push_off_a_terminal_prints_one_line(loaded, neo4j_store, neo4j_uri):
    r = cli("push", "--from", loaded, "--to", neo4j_uri)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # not 12 blank lines before the message
    assert r.stderr == f"copied 2 run(s) from {loaded} to {neo4j_uri}\n"  # one line, however long
    assert len(neo4j_store.runs()) == 2
