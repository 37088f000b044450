"""HiGHS through highspy, with the sparse matrix passed whole (no per-element calls)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

import numpy as np
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel

from lifecircle.optimizer.core import events
from lifecircle.optimizer.solve.backends.watch import MipWatch, on_main_thread
from lifecircle.optimizer.solve.backends.base import (
    Backend, LinearSolution, SolveOptions, Status, Termination, finish, quiet_stdout,
)

# HiGHS with its primal heuristics off (sub-MIPs of RINS/RENS, feasibility jump, root reduced
# cost), for proofs that start from an incumbent already optimal or close: searching for plans is
# then waste. The p-MCLP proof (optimizer/classic/points.py, issue 16: 3.5 -> 1.7 CPU s on the
# hardest clustered instance) and the tie question (optimizer/solve/ties.py, issue 14) use it. A
# smaller cut pool paid on both. The solve stays exact: only the search for plans changes.
PROVE_OPTIONS = (("mip_heuristic_effort", 0.0), ("mip_heuristic_run_rins", False),
                 ("mip_heuristic_run_rens", False), ("mip_heuristic_run_root_reduced_cost", False),
                 ("mip_heuristic_run_feasibility_jump", False), ("mip_pool_soft_limit", 100))

# The status table: HiGHS model status name -> (status, termination). kOptimal also covers a
# mip_rel_gap stop: finish() turns an "optimal" whose plan is away from its bound into feasible at
# gap_limit. kUnboundedOrInfeasible counts as infeasible only without a plan (our models are
# bounded). Any other stop keeps a plan it has, as feasible; without one it is no_solution.
HIGHS_STATUS = {
    "kOptimal": (Status.OPTIMAL, Termination.OPTIMAL),
    "kInfeasible": (Status.INFEASIBLE, Termination.INFEASIBLE),
    "kUnboundedOrInfeasible": (Status.INFEASIBLE, Termination.INFEASIBLE),
    "kTimeLimit": (Status.FEASIBLE, Termination.TIME_LIMIT),
}


_pool_lock = threading.Lock()
_pool = {"running": 0}  # this backend's HiGHS solves running in this process


@contextlib.contextmanager
def _thread_pool(h, threads):
    """Ask for ``threads`` threads. HiGHS sizes one task scheduler per process at its first run
    and ends any later solve asking another size without a plan ("global scheduler has already
    been initialized"): a script solving with --threads 1, then 2, got no_solution. The scheduler
    is resized when no other HiGHS solve of this process is running; otherwise (sweeps in threads)
    this solve runs on the pool as it is rather than fail."""
    with _pool_lock:
        if threads and _pool["running"] == 0:
            # always resized: other highspy users here (evaluate's LPs, the swap LP) may have
            # started the scheduler at another size since this backend last set it
            h.resetGlobalScheduler(True)
            h.setOptionValue("threads", int(threads))
        _pool["running"] += 1
    try:
        yield
    finally:
        with _pool_lock:
            _pool["running"] -= 1


def highs_lp(model: LinearModel, *, with_offset: bool = False):
    """The model as a ``highspy.HighsLp``, matrix passed whole in CSC form.

    The backend leaves the offset out (``finish`` adds it to objective and bound); an exported
    file carries it, so another solver reports the same objective.
    """
    import highspy

    A = sp.csc_matrix(model.A)
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = model.n_rows
    lp.col_cost_ = np.asarray(model.c, dtype=float)
    lp.col_lower_ = np.asarray(model.col_lower, dtype=float)
    lp.col_upper_ = np.asarray(model.col_upper, dtype=float)
    lp.row_lower_ = np.asarray(model.row_lower, dtype=float)
    lp.row_upper_ = np.asarray(model.row_upper, dtype=float)
    if with_offset:
        lp.offset_ = float(model.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize if model.sense == MAXIMIZE else highspy.ObjSense.kMinimize
    if model.integrality.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in model.integrality
        ]
    return lp


class HighsBackend(Backend):
    name = "highs"
    library = "highspy"
    # Each calling thread gets its own HiGHS task scheduler (HiGHS PR 818) and run() releases the GIL.
    thread_safe = True

    @staticmethod
    def _stale_plan(h, model: LinearModel) -> bool:
        """True when the returned column values do not give HiGHS's own objective."""
        info = h.getInfo()
        if info.primal_solution_status != 2:
            return False
        plan = float(model.c @ np.asarray(h.getSolution().col_value, dtype=float))
        reported = float(info.objective_function_value)
        return abs(plan - reported) > 1e-6 * max(1.0, abs(reported))

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        import highspy

        t_enter = time.perf_counter()
        with quiet_stdout():  # the constructor prints a banner from C++
            h = highspy.Highs()
        h.setOptionValue("output_flag", bool(options.verbose))
        h.setOptionValue("mip_rel_gap", float(options.gap))
        h.setOptionValue("mip_abs_gap", 0.0 if options.gap == 0 else 1e-6)
        if options.time_limit_s is not None:
            h.setOptionValue("time_limit", float(options.time_limit_s))
        if not options.presolve:
            h.setOptionValue("presolve", "off")
        if options.seed is not None:
            h.setOptionValue("random_seed", int(options.seed))
        for name, value in options.highs_options:
            if h.setOptionValue(name, value) == highspy.HighsStatus.kError:  # HiGHS only logs a bad name
                raise ValueError(f"highs_options: HiGHS has no option {name!r} taking {value!r}")

        h.passModel(highs_lp(model))
        if options.warm_start is not None:
            start = highspy.HighsSolution()
            start.col_value = list(np.asarray(options.warm_start, dtype=float))
            start.value_valid = True
            h.setSolution(start)

        t0 = time.perf_counter()
        if options.time_limit_s is not None:
            # issue 14: passing a large model takes seconds; HiGHS's clock starts only at run()
            h.setOptionValue("time_limit", max(0.01, float(options.time_limit_s) - (t0 - t_enter)))
        with _thread_pool(h, options.threads), _watch(h, model, self.name):
            h.run()
            if options.warm_start is not None and self._stale_plan(h, model):
                # Seen with highspy 1.16 on capacitated models: status optimal and the right
                # objective, but col_value still holding the warm start. Solve again from scratch.
                h.clearSolver()
                h.passModel(highs_lp(model))
                h.run()
        solve_s = time.perf_counter() - t0

        model_status = h.getModelStatus()
        info = h.getInfo()
        has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
        values = np.asarray(h.getSolution().col_value, dtype=float) if has_plan else None
        is_mip = bool(model.integrality.any())
        bound = float(info.mip_dual_bound) if is_mip else None
        status, termination = HIGHS_STATUS.get(model_status.name, (Status.FEASIBLE, Termination.NO_SOLUTION))
        if model_status.name == "kUnboundedOrInfeasible" and has_plan:
            status, termination = Status.FEASIBLE, Termination.NO_SOLUTION
        if status == Status.FEASIBLE and not has_plan:
            status = Status.NO_SOLUTION
        if status == Status.OPTIMAL and not is_mip:
            bound = float(info.objective_function_value)
        return finish(model, self.name, status, values, bound, solve_s,
                      message=h.modelStatusToString(model_status), termination=termination)


@contextlib.contextmanager
def _watch(h, model: LinearModel, name: str):
    """Callbacks on ``h`` for a MIP: incumbent and bound as ``mip`` events while someone watches
    (issue 15), and on the main thread a stop at Ctrl-C. run() holds the main thread in C++ until
    it returns, so the signal would otherwise wait for the whole solve; Python runs its signal
    handlers inside our callback instead, where a flag (not an exception thrown through HiGHS's
    C++) asks HiGHS to stop. KeyboardInterrupt is raised once run() has returned."""
    main = on_main_thread()
    if not model.integrality.any() or not (events.watching() or main):
        yield
        return
    watch = MipWatch(model, name)
    # HiGHS's callbacks report the objective times 2**user_objective_scale (getInfo() does not):
    # undo it, or a scaled one-objective solve shows a thousandth of its figures
    got = h.getOptionValue("user_objective_scale")  # highspy 1.16: (status, value)
    objective_scale = got[1] if isinstance(got, tuple) else got
    unscale = 2.0 ** -int(objective_scale or 0)

    def seen(e) -> None:
        if watch.emitting:
            out = e.data_out
            watch.report(out.mip_primal_bound * unscale, out.mip_dual_bound * unscale)
        if watch.interrupted:
            e.interrupt()

    def halt(e) -> None:  # the root LP of a large model can take long too
        if watch.interrupted:
            e.interrupt()

    def stop(signum, frame) -> None:
        watch.interrupted = True

    if watch.emitting:
        h.cbMipImprovingSolution.subscribe(seen)
    h.cbMipInterrupt.subscribe(seen)
    if main:
        h.cbSimplexInterrupt.subscribe(halt)
        h.cbIpmInterrupt.subscribe(halt)
    saved = signal.signal(signal.SIGINT, stop) if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler else None
    try:
        yield
    finally:
        if saved is not None:
            signal.signal(signal.SIGINT, saved)
    if watch.interrupted:
        raise KeyboardInterrupt


def highs_with(model: LinearModel):
    """A quiet ``highspy.Highs`` holding ``model`` (objective offset included), not yet run.

    Parameters
    ----------
    model : LinearModel
        The model to pass, as :func:`highs_lp` builds it.

    Returns
    -------
    highspy.Highs
        With ``output_flag`` off; call ``run()`` to solve, ``writeModel()`` to write.
    """
    import highspy

    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(highs_lp(model, with_offset=True))
    return h
