"""Exact p-median: incumbent, Lagrangian bound and fixing, then a small MIP (issue 16).

The steps, each in :mod:`models.pmedian` (arrays only):

1. a greedy + fast-interchange plan gives the incumbent cost ``UB``;
2. subgradient steps on Beasley's Lagrangian give a bound ``L`` near the LP bound; the
   Lagrangian plan, improved by interchange, may lower ``UB`` (then the steps continue);
3. if ``L`` closes the gap (for integer data: ``L > UB - 1``), the incumbent is optimal and the
   bound source is ``lagrangian``;
4. otherwise a branch-and-bound on sites with a Lagrangian bound and fixing at every node
   (Beasley 1993) proves the optimum (bound source ``lagrangian``); small-p OR-Library
   instances close in under 150 nodes;
5. should the tree run out of nodes or of its time share, sites and (point, site) pairs that
   no improving plan can use are fixed away, and Elloumi's ladder model of
   :func:`models.classic.build_pmedian` is built on what is left: for OR-Library a few hundred
   to a few tens of thousands of pairs instead of ``n (m - p + 1)``. The MIP then proves its
   optimum (bound source ``mip``), or proves that nothing better than the incumbent exists.

With integer costs and weights an improving plan costs at most ``UB - 1``; the fixing uses that
target, so the incumbent itself may be fixed away: an infeasible reduced model then proves it.
Instances whose dense cost matrix would not fit (:data:`MAX_CELLS`) return ``None`` and take the
plain ladder path of :mod:`.solve`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from lifecircle.models import classic as cm
from lifecircle.models import pmedian as pm
from lifecircle.optimizer.classic.result import ClassicResult
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.classic.params import check_p, reachable_or_fail
from lifecircle.optimizer.solve.backends import SolveOptions, get_backend
from lifecircle.optimizer.solve.backends.base import relative_gap
from lifecircle.optimizer.solve.linear import solve_linear

MAX_CELLS = 6_000_000  # dense (n, m) float64 cost matrix: 48 MB, a few temporaries of that size
TREE_SHARE = 0.5  # of the time limit for the Lagrangian tree before the MIP takes over
# Nodes before the MIP takes over. Small p (a real LP gap, few free sites after fixing) closes in
# under 150 nodes on OR-Library; large p (LP bound tight, incumbent a few units off, hundreds of
# free sites) wanders wide (pmed20: 519 nodes, 36 s) where the reduced MIP finds the plan in 2 s.
TREE_NODES = 150
TREE_DEFAULT_S = 120.0  # the tree's time limit share without one: 60 s


def _integral(costs: cm.CostTable, w: np.ndarray) -> bool:
    return bool(np.all(costs.cost == np.round(costs.cost)) and np.all(w == np.round(w)))


def reduced_table(D: np.ndarray, red: pm.Reduction, big: float) -> cm.CostTable:
    """The pairs the fixing keeps, as a :class:`CostTable` on the original site indices."""
    i, j = np.nonzero(red.keep_pair & (D < big))
    return cm.CostTable(D.shape[0], D.shape[1], i, j, D[i, j])


def solve_pmedian_exact(instance, p: int | None, solver: str, options: SolveOptions | None,
                        read_s: float = 0.0, *, tree: bool = True) -> ClassicResult | None:
    """p-median by incumbent, Lagrangian fixing and a reduced MIP (see the module docstring).

    Checks ``p`` and reachability as :func:`.solve.build_classic` does (same errors), and the
    backend before any work. Returns ``None`` when the dense cost matrix exceeds
    :data:`MAX_CELLS` or when the incumbent leaves a weighted point unserved. ``tree=False``
    skips the Lagrangian tree (the MIP proves the rest).
    """
    t0 = time.perf_counter()
    get_backend(solver, "milp")  # an unknown, missing or non-MIP backend fails as on the other path
    p = check_p(instance, p, "pmedian")
    n, m = instance.n_demand, instance.n_sites
    if n * m > MAX_CELLS:
        return None
    costs = instance.cost_table()
    reachable_or_fail(instance, costs, instance.weights > 0, "pmedian")
    options = options or SolveOptions()
    w = np.asarray(instance.weights, dtype=float)
    big = pm.unreachable_cost(costs.cost, w)
    D = pm.dense_costs(n, m, costs.demand, costs.site, costs.cost, big)
    sites, ub = pm.interchange(D, w, p)
    if ub >= big:  # the heuristic leaves a point unserved: maybe no plan serves all; the plain
        return None  # ladder MIP decides (and reports infeasible when none does)
    delta = 1.0 if _integral(costs, w) else 0.0
    tol = 1e-9 * max(1.0, abs(ub))
    lag = pm.lagrangian_bound(D, w, p, ub, target=ub - delta + tol if delta else ub)
    better, ub2 = pm.interchange(D, w, p, start=lag.chosen)
    if ub2 < ub - tol:  # the Lagrangian plan, improved, beats the greedy one
        sites, ub = better, ub2
        if lag.bound <= ub - delta + tol:
            lag2 = pm.lagrangian_bound(D, w, p, ub, target=ub - delta + tol if delta else ub,
                                       u0=lag.u)
            lag = lag2 if lag2.bound > lag.bound else lag
    t1 = time.perf_counter()
    # The presolve keys every classic consumer reads (bench rows): sites before -> after the
    # fixing; demand points are the classes here and none are merged.
    stats = {"sites_before": m, "sites_after": m, "classes_before": n, "classes_after": n,
             "incumbent": ub, "lagrangian_bound": round(lag.bound, 6),
             "lagrangian_iterations": lag.iterations, "pairs": costs.n_pairs}
    timings = {"read": round(read_s, 4), "build": round(t1 - t0, 4), "solve": 0.0}

    def result(plan, status, bound, source, message, size, termination=None):
        objective = cm.pmedian_cost(costs, w, plan)
        if status == Status.OPTIMAL:
            bound = objective
        termination = termination or (Termination.OPTIMAL if status == Status.OPTIMAL
                                       else Termination.TIME_LIMIT)
        return ClassicResult(
            instance.name, "pmedian", solver, str(status), objective, bound,
            relative_gap(objective, bound), [instance.site_ids[int(j)] for j in plan], None,
            None, timings, size, message, presolve=stats, termination=str(termination),
            bound_source=str(source))

    no_model = {"rows": 0, "cols": 0, "nonzeros": 0, "binaries": 0}
    target = ub - delta
    if lag.bound > target + tol:
        why = " and integer costs" if delta else ""
        return result(sites, Status.OPTIMAL, ub, BoundSource.LAGRANGIAN,
                      f"proved by the Lagrangian bound {lag.bound:.6g}{why}", no_model)
    # Lagrangian branch-and-bound on sites (Beasley 1993); the MIP below only if it runs out.
    budget_s = TREE_SHARE * (options.time_limit_s or TREE_DEFAULT_S) if tree else 0.0
    tree = pm.lagrangian_branch_and_bound(D, w, p, sites, ub, lag, delta, max_nodes=TREE_NODES,
                                          deadline=time.monotonic() + budget_s)
    stats["tree_nodes"] = tree.nodes
    if tree.cost < ub - tol:
        sites, ub = tree.sites, tree.cost
        stats["incumbent"] = ub
    if tree.proven:
        timings["solve"] = round(time.perf_counter() - t1, 4)
        return result(sites, Status.OPTIMAL, ub, BoundSource.LAGRANGIAN,
                      f"proved by Lagrangian branch-and-bound ({tree.nodes} nodes)", no_model)
    target = ub - delta
    red = pm.fix_by_lagrangian(D, w, p, lag, target)
    table = reduced_table(D, red, big)
    served = np.bincount(table.demand, minlength=n) > 0
    stats.update(sites_closed=int(red.closed.sum()), sites_forced_open=int(red.forced_open.sum()),
                 pairs_kept=table.n_pairs, sites_after=int(m - red.closed.sum()))
    if (not served[w > 0].all() or int((~red.closed).sum()) < p
            or int(red.forced_open.sum()) > p):
        # Some weighted point has no pair an improving plan could use: none exists.
        return result(sites, Status.OPTIMAL, ub, BoundSource.LAGRANGIAN,
                      "proved by Lagrangian fixing: no plan better than the incumbent remains",
                      no_model)
    lin = cm.build_pmedian(table, w, p)
    col_lower = lin.col_lower.copy()
    col_upper = lin.col_upper.copy()
    col_upper[:m][red.closed] = 0.0
    col_lower[:m][red.forced_open] = 1.0
    lin = replace(lin, col_lower=col_lower, col_upper=col_upper)
    size = {"rows": lin.n_rows, "cols": lin.n_cols, "nonzeros": int(lin.A.nnz),
            "binaries": int(lin.integrality.sum())}
    run = options
    if options.time_limit_s is not None:
        run = replace(run, time_limit_s=max(1.0, options.time_limit_s - (t1 - t0)))
    if not delta and options.warm_start is None:  # the incumbent is a plan of the reduced model
        run = replace(run, warm_start=cm.pmedian_start(table, w, p, sites))
    t2 = time.perf_counter()
    sol = solve_linear(lin, solver, run)
    timings["solve"] = round(time.perf_counter() - t2, 4)
    if sol.status == Status.INFEASIBLE:
        return result(sites, Status.OPTIMAL, ub, BoundSource.MIP,
                      "proved: the reduced model has no plan better than the incumbent", size)
    plan, status = sites, sol.status
    if sol.values is not None:
        found = cm.open_sites(lin, sol.values)
        value = cm.pmedian_cost(costs, w, found)
        if sol.status == Status.OPTIMAL and abs(value - sol.objective) > 1e-6 * max(1.0, value):
            raise SolverResultError(
                f"{sol.backend}: the plan's pmedian objective is {value:g} but the reduced model "
                f"says {sol.objective:g}; this is a bug in lifecircle, please report it")
        if value < ub - tol:
            plan = found
    if sol.status == Status.OPTIMAL:
        return result(plan, Status.OPTIMAL, None, BoundSource.MIP, sol.message, size)
    # Stopped early: every plan costs at least min(UB, the reduced model's bound), and at least L.
    mip_bound = -np.inf if sol.bound is None else min(ub, float(sol.bound))
    bound = max(lag.bound, mip_bound)
    source = BoundSource.MIP if mip_bound > lag.bound else BoundSource.LAGRANGIAN
    status = Status.FEASIBLE
    return result(plan, status, bound, source, sol.message, size, termination=sol.termination)


__all__ = ["MAX_CELLS", "solve_pmedian_exact", "reduced_table"]
