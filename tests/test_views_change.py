"""Issue 16 in the network views, on the small per-sample study that is not the demo
(``test_report.build_trial``): in headless Chromium (offline), each control of a page is driven
and what is drawn is checked against the named query's answer.

- ``network``: only the strongest N sender → receiver edges are drawn (a select in the page), and
  the title states the cut (how many of how many, and the weakest total drawn).
- ``ego`` and ``lr`` change mode: a day against its baseline, only the tested features passing
  the FDR and |log2 FC| selects (``differential``), red up / blue down, widest value in the
  legend; without tests the page says so and draws the scores.
- ``lr`` per-patient lines: one point per sample (its run's SIGNALS edges), one line per patient,
  following the pair typed into the page.
"""

from __future__ import annotations

import re

import pytest

import commgraph as cg
from commgraph.views import view
from test_report import trial  # noqa: F401  (the per-sample study, with contrasts)
from test_views import assert_clean, browser, open_page, screenshot, wait_drawn  # noqa: F401


def _select(driver, css: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.CSS_SELECTOR, css)).select_by_value(value)


def _drawn_ids(driver) -> set[str]:
    return {i for i, _ in driver.execute_script("return window.commgraphDrawn.widths")}


def test_network_view_data_has_a_cut(trial):  # noqa: F811
    spec = cg.views.view_data(trial, "network", day=7, group="B")
    assert spec["initial"]["max_edges"] == 30
    assert cg.views.view_data(trial, "network", day=7, group="B", max_edges=0)["initial"]["max_edges"] == 0


@pytest.mark.browser
def test_network_draws_the_strongest_edges(browser, trial, tmp_path):  # noqa: F811
    net = trial.query("network", day=7, group="B")
    net = net.assign(id=net["sender"] + "\u2192" + net["receiver"])
    page = view(trial, "network", out=tmp_path / "network.html", day=7, group="B")
    open_page(browser, page)
    d = wait_drawn(browser)
    assert d["edges"] == len(net) == d["available"]  # 30 > 16 pairs: every edge, and the title says so
    assert f"all {len(net)} edges" in d["title"]
    assert_clean(browser, page)
    for cap in (5, 10, 0):
        seq = d["seq"]
        _select(browser, ".cg-cap", str(cap))
        d = wait_drawn(browser, after=seq)
        want = net if cap == 0 else net.sort_values("total_score", ascending=False).head(cap)
        assert d["edges"] == len(want)
        if cap:
            assert _drawn_ids(browser) == set(want["id"])
            m = re.search(r"the strongest (\d+) of (\d+) edges \(total score ≥ ([\d.]+)\)", d["title"])
            assert m, d["title"]
            assert (int(m[1]), int(m[2])) == (cap, len(net))
            assert float(m[3]) <= want["total_score"].min() + 1e-9
            assert float(m[3]) > net.sort_values("total_score", ascending=False)["total_score"].iloc[cap]
            screenshot(browser, f"trial-network-strongest-{cap}")
        else:
            assert _drawn_ids(browser) == set(net["id"])
            assert f"all {len(net)} edges" in d["title"]


def _tested(store, *, cell_type=None, interaction=None, day, group, fdr, min_lfc):
    """What the change mode should draw: sender → receiver pairs with a tested feature passing the
    cut-offs (``differential``), summed; for ``cell_type`` what it sends and receives, for
    ``interaction`` that pair's features from every sender."""
    import pandas as pd

    from test_report import CELL_TYPES

    parts = []
    if cell_type is not None:
        out = trial_q(store, cell_type=cell_type, day=day, group=group, direction="out", fdr=fdr)
        parts.append(out.assign(sender=cell_type, receiver=out["partner"]))
        inn = trial_q(store, cell_type=cell_type, day=day, group=group, direction="in", fdr=fdr)
        inn = inn.assign(sender=inn["partner"], receiver=cell_type)
        parts.append(inn[inn["sender"] != cell_type])
    else:
        for ct in CELL_TYPES:
            t = trial_q(store, cell_type=ct, day=day, group=group, direction="out", fdr=fdr)
            parts.append(t[t["interaction"] == interaction].assign(sender=ct, receiver=t["partner"]))
    t = pd.concat(parts)
    t = t[t["log2fc"].abs() >= min_lfc]
    return t.groupby(["sender", "receiver"])["delta"].sum()


def trial_q(store, **params):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return store.query("differential", **params)


def _check_change(d, want):
    assert d["mode"] == "change"
    assert d["edges"] == len(want)
    assert d["up"] == int((want > 0).sum()) and d["down"] == int((want < 0).sum())
    if len(want):
        assert abs(d["max_width_value"] - float(want.abs().max())) <= 1e-5 * float(want.abs().max())


@pytest.mark.parametrize("kind", ["ego", "lr"])
@pytest.mark.browser
def test_change_mode_draws_the_tested_changes(browser, trial, tmp_path, kind):  # noqa: F811
    target = {"cell_type": "Kupffer"} if kind == "ego" else {"interaction": "L1^R1"}
    page = view(trial, kind, out=tmp_path / f"{kind}.html", day=7, group="B", **target)
    open_page(browser, page)
    d = wait_drawn(browser)
    assert (d["mode"], d["day"], d["group"]) == ("change", 7, "B")  # change first where tests exist
    assert "FDR ≤ 0.05" in d["title"] and "|log2 FC| ≥ 0" in d["title"] and "against day 0" in d["title"]
    _check_change(d, _tested(trial, **target, day=7, group="B", fdr=0.05, min_lfc=0.0))
    assert_clean(browser, page)
    screenshot(browser, f"trial-{kind}-change-fdr0.05")
    seen = {d["edges"]}
    for fdr, lfc in ((1.0, 0.0), (1.0, 1.0), (0.25, 0.5)):
        for css, value in ((".cg-fdr", f"{fdr:g}"), (".cg-lfc", f"{lfc:g}")):
            from selenium.webdriver.support.ui import Select

            if Select(browser.find_element("css selector", css)).first_selected_option.get_attribute("value") != value:
                seq = d["seq"]
                _select(browser, css, value)
                d = wait_drawn(browser, after=seq)
        _check_change(d, _tested(trial, **target, day=7, group="B", fdr=fdr, min_lfc=lfc))
        assert f"FDR ≤ {fdr:g}" in d["title"] and f"|log2 FC| ≥ {lfc:g}" in d["title"]
        seen.add(d["edges"])
    screenshot(browser, f"trial-{kind}-change-fdr0.25-lfc0.5")
    assert len(seen) > 1, "the cut-offs did not change the drawing"
    # day 14 of group A keeps the cut-offs
    seq = d["seq"]
    _select(browser, ".cg-group", "A")
    d = wait_drawn(browser, after=seq)
    seq = d["seq"]
    browser.find_element("css selector", ".cg-next").click() if d["day"] == 7 else None
    d = wait_drawn(browser, after=seq) if d["day"] == 7 else d
    assert (d["group"], d["day"], d["fdr"], d["min_lfc"]) == ("A", 14, 0.25, 0.5)
    _check_change(d, _tested(trial, **target, day=14, group="A", fdr=0.25, min_lfc=0.5))
    # back to the day's scores: the absolute drawing, same day and group
    seq = d["seq"]
    _select(browser, ".cg-mode", "absolute")
    d = wait_drawn(browser, after=seq)
    assert (d["mode"], d["group"], d["day"]) == ("absolute", "A", 14)
    assert "FDR" not in d["title"]
    assert_clean(browser, page)
    screenshot(browser, f"trial-{kind}-absolute-after-change")


@pytest.mark.browser
def test_without_tests_the_page_says_so(browser, tmp_path):  # noqa: F811
    from test_queries import study_counts, study_table
    from test_views import MX1

    with cg.connect(tmp_path / "plain.lbug") as store:
        store.load(study_table(), cell_counts=study_counts())
        page = view(store, "ego", out=tmp_path / "ego.html", cell_type=MX1, day=7, group="high")
        assert cg.views.view_data(store, "ego", cell_type=MX1)["change"] is None
    open_page(browser, page)
    d = wait_drawn(browser)
    assert d["mode"] == "absolute"
    note = browser.find_element("css selector", ".cg-note").text
    assert "no tested changes" in note
    assert not browser.find_elements("css selector", ".cg-mode")
    assert_clean(browser, page)
    screenshot(browser, "view-ego-no-tests")


def _per_sample_expected(store, interaction):
    """Per sample: the pair's score summed over sender → receiver, read from each per-sample
    run's SIGNALS edges (independently of commgraph.per_sample_scores)."""
    runs = store.runs()
    runs = runs[runs["sample"].notna()]
    out = {}
    for r in runs.itertuples(index=False):
        e = store.signals(r.run_id)
        out[r.sample] = float(e[e["interaction"] == interaction]["score"].sum())
    return out


def _chart_state(driver, chart_id):
    return driver.execute_script("""
        var id = arguments[0], root = document.getElementById(id), out = {symbol: 0, line: 0};
        root.querySelectorAll('g.mark-symbol.role-mark').forEach(function (g) { out.symbol += g.querySelectorAll('path').length; });
        root.querySelectorAll('g.mark-line.role-mark').forEach(function (g) { out.line += g.querySelectorAll('path').length; });
        var v = window.commgraphCharts[id].view;
        out.pair = v.signal('pair');
        out.points = v.data('rows').filter(function (d) { return d.interaction === out.pair; })
          .map(function (d) { return [d.sample, d.patient, d.score]; });
        return out;""", chart_id)


@pytest.mark.browser
def test_lr_per_patient_points_follow_the_pair(browser, trial, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from test_report import wait_charts

    page = view(trial, "lr", out=tmp_path / "lr.html", interaction="L1^R1", day=7, group="B")
    open_page(browser, page)
    d = wait_drawn(browser)
    wait_charts(browser)
    n_patients = trial.samples()["patient"].nunique()
    for pair in ("L1^R1", "L4^R4"):
        if pair != d["pair"]:
            box = browser.find_element("css selector", ".cg-pair")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(pair)
            d = wait_drawn(browser, after=d["seq"])
            assert d["pair"] == pair
        c = WebDriverWait(browser, 10).until(lambda b: (x := _chart_state(b, "cg-lr-patients"))["pair"] == pair and x)
        want = _per_sample_expected(trial, pair)
        got = {s: v for s, _, v in c["points"]}
        assert set(got) == set(want)
        assert all(abs(got[s] - want[s]) <= 1e-6 * max(1.0, abs(want[s])) for s in want), pair
        assert c["symbol"] == len(want)  # one point per sample
        assert c["line"] == n_patients  # one line per patient
        browser.execute_script("document.getElementById('cg-lr-patients').scrollIntoView()")
        screenshot(browser, f"trial-lr-patients-{pair.replace('^', '-')}")
    assert_clean(browser, page)


def test_per_sample_scores_are_the_runs(trial, tmp_path):  # noqa: F811
    ps = cg.per_sample_scores(trial, interactions=["L1^R1"])
    assert set(ps["interaction"]) == {"L1^R1"} and ps["patient"].notna().all()
    got = ps.groupby("sample")["score"].sum(min_count=1).to_dict()
    want = _per_sample_expected(trial, "L1^R1")
    assert set(got) == set(want) and all(abs(got[s] - want[s]) < 1e-6 for s in want)
    from test_queries import study_counts, study_table

    with cg.connect(tmp_path / "plain.lbug") as store:  # no per-sample runs: empty, and no chart
        store.load(study_table(), cell_counts=study_counts())
        assert cg.per_sample_scores(store).empty
        assert "per_sample" not in cg.views.view_data(store, "lr", interaction="ICAM1^ITGAL_ITGB2")


def test_cli_view_mode(trial, tmp_path):  # noqa: F811
    from typer.testing import CliRunner

    from commgraph.cli import app

    for mode in ("absolute", "change"):
        out = tmp_path / f"ego-{mode}.html"
        res = CliRunner().invoke(app, ["view", "ego", "--db", trial.uri, "--cell-type", "Kupffer", "--mode", mode,
                                       "--fdr", "0.25", "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert f'"mode": "{mode}"' in out.read_text(encoding="utf-8") or f'"mode":"{mode}"' in out.read_text(encoding="utf-8")
    res = CliRunner().invoke(app, ["view", "ego", "--db", trial.uri, "--mode", "sideways", "-o", str(tmp_path / "x.html")])
    assert res.exit_code != 0 and "mode 'sideways'" in (res.output + str(res.exception))
