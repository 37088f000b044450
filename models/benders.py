r"""A Benders cut loop for the aggregated budgeted MCLP (after Cordeau, Furini and Ljubić 2019).

The coverage columns :math:`y_k` are projected out. For fixed :math:`\bar x` the subproblem
:math:`\max \sum_k w_k y_k,\ y_k \le \sum_j a_{kj}\bar x_j,\ 0 \le y \le 1` is solved by
:math:`y_k = \min(1, s_k)`, :math:`s_k = \sum_j a_{kj}\bar x_j`, and its dual gives the cut

.. math::
    \theta \le \sum_{k:\, s_k \ge 1} w_k + \sum_j \Big(\sum_{k:\, s_k < 1} w_k a_{kj}\Big) x_j,

valid for every :math:`x \in [0,1]^m` (it is the LP value function's supporting hyperplane at
:math:`\bar x`; for binary :math:`\bar x` it is the submodular cut
:math:`f(S) \le f(T) + \sum_{j \in S \setminus T} \rho_j(T)`). The master is

.. math::
    \max \theta \quad\text{s.t.}\quad \sum_j c_j x_j \le B,\ \text{cuts},\
    0 \le \theta \le \textstyle\sum_k w_k,\ x \in \{0,1\}^m,

with one column per site and one row per cut instead of one row per demand class. Without
lazy-constraint callbacks in the open-source backends, the loop re-solves the master: first its
LP relaxation (Kelley's cutting planes, cheap), then the MIP, each time adding the cut at the
master's plan, until the master's bound meets the best plan's true value. ``solve_master`` is a
callable (``LinearModel -> (values, bound)``) so that any registered backend can serve.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel, stack_rows


@dataclass(frozen=True)
class BendersResult:
    sites: np.ndarray  # indices of the best plan
    value: float  # its true coverage
    bound: float  # the last master bound
    optimal: bool
    iterations: int
    cuts: int
    seconds: float


def _cut(rows_csc: sp.csc_matrix, rows: sp.csr_matrix, weight: np.ndarray, x: np.ndarray):
    """(constant, coefficient per site) of the cut at ``x``."""
    s = np.asarray(rows @ x).reshape(-1)
    full = s >= 1.0 - 1e-9
    coef = np.asarray(rows_csc.T @ np.where(full, 0.0, weight)).reshape(-1)
    return float(weight[full].sum()), coef


def _value(rows: sp.csr_matrix, weight: np.ndarray, sites: np.ndarray) -> float:
    x = np.zeros(rows.shape[1])
    x[sites] = 1.0
    return float(weight[np.asarray(rows @ x).reshape(-1) > 0.5].sum())


def benders_mclp(rows: sp.spmatrix, weight: np.ndarray, cost: np.ndarray, budget: float,
                 solve_master: Callable[[LinearModel], tuple], start: np.ndarray | None = None,
                 max_lp_rounds: int = 200, max_mip_rounds: int = 500,
                 time_limit_s: float | None = None) -> BendersResult:
    """Solve the budgeted MCLP on class ``rows`` by the cut loop of the module docstring.

    ``start`` is a known plan (site indices), whose cut seeds the master and which is the first
    incumbent. Stops when the master's bound is within 1e-9 (relative) of the incumbent, or at a
    round or time limit (then ``optimal`` is False).
    """
    t0 = time.perf_counter()
    rows = sp.csr_matrix(rows, dtype=float)
    by_site = sp.csc_matrix(rows)
    weight = np.asarray(weight, dtype=float)
    cost = np.asarray(cost, dtype=float)
    m = rows.shape[1]
    total = float(weight.sum())
    consts, coefs = [], []
    best_sites = np.zeros(0, dtype=np.int64) if start is None else np.asarray(start, np.int64)
    best = _value(rows, weight, best_sites)

    def add(x):
        const, coef = _cut(by_site, rows, weight, x)
        consts.append(const)
        coefs.append(coef)

    def master(integer: bool) -> tuple:
        n_cut = len(coefs)
        cut_mat = sp.hstack([-sp.csr_matrix(np.vstack(coefs)), sp.csr_matrix(np.ones((n_cut, 1)))],
                            format="csr")
        A, lo, hi, blocks = stack_rows([
            ("budget", sp.csr_matrix(np.append(cost, 0.0)[None, :]), -np.inf, float(budget)),
            ("cuts", cut_mat, -np.inf, np.array(consts)),
        ])
        integrality = np.append(np.full(m, integer), False)
        model = LinearModel(MAXIMIZE, np.append(np.zeros(m), 1.0), A, lo, hi, np.zeros(m + 1),
                            np.append(np.ones(m), total), integrality,
                            col_blocks={"open": slice(0, m), "theta": slice(m, m + 1)},
                            row_blocks=blocks)
        return solve_master(model)

    add(np.zeros(m))
    x0 = np.zeros(m)
    x0[best_sites] = 1.0
    add(x0)
    iterations = 0
    bound = total
    # Kelley: cuts at the LP master's points until its bound stalls.
    last = np.inf
    for _ in range(max_lp_rounds):
        iterations += 1
        values, lp_bound = master(integer=False)
        bound = min(bound, lp_bound)
        add(values[:m])
        if last - lp_bound <= 1e-7 * max(1.0, abs(lp_bound)):
            break
        last = lp_bound
    optimal = False
    for _ in range(max_mip_rounds):
        if time_limit_s is not None and time.perf_counter() - t0 > time_limit_s:
            break
        iterations += 1
        values, mip_bound = master(integer=True)
        sites = np.flatnonzero(values[:m] > 0.5)
        value = _value(rows, weight, sites)
        if value > best:
            best, best_sites = value, sites
        bound = mip_bound
        if bound - best <= 1e-9 * max(1.0, abs(best)):
            optimal = True
            break
        add(values[:m].round())
    return BendersResult(best_sites, best, max(bound, best), optimal, iterations, len(coefs),
                         time.perf_counter() - t0)
