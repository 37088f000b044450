"""summary.json against its JSON schema (tests/outputs/summary.schema.json) and the typed loader.

Every kind of summary lifecircle writes (an optimal solve with its report, a precheck-infeasible
and a solver-infeasible run, a run with no plan in time, a walking-network run, a phased plan)
validates against the schema, reads back through ``RunSummary.from_json`` and writes back the same
object (``to_json(from_json(x)) == x``); tampered ones are refused by both.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.outputs.results import RunSummary, read_run_summary

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((Path(__file__).parent / "summary.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _errors(data) -> list:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def _check(folder: Path) -> dict:
    """The folder's summary.json: valid by the schema, read by the loader, written back unchanged."""
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert not _errors(data), _errors(data)
    loaded = read_run_summary(folder)
    assert loaded.to_json() == data
    assert RunSummary.from_json(loaded.to_json(), loaded.path) == loaded
    return data


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """{kind: result folder} of every kind of run, solved once for the tests of this module."""
    from support.scenarios import write_scenario

    base = tmp_path_factory.mktemp("runs")
    out = {}
    scenario = write_scenario(base / "tiny")
    assert run("solve", scenario, "--out", base / "optimal").exit_code == 0
    out["optimal"] = base / "optimal"

    must = write_scenario(base / "must")
    must.write_text(must.read_text(encoding="utf-8")
                    + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n", encoding="utf-8")
    assert run("solve", must, "--out", base / "precheck").exit_code == 3
    out["precheck_infeasible"] = base / "precheck"

    tight = write_scenario(base / "tight")
    tight.write_text(tight.read_text(encoding="utf-8").replace("budget: 1000", "budget: 750")
                     + "rules:\n  min_open: {elder_child: 1, canteen: 1}\n", encoding="utf-8")
    assert run("solve", tight, "--out", base / "solver").exit_code == 3
    out["solver_infeasible"] = base / "solver"

    assert run("plan", scenario, "--years", 2, "--budget-per-year", 500, "--compare",
               "--out", base / "plan").exit_code == 0
    out["plan"] = base / "plan"
    return out


@pytest.mark.parametrize("kind", ["optimal", "precheck_infeasible", "solver_infeasible", "plan"])
def test_every_summary_solve_writes_meets_the_schema(runs, kind):
    data = _check(runs[kind])
    assert data["status"] == ("optimal" if kind in ("optimal", "plan") else "infeasible")
    if kind == "optimal":
        assert data["report"]["files"] == ["report.html", "sites.xlsx"]
    if kind == "plan":
        assert [y["year"] for y in data["years"]] == [1, 2] and "year_by_year" in data


def test_a_run_with_no_plan_in_time_meets_the_schema(tmp_path):
    """The status HiGHS gives when the clock runs out before a plan: written by the same writer."""
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.run import Solved, write_solved
    from lifecircle.optimizer.solve.backends import Status
    from support.scenarios import write_scenario

    scenario = load_scenario(write_scenario(tmp_path / "s"))
    solved = Solved(scenario, build_problem(scenario), None, Status.NO_SOLUTION,
                    "no plan found within the time limit", "highs", None,
                    {"load": 0.1, "coverage": 0.1, "build": 0.0, "solve": 1.0})
    write_solved(tmp_path / "out", solved)
    data = _check(tmp_path / "out")
    assert (data["status"], data["objective"], data["selected"]) == ("no_solution", None, [])


def test_a_walking_network_run_meets_the_schema(tmp_path):
    from support.network import write_hand_scenario

    scenario = write_hand_scenario(tmp_path / "net")
    result = run("solve", scenario, "--out", tmp_path / "out", "--no-report", "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    data = _check(tmp_path / "out")
    assert data["network"]["cache"] == "miss" and data["network"]["nodes"] > 0


def _tamper(data: dict, path: str, value) -> dict:
    out = copy.deepcopy(data)
    *keys, last = path.split(".")
    target = out
    for key in keys:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return out


@pytest.mark.parametrize("path, value", [
    ("status", "done"), ("objective", "69"), ("selected.0.cost", None), ("selected.0.site_id", 7),
    ("coverage.elderly.population", "thirty"), ("coverage.elderly", [30, 7, 30]), ("status", KeyError),
    ("selected", KeyError), ("timings_s.total", "fast"), ("report.files", "report.html"),
    ("reach_m.canteen/elderly", True), ("equity", []),
])
def test_a_tampered_summary_fails_the_schema_and_the_loader(runs, tmp_path, path, value):
    data = json.loads((runs["optimal"] / "summary.json").read_text(encoding="utf-8"))
    bad = _tamper(data, path, value)
    assert _errors(bad)
    with pytest.raises(ScenarioError, match=r"summary\.json"):
        RunSummary.from_json(bad, tmp_path / "summary.json")


@pytest.mark.parametrize("path, value", [("solver_version", "1.0"), ("spent", -5.0), ("scenario_checksum", "x"),
                                         ("min_open.canteen", 0.5), ("status", "infeasible")])
def test_the_schema_is_stricter_than_the_loader(runs, path, value):
    """Keys nobody reads are the schema's alone: an unknown key, a negative spend, a short checksum,
    a fractional count, a plan under a status without one."""
    data = json.loads((runs["optimal"] / "summary.json").read_text(encoding="utf-8"))
    assert _errors(_tamper(data, path, value))
