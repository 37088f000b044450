"""The greedy heuristic as a backend: takes the coverage problem itself, not a MILP."""

from __future__ import annotations

from lifecircle.optimizer.solve.backends.base import Backend


class GreedyBackend(Backend):
    name = "greedy"
    library = "numpy"
    exact = False
    features = frozenset({"coverage"})
    thread_safe = True  # a pure function of read-only arrays
