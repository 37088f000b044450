"""The tie question of the canonical plan, made small (issue 14, section 2).

:func:`optimizer.solve.leastcost._another_plan` asks one MILP: maximise ``s c.v + bonus`` on the
stage-1 model with cost and rank sum held, the plan as incumbent, where every tied plan scores at
least one ``step`` above the incumbent and every other plan below it. On yuzhong_hillside that MILP
took about 1 s against a 4 s coverage solve, most of it in HiGHS's root cut loop on the full
model. Here it is first made small, exactly:

1. **Reduced-cost fixing.** The LP relaxation's row duals ``y`` give, for *any* ``y``, the bound
   ``L(y) = sum_i max(y_i l_i, y_i u_i) + sum_j max(d_j lo_j, d_j up_j)`` with ``d = c - A'y``
   (weak duality over the row and column boxes; computed here, so it holds whatever the LP
   solver's tolerances). A tie scores at least ``incumbent + step``; an integer column whose move
   off its LP end costs more than ``L - incumbent - step/2`` (plus a float margin) keeps that end
   in every tie and is fixed.
2. **Substitution.** Fixed columns leave the model (their activity moves into the row bounds);
   rows that can no longer bind are dropped.
3. **Merging parallel coverage rows.** With most facility columns fixed, many coverage rows
   ``y_c <= sum of the free columns reaching c`` become the same row. A continuous column that
   appears in one row only, with a non-negative objective (maximising), takes the top of the same
   interval as every other such column in an identical row, in the LP and the MILP alike; one
   column with their summed objective replaces them (the merged optimum is the original's).

What remains (hillside: tens of binaries, a few hundred rows) is the same question, asked of
HiGHS with its primal heuristics off (the plan is the incumbent; searching for another is waste).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel

from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.backends.highs import PROVE_OPTIONS
from lifecircle.optimizer.solve.linear import solve_linear

# a float margin on the dual bound, relative to the size of its terms (double rounding over a few
# thousand terms is about 1e-12 of them); fixing is skipped when it reaches a quarter of a step
DUAL_MARGIN = 1e-9


@dataclass(frozen=True)
class Small:
    """The tie model made small: ``model`` over ``keep`` columns of the original (after merging,
    column ``i`` of ``model`` stands for original column ``keep[i]``), ``start`` the plan there
    (None when the plan breaks a fixing: it is no tie, so no incumbent), and ``stats``."""

    model: LinearModel
    keep: np.ndarray
    start: np.ndarray | None
    stats: dict


def dual_bound(model: LinearModel, row_dual: np.ndarray) -> tuple[float, np.ndarray, float]:
    """``(L, d, margin)``: the bound ``L(y)`` of the module docstring on ``model`` (maximising), its
    reduced costs ``d`` and the float margin to allow on it. Valid for any ``y``: a dual that would
    meet an infinite row bound is set to zero first, and of ``y`` and ``-y`` (solvers differ in
    sign convention) the smaller bound is taken."""
    if model.sense != MAXIMIZE:
        raise ValueError("dual_bound: a maximisation model")
    best = (np.inf, None, np.inf)
    for sign in (1.0, -1.0):
        y = sign * np.asarray(row_dual, dtype=float)
        y = np.where(((y > 0) & np.isfinite(model.row_upper)) | ((y < 0) & np.isfinite(model.row_lower)), y, 0.0)
        d = np.asarray(model.c, dtype=float) - model.A.T @ y
        with np.errstate(invalid="ignore"):
            rows = np.where(y > 0, y * model.row_upper, np.where(y < 0, y * model.row_lower, 0.0))
            cols = np.where(d > 0, d * model.col_upper, np.where(d < 0, d * model.col_lower, 0.0))
        bound = float(rows.sum() + cols.sum())
        if not np.isfinite(bound):
            continue
        size = np.maximum(np.abs(np.where(np.isfinite(model.col_lower), model.col_lower, 0.0)),
                          np.abs(np.where(np.isfinite(model.col_upper), model.col_upper, 0.0)))
        terms = (np.abs(rows).sum() + np.abs(cols).sum()
                 + float((abs(model.A).T @ np.abs(y) + np.abs(model.c)) @ size))
        margin = DUAL_MARGIN * max(1.0, terms)
        if bound < best[0]:
            best = (bound, d, margin)
    return best


def fixings(model: LinearModel, row_dual: np.ndarray, threshold: float):
    """Integer columns every point scoring at least ``threshold`` has at one end: ``(mask, at,
    bound)``, or None when the bound is too coarse to use. ``bound + margin < threshold`` means
    no such point exists at all (every column may then be fixed)."""
    bound, d, margin = dual_bound(model, row_dual)
    if d is None or not np.isfinite(margin):
        return None
    integer = model.integrality.astype(bool) & np.isfinite(model.col_lower) & np.isfinite(model.col_upper)
    # an integer column moved off its end moves by at least 1, and loses |d| per unit of it
    mask = integer & (bound - np.abs(d) + margin < threshold) & (d != 0)
    at = np.where(d > 0, model.col_upper, model.col_lower)
    return mask, at, bound + margin


def substitute(model: LinearModel, fixed: np.ndarray, at: np.ndarray):
    """``model`` without the ``fixed`` columns (held at ``at``: their activity moves into the row
    bounds and the offset) and without the rows that no point of the remaining column box can
    violate. Returns (model, kept column indices)."""
    keep = np.flatnonzero(~fixed)
    A = sp.csc_matrix(model.A)
    held = np.where(fixed, at, 0.0)
    shift = A @ held
    sub = A[:, keep].tocsr()
    lo, up = model.col_lower[keep], model.col_upper[keep]
    row_lower, row_upper = model.row_lower - shift, model.row_upper - shift
    plus, minus = sub.maximum(0), sub.minimum(0)
    with np.errstate(invalid="ignore"):
        top = plus @ up + minus @ lo
        low = plus @ lo + minus @ up
    # NaN (an infinite bound met from both sides) compares False: such a row stays
    idle = (top <= row_upper) & (low >= row_lower)
    rows = np.flatnonzero(~idle)
    small = LinearModel(sense=model.sense, c=model.c[keep], A=sub[rows], row_lower=row_lower[rows],
                        row_upper=row_upper[rows], col_lower=lo, col_upper=up,
                        integrality=model.integrality[keep], offset=float(model.offset + model.c @ held))
    return small, keep


def merge_parallel(model: LinearModel):
    """Merge continuous columns of the module docstring's step 3. Returns (model, representative
    column of each kept column, group of each original column: index into the kept columns)."""
    n = model.n_cols
    A = sp.csc_matrix(model.A)
    A.eliminate_zeros()
    integer = model.integrality.astype(bool)
    counts = np.diff(A.indptr)
    private = ~integer & (counts == 1) & (np.asarray(model.c) >= 0 if model.sense == MAXIMIZE else np.asarray(model.c) <= 0)
    identity = np.arange(n)
    cols = np.flatnonzero(private)
    if cols.size < 2:
        return model, identity, identity
    row_of = A.indices[A.indptr[cols]]
    coeff = A.data[A.indptr[cols]]
    # rows holding exactly one continuous column, a private one: the candidates
    continuous_per_row = np.bincount(A[:, ~integer].tocoo().row, minlength=model.n_rows)
    candidate = continuous_per_row[row_of] == 1
    cols, row_of, coeff = cols[candidate], row_of[candidate], coeff[candidate]
    if cols.size < 2:
        return model, identity, identity
    rest = sp.csr_matrix(model.A)[row_of][:, np.flatnonzero(integer)]
    rest = sp.diags(1.0 / coeff) @ rest  # the private column's coefficient scaled to 1
    lower = np.where(coeff > 0, model.row_lower[row_of], model.row_upper[row_of]) / coeff
    upper = np.where(coeff > 0, model.row_upper[row_of], model.row_lower[row_of]) / coeff
    rng = np.random.default_rng(14)  # a fixed hash; equality is checked below, not assumed
    weights = rng.random((rest.shape[1], 2))
    key = np.column_stack([rest @ weights, lower, upper, model.col_lower[cols], model.col_upper[cols]])
    _, first, group = np.unique(key, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    head = first[group]  # the first candidate with the same key
    same = np.asarray(abs(rest - rest[head]).sum(axis=1)).ravel() == 0
    head = np.where(same, head, np.arange(cols.size))  # a hash collision keeps its own column
    # original column -> its representative column
    rep = identity.copy()
    rep[cols] = cols[head]
    kept = np.flatnonzero(rep == identity)
    where = np.full(n, -1)
    where[kept] = np.arange(kept.size)
    group_of = where[rep]
    c = np.bincount(group_of, weights=np.asarray(model.c, dtype=float), minlength=kept.size)
    dropped_rows = row_of[head != np.arange(cols.size)]
    rows = np.setdiff1d(np.arange(model.n_rows), dropped_rows)
    merged = replace(model, c=c, A=sp.csr_matrix(model.A)[rows][:, kept], row_lower=model.row_lower[rows],
                     row_upper=model.row_upper[rows], col_lower=model.col_lower[kept],
                     col_upper=model.col_upper[kept], integrality=model.integrality[kept],
                     row_blocks={})
    return merged, kept, group_of


def relaxation_duals(model: LinearModel, options: SolveOptions):
    """Row duals of ``model``'s LP relaxation by HiGHS, or None (no dual solution in time)."""
    from lifecircle.optimizer.solve.backends.highs import highs_with

    h = highs_with(replace(model, integrality=np.zeros(model.n_cols, dtype=bool), offset=0.0))
    limit = options.time_limit_s
    if options.deadline is not None:
        limit = options.deadline.limit(limit)
    if limit is not None:
        h.setOptionValue("time_limit", max(0.01, float(limit)))
    if options.seed is not None:
        h.setOptionValue("random_seed", int(options.seed))
    h.run()
    if h.getModelStatus().name != "kOptimal" or h.getInfo().dual_solution_status != 2:
        return None
    return np.asarray(h.getSolution().row_dual, dtype=float)


def make_small(bonus: LinearModel, values: np.ndarray, threshold: float, row_dual: np.ndarray):
    """The tie model ``bonus`` (maximising; ties score at least ``threshold``) made small by steps
    1-3 of the module docstring; "none" when the dual bound alone rules every tie out; None when
    the bound is too coarse to fix anything."""
    fixed = fixings(bonus, row_dual, threshold)
    if fixed is None:
        return None
    mask, at, bound = fixed
    if bound < threshold:
        return "none"
    sub, keep_sub = substitute(bonus, mask, at)
    merged, kept, group_of = merge_parallel(sub)
    start = None
    if np.all(np.abs(values[mask] - at[mask]) < 0.5):  # the plan keeps every fixing: the incumbent
        # a merged column takes the largest value of its group (feasible: their rows are one row)
        start = np.full(kept.size, -np.inf)
        np.maximum.at(start, group_of, values[keep_sub])
    stats = {"fixed": int(mask.sum()), "rows": merged.n_rows, "cols": merged.n_cols,
             "integer": int(merged.integrality.sum())}
    return Small(merged, keep_sub[kept], start, stats)


def small_tie(bonus: LinearModel, values: np.ndarray, incumbent: float, step: float, options: SolveOptions):
    """The tie question on the small model: "some", "none", "unknown", or None when it could not
    be made small (the caller asks the full model). HiGHS only (it gives the LP's row duals)."""
    threshold = incumbent + step / 2
    duals = relaxation_duals(bonus, options)
    if duals is None:
        return None
    small = make_small(bonus, values, threshold, duals)
    if small is None or isinstance(small, str):
        return small
    run = replace(options, warm_start=small.start, gap=0.0, presolve=False,
                  highs_options=tuple(options.highs_options) + PROVE_OPTIONS)
    result = solve_linear(small.model, "highs", run)
    if result.values is not None and float(small.model.c @ result.values) + small.model.offset >= threshold:
        return "some"
    if result.status in (Status.OPTIMAL, Status.INFEASIBLE):
        return "none"
    return "unknown"
