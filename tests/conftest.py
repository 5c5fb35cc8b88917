"""Shared fixtures. Neo4j tests run when COMMGRAPH_TEST_NEO4J names a server (CI sets it);
then a server that does not answer fails them, it never skips them."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
NEO4J_ENV = "COMMGRAPH_TEST_NEO4J"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it), for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def synthetic_table(*, days=(0, 7), groups=("high",), cell_types=("MX1+ Mono", "Treg", "CD4 Naive T"),
                    seed: int = 0, method: str = "synthetic", tag: str = "") -> pd.DataFrame:
    """A small canonical table, every sender × receiver × interaction on each day and group."""
    rng = np.random.default_rng(seed)
    pairs = [("ICAM1", "ITGAL_ITGB2", "ICAM"), ("CD86", "CTLA4", "CD86"), ("APP", "CD74", "APP")]
    rows = []
    for day in days:
        for group in groups:
            for s in cell_types:
                for t in cell_types:
                    for lig, rec, pw in pairs:
                        p = float(rng.random() * 0.1)
                        rows.append({
                            S.SOURCE: s, S.TARGET: t, S.LIGAND: lig, S.RECEPTOR: rec,
                            S.INTERACTION: S.interaction_name(lig, rec), S.PATHWAY: pw,
                            S.SCORE: float(rng.random()), S.PVALUE: p, S.SIGNIFICANT: p < 0.05,
                            S.DAY: day, S.GROUP: group, S.SAMPLE: None, S.METHOD: method,
                            S.RUN_ID: f"{method}{tag}|d{day}|{group}", S.TOOL: method,
                        })
    return pd.DataFrame(rows)


@pytest.fixture
def table() -> pd.DataFrame:
    return synthetic_table()


@pytest.fixture
def store(tmp_path):
    with cg.connect(tmp_path / "study.lbug") as st:
        yield st


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    uri = os.environ.get(NEO4J_ENV)
    if not uri:
        pytest.skip(f"Neo4j tests not requested: start tools/neo4j-test-server/server.sh and set {NEO4J_ENV}")
    try:
        cg.connect(uri).close()
    except cg.StoreError as ex:
        pytest.fail(f"{NEO4J_ENV}={uri} was asked for, but {ex}")
    return uri


@pytest.fixture
def neo4j_store(neo4j_uri):
    with cg.connect(neo4j_uri) as st:
        st.clear()
        yield st
        st.clear()
