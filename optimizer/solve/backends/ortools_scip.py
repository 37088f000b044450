"""SCIP through OR-Tools' linear solver wrapper (pywraplp). The wrapper takes one call per
coefficient, so this backend loops over the CSR nonzeros."""

from __future__ import annotations

import time

import numpy as np

from lifecircle.models.linear import MAXIMIZE, LinearModel

from lifecircle.optimizer.solve.backends.base import (
    Backend, LinearSolution, SolveOptions, Status, Termination, finish,
)

# The status table: pywraplp result name -> (status, termination). OR-Tools reports SCIP's gap
# limit as OPTIMAL (finish() makes it feasible at gap_limit) and any other stop with a plan as
# FEASIBLE; we set no limit but time and gap, so that stop is the clock. NOT_SOLVED is a stop
# before any plan: the clock when a time limit was set.
SCIP_STATUS = {
    "OPTIMAL": (Status.OPTIMAL, Termination.OPTIMAL),
    "FEASIBLE": (Status.FEASIBLE, Termination.TIME_LIMIT),
    "INFEASIBLE": (Status.INFEASIBLE, Termination.INFEASIBLE),
    "NOT_SOLVED": (Status.NO_SOLUTION, Termination.TIME_LIMIT),
}


class OrtoolsScipBackend(Backend):
    name = "ortools-scip"
    library = "ortools"
    # Not declared safe: whether OR-Tools' bundled SCIP is built thread-safe is not documented.
    thread_safe = False

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        from ortools.linear_solver import pywraplp

        solver = pywraplp.Solver.CreateSolver("SCIP")
        if solver is None:
            from lifecircle.optimizer.errors import BackendUnavailableError

            raise BackendUnavailableError("ortools-scip: this OR-Tools build has no SCIP; use --solver highs")
        inf = solver.infinity()

        def clip(b):
            return inf if b == np.inf else (-inf if b == -np.inf else float(b))

        cols = [
            (solver.IntVar if model.integrality[j] else solver.NumVar)(
                clip(model.col_lower[j]), clip(model.col_upper[j]), f"v{j}"
            )
            for j in range(model.n_cols)
        ]
        A = model.A
        for r in range(model.n_rows):
            row = solver.RowConstraint(clip(model.row_lower[r]), clip(model.row_upper[r]), f"r{r}")
            for j, v in zip(A.indices[A.indptr[r]:A.indptr[r + 1]], A.data[A.indptr[r]:A.indptr[r + 1]]):
                row.SetCoefficient(cols[j], float(v))
        objective = solver.Objective()
        for j in np.flatnonzero(model.c):
            objective.SetCoefficient(cols[j], float(model.c[j]))
        objective.SetMaximization() if model.sense == MAXIMIZE else objective.SetMinimization()

        params = [f"limits/gap = {float(options.gap)}", f"limits/absgap = {0.0 if options.gap == 0 else 1e-6}"]
        if options.seed is not None:
            params.append(f"randomization/randomseedshift = {int(options.seed)}")
        solver.SetSolverSpecificParametersAsString("\n".join(params) + "\n")
        if options.time_limit_s is not None:
            solver.SetTimeLimit(int(options.time_limit_s * 1000))
        if options.threads:
            solver.SetNumThreads(int(options.threads))
        if options.verbose:
            solver.EnableOutput()
        if options.warm_start is not None:
            solver.SetHint(cols, [float(v) for v in options.warm_start])

        t0 = time.perf_counter()
        result = solver.Solve()
        solve_s = time.perf_counter() - t0

        S = pywraplp.Solver
        native = {S.OPTIMAL: "OPTIMAL", S.FEASIBLE: "FEASIBLE", S.INFEASIBLE: "INFEASIBLE",
                  S.NOT_SOLVED: "NOT_SOLVED"}.get(result, str(result))
        status, termination = SCIP_STATUS.get(native, (Status.NO_SOLUTION, Termination.NO_SOLUTION))
        if native == "NOT_SOLVED" and options.time_limit_s is None:
            termination = Termination.NO_SOLUTION
        values = None
        bound = None
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            values = np.array([c.solution_value() for c in cols])
            bound = objective.BestBound() if model.integrality.any() else objective.Value()
        return finish(model, self.name, status, values, bound, solve_s, message=str(result),
                      termination=termination)
