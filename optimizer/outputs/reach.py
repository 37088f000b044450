r"""Who any facility could reach, and what a plan could reach at most: bounds by evaluation, no solve.

Used by the plan's explanations (:mod:`optimizer.outputs.explain`): the people still uncovered and
whether any idle site could reach them, and the **min_open bound**, which settles whether a
``min_open`` rule binds without a re-solve when it plainly does not (issue 14: on the dense
100,000-point district that re-solve cost 100 s of the report).

The min_open bound. Removing ``min_open`` gains coverage only through a plan that opens fewer than
``min_open[k]`` facilities of some type k. Any such plan covers at most

.. math:: U_k = W(\text{before} \cup \text{reach of every allowed column of another type})
          + \text{the } (m_k - 1) \text{ largest } \sum_{(i,g) \notin \text{that set}} w_{ig} R^k_{ig,j}

over allowed type-k columns j (budget and must_open left out, which only loosens it). So when
:math:`\max_k U_k` is at most the plan's coverage, no plan breaking the rule beats the plan: the
rule costs nothing. Step coverage only (decay levels and capacities do not add up this way).
"""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.core.problem import CoverageProblem

TOP_UNCOVERED_POINTS = 10


def _reach_by_type(problem: CoverageProblem) -> list:
    """Per facility type k, (I, G) bool: some allowed column of type k reaches (i, g)."""
    allowed = problem.allowed()
    by_type = [np.zeros_like(problem.covered_before) for _ in range(problem.n_types)]
    for (k, g), mat in problem.coverage.items():
        cols = np.flatnonzero(allowed[:, k])
        if cols.size:
            by_type[k][:, g] |= np.diff(mat[:, cols].tocsr().indptr) > 0
    return by_type


def reachable_pairs(problem: CoverageProblem) -> np.ndarray:
    """(I, G) bool: some allowed facility serving g reaches point i."""
    return np.stack(_reach_by_type(problem)).any(axis=0)


def uncovered_where(problem: CoverageProblem, covered: np.ndarray, top: int = TOP_UNCOVERED_POINTS,
                    reachable: np.ndarray | None = None):
    """(uncovered (G,), unreachable (G,), per group the ``top`` points with most uncovered people).

    A point is *reachable* for group g when some allowed facility serving g reaches it.
    """
    reachable = reachable_pairs(problem) if reachable is None else reachable
    left = problem.people * ~covered
    unreachable = (left * ~reachable).sum(axis=0)
    points = []
    for g in range(problem.n_groups):
        order = np.argsort(-left[:, g], kind="stable")[:top]
        order = order[left[order, g] > 0]
        points.append(tuple((int(i), float(left[i, g]), bool(reachable[i, g])) for i in order))
    return left.sum(axis=0), unreachable, tuple(points)


def min_open_ceiling(problem: CoverageProblem) -> float | None:
    """:math:`\\max_k U_k` over the types with ``min_open[k] > 0`` (module docstring): no plan that
    opens fewer than ``min_open[k]`` of some type k covers more. None without a min_open rule."""
    ruled = np.flatnonzero(problem.min_open > 0)
    if not ruled.size:
        return None
    weighted = problem.weighted_people()
    allowed = problem.allowed()
    by_type = _reach_by_type(problem)
    best = -np.inf
    for k in ruled:
        base = np.stack([problem.covered_before] + [r for kk, r in enumerate(by_type) if kk != k]).any(axis=0)
        value = float((weighted * base).sum())
        extra = int(problem.min_open[k]) - 1
        if extra > 0:
            left = weighted * ~base
            gains = np.zeros(problem.n_sites)
            for (kk, g), mat in problem.coverage.items():
                if kk == k:
                    gains += mat.T @ left[:, g]
            gains = gains[allowed[:, k]]
            if gains.size:
                value += float(np.sort(gains)[::-1][:extra].sum())
        best = max(best, value)
    return best
