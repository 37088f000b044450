"""`lifecircle sweep`: budget curves against independent solves, the knee, files and bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from support.bruteforce import brute_force, random_problem
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.generate.district import generate_district
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem
from lifecircle.optimizer.planning.curve import budget_knee, parse_budgets
from lifecircle.optimizer.planning.sweep import objective_unit, sweep_problem

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# issue 14: the district is per_service (generate's default): its largest plan costs 21.3 M, so
# 3e7 is a saturated point between 2e7 and 4e7 that needs no solve (any_service saturated by 2e7)
BUDGETS = np.array([0.0, 5e5, 1e6, 2e6, 3e6, 4.5e6, 7e6, 1e7, 2e7, 3e7, 4e7])


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """A small rural district: the curve rises, then saturates inside the budget range."""
    path = generate_district(tmp_path_factory.mktemp("d"), profile="rural", n_demand=400, n_sites=24,
                             seed=11)
    return path, build_problem(load_scenario(path))


@pytest.mark.parametrize("solver", ["highs", "ortools-cpsat"])
def test_curve_never_decreases_and_equals_independent_solves(district, solver):
    _, problem = district
    result = sweep_problem(problem, BUDGETS, solver)
    objectives = result.objectives
    assert [p.budget_cny for p in result.points] == BUDGETS.tolist()
    # min_open (rural recipe: one elder_child) does not fit budget 0: recorded, the sweep goes on
    assert str(result.points[0].status) == "infeasible" and "min_open" in result.points[0].reason
    assert all(str(p.status) == "optimal" for p in result.points[1:])
    assert np.all(np.diff(objectives[1:]) >= -1e-9)
    assert objectives[-1] > objectives[1]  # the curve is not flat
    # saturation: the largest budget's plan fits smaller ones, so some points need no solve
    assert any(p.solve_s == 0.0 for p in result.points[1:-1])
    for n in (2, 5, 8):  # a steep point, a middle one, one in the saturated part
        independent = solve_problem(problem.with_budget(BUDGETS[n]), "highs")
        assert objectives[n] == pytest.approx(independent.objective, abs=1e-6), BUDGETS[n]
    for p in result.points[1:]:
        assert p.spent_cny <= p.budget_cny + 1e-6 and p.covered_after is not None


def test_greedy_sweep_is_monotone_too(district):
    _, problem = district
    result = sweep_problem(problem, BUDGETS[1:], "greedy")
    assert all(str(p.status) == "feasible" for p in result.points)
    assert np.all(np.diff(result.objectives) >= -1e-9)


def test_time_limited_sweep_keeps_the_curve_monotone(district):
    _, problem = district
    result = sweep_problem(problem, BUDGETS[1:], "highs", SolveOptions(time_limit_s=1e-6))
    values = result.objectives[np.isfinite(result.objectives)]
    assert np.all(np.diff(values) >= -1e-9)


def test_parse_budgets():
    assert parse_budgets("1e6:2e7:20").tolist() == np.linspace(1e6, 2e7, 20).tolist()
    assert parse_budgets("3e6, 1e6,2e6").tolist() == [1e6, 2e6, 3e6]
    assert parse_budgets("0:10:2").tolist() == [0.0, 10.0]


def test_knee_by_hand():
    budgets = [1, 2, 3, 4, 5]
    # slopes (log-log): 1->2 rises 50 % on +100 % (0.58), 2->3 rises 6.7 % on +50 % (0.16),
    # 3->4 rises 0.6 % on +33 % (0.02), 4->5 flat; the threshold is ln 1.01 / ln 1.1 = 0.104.
    assert budget_knee(budgets, [100, 150, 160, 161, 161]) == 3
    assert budget_knee(budgets, [100, 100.1, 100.2, 100.3, 100.4]) == 1
    assert budget_knee(budgets, [100, 101, 102, 103, 150]) is None  # still steep at the end
    assert budget_knee([0, 1, 2], [0, 10, 10]) == 1  # zero budget or coverage are skipped


def test_objective_unit():
    assert objective_unit(np.array([1.0, 2.5, 0.0, 7.0])) == 0.5
    assert objective_unit(np.array([3.0, 6.0])) == 3.0
    assert objective_unit(np.array([1 / 3])) is None


def test_cli_writes_curve_plans_and_png(district, tmp_path):
    path, _ = district
    out = tmp_path / "sweep"
    result = run("sweep", path, "--budgets", "5e5:1e7:5", "--out", out)
    assert result.exit_code == 0, result.output
    assert "knee" in result.output
    rows = list(csv.DictReader((out / "curve.csv").read_text(encoding="utf-8-sig").splitlines()))
    # issue 14: per_service adds a column per service after the group columns
    assert list(rows[0]) == ["budget", "objective", "covered_elderly", "covered_infants", "covered_children",
                             "covered_elderly·elder_child", "covered_elderly·canteen", "covered_infants·elder_child",
                             "covered_children·elder_child", "spent", "status", "gap", "solve_s", "sites"]
    assert [float(r["budget"]) for r in rows] == np.linspace(5e5, 1e7, 5).tolist()
    assert all(r["status"] == "optimal" and float(r["spent"]) <= float(r["budget"]) for r in rows)
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plans = list(csv.DictReader((out / "plans.csv").read_text(encoding="utf-8-sig").splitlines()))
    for r in rows:
        at = [p for p in plans if float(p["budget"]) == float(r["budget"])]
        assert len(at) == int(r["sites"]) and sum(float(p["cost"]) for p in at) == pytest.approx(float(r["spent"]))
    meta = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert meta["budgets"] == np.linspace(5e5, 1e7, 5).tolist() and "scenario_checksum" in meta


@pytest.mark.parametrize("budgets, words", [
    ("2e7:1e6:20", "starts above its end"),
    ("1e6:2e7:1", "asks for 1 points"),
    ("5e6:5e6:3", "start equal to end"),
    ("1e6", "fewer than 2 distinct budgets"),
    ("1e6,1e6", "fewer than 2 distinct budgets"),
    ("1e6,abc", "'abc' is not a number"),
    ("-5:10:3", "negative"),
    ("1e6:2e7:2.5", "asks for 2.5 points"),
])
def test_bad_budgets_one_line_exit_2(tiny_scenario, tmp_path, budgets, words):
    result = run("sweep", tiny_scenario, "--budgets", budgets, "--out", tmp_path / "s")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --budgets:") and words in lines[0], lines
    assert not (tmp_path / "s").exists()


def test_capacitated_scenario_sweeps_budget_by_budget(tmp_path):
    """The service model (issue 7) has its own model; the sweep solves it budget by budget."""
    from support.scenarios import SCENARIO_YAML, write_scenario

    text = SCENARIO_YAML.replace("canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}",
                                 "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10, capacity: {elderly: 8}}")
    problem = build_problem(load_scenario(write_scenario(tmp_path / "cap", yaml_text=text)))
    assert problem.has_service
    budgets = [300.0, 500.0, 800.0, 1000.0]
    result = sweep_problem(problem, budgets)
    assert np.all(np.diff(result.objectives) >= -1e-9)
    for budget, point in zip(budgets, result.points):
        assert point.objective == pytest.approx(solve_problem(problem.with_budget(budget)).objective)


# ---- budgets solved in threads (--jobs) ------------------------------------------------------


def _curve_and_plans(result):
    """What must not depend on --jobs: per budget, status, objective and the plan itself."""
    return [(p.budget_cny, str(p.status), p.objective, sorted(zip(p.site.tolist(), p.type.tolist())))
            for p in result.points]


def test_jobs_do_not_change_a_bundled_curve():
    """bishan_rural solves all 20 budgets; the plans chosen among equal optima follow the warm
    starts, so this fails if the chains (and with them the warm starts) depend on --jobs."""
    problem = build_problem(load_scenario(SCENARIOS / "bishan_rural" / "scenario.yaml"))
    budgets = parse_budgets("1e6:2e7:20")
    one = sweep_problem(problem, budgets, "highs", jobs=1)
    two = sweep_problem(problem, budgets, "highs", jobs=2)
    assert _curve_and_plans(two) == _curve_and_plans(one)
    assert all(str(p.status) == "optimal" for p in two.points)
    assert np.all(np.diff(two.objectives) >= 0)
    # the run is reproducible whatever the thread timing: budgets solved and plans alike
    again = sweep_problem(problem, budgets, "highs", jobs=2)
    assert _curve_and_plans(again) == _curve_and_plans(two)


@pytest.mark.parametrize("seed", range(12))
def test_jobs_agree_with_brute_force_on_random_problems(seed):
    problem, geometry = random_problem(seed, n_points=30, n_sites=8)
    budgets = np.linspace(0.0, float(np.nansum(problem.cost_cny)) * 0.6, 9)
    one = sweep_problem(problem, budgets, "highs", jobs=1)
    two = sweep_problem(problem, budgets, "highs", jobs=2)
    assert _curve_and_plans(two) == _curve_and_plans(one)
    previous = -np.inf
    for budget, point in zip(budgets, two.points):
        best = brute_force(problem.with_budget(budget), geometry)
        if best is None:
            assert point.objective is None and str(point.status) == "infeasible", budget
            continue
        assert str(point.status) == "optimal" and point.objective == pytest.approx(best, abs=1e-9), budget
        check = evaluate(problem.with_budget(budget), point.site, point.type)
        assert check.feasible and check.objective == pytest.approx(best, abs=1e-9)
        assert point.objective >= previous - 1e-9
        previous = point.objective


def test_sweep_jobs_rejects_less_than_one(district):
    _, problem = district
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ScenarioError, match="--jobs"):
            sweep_problem(problem, BUDGETS[1:4], jobs=bad)


def test_cli_jobs_same_files_and_stdout_intact(district, tmp_path):
    """Threads open HiGHS, whose constructor runs inside quiet_stdout(): file descriptor 1 must
    point where it did before, and the printed table must be whole."""
    path, _ = district
    before = os.fstat(1)
    files = {}
    for jobs in (2, 1):
        out = tmp_path / f"jobs{jobs}"
        result = run("sweep", path, "--budgets", "5e5:1e7:8", "--jobs", jobs, "--out", out)
        assert result.exit_code == 0, result.output
        assert "knee" in result.output and result.output.count("optimal") == 8, result.output
        curve = list(csv.DictReader((out / "curve.csv").read_text(encoding="utf-8-sig").splitlines()))
        for row in curve:
            del row["solve_s"]  # wall time, the only column allowed to differ
        files[jobs] = curve, (out / "plans.csv").read_text(encoding="utf-8-sig")
    assert files[2] == files[1]
    after = os.fstat(1)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_cli_jobs_below_one_is_a_one_line_error(tiny_scenario, tmp_path, jobs):
    result = run("sweep", tiny_scenario, "--budgets", "100:1000:3", "--jobs", jobs, "--out", tmp_path / "s")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: --jobs: value {jobs} must be >= 1"], lines
    assert not (tmp_path / "s").exists()


def test_sweep_help_documents_jobs():
    result = run("sweep", "--help")
    assert result.exit_code == 0 and "--jobs" in result.output


def test_chains_give_every_budget_the_same_warm_start_whatever_the_timing():
    """_run_chains with a stand-in for one budget's solve that sleeps a random while: which plan
    warm-starts which budget, and which budgets are solved up to the saturation point, must not
    depend on thread timing or on jobs."""
    import random
    import threading
    import time

    from lifecircle.optimizer.solve.backends import Status
    from lifecircle.optimizer.planning.curve import SweepPoint
    from lifecircle.optimizer.planning.sweep import SWEEP_CHAINS, _run_chains, _Solved

    budgets = np.arange(14, dtype=float)
    saturated = 9  # objective grows until budget 9, then stays: budget 9 reaches the top's optimum
    value = np.minimum(budgets, saturated) * 10.0
    empty = np.zeros(0, dtype=np.int64)
    top = SweepPoint(13.0, Status.OPTIMAL, value[-1], value[-1], 0.0, 13.0, None, 0.0, empty, empty)

    def observe(jobs, seed):
        rng = random.Random(seed)
        starts, running, peak, lock = {}, [0], [0], threading.Lock()

        def solve_at(budget, previous):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                pause = rng.random() * 0.01
            time.sleep(pause)
            with lock:
                running[0] -= 1
                starts[budget] = None if previous is None else previous.budget_cny
            return _Solved(float(budget), Status.OPTIMAL, float(value[int(budget)]), None, 0.0,
                           np.array([int(budget)]), np.array([0]), pause)

        solved = _run_chains(list(range(13)), budgets, solve_at, top, jobs)
        return starts, sorted(n for n in solved if n <= saturated), peak[0]

    reference, below, peak = observe(1, 0)
    assert peak == 1 and below == list(range(saturated + 1))
    # each budget starts from its chain predecessor's plan (the best so far, objectives ascend)
    assert reference == {float(b): (None if b < SWEEP_CHAINS else float(b - SWEEP_CHAINS))
                         for b in range(saturated + 1)}
    for jobs in (2, 3):
        for seed in range(4):
            starts, solved_below, peak = observe(jobs, seed)
            assert solved_below == below and peak > 1
            assert {b: s for b, s in starts.items() if b <= saturated} == \
                {b: s for b, s in reference.items() if b <= saturated}


@pytest.mark.parametrize("seed", [3, 8])
def test_service_sweep_in_threads_matches_brute_force(seed):
    """Capacities and decay: budgets are independent solves, run two at once; every point is the
    brute-force optimum at its budget, and --jobs 1 gives the same curve and plans."""
    from support.bruteforce import brute_force_service, random_service_problem

    problem, dense = random_service_problem(seed, capacity=True, shape="linear", n_points=16, n_sites=6)
    assert problem.has_service
    full = float(np.nansum(np.nanmin(problem.cost_cny, axis=1)))
    budgets = np.linspace(0.1, 1.0, 5) * full
    two = sweep_problem(problem, budgets, jobs=2)
    assert _curve_and_plans(two) == _curve_and_plans(sweep_problem(problem, budgets, jobs=1))
    for budget, point in zip(budgets, two.points):
        best, _ = brute_force_service(problem.with_budget(budget), dense)
        if best is None:
            assert point.objective is None
        else:
            assert str(point.status) == "optimal" and point.objective == pytest.approx(best, abs=1e-6)
    assert np.all(np.diff(two.objectives[np.isfinite(two.objectives)]) >= -1e-9)
