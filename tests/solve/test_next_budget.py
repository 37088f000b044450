"""What 10 % more budget buys under capacities (issue 14): the plan plus greedy additions priced by
the assignment LP, checked against brute force; and the report's facts use it."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem
from lifecircle.optimizer.solve.next_budget import add_within_budget
from support.bruteforce import brute_force_service, random_service_problem

CASES = [
    dict(shape="step", capacity=True, rules=False),
    dict(shape="linear", capacity=True, existing_capacity=True, existing=2, rules=False),
    dict(shape="step", capacity=True, circles=2, rules=False,
         equity=dict(min_share=np.array([0.2, np.nan]), per_circle=0.1, maximin=None)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_additions_are_feasible_better_and_below_the_optimum_and_ceiling(case):
    checked = gained = 0
    for seed in range(5):
        problem, dense = random_service_problem(700 + 11 * case + seed, n_points=18, n_sites=6,
                                                budget_share=0.3, **CASES[case])
        try:
            plan = solve_problem(problem, "highs")
        except Exception:  # noqa: BLE001 - an infeasible draw: nothing to extend
            continue
        if not plan.has_plan:
            continue
        larger = problem.with_budget(problem.budget_cny * 1.5)
        best = brute_force_service(larger, dense)[0]
        site, type_, after, bound = add_within_budget(larger, plan.site, plan.type, plan.evaluation)
        # the plan is kept and only added to; the result is a real plan at the larger budget
        assert set(zip(plan.site.tolist(), plan.type.tolist())) <= set(zip(site.tolist(), type_.tolist()))
        again = evaluate(larger, site, type_)
        assert again.feasible and after.feasible
        assert after.objective == pytest.approx(again.objective, rel=1e-7, abs=1e-6)
        assert plan.objective - 1e-6 <= after.objective <= best + 1e-6 <= bound + 2e-6
        gained += after.objective > plan.objective + 1e-6
        checked += 1
    assert checked >= 3 and gained >= 1, (checked, gained)


def test_plan_facts_answer_the_next_budget_without_a_milp():
    from lifecircle.optimizer.outputs.explain import plan_facts

    problem, _ = random_service_problem(705, n_points=18, n_sites=6, budget_share=0.3, **CASES[0])
    plan = solve_problem(problem, "highs")
    facts = plan_facts(problem, plan.site, plan.type, evaluation=plan.evaluation)
    nb = facts.next_budget
    assert nb.method == "greedy" and nb.bound is not None and nb.objective >= plan.objective - 1e-9
    assert nb.budget_cny == pytest.approx(problem.budget_cny * 1.1)
    budget = facts.rule("budget")
    if nb.objective > plan.objective + 1e-6:
        assert budget.binding is True and budget.gain == pytest.approx(nb.objective - plan.objective)
    else:
        assert budget.binding is not True
