"""Primal and dual strength for large coverage models (issue 14, section 4).

* :func:`improve_plan` (from :mod:`optimizer.solve.backends.local`): a start plan (greedy) made
  min_open-feasible, then local search, then windows re-solved exactly by HiGHS
  (:mod:`models.local_search`). It is the MILP's warm start and the whole of the ``local`` backend.
* :func:`solve_large`: for a reduced model too large for its LP relaxation within a run
  (``LARGE_NONZEROS``; HiGHS did not finish the root LP of the 16-million-nonzero district in
  250 s), the improved plan and a Lagrangian bound (:mod:`models.lagrangian`) instead of the MILP,
  returned in the shape of the MILP's answer so :mod:`optimizer.solve.reduced` treats both alike.
"""

from __future__ import annotations

import time

import numpy as np

from lifecircle.models.coverage import CoverageIndex
from lifecircle.models.lagrangian import lagrangian_bound
from lifecircle.models.local_search import plan_value
from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.solve.backends.base import LinearSolution, relative_gap
from lifecircle.optimizer.solve.backends.local import improve_plan, window_solver

__all__ = ["LARGE_NONZEROS", "improve_plan", "solve_large", "window_solver"]

# Reduced models with more coverage nonzeros than this skip the MILP: its root LP alone outlasts
# a 120 s run (the 100k x 10k district: 16 million; the 100k x 2,000 one, which HiGHS proves, 1.1
# million after reductions). Measured in benchmarks/bench_large.py.
LARGE_NONZEROS = 4_000_000
# Shares of the time left that the large route gives local search and windows; the rest is the
# Lagrangian bound's. The bound is the weak side (issue 14): on the 100k x 10k district local search
# converges in ~6 CPU s (+720 over greedy) and 40 s of windows added only +31 (0.005 % of gap),
# where the same seconds of Volume steps lower the bound by several times that. Local search stops
# on its own when no move improves (6-7 CPU s there); its share is a cap, generous because under
# load a 15 % cap cut it short (683,306 against 683,478.5 in the same 120 s).
LOCAL_SHARE, WINDOW_SHARE = 0.30, 0.05
# Without a time limit: how long windows and the bound may run.
DEFAULT_WINDOW_S, DEFAULT_BOUND_S = 60.0, 120.0


def solve_large(reduced, index: CoverageIndex, cost: np.ndarray, budget_cny: float, must: np.ndarray,
                min_open: np.ndarray, start: np.ndarray, allowed: np.ndarray, solver: str,
                time_limit_s: float | None) -> LinearSolution:
    """The large route: improved plan plus Lagrangian bound, as a :class:`LinearSolution` on
    ``reduced.model`` (``extra["bound_source"]`` says where the bound comes from)."""
    t0 = time.perf_counter()
    if time_limit_s is None:
        local_until, window_until = None, t0 + DEFAULT_WINDOW_S
        bound_until = None  # set after the windows
    else:
        local_until = t0 + LOCAL_SHARE * time_limit_s
        window_until = t0 + (LOCAL_SHARE + WINDOW_SHARE) * time_limit_s
        bound_until = t0 + 0.97 * time_limit_s
    plan = improve_plan(index, cost, budget_cny, must, min_open, start, allowed,
                        local_until=local_until, window_until=window_until)
    values = None if plan is None else reduced.encode(plan.astype(float), index.class_rows)
    model = reduced.model
    objective = None
    if values is not None:
        objective = model.objective_value(values)
    t_bound = time.perf_counter()
    if bound_until is None:
        bound_until = t_bound + DEFAULT_BOUND_S
    # the clock ends the steps, not a count (a 600 s run stopped at the default 3,000 steps with
    # 200 s left)
    found = lagrangian_bound(model, objective, deadline=bound_until, max_iter=10**7)
    bound = None if found is None else found.bound
    extra = {"bound_source": BoundSource.LAGRANGIAN.value if found else None,
             "lagrangian_iterations": None if found is None else found.iterations,
             "plan_value": None if plan is None else plan_value(index, plan),
             # where the route's clock went (benchmarks/bench_large.py prints it)
             "plan_s": round(t_bound - t0, 1), "bound_s": round(time.perf_counter() - t_bound, 1)}
    solve_s = time.perf_counter() - t0
    if values is None:
        return LinearSolution(Status.NO_SOLUTION, None, None, bound, None, solve_s, solver,
                              "local search found no plan meeting min_open", extra, Termination.NO_SOLUTION)
    if bound is not None:
        bound = max(bound, objective)  # the bound is valid; a plan above it would be float noise
    gap = relative_gap(objective, bound)
    status = Status.OPTIMAL if gap == 0.0 else Status.FEASIBLE
    termination = Termination.OPTIMAL if status == Status.OPTIMAL else Termination.TIME_LIMIT
    message = (f"large model ({model.A.nnz:,} nonzeros): local search and windows for the plan, "
               f"Lagrangian bound ({extra['lagrangian_iterations']} iterations) instead of the LP")
    return LinearSolution(status, values, objective, bound, gap, solve_s, solver, message, extra, termination)
