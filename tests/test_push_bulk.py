"""`commgraph push --bulk`: an embedded store built into a stopped Neo4j test server with the real
neo4j-admin, then the server started and asked the same questions as the embedded store."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from conftest import REPO, free_port, per_sample_tables, synthetic_table
from test_neo4j import assert_same, content

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

SERVER = REPO / "tools" / "neo4j-test-server" / "server.sh"
QUESTIONS = {
    "signaling_by_day": {"cell_type": "MX1+ Mono"},
    "partners": {"cell_type": "MX1+ Mono", "day": 7, "group": "high"},
    "dose_response": {"cell_type": "Treg", "day": 7},
    "network": {"day": 7, "group": "high"},
    "lr_trajectory": {"ligand": "ICAM1", "receptor": "ITGAL_ITGB2"},
    "interaction_catalogue": {"interaction": "CD86^CTLA4"},
    "cell_composition": {"cell_type": "Treg"},
}


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order (lists as tuples, so that they sort)."""
    df = df.apply(lambda c: c.map(lambda v: tuple(v) if isinstance(v, list) else v) if c.dtype == object else c)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_push_bulk_builds_the_same_study(neo4j_uri, tmp_path):
    # neo4j_uri: only so that the test runs with the Neo4j tests; it starts a server of its own
    path = tmp_path / "a.lbug"
    with cg.connect(path) as a:
        counts = pd.DataFrame({S.CELL_TYPE_PROP: ["Treg", "MX1+ Mono"], S.DAY: [7, 7], S.GROUP: "high", S.N_CELLS: [5, 9]})
        table = synthetic_table(days=(0, 7, 14), groups=("high", "low"))
        a.load(table, cell_counts=counts)
        a.load(synthetic_table(days=(7,), groups=("high",), seed=3))  # a replaced run: its old edges must not come along
        a.load(pd.concat(per_sample_tables(n_patients=2, n_lr=4, groups=("low",), prefix="Q"), ignore_index=True))
        want = content(a)
        answers = {q: _frame(a.query(q, **p)) for q, p in QUESTIONS.items()}
    assert all(len(x) for x in answers.values())

    port = free_port()
    env = {**os.environ, "NEO4J_TEST_HOME": str(tmp_path / "home"), "NEO4J_BOLT_PORT": str(port),
           "NEO4J_HTTP_PORT": "off", "NEO4J_HEAP": "1g", "NEO4J_PAGECACHE": "256m", "NEO4J_CDS": "0"}
    admin = f"bash {SERVER} admin"

    def push(*extra):
        return subprocess.run([sys.executable, "-m", "commgraph.cli", "push", "--from", str(path), "--bulk",
                               "--neo4j-admin", admin, "--work-dir", str(tmp_path), *extra],
                              capture_output=True, text=True, env=env)

    def server(what):
        done = subprocess.run(["bash", str(SERVER), what], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr

    built = push()
    assert built.returncode == 0, built.stdout + built.stderr
    assert "built Neo4j database 'neo4j'" in built.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("commgraph-bulk-")]  # the CSVs are gone

    again = push()  # the database exists now: refused, nothing changed
    assert again.returncode == 1 and "already exists: pass --overwrite" in again.stderr, again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1
    try:
        server("start")
        running = push("--overwrite")  # the server holds the database
        assert running.returncode == 1 and "is in use: stop the server first" in running.stderr, running.stderr
        assert "Traceback" not in running.stderr
        with cg.connect(f"bolt://127.0.0.1:{port}", read_only=True) as ro:  # the import brought the edge lists
            assert ro._runs_unlisted() == []
            listed = ro.cypher(f"MATCH (s:{S.INTERACTION_SUMMARY}) RETURN sum(size(s.{S.SENDERS})) AS n, "
                               f"sum(s.{S.N_PAIRS}) AS pairs")
            assert int(listed["n"][0]) == int(listed["pairs"][0]) > 0
        with cg.connect(f"bolt://127.0.0.1:{port}") as got:
            assert_same(content(got), want)
            for q, p in QUESTIONS.items():
                pd.testing.assert_frame_equal(_frame(got.query(q, **p)), answers[q], check_dtype=False, rtol=1e-9,
                                              obj=q)
    finally:
        server("stop")


def test_push_bulk_without_a_neo4j_home_is_one_clear_error(tmp_path):
    path = tmp_path / "a.lbug"
    with cg.connect(path) as a:
        a.load(synthetic_table())
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_HOME"}
    for extra, msg in [((), "needs --neo4j-home"), (("--neo4j-home", str(tmp_path)), "no neo4j-admin at"),
                       (("--to", "bolt://127.0.0.1:1"), "not through --to"),
                       (("--neo4j-admin", str(tmp_path / "nothing")), "cannot run neo4j-admin")]:
        done = subprocess.run([sys.executable, "-m", "commgraph.cli", "push", "--from", str(path), "--bulk", *extra],
                              capture_output=True, text=True, env=env)
        assert done.returncode == 1, done.stderr
        assert msg in done.stderr and "Traceback" not in done.stderr
