"""Issue 16 in the network views, on the small per-sample study that is not the demo
(``test_report.build_trial``): in headless Chromium (offline), each control of a page is driven
and what is drawn is checked against the named query's answer.

- ``network``: only the strongest N sender → receiver edges are drawn (a select in the page), and
  the title states the cut (how many of how many, and the weakest total drawn).
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
