"""`lifecircle compare`, and the must-show run on a bundled scenario: solve writes report.html and
sites.xlsx, then explain and compare work on the result folders."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import REPO
from lifecircle.optimizer.outputs.compare import compare_results


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_compare_tiny_budgets(tiny_scenario, tmp_path):
    # 1,000 buys S1 canteen + S3 elder_child (69); 500 buys S1 canteen + S3 canteen (60)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("solve", tiny_scenario, "--out", a).exit_code == 0
    assert run("solve", tiny_scenario, "--out", b, "--budget", 500).exit_code == 0
    diff = compare_results(a, b)
    assert diff["sites_added"] == [] and diff["sites_removed"] == []
    assert diff["sites_retyped"] == [{"site_id": "S3", "name": "边角地", "type_a": "elder_child", "type_b": "canteen",
                                      "cost_a": 500.0, "cost_b": 200.0}]
    assert diff["sites_kept"] == 1 and diff["same_scenario_file"]
    assert diff["objective"] == {"a": 69.0, "b": 60.0, "change": -9.0}
    assert diff["spent"] == {"a": 800.0, "b": 500.0, "change": -300.0}
    assert diff["budget"]["change"] == -500.0
    assert diff["coverage"]["elderly"]["change"] == 0.0 and diff["coverage"]["children"]["change"] == -9.0

    result = run("compare", a, b)
    assert result.exit_code == 0, result.output
    for line in ("weighted coverage: 69.0 → 60.0 (-9.0)", "spent: 800 → 500 (-300); budget: 1,000 → 500",
                 "S3 边角地: 老幼共托服务站 (elder_child) → 社区食堂 (canteen)", "children: 9 → 0 (-9)"):
        assert line in result.output
    written = tmp_path / "compare_a_vs_b.json"
    assert f"written: {written}" in result.output
    data = json.loads(written.read_text(encoding="utf-8"))
    assert data["objective"]["change"] == -9.0 and data["text_language"] == "en"

    zh = run("compare", b, a, "--lang", "zh", "--out", tmp_path / "zh.json")
    assert zh.exit_code == 0
    assert "加权覆盖：60.0 → 69.0（+9.0）" in zh.output and "儿童：0 → 9（+9）" in zh.output
    assert json.loads((tmp_path / "zh.json").read_text(encoding="utf-8"))["text_language"] == "zh"


def test_compare_sites_added_and_removed(tiny_scenario, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run("solve", tiny_scenario, "--out", a, "--budget", 300)  # S1 canteen alone: 42
    run("solve", tiny_scenario, "--out", b, "--budget", 5000)  # S1 canteen, S2 and S3 elder_child: 94
    diff = compare_results(a, b)
    assert [s["site_id"] for s in diff["sites_added"]] == ["S2", "S3"] and diff["sites_removed"] == []
    back = compare_results(b, a)
    assert [s["site_id"] for s in back["sites_removed"]] == ["S2", "S3"]


def test_compare_refuses_bad_folders(tiny_scenario, tmp_path):
    run("solve", tiny_scenario, "--out", tmp_path / "a")
    assert run("compare", tmp_path / "a", tmp_path / "a").exit_code == 2
    missing = run("compare", tmp_path / "a", tmp_path / "nope")
    assert missing.exit_code == 2 and "no summary.json" in missing.output


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundled")
    scenario = REPO / "scenarios" / "bishan_rural" / "scenario.yaml"
    full, half = folder / "full", folder / "half"
    r1 = run("solve", scenario, "--out", full)
    r2 = run("solve", scenario, "--out", half, "--budget", 4_000_000)
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    return full, half


def test_bundled_solve_writes_report_and_workbook(bundled):
    from openpyxl import load_workbook

    full, _ = bundled
    summary = json.loads((full / "summary.json").read_text(encoding="utf-8"))
    assert summary["report"]["language"] == "zh"  # the scenario's own language
    assert summary["timings_s"]["total"] < 10.0
    html = (full / "report.html").read_text(encoding="utf-8")
    assert '<svg id="map"' in html and 'id="site-list"' in html
    assert html.count("<tr>") > len(summary["selected"])
    rows = list(load_workbook(full / "sites.xlsx")["推荐清单"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [s["site_id"] for s in summary["selected"]]


def test_bundled_explain_and_compare(bundled):
    full, half = bundled
    summary = json.loads((half / "summary.json").read_text(encoding="utf-8"))
    chosen = summary["selected"][0]["site_id"]
    site = run("explain", half, chosen)
    assert site.exit_code == 0, site.output
    assert site.output.startswith(f"场地 {chosen} ") and "独有贡献" in site.output and "边际收益排序" in site.output
    english = run("explain", half, chosen, "--lang", "en")
    assert "unique contribution" in english.output and "marginal-gain rank" in english.output
    ids = [line.split(",")[0] for line in (REPO / "scenarios" / "bishan_rural" / "sites.csv").read_text(
        encoding="utf-8").splitlines()[1:]]
    other = next(s for s in ids if s not in {x["site_id"] for x in summary["selected"]})
    why = run("explain", half, "--why-not", other, "--lang", "en")
    assert why.exit_code == 0, why.output
    assert f"Why site {other}" in why.output and ("Re-solve with it forced in" in why.output
                                                  or "rules.forbid" in why.output or "no cost" in why.output)
    plan = run("explain", half, "--lang", "en")
    assert plan.exit_code == 0 and "Which rules bind" in plan.output and "What the next 10% of budget buys" in plan.output

    cmp = run("compare", full, half)
    assert cmp.exit_code == 0, cmp.output
    a = json.loads((full / "summary.json").read_text(encoding="utf-8"))
    assert f"{a['spent']:,.0f} → {summary['spent']:,.0f}" in cmp.output
    assert (full.parent / "compare_full_vs_half.json").is_file()
