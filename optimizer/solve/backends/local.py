"""Local search and windowed improvement as a backend (issue 14): a plan better than greedy's, and a
Lagrangian bound with it, for a coverage problem itself (not a linear model).

Like ``greedy`` it declares ``coverage`` (plus ``time_limit``: its search stops at the limit) and
declines every :class:`LinearModel` before solving. Its plans claim no optimality: status feasible,
termination ``heuristic``, unless the Lagrangian bound meets the plan. Windows are re-solved by
HiGHS (:mod:`models.local_search`).
"""

from __future__ import annotations

import time

import numpy as np

from lifecircle.models.coverage import CoverageIndex, build_coverage_model
from lifecircle.models.lagrangian import lagrangian_bound
from lifecircle.models.linear import LinearModel
from lifecircle.models.greedy import greedy_plan
from lifecircle.models.local_search import local_search, plan_value, repair_min_open, window_search
from lifecircle.models.reduce import dominated_columns, lazy_greedy, reduce_coverage

from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.status import BoundSource
from lifecircle.optimizer.errors import CapabilityError
from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.core.tolerances import FEASIBILITY_TOL
from lifecircle.optimizer.solve.backends.base import Backend, Capability, LinearSolution, SolveOptions
from lifecircle.optimizer.solve.backends.highs import HighsBackend

# Without a time limit: the windows' and the bound's own time caps (s).
WINDOW_S, BOUND_S = 30.0, 30.0


def window_solver(limit_s: float = 10.0):
    """The ``solve_milp`` callable :func:`models.local_search.window_search` takes: HiGHS on the
    window's small MILP, each capped at ``limit_s``; a plan that breaks the model is ignored."""
    highs = HighsBackend()

    def solve(model, warm_start, time_limit_s):
        limit = limit_s if time_limit_s is None else max(0.05, min(limit_s, time_limit_s))
        result = highs.solve(model, SolveOptions(time_limit_s=limit, warm_start=warm_start))
        if result.status not in (Status.OPTIMAL, Status.FEASIBLE) or result.values is None:
            return None
        return result.values if model.violation(result.values) <= FEASIBILITY_TOL else None

    return solve


def improve_plan(index: CoverageIndex, cost: np.ndarray, budget_cny: float, must: np.ndarray,
                 min_open: np.ndarray, start: np.ndarray, allowed: np.ndarray | None = None, *,
                 local_until: float | None = None, window_until: float | None = None) -> np.ndarray | None:
    """``start`` (facility columns) made to meet min_open, then improved by local search and
    windows; None when no plan meeting min_open fits. ``local_until`` / ``window_until`` are
    perf_counter deadlines; a ``window_until`` already past skips the windows."""
    plan = repair_min_open(index, cost, budget_cny, min_open, start | must, allowed)
    if plan is None:
        return None
    plan = local_search(index, cost, budget_cny, must, min_open, plan, allowed, deadline=local_until)
    if window_until is None or time.perf_counter() < window_until:
        plan = window_search(index, cost, budget_cny, must, min_open, plan, window_solver(), allowed,
                             deadline=window_until)
        # the windows free budget and sites: one more local pass uses them
        plan = local_search(index, cost, budget_cny, must, min_open, plan, allowed, deadline=window_until)
    return plan


def _better_start(index: CoverageIndex, cost: np.ndarray, problem: CoverageProblem, must: np.ndarray,
                  start: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The lazy greedy's ``start`` made to meet min_open, or the ``greedy`` backend's plan when
    that covers more (it fills min_open first and may take dominated columns): local search never
    makes a plan worse, so ``local`` then always plans at least as well as ``greedy`` (issue 14)."""
    repaired = repair_min_open(index, cost, problem.budget_cny, problem.min_open, start | must, allowed)
    greedy = greedy_plan(index, cost, problem.budget_cny, must, problem.min_open)
    per_type = np.bincount(index.x_type[greedy], minlength=problem.min_open.size)
    greedy_ok = bool(np.all(per_type >= problem.min_open)) and cost[greedy].sum() <= problem.budget_cny * (1 + 1e-12)
    if not greedy_ok:
        return start
    if repaired is None or plan_value(index, greedy) > plan_value(index, repaired):
        return greedy
    return repaired


class LocalBackend(Backend):
    name = "local"
    library = "highspy"  # the windows are MILPs for HiGHS
    exact = False
    capabilities = frozenset({Capability.COVERAGE, Capability.TIME_LIMIT})
    thread_safe = False  # the windows call HiGHS

    def plan(self, problem: CoverageProblem, index: CoverageIndex) -> tuple[np.ndarray, np.ndarray]:
        """(site, type) index arrays of the improved plan (the greedy backend's interface)."""
        site, type_, _, _ = self.plan_with_bound(problem, index, SolveOptions())
        return site, type_

    def plan_with_bound(self, problem: CoverageProblem, index: CoverageIndex, options: SolveOptions,
                        model: LinearModel | None = None,
                        ) -> tuple[np.ndarray, np.ndarray, float | None, BoundSource | None]:
        """(site, type, bound, bound_source): the improved plan and a Lagrangian bound on the
        problem's optimum. The bound is None when no plan meets min_open, or when the problem has
        service rules (decay, capacities, equity), whose objective the step-coverage plan search
        does not bound. ``model``: ``index``'s coverage model, when the caller built it already.

        The time limit splits 15 % local search, 35 % windows, the rest the bound.
        """
        t0 = time.perf_counter()
        limit = options.time_limit_s
        if model is None:
            model, index = build_coverage_model(problem)
        full_index = index
        cost = problem.cost_cny[index.x_site, index.x_type]
        must = problem.must_open[index.x_site] == index.x_type
        dominated = dominated_columns(index, cost, must, problem.min_open)
        allowed = ~dominated
        start = lazy_greedy(index, cost, problem.budget_cny, must, allowed)
        start = _better_start(index, cost, problem, must, start, allowed)
        local_until = None if limit is None else t0 + 0.15 * limit
        window_until = t0 + (WINDOW_S if limit is None else 0.5 * limit)
        chosen = improve_plan(index, cost, problem.budget_cny, must, problem.min_open, start, allowed,
                              local_until=local_until, window_until=window_until)
        if chosen is None:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, None, None
        if problem.has_service:
            return index.x_site[chosen], index.x_type[chosen], None, None
        reduced = reduce_coverage(model, full_index, cost, problem.budget_cny, must, dominated)
        values = reduced.encode(chosen.astype(float), full_index.class_rows)
        target = None if values is None else reduced.model.objective_value(values)
        deadline = time.perf_counter() + BOUND_S if limit is None else t0 + 0.97 * limit
        found = lagrangian_bound(reduced.model, target, deadline=deadline)
        bound = None if found is None else found.bound
        return (index.x_site[chosen], index.x_type[chosen], bound,
                None if bound is None else BoundSource.LAGRANGIAN)

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        # solve_linear declines before this; a direct caller gets the same refusal.
        raise CapabilityError(self.decline(model, options))
