"""Budget curves: how weighted coverage grows with the budget.

Coverage is computed once and the model built once; each budget changes only the ``budget`` row
(:meth:`models.linear.LinearModel.with_row_bounds`) and is reduced exactly (:mod:`models.reduce`).
Budgets are solved in ascending chains, so a chain's previous plan is always feasible at its next
budget (only the budget row loosens) and is passed to the solver as a warm start; budgets of
different chains are solved in threads at once (see :func:`sweep_problem`). Every plan is re-checked by
:func:`optimizer.core.solution.evaluate` against the problem at its own budget, exactly as ``solve``
does.

The budgets, the points, the knee and the files are in :mod:`lifecircle.optimizer.planning.curve`.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lifecircle.optimizer.core import events
from lifecircle.models.coverage import build_coverage_model, encode_selection
from lifecircle.models.greedy import greedy_plan
from lifecircle.models.linear import decimal_scale
from lifecircle.models.reduce import dominated_columns, prune_plan, reduce_coverage

from lifecircle.optimizer.solve.backends import (
    DEFAULT_BACKEND, REGISTRY, SolveOptions, Status, get_backend,
)
from lifecircle.optimizer.solve.backends.base import relative_gap
from lifecircle.optimizer.errors import InfeasibleError, ScenarioError
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.leastcost import column_ranks, solve_lexicographic
from lifecircle.optimizer.core.deadline import Deadline
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL
from lifecircle.optimizer.planning.curve import (
    KNEE_BUDGET_STEP, KNEE_COVERAGE_GAIN, SweepPoint, SweepResult, budget_knee, curve_rows, plan_rows,
    write_curve_png,
)

logger = logging.getLogger(__name__)

# Objectives on a grid of step u: stop the solver once bound - plan < GRANULE_SHARE * u, which
# proves the plan optimal (no better grid point is below the bound); see objective_unit().
GRANULE_SHARE = 0.99
MAX_DECIMALS = 6
# Budgets below the largest are dealt into this many warm-start chains whatever --jobs says: the
# warm starts decide which of several equally good plans a solver returns, so chains that followed
# --jobs (or the machine's core count) would change plans.csv. One after another, 1, 2 and 4
# chains cost the same within noise (a start from 4 budgets down is as good as from 1); with two
# threads, 4 chains balance better than 2 (Yuzhong 5.1 s against 5.6 s, Liangjiang 3.7 / 4.2 s).
SWEEP_CHAINS = 4


def sweep_jobs(jobs: int | None) -> int:
    """The number of budget solves to run at once: ``jobs``, or the number of cores for None.

    Raises :class:`ScenarioError` (one line) below 1.
    """
    if jobs is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ScenarioError(f"--jobs: value {jobs!r} must be a whole number >= 1")
    return int(jobs)


def sweep_problem(problem: CoverageProblem, budgets, solver: str = DEFAULT_BACKEND,
                  options: SolveOptions | None = None, jobs: int | None = None,
                  on_budget=None) -> SweepResult:
    """Solve ``problem`` at every budget, reusing one model and warm-starting.

    Order of work, each step exact:

    1. The largest budget is solved first. If that is proven optimal, its plan is pruned of
       facilities that add no coverage; the pruned plan spends ``S``. Every budget ``B >= S``
       then has the same optimum, since the plan fits and coverage cannot exceed the largest
       budget's, so those budgets need no solve.
    2. The other budgets are dealt into ``SWEEP_CHAINS`` chains, interleaved: chain ``t`` takes
       the ``t``-th, ``t + SWEEP_CHAINS``-th, ... of them in ascending order. Each budget is
       warm-started from its own chain's best plan so far (feasible, because only the budget
       grew). ``jobs`` threads solve at once (the solvers release the GIL), each taking the
       smallest budget whose chain predecessor is done (:func:`_run_chains`).
    3. A proven optimum equal to the largest budget's is shared by every larger budget. No
       budget above the smallest known to reach it is started; afterwards every budget above
       the smallest one that reached it (whichever thread solved what) takes that point's plan.
       Step 1 takes about 0.1 s on the bundled districts (past saturation the MILP is easy), so
       it is not overlapped with step 2.

    The chains depend on the data only, never on ``jobs`` or thread timing: every budget up to the
    smallest that reaches the largest budget's optimum is solved, from the same warm start, in
    every run, so the curve and the plans are the same for any ``jobs`` (unless a time limit cuts
    solves short, which makes any run depend on timing). Plans are checked by
    :func:`optimizer.core.solution.evaluate` afterwards, in ascending order. A budget too small for
    must_open/min_open gives a point with status ``infeasible`` and the precheck's reason; the
    sweep goes on. If a solve stopped early (time limit, gap) returns a worse plan than the
    nearest smaller budget's, that plan is kept: it is feasible here too, so the curve never
    decreases.

    Backends not declared safe to run twice at once (:attr:`Backend.thread_safe`: CP-SAT, SCIP)
    solve one budget at a time whatever ``jobs`` says, with the same chains. A problem with
    decay, capacities or equity (the service model) is solved budget by budget through
    :func:`optimizer.solve.coverage.solve_problem`, ``jobs`` at once, without warm starts (see
    ``_sweep_service``).

    Parameters
    ----------
    jobs : budget solves at once, in threads; None for the number of cores (:func:`sweep_jobs`),
        at most ``SWEEP_CHAINS`` are used. ``1`` solves the chains one after the other.
    on_budget : called as ``on_budget(n)`` when n more budgets are settled (a progress bar's
        update); from worker threads, so it must be thread-safe.
    """
    done = on_budget or (lambda n: None)
    options = options or SolveOptions()
    jobs = sweep_jobs(jobs)
    budgets = np.sort(np.asarray(budgets, dtype=float))
    registered = REGISTRY.get(solver)
    exact = registered is None or "milp" in registered.features
    backend = get_backend(solver, "milp" if exact else "coverage")
    if getattr(problem, "has_service", False):
        return _sweep_service(problem, budgets, backend.name, options, jobs if backend.thread_safe else 1, done)
    if not backend.thread_safe:
        jobs = 1

    t0 = time.perf_counter()
    model, index = build_coverage_model(problem)
    x_cost = problem.cost_cny[index.x_site, index.x_type]
    must = problem.must_open[index.x_site] == index.x_type
    dominated = dominated_columns(index, x_cost, must, problem.min_open) if exact else None
    x_rank = column_ranks(index.x_site, index.x_type, problem.n_types)
    build_s = time.perf_counter() - t0
    logger.debug("coverage model built in %.2f s (%d columns)", build_s, model.n_cols)

    def solve_at(budget: float, previous: _Solved | None) -> _Solved:
        """One budget, warm-started from ``previous`` (a smaller budget's plan); not yet checked.
        Runs in a worker thread: touches nothing shared but read-only arrays."""
        try:
            problem.with_budget(budget).precheck()
        except InfeasibleError as error:
            return _Solved(float(budget), Status.INFEASIBLE, None, None, None, _EMPTY, _EMPTY, 0.0, str(error))
        t1 = time.perf_counter()
        bound = gap = None
        # one clock per budget: --time-limit bounds each budget's stages together (issue 14)
        budget_options = options if options.time_limit_s is None else replace(
            options, deadline=Deadline(options.time_limit_s))
        if exact:
            reduced = reduce_coverage(model, index, x_cost, budget, must, dominated)
            start = None
            if previous is not None:
                full = encode_selection(previous.site, previous.type, index)[: index.n_x]
                start = reduced.encode(full, index.class_rows)
            # the reductions did the presolve's structural work; HiGHS's probing would cost more
            unit = objective_unit(reduced.model.c)
            stop_gap = options.gap
            if unit and options.gap == 0 and not options.canonical:
                stop_gap = GRANULE_SHARE * unit / max(1.0, float(np.abs(reduced.model.c).sum()))
            run_options = replace(budget_options, warm_start=start, presolve=False, gap=stop_gap)
            # issue 14: the least-cost canonical plan, so every path gives one answer per budget
            n_y = reduced.model.n_cols - reduced.x_cols.size
            result = solve_lexicographic(reduced.model, np.concatenate([x_cost[reduced.x_cols], np.zeros(n_y)]),
                                         np.concatenate([x_rank[reduced.x_cols], np.zeros(n_y)]),
                                         backend.name, run_options).result
            status, objective, bound, gap = result.status, result.objective, result.bound, result.gap
            if unit and objective is not None and bound is not None and bound - objective < unit * GRANULE_SHARE:
                # every plan's objective is the offset plus a multiple of unit: nothing better fits
                status, bound, gap = Status.OPTIMAL, objective, 0.0
            reason = "" if status in (Status.OPTIMAL, Status.FEASIBLE) else result.message
            values = result.values
            if values is not None:
                chosen = reduced.full_x(values) > 0.5
                site, type_ = index.x_site[chosen], index.x_type[chosen]
            else:
                site = type_ = _EMPTY
        elif hasattr(backend, "plan_with_bound"):
            # issue 14: `local` plans by local search and windows from the better of two greedy
            # starts, and brings a Lagrangian bound; the gap is taken after evaluate()
            site, type_, bound, _source = backend.plan_with_bound(problem.with_budget(budget), index,
                                                                  budget_options, model=model)
            status, objective, reason = Status.FEASIBLE, None, f"{backend.name}: no optimality claim"
        else:
            chosen = greedy_plan(index, x_cost, budget, must, problem.min_open)
            site, type_ = index.x_site[chosen], index.x_type[chosen]
            status, objective, reason = Status.FEASIBLE, None, "greedy: no optimality claim"
        return _Solved(float(budget), status, objective, bound, gap, site, type_,
                       time.perf_counter() - t1, reason, previous is not None)

    def check(solved: _Solved) -> SweepPoint:
        """evaluate() the plan at its own budget and cross-check the solver's objective."""
        budget = solved.budget_cny
        if solved.status not in (Status.OPTIMAL, Status.FEASIBLE):
            return _empty_point(budget, solved.status, solved.reason or "no plan", solved.solve_s)
        evaluation = evaluate(problem.with_budget(budget), solved.site, solved.type)
        if not evaluation.feasible:
            if exact:
                raise SolverResultError(f"{backend.name}: plan at budget {budget:,.0f} fails "
                                        f"evaluate(): {evaluation.violations[0]}")
            return _empty_point(budget, Status.NO_SOLUTION, f"{backend.name}: " + evaluation.violations[0],
                                solved.solve_s)
        objective = solved.objective
        gap = solved.gap
        if objective is None:
            objective = evaluation.objective
            gap = relative_gap(objective, solved.bound)  # a heuristic's own bound (local), else None
        elif not _same(evaluation.objective, objective):
            raise SolverResultError(f"{backend.name}: model objective {objective} != evaluated "
                                    f"{evaluation.objective} at budget {budget:,.0f}")
        # the recomputed value, so that the curve does not depend on the solver's float path
        # (a warm-started and a cold solve of one plan differ in the 12th digit)
        objective = evaluation.objective
        return SweepPoint(budget, solved.status, objective, solved.bound, gap, evaluation.spent_cny,
                          evaluation.people_after, solved.solve_s, solved.site, solved.type, solved.reason,
                          solved.warm_started)

    def same_optimum(source: SweepPoint, budget: float, why: str) -> SweepPoint:
        return replace(source, budget_cny=float(budget), bound=source.objective, gap=0.0, solve_s=0.0,
                       reason=why, warm_started=False)

    def solve_top() -> SweepPoint:
        top = check(solve_at(budgets[-1], None))
        if top.status != Status.OPTIMAL:
            return top
        # facilities that add no coverage go: same objective, less spent (evaluate() re-checks)
        kept = prune_plan(index, x_cost, must, problem.min_open,
                          encode_selection(top.site, top.type, index)[: index.n_x] > 0.5)
        site, type_ = index.x_site[kept], index.x_type[kept]
        if site.size < top.site.size:
            evaluation = evaluate(problem.with_budget(budgets[-1]), site, type_)
            if evaluation.feasible and _same(evaluation.objective, top.objective):
                top = replace(top, site=site, type=type_, spent_cny=evaluation.spent_cny,
                              covered_after=evaluation.people_after)
        return top

    n_budgets = budgets.size
    t_solve = time.perf_counter()
    top = None
    settled = np.zeros(n_budgets, dtype=bool)  # budgets whose point is known without a solve
    if exact and n_budgets > 1:
        top = solve_top()  # decides which budgets need a solve
        settled[-1] = True
        if top.status == Status.OPTIMAL:
            settled[:-1] = budgets[:-1] >= top.spent_cny
        events.phase(logger, "sweep.top", "largest budget solved (%s); %d smaller budgets need no solve", top.status,
                     settled.sum() - 1, status=str(top.status), n=int(settled.sum() - 1))
        done(int(settled.sum()))
    solved = _run_chains(np.flatnonzero(~settled).tolist(), budgets, solve_at, top, jobs, done)
    done(n_budgets - int(settled.sum()) - len(solved))  # not started: above one that reached the optimum
    solve_s = time.perf_counter() - t_solve

    t_check = time.perf_counter()
    points: list = [None] * n_budgets
    if top is not None:
        points[-1] = top
        for n in np.flatnonzero(settled[:-1]):
            points[n] = same_optimum(top, budgets[n], f"the plan of budget {budgets[-1]:,.0f} "
                                     f"spends {top.spent_cny:,.0f}: same optimum")
    reached = min((n for n, one in solved.items() if _reaches(one, top)), default=None)
    for n in sorted(solved):
        if reached is None or n <= reached:
            points[n] = check(solved[n])
    if reached is not None:
        for m in np.flatnonzero(~settled):
            if m > reached:
                points[m] = same_optimum(points[reached], budgets[m], f"reaches the optimum of budget "
                                         f"{budgets[-1]:,.0f} at budget {budgets[reached]:,.0f}: same optimum")
    points = _monotone(problem, points)
    check_s = time.perf_counter() - t_check

    knee = budget_knee(budgets, [np.nan if p.objective is None else p.objective for p in points])
    timings = {"build": build_s, "solve": solve_s, "check": check_s}
    return SweepResult(tuple(problem.group_names), tuple(points), knee, timings)


def _reaches(one: _Solved, top: SweepPoint | None) -> bool:
    """True when ``one`` is a proven optimum equal to the largest budget's."""
    return (top is not None and top.status == Status.OPTIMAL and one.status == Status.OPTIMAL
            and one.objective is not None and _same(one.objective, top.objective))


def _run_chains(pending: list, budgets: np.ndarray, solve_at, top: SweepPoint | None, jobs: int,
                on_done=lambda n: None) -> dict:
    """Solve the ``pending`` budget indices (ascending) in ``SWEEP_CHAINS`` interleaved chains.

    The k-th pending budget is warm-started from the best plan among the (k - SWEEP_CHAINS)-th,
    (k - 2 SWEEP_CHAINS)-th, ... (its chain's predecessors), so it is solved only after them.
    ``jobs`` threads take, each time one is free, the smallest budget whose chain predecessor is
    done: the work balances across threads while every solve's input stays fixed. Budgets above
    the smallest one known to reach ``top``'s optimum are not started. Returns {index: _Solved}.
    """
    K = SWEEP_CHAINS
    n = len(pending)
    claimed = [False] * n
    done = [False] * n
    best = [None] * K  # per chain: the best plan so far, the warm start of its next budget
    solved: dict = {}
    reach = [math.inf]  # the smallest budget index known to reach top's optimum
    cond = threading.Condition()
    failed = []

    def next_budget():
        with cond:
            while True:
                if failed:
                    return None
                open_ = [k for k in range(n) if not claimed[k] and pending[k] <= reach[0]]
                if not open_:
                    return None
                ready = [k for k in open_ if k < K or done[k - K]]
                if ready:
                    claimed[ready[0]] = True
                    return ready[0], best[ready[0] % K]
                cond.wait()

    def work():
        try:
            while (task := next_budget()) is not None:
                k, previous = task
                one = solve_at(budgets[pending[k]], previous)
                logger.debug("budget %s: %s, objective %s, %.2f s", f"{one.budget_cny:,.0f}", one.status,
                             one.objective, one.solve_s)
                on_done(1)
                with cond:
                    solved[pending[k]] = one
                    chain_best = best[k % K]
                    if one.status in (Status.OPTIMAL, Status.FEASIBLE) and (
                            chain_best is None or one.objective is None or chain_best.objective is None
                            or one.objective >= chain_best.objective or _same(one.objective, chain_best.objective)):
                        best[k % K] = one  # it fits every larger budget of the chain
                    if _reaches(one, top):
                        reach[0] = min(reach[0], pending[k])
                    done[k] = True
                    cond.notify_all()
        except BaseException as error:
            with cond:
                failed.append(error)
                cond.notify_all()
            raise

    if jobs <= 1 or n <= 1:
        work()
        return solved
    threads = min(jobs, n, K)  # at most one budget per chain is ever ready
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(work) for _ in range(threads)]
        try:
            for future in futures:
                future.result()
        finally:
            with cond:  # interrupted (Ctrl-C) or failed: let the other threads stop after their solve
                failed.append(None)
                cond.notify_all()
    return solved


@dataclass(frozen=True)
class _Solved:
    """A solver's answer at one budget, before evaluate() (the fields of :class:`SweepPoint`)."""

    budget_cny: float
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    site: np.ndarray
    type: np.ndarray
    solve_s: float
    reason: str = ""
    warm_started: bool = False


_EMPTY = np.zeros(0, dtype=np.int64)


def _monotone(problem: CoverageProblem, points: list) -> list:
    """Ascending pass: a plan worse than the nearest smaller budget's plan (only an unproven
    solve) is replaced by that plan, which fits the larger budget too."""
    out, previous = [], None
    for p in points:
        if p.objective is not None and previous is not None and p.objective < previous.objective \
                and not _same(p.objective, previous.objective):
            evaluation = evaluate(problem.with_budget(p.budget_cny), previous.site, previous.type)
            objective = evaluation.objective
            proven = p.bound is not None and (objective >= p.bound or _same(objective, p.bound))
            p = replace(p, status=Status.OPTIMAL if proven else Status.FEASIBLE, objective=objective,
                        spent_cny=evaluation.spent_cny, covered_after=evaluation.people_after,
                        site=previous.site, type=previous.type,
                        reason=f"kept the plan of budget {previous.budget_cny:,.0f}: better than the solver's")
        out.append(p)
        if p.objective is not None:
            previous = p
    return out


def objective_unit(c: np.ndarray) -> float | None:
    """The largest u such that every objective coefficient is an integer multiple of u, for
    coefficients with at most ``MAX_DECIMALS`` decimals (people times weights such as 0.5); else
    None. Two plans' objectives then differ by 0 or at least u."""
    c = np.abs(np.asarray(c, dtype=float))
    c = c[c > 0]
    scale = decimal_scale(c, MAX_DECIMALS, max_abs=2**53 - 1) if c.size else None
    if scale is None:
        return None
    return float(np.gcd.reduce(np.round(c * scale).astype(np.int64))) / scale


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= OBJECTIVE_TOL * max(1.0, abs(a), abs(b))


def _sweep_service(problem, budgets, solver, options, jobs: int = 1, on_done=lambda n: None) -> SweepResult:
    """Budget by budget through solve_problem (decay, capacities, equity), ``jobs`` at once.

    Not warm-started: with a warm start, solve_problem on a capacitated problem returned the
    optimal sites with a worse assignment (objective 39 instead of 63 on a test circle). So the
    budgets are independent solves, run in threads, and a smaller budget's plan is only a floor
    (:func:`_monotone`): a solve that comes back worse keeps it.
    """
    from lifecircle.optimizer.solve.coverage import solve_problem

    def solve_one(budget: float) -> SweepPoint:
        try:
            solution = solve_problem(problem.with_budget(budget), solver, options)
            on_done(1)
        except InfeasibleError as error:
            on_done(1)
            return _empty_point(budget, Status.INFEASIBLE, str(error))
        if not solution.has_plan:
            return _empty_point(budget, solution.status, solution.message, solution.timings_s.get("solve", 0.0))
        return SweepPoint(float(budget), solution.status, solution.objective, solution.bound, solution.gap,
                          solution.spent_cny, solution.evaluation.people_after,
                          solution.timings_s.get("solve", 0.0), solution.site, solution.type, "", False)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, budgets.size))) as pool:
        points = _monotone(problem, list(pool.map(solve_one, budgets.tolist())))
    knee = budget_knee(budgets, [np.nan if p.objective is None else p.objective for p in points])
    return SweepResult(tuple(problem.group_names), tuple(points), knee,
                       {"solve": time.perf_counter() - t0})


def _empty_point(budget, status, reason, solve_s=0.0) -> SweepPoint:
    empty = np.zeros(0, dtype=np.int64)
    return SweepPoint(float(budget), status, None, None, None, None, None, solve_s, empty, empty, reason)


# ---- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRun:
    out_dir: Path
    result: SweepResult
    timings_s: dict


def run_sweep(scenario_path, budgets, *, solver: str = DEFAULT_BACKEND, out_dir=None,
              options: SolveOptions | None = None, jobs: int | None = None, on_budget=None) -> SweepRun:
    """Load once, compute coverage once, sweep, and write curve.csv, curve.png, plans.csv and
    sweep.json into ``out_dir`` (default ``results/<scenario>-sweep``), whole or not at all.
    ``jobs``, ``on_budget``: see :func:`sweep_problem`."""
    from lifecircle.optimizer.files import atomic_folder, write_csv_bom, write_json
    from lifecircle.optimizer.run import load_problem

    t0 = time.perf_counter()
    scenario, problem, _facts, out_dir, loaded_s = load_problem(scenario_path, out_dir=out_dir, suffix="-sweep")
    events.phase(logger, "phase.sweeping", "sweeping %d budgets with %s", len(budgets), solver, n=len(budgets), solver=solver)
    result = sweep_problem(problem, budgets, solver, options, jobs=jobs, on_budget=on_budget)
    t_sweep = time.perf_counter()
    events.phase(logger, "phase.writing", "writing %s", out_dir, path=str(out_dir))
    timings = {**loaded_s, **result.timings_s}
    with atomic_folder(out_dir, inputs=scenario.files) as tmp:
        header, rows = curve_rows(result, _group_columns(scenario, problem, result))
        write_csv_bom(tmp / "curve.csv", header, rows)
        header, rows = plan_rows(scenario, problem, result)
        write_csv_bom(tmp / "plans.csv", header, rows)
        write_curve_png(tmp / "curve.png", result)
        timings["write"] = time.perf_counter() - t_sweep
        timings["total"] = time.perf_counter() - t0
        write_json(tmp / "sweep.json", {
            "scenario": scenario.name,
            "scenario_file": str(scenario.path),
            "scenario_checksum": scenario.checksum,
            "solver": solver,
            "budgets": [p.budget_cny for p in result.points],
            "knee": result.knee_cny,
            "knee_rule": f"beyond it each extra {KNEE_BUDGET_STEP:.0%} of budget buys less than "
                         f"{KNEE_COVERAGE_GAIN:.0%} more weighted coverage",
            "timings_s": {k: round(float(v), 4) for k, v in timings.items()},
        })
    return SweepRun(out_dir, result, timings)


def _group_columns(scenario, problem, result: SweepResult):
    """Issue 14: under ``per_service`` curve.csv keeps a ``covered_<group>`` column per YAML group
    (people reached by at least one of its services, re-evaluated from each plan) beside the
    per-service columns; None under ``any_service``."""
    if not scenario.services:
        return None
    from lifecircle.optimizer.core.solution import evaluate
    from lifecircle.optimizer.outputs.services import group_coverage

    names = tuple(scenario.base_groups)
    values = []
    for p in result.points:
        if p.covered_after is None:
            values.append(None)
            continue
        cov = group_coverage(scenario, problem, evaluate(problem, p.site, p.type))
        values.append([cov[g][2] for g in names])
    return names, values
