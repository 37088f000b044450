"""Infeasible equity floors under per_service name the YAML key as written (issue 14), e.g.
``equity.min_coverage.elderly.canteen``, never the internal service name ``elderly·canteen``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import SCENARIO_YAML, write_scenario

PER = SCENARIO_YAML.replace("circle_type: other\n", "circle_type: other\ncoverage: per_service\n")
CANTEEN = "  canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}"
NEAR_CANTEEN = PER.replace(CANTEEN, CANTEEN.replace("walk_minutes: 10", "walk_minutes: 1"))

CASES = [
    ("group-floor-on-every-service", PER, "{elderly: 1.0}",
     "reason: equity.min_coverage.elderly: 1 asked but at most 0.4333 of elderly (elder_child) can be covered "
     "(within reach of any allowed site or existing facility)"),
    ("type-floor-out-of-reach", NEAR_CANTEEN, "{elderly: {canteen: 0.9}}",
     "reason: equity.min_coverage.elderly.canteen: 0.9 asked but at most 0.6333 of elderly (canteen) can be "
     "covered (within reach of any allowed site or existing facility)"),
    ("floors-together", PER, "{elderly: {canteen: 0.9}, children: 0.9}",
     "reason: fairness floors cannot be met: equity.min_coverage.elderly.canteen: elderly (canteen) at most "
     "1.0000 (>= 0.9 asked); equity.min_coverage.children: children (elder_child) at most 0.7353 (< 0.9 asked)"),
]


@pytest.mark.parametrize("yaml_text, floors, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_infeasible_floor_names_the_yaml_key(tmp_path, yaml_text, floors, expected):
    scenario = write_scenario(tmp_path / "s", yaml_text + f"equity: {{min_coverage: {floors}}}\n")
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("infeasible with highs")
    assert lines[1] == expected
    assert "·" not in lines[1]
