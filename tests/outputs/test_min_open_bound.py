"""The min_open bound (optimizer/outputs/reach.py, issue 14): no plan short of a type's minimum
covers more than it says, against brute force; and the report's rule check that uses it agrees with
a brute-force answer to "does min_open bind"."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from support.bruteforce import brute_force, random_problem
from support.bruteforce_service import per_service_value, write_random_per_service

from lifecircle.optimizer.core.problem import NO_TYPE
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.outputs.explain import plan_facts
from lifecircle.optimizer.outputs.reach import min_open_ceiling
from lifecircle.optimizer.solve.coverage import solve_problem


def _short_of(problem, geometry, k: int, minimum: int) -> float:
    """Brute force: the best plan opening at most minimum - 1 facilities of type k (minimum 1 or 2)."""
    without = problem.cost_cny.copy()
    without[:, k] = np.nan
    best = brute_force(replace(problem, cost_cny=without), geometry)
    if minimum == 2:  # exactly one of type k, at each site that allows it
        for j in np.flatnonzero(np.isfinite(problem.cost_cny[:, k])):
            one = without.copy()
            one[j, k] = problem.cost_cny[j, k]
            must = np.full(problem.n_sites, NO_TYPE)
            must[j] = k
            found = brute_force(replace(problem, cost_cny=one, must_open=must), geometry)
            best = found if best is None else max(best, found if found is not None else best)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_bound_against_brute_force(seed):
    problem, geometry = random_problem(seed + 300, n_points=20, n_sites=6, rules=False)
    unlimited = problem.with_budget(float(np.nansum(problem.cost_cny)) + 1.0)
    for k in range(problem.n_types):
        for minimum in (1, 2):
            min_open = np.zeros(problem.n_types, dtype=np.int64)
            min_open[k] = minimum
            best_free = _short_of(unlimited, geometry, k, minimum)
            bound = min_open_ceiling(replace(unlimited, min_open=min_open))
            if minimum == 1:  # two types, no budget: every site opens as the other type, exactly the bound
                assert bound == pytest.approx(best_free)
            else:
                assert bound >= best_free - 1e-9
            # the budget only lowers what such plans reach; the bound ignores it
            assert bound >= _short_of(problem, geometry, k, minimum) - 1e-9
    assert min_open_ceiling(problem) is None  # no min_open rule: nothing to bound


def test_rule_check_uses_the_bound_and_agrees_with_brute_force():
    fired = 0
    for seed in range(12):
        problem, geometry = random_problem(seed + 500, n_points=25, n_sites=7, rules=False, budget_share=0.5)
        problem = replace(problem, min_open=np.ones(problem.n_types, dtype=np.int64))
        sol = solve_problem(problem)
        if not sol.has_plan:
            continue
        check = plan_facts(problem, sol.site, sol.type).rule("min_open")
        relaxed = brute_force(replace(problem, min_open=np.zeros(problem.n_types, dtype=np.int64)), geometry)
        assert check.binding == (relaxed > sol.objective + 1e-6), seed
        assert check.gain == pytest.approx(relaxed - sol.objective, abs=1e-6), seed
        if check.resolve.method == "count_bound":
            fired += 1
            assert not check.binding and check.resolve.bound <= sol.objective + 1e-6
    assert fired == 3  # 3 of these 12 small draws; the others are re-solved (or settled by the LP bound)


@pytest.mark.parametrize("seed", range(6))
def test_bound_against_brute_force_per_service(tmp_path, seed):
    """Under coverage: per_service (three types, two groups, six services), scored from the raw
    coordinates: no plan short of a type's minimum, at any cost, beats the bound."""
    raw = write_random_per_service(tmp_path / "s", seed)
    problem = build_problem(load_scenario(raw["path"]))
    assert problem.type_names == ("station", "canteen", "school")  # raw["cost"]'s columns
    cost = raw["cost"]
    options = [[None] + [t for t in range(3) if np.isfinite(cost[j, t])] for j in range(cost.shape[0])]
    plans = [[(j, t) for j, t in enumerate(plan) if t is not None] for plan in itertools.product(*options)]
    values = np.array([per_service_value(raw, opened) for opened in plans])
    counts = np.array([np.bincount([t for _, t in opened], minlength=3) for opened in plans])
    for k in range(3):
        for minimum in (1, 2):
            min_open = np.zeros(3, dtype=np.int64)
            min_open[k] = minimum
            bound = min_open_ceiling(replace(problem, min_open=min_open))
            assert bound >= values[counts[:, k] < minimum].max() - 1e-9, (k, minimum)
