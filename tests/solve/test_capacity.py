"""Capacitated coverage: a hand-worked scenario, brute force with every exact backend (with and
without existing capacities, with decay), evaluate's two paths, utilisation, and bad input."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import EXISTING_CSV, SCENARIO_YAML, write_scenario
from lifecircle.models.service import build_service_model
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.backends import Status, exact_backends
from lifecircle.optimizer.errors import CapabilityError
from lifecircle.optimizer.run import run_solve
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce import brute_force_service, random_service_problem

EXACT = exact_backends()

CAP_YAML = SCENARIO_YAML.replace(
    "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}",
    "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10, capacity: {elderly: 8}}")
CAP_EXISTING = "id,type,x,y,capacity_elderly\nE1,canteen,501000,3300100,5\n"


@pytest.fixture
def cap_problem(tmp_path):
    return build_problem(load_scenario(write_scenario(tmp_path / "cap", yaml_text=CAP_YAML, existing=CAP_EXISTING)))


def _plan(problem, *pairs):
    site = np.array([problem.site_ids.index(s) for s, _ in pairs], dtype=np.int64)
    type_ = np.array([problem.type_names.index(t) for _, t in pairs], dtype=np.int64)
    return site, type_


def test_hand_worked_capacities(cap_problem):
    # Canteens serve 8 elderly each; the existing canteen E1 serves 5 of D3's 7 elderly (x 2 = 10).
    # {S1 canteen}: reaches D1 (10) and D2 (4) but serves 8: 16 + 10 = 26.
    ev = evaluate(cap_problem, *_plan(cap_problem, ("S1", "canteen")))
    assert ev.objective == pytest.approx(26.0)
    assert ev.people_before.tolist() == pytest.approx([5.0, 0.0])
    assert ev.served[0].tolist()[0] == pytest.approx(8.0)
    assert ev.capacity[0, 0] == 8.0 and np.isnan(ev.capacity[0, 1])
    assert ev.existing_served[0, 0] == pytest.approx(5.0)
    # Optimum 59, e.g. S2 elder_child (D2's 4 elderly, 25 children; no capacity for it) + S1
    # canteen (8 of D1's elderly): 2 x 12 + 25 + 10.
    for solver in EXACT:
        solution = solve_problem(cap_problem, solver)
        assert solution.status == Status.OPTIMAL
        assert solution.objective == pytest.approx(59.0), solver
        assert solution.evaluation.feasible


def test_existing_capacity_is_used_first_and_reported(tmp_path):
    path = write_scenario(tmp_path / "cap", yaml_text=CAP_YAML, existing=CAP_EXISTING)
    result = run_solve(path, out_dir=tmp_path / "out", report=False)
    s = result.summary
    assert s["coverage"]["elderly"]["covered_before"] == pytest.approx(5.0)
    assert s["objective"] == pytest.approx(59.0)
    rows = {r["site_id"]: r for r in s["utilisation"]}
    for row in rows.values():
        for g in row["groups"].values():
            assert g["capacity"] is None or g["served"] <= g["capacity"] + 1e-6
    canteens = [r for r in rows.values() if r["facility_type"] == "canteen"]
    assert canteens and all(r["groups"]["elderly"] == {"served": 8.0, "capacity": 8.0, "utilisation": 1.0}
                            for r in canteens)


CASES = {
    "step": dict(shape="step", capacity=True),
    "step-existing": dict(shape="step", capacity=True, existing_capacity=True, existing=2),
    "linear-existing": dict(shape="linear", capacity=True, existing_capacity=True, existing=2),
    "exponential": dict(shape="exponential", capacity=True),
}


@pytest.fixture(scope="module")
def cap_answers():
    answers = {}
    for name, kwargs in CASES.items():
        found, seed = [], 0
        while len(found) < 2:
            problem, dense = random_service_problem(seed, n_sites=5, **kwargs)
            best = brute_force_service(problem, dense)[0]
            if best is not None:
                found.append((problem, best))
            seed += 1
        answers[name] = found
    return answers


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("case", list(CASES))
def test_capacitated_matches_brute_force(cap_answers, case, solver):
    for problem, best in cap_answers[case]:
        assert problem.capacitated_groups().any()
        solution = solve_problem(problem, solver)
        assert solution.status == Status.OPTIMAL
        assert solution.objective == pytest.approx(best, rel=1e-7)
        assert solution.evaluation.feasible
        served, cap = solution.evaluation.served, solution.evaluation.capacity
        assert np.all(np.nan_to_num(served) <= np.nan_to_num(cap, nan=np.inf) + 1e-6)


def test_evaluate_recomputes_the_assignment(cap_answers):
    """Without the solver's assignment evaluate solves its own LP: same value as brute force."""
    for case in CASES:
        for problem, best in cap_answers[case]:
            solution = solve_problem(problem, "highs")
            recomputed = evaluate(problem, solution.site, solution.type)
            assert recomputed.objective == pytest.approx(best, rel=1e-7)


def test_assignment_columns_only_within_reach():
    problem, _ = random_service_problem(4, capacity=True, n_points=30, n_sites=8)
    model, index = build_service_model(problem)
    reach = sum(m.nnz for (k, g), m in problem.coverage.items() if problem.capacitated_groups()[g])
    assert 0 < index.n_assign <= reach
    assert model.integral_optimum


def test_bad_assignment_is_caught(cap_problem):
    site, type_ = _plan(cap_problem, ("S1", "canteen"))
    import scipy.sparse as sp

    too_many = sp.csr_matrix(([10.0, 4.0], ([0, 1], [0, 0])), shape=(cap_problem.n_points, 2))
    ev = evaluate(cap_problem, site, type_, assignment={0: too_many})
    assert not ev.feasible
    assert any(re.fullmatch(r"capacity of elderly at site S1: 14\.000 > 8\.000", v) for v in ev.violations)
    out_of_reach = sp.csr_matrix(([3.0], ([2], [0])), shape=(cap_problem.n_points, 2))  # D3 is 1 km away
    ev = evaluate(cap_problem, site, type_, assignment={0: out_of_reach})
    assert any("cannot reach" in v for v in ev.violations)


def test_cpsat_declines_fractional_people_clearly():
    problem, _ = random_service_problem(0, capacity=True)
    people = np.where(problem.people > 0, problem.people + 0.3, 0.0)  # fractional class supplies
    problem = replace(problem, people=people)
    with pytest.raises(CapabilityError, match="continuous variables that may be fractional"):
        solve_problem(problem, "ortools-cpsat")
    assert solve_problem(problem, "highs").status == Status.OPTIMAL


BAD = [
    ("negative-type-capacity", dict(yaml_text=CAP_YAML.replace("{elderly: 8}", "{elderly: -8}")),
     r"{f}/scenario.yaml: field 'facility_types.canteen.capacity.elderly': value -8 must be >= 0"),
    ("capacity-for-unserved-group", dict(yaml_text=CAP_YAML.replace("{elderly: 8}", "{children: 8}")),
     r"{f}/scenario.yaml: field 'facility_types.canteen.capacity.children': canteen does not serve group 'children'; it serves elderly"),
    ("non-numeric-capacity", dict(yaml_text=CAP_YAML.replace("{elderly: 8}", "{elderly: many}")),
     r"{f}/scenario.yaml: field 'facility_types.canteen.capacity.elderly': value 'many' is not a number"),
    ("negative-existing-capacity", dict(yaml_text=CAP_YAML, existing=CAP_EXISTING.replace(",5\n", ",-5\n")),
     r"{f}/existing.csv line 2, column 'capacity_elderly': value -5 is negative; must be >= 0"),
    ("existing-capacity-unknown-group", dict(existing=EXISTING_CSV.replace("x,y\n", "x,y,capacity_adults\n").replace("3300100\n", "3300100,4\n")),
     r"{f}/existing.csv: column 'capacity_adults' names unknown group 'adults'; groups are elderly, children"),
]


@pytest.mark.parametrize("case, files, message", BAD, ids=[c[0] for c in BAD])
def test_bad_capacity_is_one_line_exit_2(tmp_path, case, files, message):
    folder = tmp_path / "bad"
    path = write_scenario(folder, **files)
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    expected = "error: " + message.replace("{f}", re.escape(str(folder)))
    assert re.fullmatch(expected, lines[0]), lines[0]
    assert not (tmp_path / "out").exists()
