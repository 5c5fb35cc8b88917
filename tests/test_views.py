"""HTML network views and the study report, opened offline in a real headless Chromium.

The synthetic study of test_queries is loaded once; every view and the report are written
from it, opened from file:// with the network cut off (DevTools offline emulation and a
proxy that points nowhere), and checked: no console errors, no request leaves the page, the
nodes and edges vis-network holds equal those the store has for that day and group (counted
here from ``store.signals()`` and the cell counts with pandas), and the in-page controls
change what is drawn. Screenshots go to test-artifacts/.

Chromium and its driver are required (CI installs them): without them the browser tests fail.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.errors import QueryError
from commgraph.report import write_report
from commgraph.views import KINDS, ViewFile, lineage_of, render, view, write_views
from conftest import REPO, synthetic_table
from test_queries import GROUPS, MX1, study_counts, study_table

ARTIFACTS = REPO / "test-artifacts"
ICAM = "ICAM1^ITGAL_ITGB2"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--window-size=1400,900",
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>")


# --- the study, and what the store says should be drawn -----------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    with cg.connect(tmp_path_factory.mktemp("views") / "study.lbug") as store:
        store.load(study_table(), cell_counts=study_counts())
        yield store


@pytest.fixture(scope="module")
def signals(study) -> pd.DataFrame:
    return study.signals()


@pytest.fixture(scope="module")
def pages(study, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pages")
    written = write_views(study, out, cell_type=MX1, day=7, group="high", baseline=0, interaction=ICAM)
    written["network_icam"] = view(study, "network", out=out / "network_icam.html", day=3, group="low", pathway="ICAM")
    written["report"] = write_report(study, out / "report.html", cell_type=MX1, group="high", day=7)
    return written


def significant(t: pd.DataFrame) -> pd.DataFrame:
    """The queries' default rule: the tool's call, p <= 0.05 where given, score >= 0."""
    return t[t[S.SIGNIFICANT] & (t[S.PVALUE].isna() | (t[S.PVALUE] <= 0.05)) & (t[S.SCORE] >= 0)]


def cell_states(signals: pd.DataFrame, day: int, group: str) -> set[str]:
    """Cell types with a cell state that day: an end of any edge, or counted."""
    t = signals[(signals[S.DAY] == day) & (signals[S.GROUP] == group)]
    c = study_counts()
    counted = c[(c[S.DAY] == day) & (c[S.GROUP] == group)][S.CELL_TYPE_PROP]
    return set(t[S.SOURCE]) | set(t[S.TARGET]) | set(counted)


def pairs(signals: pd.DataFrame, day: int, group: str, **where) -> set[tuple[str, str]]:
    t = significant(signals)
    t = t[(t[S.DAY] == day) & (t[S.GROUP] == group)]
    for col, value in where.items():
        t = t[t[col] == value]
    return set(zip(t[S.SOURCE], t[S.TARGET]))


def expect_network(signals, day, group, **where) -> dict:
    return {"nodes": len(cell_states(signals, day, group)), "edges": len(pairs(signals, day, group, **where))}


def expect_ego(signals, day, group, cell_type=MX1, *, expand=False, **where) -> dict:
    t = significant(signals)
    t = t[(t[S.DAY] == day) & (t[S.GROUP] == group) & ((t[S.SOURCE] == cell_type) | (t[S.TARGET] == cell_type))]
    for col, value in where.items():
        t = t[t[col] == value]
    ends = set(t[S.SOURCE]) | set(t[S.TARGET]) | ({cell_type} if cell_type in cell_states(signals, day, group) else set())
    keys = [S.SOURCE, S.TARGET, S.INTERACTION] if expand else [S.SOURCE, S.TARGET]
    return {"nodes": len(ends), "edges": len(t.drop_duplicates(keys))}


# --- without a browser ----------------------------------------------------------------------


@pytest.mark.parametrize("name, lineage", [
    ("MX1+ Mono", "myeloid"), ("CD14 Mono", "myeloid"), ("LGALS2+ Mono", "myeloid"), ("Monocytes", "myeloid"),
    ("Treg", "T"), ("CD4 Naive T", "T"), ("CD8+ T", "T"), ("T cells", "T"),
    ("Naive B", "B"), ("B 'naive'", "B"), ("Plasmablast", "B"),
    ("NK", "NK"), ("CD56bright NK", "NK"), ("Platelet", "other"), ("Bob", "other"),
])
def test_lineage_rules(name, lineage):
    assert lineage_of(name) == lineage


def test_pages_are_self_contained(study, pages):
    """Nothing on a page points elsewhere: no src/href/url()/@import to another host."""
    external = re.compile(r"""(?:\bsrc|\bhref)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)
    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        assert not external.search(text), f"{name} links something external: {external.search(text)[0]!r}"
        if name != "index":
            assert "vis-network" in text and "data-commgraph-view" in text
    html_text = render(study, "ego", cell_type=MX1)
    assert html_text.count("</script>") == 3 and "<script src" not in html_text  # vis-network, ours, the data
    assert html_text.count('<script type="application/json" data-commgraph-view="') == 1  # the data
    assert isinstance(pages["ego"], ViewFile) and pages["ego"].name == "ego.html"
    assert pages["ego"]._repr_html_().startswith("<iframe srcdoc=")


def test_view_options_and_errors(study, tmp_path):
    with pytest.raises(QueryError, match="no view 'pie'"):
        view(study, "pie", out=tmp_path / "x.html")
    with pytest.raises(QueryError, match="has no option 'colour'"):
        view(study, "network", out=tmp_path / "x.html", colour="red")
    with pytest.raises(QueryError, match="did you mean 'MX1\\+ Mono'"):
        view(study, "ego", out=tmp_path / "x.html", cell_type="MX1 Mono")
    with pytest.raises(QueryError, match="no day 5"):
        view(study, "network", out=tmp_path / "x.html", day=5, group="high")
    assert set(KINDS) == {"network", "diff", "ego", "lr"}


def test_views_of_a_study_without_counts_or_arms(tmp_path):
    """One group ("all"), one day, no cell counts: every view but the diff is written; sizes unknown."""
    with cg.connect(tmp_path / "small.lbug") as store:
        store.load(synthetic_table(days=(0,), groups=(S.NO_GROUP,)))
        written = write_views(store, tmp_path / "views")
        assert set(written) == {"network", "ego", "lr", "index"}
        assert "diff: not written" in written["index"].read_text(encoding="utf-8")
        spec = cg.views.view_data(store, "ego")
        assert [(f["day"], f["group"]) for f in spec["frames"]] == [(0, S.NO_GROUP)]
        assert all(n[S.FRACTION] is None for f in spec["frames"] for n in f["nodes"].values())
        report = write_report(store, tmp_path / "report.html", views=False).read_text(encoding="utf-8")
        # no networks (no vis-network), no tested changes: the figures of summed score, drawn by Vega
        assert "vis.Network" not in report and "data-commgraph-chart" in report and "no tested changes" in report


# --- in the browser ---------------------------------------------------------------------------


def _find(env: str, *names: str) -> str:
    found = os.environ.get(env) or next((p for n in names if (p := shutil.which(n))), None)
    if not found or not Path(found).exists():
        pytest.fail(f"the browser tests need Chromium and chromedriver, and {names[0]} is missing: install them "
                    f"(Debian: apt-get install -y chromium chromium-driver) or set {env}", pytrace=False)
    return found


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser tests need selenium: pip install 'commgraph[test]'", pytrace=False)
    binary = _find("COMMGRAPH_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
    driver_path = _find("COMMGRAPH_CHROMEDRIVER", "chromedriver")
    profile = tempfile.mkdtemp(prefix="commgraph-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                               {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        driver.set_page_load_timeout(30)
        driver.get("about:blank")
        assert driver.execute_script("return navigator.onLine") is False, "the browser is not offline"
        ARTIFACTS.mkdir(exist_ok=True)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def drawn(driver, view_id: str | None = None) -> dict | None:
    if view_id is None:
        return driver.execute_script("return window.commgraphDrawn || null")
    return driver.execute_script("var v = (window.commgraphViews || {})[arguments[0]]; return v ? v.drawn : null",
                                 view_id)


def wait_drawn(driver, *, after: int = 0, view_id: str | None = None) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 15).until(
        lambda d: (x := drawn(d, view_id)) is not None and x["seq"] > after and x,
        f"the view {view_id or ''} did not draw")


def open_page(driver, path: Path) -> None:
    driver.get_log("browser"), driver.get_log("performance")  # drop what came before
    driver.get(path.resolve().as_uri())


def assert_clean(driver, path: Path) -> None:
    """No console errors, and the page asked for nothing but itself (and data: URIs)."""
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{path.name}: console errors {errors}"
    urls = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.add(msg["params"]["request"]["url"])
    foreign = {u for u in urls if not (u.startswith("data:") or u == path.resolve().as_uri())}
    assert not foreign, f"{path.name} requested {sorted(foreign)[:5]}"


def screenshot(driver, name: str, *, full: bool = False) -> Path:
    out = ARTIFACTS / f"{name}.png"
    if full:
        w, h = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                                 "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}})
        out.write_bytes(base64.b64decode(shot["data"]))
    else:
        driver.save_screenshot(str(out))
    return out


def counts(d: dict) -> dict:
    return {"nodes": d["nodes"], "edges": d["edges"]}


@pytest.mark.browser
def test_network_and_diff_views(browser, pages, signals):
    open_page(browser, pages["network"])
    d = wait_drawn(browser)
    assert (d["day"], d["group"]) == (7, "high")
    assert counts(d) == expect_network(signals, 7, "high")
    assert_clean(browser, pages["network"])
    screenshot(browser, "view-network")

    open_page(browser, pages["network_icam"])
    d = wait_drawn(browser)
    assert counts(d) == expect_network(signals, 3, "low", pathway="ICAM")
    assert_clean(browser, pages["network_icam"])

    open_page(browser, pages["diff"])
    d = wait_drawn(browser)
    assert d["nodes"] == len(cell_states(signals, 7, "high") | cell_states(signals, 0, "high"))
    assert d["edges"] == len(pairs(signals, 7, "high") | pairs(signals, 0, "high"))
    assert_clean(browser, pages["diff"])
    screenshot(browser, "view-diff")


@pytest.mark.browser
def test_ego_view_controls_change_what_is_drawn(browser, pages, signals):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(browser, pages["ego"])
    d7 = wait_drawn(browser)
    assert (d7["day"], d7["group"]) == (7, "high")
    assert counts(d7) == expect_ego(signals, 7, "high")
    screenshot(browser, "view-ego")

    browser.find_element(By.CSS_SELECTOR, ".cg-next").click()  # day 14
    d14 = wait_drawn(browser, after=d7["seq"])
    assert (d14["day"], d14["group"]) == (14, "high")
    assert counts(d14) == expect_ego(signals, 14, "high")
    assert (counts(d14), d14["total"]) != (counts(d7), d7["total"]), "the day control did not change the drawing"
    screenshot(browser, "view-ego-day14")

    prev = browser.find_element(By.CSS_SELECTOR, ".cg-prev")
    prev.click()
    d = wait_drawn(browser, after=d14["seq"])
    prev.click()
    d = wait_drawn(browser, after=d["seq"])
    assert d["day"] == 3 and counts(d) == expect_ego(signals, 3, "high")  # two samples that day, one edge each pair

    Select(browser.find_element(By.CSS_SELECTOR, ".cg-group")).select_by_value("low")
    d = wait_drawn(browser, after=d["seq"])
    assert (d["day"], d["group"]) == (3, "low") and counts(d) == expect_ego(signals, 3, "low")

    Select(browser.find_element(By.CSS_SELECTOR, ".cg-filter")).select_by_value("pathway:ICAM")
    d = wait_drawn(browser, after=d["seq"])
    assert d["filter"] == "pathway:ICAM" and counts(d) == expect_ego(signals, 3, "low", pathway="ICAM")

    browser.find_element(By.CSS_SELECTOR, ".cg-expand").click()
    d = wait_drawn(browser, after=d["seq"])
    assert d["expand"] and counts(d) == expect_ego(signals, 3, "low", expand=True, pathway="ICAM")
    Select(browser.find_element(By.CSS_SELECTOR, ".cg-filter")).select_by_value("")
    d = wait_drawn(browser, after=d["seq"])
    assert counts(d) == expect_ego(signals, 3, "low", expand=True)
    assert_clean(browser, pages["ego"])


@pytest.mark.browser
def test_lr_view_steps_through_days_and_groups(browser, pages, signals):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(browser, pages["lr"])
    d = wait_drawn(browser)
    assert (d["day"], d["group"]) == (7, "high")
    screenshot(browser, "view-lr")
    seen = set()
    for group in GROUPS:
        Select(browser.find_element(By.CSS_SELECTOR, ".cg-group")).select_by_value(group)
        if d["group"] != group:
            d = wait_drawn(browser, after=d["seq"])
        slider = browser.find_element(By.CSS_SELECTOR, ".cg-day-slider")
        for i in range(int(slider.get_attribute("max")) + 1):  # move the slider as a user would
            browser.execute_script("arguments[0].value = arguments[1];"
                                   "arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", slider, i)
            d = wait_drawn(browser, after=d["seq"])
            assert counts(d) == expect_network(signals, d["day"], group, interaction=ICAM), (d["day"], group)
            seen.add((d["day"], d["group"], d["edges"], d["total"]))
    assert len({(day, g) for day, g, *_ in seen}) == 8 and len({rest for *_, rest in seen}) > 1
    # another pair, typed into the search box: what is drawn is that pair's network, titled with it
    pairs = browser.execute_script("return JSON.parse(document.querySelector('script[data-commgraph-view]').textContent).pairs")
    assert ICAM in pairs and len(pairs) > 5
    for other in [p for p in pairs if p != ICAM][:3]:
        box = browser.find_element(By.CSS_SELECTOR, ".cg-pair")
        box.clear()
        box.send_keys(other)
        from selenium.webdriver.support.ui import WebDriverWait

        # typing draws every pair whose name the text completes on the way (a prefix of another)
        d = WebDriverWait(browser, 15).until(lambda b: (x := drawn(b)) and x["pair"] == other and x)
        assert d["pair"] == other and counts(d) == expect_network(signals, d["day"], d["group"], interaction=other)
        assert browser.find_element(By.CSS_SELECTOR, ".cg-title").text.startswith(other + " across cell types")
    screenshot(browser, "view-lr-other-pair")
    assert_clean(browser, pages["lr"])


@pytest.mark.browser
def test_report_opens_offline_with_every_view_drawn(browser, pages, signals):
    """A study without tested changes: the report says so, draws its figures of summed score
    and the ego and pair networks, offline."""
    from selenium.webdriver.common.by import By

    from test_report import wait_charts

    open_page(browser, pages["report"])
    for kind in ("ego", "lr"):
        wait_drawn(browser, view_id=f"cg-report-{kind}")
    d = drawn(browser, "cg-report-ego")
    assert (d["day"], d["group"]) == (7, "high") and counts(d) == expect_ego(signals, 7, "high")
    assert wait_charts(browser)["n"] == 3  # pathway flow, roles, composition: no tests, no clinical scores
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "section > h2")]
    assert titles[:2] == ["What changed", "How it was measured"] and "The networks, interactive" in titles
    assert "no tested changes" in browser.find_element(By.CSS_SELECTOR, "#summary").text
    assert_clean(browser, pages["report"])
    screenshot(browser, "report")
    screenshot(browser, "report-full", full=True)
