r"""Exact reductions of the coverage model (:mod:`models.coverage`) before a solver sees it.

Each reduction keeps at least one optimal plan of the original model, so the reduced optimum is
the original optimum; :func:`optimizer.core.solution.evaluate` re-checks every plan against the
unreduced problem anyway. Notation as in :mod:`models.coverage`: facility columns :math:`x_c`
(a site :math:`j(c)` and type :math:`k(c)`), demand classes :math:`y_r` with weight :math:`w_r`,
cover sets :math:`N(c) = \{r : a_{rc} = 1\}`, costs :math:`c_c`, budget :math:`B`.

1. **Unaffordable columns.** A column with :math:`c_c > B - C_{must}` (:math:`C_{must}` the cost
   of the must_open columns, which every plan pays) is in no feasible plan: drop it.
2. **Dominated columns.** Column :math:`c` is dominated by :math:`d` when
   :math:`c_d \le c_c` (ties broken by column order), :math:`N(c) \subseteq N(d)`, :math:`c` is
   not must_open, :math:`d` is *clean* (the only allowed column on its site) or on :math:`c`'s own
   site, and :math:`d` has :math:`c`'s type, or any type when :math:`c`'s type has no min_open
   count (:math:`m_{k(c)} = 0`; issue 14: a dominator of any type). Let :math:`D(c)` be the
   *undominated* columns dominating :math:`c`. Drop :math:`c` when
   :math:`|D(c)| \ge \max(1, m_{k(c)})` (:math:`m_k` the min_open count of its type).
   Proof: take an optimal plan using :math:`c`. If some :math:`d \in D(c)` is closed, its site is
   free (it is clean, or it is :math:`c`'s site, which :math:`c` frees), so swapping
   :math:`c \to d` costs no more, covers a superset, and lowers no type count that min_open
   holds (a type change only when :math:`m_{k(c)} = 0`). Otherwise every :math:`d \in D(c)` is
   open: closing :math:`c` covers the same (:math:`N(c) \subseteq N(d)`), costs less and leaves
   at least :math:`|D(c)| \ge m_k` columns of type :math:`k` (all of :math:`D(c)` has type
   :math:`k` when :math:`m_k > 0`). Each step removes one dropped column from the plan and adds
   none, so an optimal plan without dropped columns exists. The relation is transitive (a clean
   column has no site-mate, so a chain of same-site steps stays on one site; a type change needs
   :math:`m = 0` at the dominated end), so every dominated column has an undominated dominator.
3. **Classes no kept column reaches** have :math:`y_r = 0`: drop the row and the column.
4. **Classes a must_open column reaches** have :math:`y_r = 1` in every plan: drop the row and
   the column and add :math:`w_r` to the objective constant.
5. **one_per_site rows** left with fewer than two columns are implied by :math:`x \le 1`: drop.
6. **Classes one kept column reaches** (:math:`y_r \le x_c` only): since :math:`w_r > 0`,
   :math:`y_r = x_c` at an optimum, so the row and :math:`y_r` go and :math:`w_r` joins the
   objective coefficient of :math:`x_c`.
7. **Classes with identical rows over the kept columns** merge into one, weights summed (the
   argument of :mod:`models.aggregate`, applied again because dropping columns makes rows equal).

Reductions 1 and 3-6 are also what a MIP presolve finds, but HiGHS probes every binary of the
full model before it finds them (seconds on a 1,700-column district, see benchmarks/README.md);
doing them here with sparse slicing costs milliseconds. The model itself is built once: the
reduced model is assembled from slices of the already-built :class:`~models.linear.LinearModel`
and its :class:`~models.coverage.CoverageIndex`, so a budget sweep never recomputes coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.coverage import CoverageIndex
from lifecircle.models.linear import LinearModel, stack_rows

# Candidate dominators are checked in batches of this many (column, candidate) pairs.
_PAIR_BATCH = 2_000_000


def dominated_columns(index: CoverageIndex, cost: np.ndarray, must_cols: np.ndarray,
                      min_open: np.ndarray, any_type: bool = True) -> np.ndarray:
    """(n_x,) bool: facility columns that reduction 2 of the module docstring drops.

    ``any_type=False`` keeps the older, narrower rule (same type, clean dominator only), for
    comparison in tests and benchmarks.

    Budget-independent, so a sweep computes it once. Candidates for dominating ``c`` must cover
    the class of :math:`N(c)` that the fewest columns reach, which keeps the pair count small;
    every candidate pair is then checked class by class with sorted-key lookups (no dense matrix).
    """
    n_x = index.n_x
    gone = np.zeros(n_x, dtype=bool)
    if n_x == 0 or not any_type:
        return _dominated_round(index, cost, must_cols, min_open, any_type, gone)
    # Rounds: a site whose other columns were all dropped makes its last column clean, so it may
    # dominate in the next round (on the reduced problem, where the proof applies as it stands).
    n_sites = int(index.x_site.max()) + 1
    while True:
        new = _dominated_round(index, cost, must_cols, min_open, any_type, gone) & ~gone
        if not new.any():
            return gone
        before = np.bincount(index.x_site[~gone], minlength=n_sites) == 1
        gone |= new
        if not ((np.bincount(index.x_site[~gone], minlength=n_sites) == 1) & ~before).any():
            return gone  # no site became clean: another round would find nothing new


def _dominated_round(index: CoverageIndex, cost: np.ndarray, must_cols: np.ndarray,
                     min_open: np.ndarray, any_type: bool, gone: np.ndarray) -> np.ndarray:
    """One round of reduction 2 over the columns not ``gone`` (already dropped)."""
    n_x = index.n_x
    if n_x == 0:
        return np.zeros(0, dtype=bool)
    R = sp.csr_matrix(index.class_rows)
    R.sort_indices()
    C = R.tocsc()
    C.sort_indices()
    col_size = np.diff(C.indptr)
    row_size = np.diff(R.indptr)
    n_sites = int(index.x_site.max()) + 1
    clean = (np.bincount(index.x_site[~gone], minlength=n_sites)[index.x_site] == 1) & ~gone

    # The rarest class of every column: any dominator must cover it, so that class's columns
    # are the only candidates.
    has_cover = col_size > 0
    rarest = np.full(n_x, -1, dtype=np.int64)
    if C.nnz:
        col_of = np.repeat(np.arange(n_x), col_size)
        perm = np.lexsort((row_size[C.indices], col_of))  # by column, then class size
        firsts = (np.cumsum(col_size) - col_size)[has_cover]
        rarest[has_cover] = C.indices[perm[firsts]]

    # Pairs (c, d): d covers rarest[c], same type, clean, cheaper (or equal and earlier).
    cand_c = np.flatnonzero(has_cover & ~must_cols & ~gone)
    counts = row_size[rarest[cand_c]]
    pair_c = np.repeat(cand_c, counts)
    within = np.arange(pair_c.size) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_d = R.indices[np.repeat(R.indptr[rarest[cand_c]], counts) + within]
    ok = (pair_d != pair_c) & ~gone[pair_d] & _may_dominate(index, clean, min_open, any_type, pair_d, pair_c)
    ok &= _before(cost, pair_d, pair_c) & (col_size[pair_d] >= col_size[pair_c])
    pair_c, pair_d = pair_c[ok], pair_d[ok]
    contains = _contains(C, R.shape[0], pair_c, pair_d, col_size)
    pair_c, pair_d = pair_c[contains], pair_d[contains]

    # A column that reaches no open class is dominated by any clean column of its type before it.
    empty = np.flatnonzero(~has_cover & ~must_cols & ~gone)
    columns = np.arange(n_x)
    dominated_any = np.zeros(n_x, dtype=bool)
    dominated_any[pair_c] = True
    for e in empty:  # a loop over the few columns whose sites reach nobody new
        dominated_any[e] = np.any(_may_dominate(index, clean, min_open, any_type, columns, e)
                                  & (columns != e) & ~gone & _before(cost, columns, e))

    # D(c): the undominated dominators (domination is transitive, so one exists for every
    # dominated column); c goes when there are at least max(1, min_open) of them.
    maximal = ~dominated_any & ~gone
    n_dom = np.bincount(pair_c[maximal[pair_d]], minlength=n_x)
    for e in empty:
        if dominated_any[e]:
            n_dom[e] = np.count_nonzero(_may_dominate(index, clean, min_open, any_type, columns, e)
                                        & (columns != e) & maximal & _before(cost, columns, e))
    need = np.maximum(1, np.asarray(min_open)[index.x_type])
    return dominated_any & (n_dom >= need)


def _may_dominate(index: CoverageIndex, clean: np.ndarray, min_open: np.ndarray, any_type: bool,
                  d, c) -> np.ndarray:
    """The site and type conditions of reduction 2 for dominator ``d`` of column ``c``."""
    same_type = index.x_type[d] == index.x_type[c]
    if not any_type:
        return same_type & clean[d]
    free_type = np.asarray(min_open)[index.x_type[c]] == 0
    same_site = index.x_site[d] == index.x_site[c]
    return (same_type | free_type) & (clean[d] | same_site)


def _before(cost: np.ndarray, d, c) -> np.ndarray:
    """Strict order used for domination: cheaper, or as cheap and earlier."""
    return (cost[d] < cost[c]) | ((cost[d] == cost[c]) & (np.asarray(d) < np.asarray(c)))


def _contains(C: sp.csc_matrix, n_rows: int, pair_c: np.ndarray, pair_d: np.ndarray,
              col_size: np.ndarray) -> np.ndarray:
    """For each pair, whether every class of column c is a class of column d."""
    out = np.zeros(pair_c.size, dtype=bool)
    if pair_c.size == 0:
        return out
    n_x = C.shape[1]
    col_of = np.repeat(np.arange(n_x, dtype=np.int64), col_size)
    keys = col_of * n_rows + C.indices  # sorted: CSC by column, classes sorted within
    sizes = col_size[pair_c]
    start = 0
    while start < pair_c.size:
        # batch so that the expanded (pair, class) arrays stay bounded
        cum = np.cumsum(sizes[start:])
        stop = start + max(1, int(np.searchsorted(cum, _PAIR_BATCH, side="right")))
        pc, pd_, sz = pair_c[start:stop], pair_d[start:stop], sizes[start:stop]
        first = C.indptr[pc]
        total = int(sz.sum())
        within = np.arange(total) - np.repeat(np.cumsum(sz) - sz, sz)
        classes = C.indices[np.repeat(first, sz) + within]
        wanted = np.repeat(pd_, sz).astype(np.int64) * n_rows + classes
        pos = np.searchsorted(keys, wanted)
        found = (pos < keys.size) & (keys[np.minimum(pos, keys.size - 1)] == wanted)
        missing = np.bincount(np.repeat(np.arange(pc.size), sz)[~found], minlength=pc.size)
        out[start:stop] = missing == 0
        start = stop
    return out


@dataclass(frozen=True)
class ReducedCoverage:
    """A reduced coverage model and the way back to the full one.

    ``x_cols``: the full facility column of each reduced x column (reduced x columns come first,
    in this order). ``classes``: the full class of each reduced y column.
    """

    model: LinearModel
    x_cols: np.ndarray
    classes: np.ndarray
    n_x_full: int
    fixed_x: np.ndarray  # full facility columns fixed at 1 (must_open)
    stats: dict = field(default_factory=dict)

    def full_x(self, values: np.ndarray) -> np.ndarray:
        """(n_x_full,) 0/1 facility vector of a reduced solution."""
        x = np.zeros(self.n_x_full)
        x[self.x_cols] = np.round(values[: self.x_cols.size])
        x[self.fixed_x] = 1.0
        return x

    def encode(self, full_x: np.ndarray, class_rows: sp.csr_matrix) -> np.ndarray | None:
        """A reduced column vector for a full plan (a warm start), or None when the plan uses a
        column this reduction dropped."""
        full_x = np.asarray(full_x, dtype=float)
        kept = np.zeros(self.n_x_full, dtype=bool)
        kept[self.x_cols] = True
        kept[self.fixed_x] = True
        if np.any(full_x[~kept] > 0.5):
            return None
        y = np.minimum(class_rows[self.classes] @ full_x, 1.0)
        return np.concatenate([full_x[self.x_cols], y])


def reduce_coverage(model: LinearModel, index: CoverageIndex, cost: np.ndarray, budget_cny: float,
                    must_cols: np.ndarray, dominated: np.ndarray | None = None) -> ReducedCoverage:
    """Apply the reductions of the module docstring to a model from ``build_coverage_model``.

    Parameters
    ----------
    model, index : from :func:`models.coverage.build_coverage_model`; the budget row of ``model``
        is replaced by ``budget_cny``. Rows outside the ``coverage`` block are taken over as they
        are (sliced to the kept facility columns), so blocks a formulation adds stay intact.
    cost : (n_x,) cost of each facility column.
    budget_cny : the budget.
    must_cols : (n_x,) bool, must_open columns.
    dominated : (n_x,) bool from :func:`dominated_columns`, or None to skip reduction 2.
    """
    n_x, n_y = index.n_x, index.n_classes
    model = model.with_row_bounds("budget", upper=budget_cny)
    must_cost = float(cost[must_cols].sum())
    keep_x = cost <= budget_cny - must_cost + 1e-9 * max(1.0, budget_cny)
    if dominated is not None:
        keep_x &= ~dominated
    # must_open columns are fixed at 1 and leave the model; so do the other types on their sites
    must_site = np.zeros(int(index.x_site.max(initial=-1)) + 1, dtype=bool)
    must_site[index.x_site[must_cols]] = True
    keep_x &= ~must_site[index.x_site]
    x_cols = np.flatnonzero(keep_x)

    R = index.class_rows
    sure = (R @ must_cols.astype(float)) > 0
    sub = R[:, x_cols]
    degree = np.diff(sub.indptr)
    live = (degree > 0) & ~sure
    constant = model.offset + float(index.class_weight[sure].sum())

    # Reduction 6: a class one column reaches has y = x at the optimum; its weight moves onto x.
    single = live & (degree == 1)
    x_weight = np.zeros(x_cols.size)
    np.add.at(x_weight, sub.indices[sub.indptr[:-1][single]], index.class_weight[single])
    # Reduction 7: classes with identical rows over the kept columns become one class.
    multi = np.flatnonzero(live & (degree > 1))
    rows = sub[multi]
    if multi.size:
        class_of, representative = identical_row_classes(rows)
        merged = rows[representative]
        weight = np.bincount(class_of, weights=index.class_weight[multi], minlength=representative.size)
        classes = multi[representative]
    else:
        merged, weight, classes = sp.csr_matrix((0, x_cols.size)), np.zeros(0), multi
    n_y_new = weight.size

    blocks = [("coverage", sp.hstack([-merged, sp.identity(n_y_new, format="csr")], format="csr"),
               -np.inf, 0.0)]
    fixed = must_cols.astype(float)
    for name, rows_slice in model.row_blocks.items():
        if name == "coverage":
            continue
        part = model.A[rows_slice][:, :n_x]
        activity = part @ fixed  # fixed columns move out of the row bounds
        lower = model.row_lower[rows_slice] - activity
        upper = model.row_upper[rows_slice] - activity
        part = part[:, x_cols]
        if name == "one_per_site":  # reduction 5
            useful = np.diff(part.indptr) >= 2
            part, lower, upper = part[useful], lower[useful], upper[useful]
        part = sp.hstack([part, sp.csr_matrix((part.shape[0], n_y_new))], format="csr")
        blocks.append((name, part, lower, upper))
    A, row_lower, row_upper, row_blocks = stack_rows(blocks)
    n_new = x_cols.size + n_y_new
    reduced = LinearModel(
        sense=model.sense,
        c=np.concatenate([x_weight, weight]),
        A=A, row_lower=row_lower, row_upper=row_upper,
        col_lower=np.zeros(n_new), col_upper=np.ones(n_new),
        integrality=np.concatenate([np.ones(x_cols.size, bool), np.zeros(n_y_new, bool)]),
        offset=constant, integral_optimum=True,
        col_blocks={"x": slice(0, x_cols.size), "y": slice(x_cols.size, n_new)},
        row_blocks=row_blocks,
    )
    stats = {
        "x_before": n_x, "x_after": int(x_cols.size),
        "x_dominated": 0 if dominated is None else int(dominated.sum()),
        "classes_before": n_y, "classes_after": int(n_y_new),
        "classes_folded": int(single.sum()),
        "nonzeros_before": int(model.A.nnz), "nonzeros_after": int(reduced.A.nnz),
    }
    return ReducedCoverage(reduced, x_cols, classes, n_x, np.flatnonzero(must_cols), stats)


# ---- plans: greedy, pruning and the coverage ceiling -------------------------------------------


def lazy_greedy(index: CoverageIndex, cost: np.ndarray, budget_cny: float, chosen: np.ndarray,
                allowed: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
    """Add facility columns by most new weight per unit cost while they fit the budget.

    A lazy greedy (gains only fall as coverage grows, so a column whose recomputed ratio still
    tops the heap is the true best): about one column slice per pick instead of a sparse product
    over the whole model, so 13,500 columns and 16 million coverage entries take about a second.

    Parameters
    ----------
    chosen : (n_x,) bool, columns already open (their sites are taken, their cost is spent).
    allowed : (n_x,) bool, columns that may be added.
    target : (n_classes,) bool, the classes whose weight counts (default: all).

    Returns
    -------
    (n_x,) bool, the chosen columns.
    """
    import heapq

    chosen = np.asarray(chosen, dtype=bool).copy()
    C = sp.csc_matrix(index.class_rows)
    weight = index.class_weight if target is None else np.where(target, index.class_weight, 0.0)
    covered = (index.class_rows @ chosen.astype(float)) > 0
    n_sites = int(index.x_site.max(initial=-1)) + 1
    site_used = np.zeros(n_sites, dtype=bool)
    site_used[index.x_site[chosen]] = True
    spent = float(cost[chosen].sum())

    def gain(c: int) -> float:
        classes = C.indices[C.indptr[c]:C.indptr[c + 1]]
        return float(weight[classes][~covered[classes]].sum())

    def key(g: float, c: int) -> float:
        return -(g / cost[c]) if cost[c] > 0 else -np.inf if g > 0 else 0.0

    candidates = np.flatnonzero(allowed & ~chosen & ~site_used[index.x_site])
    col_weight = C.T @ weight  # first gains: nothing new is covered yet except by `chosen`
    heap = [(key(float(col_weight[c]), int(c)), int(c)) for c in candidates if col_weight[c] > 0]
    heapq.heapify(heap)
    while heap:
        _, c = heapq.heappop(heap)
        if site_used[index.x_site[c]] or spent + cost[c] > budget_cny * (1 + 1e-12):
            continue
        g = gain(c)
        if g <= 0:
            continue
        k = key(g, c)
        if heap and k > heap[0][0]:
            heapq.heappush(heap, (k, c))  # stale: someone else may now be better
            continue
        chosen[c] = True
        site_used[index.x_site[c]] = True
        spent += float(cost[c])
        covered[C.indices[C.indptr[c]:C.indptr[c + 1]]] = True
    return chosen


def prune_plan(index: CoverageIndex, cost: np.ndarray, must_cols: np.ndarray, min_open: np.ndarray,
               chosen: np.ndarray) -> np.ndarray:
    """Close facilities that add no coverage, most expensive first, keeping must_open and min_open.

    Coverage is counted on the merged classes (the objective's own terms), so the objective is
    unchanged and the spending can only fall.
    """
    chosen = np.asarray(chosen, dtype=bool).copy()
    C = sp.csc_matrix(index.class_rows)
    counts = index.class_rows @ chosen.astype(float)
    per_type = np.bincount(index.x_type[chosen], minlength=np.asarray(min_open).size)
    cols = np.flatnonzero(chosen)
    for c in cols[np.argsort(-cost[cols], kind="stable")]:
        k = index.x_type[c]
        if must_cols[c] or per_type[k] <= min_open[k]:
            continue
        classes = C.indices[C.indptr[c]:C.indptr[c + 1]]
        if np.all(counts[classes] >= 2):
            chosen[c] = False
            counts[classes] -= 1
            per_type[k] -= 1
    return chosen


def ceiling_model(model: LinearModel, index: CoverageIndex, cost: np.ndarray,
                  must_cols: np.ndarray) -> ReducedCoverage:
    r"""The coverage ceiling: the model without its budget, with every *clean* column fixed open.

    Without a budget, opening a column that is alone on its site never hurts (coverage can only
    grow, no site is taken from another type, min_open counts only rise), so the ceiling's
    optimum :math:`U` is the unbudgeted optimum, and :math:`U \ge` the optimum at every budget.
    A plan that reaches :math:`U` and fits the budget :math:`B` is therefore optimal at
    :math:`B`. The residual model holds only the classes no clean column reaches and the columns
    of shared sites, so it is small even when the full model is large.
    """
    n_sites = int(index.x_site.max(initial=-1)) + 1
    clean = np.bincount(index.x_site, minlength=n_sites)[index.x_site] == 1
    return reduce_coverage(model, index, cost, np.inf, must_cols | clean, None)


def cheapest_cover(index: CoverageIndex, cost: np.ndarray, must_cols: np.ndarray, min_open: np.ndarray,
                   plan: np.ndarray) -> np.ndarray:
    """A cheap subset of ``plan`` (a feasible plan) covering every class ``plan`` covers.

    Greedy set cover by cost per newly covered weight over the plan's own columns (so no site
    conflicts arise), must_open first, then the cheapest columns of any type still short of
    min_open, then pruning. Not a minimum-cost cover; a certificate only needs it to fit.
    """
    plan = np.asarray(plan, dtype=bool)
    target = (index.class_rows @ plan.astype(float)) > 0
    chosen = lazy_greedy(index, cost, np.inf, must_cols & plan, plan, target)
    per_type = np.bincount(index.x_type[chosen], minlength=np.asarray(min_open).size)
    for k in np.flatnonzero(per_type < min_open):
        spare = np.flatnonzero(plan & ~chosen & (index.x_type == k))
        chosen[spare[np.argsort(cost[spare], kind="stable")][: int(min_open[k] - per_type[k])]] = True
    return prune_plan(index, cost, must_cols, min_open, chosen)
