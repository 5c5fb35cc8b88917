"""Neo4j Browser as a client: the favourites export, and every query file run in the real Browser.

The Browser test drives Neo4j Browser 5.24 (served by the test server at its HTTP port,
``COMMGRAPH_TEST_NEO4J_HTTP``; tools/test.sh exports it) in headless Chromium, as the README's
"Neo4j Browser" section tells a user to: connect, run each file's ``:params`` line (and
``:param limit => n`` where LIMIT needs an integer), paste the file and run it, read the result
table, and require the rows the Python API gives on the same store. Then it loads
``commgraph.grass`` with ``:style``, switches off "Connect result nodes" and counts the nodes and
relationships the graph-view files draw, and drops the favourites zip onto the window.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph._queries import GROUPS, _all, favorite_path, get_query
from conftest import REPO, per_sample_tables

HTTP_ENV = "COMMGRAPH_TEST_NEO4J_HTTP"
ARTIFACTS = REPO / "test-artifacts"
CELL_TYPES = ("MX1+ Mono", "Treg", "NK", "CD14 Mono")
MX1 = "MX1+ Mono"

# one parameter set per file, each with an answer on the study below
BROWSER_CASES = {
    "cell_composition": {"cell_type": MX1},
    "change_summary": {"day": 7, "group": "high", "fdr": 1.0},
    "clinical_trajectory": {"score": "child_pugh", "group": "high"},
    "differential": {"cell_type": MX1, "day": 7, "group": "high"},
    "dose_effect": {"day": 7, "group": "high", "reference": "low", "sender": MX1, "fdr": 1.0},
    "dose_response": {"cell_type": MX1, "day": 7},
    "graph_ego": {"cell_type": MX1, "day": 7, "group": "high", "pathway": "PW1"},
    "graph_network": {"day": 7, "group": "high"},
    "graph_trajectory": {"cell_type": MX1},
    "interaction_catalogue": {"ligand": "L1"},
    "lr_trajectory": {"ligand": "L1", "sender": MX1, "receiver": "NK"},
    "network": {"day": 7, "group": "high"},
    "partners": {"cell_type": MX1, "day": 7, "group": "high", "pathway": "PW1"},
    "pathway_flow": {"group": "high"},
    "roles": {"day": 7, "group": "high"},
    "signaling_by_day": {"cell_type": MX1, "group": "high"},
    "signaling_change": {"cell_type": MX1, "day": 7, "group": "high", "pathway": "PW1"},
    "top_changes": {"day": 7, "group": "high", "limit": 12},
}
# more parameter sets for files whose UNION branches take different paths: lr_trajectory's cases
# above and here reach its branches for a sender, an interaction alone, and a receptor alone
MORE_BROWSER_CASES = [
    ("lr_trajectory", {"interaction": "L1^R1", "ligand": "L1"}),
    ("lr_trajectory", {"receptor": "R1", "group": "high"}),
    ("differential", {"cell_type": "Treg", "day": 7, "group": "high", "direction": "in"}),  # starts from the senders
]


# --- the favourites: what Neo4j Browser 5.x's file drop takes ------------------------------------


def test_favorites_zip_holds_every_query_in_its_group_folder(tmp_path):
    zip_path, style = cg.browser_favorites(tmp_path / "fav")
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        assert sorted(names) == sorted(favorite_path(s) for s in _all().values())
        for spec in _all().values():
            entry = f"commgraph {spec.group}/{spec.name}.cypher"
            text = z.read(entry).decode()
            assert text == spec.text
            # the Browser names a favourite after its first line without the `//`, and files it in a
            # folder named after the entry's directory (its readZipFiles/fileContentToFavoriteFactory)
            assert text.splitlines()[0][2:].strip() == f"{spec.name}: {spec.description}"
    assert {n.split("/")[0] for n in names} == {f"commgraph {g}" for g in GROUPS}
    assert style.read_text() == (REPO / "cypher" / "commgraph.grass").read_text()
    again = cg.browser_favorites(tmp_path / "again")[0]
    assert again.read_bytes() == zip_path.read_bytes()  # the same files give the same zip


def test_cli_browser_export_and_queries_list_the_same_groups(tmp_path):
    from test_cli import cli

    run = cli("browser", "export", tmp_path)
    assert run.stdout.split("\n")[:2] == [str(tmp_path / "commgraph-favorites.zip"), str(tmp_path / "commgraph.grass")]
    listed = subprocess.run([sys.executable, "-m", "commgraph.cli", "queries"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "1000"}).stdout
    with zipfile.ZipFile(tmp_path / "commgraph-favorites.zip") as z:
        for group in GROUPS:
            section = listed.split(group + "\n", 1)[1]
            for other in GROUPS[GROUPS.index(group) + 1:]:
                section = section.split(other + "\n", 1)[0]
            listed_names = [line.split(":")[0] for line in section.splitlines() if line and not line.startswith(" ")]
            folder = sorted(n for n in z.namelist() if n.startswith(f"commgraph {group}/"))
            assert [f"commgraph {group}/{n}.cypher" for n in listed_names] == folder


# --- the real Browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_study(neo4j_uri):
    """A small per-sample study on the Neo4j test server: counts, contrasts and a sample sheet, so every
    query file has an answer."""
    from test_differential import planted

    with cg.connect(neo4j_uri) as store:
        store.clear()
        for i, t in enumerate(per_sample_tables(effect=planted, cell_types=CELL_TYPES)):
            first = t.iloc[0]
            counts = pd.DataFrame({S.CELL_TYPE_PROP: list(CELL_TYPES), S.N_CELLS: [40 + 7 * j + i for j in range(4)],
                                   S.DAY: int(first[S.DAY]), S.GROUP: first[S.GROUP], S.SAMPLE: first[S.SAMPLE]})
            store.load(t, cell_counts=counts)
        cg.differential(store, progress=False)
        samples = store.cypher("MATCH (s:Sample) RETURN s.id AS sample, s.patient AS patient, s.day AS day, "
                               "s.`group` AS `group` ORDER BY sample")
        samples["child_pugh"] = [7 + (i % 5) - (d // 7) for i, d in enumerate(samples["day"])]
        store.load_samples(samples)
        yield store
        store.clear()


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        opts.add_argument(arg)
    d = webdriver.Chrome(options=opts, service=Service(chromedriver))
    d.set_page_load_timeout(60)
    yield d
    d.quit()


class Browser:
    """Neo4j Browser driven as a user does: the editor, Ctrl+Enter, the newest frame on top."""

    def __init__(self, driver, http: str):
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.http = driver, http.rstrip("/")
        self.wait = WebDriverWait(driver, 30, poll_frequency=0.1)

    def by(self, css):
        from selenium.webdriver.common.by import By

        return self.d.find_elements(By.CSS_SELECTOR, css)

    def connect(self, bolt: str, password: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC

        self.d.get(f"{self.http}/browser/")
        self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="boltaddress"]')))
        for tid, value in (("boltaddress", bolt), ("username", "neo4j"), ("password", password)):
            field = self.by(f'[data-testid="{tid}"]')[0]
            field.clear()
            field.send_keys(value)
        self.by('[data-testid="connect"]')[0].click()
        self.wait.until(lambda d: "You are connected as user" in d.find_element(By.TAG_NAME, "body").text)

    def run(self, text: str, done=None):
        """Paste ``text`` into the editor (a paste event, as a user's Ctrl+V), run it with Ctrl+Enter and
        return the new frame once its status bar or error shows it finished."""
        from selenium.webdriver.common.keys import Keys

        before = self.by('[data-testid="frame"]')[:1]  # the newest frame is on top (the stream keeps at most 15)
        editor = self.by('[data-testid="activeEditor"] textarea')[0]
        editor.click()
        self.d.execute_script(
            "const dt = new DataTransfer(); dt.setData('text/plain', arguments[1]);"
            "arguments[0].dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
            editor, text)
        editor.send_keys(Keys.CONTROL, Keys.ENTER)
        try:
            self.wait.until(lambda d: self.by('[data-testid="frame"]')[:1] not in ([], before))
            frame = self.by('[data-testid="frame"]')[0]
            self.wait.until(lambda d: (done or self._done)(frame))
        except Exception:
            self.shot("timeout")
            raise
        return frame

    def _done(self, frame) -> bool:
        text = frame.text
        return ("Started streaming" in text or "Displaying " in text or "Successfully set your parameter" in text
                or "ERROR" in text or "Error" in text or "(no changes, no records)" in text
                or bool(frame.find_elements("css selector", '[data-testid="cypherFrameErrorMessage"]')))

    def table(self, frame) -> tuple[list[str], list[list[str]]]:
        """The result table's header and cells, as the Browser shows them (Table view)."""
        tab = frame.find_elements("css selector", '[data-testid="cypherFrameSidebarTable"]')
        if tab:  # a script click: a banner or the frame's own scrolling can leave the tab "not interactable"
            self.d.execute_script("arguments[0].click();", tab[0])
        self.wait.until(lambda d: frame.find_elements("css selector", 'table[role="table"]')
                        or "no changes, no records" in frame.text)
        got = self.d.execute_script(
            "const t = arguments[0].querySelector('table[role=table]'); if (!t) return [[], []];"
            "const head = [...t.querySelectorAll('th[role=columnheader]')].map(x => x.innerText);"
            "const rows = [...t.querySelectorAll('tbody tr[role=row]')].map("
            "  r => [...r.querySelectorAll('td[role=cell]')].map(x => x.innerText));"
            "return [head, rows];", frame)
        return got[0], got[1]

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.d.save_screenshot(str(ARTIFACTS / f"browser-{name}.png"))


def _cell(text: str):
    """A table cell as Neo4j Browser writes it: null, "strings", numbers, [lists], true/false."""
    text = text.strip()
    if text == "null":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("[") or text.startswith('"'):
        return json.loads(text)
    return float(text)


def _same(cell, want) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return cell is None
    if isinstance(want, (list, np.ndarray)):
        return list(cell) == list(want)
    if isinstance(want, (bool, np.bool_)):
        return cell is bool(want)
    if isinstance(want, (int, float, np.integer, np.floating)):
        return isinstance(cell, float) and math.isclose(cell, float(want), rel_tol=1e-9, abs_tol=1e-12)
    return cell == want


@pytest.fixture(scope="module")
def browser(driver, neo4j_uri, browser_study):
    http = os.environ.get(HTTP_ENV)
    if not http:
        pytest.fail(f"{HTTP_ENV} is not set: the Neo4j Browser test needs the test server's HTTP address "
                    "(tools/test.sh exports it)")
    b = Browser(driver, http)
    b.connect(neo4j_uri, os.environ.get("NEO4J_PASSWORD", "commgraph-test"))
    return b


@pytest.mark.browser
@pytest.mark.neo4j
def test_every_query_file_in_neo4j_browser_gives_the_python_answer(browser, browser_study):
    assert set(BROWSER_CASES) == set(_all()), "a query file without a Browser case"
    start, compared = time.monotonic(), {}
    for name, params in [*BROWSER_CASES.items(), *MORE_BROWSER_CASES]:
        spec = get_query(name)
        want = browser_study.query(name, **params)
        assert len(want), f"{name}: the Python API answers nothing; pick parameters with an answer"
        for line in spec.browser_lines(params):  # the :params line, then `:param limit => n` where needed
            frame = browser.run(line)
            assert "Successfully set your parameter" in frame.text, f"{name}: {line}\n{frame.text[:500]}"
        frame = browser.run(spec.text)  # the whole file, header and all
        try:
            head, rows = browser.table(frame)
        except Exception as ex:
            browser.shot(f"{name}-failed")
            raise AssertionError(f"{name}: no result table in the Browser ({type(ex).__name__})\n{frame.text[:800]}") from ex
        if name in ("signaling_change", "top_changes", "graph_network"):
            browser.shot(name)
        assert head == list(spec.returns), f"{name}: Browser columns {head}\n{frame.text[:500]}"
        assert len(rows) == len(want), f"{name}: {len(rows)} rows in the Browser, {len(want)} from Python"
        shown = [c for c in want.columns if not any(isinstance(v, dict) for v in want[c])]  # nodes: drawn below
        for i, row in enumerate(rows):
            for col in shown:
                cell = _cell(row[head.index(col)])
                assert _same(cell, want[col].iloc[i]), f"{name} row {i} {col}: Browser {cell!r}, Python {want[col].iloc[i]!r}"
        compared[f"{name} {params}" if (name, params) in MORE_BROWSER_CASES else name] = (len(rows), len(shown))
    print(f"\nrows compared per file (rows, columns): {compared}; {time.monotonic() - start:.1f} s")


@pytest.mark.browser
@pytest.mark.neo4j
def test_a_wrong_type_or_a_missing_day_in_neo4j_browser_answers_nothing(browser, browser_study):
    """What the guards are for: values typed by hand. signaling_change with day "7" (a string) or a day
    never sampled once listed every interaction as lost; in the Browser now: no records."""
    spec = get_query("signaling_change")
    params = BROWSER_CASES["signaling_change"]
    assert len(browser_study.query("signaling_change", **params))
    for bad in ('day: "7"', "day: 5", 'group: "medium"', 'min_score: "0.5"'):
        key = bad.split(":")[0]
        line = spec.browser_line(params).replace(f"{key}: {json.dumps(params.get(key, spec.browser[key]))}", bad)
        assert bad in line
        browser.run(line)
        head, rows = browser.table(browser.run(spec.text))
        assert rows == [], f"{bad}: {len(rows)} rows"
    browser.shot("signaling_change-wrong-day")


@pytest.mark.browser
@pytest.mark.neo4j
def test_graph_views_draw_one_edge_per_pair_with_the_style(browser, browser_study):
    # the style: `:style` followed by the grass file's text; the Browser shows the style it now uses
    browser.run(":style " + (REPO / "cypher" / "commgraph.grass").read_text(),
                done=lambda f: "node.CellState" in f.text and "relationship.NEXT" in f.text)
    # Settings (the gear) > "Connect result nodes" off: only the edges a query returns are drawn
    browser.by('[data-testid="navigationSettings"]')[0].click()
    box = browser.wait.until(lambda d: browser.by('[data-testid="setting-autoComplete"]'))[0]
    if box.is_selected():
        box.click()
    assert not browser.by('[data-testid="setting-autoComplete"]')[0].is_selected()
    browser.by('[data-testid="navigationSettings"]')[0].click()
    for name, params in (("graph_network", BROWSER_CASES["graph_network"]),
                         ("graph_trajectory", BROWSER_CASES["graph_trajectory"])):
        spec = get_query(name)
        want = browser_study.query(name, **params)
        nodes = {want[c].iloc[i]["key"] for c in want.columns if c.endswith("state")
                 for i in range(len(want)) if isinstance(want[c].iloc[i], dict)}
        edges = sum(1 for c in ("edge", "next") if c in want for v in want[c] if isinstance(v, dict))
        for line in spec.browser_lines(params):
            browser.run(line)
        frame = browser.run(spec.text)
        viz = frame.find_elements("css selector", '[data-testid="cypherFrameSidebarVisualization"]')
        viz[0].click()
        browser.wait.until(lambda d: len(frame.find_elements("css selector", "g.node")) == len(nodes))
        drawn = frame.find_elements("css selector", "g.relationship")
        browser.shot(f"{name}-graph")
        assert len(frame.find_elements("css selector", "g.node")) == len(nodes), name
        assert len(drawn) == edges, f"{name}: {len(drawn)} relationships drawn, {edges} returned"
        # and the overview says the same
        assert f"Displaying {len(nodes)} nodes, {edges} relationships" in frame.text, frame.text[-300:]
        # the style's CellState caption: '{cell_type} d{day} {group}'
        captions = " ".join(t.get_attribute("textContent") for t in frame.find_elements("css selector", "g.node text"))
        assert "d7" in captions.replace(" ", "") and "high" in captions, captions[:300]


@pytest.mark.browser
@pytest.mark.neo4j
def test_favorites_zip_dropped_on_neo4j_browser(browser, tmp_path):
    zip_path, _ = cg.browser_favorites(tmp_path)
    data = base64.b64encode(zip_path.read_bytes()).decode()
    # what dragging the file onto the window does: a drop event carrying it
    browser.d.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
        "const file = new File([bytes], 'commgraph-favorites.zip', {type: 'application/zip'});"
        "const dt = new DataTransfer(); dt.items.add(file);"
        "const target = document.querySelector('[data-testid=main]');"
        "for (const type of ['dragenter', 'dragover', 'drop'])"
        "  target.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));", data)
    browser.by('[data-testid="navigationFavorites"]')[0].click()
    for group in GROUPS:
        folder = browser.wait.until(lambda d: browser.by(f'[data-testid="expandFolder-commgraph {group}"]'))[0]
        folder.click()
    titles = browser.wait.until(lambda d: [e.get_attribute("data-testid")[len("scriptTitle-"):]
                                           for e in browser.by('[data-testid^="scriptTitle-"]')
                                           if ":" in e.get_attribute("data-testid")] or None)
    browser.shot("favorites")
    assert sorted(titles) == sorted(f"{s.name}: {s.description}" for s in _all().values())
    browser.by('[data-testid="navigationFavorites"]')[0].click()
