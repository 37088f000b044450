r"""Capacitated districts too large for the assignment MILP: a plan and a certified bound.

At 100,000 points × 10,000 sites the assignment model has about 19 million columns and HiGHS's
presolve alone needs more than 10 GiB. Above :data:`LARGE_REACH_PAIRS` (point, site) pairs
within reach of capacitated groups, :func:`solve_capacity_large` answers without that model:

* **Plan**: a lazy greedy over facility columns by capacity-limited gain per CNY. The gain of
  column :math:`f=(j,k)` is :math:`\sum_g w_g \min(q_{kg}, \sum_i d_{ifg} r_{ig})`, with
  :math:`r_{ig}` the people not yet served; opening :math:`f` serves that many, taken from its
  reach in proportion. Gains only fall as facilities open, so a stale gain is an upper bound and
  a popped column whose refreshed gain still leads is the true best (lazy evaluation).
  ``must_open`` columns open first; one facility per site; within the budget. The plan's value is
  :func:`optimizer.core.solution.evaluate`'s check of the optimal assignment of the merged
  transportation LP (:class:`optimizer.solve.assignment_lp.SwapLP`), split back over the points.
* **Bound** (``bound_source = ceiling``): the smaller of the reach ceiling (every pair at the best
  level any allowed site or existing facility gives it) and the capacity ceiling
  :math:`\mathrm{base} + \sum_e v_e + \max\{\sum_f v_f x_f : \sum_f c_f x_f \le B - c_{\mathrm{must}},
  0 \le x \le 1\}` where :math:`v_f = \sum_g w_g \min(q_{fg}, \text{people of } g \text{ it
  reaches})` bounds what facility :math:`f` can add (a gain is at most 1 per person served) and
  :math:`v_e` the same for existing capacitated facilities. Both are valid for every plan; the
  fractional knapsack is the LP relaxation of that relaxed problem, solved exactly by ratio order.
"""

from __future__ import annotations

import heapq
import logging
import time

import numpy as np
import scipy.sparse as sp

from lifecircle.models.coverage import facility_columns
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.solution import Solution, evaluate
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.core.tolerances import BUDGET_TOL, OBJECTIVE_TOL, PEOPLE_TOL
from lifecircle.optimizer.errors import ScenarioError, SolverResultError

logger = logging.getLogger(__name__)

# (point, site) pairs within reach of capacitated groups above which the assignment MILP is not
# built (the 20,000 × 2,000 district has 5.7 million and HiGHS found no bound in 600 s;
# yuzhong_capacity has about 0.6 million and solves)
LARGE_REACH_PAIRS = 3_000_000


def capacitated_reach_pairs(problem: CoverageProblem) -> int:
    """(point, site) pairs within reach in capacitated groups, over points with weighted people."""
    active = problem.weighted_people() > 0
    cap = problem.capacitated_groups()
    return int(sum(m[active[:, g]].nnz for (k, g), m in problem.coverage.items() if cap[g]))


def _columns(problem: CoverageProblem):
    """Facility columns: (site, type, cost)."""
    x_site, x_type = facility_columns(problem.cost_cny, problem.forbidden)
    cost = problem.cost_cny[x_site, x_type].astype(float)
    return x_site, x_type, cost


def column_values(problem, x_site, x_type, remaining, coef=None):
    """(n_x,) Σ_g w_g min(q, Σ_i d_if r_ig): what each column could add now (``coef`` instead of
    the group weights w_g when given)."""
    coef = problem.group_weight if coef is None else coef
    value = np.zeros(x_site.size)
    q_all = problem.type_capacity()
    for (k, g), _ in problem.coverage.items():
        cols = np.flatnonzero(x_type == k)
        if not cols.size or coef[g] == 0:
            continue
        reach = problem.weight_of(k, g)[:, x_site[cols]].T @ remaining[:, g]
        value[cols] += coef[g] * np.minimum(q_all[k, g], reach)
    return value


def capacity_ceiling(problem: CoverageProblem) -> float:
    """The bound of the module docstring (reach ceiling and capacity ceiling, the smaller)."""
    from lifecircle.optimizer.solve.equity import best_reach_level

    weighted = problem.weighted_people()
    base = problem.level_before()
    reach = float((weighted * best_reach_level(problem)).sum())
    x_site, x_type, cost = _columns(problem)
    open_people = problem.people * (1.0 - base) * (weighted > 0)
    v = column_values(problem, x_site, x_type, open_people)
    existing = 0.0
    if problem.existing_capacity is not None and problem.existing_reach is not None:
        for g, W in problem.existing_reach.items():
            q = problem.existing_capacity[:, g]
            finite = np.isfinite(q)
            if finite.any():
                people = (W[:, finite] > 0).T @ open_people[:, g]
                existing += problem.group_weight[g] * float(np.minimum(q[finite], people).sum())
    must = problem.must_open[x_site] == x_type
    budget = problem.budget_cny - float(cost[must].sum())
    total = float(v[must].sum())
    rest = np.flatnonzero(~must & (v > 0))
    free = rest[cost[rest] <= 0]
    total += float(v[free].sum())
    paid = rest[cost[rest] > 0]
    order = paid[np.argsort(-v[paid] / cost[paid], kind="stable")]
    spend = np.cumsum(cost[order])
    full = spend <= budget
    total += float(v[order[full]].sum())
    nxt = int(full.sum())
    if nxt < order.size and budget > 0:
        left = budget - (spend[nxt - 1] if nxt else 0.0)
        total += float(v[order[nxt]]) * max(0.0, left) / cost[order[nxt]]
    knapsack = float((weighted * base).sum()) + existing + total
    return min(reach, knapsack)


def _group_floors(problem: CoverageProblem) -> np.ndarray:
    """(G,) the equity floor on each group's covered share; NaN where none."""
    if problem.equity is None:
        return np.full(problem.n_groups, np.nan)
    return np.asarray(problem.equity.min_share, dtype=float)


def large_route_refusal(problem: CoverageProblem) -> str | None:
    """Why the large route cannot honour this problem's rules (one line), or None when it can.

    The greedy meets min_open and per-group floors itself; a floor on every circle's share is a
    constraint per circle that a facility-by-facility greedy has no way to aim at."""
    if problem.equity is not None and problem.equity.min_share_per_circle is not None:
        return (f"capacities over {LARGE_REACH_PAIRS:,} (point, site) pairs in reach "
                f"({capacitated_reach_pairs(problem):,} here) are planned by a greedy that cannot "
                f"guarantee equity.min_share_per_circle; remove it, or reduce the district (fewer "
                f"candidate sites or a smaller reach)")
    return None


def greedy_capacity_plan(problem: CoverageProblem):
    """(site, type) of the lazy greedy of the module docstring, in three phases: must_open; then,
    while a type is short of its min_open count, that type's best column by gain per CNY (the
    cheapest among equal ones); then, while a group's estimated covered share is below its
    equity floor, the column that adds most people to the groups still short, per CNY; then the
    lazy greedy. The estimate is the greedy's own assignment (people taken from a facility's
    reach in proportion), a feasible assignment under step reach, so a plan that meets the floors
    by the estimate meets them in evaluate()'s LP too. Phases that run out of budget or sites
    stop; evaluate() then says what is missing."""
    x_site, x_type, cost = _columns(problem)
    weighted = problem.weighted_people()
    base = problem.level_before()
    remaining = problem.people * (1.0 - base) * (weighted > 0)
    covered = (problem.people * base).sum(axis=0)  # estimated covered people per group
    people_g = problem.people.sum(axis=0)
    floors = _group_floors(problem)
    q_all = problem.type_capacity()
    by_type = {}
    for (k, g), _ in problem.coverage.items():
        by_type.setdefault(k, []).append((g, sp.csc_matrix(problem.weight_of(k, g))))

    def gain(f: int, take: bool = False, coef=None) -> float:
        j, k = int(x_site[f]), int(x_type[f])
        coef = problem.group_weight if coef is None else coef
        total = 0.0
        for g, W in by_type.get(k, ()):
            lo, hi = W.indptr[j], W.indptr[j + 1]
            rows, d = W.indices[lo:hi], W.data[lo:hi]
            reach = float(d @ remaining[rows, g])
            served = min(q_all[k, g], reach)
            total += coef[g] * served
            if take and reach > 0:
                remaining[rows, g] *= 1.0 - served / reach
                covered[g] += served
        return total

    budget = problem.budget_cny * (1 + BUDGET_TOL)
    used_site = np.zeros(problem.n_sites, dtype=bool)
    chosen = []
    left = budget

    def open_(f: int):
        nonlocal left
        gain(f, take=True)
        used_site[x_site[f]] = True
        left -= cost[f]
        chosen.append(int(f))

    for f in np.flatnonzero(problem.must_open[x_site] == x_type):
        open_(int(f))

    def best(mask: np.ndarray, coef) -> int | None:
        """The free affordable column of ``mask`` with the most gain per CNY (fresh gains);
        with ``coef`` None ties and zero gains go to the cheapest (min_open)."""
        free = np.flatnonzero(mask & ~used_site[x_site] & (cost <= left))
        if not free.size:
            return None
        g_f = column_values(problem, x_site[free], x_type[free], remaining, coef)
        if coef is not None and not (g_f > 0).any():
            return None
        ratio = np.where(cost[free] > 0, g_f / np.maximum(cost[free], 1e-300), np.where(g_f > 0, np.inf, 0.0))
        return int(free[np.lexsort((cost[free], -ratio))[0]])

    for k in np.flatnonzero(problem.min_open > 0):
        while np.count_nonzero(x_type[chosen] == k) < problem.min_open[k]:
            f = best(x_type == k, None)
            if f is None:
                break
            open_(f)

    with np.errstate(invalid="ignore"):
        short = lambda: np.where(np.isfinite(floors), floors * people_g - covered, 0.0)  # noqa: E731
    while (short() > PEOPLE_TOL * np.maximum(1.0, people_g)).any():
        # gain counted in people of the groups still short
        coef = (short() > 0).astype(float)
        f = best(np.ones(x_site.size, dtype=bool), coef)
        if f is None:
            break
        open_(f)

    value = column_values(problem, x_site, x_type, remaining)
    ratio = np.where(cost > 0, value / np.maximum(cost, 1e-300), np.inf)
    heap = [(-ratio[f], int(f)) for f in np.flatnonzero((value > 0) & ~used_site[x_site])]
    heapq.heapify(heap)
    while heap:
        neg, f = heapq.heappop(heap)
        if used_site[x_site[f]] or cost[f] > left:
            continue
        fresh = gain(f)
        r = fresh / cost[f] if cost[f] > 0 else np.inf
        if fresh <= 0:
            continue
        if heap and r < -heap[0][0]:
            heapq.heappush(heap, (-r, f))
            continue
        open_(f)
    chosen = np.asarray(sorted(chosen), dtype=np.int64)
    return x_site[chosen], x_type[chosen]


def solve_capacity_large(problem: CoverageProblem, backend: str) -> Solution:
    """A plan by :func:`greedy_capacity_plan`, evaluated, with :func:`capacity_ceiling` as bound."""
    from lifecircle.optimizer.solve.backends.base import relative_gap

    t0 = time.perf_counter()
    refusal = large_route_refusal(problem)
    if refusal is not None:  # before any work: the greedy could not honour the rule
        raise ScenarioError(refusal)
    logger.info("capacities: %s (point, site) pairs; greedy plan and capacity ceiling instead of the MILP",
                f"{capacitated_reach_pairs(problem):,}")
    site, type_ = greedy_capacity_plan(problem)
    t1 = time.perf_counter()
    logger.info("capacities: assigning people to the plan's %d facilities (merged LP)", site.size)
    from lifecircle.optimizer.solve.assignment_lp import SwapLP

    lp = SwapLP(problem, site, type_, np.zeros(0, np.int64), np.zeros(0, np.int64))
    lp.objective()
    # evaluate verifies the LP's assignment on the unmerged problem (reach, supply, capacity, floors)
    evaluation = evaluate(problem, site, type_, assignment=lp.assignment())
    bound = capacity_ceiling(problem)
    t2 = time.perf_counter()
    if not evaluation.feasible:
        return Solution(status=Status.NO_SOLUTION, backend=backend, objective=None, bound=bound, gap=None,
                        site=np.zeros(0, np.int64), type=np.zeros(0, np.int64), spent_cny=0.0,
                        timings_s={"build": 0.0, "solve": t2 - t0},
                        message="capacity greedy (no MILP at this size) could not meet: "
                                + "; ".join(evaluation.violations),
                        termination=Termination.NO_SOLUTION, bound_source=BoundSource.CEILING)
    objective = evaluation.objective
    if bound < objective - OBJECTIVE_TOL * max(1.0, abs(objective)):
        raise SolverResultError(f"capacity ceiling {bound} is below the plan's evaluated {objective}")
    return Solution(
        status=Status.FEASIBLE, backend=backend, objective=objective, bound=bound,
        gap=relative_gap(objective, bound), site=site, type=type_, spent_cny=evaluation.spent_cny,
        timings_s={"build": 0.0, "solve": t1 - t0, "evaluate": t2 - t1},
        message="capacity greedy plan; bound: reach and capacity ceilings (no MILP at this size)",
        model_stats={"capacitated_reach_pairs": capacitated_reach_pairs(problem)},
        evaluation=evaluation, termination=Termination.HEURISTIC, bound_source=BoundSource.CEILING,
    )
