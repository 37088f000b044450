"""What every backend shares: options in, one :class:`LinearSolution` out, status normalised.

A backend module defines a subclass of :class:`Backend`, declares what it can take as a set of
:class:`Capability` values, imports its solver library inside ``solve`` only (so a missing library
costs nothing until that backend is asked for), and registers itself in
:mod:`optimizer.solve.backends`. :meth:`Backend.decline` answers, before any solve, whether a model
is one the backend refuses; ``solve_linear`` raises :class:`CapabilityError` with its reason.
Every registered backend passes tests/solve/test_backend_contract.py.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from lifecircle.models.linear import MAXIMIZE, MINIMIZE, LinearModel, decimal_scale
from lifecircle.optimizer.core.deadline import Deadline
from lifecircle.optimizer.core.status import BoundSource, Status, Termination, default_termination
from lifecircle.optimizer.core.tolerances import GAP_ZERO, OBJECTIVE_TOL
from lifecircle.optimizer.errors import SolverResultError


class Capability(str, enum.Enum):
    """What a backend can take. A model or an option outside a backend's set is declined before
    the solver is called (linopy's solver ``features``)."""

    LP = "lp"  # continuous columns that may be fractional at the optimum
    MILP = "milp"  # integer columns in a LinearModel
    FRACTIONAL_DATA = "fractional_data"  # coefficients and bounds need not scale to integers
    WARM_START = "warm_start"  # uses SolveOptions.warm_start (without it a start is ignored: a hint)
    TIME_LIMIT = "time_limit"  # honours SolveOptions.time_limit_s
    GAP_LIMIT = "gap_limit"  # honours SolveOptions.gap
    COVERAGE = "coverage"  # solves a CoverageProblem itself, without a LinearModel (greedy)

    def __str__(self) -> str:
        return self.value


EXACT_CAPABILITIES = frozenset({Capability.LP, Capability.MILP, Capability.FRACTIONAL_DATA,
                                Capability.WARM_START, Capability.TIME_LIMIT, Capability.GAP_LIMIT})


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
    # The solver's random seed (issue 16: bench rows pin and record it); None: the solver's default.
    # HiGHS, SCIP and CP-SAT take it; CBC through PuLP ignores it.
    seed: int | None = None
    # issue 14: the run's one clock; solve_linear gives each stage what is left of it (and no more
    # than time_limit_s), so a run with several stages still ends at --time-limit.
    deadline: Deadline | None = None
    # issue 14: False answers coverage only (any optimal plan, as before); benchmarks compare
    canonical: bool = True
    # HiGHS options by name, as (name, value) pairs set after the ones above; other backends ignore
    # them. issue 16: the p-MCLP proof after fixing runs with HiGHS's primal heuristics off.
    highs_options: tuple = ()


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
    termination: Termination | None = None  # why the solver stopped; None: implied by status
    # issue 14: where ``bound`` comes from: mip (branch and bound), lp (a solved relaxation),
    # certificate (no solver needed, such as an empty model); None without a bound
    bound_source: BoundSource | None = None

    def __post_init__(self):
        if self.termination is None:
            object.__setattr__(self, "termination", default_termination(self.status))


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
    termination: Termination | None = None,
    **extra,
) -> LinearSolution:
    """Recompute the objective from the values, add the offset to the bound, fix the status.

    The objective is never taken from the solver: it is ``c @ v + offset`` of the returned plan.
    A solver that says optimal while its bound is still away from the plan (a ``--gap`` stop) is
    reported as feasible with termination ``gap_limit``, because ``optimal`` means proven at gap 0;
    a stopped solve whose plan meets its bound is optimal. ``termination`` is the backend's own
    stop reason from its status table; it is made to agree with the status here.
    """
    if values is None and status == Status.FEASIBLE:  # a stop that left no plan
        status = Status.NO_SOLUTION
    if values is None or status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        if status != Status.NO_SOLUTION or termination not in (Termination.TIME_LIMIT, Termination.NO_SOLUTION):
            termination = default_termination(status)
        return LinearSolution(status, None, None, None if bound is None else bound + model.offset,
                              None, solve_s, backend, message, dict(extra), termination)
    values = np.asarray(values, dtype=float)
    # Integer columns come back as 0.9999999; round them so decoding and evaluate() see integers.
    values = np.where(model.integrality, np.round(values), values)
    objective = model.objective_value(values)
    # An infinite bound (no dual bound yet) is no bound; JSON cannot carry it either.
    full_bound = None if bound is None or not math.isfinite(bound) else float(bound) + model.offset
    if full_bound is not None:
        # A bound on the wrong side of the plan by less than the tolerance is float noise: clamp
        # it to the plan. By more, the solver contradicts itself: refuse it (issue 14).
        wrong = full_bound - objective if model.sense == MINIMIZE else objective - full_bound
        if wrong > bound_tolerance(model, objective):
            raise SolverResultError(
                f"{backend}: the solver's bound {full_bound:.10g} is on the wrong side of its plan's "
                f"objective {objective:.10g} (by {wrong:.3g}); this is a bug in lifecircle or the solver"
            )
        if model.sense == MAXIMIZE:
            full_bound = max(full_bound, objective)
        else:
            full_bound = min(full_bound, objective)
    if status == Status.OPTIMAL and full_bound is None:
        full_bound = objective
    gap = relative_gap(objective, full_bound)
    source = None if full_bound is None else (BoundSource.MIP if model.integrality.any() else BoundSource.LP)
    if status == Status.OPTIMAL and gap not in (None, 0.0):
        status, termination = Status.FEASIBLE, Termination.GAP_LIMIT
    if status == Status.FEASIBLE and gap == 0.0:
        status = Status.OPTIMAL
    if status == Status.OPTIMAL:
        termination = Termination.OPTIMAL
    elif termination not in (Termination.GAP_LIMIT, Termination.TIME_LIMIT, Termination.HEURISTIC):
        termination = Termination.TIME_LIMIT  # a stopped solver that gave no reason: the clock
    return LinearSolution(status, values, objective, full_bound, gap, solve_s, backend, message,
                          dict(extra), termination, source)


def objective_step(c: np.ndarray) -> float | None:
    """1/s for the smallest decimal scale s making every objective coefficient an integer
    (:func:`models.linear.decimal_scale`): two plans' objectives differ by 0 or at least this.
    None when the coefficients have more decimals than that (decay weights, fractional data)."""
    c = np.asarray(c, dtype=float)
    c = c[c != 0]
    if c.size == 0:
        return None
    scale = decimal_scale(c, max_abs=2.0**53)
    return None if scale is None else 1.0 / scale


def bound_tolerance(model: LinearModel, objective: float) -> float:
    """How far a bound may sit on the wrong side of its plan and still be float noise: half the
    objective step where the objective is on a decimal grid (an integer model's bound cannot be
    off by more without being wrong), else :data:`OBJECTIVE_TOL` relative."""
    step = objective_step(model.c) if model.integrality.any() else None
    return OBJECTIVE_TOL * max(1.0, abs(objective)) if step is None else 0.5 * step


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
    """A solver. Subclasses set the class attributes and implement :meth:`solve`; a backend that
    refuses some models it nominally takes (CP-SAT and data that will not scale to integers)
    extends :meth:`decline`."""

    name: ClassVar[str]
    library: ClassVar[str]  # the import name, for `lifecircle solvers`
    exact: ClassVar[bool] = True
    capabilities: ClassVar[frozenset] = EXACT_CAPABILITIES
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

    @property
    def features(self) -> frozenset:
        """The capability names as plain strings ("milp", "coverage", ...), for callers that
        test ``"milp" in backend.features``."""
        return frozenset(c.value for c in self.capabilities)

    def decline(self, model: LinearModel, options: SolveOptions) -> str | None:
        """Why this backend refuses ``model`` with ``options`` (one line, naming the fix), or None.

        Called before :meth:`solve`, never inside it, so a refusal costs no solver time. Checks the
        declared capabilities; a backend with data rules of its own extends it.
        """
        caps = self.capabilities
        if Capability.LP not in caps and Capability.MILP not in caps:
            return (f"{self.name}: takes the coverage problem itself, not a linear model; "
                    "use --solver highs")
        if model.integrality.any() and Capability.MILP not in caps:
            return f"{self.name}: the model has integer columns; use --solver highs"
        if (~model.integrality).any() and Capability.LP not in caps and not model.integral_optimum:
            return (f"{self.name}: the model has continuous variables that may be fractional at the "
                    "optimum; use --solver highs")
        if options.time_limit_s is not None and Capability.TIME_LIMIT not in caps:
            return f"{self.name}: cannot stop at a time limit; drop --time-limit or use --solver highs"
        if options.gap and Capability.GAP_LIMIT not in caps:
            return f"{self.name}: cannot stop at a relative gap; drop --gap or use --solver highs"
        return None

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        raise NotImplementedError
