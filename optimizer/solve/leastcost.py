r"""Least cost first, then one canonical plan (issue 14, section 2).

A coverage optimum is rarely unique: several plans reach the same people, at different costs, on
different sites. Which one a solver returns depends on its path (warm start, thread timing, a
sweep's chain), so ``solve``, ``sweep``, ``plan`` and ``city`` used to disagree at the same
budget, and a sweep could spend 2.4 M CNY more at a larger budget for the same coverage. The
*canonical plan* is the first plan in this total order:

1. **coverage**: the largest objective ``Z*`` (weighted people covered; the model's objective);
2. **cost**: among plans reaching ``Z*``, the smallest spending ``C*``;
3. **rank**: among those, the smallest sum of facility ranks ``R*``, where the rank of a
   (site, type) pair is its 1-based position when pairs are ordered by the site's row in
   sites.csv, then by the type's position in ``facility_types``;
4. **ties**: among plans still equal on all three, the lexicographically smallest list of ranks
   (sorted ascending).

Stages 2-4 are solved as follow-up MILPs on the stage-1 model with rows added, never a weighted
single objective (``cost x M + rank`` is exact only while ``M`` x costs stays inside a double's
53 bits, which 10,000 sites at millions of CNY do not). The fixing rows are exact: objectives
and costs are integers after :func:`models.linear.decimal_scale`, so "coverage >= Z*" is the row
``s c.v >= s Z* - 1/2`` (any plan on the row reaches ``Z*`` exactly); where a scale does not exist
(decay weights), the row keeps a relative slack of :data:`OBJECTIVE_TOL` and the stage says so.
Stages 1-3 are one exact objective when it fits a double (:func:`single_objective`), else the
follow-up MILPs above. Stage 4 first asks one question, "is there another plan as good on stages
1-3?" (:func:`_another_plan`: one MILP with the plan as incumbent and a bonus below half a
coverage step for every facility column that differs, so the solver prunes by bound); almost
always there is none and the plan is canonical. Otherwise it fixes ranks in ascending
order, one small feasibility solve each, keeping a rank open whenever some tied plan uses it.

Every stage runs within the run's one deadline (:class:`optimizer.core.deadline.Deadline`); a
stage stopped by it keeps the plan it started from, which is feasible and at least as good, and
its record says it is not proven.

The exact reductions of :mod:`models.reduce` keep the canonical plan: a dominated column has a
dominator that is no dearer and, at equal cost, earlier in the column order (the rank order), so
swapping it in lowers stage 2 or stage 3; fixing must_open columns and dropping unaffordable
ones changes no plan.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, MINIMIZE, LinearModel, decimal_scale

from lifecircle.optimizer.core import events
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.solve.backends.watch import shown_as

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """What one stage proved: its objective, the best bound on it, and where the bound is from."""

    stage: str  # coverage | cost | rank | ties
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    bound_source: BoundSource | None
    exact: bool = True  # False: the fixing row of the stage before it needed a float slack
    solves: int = 1
    seconds: float | None = None

    def as_dict(self) -> dict:
        """summary.json's record of the stage."""
        return {"stage": self.stage, "status": str(self.status), "objective": self.objective,
                "bound": self.bound, "gap": self.gap,
                "bound_source": None if self.bound_source is None else str(self.bound_source),
                "exact": self.exact, "solves": self.solves,
                # the clock's part, under the name every other timing in summary.json has
                "timings_s": {} if self.seconds is None else {"solve": round(self.seconds, 4)}}


@dataclass(frozen=True)
class Canonical:
    """The final column values (same columns as the stage-1 model) and the stage records after
    stage 1; ``canonical`` is True when every stage was proven."""

    values: np.ndarray
    stages: tuple
    canonical: bool


def column_ranks(x_site: np.ndarray, x_type: np.ndarray, n_types: int) -> np.ndarray:
    """1-based rank of each facility column in the canonical order: site row, then type."""
    key = np.asarray(x_site, dtype=np.int64) * max(1, int(n_types)) + np.asarray(x_type, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = np.arange(1, key.size + 1)
    return rank


def _add_row(model: LinearModel, coeffs: np.ndarray, lower: float, upper: float, name: str) -> LinearModel:
    row = sp.csr_matrix(np.asarray(coeffs, dtype=float)[None, :])
    blocks = dict(model.row_blocks)
    blocks[name] = slice(model.n_rows, model.n_rows + 1)
    return replace(model, A=sp.vstack([model.A, row], format="csr"),
                   row_lower=np.append(model.row_lower, lower), row_upper=np.append(model.row_upper, upper),
                   row_blocks=blocks)


def at_least(model: LinearModel, coeffs: np.ndarray, value: float, name: str) -> tuple[LinearModel, bool]:
    """``coeffs . v >= value`` exactly when the coefficients sit on a decimal grid (scaled to
    integers, half a unit of slack) and the columns they weigh are integral at an optimum; else
    with a relative float slack (capacitated assignments are fractional). Returns (model, exact)."""
    scale = _scale(coeffs) if _integral(model, coeffs) else None
    if scale is None:
        return _add_row(model, coeffs, value - OBJECTIVE_TOL * max(1.0, abs(value)), np.inf, name), False
    return _add_row(model, coeffs * scale, np.round(value * scale) - 0.5, np.inf, name), True


def _at_most(model: LinearModel, coeffs: np.ndarray, value: float, name: str) -> tuple[LinearModel, bool]:
    scale = _scale(coeffs) if _integral(model, coeffs) else None
    if scale is None:
        return _add_row(model, coeffs, -np.inf, value + OBJECTIVE_TOL * max(1.0, abs(value)), name), False
    return _add_row(model, coeffs * scale, -np.inf, np.round(value * scale) + 0.5, name), True


def _equal(model: LinearModel, coeffs: np.ndarray, value: float, name: str) -> LinearModel:
    """``coeffs . v == value`` as :func:`at_least` and :func:`_at_most` together, in one row."""
    scale = _scale(coeffs) if _integral(model, coeffs) else None
    if scale is None:
        slack = OBJECTIVE_TOL * max(1.0, abs(value))
        return _add_row(model, coeffs, value - slack, value + slack, name)
    return _add_row(model, coeffs * scale, np.round(value * scale) - 0.5, np.round(value * scale) + 0.5, name)


def _integral(model: LinearModel, coeffs: np.ndarray) -> bool:
    """True when every column ``coeffs`` weighs takes integer values at an optimum."""
    weighed = np.asarray(coeffs) != 0
    return bool(model.integral_optimum or model.integrality[weighed].all())


def _scale(coeffs: np.ndarray) -> float | None:
    nonzero = np.asarray(coeffs, dtype=float)
    nonzero = nonzero[nonzero != 0]
    if nonzero.size == 0:
        return 1.0
    # the scaled row's activity must stay an exact integer in a double
    scale = decimal_scale(nonzero, max_abs=2.0**53 / max(1, nonzero.size))
    return None if scale is None else float(scale)


def canonical_plan(model: LinearModel, values: np.ndarray, cost: np.ndarray, rank: np.ndarray,
                   solver: str, options: SolveOptions) -> Canonical:
    """Stages 2-4 of the module docstring after a stage-1 optimum ``values`` of ``model``.

    Parameters
    ----------
    model : the stage-1 model (maximisation of coverage), as solved.
    values : a stage-1 plan of ``model``; proven optimal for a canonical answer.
    cost : (n_cols,) cost of each column (0 off the facility columns).
    rank : (n_cols,) int, canonical rank of each facility column, 0 elsewhere.
    solver, options : the backend and options of stage 1 (its deadline bounds every stage).
    """
    if model.sense != MAXIMIZE:
        raise ValueError("canonical_plan: stage 1 maximises coverage")
    cost = np.asarray(cost, dtype=float)
    rank = np.asarray(rank, dtype=float)
    options = replace(options, gap=0.0, warm_start=None)
    stages = []
    coverage = model.objective_value(values)

    # stage 2: least cost at full coverage
    fixed, exact = at_least(model, model.c, coverage - model.offset, "coverage_fixed")
    costed = replace(fixed, sense=MINIMIZE, c=cost, offset=0.0)
    values, proven, stage = _stage("cost", costed, values, solver, options, exact)
    stages.append(stage)

    # stage 3: smallest rank sum at that cost
    spent = float(cost @ values)
    fixed, exact_cost = _at_most(fixed, cost, spent, "cost_fixed")
    ranked = replace(fixed, sense=MINIMIZE, c=rank, offset=0.0)
    if proven:
        values, proven, stage = _stage("rank", ranked, values, solver, options, exact and exact_cost)
        stages.append(stage)
    if not proven:
        return Canonical(_polish(model, values, solver, options), tuple(stages), False)

    # stage 4: is any other plan as good? then fix ranks in ascending order
    rank_sum = float(rank @ values)
    tied, _ = _at_most(fixed, rank, rank_sum, "rank_fixed")
    tied = replace(tied, sense=MINIMIZE, c=np.zeros(model.n_cols), offset=0.0)
    t_ties = time.perf_counter()
    answer = _another_plan(model, tied, values, cost, rank, float(cost @ values), rank_sum, solver, options)
    if answer == "none":
        stages.append(Stage("ties", Status.OPTIMAL, rank_sum, rank_sum, 0.0, BoundSource.CERTIFICATE, solves=1,
                            seconds=time.perf_counter() - t_ties))
        return Canonical(_polish(model, values, solver, options), tuple(stages), True)
    if answer == "unknown":  # stopped by the clock before it could tell
        stages.append(Stage("ties", Status.FEASIBLE, rank_sum, None, None, None, solves=1,
                            seconds=time.perf_counter() - t_ties))
        return Canonical(_polish(model, values, solver, options), tuple(stages), False)
    values, done, solves = _lexicographic(tied, values, rank, solver, options)
    stages.append(Stage("ties", Status.OPTIMAL if done else Status.FEASIBLE, rank_sum,
                        rank_sum if done else None, 0.0 if done else None,
                        BoundSource.CERTIFICATE if done else None, solves=solves + 1,
                        seconds=time.perf_counter() - t_ties))
    return Canonical(_polish(model, values, solver, options), tuple(stages), done)


# The one-objective form is used while its largest value stays this far inside a double's 53 bits,
# so that a unit step of the rank (the smallest term) stays far above float noise.
SINGLE_OBJECTIVE_MAX = 2.0**45
# The tie check (stage 4) may take at most this share of the time stage 1 took (and at least
# TIE_MIN_S): proving that no other plan ties is a second search (_another_plan: about 10 % of
# stage 1 on liangjiang, 25 % on yuzhong_hillside), so it is bounded; when it cannot decide, the
# stage says so ("ties: feasible"). Before the incumbent form it was 2x stage 1 on hillside.
TIE_SHARE = 0.5
TIE_MIN_S = 0.2
# The tie question runs with the solver's presolve when stage 1 took at least this long: its fixed
# cost (about 0.35 s on liangjiang) is then paid back (hillside: 1.2 CPU s against 2.2)
TIE_PRESOLVE_S = 3.0
# The one-objective solve's objective scale (objective_scale): bishan_rural's CPU ratio 1.30 /
# 1.16 / 1.32 unscaled against 1.12 / 1.16 / 1.02 at 2**-10 (HiGHS seeds 0 / 1 / 2, issue 14)
OBJECTIVE_SCALE_TO = 2.0**26
OBJECTIVE_SCALE_MAX = 10
# Stages 2-4 after an unproven stage 1 (stopped by --gap or the clock): this share of stage 1's
# time, the 30 % budget for the least-cost stages.
COST_SHARE = 0.3
# After a proven stage 1 that did not fit the one objective: the same share, but never less than
# this. Uncapped, the dense 100k x 2,000 district proved coverage in about 100 s and then spent
# every second left on least cost (with --time-limit 200: cost still unproven at the deadline);
# the floor leaves smaller models their whole cost stage (yuzhong_capacity, the one bundled
# district on this path: cost 1.0 s, ties 0.5 s after a 3.9 s coverage stage).
PROVEN_COST_MIN_S = 30.0


@dataclass(frozen=True)
class Lexicographic:
    """Stage 1 and the canonical stages in one: ``result`` speaks of coverage (its objective and
    bound are the stage-1 model's), ``values`` is the canonical plan's column vector."""

    result: object  # LinearSolution, coverage terms
    stages: tuple
    canonical: bool


def single_objective(model: LinearModel, cost: np.ndarray, rank: np.ndarray):
    """The exact one-objective form of stages 1-3, or None when it does not fit a double.

    With coverage ``c.v`` on the grid ``1/s`` (integers ``s c``), costs integers after dividing by
    their gcd ``q`` (``K = cost / q``, at most ``K_max`` in any plan) and ranks summing to less
    than ``R`` in any affordable plan (:func:`plan_rank_bound`): maximise ``M s c.v - (R K.v + rank.v)`` with
    ``M = R (K_max + 1)``. The subtracted part is in ``[0, M)``, so one more unit of ``s c.v``
    always wins; below that, one more unit of ``K`` outweighs every rank sum. Returns
    (c, M, s) or None.
    """
    cost = np.asarray(cost, dtype=float)
    if not _integral(model, model.c) or not _integral(model, cost) or np.any(cost < 0):
        return None
    scale = _scale(model.c)
    priced = cost[cost > 0]
    if scale is None or (priced.size and np.any(priced != np.round(priced))):
        return None
    q = float(np.gcd.reduce(np.round(priced).astype(np.int64))) if priced.size else 1.0
    units = np.round(cost / q)
    k_max = float(units.sum())
    budget = model.row_upper[model.row_blocks["budget"]] if "budget" in model.row_blocks else np.zeros(0)
    if budget.size == 1 and np.isfinite(budget[0]):
        k_max = min(k_max, float(np.floor(budget[0] / q + 1e-9)))
    if budget.size == 1 and np.isfinite(budget[0]):
        # counted on the budget row's own coefficients, so the bound holds for any plan of the model
        priced_as = model.A[model.row_blocks["budget"]].toarray()[0]
        r_total = plan_rank_bound(rank, priced_as, float(budget[0])) + 1.0
    else:
        r_total = plan_rank_bound(rank, cost, np.inf) + 1.0
    big = r_total * (k_max + 1.0)
    c = model.c * scale * big - (units * r_total + rank)
    if float(np.abs(c).sum()) >= SINGLE_OBJECTIVE_MAX:
        return None
    return c, big, scale


def objective_scale(c: np.ndarray) -> tuple:
    """HiGHS's ``user_objective_scale`` for a one-objective solve: the objective times ``2**k``
    (exact in binary floats), ``k <= 0`` bringing its largest coefficient near OBJECTIVE_SCALE_TO,
    and never below ``2**-OBJECTIVE_SCALE_MAX`` so that one unit of rank (the smallest step)
    stays about 10**4 times HiGHS's dual feasibility tolerance (1e-7). The coverage objective
    (coefficients of a few hundred) is left as it is by the same rule; the one objective's
    (8e10 on yuzhong_hillside, HiGHS warns "excessively large costs") is scaled by 2**-10."""
    largest = float(np.abs(c).max()) if np.size(c) else 0.0
    if largest <= OBJECTIVE_SCALE_TO:
        return ()
    return (("user_objective_scale", -min(OBJECTIVE_SCALE_MAX, int(np.ceil(np.log2(largest / OBJECTIVE_SCALE_TO))))),)


def plan_rank_bound(rank: np.ndarray, cost: np.ndarray, budget: float) -> float:
    """An upper bound on any affordable plan's rank sum: the largest ranks of as many facility
    columns as the budget can buy (the cheapest first). Far below the sum of all ranks, it keeps
    the one-objective form inside a double on yuzhong_hillside (0.21 of 2**45, against 1.4 with
    every rank summed), which otherwise fell back to three MILPs and an uncapped tie check."""
    rank = np.asarray(rank, dtype=float)
    facility = rank > 0
    n_buy = int(facility.sum())
    priced = np.asarray(cost, dtype=float)[facility]
    if np.isfinite(budget) and np.all(priced >= 0):
        spend = np.cumsum(np.sort(priced))
        n_buy = int(np.searchsorted(spend, float(budget) * (1 + 1e-12), side="right"))
    return float(np.sort(rank[facility])[::-1][:n_buy].sum())


def solve_lexicographic(model: LinearModel, cost: np.ndarray, rank: np.ndarray, solver: str,
                        options: SolveOptions, *, coverage_proof=None) -> Lexicographic:
    """Stage 1 (coverage) and the canonical stages 2-4 of the module docstring.

    One solve of :func:`single_objective` when it fits a double (as fast as coverage alone on
    the bundled districts), else coverage first and :func:`canonical_plan`. ``coverage_proof``:
    an already proven coverage optimum ``(objective, values)`` (the ceiling certificate), used
    as warm start and as the coverage stage's bound.
    """
    from lifecircle.optimizer.solve.backends.base import relative_gap

    rank = np.asarray(rank, dtype=float)
    form = single_objective(model, cost, rank) if options.canonical else None
    t0 = time.perf_counter()
    if form is None:
        if coverage_proof is not None:
            objective, values = coverage_proof
            first = _certified(model, values, objective)
        else:
            first = solve_linear(model, solver, options)
        if first.values is not None and first.status == Status.FEASIBLE and coverage_proof is None:
            values = _polish(model, first.values, solver, options)
            objective = model.objective_value(values)
            first = replace(first, values=values, objective=objective,
                            gap=relative_gap(objective, first.bound))
        stage1_s = time.perf_counter() - t0
        stages = [replace(_coverage_stage(first), seconds=stage1_s)]
        if first.values is None or first.status not in (Status.OPTIMAL, Status.FEASIBLE):
            return Lexicographic(first, tuple(stages), False)
        if not options.canonical or (first.status != Status.OPTIMAL and options.deadline is not None
                                     and options.deadline.expired):
            return Lexicographic(first, tuple(stages), False)
        options = canonical_clock(options, stage1_s, proven=first.status == Status.OPTIMAL)
        lexi = canonical_plan(model, first.values, cost, rank, solver, options)
        return _finish_lexicographic(model, first, lexi.values, stages + list(lexi.stages),
                                     lexi.canonical and first.status == Status.OPTIMAL)

    c, big, scale = form
    start = options.warm_start if coverage_proof is None else coverage_proof[1]
    with shown_as(scale * big, model.offset):  # progress events in coverage units (issue 15)
        run = solve_linear(replace(model, c=c, offset=0.0), solver,
                           replace(options, warm_start=start, gap=0.0,
                                   highs_options=tuple(options.highs_options) + objective_scale(c)))
    stage1_s = time.perf_counter() - t0
    if run.values is None:
        first = replace(run, objective=None, bound=None, gap=None)
        return Lexicographic(first, (_coverage_stage(first),), False)
    values = run.values if run.status == Status.OPTIMAL else _polish(model, run.values, solver, options)
    coverage = model.objective_value(values)
    spent, rank_sum = float(cost @ values), float(rank @ values)
    proven = run.status == Status.OPTIMAL
    if coverage_proof is not None:
        bound, source = coverage_proof[0], BoundSource.CERTIFICATE
    elif proven:
        bound, source = coverage, run.bound_source
    elif run.bound is not None:
        # the subtracted cost-and-rank part is below big: coverage units above the bound's cannot fit
        units = np.floor((run.bound + big - 1.0) / big + 1e-9)
        bound, source = max(coverage, units / scale + model.offset), run.bound_source
    else:
        bound, source = None, None
    status = Status.OPTIMAL if bound is not None and relative_gap(coverage, bound) == 0.0 else Status.FEASIBLE
    first = replace(run, status=status, objective=coverage, bound=bound, gap=relative_gap(coverage, bound),
                    bound_source=source,
                    termination=Termination.OPTIMAL if status == Status.OPTIMAL else run.termination)
    sub = Status.OPTIMAL if proven else Status.FEASIBLE
    stages = [replace(_coverage_stage(first), seconds=stage1_s),
              Stage("cost", sub, spent, spent if proven else None, 0.0 if proven else None,
                    run.bound_source if proven else None, solves=0),
              Stage("rank", sub, rank_sum, rank_sum if proven else None, 0.0 if proven else None,
                    run.bound_source if proven else None, solves=0)]
    canonical = proven and status == Status.OPTIMAL
    if canonical:
        limit = max(TIE_MIN_S, TIE_SHARE * stage1_s)
        t_ties = time.perf_counter()
        values, tie_stage, canonical = _ties(model, values, cost, rank, spent, rank_sum, solver, options, limit,
                                             presolve=stage1_s >= TIE_PRESOLVE_S)
        stages.append(replace(tie_stage, seconds=time.perf_counter() - t_ties))
    return _finish_lexicographic(model, first, values, stages, canonical)


def canonical_clock(options: SolveOptions, stage1_s: float, *, proven: bool = False) -> SolveOptions:
    """``options`` for stages 2-4 of the three-solve path: COST_SHARE of stage 1's time, or the
    run's deadline if that is sooner; the stages keep the best plan found by then.

    After a stage 1 stopped short of a proof (--gap or the clock) the floor is TIE_MIN_S: least
    cost at a coverage not proven maximal cannot be proven canonical either (unbounded,
    yuzhong_capacity's cost MIP after a ``--gap 0.01`` stage 1 ran for minutes). After a
    ``proven`` stage 1 it is PROVEN_COST_MIN_S: the stages keep their chance to prove, within a
    stated bound (issue 14).
    """
    from lifecircle.optimizer.core.deadline import Deadline

    cap = Deadline(max(PROVEN_COST_MIN_S if proven else TIE_MIN_S, COST_SHARE * stage1_s))
    if options.deadline is not None and options.deadline.remaining() <= cap.remaining():
        return options
    return replace(options, deadline=cap)


def _certified(model: LinearModel, values: np.ndarray, objective: float):
    from lifecircle.optimizer.solve.backends import LinearSolution

    return LinearSolution(Status.OPTIMAL, values, objective, objective, 0.0, 0.0, "certificate",
                          bound_source=BoundSource.CERTIFICATE)


def _coverage_stage(result) -> Stage:
    return Stage("coverage", result.status, result.objective, result.bound, result.gap, result.bound_source)


def _finish_lexicographic(model, first, values, stages, canonical) -> Lexicographic:
    return Lexicographic(replace(first, values=values), tuple(stages), canonical)


def _ties(model, values, cost, rank, spent, rank_sum, solver, options, limit_s, presolve=True):
    """Stage 4 within ``limit_s``: no other plan as good (certificate), or the lexicographic
    fixing pass; (values, Stage, proven)."""
    fixed, _ = at_least(model, model.c, model.objective_value(values) - model.offset, "coverage_fixed")
    fixed, _ = _at_most(fixed, cost, spent, "cost_fixed")
    tied, _ = _at_most(fixed, rank, rank_sum, "rank_fixed")
    tied = replace(tied, sense=MINIMIZE, c=np.zeros(model.n_cols), offset=0.0)
    events.phase(logger, "phase.stage_ties", "least cost: stage ties")
    bounded = replace(options, warm_start=None, gap=0.0,
                      time_limit_s=limit_s if options.time_limit_s is None else min(limit_s, options.time_limit_s))
    answer = _another_plan(model, tied, values, cost, rank, spent, rank_sum, solver, bounded, presolve)
    if answer == "none":
        return values, Stage("ties", Status.OPTIMAL, rank_sum, rank_sum, 0.0, BoundSource.CERTIFICATE), True
    if answer == "unknown":
        return values, Stage("ties", Status.FEASIBLE, rank_sum, None, None, None), False
    values, done, solves = _lexicographic(tied, values, rank, solver, replace(options, warm_start=None, gap=0.0))
    return values, Stage("ties", Status.OPTIMAL if done else Status.FEASIBLE, rank_sum,
                         rank_sum if done else None, 0.0 if done else None,
                         BoundSource.CERTIFICATE if done else None, solves=solves + 1), done


def _another_plan(model: LinearModel, tied: LinearModel, values: np.ndarray, cost: np.ndarray,
                  rank: np.ndarray, spent: float, rank_sum: float, solver: str, options: SolveOptions,
                  presolve: bool = True) -> str:
    """Is there a plan other than ``values`` as good on coverage, cost and rank sum? "none",
    "some" or "unknown" (stopped by the clock).

    When coverage sits on a grid (integers ``s c``, as :func:`single_objective` needs), one MILP
    with ``values`` as its incumbent: maximise ``s c.v + eps d(v)`` subject to cost <= C* and
    rank sum <= R* (exact rows), where ``d`` counts the facility columns that differ from
    ``values`` and ``eps (n + 1) < 1/2``. The plan itself scores ``s Z*``; a tie scores at least
    ``s Z* + eps``; a plan short of ``Z*`` scores below ``s Z*`` (one grid step outweighs every
    bonus). The incumbent lets the solver prune by bound and fix columns by reduced cost, which
    the plain question (feasibility of three rows and a no-good row, no objective) cannot: on
    yuzhong_hillside 1.2-1.5 CPU s against 12 (issue 14). Otherwise the no-good question itself.
    With HiGHS the bonus is on an integer scale (``(n + 1) s c.v + d(v)``, step 1) and the MILP
    is first made small from its LP's duals (:mod:`optimizer.solve.ties`: hillside 0.2 CPU s
    against 1). ``presolve`` (for the full MILP, when it is still asked): HiGHS's presolve pays on
    hillside and costs on liangjiang, so the caller decides by the size of stage 1."""
    facility = rank > 0
    chosen = facility & (values > 0.5)
    no_good = np.where(facility, np.where(chosen, -1.0, 1.0), 0.0)
    scale = _scale(model.c) if _integral(model, model.c) else None
    if scale is None:
        other = solve_linear(_add_row(tied, no_good, 1.0 - chosen.sum(), np.inf, "no_good"), solver, options)
        if other.status == Status.INFEASIBLE:
            return "none"
        return "unknown" if other.values is None else "some"
    n_facility = int(facility.sum())
    # a tie costs C* and sums R* exactly (a cheaper plan at Z* would beat the proven optimum):
    # equality rows, which HiGHS's presolve uses better than one-sided ones (hillside 1.15 CPU s
    # against 1.35)
    bonus = _equal(_equal(model, cost, spent, "cost_fixed"), rank, rank_sum, "rank_fixed")
    if solver == "highs" and float(np.abs(model.c * scale).sum()) * (n_facility + 1) < SINGLE_OBJECTIVE_MAX:
        # integers: s c.v in steps of n + 1, one per differing column (HiGHS sees the objective is
        # integral); made small by the LP's duals first (ties.py: hillside 0.2 CPU s against 1)
        from lifecircle.optimizer.solve.ties import small_tie

        bonus = replace(bonus, sense=MAXIMIZE, c=model.c * scale * (n_facility + 1) + no_good, offset=0.0)
        answer = small_tie(bonus, values, float(bonus.c @ values), 1.0, options)
        if answer is not None:
            return answer
        eps = 1.0
    else:
        # a power of ten: exact on the decimal grid the integer-only backends scale objectives by
        eps = 10.0 ** np.floor(np.log10(0.5 / (n_facility + 1)))
        bonus = replace(bonus, sense=MAXIMIZE, c=model.c * scale + eps * no_good, offset=0.0)
    incumbent = float(bonus.c @ values)
    run = replace(options, warm_start=values, gap=0.0, presolve=presolve)
    if solver == "highs":
        from lifecircle.optimizer.solve.backends.highs import PROVE_OPTIONS

        run = replace(run, highs_options=tuple(options.highs_options) + PROVE_OPTIONS)
    result = solve_linear(bonus, solver, run)
    if result.values is not None and float(bonus.c @ result.values) >= incumbent + eps / 2:
        return "some"
    return "none" if result.status == Status.OPTIMAL else "unknown"


def _polish(model: LinearModel, values: np.ndarray, solver: str, options: SolveOptions) -> np.ndarray:
    """The stage-1 objective at its best for the chosen integer columns. Stages 2-4 only ask
    coverage to stay within half a step of ``Z*``, so continuous columns (coverage levels,
    assignments) may sit below their best; with the integers fixed this is a small LP."""
    integer = model.integrality
    # with its integers fixed the model is an LP: solved as one (and presolved, which empties a
    # coverage model), not as a MIP without presolve (13 s on a 10,000 x 3,000 district)
    fixed = replace(model, col_lower=np.where(integer, values, model.col_lower),
                    col_upper=np.where(integer, values, model.col_upper),
                    integrality=np.zeros_like(integer))
    # past the deadline too: with every integer fixed this is a small LP (presolve empties a
    # coverage model), and without it a stopped solve's plan would be under-counted
    left = None if options.deadline is None else max(1.0, options.deadline.remaining())
    result = solve_linear(fixed, solver, replace(options, warm_start=None, deadline=None, presolve=True,
                                                 time_limit_s=left if left is not None else options.time_limit_s))
    if result.values is None or model.objective_value(result.values) < model.objective_value(values):
        return values
    return result.values


def _stage(name: str, model: LinearModel, start: np.ndarray, solver: str, options: SolveOptions,
           exact: bool):
    """One minimising stage warm-started from ``start`` (feasible for it). Returns (values,
    proven, Stage); a stage without a plan keeps ``start``."""
    events.phase(logger, f"phase.stage_{name}", "least cost: stage %s", name)
    t0 = time.perf_counter()
    result = solve_linear(model, solver, replace(options, warm_start=start))
    seconds = time.perf_counter() - t0
    if result.values is None or (result.objective is not None
                                 and result.objective > model.objective_value(start)):
        value = model.objective_value(start)
        return start, False, Stage(name, Status.FEASIBLE, value, result.bound, None, result.bound_source, exact,
                                   seconds=seconds)
    proven = result.status == Status.OPTIMAL
    return result.values, proven, Stage(name, result.status, result.objective, result.bound, result.gap,
                                        result.bound_source, exact, seconds=seconds)


def _lexicographic(model: LinearModel, values: np.ndarray, rank: np.ndarray, solver: str,
                   options: SolveOptions):
    """Fix facility columns in ascending rank: open when the current plan uses it or some tied
    plan can (which is lexicographically smaller), else closed. Stops after the current plan's
    largest rank: a tied plan with more facilities would have a larger rank sum."""
    order = np.flatnonzero(rank > 0)
    order = order[np.argsort(rank[order], kind="stable")]
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    solves = 0
    for col in order:
        plan = (rank > 0) & (values > 0.5)
        if not plan.any() or rank[col] > rank[plan].max():
            break
        if values[col] > 0.5:
            lower[col] = 1.0
            continue
        if lower[col] == upper[col]:
            continue
        if options.deadline is not None and options.deadline.expired:
            return values, False, solves
        trial_lower = lower.copy()
        trial_lower[col] = 1.0
        result = solve_linear(replace(model, col_lower=trial_lower, col_upper=upper.copy()), solver, options)
        solves += 1
        if result.values is not None:
            values, lower = result.values, trial_lower
        elif result.status == Status.INFEASIBLE:
            upper[col] = 0.0
        else:
            return values, False, solves
    return values, True, solves
