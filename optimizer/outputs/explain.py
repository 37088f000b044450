r"""Explanations of a plan, computed from the problem: per selected site and for the plan as a whole.

Every figure is measured, never templated. Notation as in :mod:`models.coverage`: open pairs
:math:`(i,g)` (weighted people, not reached by an existing facility) are the rows of the sparse
reach matrix :math:`R` (pairs × facilities) that ``models.coverage.pair_coverage`` builds for the
MILP; :math:`w` is their weighted people and :math:`n_p = \sum_f R_{pf}` counts the plan's
facilities reaching pair :math:`p`.

Per selected facility :math:`f` (site :math:`j` as type :math:`k`):

* newly covered people by group, and the **unique contribution** (people who lose coverage when
  :math:`f` alone is dropped) come from :func:`optimizer.core.solution.evaluate`;
* cost per newly covered weighted person: :math:`c_{jk} / \sum_g w_g\,\text{newly}_{fg}`;
* marginal-gain rank: the position of :math:`f` in the greedy ordering of the plan's own
  facilities, each step taking the one that adds the most weighted people to those already
  covered (ties: lower cost first);
* **best alternative**: among facilities :math:`a` on sites the plan does not use, with
  :math:`c_a \le B - \text{spent} + c_{jk}` (and of type :math:`k` when dropping :math:`f` would
  break ``min_open``), the one recovering the most of :math:`f`'s unique weighted contribution,
  :math:`\text{rec}_{af} = \sum_p R_{pa} R_{pf} [n_p = 1] w_p`; ties go to the larger net gain
  :math:`\text{rec}_{af} + \sum_p R_{pa} [n_p = 0] w_p`, then to the lower cost. All pairs
  :math:`(a, f)` come from two sparse products: evaluation, no solve.

For the plan: which rules bind (a re-solve without ``must_open`` / ``min_open``, and with 10% more
budget), the people each group still lacks and where, and what the next 10% of budget buys.
``why_not`` re-solves with one site forced in and reports the loss.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lifecircle.optimizer.core import events
from lifecircle.models.coverage import facility_columns, pair_coverage

from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, REGISTRY, SolveOptions, Status
from lifecircle.optimizer.errors import InfeasibleError, ScenarioError
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.core.solution import Evaluation, evaluate
from lifecircle.optimizer.core.tolerances import BUDGET_TOL
from lifecircle.optimizer.outputs.reach import min_open_ceiling, reachable_pairs, uncovered_where
from lifecircle.optimizer.outputs.results import RunSummary, read_run_summary

logger = logging.getLogger(__name__)

# Objective differences below this (relative) are solver noise, not a gain or a loss.
GAIN_TOL = 1e-6
NEXT_BUDGET_FACTOR = 1.10
LP_SHARE = 0.25  # of a re-solve's time limit, for the LP bound that may make the re-solve unnecessary


def _tol(objective: float) -> float:
    return GAIN_TOL * max(1.0, abs(objective))


# ---------------------------------------------------------------------------------------------
# per selected site


@dataclass(frozen=True)
class SiteExplanations:
    """One row per selected facility, in the plan's order. NaN / -1 where a figure does not exist."""

    site: np.ndarray  # (n,) site index j
    type: np.ndarray  # (n,) type index k
    cost_cny: np.ndarray  # (n,)
    newly: np.ndarray  # (n, G) people newly covered (not reached by an existing facility)
    unique: np.ndarray  # (n, G) people who lose coverage if this facility alone is dropped
    newly_weighted: np.ndarray  # (n,)
    unique_weighted: np.ndarray  # (n,)
    cost_per_newly_weighted: np.ndarray  # (n,) NaN when it newly covers nobody
    gain_rank: np.ndarray  # (n,) 1 = first in the marginal-gain ordering
    marginal_gain: np.ndarray  # (n,) weighted people it adds at its turn in that ordering
    freed_budget_cny: np.ndarray  # (n,) budget left if this facility is dropped
    alt_site: np.ndarray  # (n,) best alternative's site, -1 when none fits
    alt_type: np.ndarray  # (n,)
    alt_cost_cny: np.ndarray  # (n,)
    alt_recovered_weighted: np.ndarray  # (n,) of unique_weighted, recovered by the alternative
    alt_objective: np.ndarray  # (n,) plan objective after the swap
    objective: float

    @property
    def alt_needed(self) -> np.ndarray:
        """(n,) False where nobody depends on the facility alone, so dropping it loses nothing."""
        return self.unique_weighted > 0

    def __len__(self) -> int:
        return int(self.site.size)

    def position(self, j: int) -> int | None:
        hit = np.flatnonzero(self.site == j)
        return int(hit[0]) if hit.size else None


def marginal_order(R, weight: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy ordering of facilities (columns of ``R``) by weighted people added at each step.

    Returns (rank, gain): ``rank[f]`` is 1-based, ``gain[f]`` the weight f adds at its turn.
    """
    n = R.shape[1]
    rank = np.zeros(n, dtype=np.int64)
    gain_at_turn = np.zeros(n)
    open_weight = weight.astype(float).copy()
    left = np.ones(n, dtype=bool)
    Rc = R.tocsc()
    for step in range(n):
        gains = np.where(left, Rc.T @ open_weight, -np.inf)
        # the largest gain, then the cheapest, then the first
        order = np.lexsort((np.arange(n), cost, -gains))
        f = int(order[0])
        rank[f], gain_at_turn[f], left[f] = step + 1, gains[f], False
        open_weight[Rc.indices[Rc.indptr[f]:Rc.indptr[f + 1]]] = 0.0
    return rank, gain_at_turn


def explain_sites(problem: CoverageProblem, site, type_, evaluation: Evaluation | None = None
                  ) -> SiteExplanations:
    """Explanations for every facility of the plan (site, type_), by evaluation only."""
    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    ev = evaluation if evaluation is not None else evaluate(problem, site, type_)
    n = site.size
    weight = problem.group_weight
    cost = problem.cost_cny[site, type_].astype(float)
    newly_w = ev.newly_covered @ weight
    unique_w = ev.unique @ weight
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = np.where(newly_w > 0, cost / newly_w, np.nan)

    R, w, _, _ = pair_coverage(problem, site, type_)
    rank, gain_at_turn = marginal_order(R, w, cost)

    counts = np.asarray(R.sum(axis=1)).ravel()
    lost = R.multiply((w * (counts == 1))[:, None]).tocsc()  # (P, n): w where f alone reaches p
    uncovered_w = w * (counts == 0)
    cand_site, cand_type = facility_columns(problem.cost_cny, problem.forbidden)
    Rc, _, _, _ = pair_coverage(problem, cand_site, cand_type)
    recovered = np.asarray((Rc.T @ lost).todense()).reshape(cand_site.size, n)
    net = recovered + (Rc.T @ uncovered_w)[:, None]
    cand_cost = problem.cost_cny[cand_site, cand_type]
    freed = problem.budget_cny - ev.spent_cny + cost
    used = np.zeros(problem.n_sites, dtype=bool)
    used[site] = True
    opened = np.bincount(type_, minlength=problem.n_types)
    needs_same_type = opened[type_] - 1 < problem.min_open[type_]
    fits = cand_cost[:, None] <= freed[None, :] * (1 + BUDGET_TOL) + BUDGET_TOL
    fits &= ~used[cand_site][:, None]
    fits &= ~needs_same_type[None, :] | (cand_type[:, None] == type_[None, :])

    best_rec = np.where(fits, recovered, -np.inf).max(axis=0, initial=-np.inf)
    tie = fits & (recovered >= best_rec[None, :] - 1e-9)
    best_net = np.where(tie, net, -np.inf).max(axis=0, initial=-np.inf)
    tie &= net >= best_net[None, :] - 1e-9
    pick = np.argmin(np.where(tie, cand_cost[:, None], np.inf), axis=0) if cand_site.size else np.zeros(n, int)
    found = tie.any(axis=0) if cand_site.size else np.zeros(n, bool)
    cols = np.arange(n)
    alt_site = np.where(found, cand_site[pick] if cand_site.size else -1, -1)
    alt_type = np.where(found, cand_type[pick] if cand_site.size else -1, -1)
    alt_cost = np.where(found, cand_cost[pick] if cand_site.size else np.nan, np.nan)
    alt_rec = np.where(found, recovered[pick, cols] if cand_site.size else np.nan, np.nan)
    alt_obj = np.where(found, ev.objective - unique_w + (net[pick, cols] if cand_site.size else 0), np.nan)
    if getattr(problem, "has_service", False):
        # levels and capacities: the sums above rank swaps by reach; the objective is evaluate()'s
        alt_obj = _service_swaps(problem, site, type_, alt_site, alt_type, found, alt_obj)
    return SiteExplanations(
        site=site, type=type_, cost_cny=cost, newly=ev.newly_covered, unique=ev.unique,
        newly_weighted=newly_w, unique_weighted=unique_w, cost_per_newly_weighted=per_person,
        gain_rank=rank, marginal_gain=gain_at_turn, freed_budget_cny=freed,
        alt_site=alt_site.astype(np.int64), alt_type=alt_type.astype(np.int64), alt_cost_cny=alt_cost,
        alt_recovered_weighted=alt_rec, alt_objective=alt_obj, objective=ev.objective,
    )


def _service_swaps(problem, site, type_, alt_site, alt_type, found, alt_obj):
    """evaluate()'s objective after each swap. Without capacities evaluate is cheap; with them
    one persistent LP serves every swap (:mod:`optimizer.solve.assignment_lp`), warm started."""
    from lifecircle.optimizer.outputs.progress import progress

    swaps = np.flatnonzero(found)
    alt_obj = alt_obj.copy()
    if not swaps.size:
        return alt_obj
    n = site.size
    with progress(int(swaps.size), "report: swaps", unit="swap") as bar:
        if not problem.capacitated_groups().any():
            for f in swaps.tolist():
                keep = np.arange(n) != f
                alt_obj[f] = evaluate(problem, np.append(site[keep], alt_site[f]),
                                      np.append(type_[keep], alt_type[f])).objective
                bar.update(1)
            return alt_obj
        from lifecircle.optimizer.solve.assignment_lp import SwapLP

        pairs = np.unique(np.stack([alt_site[swaps], alt_type[swaps]], axis=1), axis=0)
        lp = SwapLP(problem, site, type_, pairs[:, 0], pairs[:, 1])
        events.note(logger, "phase.report_swaps", "report: %d swaps on one assignment LP (%d columns, %d classes of "
                     "%d pairs)", swaps.size, lp.n_columns, lp.n_classes, lp.n_points, swaps=int(swaps.size),
                     columns=int(lp.n_columns), classes=int(lp.n_classes), pairs=int(lp.n_points))
        for f in swaps.tolist():
            a = int(np.flatnonzero((pairs[:, 0] == alt_site[f]) & (pairs[:, 1] == alt_type[f]))[0])
            alt_obj[f] = lp.objective(f, a)
            bar.update(1)
    return alt_obj


# ---------------------------------------------------------------------------------------------
# the plan as a whole


@dataclass(frozen=True)
class Resolve:
    """A re-solve of a changed problem: what it reached and the plan it found."""

    status: str
    objective: float | None
    site: np.ndarray
    type: np.ndarray
    spent_cny: float | None
    people_after: np.ndarray | None  # (G,)
    budget_cny: float
    message: str = ""
    # resolve: a MILP re-solve; ceiling: the plan already covers everyone any site can reach;
    # bound: the LP relaxation's bound equals the plan's coverage. Both bounds prove the plan optimal.
    # count_bound (min_open only): no plan short of a type's minimum reaches the plan's coverage
    # (optimizer.outputs.reach.min_open_ceiling), so relaxing the rule gains nothing.
    method: str = "resolve"
    bound: float | None = None  # the re-solve's proven upper bound; count_bound: the bound on those plans


@dataclass(frozen=True)
class RuleCheck:
    """Whether one rule binds: the objective with the rule removed (or relaxed), by re-solve."""

    rule: str  # budget, must_open, min_open
    present: bool
    binding: bool | None  # None: rule absent, or neither a better plan nor a bound settled it
    gain: float | None  # objective gained without (or with the relaxed) rule
    slack: float | None  # budget left, or facilities opened beyond min_open
    detail: tuple = ()  # must_open: sites the relaxed plan drops; min_open: (type, opened, minimum)
    resolve: Resolve | None = None


@dataclass(frozen=True)
class PlanFacts:
    objective: float
    spent_cny: float
    budget_cny: float
    rules: tuple  # of RuleCheck
    population: np.ndarray  # (G,)
    covered_before: np.ndarray  # (G,)
    covered_after: np.ndarray  # (G,)
    uncovered: np.ndarray  # (G,) people still uncovered
    unreachable: np.ndarray  # (G,) of those, people no allowed facility could reach
    uncovered_points: tuple  # per group: tuple of (point index, people, reachable)
    next_budget: Resolve | None
    solver: str
    site: np.ndarray  # (n,) the plan these facts are about
    type: np.ndarray

    def rule(self, name: str) -> RuleCheck:
        return next(r for r in self.rules if r.rule == name)


def _bound_proves(problem: CoverageProblem, objective: float, options: SolveOptions | None = None) -> bool:
    """True when the LP relaxation of ``problem`` cannot beat ``objective``: then a plan reaching
    ``objective`` is optimal and no MILP re-solve is needed (a proof, not an estimate)."""
    from lifecircle.models.coverage import build_coverage_model

    from lifecircle.optimizer.solve.linear import solve_linear

    if getattr(problem, "has_service", False):  # levels and capacities: the coverage LP does not bound it
        return False
    model, _ = build_coverage_model(problem)
    lp = replace(model, integrality=np.zeros(model.n_cols, dtype=bool), integral_optimum=False)
    # a shortcut is only worth a fraction of the re-solve it may save
    limit = options.time_limit_s * LP_SHARE if options is not None and options.time_limit_s else None
    result = solve_linear(lp, DEFAULT_BACKEND, SolveOptions(time_limit_s=limit,
                                                           deadline=options.deadline if options else None))
    if result.status != Status.OPTIMAL or result.objective is None:
        return False
    return result.objective <= objective + _tol(objective)


def _resolve(problem: CoverageProblem, solver: str, options: SolveOptions | None, warm_start=None,
             relaxes: Evaluation | None = None, ceiling: float | None = None) -> Resolve:
    """Solve a changed problem. ``relaxes``: the evaluation of the plan ``warm_start`` when the change
    only relaxes the rules (so that plan stays feasible); then a bound equal to its objective proves
    it still optimal and the MILP is skipped: ``ceiling`` (the plan's coverage plus every reachable
    person it leaves out; free) first, else the LP relaxation."""
    from lifecircle.optimizer.solve.coverage import solve_problem

    empty = np.zeros(0, dtype=np.int64)
    if relaxes is not None and warm_start is not None:
        method = None
        if ceiling is not None and ceiling <= relaxes.objective + _tol(relaxes.objective):
            method = "ceiling"
        elif _bound_proves(problem, relaxes.objective, options):
            method = "bound"
        if method is not None:
            return Resolve(str(Status.OPTIMAL), float(relaxes.objective), np.asarray(warm_start[0]),
                           np.asarray(warm_start[1]), relaxes.spent_cny, relaxes.people_after,
                           problem.budget_cny, "a bound equals the plan's coverage", method,
                           float(relaxes.objective))
    logger.debug("re-solve with %s at budget %s", solver, f"{problem.budget_cny:,.0f}")
    try:
        sol = solve_problem(problem, solver, options, warm_start=warm_start)
    except InfeasibleError as error:
        return Resolve(str(Status.INFEASIBLE), None, empty, empty, None, None, problem.budget_cny, str(error))
    if not sol.has_plan:
        return Resolve(str(sol.status), None, empty, empty, None, None, problem.budget_cny, sol.message)
    bound = sol.objective if sol.status == Status.OPTIMAL else sol.bound
    return Resolve(str(sol.status), float(sol.evaluation.objective), sol.site, sol.type, sol.spent_cny,
                   sol.evaluation.people_after, problem.budget_cny, sol.message, "resolve",
                   None if bound is None else float(bound))


def _add_capacitated(problem: CoverageProblem, site, type_, ev: Evaluation, options: SolveOptions | None) -> Resolve:
    """Issue 14: under capacities, what the larger budget buys is the plan plus facilities added
    greedily, each priced by the persistent assignment LP (:mod:`optimizer.solve.next_budget`),
    with the capacity ceiling as a labelled bound; not a second assignment MILP, which cost most
    of the report on yuzhong_capacity and still ended unproven."""
    import time

    from lifecircle.optimizer.solve.next_budget import add_within_budget

    deadline = None
    if options is not None and options.deadline is not None:
        deadline = time.perf_counter() + max(0.0, options.deadline.remaining())
    elif options is not None and options.time_limit_s:
        deadline = time.perf_counter() + options.time_limit_s
    # the plan's evaluation stands at the larger budget: only the budget row changed
    site, type_, after, bound = add_within_budget(problem, site, type_, ev, deadline)
    status = Status.OPTIMAL if bound <= after.objective + _tol(after.objective) else Status.FEASIBLE
    return Resolve(str(status), float(after.objective), site, type_, after.spent_cny, after.people_after,
                   problem.budget_cny, "facilities added greedily, priced by the assignment LP", "greedy",
                   float(bound))


def resolve_solver(solver: str | None) -> str:
    """The solver for re-solves: the run's own when known, else the default."""
    return solver if solver in REGISTRY else DEFAULT_BACKEND


def plan_facts(problem: CoverageProblem, site, type_, *, solver: str = DEFAULT_BACKEND,
               options: SolveOptions | None = None, evaluation: Evaluation | None = None,
               next_budget_factor: float = NEXT_BUDGET_FACTOR) -> PlanFacts:
    """Binding rules, what is still uncovered, and what more budget buys, for the plan (site, type_).

    Costs a re-solve for the budget, plus one per rule present (must_open, min_open), each warm
    started from the plan (which stays feasible when a rule is relaxed).
    """
    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    ev = evaluation if evaluation is not None else evaluate(problem, site, type_)
    warm = (site, type_)
    objective = ev.objective
    reachable = reachable_pairs(problem)
    ceiling = None
    if not getattr(problem, "has_service", False):  # step coverage: nobody counts beyond reach
        ceiling = objective + float((problem.weighted_people() * (reachable & ~ev.covered)).sum())

    def gain_of(res: Resolve):
        return None if res.objective is None else res.objective - objective

    def binds_after(res: Resolve):
        # yes: a better plan was found; no: the relaxed problem's bound rules one out; else unknown
        # (a re-solve stopped by its time limit without either)
        gain = gain_of(res)
        if gain is not None and gain > _tol(objective):
            return True
        if res.bound is not None and res.bound <= objective + _tol(objective):
            return False
        return None

    larger = problem.with_budget(problem.budget_cny * next_budget_factor)
    percent = f"{100 * (next_budget_factor - 1):g}"
    events.phase(logger, "phase.report_next_budget", "report: what %s%% more budget buys", percent, percent=percent)
    if getattr(problem, "has_service", False) and problem.capacitated_groups().any() and ev.feasible:
        next_budget = _add_capacitated(larger, site, type_, ev, options)
    else:
        next_budget = _resolve(larger, solver, options, warm, ev, ceiling)
    rules = [RuleCheck("budget", True, binds_after(next_budget), gain_of(next_budget),
                       problem.budget_cny - ev.spent_cny, (), next_budget)]

    must = problem.must_open != NO_TYPE
    if must.any():
        events.phase(logger, "phase.report_rule", "report: re-solving without %s", "must_open", rule="must_open")
        res = _resolve(replace(problem, must_open=np.full(problem.n_sites, NO_TYPE)), solver, options, warm, ev, ceiling)
        kept = set(zip(res.site.tolist(), res.type.tolist()))
        dropped = tuple(int(j) for j in np.flatnonzero(must) if (int(j), int(problem.must_open[j])) not in kept)
        rules.append(RuleCheck("must_open", True, binds_after(res), gain_of(res), None,
                               dropped if res.objective is not None else (), res))
    else:
        rules.append(RuleCheck("must_open", False, None, None, None))

    if (problem.min_open > 0).any():
        # Only the relaxed coverage is reported here (does the rule bind, and what it costs), never
        # the relaxed plan's sites: the least-cost and canonical stages would buy nothing.
        opened = np.bincount(type_, minlength=problem.n_types)
        ruled = np.flatnonzero(problem.min_open > 0)
        counts = tuple((int(k), int(opened[k]), int(problem.min_open[k])) for k in ruled)
        extra = int((opened - problem.min_open)[ruled].min())
        # issue 14: when no plan that breaks the rule could reach the plan's coverage (reach.py), the
        # rule costs nothing, proven by evaluation; else a re-solve (100 s of the dense district's report)
        maximin = problem.equity is not None and problem.equity.maximin is not None
        below = None if ceiling is None or maximin else min_open_ceiling(problem)
        if below is not None and below <= objective + _tol(objective):
            res = Resolve(str(Status.OPTIMAL), float(objective), site, type_, ev.spent_cny, ev.people_after,
                          problem.budget_cny, "no plan short of a type's minimum can cover as much", "count_bound",
                          float(below))
            rules.append(RuleCheck("min_open", True, False, 0.0, float(extra), counts, res))
        else:
            events.phase(logger, "phase.report_rule", "report: re-solving without %s", "min_open", rule="min_open")
            coverage_only = replace(options or SolveOptions(), canonical=False)
            res = _resolve(replace(problem, min_open=np.zeros(problem.n_types, dtype=np.int64)), solver, coverage_only,
                           warm, ev, ceiling)
            rules.append(RuleCheck("min_open", True, binds_after(res), gain_of(res), float(extra), counts, res))
    else:
        rules.append(RuleCheck("min_open", False, None, None, None))

    uncovered, unreachable, points = uncovered_where(problem, ev.covered, reachable=reachable)
    return PlanFacts(
        objective=objective, spent_cny=ev.spent_cny, budget_cny=problem.budget_cny, rules=tuple(rules),
        population=problem.people.sum(axis=0), covered_before=ev.people_before,
        covered_after=ev.people_after, uncovered=uncovered, unreachable=unreachable,
        uncovered_points=points, next_budget=next_budget, solver=solver, site=site, type=type_,
    )


# ---------------------------------------------------------------------------------------------
# why not this site


@dataclass(frozen=True)
class WhyNot:
    """Why site ``site`` is not in the plan, backed by a re-solve with it forced in."""

    site: int
    reason: str  # selected, forbidden, no_type, already_covered, dominated, too_expensive, tie
    type: int  # the type the forced re-solve used (the one losing least); -1 when none
    cost_cny: float | None
    reach_weighted: float  # weighted people it reaches who no existing facility reaches
    gain_weighted: float  # of those, people the plan leaves uncovered: what it would add
    dominated_by: tuple | None  # (site, type) reaching everyone it reaches at no higher cost
    dominated_by_selected: bool
    plan_worst_cost_per_person: float | None  # highest cost per newly covered weighted person in the plan
    base_objective: float
    forced: Resolve | None

    @property
    def loss(self) -> float | None:
        if self.forced is None or self.forced.objective is None:
            return None
        return self.base_objective - self.forced.objective


def why_not(problem: CoverageProblem, site, type_, j: int, *, solver: str = DEFAULT_BACKEND,
            options: SolveOptions | None = None, evaluation: Evaluation | None = None) -> WhyNot:
    """Classify why site ``j`` is not chosen and measure the loss of forcing it in (one re-solve per
    type it may host)."""
    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    ev = evaluation if evaluation is not None else evaluate(problem, site, type_)
    base = dict(site=int(j), base_objective=ev.objective, dominated_by=None, dominated_by_selected=False,
                plan_worst_cost_per_person=None, forced=None)
    if j in set(site.tolist()):
        k = int(type_[site == j][0])
        return WhyNot(reason="selected", type=k, cost_cny=float(problem.cost_cny[j, k]),
                      reach_weighted=0.0, gain_weighted=0.0, **base)
    if problem.forbidden[j]:
        return WhyNot(reason="forbidden", type=-1, cost_cny=None, reach_weighted=0.0, gain_weighted=0.0, **base)
    kinds = np.flatnonzero(problem.allowed()[j])
    if kinds.size == 0:
        return WhyNot(reason="no_type", type=-1, cost_cny=None, reach_weighted=0.0, gain_weighted=0.0, **base)

    # the forced re-solves: one per type the site may host; keep the one losing least
    events.phase(logger, "phase.why_not", "why not %s: re-solving with it forced in", problem.site_ids[j],
                 site=str(problem.site_ids[j]))
    forced = {}
    for k in kinds:
        must = problem.must_open.copy()
        must[j] = k
        forced[int(k)] = _resolve(replace(problem, must_open=must), solver, options)
    k = min(forced, key=lambda t: (forced[t].objective is None, -(forced[t].objective or 0.0), t))

    cand_site, cand_type = facility_columns(problem.cost_cny, problem.forbidden)
    Rc, w, _, _ = pair_coverage(problem, cand_site, cand_type)
    Rp, _, _, _ = pair_coverage(problem, site, type_)
    counts = np.asarray(Rp.sum(axis=1)).ravel()
    c0 = int(np.flatnonzero((cand_site == j) & (cand_type == k))[0])
    mine = Rc[:, [c0]]
    mine_dense = mine.toarray().ravel()
    reach_w = float(mine_dense @ w)
    gain_w = float(mine_dense @ (w * (counts == 0)))
    cost = float(problem.cost_cny[j, k])

    # dominance: another facility reaching every open pair this one reaches, at no higher cost
    size = mine.nnz
    overlap = Rc.T @ mine_dense
    cand_cost = problem.cost_cny[cand_site, cand_type]
    superset = (overlap >= size) & (cand_site != j) & (cand_cost <= cost * (1 + BUDGET_TOL)) & (size > 0)
    chosen = np.isin(cand_site * problem.n_types + cand_type, site * problem.n_types + type_)
    dominated_by, by_selected = None, False
    if superset.any():
        best = int(np.lexsort((cand_cost, ~chosen, ~superset))[0])
        dominated_by, by_selected = (int(cand_site[best]), int(cand_type[best])), bool(chosen[best])

    expl = explain_sites(problem, site, type_, ev) if site.size else None
    worst = None
    if expl is not None and np.isfinite(expl.cost_per_newly_weighted).any():
        worst = float(np.nanmax(expl.cost_per_newly_weighted))

    res = forced[k]
    loss = None if res.objective is None else ev.objective - res.objective
    # the most specific answer first: a dominating site names the better choice outright
    if loss is not None and loss <= _tol(ev.objective):
        reason = "tie"
    elif dominated_by is not None:
        reason = "dominated"
    elif gain_w <= 1e-9:
        reason = "already_covered"
    else:
        reason = "too_expensive"
    return WhyNot(site=int(j), reason=reason, type=k, cost_cny=cost, reach_weighted=reach_w,
                  gain_weighted=gain_w, dominated_by=dominated_by, dominated_by_selected=by_selected,
                  plan_worst_cost_per_person=worst, base_objective=ev.objective, forced=res)


# ---------------------------------------------------------------------------------------------
# a result folder, reloaded


@dataclass(frozen=True)
class LoadedResult:
    folder: Path
    summary: RunSummary
    scenario: object
    problem: CoverageProblem
    site: np.ndarray
    type: np.ndarray
    evaluation: Evaluation


def load_result(folder) -> LoadedResult:
    """Reload a solve's scenario and plan, refusing when the scenario changed since the run."""
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario

    folder = Path(folder)
    run = read_run_summary(folder)
    where = run.path
    candidates = [run.scenario_path, run.scenario_file]
    path = next((Path(p) for p in candidates if p and Path(p).is_file()), None)
    if path is None:
        raise ScenarioError(f"{where}: scenario file {run.scenario_file!r} no longer exists; "
                            "explanations need the scenario the plan was solved from")
    if not run.has_plan:
        raise ScenarioError(f"{where}: status {run.status!r}: the run has no plan to explain")
    scenario = load_scenario(path, budget_cny=run.budget_cny)
    if scenario.checksum != run.scenario_checksum:
        raise ScenarioError(
            f"{where}: scenario {path} changed since this run (checksum {str(run.scenario_checksum)[:12]} "
            f"then, {scenario.checksum[:12]} now); re-run `lifecircle solve` first"
        )
    run.check_ids(scenario.sites.ids, scenario.type_names, path)
    kwargs = {}
    if getattr(scenario, "network_path", None) is not None:  # network reach, as run_solve builds it
        from lifecircle.optimizer.inputs.network_reach import resolve_cache_dir

        kwargs["cache_dir"] = resolve_cache_dir(None, folder)
    problem = build_problem(scenario, **kwargs)
    index = {s: j for j, s in enumerate(scenario.sites.ids)}
    types = scenario.type_names
    site = np.array([index[s.site_id] for s in run.selected], dtype=np.int64)
    type_ = np.array([types.index(s.facility_type) for s in run.selected], dtype=np.int64)
    return LoadedResult(folder, run, scenario, problem, site, type_, evaluate(problem, site, type_))


def site_index(scenario, site_id: str, where: str) -> int:
    ids = scenario.sites.ids
    if site_id not in ids:
        raise ScenarioError(f"{where}: unknown site {site_id!r}; sites.csv has ids such as {', '.join(ids[:3])}")
    return ids.index(site_id)
