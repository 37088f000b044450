"""Solve a coverage problem through the exact reductions of :mod:`models.reduce` (large districts).

Same contract as :func:`optimizer.solve.coverage.solve_problem` (a checked :class:`Solution`), in this
order:

1. build the model once;
2. **coverage ceiling**: solve the unbudgeted model with every clean column fixed open (small:
   only what clean columns miss is left). Its optimum ``U`` bounds every budget's optimum. A cheap
   cover of the ceiling plan's classes that fits the budget reaches ``U``, so it is optimal: the
   solve is done without the full MILP. This is the common case when the budget buys more than
   full coverage needs;
3. otherwise dominated columns are found and the reduced model at the budget (reductions 1-7),
   warm-started from a lazy greedy plan, goes to the solver.

Every plan is re-checked by :func:`optimizer.core.solution.evaluate` against the unreduced problem,
and its objective must equal the model's (or ``U`` for a ceiling certificate).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from lifecircle.models.coverage import build_coverage_model
from lifecircle.models.reduce import (
    ceiling_model, cheapest_cover, dominated_columns, lazy_greedy, reduce_coverage,
)

from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions, Status, Termination, get_backend
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.solve.strengthen import LARGE_NONZEROS, improve_plan, solve_large  # issue 14 (scale)
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.solution import Solution, evaluate
from lifecircle.optimizer.core.status import BoundSource  # issue 14 (scale)
from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL



def solve_reduced(problem: CoverageProblem, solver: str = DEFAULT_BACKEND,
                  options: SolveOptions | None = None) -> Solution:
    """Solve ``problem`` exactly with reductions first (see the module docstring).

    ``Solution.timings_s`` splits the work into build, reduce, ceiling, solve and check;
    ``model_stats`` records the sizes before and after and which route proved the optimum.
    """
    options = options or SolveOptions()
    backend = get_backend(solver, "milp")
    problem.precheck()
    timings = {}
    t0 = time.perf_counter()
    model, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = problem.must_open[index.x_site] == index.x_type
    timings["build"] = time.perf_counter() - t0

    stats = index.stats() | {"rows": model.n_rows, "columns": model.n_cols, "nonzeros": int(model.A.nnz)}

    t2 = time.perf_counter()
    ceiling = ceiling_model(model, index, cost, must)
    stats["ceiling"] = ceiling.stats
    top = solve_linear(ceiling.model, backend.name, options)
    plan = None
    if top.status == Status.OPTIMAL:
        cover = cheapest_cover(index, cost, must, problem.min_open, ceiling.full_x(top.values) > 0.5)
        if float(cost[cover].sum()) <= problem.budget_cny:
            plan = cover
    timings["ceiling"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    if plan is not None:
        status, objective, bound, gap = Status.OPTIMAL, top.objective, top.objective, 0.0
        termination = Termination.OPTIMAL
        message = "coverage ceiling reached within budget: optimal without the budgeted MILP"
        stats["route"] = "ceiling"
    else:
        t_dom = time.perf_counter()
        dominated = dominated_columns(index, cost, must, problem.min_open)
        timings["reduce"] = time.perf_counter() - t_dom
        stats["dominated_columns"] = int(dominated.sum())
        reduced = reduce_coverage(model, index, cost, problem.budget_cny, must, dominated)
        stats["reduced"] = reduced.stats
        start = lazy_greedy(index, cost, problem.budget_cny - float(cost[must].sum()), must, ~dominated)
        # -- issue 14 section 4 (scale branch): a model too large for its LP gets local search,
        # windows and a Lagrangian bound instead of the MILP; the others get a local-search start.
        if reduced.model.A.nnz > LARGE_NONZEROS:
            result = solve_large(reduced, index, cost, problem.budget_cny, must, problem.min_open, start,
                                 ~dominated, backend.name, options.time_limit_s)
            stats["bound_source"] = result.extra.get("bound_source")
            stats["route"] = "large: local search, windows, Lagrangian bound"
        else:
            start = improve_plan(index, cost, problem.budget_cny, must, problem.min_open, start, ~dominated,
                                 window_until=0.0) if start is not None else None
        # -- end of the scale branch's lines
        if reduced.model.A.nnz <= LARGE_NONZEROS:
            warm = None if start is None else reduced.encode(start.astype(float), index.class_rows)
            run_options = replace(options, warm_start=warm, presolve=False)
            result = solve_linear(reduced.model, backend.name, run_options)
        status, objective, bound, gap, message = (result.status, result.objective, result.bound, result.gap,
                                                  result.message)
        termination = result.termination
        plan = reduced.full_x(result.values) > 0.5 if result.values is not None else None
        stats.setdefault("route", "reduced MILP")  # scale: the large route names itself
    timings["solve"] = time.perf_counter() - t3

    t4 = time.perf_counter()
    site = type_ = np.zeros(0, dtype=np.int64)
    evaluation, spent = None, 0.0
    if plan is not None and status in (Status.OPTIMAL, Status.FEASIBLE):
        site, type_ = index.x_site[plan], index.x_type[plan]
        evaluation = evaluate(problem, site, type_)
        spent = evaluation.spent_cny
        if not evaluation.feasible:
            raise SolverResultError(f"{backend.name}: reduced plan fails evaluate(): {evaluation.violations[0]}")
        if abs(evaluation.objective - objective) > OBJECTIVE_TOL * max(1.0, abs(objective)):
            raise SolverResultError(f"{backend.name}: reduced objective {objective} != evaluated "
                                    f"{evaluation.objective}")
    timings["check"] = time.perf_counter() - t4
    return Solution(status=status, backend=backend.name, objective=objective, bound=bound, gap=gap,
                    site=site, type=type_, spent_cny=spent, timings_s=timings, message=message,
                    model_stats=stats, evaluation=evaluation, termination=termination,
                    bound_source=BoundSource(stats["bound_source"]) if stats.get("bound_source") else None)  # scale
