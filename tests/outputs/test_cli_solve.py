"""`lifecircle solve`, `validate` and `solvers` end to end: files written, keys, exit codes."""

from __future__ import annotations

import csv
import json
import os

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import REPO

SUMMARY_KEYS = {"scenario", "solver", "status", "objective", "bound", "gap", "budget", "spent",
                "coverage", "selected", "timings_s"}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_solve_writes_the_three_files(tiny_scenario, tmp_path):
    out = tmp_path / "out"
    result = run("solve", tiny_scenario, "--out", out)
    assert result.exit_code == 0, result.output
    # report.html and sites.xlsx: issue 5 (tests/outputs/test_report.py)
    assert sorted(p.name for p in out.iterdir()) == [".lifecircle.json", "plan.gpkg", "report.html", "sites.csv",
                                                     "sites.geojson", "sites.xlsx", "summary.json"]

    raw = (out / "sites.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0])[:7] == ["site_id", "name", "kind", "facility_type", "cost", "unique_elderly", "unique_children"]
    assert [(r["site_id"], r["name"], r["facility_type"], float(r["cost"])) for r in rows] == [
        ("S1", "桥下空间一号", "canteen", 300.0), ("S3", "边角地", "elder_child", 500.0)]
    assert [float(rows[0]["unique_elderly"]), float(rows[1]["unique_children"])] == [14.0, 9.0]

    geo = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))
    assert geo["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4545"
    assert [f["geometry"]["coordinates"] for f in geo["features"]] == [[500000.0, 3300000.0], [502000.0, 3300000.0]]

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert SUMMARY_KEYS <= set(summary)
    assert summary["scenario"] == "测试社区 test circle"
    assert (summary["status"], summary["solver"], summary["objective"], summary["gap"]) == ("optimal", "highs", 69.0, 0.0)
    assert (summary["budget"], summary["spent"]) == (1000.0, 800.0)
    assert summary["coverage"]["elderly"] == {"population": 30.0, "covered_before": 7.0, "covered_after": 30.0}
    assert summary["coverage"]["children"] == {"population": 34.0, "covered_before": 0.0, "covered_after": 9.0}
    assert summary["selected"] == [{"site_id": "S1", "facility_type": "canteen", "cost": 300.0},
                                   {"site_id": "S3", "facility_type": "elder_child", "cost": 500.0}]
    assert set(summary["timings_s"]) == {"load", "coverage", "build", "solve", "write", "total"}


def test_geojson_opens_with_gdal_in_the_scenario_crs(tiny_scenario, tmp_path):
    import geopandas as gpd

    run("solve", tiny_scenario, "--out", tmp_path / "out")
    frame = gpd.read_file(tmp_path / "out" / "sites.geojson")
    assert frame.crs.to_epsg() == 4545
    assert frame["site_id"].tolist() == ["S1", "S3"]
    assert frame.geometry.x.tolist() == [500000.0, 502000.0]


def test_budget_option_and_every_solver_agree(tiny_scenario, tmp_path):
    for solver in ("highs", "pulp-cbc", "ortools-cpsat", "ortools-scip"):
        result = run("solve", tiny_scenario, "--budget", 500, "--solver", solver, "--out", tmp_path / solver)
        assert result.exit_code == 0, result.output
        summary = json.loads((tmp_path / solver / "summary.json").read_text(encoding="utf-8"))
        assert (summary["objective"], summary["budget"], summary["status"]) == (60.0, 500.0, "optimal")


def test_greedy_says_feasible_without_a_bound(tiny_scenario, tmp_path):
    result = run("solve", tiny_scenario, "--solver", "greedy", "--out", tmp_path / "g")
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "g" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "feasible" and summary["bound"] is None and summary["objective"] <= 69.0


def test_infeasible_exit_3_writes_summary_only(tiny_scenario, tmp_path):
    text = tiny_scenario.read_text(encoding="utf-8") + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n"
    tiny_scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run("solve", tiny_scenario, "--out", out)
    assert result.exit_code == 3
    assert "reason: must_open sites cost 1,100 > budget 1,000" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".lifecircle.json", "summary.json"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["status"], summary["reason"], summary["selected"]) == (
        "infeasible", "must_open sites cost 1,100 > budget 1,000", [])
    # the precheck stops before any backend runs; the summary still names the one asked for
    assert summary["solver"] == "highs"
    assert "infeasible with highs" in result.output


def test_solver_infeasible_exit_3(tiny_scenario, tmp_path):
    text = tiny_scenario.read_text(encoding="utf-8").replace("budget: 1000", "budget: 750")
    tiny_scenario.write_text(text + "rules:\n  min_open: {elder_child: 1, canteen: 1}\n", encoding="utf-8")
    result = run("solve", tiny_scenario, "--out", tmp_path / "out")
    assert result.exit_code == 3
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible"
    assert summary["reason"] == "the solver proved that no plan meets budget, must_open and min_open together"


def test_no_solution_in_time_exit_4(tmp_path):
    from lifecircle.optimizer.generate.district import generate_district

    scenario = generate_district(tmp_path / "big", profile="hillside", n_demand=20000, n_sites=1500, seed=3)
    out = tmp_path / "out"
    result = run("solve", scenario, "--time-limit", 1e-9, "--out", out, "--budget", 2e7)
    assert result.exit_code in (0, 4)  # HiGHS may find a plan before it first checks the clock
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    if result.exit_code == 4:
        assert summary["status"] == "no_solution"
        assert sorted(p.name for p in out.iterdir()) == [".lifecircle.json", "summary.json"]
    else:
        assert summary["status"] == "feasible" and summary["gap"] > 0


def test_rerun_replaces_the_folder_whole(tiny_scenario, tmp_path):
    out = tmp_path / "out"
    run("solve", tiny_scenario, "--out", out)
    (out / "sites.xlsx").unlink()  # a file lifecircle wrote and the marker lists: not missed
    run("solve", tiny_scenario, "--budget", 500, "--no-report", "--out", out)
    assert not (out / "report.html").exists()
    # issue 12: a file lifecircle did not write is never replaced (tests/outputs/test_hostile_output.py)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["budget"] == 500.0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folders left


def test_default_out_is_results_named_after_the_scenario(tiny_scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("solve", tiny_scenario)
    assert result.exit_code == 0
    assert (tmp_path / "results" / "tiny" / "summary.json").is_file()
    assert "outputs: results/tiny" in result.output


def test_validate_prints_counts(tiny_scenario):
    result = run("validate", tiny_scenario)
    assert result.exit_code == 0
    assert "4 demand points, 3 sites, 1 existing facilities" in result.output
    assert "people elderly: 30" in result.output
    assert "candidate cost elder_child: 1,100" in result.output


def test_solvers_lists_every_backend():
    result = run("solvers")
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == ["highs", "pulp-cbc", "ortools-cpsat", "ortools-scip", "greedy", "local"]
    assert all("available" in line for line in result.output.splitlines())


@pytest.mark.parametrize("folder", ["yuzhong_hillside", "liangjiang_newtown", "bishan_rural"])
def test_bundled_scenarios_solve_to_optimal(folder, tmp_path):
    result = run("solve", REPO / "scenarios" / folder / "scenario.yaml", "--out", tmp_path / folder)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["gap"] == 0.0
    assert summary["spent"] <= summary["budget"]
    assert summary["coverage"]["elderly"]["covered_after"] >= summary["coverage"]["elderly"]["covered_before"]
