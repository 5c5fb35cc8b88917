"""The benchmarks still run (a tiny size; the figures live in bench/results.md)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def test_bench_smoke(tmp_path):
    out = tmp_path / "results.md"
    r = subprocess.run([sys.executable, "-m", "bench", "--size", "smoke", "--out", str(out)], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text()
    for section in ("## Machine and versions", "parse", "embedded load", "## Named questions", "## Streaming a per-sample study",
                    "## Differential over a per-sample study", "| duckdb |"):
        assert section in text, section
    # the DuckDB peers answer every question as pandas does (the graph store's own agreement is its targets' job)
    rows = [ln.split(" | ") for ln in text.splitlines() if ln.startswith("| ") and " | cell type | " in ln]
    assert rows and all(r[5] == "yes" and r[7] == "yes" for r in rows), rows


def test_bench_layout_smoke(tmp_path):
    out = tmp_path / "layout.md"
    r = subprocess.run([sys.executable, "-m", "bench.layout", "--edges", "100000", "--repeat", "1", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [ln.split(" | ") for ln in out.read_text().splitlines() if ln.startswith("| 100,000 | ")]
    assert [row[1] for row in rows] == ["documented", "run and interaction on nodes", "integer codes",
                                        "documented + a copy from the Interaction node"]
    # the same edges in every layout: the probe interaction's edges (read both ways: the bench stops when
    # they disagree) and the significant state pairs agree
    assert len({row[7].split("(")[1] for row in rows}) == 1 and len({row[9].split("(")[1] for row in rows}) == 1, rows
    assert all(row[8].endswith(" ms") for row in rows), rows
    assert rows[0][2] == "12 (9)" and rows[2][2] == "7 (2)" and rows[3][2] == "12 (9) + 5 (2)", rows


def test_bench_changed_write_smoke(tmp_path):
    out = tmp_path / "changed-write.md"
    r = subprocess.run([sys.executable, "-m", "bench.changed_write", "--edges", "100000", "--repeat", "1", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text()
    rows = [ln.split(" | ") for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("| way ")]
    assert [row[0].lstrip("| ") for row in rows] == ["as the store writes", "both directions", "one COPY per level",
                                                     "sorted by state", "auto_checkpoint off",
                                                     "outside a transaction"], rows
    # every way stored every edge the differential gave
    captured = re.search(r"gives ([\d,]+) CHANGED edges", text).group(1)
    assert int(captured.replace(",", "")) > 0
    assert {row[6].rstrip(" |") for row in rows} == {captured}, rows


def test_bench_store_edits_smoke(tmp_path):
    out = tmp_path / "store-edits.md"
    r = subprocess.run([sys.executable, "-m", "bench.store_edits", "--edges", "100000", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = {row[0].lstrip("| "): row for row in (ln.split(" | ") for ln in out.read_text().splitlines()
                                                 if ln.startswith("| ") and not ln.startswith("| edit "))}
    assert list(rows) == ["add a sample", "replace a sample", "replace a day × group's samples, one load",
                          "remove a sample"], rows
    one = int(rows["add a sample"][1].replace(",", ""))
    before_after = {k: [int(x.replace(",", "")) for x in row[8].rstrip(" |").split(" → ")] for k, row in rows.items()}
    n = before_after["add a sample"][0]
    # each edit left the store holding what it should: one sample more, the same, the same, one sample less
    assert one > 0 and before_after == {"add a sample": [n, n + one], "replace a sample": [n, n],
                                        "replace a day × group's samples, one load": [n, n],
                                        "remove a sample": [n, n - one]}, before_after
