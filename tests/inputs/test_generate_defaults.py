"""generate's realistic defaults (issue 14): one candidate per RESIDENTS_PER_SITE expected
residents, existing facilities in proportion to population, and a default budget that is a share
of full coverage's cost, so it binds: the optimal plan spends most of it and still leaves people
that the sites could reach uncovered."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from lifecircle.optimizer.generate.budget import FULL_COVERAGE_SHARE, full_coverage_cost
from lifecircle.optimizer.generate.district import generate_district
from lifecircle.optimizer.generate.profiles import PROFILES, RESIDENTS_PER_SITE
from lifecircle.optimizer.inputs.assemble import build_problem_and_facts
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.coverage import coverage_upper_bound, solve_problem


@pytest.mark.parametrize("profile", ["hillside", "rural"])
def test_default_density_existing_and_binding_budget(tmp_path, profile):
    n_demand = 2 * PROFILES[profile].n_demand // 5
    path = generate_district(tmp_path / profile, profile=profile, n_demand=n_demand, seed=7)
    prof = PROFILES[profile]
    sites = pd.read_csv(path.parent / "sites.csv")
    assert len(sites) == round(n_demand * prof.residents_mean / RESIDENTS_PER_SITE)
    existing = pd.read_csv(path.parent / "existing.csv")
    assert len(existing) == round(prof.n_existing * n_demand / prof.n_demand)

    budget = yaml.safe_load(path.read_text(encoding="utf-8"))["budget"]
    full = full_coverage_cost(path)
    assert budget == pytest.approx(FULL_COVERAGE_SHARE * full, abs=100_000)  # rounded to 0.1 M
    problem, _ = build_problem_and_facts(load_scenario(path))
    solution = solve_problem(problem, "highs")
    assert solution.status == "optimal"
    # it binds: the plan spends most of the budget and reaches fewer people than full coverage
    assert 0.7 * budget <= solution.spent_cny <= budget  # rural, seed 7: 1.593 M of 2.0 M
    assert solution.spent_cny / full <= FULL_COVERAGE_SHARE + 0.01
    assert solution.objective < coverage_upper_bound(problem) - 1.0
