"""precheck → build → backend → decode → evaluate, for a :class:`CoverageProblem`."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from lifecircle.models.coverage import build_coverage_model, decode_selection, encode_selection
from lifecircle.models.maximin import fix_worst_share, held_level, maximin_first_stage, worst_share
from lifecircle.models.service import build_service_model, decode_assignment, decode_service, encode_service

from lifecircle.optimizer.solve.backends import (
    DEFAULT_BACKEND, REGISTRY, Capability, SolveOptions, Status, Termination, get_backend,
)
from lifecircle.optimizer.solve.backends.base import relative_gap
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.deadline import with_deadline
from lifecircle.optimizer.core.solution import Solution, check_bound, check_objective, evaluate
from lifecircle.optimizer.core.status import BoundSource
from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL
from lifecircle.optimizer.solve.leastcost import Stage, column_ranks, solve_lexicographic

logger = logging.getLogger(__name__)



def solve_problem(problem: CoverageProblem, solver: str = DEFAULT_BACKEND,
                  options: SolveOptions | None = None, *, warm_start=None) -> Solution:
    """Solve a coverage problem and return a checked :class:`Solution`.

    Raises :class:`~optimizer.errors.InfeasibleError` when the data rule out every plan
    (``precheck``); an infeasibility the solver finds comes back as ``status="infeasible"``.
    ``warm_start`` is an optional (site, type) pair of arrays, a plan to start from.

    A problem with decay, capacities or equity is built by :mod:`models.service`; with
    ``equity.maximin`` it is solved twice (worst share first, then the objective with that share
    held), each solve with the full ``time_limit_s``. The greedy backend plans on step coverage
    and its plan is then evaluated under the full rules.
    """
    options = with_deadline(options or SolveOptions())
    backend = REGISTRY.get(solver)
    exact = backend is None or Capability.MILP in backend.capabilities
    backend = get_backend(solver, Capability.MILP if exact else Capability.COVERAGE)
    problem.precheck()
    service = problem.has_service
    if service:
        from lifecircle.optimizer.solve.equity import precheck_equity

        precheck_equity(problem)

    if service and exact and problem.capacitated_groups().any() and not (problem.equity and problem.equity.maximin):
        from lifecircle.optimizer.solve.capacity_large import LARGE_REACH_PAIRS, capacitated_reach_pairs, solve_capacity_large

        if capacitated_reach_pairs(problem) > LARGE_REACH_PAIRS:  # issue 14: no 19-million-column MILP
            return solve_capacity_large(problem, backend.name)
        from lifecircle.optimizer.solve.capacity_benders import applies, solve_capacity_benders

        if applies(problem, backend.name):  # issue 14: the assignment projected out (capacity_benders.py)
            solution = solve_capacity_benders(problem, backend.name, options, warm_start)
            if solution is not None:
                return solution

    if exact and not service:
        # The reduced route builds its own greedy start, which beat a caller's warm start on
        # every bundled district (liangjiang: 2.3 s against 10 s).
        return _solve_plain(problem, backend.name, options)

    t0 = time.perf_counter()
    if service and exact:
        model, index = build_service_model(problem)
    else:
        model, index = build_coverage_model(problem)
    build_s = time.perf_counter() - t0
    stats = index.stats() | {"rows": model.n_rows, "columns": model.n_cols, "nonzeros": int(model.A.nnz)}
    logger.debug("%s model: %d rows, %d columns, %d nonzeros, built in %.2f s",
                 "service" if service else "coverage", model.n_rows, model.n_cols, model.A.nnz, build_s)
    if service and exact and index.n_assign:  # a capacitated solve can be long: say what it is
        logger.info("capacities: %d assignment columns over %d merged classes; solving (%d rows)",
                    index.n_assign, index.n_assign_classes, model.n_rows)

    t1 = time.perf_counter()
    t_star = t_first = None  # the maximin level held in the second solve, and the first optimum
    assignment = None  # capacitated groups: the solver's assignment, verified by evaluate
    if exact:
        if warm_start is not None:
            start = encode_service(*warm_start, index, model.n_cols) if service else encode_selection(*warm_start, index)
            options = replace(options, warm_start=start)
        first_note = ""
        # issue 14: least cost at full coverage, then the canonical tie-break (leastcost.py)
        x_cost = np.zeros(model.n_cols)
        x_rank = np.zeros(model.n_cols)
        x_cost[: index.n_x] = problem.cost_cny[index.x_site, index.x_type]
        x_rank[: index.n_x] = column_ranks(index.x_site, index.x_type, problem.n_types)
        stages = []
        if service and index.t_col is not None:
            first = solve_linear(maximin_first_stage(model, index), backend.name, options)
            stages.append(Stage("worst_share", first.status, first.objective, first.bound, first.gap,
                                first.bound_source))
            if first.values is not None:
                t_first = worst_share(first.values, index)
                first_note = f"maximin: worst share {t_first:.6f} ({first.status} first solve); "
                t_star = held_level(index, first.values[index.t_col]) / index.t_scale
                model = fix_worst_share(model, index, first.values[index.t_col])
                # the first solve's plan meets the fixed level: a free warm start for the second
                options = replace(options, warm_start=first.values)
                lexi = solve_lexicographic(model, x_cost, x_rank, backend.name, options)
                result, canonical = lexi.result, lexi.canonical
                stages.extend(lexi.stages)
            else:
                result, canonical = first, False
        else:
            lexi = solve_lexicographic(model, x_cost, x_rank, backend.name, options)
            result, canonical = lexi.result, lexi.canonical
            stages.extend(lexi.stages)
        stats["canonical"] = canonical
        status, objective, bound, gap = result.status, result.objective, result.bound, result.gap
        termination, source = result.termination, result.bound_source
        message = first_note + result.message
        stats["stages"] = [one.as_dict() for one in stages]
        if result.values is not None:
            site, type_ = (decode_service if service else decode_selection)(result.values, index)
            if service and index.assign_parts:
                n_existing = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
                assignment = decode_assignment(result.values, index, problem.n_points, n_existing)
        else:
            site = type_ = np.zeros(0, dtype=np.int64)
        if status == Status.INFEASIBLE and service and problem.equity is not None:
            from lifecircle.optimizer.solve.equity import diagnose_infeasible

            message = diagnose_infeasible(problem, backend.name, options)
    else:
        bound = source = None
        if hasattr(backend, "plan_with_bound"):  # issue 14: local search brings a Lagrangian bound
            site, type_, bound, source = backend.plan_with_bound(problem, index, options, model=model)
        else:
            site, type_ = backend.plan(problem, index)
        status, gap, message = Status.FEASIBLE, None, f"{backend.name}: no optimality claim"
        termination = Termination.HEURISTIC
        objective = None
    solve_s = time.perf_counter() - t1
    logger.debug("%s: %s in %.2f s", backend.name, status, solve_s)

    evaluation = None
    spent = 0.0
    if status in (Status.OPTIMAL, Status.FEASIBLE):
        evaluation = evaluate(problem, site, type_, worst_share=t_star, assignment=assignment)
        spent = evaluation.spent_cny
        if not exact:
            objective = evaluation.objective
            gap = relative_gap(objective, bound)  # issue 14: local's Lagrangian bound, else None
            if not evaluation.feasible:
                status, message = Status.NO_SOLUTION, "greedy: " + "; ".join(evaluation.violations)
                termination = Termination.NO_SOLUTION
        elif not evaluation.feasible:
            raise SolverResultError(f"{backend.name}: plan fails evaluate(): {evaluation.violations[0]}")
        else:
            check_objective(problem, objective, evaluation.objective, f"{backend.name}: model")
            check_bound(problem, objective, bound, f"{backend.name}:")
        if evaluation.feasible and not service:
            site, type_, evaluation = prune_redundant(problem, site, type_, evaluation)
            spent = evaluation.spent_cny
    return Solution(
        status=status, backend=backend.name, objective=objective, bound=bound, gap=gap,
        site=site, type=type_, spent_cny=spent,
        timings_s={"build": build_s, "solve": solve_s}, message=message, model_stats=stats,
        evaluation=evaluation, worst_share=t_first, termination=termination,
        bound_source=source if bound is not None else None,
    )


def _solve_plain(problem: CoverageProblem, solver: str, options: SolveOptions) -> Solution:
    """Step coverage without service rules: the exact reductions of :mod:`models.reduce` first
    (coverage-ceiling certificate, dominated columns), then the reduced MILP; then pruning."""
    from lifecircle.optimizer.solve.reduced import solve_reduced

    solution = solve_reduced(problem, solver, options)
    logger.debug("%s: %s; phases (s) %s", solver, solution.status,
                 ", ".join(f"{k} {v:.2f}" for k, v in solution.timings_s.items()))
    phases = dict(solution.timings_s)
    timings = {"build": phases.pop("build", 0.0), "solve": sum(phases.values())}
    stats = dict(solution.model_stats) | {"phases_s": {k: round(v, 4) for k, v in phases.items()}}
    solution = replace(solution, timings_s=timings, model_stats=stats)
    if solution.status == Status.FEASIBLE and solution.bound is None:
        # Stopped before the solver had a dual bound: everyone any facility could reach is one.
        # A trivial ceiling, never a solver gap: labelled so (issue 14).
        bound = coverage_upper_bound(problem)
        gap = relative_gap(solution.objective, bound)
        solution = replace(solution, bound=bound, gap=gap, bound_source=BoundSource.CEILING)
        if gap == 0.0:  # the plan reaches everyone any site can reach: proven, by the ceiling
            solution = replace(solution, status=Status.OPTIMAL, termination=Termination.OPTIMAL)
        stages = [dict(one) for one in solution.model_stats.get("stages", [])]
        if stages and stages[0]["stage"] == "coverage":
            stages[0].update(status=str(solution.status), bound=bound, gap=gap, bound_source="ceiling")
            solution = replace(solution, model_stats=solution.model_stats | {"stages": stages})
    if solution.evaluation is not None and solution.evaluation.feasible:
        site, type_, evaluation = prune_redundant(problem, solution.site, solution.type, solution.evaluation)
        solution = replace(solution, site=site, type=type_, evaluation=evaluation,
                           spent_cny=evaluation.spent_cny)
    return solution


def coverage_upper_bound(problem: CoverageProblem) -> float:
    """Weighted people already covered or reachable by some allowed facility: a valid bound."""
    allowed = problem.allowed()
    reachable = problem.covered_before.copy()
    for (k, g), mat in problem.coverage.items():
        sites = np.flatnonzero(allowed[:, k])
        if sites.size:
            reachable[:, g] |= np.asarray(mat[:, sites].sum(axis=1)).ravel() > 0
    return float(problem.weighted_people()[reachable].sum())


def prune_redundant(problem: CoverageProblem, site, type_, evaluation):
    """Drop opened facilities that nobody depends on, most expensive first.

    A MILP optimum is indifferent between plans of equal coverage, so it may open a site whose
    every covered person is also reached by another facility. Dropping it keeps the objective,
    frees budget, and spares officials a site they could not defend. must_open facilities and the
    min_open counts are kept. Each drop is re-evaluated, since dropping one facility can make
    another indispensable.
    """
    cost = problem.cost_cny
    while site.size:
        weighted_unique = evaluation.unique @ problem.group_weight
        opened = np.bincount(type_, minlength=problem.n_types)
        removable = ((weighted_unique <= 0) & (problem.must_open[site] != type_)
                     & (opened[type_] > problem.min_open[type_]))
        if not removable.any():
            break
        drop = int(np.argmax(np.where(removable, cost[site, type_], -np.inf)))
        keep = np.arange(site.size) != drop
        pruned = evaluate(problem, site[keep], type_[keep])
        if pruned.objective < evaluation.objective - OBJECTIVE_TOL * max(1.0, abs(evaluation.objective)):
            break  # cannot happen for step coverage; kept as a guard, never a silent loss
        site, type_, evaluation = site[keep], type_[keep], pruned
    return site, type_, evaluation


def problem_model(problem: CoverageProblem):
    """The MILP an exact backend receives for ``problem``, and its column index.

    This is what ``lifecircle export`` writes. With ``equity.maximin`` it is the second-stage
    model before the first stage's worst share is fixed, since that level needs a solve.
    """
    problem.precheck()
    if problem.has_service:
        from lifecircle.optimizer.solve.equity import precheck_equity

        precheck_equity(problem)
        return build_service_model(problem)
    return build_coverage_model(problem)
