"""Solve the classic models on an instance: checks, build, backend, decode.

The path is the core engine's: ``models/classic.py`` builds a ``LinearModel``,
:func:`~lifecircle.optimizer.solve.linear.solve_linear` runs any registered backend and re-checks
the plan, and the objective reported is recomputed here from the decoded sites, never taken from a
solver. Budgeted MCLP on coordinates takes the large-instance path of
:mod:`lifecircle.optimizer.classic.points`. Parameter checks live in ``classic/params.py``,
benchmarks in ``classic/bench.py`` and the MPS/LP writer in ``optimizer/solve/export.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from lifecircle.models import classic as cm
from lifecircle.models.linear import MINIMIZE, LinearModel

from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions, Status
from lifecircle.optimizer.solve.backends.base import relative_gap
from lifecircle.optimizer.errors import InfeasibleError, ScenarioError, SolverResultError
from lifecircle.optimizer.classic.instance import ClassicInstance
from lifecircle.optimizer.classic.params import (
    check_budget, check_p, check_radius, reachable_or_fail, site_index,
)
from lifecircle.optimizer.classic.pcenter import (
    PCENTER_METHODS, pcenter_table, solve_pcenter_levels,
)
from lifecircle.optimizer.classic.result import ClassicResult, stop_facts
from lifecircle.optimizer.solve.linear import solve_linear

MODELS = ("mclp", "lscp", "pmedian", "pcenter")


@dataclass(frozen=True)
class BuiltModel:
    """A built model with what decoding needs."""

    kind: str
    linear: LinearModel
    p: int | None
    radius: float | None
    coverage: object = None
    costs: cm.CostTable | None = None


def build_classic(instance: ClassicInstance, model: str, *, p: int | None = None,
                  radius: float | None = None, budget: float | None = None,
                  preselected=(), weighted: bool = False) -> BuiltModel:
    """Check the parameters against the instance and build the model (see models/classic.py).

    Raises
    ------
    ScenarioError for parameters that do not fit the instance (exit 2); InfeasibleError for
    data that admits no plan (exit 3).
    """
    if model not in MODELS:
        raise ScenarioError(f"MODEL: unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if model == "mclp":
        radius = check_radius(radius, model)
        pre = site_index(instance, preselected) if preselected else np.zeros(0, dtype=np.int64)
        cov = instance.coverage(radius)
        if budget is not None:
            budget = check_budget(instance, budget, pre)
            lin = cm.build_mclp(cov, instance.weights, site_costs=instance.site_costs,
                                budget=budget, preselected=pre)
            return BuiltModel(model, lin, None, radius, coverage=cov)
        p = check_p(instance, p, model)
        if pre.size > p:
            raise ScenarioError(f"--preselected: {pre.size} pre-selected sites but p={p}")
        lin = cm.build_mclp(cov, instance.weights, p, preselected=pre)
        return BuiltModel(model, lin, p, radius, coverage=cov)
    if model == "lscp":
        radius = check_radius(radius, model)
        cov = instance.coverage(radius)
        lost = cm.uncoverable(cov)
        if lost.size:
            raise InfeasibleError(
                f"lscp: infeasible, {lost.size} of {instance.n_demand} demand points are within "
                f"radius {radius:g} of no site (first: {instance.demand_ids[int(lost[0])]!r}); "
                "raise --radius")
        return BuiltModel(model, cm.build_lscp(cov), None, radius, coverage=cov)
    p = check_p(instance, p, model)
    table = instance.cost_table()
    if model == "pmedian":
        reachable_or_fail(instance, table, instance.weights > 0, model)
        return BuiltModel(model, cm.build_pmedian(table, instance.weights, p), p, None, costs=table)
    mask = instance.weights > 0 if weighted else np.ones(instance.n_demand, dtype=bool)
    reachable_or_fail(instance, table, mask, model)
    if weighted:  # weights multiply costs: the same model on the weighted table
        table = pcenter_table(instance, weighted)
    return BuiltModel(model, cm.build_pcenter(table, p), p, None, costs=table)


def _evaluate(instance: ClassicInstance, built: BuiltModel, sites: np.ndarray):
    """(objective, covered weight, uncovered points) recomputed from the open sites alone."""
    if built.kind in ("mclp", "lscp"):
        covered = cm.covered_mask(built.coverage, sites)
        weight = float(instance.weights[covered].sum())
        uncovered = int((~covered).sum())
        objective = weight if built.kind == "mclp" else float(sites.size)
        return objective, weight, uncovered
    if built.kind == "pmedian":
        return cm.pmedian_cost(built.costs, instance.weights, sites), None, None
    return cm.pcenter_cost(built.costs, sites), None, None


def _inconsistent(evaluated: float, model_value: float, sense: str, status) -> bool:
    """True when the plan's own objective contradicts the model's.

    A plan the solver stopped early (a time limit) may carry slack the optimum would remove: a
    p-center radius variable above the plan's real radius, a point assigned past a nearer open
    site, a covered point not counted. Its evaluated objective is then better than the model's
    value, which is fine: the evaluated one is reported and the solver's bound stays valid. Only
    an evaluated objective worse than the model's, or any mismatch in a plan called optimal, is a
    bug.
    """
    tol = 1e-6 * max(1.0, abs(evaluated))
    worse = evaluated - model_value if sense == MINIMIZE else model_value - evaluated
    return worse > tol or (status == Status.OPTIMAL and abs(worse) > tol)


def solve_classic(instance: ClassicInstance, model: str, *, p: int | None = None,
                  radius: float | None = None, budget: float | None = None, preselected=(),
                  solver: str = DEFAULT_BACKEND, options: SolveOptions | None = None,
                  read_s: float = 0.0, method: str | None = None,
                  weighted: bool = False) -> ClassicResult:
    """Build ``model`` on ``instance``, solve it with ``solver`` and decode the plan.

    The objective is recomputed from the open sites and must match the model's own value; a
    mismatch is a bug and raises :class:`~optimizer.errors.SolverResultError`. p-center:
    ``method`` is ``"levels"`` (default: the search over distance levels of
    :mod:`lifecircle.optimizer.classic.pcenter`) or ``"compact"`` (one MIP, for comparison);
    ``weighted`` minimises the largest weight x cost.
    """
    if weighted and model != "pcenter":
        raise ScenarioError(f"--weighted: only pcenter takes weights this way ({model} uses the "
                            "instance's weights as they are)")
    if model == "pcenter":
        method = method or "levels"
        if method not in PCENTER_METHODS:
            raise ScenarioError(f"--pcenter-method: unknown method {method!r}; choose one of "
                                f"{', '.join(PCENTER_METHODS)}")
        if method == "levels":
            return solve_pcenter_levels(instance, p=p, weighted=weighted, solver=solver,
                                        options=options, read_s=read_s)
    if model == "mclp" and instance.demand_xy is not None:
        # MCLP on coordinates (cfl, xy-weights): chunked coverage, aggregation and presolve
        # (issue 8). For p-MCLP the dominance rules, then the Lagrangian bound and site fixing of
        # models/mclp_bound.py against a swap-search plan (issue 16): the LP fixing of the
        # presolve rarely paid there, this fixing leaves HiGHS nothing or a few hundred sites.
        from lifecircle.optimizer.classic.points import solve_mclp_points

        if budget is None and solver == "highs" and (options is None or options.presolve):
            options = replace(options or SolveOptions(), presolve=False)  # as for the compact
        return solve_mclp_points(instance, p=p, radius=radius, budget=budget,
                                 preselected=preselected, solver=solver, options=options,
                                 read_s=read_s, presolve=True if budget is not None
                                 else "dominance")
    if model == "pmedian" and solver == "highs":
        # Incumbent, Lagrangian fixing and a reduced ladder MIP (issue 16); None: too large
        # for its dense cost matrix, so the plain ladder below. Other backends keep the plain
        # ladder, so that each still answers (or declines) its own model.
        from lifecircle.optimizer.classic.pmedian import solve_pmedian_exact

        exact = solve_pmedian_exact(instance, p, solver, options, read_s)
        if exact is not None:
            return exact
    t0 = time.perf_counter()
    built = build_classic(instance, model, p=p, radius=radius, budget=budget,
                          preselected=preselected, weighted=weighted)
    lin = built.linear
    if model == "pmedian" and (options is None or options.warm_start is None):
        # A fast interchange plan as the warm start: with a near-optimal incumbent from the
        # first node, reduced-cost fixing shrinks the ladders at once. SCIP proved pmed6 in
        # 49 s without it (the incumbent arrived after three restarts) and CBC/CP-SAT gain too.
        plan = cm.pmedian_interchange(built.costs, instance.weights, built.p)
        if plan is not None:
            start = cm.pmedian_start(built.costs, instance.weights, built.p, plan)
            options = replace(options or SolveOptions(), warm_start=start)
    if model == "mclp" and solver == "highs" and (options is None or options.presolve):
        # The merged MCLP is already reduced (identical rows merged, empty rows dropped); HiGHS's
        # presolve then mostly probes. Without it the city-like 2,000-point instance of
        # benchmarks/bench_spopt.py solved in 0.8-1.4 s against 1.1-2.4 s (4 of 5 seeds faster).
        options = replace(options or SolveOptions(), presolve=False)
    t1 = time.perf_counter()
    sol = solve_linear(lin, solver, options)
    t2 = time.perf_counter()
    lin = built.linear
    size = {"rows": lin.n_rows, "cols": lin.n_cols, "nonzeros": int(lin.A.nnz),
            "binaries": int(lin.integrality.sum())}
    timings = {"read": round(read_s, 4), "build": round(t1 - t0, 4), "solve": round(t2 - t1, 4)}
    termination, bound_source = stop_facts(sol, bool(lin.integrality.any()))
    if sol.values is None:
        # A solver stopped before its first bound reports -inf: no bound, not a number to print.
        no_bound = sol.bound is None or not np.isfinite(sol.bound)
        bound_source = None if no_bound else bound_source
        return ClassicResult(instance.name, model, sol.backend, str(sol.status), None,
                             None if no_bound else sol.bound,
                             None, [], None, None, timings, size, sol.message,
                             termination=termination, bound_source=bound_source)
    sites = cm.open_sites(lin, sol.values)
    objective, weight, uncovered = _evaluate(instance, built, sites)
    if _inconsistent(objective, sol.objective, lin.sense, sol.status):
        raise SolverResultError(
            f"{sol.backend}: the plan's {model} objective is {objective:g} but the model says "
            f"{sol.objective:g}; this is a bug in lifecircle, please report it")
    bound = sol.bound
    if bound is not None and sol.status == Status.OPTIMAL:
        bound = objective
    gap = relative_gap(objective, bound)
    return ClassicResult(
        instance.name, model, sol.backend, str(sol.status), objective, bound, gap,
        [instance.site_ids[int(j)] for j in sites], weight, uncovered, timings, size, sol.message,
        termination=termination, bound_source=bound_source)


__all__ = ["MODELS", "ClassicResult", "BuiltModel", "build_classic", "solve_classic"]
