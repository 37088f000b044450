"""The LP-guided start (optimizer/solve/lp_guided.py, issue 14) on random small per_service-shaped
problems (each service reached by one facility type, existing facilities, a budget, shared sites,
must_open and min_open rules): its plan passes ``evaluate()`` on the unreduced problem and never
exceeds the brute-force optimum, and it is exercised (it often reaches the optimum)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from support.bruteforce import brute_force, random_problem
from support.instances import feasible_models

from lifecircle.models.reduce import dominated_columns, reduce_coverage
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.lp_guided import lp_guided_plan


def per_service_problem(seed: int):
    """random_problem with services: group g is reached by type g only (two types, two services)."""
    problem, geometry = random_problem(seed, n_points=22, n_sites=8, n_types=2, n_groups=2, existing=2)
    d, dex, ex_type, radius = geometry["d"], geometry["dex"], geometry["ex_type"], geometry["radius"]
    serves = np.eye(2, dtype=bool)
    coverage = {(k, k): sp.csr_matrix(d <= radius[k, k]) for k in range(2)}
    before = np.stack([(dex[:, ex_type == k] <= radius[k, k]).any(axis=1) for k in range(2)], axis=1)
    return replace(problem, serves=serves, coverage=coverage, covered_before=before), geometry


def test_lp_guided_plan_is_feasible_and_never_above_the_optimum():
    checked = optimal = 0
    for seed, problem, geometry, model, index, cost, must in feasible_models(per_service_problem, range(30)):
        dominated = dominated_columns(index, cost, must, problem.min_open)
        reduced = reduce_coverage(model, index, cost, problem.budget_cny, must, dominated)
        plan = lp_guided_plan(reduced, "highs", time_limit_s=10.0)
        best = brute_force(problem, geometry)
        if plan is None:  # the LP's support cannot meet min_open: no start, never a wrong one
            continue
        ev = evaluate(problem, index.x_site[plan], index.x_type[plan])
        assert ev.feasible, (seed, ev.violations)
        assert ev.objective <= best + 1e-9, seed
        optimal += abs(ev.objective - best) <= 1e-9
        checked += 1
    assert checked >= 20 and optimal >= checked // 2, (checked, optimal)
