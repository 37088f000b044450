"""Every bad walking network: exit 2, one line on stderr naming the file and what is wrong,
nothing written, inputs untouched."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.network import HAND_LINES, YAML, X0, Y0, geojson_lines, write_hand_scenario


def lines_with(index: int, **props):
    out = [list(line) for line in HAND_LINES]
    out[index][2] = {**out[index][2], **props}
    return [tuple(line) for line in out]


def points_geojson() -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [X0, Y0]}}],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}})


def polygon_among_lines() -> str:
    data = json.loads(geojson_lines(HAND_LINES))
    data["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [
        [[X0, Y0], [X0 + 10, Y0], [X0 + 10, Y0 + 10], [X0, Y0]]]}
    return json.dumps(data)


def graphml(edges: str, edge_keys: str = '<key id="len" for="edge" attr.name="length" attr.type="double"/>',
            node_data=('<data key="x">500000</data><data key="y">3300000</data>',
                       '<data key="x">500100</data><data key="y">3300000</data>')) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="x" for="node" attr.name="x" attr.type="double"/>
  <key id="y" for="node" attr.name="y" attr.type="double"/>
  {edge_keys}
  <graph edgedefault="undirected">
    <node id="0">{node_data[0]}</node>
    <node id="1">{node_data[1]}</node>
    {edges}
  </graph>
</graphml>
"""


GOOD_EDGE = '<edge source="0" target="1"><data key="len">100</data></edge>'
LOCAL_CS = 'LOCAL_CS["arbitrary",UNIT["metre",1],AXIS["x",EAST],AXIS["y",NORTH]]'

# (case id, network file name, its text or a writer, yaml replacement, expected line; {f} = folder)
CASES = [
    ("geojson-does-not-parse", "streets.geojson", '{"type": "FeatureCollection", "features": [', None,
     r"{f}/streets.geojson: walking network does not parse: .+"),
    ("graphml-does-not-parse", "streets.graphml", "<graphml><graph><node id='0'></graph>", None,
     r"{f}/streets.graphml: GraphML does not parse: mismatched tag: line 1, column \d+"),
    ("no-line-geometry", "streets.geojson", points_geojson(), None,
     r"{f}/streets.geojson: walking network has no line geometry \(found Point\)"),
    ("polygon-among-lines", "streets.geojson", polygon_among_lines(), None,
     r"{f}/streets.geojson feature 2: not a LineString; a walking network holds lines only"),
    ("graphml-without-edges", "streets.graphml", graphml(""), None,
     r"{f}/streets.graphml: walking network has no line geometry \(GraphML has no edges\)"),
    ("crs-cannot-be-transformed", "streets.shp", "local-cs-shapefile", None,
     r"{f}/streets.shp: CRS 'arbitrary' cannot be transformed to the scenario's 'CGCS2000 / 3-degree "
     r"Gauss-Kruger CM 108E'; reproject the network to the scenario CRS"),
    ("geojson-projected-without-crs", "streets.geojson",
     json.dumps({k: v for k, v in json.loads(geojson_lines(HAND_LINES)).items() if k != "crs"}), None,
     r"{f}/streets.geojson: coordinates in CRS 'EPSG:4326' cannot be transformed to the scenario's EPSG:4545 "
     r"\(the coordinates look projected: a GeoJSON without a 'crs' member is read as WGS84\); reproject the "
     r"network to the scenario CRS"),
    ("negative-length", "streets.geojson", geojson_lines(lines_with(2, length_m=-5)), None,
     r"{f}/streets.geojson feature 3, column 'length_m': value '-5' must be a number > 0"),
    ("zero-length", "streets.geojson", geojson_lines(lines_with(2, length_m=0)), None,
     r"{f}/streets.geojson feature 3, column 'length_m': value '0' must be a number > 0"),
    ("text-length", "streets.geojson", geojson_lines(lines_with(2, length_m="long")), None,
     r"{f}/streets.geojson feature 3, column 'length_m': value 'long' must be a number > 0"),
    ("zero-factor", "streets.geojson", geojson_lines(lines_with(4, walk_factor=0)), None,
     r"{f}/streets.geojson feature 5, column 'walk_factor': value '0' must be a number > 0"),
    ("negative-factor", "streets.geojson", geojson_lines(lines_with(4, walk_factor=-1.5)), None,
     r"{f}/streets.geojson feature 5, column 'walk_factor': value '-1.5' must be a number > 0"),
    ("bad-oneway", "streets.geojson", geojson_lines(lines_with(3, oneway="sometimes")), None,
     r"{f}/streets.geojson feature 4, column 'oneway': value 'sometimes' is not one of 1/true/yes "
     r"\(drawing direction\), -1/reverse \(against it\), 0/false/no/blank \(both\)"),
    ("numeric-oneway", "streets.geojson", geojson_lines(lines_with(3, oneway=2)), None,
     r"{f}/streets.geojson feature 4, column 'oneway': value '2' is not one of 1/true/yes "
     r"\(drawing direction\), -1/reverse \(against it\), 0/false/no/blank \(both\)"),
    ("graphml-without-length", "streets.graphml",
     graphml('<edge source="0" target="1"/>', edge_keys=""), None,
     r"{f}/streets.graphml: GraphML has no 'length' attribute on edges; save the graph with edge lengths in metres"),
    ("graphml-edge-missing-length", "streets.graphml",
     graphml(GOOD_EDGE + '<edge source="1" target="0"/>'), None,
     r"{f}/streets.graphml edge 1->0: missing 'length'; every edge needs a length in metres"),
    ("graphml-zero-length", "streets.graphml",
     graphml('<edge source="0" target="1"><data key="len">0</data></edge>'), None,
     r"{f}/streets.graphml edge 0->1: 'length' value '0' must be a number > 0"),
    ("graphml-negative-length", "streets.graphml",
     graphml('<edge source="0" target="1"><data key="len">-12.5</data></edge>'), None,
     r"{f}/streets.graphml edge 0->1: 'length' value '-12.5' must be a number > 0"),
    ("graphml-bad-geometry", "streets.graphml",
     graphml('<edge source="0" target="1"><data key="len">100</data><data key="g">LINESTRING (oops)</data></edge>',
             edge_keys='<key id="len" for="edge" attr.name="length"/><key id="g" for="edge" attr.name="geometry"/>'),
     None, r"{f}/streets.graphml edge 0->1: geometry 'LINESTRING \(oops\)' is not a WKT LineString"),
    ("graphml-node-without-xy", "streets.graphml",
     graphml(GOOD_EDGE, node_data=('<data key="x">500000</data>', '<data key="x">1</data><data key="y">2</data>')),
     None, r"{f}/streets.graphml node 0: x/y '500000', None are not numbers; OSMnx graphs have x/y on every node"),
    ("missing-network-file", None, None, ("network: streets.geojson", "network: nowhere.gpkg"),
     r"{f}/scenario.yaml: field 'walking.network': file {f}/nowhere.gpkg does not exist"),
    ("network-not-a-network-format", None, None, ("network: streets.geojson", "network: demand.csv"),
     r"{f}/scenario.yaml: field 'walking.network': demand.csv is not one of .gpkg, .geojson, .json, .shp, .graphml"),
    ("negative-max-snap", None, None, ("  network:", "  max_snap_m: -1\n  network:"),
     r"{f}/scenario.yaml: field 'walking.max_snap_m': value -1 must be >= 0"),
    ("gpkg-with-two-line-layers", "streets.gpkg", "two-layer-gpkg", None,
     r"{f}/streets.gpkg: walking network has several line layers \(roads, paths\); save one as its own file"),
]


def _write_network(folder, name, content):
    if content == "local-cs-shapefile":
        import geopandas as gpd
        import shapely

        frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 100, Y0)])])
        with pytest.warns(UserWarning):  # pyogrio warns that the file has no CRS: we add it next
            frame.to_file(folder / name)
        (folder / "streets.prj").write_text(LOCAL_CS, encoding="ascii")
    elif content == "two-layer-gpkg":
        import geopandas as gpd
        import shapely

        for layer in ("roads", "paths"):
            frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 100, Y0)])],
                                     crs="EPSG:4545")
            frame.to_file(folder / name, layer=layer)
    else:
        (folder / name).write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case, name, content, yaml_change, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_network_is_one_line_exit_2(tmp_path, case, name, content, yaml_change, expected):
    folder = tmp_path / "bad"
    yaml_text = YAML
    if name is not None:
        yaml_text = yaml_text.replace("network: streets.geojson", f"network: {name}")
    if yaml_change is not None:
        yaml_text = yaml_text.replace(*yaml_change)
    scenario = write_hand_scenario(folder, yaml_text)
    if name is not None:
        if name != "streets.geojson":
            (folder / "streets.geojson").unlink()
        _write_network(folder, name, content)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out, cache = tmp_path / "out", tmp_path / "cache"
    for command in (["solve", str(scenario), "--out", str(out), "--cache-dir", str(cache)],
                    ["validate", str(scenario)], ["network", str(scenario)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (command[0], result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        pattern = "error: " + expected.replace("{f}", re.escape(str(folder)))
        assert re.fullmatch(pattern, lines[0]), lines[0]
    assert not out.exists() and not cache.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_network_command_needs_a_network(tiny_scenario):
    result = CliRunner().invoke(main, ["network", str(tiny_scenario)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {tiny_scenario}: no walking.network; reach uses straight lines × detour_factor")


def test_oneway_numbers_and_words_mean_the_same():
    from pathlib import Path

    from lifecircle.optimizer.inputs.network import _oneway_column

    numbers = _oneway_column(np.array([1, -1, 0, np.nan]), Path("n.geojson"), 4)
    words = _oneway_column(np.array(["yes", "reverse", "no", None], dtype=object), Path("w.geojson"), 4)
    flags = _oneway_column(np.array([True, False, False, False]), Path("b.geojson"), 4)
    assert [a.tolist() for a in numbers] == [[True, False, True, True], [False, True, True, True]]
    assert [a.tolist() for a in words] == [a.tolist() for a in numbers]
    assert [a.tolist() for a in flags] == [[True, True, True, True], [False, True, True, True]]
