"""Least cost and canonical ties under service rules (issue 14): capacities, decay, equity floors
and maximin, with HiGHS, against plain enumeration (tests/support/bruteforce.py's plan_value,
which computes each plan's value without models/ or evaluate())."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.errors import InfeasibleError
from lifecircle.optimizer.solve.coverage import solve_problem

from tests.support.bruteforce import plan_value, plans, random_service_problem

CASES = {
    "capacity": dict(capacity=True),
    "decay": dict(shape="linear"),
    "floors": dict(equity=dict(min_share=np.array([0.3, 0.0]), per_circle=None, maximin=None)),
    "maximin": dict(equity=dict(maximin="groups"), round_populations=True),
}


def _canonical(problem, dense):
    """(value, cost, plan) of the first plan in the canonical order, or None."""
    rule = problem.equity
    all_plans = list(plans(problem))
    worst = None
    if rule is not None and rule.maximin:
        shares = [plan_value(problem, dense, p, objective="worst") for p in all_plans]
        shares = [v for v in shares if v is not None]
        if not shares:
            return None
        worst = max(shares)
    n_sites, n_types = problem.cost_cny.shape
    allowed = [(j, k) for j in range(n_sites) for k in range(n_types)
               if np.isfinite(problem.cost_cny[j, k]) and not problem.forbidden[j]]
    rank_of = {pair: n + 1 for n, pair in enumerate(allowed)}
    scored = []
    for p in all_plans:
        value = plan_value(problem, dense, p, worst=None if worst is None else worst - 1e-9)
        if value is not None:
            ranks = sorted(rank_of[pair] for pair in p)
            scored.append((value, sum(problem.cost_cny[j, k] for j, k in p), sum(ranks), ranks, sorted(p)))
    if not scored:
        return None
    best = max(s[0] for s in scored)
    tied = [s for s in scored if s[0] >= best - 1e-6 * max(1.0, best)]
    first = min(tied, key=lambda s: (round(s[1], 6), s[2], s[3]))
    return best, first[1], first[4]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", range(4))
def test_service_plans_are_least_cost_and_canonical(case, seed):
    problem, dense = random_service_problem(seed, n_sites=5, **CASES[case])
    expected = _canonical(problem, dense)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solution = solve_problem(problem, "highs")
            if solution.has_plan:  # the solver, not the precheck, found it infeasible
                raise AssertionError("a plan where enumeration finds none")
            raise InfeasibleError("solver")
        return
    value, cost, plan = expected
    solution = solve_problem(problem, "highs")
    assert solution.objective == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert solution.spent_cny == pytest.approx(cost), (case, seed)
    assert sorted(zip(solution.site.tolist(), solution.type.tolist())) == plan, (case, seed)
    # every stage that ran a solve says how long it took (summary.json's stages[].timings_s)
    timed = {one["stage"]: one["timings_s"] for one in solution.model_stats["stages"]
             if one["stage"] != "worst_share" and one["solves"]}
    assert timed and all(t.get("solve", -1.0) >= 0.0 for t in timed.values()), (case, seed, timed)
