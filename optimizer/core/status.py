"""The normalised status of a solve: every backend's own codes map onto these four values."""

from __future__ import annotations

import enum


class Status(str, enum.Enum):
    OPTIMAL = "optimal"  # proven at gap 0
    FEASIBLE = "feasible"  # a plan, stopped by a gap or time limit, with its bound
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped before any plan was found

    def __str__(self) -> str:  # so f-strings and JSON show "optimal"
        return self.value
