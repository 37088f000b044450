r"""Local search and windowed improvement for the coverage model (:mod:`models.coverage`).

Both start from a feasible plan (a facility-column vector :math:`x`) and only ever move to a plan
that is feasible too: within the budget :math:`B`, one facility per site, must_open columns kept,
every min_open count :math:`m_k` kept, and only ``allowed`` columns opened (forbidden sites and
blank costs are not columns at all). Neither claims optimality.

**Local search** (:func:`local_search`). With :math:`n_r = \sum_c a_{rc} x_c` the number of open
columns reaching class :math:`r`, three sparse products price every move at once:

* add :math:`a`: :math:`g_a = \sum_{r \in N(a),\, n_r = 0} w_r`;
* drop :math:`d`: :math:`l_d = \sum_{r \in N(d),\, n_r = 1} w_r`;
* swap :math:`d \to a`: :math:`g_a - l_d + I_{ad}` with
  :math:`I_{ad} = \sum_{r \in N(a) \cap N(d),\, n_r = 1} w_r`, the classes only :math:`d` reaches
  that :math:`a` keeps: :math:`I = C^\top U` with :math:`U_{rd} = w_r [n_r = 1] a_{rd}`.

Each round fills the budget with the best affordable additions (most gain per unit cost), then
makes the swaps that gain weight, or keep the weight and free budget (strictly cheaper, so the
search cannot cycle): each open column's best partner is priced at once, and the moves are made
best first as long as they touch disjoint classes (their priced gains stay exact), until no move
improves or the deadline passes.

**Windowed improvement** (:func:`window_search`). A window is a seed column and the columns that
share the most classes with it (its spatial neighbours: reach is distance-based). Everything
outside the window stays as it is; the window's columns are re-chosen *exactly* by a small MILP
(:func:`window_model`: the coverage model over the window's columns and the classes nothing
outside already reaches, the leftover budget, the leftover min_open counts), solved by the
``solve_milp`` callable the caller passes in (``models`` imports no solver). An improving window
plan replaces the old one; seeds go round the plan until a whole pass finds nothing or the
deadline passes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.coverage import CoverageIndex
from lifecircle.models.linear import MAXIMIZE, LinearModel, stack_rows

# Weight changes below this (relative to the total weight) are float noise, not gains.
_REL_TOL = 1e-12
# Chosen columns priced per swap block (dense n_x x block array).
_SWAP_BLOCK = 256


@dataclass
class _State:
    """The plan being improved and its running counts (mutable: a search's own scratch)."""

    chosen: np.ndarray  # (n_x,) bool
    count: np.ndarray  # (n_classes,) open columns reaching each class
    site_used: np.ndarray  # (n_sites,) bool
    per_type: np.ndarray  # (n_types,) open columns per type
    spent: float

    def toggle(self, index: CoverageIndex, C: sp.csc_matrix, cost: np.ndarray, c: int, on: bool):
        step = 1 if on else -1
        self.chosen[c] = on
        self.site_used[index.x_site[c]] = on
        self.per_type[index.x_type[c]] += step
        self.spent += step * float(cost[c])
        self.count[C.indices[C.indptr[c]:C.indptr[c + 1]]] += step


def _state(index: CoverageIndex, cost: np.ndarray, chosen: np.ndarray, n_types: int) -> _State:
    chosen = np.asarray(chosen, dtype=bool).copy()
    count = np.asarray(index.class_rows @ chosen.astype(float)).round().astype(np.int64)
    n_sites = int(index.x_site.max(initial=-1)) + 1
    site_used = np.zeros(n_sites, dtype=bool)
    site_used[index.x_site[chosen]] = True
    per_type = np.bincount(index.x_type[chosen], minlength=n_types)
    return _State(chosen, count, site_used, per_type, float(cost[chosen].sum()))


def plan_value(index: CoverageIndex, chosen: np.ndarray) -> float:
    """Weighted people the plan covers among the model's classes (the objective minus its
    constant)."""
    reached = (index.class_rows @ np.asarray(chosen, dtype=float)) > 0
    return float(index.class_weight[reached].sum())


def local_search(index: CoverageIndex, cost: np.ndarray, budget_cny: float, must_cols: np.ndarray,
                 min_open: np.ndarray, chosen: np.ndarray, allowed: np.ndarray | None = None,
                 deadline: float | None = None, max_rounds: int = 10_000) -> np.ndarray:
    """Improve a feasible plan by additions and swaps (see the module docstring).

    Parameters
    ----------
    index : the model's column index (:func:`models.coverage.build_coverage_model`).
    cost : (n_x,) cost of each facility column.
    budget_cny : the budget.
    must_cols : (n_x,) bool, must_open columns (never dropped; ``chosen`` must hold them).
    min_open : (n_types,) minimum open count per type (never undercut).
    chosen : (n_x,) bool, a feasible plan.
    allowed : (n_x,) bool, columns that may be opened (default all).
    deadline : a :func:`time.perf_counter` value after which no new round starts.

    Returns
    -------
    (n_x,) bool, a feasible plan covering at least as much weight as ``chosen``.
    """
    min_open = np.asarray(min_open)
    allowed = np.ones(index.n_x, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    must_cols = np.asarray(must_cols, dtype=bool)
    C = sp.csc_matrix(index.class_rows)
    CT = sp.csr_matrix(C.T)
    w = index.class_weight
    tol = _REL_TOL * max(1.0, float(w.sum()))
    budget = float(budget_cny) * (1 + 1e-12)
    state = _state(index, cost, chosen, min_open.size)
    for _ in range(max_rounds):
        _fill(index, C, CT, cost, budget, allowed, state, tol)
        if deadline is not None and time.perf_counter() > deadline:
            break
        if not _swaps(index, C, CT, cost, budget, must_cols, min_open, allowed, state, tol):
            break
    return state.chosen


def _fill(index, C, CT, cost, budget, allowed, state: _State, tol: float) -> None:
    """Add the best affordable column (gain per unit cost) while one gains anything."""
    w = index.class_weight
    while True:
        gain = CT @ np.where(state.count == 0, w, 0.0)
        free = (allowed & ~state.chosen & ~state.site_used[index.x_site]
                & (state.spent + cost <= budget) & (gain > tol))
        if not free.any():
            return
        ratio = np.where(cost > 0, gain / np.maximum(cost, 1e-300), np.inf)
        ratio = np.where(free, ratio, -1.0)
        state.toggle(index, C, cost, int(np.lexsort((cost, -gain, -ratio))[0]), True)


def _swaps(index, C, CT, cost, budget, must_cols, min_open, allowed, state: _State, tol: float):
    """Make improving swaps (drop d, add a); returns how many were made.

    Every droppable column's best partner is priced in one pass; the moves are then made best
    first, each only while it touches no class an earlier move of this pass touched (so its priced
    gain is still exact) and still fits the budget, the sites and min_open.
    """
    w = index.class_weight
    gain = CT @ np.where(state.count == 0, w, 0.0)
    unique_w = np.where(state.count == 1, w, 0.0)
    loss = CT @ unique_w
    droppable = np.flatnonzero(state.chosen & ~must_cols)
    addable = allowed & ~state.chosen
    moves = []  # (gain, saving, d, a)
    for start in range(0, droppable.size, _SWAP_BLOCK):
        drop = droppable[start:start + _SWAP_BLOCK]
        # U[r, i] = w_r where class r is reached by drop[i] alone
        U = sp.csr_matrix(C[:, drop].multiply(unique_w[:, None]))
        inter = (CT @ U).toarray()  # (n_x, block)
        delta = gain[:, None] - loss[drop][None, :] + inter
        ok = addable[:, None] & (state.spent - cost[drop][None, :] + cost[:, None] <= budget)
        ok &= ~state.site_used[index.x_site][:, None] | (index.x_site[:, None] == index.x_site[drop][None, :])
        ok &= (index.x_type[:, None] == index.x_type[drop][None, :]) | \
            (state.per_type[index.x_type[drop]] > min_open[index.x_type[drop]])[None, :]
        saving = cost[drop][None, :] - cost[:, None]
        # a swap that gains weight, or keeps it and frees budget for the next fill
        useful = ok & ((delta > tol) | ((np.abs(delta) <= tol) & (saving > 0.5)))
        score = np.where(useful, np.where(delta > tol, delta, 0.0) + 1e-9 * np.maximum(saving, 0), -np.inf)
        a = np.argmax(score, axis=0)
        has = np.isfinite(score[a, np.arange(drop.size)])
        for i in np.flatnonzero(has):
            moves.append((float(delta[a[i], i]) if delta[a[i], i] > tol else 0.0,
                          float(saving[a[i], i]), int(drop[i]), int(a[i])))
    moves.sort(key=lambda m: (-m[0], -m[1]))
    touched = np.zeros(index.n_classes, dtype=bool)
    made = 0
    for g, save, d, a in moves:
        cd = C.indices[C.indptr[d]:C.indptr[d + 1]]
        ca = C.indices[C.indptr[a]:C.indptr[a + 1]]
        if made and (touched[cd].any() or touched[ca].any()):
            continue
        if state.chosen[a] or not state.chosen[d] or state.spent - cost[d] + cost[a] > budget:
            continue
        if state.site_used[index.x_site[a]] and index.x_site[a] != index.x_site[d]:
            continue
        kd = index.x_type[d]
        if index.x_type[a] != kd and state.per_type[kd] <= min_open[kd]:
            continue
        state.toggle(index, C, cost, d, False)
        state.toggle(index, C, cost, a, True)
        touched[cd] = True
        touched[ca] = True
        made += 1
    return made


# ---- windows: re-solve a neighbourhood exactly ---------------------------------------------


def window_model(index: CoverageIndex, cost: np.ndarray, budget_cny: float, min_open: np.ndarray,
                 chosen: np.ndarray, window: np.ndarray) -> tuple[LinearModel, np.ndarray]:
    """The coverage MILP over the columns ``window`` with every other column held as in ``chosen``.

    Returns the model (x over the window's usable columns, then one y per merged class that no
    held column reaches) and the window columns its x columns stand for. Columns on a site a held
    column occupies are left out. Its objective is the weight the window adds to the held plan.
    """
    window = np.asarray(window, dtype=np.int64)
    held = np.asarray(chosen, dtype=bool).copy()
    held[window] = False
    n_sites = int(index.x_site.max(initial=-1)) + 1
    occupied = np.zeros(n_sites, dtype=bool)
    occupied[index.x_site[held]] = True
    cols = window[~occupied[index.x_site[window]]]
    reached = (index.class_rows @ held.astype(float)) > 0
    sub = sp.csr_matrix(index.class_rows[:, cols])
    live = (np.diff(sub.indptr) > 0) & ~reached
    rows = sub[live]
    weight_live = index.class_weight[live]
    if rows.shape[0]:
        class_of, rep = identical_row_classes(rows)
        rows = rows[rep]
        weight = np.bincount(class_of, weights=weight_live, minlength=rep.size)
    else:
        weight = np.zeros(0)
    n_x, n_y = cols.size, weight.size

    def with_y(mat):
        return sp.hstack([mat, sp.csr_matrix((mat.shape[0], n_y))], format="csr")

    per_site = sp.csr_matrix((np.ones(n_x), (index.x_site[cols], np.arange(n_x))), shape=(n_sites, n_x))
    shared = np.flatnonzero(np.diff(per_site.indptr) > 1)
    n_types = np.asarray(min_open).size
    per_type = sp.csr_matrix((np.ones(n_x), (index.x_type[cols], np.arange(n_x))), shape=(n_types, n_x))
    short = np.maximum(np.asarray(min_open) - np.bincount(index.x_type[held], minlength=n_types), 0)
    need = np.flatnonzero(short > 0)
    A, lo, up, blocks = stack_rows([
        ("coverage", sp.hstack([-rows, sp.identity(n_y, format="csr")], format="csr"), -np.inf, 0.0),
        ("one_per_site", with_y(per_site[shared]), -np.inf, 1.0),
        ("budget", with_y(sp.csr_matrix(cost[cols][None, :])), -np.inf,
         float(budget_cny) - float(cost[held].sum())),
        ("min_open", with_y(per_type[need]), short[need].astype(float), np.inf),
    ])
    model = LinearModel(
        sense=MAXIMIZE, c=np.concatenate([np.zeros(n_x), weight]), A=A, row_lower=lo, row_upper=up,
        col_lower=np.zeros(n_x + n_y), col_upper=np.ones(n_x + n_y),
        integrality=np.concatenate([np.ones(n_x, bool), np.zeros(n_y, bool)]), integral_optimum=True,
        col_blocks={"x": slice(0, n_x), "y": slice(n_x, n_x + n_y)}, row_blocks=blocks,
    )
    return model, cols


def neighbours(index: CoverageIndex, C: sp.csc_matrix, seed: int, size: int,
               allowed: np.ndarray) -> np.ndarray:
    """The ``size`` allowed columns sharing the most classes with column ``seed`` (seed first)."""
    R = index.class_rows
    classes = C.indices[C.indptr[seed]:C.indptr[seed + 1]]
    if classes.size == 0:
        return np.array([seed], dtype=np.int64)
    overlap = np.bincount(R[classes].indices, minlength=index.n_x).astype(float)
    overlap[seed] = np.inf
    top = np.flatnonzero(allowed | (np.arange(index.n_x) == seed))
    # most overlap first; columns sharing nothing come last (a window as large as the problem
    # holds every column)
    return top[np.argsort(-overlap[top], kind="stable")][:size]


def window_search(index: CoverageIndex, cost: np.ndarray, budget_cny: float, must_cols: np.ndarray,
                  min_open: np.ndarray, chosen: np.ndarray,
                  solve_milp: Callable[[LinearModel, np.ndarray, float | None], np.ndarray | None],
                  allowed: np.ndarray | None = None, deadline: float | None = None,
                  size: int = 40, max_passes: int = 3) -> np.ndarray:
    """Improve a feasible plan window by window (see the module docstring).

    ``solve_milp(model, warm_start, time_limit_s)`` returns the column values of a feasible
    (ideally optimal) solution of ``model``, or None. Seeds are the open columns, biggest
    contribution first; must_open columns are never in a window. Returns a feasible plan at
    least as good as ``chosen``.
    """
    min_open = np.asarray(min_open)
    allowed = np.ones(index.n_x, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    movable = allowed & ~np.asarray(must_cols, dtype=bool)
    C = sp.csc_matrix(index.class_rows)
    chosen = np.asarray(chosen, dtype=bool).copy()
    tol = _REL_TOL * max(1.0, float(index.class_weight.sum()))
    value = plan_value(index, chosen)
    for _ in range(max_passes):
        improved = False
        seeds = np.flatnonzero(chosen & movable)
        for seed in seeds:
            if deadline is not None and time.perf_counter() > deadline:
                return chosen
            if not chosen[seed]:
                continue
            near = neighbours(index, C, int(seed), 4 * size, movable)
            # the closest columns, plus the open ones among a wider ring (so they can move)
            window = np.union1d(near[:size], near[chosen[near]][: max(1, size // 4)])
            model, cols = window_model(index, cost, budget_cny, min_open, chosen, window)
            start = np.concatenate([chosen[cols].astype(float),
                                    np.zeros(model.n_cols - cols.size)])
            start[cols.size:] = np.minimum(
                (-model.A[model.row_blocks["coverage"]][:, :cols.size]) @ start[:cols.size], 1.0)
            left = None if deadline is None else max(0.05, deadline - time.perf_counter())
            values = solve_milp(model, start, left)
            if values is None:
                continue
            trial = chosen.copy()
            trial[window] = False
            trial[cols[np.round(values[:cols.size]) > 0.5]] = True
            new_value = plan_value(index, trial)
            if new_value > value + tol and float(cost[trial].sum()) <= budget_cny * (1 + 1e-12):
                chosen, value, improved = trial, new_value, True
        if not improved:
            break
    return chosen


def repair_min_open(index: CoverageIndex, cost: np.ndarray, budget_cny: float, min_open: np.ndarray,
                    chosen: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray | None:
    """Add columns of every type short of its min_open count (most gain per unit cost first) while
    they fit; None when the budget or the free sites run out first."""
    min_open = np.asarray(min_open)
    allowed = np.ones(index.n_x, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    C = sp.csc_matrix(index.class_rows)
    CT = sp.csr_matrix(C.T)
    state = _state(index, cost, chosen, min_open.size)
    budget = float(budget_cny) * (1 + 1e-12)
    for k in np.flatnonzero(state.per_type < min_open):
        while state.per_type[k] < min_open[k]:
            gain = CT @ np.where(state.count == 0, index.class_weight, 0.0)
            free = (allowed & ~state.chosen & ~state.site_used[index.x_site] & (index.x_type == k)
                    & (state.spent + cost <= budget))
            if not free.any():
                return None
            ratio = np.where(free, gain / np.maximum(cost, 1e-300), -1.0)
            state.toggle(index, C, cost, int(np.lexsort((cost, -ratio))[0]), True)
    return state.chosen
