"""Run any exact backend on any :class:`LinearModel`, and re-check what it returns.

This is the one path every formulation (the core coverage model, the classic models, sweeps)
goes through, so the feasibility re-check cannot be skipped by a new caller.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from lifecircle.models.linear import LinearModel

from lifecircle.optimizer.solve.backends import (
    DEFAULT_BACKEND, LinearSolution, SolveOptions, Status, Termination, get_backend,
)
from lifecircle.optimizer.solve.backends.watch import final_event
from lifecircle.optimizer.core.status import BoundSource
from lifecircle.optimizer.core.tolerances import FEASIBILITY_TOL
from lifecircle.optimizer.errors import CapabilityError, SolverResultError


def solve_linear(model: LinearModel, solver: str = DEFAULT_BACKEND,
                 options: SolveOptions | None = None) -> LinearSolution:
    """Solve ``model`` with the backend named ``solver`` and verify the returned plan.

    Raises :class:`~lifecircle.optimizer.errors.CapabilityError` (termination ``declined``) before
    any solver runs when the backend declines the model or the options
    (:meth:`Backend.decline`). An empty model (no columns) is answered without a solver: its only
    plan is the empty one.
    """
    options = options or SolveOptions()
    backend = get_backend(solver, "milp")
    reason = backend.decline(model, options)
    if reason is not None:
        raise CapabilityError(reason)
    if model.n_cols == 0:
        zero = np.zeros(0)
        feasible = model.violation(zero) <= FEASIBILITY_TOL
        status = Status.OPTIMAL if feasible else Status.INFEASIBLE
        objective = model.offset if feasible else None
        return LinearSolution(status, zero if feasible else None, objective, objective,
                              0.0 if feasible else None, 0.0, backend.name, "empty model",
                              bound_source=BoundSource.CERTIFICATE if feasible else None)
    if options.deadline is not None:
        # issue 14: one clock for the run; this stage gets what is left of it
        if options.deadline.expired and options.warm_start is not None:
            start = np.asarray(options.warm_start, dtype=float)
            if start.shape == (model.n_cols,) and model.violation(start) <= FEASIBILITY_TOL:
                # no time left: the start is the answer, without a bound (the caller labels one)
                return LinearSolution(Status.FEASIBLE, start, model.objective_value(start), None, None,
                                      0.0, backend.name, "time limit reached before this stage: its start "
                                      "plan is kept", termination=Termination.TIME_LIMIT)
        options = replace(options, time_limit_s=options.deadline.limit(options.time_limit_s))
    t0 = time.perf_counter()
    result = backend.solve(model, options)
    if result.values is not None:
        worst = model.violation(result.values)
        if worst > FEASIBILITY_TOL * max(1.0, float(np.abs(model.A.data).max(initial=1.0))):
            raise SolverResultError(
                f"{backend.name} returned a plan that violates the model by {worst:g}; "
                "this is a bug in lifecircle or the solver, please report it"
            )
    if result.solve_s == 0.0:
        object.__setattr__(result, "solve_s", time.perf_counter() - t0)
    final_event(model, result)  # issue 15: the progress line ends on the returned plan
    return result
