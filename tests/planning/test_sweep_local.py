"""`sweep --solver local` (issue 14): local search with a Lagrangian bound at every budget, not greedy."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.generate.district import generate_district
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.planning.sweep import sweep_problem

BUDGETS = np.array([5e5, 1e6, 2e6, 4.5e6])


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    path = generate_district(tmp_path_factory.mktemp("local"), profile="rural", n_demand=300, n_sites=30,
                             seed=5)
    return build_problem(load_scenario(path))


def test_local_sweep_beats_greedy_and_bounds_the_optimum(problem):
    local = sweep_problem(problem, BUDGETS, "local", jobs=1)
    greedy = sweep_problem(problem, BUDGETS, "greedy", jobs=1)
    exact = sweep_problem(problem, BUDGETS, "highs", jobs=1)
    assert all(str(p.status) == "optimal" for p in exact.points)
    improved = 0
    for lo, gr, ex in zip(local.points, greedy.points, exact.points):
        # every local plan is a real plan at its own budget, re-evaluated independently
        evaluation = evaluate(problem.with_budget(lo.budget_cny), lo.site, lo.type)
        assert evaluation.feasible and lo.objective == pytest.approx(evaluation.objective, abs=1e-9)
        assert lo.objective >= gr.objective - 1e-9, lo.budget_cny
        assert lo.objective <= ex.objective + 1e-9
        # the Lagrangian bound is a bound: at least highs's proven optimum
        assert lo.bound is not None and lo.bound >= ex.objective - 1e-6, lo.budget_cny
        assert lo.gap == pytest.approx((lo.bound - lo.objective) / lo.objective, abs=1e-12)
        assert lo.reason.startswith("local:") or "kept the plan" in lo.reason
        improved += lo.objective > gr.objective + 1e-9
    assert np.all(np.diff(local.objectives) >= -1e-9)
    print("local improves greedy at", improved, "of", BUDGETS.size, "budgets")
