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
Stage 4 first asks one question, "is there another plan as good on stages 1-3?" (a no-good row);
almost always there is none and the plan is canonical. Otherwise it fixes ranks in ascending
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

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, MINIMIZE, LinearModel, decimal_scale

from lifecircle.optimizer.core.status import BoundSource, Status
from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.linear import solve_linear


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

    def as_dict(self) -> dict:
        """summary.json's record of the stage."""
        return {"stage": self.stage, "status": str(self.status), "objective": self.objective,
                "bound": self.bound, "gap": self.gap,
                "bound_source": None if self.bound_source is None else str(self.bound_source),
                "exact": self.exact, "solves": self.solves}


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
    facility = rank > 0
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
    chosen = facility & (values > 0.5)
    no_good = np.where(facility, np.where(chosen, -1.0, 1.0), 0.0)
    other = solve_linear(_add_row(tied, no_good, 1.0 - chosen.sum(), np.inf, "no_good"), solver, options)
    solves = 1
    if other.status == Status.INFEASIBLE:
        stages.append(Stage("ties", Status.OPTIMAL, rank_sum, rank_sum, 0.0, BoundSource.CERTIFICATE, solves=1))
        return Canonical(_polish(model, values, solver, options), tuple(stages), True)
    if other.values is None:  # stopped by the clock before it could tell
        stages.append(Stage("ties", Status.FEASIBLE, rank_sum, None, None, None, solves=1))
        return Canonical(_polish(model, values, solver, options), tuple(stages), False)
    values, done, solves = _lexicographic(tied, values, rank, solver, options)
    stages.append(Stage("ties", Status.OPTIMAL if done else Status.FEASIBLE, rank_sum,
                        rank_sum if done else None, 0.0 if done else None,
                        BoundSource.CERTIFICATE if done else None, solves=solves + 1))
    return Canonical(_polish(model, values, solver, options), tuple(stages), done)


def _polish(model: LinearModel, values: np.ndarray, solver: str, options: SolveOptions) -> np.ndarray:
    """The stage-1 objective at its best for the chosen integer columns. Stages 2-4 only ask
    coverage to stay within half a step of ``Z*``, so continuous columns (coverage levels,
    assignments) may sit below their best; with the integers fixed this is a small LP."""
    integer = model.integrality
    fixed = replace(model, col_lower=np.where(integer, values, model.col_lower),
                    col_upper=np.where(integer, values, model.col_upper))
    result = solve_linear(fixed, solver, replace(options, warm_start=values))
    if result.values is None or model.objective_value(result.values) < model.objective_value(values):
        return values
    return result.values


def _stage(name: str, model: LinearModel, start: np.ndarray, solver: str, options: SolveOptions,
           exact: bool):
    """One minimising stage warm-started from ``start`` (feasible for it). Returns (values,
    proven, Stage); a stage without a plan keeps ``start``."""
    result = solve_linear(model, solver, replace(options, warm_start=start))
    if result.values is None or (result.objective is not None
                                 and result.objective > model.objective_value(start)):
        value = model.objective_value(start)
        return start, False, Stage(name, Status.FEASIBLE, value, result.bound, None, result.bound_source, exact)
    proven = result.status == Status.OPTIMAL
    return result.values, proven, Stage(name, result.status, result.objective, result.bound, result.gap,
                                        result.bound_source, exact)


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
