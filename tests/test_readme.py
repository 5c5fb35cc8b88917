"""The README says what the code does: its dependency list and its generated examples."""

from __future__ import annotations

import re
import sys
import tomllib

from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import readme_examples as RX  # noqa: E402

README = (REPO / "README.md").read_text()


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower()


def test_core_dependencies_match_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    sentence = README.split("The core (loading, stores, queries, CLI) needs only", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([A-Za-z0-9_.-]+)`", sentence)) - {"pyproject.toml"}
    assert listed == declared, f"README lists {sorted(listed)}, pyproject.toml declares {sorted(declared)}"


def test_every_named_query_has_a_generated_example():
    import commgraph as cg

    assert [n for n, _ in RX.EXAMPLES] == sorted(cg.list_queries()["name"])
    section = RX.current_section(README)
    for name, params in RX.EXAMPLES:
        assert f">>> {RX._call(name, params)}\n" in section, name
        assert "(empty)" not in section.split(f"#### `{name}`", 1)[1].split("#### ", 1)[0], name


def test_each_example_shows_one_params_line_with_its_values_over_the_defaults():
    from commgraph._queries import get_query, parse_params_map

    section = RX.current_section(README)
    # no block of `:param` lines (the Browser rejects it): only top_changes' integer LIMIT has its own line
    assert re.findall(r"^:param .*", README, re.M) == [":param limit => 5"]
    for name, params in RX.EXAMPLES:
        block = RX.browser_block(name, params)
        assert "\n".join(block) in section.split(f"#### `{name}`", 1)[1].split("#### ", 1)[0], name
        (line,) = [b for b in block if b.startswith(":params ")]
        spec = get_query(name)
        assert parse_params_map(line.removeprefix(":params ")) == {**spec.browser, **params}, name
        # an integer LIMIT gets its own server-evaluated line (the Browser makes :params numbers floats)
        assert [b for b in block if b.startswith(":param ")] == [
            f":param {k} => {params.get(k, spec.browser[k])}" for k in spec.browser_integers], name
