"""What a run says about itself once loaded: its format, and each interaction's CellChatDB annotation."""

from __future__ import annotations

from pathlib import Path

import pytest

import commgraph as cg
from commgraph import _schema as S

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("fmt, source, options", [
    ("cellchat", DATA / "cellchat" / "subset_communication.csv", {}),
    ("liana", DATA / "liana" / "rank_aggregate.csv", {}),
])
def test_run_format_and_interaction_annotation_are_stored(store, fmt, source, options):
    cg.load(store, fmt, source, day=0, group="high", **options)
    runs = store.runs()
    assert runs[S.FORMAT].tolist() == [fmt]
    ann = store.cypher("MATCH (i:Interaction) RETURN i.name AS name, i.annotation AS annotation")
    by_name = dict(zip(ann["name"], ann["annotation"]))
    # CellChatDB's annotation of the pair (the bundled table), where the pair is in it
    assert by_name.get("ICAM1^ITGAL_ITGB2", "Cell-Cell Contact") == "Cell-Cell Contact"
    assert ann["annotation"].notna().any()
    assert set(ann["annotation"].dropna()) <= {"Secreted Signaling", "Cell-Cell Contact", "ECM-Receptor",
                                                "Non-protein Signaling"}


def test_read_carries_format_and_annotation():
    t = cg.read("cellchat", DATA / "cellchat" / "subset_communication.csv", day=0)
    assert t.attrs["format"] == "cellchat"
    assert t.attrs["annotation"]["ICAM1^ITGAL_ITGB2"] == "Cell-Cell Contact"


@pytest.mark.parametrize("method", ["liana", "cellphonedb"])
def test_inferred_runs_carry_tool_and_database_versions(method):
    """The manifest `commgraph infer` (and so the demo) writes names the versions it ran with."""
    import json
    from importlib.metadata import version

    from commgraph.infer import CPDB_DATABASE, _manifest_options

    opts = json.loads(_manifest_options(method, "cellphonedb", "consensus", Path("loaders") / CPDB_DATABASE))
    assert opts["tool_version"] == version(method)
    assert opts["database_version"] == ("cellphonedb-v5.0.0" if method == "cellphonedb" else "liana resource consensus")
    t = cg.read("cellchat", DATA / "cellchat" / "subset_communication.csv", day=0,
                **{k: v for k, v in opts.items() if k != "method"})
    assert set(t[S.TOOL_VERSION]) == {opts["tool_version"]}
    assert set(t[S.DATABASE_VERSION]) == {opts["database_version"]}
