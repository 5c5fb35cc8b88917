"""The embedded store: loading, replacing, removing, all-or-nothing, the graph model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from conftest import synthetic_table


def test_load_counts_match_the_table(store, table):
    runs = store.load(table)
    assert sorted(runs[S.RUN_ID]) == ["synthetic|d0|high", "synthetic|d7|high"]
    stats = store.stats()
    assert stats["signals"] == len(table)
    assert stats["significant"] == int(table[S.SIGNIFICANT].sum())
    assert stats["cell_types"] == 3 and stats["days"] == [0, 7] and stats["groups"] == ["high"]
    per = stats["by_day_group"].set_index(S.DAY)["signals"]
    assert per.to_dict() == table.groupby(S.DAY).size().to_dict()


def test_signals_round_trip(store, table):
    store.load(table)
    got = store.signals().sort_values([S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION]).reset_index(drop=True)
    want = table.sort_values([S.RUN_ID, S.SOURCE, S.TARGET, S.INTERACTION]).reset_index(drop=True)
    for col in (S.SOURCE, S.TARGET, S.LIGAND, S.RECEPTOR, S.INTERACTION, S.PATHWAY, S.RUN_ID):
        assert got[col].tolist() == want[col].tolist()
    assert got[S.SCORE].to_numpy() == pytest.approx(want[S.SCORE].to_numpy())
    assert got[S.SIGNIFICANT].astype(bool).tolist() == want[S.SIGNIFICANT].tolist()


def test_signals_of_one_run(store, table):
    """One run's edges, also for a run across days (read without the day anchor) and after a reload."""
    across = synthetic_table(days=(1, 2), tag="x")
    across = across.assign(**{S.RUN_ID: "across-days", S.SAMPLE: "s" + across[S.DAY].astype(str)})
    store.load(pd.concat([table, across], ignore_index=True))
    store.load(table[table[S.DAY] == 7].assign(**{S.SCORE: 5.0}))  # replaces run d7 (a new load_id)
    everything = store.signals()
    key = [S.SOURCE, S.TARGET, S.INTERACTION, S.DAY]
    for run_id in ("synthetic|d0|high", "synthetic|d7|high", "across-days"):
        got = store.signals(run_id).sort_values(key).reset_index(drop=True)
        want = everything[everything[S.RUN_ID] == run_id].sort_values(key).reset_index(drop=True)
        assert len(got) == (len(across) if run_id == "across-days" else len(table) // 2)
        pd.testing.assert_frame_equal(got, want)
    assert set(store.signals("across-days")[S.DAY]) == {1, 2}
    assert (store.signals("synthetic|d7|high")[S.SCORE] == 5.0).all()
    with pytest.raises(cg.QueryError, match="no run 'nope'"):
        store.signals("nope")


def test_loading_the_same_run_twice_keeps_one_copy(store, table):
    store.load(table)
    changed = table.assign(**{S.SCORE: table[S.SCORE] + 10})
    store.load(changed)
    sig = store.signals()
    assert len(sig) == len(table)
    assert sig[S.SCORE].min() >= 10
    assert len(store.runs()) == 2


def test_remove_run(store, table):
    store.load(table)
    store.remove_run("synthetic|d0|high")
    assert store.runs()[S.RUN_ID].tolist() == ["synthetic|d7|high"]
    assert set(store.signals()[S.DAY]) == {7}
    with pytest.raises(cg.QueryError, match="no run"):
        store.remove_run("nope")


def test_failed_write_rolls_back(store, table, monkeypatch):
    store.load(table)
    before = store.signals()
    from commgraph.stores.embedded import EmbeddedStore

    def boom(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(EmbeddedStore, "_rebuild_next", boom)  # fails after every COPY ran
    with pytest.raises(RuntimeError, match="disk full"):
        store.load(synthetic_table(days=(3,), seed=5))
    monkeypatch.undo()
    assert len(store.signals()) == len(before)
    assert 3 not in set(store.cell_states()[S.DAY])


def test_cell_states_next_and_counts(store, table):
    counts = pd.DataFrame({S.CELL_TYPE_PROP: ["MX1+ Mono", "Treg", "CD4 Naive T"], S.DAY: 0, S.GROUP: "high",
                           S.N_CELLS: [20, 30, 50]})
    store.load(table, cell_counts=counts)
    states = store.cell_states().set_index(S.KEY_PROP)
    assert states.loc["MX1+ Mono|0|high", S.N_CELLS] == 20
    assert states.loc["CD4 Naive T|0|high", S.FRACTION] == pytest.approx(0.5)
    assert pd.isna(states.loc["Treg|7|high", S.N_CELLS])
    nxt = store.cypher("MATCH (a:CellState)-[:NEXT]->(b:CellState) RETURN a.key AS from_key, b.key AS to_key ORDER BY from_key")
    assert nxt.values.tolist() == [[f"{ct}|0|high", f"{ct}|7|high"] for ct in sorted(["MX1+ Mono", "Treg", "CD4 Naive T"])]
    # a later day inserts itself into the chain
    store.load(synthetic_table(days=(3,), seed=2))
    nxt = store.cypher("MATCH (a:CellState {cell_type: 'Treg'})-[:NEXT]->(b) RETURN a.day AS from_day, b.day AS to_day ORDER BY from_day")
    assert nxt.values.tolist() == [[0, 3], [3, 7]]


def test_interaction_pathway_and_gene_nodes(store, table):
    store.load(table)
    genes = store.cypher(
        "MATCH (i:Interaction {name: $n})-[:HAS_RECEPTOR]->(g:Gene) RETURN g.symbol AS symbol ORDER BY symbol",
        {"n": "ICAM1^ITGAL_ITGB2"},
    )
    assert genes["symbol"].tolist() == ["ITGAL", "ITGB2"]
    pw = store.cypher("MATCH (:Interaction {name: $n})-[:IN_PATHWAY]->(p:Pathway) RETURN p.name AS p",
                      {"n": "CD86^CTLA4"})
    assert pw["p"].tolist() == ["CD86"]


def test_validate_rejects_bad_tables(table):
    with pytest.raises(cg.InputError, match="column 'pvalue', row 2"):
        cg.validate(table.assign(**{S.PVALUE: [0.1, 1.5] + [0.1] * (len(table) - 2)}))
    with pytest.raises(cg.InputError, match="duplicate row"):
        cg.validate(pd.concat([table, table.iloc[:1]]))
    with pytest.raises(cg.InputError, match="missing required column"):
        cg.validate(table.drop(columns=[S.SCORE]))
    with pytest.raises(cg.InputError, match="not a number"):
        cg.validate(table.assign(**{S.SCORE: ["x"] + [1.0] * (len(table) - 1)}))
    with pytest.raises(cg.InputError, match="empty"):
        cg.validate(table.iloc[:0])


def test_connect_rejects_unknown_scheme(tmp_path):
    with pytest.raises(cg.StoreError, match="unsupported store URI"):
        cg.connect("http://localhost:7474")


@pytest.mark.parametrize("chunk", [None, 5])
def test_export_neo4j_import_writes_every_run_once(store, tmp_path, monkeypatch, chunk):
    """The export reads edges in batches of source nodes: every edge lands in signals.csv once,
    every node once, however small the batches."""
    if chunk:
        monkeypatch.setattr(cg._transfer, "_CHUNK", chunk)
    table = synthetic_table(days=(0, 7, 14), groups=("high", "low"))
    counts = pd.DataFrame({S.CELL_TYPE_PROP: ["Treg", "Treg"], S.DAY: [0, 7], S.GROUP: "low", S.N_CELLS: [3, 4]})
    store.load(table, cell_counts=counts)
    with pytest.raises(cg.CommgraphError, match="no runs"):
        with cg.connect(tmp_path / "empty.lbug") as empty:
            cg.export_neo4j_import(empty, tmp_path / "none", progress=False)
    command = cg.export_neo4j_import(store, tmp_path / "imp", progress=False)
    for name in ("signals", "cellstate", "next", "run", "interaction", "has_ligand", "summary", "pathway_summary"):
        assert f"={name}.csv" in command
    for name in ("summary", "pathway_summary"):  # the summary layer of every run, once (every score here is >= 0)
        summary = pd.read_csv(tmp_path / "imp" / f"{name}.csv")
        assert summary["n_interactions:long"].sum() == len(table)
        assert summary["total_score:double"].sum() == pytest.approx(table[S.SCORE].sum())
    sig = pd.read_csv(tmp_path / "imp" / "signals.csv")
    assert len(sig) == len(table)
    assert not sig.duplicated([":START_ID(CellState)", ":END_ID(CellState)", "interaction:string", "run_id:string"]).any()
    assert set(sig["significant:boolean"]) <= {True, False}  # written as true/false
    states = pd.read_csv(tmp_path / "imp" / "cellstate.csv")
    assert len(states) == states["key:ID(CellState)"].nunique() == 3 * 3 * 2
    assert states.set_index("key:ID(CellState)").loc["Treg|7|low", "n_cells:long"] == 4
    assert len(pd.read_csv(tmp_path / "imp" / "next.csv")) == 3 * 2 * 2  # 3 cell types × 2 groups × 2 steps
    runs = pd.read_csv(tmp_path / "imp" / "run.csv")
    assert sorted(runs["run_id:ID(Run)"]) == sorted(table[S.RUN_ID].unique())
    # one load: every run's load id starts with the load's, and each run has its own
    assert runs["load_id:string"].str.split(".").str[0].nunique() == 1
    assert runs["load_id:string"].nunique() == len(runs)


def test_export_neo4j_import_writes_fields_as_neo4j_admin_reads_them(store, tmp_path):
    """Missing p-values as empty fields (never 'nan'), whole numbers without '.0', booleans and
    lists as neo4j-admin parses them; a ';' inside a list item is an error naming file and column."""
    table = synthetic_table().assign(**{S.PVALUE: np.nan, S.SIGNIFICANT: False})
    store.load(table)
    cg.export_neo4j_import(store, tmp_path / "imp", progress=False)
    text = (tmp_path / "imp" / "signals.csv").read_text()
    assert "nan" not in text.lower() and "false" in text
    sig = pd.read_csv(tmp_path / "imp" / "signals.csv")
    assert sig["pvalue:double"].isna().all() and len(sig) == len(table)
    summary = pd.read_csv(tmp_path / "imp" / "interactionsummary.csv", dtype=str)
    assert summary["n_pairs:long"].str.fullmatch(r"\d+").all()
    row = summary.iloc[0]
    n = int(row["n_pairs:long"])
    assert len(row["senders:string[]"].split(";")) == len(row["scores:double[]"].split(";")) == n
    assert set(row["calls:boolean[]"].split(";")) == {"false"}
    with cg.connect(tmp_path / "semi.lbug") as semi:
        semi.load(synthetic_table(cell_types=("CD4; naive", "Treg")))
        with pytest.raises(cg.CommgraphError, match=r"interactionsummary.csv: column (senders|receivers) holds 'CD4; naive'"):
            cg.export_neo4j_import(semi, tmp_path / "semi", progress=False)


def test_a_question_pauses_the_cyclic_collector_only_while_it_runs(store, table, monkeypatch):
    # the collector is off while the answer becomes Python objects (stores/_base.gc_paused), and
    # back on afterwards, also when the engine fails; a caller's own pause is left as it was
    import gc

    store.load(table)
    seen = []
    answer = type(store)._answer

    def watched(self, *args):
        seen.append(gc.isenabled())
        return answer(self, *args)

    monkeypatch.setattr(type(store), "_answer", watched)
    assert len(store.query("signaling_by_day", cell_type="MX1+ Mono")) > 0
    assert seen[-1] is False and gc.isenabled()  # (the state hint's reads come before, unpaused)

    asked = cg.list_queries().set_index("name").loc["signaling_by_day", "returns"]

    def broken(self, text, params, columns):
        if ", ".join(columns) != asked:  # the state hint's reads
            return answer(self, text, params, columns)
        seen.append(gc.isenabled())
        raise RuntimeError("engine gone")

    monkeypatch.setattr(type(store), "_answer", broken)
    with pytest.raises(cg.QueryError, match="engine gone"):
        store.query("signaling_by_day", cell_type="MX1+ Mono")
    assert seen[-1] is False and gc.isenabled()

    monkeypatch.setattr(type(store), "_answer", watched)
    gc.disable()
    try:
        store.query("signaling_by_day", cell_type="MX1+ Mono")
        assert not gc.isenabled()  # the caller's pause stands
    finally:
        gc.enable()
