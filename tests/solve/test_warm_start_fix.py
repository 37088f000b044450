"""The reduced route's warm start (issue 14): must_open costs counted once, min_open met, and the
start always a feasible plan; the final answer still equals brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models.coverage import build_coverage_model
from lifecircle.models.reduce import dominated_columns
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.errors import InfeasibleError
from lifecircle.optimizer.solve.coverage import solve_problem
from lifecircle.optimizer.solve.reduced import warm_start_plan

from tests.support.bruteforce import brute_force, random_problem


def _start(problem):
    _, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = problem.must_open[index.x_site] == index.x_type
    dominated = dominated_columns(index, cost, must, problem.min_open)
    chosen = warm_start_plan(index, cost, problem.budget_cny, must, problem.min_open, ~dominated)
    return None if chosen is None else (index.x_site[chosen], index.x_type[chosen])


def test_issue_case_budget_10_must_open_5_and_a_site_of_4():
    """Budget 10, a must-open site costing 5 and a site costing 4 that reaches 4 people: the old
    start passed 10 - 5 to a greedy that counted the 5 again, and left the 4 unopened."""
    reach = sp.csr_matrix(np.array([[1, 0], [0, 1]], dtype=bool))
    problem = CoverageProblem(
        group_names=("g",), type_names=("t",), site_ids=("M", "X"),
        people=np.array([[3.0], [4.0]]), group_weight=np.array([1.0]), serves=np.array([[True]]),
        coverage={(0, 0): reach}, covered_before=np.zeros((2, 1), bool),
        cost_cny=np.array([[5.0], [4.0]]), budget_cny=10.0,
        must_open=np.array([0, NO_TYPE]), forbidden=np.zeros(2, bool), min_open=np.zeros(1, int))
    site, type_ = _start(problem)
    assert sorted(problem.site_ids[j] for j in site) == ["M", "X"]
    assert evaluate(problem, site, type_).objective == 7.0


def test_start_meets_min_open():
    """min_open 2 of type t1: the start opens the two cheapest t1 sites before the greedy."""
    reach = sp.csr_matrix(np.eye(3, dtype=bool))
    problem = CoverageProblem(
        group_names=("g",), type_names=("t0", "t1"), site_ids=("A", "B", "C"),
        people=np.array([[9.0], [1.0], [1.0]]), group_weight=np.array([1.0]),
        serves=np.array([[True], [True]]), coverage={(0, 0): reach, (1, 0): reach},
        covered_before=np.zeros((3, 1), bool),
        cost_cny=np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]]), budget_cny=6.0,
        must_open=np.full(3, NO_TYPE), forbidden=np.zeros(3, bool), min_open=np.array([0, 2]))
    site, type_ = _start(problem)
    assert evaluate(problem, site, type_).feasible
    assert np.count_nonzero(type_ == 1) >= 2


@pytest.mark.parametrize("seed", range(60))
def test_start_is_feasible_and_answer_equals_brute_force(seed):
    problem, geometry = random_problem(seed, n_points=18, n_sites=6, budget_share=0.35)
    rng = np.random.default_rng(1000 + seed)
    # more must_open and min_open than random_problem draws, so the start's rules are exercised
    must = problem.must_open.copy()
    j = int(rng.integers(problem.n_sites))
    allowed = np.flatnonzero(np.isfinite(problem.cost_cny[j]))
    if allowed.size and not problem.forbidden[j]:
        must[j] = int(allowed[0])
    min_open = np.minimum(rng.integers(0, 3, problem.n_types), 2)
    from dataclasses import replace

    problem = replace(problem, must_open=must, min_open=min_open)
    expected = brute_force(problem, geometry)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve_problem(problem, "highs")
        return
    start = _start(problem)
    if start is not None:  # None: the cheapest min_open fill does not fit (then no start is given)
        assert evaluate(problem, *start).feasible, evaluate(problem, *start).violations
    solution = solve_problem(problem, "highs")
    assert solution.objective == pytest.approx(expected, abs=1e-9)
