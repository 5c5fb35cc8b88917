"""Every error a user can cause is one line on stderr: exit 1, or 2 for a command line that doesn't
parse (documented in the README) — never a traceback, never a box."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from commgraph import cli

DATA = Path(__file__).parent / "data"
CELLCHAT = DATA / "cellchat" / "subset_communication.csv"
BOX = set("╭╮╰╯│─")


def run(*args, db=None, env=None):
    e = {**os.environ, **(env or {})}
    e.pop(cli.DEBUG_ENV, None)
    if db is not None:
        e["COMMGRAPH_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "commgraph.cli", *map(str, args)], capture_output=True, text=True,
                          env=e)


def one_line(r, code: int, *parts: str) -> str:
    """The command failed with ``code`` and said so in exactly one line naming ``parts``."""
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in r.stderr and not BOX & set(r.stderr), r.stderr
    assert "np.float64" not in line
    for part in parts:
        assert part in line, (part, line)
    return line


@pytest.mark.parametrize("args,parts", [
    (["load", "--dya", "3"], ["No such option: --dya", "commgraph load --help"]),
    (["view", "network", "--max-edges", "abc"], ["--max-edges", "integer"]),
    (["lod"], ["No such command 'lod'"]),
    (["query"], ["Missing argument"]),
    (["differential", "--min-detection", "x"], ["--min-detection"]),
], ids=["unknown-option", "bad-int", "unknown-command", "missing-argument", "bad-float"])
def test_usage_errors_are_one_plain_line_exit_2(args, parts):
    one_line(run(*args), 2, *parts)


def test_bad_option_value_and_huge_day(tmp_path):
    db = tmp_path / "s.lbug"
    one_line(run("load", "cellchat", CELLCHAT, "--day", 0, "-o", "threshold=abc", db=db), 1, "threshold", "'abc'")
    one_line(run("load", "cellchat", CELLCHAT, "--day", 0, "-o", "threshold=inf", db=db), 1, "threshold")
    # --day is a time as the study writes it (4, 4h, 'LPS 4h'): read, then bounded like a manifest's day
    one_line(run("load", "cellchat", CELLCHAT, "--day", "99999999999999999999999", db=db), 1,
             "day", "9223372036854775807")
    one_line(run("load", "cellchat", CELLCHAT, "--day", "abc", db=db), 1, "abc")
    assert not db.exists()  # nothing was written, not even an empty store
    one_line(run("differential", "--min-detection", "1.5", db=db), 2, "--min-detection")
    assert run("load", "cellchat", CELLCHAT, "--day", 0, db=db).returncode == 0  # -p day= is read in the study's unit
    one_line(run("view", "network", "--day", "99999999999999999999999", "-o", tmp_path / "v.html", db=db), 1,
             "$day", "no day 99999999999999999999999")  # --day of views, report, differential: a time read like -p day=
    one_line(run("query", "signaling_change", "-p", "cell_type=x", "-p", "day=99999999999999999999999", db=db), 1,
             "$day", "out of range")


@pytest.mark.parametrize("content", [b"hello, not HDF5\n", None], ids=["not-hdf5", "truncated"])
def test_infer_on_a_bad_h5ad(tmp_path, content):
    path = tmp_path / "study.h5ad"
    path.write_bytes(content if content is not None else (DATA / "cellphonedb-test" / "test.h5ad").read_bytes()[:100_000])
    r = run("infer", path, "--cell-type-key", "cell_type", "--day-key", "day", "--out", tmp_path / "out")
    one_line(r, 1, str(path), ".h5ad")


def test_liana_load_of_a_bad_h5ad(tmp_path):
    path = tmp_path / "liana.h5ad"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 50)
    one_line(run("load", "liana", path, "--day", 0, db=tmp_path / "s.lbug"), 1, str(path), ".h5ad")


def test_non_utf8_byte_in_a_cellphonedb_file(tmp_path):
    folder = tmp_path / "cpdb"
    shutil.copytree(DATA / "cellphonedb", folder)
    means = next(folder.glob("statistical_analysis_means_*.txt"))
    data = means.read_bytes()
    means.write_bytes(data.replace(b"Myeloid|NKcells_0", b"Myeloid|NKcells\xe9", 1))
    line = one_line(run("load", "cellphonedb", folder, "--day", 0, db=tmp_path / "s.lbug"), 1, str(means), "row 0",
                    "not UTF-8")
    assert "0xe9" in line


def test_manifest_with_a_huge_day_names_its_row(tmp_path):
    shutil.copy(CELLCHAT, tmp_path / "cc.csv")
    (tmp_path / "m.csv").write_text("path,format,day\ncc.csv,cellchat,1e30\n")
    one_line(run("load", "--manifest", tmp_path / "m.csv", db=tmp_path / "s.lbug"), 1, "day", "out of range",
             "row 1")


def _raise(exc):
    def command(*args, **kwargs):
        raise exc
    return command


def test_store_in_use_is_one_line(monkeypatch, capsys, tmp_path):
    """What LadybugDB raised in the campaign when a Python session held the store during a CLI load."""
    import commgraph._load

    monkeypatch.setattr(commgraph._load, "load", _raise(RuntimeError(
        "Storage exception: String dictionary index is outside the offset table\n  at …")))
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as ex:
        cli.main(["load", "csv", str(CELLCHAT), "--day", "0", "--db", str(tmp_path / "s.lbug")])
    assert ex.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "in use" in lines[0] and "String dictionary" in lines[0], lines


def test_an_unexpected_error_is_one_line_unless_debugging(monkeypatch, capsys, tmp_path):
    import commgraph._load

    monkeypatch.setattr(commgraph._load, "load", _raise(ZeroDivisionError("division by zero")))
    args = ["load", "csv", str(CELLCHAT), "--day", "0", "--db", str(tmp_path / "s.lbug")]
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as ex:
        cli.main(args)
    assert ex.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: ZeroDivisionError: division by zero [{cli.DEBUG_ENV}=1 shows where]"
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(args)


def test_help_and_success_still_exit_0(tmp_path):
    r = run("load", "--help")
    assert r.returncode == 0 and "--day" in r.stdout
    r = run("load", "cellchat", CELLCHAT, "--day", 0, db=tmp_path / "s.lbug")
    assert r.returncode == 0 and r.stderr.splitlines()[-1].startswith("loaded 1 run(s)"), r.stderr
