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
from lifecircle.optimizer.solve.backends.watch import muted
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.leastcost import Stage, at_least, column_ranks, solve_lexicographic
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.solve.strengthen import LARGE_NONZEROS, improve_plan, solve_large  # issue 14 (scale)
from lifecircle.optimizer.core.status import BoundSource
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.solution import Solution, check_objective, evaluate



# Models with more coverage nonzeros than this skip the dominance search: it could not bring them
# under LARGE_NONZEROS (it would have to drop two thirds of the columns; it dropped 376 of 13,547,
# 2.8 %, on the 100k x 10k district, in ~8 CPU s of a 120 s run that the Lagrangian bound needs).
SKIP_DOMINANCE_NONZEROS = 3 * LARGE_NONZEROS
# issue 14 (the dense 100k x 2,000 district, benchmarks/README.md "Dense district, second pass"):
# reduced models above this many nonzeros (that district: 486k; the bundled ones: at most 133k
# before reduction) give HiGHS's primal heuristics this effort (HiGHS's default: 0.05). There the
# bound is within 10 units of the optimum at the root and the incumbent is what is missing.
DENSE_NONZEROS, DENSE_HEURISTIC_EFFORT = 300_000, 1.0


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

    if _late(options):
        return _greedy_answer(problem, index, cost, must, backend.name, timings, stats)
    t2 = time.perf_counter()
    ceiling = ceiling_model(model, index, cost, must)
    stats["ceiling"] = ceiling.stats
    with muted():  # its objective is a ceiling, not a plan's coverage: not for the status line
        top = solve_linear(ceiling.model, backend.name, options)
    plan = None
    if top.status == Status.OPTIMAL:
        cover = cheapest_cover(index, cost, must, problem.min_open, ceiling.full_x(top.values) > 0.5)
        if float(cost[cover].sum()) <= problem.budget_cny:
            plan = cover
    timings["ceiling"] = time.perf_counter() - t2
    if plan is None and _late(options):
        return _greedy_answer(problem, index, cost, must, backend.name, timings, stats)

    t_dom = time.perf_counter()
    if model.A.nnz > SKIP_DOMINANCE_NONZEROS:
        # issue 14: the large route either way; dominance is optional (exact with or without)
        dominated = np.zeros(index.n_x, dtype=bool)
    else:
        dominated = dominated_columns(index, cost, must, problem.min_open)
    timings["reduce"] = time.perf_counter() - t_dom
    stats["dominated_columns"] = int(dominated.sum())
    reduced = reduce_coverage(model, index, cost, problem.budget_cny, must, dominated)
    stats["reduced"] = reduced.stats
    t3 = time.perf_counter()
    x_rank = column_ranks(index.x_site, index.x_type, problem.n_types)
    n_y = reduced.model.n_cols - reduced.x_cols.size
    col_cost = np.concatenate([cost[reduced.x_cols], np.zeros(n_y)])
    col_rank = np.concatenate([x_rank[reduced.x_cols], np.zeros(n_y)])
    proof = None
    if plan is not None:
        # the ceiling U is reached within budget: coverage is proven without the budgeted MILP
        stats["route"] = "ceiling"
        values = reduced.encode(plan.astype(float), index.class_rows)
        if values is None:  # the cover uses a dominated column: the reduced model's own plan
            values = _reduced_values(reduced, backend.name, options, top.objective)
        proof = (top.objective, values) if values is not None else None
        run_options = options
    else:
        start = warm_start_plan(index, cost, problem.budget_cny, must, problem.min_open, ~dominated)
        # issue 14 section 4: the start is improved by local search (no windows) before the MILP
        if start is not None and reduced.model.A.nnz <= LARGE_NONZEROS:
            # a share of what is left of the run's clock, so the start never eats the MILP's time
            local_until = (time.perf_counter() + 0.15 * options.deadline.remaining()
                           if options.deadline is not None else None)
            start = improve_plan(index, cost, problem.budget_cny, must, problem.min_open, start, ~dominated,
                                 local_until=local_until, window_until=0.0)
        encoded = None if start is None else reduced.encode(start.astype(float), index.class_rows)
        run_options = replace(options, warm_start=encoded, presolve=False)
        if reduced.model.A.nnz > DENSE_NONZEROS:
            run_options = replace(run_options, highs_options=(("mip_heuristic_effort", DENSE_HEURISTIC_EFFORT),)
                                  + tuple(options.highs_options))
        stats["route"] = "reduced MILP"
    if plan is None and reduced.model.A.nnz > LARGE_NONZEROS and start is not None:
        # issue 14 section 4: a model too large for its LP gets local search, windows and a
        # Lagrangian bound instead of the MILP; its plan is not claimed canonical
        limit = options.deadline.limit(options.time_limit_s) if options.deadline else options.time_limit_s
        result = solve_large(reduced, index, cost, problem.budget_cny, must, problem.min_open, start,
                             ~dominated, backend.name, limit)
        stats["route"] = "large: local search, windows, Lagrangian bound"
        stats["large"] = {key: result.extra.get(key) for key in
                          ("plan_s", "bound_s", "lagrangian_iterations", "plan_value")}
        source = BoundSource(result.extra["bound_source"]) if result.extra.get("bound_source") else None
        stages = [Stage("coverage", result.status, result.objective, result.bound, result.gap, source)]
        stats["canonical"] = False
    else:
        lexi = solve_lexicographic(reduced.model, col_cost, col_rank, backend.name, run_options, coverage_proof=proof)
        result = lexi.result
        source = result.bound_source
        stages = list(lexi.stages)
        stats["canonical"] = lexi.canonical
    status, objective, bound, gap = result.status, result.objective, result.bound, result.gap
    termination, values = result.termination, result.values
    message = result.message
    if stats["route"] == "ceiling":
        message = "coverage ceiling reached within budget: optimal without the budgeted coverage MILP"
    plan = reduced.full_x(values) > 0.5 if values is not None else None
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
        check_objective(problem, objective, evaluation.objective, f"{backend.name}: reduced")
        objective = evaluation.objective  # the recomputed value: the same plan, the same number
    timings["check"] = time.perf_counter() - t4
    return Solution(status=status, backend=backend.name, objective=objective, bound=bound, gap=gap,
                    site=site, type=type_, spent_cny=spent, timings_s=timings, message=message,
                    model_stats=stats | {"stages": [one.as_dict() for one in stages]}, evaluation=evaluation,
                    termination=termination, bound_source=source if bound is not None else None)


def _late(options: SolveOptions) -> bool:
    return options.deadline is not None and options.deadline.expired


def _greedy_answer(problem, index, cost, must, solver: str, timings: dict, stats: dict) -> Solution:
    """The clock ran out before the budgeted MILP (issue 14: one deadline for the run): the warm
    start plan is the answer, feasible and checked, with no bound of its own (the caller labels
    the trivial ceiling); no dominance or MILP work is started past the deadline."""
    t = time.perf_counter()
    chosen = warm_start_plan(index, cost, problem.budget_cny, must, problem.min_open,
                             np.ones(index.n_x, dtype=bool))
    stats = stats | {"route": "greedy start (time limit)"}
    empty = np.zeros(0, dtype=np.int64)
    if chosen is None:
        timings["solve"] = time.perf_counter() - t
        return Solution(status=Status.NO_SOLUTION, backend=solver, objective=None, bound=None, gap=None,
                        site=empty, type=empty, spent_cny=0.0, timings_s=timings,
                        message="time limit reached before any plan", model_stats=stats,
                        termination=Termination.TIME_LIMIT)
    site, type_ = index.x_site[chosen], index.x_type[chosen]
    evaluation = evaluate(problem, site, type_)
    if not evaluation.feasible:
        raise SolverResultError(f"{solver}: greedy start fails evaluate(): {evaluation.violations[0]}")
    timings["solve"] = time.perf_counter() - t
    stage = Stage("coverage", Status.FEASIBLE, evaluation.objective, None, None, None)
    return Solution(status=Status.FEASIBLE, backend=solver, objective=evaluation.objective, bound=None,
                    gap=None, site=site, type=type_, spent_cny=evaluation.spent_cny, timings_s=timings,
                    message="time limit reached before the budgeted MILP: the greedy start plan",
                    model_stats=stats | {"stages": [stage.as_dict()]}, evaluation=evaluation,
                    termination=Termination.TIME_LIMIT)


def warm_start_plan(index, cost: np.ndarray, budget_cny: float, must: np.ndarray, min_open: np.ndarray,
                    allowed: np.ndarray) -> np.ndarray | None:
    """A feasible start for the reduced MILP, or None: must_open columns, then the cheapest
    allowed columns of each type short of min_open (free sites only), then the lazy greedy
    within the budget. must_open costs are counted once (``lazy_greedy`` adds the cost of the
    columns it is given); issue 14 found them counted twice and min_open ignored."""
    chosen = np.asarray(must, dtype=bool).copy()
    n_sites = int(index.x_site.max(initial=-1)) + 1
    for k in np.flatnonzero(np.asarray(min_open) > 0):  # a loop over types, not columns
        site_used = np.bincount(index.x_site[chosen], minlength=n_sites) > 0
        short = int(min_open[k]) - int(np.count_nonzero(chosen & (index.x_type == k)))
        if short <= 0:
            continue
        spare = np.flatnonzero(allowed & ~chosen & (index.x_type == k) & ~site_used[index.x_site])
        spare = spare[np.argsort(cost[spare], kind="stable")]
        # one per site: the cheapest column of each free site
        _, first = np.unique(index.x_site[spare], return_index=True)
        spare = spare[np.sort(first)][:short]
        if spare.size < short:
            return None
        chosen[spare] = True
    if float(cost[chosen].sum()) > budget_cny * (1 + 1e-12):
        return None
    return lazy_greedy(index, cost, budget_cny, chosen, allowed)


def _reduced_values(reduced, solver: str, options: SolveOptions, objective: float):
    """Values of the reduced model reaching the ceiling ``objective``, when the ceiling's cover
    uses a column the reductions dropped: the reduced model with "coverage >= U" as a row, a
    feasibility question (the optimum is known)."""
    fixed, _ = at_least(reduced.model, reduced.model.c, objective - reduced.model.offset, "ceiling")
    return solve_linear(fixed, solver, options).values
