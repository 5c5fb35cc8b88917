"""Imports go downwards only (DESIGN.md, "Layers"): errors/_schema → formats → _graph → stores →
questions → views/report → cli/demo. A module that imports a higher layer — even inside a
function — is a cycle waiting to happen (stores once imported questions.hint_for; _graph the
views' lineage rules, so every load imported the views package)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import REPO

PACKAGE = REPO / "commgraph"
# module (dotted, without "commgraph.") or package prefix -> layer; lower may not import higher
LAYERS = {
    "errors": 0, "_schema": 0, "_time": 0, "_resources": 0, "_progress": 0, "_lineage": 0,
    "formats": 1,
    "_graph": 2, "_queries": 2, "_hints": 2,
    "stores": 3,
    "_load": 4, "_transfer": 4, "questions": 4, "_centrality": 4, "datasets": 4, "infer": 4, "_samples": 1,
    "_differential": 5, "associations": 5, "clinical": 5,
    "views": 6, "report": 6,
    "cli": 7, "demo": 7, "__init__": 7,
}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in LAYERS:
            return LAYERS[".".join(parts[:i])]
    return None  # a module not placed yet (new work): not checked


def _imports(path):
    """(line, imported module) for every commgraph import in a file, TYPE_CHECKING blocks left out."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    here = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [target] if node.module else [".".join([*base, a.name]) for a in node.names]
            for n in names:
                yield node.lineno, n
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("commgraph."):
                    yield node.lineno, a.name.removeprefix("commgraph.")


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_no_module_imports_a_higher_layer(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    me = ".".join(rel.parts) if rel.name != "__init__" else (".".join(rel.parts[:-1]) or "__init__")
    mine = _layer(me)
    if mine is None:
        pytest.skip(f"{me} has no layer in LAYERS yet")
    bad = [f"line {line}: {target}" for line, target in _imports(path)
           if (_layer(target) or 0) > mine and not target.startswith(me)]
    assert not bad, f"{me} (layer {mine}) imports upwards: {bad}"


def test_loading_imports_neither_views_nor_questions(tmp_path):
    code = (
        "import sys; sys.path.insert(0, 'tests'); import commgraph as cg; from conftest import synthetic_table\n"
        f"st = cg.connect({str(tmp_path / 's.lbug')!r}); st.load(synthetic_table()); st.query('roles', day=7, group='high')\n"
        "st.query('roles', day=5); st.close()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('commgraph.views', 'commgraph.questions', 'commgraph.report'))))"
    )
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_no_module_reaches_into_another_packages_private_modules(path):
    """``views._data``, ``stores._base``, ``formats._common`` are their package's business; others
    use what the package exports (the report once imported the views' private helpers)."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    package = ".".join(rel.parts[:-1])
    bad = []
    for line, target in _imports(path):
        parts = target.split(".")
        private = [i for i, p in enumerate(parts) if p.startswith("_") and i > 0]
        if private and ".".join(parts[: private[0]]) != package:
            bad.append(f"line {line}: {target}")
    assert not bad, f"{rel} imports another package's private module: {bad}"


# "load" means one thing: putting runs (or a sample sheet) into a store. Reading files, specs or
# YAML is "read"; a load's generation is its load_id. (Four things were once called load: the
# CellPhoneDB file reader, the format-spec reader, merging a manifest's runs, and the store write.)
LOADERS = {
    "cli.py": {"load", "samples_load"},
    "_load.py": {"load", "load_manifest"},
    "stores/_base.py": {"load", "load_many", "load_samples"},
    "stores/neo4j.py": {"_live_load"},  # the Run's live load (its load_id)
    "stores/embedded.py": {"_live_load"},
    "_graph.py": {"new_load_id", "run_load_id"},
}


def test_only_store_writes_are_called_load():
    named = {}
    for path in FILES:
        rel = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "load" in node.name:
                named.setdefault(rel, set()).add(node.name)
    stray = {f: sorted(n - LOADERS.get(f, set())) for f, n in named.items() if n - LOADERS.get(f, set())}
    assert not stray, f"functions called load that don't write a store: {stray}"
