"""``coverage:`` and ``facility_types.<k>.weight`` (issue 14): bad values are one line, exit 2,
nothing written; per-service equity floors in their two YAML forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from support.scenarios import SCENARIO_YAML, write_scenario

PER = SCENARIO_YAML.replace("circle_type: other\n", "circle_type: other\ncoverage: per_service\n")
CANTEEN = "  canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}"


def with_canteen(extra: str, yaml_text=PER) -> str:
    assert CANTEEN in yaml_text
    return yaml_text.replace(CANTEEN, CANTEEN[:-1] + extra + "}")


CASES = [
    ("typo", SCENARIO_YAML.replace("circle_type: other\n", "circle_type: other\ncoverage: per-servce\n"),
     "{f}/scenario.yaml: field 'coverage': value 'per-servce' is not one of any_service, per_service"),
    ("not-text", SCENARIO_YAML.replace("circle_type: other\n", "circle_type: other\ncoverage: [per_service]\n"),
     "{f}/scenario.yaml: field 'coverage': value ['per_service'] is not one of any_service, per_service"),
    ("negative-weight", with_canteen(", weight: -1"),
     "{f}/scenario.yaml: field 'facility_types.canteen.weight': value -1 must be >= 0"),
    ("nan-weight", with_canteen(", weight: .nan"),
     "{f}/scenario.yaml: field 'facility_types.canteen.weight': value nan is not finite"),
    ("text-weight", with_canteen(", weight: high"),
     "{f}/scenario.yaml: field 'facility_types.canteen.weight': value 'high' is not a number"),
    ("weight-without-per-service", with_canteen(", weight: 2", SCENARIO_YAML),
     "{f}/scenario.yaml: field 'facility_types.canteen.weight': a type weight counts only with coverage: "
     "per_service; remove it or set coverage: per_service"),
    ("floor-per-type-any-service", SCENARIO_YAML + "equity: {min_coverage: {elderly: {canteen: 0.2}}}\n",
     "{f}/scenario.yaml: field 'equity.min_coverage.elderly': a floor per facility type needs coverage: "
     "per_service; give one share for the group"),
    ("floor-type-not-serving", PER + "equity: {min_coverage: {children: {canteen: 0.2}}}\n",
     "{f}/scenario.yaml: field 'equity.min_coverage.children.canteen': 'canteen' is not a facility type "
     "serving children; types serving children are elder_child"),
    ("floor-share-above-1", PER + "equity: {min_coverage: {elderly: {canteen: 1.5}}}\n",
     "{f}/scenario.yaml: field 'equity.min_coverage.elderly.canteen': value 1.5 is a share and must be in [0, 1]"),
]


@pytest.mark.parametrize("yaml_text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_coverage_keys_are_one_line(tmp_path, yaml_text, expected):
    scenario = write_scenario(tmp_path / "s", yaml_text)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: " + expected.format(f=tmp_path / "s")]
    assert not out.exists()


def test_default_is_any_service(tmp_path):
    scenario = load_scenario(write_scenario(tmp_path / "s"))
    assert scenario.coverage_mode == "any_service" and not scenario.services
    assert scenario.group_names == ("elderly", "children")


def test_floors_per_group_and_per_service(tmp_path):
    """``elderly: 0.4`` floors both elderly services; ``{canteen: 0.1}`` overrides one of them."""
    text = PER + "equity: {min_coverage: {elderly: 0.4, children: {elder_child: 0.25}}}\n"
    problem = build_problem(load_scenario(write_scenario(tmp_path / "a", text)))
    assert problem.group_names == ("elderly·elder_child", "elderly·canteen", "children·elder_child")
    np.testing.assert_allclose(problem.equity.min_share, [0.4, 0.4, 0.25])
    text = PER + "equity: {min_coverage: {elderly: {canteen: 0.1}}}\n"
    problem = build_problem(load_scenario(write_scenario(tmp_path / "b", text)))
    floors = problem.equity.min_share
    assert math.isnan(floors[0]) and floors[1] == 0.1 and math.isnan(floors[2])


def test_floor_on_a_weightless_service_is_refused(tmp_path):
    text = with_canteen(", weight: 0") + "equity: {min_coverage: {elderly: 0.3}}\n"
    with pytest.raises(ScenarioError, match=r"field 'equity.min_coverage.elderly': service elderly · canteen has "
                                            r"weight 0 \(group weight × type weight\)"):
        load_scenario(write_scenario(tmp_path / "s", text))


def test_network_reach_per_service(tmp_path):
    """With a walking network each service keeps its type's network reach, and the existing
    elder_child facility E1 covers the elder_child services only (tests/support/network.py's map)."""
    from support.network import SITES, X0, Y0, YAML, csv_text, write_hand_scenario

    two_types = YAML.replace("  elder_child: {serves: [elderly, children], walk_minutes: 10}\n",
                             "  elder_child: {serves: [elderly, children], walk_minutes: 10}\n"
                             "  canteen: {serves: [elderly], walk_minutes: 8}\n")
    problems = {}
    for mode in ("any_service", "per_service"):
        path = write_hand_scenario(tmp_path / mode, two_types.replace("circle_type: other\n",
                                                                      f"circle_type: other\ncoverage: {mode}\n"))
        path.with_name("sites.csv").write_text(csv_text("id,name,kind,x,y,cost_elder_child,cost_canteen", [
            (i, i, "other", X0 + x, Y0 + y, 100, 80) for i, x, y in SITES]), encoding="utf-8")
        problems[mode] = build_problem(load_scenario(path), cache_dir=tmp_path / "cache")
    any_p, per_p = problems["any_service"], problems["per_service"]
    assert per_p.group_names == ("elderly·elder_child", "elderly·canteen", "children·elder_child")
    for (k, g), s in (((0, 0), 0), ((1, 0), 1), ((0, 1), 2)):
        assert (any_p.coverage[(k, g)] != per_p.coverage[(k, s)]).nnz == 0, (k, g)
    assert per_p.coverage[(1, 1)].nnz and (per_p.coverage[(0, 0)] != per_p.coverage[(1, 1)]).nnz  # 10 vs 8 minutes
    assert any_p.covered_before[:, 0].any()  # E1 reaches some elderly
    np.testing.assert_array_equal(per_p.covered_before[:, 0], any_p.covered_before[:, 0])
    assert not per_p.covered_before[:, 1].any()  # no existing canteen
    np.testing.assert_array_equal(per_p.covered_before[:, 2], any_p.covered_before[:, 1])


def test_validate_prints_the_mode_and_people_per_group(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(write_scenario(tmp_path / "s", PER))])
    assert result.exit_code == 0, result.output
    # tests/support/scenarios.py: elderly 10 + 4 + 7 + 9 = 30, children 5 + 20 + 0 + 9 = 34, counted once
    assert "  people elderly: 30\n  people children: 34\n" in result.output
    assert "  coverage per_service\n" in result.output
