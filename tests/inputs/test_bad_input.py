"""Every bad input of the core issue: exit 2, one line on stderr naming file and field, no output."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import DEMAND_CSV, SCENARIO_YAML, SITES_CSV, write_scenario


def yaml_with(old: str, new: str) -> str:
    assert old in SCENARIO_YAML
    return SCENARIO_YAML.replace(old, new)


# (case id, files to write, expected stderr line; {f} is the scenario folder)
CASES = [
    ("yaml-syntax", dict(yaml_text="name: [unclosed\ncrs: EPSG:4545\n"),
     r"{f}/scenario.yaml line 2: YAML does not parse: .+"),
    ("yaml-python-tag", dict(yaml_text="name: !!python/object/apply:os.system ['echo hacked']\n"),
     r"{f}/scenario.yaml line 1: YAML tag refused \(could not determine a constructor for the tag "
     r"'tag:yaml.org,2002:python/object/apply:os.system'\); scenarios are plain data"),
    ("missing-key", dict(yaml_text=yaml_with("circle_type: other\n", "")),
     r"{f}/scenario.yaml: missing key 'circle_type'"),
    ("unknown-key", dict(yaml_text=SCENARIO_YAML + "budgett: 5\n"),
     r"{f}/scenario.yaml: unknown key 'budgett'; allowed: name, crs, .+"),
    ("unknown-walking-key", dict(yaml_text=yaml_with("  detour_factor: 1.0", "  detour: 1.0")),
     r"{f}/scenario.yaml: unknown key 'walking.detour'; allowed: speed_m_s, group_speed_m_s, detour_factor, network, max_snap_m, oneway"),
    ("missing-file", dict(yaml_text=yaml_with("demand: demand.csv", "demand: nowhere.csv")),
     r"{f}/scenario.yaml: field 'demand': file {f}/nowhere.csv does not exist"),
    ("missing-column", dict(demand=DEMAND_CSV.replace(",children", ",kids")),
     r"{f}/demand.csv: missing column 'children'"),
    ("non-numeric-cost", dict(sites=SITES_CSV.replace(",600,400", ",six hundred,400")),
     r"{f}/sites.csv line 3, column 'cost_elder_child': value 'six hundred' is not a number"),
    ("negative-cost", dict(sites=SITES_CSV.replace(",600,400", ",-600,400")),
     r"{f}/sites.csv line 3, column 'cost_elder_child': value -600 is negative; must be >= 0"),
    ("negative-population", dict(demand=DEMAND_CSV.replace("D3,501000,3300000,7,0", "D3,501000,3300000,-7,0")),
     r"{f}/demand.csv line 4, column 'elderly': value -7 is negative; must be >= 0"),
    ("non-numeric-population", dict(demand=DEMAND_CSV.replace(",4,20", ",four,20")),
     r"{f}/demand.csv line 3, column 'elderly': value 'four' is not a number"),
    ("negative-budget", dict(yaml_text=yaml_with("budget: 1000", "budget: -5")),
     r"{f}/scenario.yaml: field 'budget': value -5 must be >= 0"),
    ("non-numeric-budget", dict(yaml_text=yaml_with("budget: 1000", "budget: lots")),
     r"{f}/scenario.yaml: field 'budget': value 'lots' is not a number"),
    ("duplicate-id", dict(sites=SITES_CSV.replace("S3,", "S2,")),
     r"{f}/sites.csv line 4, column 'id': duplicate id 'S2'"),
    ("unknown-group-in-serves", dict(yaml_text=yaml_with("serves: [elderly]", "serves: [seniors]")),
     r"{f}/scenario.yaml: field 'facility_types.canteen.serves': unknown group 'seniors'; groups are elderly, children"),
    ("unknown-site-in-rules", dict(yaml_text=SCENARIO_YAML + "rules:\n  forbid: [S9]\n"),
     r"{f}/scenario.yaml: field 'rules.forbid': unknown site 'S9'"),
    ("unknown-type-in-rules", dict(yaml_text=SCENARIO_YAML + "rules:\n  min_open: {clinic: 1}\n"),
     r"{f}/scenario.yaml: field 'rules.min_open.clinic': unknown facility type 'clinic'; types are elder_child, canteen"),
    ("unknown-type-in-must-open", dict(yaml_text=SCENARIO_YAML + "rules:\n  must_open: {S1: clinic}\n"),
     r"{f}/scenario.yaml: field 'rules.must_open.S1': unknown facility type 'clinic'; types are elder_child, canteen"),
    ("unknown-type-in-existing", dict(existing="id,type,x,y\nE1,clinic,501000,3300100\n"),
     r"{f}/existing.csv line 2, column 'type': unknown facility type 'clinic'; types are elder_child, canteen"),
    ("unknown-crs", dict(yaml_text=yaml_with("crs: EPSG:4545", "crs: EPSG:999999")),
     r"{f}/scenario.yaml: field 'crs': unknown CRS 'EPSG:999999'; give an EPSG code such as EPSG:4545, "
     r"or GCJ-02 \(Gaode/Tencent\) or BD-09 \(Baidu\)"),
    ("geographic-crs-no-projection", dict(yaml_text=yaml_with("crs: EPSG:4545", "crs: EPSG:4326"),
                                          demand=DEMAND_CSV.replace("500000", "-70").replace("500300", "-70.01")
                                          .replace("501000", "-70.02").replace("502000", "-70.03")
                                          .replace("3300000", "40")),
     r"{f}/scenario.yaml: field 'crs': CRS EPSG:4326 is geographic and longitude -70.01 is outside the CGCS2000 "
     r"Gauss-Krüger zones \(75°E-135°E\); give a projected CRS in metres"),
    ("nan-coordinate", dict(demand=DEMAND_CSV.replace("D2,500300", "D2,nan")),
     r"{f}/demand.csv line 3, column 'x': value 'nan' is not a finite coordinate"),
    ("infinite-coordinate", dict(sites=SITES_CSV.replace("502000,3300000,500", "502000,inf,500")),
     r"{f}/sites.csv line 4, column 'y': value 'inf' is not a finite coordinate"),
    ("empty-demand", dict(demand="id,x,y,elderly,children\n"),
     r"{f}/demand.csv: the table is empty; it needs at least one row"),
    ("empty-sites", dict(sites="id,name,kind,x,y,cost_elder_child,cost_canteen\n"),
     r"{f}/sites.csv: the table is empty; it needs at least one row"),
    ("detour-below-one", dict(yaml_text=yaml_with("detour_factor: 1.0", "detour_factor: 0.9")),
     r"{f}/scenario.yaml: field 'walking.detour_factor': value 0.9 is below 1; a walk is never shorter than the straight line"),
    ("zero-speed", dict(yaml_text=yaml_with("speed_m_s: 1.0", "speed_m_s: 0")),
     r"{f}/scenario.yaml: field 'walking.speed_m_s': value 0 must be > 0"),
    ("negative-group-speed", dict(yaml_text=yaml_with("{elderly: 0.5}", "{elderly: -0.5}")),
     r"{f}/scenario.yaml: field 'walking.group_speed_m_s.elderly': value -0.5 must be > 0"),
    ("bad-kind", dict(sites=SITES_CSV.replace("corner_plot", "rooftop")),
     r"{f}/sites.csv line 4, column 'kind': value 'rooftop' is not one of under_bridge, vacant_room, idle_land, corner_plot, other"),
]


@pytest.mark.parametrize("case, files, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case, files, expected):
    folder = tmp_path / "bad"
    scenario = write_scenario(folder, **files)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    pattern = "error: " + expected.replace("{f}", re.escape(str(folder)))
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert not out.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # inputs never modified


def test_validate_reports_the_same_errors(tmp_path):
    scenario = write_scenario(tmp_path / "bad", yaml_text=yaml_with("detour_factor: 1.0", "detour_factor: 0.5"))
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "field 'walking.detour_factor': value 0.5 is below 1" in result.stderr


def test_unknown_solver_is_bad_input(tiny_scenario, tmp_path):
    result = CliRunner().invoke(main, ["solve", str(tiny_scenario), "--solver", "gurobi", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --solver: unknown solver 'gurobi'; choose one of greedy, highs, local, ortools-cpsat, ortools-scip, pulp-cbc"
    )
    assert not (tmp_path / "o").exists()
