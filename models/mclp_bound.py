r"""p-MCLP on merged classes: a swap-search incumbent, a Lagrangian bound and exact site fixing.

The problem (classes :math:`k` of weight :math:`w_k \ge 0`, sites :math:`j`, coverage
:math:`a_{kj} \in \{0,1\}`):

.. math::
    z^* = \max \sum_k w_k y_k \quad\text{s.t.}\quad y_k \le \textstyle\sum_j a_{kj} x_j,\;
    \sum_j x_j \le p,\; x \in \{0,1\}^m,\; 0 \le y \le 1.

**Incumbent** (:func:`swap_search`). Greedy, then best-improvement swaps priced all at once with
:math:`n_k` the open sites reaching :math:`k`: adding :math:`j` gains
:math:`g_j = \sum_{k \ni j, n_k = 0} w_k`, dropping :math:`s` loses
:math:`l_s = \sum_{k \ni s, n_k = 1} w_k`, and the swap :math:`s \to j` is worth
:math:`g_j - l_s + I_{sj}`, :math:`I = U^\top A` with :math:`U_{ks} = w_k [n_k = 1] a_{ks}` (the
classes only :math:`s` reaches that :math:`j` keeps). One sparse product per move. Then
:func:`region_search` re-plans small regions (a site and its open neighbours) from random nearby
sites, which is what moves a swap optimum of a clustered instance to the optimum. The incumbent
only has to be a real plan: exactness rests on the bound and the fixing below.

**Bound** (:func:`lagrangian`). Moving the coverage rows into the objective with multipliers
:math:`0 \le \pi \le w` and keeping :math:`\sum x \le p` gives, for every such :math:`\pi`,

.. math::
    L(\pi) = \sum_k (w_k - \pi_k) + \sum_{j \in T} r_j \;\ge\; z^*, \qquad r = A^\top \pi \ge 0,

with :math:`T` the :math:`p` largest :math:`r_j`: for a feasible :math:`(x, y)` each added term
:math:`\pi_k(\sum_j a_{kj}x_j - y_k)` is non-negative, :math:`(w_k - \pi_k) y_k \le w_k - \pi_k`,
and :math:`r^\top x \le \sum_T r_j`. The multipliers follow subgradient steps (Polyak lengths
towards the incumbent, the factor halved after a run without a lower :math:`L`); every evaluated
:math:`L` is valid however far from optimal, and the lowest is kept. Its minimum is the LP bound.

**Fixing** (:func:`fix_sites`). With :math:`r_{(p)}` the :math:`p`-th and :math:`r_{(p+1)}` the
next largest value, a plan with :math:`x_j = 1` for :math:`j \notin T` is worth at most
:math:`L - r_{(p)} + r_j`, and a plan with :math:`x_j = 0` for :math:`j \in T` at most
:math:`L - r_j + r_{(p+1)}` (the subproblem's best with that one variable forced). When such a
bound is below :math:`z + \delta` (incumbent value :math:`z`; :math:`\delta = 1` when every weight is
an integer, so no plan can lie strictly between :math:`z` and :math:`z + 1`, else :math:`\delta =
0`), no plan *better than the incumbent* has that value of :math:`x_j`: it is fixed. Every plan
better than :math:`z` satisfies all fixings at once, so the optimum is the better of the
incumbent and the optimum of the fixed problem (which may even be empty). The test uses a
relative margin of :math:`10^{-9}` against rounding; the bound is recomputed from the multipliers
here, so inexact steps only weaken it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# Relative margin on the fixing test: float sums over thousands of terms.
FIX_MARGIN = 1e-9


def _top(r: np.ndarray, p: int) -> np.ndarray:
    """Indices of the ``p`` largest entries of ``r`` (any order)."""
    if p >= r.size:
        return np.arange(r.size)
    return np.argpartition(-r, p - 1)[:p]


def covered_value(rows: sp.csr_matrix, weight: np.ndarray, sites) -> float:
    x = np.zeros(rows.shape[1])
    x[np.asarray(sites, dtype=np.int64)] = 1.0
    return float(weight[np.asarray(rows @ x).reshape(-1) > 0.5].sum())


def swap_search(rows: sp.csr_matrix, weight: np.ndarray, p: int, start=None,
                max_moves: int = 10_000, csc: sp.csc_matrix | None = None) -> np.ndarray:
    """Greedy (or ``start``) then best-improvement swaps until none gains; returns site indices.
    ``csc``: ``rows`` in CSC form when the caller has it (repeated searches)."""
    R = sp.csr_matrix(rows)
    C = sp.csc_matrix(R) if csc is None else csc
    c, m = R.shape
    p = min(int(p), m)
    w = np.asarray(weight, dtype=float)
    tol = 1e-12 * max(1.0, float(w.sum()))
    chosen = np.zeros(m, dtype=bool)
    count = np.zeros(c)
    if start is not None and len(start):
        chosen[np.asarray(start, dtype=np.int64)] = True
        count = np.asarray(R @ chosen.astype(float)).reshape(-1)
    while chosen.sum() < p:  # greedy fill
        gain = np.asarray(C.T @ np.where(count == 0, w, 0.0)).reshape(-1)
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= tol:
            break
        chosen[j] = True
        count[C.indices[C.indptr[j]:C.indptr[j + 1]]] += 1
    row_len = np.diff(R.indptr)
    for _ in range(max_moves):
        open_ = np.flatnonzero(chosen)
        q = open_.size
        if q == 0:
            break
        gain = np.asarray(C.T @ np.where(count == 0, w, 0.0)).reshape(-1)
        # classes exactly one open site reaches, with that site's position in open_: index
        # arithmetic and bincount, not sparse products (scipy's per-call overhead dominated)
        k_of = C.indices[_gather(C.indptr, open_)]
        pos_of = np.repeat(np.arange(q), np.diff(C.indptr)[open_])
        only = count[k_of] == 1
        k1, s1 = k_of[only], pos_of[only]
        loss = np.bincount(s1, weights=w[k1], minlength=q)
        # keep[s, j]: weight of the classes only s reaches that j reaches too (I_sj above)
        lens = row_len[k1]
        flat = np.repeat(s1, lens) * m + R.indices[_gather(R.indptr, k1)]
        keep = np.bincount(flat, weights=np.repeat(w[k1], lens), minlength=q * m).reshape(q, m)
        delta = gain[None, :] - loss[:, None] + keep
        delta[:, chosen] = -np.inf
        s, j = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[s, j] <= tol:
            if chosen.sum() < p and gain[~chosen].max(initial=0.0) > tol:
                continue
            break
        out = int(open_[s])
        chosen[out] = False
        count[C.indices[C.indptr[out]:C.indptr[out + 1]]] -= 1
        chosen[j] = True
        count[C.indices[C.indptr[j]:C.indptr[j + 1]]] += 1
    return np.flatnonzero(chosen)


def _gather(indptr: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Positions in ``indices`` of the compressed rows (or columns) ``which``, concatenated."""
    stops = indptr[which + 1]
    lens = stops - indptr[which]
    return np.repeat(stops - np.cumsum(lens), lens) + np.arange(int(lens.sum()))


@dataclass(frozen=True)
class LagrangianBound:
    """The lowest bound found and the multipliers that gave it."""

    bound: float
    pi: np.ndarray
    r: np.ndarray
    iterations: int
    x_bar: np.ndarray


def lagrangian_value(rows: sp.csr_matrix, weight: np.ndarray, p: int, pi: np.ndarray):
    """(L, r, T) of the module docstring for multipliers ``pi`` (clipped to [0, w])."""
    pi = np.clip(pi, 0.0, weight)
    r = np.asarray(sp.csc_matrix(rows).T @ pi).reshape(-1)
    T = _top(r, p)
    return float((weight - pi).sum() + r[T].sum()), r, T


def lagrangian(rows: sp.csr_matrix, weight: np.ndarray, p: int, target: float,
               iterations: int = 1000, pi0: np.ndarray | None = None,
               deadline: float | None = None, enough: float = 0.0) -> LagrangianBound:
    """Minimise :math:`L(\\pi)` by the Volume algorithm (Barahona and Anbil 2000) towards
    ``target`` (the incumbent's value): subgradient steps from the best point along a running
    average of the subproblem's solutions, whose ``x`` average (``LagrangianBound.x_bar``)
    approximates an LP solution. It stops once the bound is within ``enough`` of ``target``
    (1 for whole-number weights: no plan lies strictly between)."""
    R = sp.csr_matrix(rows)
    C = sp.csc_matrix(R)
    CT = sp.csr_matrix(C.T)  # r = A^T pi, the product of every step
    w = np.asarray(weight, dtype=float)
    m = R.shape[1]
    p = min(int(p), m)
    size = np.diff(R.indptr).astype(float)
    pi = np.clip(w / np.maximum(size, 1.0), 0.0, w) if pi0 is None else np.clip(pi0, 0.0, w)

    def evaluate(pi):
        r = CT @ pi
        T = _top(r, p)
        x = np.zeros(m)
        x[T] = 1.0
        return float((w - pi).sum() + r[T].sum()), r, x, (pi < w).astype(float)

    L_c, r_c, x_c, y_c = evaluate(pi)
    ax_c = np.asarray(R @ x_c).reshape(-1)
    x_bar, y_bar, ax_bar = x_c, y_c, ax_c
    best = (L_c, pi.copy(), r_c)
    f, reds, alpha = 0.1, 0, 0.1
    it = 0
    for it in range(1, iterations + 1):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if best[0] - target <= max(enough, 1e-9 * max(1.0, abs(target))) * (1 - 1e-12):
            break
        g = ax_bar - y_bar
        g = np.where(((pi <= 0) & (g > 0)) | ((pi >= w) & (g < 0)), 0.0, g)
        norm = float(g @ g)
        if norm <= 1e-18:
            x_bar, y_bar, ax_bar = x_c, y_c, ax_c
            g = ax_c - y_c
            g = np.where(((pi <= 0) & (g > 0)) | ((pi >= w) & (g < 0)), 0.0, g)
            norm = float(g @ g)
            if norm <= 1e-18:
                break
        step = f * max(L_c - target, 1e-6 * max(1.0, abs(L_c))) / norm
        pi_t = np.clip(pi - step * g, 0.0, w)
        L_t, r_t, x_t, y_t = evaluate(pi_t)
        ax_t = _column_counts(C, np.flatnonzero(x_t))
        x_bar = alpha * x_t + (1 - alpha) * x_bar
        y_bar = alpha * y_t + (1 - alpha) * y_bar
        ax_bar = alpha * ax_t + (1 - alpha) * ax_bar
        if L_t < L_c:
            pi, L_c, x_c, y_c, ax_c = pi_t, L_t, x_t, y_t, ax_t
            reds, f = 0, min(2.0, f * 1.1)
        else:
            reds += 1
            if reds >= 20:
                f, reds = max(f * 0.66, 1e-5), 0
        if L_t < best[0]:
            best = (L_t, pi_t.copy(), r_t)
    return LagrangianBound(best[0], best[1], best[2], it, x_bar)


def fix_sites(r: np.ndarray, bound: float, p: int, incumbent: float, integral: bool):
    """(closed, opened) bool masks of sites whose value is fixed for any plan better than
    ``incumbent`` (module docstring); ``r`` and ``bound`` from :func:`lagrangian_value`."""
    m = r.size
    if p >= m:
        return np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    order = np.argsort(-r, kind="stable")
    in_T = np.zeros(m, dtype=bool)
    in_T[order[:p]] = True
    r_p, r_next = r[order[p - 1]], r[order[p]]
    cut = incumbent + (1.0 if integral else 0.0) - FIX_MARGIN * max(1.0, abs(bound))
    closed = ~in_T & (bound - r_p + r < cut)
    opened = in_T & (bound - r + r_next < cut)
    return closed, opened


def _column_counts(C: sp.csc_matrix, cols: np.ndarray) -> np.ndarray:
    """(c,) how many of the columns ``cols`` reach each row (``C @ x`` for a 0/1 ``x``)."""
    starts, stops = C.indptr[cols], C.indptr[cols + 1]
    lens = stops - starts
    idx = np.repeat(stops - np.cumsum(lens), lens) + np.arange(int(lens.sum()))
    return np.bincount(C.indices[idx], minlength=C.shape[0]).astype(float)


@dataclass(frozen=True)
class BoundAndFix:
    """What :func:`bound_and_fix` found: the incumbent, the bound and the sites it fixed."""

    incumbent: np.ndarray  # site indices of the best plan found
    value: float  # its covered weight
    bound: float  # Lagrangian upper bound on the optimum
    closed: np.ndarray  # (m,) bool: x_j = 0 in every plan better than ``value``
    opened: np.ndarray  # (m,) bool: x_j = 1 in every plan better than ``value``
    iterations: int


def region_search(rows: sp.csr_matrix, weight: np.ndarray, p: int, plan: np.ndarray,
                  passes: int = 3, seed: int = 0) -> np.ndarray:
    """Large-neighbourhood search by regions: for each open site ``s``, close it and up to two
    open sites near it (reaching a class within two hops of ``s``'s classes), open as many random
    sites of that neighbourhood instead, and repair by :func:`swap_search`; keep any better plan.
    Optima of clustered instances differ from a swap-optimal plan by a local rearrangement of
    3-4 nearby sites, which single random kicks over all sites rarely hit. Passes repeat while a
    pass improves (fixed random seed, so runs repeat)."""
    R = sp.csr_matrix(rows)
    m = R.shape[1]
    best = np.asarray(plan, dtype=np.int64)
    if best.size == 0 or best.size >= m:
        return best
    C = sp.csc_matrix(R)
    near = sp.csr_matrix(C.T @ C, dtype=bool)  # sites sharing a class
    near = sp.csr_matrix(near @ near, dtype=bool)  # ... within two hops
    rng = np.random.default_rng(seed)
    z = covered_value(R, weight, best)
    for _ in range(passes):
        z_pass = z
        for s in best.copy():
            if s not in best:
                continue
            nb = near.indices[near.indptr[s]:near.indptr[s + 1]]
            close = np.concatenate([[s], np.intersect1d(np.setdiff1d(best, [s]), nb)[:2]])
            pool = np.setdiff1d(np.unique(near[close].indices), best)
            if pool.size == 0:
                continue
            add = rng.choice(pool, size=min(close.size, pool.size), replace=False)
            cand = swap_search(R, weight, p, start=np.concatenate([np.setdiff1d(best, close), add]),
                               csc=C)
            value = covered_value(R, weight, cand)
            if value > z:
                best, z = cand, value
        if z <= z_pass:
            break
    return best


def bound_and_fix(rows: sp.csr_matrix, weight: np.ndarray, p: int, *,
                  iterations: tuple = (800, 400, 400), deadline: float | None = None,
                  lns: bool = True) -> BoundAndFix:
    r"""Incumbent (greedy + swaps, then the Lagrangian's roundings + swaps), bound and fixing.

    Each round minimises :math:`L` over the sites still open to choice (warm-started from the
    last round's multipliers), rounds its solution into plans (the ``p`` sites of largest
    averaged subproblem value, and of largest profit :math:`r_j`, each improved by swaps; in
    the second round also a search of regions around the best, :func:`region_search`), keeps
    the best plan as the incumbent and fixes against it. A later round works on the sites the
    earlier ones left: every plan better than the incumbent is among them (module docstring), so
    fixing there is as exact, and the bound of that restricted problem, or the incumbent's
    value, whichever is larger, bounds the whole. ``integral`` fixing (:math:`\delta = 1`) is used
    when every weight is a whole number.
    """
    R = sp.csr_matrix(rows)
    w = np.asarray(weight, dtype=float)
    m = R.shape[1]
    p = min(int(p), m)
    integral = bool(np.all(w == np.round(w)))
    best = swap_search(R, w, p)
    z = covered_value(R, w, best)
    keep = np.arange(m)  # sites not yet fixed closed
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    bound, pi, its = np.inf, None, 0
    for round_, n_iter in enumerate(iterations):
        Rk = R[:, keep]
        if keep.size <= p:
            opened = np.zeros(m, dtype=bool)
            bound = min(bound, max(z, covered_value(R, w, keep)))
            break
        lag = lagrangian(Rk, w, p, z, iterations=n_iter, pi0=pi, deadline=deadline,
                         enough=1.0 if integral else 0.0)
        its += lag.iterations
        pi = lag.pi
        for start in (np.argsort(-lag.x_bar, kind="stable")[:p], _top(lag.r, p)):
            plan = keep[swap_search(Rk, w, p, start=start)]
            value = covered_value(R, w, plan)
            if value > z:
                best, z = plan, value
        if lns and round_ == 1:  # region search among the sites the fixing left
            local = np.flatnonzero(np.isin(keep, best))
            if local.size == best.size:
                plan = keep[region_search(Rk, w, p, local)]
                value = covered_value(R, w, plan)
                if value > z:
                    best, z = plan, value
        L, r, _ = lagrangian_value(Rk, w, p, pi)
        bound = min(bound, max(z, min(L, lag.bound)))
        shut, sure = fix_sites(r, L, p, z, integral)
        closed[keep[shut]] = True
        opened = np.zeros(m, dtype=bool)
        opened[keep[sure]] = True
        keep = keep[~shut]
        if sure.sum() == p or (round_ and shut.sum() < 0.05 * shut.size) or (
                deadline is not None and time.perf_counter() > deadline):
            break  # decided, or too little fixed for another round to pay
    return BoundAndFix(np.sort(best), z, bound, closed, opened, its)
