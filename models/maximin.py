r"""Maximin equity: the worst covered share as a column, and the two-stage solve around it.

``maximin`` adds a column :math:`\tau` and one row per set :math:`s` (a group, or a circle) with
people :math:`N_s > 0`: :math:`N_s \tau - \sum_v a_{sv} v \le B_s` (notation of
:mod:`lifecircle.models.service`). The first solve maximises :math:`\tau`
(:func:`maximin_first_stage`); the second holds :math:`\tau \ge \tau^*` (:func:`fix_worst_share`)
and maximises the coverage objective. :func:`maximin_rows` scales the column to an integer
:math:`\tau' = L\tau` when it can, so :math:`\tau'^*` is fixed exactly, with no tolerance.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import LinearModel, decimal_scale

__all__ = ["MAXIMIN_BACKOFF", "MAXIMIN_SCALE_LIMIT", "MaximinColumn", "fix_worst_share", "held_level",
           "is_integral", "maximin_first_stage", "maximin_rows", "worst_share"]

# Largest scale L of the maximin column that is still comfortable for floating-point solvers.
MAXIMIN_SCALE_LIMIT = 10**6
# A continuous maximin level is held this much below the first optimum (a millionth of a share).
MAXIMIN_BACKOFF = 1e-6


class MaximinColumn(Protocol):
    """Where the maximin column is (a :class:`lifecircle.models.service.ServiceIndex` is one)."""

    t_col: int | None
    t_scale: float


def is_integral(values: np.ndarray) -> bool:
    """True when every finite value is a whole number (within 1e-9, relative)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return bool(np.all(np.abs(values - np.round(values)) <= 1e-9 * np.maximum(1.0, np.abs(values))))


def maximin_rows(set_rows: sp.csr_matrix, set_people: np.ndarray, set_before: np.ndarray, sets: np.ndarray,
                 t_col: int, flows_integral: bool):
    """The maximin rows over ``sets`` (equity sets with people), and how the column is scaled.

    Parameters
    ----------
    set_rows : (sets × columns) CSR
        Each equity set's covered people per unit of every column (the column ``t_col`` included,
        at zero).
    set_people, set_before : (sets,) float
        Each set's people, and what uncapacitated existing facilities already give it.
    sets : (S,) int
        The sets the worst share is taken over.
    t_col : int
        The maximin column.
    flows_integral : bool
        Whether covered people are multiples of ``1/D`` at an optimum (an integral assignment).

    Returns
    -------
    rows : (S × columns) CSR
    rhs : (S,) float
        Upper bounds of the rows.
    scale : float
        ``L`` when the column holds the integer ``L * tau``, else 1.0: the column's upper bound.
    scaled : bool
        Whether the column is integer.
    """
    n_cols = set_rows.shape[1]
    A_s = set_rows[sets]
    N = set_people[sets]
    B = set_before[sets]
    D = decimal_scale(np.concatenate([A_s.data, B]))
    L = None
    # covered people are multiples of 1/D at an optimum only when the assignment is integral
    if D is not None and is_integral(N) and N.size and flows_integral:
        lcm = 1
        for n in np.round(N).astype(np.int64):
            lcm = math.lcm(lcm, int(n))
            if lcm * D > MAXIMIN_SCALE_LIMIT:
                break
        if lcm * D <= MAXIMIN_SCALE_LIMIT:
            L = float(lcm * D)
    if L is not None:
        factor = L / N
        rows = sp.diags(factor) @ (-A_s)
        rows = sp.csr_matrix(rows + sp.csr_matrix((np.ones(sets.size), (np.arange(sets.size), np.full(sets.size, t_col))), shape=(sets.size, n_cols)))
        return rows, factor * B, L, True
    rows = sp.csr_matrix(-A_s + sp.csr_matrix((N, (np.arange(sets.size), np.full(sets.size, t_col))), shape=(sets.size, n_cols)))
    return rows, B, 1.0, False


def maximin_first_stage(model: LinearModel, index: MaximinColumn) -> LinearModel:
    """The first maximin solve: the same rows, objective ``t`` alone and no offset."""
    c = np.zeros(model.n_cols)
    c[index.t_col] = 1.0
    return replace(model, c=c, offset=0.0)


def fix_worst_share(model: LinearModel, index: MaximinColumn, t_value: float) -> LinearModel:
    """The second maximin solve: ``t`` held at or above the first solve's optimum.

    A scaled (integer) ``t`` is fixed exactly; a continuous one gives up ``MAXIMIN_BACKOFF`` of a
    share, more than any solver's feasibility tolerance, so the second solve cannot be made
    infeasible by the first solve's rounding.
    """
    return model.with_col_bounds(np.array([index.t_col]), lower=held_level(index, t_value))


def held_level(index: MaximinColumn, t_value: float) -> float:
    """The value the maximin column is held at in the second solve (column units)."""
    if index.t_scale != 1.0:
        return float(np.round(t_value))
    return max(0.0, float(t_value) - MAXIMIN_BACKOFF)


def worst_share(values: np.ndarray, index: MaximinColumn) -> float:
    """The maximin column's value as a share in [0, 1]."""
    return float(values[index.t_col]) / index.t_scale
