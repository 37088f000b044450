r"""Budgeted multi-type maximal coverage with existing facilities and planning rules.

Sets: demand points :math:`i`, sites :math:`j`, facility types :math:`k`, groups :math:`g`.
Data: people :math:`p_{ig}`, weights :math:`w_g`, costs :math:`c_{jk}` (allowed pairs
:math:`(j,k) \in \mathcal{A}`), budget :math:`B`, reach :math:`a^{kg}_{ij} \in \{0,1\}`
(site :math:`j` as type :math:`k` reaches group :math:`g` at point :math:`i`; zero when
:math:`k` does not serve :math:`g`), and :math:`e_{ig} = 1` when an existing facility already
reaches it.

.. math::

    \max\ & \sum_{i,g:\,e_{ig}=0} w_g p_{ig}\, y_{ig} + \sum_{i,g:\,e_{ig}=1} w_g p_{ig} \\
    \text{s.t. } & y_{ig} \le \sum_{(j,k)\in\mathcal{A}} a^{kg}_{ij} x_{jk} && \forall i,g:\ e_{ig}=0 \\
    & \sum_k x_{jk} \le 1 && \forall j \quad\text{(one facility per site)} \\
    & \sum_{(j,k)\in\mathcal{A}} c_{jk} x_{jk} \le B \\
    & \sum_j x_{jk} \ge m_k && \forall k \quad\text{(min\_open)} \\
    & x_{jk} = 1 && \text{for must\_open } (j,k) \\
    & x_{jk} \in \{0,1\},\quad 0 \le y_{ig} \le 1

Forbidden sites and blank costs are simply absent from :math:`\mathcal{A}`.

Reductions before the model is built (each exact):

* pairs :math:`(i,g)` with zero weighted people, or already reached (:math:`e_{ig}=1`), leave the
  model and enter the constant;
* pairs that no allowed facility reaches leave the model (their :math:`y` would be 0);
* pairs whose coverage rows :math:`(a^{kg}_{ij})_{(j,k)}` are identical are merged into one
  column :math:`y_c` with objective coefficient :math:`\sum w_g p_{ig}` over the class, across
  points *and* groups. With :math:`x` fixed, every :math:`y` in a class takes the same optimal
  value, so the optimum is unchanged.

:math:`y` is continuous: for binary :math:`x` its optimal value is 0 or 1, which also lets an
integer-only solver (CP-SAT) treat it as binary (``integral_optimum``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.linear import MAXIMIZE, LinearModel, stack_rows


@dataclass(frozen=True)
class CoverageIndex:
    """How the model's columns map back to the problem.

    ``x_site[c], x_type[c]``: the (site, type) of facility column c. ``class_rows``: the coverage
    rows (classes) over facility columns. ``class_weight``: the weighted people of each class.
    """

    x_site: np.ndarray
    x_type: np.ndarray
    class_rows: sp.csr_matrix
    class_weight: np.ndarray
    n_pairs: int  # (point, group) pairs with people, before any reduction
    n_pairs_open: int  # pairs left after removing those already covered or unreachable
    constant: float

    @property
    def n_x(self) -> int:
        return int(self.x_site.size)

    @property
    def n_classes(self) -> int:
        return int(self.class_weight.size)

    def stats(self) -> dict:
        return {
            "facility_columns": self.n_x,
            "demand_pairs": self.n_pairs,
            "demand_pairs_open": self.n_pairs_open,
            "demand_classes": self.n_classes,
            "coverage_nonzeros": int(self.class_rows.nnz),
        }


def facility_columns(cost: np.ndarray, forbidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(site, type) of every allowed facility column, ordered by site then type."""
    allowed = np.isfinite(cost) & ~forbidden[:, None]
    x_site, x_type = np.nonzero(allowed)
    return x_site.astype(np.int64), x_type.astype(np.int64)


def pair_coverage(problem, x_site: np.ndarray, x_type: np.ndarray):
    """Coverage rows of every open (point, group) pair over the facility columns.

    Returns (R, weight, point, group): R is (pairs × facility columns) CSR; rows with no entry
    (unreachable pairs) are included so callers can count them.
    """
    n_x = x_site.size
    n_sites = problem.cost_cny.shape[0]
    weighted = problem.people * problem.group_weight[None, :]
    selection = {}
    for k in range(problem.cost_cny.shape[1]):
        cols = np.flatnonzero(x_type == k)
        selection[k] = sp.csr_matrix(
            (np.ones(cols.size), (x_site[cols], cols)), shape=(n_sites, n_x)
        )
    blocks, weights, points, groups = [], [], [], []
    for g in range(problem.people.shape[1]):
        open_pair = (weighted[:, g] > 0) & ~problem.covered_before[:, g]
        rows = np.flatnonzero(open_pair)
        M = sp.csr_matrix((rows.size, n_x))
        for k in np.flatnonzero(problem.serves[:, g]):
            M = M + problem.coverage[(int(k), g)][rows].astype(float) @ selection[int(k)]
        blocks.append(sp.csr_matrix(M))
        weights.append(weighted[rows, g])
        points.append(rows)
        groups.append(np.full(rows.size, g))
    R = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_x))
    R.data[:] = 1.0
    return R, np.concatenate(weights), np.concatenate(points), np.concatenate(groups)


def build_coverage_model(problem) -> tuple[LinearModel, CoverageIndex]:
    """Build the MILP above from a :class:`optimizer.problem.CoverageProblem` (arrays only)."""
    cost = problem.cost_cny
    x_site, x_type = facility_columns(cost, problem.forbidden)
    n_x = x_site.size
    weighted = problem.people * problem.group_weight[None, :]
    constant = float(weighted[problem.covered_before].sum())
    n_pairs = int(np.count_nonzero(weighted > 0))

    R, pair_weight, _, _ = pair_coverage(problem, x_site, x_type)
    reachable = np.diff(R.indptr) > 0
    n_pairs_open = int(pair_weight.size)
    R = R[reachable]
    pair_weight = pair_weight[reachable]
    class_of_row, representative = identical_row_classes(R)
    class_rows = R[representative]
    class_weight = np.bincount(class_of_row, weights=pair_weight, minlength=representative.size)
    n_y = class_weight.size

    coverage_rows = sp.hstack([-class_rows, sp.identity(n_y, format="csr")], format="csr")
    per_site = sp.csr_matrix((np.ones(n_x), (x_site, np.arange(n_x))), shape=(cost.shape[0], n_x))
    shared_sites = np.flatnonzero(np.diff(per_site.indptr) > 1)
    x_cost = cost[x_site, x_type]
    per_type = sp.csr_matrix((np.ones(n_x), (x_type, np.arange(n_x))), shape=(cost.shape[1], n_x))
    min_types = np.flatnonzero(problem.min_open > 0)

    def pad(mat):
        return sp.hstack([mat, sp.csr_matrix((mat.shape[0], n_y))], format="csr")

    A, row_lower, row_upper, row_blocks = stack_rows([
        ("coverage", coverage_rows, -np.inf, 0.0),
        ("one_per_site", pad(per_site[shared_sites]), -np.inf, 1.0),
        ("budget", pad(sp.csr_matrix(x_cost[None, :])), -np.inf, float(problem.budget_cny)),
        ("min_open", pad(per_type[min_types]), problem.min_open[min_types].astype(float), np.inf),
    ])

    col_lower = np.zeros(n_x + n_y)
    must = problem.must_open[x_site] == x_type
    col_lower[:n_x][must] = 1.0
    model = LinearModel(
        sense=MAXIMIZE,
        c=np.concatenate([np.zeros(n_x), class_weight]),
        A=A,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=col_lower,
        col_upper=np.ones(n_x + n_y),
        integrality=np.concatenate([np.ones(n_x, bool), np.zeros(n_y, bool)]),
        offset=constant,
        integral_optimum=True,
        col_blocks={"x": slice(0, n_x), "y": slice(n_x, n_x + n_y)},
        row_blocks=row_blocks,
    )
    index = CoverageIndex(x_site, x_type, class_rows, class_weight, n_pairs, n_pairs_open, constant)
    return model, index


def decode_selection(values: np.ndarray, index: CoverageIndex) -> tuple[np.ndarray, np.ndarray]:
    """(site, type) arrays of the facilities a solution opens."""
    chosen = values[: index.n_x] > 0.5
    return index.x_site[chosen], index.x_type[chosen]


def encode_selection(site: np.ndarray, type_: np.ndarray, index: CoverageIndex) -> np.ndarray:
    """A full column vector (x and the best y) for a plan; used as a warm start."""
    x = np.zeros(index.n_x)
    n_types = int(max(index.x_type.max(initial=0), np.max(type_, initial=0))) + 1
    column_key = index.x_site * n_types + index.x_type  # sorted: columns go by site, then type
    wanted = np.asarray(site) * n_types + np.asarray(type_)
    position = np.searchsorted(column_key, wanted)
    if np.any(position >= column_key.size) or np.any(column_key[np.minimum(position, column_key.size - 1)] != wanted):
        raise ValueError("encode_selection: a (site, type) in the plan is not an allowed column")
    x[position] = 1.0
    y = np.minimum(index.class_rows @ x, 1.0)
    return np.concatenate([x, y])
