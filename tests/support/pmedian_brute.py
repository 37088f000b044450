"""p-median by enumeration for tiny instances: every optimal plan, from a dense cost matrix.

Independent of models/: plain numpy over all ``p``-subsets of sites.
"""

from __future__ import annotations

import itertools

import numpy as np


def all_plans(D: np.ndarray, w: np.ndarray, p: int):
    """``(plans, costs)``: every ``p``-subset of sites (rows of ``plans``) and its cost."""
    m = D.shape[1]
    plans = np.array(list(itertools.combinations(range(m), p)), dtype=np.int64)
    costs = np.array([float(w @ D[:, plan].min(axis=1)) for plan in plans])
    return plans, costs


def optimal_plans(D: np.ndarray, w: np.ndarray, p: int, tol: float = 1e-9):
    """``(optimum, plans)``: the best cost and every plan that reaches it."""
    plans, costs = all_plans(D, w, p)
    best = float(costs.min())
    return best, plans[costs <= best + tol * max(1.0, abs(best))]
