"""The Python API (``lifecircle.load_scenario``, ``lifecircle.solve``): the README's example runs,
and what it returns and writes is what ``lifecircle solve`` prints and writes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import REPO

BISHAN = "scenarios/bishan_rural/scenario.yaml"


def readme_example() -> str:
    """The first python block of the README's "Python API (notebooks)" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API (notebooks)\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _summary(folder) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _without_timings(data):
    """summary.json less what depends on the clock: every ``timings_s`` and ``phases_s``."""
    if isinstance(data, dict):
        return {k: _without_timings(v) for k, v in data.items() if k not in ("timings_s", "phases_s")}
    if isinstance(data, list):
        return [_without_timings(v) for v in data]
    return data


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The README block run in a folder whose ``scenarios`` is the repository's, beside the CLI's
    solve of the same scenario and budget: (namespace, printed text, API folder, CLI folder)."""
    work = tmp_path_factory.mktemp("readme")
    (work / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        namespace, printed = {}, io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(readme_example(), "README.md", "exec"), namespace)
        cli = CliRunner().invoke(main, ["solve", BISHAN, "--budget", "3000000", "--time-limit", "60",
                                        "--out", str(work / "cli")])
        assert cli.exit_code == 0, cli.output
    return namespace, printed.getvalue(), work / "results" / "bishan_api", work / "cli"


def test_the_readme_example_solves_as_the_cli_does(example):
    namespace, printed, _, cli = example
    result, summary = namespace["result"], _summary(cli)
    assert result.summary.status == summary["status"] == "optimal"
    assert result.summary.objective == summary["objective"]
    assert result.objective == summary["objective"] and result.status == "optimal"
    assert f"optimal {summary['objective']}" in printed
    assert [(s.site_id, s.facility_type, s.cost_cny) for s in result.summary.selected] == \
        [(s["site_id"], s["facility_type"], s["cost"]) for s in summary["selected"]]
    assert result.solution is not None and result.solution.objective == summary["objective"]


def test_sites_are_sites_csv_as_a_geodataframe(example):
    namespace, _, _, cli = example
    sites, scenario = namespace["sites"], namespace["scenario"]
    with open(cli / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(sites["site_id"]) == [r["site_id"] for r in rows]
    assert [c for c in sites.columns if c != "geometry"] == list(rows[0])
    assert list(sites["cost"]) == [float(r["cost"]) for r in rows]
    assert sites.crs.to_epsg() == int(scenario.crs.split(":")[1])
    assert list(sites.geometry.x) == [float(r["x"]) for r in rows]


def test_coverage_is_the_summary_per_group(example):
    namespace, _, _, cli = example
    coverage, summary = namespace["result"].coverage, _summary(cli)
    assert list(coverage.index) == list(summary["coverage"])
    assert list(coverage.columns) == ["population", "covered_before", "covered_after"]
    for group, c in summary["coverage"].items():
        assert coverage.loc[group].to_dict() == c


def test_write_writes_the_cli_folder(example):
    _, _, api, cli = example
    assert sorted(p.name for p in api.iterdir()) == sorted(p.name for p in cli.iterdir())
    for name in ("sites.csv", "sites.geojson"):
        assert (api / name).read_bytes() == (cli / name).read_bytes(), name
    assert _without_timings(_summary(api)) == _without_timings(_summary(cli))
    marker = json.loads((api / ".lifecircle.json").read_text(encoding="utf-8"))
    assert sorted(marker["files"]) == ["plan.gpkg", "report.html", "sites.csv", "sites.geojson", "sites.xlsx", "summary.json"]
    assert _summary(api)["report"]["files"] == ["report.html", "sites.xlsx"]  # report.html holds timings too


def test_write_refuses_a_folder_lifecircle_did_not_write(example, tmp_path):
    from lifecircle.optimizer.errors import ScenarioError

    (tmp_path / "mine.txt").write_text("a user's file", encoding="utf-8")
    with pytest.raises(ScenarioError, match="lifecircle did not write"):
        example[0]["result"].write(tmp_path, report=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_an_infeasible_solve_is_a_result_not_an_error(tiny_scenario, tmp_path):
    import lifecircle

    text = tiny_scenario.read_text(encoding="utf-8") + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n"
    tiny_scenario.write_text(text, encoding="utf-8")
    result = lifecircle.solve(tiny_scenario)
    assert (result.status, result.objective, result.solution) == ("infeasible", None, None)
    assert result.summary.reason == "must_open sites cost 1,100 > budget 1,000"
    assert result.sites.empty and "site_id" in result.sites.columns
    assert result.coverage["covered_after"].isna().all()
    result.write(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lifecircle.json", "summary.json"]


def test_budget_and_options_are_checked_as_the_cli_checks_them(tiny_scenario):
    import lifecircle
    from lifecircle.optimizer.errors import ScenarioError

    scenario = lifecircle.load_scenario(tiny_scenario)
    assert lifecircle.solve(scenario, budget=500).summary.budget_cny == 500.0
    with pytest.raises(ScenarioError, match="--budget"):
        lifecircle.solve(scenario, budget=-1)
    with pytest.raises(ScenarioError, match="gap"):
        lifecircle.solve(scenario, gap=1.5)
    with pytest.raises(ScenarioError, match="time_limit"):
        lifecircle.solve(scenario, time_limit=0)


def test_the_api_loads_on_first_use():
    """`import lifecircle` (every CLI run's first step) does not load the API and its imports."""
    code = ("import sys, lifecircle; before = 'lifecircle.optimizer.api' in sys.modules; lifecircle.solve; "
            "print(before, 'lifecircle.optimizer.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
