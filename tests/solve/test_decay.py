"""Distance decay (gradual cover): hand values, brute force for each shape with every exact backend,
the plain case unchanged, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from support.bruteforce import brute_force, random_problem
from lifecircle.cli import main
from support.scenarios import SCENARIO_YAML, write_scenario
from lifecircle.models.coverage import build_coverage_model
from lifecircle.models.decay import decay_weight
from lifecircle.models.service import build_service_model
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.backends import Status, exact_backends
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce import brute_force_service, random_service_problem

EXACT = exact_backends()
SHAPES = ["step", "linear", "exponential"]
SEEDS = [0, 1, 2]


def test_decay_weight_by_hand():
    t = np.array([0.0, 3.0, 5.0, 10.0, 15.0, 20.0])
    assert decay_weight(t, "linear", 5, 15).tolist() == [1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    expo = decay_weight(t, "exponential", 5, 15, 0.2)
    assert expo[:3].tolist() == [1.0, 1.0, 1.0]
    assert expo[3] == pytest.approx(math.exp(-1.0))
    assert expo[4] == pytest.approx(math.exp(-2.0))  # inclusive at zero_minutes, like step
    assert expo[5] == 0.0
    assert decay_weight(np.array([10.0, 10.01]), "step", 10, 10).tolist() == [1.0, 0.0]
    # zero_minutes == full_minutes: a linear decay is a step at that time
    assert decay_weight(np.array([5.0, 5.5]), "linear", 5, 5).tolist() == [1.0, 0.0]


@pytest.fixture(scope="module")
def decay_answers():
    answers = {}
    for shape in SHAPES:
        seed = 0
        while len([k for k in answers if k[0] == shape]) < len(SEEDS):
            problem, dense = random_service_problem(seed, shape=shape, existing=2)
            best = brute_force_service(problem, dense)[0]
            if best is not None:  # a feasible instance (some draws break min_open or the budget)
                answers[(shape, len([k for k in answers if k[0] == shape]))] = (problem, best)
            seed += 1
    return answers


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("shape", SHAPES)
def test_decay_matches_brute_force(decay_answers, shape, solver):
    for seed in SEEDS:
        problem, best = decay_answers[(shape, seed)]
        solution = solve_problem(problem, solver)
        assert solution.status == Status.OPTIMAL
        assert solution.objective == pytest.approx(best, rel=1e-7), (shape, seed)
        assert solution.evaluation.feasible


def test_levels_are_chained_one_row_per_level():
    problem, _ = random_service_problem(3, shape="linear", existing=1)
    model, index = build_service_model(problem)
    # one coverage row per level column, each a chain u_l - u_{l-1} - sum x <= 0
    assert model.row_blocks["coverage"].stop - model.row_blocks["coverage"].start == index.n_levels
    assert model.integral_optimum
    assert index.n_levels > index.n_level_classes  # decay really produced several levels


def test_step_service_model_equals_coverage_model():
    """With only step weights the level rows are the coverage rows: same optimum, same size."""
    for seed in range(4):
        problem, geometry = random_problem(seed)
        plain, plain_index = build_coverage_model(problem)
        service, index = build_service_model(problem)
        assert not problem.has_service
        assert service.n_rows == plain.n_rows and service.n_cols == plain.n_cols
        assert service.A.nnz == plain.A.nnz
        assert index.n_levels == plain_index.n_classes
        best = brute_force(problem, geometry)
        assert solve_linear(service, "highs").objective == pytest.approx(best)


def test_step_decay_key_changes_nothing(tmp_path):
    plain = build_problem(load_scenario(write_scenario(tmp_path / "a")))
    stepped = build_problem(load_scenario(write_scenario(
        tmp_path / "b", yaml_text=SCENARIO_YAML.replace("walk_minutes: 10}", "walk_minutes: 10, decay: {shape: step}}"))))
    assert not stepped.has_service and stepped.reach_weight is None
    for key in plain.coverage:
        assert (plain.coverage[key] != stepped.coverage[key]).nnz == 0
    assert solve_problem(stepped, "highs").objective == pytest.approx(69.0)


def test_decay_scenario_by_hand(tmp_path):
    # canteen: linear, full 2 min, zero 12 min; elderly walk 0.5 m/s = 30 m/min, detour 1.
    # Plan {S1 canteen}: D1 0 m (w 1) 10 elderly x 2 = 20; D2 300 m = 10 min (w 0.2) 4 x 2 x 0.2 =
    # 1.6; D3 100 m from the existing canteen = 3.333 min (w 0.8667 -> 0.867) 7 x 2 x 0.867 = 12.138.
    yaml_text = SCENARIO_YAML.replace(
        "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}",
        "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10, "
        "decay: {shape: linear, full_minutes: 2, zero_minutes: 12}}")
    problem = build_problem(load_scenario(write_scenario(tmp_path / "d", yaml_text=yaml_text)))
    assert problem.has_service
    assert problem.weight_before[2, 0] == pytest.approx(0.867)
    s1 = problem.site_ids.index("S1")
    ev = evaluate(problem, np.array([s1]), np.array([problem.type_names.index("canteen")]))
    assert ev.objective == pytest.approx(20 + 1.6 + 12.138)
    assert ev.people_before.tolist() == pytest.approx([7 * 0.867, 0.0])
    best = solve_problem(problem, "highs")
    assert best.objective >= ev.objective - 1e-9
    for solver in EXACT:  # weights have 3 decimals: CP-SAT scales them exactly
        assert solve_problem(problem, solver).objective == pytest.approx(best.objective)


BAD = [
    ("zero-below-full", "decay: {shape: linear, full_minutes: 8, zero_minutes: 5}",
     r"field 'facility_types.canteen.decay.zero_minutes': value 5 is below full_minutes 8; .+"),
    ("unknown-shape", "decay: {shape: gaussian}",
     r"field 'facility_types.canteen.decay.shape': value 'gaussian' is not one of step, linear, exponential"),
    ("no-beta", "decay: {shape: exponential, full_minutes: 2, zero_minutes: 12}",
     r"missing key 'facility_types.canteen.decay.beta' \(per minute, > 0\) for an exponential decay"),
    ("negative-beta", "decay: {shape: exponential, full_minutes: 2, zero_minutes: 12, beta: -1}",
     r"field 'facility_types.canteen.decay.beta': value -1 must be > 0"),
    ("unknown-key", "decay: {shape: linear, half_life: 3}",
     r"unknown key 'facility_types.canteen.decay.half_life'; allowed: shape, full_minutes, zero_minutes, beta"),
    ("step-with-full", "decay: {shape: step, full_minutes: 3}",
     r"field 'facility_types.canteen.decay.full_minutes': a step decay has no full_minutes; .+"),
]


@pytest.mark.parametrize("case, decay, message", BAD, ids=[c[0] for c in BAD])
def test_bad_decay_is_one_line_exit_2(tmp_path, case, decay, message):
    import re

    yaml_text = SCENARIO_YAML.replace("walk_minutes: 10}\ndemand", f"walk_minutes: 10, {decay}}}\ndemand")
    assert yaml_text != SCENARIO_YAML
    folder = tmp_path / "bad"
    path = write_scenario(folder, yaml_text=yaml_text)
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(f"error: {re.escape(str(path))}: " + message, lines[0]), lines[0]
    assert not (tmp_path / "out").exists()
