"""plan.gpkg (issue 15 part 3): GDAL lists every layer in the scenario CRS with the expected rows,
statuses follow the solution and the rules, QGIS styles are stored, and the file appears whole
or not at all."""

from __future__ import annotations

import json
import math
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from support.network import write_hand_scenario
from support.scenarios import REPO, SCENARIO_YAML, write_scenario

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.outputs.gpkg import PLAN_LAYERS, TABLES, write_plan_gpkg
from lifecircle.optimizer.solve.coverage import solve_problem

# the test circle (support/scenarios.py) plus a fourth site the rules forbid, and one must-open
RULES_YAML = SCENARIO_YAML + "rules:\n  must_open: {S3: canteen}\n  forbid: [S4]\n"
SITES = """\
id,name,kind,x,y,cost_elder_child,cost_canteen
S1,桥下空间一号,under_bridge,500000,3300000,,300
S2,闲置用房,vacant_room,500600,3300000,600,400
S3,边角地,corner_plot,502000,3300000,500,200
S4,禁建地块,idle_land,500300,3300000,100,100
"""
BOUNDARY = {"type": "Polygon", "coordinates": [[[499000, 3299000], [503000, 3299000], [503000, 3301000],
                                                 [499000, 3301000], [499000, 3299000]]],
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}}


def solved(path):
    scenario = load_scenario(path)
    problem = build_problem(scenario)
    return scenario, problem, solve_problem(problem, "highs")


def layers_of(path) -> dict:
    return {str(name): geom for name, geom in pyogrio.list_layers(path)}


def styles_of(path) -> list:
    with sqlite3.connect(path) as con:
        return con.execute("select f_table_name, f_geometry_column, styleName, styleQML, useAsDefault "
                           "from layer_styles order by id").fetchall()


@pytest.fixture
def circle(tmp_path):
    path = write_scenario(tmp_path / "circle", RULES_YAML, sites=SITES)
    (tmp_path / "circle" / "boundary.geojson").write_text(json.dumps(BOUNDARY), encoding="utf-8")
    return path


def test_every_layer_listed_in_the_scenario_crs_with_its_rows(circle, tmp_path):
    scenario, problem, solution = solved(circle)
    assert solution.has_plan
    out = write_plan_gpkg(tmp_path / "plan.gpkg", scenario, problem, solution)
    assert layers_of(out) == {"selected_sites": "Point", "candidates": "Point", "demand": "Point",
                              "existing": "Point", "service_areas": "MultiPolygon", "circle": "MultiPolygon",
                              "field_keys": None, "layer_styles": None}
    assert set(layers_of(out)) == set(PLAN_LAYERS) | set(TABLES)
    n_selected = len(solution.site)
    # elder_child serves two groups at two reaches (elderly walk slower), canteen one; plus the
    # existing canteen E1's
    n_areas = sum(2 if scenario.type_names[k] == "elder_child" else 1 for k in solution.type) + 1
    rows = {"selected_sites": n_selected, "candidates": 4, "demand": 4, "existing": 1,
            "service_areas": n_areas, "circle": 1}
    for name, count in rows.items():
        info = pyogrio.read_info(out, layer=name)
        assert info["features"] == count, name
        assert info["crs"] == "EPSG:4545", name

    # the layer values: the chosen sites, each candidate's status, coverage as evaluate() counts it
    ids = scenario.sites.ids
    chosen = {ids[j]: scenario.type_names[k] for j, k in zip(solution.site, solution.type)}
    sel = gpd.read_file(out, layer="selected_sites")
    assert dict(zip(sel.site_id, sel.facility_type)) == chosen
    assert sel.set_index("site_id").must_open.to_dict() == {s: int(s == "S3") for s in chosen}
    cand = gpd.read_file(out, layer="candidates").set_index("site_id")
    assert cand.loc["S3", "status"] == "must_open" and cand.loc["S3", "reason"] == "rules.must_open: canteen"
    assert (cand.loc["S4", "status"], cand.loc["S4", "reason"]) == ("forbidden", "rules.forbid")
    for site in ids:
        if site in chosen:
            assert cand.loc[site, "status"] in ("selected", "must_open")
            assert cand.loc[site, "facility_type"] == chosen[site]
        elif site != "S4":
            assert cand.loc[site, "status"] == "not_chosen" and cand.loc[site, "reason"], site
    assert math.isnan(cand.loc["S1", "cost_elder_child"]) and cand.loc["S1", "cost_canteen"] == 300.0

    demand = gpd.read_file(out, layer="demand")
    ev = solution.evaluation
    for g, group in enumerate(scenario.group_names):
        people = demand[f"population_{group}"].to_numpy()
        assert float(people @ demand[f"covered_after_{group}"].to_numpy()) == pytest.approx(ev.people_after[g])
        assert float(people @ demand[f"covered_before_{group}"].to_numpy()) == pytest.approx(ev.people_before[g])
    assert set(demand.coverage) <= {"covered_before", "newly_covered", "partly_covered", "not_covered", "no_people"}
    areas = gpd.read_file(out, layer="service_areas")
    assert set(areas.method) == {"radius"}
    assert set(areas.site_id[areas.source == "new"]) == set(chosen)
    assert list(areas[areas.source == "existing"][["site_id", "facility_type", "reach_m"]].itertuples(index=False)) \
        == [("E1", "canteen", 300.0)]
    keys = gpd.read_file(out, layer="field_keys")
    assert list(keys.column_key) == ["elderly", "children", "elder_child", "canteen"]


def test_each_layer_has_one_default_qgis_style(circle, tmp_path):
    out = write_plan_gpkg(tmp_path / "plan.gpkg", *solved(circle))
    styles = styles_of(out)
    spatial = [name for name, geom in layers_of(out).items() if geom is not None]
    assert sorted(row[0] for row in styles) == sorted(spatial)
    for table, column, name, qml, default in styles:
        assert (column, name, default) == ("geom", table, 1)
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2") is not None, table
    renderers = {row[0]: ET.fromstring(row[3].split("\n", 1)[1]).find("renderer-v2") for row in styles}
    assert renderers["candidates"].get("type") == "categorizedSymbol" and renderers["candidates"].get("attr") == "status"
    assert {c.get("value") for c in renderers["candidates"].iter("category")} == \
        {"selected", "must_open", "forbidden", "not_chosen"}
    assert renderers["demand"].get("attr") == "coverage"
    assert renderers["service_areas"].get("attr") == "source"
    for symbol in renderers["service_areas"].iter("symbol"):
        fill = {o.get("name"): o.get("value") for o in symbol.iter("Option") if o.get("name")}
        assert 0 < int(fill["color"].split(",")[3]) < 128  # semi-transparent


def test_network_scenario_writes_isochrones(tmp_path):
    scenario, problem, solution = solved(write_hand_scenario(tmp_path / "hand"))
    out = write_plan_gpkg(tmp_path / "plan.gpkg", scenario, problem, solution)
    areas = gpd.read_file(out, layer="service_areas")
    # elderly 480 m and children 600 m walks, for each selected site and the existing E1
    assert len(areas) == 2 * len(solution.site) + 2 and list(areas.source).count("existing") == 2
    assert set(areas.method) == {"network"} and set(areas.buffer_m) == {25.0}
    assert "circle" not in layers_of(out)  # no boundary.geojson in the folder


def test_geographic_scenario_layers_stay_in_lon_lat(tmp_path):
    scenario, problem, solution = solved(REPO / "scenarios" / "jiefangbei_gaode" / "scenario.yaml")
    out = write_plan_gpkg(tmp_path / "plan.gpkg", scenario, problem, solution)
    for name in ("selected_sites", "candidates", "demand", "service_areas", "circle"):
        info = pyogrio.read_info(out, layer=name)
        assert info["crs"] == "EPSG:4490", name
        xmin, ymin, xmax, ymax = gpd.read_file(out, layer=name).total_bounds
        assert 106 < xmin < xmax < 107 and 29 < ymin < ymax < 30, name
    sel = gpd.read_file(out, layer="selected_sites")
    assert np.allclose(sel.geometry.x.sort_values(), np.sort(scenario.sites.x[solution.site]))


def test_a_failed_write_leaves_no_file(circle, tmp_path, monkeypatch):
    scenario, problem, solution = solved(circle)
    target = tmp_path / "out" / "plan.gpkg"
    real = pyogrio.write_dataframe

    def fail_on_demand(frame, path, layer=None, **kwargs):  # the disk fills up mid-file
        if layer == "demand":
            raise OSError(28, "No space left on device")
        return real(frame, path, layer=layer, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_demand)
    with pytest.raises(ScenarioError, match="No space left"):
        write_plan_gpkg(target, scenario, problem, solution)
    assert list(target.parent.iterdir()) == []  # neither plan.gpkg nor a temporary
    monkeypatch.undo()

    # a file of the user's at the path is never replaced
    target.write_bytes(b"my own notes")
    with pytest.raises(ScenarioError, match="did not write"):
        write_plan_gpkg(target, scenario, problem, solution)
    assert target.read_bytes() == b"my own notes"


def test_solve_writes_plan_gpkg_beside_sites_csv(circle, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from lifecircle.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(circle), "--no-report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert set(layers_of(out / "plan.gpkg")) == set(PLAN_LAYERS) | set(TABLES)
    marker = json.loads((out / ".lifecircle.json").read_text(encoding="utf-8"))
    assert "plan.gpkg" in marker["files"]
    sites = gpd.read_file(out / "sites.geojson")
    assert sorted(gpd.read_file(out / "plan.gpkg", layer="selected_sites").site_id) == sorted(sites.site_id)

    # the GeoPackage fails mid-write: the whole result folder stays as it was
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pyogrio.write_dataframe

    def fail(frame, path, layer=None, **kwargs):
        if layer == "service_areas":
            raise OSError(28, "No space left on device")
        return real(frame, path, layer=layer, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", fail)
    result = CliRunner().invoke(main, ["solve", str(circle), "--no-report", "--out", str(out)])
    assert result.exit_code == 2 and "No space left" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_column_keys_are_plain_ascii():
    from lifecircle.optimizer.outputs.gpkg import column_keys

    # a Chinese name becomes its position (field_keys maps it back); a per-service name keeps its words
    assert column_keys(["老年人", "elderly·station", "Kids 3-6", "a", "A"], "g") == \
        ["g1", "elderly_station", "kids_3_6", "a", "g5"]


def test_a_gdal_failure_is_one_line_naming_the_output(circle, tmp_path, monkeypatch):
    from pyogrio.errors import DataSourceError

    scenario, problem, solution = solved(circle)
    real = pyogrio.write_dataframe

    def full(frame, path, layer=None, **kwargs):
        if layer == "candidates":
            raise DataSourceError("sqlite3_exec(CREATE TABLE ...) failed: database or disk is full\nmore")
        return real(frame, path, layer=layer, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    target = tmp_path / "o" / "plan.gpkg"
    with pytest.raises(ScenarioError) as caught:
        write_plan_gpkg(target, scenario, problem, solution)
    assert str(caught.value) == f"{target}: cannot write the output (GDAL: database or disk is full); nothing was written"
    assert list(target.parent.iterdir()) == []


def test_chinese_scenario_gets_chinese_reasons_and_legends(tmp_path):
    path = write_scenario(tmp_path / "zh", RULES_YAML + "language: zh\n", sites=SITES)
    out = write_plan_gpkg(tmp_path / "plan.gpkg", *solved(path))
    cand = gpd.read_file(out, layer="candidates").set_index("site_id")
    assert cand.loc["S3", "reason"] == "规则 must_open 指定：社区食堂"  # the type's label, 社区食堂
    assert cand.loc["S4", "reason"] == "规则 forbid 禁止"
    assert cand.loc["S1", "reason"].startswith("超出预算") and cand.loc["S1", "reason_code"] == "over_budget"
    assert cand.loc["S4", "status"] == "forbidden"  # the codes QGIS styles by stay English
    qml = dict((row[0], row[3]) for row in styles_of(out))
    labels = {c.get("value"): c.get("label")
              for c in ET.fromstring(qml["candidates"].split("\n", 1)[1]).iter("category")}
    assert labels == {"selected": "已选", "must_open": "必选（规则）", "forbidden": "禁止（规则）", "not_chosen": "未选"}
