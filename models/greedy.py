"""Cost-aware greedy for the coverage model: a fast plan with no optimality claim.

It works on the same reduced structure as the MILP (:class:`models.coverage.CoverageIndex`):
must_open facilities first, then the cheapest-per-gain facilities until each min_open count is
met, then repeatedly the facility with the most newly covered weight per unit cost that still
fits the budget. Gains are recomputed as one sparse product per step. The result is the better
of that plan and the best single affordable facility (the classic guard that keeps greedy within
a constant factor for budgeted coverage).
"""

from __future__ import annotations

import numpy as np

from lifecircle.models.coverage import CoverageIndex


def _gains(index: CoverageIndex, covered: np.ndarray) -> np.ndarray:
    return index.class_rows.T @ np.where(covered, 0.0, index.class_weight)


def greedy_plan(index: CoverageIndex, cost: np.ndarray, budget: float, must_open_cols: np.ndarray,
                min_open: np.ndarray) -> np.ndarray:
    """Facility columns chosen by the greedy; ``cost`` is per facility column."""
    n_x = index.n_x
    chosen = np.zeros(n_x, dtype=bool)
    site_used = np.zeros(int(index.x_site.max(initial=-1)) + 1, dtype=bool)
    covered = np.zeros(index.n_classes, dtype=bool)
    spent = 0.0

    def take(col: int):
        nonlocal spent
        chosen[col] = True
        site_used[index.x_site[col]] = True
        spent += float(cost[col])
        covered[:] |= index.class_rows[:, col].toarray().ravel() > 0

    for col in np.flatnonzero(must_open_cols):
        take(int(col))

    def best(mask: np.ndarray) -> int | None:
        free = mask & ~chosen & ~site_used[index.x_site] & (spent + cost <= budget + 1e-9)
        if not free.any():
            return None
        gain = _gains(index, covered)
        # a free facility with any gain beats every priced one
        ratio = np.where(cost > 0, gain / np.maximum(cost, 1e-300), np.where(gain > 0, np.finfo(float).max, 0.0))
        ratio = np.where(free, ratio, -1.0)
        # ties (zero gain) go to the cheapest, so min_open is met as cheaply as possible
        order = np.lexsort((cost, -ratio))
        return int(order[0]) if free[order[0]] else None

    for k in np.flatnonzero(min_open > 0):
        while np.count_nonzero(chosen & (index.x_type == k)) < min_open[k]:
            col = best(index.x_type == k)
            if col is None:
                break
            take(col)

    everything = np.ones(n_x, dtype=bool)
    while True:
        col = best(everything)
        if col is None or _gains(index, covered)[col] <= 0:
            break
        take(col)

    greedy_value = float(index.class_weight[covered].sum())
    if not must_open_cols.any() and not (min_open > 0).any():
        affordable = cost <= budget
        if affordable.any():
            single = np.where(affordable, _gains(index, np.zeros_like(covered)), -1.0)
            col = int(np.argmax(single))
            if single[col] > greedy_value:
                chosen[:] = False
                chosen[col] = True
    return chosen
