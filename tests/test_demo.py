"""The demo end to end: every planted effect is found through the named queries."""

from __future__ import annotations

import warnings

import pytest

from test_views import browser  # noqa: F401  (the headless Chromium fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from commgraph.demo import run_demo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_demo(tmp_path_factory.mktemp("demo"), progress=False)


def test_every_claim_agrees(demo):
    bad = demo.findings[~demo.findings["agrees"]]
    assert bad.empty, bad.to_string()
    assert len(demo.findings) >= 18


def test_claims_come_from_the_graph(demo):
    import commgraph as cg

    with cg.connect(demo.store, read_only=True) as st:
        t = st.query("lr_trajectory", ligand="CD86", receptor="CTLA4", sender="MX1+ Mono", receiver="Treg")
    score = t.set_index(["group", "day"])["mean_score"]
    assert score[("high", 7)] > score[("high", 0)]
    assert score[("high", 7)] - score[("high", 0)] > score[("low", 7)] - score[("low", 0)]


def test_summary_and_changes(demo):
    s = demo.summary
    assert set(s["direction"]) == {"out", "in"} and set(s["group"]) == {"low", "high"}
    ch = demo.changes  # tested changes of MX1+ Mono's pairs at day 7, FDR < 0.05
    assert (ch["fdr"] < 0.05).all() and (ch["delta"] > 0).any() and (ch["delta"] < 0).any()
    assert set(demo.contrasts["kind"]) == {"time", "dose_time"}


@pytest.mark.browser
def test_demo_pages_open_offline(demo, browser):
    """Every page the demo wrote opens offline, draws, and logs no console error."""
    from test_views import assert_clean, open_page, screenshot, wait_drawn

    pages = sorted(p for p in demo.files if p.suffix == ".html" and p.name != "index.html")
    assert {p.stem for p in pages} == {"network", "diff", "ego", "lr", "report"}
    for page in pages:
        open_page(browser, page)
        if page.stem == "report":
            ids = browser.execute_script("return Object.keys(window.commgraphViews || {})")
            assert len(ids) >= 3
            for view_id in ids:
                assert wait_drawn(browser, view_id=view_id)["nodes"] > 0
        else:
            assert wait_drawn(browser)["nodes"] > 0
        assert_clean(browser, page)
        screenshot(browser, f"demo-{page.stem}")


def test_readme_examples_are_the_demos_answers(demo):
    """README.md's query examples are tools/readme_examples.py's output on this demo's store."""
    import sys

    import commgraph as cg
    from conftest import REPO

    sys.path.insert(0, str(REPO / "tools"))
    import readme_examples as RX

    with cg.connect(demo.store, read_only=True) as st:
        want = RX.render(st)
    got = RX.current_section((REPO / "README.md").read_text())
    assert got == want, "README examples drifted: run python tools/readme_examples.py --store DEMO/study.lbug"
