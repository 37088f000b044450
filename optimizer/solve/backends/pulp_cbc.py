"""CBC through PuLP. PuLP wants one Python object per variable and per row, so this backend
loops; the cost is measured in benchmarks/ (it is the slow one to build)."""

from __future__ import annotations

import os
import re
import tempfile
import time

import numpy as np

from lifecircle.models.linear import MAXIMIZE, LinearModel

from lifecircle.optimizer.solve.backends.base import (
    Backend, LinearSolution, SolveOptions, Status, Termination, finish,
)

# The status table: PuLP's sol_status -> (status, termination). CBC reports a --gap stop as
# optimal (finish() makes it feasible at gap_limit from the log's bound) and a time stop with a
# plan as integer-feasible. "No solution found" is a time stop when CBC's log says so.
CBC_STATUS = {
    1: (Status.OPTIMAL, Termination.OPTIMAL),  # LpSolutionOptimal
    2: (Status.FEASIBLE, Termination.TIME_LIMIT),  # LpSolutionIntegerFeasible: "Stopped on time"
    -1: (Status.INFEASIBLE, Termination.INFEASIBLE),  # LpSolutionInfeasible
    0: (Status.NO_SOLUTION, Termination.NO_SOLUTION),  # LpSolutionNoSolutionFound
}


def _parse_cbc_log(text: str):
    objective = re.search(r"Objective value:\s+(\S+)", text)
    # "Lower bound" when CBC minimises; a maximisation (which CBC minimises negated) prints its
    # bound as "Upper bound" in the caller's sign.
    bound = re.search(r"(?:Lower|Upper) bound:\s+(\S+)", text)
    try:
        return (float(objective.group(1)) if objective else None,
                float(bound.group(1)) if bound else None)
    except ValueError:
        return None, None


class PulpCbcBackend(Backend):
    name = "pulp-cbc"
    library = "pulp"
    distribution = "PuLP"
    # CBC runs as a subprocess; PuLP names its files with uuid4 and the log goes to our own tmp dir.
    thread_safe = True

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        import pulp

        sense = pulp.LpMaximize if model.sense == MAXIMIZE else pulp.LpMinimize
        prob = pulp.LpProblem("lifecircle", sense)
        lows = [None if not np.isfinite(b) else float(b) for b in model.col_lower]
        ups = [None if not np.isfinite(b) else float(b) for b in model.col_upper]
        cats = [pulp.LpInteger if flag else pulp.LpContinuous for flag in model.integrality]
        cols = [pulp.LpVariable(f"v{j}", lows[j], ups[j], cats[j]) for j in range(model.n_cols)]
        prob += pulp.LpAffineExpression(
            [(cols[j], float(model.c[j])) for j in np.flatnonzero(model.c)]
        )
        A = model.A
        for r in range(model.n_rows):
            lo, hi = model.row_lower[r], model.row_upper[r]
            start, end = A.indptr[r], A.indptr[r + 1]
            expr = pulp.LpAffineExpression(
                [(cols[j], float(v)) for j, v in zip(A.indices[start:end], A.data[start:end])]
            )
            if lo == hi:
                prob += expr == float(lo), f"r{r}"
                continue
            if np.isfinite(hi):
                prob += expr <= float(hi), f"r{r}u"
            if np.isfinite(lo):
                prob += expr >= float(lo), f"r{r}l"

        if options.warm_start is not None:
            for col, value in zip(cols, options.warm_start):
                col.setInitialValue(float(value))
        with tempfile.TemporaryDirectory() as tmp:
            log_path = os.path.join(tmp, "cbc.log")
            solver = pulp.PULP_CBC_CMD(
                msg=bool(options.verbose),
                timeLimit=options.time_limit_s,
                gapRel=float(options.gap),
                gapAbs=0.0 if options.gap == 0 else None,
                threads=options.threads,
                warmStart=options.warm_start is not None,
                logPath=log_path,
            )
            t0 = time.perf_counter()
            prob.solve(solver)
            solve_s = time.perf_counter() - t0
            log = open(log_path, encoding="utf-8", errors="replace").read() if os.path.exists(log_path) else ""

        status, termination = CBC_STATUS.get(prob.sol_status, (Status.NO_SOLUTION, Termination.NO_SOLUTION))
        if status == Status.NO_SOLUTION and prob.status == pulp.LpStatusInfeasible:
            status, termination = Status.INFEASIBLE, Termination.INFEASIBLE
        if status == Status.NO_SOLUTION and re.search(r"Stopped on time|time limit", log, re.IGNORECASE):
            termination = Termination.TIME_LIMIT
        values = None
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            values = np.array([c.varValue if c.varValue is not None else 0.0 for c in cols])
        bound = None
        if values is not None:
            plan = float(model.c @ values)
            log_objective, log_bound = _parse_cbc_log(log)
            if status == Status.OPTIMAL and options.gap == 0:
                bound = plan
            elif log_bound is not None and log_objective is not None:
                # CBC minimises internally: a maximisation's figures come back negated.
                flip = -1.0 if abs(log_objective + plan) < abs(log_objective - plan) else 1.0
                bound = flip * log_bound
        return finish(model, self.name, status, values, bound, solve_s,
                      message=pulp.LpStatus.get(prob.status, ""), termination=termination)
