"""The one-objective form's rank bound (issue 14, leastcost.plan_rank_bound): the largest ranks the
budget can buy, checked against every affordable plan, and the canonical plan it gives at tight
budgets (where the bound is far below the sum of all ranks) against plain enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lifecircle.optimizer.solve.backends import REGISTRY, Status, exact_backends
from lifecircle.optimizer.solve.coverage import solve_problem
from lifecircle.optimizer.solve.leastcost import plan_rank_bound

from tests.support.canonical import canonical_brute_force, tie_problem


@pytest.mark.parametrize("seed", range(60))
def test_no_affordable_plan_exceeds_the_bound(seed):
    rng = np.random.default_rng(seed)
    n = 9
    rank = rng.permutation(np.arange(1, n + 1)).astype(float)
    cost = rng.choice([0.0, 100.0, 200.0, 350.0], size=n, p=[0.15, 0.35, 0.3, 0.2])
    budget = float(rng.choice([0.0, 100.0, 300.0, 650.0, 2000.0]))
    best = 0.0
    for size in range(n + 1):
        for plan in itertools.combinations(range(n), size):
            if cost[list(plan)].sum() <= budget:
                best = max(best, rank[list(plan)].sum())
    bound = plan_rank_bound(np.concatenate([rank, np.zeros(3)]), np.concatenate([cost, np.zeros(3)]), budget)
    assert best <= bound
    assert plan_rank_bound(rank, cost, np.inf) == rank.sum()


CASES = [("highs", seed) for seed in range(200, 220)] + [
    (name, seed) for name in exact_backends() if name != "highs" for seed in range(220, 224)]


@pytest.mark.parametrize("solver, seed", CASES)
def test_tight_budget_canonical_plan_matches_brute_force(solver, seed):
    """Budgets buying two or three of nine sites: the rank bound is a third of the rank total."""
    if not REGISTRY[solver].available():
        pytest.skip(f"{solver} is not installed")
    problem, geometry = tie_problem(seed, n_sites=9, budget_share=0.2, rules=False)
    expected = canonical_brute_force(problem, geometry)
    coverage, cost, plan = expected
    solution = solve_problem(problem, solver)
    assert solution.status == Status.OPTIMAL
    assert solution.objective == pytest.approx(coverage, abs=1e-6)
    assert solution.spent_cny == pytest.approx(cost, abs=1e-6)
    assert sorted(zip(solution.site.tolist(), solution.type.tolist())) == plan, (solver, seed)
    assert solution.model_stats["canonical"] is True
