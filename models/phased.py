r"""Phased (multi-year) coverage plan: which sites open in which year, as one MILP.

Built from the same reduced structure as the single-year model (:class:`models.coverage.
CoverageIndex`: facility columns :math:`c` with site :math:`j(c)`, type :math:`k(c)` and cost
:math:`c_c`; merged demand classes :math:`r` with weight :math:`w_r` and cover sets
:math:`N(r)`). Years :math:`t = 1..T` with budgets :math:`B_t`.

Variables: :math:`o_{ct} \in \{0,1\}`, facility :math:`c` is open in year :math:`t` (opened in
:math:`t` or before); :math:`y_{rt} \in [0,1]`, class :math:`r` is covered in year :math:`t`.
With :math:`o_{c0} = 0`:

.. math::

    \max\ & \sum_t \Big( \sum_r w_r\, y_{rt} + W_0 \Big) \\
    \text{s.t. } & y_{rt} \le \sum_{c \in N(r)} o_{ct} && \forall r, t \quad\text{(coverage)} \\
    & o_{c,t-1} \le o_{ct} && \forall c,\ t \ge 2 \quad\text{(an opened site stays open)} \\
    & \sum_c c_c\,(o_{ct} - o_{c,t-1}) \le B_t && \forall t \quad\text{(each year's spending)} \\
    & \sum_{c:\,j(c)=j} o_{cT} \le 1 && \forall j \quad\text{(one facility per site)} \\
    & \sum_{c:\,k(c)=k} o_{cT} \ge m_k && \forall k \quad\text{(min\_open, by the last year)} \\
    & o_{cT} = 1 && \text{for must\_open } c \text{ (open by the last year)}

:math:`W_0` is the weighted people reached by existing facilities, counted every year. Because
the objective sums coverage over the years, a site opened in year 1 earns its coverage :math:`T`
times and one opened in year :math:`T` once: early years favour big gains. Money left unspent in
a year is not carried over. Monotonicity makes one_per_site and min_open at year :math:`T` enough
for every year. The facility a plan opens in year :math:`t` is the column whose :math:`o` first
becomes 1 in year :math:`t`.

Cumulative variables keep the model sparse: the coverage block is :math:`T` copies of the
single-year one (:math:`T \cdot \mathrm{nnz}(N)` entries), where opened-in-year variables would
need :math:`T(T+1)/2` copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.coverage import CoverageIndex
from lifecircle.models.linear import MAXIMIZE, LinearModel, stack_rows


@dataclass(frozen=True)
class PhasedIndex:
    """Column layout of the phased model: ``o`` year by year (``n_x`` columns each), then ``y``
    year by year (``n_y`` each)."""

    n_x: int
    n_y: int
    n_years: int

    def o_col(self, year: int) -> slice:
        return slice(year * self.n_x, (year + 1) * self.n_x)

    def y_col(self, year: int) -> slice:
        start = self.n_years * self.n_x + year * self.n_y
        return slice(start, start + self.n_y)


def build_phased_model(index: CoverageIndex, cost: np.ndarray, budgets_cny: np.ndarray,
                       must_cols: np.ndarray, min_open: np.ndarray) -> tuple[LinearModel, PhasedIndex]:
    """The MILP above.

    Parameters
    ----------
    index : the single-year model's :class:`~models.coverage.CoverageIndex`.
    cost : (n_x,) cost of each facility column.
    budgets_cny : (T,) budget of each year.
    must_cols : (n_x,) bool, must_open columns.
    min_open : (K,) minimum number of new facilities of each type by the last year.
    """
    budgets = np.asarray(budgets_cny, dtype=float)
    n_years = int(budgets.size)
    if n_years < 1:
        raise ValueError("build_phased_model: at least one year is needed")
    n_x, n_y = index.n_x, index.n_classes
    layout = PhasedIndex(n_x, n_y, n_years)
    n_o, n_cols = n_years * n_x, n_years * (n_x + n_y)
    eye_t = sp.identity(n_years, format="csr")

    def o_block(mat):  # a (rows, n_o) matrix padded with zero y columns
        return sp.hstack([mat, sp.csr_matrix((mat.shape[0], n_years * n_y))], format="csr")

    coverage = sp.hstack([sp.kron(eye_t, -index.class_rows, format="csr"),
                          sp.identity(n_years * n_y, format="csr")], format="csr")
    # o[c, t-1] - o[c, t] <= 0 for t >= 1 (0-based years)
    pairs = np.arange(n_years - 1)
    step = sp.csr_matrix((np.concatenate([np.ones(pairs.size), -np.ones(pairs.size)]),
                          (np.concatenate([pairs, pairs]), np.concatenate([pairs, pairs + 1]))),
                         shape=(n_years - 1, n_years))
    stay_open = o_block(sp.kron(step, sp.identity(n_x, format="csr"), format="csr"))
    # spending in year t: cost · (o_t - o_{t-1})
    spend = sp.identity(n_years, format="csr") - sp.csr_matrix(
        (np.ones(pairs.size), (pairs + 1, pairs)), shape=(n_years, n_years))
    budget = o_block(sp.kron(spend, sp.csr_matrix(cost[None, :]), format="csr"))
    last = sp.csr_matrix((np.ones(1), ([0], [n_years - 1])), shape=(1, n_years))
    n_sites = int(index.x_site.max(initial=-1)) + 1
    per_site = sp.csr_matrix((np.ones(n_x), (index.x_site, np.arange(n_x))), shape=(n_sites, n_x))
    shared = np.flatnonzero(np.diff(per_site.indptr) > 1)
    one_per_site = o_block(sp.kron(last, per_site[shared], format="csr"))
    n_types = int(np.asarray(min_open).size)
    per_type = sp.csr_matrix((np.ones(n_x), (index.x_type, np.arange(n_x))), shape=(n_types, n_x))
    min_types = np.flatnonzero(np.asarray(min_open) > 0)
    min_rows = o_block(sp.kron(last, per_type[min_types], format="csr"))

    A, row_lower, row_upper, row_blocks = stack_rows([
        ("coverage", coverage, -np.inf, 0.0),
        ("stay_open", stay_open, -np.inf, 0.0),
        ("budget", budget, -np.inf, budgets),
        ("one_per_site", one_per_site, -np.inf, 1.0),
        ("min_open", min_rows, np.asarray(min_open, dtype=float)[min_types], np.inf),
    ])
    col_lower = np.zeros(n_cols)
    col_lower[layout.o_col(n_years - 1)][np.asarray(must_cols, dtype=bool)] = 1.0
    c = np.concatenate([np.zeros(n_o), np.tile(index.class_weight, n_years)])
    model = LinearModel(
        sense=MAXIMIZE, c=c, A=A, row_lower=row_lower, row_upper=row_upper,
        col_lower=col_lower, col_upper=np.ones(n_cols),
        integrality=np.concatenate([np.ones(n_o, bool), np.zeros(n_years * n_y, bool)]),
        offset=n_years * index.constant, integral_optimum=True,
        col_blocks={"o": slice(0, n_o), "y": slice(n_o, n_cols)}, row_blocks=row_blocks,
    )
    return model, layout


def decode_open_year(values: np.ndarray, layout: PhasedIndex) -> np.ndarray:
    """(n_x,) int: the 0-based year each facility column opens, or -1 if it never does."""
    opened = np.stack([values[layout.o_col(t)] > 0.5 for t in range(layout.n_years)])
    first = np.argmax(opened, axis=0)
    return np.where(opened.any(axis=0), first, -1)


def encode_open_year(open_year: np.ndarray, index: CoverageIndex, layout: PhasedIndex) -> np.ndarray:
    """A full column vector for a phased plan (a warm start): ``open_year`` per facility column."""
    open_year = np.asarray(open_year)
    o = np.concatenate([((open_year >= 0) & (open_year <= t)).astype(float) for t in range(layout.n_years)])
    y = np.concatenate([np.minimum(index.class_rows @ o[layout.o_col(t)], 1.0) for t in range(layout.n_years)])
    return np.concatenate([o, y])
