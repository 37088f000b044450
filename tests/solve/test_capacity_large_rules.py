"""The large capacitated route honours min_open and per-group equity floors (issue 14), checked by
brute force on small problems routed there by lowering the threshold; per-circle floors are
refused in one line before any work."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lifecircle.optimizer.core.problem import EquityRule
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.errors import InfeasibleError, ScenarioError
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce import brute_force_service, random_service_problem


@pytest.fixture
def large_route(monkeypatch):
    import lifecircle.optimizer.solve.capacity_large as large

    monkeypatch.setattr(large, "LARGE_REACH_PAIRS", 0)  # every capacitated problem takes the greedy


def _unruled_greedy(problem):
    """The plan of the greedy without min_open and floors, to see that the rules bind."""
    from lifecircle.optimizer.solve.capacity_large import greedy_capacity_plan

    free = dataclasses.replace(problem, min_open=np.zeros_like(problem.min_open), equity=None)
    return greedy_capacity_plan(free)


def test_min_open_and_group_floors_are_met_and_checked_by_brute_force(large_route):
    planned = binding = missed = 0
    for seed in range(24):
        problem, dense = random_service_problem(900 + seed, n_points=16, n_sites=5, shape="step",
                                                capacity=True, existing=1, rules=False, budget_share=0.5)
        rng = np.random.default_rng(seed)
        min_open = np.zeros(problem.n_types, dtype=int)
        min_open[int(rng.integers(problem.n_types))] = int(rng.integers(1, 3))
        floors = np.where(rng.random(problem.n_groups) < 0.6, rng.choice([0.2, 0.4, 0.6]), np.nan)
        problem = dataclasses.replace(problem, min_open=min_open, equity=EquityRule(min_share=floors))
        best = brute_force_service(problem, dense)[0]
        try:
            solution = solve_problem(problem, "highs")
        except InfeasibleError:
            assert best is None, seed  # the precheck only refuses what no plan can meet
            continue
        assert solution.termination in (Termination.HEURISTIC, Termination.NO_SOLUTION)
        if solution.status == Status.NO_SOLUTION:
            missed += 1
            # a greedy may miss floors a plan could meet (seen at 6 sites: 0.31 reached, brute force met 0.4)
            assert "could not meet" in solution.message and "\n" not in solution.message
            continue
        assert best is not None, seed  # a plan where brute force finds none would be a bug
        assert solution.status == Status.FEASIBLE and solution.bound_source == BoundSource.CEILING
        again = evaluate(problem, solution.site, solution.type)
        assert again.feasible and again.objective == pytest.approx(solution.objective, abs=1e-6)
        assert np.all(np.bincount(solution.type, minlength=problem.n_types) >= min_open)
        assert solution.objective <= best + 1e-6 <= solution.bound + 2e-6
        planned += 1
        if not evaluate(problem, *_unruled_greedy(problem)).feasible:
            binding += 1  # without the phases this greedy plan breaks min_open or a floor
    print("planned", planned, "binding", binding, "no_solution", missed)
    assert planned >= 10 and binding >= 4, (planned, binding)


def test_circle_floors_are_refused_before_solving(large_route):
    problem, _ = random_service_problem(3, n_points=18, n_sites=6, capacity=True, circles=2, rules=False)
    problem = dataclasses.replace(problem, equity=EquityRule(min_share=np.full(problem.n_groups, np.nan),
                                                             min_share_per_circle=0.1))
    with pytest.raises(ScenarioError) as error:
        solve_problem(problem, "highs")
    message = str(error.value)
    assert "\n" not in message and "equity.min_share_per_circle" in message and "(point, site) pairs" in message
