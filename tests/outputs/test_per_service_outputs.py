"""Per-service figures everywhere coverage appears (issue 14): summary.json, sites.csv, the report,
``explain``, the sweep curve and the city table, on the canteen-gap case worked by hand in
tests/solve/test_per_service.py (per_service optimum 40: the canteen S1; at 700 CNY both sites, 45).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.outputs.results import read_run_summary
from lifecircle.optimizer.planning.city import run_city
from solve.test_per_service import hand_scenario

SERVICES = ["elderly·station", "elderly·canteen", "children·station"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def read_csv(path):
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    root = tmp_path_factory.mktemp("per_service")
    out = root / "out"
    result = run("solve", hand_scenario(root / "per", "per_service"), "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_summary_has_services_and_group_figures(solved):
    s = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert s["objective"] == 40.0 and s["coverage_mode"] == "per_service"
    # coverage stays per group of the YAML: reached by at least one of its services (D1's elderly by
    # the station before), as under any_service
    assert s["coverage"] == {"elderly": {"population": 10.0, "covered_before": 10.0, "covered_after": 10.0},
                             "children": {"population": 5.0, "covered_before": 0.0, "covered_after": 0.0}}
    assert list(s["services"]) == SERVICES
    assert s["services"]["elderly·canteen"] == {
        "group": "elderly", "facility_type": "canteen", "weight": 2.0, "group_weight": 2.0, "type_weight": 1.0,
        "population": 10.0, "covered_before": 0.0, "covered_after": 10.0, "weighted_before": 0.0, "weighted_after": 20.0}
    assert s["services"]["elderly·station"]["weighted_before"] == 20.0
    assert s["services"]["children·station"]["covered_after"] == 0.0
    # the weighted service figures add up to the objective
    assert sum(v["weighted_after"] for v in s["services"].values()) == s["objective"]
    assert s["equity"]["groups"]["elderly·canteen"] == {"people": 10.0, "share_before": 0.0, "share_after": 1.0}


def test_summary_follows_the_schema(solved):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "summary.schema.json").read_text(encoding="utf-8"))
    data = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert not [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    assert read_run_summary(solved).to_json() == data


def test_any_service_summary_says_its_mode(tmp_path):
    out = tmp_path / "out"
    assert run("solve", hand_scenario(tmp_path / "any", "any_service"), "--out", out).exit_code == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["coverage_mode"] == "any_service" and "services" not in s and list(s["coverage"]) == ["elderly", "children"]
    assert s["objective"] == 25.0


def test_sites_csv_and_explain_per_service(solved):
    rows = read_csv(solved / "sites.csv")
    assert [r["site_id"] for r in rows] == ["S1"]
    assert [float(rows[0][f"unique_{s}"]) for s in SERVICES] == [0.0, 10.0, 0.0]
    assert [float(rows[0][f"newly_{s}"]) for s in SERVICES] == [0.0, 10.0, 0.0]
    en = run("explain", solved, "S1")
    assert en.exit_code == 0, en.output
    assert ("unique contribution (lost if only this site is dropped): elderly · 老幼共托服务站 (station) 0, "
            "elderly · 社区食堂 (canteen) 10, children · 老幼共托服务站 (station) 0 (weighted 20.0)") in en.output
    zh = run("explain", solved, "S1", "--lang", "zh")
    assert "独有贡献（仅去掉此场地会失去覆盖）：老年人 · 老幼共托服务站 0, 老年人 · 社区食堂 10, 儿童 · 老幼共托服务站 0（加权 20.0）" \
        in zh.output
    assert "plan coverage 25.0 instead of 40.0" in en.output  # the station instead: 20 + 5


def test_report_names_services(solved):
    html = (solved / "report.html").read_text(encoding="utf-8")
    assert "elderly · 社区食堂 (canteen)" in html and "children · 老幼共托服务站 (station)" in html


def test_sweep_curve_has_a_column_per_service(tmp_path):
    path = hand_scenario(tmp_path / "per", "per_service")
    result = run("sweep", path, "--budgets", "0,300,500,700", "--out", tmp_path / "sweep")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "sweep" / "curve.csv")
    assert list(rows[0])[:7] == ["budget", "objective", "covered_elderly", "covered_children",
                                 *(f"covered_{s}" for s in SERVICES)]
    # per group: D1's elderly are reached by the station before any budget; D2's children at 700
    assert [float(r["covered_elderly"]) for r in rows] == [10.0, 10.0, 10.0, 10.0]
    assert [float(r["covered_children"]) for r in rows] == [0.0, 0.0, 0.0, 5.0]
    # 0: the station before (20); 300 and 500: the canteen (40); 700: both sites (40 + 5)
    assert [float(r["objective"]) for r in rows] == [20.0, 40.0, 40.0, 45.0]
    assert [float(r["covered_elderly·canteen"]) for r in rows] == [0.0, 10.0, 10.0, 10.0]
    assert [float(r["covered_children·station"]) for r in rows] == [0.0, 0.0, 0.0, 5.0]


def test_city_table_has_columns_per_service(tmp_path):
    city = tmp_path / "city"
    hand_scenario(city / "per", "per_service")
    hand_scenario(city / "any", "any_service")
    run_city(city, out_dir=tmp_path / "out", workers=1, processes=False, progress=False)
    rows = {r["circle_id"]: r for r in read_csv(tmp_path / "out" / "city.csv")}
    assert float(rows["per"]["objective"]) == 40.0 and float(rows["any"]["objective"]) == 25.0
    assert float(rows["per"]["before_elderly·canteen"]) == 0.0 and float(rows["per"]["after_elderly·canteen"]) == 10.0
    assert float(rows["per"]["after_elderly·station"]) == 10.0
    assert float(rows["per"]["before_elderly"]) == 10.0 and float(rows["per"]["after_children"]) == 0.0
    # the any_service circle fills its own group columns and leaves the service columns blank
    assert float(rows["any"]["after_children"]) == 5.0 and rows["any"]["after_elderly·canteen"] == ""


def test_phased_plan_keeps_the_services_block(tmp_path):
    """Two years of 300 CNY: the canteen S1 (300) opens in year 1 and serves elderly·canteen 10 in
    both years; the station S2 (400) never fits. The plan's summary.json keeps the services block."""
    out = tmp_path / "plan"
    result = run("plan", hand_scenario(tmp_path / "per", "per_service"), "--years", "2", "--budget-per-year", "300",
                 "--out", out)
    assert result.exit_code == 0, result.output
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["coverage_mode"] == "per_service" and "horizon_years" in s
    assert s["services"]["elderly·canteen"]["covered_after"] == 10.0
    assert [y["covered"]["elderly·canteen"] for y in s["years"]] == [10.0, 10.0]
