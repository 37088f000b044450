"""Warm starts never change the answer: a capacitated case where highspy once returned the start."""

from __future__ import annotations

import pytest

from support.scenarios import SCENARIO_YAML, write_scenario
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.backends import Status
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.coverage import solve_problem

CAPPED = SCENARIO_YAML.replace(
    "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}",
    "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10, capacity: {elderly: 8}}")


@pytest.mark.parametrize("solver", ["highs", "ortools-scip", "pulp-cbc"])
def test_warm_start_from_a_smaller_budget_reaches_the_cold_optimum(tmp_path, solver):
    path = write_scenario(tmp_path / "capped", yaml_text=CAPPED)
    small = solve_problem(build_problem(load_scenario(path, budget_cny=800)), solver)
    problem = build_problem(load_scenario(path, budget_cny=1000))
    cold = solve_problem(problem, solver)
    warm = solve_problem(problem, solver, warm_start=(small.site, small.type))
    assert (cold.status, warm.status) == (Status.OPTIMAL, Status.OPTIMAL)
    assert warm.objective == cold.objective == 63.0
