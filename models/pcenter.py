r"""Exact p-center by a search over distance levels (Daskin 2000; Elloumi, Labbé & Pochet 2004;
Calik & Tansel 2013).

Arrays in, :class:`~models.linear.LinearModel` covering checks out; the solver is a callable
argument, so any registered backend can serve. Indices: ``i`` a demand point, ``j`` a site,
``w_i`` a weight, ``d_ij`` a cost. The weighted p-center minimises the largest weighted cost

.. math::
    \min_{S \subseteq J,\ |S| = p}\ \max_i\ w_i \min_{j \in S} d_{ij},

so with :math:`e_{ij} = w_i d_{ij}` it is the plain p-center on ``e`` (``w = 1``: the classic
one). Points of weight 0 never matter and are dropped.

The optimum is one of the distinct values :math:`r_1 < r_2 < \dots < r_K` of ``e``, and
radius :math:`r` is achievable with ``p`` sites iff the set cover

.. math::
    \min \sum_j x_j \quad\text{s.t.}\quad \sum_{j:\, e_{ij} \le r} x_j \ge 1\ \ \forall i,\quad
    \sum_j x_j \le p,\quad x \in \{0, 1\}^m

is feasible (an LSCP with at most ``p`` sites; fewer sites are padded, which cannot raise the
radius). Feasibility is monotone in :math:`r`, so the optimum is found by bisection between
bounds:

- ``LB0 = max_i min_j e_ij``: no plan does better (a closed form);
- ``UB``: the radius of a farthest-first plan (Gonzalez 1985) improved by swaps;
- the LP bound: the smallest level whose covering LP has value at most ``p`` (the LP of
  Elloumi's PCSC formulation, found by bisection over LPs, which take milliseconds);
- then the levels in ``[LB_LP, UB]``: the lowest first (on OR-Library the LP bound is usually
  the optimum), then bisection; each is answered by a greedy cover steered by its LP values when
  that finds ``p`` sites, else by a covering MIP. Every feasible check lowers ``UB`` to the radius its
  plan really achieves; every infeasible one raises the lower bound to the next level.

Each covering model is reduced before it is solved: identical rows merged, a row that contains
another row's sites dropped (covering the smaller covers it), and a site whose points are a subset
of another site's dropped (the other can replace it in any plan). A stopped search returns its
best plan with the lower bound proven so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.classic import CostTable
from lifecircle.models.linear import MINIMIZE, LinearModel, stack_rows

# Outcome of one covering check returned by the solver callable.
FEASIBLE, INFEASIBLE, UNKNOWN = "feasible", "infeasible", "unknown"

# A covering check: (model, time limit in seconds or None, integral) -> (outcome, values or None,
# objective or None). Integral checks may stop at their first plan; LP checks must be solved to
# optimality (outcome FEASIBLE with the optimal objective) or report UNKNOWN.
CoverCheck = Callable[[LinearModel, "float | None", bool], tuple]


def weighted_table(costs: CostTable, weights=None) -> CostTable:
    """The table of ``e_ij = w_i d_ij`` over the points of positive weight only.

    Parameters
    ----------
    costs : CostTable
    weights : (n,) array of numbers >= 0, optional
        None: every point has weight 1 (the table is returned as is).

    Returns
    -------
    CostTable
        One demand row per point of positive weight, in their order (renumbered from 0), so
        that a radius is a maximum over the points that matter.
    """
    if weights is None:
        return costs
    w = np.asarray(weights, dtype=float)
    positive = w > 0
    new_index = np.cumsum(positive) - 1
    keep = positive[costs.demand]
    return CostTable(int(positive.sum()), costs.n_sites, new_index[costs.demand[keep]],
                     costs.site[keep], costs.cost[keep] * w[costs.demand[keep]])


def radius_of(table: CostTable, sites: np.ndarray, active: np.ndarray) -> float:
    """The largest cost from an active point to its nearest open site (``inf`` if cut off)."""
    near = table.nearest(sites)
    return float(near[active].max(initial=0.0))


def active_points(table: CostTable) -> np.ndarray:
    """Mask of the points that appear in ``table`` (positive weight)."""
    return np.bincount(table.demand, minlength=table.n_demand) > 0


# ---- the covering model at one level ------------------------------------------------------------

def _subset_pairs(C: sp.csr_matrix, max_dense: int = 4_000_000):
    """Pairs ``(i, k)``, ``i != k``, where row ``k``'s set is contained in row ``i``'s.

    The row-overlap counts ``C C^T`` are nearly dense at the larger radii (most rows share a
    site), so below ``max_dense`` cells they come from one BLAS product (pmed27: 10 ms against
    0.3 s for the sparse product); above it, from the sparse one.
    """
    size = np.diff(C.indptr)
    n, m = C.shape
    if n * max(n, m) <= max_dense:
        dense = C.toarray().astype(np.float32)  # counts below 2**24 are exact
        inter = dense @ dense.T
        np.fill_diagonal(inter, -1.0)
        i, k = np.nonzero(inter == size[None, :].astype(np.float32))
        return i, k, size
    inter = (C @ C.T).tocoo()
    off = (inter.row != inter.col) & (inter.data == size[inter.col])
    return inter.row[off], inter.col[off], size


def _dominated(C: sp.csr_matrix) -> np.ndarray:
    """Rows of ``C`` whose set contains another row's (identical rows: keep the first)."""
    i, k, size = _subset_pairs(C)
    drop = (size[k] < size[i]) | ((size[k] == size[i]) & (k < i))
    out = np.zeros(C.shape[0], dtype=bool)
    out[i[drop]] = True
    return out


def reduce_cover(C: sp.csr_matrix, rounds: int = 3) -> tuple[sp.csr_matrix, np.ndarray]:
    """Drop covering rows implied by others and sites dominated by others.

    Parameters
    ----------
    C : (rows, m) sparse 0/1
        ``C[i, j] = 1`` when site ``j`` covers point ``i``; every row non-empty.
    rounds : int
        Row and column passes (each can enable the other).

    Returns
    -------
    (rows', m') sparse 0/1 and the (m',) original indices of the kept sites.
    """
    C = sp.csr_matrix(C, dtype=float)
    C.sum_duplicates()
    C.data[:] = 1.0
    _, rep = identical_row_classes(C)
    C = C[np.sort(rep)]
    sites = np.arange(C.shape[1])
    for _ in range(rounds):
        C = C[~_dominated(C)]
        T = sp.csr_matrix(C.T)
        drop = _subset_rows(T) | (np.diff(T.indptr) == 0)
        if not drop.any():
            break
        sites = sites[~drop]
        C = sp.csr_matrix(T[~drop].T)
    return C, sites


def _subset_rows(T: sp.csr_matrix) -> np.ndarray:
    """Rows of ``T`` whose set is contained in another row's (identical rows: keep the first)."""
    bigger, j, size = _subset_pairs(T)  # j is a subset of bigger
    drop = (size[bigger] > size[j]) | (bigger < j)
    out = np.zeros(T.shape[0], dtype=bool)
    out[j[drop]] = True
    return out


def cover_model(C: sp.csr_matrix, p: int, *, integral: bool) -> LinearModel:
    """``min sum x`` s.t. every row of ``C`` covered (and at most ``p`` sites when integral).

    The LP check leaves the count row out: its optimum compared with ``p`` is the test, and the
    value says how far a level is from feasible.
    """
    k, m = C.shape
    blocks = [("cover", C, 1.0, np.inf)]
    if integral:
        blocks.append(("count", sp.csr_matrix(np.ones((1, m))), -np.inf, float(p)))
    A, lo, hi, row_blocks = stack_rows(blocks)
    return LinearModel(
        sense=MINIMIZE, c=np.ones(m), A=A, row_lower=lo, row_upper=hi,
        col_lower=np.zeros(m), col_upper=np.ones(m),
        integrality=np.full(m, bool(integral)), integral_optimum=True,
        col_blocks={"open": slice(0, m)}, row_blocks=row_blocks)


def greedy_cover(C: sp.csr_matrix, p: int, score: np.ndarray | None = None) -> np.ndarray | None:
    """At most ``p`` columns of ``C`` covering every row, chosen greedily; None if they do not.

    Each step takes the column covering the most rows still uncovered, ties broken by ``score``
    (the covering LP's values: a column the LP likes is more likely in a small cover). A hit
    spares the MIP: on OR-Library it answers the LP-bound level of pmed12, 16, 21 and 27.
    """
    R = sp.csr_matrix(C)
    by_col = sp.csc_matrix(C)
    tie = np.zeros(R.shape[1]) if score is None else 1e-3 * np.asarray(score, dtype=float)
    uncovered = np.ones(R.shape[0], dtype=bool)
    chosen = []
    for _ in range(p):
        if not uncovered.any():
            break
        gain = np.asarray(R[uncovered].sum(axis=0)).reshape(-1)
        j = int(np.argmax(gain + tie))
        chosen.append(j)
        uncovered[by_col.indices[by_col.indptr[j]:by_col.indptr[j + 1]]] = False
    return None if uncovered.any() else np.asarray(chosen, dtype=np.int64)


# ---- heuristic plan: farthest first, then swaps -------------------------------------------------

def gonzalez(table: CostTable, p: int, active: np.ndarray) -> np.ndarray:
    """Farthest-first: open the site nearest to the worst-served point, ``p`` times.

    Returns ``p`` sites (padded with unused ones when the worst point has no free site left).
    """
    by_demand = sp.csr_matrix((table.cost + 1.0, (table.demand, table.site)),
                              shape=(table.n_demand, table.n_sites))
    by_site = sp.csr_matrix(by_demand.T)
    near = np.where(active, np.inf, -np.inf)
    nearest_any = table.nearest_cost_any()
    worst = int(np.argmax(np.where(active & np.isfinite(nearest_any), nearest_any, -1.0)))
    is_open = np.zeros(table.n_sites, dtype=bool)
    for _ in range(p):
        s, e = by_demand.indptr[worst], by_demand.indptr[worst + 1]
        cand, cost = by_demand.indices[s:e], by_demand.data[s:e]
        free = ~is_open[cand]
        if not free.any():
            break
        j = int(cand[free][np.argmin(cost[free])])
        is_open[j] = True
        s, e = by_site.indptr[j], by_site.indptr[j + 1]
        idx = by_site.indices[s:e]
        near[idx] = np.minimum(near[idx], by_site.data[s:e] - 1.0)
        worst = int(np.argmax(near))
    return _pad(np.flatnonzero(is_open), p, table.n_sites)


def _pad(sites: np.ndarray, p: int, m: int) -> np.ndarray:
    """``sites`` plus the lowest unused sites up to ``p`` (more sites never raise the radius)."""
    sites = np.unique(np.asarray(sites, dtype=np.int64))
    if sites.size < p:
        sites = np.union1d(sites, np.setdiff1d(np.arange(m), sites)[: p - sites.size])
    return sites


def improve_swaps(table: CostTable, sites: np.ndarray, active: np.ndarray, *,
                  max_cells: int = 2_000_000, max_rounds: int = 50, n_candidates: int = 25,
                  deadline: float | None = None) -> np.ndarray:
    """Swap local search on the radius: close one open site, open one near the worst point.

    Only sites nearer to the worst-served point than the current radius can lower the radius, so
    the ``n_candidates`` nearest of them are scored against every open site at once (nearest and
    second-nearest open costs, as in Whitaker's interchange). Skipped (plan returned as is) when
    the dense cost matrix would exceed ``max_cells``.
    """
    n, m = table.n_demand, table.n_sites
    p = sites.size
    if n * m > max_cells or p < 1 or p >= m:
        return sites
    D = np.full((n, m), np.inf)
    D[table.demand, table.site] = table.cost
    D = D[active]
    is_open = np.zeros(m, dtype=bool)
    is_open[sites] = True
    rows = np.arange(D.shape[0])
    for _ in range(max_rounds):
        if deadline is not None and time.perf_counter() > deadline:
            break
        opened = np.flatnonzero(is_open)
        Do = D[:, opened]
        order = np.argsort(Do, axis=1, kind="stable")[:, :2]
        best1 = Do[rows, order[:, 0]]
        best2 = Do[rows, order[:, 1]] if p > 1 else np.full(rows.size, np.inf)
        radius = float(best1.max())
        worst = int(np.argmax(best1))
        cand = np.flatnonzero((D[worst] < radius) & ~is_open)
        if cand.size == 0:
            break
        cand = cand[np.argsort(D[worst, cand], kind="stable")[:n_candidates]]
        # without[s_idx, i]: point i's cost once opened[s_idx] closes
        owner = order[:, 0]
        without = np.where(owner[None, :] == np.arange(p)[:, None], best2[None, :], best1[None, :])
        new = np.minimum(without[:, None, :], D[:, cand].T[None, :, :]).max(axis=2)  # (p, c)
        s_idx, c_idx = np.unravel_index(int(np.argmin(new)), new.shape)
        if new[s_idx, c_idx] >= radius:
            break
        is_open[opened[s_idx]] = False
        is_open[cand[c_idx]] = True
    return np.flatnonzero(is_open)


# ---- the search ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LevelSearch:
    """Outcome of :func:`pcenter_levels`.

    Attributes
    ----------
    sites : (p,) int array, the best plan found.
    radius : float, its (weighted) radius, recomputed from the sites.
    lower : float, a proven lower bound on the optimum (equal to ``radius`` when proven).
    proven : bool
    bound_source : str, ``"certificate"`` (a closed form or an infeasible covering MIP),
        or ``"lp"`` (an LP bound of the covering relaxation).
    stopped : str or None, ``"time_limit"`` or ``"no_answer"`` when the search stopped early.
    stats : dict, counts of levels and checks, for the result's ``size``.
    """

    sites: np.ndarray
    radius: float
    lower: float
    proven: bool
    bound_source: str
    stopped: str | None
    stats: dict


def _coverage_at(table: CostTable, r: float, active: np.ndarray) -> sp.csr_matrix:
    keep = table.cost <= r
    C = sp.csr_matrix((np.ones(int(keep.sum())), (table.demand[keep], table.site[keep])),
                      shape=(table.n_demand, table.n_sites))
    return C[np.flatnonzero(active)]


def pcenter_levels(table: CostTable, p: int, check: CoverCheck, *,
                   time_limit_s: float | None = None, use_lp: bool = True,
                   on_step: Callable[[str], None] | None = None) -> LevelSearch:
    """Solve the (weighted) p-center on ``table`` exactly by a search over its distance levels.

    Parameters
    ----------
    table : CostTable
        Costs already weighted (:func:`weighted_table`); every point in it reaches a site.
    p : int
        Number of sites, 1..m.
    check : callable
        ``check(model, time_limit_s, integral) -> (outcome, values, objective)`` with outcome
        :data:`FEASIBLE`, :data:`INFEASIBLE` or :data:`UNKNOWN`.
    time_limit_s : float, optional
        Wall-clock limit for the whole search; the best plan and the proven bound are returned.
    use_lp : bool
        Bisect with covering LPs first (the LP bound) before any MIP.
    on_step : callable, optional
        Called with a one-line description after each check (progress).

    Returns
    -------
    LevelSearch
    """
    start = time.perf_counter()
    deadline = None if time_limit_s is None else start + time_limit_s
    m = table.n_sites
    active = active_points(table)
    levels = np.unique(table.cost)
    stats = {"levels": int(levels.size), "lp_checks": 0, "mip_checks": 0, "greedy_hits": 0}
    lp_values = {}  # level index -> the covering LP's values, to steer the greedy cover
    if not active.any():  # nobody to serve: any p sites, radius 0
        sites = np.arange(p)
        return LevelSearch(sites, 0.0, 0.0, True, "certificate", None, stats)
    lb0 = float(table.nearest_cost_any()[active].max())
    sites = improve_swaps(table, gonzalez(table, p, active), active, deadline=deadline)
    best = radius_of(table, sites, active)
    lo = int(np.searchsorted(levels, lb0))  # levels[lo] is not proven infeasible
    hi = int(np.searchsorted(levels, best))  # levels[hi] is achieved by ``sites``
    source = "certificate"
    stats.update(lb0=lb0, heuristic=best)

    def remaining():
        return None if deadline is None else max(deadline - time.perf_counter(), 0.0)

    def timed_out():
        return deadline is not None and time.perf_counter() >= deadline

    def say(text):
        if on_step is not None:
            on_step(text)

    stopped = None
    # LP bisection: the smallest level whose covering LP needs at most p sites.
    if use_lp and lo < hi:
        a, b = lo, hi  # levels[b] is LP-feasible (a plan achieves it)
        while a < b:
            if timed_out():
                stopped = "time_limit"
                break
            mid = (a + b) // 2
            C, _ = reduce_cover(_coverage_at(table, levels[mid], active))
            outcome, x, value = check(cover_model(C, p, integral=False), remaining(), False)
            stats["lp_checks"] += 1
            lp_values[mid] = x
            if outcome != FEASIBLE or value is None:
                stopped = "time_limit" if timed_out() else "no_answer"
                break
            if value > p + 1e-6:
                a = mid + 1
            else:
                b = mid
            say(f"LP at {levels[mid]:g}: {value:.4g} sites")
        if a > lo:
            lo, source = a, "lp"
        stats["lp_bound"] = float(levels[lo])
    # MIP checks: the lowest open level first, then bisection.
    first = True
    while lo < hi and stopped is None:
        if timed_out():
            stopped = "time_limit"
            break
        mid = lo if first else (lo + hi) // 2
        first = False
        C, kept = reduce_cover(_coverage_at(table, levels[mid], active))
        quick = greedy_cover(C, p, lp_values.get(mid))
        if quick is not None:
            outcome, values = FEASIBLE, np.zeros(kept.size)
            values[quick] = 1.0
            stats["greedy_hits"] += 1
        else:
            outcome, values, _ = check(cover_model(C, p, integral=True), remaining(), True)
            stats["mip_checks"] += 1
        if outcome == FEASIBLE:
            plan = _pad(kept[np.asarray(values)[: kept.size] > 0.5], p, m)
            r = radius_of(table, plan, active)
            if r < best:
                best, sites = r, plan
                hi = int(np.searchsorted(levels, best))
            say(f"level {levels[mid]:g}: feasible, radius {r:g}")
        elif outcome == INFEASIBLE:
            lo, source = mid + 1, "certificate"
            say(f"level {levels[mid]:g}: infeasible")
        else:
            stopped = "time_limit" if timed_out() else "no_answer"
    stats["seconds"] = round(time.perf_counter() - start, 4)
    proven = lo >= hi
    lower = best if proven else float(levels[lo])
    return LevelSearch(np.asarray(sites, dtype=np.int64), best, lower, proven, source,
                       None if proven else stopped, stats)
