"""A solver-neutral sparse mixed-integer linear program.

Every formulation in ``models/`` produces a :class:`LinearModel`; every exact backend consumes one.
Rows are ``row_lower <= A @ v <= row_upper``; columns are ``col_lower <= v <= col_upper``.
Named blocks let a formulation decode its own columns and let callers (sweeps, explanations)
change one row, such as the budget, without rebuilding.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np
import scipy.sparse as sp

MAXIMIZE = "max"
MINIMIZE = "min"


@dataclass(frozen=True)
class LinearModel:
    """``sense`` c·v + offset subject to row and column bounds; ``integrality`` marks integer columns.

    Parameters
    ----------
    sense : {"max", "min"}
    c : (n,) float array, objective coefficients.
    A : (m, n) scipy.sparse CSR matrix.
    row_lower, row_upper : (m,) float arrays, ``-inf``/``inf`` where a side is free.
    col_lower, col_upper : (n,) float arrays.
    integrality : (n,) bool array, True for integer columns.
    offset : constant added to the objective (for example people covered by existing facilities).
    integral_optimum : continuous columns may be declared integer without changing the optimum.
    col_blocks, row_blocks : name -> slice, the formulation's own bookkeeping.
    """

    sense: str
    c: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    offset: float = 0.0
    # True when continuous columns take integral values in some optimal solution (coverage y, the
    # assignment z of p-median), so an integer-only solver may treat them as integers.
    integral_optimum: bool = False
    col_blocks: Mapping[str, slice] = field(default_factory=dict)
    row_blocks: Mapping[str, slice] = field(default_factory=dict)

    def __post_init__(self):
        n = self.c.shape[0]
        m = self.A.shape[0]
        if self.sense not in (MAXIMIZE, MINIMIZE):
            raise ValueError(f"sense must be 'max' or 'min', got {self.sense!r}")
        if self.A.shape[1] != n:
            raise ValueError(f"A has {self.A.shape[1]} columns but c has {n}")
        for name, arr, size in (
            ("row_lower", self.row_lower, m),
            ("row_upper", self.row_upper, m),
            ("col_lower", self.col_lower, n),
            ("col_upper", self.col_upper, n),
            ("integrality", self.integrality, n),
        ):
            if arr.shape != (size,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({size},)")
        object.__setattr__(self, "A", sp.csr_matrix(self.A))
        object.__setattr__(self, "col_blocks", MappingProxyType(dict(self.col_blocks)))
        object.__setattr__(self, "row_blocks", MappingProxyType(dict(self.row_blocks)))

    @property
    def n_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def objective_value(self, v: np.ndarray) -> float:
        return float(self.c @ v + self.offset)

    def violation(self, v: np.ndarray) -> float:
        """Largest violation of any row, column bound or integrality; 0 for a feasible point."""
        Av = self.A @ v
        worst = 0.0
        if self.n_rows:
            worst = max(worst, float(np.max(self.row_lower - Av, initial=0.0)))
            worst = max(worst, float(np.max(Av - self.row_upper, initial=0.0)))
        worst = max(worst, float(np.max(self.col_lower - v, initial=0.0)))
        worst = max(worst, float(np.max(v - self.col_upper, initial=0.0)))
        if self.integrality.any():
            frac = np.abs(v[self.integrality] - np.round(v[self.integrality]))
            worst = max(worst, float(frac.max(initial=0.0)))
        return worst

    def with_row_bounds(self, block: str, lower=None, upper=None) -> "LinearModel":
        """A copy with one named row block's bounds replaced (the budget row in a sweep)."""
        rows = self.row_blocks[block]
        row_lower = self.row_lower.copy()
        row_upper = self.row_upper.copy()
        if lower is not None:
            row_lower[rows] = lower
        if upper is not None:
            row_upper[rows] = upper
        return replace(self, row_lower=row_lower, row_upper=row_upper)

    def with_col_bounds(self, index: np.ndarray, lower=None, upper=None) -> "LinearModel":
        """A copy with some columns' bounds replaced (forcing a site in or out)."""
        col_lower = self.col_lower.copy()
        col_upper = self.col_upper.copy()
        if lower is not None:
            col_lower[index] = lower
        if upper is not None:
            col_upper[index] = upper
        return replace(self, col_lower=col_lower, col_upper=col_upper)


def decimal_scales(values, group, n_groups: int, max_decimals: int = 6) -> np.ndarray:
    """Per group, the smallest 10**d (d <= max_decimals) making every finite value of the group
    an integer (to 1e-9 relative), or 0 where none does: the one decimal-scale kernel.

    Vectorised over groups by digit count: one pass per d, never one per group. Integer-only
    solvers (CP-SAT, per constraint row) and the sweep's objective step use it.
    """
    values = np.asarray(values, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    finite = np.isfinite(values)
    values, group = values[finite], group[finite]
    scales = np.zeros(n_groups)
    pending = np.ones(n_groups, dtype=bool)
    for d in range(max_decimals + 1):
        scaled = values * 10.0**d
        off = np.abs(scaled - np.round(scaled)) > 1e-9 * np.maximum(1.0, np.abs(scaled))
        # bincount, not np.logical_or.at: ufunc.at took 0.8 s on 2 million nonzeros
        bad = np.bincount(group[off], minlength=n_groups) > 0
        done = pending & ~bad
        scales[done] = 10.0**d
        pending &= bad
        if not pending.any():
            break
    return scales


def decimal_scale(values, max_decimals: int = 6, max_abs: float | None = None) -> int | None:
    """Smallest 10**d (d <= max_decimals) making every finite value an integer, or None.

    Integer-only solvers (CP-SAT) need exact integer coefficients; ``max_abs`` refuses scales
    whose integers would grow past what the solver's arithmetic holds.
    """
    values = np.asarray(values, dtype=float).ravel()
    scale = decimal_scales(values, np.zeros(values.size, dtype=np.int64), 1, max_decimals)[0]
    if scale == 0:
        return None
    finite = values[np.isfinite(values)]
    if max_abs is not None and np.abs(finite * scale).max(initial=0.0) > max_abs:
        return None
    return int(scale)


def stack_rows(blocks: list[tuple[str, sp.spmatrix, np.ndarray, np.ndarray]]):
    """Stack named row blocks into (A, row_lower, row_upper, row_blocks).

    ``blocks`` is a list of (name, matrix, lower, upper); empty blocks are kept as empty slices so
    callers can rely on every name existing.
    """
    mats, lowers, uppers, names = [], [], [], {}
    start = 0
    n_cols = None
    for name, mat, lower, upper in blocks:
        mat = sp.csr_matrix(mat)
        n_cols = mat.shape[1] if n_cols is None else n_cols
        rows = mat.shape[0]
        names[name] = slice(start, start + rows)
        start += rows
        mats.append(mat)
        lowers.append(np.broadcast_to(np.asarray(lower, dtype=float), (rows,)))
        uppers.append(np.broadcast_to(np.asarray(upper, dtype=float), (rows,)))
    A = sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, n_cols or 0))
    return A, np.concatenate(lowers), np.concatenate(uppers), names
