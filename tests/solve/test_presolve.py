"""Presolve of the aggregated budgeted MCLP (issue 8), against brute force over every plan.

- the aggregated and presolved model reaches the plain model's optimum with every exact backend;
- a dominated site is never needed (the optimum without it is the optimum);
- sites fixed open are in an optimal plan, and those fixed by reduced costs are in every one.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models.presolve import (
    dominated_sites, greedy_budgeted, lagrangian_bound, presolve_budgeted_mclp,
)
from lifecircle.optimizer.solve.backends import REGISTRY, SolveOptions
from lifecircle.optimizer.classic.points import highs_lp_duals, solve_mclp_points
from lifecircle.optimizer.classic.solve import solve_classic
from lifecircle.optimizer.classic.instance import ClassicInstance
from lifecircle.optimizer.inputs.geo import pairs_matrix

EXACT = [name for name, b in REGISTRY.items() if b.exact and b.available()]


def instance(seed, n=60, m=8, zero_cost=False):
    rng = np.random.default_rng(seed)
    pts = rng.integers(0, 30, size=(n, 2)).astype(float)
    sites = rng.integers(0, 30, size=(m, 2)).astype(float)
    if seed % 3 == 0:  # twins: equal coverage, so dominance ties are exercised
        sites[1] = sites[0]
    weight = rng.integers(0, 20, size=n).astype(float)
    cost = rng.integers(1, 10, size=m).astype(float)
    if zero_cost:
        cost[rng.integers(0, m)] = 0.0
    budget = float(rng.integers(3, int(cost.sum()) + 2))
    radius = float(rng.choice([4.0, 6.0, 9.0]))
    ids = tuple(range(n))
    inst = ClassicInstance(f"r{seed}", ids, tuple(f"s{j}" for j in range(m)), weight,
                           demand_xy=pts, site_xy=sites, site_costs=cost)
    return inst, radius, budget


def all_plans(cover, weight, cost, budget):
    """(plans as bool matrix, value per plan) for every affordable plan."""
    m = cover.shape[1]
    plans = np.array(list(itertools.product([0, 1], repeat=m)), dtype=bool)
    plans = plans[plans.astype(float) @ cost <= budget + 1e-9]
    value = (((plans.astype(float) @ cover.T.astype(float)) > 0) * weight[None, :]).sum(axis=1)
    return plans, value


def brute(inst, radius, budget):
    cover = pairs_matrix(inst.demand_xy, inst.site_xy, radius).toarray() > 0
    return all_plans(cover, inst.weights, inst.site_costs, budget)


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("seed", range(8))
def test_aggregated_presolved_optimum_equals_plain(seed, solver):
    inst, radius, budget = instance(seed, zero_cost=seed % 2 == 1)
    _plans, value = brute(inst, radius, budget)
    res = solve_classic(inst, "mclp", radius=radius, budget=budget, solver=solver)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(value.max(), abs=1e-9)
    chosen = np.array([int(s[1:]) for s in res.selected], dtype=np.int64)
    assert inst.site_costs[chosen].sum() <= budget
    ps = res.presolve
    assert ps["sites_before"] == inst.n_sites and ps["sites_after"] <= ps["sites_before"]


@pytest.mark.parametrize("seed", range(8))
def test_plain_compact_model_agrees_with_presolve(seed):
    from lifecircle.models import classic as cm
    from lifecircle.optimizer.solve.linear import solve_linear

    inst, radius, budget = instance(seed)
    cov = pairs_matrix(inst.demand_xy, inst.site_xy, radius)
    plain = solve_linear(cm.build_mclp(cov, inst.weights, site_costs=inst.site_costs,
                                       budget=budget), "highs")
    res = solve_classic(inst, "mclp", radius=radius, budget=budget)
    assert res.objective == pytest.approx(plain.objective)


@pytest.mark.parametrize("seed", range(12))
def test_dominated_sites_are_never_needed(seed):
    inst, radius, budget = instance(seed, m=9)
    cover = pairs_matrix(inst.demand_xy, inst.site_xy, radius).toarray() > 0
    pos = inst.weights > 0
    dom = dominated_sites(sp.csr_matrix(cover[pos].astype(float)), inst.site_costs)
    plans, value = all_plans(cover, inst.weights, inst.site_costs, budget)
    without = ~plans[:, dom].any(axis=1)
    assert value[without].max() == value.max()


def test_dominance_by_hand():
    # site 0 covers {a}, site 1 {a, b} at the same cost: 0 dominated; sites 2 and 3 are twins
    # ({c}) at equal cost: only the later one (3) is dominated; site 4 covers nothing.
    rows = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 1, 0]], float))
    dom = dominated_sites(rows, np.array([5.0, 5.0, 2.0, 2.0, 1.0]))
    assert dom.tolist() == [True, False, False, True, True]
    # a cheaper subset site is not dominated by a dearer superset
    dom = dominated_sites(rows, np.array([4.0, 5.0, 2.0, 3.0, 1.0]))
    assert dom.tolist() == [False, False, False, True, True]


@pytest.mark.parametrize("seed", range(12))
def test_fixed_sites_are_in_an_optimal_plan(seed):
    inst, radius, budget = instance(seed, m=9, zero_cost=True)
    cover = pairs_matrix(inst.demand_xy, inst.site_xy, radius)
    red = presolve_budgeted_mclp(cover, inst.weights, inst.site_costs, budget,
                                 lp_duals=highs_lp_duals)
    plans, value = all_plans(cover.toarray() > 0, inst.weights, inst.site_costs, budget)
    best = value.max()
    with_fixed = plans[:, red.fixed_open].all(axis=1)
    assert value[with_fixed].max() == best
    # the reduced problem plus the constant has the same optimum
    _sub_plans, sub_value = all_plans(red.rows.toarray() > 0, red.weight, red.cost, red.budget)
    assert sub_value.max() + red.offset == pytest.approx(best)
    assert red.incumbent_value <= best


@pytest.mark.parametrize("seed", range(16))
def test_reduced_cost_fixing_holds_in_every_optimal_plan(seed):
    inst, radius, budget = instance(seed, m=9)
    cover = sp.csr_matrix(pairs_matrix(inst.demand_xy, inst.site_xy, radius))
    keep = (np.diff(cover.indptr) > 0) & (inst.weights > 0)
    rows, weight = cover[keep], inst.weights[keep]
    cost = inst.site_costs
    plans, value = all_plans(rows.toarray() > 0, weight, cost, budget)
    pi, lam = highs_lp_duals(rows, weight, cost, budget)
    bound, r = lagrangian_bound(rows, weight, cost, budget, pi, lam)
    assert bound >= value.max() - 1e-6  # a valid bound
    g = value[np.all(plans == np.isin(np.arange(9), greedy_budgeted(rows, weight, cost, budget)),
                     axis=1)].max()
    decided = bound - np.abs(r) < g - 1e-9 * max(1, bound)
    optimal = plans[value == value.max()]
    for j in np.flatnonzero(decided):
        assert (optimal[:, j] == (r[j] > 0)).all()


def test_zero_cost_all_fit_and_unaffordable_by_hand():
    rows = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], float))
    weight = np.array([5.0, 7.0, 9.0, 4.0])
    # site 0 is free, site 2 costs more than the budget: open 0, drop 2, then 1 fits alone
    red = presolve_budgeted_mclp(rows, weight, np.array([0.0, 3.0, 11.0]), 10.0)
    assert red.fixed_open.tolist() == [0, 1] and red.n_sites == 0 and red.offset == 12.0
    assert red.stats["zero_cost_open"] == 1 and red.stats["unaffordable"] == 1
    assert red.stats["classes_before"] == 4 and red.stats["sites_after"] == 0
    # everything fits: all open at once
    red = presolve_budgeted_mclp(rows, weight, np.array([1.0, 1.0, 1.0]), 3.0)
    assert red.fixed_open.tolist() == [0, 1, 2] and red.offset == 21.0
    assert red.stats["all_fit"] == 3


def test_forced_sites_stay_open():
    rows = sp.csr_matrix(np.array([[1, 1], [0, 1]], float))
    red = presolve_budgeted_mclp(rows, np.array([5.0, 1.0]), np.array([1.0, 1.0]), 1.0,
                                 forced=[0])
    assert red.fixed_open.tolist() == [0] and red.offset == 5.0 and red.budget == 0.0


def test_p_mclp_route_pads_to_exactly_p():
    # two far-apart clients, four sites; p = 3 but two sites already cover everything
    inst = ClassicInstance("pad", (1, 2), ("a", "b", "c", "d"), np.array([3.0, 4.0]),
                           demand_xy=np.array([[0.0, 0.0], [100.0, 0.0]]),
                           site_xy=np.array([[0.0, 0.0], [100.0, 0.0], [50, 50], [60, 60]]))
    res = solve_mclp_points(inst, p=3, radius=1.0, options=SolveOptions())
    assert res.objective == 7.0 and len(res.selected) == 3 and {"a", "b"} <= set(res.selected)
