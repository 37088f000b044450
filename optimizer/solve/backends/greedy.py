"""The greedy heuristic as a backend: it takes the coverage problem itself, not a linear model.

Its capabilities say so: ``coverage`` only. Asked for a :class:`LinearModel` (a classic model, a
sweep's MILP), it declines before solving (:meth:`Backend.decline`), with a message naming an
exact backend. Its plans claim no optimality: status feasible, termination ``heuristic``.
"""

from __future__ import annotations

import numpy as np

from lifecircle.models.coverage import CoverageIndex
from lifecircle.models.greedy import greedy_plan
from lifecircle.models.linear import LinearModel

from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.errors import CapabilityError
from lifecircle.optimizer.solve.backends.base import Backend, Capability, LinearSolution, SolveOptions


class GreedyBackend(Backend):
    name = "greedy"
    library = "numpy"
    exact = False
    # Plans on step coverage from the problem's own arrays; limits and starts have nothing to stop.
    capabilities = frozenset({Capability.COVERAGE})
    thread_safe = True  # a pure function of read-only arrays

    def plan(self, problem: CoverageProblem, index: CoverageIndex) -> tuple[np.ndarray, np.ndarray]:
        """(site, type) index arrays of the greedy plan for ``problem``, on the column index of
        its coverage model (:func:`models.coverage.build_coverage_model`)."""
        x_cost = problem.cost_cny[index.x_site, index.x_type]
        must = problem.must_open[index.x_site] == index.x_type
        chosen = greedy_plan(index, x_cost, problem.budget_cny, must, problem.min_open)
        return index.x_site[chosen], index.x_type[chosen]

    def solve(self, model: LinearModel, options: SolveOptions) -> LinearSolution:
        # solve_linear declines before this; a direct caller gets the same refusal.
        raise CapabilityError(self.decline(model, options))
