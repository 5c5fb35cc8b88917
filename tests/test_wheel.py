"""An installed wheel, not only the checkout, carries cypher/ and loaders/ (house rule 8)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True)
    (whl,) = out.glob("commgraph-*.whl")
    return whl


def test_wheel_carries_cypher_and_loaders(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("cypher", "loaders"):
        files = sorted(p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*") if p.is_file())
        assert files, f"{folder}/ is empty in the checkout"
        missing = [f for f in files if f"commgraph/{f}" not in names]
        assert not missing, f"not in the wheel: {missing}"


def test_installed_wheel_finds_its_resources(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True)
    code = ("import commgraph, commgraph._resources as r; "
            "print(r.resource_dir('cypher')); print(len(commgraph.list_queries())); print(commgraph.__file__)")
    got = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": ""},
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert got[0].startswith(str(target)) and got[2].startswith(str(target))
    assert int(got[1]) == len(list((REPO / "cypher").glob("*.cypher")))
