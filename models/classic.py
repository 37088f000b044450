r"""The textbook location models: MCLP, budgeted MCLP, LSCP, p-median and p-center.

Arrays in, a :class:`~models.linear.LinearModel` out; nothing here reads a file. Indices: ``i`` a
demand point, ``j`` a candidate site, ``w_i`` a weight, ``d_ij`` a cost (distance, time), ``x_j``
is 1 when site ``j`` opens. Costs arrive as a :class:`CostTable` of reachable pairs only (a missing
pair is unreachable); coverage arrives as a sparse 0/1 matrix ``a_ij = [d_ij <= R]`` (inclusive).

MCLP (Church and ReVelle 1974), with merged demand
    Demand points with identical coverage sets are merged (weights summed) and points that no site
    covers are dropped, so ``K`` below is the number of distinct non-empty coverage sets.

    .. math::
        \max \sum_k w_k y_k \quad \text{s.t.}\quad y_k \le \sum_j a_{kj} x_j,\;
        \sum_j x_j = p \;(\text{or } \sum_j c_j x_j \le B),\; x_j \ge \bar x_j,\;
        x \in \{0,1\}^m,\; 0 \le y \le 1.

    ``y`` is integral at an optimum (``y_k = \min(1, \sum_j a_{kj} x_j)``). The budgeted variant
    replaces the cardinality row by a budget row; ``\bar x`` marks pre-selected sites.

LSCP (Toregas et al. 1971)
    :math:`\min \sum_j x_j` s.t. :math:`\sum_j a_{kj} x_j \ge 1` for every distinct coverage set.

p-median: Elloumi's (2004/2010) distinct-distance formulation
    The assignment formulation needs ``n*m`` assignment columns (160,000 for pmed20) and ``n*m``
    linking rows. Elloumi's formulation instead uses, for each demand point ``i``, only the sorted
    distinct costs it can see, :math:`D_i^1 < D_i^2 < \dots < D_i^{K_i}`, and a column
    :math:`z_i^k \ge 0` meaning "no open site within :math:`D_i^k`":

    .. math::
        \min \sum_i w_i \Big(D_i^1 + \sum_{k=1}^{K_i-1} (D_i^{k+1}-D_i^k)\, z_i^k\Big)
        \quad\text{s.t.}\quad
        z_i^1 + \sum_{j:\,d_{ij}=D_i^1} x_j \ge 1,\qquad
        z_i^k - z_i^{k-1} + \sum_{j:\,d_{ij}=D_i^k} x_j \ge 0\;(k\ge2),\qquad
        \sum_j x_j = p.

    (:math:`z_i^{K_i}` is fixed at 0, which forces some reachable site open.) Each pair
    ``(i, j)`` appears in exactly one row, so the matrix has ``nnz(d) + 3 sum_i K_i`` entries
    against ``3 n m`` for the assignment model, and its LP relaxation is as strong (Elloumi 2010).
    Two exact reductions shrink it further: at most ``m - p`` sites are closed, so the nearest
    open site of ``i`` is among its ``m - p + 1`` nearest, and pairs beyond that cost are dropped;
    points of weight 0 are dropped. For the integer-cost OR-Library instances ``K_i`` is a few
    hundred at most: pmed20 (400 vertices) has 14,920 columns and 139k nonzeros where the
    assignment model has 160,400 and 480k.

p-center: the same ladders with one global radius ladder (after Elloumi 2004, Calik-Tansel 2013)
    Let ``LB = max_i min_j d_ij`` (no plan does better) and ``UB`` the radius of a
    farthest-first heuristic plan (no optimum does worse). Costs are clipped to
    :math:`e_{ij} = \max(d_{ij}, LB)` and pairs with :math:`e_{ij} > UB` dropped. With the
    per-point ladders :math:`z_i^k` as above and the sorted distinct clipped costs of all points,
    :math:`G_1 = LB < G_2 < \dots < G_K`, a column :math:`u_g \in [0,1]` means "radius > G_g":

    .. math::
        \min G_1 + \sum_{g=1}^{K-1} (G_{g+1}-G_g)\, u_g \quad\text{s.t. the ladders,}\quad
        u_{g(i,k)} \ge z_i^k,\quad u_g \ge u_{g+1},\quad \sum_j x_j = p,

    where :math:`g(i,k)` is the global level just below :math:`D_i^{k+1}` (if ``i`` has nothing
    open within :math:`D_i^k`, its cost is at least :math:`D_i^{k+1}`, so the radius exceeds that
    level). This has the LP strength of Elloumi's PCSC formulation but one entry per pair instead
    of one per pair and radius level. ``z`` and ``u`` are integral at an optimum.

Every model sets ``integral_optimum=True``: its continuous columns take 0/1 values at an optimum,
so an integer-only solver (CP-SAT) may treat them as integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.linear import MAXIMIZE, MINIMIZE, LinearModel, stack_rows


@dataclass(frozen=True)
class CostTable:
    """The reachable (demand, site) pairs and their costs, sorted by demand then site.

    Parameters
    ----------
    n_demand, n_sites : int
    demand, site : (k,) int arrays, 0-based.
    cost : (k,) float array, finite and >= 0.
    """

    n_demand: int
    n_sites: int
    demand: np.ndarray
    site: np.ndarray
    cost: np.ndarray

    def __post_init__(self):
        k = self.cost.shape[0]
        if self.demand.shape != (k,) or self.site.shape != (k,):
            raise ValueError("CostTable: demand, site and cost must have the same length")
        if k and (self.demand.min() < 0 or self.demand.max() >= self.n_demand
                  or self.site.min() < 0 or self.site.max() >= self.n_sites):
            raise ValueError("CostTable: a demand or site index is out of range")
        if not np.all(np.isfinite(self.cost)) or np.any(self.cost < 0):
            raise ValueError("CostTable: costs must be finite and non-negative")

    @classmethod
    def from_dense(cls, cost: np.ndarray) -> "CostTable":
        """From an (n, m) array; ``inf`` or ``nan`` marks an unreachable pair."""
        cost = np.asarray(cost, dtype=float)
        i, j = np.nonzero(np.isfinite(cost))
        return cls(cost.shape[0], cost.shape[1], i, j, cost[i, j])

    @classmethod
    def from_pairs(cls, n_demand: int, n_sites: int, demand, site, cost) -> "CostTable":
        """From unsorted pairs; a pair given twice is an error."""
        demand = np.asarray(demand, dtype=np.int64)
        site = np.asarray(site, dtype=np.int64)
        cost = np.asarray(cost, dtype=float)
        order = np.lexsort((site, demand))
        demand, site, cost = demand[order], site[order], cost[order]
        if demand.size > 1:
            dup = (np.diff(demand) == 0) & (np.diff(site) == 0)
            if dup.any():
                first = int(np.flatnonzero(dup)[0])
                raise ValueError(f"CostTable: pair (demand {demand[first]}, site {site[first]}) "
                                 "given twice")
        return cls(int(n_demand), int(n_sites), demand, site, cost)

    @property
    def n_pairs(self) -> int:
        return int(self.cost.shape[0])

    def coverage(self, radius: float) -> sp.csr_matrix:
        """The (n_demand, n_sites) 0/1 matrix of pairs with ``cost <= radius``."""
        keep = self.cost <= radius
        return sp.csr_matrix(
            (np.ones(int(keep.sum())), (self.demand[keep], self.site[keep])),
            shape=(self.n_demand, self.n_sites),
        )

    def nearest(self, open_sites: np.ndarray) -> np.ndarray:
        """Each demand point's cost to its nearest open site (``inf`` if none is reachable)."""
        is_open = np.zeros(self.n_sites, dtype=bool)
        is_open[np.asarray(open_sites)] = True
        vals = np.where(is_open[self.site], self.cost, np.inf)
        out = np.full(self.n_demand, np.inf)
        counts = np.bincount(self.demand, minlength=self.n_demand)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        has = counts > 0
        if vals.size:
            out[has] = np.minimum.reduceat(vals, starts[has])
        return out

    def nearest_cost_any(self) -> np.ndarray:
        """Each demand point's cost to its nearest site, open or not (``inf`` if none)."""
        return self.nearest(np.arange(self.n_sites))


# ---- MCLP, budgeted MCLP, LSCP ----------------------------------------------------------------

def _merge_demand(coverage: sp.csr_matrix, weights: np.ndarray):
    """Distinct non-empty coverage rows and their summed weights."""
    C = sp.csr_matrix(coverage, dtype=float)
    C.sum_duplicates()
    C.data[:] = 1.0
    keep = np.flatnonzero(np.diff(C.indptr) > 0)
    C = C[keep]
    w = np.asarray(weights, dtype=float)[keep]
    if C.shape[0] == 0:
        return C, w
    class_of_row, representative = identical_row_classes(C)
    w_class = np.bincount(class_of_row, weights=w, minlength=representative.size)
    return C[representative], w_class


def build_mclp(coverage: sp.spmatrix, weights: np.ndarray, p: int | None = None, *,
               site_costs: np.ndarray | None = None, budget: float | None = None,
               preselected: np.ndarray | None = None) -> LinearModel:
    """Maximal covering: exactly ``p`` sites, or sites within ``budget`` at ``site_costs``.

    Parameters
    ----------
    coverage : (n, m) sparse 0/1, ``a_ij = [d_ij <= R]``.
    weights : (n,) non-negative demand weights.
    p : number of sites to open; give either ``p`` or ``budget`` with ``site_costs``.
    preselected : site indices that must open (existing facilities).

    Returns
    -------
    LinearModel with column blocks ``open`` (m) and ``covered`` (one per merged demand class).
    """
    n, m = coverage.shape
    if (p is None) == (budget is None):
        raise ValueError("build_mclp: give exactly one of p and budget")
    weights = np.asarray(weights, dtype=float)
    positive = sp.diags((weights > 0).astype(float)) @ sp.csr_matrix(coverage)
    C, w = _merge_demand(positive, weights)
    k = C.shape[0]
    pick = sp.csr_matrix(np.ones((1, m))) if p is not None else sp.csr_matrix(
        np.asarray(site_costs, dtype=float).reshape(1, m))
    A, lo, hi, row_blocks = stack_rows([
        ("cover", sp.hstack([-C, sp.identity(k, format="csr")], format="csr"), -np.inf, 0.0),
        ("count" if p is not None else "budget",
         sp.hstack([pick, sp.csr_matrix((1, k))], format="csr"),
         float(p) if p is not None else -np.inf, float(p) if p is not None else float(budget)),
    ])
    col_lower = np.zeros(m + k)
    if preselected is not None and len(preselected):
        col_lower[np.asarray(preselected, dtype=np.int64)] = 1.0
    return LinearModel(
        sense=MAXIMIZE, c=np.concatenate([np.zeros(m), w]), A=A, row_lower=lo, row_upper=hi,
        col_lower=col_lower, col_upper=np.ones(m + k),
        integrality=np.concatenate([np.ones(m, dtype=bool), np.zeros(k, dtype=bool)]),
        integral_optimum=True,
        col_blocks={"open": slice(0, m), "covered": slice(m, m + k)}, row_blocks=row_blocks,
    )


def build_lscp(coverage: sp.spmatrix) -> LinearModel:
    """Location set covering: the fewest sites such that every demand point is covered.

    Every row of ``coverage`` must have an entry (check :func:`uncoverable` first).
    """
    n, m = coverage.shape
    if uncoverable(coverage).size:
        raise ValueError("build_lscp: some demand points are covered by no site")
    C = sp.csr_matrix(coverage, dtype=float)
    C, _ = _merge_demand(C, np.ones(n))
    A, lo, hi, row_blocks = stack_rows([("cover", C, 1.0, np.inf)]) if C.shape[0] else (
        sp.csr_matrix((0, m)), np.zeros(0), np.zeros(0), {"cover": slice(0, 0)})
    return LinearModel(
        sense=MINIMIZE, c=np.ones(m), A=A, row_lower=lo, row_upper=hi,
        col_lower=np.zeros(m), col_upper=np.ones(m), integrality=np.ones(m, dtype=bool),
        integral_optimum=True, col_blocks={"open": slice(0, m)}, row_blocks=row_blocks,
    )


def uncoverable(coverage: sp.spmatrix) -> np.ndarray:
    """Indices of demand points that no site covers."""
    C = sp.csr_matrix(coverage)
    C.eliminate_zeros()
    return np.flatnonzero(np.diff(C.indptr) == 0)


# ---- p-median and p-center: distinct-distance ladders -------------------------------------------

@dataclass(frozen=True)
class _Ladders:
    """Pairs sorted by (demand, cost), grouped into levels of equal cost per demand point."""

    demand: np.ndarray  # per pair
    site: np.ndarray  # per pair
    level_of_pair: np.ndarray  # per pair
    level_demand: np.ndarray  # per level
    level_cost: np.ndarray  # per level
    first: np.ndarray  # per level: the point's nearest level
    last: np.ndarray  # per level: the point's farthest level (no z column)

    @property
    def n_levels(self) -> int:
        return int(self.level_cost.shape[0])


def _ladders(demand, site, cost) -> _Ladders:
    order = np.lexsort((site, cost, demand))
    demand, site, cost = demand[order], site[order], cost[order]
    k = demand.size
    new_point = np.ones(k, dtype=bool)
    new_point[1:] = demand[1:] != demand[:-1]
    new_level = new_point.copy()
    new_level[1:] |= cost[1:] != cost[:-1]
    level_of_pair = np.cumsum(new_level) - 1
    starts = np.flatnonzero(new_level)
    first = new_point[starts]
    last = np.ones(starts.size, dtype=bool)
    last[:-1] = first[1:]
    return _Ladders(demand, site, level_of_pair, demand[starts], cost[starts], first, last)


def _keep_nearest(costs: CostTable, keep_demand: np.ndarray, p: int):
    """Pairs of the kept demand points, within each point's ``m - p + 1`` nearest sites.

    At most ``m - p`` sites are closed, so the nearest open site of a point is always among its
    ``m - p + 1`` nearest; pairs farther than that can never be the assignment.
    """
    mask = keep_demand[costs.demand]
    demand, site, cost = costs.demand[mask], costs.site[mask], costs.cost[mask]
    order = np.lexsort((cost, demand))
    demand, site, cost = demand[order], site[order], cost[order]
    counts = np.bincount(demand, minlength=costs.n_demand)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    depth = costs.n_sites - p  # 0-based rank of the (m - p + 1)-th nearest
    threshold = np.full(costs.n_demand, np.inf)
    deep = counts > depth
    threshold[deep] = cost[starts[deep] + depth]
    keep = cost <= threshold[demand]
    return demand[keep], site[keep], cost[keep]


def _ladder_matrix(lad: _Ladders, m: int, z_offset: int, n_cols: int):
    """Rows of the ladders: one per level, columns x (0..m-1) and z (z_offset + ...)."""
    has_z = ~lad.last
    z_index = np.cumsum(has_z) - 1
    L = lad.n_levels
    levels = np.arange(L)
    rows = [lad.level_of_pair]
    cols = [lad.site]
    vals = [np.ones(lad.site.size)]
    own = np.flatnonzero(has_z)  # +z_L in row L
    rows.append(own)
    cols.append(z_offset + z_index[own])
    vals.append(np.ones(own.size))
    prev = levels[~lad.first]  # -z_{L-1} in row L
    rows.append(prev)
    cols.append(z_offset + z_index[prev - 1])
    vals.append(-np.ones(prev.size))
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(L, n_cols))
    lower = np.where(lad.first, 1.0, 0.0)
    return A, lower, z_index, has_z


def build_pmedian(costs: CostTable, weights: np.ndarray, p: int) -> LinearModel:
    """p-median in Elloumi's distinct-distance formulation (see the module docstring).

    Every demand point of positive weight needs a reachable site (check
    :meth:`CostTable.nearest_cost_any` first). Column blocks: ``open`` (m), ``beyond`` (z).
    """
    n, m = costs.n_demand, costs.n_sites
    if not 1 <= p <= m:
        raise ValueError(f"build_pmedian: p={p} outside 1..{m}")
    weights = np.asarray(weights, dtype=float)
    demand, site, cost = _keep_nearest(costs, weights > 0, p)
    lad = _ladders(demand, site, cost)
    n_z = int((~lad.last).sum())
    n_cols = m + n_z
    A_lad, lad_lower, z_index, has_z = _ladder_matrix(lad, m, m, n_cols)
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))),
                          shape=(1, n_cols))
    A, lo, hi, row_blocks = stack_rows([("ladder", A_lad, lad_lower, np.inf),
                                        ("count", count, float(p), float(p))])
    zl = np.flatnonzero(has_z)
    c = np.zeros(n_cols)
    c[m:] = weights[lad.level_demand[zl]] * (lad.level_cost[zl + 1] - lad.level_cost[zl])
    w_level = weights[lad.level_demand]
    offset = float((w_level * lad.level_cost)[lad.first].sum())
    # z needs no upper bound (minimisation keeps it at most 1); HiGHS presolve probed the
    # explicit bound for tens of seconds on pmed6-8 and solved 3-10x slower with it.
    return LinearModel(
        sense=MINIMIZE, c=c, A=A, row_lower=lo, row_upper=hi,
        col_lower=np.zeros(n_cols), col_upper=np.concatenate([np.ones(m), np.full(n_z, np.inf)]),
        integrality=np.concatenate([np.ones(m, dtype=bool), np.zeros(n_z, dtype=bool)]),
        offset=offset, integral_optimum=True,
        col_blocks={"open": slice(0, m), "beyond": slice(m, n_cols)}, row_blocks=row_blocks,
    )


def pmedian_interchange(costs: CostTable, weights: np.ndarray, p: int,
                        max_cells: int = 4_000_000, max_swaps: int = 1000) -> np.ndarray | None:
    """A p-median heuristic plan: greedy adding, then best-improvement swaps (Teitz-Bart).

    Used only as a warm start: the MIP still proves optimality. Each swap step scores every
    (close s, open j) pair at once from the nearest and second-nearest open costs (Whitaker's
    fast interchange), so a step is a few (n, m) array operations. Returns ``None`` when the
    dense (n, m) cost matrix would exceed ``max_cells`` or ``p`` sites cannot serve every
    weighted point.
    """
    n, m = costs.n_demand, costs.n_sites
    if n * m > max_cells or not 1 <= p <= m:
        return None
    w = np.asarray(weights, dtype=float)
    pos = w > 0
    w = w[pos]
    finite_max = float(costs.cost.max(initial=0.0))
    # Unreachable pairs get a cost no plan that serves everyone can pay, instead of inf
    # (inf * 0 and inf - inf would poison the sums).
    big = (finite_max + 1.0) * (float(w.sum()) + 1.0) * 4.0
    D = np.full((n, m), big)
    D[costs.demand, costs.site] = costs.cost
    D = D[pos]
    is_open = np.zeros(m, dtype=bool)
    best1 = np.full(D.shape[0], 2.0 * big)
    for _ in range(p):  # greedy adding
        total = w @ np.minimum(D, best1[:, None])
        total[is_open] = np.inf
        j = int(np.argmin(total))
        is_open[j] = True
        best1 = np.minimum(best1, D[:, j])
    rows = np.arange(D.shape[0])
    current = float(w @ best1)
    for _ in range(max_swaps if p < m else 0):
        opened = np.flatnonzero(is_open)
        Do = D[:, opened]
        order = np.argsort(Do, axis=1, kind="stable")
        near = opened[order[:, 0]]
        best1 = Do[rows, order[:, 0]]
        best2 = Do[rows, order[:, 1]] if opened.size > 1 else np.full(D.shape[0], 2.0 * big)
        keep = np.minimum(D, best1[:, None])  # (n, m): cost after opening j, nothing closed
        loss = w[:, None] * (np.minimum(D, best2[:, None]) - keep)  # extra if near_i closes
        # total[s, j] = sum_i w_i keep_ij + sum_{i: near_i = s} loss_ij
        owner = sp.csr_matrix((np.ones(D.shape[0]), (near, rows)), shape=(m, D.shape[0]))
        total = (w @ keep)[None, :] + np.asarray(owner[opened] @ loss)
        total[:, is_open] = np.inf
        s_idx, j = np.unravel_index(int(np.argmin(total)), total.shape)
        if total[s_idx, j] >= current - 1e-9 * max(1.0, abs(current)):
            break
        is_open[opened[s_idx]] = False
        is_open[j] = True
        current = float(total[s_idx, j])
    if current >= big:
        return None
    return np.flatnonzero(is_open)


def pmedian_start(costs: CostTable, weights: np.ndarray, p: int, sites: np.ndarray) -> np.ndarray:
    """The full column vector of :func:`build_pmedian`'s model for the plan ``sites``.

    ``z`` of a level is 1 when the point's nearest open site is farther than the level's cost.
    Rebuilds the ladders in the same order as :func:`build_pmedian`.
    """
    m = costs.n_sites
    weights = np.asarray(weights, dtype=float)
    demand, site, cost = _keep_nearest(costs, weights > 0, p)
    lad = _ladders(demand, site, cost)
    has_z = ~lad.last
    near = costs.nearest(sites)
    x = np.zeros(m)
    x[np.asarray(sites, dtype=np.int64)] = 1.0
    z = (near[lad.level_demand[has_z]] > lad.level_cost[has_z]).astype(float)
    return np.concatenate([x, z])


def farthest_first(costs: CostTable, p: int) -> np.ndarray:
    """A p-center heuristic plan: repeatedly open the free site nearest to the worst-served point.

    Returns up to ``p`` site indices; fewer when the worst-served point has no free site left,
    which cannot make the plan worse, so its radius is still an upper bound for ``p`` sites.
    """
    # Costs are shifted by 1 so that zero costs stay stored entries of the sparse matrices.
    by_site = sp.csr_matrix((costs.cost + 1.0, (costs.site, costs.demand)),
                            shape=(costs.n_sites, costs.n_demand))
    by_demand = sp.csr_matrix((costs.cost + 1.0, (costs.demand, costs.site)),
                              shape=(costs.n_demand, costs.n_sites))
    near = np.full(costs.n_demand, np.inf)
    is_open = np.zeros(costs.n_sites, dtype=bool)
    nearest_any = costs.nearest_cost_any()
    worst = int(np.argmax(np.where(np.isfinite(nearest_any), nearest_any, -1.0)))
    for _ in range(p):
        s, e = by_demand.indptr[worst], by_demand.indptr[worst + 1]
        cand, cand_cost = by_demand.indices[s:e], by_demand.data[s:e]
        free = ~is_open[cand]
        if not free.any():
            break
        j = int(cand[free][np.argmin(cand_cost[free])])
        is_open[j] = True
        s, e = by_site.indptr[j], by_site.indptr[j + 1]
        idx = by_site.indices[s:e]
        near[idx] = np.minimum(near[idx], by_site.data[s:e] - 1.0)
        worst = int(np.argmax(near))
    return np.flatnonzero(is_open)


def build_pcenter(costs: CostTable, p: int, upper_bound: float | None = None) -> LinearModel:
    """p-center with per-point ladders and a global radius ladder (see the module docstring).

    Every demand point needs a reachable site. ``upper_bound`` is the radius of any feasible
    plan; by default a farthest-first plan is computed. Column blocks: ``open`` (m), ``beyond``
    (z) and ``radius_above`` (u).
    """
    n, m = costs.n_demand, costs.n_sites
    if not 1 <= p <= m:
        raise ValueError(f"build_pcenter: p={p} outside 1..{m}")
    lb = float(costs.nearest_cost_any().max(initial=0.0))
    if upper_bound is None:
        plan = farthest_first(costs, p)
        upper_bound = float(costs.nearest(plan).max(initial=0.0)) if plan.size else np.inf
    demand, site, cost = _keep_nearest(costs, np.ones(n, dtype=bool), p)
    cost = np.maximum(cost, lb)
    keep = cost <= upper_bound
    lad = _ladders(demand[keep], site[keep], cost[keep])
    G = np.unique(lad.level_cost)
    n_z = int((~lad.last).sum())
    n_u = max(G.size - 1, 0)
    n_cols = m + n_z + n_u
    u0 = m + n_z
    A_lad, lad_lower, z_index, has_z = _ladder_matrix(lad, m, m, n_cols)
    # u_{g(L)} - z_L >= 0, g(L) = the global level just below the point's next level.
    zl = np.flatnonzero(has_z)
    g = np.searchsorted(G, lad.level_cost[zl + 1]) - 1
    r = np.arange(zl.size)
    link = sp.csr_matrix(
        (np.concatenate([np.ones(zl.size), -np.ones(zl.size)]),
         (np.concatenate([r, r]), np.concatenate([u0 + g, m + z_index[zl]]))),
        shape=(zl.size, n_cols))
    gm = np.arange(max(n_u - 1, 0))
    mono = sp.csr_matrix(
        (np.concatenate([np.ones(gm.size), -np.ones(gm.size)]),
         (np.concatenate([gm, gm]), np.concatenate([u0 + gm, u0 + gm + 1]))),
        shape=(gm.size, n_cols))
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))),
                          shape=(1, n_cols))
    A, lo, hi, row_blocks = stack_rows([
        ("ladder", A_lad, lad_lower, np.inf), ("link", link, 0.0, np.inf),
        ("monotone", mono, 0.0, np.inf), ("count", count, float(p), float(p)),
    ])
    c = np.zeros(n_cols)
    c[u0:] = np.diff(G)
    return LinearModel(
        sense=MINIMIZE, c=c, A=A, row_lower=lo, row_upper=hi,
        col_lower=np.zeros(n_cols), col_upper=np.ones(n_cols),
        integrality=np.concatenate([np.ones(m, dtype=bool), np.zeros(n_z + n_u, dtype=bool)]),
        offset=float(G[0]) if G.size else 0.0, integral_optimum=True,
        col_blocks={"open": slice(0, m), "beyond": slice(m, u0), "radius_above": slice(u0, n_cols)},
        row_blocks=row_blocks,
    )


# ---- decoding and independent evaluation --------------------------------------------------------

def open_sites(model: LinearModel, values: np.ndarray) -> np.ndarray:
    """Indices of the sites a solution opens."""
    return np.flatnonzero(np.asarray(values)[model.col_blocks["open"]] > 0.5)


def covered_mask(coverage: sp.spmatrix, sites: np.ndarray) -> np.ndarray:
    """Which demand points an open set covers."""
    x = np.zeros(coverage.shape[1])
    x[np.asarray(sites, dtype=np.int64)] = 1.0
    return np.asarray(sp.csr_matrix(coverage) @ x).reshape(-1) > 0.5


def pmedian_cost(costs: CostTable, weights: np.ndarray, sites: np.ndarray) -> float:
    """Sum of weight x cost to the nearest open site (``inf`` if a weighted point is cut off)."""
    near = costs.nearest(sites)
    w = np.asarray(weights, dtype=float)
    pos = w > 0
    return float((w[pos] * near[pos]).sum())


def pcenter_cost(costs: CostTable, sites: np.ndarray) -> float:
    """The largest cost from a demand point to its nearest open site."""
    return float(costs.nearest(sites).max(initial=0.0))
