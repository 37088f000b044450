"""The report shows issue 7's fairness figures and capacity use, matching summary.json."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import SCENARIO_YAML, write_scenario

FAIR = SCENARIO_YAML.replace(
    "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}",
    "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10, capacity: {elderly: 8}}",
) + "equity:\n  min_coverage: {children: 0.2}\n"


def test_report_has_equity_and_utilisation_tables(tmp_path):
    scenario = write_scenario(tmp_path / "fair", yaml_text=FAIR)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    page = (out / "report.html").read_text(encoding="utf-8")
    for table in ("equity-groups", "equity-measures", "utilisation"):
        assert f'id="{table}"' in page
    children = summary["equity"]["groups"]["children"]
    assert children["share_after"] >= 0.2
    section = page[page.index('id="equity-groups"'):page.index('id="equity-measures"')]
    cells = re.findall(r'data-v="([^"]*)"', section)
    row = cells[cells.index("children") + 1: cells.index("children") + 4]
    assert [float(v) for v in row] == [34.0, 100 * children["share_before"], 100 * children["share_after"]]
    assert "min_coverage children ≥ 20%" in page
    assert len(summary["utilisation"]) >= 1
