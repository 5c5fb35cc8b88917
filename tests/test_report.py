"""The study report and the change-first diff view on a study that is not the demo.

A small per-sample trial (four cell types named after liver cells, groups "A" and "B", days 0,
7 and 14, four patients each, a MELD-like score in the sample sheet) with planted changes of
one sender ("Kupffer") at day 7, stronger in group B. The report must find that sender, group
and day by itself, every number of its summary sentences must be the store's (each sentence is
parsed and checked against ``store.query``), and in headless Chromium (offline) each figure
must draw as many marks as the named queries give rows, and the diff view's controls must
change what is drawn exactly as the tested changes say.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commgraph as cg
from commgraph import _schema as S
from commgraph.report import choose_focus, write_report
from commgraph.views import view
from conftest import per_sample_tables
from test_views import browser  # noqa: F401  (the headless Chromium fixture)

CELL_TYPES = ("Hepatocyte", "Kupffer", "NKT", "B cell")
PLANTED = ("L1", "L2", "L3")


def _effect(g, d, s, t, lig):
    if s == "Kupffer" and lig in PLANTED and d == 7:
        return 1.5 if g == "B" else 0.6
    if s == "NKT" and t == "Kupffer" and lig == "L4" and d == 7:
        return -1.0
    return 0.0


def build_trial(path: Path) -> Path:
    """The non-demo study: per-sample runs, per-sample cell counts, a sample sheet, contrasts."""
    rng = np.random.default_rng(1)
    tables = per_sample_tables(n_patients=4, days=(0, 7, 14), groups=("A", "B"), effect=_effect,
                               cell_types=CELL_TYPES, n_lr=12, seed=5, prefix="S")
    sheet = []
    with cg.connect(path) as st:
        for t in tables:
            sample, d, g, p = t[S.SAMPLE].iloc[0], int(t[S.DAY].iloc[0]), t[S.GROUP].iloc[0], t[S.PATIENT].iloc[0]
            n = {c: int(rng.integers(50, 400)) for c in CELL_TYPES}
            if d == 7:
                n["Kupffer"] = int(n["Kupffer"] * 2.5)
            counts = pd.DataFrame({S.CELL_TYPE_PROP: list(n), S.N_CELLS: list(n.values())})
            counts[S.SAMPLE], counts[S.DAY], counts[S.GROUP], counts[S.PATIENT] = sample, d, g, p
            st.load(t, cell_counts=counts)
            sheet.append({S.SAMPLE: sample, S.PATIENT: p, S.DAY: d, S.GROUP: g,
                          "meld": float(rng.normal(15, 3) - (d / 7) * n["Kupffer"] / 200)})
        st.load_samples(pd.DataFrame(sheet))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cg.differential(st, progress=False)
    return path


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    path = build_trial(tmp_path_factory.mktemp("trial") / "trial.lbug")
    with cg.connect(path, read_only=True) as st:
        yield st


@pytest.fixture(scope="module")
def trial_pages(trial, tmp_path_factory):
    out = tmp_path_factory.mktemp("trial-pages")
    written = cg.write_views(trial, out / "views")
    written["report"] = write_report(trial, out / "report.html")
    return written


# --- the summary sentences, checked against the store -------------------------------------------

NUM = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
PAIR = re.compile(rf"^On day (\d+) in group (.+?), (.+?) → (.+?) (\S+?)–(\S+?) (rose|fell) ({NUM})-fold "
                  rf"\(log2 FC ({NUM}); mean score ({NUM}) on day (\d+), ({NUM}) on day \d+\), FDR ({NUM}), "
                  rf"n = (\d+) patients\.$")
COUNTS = re.compile(r"^On day (\d+) against day (\d+) in group (.+?), (.+?) sent (\d+) ligand–receptor pairs more "
                    r"strongly and (\d+) less strongly, and received (\d+) more strongly and (\d+) less strongly")
OTHER = re.compile(r"^In group (.+?) on day (\d+), (\d+) pairs sent and (\d+) received by (.+?) changed at "
                   rf"FDR ≤ ({NUM})\.$")
DOSE = re.compile(rf"^Against group (.+?), the day-(\d+) change of (\d+) pairs sent by (.+?) differed \(dose × time, "
                  rf"FDR ≤ ({NUM})\): in group (.+?), (\d+) rose more or fell less and (\d+) the other way\.$")
COMP = re.compile(rf"^(.+?) made up ({NUM})% of the counted cells on day (\d+) and ({NUM})% on day (\d+) in group (.+?);")
CLIN = re.compile(r"^Across patients, the change of (.+?)'s fraction from day (\d+) to day (\d+) went with the change "
                  r"of (.+) \(Spearman, permutation p; every score in the sample sheet\)\.$")
CLIN_ITEM = re.compile(rf"(\S+) \(rho ({NUM}), p ({NUM}), n = (\d+)\)")


def close(printed: str, value: float) -> bool:
    """A printed number equals the value to the digits printed."""
    digits = printed.lower().split("e")[0]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    if "e" in printed.lower():
        return math.isclose(float(printed), value, rel_tol=10 ** -decimals * 0.51 + 1e-12)
    return abs(float(printed) - value) <= 0.5 * 10 ** -decimals + 1e-12


def summary_sentences(page_html: str) -> list[tuple[str, str]]:
    import html as H

    items = re.findall(r'<li data-finding="([a-z_]*)">(.*?)</li>', page_html, flags=re.S)
    return [(kind, H.unescape(re.sub(r"<sup.*?</sup>", "", text)).strip()) for kind, text in items]


def _q(store, name, **p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return store.query(name, **p)


def check_summary(store, page_html: str, *, fdr: float = 0.05) -> int:
    """Every number of every summary sentence against the store; returns how many were checked."""
    from commgraph import clinical

    checked = 0
    sentences = summary_sentences(page_html)
    assert sentences, "the report has no summary"
    for kind, text in sentences:
        if kind == "pair":
            m = PAIR.match(text)
            assert m, text
            day, group, src, dst, lig, rec, verb, fold, lfc, m0, base, m1, q, n = m.groups()
            inter = {S.interaction_name(a.replace("+", "_"), b.replace("+", "_")) for a, b in [(lig, rec)]}.pop()
            for direction, focus, partner in (("out", src, dst), ("in", dst, src)):
                t = _q(store, "differential", cell_type=focus, day=int(day), group=group, direction=direction, fdr=1.0)
                row = t[(t["partner"] == partner) & (t[S.INTERACTION] == inter)]
                if len(row):
                    break
            assert len(row) == 1, text
            r = row.iloc[0]
            assert (verb == "rose") == (r["delta"] > 0), text
            assert close(fold, 2 ** abs(r["log2fc"])) and close(lfc, r["log2fc"]), text
            assert close(m0, r["mean_baseline"]) and close(m1, r["mean_day"]) and int(base) == int(r["baseline"])
            assert close(q, r["fdr"]) and r["fdr"] <= fdr and int(n) == int(r["n"]), text
            checked += 9
        elif kind == "counts":
            m = COUNTS.match(text)
            assert m, text
            day, base, group, ct, up_o, down_o, up_i, down_i = m.groups()
            out = _q(store, "differential", cell_type=ct, day=int(day), group=group, direction="out", fdr=fdr)
            inn = _q(store, "differential", cell_type=ct, day=int(day), group=group, direction="in", fdr=fdr)
            inn = inn[inn["partner"] != ct]  # self-signaling counted once, as sent
            assert [int(up_o), int(down_o), int(up_i), int(down_i)] == [
                int((out["delta"] > 0).sum()), int((out["delta"] < 0).sum()),
                int((inn["delta"] > 0).sum()), int((inn["delta"] < 0).sum())], text
            assert (out["baseline"] == int(base)).all()
            checked += 4
        elif kind == "other_group":
            m = OTHER.match(text)
            assert m, text
            group, day, n_out, n_in, ct, q = m.groups()
            out = _q(store, "differential", cell_type=ct, day=int(day), group=group, direction="out", fdr=float(q))
            inn = _q(store, "differential", cell_type=ct, day=int(day), group=group, direction="in", fdr=float(q))
            assert (int(n_out), int(n_in)) == (len(out), int((inn["partner"] != ct).sum())), text
            checked += 2
        elif kind == "dose":
            m = DOSE.match(text)
            assert m, text
            other, day, n, ct, q, group, larger, smaller = m.groups()
            c = store.contrasts()
            k = c[(c[S.KIND] == "dose_time") & (c[S.DAY] == int(day))
                  & (c[S.GROUP].isin([group, other])) & (c[S.REFERENCE].isin([group, other]))].iloc[0]
            d = _q(store, "dose_effect", day=int(day), group=k[S.GROUP], reference=k[S.REFERENCE], fdr=float(q),
                   sender=ct)
            sign = 1 if k[S.GROUP] == group else -1
            assert (int(n), int(larger), int(smaller)) == (
                len(d), int((sign * d["difference"] > 0).sum()), int((sign * d["difference"] < 0).sum())), text
            checked += 3
        elif kind == "composition":
            m = COMP.match(text)
            assert m, text
            ct, p0, d0, p1, d1, group = m.groups()
            comp = _q(store, "cell_composition", cell_type=ct, group=group).set_index(S.DAY)[S.FRACTION]
            assert close(p0, 100 * comp[int(d0)]) and close(p1, 100 * comp[int(d1)]), text
            checked += 2
        elif kind == "clinical":
            m = CLIN.match(text)
            assert m, text
            ct, d0, d1, listed = m.groups()
            items = CLIN_ITEM.findall(listed)
            assert items and {i[0] for i in items} == set(store.measurements()[S.VARIABLE]), text
            for score, rho, p, n in items:
                traj = _q(store, "clinical_trajectory", score=score).dropna(subset=["value"])
                groups = sorted(traj.loc[traj[S.DAY] == int(d1), S.GROUP].unique())
                a = clinical.associate(store, score=score, day=int(d1), baseline=int(d0), groups=groups,
                                       cell_types=[ct]).set_index("feature").loc[ct]
                assert int(n) == int(a["n_patients"]) and close(rho, a["rho"]) and close(p, a["p"]), text
                checked += 3
        else:
            pytest.fail(f"a summary sentence of unknown kind {kind!r}: {text}")
    return checked


def test_defaults_come_from_the_data(trial):
    f = choose_focus(trial)
    assert (f.cell_type, f.group, f.day, f.baseline, f.tested) == ("Kupffer", "B", 7, 0, True)
    assert set(f.interactions) & {f"{lig}^{lig.replace('L', 'R')}" for lig in PLANTED}
    # given values win, and must exist
    g = choose_focus(trial, cell_type="NKT", group="A", day=14, interactions=["L4^R4"])
    assert (g.cell_type, g.group, g.day, g.interactions) == ("NKT", "A", 14, ["L4^R4"])
    with pytest.raises(cg.QueryError):
        choose_focus(trial, cell_type="MX1+ Mono")


def test_summary_numbers_are_the_stores(trial, trial_pages):
    page = trial_pages["report"].read_text(encoding="utf-8")
    kinds = {k for k, _ in summary_sentences(page)}
    assert {"counts", "pair", "other_group", "dose", "composition", "clinical"} <= kinds
    assert check_summary(trial, page) >= 30
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert "MX1+" not in text and "CD86" not in text  # nothing of the demo
    # a planted rise is among the sentences, with its direction
    pairs = [t for k, t in summary_sentences(page) if k == "pair"]
    assert any(re.search(r"Kupffer → .+ L[123]–R[123] rose", t) for t in pairs), pairs


def test_summary_check_catches_a_wrong_number(trial, trial_pages):
    """The checker is not a rubber stamp: one digit changed in a sentence fails it."""
    page = trial_pages["report"].read_text(encoding="utf-8")
    m = re.search(r"FDR (\d)\.(\d)e-", page)
    wrong = page[:m.start(1)] + str((int(m.group(1)) % 9) + 1) + page[m.end(1):]
    with pytest.raises(AssertionError):
        check_summary(trial, wrong)


def test_report_sections_and_methods(trial_pages):
    page = trial_pages["report"].read_text(encoding="utf-8")
    heads = re.findall(r"<h2>(.*?)</h2>", page)
    assert heads[:2] == ["What changed", "How it was measured"]
    assert "store.query" not in "".join(heads)  # plain headings; the queries are footnotes
    assert page.count('<li id="fn') >= 8 and 'store.query("change_summary"' in page
    assert "limma" in page and "Benjamini–Hochberg" in page and "24 runs" in page
    assert page.count("data-commgraph-chart=") == 7  # heatmap, dots, flow, roles, composition, clinical ×2


def test_diff_view_options(trial, tmp_path):
    spec = cg.views.view_data(trial, "diff")
    assert spec["edge_mode"] == "tested" and spec["focus"] == "Kupffer" and spec["initial"]["day"] == 7
    assert cg.views.view_data(trial, "diff", fdr=0.01, min_abs_log2fc=1.0, focus="NKT")["initial"]["focus"] == "NKT"
    with pytest.raises(cg.QueryError):
        view(trial, "diff", out=tmp_path / "x.html", focus="Nobody")


# --- in the browser -----------------------------------------------------------------------------


def wait_charts(driver, timeout: float = 30) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d):
        s = d.execute_script("return [Object.keys(window.commgraphCharts || {}).length, "
                             "window.commgraphChartsExpected, window.commgraphChartErrors || {}]")
        return s if s[1] is not None and (s[0] + len(s[2]) >= s[1]) else False

    n, expected, errors = WebDriverWait(driver, timeout).until(ready, "the figures did not draw")
    assert not errors, errors
    return {"n": n}


def chart_marks(driver, chart_id: str) -> dict:
    """What Vega drew: items per mark type, and the rows of the chart's dataset."""
    return driver.execute_script("""
        var id = arguments[0], root = document.getElementById(id), out = {};
        ['rect', 'symbol', 'text', 'line'].forEach(function (m) {
          var n = 0;
          root.querySelectorAll('g.mark-' + m + '.role-mark').forEach(function (g) { n += g.querySelectorAll(m === 'text' ? 'text' : 'path').length; });
          out[m] = n;
        });
        var v = window.commgraphCharts[id].view;
        out.rows = v.data('rows').length;
        out.texts = Array.prototype.map.call(root.querySelectorAll('g.mark-text.role-mark text'), function (t) { return t.textContent; });
        return out;""", chart_id)


def chart_ids(driver) -> dict[str, str]:
    """chart title (as the spec gives it) -> element id."""
    return driver.execute_script("""
        var out = {};
        Object.keys(window.commgraphCharts).forEach(function (id) {
          var spec = JSON.parse(document.querySelector('script[data-commgraph-chart="' + id + '"]').textContent);
          out[spec.title.text] = id;
        });
        return out;""")


@pytest.mark.browser
def test_report_figures_draw_the_queries(browser, trial, trial_pages):
    from test_views import assert_clean, open_page, screenshot

    page = trial_pages["report"]
    open_page(browser, page)
    wait_charts(browser)
    ids = chart_ids(browser)
    assert len(ids) == 7, ids

    def by(prefix: str) -> str:
        hits = [v for k, v in ids.items() if k.startswith(prefix)]
        assert len(hits) == 1, (prefix, ids)
        return hits[0]

    cs = _q(trial, "change_summary", day=7, group="B", fdr=0.05)
    m = chart_marks(browser, ids["Changed signaling, day 7 vs day 0, group B"])
    assert m["rect"] == m["rows"] == len(cs)
    assert sorted(m["texts"]) == sorted(f"{u}↑ {d}↓" for u, d in zip(cs["n_up"], cs["n_down"]) if u + d)

    # dot plot: one dot per (feature, day) tested, for the focus's top features of day 7
    dots = chart_marks(browser, ids["Kupffer: its most changed pairs over days, group B"])
    assert dots["symbol"] == dots["rows"] > 0

    comp = _q(trial, "cell_composition")
    m = chart_marks(browser, by("Cell composition by day and group"))
    assert m["rows"] == len(comp) and m["symbol"] == len(comp) and m["line"] == comp[[S.CELL_TYPE_PROP, S.GROUP]].drop_duplicates().shape[0]

    roles = _q(trial, "roles", group="B")
    m = chart_marks(browser, by("Signaling roles"))
    assert m["symbol"] == m["rows"] == int(roles[S.DAY].isin([0, 7]).sum())

    traj = _q(trial, "clinical_trajectory", score="meld").dropna(subset=["value"])
    m = chart_marks(browser, by("Clinical scores per patient over days"))
    assert m["symbol"] == len(traj) and m["line"] == traj["patient"].nunique()

    m = chart_marks(browser, by("Change of Kupffer fraction vs change of each clinical score"))
    assert m["symbol"] == m["rows"] == 8  # one point per patient with both days (one score)

    flow = _q(trial, "pathway_flow")
    m = chart_marks(browser, by("Information flow"))
    assert m["symbol"] == m["rows"] == len(flow[flow[S.PATHWAY] != S.UNANNOTATED])

    # every figure offers SVG and PNG export (vega-embed's actions)
    assert len(browser.find_elements("css selector", "details.vega-embed-wrapper, .vega-actions")) >= 7
    assert_clean(browser, page)
    screenshot(browser, "trial-report-full", full=True)


def _tested_pairs(store, *, day, group, fdr, min_lfc):
    """sender → receiver pairs with at least one feature passing the cut-offs, and their summed change."""
    parts = []
    for ct in CELL_TYPES:
        t = _q(store, "differential", cell_type=ct, day=day, group=group, direction="out", fdr=fdr)
        parts.append(t.assign(sender=ct))
    t = pd.concat(parts)
    t = t[t["log2fc"].abs() >= min_lfc]
    return t.groupby(["sender", "partner"])["delta"].sum()


@pytest.mark.browser
def test_diff_view_controls_draw_the_tested_changes(browser, trial, trial_pages):
    from selenium.webdriver.support.ui import Select

    from test_views import assert_clean, open_page, screenshot, wait_drawn

    page = trial_pages["diff"]
    open_page(browser, page)
    d = wait_drawn(browser)
    seen = set()
    for fdr, lfc, focus in ((0.05, 0.0, "Kupffer"), (0.25, 0.0, "Kupffer"), (0.05, 1.0, "NKT"), (1.0, 0.0, "")):
        for cls, value in ((".cg-fdr", f"{fdr:g}"), (".cg-lfc", f"{lfc:g}"), (".cg-focus", focus)):
            sel = Select(browser.find_element("css selector", cls))
            if sel.first_selected_option.get_attribute("value") != value:
                sel.select_by_value(value)
                d = wait_drawn(browser, after=d["seq"])
        want = _tested_pairs(trial, day=7, group="B", fdr=fdr, min_lfc=lfc)
        assert (d["fdr"], d["min_lfc"], d["focus"]) == (fdr, lfc, focus)
        assert d["edges"] == len(want), (fdr, lfc, focus)
        touching = np.array([focus in k for k in want.index] if focus else [True] * len(want), dtype=bool)
        assert d["up"] == int(((want > 0) & touching).sum()) and d["down"] == int(((want < 0) & touching).sum())
        assert d["dimmed"] == len(want) - sum(touching)
        assert f"FDR ≤ {fdr:g}" in d["title"] and (f"focus {focus}" in d["title"]) == bool(focus)
        widest = max(w for _, w in d["widths"]) if d["widths"] else None
        if len(want):
            assert math.isclose(d["max_width_value"], float(want.abs().max()), rel_tol=1e-5)
            assert widest is not None
        seen.add(d["edges"])
        screenshot(browser, f"trial-diff-fdr{fdr:g}-lfc{lfc:g}-{focus or 'none'}")
    assert len(seen) > 1, "the controls did not change the drawing"
    # the other group keeps the day and the cut-offs
    Select(browser.find_element("css selector", ".cg-group")).select_by_value("A")
    d = wait_drawn(browser, after=d["seq"])
    assert (d["group"], d["day"], d["fdr"]) == ("A", 7, 1.0)
    assert d["edges"] == len(_tested_pairs(trial, day=7, group="A", fdr=1.0, min_lfc=0.0))
    assert_clean(browser, page)


@pytest.mark.browser
def test_every_trial_page_opens_offline(browser, trial_pages):
    from test_views import assert_clean, open_page, screenshot, wait_drawn

    for kind in ("network", "ego", "lr"):
        open_page(browser, trial_pages[kind])
        assert wait_drawn(browser)["nodes"] == 4
        assert_clean(browser, trial_pages[kind])
        screenshot(browser, f"trial-{kind}")


@pytest.mark.browser
def test_report_prints_to_pdf(trial, tmp_path):
    from typer.testing import CliRunner

    from commgraph.cli import app

    res = CliRunner().invoke(app, ["report", "--db", trial.uri, "--format", "pdf", "-o", str(tmp_path / "r.pdf"),
                                   "--cell-type", "NKT", "--group", "A", "--day", "7", "--interaction", "L4^R4",
                                   "--interaction", "L1^R1", "--no-networks"])
    assert res.exit_code == 0, res.output
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    res = CliRunner().invoke(app, ["report", "--db", trial.uri, "-o", str(tmp_path / "r.html"), "--cell-type", "NKT",
                                   "--group", "A", "--day", "7", "--interaction", "L4^R4", "--no-networks"])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "How NKT signaling changes: day 7 against day 0, group A" in page and "L4^R4" in page
