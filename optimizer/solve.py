"""precheck → build → backend → decode → evaluate, for a :class:`CoverageProblem`."""

from __future__ import annotations

import time

import numpy as np

from models.coverage import build_coverage_model, decode_selection, encode_selection
from models.greedy import greedy_plan

from .backends import DEFAULT_BACKEND, SolveOptions, Status, get_backend, REGISTRY
from .linear_solve import SolverResultError, solve_linear
from .problem import NO_TYPE, CoverageProblem
from .solution import Solution, evaluate

# The model's objective and evaluate()'s must agree to this relative tolerance.
OBJECTIVE_TOL = 1e-6


def solve_problem(problem: CoverageProblem, solver: str = DEFAULT_BACKEND,
                  options: SolveOptions | None = None, *, warm_start=None) -> Solution:
    """Solve a coverage problem and return a checked :class:`Solution`.

    Raises :class:`~optimizer.errors.InfeasibleError` when the data rule out every plan
    (``precheck``); an infeasibility the solver finds comes back as ``status="infeasible"``.
    ``warm_start`` is an optional (site, type) pair of arrays, a plan to start from.
    """
    options = options or SolveOptions()
    backend = REGISTRY.get(solver)
    exact = backend is None or "milp" in backend.features
    backend = get_backend(solver, "milp" if exact else "coverage")
    problem.precheck()

    t0 = time.perf_counter()
    model, index = build_coverage_model(problem)
    build_s = time.perf_counter() - t0
    stats = index.stats() | {"rows": model.n_rows, "columns": model.n_cols, "nonzeros": int(model.A.nnz)}

    t1 = time.perf_counter()
    if exact:
        if warm_start is not None:
            options = SolveOptions(options.time_limit_s, options.gap, options.threads,
                                   encode_selection(*warm_start, index), options.verbose)
        result = solve_linear(model, backend.name, options)
        status, objective, bound, gap = result.status, result.objective, result.bound, result.gap
        message = result.message
        if result.values is not None:
            site, type_ = decode_selection(result.values, index)
        else:
            site = type_ = np.zeros(0, dtype=np.int64)
    else:
        x_cost = problem.cost_cny[index.x_site, index.x_type]
        must = problem.must_open[index.x_site] == index.x_type
        chosen = greedy_plan(index, x_cost, problem.budget_cny, must, problem.min_open)
        site, type_ = index.x_site[chosen], index.x_type[chosen]
        status, bound, gap, message = Status.FEASIBLE, None, None, "greedy: no optimality claim"
        objective = None
    solve_s = time.perf_counter() - t1

    evaluation = None
    spent = 0.0
    if status in (Status.OPTIMAL, Status.FEASIBLE):
        evaluation = evaluate(problem, site, type_)
        spent = evaluation.spent_cny
        if not exact:
            objective = evaluation.objective
            if not evaluation.feasible:
                status, message = Status.NO_SOLUTION, "greedy: " + "; ".join(evaluation.violations)
        elif not evaluation.feasible:
            raise SolverResultError(f"{backend.name}: plan fails evaluate(): {evaluation.violations[0]}")
        elif abs(evaluation.objective - objective) > OBJECTIVE_TOL * max(1.0, abs(objective)):
            raise SolverResultError(
                f"{backend.name}: model objective {objective} != evaluated {evaluation.objective}"
            )
    return Solution(
        status=status, backend=backend.name, objective=objective, bound=bound, gap=gap,
        site=site, type=type_, spent_cny=spent,
        timings_s={"build": build_s, "solve": solve_s}, message=message, model_stats=stats,
        evaluation=evaluation,
    )
