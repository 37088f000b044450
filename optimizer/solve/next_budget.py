"""What more budget buys under capacities, without a second assignment MILP (issue 14).

The report asks what the plan could cover with 10 % more budget. For a capacitated problem that
question was a full re-solve of the assignment MILP (``scenarios/yuzhong_capacity``: most of the
report's 48.7 s, capped at the main solve's own time and still unproven). Here it is answered
from the plan itself:

* **Plan** (a lower bound on what the budget buys): the plan stays (it fits the larger budget)
  and facilities are added greedily. Each round prices the affordable unopened columns by the
  greedy estimate of :mod:`optimizer.solve.capacity_large` (people a facility could still serve,
  weighted, per CNY), takes the ``SHORTLIST`` best, and prices those exactly with one persistent
  assignment LP (:class:`optimizer.solve.assignment_lp.SwapLP`, warm-started between them): the
  best exact gain per CNY is added. The result is checked by
  :func:`optimizer.core.solution.evaluate` with the LP's assignment.
* **Bound** (``ceiling``): :func:`optimizer.solve.capacity_large.capacity_ceiling` at the larger
  budget, valid for every plan; it shows how much a full re-solve could at most add.
"""

from __future__ import annotations

import time

import numpy as np

from lifecircle.models.coverage import facility_columns
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.solution import Evaluation, evaluate
from lifecircle.optimizer.core.tolerances import BUDGET_TOL, OBJECTIVE_TOL

# columns the LP holds besides the plan (best by the estimate, affordable), and how many of them
# each round prices exactly (warm-started solves, ~0.03-0.1 s CPU each on yuzhong_capacity)
POOL = 20
SHORTLIST = 5
MAX_ROUNDS = 20


def _take(problem: CoverageProblem, remaining: np.ndarray, j: int, k: int) -> None:
    """Serve what facility (j, k) can from ``remaining`` (I, G) in place, in proportion over its
    reach (capacity_large's greedy step): the next round's estimate."""
    q_all = problem.type_capacity()
    for (kk, g), _ in problem.coverage.items():
        if kk != k:
            continue
        d = problem.weight_of(k, g)[:, [j]].toarray().ravel()
        reach = float(d @ remaining[:, g])
        if reach > 0:
            remaining[:, g] *= 1.0 - d * min(q_all[k, g], reach) / reach


def add_within_budget(problem: CoverageProblem, site, type_, evaluation: Evaluation,
                      deadline: float | None = None):
    """(site, type, evaluation, bound): the plan (site, type_) with facilities added greedily
    within ``problem``'s budget, verified by evaluate(), and the capacity ceiling of ``problem``
    as a bound. ``evaluation`` is the plan's own under ``problem``'s rules (it stays feasible: only
    the budget grew). ``deadline`` (perf_counter): no new round starts after it."""
    from lifecircle.optimizer.solve.assignment_lp import SwapLP
    from lifecircle.optimizer.solve.capacity_large import capacity_ceiling, column_values

    plan_site = np.asarray(site, dtype=np.int64)
    plan_type = np.asarray(type_, dtype=np.int64)
    site, type_ = plan_site, plan_type
    x_site, x_type = facility_columns(problem.cost_cny, problem.forbidden)
    cost = problem.cost_cny[x_site, x_type].astype(float)
    budget = problem.budget_cny * (1 + BUDGET_TOL)
    level = evaluation.level if evaluation.level is not None else evaluation.covered.astype(float)
    remaining = problem.people * (1.0 - level) * (problem.weighted_people() > 0)
    value_now = evaluation.objective  # the LP's value of the current plan (evaluate's, to 1e-8)
    left = budget - float(problem.cost_cny[site, type_].sum())
    free = np.flatnonzero(~np.isin(x_site, site) & (cost <= left))
    value = column_values(problem, x_site[free], x_type[free], remaining)
    ratio = np.where(cost[free] > 0, value / np.maximum(cost[free], 1e-300), np.where(value > 0, np.inf, 0.0))
    order = np.lexsort((cost[free], -ratio))
    pool = free[order[(value > 0)[order]][:POOL]]
    if pool.size:
        # one LP over the plan and the pool: one cold solve, then every pricing starts from the
        # previous basis; added facilities stay open as `extra`
        lp = SwapLP(problem, site, type_, x_site[pool], x_type[pool])
        added: list = []
        for _ in range(MAX_ROUNDS):
            if deadline is not None and time.perf_counter() > deadline:
                break
            left = budget - float(problem.cost_cny[site, type_].sum())
            open_pool = np.flatnonzero(~np.isin(x_site[pool], site) & (cost[pool] <= left))
            if not open_pool.size:
                break
            value = column_values(problem, x_site[pool[open_pool]], x_type[pool[open_pool]], remaining)
            ratio = np.where(value > 0, value / np.maximum(cost[pool[open_pool]], 1e-300), -1.0)
            rank = np.argsort(-ratio, kind="stable")[:SHORTLIST]
            short = open_pool[rank[value[rank] > 0]]
            if not short.size:
                break
            gains = np.array([lp.objective(None, int(a), added) - value_now for a in short])
            tol = OBJECTIVE_TOL * max(1.0, abs(value_now))
            score = np.where(gains > tol, gains / np.maximum(cost[pool[short]], 1e-300), -np.inf)
            if not np.isfinite(score).any():
                break
            pick = int(np.argmax(score))
            best = pool[short[pick]]
            added.append(int(short[pick]))
            site, type_ = np.append(site, x_site[best]), np.append(type_, x_type[best])
            value_now += float(gains[pick])
            _take(problem, remaining, int(x_site[best]), int(x_type[best]))
    ceiling = capacity_ceiling(problem)
    if site.size == plan_site.size:
        return plan_site, plan_type, evaluation, ceiling
    # one check of the result: the LP's own assignment (a warm solve), verified by evaluate()
    lp.objective(None, None, added)
    after = evaluate(problem, site, type_, assignment=lp.assignment(added))
    if not after.feasible or after.objective < evaluation.objective:
        return plan_site, plan_type, evaluation, ceiling  # the plan itself stays feasible
    return site, type_, after, ceiling
