"""Issue 12, part 2: never answer from coordinates in the wrong system.

One small district near 106.55°E, 29.55°N (Chongqing, on the boundary of the Gauss-Krüger zones
CM 105°E / EPSG:4544 and CM 108°E / EPSG:4545) is written in several CRSs with pyproj. Every way
of writing it must give the same coverage; every wrong declaration must be refused with the
numbers that show it, exit 2, one line, nothing written and the inputs untouched.
"""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from pyproj import Transformer

from lifecircle.cli import main

LON0, LAT0 = 106.55, 29.55
N_DEMAND, N_SITES, N_EXISTING = 300, 40, 4

YAML = """\
name: hostile crs district
crs: {crs}
circle_type: residential
budget: 3000
walking:
  speed_m_s: 1.0
  group_speed_m_s: {{elderly: 0.8}}
  detour_factor: 1.3
groups: {{elderly: 2.0, children: 1.0}}
facility_types:
  care: {{serves: [elderly, children], walk_minutes: 10}}
demand: {demand}
sites: {sites}
existing: {existing}
"""


def _district():
    """(demand, sites, existing) as lon/lat arrays plus attributes; a fixed 3 km x 3 km district."""
    rng = np.random.default_rng(12)
    dlon = LON0 + rng.uniform(-0.015, 0.015, N_DEMAND)
    dlat = LAT0 + rng.uniform(-0.013, 0.013, N_DEMAND)
    elderly = rng.integers(0, 60, N_DEMAND)
    children = rng.integers(0, 40, N_DEMAND)
    slon = LON0 + rng.uniform(-0.015, 0.015, N_SITES)
    slat = LAT0 + rng.uniform(-0.013, 0.013, N_SITES)
    cost = rng.integers(200, 900, N_SITES)
    elon = LON0 + rng.uniform(-0.015, 0.015, N_EXISTING)
    elat = LAT0 + rng.uniform(-0.013, 0.013, N_EXISTING)
    return (dlon, dlat, elderly, children), (slon, slat, cost), (elon, elat)


def _xy(lon, lat, epsg: int):
    if epsg == 4490:
        return np.asarray(lon), np.asarray(lat)
    return Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True).transform(lon, lat)


def _fmt(v) -> str:
    return repr(float(v))  # every digit: the written file is exactly the transformed value


def tables(epsg: int, shift_sites_m=(0.0, 0.0)):
    """demand.csv, sites.csv, existing.csv texts of the district in EPSG:``epsg``."""
    (dlon, dlat, elderly, children), (slon, slat, cost), (elon, elat) = _district()
    dx, dy = _xy(dlon, dlat, epsg)
    sx, sy = _xy(slon, slat, epsg)
    ex, ey = _xy(elon, elat, epsg)
    demand = "id,x,y,elderly,children\n" + "".join(
        f"D{i},{_fmt(x)},{_fmt(y)},{e},{c}\n" for i, (x, y, e, c) in enumerate(zip(dx, dy, elderly, children)))
    sites = "id,name,kind,x,y,cost_care\n" + "".join(
        f"S{j},site {j},vacant_room,{_fmt(x + shift_sites_m[0])},{_fmt(y + shift_sites_m[1])},{c}\n"
        for j, (x, y, c) in enumerate(zip(sx, sy, cost)))
    existing = "id,type,x,y\n" + "".join(f"E{e},care,{_fmt(x)},{_fmt(y)}\n" for e, (x, y) in enumerate(zip(ex, ey)))
    return demand, sites, existing


def geojson_points(csv_text: str, declared_epsg: int) -> str:
    """A CSV table as a GeoJSON FeatureCollection whose ``crs`` member says ``declared_epsg``."""
    lines = csv_text.strip().splitlines()
    header = lines[0].split(",")
    features = []
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        x, y = float(row.pop("x")), float(row.pop("y"))
        features.append({"type": "Feature", "properties": row, "geometry": {"type": "Point", "coordinates": [x, y]}})
    return json.dumps({"type": "FeatureCollection", "features": features,
                       "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{declared_epsg}"}}})


def write(folder, crs: str, demand: str, sites: str, existing: str, *, names=("demand.csv", "sites.csv", "existing.csv"),
          yaml_names=None):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in zip(names, (demand, sites, existing)):
        (folder / name).write_text(text, encoding="utf-8")
    d, s, e = yaml_names or names
    path = folder / "scenario.yaml"
    path.write_text(textwrap.dedent(YAML.format(crs=crs, demand=d, sites=s, existing=e)), encoding="utf-8")
    return path


def solve(scenario, out):
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def refused(scenario, tmp_path, expected: str, commands=("solve", "validate")):
    """Exit 2, exactly one line matching ``expected`` ({f} = the scenario folder), no output, inputs untouched."""
    folder = scenario.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "out"
    for command in commands:
        args = [command, str(scenario)] + (["--out", str(out)] if command == "solve" else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (command, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output + result.stderr, result.stderr
        pattern = "error: " + expected.replace("{f}", re.escape(str(folder)))
        assert re.fullmatch(pattern, lines[0]), lines[0]
    assert not out.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# ---------------------------------------------------------------------------------------------


def test_same_district_in_4545_lonlat_and_web_mercator_gives_the_same_coverage(tmp_path):
    summaries = {}
    for epsg in (4545, 4490, 3857):
        scenario = write(tmp_path / str(epsg), f"EPSG:{epsg}", *tables(epsg))
        summaries[epsg] = solve(scenario, tmp_path / f"out{epsg}")
    base = summaries[4545]
    # reach is not trivial: some people are covered before, the plan adds more, not everyone
    for g in ("elderly", "children"):
        c = base["coverage"][g]
        assert 0 < c["covered_before"] < c["covered_after"] < c["population"], c
    assert base["objective"] > 0
    for epsg, s in summaries.items():
        assert s["crs"] == f"EPSG:{epsg}"
        assert s["metric_crs"] == "EPSG:4545", (epsg, s["metric_crs"])  # 3857 too: never Mercator metres
        assert s["objective"] == pytest.approx(base["objective"], rel=1e-9), epsg
        assert s["selected"] == base["selected"], epsg
        for g in ("elderly", "children"):
            assert s["coverage"][g] == pytest.approx(base["coverage"][g], rel=1e-9), (epsg, g)


def test_web_mercator_is_not_true_to_distance_here():
    """Why 3857 is reprojected: its scale at the district is 1/cos(29.55°), 15 % too long."""
    from pyproj import CRS

    from lifecircle.optimizer.inputs.geo import MAX_SCALE_ERROR, _scale_error

    x, y = _xy(np.array([LON0]), np.array([LAT0]), 3857)
    error = _scale_error(CRS.from_epsg(3857), x, y)
    assert error == pytest.approx(1 / np.cos(np.radians(LAT0)) - 1, abs=2e-3)
    assert error > MAX_SCALE_ERROR
    gx, gy = _xy(np.array([LON0]), np.array([LAT0]), 4545)
    assert _scale_error(CRS.from_epsg(4545), gx, gy) < 1e-3  # the GK zone is kept as it is


def test_validate_says_which_metric_crs(tmp_path):
    scenario = write(tmp_path / "v", "EPSG:3857", *tables(3857))
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "crs EPSG:3857 (distances in EPSG:4545)" in result.output


def test_lonlat_declared_as_gauss_kruger_is_refused_with_the_hint(tmp_path):
    scenario = write(tmp_path / "bad", "EPSG:4545", *tables(4490))
    refused(scenario, tmp_path,
            r"{f}/demand.csv: x spans 106\.5\d–106\.5\d and y 29\.5\d–29\.5\d, which is not EPSG:4545 "
            r"\(expected x 125,538–875,533 m, y 1,790,669–4,932,044 m\); did you mean EPSG:4490 \(longitude/latitude\)\?")


def test_projected_metres_declared_as_lonlat_are_refused(tmp_path):
    scenario = write(tmp_path / "bad", "EPSG:4490", *tables(4545))
    refused(scenario, tmp_path,
            r"{f}/demand.csv: x spans 358,\d{3}–360,\d{3} and y 3,26\d,\d{3}–3,27\d,\d{3}, which is not EPSG:4490 "
            r"\(expected x 71\.62–136\.77°, y 14\.70–55\.56°\); the values look like projected metres: give "
            r"their CRS, such as a CGCS2000 Gauss-Krüger zone EPSG:4534–4554")


def test_zone_prefixed_eastings_under_the_plain_zone_get_the_prefixed_code(tmp_path):
    demand, sites, existing = tables(4524)  # zone 36 with the 36,xxx,xxx prefix
    scenario = write(tmp_path / "bad", "EPSG:4545", demand, sites, existing)
    refused(scenario, tmp_path,
            r"{f}/demand.csv: x spans 36,358,\d{3}–36,360,\d{3} and y .+, which is not EPSG:4545 \(.+\); "
            r"did you mean EPSG:4524\?")
    ok = write(tmp_path / "ok", "EPSG:4524", demand, sites, existing)
    assert solve(ok, tmp_path / "out4524")["metric_crs"] == "EPSG:4524"


def test_geojson_declaring_the_wrong_gauss_kruger_zone_is_refused(tmp_path):
    """Sites in EPSG:4545 metres whose GeoJSON says 4544: read there, they land 290 km west."""
    demand, sites, existing = tables(4545)
    folder = tmp_path / "bad"
    scenario = write(folder, "EPSG:4545", demand, geojson_points(sites, 4544), existing,
                     names=("demand.csv", "sites.geojson", "existing.csv"))
    refused(scenario, tmp_path,
            r"{f}/sites.geojson: lies 2\d\d\.\d km from demand.csv, too far for one district \(at most 5\.0 km\): "
            r"x .+ against x .+ in EPSG:4545 \(sites.geojson read as EPSG:4544, declared in the file; "
            r"demand.csv as EPSG:4545, the scenario's crs\); they would overlap with sites.geojson if it were "
            r"EPSG:4545, or demand.csv if it were EPSG:4544")
    # declared right, the same file is fine and matches the CSV district
    good = write(tmp_path / "good", "EPSG:4545", demand, geojson_points(sites, 4545), existing,
                 names=("demand.csv", "sites.geojson", "existing.csv"))
    plain = write(tmp_path / "plain", "EPSG:4545", demand, sites, existing)
    assert solve(good, tmp_path / "o1")["objective"] == pytest.approx(solve(plain, tmp_path / "o2")["objective"])


def test_scenario_crs_in_the_wrong_zone_is_refused_when_a_file_says_the_right_one(tmp_path):
    """The scenario says 4544 while its CSVs are in 4545; the existing-facility GeoJSON declares 4545."""
    demand, sites, existing = tables(4545)
    scenario = write(tmp_path / "bad", "EPSG:4544", demand, sites, geojson_points(existing, 4545),
                     names=("demand.csv", "sites.csv", "existing.geojson"))
    refused(scenario, tmp_path,
            r"{f}/existing.geojson: lies 2\d\d\.\d km from demand.csv, .+ \(existing.geojson read as EPSG:4545, "
            r"declared in the file; demand.csv as EPSG:4544, the scenario's crs\); they would overlap with "
            r"existing.geojson if it were EPSG:4544, or demand.csv if it were EPSG:4545")


def test_layers_that_do_not_overlap_are_refused_with_numbers(tmp_path):
    scenario = write(tmp_path / "bad", "EPSG:4545", *tables(4545, shift_sites_m=(0.0, 50_000.0)))
    refused(scenario, tmp_path,
            r"{f}/sites.csv: lies 4\d\.\d km from demand.csv, too far for one district \(at most 5\.0 km\): "
            r"x 358,\d{3}–360,\d{3}, y 3,3[12]\d,\d{3}–3,32\d,\d{3} against x 358,\d{3}–360,\d{3}, y 3,26\d,\d{3}–3,27\d,\d{3} "
            r"in EPSG:4545 \(sites.csv read as EPSG:4545, the scenario's crs; demand.csv as EPSG:4545, the "
            r"scenario's crs\); check that both are in the CRS they say")


def test_no_site_within_reach_of_any_demand_point_is_refused(tmp_path):
    """Two demand clusters 6 km apart, every site half-way: the boxes overlap, nobody is reached."""
    demand = "id,x,y,elderly,children\n" + "".join(
        f"D{i},{355000 + (6000 if i % 2 else 0) + i},{3270000 + i},10,5\n" for i in range(20))
    sites = "id,name,kind,x,y,cost_care\n" + "".join(f"S{j},s,idle_land,{358000 + 10 * j},3270010,100\n" for j in range(5))
    existing = "id,type,x,y\n"
    scenario = write(tmp_path / "bad", "EPSG:4545", demand, sites, existing)
    refused(scenario, tmp_path,
            r"{f}/sites.csv: no candidate site is within reach of any demand point in {f}/demand.csv "
            r"\(longest straight-line reach 462 m\); the nearest site is 2,9\d\d m from a demand point in a "
            r"straight line; check the coordinates and the CRS of both files", commands=("solve",))


# ---- layers of a GeoPackage ----


def _gpkg(folder, epsg=4545):
    import geopandas as gpd

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "district.gpkg"
    for layer, text in zip(("demand", "sites", "existing"), tables(epsg)):
        lines = text.strip().splitlines()
        header = lines[0].split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
        frame = gpd.GeoDataFrame([{k: v for k, v in r.items() if k not in ("x", "y")} for r in rows],
                                 geometry=gpd.points_from_xy([float(r["x"]) for r in rows],
                                                             [float(r["y"]) for r in rows]),
                                 crs=f"EPSG:{epsg}")
        frame.to_file(path, layer=layer)
    return path


def test_multi_layer_geopackage_needs_a_layer(tmp_path):
    folder = tmp_path / "g"
    _gpkg(folder)
    yaml = textwrap.dedent(YAML.format(crs="EPSG:4545", demand="district.gpkg",
                                       sites="{file: district.gpkg, layer: sites}",
                                       existing="{file: district.gpkg, layer: existing}"))
    (folder / "scenario.yaml").write_text(yaml, encoding="utf-8")
    refused(folder / "scenario.yaml", tmp_path,
            r"{f}/scenario.yaml: field 'demand': district.gpkg has 3 layers \(demand, sites, existing\); "
            r"name one, e.g. \{file: district.gpkg, layer: demand\}")
    (folder / "scenario.yaml").write_text(yaml.replace("demand: district.gpkg", "demand: {file: district.gpkg, layer: people}"),
                                          encoding="utf-8")
    refused(folder / "scenario.yaml", tmp_path,
            r"{f}/scenario.yaml: field 'demand': district.gpkg has no layer 'people'; its layers are demand, sites, existing")
    (folder / "scenario.yaml").write_text(yaml.replace("demand: district.gpkg", "demand: {file: district.gpkg, layer: demand}"),
                                          encoding="utf-8")
    chosen = solve(folder / "scenario.yaml", tmp_path / "out_gpkg")
    plain = solve(write(tmp_path / "csv", "EPSG:4545", *tables(4545)), tmp_path / "out_csv")
    assert chosen["objective"] == pytest.approx(plain["objective"], rel=1e-9)
    assert chosen["selected"] == plain["selected"]


def test_layer_on_a_csv_is_refused(tmp_path):
    scenario = write(tmp_path / "bad", "EPSG:4545", *tables(4545),
                     yaml_names=("{file: demand.csv, layer: demand}", "sites.csv", "existing.csv"))
    refused(scenario, tmp_path,
            r"{f}/scenario.yaml: field 'demand.layer': demand.csv has no layers; only .geojson, .json, .gpkg files do")
