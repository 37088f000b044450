"""The core model against hand calculation and brute force, for every backend."""

from __future__ import annotations

import numpy as np
import pytest

from support.bruteforce import brute_force, random_problem
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.backends import SolveOptions, Status, exact_backends
from lifecircle.optimizer.solve.backends.base import finish
from lifecircle.optimizer.errors import CapabilityError, InfeasibleError
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem

EXACT = exact_backends()


def test_four_exact_backends_are_registered():
    assert EXACT == ["highs", "pulp-cbc", "ortools-cpsat", "ortools-scip"]


@pytest.mark.parametrize("solver", EXACT)
def test_tiny_scenario_hand_optimum(tiny_scenario, solver):
    # Worked by hand in tests/support/scenarios.py terms: S1 canteen (28) + S3 elder_child (27) + the
    # existing canteen's D3 elderly (7 x 2 = 14) = 69, spending 800 of 1000.
    problem = build_problem(load_scenario(tiny_scenario))
    solution = solve_problem(problem, solver)
    assert solution.status == Status.OPTIMAL
    assert solution.objective == pytest.approx(69.0)
    assert solution.gap == 0.0
    chosen = {(problem.site_ids[j], problem.type_names[k]) for j, k in zip(solution.site, solution.type)}
    assert chosen == {("S1", "canteen"), ("S3", "elder_child")}
    assert solution.spent_cny == pytest.approx(800.0)
    # unique contributions: S1 alone reaches D1 and D2 elderly (10 + 4); S3 alone D4 (9, 9)
    by_site = {problem.site_ids[j]: solution.evaluation.unique[n] for n, j in enumerate(solution.site)}
    assert by_site["S1"].tolist() == [14.0, 0.0]
    assert by_site["S3"].tolist() == [9.0, 9.0]


@pytest.mark.parametrize("budget, expected", [(500, 60.0), (800, 69.0), (0, 14.0), (5000, 94.0)])
def test_tiny_scenario_budgets(tiny_scenario, budget, expected):
    # 5000 buys S1 canteen, S2 and S3 elder_child: 20 + 8 + 5 + 20 + 18 + 9 + the existing 14 = 94.
    problem = build_problem(load_scenario(tiny_scenario, budget_cny=budget))
    assert solve_problem(problem, "highs").objective == pytest.approx(expected)


CASES = [(seed, dict(n_points=25, n_sites=7, n_types=2, n_groups=2)) for seed in range(12)] + [
    (100 + seed, dict(n_points=30, n_sites=12, n_types=1, n_groups=3, budget_share=0.35)) for seed in range(4)
] + [(200 + seed, dict(n_points=20, n_sites=6, n_types=3, n_groups=2, existing=3)) for seed in range(4)]


@pytest.fixture(scope="module")
def brute_answers():
    answers = {}
    for seed, kwargs in CASES:
        problem, geometry = random_problem(seed, **kwargs)
        answers[seed] = (problem, brute_force(problem, geometry))
    return answers


@pytest.mark.parametrize("solver", EXACT)
def test_exact_backends_match_brute_force(brute_answers, solver):
    for seed, (problem, best) in brute_answers.items():
        try:
            solution = solve_problem(problem, solver)
        except InfeasibleError:
            assert best is None, f"seed {seed}: precheck called a feasible instance infeasible"
            continue
        if best is None:
            assert solution.status == Status.INFEASIBLE, f"seed {seed}"
            continue
        assert solution.status == Status.OPTIMAL, f"seed {seed}"
        assert solution.objective == pytest.approx(best, abs=1e-6), f"seed {seed}"
        check = evaluate(problem, solution.site, solution.type)
        assert check.feasible and check.objective == pytest.approx(best, abs=1e-6)


def test_greedy_is_feasible_and_never_beats_the_optimum(brute_answers):
    for seed, (problem, best) in brute_answers.items():
        if best is None:
            continue
        try:
            solution = solve_problem(problem, "greedy")
        except InfeasibleError:
            continue
        if solution.status == Status.FEASIBLE:
            assert evaluate(problem, solution.site, solution.type).feasible
            assert solution.objective <= best + 1e-9
            assert solution.bound is None and solution.gap is None


def test_merging_identical_coverage_sets_shrinks_the_model():
    problem, _ = random_problem(5, n_points=400, n_sites=6, n_types=1, n_groups=2, rules=False)
    solution = solve_problem(problem, "highs")
    stats = solution.model_stats
    assert stats["demand_classes"] < stats["demand_pairs_open"]
    assert stats["demand_classes"] <= 2 ** 6


def test_cpsat_declines_weights_it_cannot_scale(tiny_scenario):
    problem = build_problem(load_scenario(tiny_scenario))
    from dataclasses import replace

    odd = replace(problem, group_weight=np.array([1 / 3, 1.0]))
    with pytest.raises(CapabilityError, match=r"ortools-cpsat: objective coefficient .* cannot be scaled exactly"):
        solve_problem(odd, "ortools-cpsat")


def test_precheck_must_open_over_budget(tiny_scenario):
    text = tiny_scenario.read_text(encoding="utf-8") + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n"
    tiny_scenario.write_text(text, encoding="utf-8")
    problem = build_problem(load_scenario(tiny_scenario))
    with pytest.raises(InfeasibleError, match=r"^must_open sites cost 1,100 > budget 1,000$"):
        solve_problem(problem, "highs")


@pytest.mark.parametrize("solver", EXACT)
def test_solver_found_infeasibility_is_a_status(tiny_scenario, solver):
    # The cheapest elder_child (S3, 500) and canteen (S3, 200) sum to 700 <= 750, so precheck
    # passes, but they share a site: the true minimum is 800.
    text = tiny_scenario.read_text(encoding="utf-8").replace("budget: 1000", "budget: 750")
    tiny_scenario.write_text(text + "rules:\n  min_open: {elder_child: 1, canteen: 1}\n", encoding="utf-8")
    problem = build_problem(load_scenario(tiny_scenario))
    solution = solve_problem(problem, solver)
    assert solution.status == Status.INFEASIBLE
    assert solution.objective is None and solution.site.size == 0


def test_finish_reports_gap_stops_as_feasible():
    from lifecircle.models.linear import LinearModel
    import scipy.sparse as sp

    model = LinearModel("max", np.array([1.0, 1.0]), sp.csr_matrix((0, 2)), np.zeros(0), np.zeros(0),
                        np.zeros(2), np.ones(2), np.ones(2, bool), offset=10.0)
    stopped = finish(model, "x", Status.OPTIMAL, np.array([1.0, 0.0]), bound=2.0, solve_s=0.0)
    assert (stopped.status, stopped.objective, stopped.bound) == (Status.FEASIBLE, 11.0, 12.0)
    assert stopped.gap == pytest.approx(1 / 11)
    proven = finish(model, "x", Status.FEASIBLE, np.array([1.0, 1.0]), bound=2.0, solve_s=0.0)
    assert (proven.status, proven.gap) == (Status.OPTIMAL, 0.0)


def test_time_limited_highs_on_a_larger_instance_reports_a_consistent_status():
    problem, _ = random_problem(9, n_points=600, n_sites=60, n_types=2, n_groups=3, rules=False)
    solution = solve_problem(problem, "highs", SolveOptions(time_limit_s=0.001))
    assert solution.status in (Status.OPTIMAL, Status.FEASIBLE, Status.NO_SOLUTION)
    if solution.status == Status.FEASIBLE:
        assert solution.bound >= solution.objective and solution.gap > 0


@pytest.mark.parametrize("solver", ["highs", "greedy"])
def test_no_opened_site_is_redundant(solver):
    # With money to spare, an optimum may open sites whose people are all reached by others;
    # solve_problem prunes them, so each kept site (bar must_open / min_open) is defensible.
    for seed in range(8):
        problem, geometry = random_problem(300 + seed, n_points=40, n_sites=8, n_types=2, n_groups=2,
                                           budget_share=3.0, rules=False)
        solution = solve_problem(problem, solver)
        weighted_unique = solution.evaluation.unique @ problem.group_weight
        assert np.all(weighted_unique > 0), f"seed {300 + seed}: {weighted_unique}"
        if solver == "highs":
            assert solution.objective == pytest.approx(brute_force(problem, geometry))
