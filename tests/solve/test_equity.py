"""Fairness: floors per group and per circle, lexicographic maximin, infeasibility found before
and after solving, Gini and gap by hand, summary.json, the bundled scenario, and bad input."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import DEMAND_CSV, SCENARIO_YAML, write_scenario
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.backends import Status, exact_backends
from lifecircle.optimizer.core.shares import best_worst_gap, gini
from lifecircle.optimizer.errors import CapabilityError, InfeasibleError
from lifecircle.optimizer.core.problem import EquityRule
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce import brute_force_service, plan_value, plans, random_service_problem

EXACT = exact_backends()
REPO_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

CIRCLE_DEMAND = DEMAND_CSV.replace("children\n", "children,circle\n").replace(",5\n", ",5,A\n") \
    .replace(",20\n", ",20,A\n").replace(",0\n", ",0,B\n").replace("9,9\n", "9,9,B\n")


def circle_scenario(folder, equity: str):
    return write_scenario(folder, yaml_text=SCENARIO_YAML + equity, demand=CIRCLE_DEMAND)


def test_gini_and_gap_by_hand():
    assert gini([0.2, 0.4, 0.6]) == pytest.approx(1.6 / 7.2)
    assert gini([0.5, 0.5]) == 0.0 and gini([0.0, 0.0]) == 0.0 and gini([]) is None
    assert gini([0.0, 0.28]) == pytest.approx(0.5)
    assert best_worst_gap([0.3, 0.9, 0.5]) == pytest.approx(0.6)


def test_summary_shares_gini_and_gap(tmp_path):
    # Optimum 69 (S1 canteen, S3 elder_child): elderly 30/30, children 9/34; circle A (D1, D2)
    # 14/39, circle B (D3, D4) 25/25. Before: elderly 7/30 (the existing canteen), circle B 7/25.
    path = circle_scenario(tmp_path / "c", "")
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    eq = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["equity"]
    assert eq["groups"]["elderly"] == {"people": 30.0, "share_before": pytest.approx(7 / 30, abs=1e-6), "share_after": 1.0}
    assert eq["groups"]["children"]["share_after"] == pytest.approx(9 / 34, abs=1e-6)
    assert eq["circles"]["A"] == {"people": 39.0, "share_before": 0.0, "share_after": pytest.approx(14 / 39, abs=1e-6)}
    assert eq["circles"]["B"] == {"people": 25.0, "share_before": pytest.approx(0.28, abs=1e-6), "share_after": 1.0}
    assert eq["group_gap_before"] == pytest.approx(7 / 30, abs=1e-6)
    assert eq["group_gap_after"] == pytest.approx(1 - 9 / 34, abs=1e-6)
    assert eq["gini_circles_before"] == pytest.approx(0.5, abs=1e-6)
    assert eq["gini_circles_after"] == pytest.approx(gini([14 / 39, 1.0]), abs=1e-6)


@pytest.mark.parametrize("solver", EXACT)
def test_circle_floor_and_maximin_by_hand(tmp_path, solver):
    # A floor of 0.5 in each circle rules out the 69 plan (A 14/39): the best is S2 elder_child +
    # S3 canteen, A 29/39 and B 16/25, objective 2 x 20 + 25 = 65. Maximin over circles picks the
    # same plan (worst share 16/25 = 0.64); over groups S1 canteen + S2 elder_child (elderly
    # 21/30 = 0.7, children 25/34), objective 67.
    floor = build_problem(load_scenario(circle_scenario(tmp_path / "f", "equity: {min_coverage_per_circle: 0.5}\n")))
    s = solve_problem(floor, solver)
    assert s.status == Status.OPTIMAL and s.objective == pytest.approx(65.0)
    circles = build_problem(load_scenario(circle_scenario(tmp_path / "m", "equity: {maximin: circles}\n")))
    s = solve_problem(circles, solver)
    assert s.worst_share == pytest.approx(0.64) and s.objective == pytest.approx(65.0)
    groups = build_problem(load_scenario(circle_scenario(tmp_path / "g", "equity: {maximin: groups}\n")))
    s = solve_problem(groups, solver)
    assert s.worst_share == pytest.approx(0.7) and s.objective == pytest.approx(67.0)
    chosen = {(groups.site_ids[j], groups.type_names[k]) for j, k in zip(s.site, s.type)}
    assert chosen == {("S1", "canteen"), ("S2", "elder_child")}


FORMS = {  # name: (generator arguments, equity rule for a floor value, or None for maximin)
    "group-floor": (dict(), lambda f: EquityRule(np.array([f, f]))),
    "group-floor-capacity": (dict(capacity=True), lambda f: EquityRule(np.array([f, f]))),
    "circle-floor": (dict(circles=3), lambda f: EquityRule(np.full(2, np.nan), f)),
    "circle-floor-capacity": (dict(circles=3, capacity=True), lambda f: EquityRule(np.full(2, np.nan), f)),
    "maximin-groups": (dict(equity=dict(maximin="groups"), round_populations=True), None),
    "maximin-groups-capacity-linear": (dict(equity=dict(maximin="groups"), round_populations=True, capacity=True,
                                            shape="linear"), None),
    "maximin-circles": (dict(equity=dict(maximin="circles"), circles=3, round_populations=True), None),
    "maximin-circles-capacity": (dict(equity=dict(maximin="circles"), circles=3, round_populations=True,
                                      capacity=True), None),
}


@pytest.fixture(scope="module")
def equity_answers():
    """Two instances per form. A floor is set just below the best worst share any plan reaches
    (the brute-force maximin level), so it rules out most plans and usually the unconstrained best."""
    answers = {}
    for name, (kwargs, rule) in FORMS.items():
        found, seed, binding = [], 0, False
        while len(found) < 2 or (rule is not None and not binding and seed < 40):
            problem, dense = random_service_problem(seed, n_sites=5, **kwargs)
            seed += 1
            if rule is None:
                best, worst = brute_force_service(problem, dense)
                if best is not None:
                    found.append((problem, best, worst))
                continue
            over = "circles" if "circle" in name else "groups"
            worst = brute_force_service(replace(problem, equity=EquityRule(np.full(2, np.nan), None, over)), dense)[1]
            if worst is None or worst <= 0:
                continue
            asked = replace(problem, equity=rule(float(np.floor(worst * 0.97 * 1000) / 1000)))
            best = brute_force_service(asked, dense)[0]
            free = brute_force_service(problem, dense)[0]
            bites = best < free - 1e-9
            if bites or not found:  # keep one instance where the floor bites, one that may not
                found = ([(asked, best, None)] + found)[:2] if bites and not binding else found + [(asked, best, None)]
            binding |= bites
        assert rule is None or binding, f"{name}: the floors changed no optimum; pick other seeds"
        answers[name] = found
    return answers


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("form", list(FORMS))
def test_equity_matches_brute_force(equity_answers, form, solver):
    for problem, best, worst in equity_answers[form]:
        try:
            solution = solve_problem(problem, solver)
        except CapabilityError as error:
            # only where capacities and circles meet can the assignment be fractional
            assert solver == "ortools-cpsat" and "capacity" in form and "circle" in form, error
            assert str(error).endswith("use --solver highs")
            continue
        assert solution.status == Status.OPTIMAL
        assert solution.objective == pytest.approx(best, rel=1e-6)
        if worst is not None:
            assert solution.worst_share == pytest.approx(worst, abs=1e-6)
        assert solution.evaluation.feasible


def test_cpsat_solves_maximin_exactly_or_declines():
    """Without round populations the maximin column may not scale: CP-SAT declines, never guesses."""
    for seed in range(3):
        problem, dense = random_service_problem(seed, n_sites=5, equity=dict(maximin="groups"))
        best, worst = brute_force_service(problem, dense)
        try:
            solution = solve_problem(problem, "ortools-cpsat")
        except CapabilityError as error:
            assert "use --solver highs" in str(error)
            continue
        assert solution.objective == pytest.approx(best, rel=1e-6)
        assert solution.worst_share == pytest.approx(worst, abs=1e-6)


def test_capacity_floor_found_before_solving(tmp_path):
    # Stations hold 10 children each. The bound relaxes one-per-site and buys fractions: S3
    # (10 per 500) first, then 500/600 of S2: 18.333 of 34 children = 0.5392 < 0.9.
    yaml_text = SCENARIO_YAML.replace(
        "elder_child: {label: 老幼共托服务站, serves: [elderly, children], walk_minutes: 10}",
        "elder_child: {label: 老幼共托服务站, serves: [elderly, children], walk_minutes: 10, capacity: {children: 10}}",
    ) + "equity: {min_coverage: {children: 0.9}}\n"
    path = write_scenario(tmp_path / "cap", yaml_text=yaml_text)
    problem = build_problem(load_scenario(path))
    with pytest.raises(InfeasibleError, match=r"equity\.min_coverage\.children: 0\.9 asked but at most 0\.5392 of "
                                              r"children can be covered \(by the capacity the budget can buy"):
        solve_problem(problem, "highs")
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible" and "at most 0.5392" in summary["reason"]


def test_reach_floor_found_before_solving(tmp_path):
    # Circle B is D3 and D4 (25 people). With D4 moved 7 km away nobody can reach it, so B can
    # have at most D3's 7 elderly (the existing canteen): 7/25 = 0.28 < 0.5.
    demand = CIRCLE_DEMAND.replace("D4,502000,3300000", "D4,509000,3300000")
    path = write_scenario(tmp_path / "far", yaml_text=SCENARIO_YAML + "equity: {min_coverage_per_circle: 0.5}\n",
                          demand=demand)
    with pytest.raises(InfeasibleError, match=r"equity\.min_coverage_per_circle: 0\.5 asked but circle B can reach "
                                              r"at most 0\.2800 \(people beyond every allowed site's reach\)"):
        solve_problem(build_problem(load_scenario(path)), "highs")


def test_solver_infeasibility_names_the_achievable_shares():
    """Floors at each group's own best share: each achievable alone, not together."""
    for seed in range(20):
        problem, dense = random_service_problem(seed, n_sites=5)
        best_share = []
        for g in range(problem.n_groups):
            top = 0.0
            for p in plans(problem):
                one = replace(problem, equity=EquityRule(np.where(np.arange(problem.n_groups) == g, 0.0, np.nan)))
                level = _share_of(one, dense, p, g)
                top = max(top, level)
            best_share.append(top)
        floors = np.array(best_share) - 1e-9
        asked = replace(problem, equity=EquityRule(floors))
        if brute_force_service(asked, dense)[0] is not None:
            continue  # both bests come from one plan here; try another instance
        solution = solve_problem(asked, "highs")
        assert solution.status == Status.INFEASIBLE
        assert solution.message.startswith("each fairness floor is achievable alone but not all together: ")
        for g, name in enumerate(problem.group_names):
            assert f"{name} at most {best_share[g]:.4f}" in solution.message
        return
    pytest.fail("no instance with conflicting floors among 20 seeds")


def _share_of(problem, dense, plan, g):
    """Share of group g for an uncapacitated plan, from the dense weights."""
    level = dense["base"][:, g].copy()
    for (k, gg), W in dense["w"].items():
        js = [j for j, kk in plan if kk == k]
        if gg == g and js:
            level = np.maximum(level, W[:, js].max(axis=1))
    people = problem.people[:, g]
    return float((people * level).sum() / people.sum())


def test_bundled_capacity_scenario():
    """scenarios/yuzhong_capacity: the plan its README's command found (tests/data) still meets
    every rule and floor when evaluate recomputes the assignment itself, with the same value."""
    path = REPO_SCENARIOS / "yuzhong_capacity" / "scenario.yaml"
    scenario = load_scenario(path)
    assert scenario.equity.min_coverage_per_circle is not None and scenario.equity.min_coverage
    problem = build_problem(scenario)
    assert problem.capacitated_groups().all() and len(problem.circle_names) == 4
    assert problem.reach_weight is not None  # the canteen's linear decay
    reference = json.loads((Path(__file__).parent / "data" / "yuzhong_capacity_plan.json").read_text(encoding="utf-8"))
    site = np.array([problem.site_ids.index(s) for s, _ in reference["selected"]])
    type_ = np.array([problem.type_names.index(t) for _, t in reference["selected"]])
    ev = evaluate(problem, site, type_)
    assert ev.feasible, ev.violations
    assert ev.objective == pytest.approx(reference["objective"], rel=1e-6)
    assert np.all(np.nan_to_num(ev.served) <= np.nan_to_num(ev.capacity, nan=np.inf) + 1e-6)


BAD = [
    ("share-above-one", "equity: {min_coverage: {elderly: 1.2}}\n",
     r"{f}/scenario.yaml: field 'equity.min_coverage.elderly': value 1.2 is a share and must be in \[0, 1\]", None),
    ("share-negative", "equity: {min_coverage_per_circle: -0.1}\n",
     r"{f}/scenario.yaml: field 'equity.min_coverage_per_circle': value -0.1 is a share and must be in \[0, 1\]",
     CIRCLE_DEMAND),
    ("missing-circle-column", "equity: {min_coverage_per_circle: 0.5}\n",
     r"{f}/scenario.yaml: field 'equity.min_coverage_per_circle': per-circle equity needs a 'circle' column in "
     r"{f}/demand.csv, which has none", None),
    ("missing-circle-column-maximin", "equity: {maximin: circles}\n",
     r"{f}/scenario.yaml: field 'equity.maximin': per-circle equity needs a 'circle' column in {f}/demand.csv, "
     r"which has none", None),
    ("unknown-maximin", "equity: {maximin: districts}\n",
     r"{f}/scenario.yaml: field 'equity.maximin': value 'districts' is not one of groups, circles", None),
    ("unknown-group", "equity: {min_coverage: {adults: 0.5}}\n",
     r"{f}/scenario.yaml: field 'equity.min_coverage.adults': unknown group 'adults'; groups are elderly, children", None),
    ("unknown-key", "equity: {min_share: 0.5}\n",
     r"{f}/scenario.yaml: unknown key 'equity.min_share'; allowed: min_coverage, min_coverage_per_circle, maximin", None),
    ("blank-circle", "equity: {maximin: circles}\n",
     r"{f}/demand.csv line 3, column 'circle': empty circle name", CIRCLE_DEMAND.replace(",20,A\n", ",20,\n")),
]


@pytest.mark.parametrize("case, equity, message, demand", BAD, ids=[c[0] for c in BAD])
def test_bad_equity_is_one_line_exit_2(tmp_path, case, equity, message, demand):
    folder = tmp_path / "bad"
    path = write_scenario(folder, yaml_text=SCENARIO_YAML + equity, demand=demand or DEMAND_CSV)
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    expected = "error: " + message.replace("{f}", re.escape(str(folder)))
    assert re.fullmatch(expected, lines[0]), lines[0]
    assert not (tmp_path / "out").exists()
