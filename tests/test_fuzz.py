"""Fuzz every input format with seeded mutants of the real fixtures (bench/fuzz.py): each mutant is a
clean one-line reject naming the file or a load equal to an independent pandas read of it — never a
traceback, never garbage, never a changed store on reject. More mutants: python -m bench.fuzz."""

from __future__ import annotations

import sys

import pytest

from conftest import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import fuzz as F  # noqa: E402

MUTANTS = 300  # per format; the whole test stays under 2 minutes on 2 busy cores
STORE_EVERY = 30  # these also go through an embedded store holding the original run


@pytest.mark.parametrize("fmt", sorted(F.FIXTURES))
def test_mutants_are_rejected_cleanly_or_load_correctly(fmt, tmp_path):
    out = F.fuzz(fmt, MUTANTS, seed=0, store_every=STORE_EVERY, workdir=tmp_path)
    c = out.counts
    failures = {k: out.examples[k] for k in F.FAILURES if c[k]}
    assert not failures, failures
    assert sum(c.values()) == MUTANTS + c["store_garbage"]
    # both outcomes happen: the mutants reach the checks on each side
    assert c["load"] >= MUTANTS // 10 and c["reject_row"] >= MUTANTS // 3, dict(c)


def test_the_harness_catches_garbage_and_crashes(tmp_path, monkeypatch):
    """A reader that loads a cut file, or raises something not ours, is reported (the check can fail)."""
    import shutil

    from commgraph.formats import _common

    src = tmp_path / "ra.csv"
    data = F.FIXTURES["liana"][0][0].read_bytes()
    src.write_bytes(data[:-3])  # cut inside the last field
    monkeypatch.setattr(_common, "scan_delimited", lambda data, file, sep, what="file": data.split(b"\n", 1)[0]
                        .decode().split(sep))
    out = F.Outcome()
    assert F.check_one("liana", src, src, {}, ["cut"], out) == "garbage"
    monkeypatch.setattr(_common, "read_bytes", lambda path, what="file": (_ for _ in ()).throw(KeyError("boom")))
    shutil.copy(F.FIXTURES["liana"][0][0], src)
    assert F.check_one("liana", src, src, {}, ["none"], out) == "crash"
