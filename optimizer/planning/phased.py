"""Phased plans (`lifecircle plan`): which sites open in which year, as one MILP over all years.

The formulation is in :mod:`models.phased`. Every plan is re-checked year by year from the
problem's own arrays: each year's new facilities cost no more than that year's budget, and the
facilities open in year t (opened in t or before) are evaluated with
:func:`optimizer.core.solution.evaluate`; must_open and min_open are checked at the last year, when
the plan is complete. The model's objective must equal the sum of the evaluated years.

:func:`solve_year_by_year` is the myopic alternative planners use by hand: each year, the best
plan for that year given what is already open. It is the baseline the one-MILP plan beats.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field, replace

import numpy as np

from lifecircle.optimizer.core import events
from lifecircle.models.coverage import build_coverage_model
from lifecircle.models.greedy import greedy_plan
from lifecircle.models.phased import build_phased_model, decode_open_year, encode_open_year

from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions, Status, Termination, get_backend
from lifecircle.optimizer.errors import InfeasibleError, ScenarioError, exit_code_for
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.core.deadline import with_deadline
from lifecircle.optimizer.solve.leastcost import column_ranks, solve_lexicographic
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.core.solution import Solution, evaluate
from lifecircle.optimizer.core.tolerances import BUDGET_TOL, OBJECTIVE_TOL

logger = logging.getLogger(__name__)

# The model holds every facility and every open pair once per year, so its size grows with the
# horizon; 50 years is far beyond any plan (China's plans run 5 years, the 15-minute life circle
# targets 2035) and keeps a mistyped --years from allocating until the OOM killer steps in.
MAX_YEARS = 50



@dataclass(frozen=True)
class YearResult:
    """One year of a phased plan (``year`` counts from 1)."""

    year: int
    budget_cny: float
    spent_cny: float
    opened: int
    objective: float
    people_after: np.ndarray  # (G,)


@dataclass(frozen=True)
class PhasedPlan:
    """A phased plan. ``site``/``type`` index the problem; ``open_year`` is 0-based, per facility.
    ``objective`` is weighted coverage summed over the years."""

    status: Status
    backend: str
    objective: float | None
    bound: float | None
    gap: float | None
    site: np.ndarray
    type: np.ndarray
    open_year: np.ndarray
    years: tuple = ()
    message: str = ""
    timings_s: dict = field(default_factory=dict)
    model_stats: dict = field(default_factory=dict)
    termination: Termination | None = None  # why the solve stopped; None: what status implies

    @property
    def has_plan(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)


def parse_year_budgets(value, years: int) -> np.ndarray:
    """Budgets per year from one number (every year) or a comma list of ``years`` numbers."""
    if years < 1:
        raise ScenarioError(f"--years: value {years} must be >= 1")
    if years > MAX_YEARS:
        raise ScenarioError(f"--years: value {years} is above the limit of {MAX_YEARS} planning years")
    text = str(value).strip()
    parts = text.split(",")
    number = r"\s*[+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*"
    if not all(re.fullmatch(number, p) for p in parts):
        raise ScenarioError(f"--budget-per-year: value {text!r} is not a non-negative number or a comma list")
    budgets = np.array([float(p) for p in parts])
    if budgets.size == 1:
        budgets = np.full(years, budgets[0])
    if budgets.size != years:
        raise ScenarioError(f"--budget-per-year: value {text!r} has {budgets.size} budgets for {years} years")
    return budgets


def check_phased(problem: CoverageProblem, site, type_, open_year, budgets_cny) -> tuple[tuple, list]:
    """Re-check a phased plan from the problem's arrays. Returns (years, violations)."""
    site, type_ = np.asarray(site, dtype=np.int64), np.asarray(type_, dtype=np.int64)
    open_year = np.asarray(open_year, dtype=np.int64)
    budgets = np.asarray(budgets_cny, dtype=float)
    n_years = budgets.size
    violations = []
    if np.any((open_year < 0) | (open_year >= n_years)):
        violations.append("a facility opens outside the planning years")
    # Before the last year the plan is incomplete: no must_open or min_open demands yet.
    partial = replace(problem, must_open=np.full(problem.n_sites, NO_TYPE), min_open=np.zeros_like(problem.min_open))
    cost = problem.cost_cny[site, type_]
    years = []
    for t in range(n_years):
        spent = float(np.nansum(cost[open_year == t]))
        if spent > budgets[t] * (1 + BUDGET_TOL) + BUDGET_TOL:
            violations.append(f"year {t + 1}: spent {spent:,.0f} > budget {budgets[t]:,.0f}")
        now = open_year <= t
        base = problem if t == n_years - 1 else partial
        # spending was checked year by year above; evaluate checks every other rule
        ev = evaluate(base.with_budget(np.inf), site[now], type_[now])
        violations += [f"year {t + 1}: {v}" for v in ev.violations]
        years.append(YearResult(t + 1, float(budgets[t]), spent, int(np.count_nonzero(open_year == t)),
                                ev.objective, ev.people_after))
    return tuple(years), violations


def _columns(problem: CoverageProblem, index):
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = problem.must_open[index.x_site] == index.x_type
    return cost, must


def _greedy_start(problem, index, cost, must, budgets) -> np.ndarray | None:
    """Open year per facility column from a year-by-year greedy, or None if it misses a rule."""
    n_years = budgets.size
    open_year = np.full(index.n_x, -1)
    chosen = np.zeros(index.n_x, dtype=bool)
    spent = 0.0
    for t in range(n_years):
        last = t == n_years - 1
        fixed = chosen | (must if last else np.zeros_like(chosen))
        picked = greedy_plan(index, cost, spent + budgets[t], fixed,
                             problem.min_open if last else np.zeros_like(problem.min_open))
        new = picked & ~chosen
        if float(cost[new].sum()) > budgets[t] * (1 + BUDGET_TOL) + BUDGET_TOL or np.any(chosen & ~picked):
            return None
        open_year[new] = t
        chosen |= picked
        spent += float(cost[new].sum())
    per_type = np.bincount(index.x_type[chosen], minlength=problem.n_types)
    if np.any(per_type < problem.min_open) or np.any(must & ~chosen):
        return None
    return open_year


def _finish(problem, budgets, backend, status, objective, bound, gap, site, type_, open_year,
            message, timings, stats, model_objective=True, termination=None) -> PhasedPlan:
    years = ()
    if status in (Status.OPTIMAL, Status.FEASIBLE):
        years, violations = check_phased(problem, site, type_, open_year, budgets)
        if violations:
            raise SolverResultError(f"{backend}: phased plan fails the year-by-year check: {violations[0]}")
        total = float(sum(y.objective for y in years))
        if not model_objective:
            objective = total
        elif abs(total - objective) > OBJECTIVE_TOL * max(1.0, abs(objective)):
            raise SolverResultError(f"{backend}: phased model objective {objective} != evaluated {total}")
    order = np.lexsort((site, open_year))
    return PhasedPlan(status, backend, objective, bound, gap, site[order], type_[order], open_year[order],
                      years, message, timings, stats, termination)


def solve_phased(problem: CoverageProblem, budgets_cny, solver: str = DEFAULT_BACKEND,
                 options: SolveOptions | None = None) -> PhasedPlan:
    """Solve the phased MILP of :mod:`models.phased` and re-check the plan year by year.

    Raises :class:`InfeasibleError` when the data alone rule out every plan (the single-year
    precheck with the summed budget); the solver's infeasibility comes back as a status.
    A year-by-year greedy plan, when it meets every rule, is the warm start.
    """
    if getattr(problem, "has_service", False):
        raise ScenarioError("plan: decay, capacities and equity rules are not supported in phased "
                            "plans yet; remove them or use `lifecircle solve`")
    options = with_deadline(options or SolveOptions())
    backend = get_backend(solver, "milp")
    budgets = np.asarray(budgets_cny, dtype=float)
    problem.with_budget(float(budgets.sum())).precheck()

    t0 = time.perf_counter()
    _, index = build_coverage_model(problem)
    cost, must = _columns(problem, index)
    model, layout = build_phased_model(index, cost, budgets, must, problem.min_open)
    start_year = _greedy_start(problem, index, cost, must, budgets)
    if start_year is not None:
        options = replace(options, warm_start=encode_open_year(start_year, index, layout))
    build_s = time.perf_counter() - t0
    stats = index.stats() | {"years": layout.n_years, "rows": model.n_rows, "columns": model.n_cols,
                             "nonzeros": int(model.A.nnz)}

    t1 = time.perf_counter()
    # issue 14: least cost of the finished plan, then the canonical tie-break (as `solve`)
    last = layout.o_col(layout.n_years - 1)
    col_cost, col_rank = np.zeros(model.n_cols), np.zeros(model.n_cols)
    col_cost[last] = cost
    col_rank[last] = column_ranks(index.x_site, index.x_type, problem.n_types)
    result = solve_lexicographic(model, col_cost, col_rank, backend.name, options).result
    solve_s = time.perf_counter() - t1
    site = type_ = open_year = np.zeros(0, dtype=np.int64)
    if result.values is not None:
        column_year = decode_open_year(result.values, layout)
        chosen = column_year >= 0
        site, type_, open_year = index.x_site[chosen], index.x_type[chosen], column_year[chosen]
    return _finish(problem, budgets, backend.name, result.status, result.objective, result.bound,
                   result.gap, site, type_, open_year, result.message,
                   {"build": build_s, "solve": solve_s}, stats, termination=result.termination)


def solve_year_by_year(problem: CoverageProblem, budgets_cny, solver: str = DEFAULT_BACKEND,
                       options: SolveOptions | None = None) -> PhasedPlan:
    """The myopic plan: each year the optimal single-year plan given the sites already open.

    must_open and min_open apply in the last year only (as in the phased model). Its objective
    is the same sum of yearly coverage, so it compares directly with :func:`solve_phased`.
    """
    options = options or SolveOptions()
    backend = get_backend(solver, "milp")
    budgets = np.asarray(budgets_cny, dtype=float)
    t0 = time.perf_counter()
    model, index = build_coverage_model(problem)
    cost, must = _columns(problem, index)
    open_year = np.full(index.n_x, -1)
    spent = 0.0
    status, message = Status.OPTIMAL, ""
    for t, budget in enumerate(budgets):
        last = t == budgets.size - 1
        chosen = open_year >= 0
        year_model = model.with_row_bounds("budget", upper=spent + budget)
        year_model = year_model.with_col_bounds(np.flatnonzero(chosen), lower=1.0)
        if not last:
            year_model = year_model.with_col_bounds(np.flatnonzero(must & ~chosen), lower=0.0)
            year_model = year_model.with_row_bounds("min_open", lower=0.0)
        result = solve_linear(year_model, backend.name, options)
        if result.values is None:
            status, message = result.status, f"year {t + 1}: {result.message}"
            break
        if result.status != Status.OPTIMAL:
            status = Status.FEASIBLE
        new = (result.values[: index.n_x] > 0.5) & ~chosen
        open_year[new] = t
        spent += float(cost[new].sum())
    if status not in (Status.OPTIMAL, Status.FEASIBLE):
        empty = np.zeros(0, dtype=np.int64)
        return PhasedPlan(status, backend.name, None, None, None, empty, empty, empty, (), message,
                          {"solve": time.perf_counter() - t0})
    chosen = open_year >= 0
    return _finish(problem, budgets, backend.name, status, None, None, None, index.x_site[chosen],
                   index.x_type[chosen], open_year[chosen], message,
                   {"solve": time.perf_counter() - t0}, {}, model_objective=False)


# ---- files ---------------------------------------------------------------------------------


def run_plan(scenario_path, *, years: int, budgets_cny, solver: str = DEFAULT_BACKEND, out_dir=None,
             options: SolveOptions | None = None, compare: bool = False):
    """Load, plan and write sites.csv (with ``open_year``), sites.geojson and summary.json
    (with per-year coverage) into ``out_dir`` (default ``results/<scenario>-plan``).

    Returns a :class:`optimizer.run.RunResult`. With ``compare``, the year-by-year plan is
    solved too and its objective recorded in summary.json.
    """
    from lifecircle.optimizer.files import (
        atomic_folder, write_csv_bom, write_points_geojson,
    )
    from lifecircle.optimizer.outputs.results import write_summary
    from lifecircle.optimizer.run import RunResult, load_problem, site_rows, summary_of, type_labels

    if not 1 <= years <= MAX_YEARS:
        raise ScenarioError(f"--years: value {years} must be between 1 and {MAX_YEARS}")
    budgets = np.asarray(budgets_cny, dtype=float)
    if budgets.size != years:
        raise ScenarioError(f"--budget-per-year: {budgets.size} budgets for {years} years")
    t0 = time.perf_counter()
    options = with_deadline(options)  # issue 14: one clock for the whole run
    scenario, problem, facts, out_dir, loaded_s = load_problem(scenario_path, out_dir=out_dir, suffix="-plan")
    t_cov = time.perf_counter()
    total_problem = problem.with_budget(float(budgets.sum()))

    plan, reason = None, ""
    events.phase(logger, "phase.plan", "solving the %d-year plan with %s", years, solver, years=years, solver=solver)
    try:
        plan = solve_phased(problem, budgets, solver, options)
        status = plan.status
        if status == Status.INFEASIBLE:
            reason = "the solver proved that no phased plan meets the yearly budgets, must_open and min_open"
        elif status == Status.NO_SOLUTION:
            reason = plan.message or "no plan found within the time limit"
    except InfeasibleError as error:
        status, reason = Status.INFEASIBLE, str(error)
    if compare and plan is not None:
        events.phase(logger, "phase.myopic", "solving year by year (myopic), for --compare")
    yearly = solve_year_by_year(problem, budgets, solver, options) if compare and plan is not None else None
    t_solved = time.perf_counter()

    final = None
    if plan is not None and plan.has_plan:
        evaluation = evaluate(total_problem, plan.site, plan.type)
        final = Solution(plan.status, plan.backend, evaluation.objective, None, None, plan.site, plan.type,
                         evaluation.spent_cny, plan.timings_s, plan.message, plan.model_stats, evaluation,
                         termination=plan.termination)
    timings = {**loaded_s,
               "build": plan.timings_s.get("build", 0.0) if plan else 0.0,
               "solve": plan.timings_s.get("solve", 0.0) if plan else t_solved - t_cov}
    events.phase(logger, "phase.writing", "writing %s", out_dir, path=str(out_dir))
    with atomic_folder(out_dir, inputs=scenario.files) as tmp:
        if final is not None:
            header, rows, props = site_rows(scenario, total_problem, final)
            year_of = {scenario.sites.ids[j]: int(t) + 1 for j, t in zip(plan.site, plan.open_year)}
            years_col = [year_of[row[0]] for row in rows]
            order = np.argsort(years_col, kind="stable")
            rows = [[years_col[n], *rows[n]] for n in order]
            props = [{"open_year": years_col[n], **props[n]} for n in order]
            write_csv_bom(tmp / "sites.csv", ["open_year", *header], rows)
            write_points_geojson(tmp / "sites.geojson", props, [p["x"] for p in props],
                                 [p["y"] for p in props], scenario.crs)
        timings["write"] = time.perf_counter() - t_solved
        timings["total"] = time.perf_counter() - t0
        extra = {
            "objective_meaning": "weighted coverage summed over the years",
            "horizon_years": int(years),
            "budget_per_year": [float(b) for b in budgets],
            "years": [_year_dict(y, scenario.group_names) for y in (plan.years if plan else ())],
        }
        if yearly is not None:
            extra["year_by_year"] = {"status": str(yearly.status), "objective": yearly.objective,
                                     "years": [_year_dict(y, scenario.group_names) for y in yearly.years]}
        base = summary_of(scenario, total_problem, final, status, timings, reason, solver, facts=facts)
        summary = replace(base, objective=None if plan is None else plan.objective,
                          bound=None if plan is None else plan.bound, gap=None if plan is None else plan.gap,
                          budget_cny=float(budgets.sum()), extra=base.extra | extra)  # issue 14: keep services
        write_summary(tmp, summary)
    return RunResult(out_dir, summary, exit_code_for(status), type_labels(scenario))


def _year_dict(year: YearResult, groups) -> dict:
    return {"year": year.year, "budget": year.budget_cny, "spent": year.spent_cny, "opened": year.opened,
            "objective": year.objective,
            "covered": {g: float(year.people_after[n]) for n, g in enumerate(groups)}}
