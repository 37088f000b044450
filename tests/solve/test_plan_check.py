"""The tight plan check (issue 14): the model's objective must equal evaluate()'s within half the
smallest objective step (weights x people on their decimal grid), not 1e-6 relative; a bound on
the wrong side of its plan by more than that is refused, not clamped."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.core.solution import check_bound, check_objective, evaluate, objective_tolerance
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.backends.base import Status, finish


def _big_district():
    """686,663 weighted people at weights 1 and 0.5 (the 100k district's scale): 1e-6 relative
    is 0.69 there, more than one child at weight 0.5."""
    n = 2000
    people = np.column_stack([np.full(n, 229.0), np.full(n, 228.0)])
    reach = sp.csr_matrix(np.ones((n, 1), dtype=bool))
    return CoverageProblem(
        group_names=("elderly", "children"), type_names=("t",), site_ids=("S",),
        people=people, group_weight=np.array([1.0, 0.5]), serves=np.array([[True, True]]),
        coverage={(0, 0): reach, (0, 1): reach}, covered_before=np.zeros((n, 2), bool),
        cost_cny=np.array([[1.0]]), budget_cny=1.0, must_open=np.full(1, NO_TYPE),
        forbidden=np.zeros(1, bool), min_open=np.zeros(1, int))


def test_one_child_discrepancy_is_caught():
    problem = _big_district()
    evaluated = evaluate(problem, np.array([0]), np.array([0])).objective
    assert evaluated == 2000 * (229 + 0.5 * 228)
    assert 1e-6 * evaluated > 0.5  # the old tolerance would have let it pass
    assert objective_tolerance(problem, evaluated) == pytest.approx(0.05)  # half of 1 / (10 x 1)
    with pytest.raises(SolverResultError, match="objective"):
        check_objective(problem, evaluated - 0.5, evaluated, "highs: model")  # one child at weight 0.5
    check_objective(problem, evaluated + 1e-7, evaluated, "highs: model")  # float noise passes


def test_bound_below_the_plan_is_a_violation():
    problem = _big_district()
    site, type_ = np.array([0]), np.array([0])
    objective = evaluate(problem, site, type_).objective
    bad = evaluate(problem, site, type_, bound=objective - 1.0)
    assert not bad.feasible and bad.violations[-1].startswith("bound ")
    assert evaluate(problem, site, type_, bound=objective - 1e-7).feasible
    with pytest.raises(SolverResultError, match="bound"):
        check_bound(problem, objective, objective - 1.0, "highs:")


def _model():
    # max x0 + 0.5 x1, x integer in [0, 1]: objective step 0.5
    return LinearModel(MAXIMIZE, np.array([1.0, 0.5]), sp.csr_matrix((0, 2)), np.zeros(0), np.zeros(0),
                       np.zeros(2), np.ones(2), np.array([True, True]))


def test_finish_refuses_a_bound_off_by_more_than_the_tolerance():
    with pytest.raises(SolverResultError, match="wrong side"):
        finish(_model(), "test", Status.FEASIBLE, np.array([1.0, 1.0]), 1.0, 0.0)  # plan 1.5 > bound 1
    result = finish(_model(), "test", Status.FEASIBLE, np.array([1.0, 1.0]), 1.5 - 1e-9, 0.0)
    assert result.bound == 1.5 and result.status == Status.OPTIMAL  # noise: clamped, proven
    assert str(result.bound_source) == "mip"
