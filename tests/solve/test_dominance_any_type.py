"""Reduction 2 with a dominator of any type (issue 14): exact against brute force over many random
and clustered problems, dropping more columns than the same-type rule; and a hand-made case
showing why the dominator must be clean (or on the dominated column's own site)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from support.bruteforce import brute_force, random_problem

from lifecircle.models.coverage import build_coverage_model
from lifecircle.models.reduce import dominated_columns, reduce_coverage
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.errors import InfeasibleError
from lifecircle.optimizer.solve.linear import solve_linear


def clustered(seed: int):
    """Sites in 3 tight clusters, 3 types, many shared sites: domination of every kind happens."""
    rng = np.random.default_rng(1000 + seed)
    problem, geometry = random_problem(seed, n_points=20, n_sites=7, n_types=3, budget_share=0.3)
    sites = rng.uniform(200, 800, size=(3, 2))[rng.integers(0, 3, 7)] + rng.normal(0, 30, (7, 2))
    pts = rng.uniform(0, 1000, size=(20, 2))
    d = np.hypot(pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1])
    ex_type, radius = geometry["ex_type"], geometry["radius"]
    dex = np.full((20, ex_type.size), 1e9)  # no existing facility reaches anyone
    coverage = {(k, g): sp.csr_matrix(d <= radius[k, g]) for (k, g) in problem.coverage}
    from dataclasses import replace

    problem = replace(problem, coverage=coverage, covered_before=np.zeros_like(problem.covered_before))
    return problem, {"d": d, "dex": dex, "ex_type": ex_type, "radius": radius}


@pytest.mark.parametrize("maker", [random_problem, clustered])
def test_any_type_dominance_keeps_the_brute_force_optimum(maker):
    narrow = wide = checked = 0
    for seed in range(60):
        problem, geometry = maker(seed)
        try:
            problem.precheck()
        except InfeasibleError:
            continue
        best = brute_force(problem, geometry)
        model, index = build_coverage_model(problem)
        cost = problem.cost_cny[index.x_site, index.x_type]
        must = problem.must_open[index.x_site] == index.x_type
        old = dominated_columns(index, cost, must, problem.min_open, any_type=False)
        new = dominated_columns(index, cost, must, problem.min_open)
        assert not (old & ~new).any(), seed  # the wider rule drops everything the narrow one did
        narrow, wide = narrow + int(old.sum()), wide + int(new.sum())
        reduced = reduce_coverage(model, index, cost, problem.budget_cny, must, new)
        result = solve_linear(reduced.model, "highs")
        if best is None:
            assert result.values is None, seed
            continue
        plan = reduced.full_x(result.values) > 0.5
        ev = evaluate(problem, index.x_site[plan], index.x_type[plan])
        assert ev.feasible, (seed, ev.violations)
        assert ev.objective == pytest.approx(best, abs=1e-6), seed
        checked += 1
    assert checked >= 40 and wide > narrow  # exercised, and wider than the same-type rule


def problem_of(reach, cost, budget, min_open=None, people=None):
    n_points, n_sites = np.asarray(reach[0]).shape
    n_types = len(reach)
    return CoverageProblem(
        group_names=("g",), type_names=tuple(f"t{k}" for k in range(n_types)),
        site_ids=tuple(f"S{j}" for j in range(n_sites)),
        people=np.ones((n_points, 1)) if people is None else np.asarray(people, float)[:, None],
        group_weight=np.ones(1), serves=np.ones((n_types, 1), bool),
        coverage={(k, 0): sp.csr_matrix(np.asarray(r, bool)) for k, r in enumerate(reach)},
        covered_before=np.zeros((n_points, 1), bool), cost_cny=np.asarray(cost, float),
        budget_cny=float(budget), must_open=np.full(n_sites, NO_TYPE), forbidden=np.zeros(n_sites, bool),
        min_open=np.zeros(n_types, int) if min_open is None else np.asarray(min_open))


def test_a_dominator_whose_site_another_type_may_take_does_not_dominate():
    """Site X hosts only t0 (reaches point 0); site Y hosts t1 (points 0, 1) or t0 (point 2, 10
    people). Y-as-t1 is as cheap as X and covers more, but with budget 2 the optimum is X plus
    Y-as-t0 (11 people): dropping X would lose point 0. So X must stay."""
    reach_t0 = [[1, 0], [0, 0], [0, 1]]
    reach_t1 = [[0, 1], [0, 1], [0, 0]]
    problem = problem_of([reach_t0, reach_t1], [[1.0, np.nan], [1.0, 1.0]], 2.0, people=[1, 1, 10])
    _, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = np.zeros(index.n_x, bool)
    assert not dominated_columns(index, cost, must, problem.min_open).any()


def test_cross_type_dominance_by_a_clean_site_and_min_open():
    """Site A hosts t0 only (points 0, 1, cost 1); site B hosts t1 only (point 0, cost 2). A
    dominates B across types, unless t1 has a min_open count, which A cannot meet."""
    problem = problem_of([[[1, 0], [1, 0]], [[0, 1], [0, 0]]], [[1.0, np.nan], [np.nan, 2.0]], 3.0)
    _, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = np.zeros(index.n_x, bool)
    assert dominated_columns(index, cost, must, np.array([0, 0])).tolist() == [False, True]
    assert dominated_columns(index, cost, must, np.array([0, 1])).tolist() == [False, False]
    assert dominated_columns(index, cost, must, np.array([0, 0]), any_type=False).tolist() == [False, False]


def test_rounds_make_a_site_clean_once_its_other_column_is_dropped():
    """Site B hosts t0 (point 0, cost 5) and t1 (points 0, 1, 2, cost 1); site C hosts t0 only
    (point 1, cost 3). B-t0 is dominated by its site-mate B-t1 in the first round; B-t1 is then
    alone on B and dominates C-t0 across types in the second."""
    reach_t0 = [[1, 0], [0, 1], [0, 0]]
    reach_t1 = [[1, 0], [1, 0], [1, 0]]
    problem = problem_of([reach_t0, reach_t1], [[5.0, 1.0], [3.0, np.nan]], 4.0)
    _, index = build_coverage_model(problem)
    col_cost = problem.cost_cny[index.x_site, index.x_type]
    must = np.zeros(index.n_x, bool)
    columns = list(zip(index.x_site.tolist(), index.x_type.tolist()))
    dropped = dominated_columns(index, col_cost, must, problem.min_open)
    assert {columns[c] for c in np.flatnonzero(dropped)} == {(0, 0), (1, 0)}
