"""Neo4j hands a named question's rows (and the differential's reads) back as one list, built on the
server (commgraph.stores.neo4j.as_one_list). A server that lets a transaction hold less than that list
still answers, at once: the read falls back to streaming the rows record by record."""

from __future__ import annotations

import logging
import os
import subprocess

import neo4j
import pandas as pd
import pytest

import commgraph as cg
from commgraph.stores._base import RUNS_SCORES, RUNS_SCORES_AT
from commgraph.stores.neo4j import as_one_list
from conftest import REPO, free_port, synthetic_table

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

SERVER = REPO / "tools" / "neo4j-test-server" / "server.sh"
MEMORY_LIMIT = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"  # Neo4j 5's refusal
LIMIT = "3m"  # about the least a 5.26 server starts with; a day's and group's 10,800 edges as a list need ~5 MiB


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype({c: "object" for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_an_answer_larger_than_a_transaction_may_hold_is_read_record_by_record(neo4j_uri, tmp_path, caplog):
    # neo4j_uri: only so that the test runs with the Neo4j tests; it starts a server of its own, since
    # Community Neo4j sets the limit only in neo4j.conf (read at start; the load needs more than it)
    table = synthetic_table(cell_types=tuple(f"C{i:02d}" for i in range(60)))
    with cg.connect(tmp_path / "e.lbug") as emb:
        emb.load(table)
        runs = sorted(emb.runs()["run_id"])
        want_scores = _sorted(pd.concat(list(emb.run_scores(runs)), ignore_index=True))
    assert len(want_scores) > 10_000

    port, home = free_port(), tmp_path / "home"
    env = {**os.environ, "NEO4J_TEST_HOME": str(home), "NEO4J_BOLT_PORT": str(port), "NEO4J_HTTP_PORT": "off",
           "NEO4J_HEAP": "1g", "NEO4J_PAGECACHE": "256m", "NEO4J_CDS": "0"}
    uri = f"bolt://127.0.0.1:{port}"

    def server(what):
        done = subprocess.run(["bash", str(SERVER), what], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr

    server("start")
    try:
        with cg.connect(uri) as neo:
            neo.load(table)
    finally:
        server("stop")
    (home / "extra.conf").write_text(f"db.memory.transaction.max={LIMIT}\n")
    server("start")
    try:
        with cg.connect(uri, read_only=True) as neo, \
                neo4j.GraphDatabase.driver(uri, auth=("neo4j", os.environ.get("NEO4J_PASSWORD", "commgraph-test"))) as drv:
            day, group = table["day"].iloc[0], table["group"].iloc[0]
            live = [f"{r}|{load}" for r, load in neo.cypher(
                "MATCH (run:Run) WHERE run.day = $d AND run.`group` = $g RETURN run.run_id AS r, run.load_id AS l",
                {"d": int(day), "g": str(group)}).itertuples(index=False)]
            # the list form of a day's and group's read is refused here: the answer below is the fallback's
            with drv.session() as session, pytest.raises(neo4j.exceptions.TransientError) as refused:
                session.run(as_one_list(RUNS_SCORES_AT, RUNS_SCORES),
                            {"day": int(day), "at_group": str(group), "live": live}).consume()
            assert refused.value.code == MEMORY_LIMIT
            with caplog.at_level(logging.WARNING, logger="neo4j"):
                got = _sorted(pd.concat(list(neo.run_scores(runs)), ignore_index=True))
            assert not [r for r in caplog.records if "retried" in r.getMessage()]  # no 30 s of driver retries first
            pd.testing.assert_frame_equal(got, want_scores, check_dtype=False, rtol=1e-9)
    finally:
        server("stop")
