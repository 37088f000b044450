r"""A Lagrangian (Volume-algorithm) upper bound for coverage models too large for their LP.

It takes a model in the shape :func:`models.reduce.reduce_coverage` (or
:func:`models.coverage.build_coverage_model`) writes: maximise
:math:`p^\top x + w^\top y + \text{offset}` subject to

.. math::

    y_r \le (Ax)_r \ (\lambda_r \ge 0), \qquad (Sx)_s \le u_s \ (\mu_s \ge 0), \qquad
    (Mx)_k \ge m_k \ (\nu_k \ge 0), \qquad b^\top x \le B, \qquad 0 \le x, y \le 1

(coverage, one_per_site, min_open and budget blocks; :math:`x` integer). Moving the first three
blocks into the objective with the multipliers shown gives, for every
:math:`\lambda, \mu, \nu \ge 0`,

.. math::

    L(\lambda,\mu,\nu) = \text{offset} + \sum_r (w_r - \lambda_r)^+ + \mu^\top u - \nu^\top m
    + \max\{\pi^\top x : b^\top x \le B,\ 0 \le x \le 1\}, \quad
    \pi = p + A^\top\lambda - S^\top\mu + M^\top\nu,

and :math:`L \ge` the model's optimum: every feasible :math:`(x, y)` keeps each added term
non-negative, and the knapsack is maximised over a superset of the feasible :math:`x`
(integrality dropped). The knapsack's LP is solved exactly by sorting :math:`\pi_c / b_c`
(Dantzig), so each evaluation costs one sparse product :math:`A^\top\lambda` and one sort. So every
evaluated :math:`L` is a valid bound, however far the multipliers are from optimal; the minimum over
all evaluations is reported. With the knapsack's LP inside, :math:`\min L` equals the LP
relaxation's optimum (the integer knapsack would only tighten it).

The multipliers follow Barahona and Anbil's Volume algorithm (2000): subgradient steps from the
best point so far, along the subgradient of a running average of the subproblem's solutions
(:math:`\bar x \leftarrow \alpha x_t + (1-\alpha)\bar x`), Polyak step lengths towards a target
(a point between the best bound and the best known plan's value), and a step factor that shrinks
after short runs of steps that found no lower :math:`L`. The average :math:`\bar x` approximates an LP solution, which makes the direction
far steadier than plain subgradients on coverage models, where each knapsack solution swings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel

_KNOWN_BLOCKS = {"coverage", "one_per_site", "budget", "min_open"}
_SMALL_NNZ = 200_000
# Step rule (issue 14, tuned on the 100k x 10k district, same CPU seconds, in
# benchmarks/README.md): start factor, failed steps before it shrinks, and how far from the best
# bound towards the plan's value the Polyak target sits. Aiming at the plan itself overshot: the
# LP bound sits ~0.3 % above the plan there, so the steps never shrank on their own.
# 0.1 / 20 / 1.0 reached 0.49 % in 240 steps; 0.3 / 4 / 0.3 reached 0.33 % in 420.
_F_START, _PATIENCE, _AIM = 0.3, 4, 0.3
_F_MIN = 1e-4
# Above this many nonzeros the steps are steered by a float32 copy of A^T (the product A^T lambda
# is ~85 % of a step and memory-bound: ~25 % more steps per second on the 16 M-nonzero district);
# the bound reported is the best point's value re-evaluated in float64, so it stays exact.
_F32_NNZ = 2_000_000


@dataclass(frozen=True)
class LagrangianBound:
    """The best (lowest) valid upper bound found and how the search went."""

    bound: float
    iterations: int
    seconds: float
    history: tuple  # (iteration, bound) at each improvement of the bound


@dataclass(frozen=True)
class _Parts:
    A: sp.csr_matrix  # coverage: classes x facility columns
    AT: sp.csr_matrix
    w: np.ndarray
    p: np.ndarray
    S: sp.csr_matrix
    u: np.ndarray
    M: sp.csr_matrix
    m: np.ndarray
    b: np.ndarray
    B: float
    offset: float
    ST: sp.csr_matrix  # the transposes once, not per evaluation (a transpose costs more than the product
    MT: sp.csr_matrix  # on small models)


def _parts(model: LinearModel) -> _Parts | None:
    """The blocks of a coverage-shaped model, or None when the model is of another shape."""
    if model.sense != MAXIMIZE or set(model.row_blocks) - _KNOWN_BLOCKS or "budget" not in model.row_blocks:
        return None
    xs, ys = model.col_blocks.get("x"), model.col_blocks.get("y")
    if xs is None or ys is None:
        return None
    n_x = xs.stop - xs.start
    if np.any(model.col_lower != 0) or np.any(model.col_upper != 1):
        return None
    A_csr = sp.csr_matrix(model.A)
    empty = sp.csr_matrix((0, n_x))

    def block(name):
        rows = model.row_blocks.get(name)
        if rows is None:
            return empty, np.zeros(0), np.zeros(0), None
        part = A_csr[rows]
        return part[:, xs], model.row_lower[rows], model.row_upper[rows], part[:, ys]

    cov_x, _, cov_up, cov_y = block("coverage")
    if cov_y is not None:
        n_y = ys.stop - ys.start
        if cov_y.shape[0] != n_y or (cov_y != sp.identity(n_y, format="csr")).nnz or np.any(cov_up != 0):
            return None
    S, _, u, _ = block("one_per_site")
    M, m, _, _ = block("min_open")
    b, _, B, _ = block("budget")
    if np.any(S.data < 0) or b.shape[0] != 1 or np.any(b.data < 0):
        return None
    A = sp.csr_matrix(-cov_x)
    A.eliminate_zeros()
    if np.any(A.data < 0) or np.any(model.c[ys] < 0):
        return None
    return _Parts(A, sp.csr_matrix(A.T), model.c[ys], model.c[xs], S, u, M, m,
                  np.asarray(b.toarray()).ravel(), float(B[0]), float(model.offset),
                  sp.csr_matrix(S.T), sp.csr_matrix(M.T))


def _knapsack(profit: np.ndarray, cost: np.ndarray, budget: float) -> tuple[float, np.ndarray]:
    """max profit @ x subject to cost @ x <= budget, 0 <= x <= 1 (cost >= 0): Dantzig's rule."""
    x = np.zeros(profit.size)
    take = profit > 0
    free = take & (cost <= 0)
    x[free] = 1.0
    cand = np.flatnonzero(take & ~free)
    if cand.size:
        order = cand[np.argsort(-profit[cand] / cost[cand], kind="stable")]
        filled = np.cumsum(cost[order])
        whole = int(np.searchsorted(filled, budget, side="right"))
        x[order[:whole]] = 1.0
        if whole < order.size:
            left = budget - (filled[whole - 1] if whole else 0.0)
            x[order[whole]] = max(0.0, left) / cost[order[whole]]
    return float(profit @ x), x


def lagrangian_bound(model: LinearModel, target: float | None = None, *, deadline: float | None = None,
                     max_iter: int = 3000, tol: float = 1e-9) -> LagrangianBound | None:
    """A valid upper bound on ``model``'s optimum by the Volume algorithm (module docstring).

    Parameters
    ----------
    model : a maximising coverage-shaped model (blocks coverage, one_per_site, budget, min_open;
        0/1 column bounds), such as ``ReducedCoverage.model``.
    target : the value of a known plan (a lower bound), which steers the step lengths; the
        search stops once the bound is within ``tol`` (relative) of it.
    deadline : a :func:`time.perf_counter` value after which no new iteration starts.
    max_iter : iteration cap.

    Returns
    -------
    LagrangianBound, or None when the model is not of that shape (its bound must come from
    elsewhere) or its budget row is negative.
    """
    t0 = time.perf_counter()
    parts = _parts(model)
    if parts is None or parts.B < 0:
        return None
    P = parts
    # Start with each class's weight shared among the columns that reach it.
    degree = np.maximum(np.diff(P.A.indptr), 1)
    lam = P.w / degree
    mu = np.zeros(P.u.size)
    nu = np.zeros(P.m.size)

    steer = P.AT.astype(np.float32) if P.AT.nnz > _F32_NNZ else None

    def evaluate(lam, mu, nu, exact=False):
        if steer is None or exact:
            spread = P.AT @ lam
        else:
            spread = (steer @ lam.astype(np.float32)).astype(np.float64)
        profit = P.p + spread - P.ST @ mu + P.MT @ nu
        value, x = _knapsack(profit, P.b, P.B)
        y = (P.w > lam).astype(float)
        L = P.offset + float(np.maximum(P.w - lam, 0.0).sum()) + float(mu @ P.u) - float(nu @ P.m) + value
        # a float-safe bound: sums of ~1e5 terms of size ~1e3 err by far less than this
        L += 1e-9 * (abs(L) + 1.0)
        return L, x, y

    def direction(x, y, ax, lam, mu, nu):
        g_lam = ax - y
        g_mu = P.u - P.S @ x
        g_nu = P.M @ x - P.m
        # components that the projection would stop are no direction at all
        g_lam = np.where(((lam <= 0) & (g_lam > 0)) | ((lam >= P.w) & (g_lam < 0)), 0.0, g_lam)
        g_mu = np.where((mu <= 0) & (g_mu > 0), 0.0, g_mu)
        g_nu = np.where((nu <= 0) & (g_nu > 0), 0.0, g_nu)
        return g_lam, g_mu, g_nu, float(g_lam @ g_lam + g_mu @ g_mu + g_nu @ g_nu)

    def times_a(x):
        # A @ x for a knapsack solution (a few hundred nonzeros): a slice, not a full product,
        # except on small models, where slicing costs more than the product
        if P.A.nnz <= _SMALL_NNZ:
            return P.A @ x
        # the support's rows of A^T gathered by index arithmetic (slicing and transposing a CSR
        # cost ~3x as much at 200 rows of ~1,200 nonzeros)
        support = np.flatnonzero(x)
        starts, lengths = P.AT.indptr[support], np.diff(P.AT.indptr)[support]
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        at = np.arange(int(lengths.sum())) + offsets
        return np.bincount(P.AT.indices[at], weights=P.AT.data[at] * np.repeat(x[support], lengths),
                           minlength=P.AT.shape[1])

    L_c, x_c, y_c = evaluate(lam, mu, nu)
    x_bar, y_bar = x_c, y_c
    ax_c = times_a(x_c)
    ax_bar = ax_c  # A @ x_bar, kept as the same running average (no full product per step)
    best = L_c
    best_point = (lam, mu, nu)
    history = [(0, best)]
    goal = target if target is not None else 0.0
    f, reds, it = _F_START, 0, 0
    alpha = 0.1
    for it in range(1, max_iter + 1):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if target is not None and best - target <= tol * max(1.0, abs(target)):
            break
        g_lam, g_mu, g_nu, norm = direction(x_bar, y_bar, ax_bar, lam, mu, nu)
        if norm <= 1e-18:
            # the average points nowhere: step along the centre's own subgradient instead; when
            # that is zero too, the centre minimises L and no step can lower it
            x_bar, y_bar, ax_bar = x_c, y_c, ax_c
            g_lam, g_mu, g_nu, norm = direction(x_c, y_c, ax_c, lam, mu, nu)
            if norm <= 1e-18:
                break
        aim = best - _AIM * max(best - goal, 0.0) if target is not None else L_c * 0.99
        step = f * max(L_c - aim, 1e-6 * max(1.0, abs(L_c))) / norm
        lam_t = np.clip(lam - step * g_lam, 0.0, P.w)
        mu_t = np.maximum(mu - step * g_mu, 0.0)
        nu_t = np.maximum(nu - step * g_nu, 0.0)
        L_t, x_t, y_t = evaluate(lam_t, mu_t, nu_t)
        ax_t = times_a(x_t)
        x_bar = alpha * x_t + (1 - alpha) * x_bar
        ax_bar = alpha * ax_t + (1 - alpha) * ax_bar
        y_bar = alpha * y_t + (1 - alpha) * y_bar
        if L_t < L_c:
            lam, mu, nu, L_c, x_c, y_c, ax_c = lam_t, mu_t, nu_t, L_t, x_t, y_t, ax_t
            reds = 0
            f = min(2.0, f * 1.1)
        else:
            reds += 1
            if reds >= _PATIENCE:
                f, reds = max(f * 0.66, _F_MIN), 0
        if L_t < best:
            best = L_t
            best_point = (lam_t, mu_t, nu_t)
            history.append((it, best))
    if steer is not None:  # the steering values were float32's: the bound is the exact value
        best = evaluate(*best_point, exact=True)[0]
        history.append((it, best))
    return LagrangianBound(best, it, time.perf_counter() - t0, tuple(history))
