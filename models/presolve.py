r"""Presolve for the aggregated budgeted MCLP: fewer classes, fewer sites, some sites fixed.

The problem (classes :math:`k` with weight :math:`w_k`, sites :math:`j` with cost :math:`c_j`,
coverage :math:`a_{kj} \in \{0,1\}`, budget :math:`B`, forced sites :math:`F`)

.. math::
    \max \sum_k w_k \min\big(1, \textstyle\sum_j a_{kj} x_j\big) \quad\text{s.t.}\quad
    \sum_j c_j x_j \le B,\; x_j = 1\ (j \in F),\; x \in \{0,1\}^m

is monotone in :math:`x` (opening a site never lowers the objective). Each rule below keeps the
optimal value, and maps every optimal plan of the reduced problem to an optimal plan of the
original one (add the sites fixed open):

1. **Empty and weightless classes.** A class no site covers, or of weight 0, contributes a
   constant; it leaves the model.
2. **Zero-cost sites** open: adding one to any plan keeps it feasible and never lowers coverage,
   so some optimal plan contains them all. **Unaffordable sites** (:math:`c_j > B` left) close.
   **Everything fits**: when the remaining sites cost at most the remaining budget, opening all
   is optimal (monotonicity) and the problem is solved.
3. **Dominance.** Site :math:`j` is dominated by :math:`k` when
   :math:`\mathrm{cov}(j) \subseteq \mathrm{cov}(k)`, :math:`c_k \le c_j`, and
   :math:`c_k < c_j` or :math:`\mathrm{cov}(j) \subsetneq \mathrm{cov}(k)` or (equal sets, equal
   cost) :math:`k < j`. This relation is a strict partial order (transitive; a cycle would need
   equal sets and costs and strictly falling indices), so every dominated site has an undominated
   dominator :math:`k^*`. In an optimal plan :math:`S \ni j`: if :math:`k^* \notin S`,
   :math:`S - j + k^*` costs no more and covers a superset; if :math:`k^* \in S`,
   :math:`S - j` covers the same for less. Either way the plan stays optimal with one dominated
   site fewer, so some optimal plan uses no dominated site: they all close at once. A site
   covering no remaining class is dominated by the empty plan and closes too.
4. **Reduced-cost fixing** (optional, needs the LP duals). For any duals :math:`\pi \ge 0` of the
   coverage rows :math:`y_k - \sum_j a_{kj}x_j \le 0` and :math:`\lambda \ge 0` of the budget row,
   weak duality gives, for every :math:`x, y \in [0,1]`,

   .. math::
       \text{obj} \le L = \lambda B + \sum_k \max(0, w_k - \pi_k) + \sum_j \max(0, r_j),\qquad
       r_j = \sum_k a_{kj}\pi_k - \lambda c_j,

   and a plan with :math:`x_j` at the other end of its box is worth at most
   :math:`L - |r_j|`. When :math:`L - |r_j|` is below the value :math:`G` of a known plan (the
   greedy below), every optimal plan has :math:`x_j = 1` if :math:`r_j > 0` and :math:`x_j = 0`
   if :math:`r_j < 0`. :math:`L` is recomputed here from the duals (clipped to
   :math:`\ge 0`), so an inexact LP solve can only weaken the test, never make it wrong; a
   relative margin of :math:`10^{-9}` absorbs rounding in the sums.

After fixing, classes covered by a site fixed open leave the model into the constant, empty
columns and rows go, and identical rows are merged again; the rules repeat until nothing
changes. Sizes before and after each stage are reported in :attr:`PresolveResult.stats`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes

# Relative margin for the reduced-cost test: float sums over thousands of terms.
FIX_MARGIN = 1e-9


@dataclass(frozen=True)
class PresolveResult:
    """The reduced problem and how to map its plans back.

    Parameters
    ----------
    rows : (c', m') CSR 0/1, remaining classes over remaining sites (no empty or equal rows).
    weight : (c',) class weights.
    sites : (m',) original index of each remaining site column.
    cost : (m',) their costs.
    budget : budget left for the remaining sites.
    fixed_open : original indices of the sites open in every plan returned.
    offset : weight covered by ``fixed_open`` (add it to the reduced objective).
    incumbent : original site indices of the best plan known (greedy), ``incumbent_value`` its
        weight; a warm start and the reference for reduced-cost fixing.
    stats : sizes before and after, and how many sites each rule fixed or removed.
    """

    rows: sp.csr_matrix
    weight: np.ndarray
    sites: np.ndarray
    cost: np.ndarray
    budget: float
    fixed_open: np.ndarray
    offset: float
    incumbent: np.ndarray
    incumbent_value: float
    stats: dict = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        return int(self.sites.size)

    @property
    def n_classes(self) -> int:
        return int(self.weight.size)


def _binary(rows) -> sp.csr_matrix:
    R = sp.csr_matrix(rows, dtype=float, copy=True)
    R.sum_duplicates()
    R.eliminate_zeros()
    R.data[:] = 1.0
    R.sort_indices()
    return R


def covered_weight(rows: sp.csr_matrix, weight: np.ndarray, sites: np.ndarray) -> float:
    """Total weight of the classes that an open set of sites covers."""
    x = np.zeros(rows.shape[1])
    x[np.asarray(sites, dtype=np.int64)] = 1.0
    return float(weight[np.asarray(rows @ x).reshape(-1) > 0.5].sum())


def greedy_budgeted(rows: sp.csr_matrix, weight: np.ndarray, cost: np.ndarray, budget: float,
                    forced: np.ndarray | None = None) -> np.ndarray:
    """A budgeted max-coverage plan: forced sites, then best gain per cost while it fits.

    The better of that plan and the best single affordable site (with the forced ones) is
    returned, the classic guard for budgeted coverage (Khuller, Moss and Naor 1999). One sparse
    product per pick; no optimality claim.
    """
    m = rows.shape[1]
    by_site = sp.csc_matrix(rows)
    cost = np.asarray(cost, dtype=float)
    chosen = np.zeros(m, dtype=bool)
    if forced is not None and len(forced):
        chosen[np.asarray(forced, dtype=np.int64)] = True
    base = chosen.copy()
    uncovered_w = np.where(np.asarray(rows @ chosen.astype(float)).reshape(-1) > 0.5, 0.0, weight)
    base_w = uncovered_w.copy()
    spent = float(cost[chosen].sum())
    tol = 1e-9 * max(1.0, abs(budget))
    while True:
        gain = np.asarray(by_site.T @ uncovered_w).reshape(-1)
        ok = ~chosen & (spent + cost <= budget + tol) & (gain > 0)
        if not ok.any():
            break
        ratio = np.where(cost > 0, gain / np.maximum(cost, 1e-300), np.inf)
        j = int(np.flatnonzero(ok)[np.argmax(ratio[ok])])
        chosen[j] = True
        spent += float(cost[j])
        s, e = by_site.indptr[j], by_site.indptr[j + 1]
        uncovered_w[by_site.indices[s:e]] = 0.0
    plan_w = float(weight.sum() - uncovered_w.sum())
    # the best single affordable site on top of the forced ones
    gain = np.asarray(by_site.T @ base_w).reshape(-1)
    spent0 = float(cost[base].sum())
    ok = ~base & (spent0 + cost <= budget + tol)
    if ok.any():
        j = int(np.flatnonzero(ok)[np.argmax(gain[ok])])
        single_w = float(weight.sum() - base_w.sum()) + float(gain[j])
        if single_w > plan_w:
            chosen = base.copy()
            chosen[j] = True
    return np.flatnonzero(chosen)


def dominated_sites(rows: sp.csr_matrix, cost: np.ndarray, keep: np.ndarray | None = None
                    ) -> np.ndarray:
    """(m,) bool: sites dominated in the sense of rule 3 (``keep`` sites are never dominated).

    Set inclusion comes from the overlap counts ``rows.T @ rows``: ``cov(j)`` is inside
    ``cov(k)`` exactly when their overlap equals ``|cov(j)|``. Sites covering nothing count as
    dominated.
    """
    R = _binary(rows)
    m = R.shape[1]
    size = np.asarray(R.sum(axis=0)).reshape(-1)
    overlap = (sp.csc_matrix(R).T @ R).tocoo()
    j, k, shared = overlap.row, overlap.col, overlap.data
    cost = np.asarray(cost, dtype=float)
    inside = (j != k) & (shared == size[j])
    strictly = size[k] > size[j]
    beats = inside & ((cost[k] < cost[j]) | ((cost[k] == cost[j]) & (strictly | (k < j))))
    out = np.zeros(m, dtype=bool)
    out[j[beats]] = True
    out |= size == 0
    if keep is not None:
        out[np.asarray(keep, dtype=np.int64)] = False
    return out


LpDuals = Callable[[sp.csr_matrix, np.ndarray, np.ndarray, float], tuple]


def lagrangian_bound(rows: sp.csr_matrix, weight: np.ndarray, cost: np.ndarray, budget: float,
                     pi: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """(L, r) of rule 4 for duals ``pi`` (per class) and ``lam`` (budget), clipped to >= 0."""
    pi = np.maximum(np.asarray(pi, dtype=float), 0.0)
    lam = max(float(lam), 0.0)
    r = np.asarray(sp.csc_matrix(rows).T @ pi).reshape(-1) - lam * np.asarray(cost, dtype=float)
    bound = lam * budget + float(np.maximum(weight - pi, 0.0).sum()) + float(np.maximum(r, 0).sum())
    return bound, r


def presolve_budgeted_mclp(rows: sp.spmatrix, weight: np.ndarray, cost: np.ndarray,
                           budget: float, *, forced=(), lp_duals: LpDuals | None = None,
                           max_rounds: int = 5) -> PresolveResult:
    """Apply the rules of the module docstring until nothing changes.

    Parameters
    ----------
    rows : (c, m) sparse 0/1 class coverage (aggregated demand), any duplicates allowed.
    weight : (c,) class weights >= 0.
    cost : (m,) site costs >= 0; budget : float.
    forced : site indices that must open (pre-selected); their cost must fit the budget.
    lp_duals : optional callable ``(rows, weight, cost, budget) -> (pi, lam)`` solving the LP
        relaxation of the reduced problem; enables reduced-cost fixing (rule 4).
    """
    R = _binary(rows)
    weight = np.asarray(weight, dtype=float)
    cost = np.asarray(cost, dtype=float)
    c0, m0 = R.shape
    stats = {"sites_before": int(m0), "classes_before": int(c0), "empty_classes": 0,
             "zero_cost_open": 0, "unaffordable": 0, "dominated": 0, "all_fit": 0,
             "lp_fixed_open": 0, "lp_fixed_closed": 0, "lp_bound": None}
    sites = np.arange(m0)
    fixed = np.zeros(m0, dtype=bool)
    fixed[np.asarray(forced, dtype=np.int64)] = True
    if fixed.any():
        stats["forced_open"] = int(fixed.sum())
    budget_left = float(budget)
    offset = 0.0
    tol = 1e-9 * max(1.0, abs(budget))

    def close(mask_open, mask_drop):
        """Fix ``mask_open`` columns open, drop them and ``mask_drop`` columns; shrink rows."""
        nonlocal R, weight, cost, sites, budget_left, offset
        if mask_open.any():
            fixed[sites[mask_open]] = True
            budget_left -= float(cost[mask_open].sum())
            hit = np.asarray(R[:, np.flatnonzero(mask_open)].sum(axis=1)).reshape(-1) > 0
            offset += float(weight[hit].sum())
            R, weight = R[~hit], weight[~hit]
        stay = ~(mask_open | mask_drop)
        R, cost, sites = R[:, np.flatnonzero(stay)], cost[stay], sites[stay]
        _tidy()

    def _tidy():
        nonlocal R, weight
        R = sp.csr_matrix(R)
        keep = (np.diff(R.indptr) > 0) & (weight > 0)
        stats["empty_classes"] += int((~keep).sum())
        R, weight = R[keep], weight[keep]
        if R.shape[0]:
            cls, rep = identical_row_classes(R)
            weight = np.bincount(cls, weights=weight, minlength=rep.size)
            R = R[rep]
        R.sort_indices()

    # Forced sites first: their classes are covered whatever else opens.
    if fixed.any():
        forced_cols = fixed[sites]
        fixed[:] = False
        close(forced_cols, np.zeros(sites.size, dtype=bool))
    else:
        _tidy()
    stats["empty_classes_initial"] = stats["empty_classes"]

    def cheap_rules() -> bool:
        changed = False
        for _ in range(max_rounds):
            zero = cost <= 0
            if zero.any():
                stats["zero_cost_open"] += int(zero.sum())
                close(zero, np.zeros(sites.size, dtype=bool))
                changed = True
                continue
            too_dear = cost > budget_left + tol
            if too_dear.any():
                stats["unaffordable"] += int(too_dear.sum())
                close(np.zeros(sites.size, dtype=bool), too_dear)
                changed = True
                continue
            if sites.size and cost.sum() <= budget_left + tol:
                stats["all_fit"] += int(sites.size)
                close(np.ones(sites.size, dtype=bool), np.zeros(sites.size, dtype=bool))
                changed = True
                continue
            dom = dominated_sites(R, cost) if sites.size else np.zeros(0, dtype=bool)
            if dom.any():
                stats["dominated"] += int(dom.sum())
                close(np.zeros(sites.size, dtype=bool), dom)
                changed = True
                continue
            break
        return changed

    cheap_rules()
    stats["sites_after_cheap"] = int(sites.size)
    stats["classes_after_cheap"] = int(weight.size)

    incumbent_local = greedy_budgeted(R, weight, cost, budget_left) if sites.size else \
        np.zeros(0, dtype=np.int64)
    incumbent = np.concatenate([np.flatnonzero(fixed), sites[incumbent_local]])
    incumbent_value = offset + covered_weight(R, weight, incumbent_local)

    if lp_duals is not None and sites.size:
        for _ in range(2):
            pi, lam = lp_duals(R, weight, cost, budget_left)
            bound, r = lagrangian_bound(R, weight, cost, budget_left, pi, lam)
            if stats["lp_bound"] is None:
                stats["lp_bound"] = offset + bound
            g = incumbent_value - offset
            margin = FIX_MARGIN * max(1.0, abs(bound))
            decided = bound - np.abs(r) < g - margin
            to_open, to_close = decided & (r > 0), decided & (r < 0)
            if not (to_open.any() or to_close.any()):
                break
            stats["lp_fixed_open"] += int(to_open.sum())
            stats["lp_fixed_closed"] += int(to_close.sum())
            close(to_open, to_close)
            cheap_rules()
            if not sites.size:
                break

    stats["sites_after"] = int(sites.size)
    stats["classes_after"] = int(weight.size)
    stats["fixed_open"] = int(fixed.sum())
    return PresolveResult(R, weight, sites, cost, budget_left, np.flatnonzero(fixed), offset,
                          np.unique(incumbent), float(incumbent_value), stats)
