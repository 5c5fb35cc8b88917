"""cypher/commgraph.grass, the Neo4j Browser style shipped with the package, reads as the Browser
reads it and names only labels, relationship types and properties the graph has.

Neo4j Browser 5 reads a style (dropped .grass file or `:style …`) with a small CSS-like parser
(neo4j-browser src/shared/services/grassUtils.ts, parseGrassCSS): outside braces, whitespace is
dropped and the rest is the selector; inside, `;` splits properties and a property is kept only
when `:` splits it into exactly two parts; quotes (' or ") only protect braces. So a comment is
not skipped (it becomes part of a selector), and a value holding `:` or `;` is silently lost.
`parse_grass` below follows those rules; the test then asks for more than the Browser checks.
"""

from __future__ import annotations

import re

from commgraph import _schema as S
from commgraph._resources import resource_dir

GRASS = resource_dir("cypher") / "commgraph.grass"
# the properties Neo4j Browser's graph view reads (GraphStyle.ts DEFAULT_STYLE, and caption)
NODE_PROPS = {"diameter", "color", "border-color", "border-width", "text-color-internal", "font-size", "caption"}
REL_PROPS = {"color", "shaft-width", "font-size", "padding", "text-color-external", "text-color-internal", "caption"}


def parse_grass(text: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """(rules, properties the Browser would drop) the way Neo4j Browser's parseGrassCSS reads it."""
    rules: dict[str, str] = {}
    keyword = props = ""
    in_string = in_props = in_binding = False
    for c in text:
        if c == "{" and not in_string:
            if in_props:
                in_binding = True
            else:
                in_props = True
            continue
        if c == "}" and not in_string:
            if in_binding:
                in_binding = False
            else:
                in_props = False
                assert keyword not in rules, f"selector {keyword!r} twice (the second replaces the first)"
                rules[keyword], keyword, props = props, "", ""
            continue
        if c in "'\"":
            in_string = not in_string
            continue
        if in_props:
            props += c
        elif not c.isspace():
            keyword += c
    assert not in_props and not in_string and not keyword, "unclosed rule or quote"
    parsed, dropped = {}, []
    for selector, body in rules.items():
        parsed[selector] = {}
        for prop in body.split(";"):
            if not prop.strip():
                continue
            parts = prop.split(":")
            if len(parts) != 2:
                dropped.append(f"{selector}: {prop.strip()}")
                continue
            parsed[selector][parts[0].strip()] = parts[1].strip()
    return parsed, dropped


def test_the_style_reads_as_the_browser_reads_it():
    text = GRASS.read_text()
    assert "/*" not in text and "//" not in text, "the Browser's parser does not skip comments"
    rules, dropped = parse_grass(text)
    assert not dropped, f"the Browser would drop: {dropped}"
    assert {"node", "relationship"} <= set(rules)  # the fallbacks for anything not named below
    for selector, props in rules.items():
        kind, _, name = selector.partition(".")
        assert kind in ("node", "relationship") and "." not in name, selector
        if kind == "node":
            assert not name or name in S.NODE_TABLE, f"{selector}: no label {name!r} in _schema"
            allowed, fields = NODE_PROPS, ({p for p, _ in S.NODE_TABLE[name].properties} if name else set())
        else:
            assert not name or name in S.REL_TABLE, f"{selector}: no relationship type {name!r} in _schema"
            allowed, fields = REL_PROPS, ({p for p, _ in S.REL_TABLE[name].properties} if name else set())
        assert set(props) <= allowed, f"{selector}: {sorted(set(props) - allowed)} is not a style property"
        for key, value in props.items():
            if key == "caption":
                used = re.findall(r"\{([^{}]*)\}", value)  # what the Browser fills in (GraphStyle.interpolate)
                assert set(used) <= fields, f"{selector}: caption names {sorted(set(used) - fields)}"
                assert used or value in ("<type>", "<id>"), f"{selector}: caption {value!r} shows no property"
            elif "color" in key:
                assert re.fullmatch(r"#[0-9A-Fa-f]{6}", value), f"{selector}: {key} {value!r}"
            else:
                assert re.fullmatch(r"\d+px", value), f"{selector}: {key} {value!r}"


def test_the_style_captions_what_a_reader_needs():
    rules, _ = parse_grass(GRASS.read_text())
    # a CellState says which cell type, day and group it is (not its cell count)
    assert rules["node.CellState"]["caption"] == "{cell_type} d{day} {group}"
    for label, prop in ((S.INTERACTION_NODE, S.NAME), (S.PATHWAY_NODE, S.NAME), (S.GENE, S.SYMBOL),
                        (S.SAMPLE_NODE, S.ID), (S.PATIENT_NODE, S.ID)):
        assert "{" + prop + "}" in rules[f"node.{label}"]["caption"], label
    assert "{kind}" in rules[f"node.{S.CONTRAST}"]["caption"]
    assert rules[f"relationship.{S.SIGNALS}"]["caption"] == "{" + S.INTERACTION + "}"
    assert "{" + S.INTERACTION + "}" in rules[f"relationship.{S.CHANGED}"]["caption"]
    # GraSS sets a width per relationship type, not from a property: tested changes stand out
    assert int(rules[f"relationship.{S.CHANGED}"]["shaft-width"][:-2]) > int(
        rules[f"relationship.{S.SIGNALS}"]["shaft-width"][:-2])


def test_a_comment_or_a_colon_in_a_value_is_what_the_parser_catches():
    rules, dropped = parse_grass("/* a note */ node.CellState { caption: 'a: b'; color: #FFFFFF; }")
    assert list(rules) == ["/*anote*/node.CellState"]  # the comment became part of the selector
    assert dropped == ["/*anote*/node.CellState: caption: a: b"]
