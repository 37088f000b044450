"""Capacities by Benders decomposition (issue 14, section 5; optimizer/solve/capacity_benders.py).

Brute force over every plan (values from the raw distances, not through evaluate()): the route
proves the optimum, and returns the canonical plan (most coverage, then least cost, then the
smallest rank sum). The cuts are checked for what makes the method exact: valid at every plan
(fractional ones too), tight where they are taken, and a phase-1 cut that removes a plan no
assignment can make meet the equity floors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from support.bruteforce import plan_value, plans, random_service_problem

from lifecircle.models.coverage import facility_columns
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.benders_oracle import AssignmentOracle
from lifecircle.optimizer.solve.capacity_benders import _CUTS, applies
from lifecircle.optimizer.solve.coverage import solve_problem
from lifecircle.optimizer.solve.leastcost import column_ranks

CASES = {
    "step": dict(shape="step", capacity=True),
    "step-existing": dict(shape="step", capacity=True, existing_capacity=True, existing=2),
    "linear-existing": dict(shape="linear", capacity=True, existing_capacity=True, existing=2),
    "exponential": dict(shape="exponential", capacity=True),
    "floors": dict(shape="linear", capacity=True, existing_capacity=True, existing=2, circles=2,
                   equity=dict(min_share=np.array([0.2, np.nan]), per_circle=0.15, maximin=None)),
}


def _canonical(problem, dense):
    """(Z*, cost, rank sum, plan set) of the canonical plan by brute force; None when none."""
    x_site, x_type = facility_columns(problem.cost_cny, problem.forbidden)
    rank_of = dict(zip(zip(x_site.tolist(), x_type.tolist()),
                       column_ranks(x_site, x_type, problem.n_types).tolist()))
    scored = [(plan_value(problem, dense, p), p) for p in plans(problem)]
    scored = [(v, p) for v, p in scored if v is not None]
    if not scored:
        return None
    best = max(v for v, _ in scored)
    tol = 1e-6 * max(1.0, abs(best))
    top = [p for v, p in scored if v >= best - tol]
    key = [(sum(problem.cost_cny[j, k] for j, k in p), sum(rank_of[(j, k)] for j, k in p)) for p in top]
    least = min(key)
    return best, least[0], least[1], [set(p) for p, kk in zip(top, key) if kk == least]


def _instances(kwargs, want=2, n_sites=5):
    found, seed = [], 0
    while len(found) < want and seed < 60:
        problem, dense = random_service_problem(seed, n_sites=n_sites, **kwargs)
        seed += 1
        if not problem.capacitated_groups().any():
            continue
        answer = _canonical(problem, dense)
        if answer is not None:
            found.append((problem, dense, answer))
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_benders_route_matches_brute_force_and_least_cost(case):
    checked = 0
    for problem, _dense, (best, cost, rank_sum, canonical) in _instances(CASES[case]):
        solution = solve_problem(problem, "highs")
        assert solution.status == Status.OPTIMAL
        assert solution.objective == pytest.approx(best, abs=1e-6 * max(1.0, best))
        assert solution.bound == pytest.approx(best, abs=1e-6 * max(1.0, best))
        if applies(problem):
            checked += 1
            assert "benders" in solution.model_stats
            assert solution.spent_cny == pytest.approx(cost)
            stages = {s["stage"]: s["status"] for s in solution.model_stats["stages"]}
            assert stages["cost"] == "optimal" and stages["rank"] == "optimal"
            plan = set(zip(solution.site.tolist(), solution.type.tolist()))
            assert plan in canonical
            if len(canonical) == 1:
                assert solution.model_stats["canonical"]
    if case != "floors":
        assert checked  # the route ran on this case


def _oracle_case(seed=3, **extra):
    kwargs = dict(CASES["linear-existing"]) | extra
    problem, dense = random_service_problem(seed, n_sites=5, **kwargs)
    x_site, x_type = facility_columns(problem.cost_cny, problem.forbidden)
    return problem, dense, x_site, x_type, AssignmentOracle(problem, x_site, x_type)


def test_cuts_are_valid_everywhere_and_tight_where_taken():
    problem, _dense, x_site, x_type, oracle = _oracle_case()
    rng = np.random.default_rng(0)
    n = x_site.size
    points = [np.array(p, float) for p in itertools.product([0, 1], repeat=n)]
    points += [rng.random(n) for _ in range(6)]
    cuts, values = [], []
    for x in points:
        status, value, const, coef, total = oracle.solve(x)
        assert status == "optimal"
        assert const + coef @ x == pytest.approx(value, abs=1e-6 * max(1.0, value))  # tight
        cuts.append((const, coef))
        values.append(value)
        if set(np.unique(x)) <= {0.0, 1.0}:  # a plan: the oracle's total is evaluate()'s objective
            chosen = np.flatnonzero(x > 0.5)
            assert total == pytest.approx(evaluate(problem, x_site[chosen], x_type[chosen]).objective, abs=1e-6)
    for const, coef in cuts:  # every cut bounds the assignment's value at every point
        for x, value in zip(points, values):
            assert const + coef @ x >= value - 1e-6 * max(1.0, value)


def test_a_plan_no_assignment_can_make_fair_is_cut_off():
    equity = dict(min_share=np.array([0.6, 0.6]), per_circle=0.5, maximin=None)
    for seed in range(40):
        problem, dense, x_site, x_type, oracle = _oracle_case(seed, circles=2, equity=equity)
        if not applies(problem):
            continue
        n = x_site.size
        infeasible, feasible = [], []
        for bits in itertools.product([0, 1], repeat=n):
            x = np.array(bits, float)
            status, _v, const, coef, _t = oracle.solve(x)
            (feasible if status == "optimal" else infeasible).append((x, const, coef))
        if not infeasible or not feasible:
            continue
        for x, const, coef in infeasible:
            assert const + coef @ x < 0  # the phase-1 cut removes this plan...
        for x, *_ in feasible:
            for _x, const, coef in infeasible:
                assert const + coef @ x >= -1e-6  # ...and no plan an assignment can make fair
        return
    pytest.skip("no seed with both fair and unfair plans")


def test_cuts_are_reused_when_only_min_open_changes():
    from dataclasses import replace

    _CUTS.clear()
    problem, dense, *_ = _oracle_case(seed=5)
    first = solve_problem(problem, "highs")
    relaxed = replace(problem, min_open=np.zeros(problem.n_types, dtype=np.int64), budget_cny=problem.budget_cny * 1.2)
    second = solve_problem(relaxed, "highs", SolveOptions(), warm_start=(first.site, first.type))
    assert second.model_stats["benders"]["cuts_reused"] > 0
    best = max(v for v in (plan_value(relaxed, dense, p) for p in plans(relaxed)) if v is not None)
    assert second.status == Status.OPTIMAL and second.objective == pytest.approx(best, abs=1e-6)


def test_other_backends_keep_the_milp_route():
    problem, *_ = _oracle_case()
    assert applies(problem, "highs") and not applies(problem, "ortools-cpsat")
