"""The generator's default budget: a share of what full coverage costs (issue 14).

Districts fund a few facilities per circle per year, so a realistic budget buys only part of full
coverage (DOMAIN.md, "Budgets bind"). The old default, a share of the summed cheapest site costs,
bought 5x full coverage at 100k x 10k and never bound. Full coverage is measured on the written
scenario itself, with the engine's own reach: the cost of a cheap plan reaching everyone any
allowed site can reach (the coverage ceiling's plan, :func:`models.reduce.ceiling_model`, thinned by
:func:`models.reduce.cheapest_cover`). A cheap cover, not the cheapest, so the share is of an
upper estimate; what the tests assert is that the default budget binds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Share of the full-coverage cost the default budget buys.
FULL_COVERAGE_SHARE = 0.3


def full_coverage_cost(scenario_path) -> float:
    """Cost (CNY) of a cheap plan that covers everyone the scenario's allowed sites can reach."""
    from lifecircle.models.coverage import build_coverage_model
    from lifecircle.models.reduce import ceiling_model, cheapest_cover
    from lifecircle.optimizer.inputs.assemble import build_problem_and_facts
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.solve.linear import solve_linear

    scenario = load_scenario(Path(scenario_path))
    problem, _ = build_problem_and_facts(scenario)
    model, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = problem.must_open[index.x_site] == index.x_type
    ceiling = ceiling_model(model, index, cost, must)
    top = solve_linear(ceiling.model, "highs")
    if top.values is None:
        return float(np.nansum(problem.cost_cny.min(axis=1, initial=np.inf, where=np.isfinite(problem.cost_cny))))
    plan = cheapest_cover(index, cost, must, problem.min_open, ceiling.full_x(top.values) > 0.5)
    return float(cost[plan].sum())
