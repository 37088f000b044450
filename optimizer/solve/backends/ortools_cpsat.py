"""OR-Tools CP-SAT. It needs integer variables and integer coefficients, so every row and the
objective are scaled by a power of ten that makes them exactly integral, or the model is declined
with a message that says which number could not be scaled."""

from __future__ import annotations

import threading
import time

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel, decimal_scale, decimal_scales

from lifecircle.optimizer.core import events
from lifecircle.optimizer.errors import CapabilityError
from lifecircle.optimizer.solve.backends.watch import MipWatch, on_main_thread
from lifecircle.optimizer.solve.backends.base import (
    Backend, Capability, LinearSolution, SolveOptions, Status, Termination, finish,
)

# The status table: CP-SAT status name -> (status, termination). CP-SAT reports a reached
# relative_gap_limit as OPTIMAL (finish() makes it feasible at gap_limit) and a time stop with a
# plan as FEASIBLE; UNKNOWN is a stop before any plan, the clock when a time limit was set.
CPSAT_STATUS = {
    "OPTIMAL": (Status.OPTIMAL, Termination.OPTIMAL),
    "FEASIBLE": (Status.FEASIBLE, Termination.TIME_LIMIT),
    "INFEASIBLE": (Status.INFEASIBLE, Termination.INFEASIBLE),
    "UNKNOWN": (Status.NO_SOLUTION, Termination.TIME_LIMIT),
}

MAX_DECIMALS = 6
# CP-SAT works in int64; keep clear of it so sums of scaled terms cannot overflow.
MAX_ABS_INT = 2**53


def _row_scales(A: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per-row power-of-ten scale of coefficients and bounds (models.linear.decimal_scales)."""
    m = A.shape[0]
    rows = np.arange(m)
    row_of = np.repeat(rows, np.diff(A.indptr))
    scales = decimal_scales(np.concatenate([A.data, lower, upper]), np.concatenate([row_of, rows, rows]), m,
                            MAX_DECIMALS)
    if (scales == 0).any():
        raise CapabilityError(
            f"ortools-cpsat: constraint row {int(np.flatnonzero(scales == 0)[0])} has coefficients that "
            f"cannot be scaled exactly to integers with {MAX_DECIMALS} decimals; use --solver highs"
        )
    return scales


def _objective_scale(model: LinearModel) -> float:
    """The power of ten that makes the objective integral; CapabilityError when none does."""
    obj_scale = decimal_scale(model.c, MAX_DECIMALS, MAX_ABS_INT)
    if obj_scale is None:
        bad = model.c[np.abs(model.c * 10**MAX_DECIMALS - np.round(model.c * 10**MAX_DECIMALS)) > 1e-9][:1]
        raise CapabilityError(
            f"ortools-cpsat: objective coefficient {bad[0] if bad.size else '?'} cannot be scaled "
            f"exactly to an integer with {MAX_DECIMALS} decimals; use --solver highs"
        )
    return obj_scale


def _progress_callback(cp_model, solver, model: LinearModel, name: str, obj_scale: float):
    """A solution callback feeding ``mip`` events (issue 15), and the bound callback for progress
    between solutions; None when nobody watches (the solve then runs exactly as before)."""
    if not events.watching():
        return None
    watch = MipWatch(model, name)

    class Progress(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            watch.report(self.objective_value / obj_scale, self.best_objective_bound / obj_scale)

    callback = Progress()
    solver.best_bound_callback = lambda bound: watch.report(watch.last_raw, bound / obj_scale)
    return callback


def _solve_stoppable(solver, cp, callback):
    """``solver.solve`` that Ctrl-C stops at once (issue 15). On the main thread the solve runs
    in a helper thread while this one waits in short joins, where KeyboardInterrupt can land; it
    then stops the search, waits for the solver and re-raises. CP-SAT's own SIGINT catching is off:
    it would end the search as if the time limit had come, and the run would carry on."""
    if not on_main_thread():
        return solver.solve(cp, callback)
    solver.parameters.catch_sigint_signal = False
    answer = {}

    def run() -> None:
        try:
            answer["result"] = solver.solve(cp, callback)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            answer["error"] = error

    worker = threading.Thread(target=run, name="cp-sat", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        solver.stop_search()
        worker.join()
        raise
    if "error" in answer:
        raise answer["error"]
    return answer["result"]


class OrtoolsCpsatBackend(Backend):
    name = "ortools-cpsat"
    library = "ortools"
    # Integers only: continuous columns only where the model says an integral optimum exists, and
    # data that scales exactly to integers (see decline).
    capabilities = frozenset({Capability.MILP, Capability.WARM_START, Capability.TIME_LIMIT,
                              Capability.GAP_LIMIT})
    # Not declared safe: two CpSolvers in two threads crashed in or-tools issue 1958, and each solve
    # already runs 8 workers, so parallel budgets would not help anyway.
    thread_safe = False

    def decline(self, model: LinearModel, options: SolveOptions) -> str | None:
        """Also refuses fractional column bounds and coefficients that no power of ten up to
        ``10**MAX_DECIMALS`` makes integral (the scaling is vectorised: no solver call)."""
        reason = super().decline(model, options)
        if reason is not None:
            return reason
        reason = self._bound_reason(model)
        if reason is not None:
            return reason
        try:
            _objective_scale(model)
            _row_scales(model.A, model.row_lower, model.row_upper)
        except CapabilityError as error:
            return str(error)
        return None

    @staticmethod
    def _bound_reason(model: LinearModel) -> str | None:
        for name, bounds in (("lower", model.col_lower), ("upper", model.col_upper)):
            fin = bounds[np.isfinite(bounds)]
            if np.any(fin != np.round(fin)):
                return f"ortools-cpsat: a column {name} bound is not an integer; use --solver highs"
        return None

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        from ortools.sat.python import cp_model

        # solve_linear asked decline() already; a direct caller has not. The cheap checks again,
        # and the scalings below raise on data they cannot scale.
        reason = Backend.decline(self, model, options) or self._bound_reason(model)
        if reason is not None:
            raise CapabilityError(reason)
        obj_scale = _objective_scale(model)
        A = model.A
        row_scale = _row_scales(A, model.row_lower, model.row_upper)

        # Stand-in for an infinite column bound: CP-SAT requires the sum of all domain sizes to
        # fit in int64, so it must stay small enough for millions of columns.
        big = cp_model.INT32_MAX
        cp = cp_model.CpModel()
        lo = np.where(np.isfinite(model.col_lower), model.col_lower, -big).astype(np.int64)
        hi = np.where(np.isfinite(model.col_upper), model.col_upper, big).astype(np.int64)
        cols = [cp.new_int_var(int(lo[j]), int(hi[j]), f"v{j}") for j in range(model.n_cols)]
        scaled = sp.diags(row_scale) @ A
        scaled.data = np.round(scaled.data)
        ints = scaled.data.astype(np.int64)
        row_lo = np.where(np.isfinite(model.row_lower), np.round(model.row_lower * row_scale), -MAX_ABS_INT)
        row_hi = np.where(np.isfinite(model.row_upper), np.round(model.row_upper * row_scale), MAX_ABS_INT)
        for r in range(model.n_rows):
            s, e = scaled.indptr[r], scaled.indptr[r + 1]
            expr = cp_model.LinearExpr.weighted_sum([cols[j] for j in scaled.indices[s:e]], ints[s:e].tolist())
            cp.add_linear_constraint(expr, int(row_lo[r]), int(row_hi[r]))
        nz = np.flatnonzero(model.c)
        obj = cp_model.LinearExpr.weighted_sum([cols[j] for j in nz], np.round(model.c[nz] * obj_scale).astype(np.int64).tolist())
        cp.maximize(obj) if model.sense == MAXIMIZE else cp.minimize(obj)
        if options.warm_start is not None:
            for j, v in enumerate(np.round(options.warm_start).astype(np.int64)):
                cp.add_hint(cols[j], int(v))

        solver = cp_model.CpSolver()
        # The full portfolio even on 2 cores: 2 workers failed to prove instances that 8 closed at once.
        solver.parameters.num_workers = int(options.threads or 8)
        solver.parameters.relative_gap_limit = float(options.gap)
        solver.parameters.absolute_gap_limit = 0.0 if options.gap == 0 else 1e-6
        solver.parameters.log_search_progress = bool(options.verbose)
        if options.seed is not None:
            solver.parameters.random_seed = int(options.seed)
        if options.time_limit_s is not None:
            solver.parameters.max_time_in_seconds = float(options.time_limit_s)
        t0 = time.perf_counter()
        progress = _progress_callback(cp_model, solver, model, self.name, obj_scale)
        result = _solve_stoppable(solver, cp, progress)
        solve_s = time.perf_counter() - t0

        status, termination = CPSAT_STATUS.get(solver.status_name(result), (Status.NO_SOLUTION, Termination.NO_SOLUTION))
        if result == cp_model.MODEL_INVALID:
            raise CapabilityError(f"ortools-cpsat: model invalid: {cp.validate()}")
        if result == cp_model.UNKNOWN and options.time_limit_s is None:
            termination = Termination.NO_SOLUTION
        values = None
        bound = None
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            values = np.array([solver.value(c) for c in cols], dtype=float)
            bound = solver.best_objective_bound / obj_scale
        return finish(model, self.name, status, values, bound, solve_s,
                      message=solver.status_name(result), termination=termination)
