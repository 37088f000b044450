"""The report's swap figures under capacities (issue 14): one persistent, warm-started LP gives
exactly what a cold evaluate() of each swapped plan gives."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.models.coverage import facility_columns
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.outputs.explain import explain_sites
from lifecircle.optimizer.solve.assignment_lp import SwapLP
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce import random_service_problem

CASES = [
    dict(shape="step", capacity=True),
    dict(shape="step", capacity=True, existing_capacity=True, existing=2),
    dict(shape="linear", capacity=True, existing_capacity=True, existing=2),
    dict(shape="exponential", capacity=True, circles=2,
         equity=dict(min_share=np.array([0.2, np.nan]), per_circle=0.1, maximin=None)),
    dict(shape="step", capacity=True, circles=3, existing_capacity=True, existing=2,
         equity=dict(min_share=np.array([np.nan, 0.3]), per_circle=0.25, maximin=None)),
]


def _cold(problem, site, type_, f, a_site, a_type):
    keep = np.arange(site.size) != f
    # evaluate() answers every swap itself: its interior point's "Solve error" on a few tiny
    # infeasible LPs is re-solved by dual simplex (tests/solve/test_assign_lp_fallback.py)
    return evaluate(problem, np.append(site[keep], a_site), np.append(type_[keep], a_type)).objective


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", range(4))
def test_every_swap_equals_the_cold_lp(case, seed):
    problem, _ = random_service_problem(seed + 10 * case, n_points=30, n_sites=8, rules=False, **CASES[case])
    assert problem.capacitated_groups().any()
    rng = np.random.default_rng(seed)
    cand_site, cand_type = facility_columns(problem.cost_cny, problem.forbidden)
    # a plan of up to 3 sites, one type each, and every other allowed facility as an alternative
    sites = rng.permutation(np.unique(cand_site))[:3]
    pick = np.array([np.flatnonzero(cand_site == j)[0] for j in sites])
    site, type_ = cand_site[pick], cand_type[pick]
    others = ~np.isin(cand_site, site)
    alt_site, alt_type = cand_site[others], cand_type[others]
    lp = SwapLP(problem, site, type_, alt_site, alt_type)
    assert lp.objective() == pytest.approx(evaluate(problem, site, type_).objective, rel=1e-8, abs=1e-6)
    # equal within the cold interior-point LP's own tolerance (it ends 1e-9 relative from the vertex)
    # every (facility, alternative) pair, in an order that moves back and forth across the basis
    for f in range(site.size):
        for a in rng.permutation(alt_site.size):
            cold = _cold(problem, site, type_, f, alt_site[a], alt_type[a])
            assert lp.objective(f, int(a)) == pytest.approx(cold, rel=1e-8, abs=1e-6), (f, a)


def test_explain_sites_uses_the_same_figures():
    problem, _ = random_service_problem(3, n_points=40, n_sites=9, rules=False, capacity=True,
                                        existing_capacity=True, existing=2, circles=2,
                                        equity=dict(min_share=np.array([0.1, np.nan]), per_circle=0.05, maximin=None))
    solution = solve_problem(problem, "highs")
    expl = explain_sites(problem, solution.site, solution.type, solution.evaluation)
    found = np.flatnonzero(expl.alt_site >= 0)
    assert found.size
    for f in found:
        cold = _cold(problem, solution.site, solution.type, f, expl.alt_site[f], expl.alt_type[f])
        assert expl.alt_objective[f] == pytest.approx(cold, rel=1e-8, abs=1e-6)
