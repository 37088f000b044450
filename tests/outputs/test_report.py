"""report.html and sites.xlsx: self-contained, complete, escaped, fast; hostile scenario strings."""

from __future__ import annotations

import csv
import json
import time
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.report import HOSTILE, hostile_scenario
from support.scenarios import REPO, write_scenario
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.outputs.explain import explain_sites, plan_facts
from lifecircle.optimizer.outputs.i18n import t
from lifecircle.optimizer.outputs.report import render_report
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.coverage import solve_problem

EXTERNAL_TAGS = {"link", "iframe", "object", "embed", "audio", "video", "source", "base", "form", "frame"}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


class Page(HTMLParser):
    """Every element with its attributes, every text run, and the text of the site list."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.texts, self.stack = [], [], []
        self.list_rows, self._row, self._in_list_body = [], None, False
        self.rows, self._body_of = {}, None  # table id -> body rows (text cells), every table

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.stack.append(attrs.get("id"))
        if tag == "tbody" and self.stack and self.stack[-1] == "site-list":
            self._in_list_body = True
        if tag == "tbody" and self.stack:
            self._body_of = self.stack[-1]
        if tag == "tr" and self._body_of is not None:
            self._row = []
            self.rows.setdefault(self._body_of, []).append(self._row)
            if self._in_list_body:
                self.list_rows.append(self._row)

    def handle_endtag(self, tag):
        if tag == "table" and self.stack:
            self.stack.pop()
        if tag == "tbody":
            self._in_list_body = False
            self._body_of = None

    def handle_data(self, data):
        self.texts.append(data)
        if self._body_of is not None and self._row is not None:
            self._row.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def parse(path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def assert_self_contained(page: Page):
    for tag, attrs in page.tags:
        assert tag not in EXTERNAL_TAGS, tag
        if tag == "script":
            assert "src" not in attrs
        if tag == "img":
            assert attrs.get("src", "").startswith("data:")
        for name in ("src", "href", "xlink:href", "action", "poster", "srcset"):
            assert name not in attrs or attrs[name].startswith(("data:", "#")), (tag, name, attrs[name])
    csp = [a for tag, a in page.tags if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    scenario = write_scenario(folder / "tiny")
    out = folder / "out"
    result = run("solve", scenario, "--out", out)
    assert result.exit_code == 0, result.output
    return scenario, out


def test_report_has_map_table_list_and_facts(tiny_run):
    _, out = tiny_run
    page = parse(out / "report.html")
    assert_self_contained(page)
    ids = {a.get("id") for _, a in page.tags}
    assert {"map", "coverage-table", "kind-table", "site-list", "binding", "uncovered", "next-budget",
            "solve-facts"} <= ids
    assert [row[0] for row in page.list_rows] == ["S1", "S3"]
    assert page.list_rows[0][1] == "桥下空间一号" and page.list_rows[1][1] == "边角地"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for fact in (summary["scenario_checksum"], "highs", t("status.optimal", "en"), "0.1.0", "800 元 (80.0%)"):
        assert fact in page.text
    # the map: 4 demand points, reach outlines around both selected sites, 1 existing facility
    assert page.text.count("S1") >= 2
    circles = [a for tag, a in page.tags if tag == "circle" and a.get("stroke") and a.get("fill") is None]
    assert {float(a["r"]) for a in circles} == {300.0, 600.0}  # canteen 300 m; elder_child 300 m and 600 m
    # coverage table (per group) and the next-10% re-solve: 85 with 1,100
    assert "With budget 1,100 元 the weighted coverage is 85.0 (optimal), 16.0 more." in page.text


def test_headline_puts_people_first_and_says_which_rules_bound(tiny_run):
    _, out = tiny_run
    html = (out / "report.html").read_text(encoding="utf-8")
    page = parse(out / "report.html")
    # people per group before the weighted objective; money in 元
    head = html[html.index('<section id="headline">'):html.index("</section>")]
    assert head.index("elderly 30 / 30 people (100.0%)") < head.index("Weighted coverage 69.0 (optimal)")
    assert "children 9 / 34 people (26.5%)" in head
    assert "spent 800 元 of the budget 1,000 元 (80.0%)" in head
    assert page.rows["site-list"][0][4] == "300 元"
    # the budget binds (10% more buys 16 weighted people); no must_open or min_open here
    assert "The budget bound: more money would cover more people (200 元 left unspent)." in head
    assert t("bound.absent", "en", rule=t("rule.must_open", "en")) in head
    assert "circle type other — no minimum applies" in page.text


def test_list_row_holds_every_explanation_field(tiny_run):
    _, out = tiny_run
    page = parse(out / "report.html")
    s1 = page.list_rows[0]
    # part 1: id, name, kind, type, cost, newly (2 groups), unique (2), weighted newly, unique,
    # cost/person, rule flag; part 2: id, name, rank, gain, alternative id, name, type, cost,
    # recovered, share, objective after the swap. Money reads in 元.
    assert s1 == ["S1", "桥下空间一号", "space under a bridge", "社区食堂 (canteen)", "300 元", "14", "0", "14", "0",
                  "28.0", "28.0", "10.7 元", "—"]
    assert page.rows["site-alt"][0] == ["S1", "桥下空间一号", "1", "28.0", "S2", "闲置用房", "社区食堂 (canteen)",
                                        "400 元", "8.0", "28.6", "49.0"]


def test_sites_xlsx(tiny_run):
    from openpyxl import load_workbook

    _, out = tiny_run
    wb = load_workbook(out / "sites.xlsx")
    assert wb.sheetnames == ["sites", "coverage", "site kinds", "binding rules", "uncovered", "solve facts"]
    rows = list(wb["sites"].iter_rows(values_only=True))
    assert rows[0][:5] == ("site id", "name", "kind of idle site", "facility type", "cost")
    with open(out / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert [r[0] for r in rows[1:]] == [r["site_id"] for r in csv_rows]
    assert [r[1] for r in rows[1:]] == [r["name"] for r in csv_rows]
    assert [r[4] for r in rows[1:]] == [float(r["cost"]) for r in csv_rows]
    assert rows[1][9] == 28.0 and rows[1][14] == "S2"  # weighted newly covered; best alternative
    groups = list(wb["coverage"].iter_rows(values_only=True))
    assert groups[1][:4] == ("elderly", 2.0, 30.0, 7.0) and groups[2][:4] == ("children", 1.0, 34.0, 0.0)


def test_chinese_report_and_workbook(tiny_scenario, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "zh"
    assert run("solve", tiny_scenario, "--out", out, "--lang", "zh").exit_code == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    for key in ("sec.map", "sec.table", "sec.list", "sec.facts", "col.unique_weighted"):
        assert t(key, "zh") in html
    assert load_workbook(out / "sites.xlsx").sheetnames[0] == "推荐清单"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["report"]["language"] == "zh"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    scenario = hostile_scenario(folder / "scenario")
    out = folder / "out"
    result = run("solve", scenario, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_hostile_strings_are_escaped_in_the_report(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    page = parse(hostile_run / "report.html")
    assert_self_contained(page)
    # only the report's own sort script; no element a scenario string tried to inject
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert not {"img", "b", "i"} & {tag for tag, _ in page.tags}
    for raw in ("<script>alert", "<img src=x", "<b>bold", "<i>kids", "</title><script>"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # every string shows as text, exactly as written
    for value in [*HOSTILE.values(), "s0<&>\"'", "<img src=x onerror=alert(2)>", "<i>kids</i>",
                  "</title><script>alert(3)</script> 测试"]:
        assert value in page.text, value[:40]
    assert len(page.list_rows) == len(HOSTILE)
    assert page.list_rows[0][0] == "s0<&>\"'"
    # right-to-left names sit in isolated runs, so they cannot reorder the rest of a row
    assert f"<bdi>{HOSTILE['rtl']}</bdi>" in html


def test_hostile_strings_stay_text_in_the_workbook(hostile_run):
    from openpyxl import load_workbook

    ws = load_workbook(hostile_run / "sites.xlsx")["sites"]
    names = {ws.cell(row=r, column=2).value: ws.cell(row=r, column=2).data_type for r in range(2, ws.max_row + 1)}
    assert set(names) == set(HOSTILE.values())
    assert set(names.values()) == {"s"}  # the formula-looking name is a string, not a formula
    assert ws.cell(row=2, column=1).value == "s0<&>\"'"


@pytest.fixture(scope="module")
def yuzhong():
    scenario = load_scenario(REPO / "scenarios" / "yuzhong_hillside" / "scenario.yaml")
    problem = build_problem(scenario)
    solution = solve_problem(problem)
    return scenario, problem, solution


def test_report_for_4000_points_renders_well_under_a_second(yuzhong):
    scenario, problem, solution = yuzhong
    assert problem.n_points == 4000
    expl = explain_sites(problem, solution.site, solution.type, solution.evaluation)
    facts = plan_facts(problem, solution.site, solution.type, evaluation=solution.evaluation)
    info = {"solver": "highs", "status": "optimal", "objective": solution.objective, "bound": solution.bound,
            "gap": solution.gap, "spent": solution.spent_cny, "budget": problem.budget_cny}
    timings = []
    for lang in ("zh", "en"):
        t0 = time.perf_counter()
        html = render_report(scenario, problem, expl, facts, solution.evaluation.covered, info, lang)
        timings.append(time.perf_counter() - t0)
    assert max(timings) < 1.0, timings
    page = Page()
    page.feed(html)
    demand_dots = sum(1 for tag, a in page.tags if tag == "circle" and "r" in a and "stroke" not in a and "cx" in a)
    assert demand_dots >= int((problem.people.sum(axis=1) > 0).sum())
    assert len(page.list_rows) == solution.site.size
