"""Exact p-median (issue 16): interchange, Lagrangian bound, fixing and the reduced MIP.

Every reduction is checked against enumeration of all p-subsets on small random instances: the
fixing must keep every optimal plan (when its target admits it), the Lagrangian bound must stay
below the optimum, and the whole path must return the optimum with an honest bound source.
OR-Library pmed1-10 (skipped with a message when the data folder is absent) must be proven at
their published optima.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from lifecircle.models import pmedian as pm
from lifecircle.optimizer.classic.formats import read_known, read_orlib_pmed
from lifecircle.optimizer.classic.instance import ClassicInstance
from lifecircle.optimizer.classic.solve import solve_classic
from lifecircle.optimizer.solve.backends import SolveOptions
from tests.support.pmedian_brute import optimal_plans

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("LIFECIRCLE_ORLIB_DIR",
                      os.path.join(HERE, "..", "..", "..", "shared", "data", "orlib-pmed"))


def random_costs(seed: int, n: int = 12, m: int = 8, integral: bool = True, unit: float = 10.0):
    """Clustered points, some zero weights; integral costs count whole ``unit``s (many ties)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    sites = xy[rng.choice(n, size=m, replace=False)] + rng.normal(0, 5, size=(m, 2))
    D = np.hypot(*(xy[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(0, 5, size=n).astype(float)
    w[rng.integers(0, n)] = 3.0  # at least one weighted point
    if integral:
        D = np.round(D / unit)
    else:
        w = w * rng.uniform(0.5, 1.5, size=n)
    return D, w


def plan_survives(red: pm.Reduction, D, w, plan) -> bool:
    """True when the reduced instance still contains ``plan`` with its own assignments."""
    if red.closed[plan].any() or not np.isin(np.flatnonzero(red.forced_open), plan).all():
        return False
    near = D[:, plan].min(axis=1)
    for i in np.flatnonzero(w > 0):
        nearest = plan[D[i, plan] == near[i]]
        if not red.keep_pair[i, nearest].any():
            return False
    return True


@pytest.mark.parametrize("integral", [True, False])
def test_fixing_never_cuts_off_an_optimum(integral):
    """Fixing against any target >= the optimum keeps every optimal plan, with its assignments.

    The tightest target is the optimum itself; weaker incumbents (a random plan) are checked too,
    and the path's own integer target ``ub - 1`` whenever the optimum lies below it.
    """
    rng = np.random.default_rng(7)
    checked = 0
    for seed in range(25):
        D, w = random_costs(seed, integral=integral)
        for p in (1, 2, 3, 5):
            best, optima = optimal_plans(D, w, p)
            sites, ub = pm.interchange(D, w, p)
            assert ub >= best - 1e-9
            guess = rng.choice(D.shape[1], size=p, replace=False)
            weak = float(w @ D[:, guess].min(axis=1))
            for upper in (ub, weak):
                lag = pm.lagrangian_bound(D, w, p, upper, max_iter=200)
                assert lag.bound <= best + 1e-7 * max(1.0, best), (seed, p)
                targets = [best, upper] + ([upper - 1.0] if integral else [])
                for target in targets:
                    if best > target + 1e-9:
                        continue
                    red = pm.fix_by_lagrangian(D, w, p, lag, target)
                    for plan in optima:
                        assert plan_survives(red, D, w, plan), (seed, p, target, plan)
                        checked += 1
            # With target = ub the incumbent itself always survives.
            lag = pm.lagrangian_bound(D, w, p, ub, max_iter=200)
            assert plan_survives(pm.fix_by_lagrangian(D, w, p, lag, ub), D, w, sites)
    assert checked > 200  # the assertion above ran on many optima, not vacuously


def test_interchange_plan_is_feasible_and_its_cost_recomputes():
    for seed in range(20):
        D, w = random_costs(seed, n=30, m=15, integral=seed % 2 == 0)
        for p in (1, 4, 9, 15):
            sites, cost = pm.interchange(D, w, p)
            assert sites.size == p and np.unique(sites).size == p
            assert sites.min() >= 0 and sites.max() < 15
            assert cost == pytest.approx(float(w @ D[:, sites].min(axis=1)))
            # No single swap improves it (it stops at a local optimum).
            if p < 15:
                closed = np.setdiff1d(np.arange(15), sites)
                for s in sites[:3]:
                    for j in closed[:5]:
                        plan = np.append(sites[sites != s], j)
                        assert float(w @ D[:, plan].min(axis=1)) >= cost - 1e-9


def instance_of(D, w, p=None, name="random") -> ClassicInstance:
    from lifecircle.models.classic import CostTable

    n, m = D.shape
    return ClassicInstance(name=name, demand_ids=[f"d{i}" for i in range(n)],
                           site_ids=[f"s{j}" for j in range(m)], weights=w,
                           costs=CostTable.from_dense(D), p=p)


@pytest.mark.parametrize("integral", [True, False])
def test_exact_path_matches_brute_force(integral):
    sources = set()
    for seed in range(12):
        D, w = random_costs(100 + seed, n=14, m=9, integral=integral)
        if seed % 3 == 0:
            D[0, 1:] = np.inf  # some unreachable pairs: point 0 sees only site 0
        for p in (2, 3):
            best, _ = optimal_plans(np.where(np.isfinite(D), D, 1e9), w, p)
            res = solve_classic(instance_of(D, w), "pmedian", p=p, solver="highs")
            assert res.status == "optimal" and res.objective == pytest.approx(best)
            assert res.bound == pytest.approx(best) and res.gap == 0
            assert res.bound_source in ("lagrangian", "mip") and res.termination == "optimal"
            sources.add(res.bound_source)
    assert sources  # at least one proof route ran


@pytest.mark.parametrize("integral", [True, False])
def test_mip_route_matches_brute_force(integral):
    """Without the Lagrangian tree, the reduced ladder MIP proves the optimum (source ``mip``)."""
    from lifecircle.optimizer.classic.pmedian import solve_pmedian_exact

    sources = []
    for seed in range(8):
        D, w = random_costs(300 + seed, n=30, m=14, integral=integral, unit=1.0)
        for p in (2, 3):
            best, _ = optimal_plans(D, w, p)
            res = solve_pmedian_exact(instance_of(D, w), p, "highs", None, tree=False)
            assert res.status == "optimal" and res.objective == pytest.approx(best)
            assert res.bound == pytest.approx(best)
            sources.append(res.bound_source)
    if not integral:  # integer data mostly close by fixing against UB - 1 before any MIP
        assert sources.count("mip") >= 4  # the reduced MIP, not only the root bound, proved some


def test_tree_on_a_time_budget_of_zero_is_unproven_with_a_valid_bound():
    D, w = random_costs(5, n=40, m=25, integral=False)
    sites, ub = pm.interchange(D, w, 3)
    lag = pm.lagrangian_bound(D, w, 3, ub, max_iter=20)
    tree = pm.lagrangian_branch_and_bound(D, w, 3, sites, ub, lag, deadline=0.0)
    assert not tree.proven and tree.nodes == 0
    assert tree.bound == lag.bound <= tree.cost == ub


orlib = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DATA, "pmedopt.txt")),
    reason=f"OR-Library p-median data not found at {os.path.normpath(DATA)} "
           "(set LIFECIRCLE_ORLIB_DIR to the folder with pmed1.txt ... pmedopt.txt)")


@orlib
@pytest.mark.parametrize("k", range(1, 11))
def test_orlib_pmedian_proven_with_its_bound_source(k):
    name = f"pmed{k}"
    inst = read_orlib_pmed(os.path.join(DATA, f"{name}.txt"))
    res = solve_classic(inst, "pmedian", solver="highs", options=SolveOptions(time_limit_s=120))
    assert res.status == "optimal" and res.termination == "optimal"
    assert res.objective == read_known(os.path.join(DATA, "pmedopt.txt"))[name]
    assert res.bound == res.objective and res.gap == 0
    assert res.bound_source in ("lagrangian", "mip")
    # The Lagrangian bound is a real lower bound, within 1 % of the optimum on OR-Library.
    lag = res.presolve["lagrangian_bound"]
    assert res.objective * 0.99 <= lag <= res.objective + 1e-6
