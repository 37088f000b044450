"""p-MCLP: merged demand, the Lagrangian bound and site fixing are exact (issue 16).

Against brute force over every plan of p sites on small random instances:

- every Lagrangian value (any multipliers) bounds the optimum;
- every plan better than the incumbent keeps every fixing, so the better of the incumbent and
  the fixed problem is the optimum; and the fixing is not vacuous (it fixes sites), and with a
  slack that is too large (delta = 2) it would cut off an optimum, so the test has teeth;
- the coordinate path (merge, dominance, bound-and-fix, MIP) equals the plain MIP on unmerged
  points and brute force;
- with spopt installed, the same objective as spopt's MCLP;
- the region search keeps exactly p sites, never loses coverage and often escapes a swap
  optimum; the fixed MIP (HiGHS with its heuristics off) honours --threads and a time limit.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models import classic as cm
from lifecircle.models import mclp_bound as mb
from lifecircle.optimizer.classic.instance import ClassicInstance
from lifecircle.optimizer.classic.solve import solve_classic
from lifecircle.optimizer.inputs.geo import pairs_matrix
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.linear import solve_linear

SEEDS = range(24)


def random_cover(seed):
    """(rows, weight, p): clustered-ish random coverage, whole or fractional weights."""
    rng = np.random.default_rng(seed)
    c, m = int(rng.integers(10, 40)), int(rng.integers(6, 12))
    dense = rng.random((c, m)) < rng.uniform(0.1, 0.35)
    dense[np.arange(c), rng.integers(0, m, size=c)] = True  # every class reachable
    weight = rng.integers(1, 30, size=c).astype(float)
    if seed % 4 == 3:
        weight = weight + rng.random(c)  # fractional: the strict test (delta = 0)
    return sp.csr_matrix(dense.astype(float)), weight, int(rng.integers(2, 5))


def every_plan(rows, weight, p):
    """(plans (q, m) bool, value (q,)) of every plan of exactly p sites."""
    m = rows.shape[1]
    combos = np.array(list(itertools.combinations(range(m), p)))
    plans = np.zeros((combos.shape[0], m), dtype=bool)
    plans[np.arange(combos.shape[0])[:, None], combos] = True
    hit = (plans.astype(float) @ rows.toarray().T) > 0
    return plans, (hit * weight[None, :]).sum(axis=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_bound_and_fixing_against_brute_force(seed):
    rows, weight, p = random_cover(seed)
    plans, value = every_plan(rows, weight, p)
    opt = value.max()
    rng = np.random.default_rng(100 + seed)
    for pi in (rng.random(weight.size) * weight, np.zeros(weight.size), weight):
        L, _, _ = mb.lagrangian_value(rows, weight, p, pi)
        assert L >= opt - 1e-9
    bf = mb.bound_and_fix(rows, weight, p, iterations=(200, 100))
    assert bf.value <= opt + 1e-9 and bf.bound >= opt - 1e-9
    assert np.isclose(mb.covered_value(rows, weight, bf.incumbent), bf.value)
    better = value > bf.value + 1e-9
    assert not (plans[better][:, bf.closed]).any()  # no better plan uses a closed site
    assert plans[better][:, bf.opened].all()  # and every better plan has the opened ones
    # the better of the incumbent and the best plan that keeps every fixing is the optimum
    keeps = ~(plans[:, bf.closed]).any(axis=1) & plans[:, bf.opened].all(axis=1)
    assert max(bf.value, value[keeps].max(initial=-np.inf)) == pytest.approx(opt)


def test_fixing_has_teeth():
    """Across the seeds the fixing decides sites, and an over-large slack (delta = 2 instead of
    1 for whole weights) would close a site that every optimal plan needs."""
    fixed, wrong = 0, 0
    for seed in SEEDS:
        rows, weight, p = random_cover(seed)
        if not np.all(weight == np.round(weight)):
            continue
        plans, value = every_plan(rows, weight, p)
        opt = value.max()
        # a plan one below the optimum as incumbent, and the LP-quality multipliers of a run
        lag = mb.lagrangian(rows, weight, p, opt, iterations=300)
        L, r, _ = mb.lagrangian_value(rows, weight, p, lag.pi)
        z = value[value < opt].max(initial=opt)
        closed, opened = mb.fix_sites(r, L, p, z, True)
        fixed += int(closed.sum() + opened.sum())
        too_far, _ = mb.fix_sites(r, L, p, z + 1, True)  # as if delta were 2
        best = plans[value == opt]
        wrong += int((best[:, too_far].any(axis=1)).all())
    assert fixed > 20
    assert wrong > 0


def points_instance(seed, n=36):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 40, size=(3, 2))
    xy = np.round(centres[rng.integers(0, 3, size=n)] + rng.normal(size=(n, 2)) * 5, 1)
    w = rng.integers(1, 50, size=n).astype(float)
    ids = tuple(range(1, n + 1))
    return ClassicInstance(f"c{seed}", ids, ids, w, demand_xy=xy, site_xy=xy)


@pytest.mark.parametrize("seed", range(20))
def test_points_path_equals_plain_mip_and_brute_force(seed):
    inst = points_instance(seed)
    p, radius = 2 + seed % 3, 6.0
    res = solve_classic(inst, "mclp", p=p, radius=radius)
    cover = pairs_matrix(inst.demand_xy, inst.site_xy, radius)
    plain = solve_linear(cm.build_mclp(cover, inst.weights, p), "highs", SolveOptions())
    _, value = every_plan(sp.csr_matrix(cover), inst.weights, p)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(value.max())
    assert plain.objective == pytest.approx(value.max())
    assert len(res.selected) == p
    chosen = np.asarray(res.selected) - 1  # ids are 1..n
    assert mb.covered_value(sp.csr_matrix(cover), inst.weights, chosen) == pytest.approx(
        res.objective)


def test_points_path_through_the_fixed_mip_equals_plain_mip():
    """Larger instances, where some are not decided by the fixing and go on to the MIP."""
    routes = set()
    for seed in range(10):
        inst = points_instance(seed, n=150)
        res = solve_classic(inst, "mclp", p=5, radius=5.0)
        cover = pairs_matrix(inst.demand_xy, inst.site_xy, 5.0)
        plain = solve_linear(cm.build_mclp(cover, inst.weights, 5), "highs", SolveOptions())
        assert res.status == "optimal" and res.objective == pytest.approx(plain.objective)
        routes.add(res.presolve["bound_fix"]["sites_left"] > 0)
    assert routes == {True, False}  # both routes were taken


def test_same_objective_as_spopt():
    spopt = pytest.importorskip("spopt.locate", reason="spopt is not installed (the `bench` "
                                "extra): the comparison with spopt's MCLP is skipped")
    import pulp
    from scipy.spatial.distance import cdist

    inst = points_instance(7, n=120)
    model = spopt.MCLP.from_cost_matrix(cdist(inst.demand_xy, inst.site_xy), inst.weights, 6.0,
                                        p_facilities=6)
    model.solve(pulp.HiGHS(msg=False, gapRel=0.0), results=False)
    chosen = [j for j, v in enumerate(model.fac_vars) if v.varValue and v.varValue > 0.5]
    cover = sp.csr_matrix(pairs_matrix(inst.demand_xy, inst.site_xy, 6.0))
    theirs = mb.covered_value(cover, inst.weights, chosen)
    ours = solve_classic(inst, "mclp", p=6, radius=6.0)
    assert ours.objective == pytest.approx(theirs)


@pytest.mark.parametrize("seed", range(8))
def test_region_search_keeps_p_sites_and_never_loses(seed):
    rows, weight, p = random_cover(seed)
    _, value = every_plan(rows, weight, p)
    start = mb.swap_search(rows, weight, p)
    plan = mb.region_search(rows, weight, p, start)
    assert plan.size == np.unique(plan).size == p
    z0, z = mb.covered_value(rows, weight, start), mb.covered_value(rows, weight, plan)
    assert z0 - 1e-9 <= z <= value.max() + 1e-9


def test_region_search_escapes_swap_optima():
    """On clustered coordinates the swap search stops short of the optimum; the region search
    then finds better plans (of exactly p sites, within the brute-force optimum on the small
    instances above)."""
    better = 0
    for seed in range(6):
        inst = points_instance(seed, n=150)
        rows = sp.csr_matrix(pairs_matrix(inst.demand_xy, inst.site_xy, 5.0))
        start = mb.swap_search(rows, inst.weights, 8)
        plan = mb.region_search(rows, inst.weights, 8, start)
        assert plan.size == np.unique(plan).size == 8
        z0 = mb.covered_value(rows, inst.weights, start)
        z = mb.covered_value(rows, inst.weights, plan)
        assert z >= z0
        better += z > z0
    assert better >= 3


def test_fixed_mip_with_threads_and_a_time_limit():
    """The fixed MIP runs HiGHS directly (heuristics off): one thread gives the plain MIP's
    optimum, and a tiny time limit still returns a plan with a bound at or above it."""
    taken = 0
    for seed in range(10):
        inst = points_instance(seed, n=150)
        cover = pairs_matrix(inst.demand_xy, inst.site_xy, 5.0)
        one = solve_classic(inst, "mclp", p=5, radius=5.0, options=SolveOptions(threads=1))
        if one.presolve["bound_fix"]["sites_left"] == 0:
            continue
        taken += 1
        plain = solve_linear(cm.build_mclp(cover, inst.weights, 5), "highs", SolveOptions())
        assert one.status == "optimal" and one.objective == pytest.approx(plain.objective)
        quick = solve_classic(inst, "mclp", p=5, radius=5.0,
                              options=SolveOptions(time_limit_s=0.001))
        assert quick.status in ("optimal", "feasible")
        assert quick.objective <= plain.objective + 1e-9
        assert quick.bound >= plain.objective - 1e-9
    assert taken > 0
