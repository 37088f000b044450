"""The dense-model gate of optimizer/solve/reduced.py (issue 14): reduced models above
DENSE_NONZEROS run HiGHS with more primal-heuristic effort. Forced on for small random problems
(the gate set to 0), every answer still equals brute force and passes evaluate()."""

from __future__ import annotations

import pytest

import lifecircle.optimizer.solve.reduced as reduced_module
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.solve.reduced import solve_reduced

from tests.support.bruteforce import brute_force, random_problem


# seed 21 has no feasible plan (brute force finds none): the 25 seeds up to 25 that do
@pytest.mark.parametrize("seed", [s for s in range(26) if s != 21])
def test_heuristic_effort_gate_keeps_brute_force_optimum(seed, monkeypatch):
    monkeypatch.setattr(reduced_module, "DENSE_NONZEROS", 0)
    problem, geometry = random_problem(seed, n_points=20, n_sites=7, budget_share=0.3)
    expected = brute_force(problem, geometry)
    assert expected is not None
    solution = solve_reduced(problem, "highs")
    assert solution.status == Status.OPTIMAL
    assert solution.objective == pytest.approx(expected, abs=1e-9)
    assert evaluate(problem, solution.site, solution.type).feasible
