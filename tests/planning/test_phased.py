"""`lifecircle plan`: one MILP over all years, against enumeration and the year-by-year plan."""

from __future__ import annotations

import csv
import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp
from support.bruteforce import random_problem
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.errors import InfeasibleError
from lifecircle.optimizer.planning.phased import check_phased, solve_phased, solve_year_by_year
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def crafted():
    """Four points, three sites of one type, each site costs 1, budget 1 a year, two years.

    Points a (6 people) and b (4) lie west, c (6) and d (4) east. Site L reaches a, b; R reaches
    c, d; M, in the middle, reaches a and c. By hand:

    - year by year: year 1 takes the best single site, M (12 > 10); year 2 adds L or R, which
      brings 4 more (b or d): 16. Sum 12 + 16 = 28.
    - phased: L in year 1 (10), R in year 2 (20): 30. Every other order is at most 28
      (M first: 12 + 16; L or R with M: 10 + 16).
    """
    reach = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]], dtype=bool)  # a, b, c, d x L, M, R
    return CoverageProblem(
        group_names=("elderly",), type_names=("canteen",), site_ids=("L", "M", "R"),
        people=np.array([[6.0], [4.0], [6.0], [4.0]]), group_weight=np.ones(1), serves=np.ones((1, 1), bool),
        coverage={(0, 0): sp.csr_matrix(reach)}, covered_before=np.zeros((4, 1), bool),
        cost_cny=np.ones((3, 1)), budget_cny=1.0, must_open=np.full(3, NO_TYPE),
        forbidden=np.zeros(3, bool), min_open=np.zeros(1, int))


def test_phased_beats_year_by_year_on_the_crafted_case():
    problem = crafted()
    phased = solve_phased(problem, [1.0, 1.0])
    yearly = solve_year_by_year(problem, [1.0, 1.0])
    assert (str(phased.status), phased.objective) == ("optimal", 30.0)
    assert [y.objective for y in phased.years] == [10.0, 20.0]
    assert sorted(problem.site_ids[j] for j in phased.site) == ["L", "R"]
    assert sorted(phased.open_year.tolist()) == [0, 1]
    assert yearly.objective == 28.0 and [y.objective for y in yearly.years] == [12.0, 16.0]
    assert problem.site_ids[yearly.site[yearly.open_year == 0][0]] == "M"


def enumerate_phased(problem: CoverageProblem, budgets) -> float | None:
    """Best coverage summed over the years over every (site -> closed or (type, year)) choice."""
    n_years = len(budgets)
    weighted = problem.people * problem.group_weight
    reach = {key: mat.toarray() for key, mat in problem.coverage.items()}
    options = []
    for j in range(problem.n_sites):
        choices = [] if problem.must_open[j] != NO_TYPE else [None]
        if not problem.forbidden[j]:
            choices += [(k, t) for k in range(problem.n_types) for t in range(n_years)
                        if np.isfinite(problem.cost_cny[j, k]) and problem.must_open[j] in (NO_TYPE, k)]
        options.append(choices)
    best = None
    for plan in itertools.product(*options):
        opened = [(j, c[0], c[1]) for j, c in enumerate(plan) if c is not None]
        spend = np.zeros(n_years)
        for j, k, t in opened:
            spend[t] += problem.cost_cny[j, k]
        if np.any(spend > np.asarray(budgets) + 1e-9):
            continue
        if np.any(np.bincount([k for _, k, _ in opened], minlength=problem.n_types) < problem.min_open):
            continue
        total = 0.0
        for t in range(n_years):
            covered = problem.covered_before.copy()
            for (k, g), mat in reach.items():
                cols = [j for j, kk, tt in opened if kk == k and tt <= t]
                if cols:
                    covered[:, g] |= mat[:, cols].any(axis=1)
            total += float(weighted[covered].sum())
        if best is None or total > best + 1e-9:
            best = total
    return best


def test_phased_optimum_equals_enumeration():
    checked = 0
    for seed in range(25):
        problem, _ = random_problem(seed, n_points=15, n_sites=5, n_types=2, budget_share=0.2)
        cost = problem.cost_cny[np.isfinite(problem.cost_cny)]
        budgets = [float(np.median(cost)), float(np.median(cost)) * 1.5]
        best = enumerate_phased(problem, budgets)
        try:
            plan = solve_phased(problem, budgets)
        except InfeasibleError as error:  # the precheck: then no plan exists at all
            assert best is None, (seed, error)
            continue
        if best is None:
            assert not plan.has_plan, seed
            continue
        assert str(plan.status) == "optimal" and plan.objective == pytest.approx(best, abs=1e-6), seed
        _, violations = check_phased(problem, plan.site, plan.type, plan.open_year, budgets)
        assert violations == []
        yearly = solve_year_by_year(problem, budgets)
        if yearly.has_plan:
            assert yearly.objective <= plan.objective + 1e-6
        checked += 1
    assert checked >= 15


def test_check_phased_catches_a_year_over_budget():
    problem = crafted()
    _, violations = check_phased(problem, np.array([0, 2]), np.array([0, 0]), np.array([0, 0]), [1.0, 1.0])
    assert violations == ["year 1: spent 2 > budget 1"]


def test_cli_plan_writes_open_year_and_yearly_coverage(tiny_scenario, tmp_path):
    out = tmp_path / "plan"
    result = run("plan", tiny_scenario, "--years", 2, "--budget-per-year", 500, "--out", out, "--compare")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "sites.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert list(rows[0])[:3] == ["open_year", "site_id", "name"]
    years = [int(r["open_year"]) for r in rows]
    assert years == sorted(years) and set(years) <= {1, 2}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["horizon_years"] == 2 and summary["budget_per_year"] == [500.0, 500.0]
    assert [y["year"] for y in summary["years"]] == [1, 2]
    for y in summary["years"]:
        assert set(y["covered"]) == {"elderly", "children"} and y["spent"] <= 500.0
    assert summary["objective"] == pytest.approx(sum(y["objective"] for y in summary["years"]))
    assert summary["year_by_year"]["objective"] <= summary["objective"] + 1e-9
    geo = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["open_year"] for f in geo["features"]] == years


@pytest.mark.parametrize("args, words", [
    (["--years", 0, "--budget-per-year", 500], "--years: value 0 must be >= 1"),
    (["--years", 2, "--budget-per-year", "500,600,700"], "has 3 budgets for 2 years"),
    (["--years", 2, "--budget-per-year", "-5"], "is not a non-negative number"),
])
def test_cli_plan_bad_input_exit_2(tiny_scenario, tmp_path, args, words):
    result = run("plan", tiny_scenario, *args, "--out", tmp_path / "p")
    assert result.exit_code == 2 and words in result.stderr
    assert not (tmp_path / "p").exists()


def test_plan_infeasible_before_solving_names_the_solver(tiny_scenario, tmp_path):
    text = tiny_scenario.read_text(encoding="utf-8") + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n"
    tiny_scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run("plan", tiny_scenario, "--years", 2, "--budget-per-year", 500, "--out", out)
    assert result.exit_code == 3, result.output
    assert "infeasible with highs, 2 years" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["status"], summary["solver"], summary["reason"]) == (
        "infeasible", "highs", "must_open sites cost 1,100 > budget 1,000")
    assert sorted(p.name for p in out.iterdir()) == [".lifecircle.json", "summary.json"]
