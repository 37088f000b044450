"""What a watcher sees while a solve runs (issue 14 x issue 15): figures in people for the run's own
plans. On the Benders route, the loop's own figures (the best verified plan rising, the master's
bound falling to it), never a master's approximate incumbent or a least-cost master's money, and
the least-cost stages announced by name; on the uncapacitated route, never the coverage ceiling,
and the one objective's figures unscaled from HiGHS's user_objective_scale."""

from __future__ import annotations

import pytest
from support.bruteforce import random_service_problem

from lifecircle.optimizer.core import events
from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.generate.district import generate_district
from lifecircle.optimizer.run import load_problem
from lifecircle.optimizer.solve.capacity_benders import applies
from lifecircle.optimizer.solve.coverage import solve_problem


def _benders_problem():
    for seed in range(60):
        problem, _ = random_service_problem(seed, n_sites=5, shape="step", capacity=True)
        if problem.capacitated_groups().any() and applies(problem):
            return problem
    pytest.fail("no capacitated instance for the Benders route in 60 seeds")


def test_progress_is_monotone_in_coverage_units_and_names_the_stages():
    problem = _benders_problem()
    seen = []
    with events.subscribe(lambda kind, **fields: seen.append((kind, fields))):
        solution = solve_problem(problem, "highs")
    assert solution.status == Status.OPTIMAL and "benders" in solution.model_stats
    mips = [f for kind, f in seen if kind == "mip"]
    assert mips and all(f["solver"] == "highs (benders)" for f in mips)
    incumbents = [f["incumbent"] for f in mips if f["incumbent"] is not None]
    bounds = [f["bound"] for f in mips if f["bound"] is not None]
    assert incumbents == sorted(incumbents) and bounds == sorted(bounds, reverse=True)
    assert all(f["bound"] >= f["incumbent"] for f in mips if None not in (f["bound"], f["incumbent"]))
    assert mips[-1]["incumbent"] == pytest.approx(solution.objective)
    assert mips[-1]["bound"] == pytest.approx(solution.objective) and mips[-1]["gap"] == 0.0
    keys = [f.get("key") for kind, f in seen if kind == "phase"]
    assert "phase.stage_cost" in keys and "phase.stage_ties" in keys
    assert keys.index("phase.stage_cost") < keys.index("phase.stage_ties")


def test_the_uncapacitated_route_shows_plans_in_people(tmp_path):
    """The uncapacitated route first solves its coverage ceiling (everyone any site can reach): that
    figure is a bound, not a plan, and must not appear as the current best. Then the one-objective
    solve's figures are shown in people, whatever HiGHS's objective scaling."""
    scenario = generate_district(tmp_path / "d", n_demand=3_000, seed=2)
    _, problem, _, _, _ = load_problem(scenario, out_dir=tmp_path / "out")
    seen = []
    with events.subscribe(lambda kind, **fields: seen.append((kind, fields))):
        solution = solve_problem(problem, "highs")
    assert solution.status == Status.OPTIMAL
    incumbents = [f["incumbent"] for kind, f in seen if kind == "mip" and f["incumbent"] is not None]
    assert incumbents and max(incumbents) <= solution.objective + 1e-6
    # this district's one objective is scaled by HiGHS's user_objective_scale (2**-10), which its
    # callbacks report in: the last incumbent before the final word is the optimum, in people
    during = [f for kind, f in seen if kind == "mip" and not f.get("final") and f["incumbent"] is not None]
    assert during[-1]["incumbent"] == pytest.approx(solution.objective, abs=0.5)
