"""MIP progress from inside a solver, as ``events.emit("mip", ...)`` (issue 15).

A backend builds one :class:`MipWatch` per solve and feeds it the solver's raw incumbent and bound
from its callback (HiGHS: ``cbMipImprovingSolution`` and ``cbMipInterrupt``; CP-SAT: a solution
callback). The watch adds the model's objective offset (solvers never see it), drops repeats and
throttles bound-only updates, so a callback that fires thousands of times a second costs the
console a few redraws. Backends install callbacks only when :func:`events.watching` says someone
listens, or (HiGHS) when the solve runs on the main thread, where the callback is also what lets
Ctrl-C stop a long solve at once instead of after it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time

from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.core import events

# Bound-only changes are shown at most this often; a new incumbent is shown at once.
BOUND_EVERY_S = 0.25

_shown = threading.local()


@contextlib.contextmanager
def shown_as(divisor: float, offset: float = 0.0):
    """While the block runs on this thread, events show ``raw / divisor + offset`` instead of the
    raw objective: a composite objective (leastcost.single_objective: coverage x scale x big minus
    cost and rank) is shown in coverage units, as the planner knows them."""
    saved = getattr(_shown, "value", None)
    _shown.value = (float(divisor), float(offset))
    try:
        yield
    finally:
        _shown.value = saved


@contextlib.contextmanager
def muted():
    """While the block runs on this thread, solves emit no ``mip`` events: their objective is not
    a plan's coverage (a Benders master's approximation or cost-stage master, whose caller reports
    its own figures; the coverage ceiling of optimizer/solve/reduced.py, a bound)."""
    saved = getattr(_shown, "muted", False)
    _shown.muted = True
    try:
        yield
    finally:
        _shown.muted = saved


def is_muted() -> bool:
    return getattr(_shown, "muted", False)


def _display(value: float | None, offset: float, scale=None) -> float | None:
    if value is None:
        return None
    scale = getattr(_shown, "value", None) if scale is None else scale
    return value + offset if scale is None else value / scale[0] + scale[1]


def relative_gap(incumbent: float | None, bound: float | None) -> float | None:
    """|bound - incumbent| / |incumbent| (HiGHS's definition); None without both or at incumbent 0."""
    if incumbent is None or bound is None:
        return None
    if incumbent == 0:
        return 0.0 if bound == 0 else None
    return abs(bound - incumbent) / abs(incumbent)


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    # HiGHS reports "no incumbent yet" as +-inf, and very large stand-ins (1e30) as well
    return value if math.isfinite(value) and abs(value) < 1e29 else None


class MipWatch:
    """Turns one solve's callback values into throttled ``mip`` events."""

    def __init__(self, model: LinearModel, solver: str):
        self.offset = float(model.offset)
        self.maximize = model.sense == MAXIMIZE
        self.solver = solver
        self.t0 = time.perf_counter()
        self.last: tuple = (None, None)
        self.last_t = -math.inf
        self.last_raw = None  # the latest raw incumbent, for bound-only callbacks (CP-SAT)
        self.interrupted = False  # Ctrl-C arrived inside a callback: the backend stops and re-raises
        self.emitting = events.watching() and not is_muted()
        self.scale = getattr(_shown, "value", None)  # callbacks may run on the solver's threads

    def report(self, incumbent, bound) -> None:
        """Record the solver's raw (offset-free) ``incumbent`` and ``bound``; emit when worth it."""
        if not self.emitting:
            return
        if _finite(incumbent) is not None:
            self.last_raw = incumbent
        inc = _display(_finite(incumbent), self.offset, self.scale)
        bnd = _display(_finite(bound), self.offset, self.scale)
        if inc is not None and bnd is not None:
            # a bound a hair past the incumbent is float noise (finish() clamps it the same way)
            bnd = max(bnd, inc) if self.maximize else min(bnd, inc)
        now = time.perf_counter()
        if (inc, bnd) == self.last or (inc == self.last[0] and now - self.last_t < BOUND_EVERY_S):
            return
        self.last, self.last_t = (inc, bnd), now
        events.emit("mip", incumbent=inc, bound=bnd, gap=relative_gap(inc, bnd),
                    elapsed_s=now - self.t0, solver=self.solver)


def on_main_thread() -> bool:
    """Signals (Ctrl-C) reach Python only on the main thread."""
    return threading.current_thread() is threading.main_thread()


def final_event(model: LinearModel, result) -> None:
    """The solve's last word for a MIP: incumbent = the returned objective, bound = its bound."""
    if not events.watching() or not model.integrality.any() or is_muted():
        return
    # the result's objective and bound include the offset; _display wants them without
    offset = float(model.offset)
    incumbent = _display(None if _finite(result.objective) is None else _finite(result.objective) - offset, offset)
    bound = _display(None if _finite(result.bound) is None else _finite(result.bound) - offset, offset)
    events.emit("mip", incumbent=incumbent, bound=bound, gap=relative_gap(incumbent, bound),
                elapsed_s=result.solve_s, solver=result.backend, final=True)
