"""Issue 14: the views and the report show time with its unit ("6 h", "stimulated"); a day study
reads as before ("day 7"). The CLI's --day/--baseline take time as the study writes it.

Fixtures: the hours long table and the control-vs-stimulated LIANA+ table of test_real_layouts.py.
"""

from __future__ import annotations

import re

import pytest

import commgraph as cg
from commgraph.formats import read
from commgraph.report import choose_focus, render_report
from commgraph.views import view, view_data
from test_real_layouts import CONDITIONS, HOURS, LONG, cli
from test_clinical import _study, trial  # noqa: F401 - the simulated trial fixture
from test_views import browser, open_page, wait_drawn  # noqa: F401 - the browser fixture

HOUR_TEXTS = ["0 h", "2 h", "4 h", "6 h", "12 h", "24 h", "48 h"]
DAY_WORD = re.compile(r"\bdays?\b", re.I)


def _visible(page: str) -> str:
    """What a reader sees without JavaScript: the page less its scripts, styles and tags."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))


@pytest.fixture(scope="module")
def hours(tmp_path_factory):
    st = cg.connect(tmp_path_factory.mktemp("hours") / "hours.lbug")
    st.load(read("csv", HOURS, orient="resource", **LONG))
    yield st
    st.close()


@pytest.fixture(scope="module")
def conditions(tmp_path_factory):
    st = cg.connect(tmp_path_factory.mktemp("cond") / "cond.lbug")
    st.load(read("csv", CONDITIONS, time_col="condition", time_unit="condition", time_order="control,stimulated",
                 columns="ligand_complex=ligand,receptor_complex=receptor,magnitude_rank=score",
                 score_direction="lower", all_significant=True))
    yield st
    st.close()


def test_hours_report_says_hours_never_days(hours):
    f = choose_focus(hours, day=6)
    assert (f.t(6), f.on(6), f.t(f.baseline), f.noun) == ("6 h", "at 6 h", "0 h", "time")
    page = render_report(hours, day=6)
    text = _visible(page)
    assert "How Mono signaling changes: 6 h against 0 h, group all" in text
    assert "Signaling roles, 0 h → 6 h, group all" in page
    assert "the controls change the cut-offs, time and group" in text
    assert not DAY_WORD.findall(text), DAY_WORD.findall(text)
    # the figures: axis titled with the unit, a tick at each timepoint as text
    assert '"title":"time (h)"' in page.replace(": ", ":")
    assert "datum.value == 6 ? '6 h'" in page
    # the embedded network views carry the times for their controls
    assert '"6":"6 h"' in page.replace(": ", ":")


def test_conditions_report_and_views_name_the_conditions(conditions):
    f = choose_focus(conditions)
    assert (f.t(0), f.t(1), f.on(1), f.noun) == ("control", "stimulated", "in condition stimulated", "condition")
    text = _visible(render_report(conditions, views=False))
    assert "stimulated against control" in text
    assert not DAY_WORD.findall(text), DAY_WORD.findall(text)
    spec = view_data(conditions, "network", day=1)
    assert spec["times"] == {"0": "control", "1": "stimulated"} and spec["time_noun"] == "condition"
    assert "{day}" in spec["title"] and "day" not in spec["title"].replace("{day}", "")


def test_hours_view_data_and_controls(hours, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    spec = view_data(hours, "network", day=6)
    assert spec["times"] == dict(zip(["0", "2", "4", "6", "12", "24", "48"], HOUR_TEXTS))
    assert spec["time_unit"] == "hour" and spec["time_noun"] == "time"
    assert not any(DAY_WORD.search(it["label"]) for items in spec["legend"].values() for it in items)
    diff = view_data(hours, "diff", day=6, baseline=0)
    assert "day" not in diff["title"].replace("{day}", "") and "at 6 h minus 0 h" in diff["subtitle"]
    path = view(hours, "ego", cell_type="Mono", day=6, out=tmp_path / "ego.html")  # one frame per time
    open_page(browser, path)
    wait_drawn(browser)
    label = browser.find_element(By.CSS_SELECTOR, ".cg-day-label").text
    ticks = browser.find_element(By.CSS_SELECTOR, ".cg-ticks").text
    title = browser.find_element(By.CSS_SELECTOR, ".cg-head h1, .cg-head h2, .cg-head [class*=title]").text \
        if browser.find_elements(By.CSS_SELECTOR, ".cg-head h1, .cg-head h2, .cg-head [class*=title]") else ""
    status = browser.execute_script("var v = Object.values(window.commgraphViews)[0]; return v.statusEl.textContent")
    assert label == "6 h"
    assert ticks == "times: " + " · ".join(HOUR_TEXTS)
    assert status.startswith("6 h · all")
    assert "6 h" in (title or browser.title) and "day" not in (title or browser.title)
    controls = browser.find_element(By.CSS_SELECTOR, ".cg-controls").text
    assert not DAY_WORD.search(controls), controls


def test_hint_for_a_cell_type_missing_at_a_time_says_it_in_hours(tmp_path):
    """A cell type the study has, at a time the study has, but never together: the hint words both
    in the study's unit (the unit is read only when there is something to say)."""
    table = read("csv", HOURS, orient="resource", **LONG)
    table = table[~((table["day"] == 12) & ((table["source"] == "NK") | (table["target"] == "NK")))]
    st = cg.connect(tmp_path / "gap.lbug")
    st.load(table)
    with pytest.warns(cg.HintWarning):
        got = st.query("partners", cell_type="NK", day=12)
    assert got.empty
    assert got.attrs["hint"] == "'NK' has no cell state on time 12 h in group 'all' (its times: 0 h, 2 h, 4 h, 6 h, 24 h, 48 h)"
    assert st.query("partners", cell_type="NK", day=24).attrs.get("hint") is None
    st.close()


def test_day_study_view_data_unchanged(store, table):
    store.load(table)
    spec = view_data(store, "network", day=7, group="high")
    assert "times" not in spec and "time_unit" not in spec
    assert spec["title"] == "Network of cell–cell signaling — day {day}, group {group}"
    f = choose_focus(store, day=7, group="high")
    assert (f.t(7), f.on(7), f.noun) == ("day 7", "on day 7", "day")


def test_cli_day_options_take_the_study_time(tmp_path):
    db = tmp_path / "hours.lbug"
    cli("load", "csv", HOURS, "--time-col", "time", "--time-unit", "hour", "-o", "pair_col=interacting_pair",
        "-o", "cell_pair_col=cell_pair", "-o", "columns=mean=score", "-o", "orient=resource",
        "-o", "complex_names=cellphonedb", db=db)
    page = tmp_path / "net.html"
    cli("view", "network", "--day", "6h", "-o", page, db=db)
    assert "6 h" in page.read_text()
    cli("view", "diff", "--day", "12", "--baseline", "2h", "-o", tmp_path / "diff.html", db=db)  # integers still work
    assert "12 h against 2 h" in (tmp_path / "diff.html").read_text()
    report = tmp_path / "report.html"
    cli("report", "--day", "24 hours", "--no-networks", "-o", report, db=db)
    assert "24 h against 0 h" in report.read_text()
    bad = cli("view", "network", "--day", "5h", "-o", tmp_path / "x.html", db=db, check=False)
    assert bad.returncode == 1 and "no time 5 h" in bad.stderr


def test_cli_associate_takes_day_as_written(tmp_path, trial):
    """A day study: ``--day "day 28"`` and ``--day 28`` are the same contrast (``--baseline 0``)."""
    db = tmp_path / "trial.lbug"
    with cg.connect(db) as st:
        _study(st, trial)
        st.load_samples(trial[0])
    plain = cli("associate", "--score", "child_pugh", "--day", "28", "-f", "csv", db=db).stdout
    written = cli("associate", "--score", "child_pugh", "--day", "day 28", "--baseline", "d0", "-f", "csv", db=db).stdout
    assert plain == written and "MX1+ Mono" in plain
