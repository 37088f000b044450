"""Local search, windows and the ``local`` backend (issue 14, section 4) against greedy and brute
force on random small problems: every plan is feasible under ``evaluate()``, never worse than the
greedy plan it starts from, and the ``local`` backend's Lagrangian bound is never below the
brute-force optimum."""

from __future__ import annotations

import numpy as np
import pytest
from support.bruteforce import brute_force, random_problem
from support.instances import feasible_models

from lifecircle.models.greedy import greedy_plan
from lifecircle.models.local_search import local_search, repair_min_open, window_search
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.solve.coverage import solve_problem
from lifecircle.optimizer.solve.backends.local import window_solver


def instances(n=40, **kwargs):
    for seed, problem, geometry, _model, index, cost, must in feasible_models(
            lambda seed: random_problem(seed, **kwargs), range(n)):
        yield seed, problem, geometry, index, cost, must


def test_local_search_and_windows_are_feasible_and_never_worse_than_greedy():
    improved = checked = 0
    for seed, problem, geometry, index, cost, must in instances(n_points=25, n_sites=9):
        start = greedy_plan(index, cost, problem.budget_cny, must, problem.min_open)
        base = evaluate(problem, index.x_site[start], index.x_type[start])
        if not base.feasible:
            continue
        local = local_search(index, cost, problem.budget_cny, must, problem.min_open, start)
        ev = evaluate(problem, index.x_site[local], index.x_type[local])
        assert ev.feasible, (seed, ev.violations)
        assert ev.objective >= base.objective - 1e-9, seed
        window = window_search(index, cost, problem.budget_cny, must, problem.min_open, local,
                               window_solver(), size=5)
        ew = evaluate(problem, index.x_site[window], index.x_type[window])
        assert ew.feasible and ew.objective >= ev.objective - 1e-9, seed
        best = brute_force(problem, geometry)
        assert ew.objective <= best + 1e-9, seed  # a heuristic, but never above the optimum
        improved += ew.objective > base.objective + 1e-9
        checked += 1
    assert checked >= 25 and improved >= 5  # the moves are exercised, not vacuous


def test_a_window_as_large_as_the_problem_is_exact():
    """A window holding every column re-solves the whole problem: the brute-force optimum."""
    for seed, problem, geometry, index, cost, must in instances(n=15, n_points=20, n_sites=7):
        start = greedy_plan(index, cost, problem.budget_cny, must, problem.min_open)
        if not evaluate(problem, index.x_site[start], index.x_type[start]).feasible:
            continue
        plan = window_search(index, cost, problem.budget_cny, must, problem.min_open, start,
                             window_solver(), size=index.n_x)
        ev = evaluate(problem, index.x_site[plan], index.x_type[plan])
        assert ev.feasible and ev.objective == pytest.approx(brute_force(problem, geometry), abs=1e-9), seed


def test_repair_meets_min_open_or_says_it_cannot():
    for seed, problem, geometry, index, cost, must in instances(n_points=20, n_sites=8):
        min_open = np.ones(problem.n_types, dtype=int)
        plan = repair_min_open(index, cost, problem.budget_cny, min_open, must.copy())
        if plan is None:
            continue
        assert np.all(np.bincount(index.x_type[plan], minlength=problem.n_types) >= 1), seed
        assert cost[plan].sum() <= problem.budget_cny + 1e-9


def test_local_backend_plans_at_least_greedy_with_a_valid_lagrangian_bound():
    checked = 0
    for seed, problem, geometry, index, cost, must in instances(n=30, n_points=25, n_sites=8):
        best = brute_force(problem, geometry)
        greedy = solve_problem(problem, "greedy")
        local = solve_problem(problem, "local")
        if local.status == Status.NO_SOLUTION:
            continue
        assert local.evaluation.feasible, seed
        assert local.termination in (Termination.HEURISTIC, Termination.OPTIMAL)
        if greedy.status == Status.FEASIBLE:
            assert local.objective >= greedy.objective - 1e-9, seed
        assert local.objective <= best + 1e-9
        assert local.bound_source == BoundSource.LAGRANGIAN
        assert local.bound >= best - 1e-6, (seed, local.bound, best)
        assert local.gap == pytest.approx((local.bound - local.objective) / local.objective, abs=1e-9)
        checked += 1
    assert checked >= 20
