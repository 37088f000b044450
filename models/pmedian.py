r"""Exact p-median reductions on arrays: a Lagrangian bound and fixing against an incumbent.

The radius (Elloumi) formulation of :func:`models.classic.build_pmedian` is exact but large: every
point keeps its ``m - p + 1`` nearest sites. Following García, Labbé & Marín (2011, "ZEBRA") and
Beasley (1993), a strong incumbent and a near-LP lower bound remove most of it before any MIP is
built. Indices: ``i`` demand point, ``j`` site, ``w_i`` weight, ``d_ij`` cost.

Lagrangian bound (Beasley 1993, written on the ladders)
    Dualise "each point is served" with multipliers ``u_i >= D_i^1`` (the point's nearest cost):

    .. math::
        L(u) = \sum_i w_i u_i + \min_{|S| = p} \sum_{j \in S} \rho_j, \qquad
        \rho_j = \sum_i w_i \min(0, d_{ij} - u_i).

    On Elloumi's ladders this is the multiplier :math:`\lambda_i^k = w_i (u_i - D_i^k)^+` of the
    level rows, so ``L(u)`` is at most the LP bound and reaches it at the best ``u``; it is
    maximised by subgradient steps, each a few (n, m) array operations.

Fixing against an incumbent of cost ``UB`` (exact: no plan of cost ``<= target`` is lost)
    Forcing something into the Lagrangian subproblem raises its value by a reduced cost, and the
    raised value is a lower bound on every plan that does the forced thing:

    * a site ``j`` outside the ``p`` chosen: opening it costs :math:`\rho_j - \rho_{(p)}`
      (the ``p``-th smallest); if ``L + that > target``, ``j`` is closed in every such plan;
    * a chosen site: closing it costs :math:`\rho_{(p+1)} - \rho_j`; if too much, ``j`` is open;
    * point ``i`` served at cost ``d`` (its nearest open site at ``d``): the ladder columns
      :math:`z_i^k` below ``d`` are all 1 (they are monotone in an optimal completion), whose
      reduced costs telescope to :math:`w_i (d - u_i)^+`; adding the site's own term, a pair
      ``(i, j)`` with ``L + w_i (d_ij - u_i)^+ + [j not chosen](\rho_j - \rho_{(p)}) > target`` is
      never an assignment. Dropping it truncates ``i``'s ladder (dominance of distance levels:
      only levels that an improving plan can use stay).

    The reduced table keeps, for each point, only pairs at most as far as any site forced open,
    so levels that a forced-open site already dominates vanish too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


def dense_costs(n: int, m: int, demand: np.ndarray, site: np.ndarray, cost: np.ndarray,
                big: float) -> np.ndarray:
    """The (n, m) cost matrix with ``big`` for unreachable pairs."""
    D = np.full((n, m), float(big))
    D[demand, site] = cost
    return D


def unreachable_cost(cost: np.ndarray, weights: np.ndarray) -> float:
    """A cost no plan serving every weighted point can pay (inf would poison the sums)."""
    finite_max = float(np.max(cost, initial=0.0))
    return (finite_max + 1.0) * (float(np.sum(weights)) + 1.0) * 4.0


def interchange(D: np.ndarray, w: np.ndarray, p: int, start: np.ndarray | None = None,
                max_swaps: int = 1000) -> tuple[np.ndarray, float]:
    """Greedy adding (unless ``start`` is given), then best-improvement swaps (Teitz-Bart).

    Each step scores every (close ``s``, open ``j``) pair at once from the nearest and second
    nearest open costs (Whitaker's fast interchange), so a step is a few (n, m) array operations.
    Returns the open sites (sorted) and their cost ``sum_i w_i min_{j open} D_ij``.
    """
    n, m = D.shape
    big = 2.0 * float(D.max(initial=0.0)) + 1.0
    is_open = np.zeros(m, dtype=bool)
    if start is None:
        best1 = np.full(n, big)
        for _ in range(p):
            total = w @ np.minimum(D, best1[:, None])
            total[is_open] = np.inf
            j = int(np.argmin(total))
            is_open[j] = True
            best1 = np.minimum(best1, D[:, j])
    else:
        is_open[np.asarray(start, dtype=np.int64)] = True
    rows = np.arange(n)
    current = float(w @ D[:, is_open].min(axis=1))
    for _ in range(max_swaps if p < m else 0):
        opened = np.flatnonzero(is_open)
        Do = D[:, opened]
        if opened.size > 1:
            two = np.argpartition(Do, 1, axis=1)[:, :2]
            a, b = Do[rows, two[:, 0]], Do[rows, two[:, 1]]
            first = np.where(a <= b, two[:, 0], two[:, 1])
            best1, best2 = np.minimum(a, b), np.maximum(a, b)
        else:
            first = np.zeros(n, dtype=np.int64)
            best1, best2 = Do[:, 0], np.full(n, big)
        near = opened[first]
        keep = np.minimum(D, best1[:, None])  # cost after opening j, nothing closed
        loss = w[:, None] * (np.minimum(D, best2[:, None]) - keep)  # extra if near_i closes
        owner = sp.csr_matrix((np.ones(n), (near, rows)), shape=(m, n))
        total = (w @ keep)[None, :] + np.asarray((owner[opened] @ loss))
        total[:, is_open] = np.inf
        s_idx, j = np.unravel_index(int(np.argmin(total)), total.shape)
        if total[s_idx, j] >= current - 1e-9 * max(1.0, abs(current)):
            break
        is_open[opened[s_idx]] = False
        is_open[j] = True
        current = float(total[s_idx, j])
    sites = np.flatnonzero(is_open)
    return sites, float(w @ D[:, sites].min(axis=1))


@dataclass(frozen=True)
class LagrangianBound:
    """The best multipliers found and what they say.

    Parameters
    ----------
    bound : the lower bound ``L(u)`` (valid for every plan).
    u : (n,) multipliers (costs per unit weight).
    rho : (m,) the sites' terms at ``u``.
    chosen : (p,) the sites of the subproblem's solution at ``u``.
    iterations : subgradient steps taken.
    """

    bound: float
    u: np.ndarray
    rho: np.ndarray
    chosen: np.ndarray
    iterations: int


def lagrangian_value(D: np.ndarray, w: np.ndarray, p: int, u: np.ndarray):
    """``(L(u), rho, chosen, covered_count)`` for multipliers ``u`` (see the module docstring)."""
    diff = D - u[:, None]
    rho = w @ np.minimum(diff, 0.0)
    chosen = np.argpartition(rho, p - 1)[:p] if p < rho.size else np.arange(rho.size)
    value = float(w @ u + rho[chosen].sum())
    count = (diff[:, chosen] < 0).sum(axis=1)
    return value, rho, chosen, count


def lagrangian_bound(D: np.ndarray, w: np.ndarray, p: int, upper: float, *,
                     max_iter: int = 600, target: float | None = None,
                     u0: np.ndarray | None = None) -> LagrangianBound:
    """Maximise ``L(u)`` by subgradient steps (Polyak step towards ``upper``, Beasley 1993).

    ``upper`` is the cost of a known plan. Stops after ``max_iter`` steps, when the step size
    has shrunk to nothing, or when the bound reaches ``target`` (default ``upper``). ``u0``
    continues from earlier multipliers (after a better plan lowered ``upper``).
    """
    n, m = D.shape
    target = upper if target is None else target
    srt = np.sort(D, axis=1)
    lo = srt[:, 0]
    hi = srt[:, min(m - p, m - 1)]  # the nearest open site is among the m - p + 1 nearest
    u = np.clip(srt[:, min(1, m - 1)] if u0 is None else u0, lo, hi)
    best = None
    pi, stall = 2.0, 0
    it = 0
    for it in range(1, max_iter + 1):
        value, rho, chosen, count = lagrangian_value(D, w, p, u)
        if best is None or value > best.bound + 1e-12 * max(1.0, abs(value)):
            best = LagrangianBound(value, u.copy(), rho, np.sort(chosen), it)
            stall = 0
        else:
            stall += 1
            if stall >= 20:
                pi, stall = pi / 2.0, 0
        if best.bound >= target or pi < 1e-4:
            break
        g = w * (1.0 - count)
        norm = float(g @ g)
        if norm == 0.0:
            break  # every point served exactly once: the subproblem's plan is optimal
        u = np.clip(u + pi * (upper - value) / norm * g, lo, hi)
    return LagrangianBound(best.bound, best.u, best.rho, best.chosen, it)


@dataclass(frozen=True)
class Reduction:
    """What the fixing leaves of a p-median instance.

    Parameters
    ----------
    closed, forced_open : (m,) bool masks of sites fixed closed / open.
    keep_pair : (n, m) bool, pairs that may still be an assignment of an improving plan.
    """

    closed: np.ndarray
    forced_open: np.ndarray
    keep_pair: np.ndarray

    @property
    def n_pairs(self) -> int:
        return int(self.keep_pair.sum())


def fix_by_lagrangian(D: np.ndarray, w: np.ndarray, p: int, lag: LagrangianBound,
                      target: float) -> Reduction:
    """Sites and pairs that no plan of cost ``<= target`` uses (see the module docstring).

    ``target`` is the incumbent's cost (or less, when only strictly better plans are wanted).
    Rows of weight 0 keep every pair (they cost nothing and carry no information).
    """
    n, m = D.shape
    L, rho = lag.bound, lag.rho
    is_chosen = np.zeros(m, dtype=bool)
    is_chosen[lag.chosen] = True
    order = np.sort(rho)
    rho_p = order[p - 1]
    rho_next = order[p] if p < m else np.inf
    open_penalty = np.where(is_chosen, 0.0, rho - rho_p)  # >= 0 for sites outside
    slack = target - L
    tol = 1e-9 * max(1.0, abs(target))
    closed = ~is_chosen & (open_penalty > slack + tol)
    forced_open = is_chosen & (rho_next - rho > slack + tol)
    pair_bound = w[:, None] * np.maximum(D - lag.u[:, None], 0.0) + open_penalty[None, :]
    keep = (pair_bound <= slack + tol) | (w[:, None] <= 0)
    keep &= ~closed[None, :]
    if forced_open.any():
        # A forced-open site serves each point at worst at its cost: farther pairs never matter.
        cap = D[:, forced_open].min(axis=1)
        keep &= D <= cap[:, None]
    return Reduction(closed, forced_open, keep)


@dataclass(frozen=True)
class TreeResult:
    """The outcome of :func:`lagrangian_branch_and_bound`.

    Parameters
    ----------
    sites : the best plan found (site indices of the full instance).
    cost : its cost.
    proven : True when every node was closed: ``cost`` is optimal up to ``delta``.
    bound : a lower bound on every plan (the smallest bound of an open node, or ``cost``).
    nodes : nodes evaluated.
    """

    sites: np.ndarray
    cost: float
    proven: bool
    bound: float
    nodes: int


def _node_bound(D, w, p, upper, target, u, lo, hi, forced, free, iters):
    """Subgradient steps at one node: ``S`` holds every forced site and ``p - |forced|`` free ones.

    Returns ``(bound, u, rho, chosen)`` of the best step; stops early once the bound passes
    ``target`` (the node is pruned) or a step's plan serves every point exactly once.
    """
    k = p - forced.size
    best = (-np.inf, u, None, None)
    pi, stall = 1.0, 0
    for _ in range(iters):
        diff = D - u[:, None]
        rho = w @ np.minimum(diff, 0.0)
        rf = rho[free]
        pick = free[np.argpartition(rf, k - 1)[:k]] if 0 < k < free.size else (
            free if k > 0 else free[:0])
        chosen = np.concatenate([forced, pick])
        value = float(w @ u + rho[chosen].sum())
        if value > best[0]:
            best, stall = (value, u, rho, chosen), 0
        else:
            stall += 1
            if stall >= 10:
                pi, stall = pi / 2.0, 0
        if best[0] > target or pi < 1e-3:
            break
        g = w * (1.0 - (diff[:, chosen] < 0).sum(axis=1))
        norm = float(g @ g)
        if norm == 0.0:
            break
        u = np.clip(u + pi * (upper - value) / norm * g, lo, hi)
    return best


def lagrangian_branch_and_bound(D: np.ndarray, w: np.ndarray, p: int, sites: np.ndarray,
                                cost: float, lag: LagrangianBound, delta: float = 0.0, *,
                                max_nodes: int = 20_000, deadline: float | None = None,
                                node_iters: int = 60) -> TreeResult:
    """Branch on sites with a Lagrangian bound and reduced-cost fixing at every node (Beasley).

    ``sites``/``cost`` are the incumbent, ``lag`` the root's multipliers. Only plans costing at
    most ``cost - delta`` are sought (``delta = 1`` for integer data, else 0), so a closed tree
    proves the incumbent (or a better plan found on the way) optimal. A node fixes free sites
    open or closed by their Lagrangian penalties, as :func:`fix_by_lagrangian` does at the root,
    and branches on the chosen free site of most negative ``rho`` (open first, then closed).
    Stops unproven after ``max_nodes`` nodes or at ``deadline`` (a ``time.monotonic()`` value).
    """
    import time

    n, m = D.shape
    tol = 1e-9 * max(1.0, abs(cost))
    root = fix_by_lagrangian(D, w, p, lag, cost - delta)
    cols = np.flatnonzero(~root.closed)
    best_sites, best_cost = np.asarray(sites), float(cost)
    if cols.size < p:
        return TreeResult(best_sites, best_cost, True, best_cost, 0)
    Dc = D[:, cols]
    lo = Dc.min(axis=1)
    srt_hi = np.sort(Dc, axis=1)[:, min(cols.size - p, cols.size - 1)]
    start_forced = np.flatnonzero(root.forced_open[cols])
    stack = [(start_forced, np.setdiff1d(np.arange(cols.size), start_forced),
              np.clip(lag.u, lo, srt_hi))]
    open_bounds: list = []
    nodes = 0
    while stack:
        if nodes >= max_nodes or (deadline is not None and time.monotonic() > deadline):
            open_bounds.extend(-np.inf for _ in stack)  # their bounds are not computed
            break
        forced, free, u = stack.pop()
        nodes += 1
        if forced.size > p or forced.size + free.size < p:
            continue
        target = best_cost - delta + tol
        if forced.size == p or forced.size + free.size == p:
            plan = np.concatenate([forced, free])[:p] if forced.size < p else forced
            value = float(w @ Dc[:, plan].min(axis=1))
            if value < best_cost - tol:
                best_sites, best_cost = cols[np.sort(plan)], value
            continue
        bound, u, rho, chosen = _node_bound(Dc, w, p, best_cost, target, u, lo, srt_hi,
                                            forced, free, node_iters)
        value = float(w @ Dc[:, chosen].min(axis=1))  # the node's Lagrangian plan, evaluated
        if value < best_cost - tol:
            best_sites, best_cost = cols[np.sort(chosen)], value
            target = best_cost - delta + tol
        if bound > target:
            continue
        # Fixing at the node: penalties of opening a free site outside / closing one inside.
        k = p - forced.size
        in_pick = np.isin(free, chosen)
        rf = rho[free]
        order = np.sort(rf)
        kth, nxt = order[k - 1], order[k] if k < free.size else np.inf
        slack = target - bound
        shut = ~in_pick & (rf - kth > slack)
        must = in_pick & (nxt - rf > slack)
        forced = np.concatenate([forced, free[must]])
        free = free[~shut & ~must]
        if forced.size + free.size <= p or forced.size >= p:
            stack.append((forced, free, u))
            continue
        cand = np.setdiff1d(chosen, forced)
        if cand.size == 0:  # the subproblem only uses forced sites: it cannot happen with k > 0
            cand = free
        j = cand[np.argmin(rho[cand])]
        rest = free[free != j]
        stack.append((forced, rest, u))  # j closed: explored second
        stack.append((np.append(forced, j), rest, u))  # j open: explored first
    if open_bounds:
        return TreeResult(best_sites, best_cost, False, lag.bound, nodes)
    return TreeResult(best_sites, best_cost, True, best_cost, nodes)
