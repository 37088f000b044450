"""The classic models against plain enumeration on small random instances, for every exact backend.

Expected values come from brute force over every set of sites (``itertools.combinations``) on
dense numpy costs, independent of the sparse builders.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lifecircle.models.classic import CostTable, build_pcenter, build_pmedian
from lifecircle.optimizer.solve.backends import SolveOptions, exact_backends
from lifecircle.optimizer.classic.solve import build_classic, solve_classic
from lifecircle.optimizer.errors import CapabilityError, InfeasibleError, ScenarioError
from lifecircle.optimizer.classic.instance import ClassicInstance

BACKENDS = exact_backends()
SEEDS = [0, 1, 2]


def random_instance(seed: int, n=11, m=7, unreachable=0.0, integral=True) -> ClassicInstance:
    """Integer costs 0..30 (so CP-SAT can take them), some pairs unreachable, weights 0..9."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 31, size=(n, m)).astype(float)
    if not integral:
        cost = cost + rng.random((n, m))
    cost[rng.random((n, m)) < unreachable] = np.inf
    w = rng.integers(0, 10, size=n).astype(float)
    site_costs = rng.integers(1, 6, size=m).astype(float)
    return ClassicInstance(f"rand{seed}", tuple(range(1, n + 1)), tuple(f"s{j}" for j in range(m)),
                           w, costs=CostTable.from_dense(cost), site_costs=site_costs)


def dense(inst: ClassicInstance) -> np.ndarray:
    d = np.full((inst.n_demand, inst.n_sites), np.inf)
    d[inst.costs.demand, inst.costs.site] = inst.costs.cost
    return d


def plans(m, sizes):
    for k in sizes:
        yield from itertools.combinations(range(m), k)


def brute_mclp(inst, p, radius, budget=None):
    cov = dense(inst) <= radius
    sizes = [p] if budget is None else range(inst.n_sites + 1)
    best = -1.0
    for plan in plans(inst.n_sites, sizes):
        if budget is not None and inst.site_costs[list(plan)].sum() > budget:
            continue
        best = max(best, float(inst.weights[cov[:, list(plan)].any(axis=1)].sum()))
    return best


def brute_lscp(inst, radius):
    cov = dense(inst) <= radius
    for plan in plans(inst.n_sites, range(inst.n_sites + 1)):
        if cov[:, list(plan)].any(axis=1).all():
            return float(len(plan))
    return None


def brute_pmedian(inst, p):
    d = dense(inst)
    pos = inst.weights > 0
    return min(float((inst.weights[pos] * d[pos][:, list(plan)].min(axis=1)).sum())
               for plan in plans(inst.n_sites, [p]))


def brute_pcenter(inst, p):
    d = dense(inst)
    return min(float(d[:, list(plan)].min(axis=1).max()) for plan in plans(inst.n_sites, [p]))


def solve(inst, model, backend, **kw):
    return solve_classic(inst, model, solver=backend, options=SolveOptions(time_limit_s=60), **kw)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_mclp_matches_brute_force(backend, seed):
    inst = random_instance(seed)
    for p, radius in ((1, 10.0), (3, 8.0), (2, 0.0)):
        res = solve(inst, "mclp", backend, p=p, radius=radius)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(brute_mclp(inst, p, radius))
        assert len(res.selected) == p
        assert res.covered_weight == res.objective


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_budgeted_mclp_matches_brute_force(backend, seed):
    inst = random_instance(seed)
    res = solve(inst, "mclp", backend, budget=7.0, radius=9.0)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(brute_mclp(inst, None, 9.0, budget=7.0))
    chosen = [inst.site_ids.index(s) for s in res.selected]
    assert inst.site_costs[chosen].sum() <= 7.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_matches_brute_force(backend, seed):
    inst = random_instance(seed)
    radius = float(dense(inst).min(axis=1).max()) + 3.0  # every point coverable
    res = solve(inst, "lscp", backend, radius=radius)
    assert res.status == "optimal"
    assert res.objective == brute_lscp(inst, radius)
    assert res.uncovered_points == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_matches_brute_force(backend, seed):
    inst = random_instance(seed, unreachable=0.3 if seed == 2 else 0.0)
    for p in (1, 3):
        expected = brute_pmedian(inst, p)
        res = solve(inst, "pmedian", backend, p=p)
        if not np.isfinite(expected):  # every plan leaves some point with no reachable site
            assert res.status == "infeasible" and res.objective is None
            continue
        assert res.status == "optimal"
        assert res.objective == pytest.approx(expected)
        assert len(res.selected) == p


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_pcenter_matches_brute_force(backend, seed):
    inst = random_instance(seed)
    for p in (1, 2, 4):
        res = solve(inst, "pcenter", backend, p=p)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(brute_pcenter(inst, p))


def test_pcenter_with_unreachable_pairs_and_bounds():
    inst = random_instance(5, n=12, m=8, unreachable=0.25)
    d = dense(inst)
    for p in (2, 3, 5):
        expected = brute_pcenter(inst, p)
        if not np.isfinite(expected):
            continue
        res = solve(inst, "pcenter", "highs", p=p)
        assert res.objective == pytest.approx(expected)
        # a deliberately loose upper bound gives the same optimum
        model = build_pcenter(inst.costs, p, upper_bound=float(d[np.isfinite(d)].max()))
        assert model.n_cols >= build_pcenter(inst.costs, p).n_cols


def test_pmedian_model_is_smaller_than_assignment_model():
    inst = random_instance(3, n=40, m=40)
    model = build_pmedian(inst.costs, np.ones(40), 5)
    assert model.n_cols < 40 * 40 and model.A.nnz < 3 * 40 * 40


def test_non_integral_costs_declined_by_cpsat_with_message():
    inst = random_instance(0, integral=False)
    with pytest.raises(CapabilityError, match="ortools-cpsat.*highs"):
        solve(inst, "pmedian", "ortools-cpsat", p=2)
    assert solve(inst, "pmedian", "highs", p=2).objective == pytest.approx(brute_pmedian(inst, 2))


@pytest.mark.parametrize("p", [0, -1, 8])
def test_p_outside_range_refused(p):
    inst = random_instance(0)
    for model in ("mclp", "pmedian", "pcenter"):
        with pytest.raises(ScenarioError, match="--p"):
            build_classic(inst, model, p=p, radius=5.0)


def test_radius_covering_nothing_solves_with_zero():
    inst = random_instance(0)
    far = ClassicInstance("far", inst.demand_ids, inst.site_ids, inst.weights,
                          costs=CostTable.from_dense(dense(inst) + 100.0))
    res = solve(far, "mclp", "highs", p=2, radius=50.0)
    assert res.status == "optimal" and res.objective == 0.0
    assert res.uncovered_points == far.n_demand and len(res.selected) == 2


def test_lscp_infeasible_names_uncoverable_count():
    inst = random_instance(0)
    radius = float(dense(inst).min(axis=1).max()) - 1.0
    lost = int((dense(inst).min(axis=1) > radius).sum())
    with pytest.raises(InfeasibleError, match=f"infeasible, {lost} of 11 demand points"):
        build_classic(inst, "lscp", radius=radius)


def test_mclp_preselected_sites_stay_open():
    inst = random_instance(1)
    res = solve(inst, "mclp", "highs", p=3, radius=8.0, preselected=["s0", "s6"])
    assert {"s0", "s6"} <= set(res.selected) and len(res.selected) == 3
    cov = dense(inst) <= 8.0
    best = max(float(inst.weights[cov[:, [0, 6, j]].any(axis=1)].sum()) for j in range(1, 6))
    assert res.objective == pytest.approx(best)


def test_budget_needs_site_costs():
    inst = random_instance(0)
    bare = ClassicInstance("bare", inst.demand_ids, inst.site_ids, inst.weights, costs=inst.costs)
    with pytest.raises(ScenarioError, match="--site-costs"):
        build_classic(bare, "mclp", budget=3.0, radius=5.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_pmedian_warm_start_is_a_feasible_column_vector(seed):
    """The interchange plan, as build_pmedian's columns: every row holds, the cost is the plan's."""
    from lifecircle.models.classic import pmedian_cost, pmedian_interchange, pmedian_start

    inst = random_instance(seed, n=30, m=12, unreachable=0.2 if seed == 2 else 0.0)
    for p in (1, 3, 6):
        plan = pmedian_interchange(inst.costs, inst.weights, p)
        cost = pmedian_cost(inst.costs, inst.weights, plan) if plan is not None else np.inf
        if not np.isfinite(cost):
            assert plan is None  # no plan of p sites serves every weighted point
            continue
        assert plan.size == p and cost >= brute_pmedian(inst, p)
        model = build_pmedian(inst.costs, inst.weights, p)
        x = pmedian_start(inst.costs, inst.weights, p, plan)
        act = model.A @ x
        assert np.all(act >= model.row_lower - 1e-9) and np.all(act <= model.row_upper + 1e-9)
        assert model.c @ x + model.offset == pytest.approx(cost)
