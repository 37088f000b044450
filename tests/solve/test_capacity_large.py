"""Large capacitated districts (issue 14): the greedy plan is feasible and the capacity ceiling is
a valid bound (never below the brute-force optimum) on small random problems."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.solve.capacity_large import capacity_ceiling, greedy_capacity_plan, solve_capacity_large
from support.bruteforce import brute_force_service, random_service_problem

CASES = [
    dict(shape="step", capacity=True, rules=False),
    dict(shape="step", capacity=True, existing_capacity=True, existing=2, rules=False),
    dict(shape="linear", capacity=True, existing_capacity=True, existing=2, rules=False),
    dict(shape="exponential", capacity=True, existing=1),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_ceiling_bounds_the_optimum_and_the_plan_is_feasible(case):
    checked = 0
    for seed in range(10):
        problem, dense = random_service_problem(500 + 37 * case + seed, n_points=20, n_sites=6, **CASES[case])
        best = brute_force_service(problem, dense)[0]
        if best is None:
            continue
        assert capacity_ceiling(problem) >= best - 1e-6
        if (problem.min_open > 0).any():
            continue  # the greedy does not try to meet min_open
        solution = solve_capacity_large(problem, "highs")
        assert solution.status == Status.FEASIBLE and solution.evaluation.feasible
        assert solution.termination == Termination.HEURISTIC and solution.bound_source == BoundSource.CEILING
        assert solution.objective <= best + 1e-6 <= solution.bound + 2e-6
        # the merged LP's assignment, verified, is worth what evaluate's own unmerged LP gives
        assert solution.objective == pytest.approx(evaluate(problem, solution.site, solution.type).objective, rel=1e-7, abs=1e-6)
        checked += 1
    assert checked >= 3


def test_greedy_respects_budget_and_sites():
    problem, _ = random_service_problem(7, n_points=40, n_sites=10, capacity=True, rules=False)
    site, type_ = greedy_capacity_plan(problem)
    assert np.unique(site).size == site.size
    assert problem.cost_cny[site, type_].sum() <= problem.budget_cny * (1 + 1e-9)


def test_solve_problem_takes_the_large_route_above_the_threshold(monkeypatch):
    import lifecircle.optimizer.solve.capacity_large as large
    from lifecircle.optimizer.solve.coverage import solve_problem

    problem, dense = random_service_problem(11, n_points=30, n_sites=6, capacity=True, rules=False)
    best = brute_force_service(problem, dense)[0]
    exact = solve_problem(problem, "highs")
    assert exact.status == Status.OPTIMAL and exact.objective == pytest.approx(best, rel=1e-7)
    assert large.capacitated_reach_pairs(problem) > 10
    monkeypatch.setattr(large, "LARGE_REACH_PAIRS", 10)
    routed = solve_problem(problem, "highs")
    assert routed.termination == Termination.HEURISTIC and routed.bound_source == BoundSource.CEILING
    assert routed.objective <= best + 1e-6 <= routed.bound + 2e-6
