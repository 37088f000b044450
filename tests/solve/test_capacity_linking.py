"""Capacitated models (issue 14): merged assignment classes and linking rows are exact.

Brute force over every plan on small random capacitated problems: for each linking mode the
model's optimum is the brute-force optimum, evaluate() of the plan (on the unmerged problem,
with the solver's disaggregated assignment and with its own LP) agrees, and the LP bound never
weakens as rows are added (none >= class >= pair).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lifecircle.models.service import LINKING, build_service_model, decode_assignment, decode_service, linking_rule
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.backends import SolveOptions, Status
from lifecircle.optimizer.solve.linear import solve_linear
from support.bruteforce import brute_force_service, random_service_problem

CASES = [
    dict(shape="step", capacity=True),
    dict(shape="step", capacity=True, existing_capacity=True, existing=2),
    dict(shape="linear", capacity=True, existing_capacity=True, existing=2),
    dict(shape="exponential", capacity=True, circles=2,
         equity=dict(min_share=np.array([0.1, np.nan]), per_circle=0.05, maximin=None)),
]
SEEDS = range(6)


def _lp_bound(model) -> float:
    lp = replace(model, integrality=np.zeros(model.n_cols, dtype=bool), integral_optimum=False)
    result = solve_linear(lp, "highs", SolveOptions())
    assert result.status == Status.OPTIMAL
    return result.objective


@pytest.mark.parametrize("case", range(len(CASES)))
def test_linking_modes_match_brute_force(case):
    merged = 0
    for seed in SEEDS:
        # few sites and many points: many points share a reach row, so classes merge
        problem, dense = random_service_problem(100 * case + seed, n_points=24, n_sites=5, **CASES[case])
        best = brute_force_service(problem, dense)[0]
        if best is None:
            continue
        bounds = []
        for mode in ("none", "class", "pair"):
            model, index = build_service_model(problem, linking=mode)
            result = solve_linear(model, "highs", SolveOptions())
            assert result.status == Status.OPTIMAL, (seed, mode)
            assert result.objective == pytest.approx(best, rel=1e-7, abs=1e-6), (seed, mode)
            site, type_ = decode_service(result.values, index)
            n_ex = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
            given = evaluate(problem, site, type_, assignment=decode_assignment(result.values, index, problem.n_points, n_ex))
            assert given.feasible, (seed, mode, given.violations)
            assert given.objective == pytest.approx(best, rel=1e-7, abs=1e-6)
            assert evaluate(problem, site, type_).objective == pytest.approx(best, rel=1e-7, abs=1e-6)
            bounds.append(_lp_bound(model))
            merged += index.stats()["demand_pairs_open"] - index.n_assign_classes - index.n_level_classes
        assert bounds[0] >= bounds[1] - 1e-6 >= bounds[2] - 2e-6, (seed, bounds)
        assert bounds[2] >= best - 1e-6
    assert merged > 0  # the cases do exercise merging


def test_linking_rows_count():
    problem, _ = random_service_problem(5, n_points=30, n_sites=6, capacity=True)
    sizes = {mode: build_service_model(problem, linking=mode)[0].row_blocks for mode in ("none", "class", "pair")}
    count = {mode: {k: v.stop - v.start for k, v in blocks.items()} for mode, blocks in sizes.items()}
    assert count["none"]["link_class"] == count["none"]["link_pair"] == 0
    assert count["class"]["link_class"] > 0 and count["class"]["link_pair"] == 0
    assert count["pair"]["link_pair"] > count["pair"]["link_class"] > 0


def test_linking_rule():
    assert linking_rule("none", 10) == (False, False)
    assert linking_rule("pair", 10**9) == (True, True)
    assert linking_rule("auto", 1000) == (True, False) and linking_rule("auto", 10**6) == (False, False)
    assert set(LINKING) == {"auto", "none", "class", "pair"}
    with pytest.raises(ValueError, match="linking must be one of"):
        linking_rule("some", 10)
