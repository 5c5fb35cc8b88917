"""Durability: SIGKILLed loads leave the old or the new content, damaged stores are never emptied,
disk-full leaves the previous content. The kill campaign itself is bench/kills.py (this runs a
bounded one); the long one is `python -m bench.kills --kills 100`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import commgraph as cg
from bench.kills import Campaign, big_table, content, new_items, old_items
from conftest import REPO, synthetic_table

CLI = [sys.executable, "-m", "commgraph.cli"]


def _cli(*args, env=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def _campaign(kills: int, rows: int, **kw) -> list[dict]:
    c = Campaign(rows, **kw)
    assert c.old != c.new
    return [c.kill_at(at) for at in c.instants(kills)]


def test_killed_loads_leave_old_or_new_embedded(tmp_path):
    records = _campaign(7, 20_000, workdir=tmp_path)
    for r in records:
        assert r["outcome"] in ("old", "new"), r
        assert r["rerun_equal"], r
    # the first kill (2% into the load) lands before the switch; later ones mostly after it, but
    # on a busy machine a load may run slower than the timed one, so that is not required
    assert records[0]["outcome"] == "old", records


@pytest.mark.neo4j
def test_killed_loads_leave_old_or_new_neo4j(neo4j_uri, monkeypatch):
    from commgraph.stores import neo4j as n

    monkeypatch.setattr(n, "BATCH", 500)  # many small batches in this process (the reference and re-runs)
    records = _campaign(4, 10_000, neo4j=neo4j_uri)
    for r in records:
        assert r["outcome"] in ("old", "new"), r
        assert r["rerun_equal"], r
    with cg.connect(neo4j_uri) as st:
        st.clear()


def test_torn_wal_of_an_interrupted_write_is_set_aside(tmp_path):
    """A kill while a large commit writes its WAL leaves one LadybugDB refuses to open ("Checksum
    verification failed"). Every commgraph transaction is checkpointed before the next, so with the
    journal there that WAL is the interrupted, uncommitted transaction's: it is set aside and the
    journal's step decides (here: a stage, undone)."""
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load_many(old_items(4000))
        old = content(st)
        st._staged = {"fresh": {}, "load_ids": ["t0.never-switched"]}
        st._journal_write("stage", **st._staged)
    # a WAL cut short: the head of a real one (a write on a copy, killed before its checkpoint)
    src = tmp_path / "src.lbug"
    shutil.copy(path, src)
    code = f"""
import os, signal, ladybug
db = ladybug.Database({str(src)!r}); c = ladybug.Connection(db)
c.execute("MATCH (s:CellState) SET s.n_cells = 1")
os.kill(os.getpid(), signal.SIGKILL)
"""
    subprocess.run([sys.executable, "-c", code], check=False)
    wal = Path(f"{src}.wal").read_bytes()
    assert len(wal) > 200
    Path(f"{path}.wal").write_bytes(wal[: len(wal) // 2])
    with pytest.warns(UserWarning, match="torn"):
        with cg.connect(path) as st:
            assert content(st) == old
    assert Path(f"{path}.wal.torn").exists() and not Path(f"{path}.commgraph-journal").exists()


def _zero_tail(path: Path, n: int = 64 * 1024) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(max(0, size - n))
        f.write(b"\0" * min(n, size))


def test_damaged_store_is_an_error_never_emptied(tmp_path):
    path = tmp_path / "s.lbug"
    with cg.connect(path) as st:
        st.load(big_table(3000, run_id="X"))
    _zero_tail(path)
    damaged = path.read_bytes()
    with pytest.raises(cg.StoreError, match=r"s\.lbug .*restore it from a backup, or start over with `commgraph load --force-new`"):
        cg.connect(path)
    run = tmp_path / "run.csv"
    synthetic_table(days=(1,)).drop(columns=["day"]).to_csv(run, index=False)
    for args in (["stats", "--db", str(path)], ["load", "csv", str(run), "--day", "1", "--db", str(path)]):
        r = _cli(*args)
        assert r.returncode == 1, r
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "restore it from a backup" in lines[0] and str(path) in lines[0], r.stderr
        assert "Traceback" not in r.stderr
    assert path.read_bytes() == damaged  # load did not re-create the schema over it
    r = _cli("load", "csv", str(run), "--day", "1", "--db", str(path), "--force-new")
    assert r.returncode == 0, r.stderr
    with cg.connect(path) as st:
        assert st.runs()["day"].tolist() == [1]


def test_a_file_that_is_not_a_store_is_an_error(tmp_path):
    path = tmp_path / "notes.lbug"
    path.write_text("these are my notes, not a database\n" * 2000)
    before = path.read_bytes()
    with pytest.raises(cg.StoreError, match="notes.lbug .*--force-new"):
        cg.connect(path)
    r = _cli("stats", "--db", str(path))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert path.read_bytes() == before


def _tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def test_disk_full_is_one_line_and_keeps_the_previous_content(tmp_path):
    mnt = tmp_path / "small"
    if not _tmpfs(mnt, "12m"):
        pytest.skip("needs root to mount a small tmpfs (disk full)")
    try:
        path = mnt / "s.lbug"
        with cg.connect(path) as st:
            st.load_many(old_items(4000))
            old = content(st)
        with pytest.raises(cg.StoreError, match=r"cannot write .*s\.lbug: No space left on device; the store keeps"):
            with cg.connect(path) as st:
                st.load(big_table(400_000, run_id="X", seed=1))
        # still full: opening says so in one line, and changes nothing
        with pytest.raises(cg.StoreError):
            cg.connect(path)
        subprocess.run(["mount", "-o", "remount,size=200m", str(mnt)], check=True)
        with cg.connect(path) as st:
            assert content(st) == old
            st.load_many(new_items(4000))  # and it loads once there is room
            assert sorted(st.runs()["run_id"]) == ["X", "Y", "Z"]
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_bad_table_late_in_a_load_leaves_nothing_staged(tmp_path):
    """load_many stages table by table; a table refused after an earlier one was staged (here a run
    timed in hours into a study in days) undoes the stage at once: the old content alone, no
    leftover edges or journal."""
    from commgraph import _schema as S

    with cg.connect(tmp_path / "s.lbug") as st:
        st.load(synthetic_table(days=(0,), tag="old"))
        before = st.cypher("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n")["n"].iloc[0]
        good = synthetic_table(days=(7,), tag="new")
        hours = synthetic_table(days=(3,), tag="hours")
        hours[S.TIME_UNIT] = "hour"
        with pytest.raises(cg.InputError, match="hours"):
            st.load_many([(good, None), (hours, None)])
        assert st.cypher("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n")["n"].iloc[0] == before
        assert sorted(st.cypher("MATCH (r:Run) RETURN r.day AS d")["d"]) == [0]
    assert not list(tmp_path.glob("*journal*"))
