"""p-center by the search over distance levels (issue 16): published optima, brute force, bounds.

The OR-Library p-center optima are published in Daskin, M. S. (2000), "A new approach to solving
the vertex p-center problem to optimality: algorithm and computational results", Communications
of the Operations Research Society of Japan 45(9), 428-436, and again (all of pmed1-40) in
Calik, H. & Tansel, B. C. (2013), "Double bound method for solving the p-center location
problem", Computers & Operations Research 40(12), 2991-2999, Table 2. The data are not part of the
repository; they sit at ../shared/data/orlib-pmed beside it (or at $LIFECIRCLE_ORLIB_DIR).
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from lifecircle.models import pcenter as pc
from lifecircle.models.classic import CostTable, pcenter_cost
from lifecircle.optimizer.classic.formats import read_orlib_pmed
from lifecircle.optimizer.classic.instance import ClassicInstance
from lifecircle.optimizer.classic.pcenter import pcenter_table
from lifecircle.optimizer.classic.solve import solve_classic
from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.linear import solve_linear

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("LIFECIRCLE_ORLIB_DIR",
                      os.path.join(HERE, "..", "..", "..", "shared", "data", "orlib-pmed"))

# Daskin (2000); Calik & Tansel (2013), Table 2. Each also proven here (test below).
PUBLISHED_PCENTER = {"pmed1": 127, "pmed2": 98, "pmed3": 93, "pmed4": 74, "pmed5": 48,
                     "pmed6": 84, "pmed7": 64, "pmed8": 55, "pmed9": 37, "pmed10": 20}


@pytest.mark.skipif(not os.path.isfile(os.path.join(DATA, "pmed1.txt")),
                    reason=f"OR-Library data not found at {os.path.normpath(DATA)} (set "
                           "LIFECIRCLE_ORLIB_DIR to the folder with pmed1.txt ... pmed10.txt)")
@pytest.mark.parametrize("name", list(PUBLISHED_PCENTER))
def test_pcenter_pmed_is_proven_at_the_published_optimum(name):
    inst = read_orlib_pmed(os.path.join(DATA, f"{name}.txt"))
    res = solve_classic(inst, "pcenter", options=SolveOptions(time_limit_s=300))
    assert res.status == "optimal" and res.termination == "optimal"
    assert res.objective == PUBLISHED_PCENTER[name]  # integer costs: exactly
    assert res.bound == res.objective and res.gap == 0.0
    assert res.bound_source in ("certificate", "lp")
    sites = np.array([inst.site_ids.index(s) for s in res.selected])
    assert len(set(res.selected)) == inst.p
    assert pcenter_cost(inst.cost_table(), sites) == PUBLISHED_PCENTER[name]


# ---- brute force on small random instances -------------------------------------------------------

def random_instance(seed: int, n: int, m: int, *, unreachable: float = 0.0, zero_weights=False):
    rng = np.random.default_rng(seed)
    d = rng.integers(1, 60, size=(n, m)).astype(float)  # integer costs: many ties between levels
    d[rng.random((n, m)) < unreachable] = np.inf
    d[np.arange(n), rng.integers(0, m, size=n)] = rng.integers(1, 60, size=n)  # one reachable
    w = rng.integers(1, 9, size=n).astype(float)
    if zero_weights:
        w[rng.random(n) < 0.2] = 0.0
    ids = tuple(range(n)), tuple(range(m))
    return ClassicInstance(f"rand{seed}", ids[0], ids[1], w, costs=CostTable.from_dense(d)), d, w


def brute_pcenter(d: np.ndarray, w: np.ndarray, p: int) -> float:
    """min over all p-subsets of max_i w_i min_{j in S} d_ij (points of weight 0 ignored)."""
    keep = w > 0
    e = d[keep] * w[keep, None]
    best = np.inf
    for subset in itertools.combinations(range(d.shape[1]), p):
        best = min(best, float(e[:, list(subset)].min(axis=1).max(initial=0.0)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_weighted_pcenter_matches_brute_force(seed):
    inst, d, w = random_instance(seed, n=11, m=8, unreachable=0.2 if seed % 2 else 0.0,
                                 zero_weights=seed >= 3)
    for p in (1, 2, 3):
        expected = brute_pcenter(d, w, p)
        for method in ("levels", "compact"):
            res = solve_classic(inst, "pcenter", p=p, method=method, weighted=True)
            assert res.status == "optimal", (method, p)
            assert res.objective == pytest.approx(expected, rel=1e-12), (method, p)
            assert res.bound == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_levels_and_compact_agree_unweighted(seed):
    inst, d, _ = random_instance(100 + seed, n=20, m=12)
    for p in (2, 4):
        levels = solve_classic(inst, "pcenter", p=p, method="levels")
        compact = solve_classic(inst, "pcenter", p=p, method="compact")
        assert levels.status == compact.status == "optimal"
        assert levels.objective == compact.objective
        assert levels.objective == brute_pcenter(d, np.ones(len(d)), p)


def test_weighted_needs_pcenter_and_methods_are_named():
    from lifecircle.optimizer.errors import ScenarioError

    inst, _, _ = random_instance(0, n=6, m=4)
    with pytest.raises(ScenarioError, match="--pcenter-method: unknown method 'x'"):
        solve_classic(inst, "pcenter", p=2, method="x")
    with pytest.raises(ScenarioError, match="--weighted: only pcenter"):
        solve_classic(inst, "pmedian", p=2, weighted=True)


# ---- stopped searches report a valid bound --------------------------------------------------------

def euclidean_instance(n=60, seed=3):
    xy = np.random.default_rng(seed).uniform(0, 1000, (n, 2))
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    ids = tuple(range(1, n + 1))
    return ClassicInstance("rand", ids, ids, np.ones(n), costs=CostTable.from_dense(d))


def test_time_limited_pcenter_returns_a_plan_with_a_valid_bound():
    inst = euclidean_instance()
    optimum = solve_classic(inst, "pcenter", p=4)  # levels = compact = brute force: tests above
    assert optimum.status == "optimal"
    res = solve_classic(inst, "pcenter", p=4, options=SolveOptions(time_limit_s=1e-3))
    assert res.status == "feasible" and res.termination == "time_limit"
    # the closed-form bound (max_i min_j d_ij, "certificate"), or the covering LP's when the clock
    # allowed one LP before it was read ("lp"): which one depends on the machine's speed
    assert res.bound_source in ("certificate", "lp")
    assert res.bound <= optimum.objective + 1e-9 <= res.objective + 2e-9
    assert res.gap == pytest.approx((res.objective - res.bound) / res.objective)
    sites = np.array([inst.site_ids.index(s) for s in res.selected])
    assert len(sites) == 4 and res.objective == pcenter_cost(inst.costs, sites)


def test_search_stopped_after_any_number_of_checks_keeps_bound_below_optimum():
    """The real HiGHS answers the first k checks and the search is then told "no answer" (what
    a check cut by the clock says): at every k the plan and the bound bracket the optimum."""
    inst = euclidean_instance(n=50, seed=11)
    table = pcenter_table(inst, weighted=False)
    p = 5

    def checks_then_stop(k):
        done = [0]

        def check(model, limit, integral):
            if done[0] >= k:
                return pc.UNKNOWN, None, None
            done[0] += 1
            sol = solve_linear(model, "highs", SolveOptions(gap=0.99 if integral else 0.0))
            if sol.status == Status.INFEASIBLE:
                return pc.INFEASIBLE, None, None
            return pc.FEASIBLE, sol.values, sol.objective
        return check

    full = pc.pcenter_levels(table, p, checks_then_stop(10_000))
    assert full.proven and full.lower == full.radius
    n_checks = full.stats["lp_checks"] + full.stats["mip_checks"]
    assert n_checks >= 3
    sources = set()
    for k in range(n_checks):
        part = pc.pcenter_levels(table, p, checks_then_stop(k))
        assert part.lower <= full.radius <= part.radius
        assert part.radius == pcenter_cost(table, part.sites) and part.sites.size == p
        assert part.proven or part.stopped == "no_answer"
        sources.add(part.bound_source)
    assert sources >= {"certificate", "lp"}


def test_reduce_cover_keeps_the_covering_optimum():
    rng = np.random.default_rng(5)
    C = (rng.random((30, 14)) < 0.25).astype(float)
    C[np.arange(30), rng.integers(0, 14, 30)] = 1.0
    import scipy.sparse as sp

    R, kept = pc.reduce_cover(sp.csr_matrix(C))
    assert R.shape[0] <= 30 and kept.size <= 14

    def min_cover(M):
        best = np.inf
        for k in range(1, M.shape[1] + 1):
            for s in itertools.combinations(range(M.shape[1]), k):
                if (M[:, list(s)].sum(axis=1) > 0).all():
                    return k
        return best

    assert min_cover(R.toarray()) == min_cover(C)
