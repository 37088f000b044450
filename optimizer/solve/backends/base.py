"""What every backend shares: options in, one :class:`LinearSolution` out, status normalised.

A backend module defines a subclass of :class:`Backend`, imports its solver library inside
``solve`` only (so a missing library costs nothing until that backend is asked for), and registers
itself in :mod:`optimizer.backends`.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.core.status import Status
from lifecircle.optimizer.core.tolerances import GAP_ZERO



@dataclass(frozen=True)
class SolveOptions:
    """How to run a backend. ``gap`` is the relative gap at which to stop (0: prove optimality)."""

    time_limit_s: float | None = None
    gap: float = 0.0
    threads: int | None = None
    warm_start: np.ndarray | None = None
    verbose: bool = False
    # False: skip the solver's own presolve, for models already reduced by models/reduce.py, where
    # HiGHS's probing costs more than the solve (issue 6 sweeps: about 3x faster end to end).
    presolve: bool = True


@dataclass(frozen=True)
class LinearSolution:
    """A backend's answer for a :class:`LinearModel`: column values and the normalised status."""

    status: Status
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solve_s: float
    backend: str
    message: str = ""
    extra: dict = field(default_factory=dict)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    diff = abs(bound - objective)
    if diff <= GAP_ZERO * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-10)


def finish(
    model: LinearModel,
    backend: str,
    status: Status,
    values,
    bound: float | None,
    solve_s: float,
    message: str = "",
    **extra,
) -> LinearSolution:
    """Recompute the objective from the values, add the offset to the bound, fix the status.

    The objective is never taken from the solver: it is ``c @ v + offset`` of the returned plan.
    A solver that says optimal while its bound is still away from the plan (a ``--gap`` stop) is
    reported as feasible, because ``optimal`` means proven at gap 0.
    """
    if values is None or status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        return LinearSolution(status, None, None, None if bound is None else bound + model.offset,
                              None, solve_s, backend, message, dict(extra))
    values = np.asarray(values, dtype=float)
    # Integer columns come back as 0.9999999; round them so decoding and evaluate() see integers.
    values = np.where(model.integrality, np.round(values), values)
    objective = model.objective_value(values)
    # An infinite bound (no dual bound yet) is no bound; JSON cannot carry it either.
    full_bound = None if bound is None or not math.isfinite(bound) else float(bound) + model.offset
    if full_bound is not None:
        # A bound on the wrong side of the plan is float noise; clamp it to the plan.
        if model.sense == MAXIMIZE:
            full_bound = max(full_bound, objective)
        else:
            full_bound = min(full_bound, objective)
    if status == Status.OPTIMAL and full_bound is None:
        full_bound = objective
    gap = relative_gap(objective, full_bound)
    if status == Status.OPTIMAL and gap not in (None, 0.0):
        status = Status.FEASIBLE
    if status == Status.FEASIBLE and gap == 0.0:
        status = Status.OPTIMAL
    return LinearSolution(status, values, objective, full_bound, gap, solve_s, backend, message,
                          dict(extra))


# quiet_stdout's shared state: threads (a sweep's parallel budgets) overlap their quiet spans.
_QUIET_LOCK = threading.Lock()
_quiet_depth = 0
_quiet_saved_fd: int | None = None


@contextlib.contextmanager
def quiet_stdout():
    """Send file descriptor 1 to /dev/null: some solver libraries print banners from C code,
    which would corrupt ``--json`` output on stdout.

    Safe from several threads at once: file descriptor 1 belongs to the process, so the first
    thread to enter redirects it and the last to leave restores it (a depth count under a lock).
    Two threads each saving and restoring on their own could restore /dev/null for good.
    """
    global _quiet_depth, _quiet_saved_fd
    with _QUIET_LOCK:
        if _quiet_depth == 0:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
            except BaseException:
                os.close(saved)
                raise
            finally:
                os.close(devnull)
            _quiet_saved_fd = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                os.dup2(_quiet_saved_fd, 1)
                os.close(_quiet_saved_fd)
                _quiet_saved_fd = None


class Backend:
    """A solver. Subclasses set the class attributes and implement :meth:`solve`."""

    name: ClassVar[str]
    library: ClassVar[str]  # the import name, for `lifecircle solvers`
    exact: ClassVar[bool] = True
    # What the backend can take: "milp" (a LinearModel), "coverage" (a CoverageProblem directly).
    features: ClassVar[frozenset] = frozenset({"milp"})
    # True when two solves may run at once in one process (separate threads, separate solver
    # objects), as a sweep's budget chains do; a backend not known to be safe runs them one by one.
    thread_safe: ClassVar[bool] = False

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec(self.library) is not None

    def version(self) -> str | None:
        from importlib import metadata

        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return None

    @property
    def distribution(self) -> str:
        return self.library

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        raise NotImplementedError
