"""Coverage classes for millions of demand points, in chunks with bounded memory.

A demand point's coverage signature is the set of sites within reach. Points with the same
signature are interchangeable in every covering model, so they are merged into one class whose
weight is the sum of theirs (isomorphic aggregation). For a whole city this turns millions of
points into thousands of classes before any model is built.

Per chunk of points:

1. the one reach kernel, :func:`lifecircle.optimizer.inputs.geo.pairs_within`, finds every
   pair within the radius (inclusive; boundary pairs re-measured), as for every other caller;
2. the chunk's pairs form a sparse (points x sites) matrix, never a dense one;
3. :func:`models.aggregate.identical_row_classes` hashes each row (two sums of random 64-bit
   keys over its sites), groups the rows and verifies every merge site by site;
4. demand and point counts are summed per class with ``np.bincount``.

The chunks' class representatives are then merged once more, again with the verified
:func:`~models.aggregate.identical_row_classes`, so a class that spans chunks becomes one class.
Memory is bounded by the chunk size (one KD-tree and the chunk's pairs) plus the classes; no
Python loop runs over points or sites.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.optimizer.inputs.geo import pairs_matrix
from lifecircle.optimizer.classic.result import stop_facts
from lifecircle.optimizer.solve.backends.highs import PROVE_OPTIONS

CHUNK_POINTS = 1 << 20  # about 100 MB of tree and pairs per chunk at city densities


@dataclass(frozen=True)
class CoverageClasses:
    """Demand points merged by coverage signature.

    Parameters
    ----------
    rows : (c, m) CSR 0/1 float, the sites covering each class (sorted indices, no empty rows).
    weight : (c,) summed demand weight of the class's points.
    count : (c,) number of points in the class.
    n_points : points read, covered or not.
    uncovered_points, uncovered_weight : points no site reaches (they leave every model).
    pairs : (point, site) pairs within the radius.
    timings_s : {"coverage": ..., "aggregate": ...}.
    """

    rows: sp.csr_matrix
    weight: np.ndarray
    count: np.ndarray
    n_points: int
    uncovered_points: int
    uncovered_weight: float
    pairs: int
    timings_s: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return int(self.weight.size)

    def covered(self, sites: np.ndarray) -> np.ndarray:
        """(c,) bool: the classes that an open set of sites covers."""
        x = np.zeros(self.rows.shape[1])
        x[np.asarray(sites, dtype=np.int64)] = 1.0
        return np.asarray(self.rows @ x).reshape(-1) > 0.5


def _merge(rows: sp.csr_matrix, weight: np.ndarray, count: np.ndarray):
    class_of, rep = identical_row_classes(rows)
    w = np.bincount(class_of, weights=weight, minlength=rep.size)
    c = np.bincount(class_of, weights=count, minlength=rep.size).astype(np.int64)
    return rows[rep], w, c


def coverage_classes(x: np.ndarray, y: np.ndarray, weight: np.ndarray, sites_xy: np.ndarray,
                     radius: float, chunk: int = CHUNK_POINTS) -> CoverageClasses:
    """Merge demand points (coordinates ``x``, ``y``, weights) by the sites within ``radius``.

    Points of weight 0 are kept in their classes (so ``count`` is exact); a class of weight 0
    is dropped by the presolve. See the module docstring for the method.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    weight = np.asarray(weight, dtype=float)
    n, m = x.size, sites_xy.shape[0]
    t_cover = t_agg = 0.0
    parts_rows, parts_w, parts_c = [], [], []
    uncovered_points, uncovered_weight, pairs = 0, 0.0, 0
    for start in range(0, n, chunk):
        t0 = time.perf_counter()
        stop = min(n, start + chunk)
        R = pairs_matrix(np.column_stack([x[start:stop], y[start:stop]]), sites_xy, radius)
        pairs += int(R.nnz)
        t1 = time.perf_counter()
        w = weight[start:stop]
        reached = np.diff(R.indptr) > 0
        uncovered_points += int((~reached).sum())
        uncovered_weight += float(w[~reached].sum())
        if reached.any():
            rows, cw, cc = _merge(R[reached], w[reached], np.ones(int(reached.sum())))
            parts_rows.append(rows)
            parts_w.append(cw)
            parts_c.append(cc)
        t_cover += t1 - t0
        t_agg += time.perf_counter() - t1
    t1 = time.perf_counter()
    if parts_rows:
        rows, w, c = _merge(sp.vstack(parts_rows, format="csr"), np.concatenate(parts_w),
                            np.concatenate(parts_c))
    else:
        rows, w, c = sp.csr_matrix((0, m)), np.zeros(0), np.zeros(0, dtype=np.int64)
    rows.sort_indices()
    t_agg += time.perf_counter() - t1
    return CoverageClasses(rows, w, c, n, uncovered_points, uncovered_weight, pairs,
                           {"coverage": round(t_cover, 4), "aggregate": round(t_agg, 4)})


# ---- the solve route for coordinate MCLP instances (classic --format cfl / xy-weights) ---------

def highs_lp_duals(rows: sp.csr_matrix, weight: np.ndarray, cost: np.ndarray, budget: float):
    """Row duals (pi per class, lambda for the budget) of the LP relaxation, from HiGHS.

    The LP is ``max w.y  s.t.  y - R x <= 0,  cost.x <= budget,  0 <= x, y <= 1``. Only the
    duals are used, and :func:`models.presolve.lagrangian_bound` recomputes a valid bound from
    them, so the sign convention is settled by taking the tighter of the two readings.
    """
    from lifecircle.models.linear import MAXIMIZE, LinearModel, stack_rows

    from lifecircle.optimizer.solve.backends.highs import highs_with

    k, m = rows.shape
    A, lo, hi, _blocks = stack_rows([
        ("cover", sp.hstack([-rows, sp.identity(k, format="csr")], format="csr"), -np.inf, 0.0),
        ("budget", sp.hstack([sp.csr_matrix(cost.reshape(1, m)), sp.csr_matrix((1, k))],
                             format="csr"), -np.inf, float(budget)),
    ])
    lp = LinearModel(MAXIMIZE, np.concatenate([np.zeros(m), weight]), A, lo, hi,
                     np.zeros(m + k), np.ones(m + k), np.zeros(m + k, dtype=bool))
    h = highs_with(lp)
    h.run()
    dual = np.asarray(h.getSolution().row_dual, dtype=float)
    if dual.size != k + 1:
        return np.zeros(k), 0.0
    from lifecircle.models.presolve import lagrangian_bound

    best = None
    for sign in (1.0, -1.0):
        pi, lam = sign * dual[:k], sign * dual[k]
        bound, _ = lagrangian_bound(rows, weight, cost, budget, pi, lam)
        if best is None or bound < best[0]:
            best = (bound, pi, lam)
    return best[1], best[2]


def _solve_pmclp_fixed(red, solver, options, extra: dict):
    """The reduced p-MCLP ``red`` (unit costs, budget p) by :func:`models.mclp_bound.bound_and_fix`
    and a MIP on what the fixing leaves. Returns (status, sites in ``red``'s columns, bound,
    objective, (termination, bound_source), size, message, backend) for the reduced problem.

    Every plan better than the incumbent lies in the fixed problem, so the optimum is the better
    of the incumbent and the fixed problem's optimum; a time-limited MIP's bound becomes
    ``max(incumbent, its bound)`` (plans outside it are worth no more than the incumbent),
    capped by the Lagrangian bound.
    """
    from dataclasses import replace

    from lifecircle.models import classic as cm
    from lifecircle.models.mclp_bound import bound_and_fix
    from lifecircle.models.presolve import presolve_budgeted_mclp

    from lifecircle.optimizer.solve.backends import Status
    from lifecircle.optimizer.solve.linear import solve_linear

    p = int(round(red.budget))
    t0 = time.perf_counter()
    bf = bound_and_fix(red.rows, red.weight, p)
    keep = ~bf.closed
    cols = np.flatnonzero(keep)
    forced = np.flatnonzero(bf.opened[cols])
    sub = presolve_budgeted_mclp(red.rows[:, cols], red.weight, np.ones(cols.size), float(p),
                                 forced=forced)
    extra["bound_fix"] = {"incumbent": bf.value, "lagrangian_bound": round(bf.bound, 6),
                          "iterations": bf.iterations, "closed": int(bf.closed.sum()),
                          "opened": int(bf.opened.sum()), "sites_left": sub.n_sites,
                          "classes_left": sub.n_classes, "seconds": round(time.perf_counter() - t0, 4)}
    best_local, best_value = bf.incumbent, bf.value
    if sub.n_sites == 0:  # the presolve decided the fixed problem
        if sub.offset > best_value:
            best_local, best_value = cols[sub.fixed_open], sub.offset
        return (Status.OPTIMAL, best_local, best_value, best_value, ("optimal", "lagrangian"),
                {"rows": 0, "cols": 0, "nonzeros": 0, "binaries": 0}, "solved by fixing", solver)
    lin = cm.build_mclp(sub.rows, sub.weight, site_costs=sub.cost, budget=sub.budget)
    # the incumbent as a warm start when the fixing kept it
    where = np.full(red.n_sites, -1)
    where[cols[sub.sites]] = np.arange(sub.n_sites)
    inc_open = np.setdiff1d(bf.incumbent, cols[sub.fixed_open])
    warm = options.warm_start
    if warm is None and np.all(where[inc_open] >= 0) and inc_open.size <= sub.budget:
        x = np.zeros(sub.n_sites)
        x[where[inc_open]] = 1.0
        C = -lin.A[lin.row_blocks["cover"]][:, lin.col_blocks["open"]]
        warm = np.concatenate([x, np.minimum(np.asarray(C @ x).reshape(-1), 1.0)])
    proving = solver == "highs" and warm is not None and options.warm_start is None
    sol = solve_linear(lin, solver, replace(options, warm_start=warm,
                                            highs_options=PROVE_OPTIONS if proving else options.highs_options))
    size = {"rows": lin.n_rows, "cols": lin.n_cols, "nonzeros": int(lin.A.nnz),
            "binaries": int(lin.integrality.sum())}
    facts = stop_facts(sol, True)
    bound = None if sol.bound is None else min(bf.bound, max(best_value, sol.bound + sub.offset))
    if sol.values is not None:
        value = float(sol.objective) + sub.offset
        if value > best_value:
            chosen = cm.open_sites(lin, sol.values)
            best_local = cols[np.union1d(sub.fixed_open, sub.sites[chosen]).astype(np.int64)]
            best_value = value
    status = sol.status
    if status == Status.INFEASIBLE or (sol.values is None and status != Status.OPTIMAL):
        status = Status.FEASIBLE  # the incumbent stands; the fixed problem held nothing better
    if sol.status in (Status.OPTIMAL, Status.INFEASIBLE):
        status, bound = Status.OPTIMAL, best_value
        facts = ("optimal", facts[1] or "mip")
    return (status, np.asarray(best_local, dtype=np.int64), bound, best_value, facts, size,
            sol.message, sol.backend)


def solve_mclp_points(instance, *, p=None, radius=None, budget=None, preselected=(),
                      solver=None, options=None, read_s: float = 0.0, presolve: bool | str = True,
                      method: str = "compact"):
    """MCLP (exactly ``p`` sites, or within ``budget``) on a coordinate instance, at city scale.

    read -> coverage -> aggregate (:func:`coverage_classes`) -> presolve
    (:func:`models.presolve.presolve_budgeted_mclp`) -> the compact model of
    :func:`models.classic.build_mclp` on what is left -> any backend through
    :func:`optimizer.linear_solve.solve_linear`. ``method="benders"`` solves the reduced problem
    with the cut loop of :mod:`models.benders` instead (its master on the same backend). The plan's coverage is
    recomputed from the classes and must equal the solver's objective plus the presolve's
    constant. Returns a :class:`optimizer.classic.result.ClassicResult` whose ``presolve`` holds the
    sizes before and after.

    With ``p``, the model is solved as a budget of ``p`` at unit cost: coverage never falls when
    a site opens, so the optimum is the same, and a plan with fewer sites is padded to exactly
    ``p`` with unused sites.
    """

    from lifecircle.models import classic as cm
    from lifecircle.models.presolve import greedy_budgeted, presolve_budgeted_mclp

    from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions, Status
    from lifecircle.optimizer.solve.backends.base import relative_gap
    from lifecircle.optimizer.classic.params import check_budget, check_p, check_radius, site_index
    from lifecircle.optimizer.classic.result import ClassicResult, stop_facts
    from lifecircle.optimizer.errors import ScenarioError, SolverResultError
    from lifecircle.optimizer.solve.linear import solve_linear

    solver = solver or DEFAULT_BACKEND
    options = options or SolveOptions()
    radius = check_radius(radius, "mclp")
    pre = site_index(instance, preselected) if preselected else np.zeros(0, dtype=np.int64)
    m = instance.n_sites
    if budget is not None:
        limit = check_budget(instance, budget, pre)
        cost = np.asarray(instance.site_costs, dtype=float)
    else:
        p = check_p(instance, p, "mclp")
        if pre.size > p:
            raise ScenarioError(f"--preselected: {pre.size} pre-selected sites but p={p}")
        cost, limit = np.ones(m), float(p)

    t0 = time.perf_counter()
    classes = coverage_classes(instance.demand_xy[:, 0], instance.demand_xy[:, 1],
                               instance.weights, instance.site_xy, radius)
    t1 = time.perf_counter()
    if presolve == "dominance":  # rules 1-3, no LP solve: what pays for p-MCLP (issue 16)
        red = presolve_budgeted_mclp(classes.rows, classes.weight, cost, limit, forced=pre)
    elif presolve:
        red = presolve_budgeted_mclp(classes.rows, classes.weight, cost, limit, forced=pre,
                                     lp_duals=highs_lp_duals)
    else:
        red = presolve_budgeted_mclp(classes.rows, classes.weight, cost, limit, forced=pre,
                                     max_rounds=0)
    t2 = time.perf_counter()

    extra = {}
    if red.n_sites == 0:
        status, chosen_local, bound_red, message = Status.OPTIMAL, np.zeros(0, np.int64), 0.0, \
            "solved by presolve"
        sol_objective, backend_name = 0.0, solver
        facts = ("optimal", "certificate")  # the presolve fixed every site: nothing to bound
        size = {"rows": 0, "cols": 0, "nonzeros": 0, "binaries": 0}
    elif method == "benders":
        from lifecircle.models.benders import benders_mclp

        def solve_master(model):
            master = solve_linear(model, solver, options)
            if master.values is None:
                raise SolverResultError(f"{solver}: the Benders master has no solution "
                                        f"({master.status}); please report it")
            return master.values, master.bound

        start = greedy_budgeted(red.rows, red.weight, red.cost, red.budget)
        res = benders_mclp(red.rows, red.weight, red.cost, red.budget, solve_master, start=start,
                           time_limit_s=options.time_limit_s)
        status = Status.OPTIMAL if res.optimal else Status.FEASIBLE
        facts = ("optimal" if res.optimal else "time_limit", "mip")  # the master's MIP bound
        chosen_local, bound_red, sol_objective = res.sites, res.bound, res.value
        backend_name, message = solver, f"benders: {res.iterations} iterations, {res.cuts} cuts"
        size = {"rows": res.cuts + 1, "cols": red.n_sites + 1, "nonzeros": None,
                "binaries": red.n_sites}
        extra["benders"] = {"iterations": res.iterations, "cuts": res.cuts}
    elif budget is None and presolve == "dominance":
        # p-MCLP (issue 16): incumbent, Lagrangian bound and exact site fixing, then the MIP
        # on the sites left (models/mclp_bound.py)
        status, chosen_local, bound_red, sol_objective, facts, size, message, backend_name = \
            _solve_pmclp_fixed(red, solver, options, extra)
    else:
        lin = cm.build_mclp(red.rows, red.weight, site_costs=red.cost, budget=red.budget)
        warm = options.warm_start
        if warm is None and solver == "highs":
            start = greedy_budgeted(red.rows, red.weight, red.cost, red.budget)
            x = np.zeros(red.n_sites)
            x[start] = 1.0
            C = -lin.A[lin.row_blocks["cover"]][:, lin.col_blocks["open"]]
            warm = np.concatenate([x, np.minimum(np.asarray(C @ x).reshape(-1), 1.0)])
        from dataclasses import replace

        sol = solve_linear(lin, solver, replace(options, warm_start=warm))
        facts = stop_facts(sol, True)
        backend_name, message = sol.backend, sol.message
        size = {"rows": lin.n_rows, "cols": lin.n_cols, "nonzeros": int(lin.A.nnz),
                "binaries": int(lin.integrality.sum())}
        if sol.values is None:
            status = sol.status
            chosen_local, bound_red, sol_objective = None, sol.bound, None
        else:
            status = sol.status
            chosen_local = cm.open_sites(lin, sol.values)
            bound_red, sol_objective = sol.bound, sol.objective
    t3 = time.perf_counter()

    timings = {"read": round(read_s, 4), "coverage": classes.timings_s["coverage"],
               "aggregate": classes.timings_s["aggregate"], "presolve": round(t2 - t1, 4),
               "solve": round(t3 - t2, 4)}
    timings["build"] = round(t2 - t0, 4)  # everything between read and solve, as in classic
    stats = dict(red.stats)
    stats.update(points=classes.n_points, pairs=classes.pairs,
                 points_out_of_reach=classes.uncovered_points, method=method)
    stats.update(extra)
    if chosen_local is None:
        return ClassicResult(instance.name, "mclp", backend_name, str(status), None,
                             None if bound_red is None else bound_red + red.offset, None, [],
                             None, None, timings, size, message, presolve=stats,
                             termination=facts[0], bound_source=facts[1])
    sites = np.union1d(red.fixed_open, red.sites[chosen_local]).astype(np.int64)
    if budget is None and sites.size < p:  # pad to exactly p (coverage cannot fall)
        unused = np.setdiff1d(np.arange(m), sites)
        sites = np.union1d(sites, unused[: p - sites.size])
    hit = classes.covered(sites)
    objective = float(classes.weight[hit].sum())
    if abs(objective - (sol_objective + red.offset)) > 1e-6 * max(1.0, abs(objective)):
        raise SolverResultError(
            f"{backend_name}: the plan covers {objective:g} but the reduced model says "
            f"{sol_objective:g} + {red.offset:g}; this is a bug in lifecircle, please report it")
    if float(cost[sites].sum()) > limit + 1e-9 * max(1.0, limit):
        raise SolverResultError(f"{backend_name}: the plan costs {cost[sites].sum():g} > {limit:g}")
    bound = None if bound_red is None else bound_red + red.offset
    if bound is not None and status == Status.OPTIMAL:
        bound = objective
    uncovered = int(classes.n_points - classes.count[hit].sum())
    return ClassicResult(
        instance.name, "mclp", backend_name, str(status), objective, bound,
        relative_gap(objective, bound), [instance.site_ids[int(j)] for j in sites], objective,
        uncovered, timings, size, message, presolve=stats, termination=facts[0],
        bound_source=facts[1])
