"""Exact reductions of the coverage model (models/reduce.py) against brute force over every plan.

Sites are drawn in tight clusters so that domination (same type, cheaper, covering a superset,
alone on its site) actually happens; min_open and must_open are on in many instances, since they
are what makes dropping a dominated column delicate.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from support.bruteforce import brute_force, random_problem

from lifecircle.models.coverage import build_coverage_model
from lifecircle.models.reduce import (
    ceiling_model, cheapest_cover, dominated_columns, lazy_greedy, prune_plan, reduce_coverage,
)
from lifecircle.optimizer.solve.backends import REGISTRY, SolveOptions
from lifecircle.optimizer.errors import InfeasibleError
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.solve.reduced import solve_reduced
from lifecircle.optimizer.core.solution import evaluate

EXACT = [name for name, b in REGISTRY.items() if b.exact and b.available()]


def clustered_problem(seed: int):
    """A random instance whose sites sit in 3 tight clusters, with geometry for brute force."""
    rng = np.random.default_rng(seed)
    problem, geometry = random_problem(seed, n_points=24, n_sites=8, n_types=2, budget_share=0.3)
    centres = rng.uniform(200, 800, size=(3, 2))
    sites = centres[rng.integers(0, 3, 8)] + rng.normal(0, 25, (8, 2))
    pts = rng.uniform(0, 1000, size=(24, 2))
    d = np.hypot(pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1])
    ex_type, radius = geometry["ex_type"], geometry["radius"]
    dex = np.hypot(pts[:, None, 0] - 500.0, pts[:, None, 1] - 500.0)[:, :1].repeat(ex_type.size, axis=1)
    coverage, covered_before = {}, np.zeros_like(problem.covered_before)
    for (k, g) in problem.coverage:
        coverage[(k, g)] = sp.csr_matrix(d <= radius[k, g])
        covered_before[:, g] |= (dex[:, ex_type == k] <= radius[k, g]).any(axis=1)
    from dataclasses import replace

    problem = replace(problem, coverage=coverage, covered_before=covered_before)
    return problem, {"d": d, "dex": dex, "ex_type": ex_type, "radius": radius}


def columns(problem, index):
    return problem.cost_cny[index.x_site, index.x_type], problem.must_open[index.x_site] == index.x_type


@pytest.mark.parametrize("maker", [random_problem, clustered_problem])
def test_reduced_model_reaches_the_brute_force_optimum(maker):
    dropped = checked = 0
    for seed in range(40):
        problem, geometry = maker(seed)
        try:
            problem.precheck()
        except InfeasibleError:
            continue
        model, index = build_coverage_model(problem)
        cost, must = columns(problem, index)
        dominated = dominated_columns(index, cost, must, problem.min_open)
        dropped += int(dominated.sum())
        reduced = reduce_coverage(model, index, cost, problem.budget_cny, must, dominated)
        result = solve_linear(reduced.model, "highs", SolveOptions(presolve=False))
        best = brute_force(problem, geometry)
        if best is None:
            assert result.values is None, seed
            continue
        plan = reduced.full_x(result.values) > 0.5
        ev = evaluate(problem, index.x_site[plan], index.x_type[plan])
        assert ev.feasible, (seed, ev.violations)
        assert result.objective == pytest.approx(best, abs=1e-6), seed
        assert ev.objective == pytest.approx(best, abs=1e-6), seed
        checked += 1
    assert checked > 20 and dropped > 0  # the rule is exercised, not vacuous


def test_dominance_keeps_min_open_many_dominators():
    """Three canteens on single-type sites reaching the same point; min_open 2 keeps the two
    cheapest undominated ones and drops only columns with at least two dominators."""
    reach = np.ones((1, 3), dtype=bool)
    problem = CoverageProblem(
        group_names=("g",), type_names=("canteen",), site_ids=("A", "B", "C"),
        people=np.array([[5.0]]), group_weight=np.ones(1), serves=np.ones((1, 1), bool),
        coverage={(0, 0): sp.csr_matrix(reach)}, covered_before=np.zeros((1, 1), bool),
        cost_cny=np.array([[100.0], [200.0], [300.0]]), budget_cny=600.0,
        must_open=np.full(3, NO_TYPE), forbidden=np.zeros(3, bool), min_open=np.array([2]))
    _, index = build_coverage_model(problem)
    cost, must = columns(problem, index)
    # A dominates B and C, B dominates C; undominated: A only -> C has 1 undominated dominator < 2.
    assert dominated_columns(index, cost, must, problem.min_open).tolist() == [False, False, False]
    assert dominated_columns(index, cost, must, np.array([1])).tolist() == [False, True, True]


def test_a_column_on_a_shared_site_never_dominates():
    """Site B is cheaper and covers more, but it can also host the other type: no domination."""
    reach = np.array([[1, 1], [0, 1]], dtype=bool)
    problem = CoverageProblem(
        group_names=("g",), type_names=("t0", "t1"), site_ids=("A", "B"),
        people=np.array([[3.0], [4.0]]), group_weight=np.ones(1), serves=np.ones((2, 1), bool),
        coverage={(0, 0): sp.csr_matrix(reach), (1, 0): sp.csr_matrix(reach)},
        covered_before=np.zeros((2, 1), bool),
        cost_cny=np.array([[50.0, np.nan], [10.0, 10.0]]), budget_cny=60.0,
        must_open=np.full(2, NO_TYPE), forbidden=np.zeros(2, bool), min_open=np.zeros(2, int))
    _, index = build_coverage_model(problem)
    cost, must = columns(problem, index)
    assert not dominated_columns(index, cost, must, problem.min_open, any_type=False).any()
    # Issue 14's wider rule: B-t1 is dominated by its equal site-mate B-t0 (same site, as cheap,
    # earlier); B is then clean, so in a second round B-t0 dominates A.
    assert dominated_columns(index, cost, must, problem.min_open).tolist() == [True, False, True]


@pytest.mark.parametrize("solver", EXACT)
def test_solve_reduced_matches_brute_force_with_every_exact_backend(solver):
    for seed in range(12):
        problem, geometry = clustered_problem(seed)
        best = brute_force(problem, geometry)
        try:
            problem.precheck()
        except InfeasibleError:
            continue
        solution = solve_reduced(problem, solver)
        if best is None:
            assert not solution.has_plan
            continue
        assert solution.status == "optimal" and solution.objective == pytest.approx(best, abs=1e-6), seed


def test_ceiling_certificate_when_the_budget_does_not_bind():
    problem, geometry = random_problem(3, n_points=30, n_sites=7, budget_share=5.0, rules=False)
    solution = solve_reduced(problem)
    assert solution.model_stats["route"] == "ceiling"
    assert solution.objective == pytest.approx(brute_force(problem, geometry), abs=1e-6)
    assert solution.spent_cny <= problem.budget_cny


def test_greedy_prune_and_cover_keep_coverage_and_rules():
    for seed in range(20):
        problem, _ = random_problem(seed, budget_share=0.6)
        model, index = build_coverage_model(problem)
        cost, must = columns(problem, index)
        everything = lazy_greedy(index, cost, np.inf, must, np.ones(index.n_x, bool))
        n_sites = np.bincount(index.x_site[everything])
        assert np.all(n_sites <= 1)  # one facility per site
        pruned = prune_plan(index, cost, must, problem.min_open, everything)
        def value(plan, index=index):
            return float(index.class_weight[(index.class_rows @ plan.astype(float)) > 0].sum())

        assert value(pruned) == value(everything) and cost[pruned].sum() <= cost[everything].sum()
        assert np.all(pruned[must])
        ceiling = ceiling_model(model, index, cost, must)
        top = solve_linear(ceiling.model, "highs")
        if top.values is None:
            continue
        plan = ceiling.full_x(top.values) > 0.5
        cover = cheapest_cover(index, cost, must, problem.min_open, plan)
        assert value(cover) == value(plan)
        assert np.all(np.bincount(index.x_type[cover], minlength=problem.n_types) >= problem.min_open)
