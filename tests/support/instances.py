"""Random small problems that pass the pre-solve checks, with their coverage model: the common
start of the tests that run a heuristic against brute force (local search, the LP-guided start)."""

from __future__ import annotations

from lifecircle.models.coverage import build_coverage_model
from lifecircle.optimizer.errors import InfeasibleError


def feasible_models(make, seeds):
    """Yield ``(seed, problem, geometry, model, index, cost, must)`` for each seed whose problem
    ``make(seed)`` (a ``(problem, geometry)`` pair) passes ``precheck()``; the others are left out."""
    for seed in seeds:
        problem, geometry = make(seed)
        try:
            problem.precheck()
        except InfeasibleError:
            continue
        model, index = build_coverage_model(problem)
        cost = problem.cost_cny[index.x_site, index.x_type]
        must = problem.must_open[index.x_site] == index.x_type
        yield seed, problem, geometry, model, index, cost, must
