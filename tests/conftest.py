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


def per_sample_tables(*, n_patients: int = 4, days=(0, 7, 14), groups=("low", "high"), effect=None, seed: int = 0,
                      n_lr: int = 30, cell_types=("MX1+ Mono", "Treg", "NK", "CD14 Mono"), absent=(),
                      method: str = "synthetic", patients: bool = True, prefix: str = "P") -> list[pd.DataFrame]:
    """One canonical table per sample (patient × day): a patient-level offset per feature plus
    noise, so the paired design matters; ``effect(group, day, sender, receiver, ligand)`` adds
    to a score; ``absent`` lists (sample, cell type) pairs missing from a sample's output."""
    rng = np.random.default_rng(seed)
    lrs = [(f"L{i}", f"R{i}", f"PW{i % 5}") for i in range(n_lr)]
    base = {(s, t, l): rng.gamma(2.0, 0.5) for s in cell_types for t in cell_types for l, _, _ in lrs}
    out, pid = [], 0
    for g in groups:
        for _ in range(n_patients):
            pid += 1
            patient = f"{prefix}{pid:02d}"
            offset = {k: rng.normal(0, 0.3) for k in base}
            for d in days:
                sample, rows = f"{patient}_d{d}", []
                for (s, t, lig), b in base.items():
                    if (sample, s) in absent or (sample, t) in absent:
                        continue
                    v = b + offset[(s, t, lig)] + rng.normal(0, 0.3) + (effect(g, d, s, t, lig) if effect else 0.0)
                    if v <= 0.2:  # not detected in this sample
                        continue
                    rec, pw = lig.replace("L", "R"), f"PW{int(lig[1:]) % 5}"
                    rows.append({S.SOURCE: s, S.TARGET: t, S.LIGAND: lig, S.RECEPTOR: rec,
                                 S.INTERACTION: S.interaction_name(lig, rec), S.PATHWAY: pw, S.SCORE: v,
                                 S.PVALUE: 0.01, S.SIGNIFICANT: True, S.DAY: d, S.GROUP: g, S.SAMPLE: sample,
                                 S.PATIENT: patient if patients else None, S.METHOD: method,
                                 S.RUN_ID: f"{method}|{sample}", S.TOOL: method})
                out.append(pd.DataFrame(rows))
    return out
