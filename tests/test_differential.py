"""Replicate-aware differential communication: the numbers (against R limma), the graph
(both engines), calibration on null data, and every bad design as a one-line error."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph import contrast_id, model_matrices
from commgraph.stores import Store
from conftest import per_sample_tables

PLANTED = ("L1", "L2", "L3")


def planted(group, day, sender, receiver, ligand):
    """+1.5 at the high dose, +0.5 at the low one, on day 7 only, for three ligands of MX1+ Mono."""
    if day == 7 and sender == "MX1+ Mono" and ligand in PLANTED:
        return 1.5 if group == "high" else 0.5
    return 0.0


def _load(store, tables, counts=None):
    for t in tables:
        store.load(t, cell_counts=None if counts is None else counts.get(t[S.SAMPLE].iloc[0]))
    return store


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    # two samples miss a cell type: their features are missing (NaN), not 0
    absent = {("P02_d7", "NK"), ("P06_d14", "Treg")}
    with cg.connect(tmp_path_factory.mktemp("diff") / "s.lbug") as st:
        _load(st, per_sample_tables(effect=planted, absent=absent))
        res = cg.differential(st, progress=False)
        yield st, res


def test_planted_changes_are_found_and_nothing_else(study):
    _, res = study
    hi = res.table(contrast_id("time", "high", 7, 0, "synthetic"), fdr=0.05)
    found = set(zip(hi[S.SOURCE], hi[S.INTERACTION]))
    assert {("MX1+ Mono", f"{lig}^R{lig[1:]}") for lig in PLANTED} == found
    # three ligands to each of four receivers; one of the twelve is below detection in most day-0
    # samples here (a gain from "absent"), which the detection rule leaves untested
    assert (hi[S.DELTA] > 0).all() and len(hi) >= 11
    # day 14 carries no effect: no call at either dose
    for g in ("low", "high"):
        assert res.table(contrast_id("time", g, 14, 0, "synthetic"), fdr=0.05).empty
    # the dose × time contrast sees high's change exceed low's
    dt = res.table(contrast_id("dose_time", "high", 7, 0, "synthetic", reference="low"), fdr=1.0)
    is_planted = (dt[S.SOURCE] == "MX1+ Mono") & dt[S.LIGAND].isin(PLANTED)
    assert (dt[is_planted][S.DELTA] > 0).all() and dt[is_planted][S.T_STAT].mean() > 2.5
    assert dt[~is_planted][S.T_STAT].abs().mean() < 1.2


def test_a_cell_type_absent_from_a_sample_is_missing_not_zero(study):
    store, res = study
    m = model_matrices(store)
    v, f = m["values"], m["features"]
    nk = (f[S.SOURCE] == "NK") | (f[S.TARGET] == "NK")
    assert v.loc[nk.to_numpy(), "P02_d7"].isna().all()
    assert v.loc[~nk.to_numpy(), "P02_d7"].notna().all()
    # that patient has one fewer paired sample in the day-7 contrast of its group
    r = res.table(contrast_id("time", "low", 7, 0, "synthetic"), fdr=1.0)
    assert set(r[(r[S.SOURCE] == "NK") | (r[S.TARGET] == "NK")][S.N_PROP]) == {3}
    assert set(r[(r[S.SOURCE] != "NK") & (r[S.TARGET] != "NK")][S.N_PROP]) == {4}


def test_pairs_on_one_side_of_a_detection_threshold_are_not_tested(tmp_path):
    """Absent (0) in every baseline sample and present on the day: a threshold flip, not a
    measurable change; with min_detection=0 the model calls it with a huge t."""
    tables = per_sample_tables(n_patients=4, days=(0, 7), groups=("high",), seed=4)
    for t in tables:  # L7 from NK is below the tool's threshold in every day-0 sample
        if t[S.DAY].iloc[0] == 0:
            t.drop(t.index[(t[S.SOURCE] == "NK") & (t[S.LIGAND] == "L7")], inplace=True)
    with cg.connect(tmp_path / "flip.lbug") as st:
        _load(st, tables)
        strict = cg.differential(st, write=False, progress=False).results
        loose = cg.differential(st, write=False, progress=False, min_detection=0.0).results
    flip = lambda r: r[(r[S.SOURCE] == "NK") & (r[S.LIGAND] == "L7") & (r[S.LEVEL] == "interaction")]
    assert flip(strict).empty and len(flip(loose)) >= 3 and (flip(loose)[S.FDR] < 0.05).all()
    with pytest.raises(cg.InputError, match="min_detection"):
        cg.differential(st, min_detection=2.0)


def test_undetected_with_both_cell_types_present_is_zero(tmp_path):
    tables = per_sample_tables(n_patients=3, days=(0, 7), groups=("high",), seed=3)
    # drop one interaction from one sample's output: it reads 0 there, the sample stays
    t0 = tables[0]
    gone = t0[S.INTERACTION].iloc[0], t0[S.SOURCE].iloc[0], t0[S.TARGET].iloc[0]
    tables[0] = t0.iloc[1:]
    with cg.connect(tmp_path / "z.lbug") as st:
        _load(st, tables)
        m = model_matrices(st)
    f = m["features"]
    row = (f[S.INTERACTION] == gone[0]) & (f[S.SOURCE] == gone[1]) & (f[S.TARGET] == gone[2])
    assert row.sum() == 1
    assert m["values"].loc[row.to_numpy(), t0[S.SAMPLE].iloc[0]].tolist() == [0.0]


# --- the numbers: R limma as the reference --------------------------------------------------


def _rscript() -> str | None:
    path = shutil.which("Rscript")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Rscript is not installed: tools/test.sh installs r-base-core and r-bioc-limma")
        pytest.skip("R is not installed (apt-get install r-base-core r-bioc-limma)")
    return path


@pytest.mark.parametrize("level", ["interaction", "pathway"])
def test_same_numbers_as_r_limma(study, tmp_path, level):
    rscript = _rscript()
    store, _ = study
    res = cg.differential(store, levels=(level,), min_detection=0.0, write=False, progress=False)  # report every fit
    m = model_matrices(store, level=level)
    assert m["values"].isna().any().any()  # the missing-value path is what is compared
    m["values"].to_csv(tmp_path / "values.csv", index=False, na_rep="NA")
    m["design"].to_csv(tmp_path / "design.csv", index=False)
    m["contrasts"].to_csv(tmp_path / "contrasts.csv", index=False)
    script = os.path.join(os.path.dirname(__file__), "r", "limma_reference.R")
    subprocess.run([rscript, script, str(tmp_path)], check=True, capture_output=True, text=True)
    keys = [c for c in (S.SOURCE, S.TARGET, S.INTERACTION, S.PATHWAY) if c in m["features"].columns]
    for k, cid in enumerate(m["contrasts"].columns, start=1):
        want = pd.concat([m["features"][keys], pd.read_csv(tmp_path / f"r_{k}.csv")], axis=1)
        got = res.results[(res.results[S.CONTRAST_PROP] == cid) & (res.results[S.LEVEL] == level)]
        both = want.merge(got, on=keys, how="inner")
        assert len(both) == len(want) == len(got), f"{cid}: every fitted feature is reported"
        np.testing.assert_allclose(both[S.DELTA], both["coef"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(both["t_x"], both["t_y"], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(both["p_x"], both["p_y"], rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(np.log10(both["p_x"]), np.log10(both["p_y"]), atol=1e-6)
        np.testing.assert_allclose(both["fdr_x"], both["fdr_y"], rtol=1e-6, atol=1e-12)


# --- calibration ----------------------------------------------------------------------------------


def test_null_study_is_calibrated(tmp_path):
    """No effect anywhere: p-values are uniform and FDR < 0.05 calls are rare (a false call in
    at most 5% of null studies is what BH promises under the complete null)."""
    ps, studies_with_calls = [], 0
    for seed in range(8):
        with cg.connect(tmp_path / f"null{seed}.lbug") as st:
            _load(st, per_sample_tables(n_patients=4, days=(0, 7), groups=("low", "high"), seed=100 + seed, n_lr=20))
            res = cg.differential(st, levels=("interaction",), write=False, progress=False)
        r = res.results
        ps.append(r[r[S.KIND] == "time"][S.P_PROP].to_numpy())
        studies_with_calls += int((r[S.FDR] < 0.05).any())
    p = np.concatenate(ps)
    from scipy import stats

    assert len(p) > 2000
    assert abs(np.mean(p < 0.05) - 0.05) < 0.015, np.mean(p < 0.05)
    assert stats.kstest(p, "uniform").statistic < 0.03
    assert studies_with_calls <= 2  # Binomial(8, ≤0.05): 3 or more has probability < 0.6%


# --- the graph -----------------------------------------------------------------------------------


def test_results_in_the_graph_and_the_named_queries(study):
    store, res = study
    c = store.contrasts()
    assert set(c[S.ID]) == set(res.contrasts[S.ID]) and not c[S.STALE].any()
    n_changed = store.cypher("MATCH ()-[c:CHANGED]->() RETURN count(c) AS n")["n"][0]
    assert n_changed == len(res.results)
    got = store.query("differential", cell_type="MX1+ Mono", day=7, group="high")
    want = res.table(contrast_id("time", "high", 7, 0, "synthetic"), fdr=0.05)
    assert sorted(zip(got["partner"], got[S.INTERACTION])) == sorted(zip(want[S.TARGET], want[S.INTERACTION]))
    assert got[S.FDR].max() <= 0.05 and (got["n"] == 4).all() and not got[S.STALE].any()
    everything = store.query("differential", cell_type="MX1+ Mono", day=7, group="high", fdr=1.0)
    # sent without its branches' ORDER BY (_queries.unsorted): the whole file's rows in its order, no ties
    from commgraph._queries import get_query

    spec = get_query("differential")
    whole = spec.shape(store.cypher(spec.text, spec.bind(dict(cell_type="MX1+ Mono", day=7, group="high", fdr=1.0))))
    pd.testing.assert_frame_equal(everything, whole)
    assert not everything.duplicated(subset=[col for col, _, _ in spec.order]).any()
    assert len(everything) == int(((res.results[S.CONTRAST_PROP] == want[S.CONTRAST_PROP].iloc[0])
                                   & (res.results[S.LEVEL] == "interaction")
                                   & (res.results[S.SOURCE] == "MX1+ Mono")).sum())
    summary = store.query("change_summary", day=7, group="high").set_index(["sender", "receiver"])
    assert summary.loc[("MX1+ Mono", "Treg"), "n_up"] == 3 and summary["n_down"].sum() == 0
    assert summary.drop("MX1+ Mono", level="sender")["n_up"].sum() == 0
    dose = store.query("dose_effect", day=7, group="high", reference="low", fdr=1.0, sender="MX1+ Mono")
    # with no sample missing, the model's estimate is the mean of the patients' own differences
    full = dose[~dose["receiver"].isin(["NK", "Treg"])]
    assert len(full) > 20 and np.allclose(full["difference"], full["change"] - full["reference_change"], atol=1e-9)


def test_computing_again_replaces_and_a_changed_run_marks_stale(tmp_path):
    with cg.connect(tmp_path / "s.lbug") as st:
        tables = per_sample_tables(n_patients=3, days=(0, 7), groups=("high",), effect=planted)
        _load(st, tables)
        first = cg.differential(st, progress=False)
        count = "MATCH ()-[c:CHANGED]->() RETURN count(c) AS n"
        n = st.cypher(count)["n"][0]
        cg.differential(st, progress=False)
        assert st.cypher(count)["n"][0] == n  # replaced, not added
        st.load(tables[1])  # the same run again: the contrast that used it is stale
        assert st.contrasts()[S.STALE].all()
        assert st.query("differential", cell_type="MX1+ Mono", day=7, group="high")[S.STALE].all()
        cg.differential(st, progress=False)
        assert not st.contrasts()[S.STALE].any()
        st.remove_run(first.contrasts[S.RUNS_PROP].iloc[0].split(";")[0])
        assert st.contrasts()[S.STALE].all()


def test_replacing_some_or_all_contrasts_keeps_the_rest_and_a_failed_write_keeps_all(tmp_path, monkeypatch):
    per_contrast = "MATCH ()-[c:CHANGED]->() RETURN c.contrast AS k, count(c) AS n ORDER BY k"
    with cg.connect(tmp_path / "s.lbug") as st:
        _load(st, per_sample_tables(n_patients=3, days=(0, 7, 14), groups=("high",), effect=planted))
        cg.differential(st, progress=False)
        before = st.cypher(per_contrast)
        assert len(before) == 2 and (before["n"] > 0).all()
        cg.differential(st, days=[0, 7], progress=False)  # one of the two: its edges replaced, the other's kept
        pd.testing.assert_frame_equal(st.cypher(per_contrast), before)

        def fail(table, frame, real=st._copy):
            if table == S.CHANGED:
                raise RuntimeError("disk full")
            real(table, frame)

        monkeypatch.setattr(st, "_copy", fail)
        with pytest.raises(RuntimeError, match="disk full"):  # all replaced: the new table is rolled back
            cg.differential(st, progress=False)
        pd.testing.assert_frame_equal(st.cypher(per_contrast), before)
        assert len(st.contrasts()) == 2


def test_a_store_with_ligand_and_receptor_on_changed_edges_loses_them_when_some_contrasts_are_replaced(tmp_path):
    # stores written before CHANGED left ligand and receptor to the Interaction node hold them per edge
    per_contrast = "MATCH ()-[c:CHANGED]->() RETURN c.contrast AS k, count(c) AS n ORDER BY k"
    columns = f"CALL TABLE_INFO('{S.CHANGED}') RETURN name"
    with cg.connect(tmp_path / "s.lbug") as st:
        _load(st, per_sample_tables(n_patients=3, days=(0, 7, 14), groups=("high",), effect=planted))
        cg.differential(st, progress=False)
        for name in (S.LIGAND, S.RECEPTOR):
            st.cypher(f"ALTER TABLE {S.CHANGED} ADD {name} STRING DEFAULT 'old'")
        assert {S.LIGAND, S.RECEPTOR} <= set(st.cypher(columns)["name"])
        before = st.cypher(per_contrast)
        cg.differential(st, days=[0, 7], progress=False)  # one of the two contrasts: the other's edges stay
        pd.testing.assert_frame_equal(st.cypher(per_contrast), before)
        assert list(st.cypher(columns)["name"]) == [name for name, _ in S.CHANGED_PROPERTIES]
        got = st.query("differential", cell_type="MX1+ Mono", day=14, group="high", fdr=1.0)
        assert len(got) > 0


def test_changed_is_stored_one_way_and_a_store_with_it_both_ways_answers_the_same(tmp_path):
    # CHANGED is stored forward only (half the write); stores written before hold it both ways
    import dataclasses

    from commgraph.stores.embedded import _rel_ddl

    direction = f"CALL TABLE_INFO('{S.CHANGED}') RETURN DISTINCT storage_direction AS d"
    asked = [dict(cell_type=ct, day=7, group="high", direction=d, fdr=1.0)
             for ct in ("MX1+ Mono", "Treg") for d in ("out", "in")]

    def answers(st):
        return [st.query("differential", **p).sort_values(["partner", S.INTERACTION]).reset_index(drop=True)
                for p in asked]

    with cg.connect(tmp_path / "s.lbug") as st:
        _load(st, per_sample_tables(n_patients=3, days=(0, 7, 14), groups=("high",), effect=planted))
        res = cg.differential(st, progress=False)
        assert list(st.cypher(direction)["d"]) == ["fwd"]
        one_way = answers(st)
        d7 = res.results[(res.results[S.CONTRAST_PROP] == contrast_id("time", "high", 7, 0, "synthetic"))
                         & (res.results[S.LEVEL] == "interaction")]
        for p, got in zip(asked, one_way):  # every tested feature of the cell type, as sender or receiver
            end = S.SOURCE if p["direction"] == "out" else S.TARGET
            assert len(got) == int((d7[end] == p["cell_type"]).sum()) > 0

        st.cypher(f"DROP TABLE {S.CHANGED}")  # as a store written before: both ways
        st.cypher(_rel_ddl(dataclasses.replace(S.REL_TABLE[S.CHANGED], forward_only=False)))
        assert list(st.cypher(direction)["d"]) == ["both"]
        cg.differential(st, days=[0, 7], progress=False)  # some contrasts replaced: the table stays as it is
        assert list(st.cypher(direction)["d"]) == ["both"]
        for got, want in zip(answers(st), one_way):
            pd.testing.assert_frame_equal(got, want)
        cg.differential(st, progress=False)  # every contrast replaced: a new table, one way
        assert list(st.cypher(direction)["d"]) == ["fwd"]
        for got, want in zip(answers(st), one_way):
            pd.testing.assert_frame_equal(got, want)


# --- per-sample counts ------------------------------------------------------------------------


def _counts(sample, patient, n_mx1, n_treg, day=7, group="high"):
    return pd.DataFrame({S.CELL_TYPE_PROP: ["MX1+ Mono", "Treg"], S.N_CELLS: [n_mx1, n_treg], S.DAY: day,
                         S.GROUP: group, S.SAMPLE: sample, S.PATIENT: patient})


def _two_samples(store):
    tables = per_sample_tables(n_patients=2, days=(7,), groups=("high",), cell_types=("MX1+ Mono", "Treg"), n_lr=3)
    store.load(tables[0], cell_counts=_counts("P01_d7", "P01", 10, 30))
    store.load(tables[1], cell_counts=_counts("P02_d7", "P02", 10, 50))
    return store


def _check_pooled(store):
    states = store.cell_states().set_index(S.KEY_PROP)
    mx1, treg = states.loc[S.state_key("MX1+ Mono", 7, "high")], states.loc[S.state_key("Treg", 7, "high")]
    assert (mx1[S.N_CELLS], treg[S.N_CELLS]) == (20, 80)  # pooled, not the last sample's 10 and 50
    assert mx1[S.FRACTION] == pytest.approx(0.2) and treg[S.FRACTION] == pytest.approx(0.8)
    per = store.sample_counts().set_index([S.SAMPLE, S.CELL_TYPE_PROP])
    assert per.loc[("P01_d7", "Treg"), S.N_CELLS] == 30 and per.loc[("P01_d7", "Treg"), S.FRACTION] == pytest.approx(0.75)
    assert per.loc[("P02_d7", "Treg"), S.FRACTION] == pytest.approx(50 / 60)
    s = store.samples().set_index(S.SAMPLE)
    assert s.loc["P01_d7", S.PATIENT] == "P01" and s.loc["P02_d7", "n_runs"] == 1


def test_per_sample_counts_are_kept_and_pooled(store):
    _check_pooled(_two_samples(store))
    # loading a sample's run again replaces its counts, it doesn't add them
    _check_pooled(_two_samples(store))


def _remove_one_sample(store):
    store.remove_run("synthetic|P02_d7")  # the sample's counts go with its last run; totals pooled again
    states = store.cell_states().set_index(S.KEY_PROP)
    assert states.loc[S.state_key("Treg", 7, "high"), S.N_CELLS] == 30
    assert states.loc[S.state_key("MX1+ Mono", 7, "high"), S.FRACTION] == pytest.approx(0.25)
    assert set(store.sample_counts()[S.SAMPLE]) == {"P01_d7"}


def test_removing_a_sample_takes_its_counts(store):
    _remove_one_sample(_two_samples(store))


@pytest.mark.neo4j
def test_per_sample_counts_on_neo4j(neo4j_store):
    _check_pooled(_two_samples(neo4j_store))
    _check_pooled(_two_samples(neo4j_store))
    _remove_one_sample(neo4j_store)


@pytest.mark.neo4j
def test_same_answers_on_neo4j(study, neo4j_store):
    emb, _ = study
    for t in per_sample_tables(effect=planted, absent={("P02_d7", "NK"), ("P06_d14", "Treg")}):
        neo4j_store.load(t)
    cg.differential(neo4j_store, progress=False)
    from test_queries import assert_same

    cases = [("differential", dict(cell_type="MX1+ Mono", day=7, group="high")),
             ("differential", dict(cell_type="Treg", day=14, group="low", direction="in", fdr=1.0, level="pair")),
             ("differential", dict(cell_type="NK", day=7, group="low", fdr=1.0, partner="Treg", level="pathway")),
             ("dose_effect", dict(day=7, group="high", reference="low", fdr=0.2)),
             ("dose_effect", dict(day=14, group="high", reference="low", fdr=1.0, receiver="NK")),
             ("change_summary", dict(day=7, group="high")),
             ("change_summary", dict(day=7, group="high", reference="low", level="pathway", fdr=1.0))]
    for name, params in cases:
        want = emb.query(name, **params)
        assert len(want), f"{name} {params}: an empty answer compares nothing"
        assert_same(neo4j_store.query(name, **params), want, what=f"{name} {params}")


# --- bad designs: one line, store unchanged -------------------------------------------------------


@pytest.mark.parametrize("case, match", [
    ("unpaired", "no sample pairs with another"),
    ("one_patient", "a paired test needs at least 2"),
    ("no_baseline", "no samples on baseline day 3"),
    ("one_day", "sampled on one day only"),
    ("two_methods", "mix inference methods"),
    ("pooled", "no per-sample runs"),
])
def test_bad_designs_are_one_line_errors(tmp_path, case, match):
    with cg.connect(tmp_path / "bad.lbug") as st:
        kw = {}
        if case == "unpaired":
            _load(st, per_sample_tables(n_patients=3, days=(0, 7), groups=("high",), patients=False))
        elif case == "one_patient":
            _load(st, per_sample_tables(n_patients=1, days=(0, 7), groups=("high",)))
            kw = {"groups": ["high"]}
        elif case == "no_baseline":
            _load(st, per_sample_tables(n_patients=2, days=(0, 7), groups=("high",)))
            kw = {"groups": ["high"], "baseline": 3}
        elif case == "one_day":
            _load(st, per_sample_tables(n_patients=2, days=(0,), groups=("healthy",), prefix="H"))
            _load(st, per_sample_tables(n_patients=2, days=(0, 7), groups=("high",), seed=1))
            kw = {"groups": ["healthy"]}
        elif case == "two_methods":
            _load(st, per_sample_tables(n_patients=2, days=(0, 7), groups=("high",)))
            _load(st, per_sample_tables(n_patients=2, days=(0, 7), groups=("high",), method="other"))
        elif case == "pooled":
            from conftest import synthetic_table

            st.load(synthetic_table())
        before = (st.contrasts(), st.stats()["signals"])
        with pytest.raises(cg.InputError, match=match) as err:
            cg.differential(st, progress=False, **kw)
        assert "\n" not in str(err.value)
        assert st.contrasts().equals(before[0]) and st.stats()["signals"] == before[1]


def test_cli_differential_then_query(tmp_path):
    from typer.testing import CliRunner

    from commgraph.cli import app

    db = str(tmp_path / "cli.lbug")
    with cg.connect(db) as st:
        _load(st, per_sample_tables(n_patients=3, days=(0, 7), groups=("low", "high"), effect=planted))
    runner = CliRunner()
    got = runner.invoke(app, ["differential", "--db", db, "--out", str(tmp_path / "all.csv"), "-f", "csv"])
    assert got.exit_code == 0, got.output
    table = pd.read_csv(pd.io.common.StringIO(got.stdout)).set_index("id")
    with cg.connect(db, read_only=True) as st:
        want = cg.differential(st, write=False, progress=False).table("time|high|d7-vs-d0|synthetic", fdr=0.05)
    assert table.loc["time|high|d7-vs-d0|synthetic", "n_up"] == (want[S.DELTA] > 0).sum() >= 9
    assert len(pd.read_csv(tmp_path / "all.csv")) > 0
    q = runner.invoke(app, ["query", "differential", "--db", db, "-p", "cell_type=MX1+ Mono", "-p", "day=7",
                            "-p", "group=high", "-f", "csv"])
    assert q.exit_code == 0 and len(pd.read_csv(pd.io.common.StringIO(q.stdout))) == (want[S.SOURCE] == "MX1+ Mono").sum()
    bad = runner.invoke(app, ["differential", "--db", db, "-g", "high", "-d", "5"])
    assert bad.exit_code != 0


def test_a_contrast_never_computed_gets_a_hint(study):
    store, _ = study
    with pytest.warns(cg.HintWarning, match="no contrast computed for group 'low', day 7 vs group 'high'"):
        got = store.query("dose_effect", day=7, group="low", reference="high")
    assert got.empty and "commgraph differential" in got.attrs["hint"]


def test_run_scores_read_the_live_edges_of_each_run(tmp_path):
    """The differential reads runs a day × group at a time (Store.run_scores): each run's rows are its
    live edges, as Store.signals gives them; an edge of run A under run B's live load id is not A's.
    LadybugDB reads two days × groups ahead, on threads, cell types by offset: every frame comes, as
    the generic read gives it, and a reader that stops early leaves the store to write."""
    tables = per_sample_tables(n_patients=3, days=(0, 3, 7), groups=("high", "low"), n_lr=5)
    with cg.connect(tmp_path / "s.lbug") as store:
        store.load(pd.concat(tables, ignore_index=True))
        store.load(tables[0].assign(**{S.SCORE: tables[0][S.SCORE] + 1.0}))  # one run replaced
        runs = store.runs()[S.RUN_ID].tolist()
        live = store.cypher("MATCH (r:Run) RETURN r.run_id AS run_id, r.load_id AS load_id, r.day AS day")
        first = tables[0][S.RUN_ID].iloc[0]
        day = live.loc[live[S.RUN_ID] == first, S.DAY].item()
        neighbour = live[(live[S.DAY] == day) & (live[S.RUN_ID] != first)].iloc[0]
        e = tables[0].iloc[0]
        store.cypher("MATCH (a:CellState), (b:CellState) WHERE a.key = $a AND b.key = $b "
                     "CREATE (a)-[:SIGNALS {ligand: 'X', receptor: 'Y', interaction: 'X^Y', pathway: 'P', score: 99.0, "
                     "significant: true, method: $m, run_id: $run, load_id: $load}]->(b)",
                     {"a": S.state_key(e[S.SOURCE], int(e[S.DAY]), e[S.GROUP]),
                      "b": S.state_key(e[S.TARGET], int(e[S.DAY]), e[S.GROUP]), "m": e[S.METHOD], "run": first,
                      "load": neighbour[S.LOAD_ID]})
        assert store.cypher("MATCH ()-[r:SIGNALS]->() WHERE r.interaction = 'X^Y' RETURN count(r) AS n")["n"][0] == 1
        got = pd.concat(list(store.run_scores(runs)), ignore_index=True)
        assert "X^Y" not in set(got[S.INTERACTION])
        cols = [S.SOURCE, S.TARGET, S.INTERACTION, S.PATHWAY, S.SCORE, S.SIGNIFICANT]
        for run in runs:
            want = store.signals(run)[cols].sort_values(cols[:3]).reset_index(drop=True)
            mine = got[got[S.RUN_ID] == run][cols].astype({c: object for c in cols[:4]})  # names come as categoricals
            mine = mine.sort_values(cols[:3]).reset_index(drop=True)
            assert len(mine) == len(want) > 0
            pd.testing.assert_frame_equal(mine, want, check_dtype=False, obj=run)
        with pytest.raises(cg.QueryError, match="no run 'nope'"):
            list(store.run_scores(["nope"]))

        frames = list(store.run_scores(runs))
        generic = list(_generic_run_scores(store, runs))
        assert len(frames) == len(generic) == 6  # days × groups, more than the reads in flight
        for mine, want in zip(frames, generic):
            assert mine.dtypes.astype(str).tolist() == want.dtypes.astype(str).tolist()
            pd.testing.assert_frame_equal(_rows(mine), _rows(want))
        reader = store.run_scores(runs)
        next(reader)
        reader.close()  # the reads under way end, their connections close
        store.load(tables[1].assign(**{S.SCORE: tables[1][S.SCORE] + 2.0}))
        assert store.signals(tables[1][S.RUN_ID].iloc[0])[S.SCORE].min() >= 2.0


def _generic_run_scores(store, runs):
    """Store.run_scores through the base class's sequential read (no engine-specific read-ahead)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store, "_scores_at", functools.partial(Store._scores_at, store))
        yield from store.run_scores(runs)


def _rows(df):
    df = df.astype({c: object for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})
    return df.sort_values(list(df.columns)).reset_index(drop=True)


@pytest.mark.parametrize("level", ["interaction", "pair", "pathway"])
def test_feature_matrices_are_each_runs_edges_summed(study, level):
    """The per-sample matrices (read a day × group at a time, names as codes) equal a groupby of
    each run's own edges, in the order a run-by-run read meets the features; NaN where either
    cell type is absent from the sample, 0 where both are there and the feature is not."""
    from commgraph._differential import _KEYS, _design, _features

    store, _ = study
    design = _design(store, groups=None, days=None, baseline=None, method=None)
    got = _features(store, design, levels=[level], min_cells=10, significant_only=False, progress=False)[level]
    counts = store.sample_counts()
    sums, present = [], []
    for run, sample in zip(design.runs[S.RUN_ID], design.runs[S.SAMPLE]):
        e = store.signals(run)
        sums.append(e.groupby(_KEYS[level])[S.SCORE].sum().rename(sample))
        ok = counts[(counts[S.SAMPLE] == sample) & (counts[S.N_CELLS] >= 10)][S.CELL_TYPE_PROP] if len(counts) else []
        present.append(set(e[S.SOURCE]) | set(e[S.TARGET]) | set(ok))
    order = list(dict.fromkeys(k for x in sums for k in x.index))  # first run first; within a run, sorted
    want = pd.concat(sums, axis=1).reindex(order).fillna(0.0)
    for c, cts in zip(want.columns, present):
        both = [a in cts and b in cts for a, b in zip(want.index.get_level_values(0), want.index.get_level_values(1))]
        want.loc[~np.array(both), c] = np.nan
    assert got.features[_KEYS[level]].apply(tuple, axis=1).tolist() == [tuple(k) if isinstance(k, tuple) else (k,)
                                                                       for k in want.index]
    assert np.isnan(got.values).any()  # the fixture's absent cell types
    np.testing.assert_allclose(got.values, want.to_numpy(), rtol=1e-12, equal_nan=True)


def test_combined_codes_are_factorize_of_the_rows():
    rng = np.random.default_rng(3)
    codes = [rng.integers(0, n, 5000) for n in (7, 5, 40)]
    want_codes, want = pd.factorize(pd.MultiIndex.from_arrays(codes))
    for sizes in ([7, 5, 40], [2**31, 2**31, 40]):  # the mixed radix, and the fallback past 2**62
        got_codes, digits = S.combine_codes(codes, sizes)
        assert (got_codes == want_codes).all()
        assert list(zip(*digits)) == list(want)


def test_contrasts_fit_once_per_missingness_pattern_equals_pylimma():
    """Features sharing a missingness pattern share their new standard errors: fitted once per
    pattern, the result equals pylimma's feature-by-feature ``contrasts_fit`` exactly, with a
    pattern that leaves a coefficient non-estimable and one with nothing observed."""
    import pylimma

    from commgraph._differential import _contrasts_fit, _lm_fit, design_matrix

    runs = pd.DataFrame([(f"P{p}", g, d) for g, ps in (("low", range(4)), ("high", range(4, 8)))
                         for p in ps for d in (0, 7, 14)], columns=[S.PATIENT, S.GROUP, S.DAY])
    runs[S.SAMPLE] = runs[S.PATIENT] + "_d" + runs[S.DAY].astype(str)
    X = design_matrix(runs, {"low": 0, "high": 0})
    C = np.zeros((X.shape[1], 3))
    coef = list(X.columns)
    C[coef.index("high:day7"), 0] = 1.0
    C[coef.index("high:day7"), 1], C[coef.index("low:day7"), 1] = 1.0, -1.0
    C[coef.index("low:day14"), 2] = 1.0
    rng = np.random.default_rng(11)
    values = rng.gamma(2.0, 1.0, size=(3000, len(runs)))
    high7 = ((runs[S.GROUP] == "high") & (runs[S.DAY] == 7)).to_numpy()
    pattern = rng.integers(0, 5, len(values))
    values[pattern == 1, 3] = np.nan  # one sample missing
    values[np.ix_(pattern == 2, [3, 10, 17])] = np.nan
    values[np.ix_(pattern == 3, high7)] = np.nan  # high:day7 not estimable
    values[pattern == 4] = np.nan
    fit, found = _lm_fit(values, X.to_numpy())
    assert len(np.unique(found)) == 5
    want = pylimma.contrasts_fit(fit, C)
    got = _contrasts_fit(fit, C, found)
    assert set(got) == set(want)
    for k, v in want.items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(np.asarray(got[k]), v, equal_nan=v.dtype.kind == "f"), k
        else:
            assert got[k] == v, k
    assert np.isnan(got["coefficients"][pattern == 3][:, :2]).all()
    assert np.isfinite(got["coefficients"][pattern == 3][:, 2]).all()
    for k in ("t", "p_value"):
        a, b = pylimma.e_bayes(want, legacy=True)[k], pylimma.e_bayes(got, legacy=True)[k]
        assert np.array_equal(a, b, equal_nan=True), k
