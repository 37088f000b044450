"""Issue 12, part 3: real street networks.

One small street grid, built here with geopandas and written as GeoPackage, Shapefile, GeoJSON
and GraphML: the same streets must give the same answer in every format, one-way rules (car
rules) are ignored for walking unless the scenario asks, sites on small fragments are reported,
and no library warning reaches the user raw.
"""

from __future__ import annotations

import json
import re
import textwrap
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main

X0, Y0 = 500000.0, 3300000.0

YAML = """\
name: hostile network
crs: EPSG:4545
circle_type: residential
budget: 400
walking:
  speed_m_s: 1.0
  detour_factor: 1.3
  network: {network}
{extra}groups: {{elderly: 1.0}}
facility_types:
  care: {{serves: [elderly], walk_minutes: 5}}
demand: demand.csv
sites: sites.csv
"""


def grid_lines():
    """[(coords relative to X0, Y0, properties)]: a 4 x 3 block grid, one feature per block side.

    The street along y = 0 is one-way eastwards (OSM ``oneway=yes``); the side streets at
    x = 600 are stairs (``walk_factor`` 3). A 100 m lane at x 1,500-1,600 joins nothing.
    """
    lines = []
    for y in (0, 200, 400):
        for x in range(0, 1200, 300):
            lines.append(([(x, y), (x + 300, y)], {"oneway": "yes" if y == 0 else "no", "walk_factor": 1.0}))
    for x in range(0, 1500, 300):
        for y in (0, 200):
            lines.append(([(x, y), (x, y + 200)], {"oneway": "no", "walk_factor": 3.0 if x == 600 else 1.0}))
    lines.append(([(1500, 300), (1600, 300)], {"oneway": "no", "walk_factor": 1.0}))
    return lines


def frame(drop=(), rename=None, length_scale=None):
    """The grid as a GeoDataFrame in EPSG:4545; optional ``length`` / renamed columns."""
    import geopandas as gpd
    import shapely

    rows, geoms = [], []
    for n, (coords, props) in enumerate(grid_lines()):
        line = shapely.LineString([(X0 + x, Y0 + y) for x, y in coords])
        row = {"name": f"street {n}", **props}
        if length_scale is not None:
            row["length"] = line.length * length_scale
        rows.append({k: v for k, v in row.items() if k not in drop})
        geoms.append(line)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4545")
    return out.rename(columns=rename or {})


def write_case(folder, network_name, *, extra=""):
    """Demand along every street, four sites and one on the lone lane; returns the YAML path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    rows = []
    for n, (coords, _) in enumerate(grid_lines()[:-1]):
        (ax, ay), (bx, by) = coords
        for t in rng.uniform(0.05, 0.95, 3):
            rows.append((f"D{n}_{len(rows)}", float(X0 + ax + t * (bx - ax) + 4), float(Y0 + ay + t * (by - ay) + 4),
                         int(rng.integers(5, 30))))
    (folder / "demand.csv").write_text("id,x,y,elderly\n" + "".join(f"{i},{x!r},{y!r},{p}\n" for i, x, y, p in rows),
                                       encoding="utf-8")
    sites = [("S1", 150, 3), ("S2", 750, 3), ("S3", 600, 300), ("S4", 1050, 397), ("SF", 1550, 305)]
    (folder / "sites.csv").write_text(
        "id,name,kind,x,y,cost_care\n" + "".join(f"{i},{i},vacant_room,{X0 + x!r},{Y0 + y!r},100\n" for i, x, y in sites),
        encoding="utf-8")
    path = folder / "scenario.yaml"
    path.write_text(textwrap.dedent(YAML.format(network=network_name, extra=extra)), encoding="utf-8")
    return path


def solve(scenario, out, *, report=False):
    args = ["solve", str(scenario), "--out", str(out)] + ([] if report else ["--no-report"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any library warning that escapes fails the test
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stderr == "", result.stderr
    return json.loads((out / "summary.json").read_text(encoding="utf-8")), result


def network_output(scenario):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = CliRunner().invoke(main, ["network", str(scenario)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.output


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_CACHE_DIR", str(tmp_path / "cache"))


# ---------------------------------------------------------------------------------------------


def test_shapefile_walk_facto_gives_the_geopackage_answer(tmp_path):
    gpkg = write_case(tmp_path / "gpkg", "streets.gpkg")
    frame().to_file(gpkg.parent / "streets.gpkg")
    shp = write_case(tmp_path / "shp", "streets.shp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's note that it cut 'walk_factor' to 10 characters
        frame().to_file(shp.parent / "streets.shp")
    import pyogrio

    assert "walk_facto" in list(pyogrio.read_info(shp.parent / "streets.shp")["fields"])
    flat = write_case(tmp_path / "flat", "streets.gpkg")
    frame(drop=("walk_factor",)).to_file(flat.parent / "streets.gpkg")

    a, _ = solve(gpkg, tmp_path / "o1")
    b, _ = solve(shp, tmp_path / "o2")
    c, _ = solve(flat, tmp_path / "o3")
    assert b["objective"] == pytest.approx(a["objective"], rel=1e-12)
    assert b["coverage"] == a["coverage"]
    assert c["objective"] > a["objective"]  # the stairs matter: without them more people are reached
    assert "walk_factor: walk_facto" in network_output(shp)
    assert "walk_factor: walk_factor" in network_output(gpkg)
    assert b["network"]["columns"]["walk_factor"] == "walk_facto"


def test_osmnx_length_column_counts_like_length_m(tmp_path):
    alias = write_case(tmp_path / "alias", "streets.gpkg")
    frame(length_scale=1.25).to_file(alias.parent / "streets.gpkg")
    own = write_case(tmp_path / "own", "streets.gpkg")
    frame(length_scale=1.25, rename={"length": "length_m"}).to_file(own.parent / "streets.gpkg")
    drawn = write_case(tmp_path / "drawn", "streets.gpkg")
    frame().to_file(drawn.parent / "streets.gpkg")
    a, _ = solve(alias, tmp_path / "o1")
    b, _ = solve(own, tmp_path / "o2")
    c, _ = solve(drawn, tmp_path / "o3")
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-12)
    assert c["objective"] > a["objective"]  # 25 % longer streets reach fewer people: the column is used
    text = network_output(alias)
    assert "length: length" in text and "length: length_m" in network_output(own)
    assert "length: drawn geometry" in network_output(drawn)


def test_length_alias_that_is_not_metres_is_refused(tmp_path):
    km = write_case(tmp_path / "km", "streets.gpkg")
    frame(length_scale=0.001).to_file(km.parent / "streets.gpkg")
    result = CliRunner().invoke(main, ["network", str(km)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {km.parent / 'streets.gpkg'}, column 'length': its values are 0.001 × the drawn length "
        "(median), so they are not metres; rename the column to length_m if they are, or drop it")


def test_walking_ignores_oneway_unless_the_scenario_asks(tmp_path):
    default = write_case(tmp_path / "default", "streets.gpkg")
    frame().to_file(default.parent / "streets.gpkg")
    no_column = write_case(tmp_path / "none", "streets.gpkg")
    frame(drop=("oneway",)).to_file(no_column.parent / "streets.gpkg")
    respect = write_case(tmp_path / "respect", "streets.gpkg", extra="  oneway: respect\n")
    frame().to_file(respect.parent / "streets.gpkg")
    a, _ = solve(default, tmp_path / "o1")
    b, _ = solve(no_column, tmp_path / "o2")
    c, _ = solve(respect, tmp_path / "o3")
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-12)
    assert a["coverage"] == b["coverage"]
    assert c["coverage"]["elderly"]["covered_after"] < a["coverage"]["elderly"]["covered_after"]
    assert "oneway: column 'oneway' ignored: every street both ways (walking.oneway: ignore)" in network_output(default)
    assert "oneway: column 'oneway', respected (walking.oneway: respect)" in network_output(respect)


def test_bad_oneway_choice_is_refused(tmp_path):
    scenario = write_case(tmp_path / "bad", "streets.gpkg", extra="  oneway: cars\n")
    frame().to_file(scenario.parent / "streets.gpkg")
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {scenario}: field 'walking.oneway': value 'cars' is not one of ignore, respect")


def test_directed_graphml_with_single_edges_walks_both_ways_by_default(tmp_path):
    """ox.graph_from_xml keeps one edge for a one-way street: walking still uses it both ways."""
    import networkx as nx

    graph = nx.MultiDiGraph(crs="EPSG:4545")
    for coords, props in grid_lines():
        ids = []
        for x, y in coords:
            ids.append(f"{x}_{y}")
            graph.add_node(ids[-1], x=X0 + x, y=Y0 + y)
        length = float(np.hypot(coords[1][0] - coords[0][0], coords[1][1] - coords[0][1]))
        graph.add_edge(ids[0], ids[1], length=length, walk_factor=props["walk_factor"])
    graphml = write_case(tmp_path / "g", "streets.graphml")
    nx.write_graphml(graph, graphml.parent / "streets.graphml")
    gpkg = write_case(tmp_path / "gpkg", "streets.gpkg")
    frame(drop=("oneway",)).to_file(gpkg.parent / "streets.gpkg")
    a, _ = solve(graphml, tmp_path / "o1")
    b, _ = solve(gpkg, tmp_path / "o2")
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-9)
    assert "oneway: directed edges ignored" in network_output(graphml)


def test_sites_on_fragments_are_reported(tmp_path):
    scenario = write_case(tmp_path / "f", "streets.gpkg")
    frame().to_file(scenario.parent / "streets.gpkg")
    text = network_output(scenario)
    assert "sites on smaller components (1; fragment street length): SF (100 m)" in text
    summary, result = solve(scenario, tmp_path / "out", report=True)
    assert summary["network"]["sites_on_fragments"] == [{"id": "SF", "fragment_length_m": 100.0}]
    assert summary["network"]["existing_on_fragments"] == []
    assert "1 sites and 0 existing facilities lie on smaller components" in result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert re.search(r'<p class="note" id="fragments-sites">On smaller street fragments .*candidate sites: '
                     r'SF \(100 m\)\.</p>', html)


def test_repeated_geojson_ids_give_no_raw_warning(tmp_path):
    scenario = write_case(tmp_path / "ids", "streets.geojson")
    data = json.loads(frame().to_json())
    for feature in data["features"]:
        feature["id"] = 1
        feature["properties"]["id"] = 1
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}
    (scenario.parent / "streets.geojson").write_text(json.dumps(data), encoding="utf-8")
    with_ids, _ = solve(scenario, tmp_path / "o1")  # stderr empty, warnings as errors
    network_output(scenario)
    plain = write_case(tmp_path / "plain", "streets.gpkg")
    frame().to_file(plain.parent / "streets.gpkg")
    assert with_ids["objective"] == pytest.approx(solve(plain, tmp_path / "o2")[0]["objective"], rel=1e-12)


def test_feature_without_geometry_is_named(tmp_path):
    scenario = write_case(tmp_path / "null", "streets.geojson")
    data = json.loads(frame().to_json())
    data["features"][2]["geometry"] = None
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}
    (scenario.parent / "streets.geojson").write_text(json.dumps(data), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in scenario.parent.iterdir()}
    for command in (["network", str(scenario)], ["solve", str(scenario), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2
        assert result.stderr.strip() == (f"error: {scenario.parent / 'streets.geojson'} feature 3: has no geometry; "
                                         "give it its line or delete it")
    assert not (tmp_path / "out").exists()
    assert {p.name: p.read_bytes() for p in scenario.parent.iterdir()} == before


def test_network_in_lonlat_without_crs_under_a_projected_scenario_is_refused(tmp_path):
    """A Shapefile without .prj holding lon/lat: read in the scenario's EPSG:4545 it would collapse."""
    from pyproj import Transformer

    scenario = write_case(tmp_path / "ll", "streets.shp")
    lonlat = frame().to_crs("EPSG:4490").set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lonlat.to_file(scenario.parent / "streets.shp")
    assert not (scenario.parent / "streets.prj").exists()
    lon, _ = Transformer.from_crs("EPSG:4545", "EPSG:4490", always_xy=True).transform(X0, Y0)
    result = CliRunner().invoke(main, ["network", str(scenario)])
    assert result.exit_code == 2
    assert re.fullmatch(
        re.escape(f"error: {scenario.parent / 'streets.shp'}: x spans {lon:.2f}") + r"–108\.\d\d and y 29\.\d\d–29\.\d\d, "
        r"which is not EPSG:4545 \(expected .+\); did you mean EPSG:4490 \(longitude/latitude\)\?",
        result.stderr.strip()), result.stderr


def test_network_far_from_the_demand_is_refused(tmp_path):
    scenario = write_case(tmp_path / "far", "streets.gpkg")
    moved = frame()
    moved.geometry = moved.geometry.translate(xoff=20000)
    moved.to_file(scenario.parent / "streets.gpkg")
    result = CliRunner().invoke(main, ["network", str(scenario)])
    assert result.exit_code == 2
    assert re.fullmatch(
        re.escape(f"error: {scenario.parent / 'streets.gpkg'}: the walking network lies ") + r"18\.\d km from "
        r"demand\.csv, beyond max_snap_m 300 m: x 520,000–521,600, .+ in EPSG:4545; check the network's CRS "
        r"\(a file without one is read in the scenario's crs\)", result.stderr.strip()), result.stderr
