"""Issue 17, part 1: GCJ-02 (Gaode/Tencent) and BD-09 (Baidu) coordinates as input.

The transform is checked against published reference points (eviltransform's test table for
WGS84 -> GCJ-02, geoChina's Beijing railway station for GCJ-02 <-> BD-09) and by round trips
over Chongqing. A small district near Yuzhong is then written with demand in EPSG:4490 and its
sites and existing facilities moved to GCJ-02 (or BD-09) by the forward transform: read with
``sites_crs``/``existing_crs`` it must give the same coverage and plan as the district all in
EPSG:4490, and read as plain longitude/latitude it must not.
"""

from __future__ import annotations

import csv
import json
import re
import textwrap
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from pyproj import Geod

from lifecircle.cli import main
from lifecircle.optimizer.errors import LifecircleWarning
from lifecircle.optimizer.inputs.chinacrs import (
    bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, out_of_china, parse_layer_crs, wgs84_to_bd09,
    wgs84_to_gcj02,
)
from lifecircle.optimizer.inputs.layers import layer_in_crs

GEOD = Geod(ellps="WGS84")
# Chongqing municipality's extent (105°17'–110°11'E, 28°10'–32°13'N).
CHONGQING = (105.28, 110.19, 28.16, 32.22)

# eviltransform's test table (wgs lat, wgs lon, gcj lat, gcj lon): Shanghai, Shenzhen, Beijing.
WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# geoChina (R) documents Beijing railway station: GCJ-02 (39.90245, 116.42703), BD-09 (39.90851, 116.43351).
GCJ_BD = [(39.90245, 116.42703, 39.90851, 116.43351)]


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_forward_transform_matches_published_reference_points():
    for wlat, wlon, glat, glon in WGS_GCJ:
        lon, lat = wgs84_to_gcj02(wlon, wlat)
        assert abs(lon - glon) < 1e-9 and abs(lat - glat) < 1e-9
        back = gcj02_to_wgs84(glon, glat)
        assert metres(*back, wlon, wlat) < 0.001  # the iterated inverse: under a millimetre
    for glat, glon, blat, blon in GCJ_BD:
        lon, lat = gcj02_to_bd09(glon, glat)
        assert abs(lon - blon) < 1e-5 and abs(lat - blat) < 1e-5  # published to 5 decimals
        lon, lat = bd09_to_gcj02(blon, blat)
        assert abs(lon - glon) < 1e-5 and abs(lat - glat) < 1e-5


def test_round_trips_over_chongqing_are_under_one_centimetre():
    lon, lat = np.meshgrid(np.linspace(CHONGQING[0], CHONGQING[1], 300),
                           np.linspace(CHONGQING[2], CHONGQING[3], 300))
    lon, lat = lon.ravel(), lat.ravel()
    glon, glat = wgs84_to_gcj02(lon, lat)
    offset = metres(lon, lat, glon, glat)
    # the offset this issue is about: hundreds of metres everywhere in Chongqing
    assert 250 < offset.min() and offset.max() < 700
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat).max() < 0.01
    blon, blat = wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, blon, blat).min() > 500  # BD-09 moves further still
    wlon, wlat = bd09_to_wgs84(blon, blat)
    assert metres(lon, lat, wlon, wlat).max() < 0.01
    # and the other way round: GCJ-02 -> WGS84 -> GCJ-02, BD-09 -> GCJ-02 -> BD-09
    back = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01
    back = gcj02_to_bd09(*bd09_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01


def test_outside_china_no_offset_is_applied():
    lon = np.array([2.35, -74.0, 120.0, 106.55])  # Paris, New York, 56.5°N Siberia, Chongqing
    lat = np.array([48.86, 40.71, 56.5, 29.56])
    assert out_of_china(lon, lat).tolist() == [True, True, True, False]
    for forward in (wgs84_to_gcj02, wgs84_to_bd09, gcj02_to_wgs84, bd09_to_wgs84):
        x, y = forward(lon, lat)
        assert np.array_equal(x[:3], lon[:3]) and np.array_equal(y[:3], lat[:3])
        assert metres(x[3], y[3], lon[3], lat[3]) > 250


def test_layer_outside_china_is_one_warning_line_and_unchanged():
    lon, lat = np.array([120.0, 120.01, 106.55]), np.array([56.5, 56.51, 29.56])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = layer_in_crs(lon, lat, None, parse_layer_crs("GCJ-02", "x"), True, "sites", "sites.csv", "s.yaml")
    assert [str(w.message) for w in caught if w.category is LifecircleWarning] == [
        "sites.csv: 2 of 3 points lie outside China, where GCJ-02 applies no offset; they are read as WGS84 unchanged"]
    assert np.array_equal(layer.x[:2], lon[:2]) and layer.x[2] != lon[2]
    assert layer.columns["lon_gcj02"].tolist() == lon.tolist()


# ---- scenarios ------------------------------------------------------------------------------

LON0, LAT0 = 106.55, 29.56  # Yuzhong
YAML = """\
name: 解放碑 GCJ-02 test
crs: {crs}
circle_type: residential
budget: 2500
walking: {{speed_m_s: 1.0, group_speed_m_s: {{elderly: 0.8}}, detour_factor: 1.3}}
groups: {{elderly: 2.0, children: 1.0}}
facility_types:
  care: {{label: 养老服务站, serves: [elderly, children], walk_minutes: 10}}
  canteen: {{label: 社区食堂, serves: [elderly], walk_minutes: 8}}
demand: demand.csv
sites: sites.csv
existing: existing.csv
{extra}"""


def district():
    rng = np.random.default_rng(17)
    n_i, n_j, n_e = 300, 40, 3
    d = (LON0 + rng.uniform(-0.016, 0.016, n_i), LAT0 + rng.uniform(-0.014, 0.014, n_i),
         rng.integers(0, 60, n_i), rng.integers(0, 40, n_i))
    s = (LON0 + rng.uniform(-0.016, 0.016, n_j), LAT0 + rng.uniform(-0.014, 0.014, n_j),
         rng.integers(200, 900, n_j), rng.integers(100, 600, n_j))
    e = (LON0 + rng.uniform(-0.016, 0.016, n_e), LAT0 + rng.uniform(-0.014, 0.014, n_e))
    return d, s, e


def write(folder, *, crs="EPSG:4490", extra="", system=None, sites_only=False):
    """The district with demand in EPSG:4490 and sites/existing in ``system`` (None: EPSG:4490)."""
    (dlon, dlat, old, kid), (slon, slat, c1, c2), (elon, elat) = district()
    move = {None: lambda x, y: (x, y), "GCJ-02": wgs84_to_gcj02, "BD-09": wgs84_to_bd09}[system]
    slon, slat = move(slon, slat)
    if not sites_only:
        elon, elat = move(elon, elat)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demand.csv").write_text("id,x,y,elderly,children\n" + "".join(
        f"D{i},{float(x)!r},{float(y)!r},{a},{b}\n" for i, (x, y, a, b) in enumerate(zip(dlon, dlat, old, kid))), encoding="utf-8")
    (folder / "sites.csv").write_text("id,name,kind,x,y,cost_care,cost_canteen\n" + "".join(
        f"S{j},闲置用房{j},vacant_room,{float(x)!r},{float(y)!r},{a},{b}\n" for j, (x, y, a, b) in enumerate(zip(slon, slat, c1, c2))),
        encoding="utf-8")
    (folder / "existing.csv").write_text("id,type,x,y\n" + "".join(
        f"E{e},care,{float(x)!r},{float(y)!r}\n" for e, (x, y) in enumerate(zip(elon, elat))), encoding="utf-8")
    path = folder / "scenario.yaml"
    path.write_text(textwrap.dedent(YAML.format(crs=crs, extra=extra)), encoding="utf-8")
    return path


def solve(scenario, out):
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with open(out / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return summary, rows


def plan(summary):
    return sorted((s["site_id"], s["facility_type"]) for s in summary["selected"])


@pytest.mark.parametrize("system, crs, extra", [
    ("GCJ-02", "EPSG:4490", "sites_crs: GCJ-02\nexisting_crs: GCJ-02\n"),
    ("BD-09", "EPSG:4490", "sites_crs: BD-09\nexisting_crs: bd09\n"),
    ("GCJ-02", "GCJ-02", "demand_crs: EPSG:4490\n"),  # the scenario's crs, demand overriding it
])
def test_sites_in_web_map_coordinates_give_the_same_coverage_as_cgcs2000(tmp_path, system, crs, extra):
    base, base_rows = solve(write(tmp_path / "base"), tmp_path / "out_base")
    # not trivial: existing facilities cover some, the plan adds more, not everyone
    for g in ("elderly", "children"):
        c = base["coverage"][g]
        assert 0 < c["covered_before"] < c["covered_after"] < c["population"]
    scenario = write(tmp_path / "mixed", crs=crs, extra=extra, system=system)
    mixed, rows = solve(scenario, tmp_path / "out_mixed")
    assert mixed["objective"] == pytest.approx(base["objective"], rel=1e-9)
    assert plan(mixed) == plan(base)
    for g, c in base["coverage"].items():
        assert mixed["coverage"][g] == pytest.approx(c, rel=1e-12)
    assert mixed["input_crs"] == {"demand": "EPSG:4490", "sites": system, "existing": system}
    assert base["input_crs"] == {"demand": "EPSG:4490", "sites": "EPSG:4490", "existing": "EPSG:4490"}
    # sites.csv keeps WGS84 x/y within a millimetre of the base run's and adds the input coordinates
    suffix = {"GCJ-02": "gcj02", "BD-09": "bd09"}[system]
    given = {r["id"]: r for r in
             csv.DictReader((scenario.parent / "sites.csv").read_text(encoding="utf-8").splitlines())}
    by_id = {r["site_id"]: r for r in base_rows}
    for row in rows:
        assert float(row[f"lon_{suffix}"]) == float(given[row["site_id"]]["x"])
        assert float(row[f"lat_{suffix}"]) == float(given[row["site_id"]]["y"])
        b = by_id[row["site_id"]]
        assert metres(float(row["x"]), float(row["y"]), float(b["x"]), float(b["y"])) < 0.001
    assert "lon_gcj02" not in base_rows[0]
    features = json.loads((tmp_path / "out_mixed" / "sites.geojson").read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["site_id"]: f["properties"][f"lat_{suffix}"] for f in features} == \
        {r["site_id"]: float(r[f"lat_{suffix}"]) for r in rows}


def test_the_same_gcj02_sites_read_as_plain_lonlat_do_not(tmp_path):
    base, _ = solve(write(tmp_path / "base"), tmp_path / "out_base")
    raw, _ = solve(write(tmp_path / "raw", system="GCJ-02"), tmp_path / "out_raw")  # no sites_crs
    assert raw["input_crs"]["sites"] == "EPSG:4490"
    assert raw["objective"] != pytest.approx(base["objective"], rel=1e-3)
    assert plan(raw) != plan(base)


def refused(scenario, expected):
    folder = scenario.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = folder.parent / "out"
    for command in ("solve", "validate"):
        args = [command, str(scenario)] + (["--out", str(out)] if command == "solve" else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
        assert lines[0] == "error: " + expected.replace("{f}", str(folder)), lines[0]
    assert not out.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_unknown_layer_crs_is_one_line_naming_the_key(tmp_path):
    scenario = write(tmp_path / "s", extra="sites_crs: GCJ-03\n", system="GCJ-02")
    refused(scenario, "{f}/scenario.yaml: field 'sites_crs': unknown CRS 'GCJ-03'; give an EPSG code such as "
                      "EPSG:4545, or GCJ-02 (Gaode/Tencent) or BD-09 (Baidu)")


def test_trust_checks_still_see_converted_layers(tmp_path):
    # metres declared as GCJ-02: the area-of-use check names the layer and the system it was read as
    scenario = write(tmp_path / "m", extra="sites_crs: GCJ-02\n")
    sites = scenario.parent / "sites.csv"
    sites.write_text(re.sub(r",106\.5\d*,29\.5\d*,", ",500000,3300000,", sites.read_text(encoding="utf-8")),
                     encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {sites} (read as GCJ-02): x spans 500,000–500,000 and y "
                                    "3,300,000–3,300,000, which is not EPSG:4326"), result.stderr
    # GCJ-02 sites 3° east of the demand: the overlap check says how the layer was read
    scenario = write(tmp_path / "far", extra="sites_crs: GCJ-02\n", system="GCJ-02", sites_only=True)
    sites = scenario.parent / "sites.csv"
    sites.write_text(re.sub(r",106\.", ",109.", sites.read_text(encoding="utf-8")), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"error: {sites}: lies " in result.stderr
    assert "(sites.csv read as EPSG:4326, sites_crs GCJ-02, converted to WGS84;" in result.stderr


def test_a_geojson_declaring_a_projected_crs_is_not_read_as_gcj02(tmp_path):
    scenario = write(tmp_path / "g", extra="sites_crs: GCJ-02\n")
    (scenario.parent / "sites.geojson").write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}},
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [400000.0, 3270000.0]},
                      "properties": {"id": "S1", "name": "a", "kind": "other", "cost_care": 1, "cost_canteen": 1}}],
    }), encoding="utf-8")
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("sites: sites.csv", "sites: sites.geojson"),
                        encoding="utf-8")
    refused(scenario, "{f}/sites.geojson: declares EPSG:4545, a projected CRS, but sites_crs GCJ-02 is "
                      "longitude/latitude; export the layer as longitude/latitude or drop the key")


def test_the_worked_gaode_example_of_format_md(tmp_path):
    """scenarios/jiefangbei_gaode: Gaode POIs (id, name, kind, lon, lat in GCJ-02) beside demand in
    EPSG:4490. Read with sites_crs/existing_crs it gives the numbers FORMAT.md quotes; read as plain
    longitude/latitude it reports other numbers and another plan."""
    from support.scenarios import REPO

    folder = REPO / "scenarios" / "jiefangbei_gaode"
    result = CliRunner().invoke(main, ["validate", str(folder / "scenario.yaml")])
    assert result.exit_code == 0 and result.output.splitlines()[2] == (
        "  layers read as: demand EPSG:4490, sites GCJ-02 (converted to WGS84), existing GCJ-02 (converted to WGS84)")
    summary, rows = solve(folder / "scenario.yaml", tmp_path / "gaode")
    assert summary["objective"] == pytest.approx(4039.5)
    assert summary["input_crs"] == {"demand": "EPSG:4490", "sites": "GCJ-02", "existing": "GCJ-02"}
    # the unique optimum: forbidding any one of these sites lowers the objective (3,660.5-4,032.5)
    assert plan(summary) == [("P01", "canteen"), ("P03", "elder_child"), ("P04", "canteen"),
                             ("P08", "canteen"), ("P10", "elder_child")]
    given = {r["id"]: r for r in
             csv.DictReader((folder / "sites_gaode.csv").read_text(encoding="utf-8").splitlines())}
    for row in rows:
        assert (row["lon_gcj02"], row["lat_gcj02"]) == tuple(str(float(given[row["site_id"]][c])) for c in ("lon", "lat"))
        # x/y are true positions: 300-700 m from the Gaode ones
        assert 300 < metres(float(row["x"]), float(row["y"]), float(row["lon_gcj02"]), float(row["lat_gcj02"])) < 700
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("demand.csv", "sites_gaode.csv", "existing_gaode.csv"):
        (raw / name).write_bytes((folder / name).read_bytes())
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    (raw / "scenario.yaml").write_text("\n".join(l for l in text.splitlines() if "_crs:" not in l), encoding="utf-8")
    plain, _ = solve(raw / "scenario.yaml", tmp_path / "plain")
    assert plain["objective"] == pytest.approx(3456.0)
    assert plan(plain) != plan(summary)


def test_a_circle_boundary_in_gcj02_is_converted_for_city_maps(tmp_path):
    from lifecircle.optimizer.inputs.geo import read_boundary_lonlat

    ring = [(106.57, 29.55), (106.58, 29.55), (106.58, 29.56), (106.57, 29.56), (106.57, 29.55)]
    glon, glat = wgs84_to_gcj02(*np.array(ring).T)
    path = tmp_path / "boundary.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [np.column_stack([glon, glat]).tolist()]}),
                    encoding="utf-8")
    for crs in ("GCJ-02", "gcj02"):  # the circle scenario's crs, as city passes it
        got = np.array(read_boundary_lonlat(path, crs).exterior.coords)
        assert metres(got[:, 0], got[:, 1], *np.array(ring).T).max() < 0.001
