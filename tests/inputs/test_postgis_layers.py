"""Issue 17, part 3: scenario layers read from a real PostgreSQL/PostGIS server (no mocks).

The server comes from tests/support/postgres.py (a unix socket in a temporary folder). The tiny
scenario of tests/support/scenarios.py (hand-worked optimum 69) is loaded into tables: its sites
as PostGIS points (in EPSG:4545, and again in EPSG:4490 longitude/latitude), its demand as plain
x/y columns. Read from a table, from a query, or from x/y columns, the objective must be the CSV's.
Bad URIs, missing tables, refused connections and failing queries are one line, exit 2, within
10 s, and the password in the URI appears in no message or output file.
"""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from pyproj import Transformer
from support.postgres import PASSWORD
from support.scenarios import DEMAND_CSV, SITES_CSV, write_scenario

from lifecircle.cli import main
from lifecircle.optimizer.inputs.chinacrs import wgs84_to_gcj02
HAND_OPTIMUM = 69.0  # tests/planning/test_city.py: the tiny scenario's hand-worked optimum


def _values(csv_text: str):
    lines = csv_text.strip().splitlines()
    header = lines[0].split(",")
    return header, [line.split(",") for line in lines[1:]]


@pytest.fixture(scope="module")
def db(postgis_server):
    """The tiny scenario's sites and demand as tables: idle_sites (geometry, EPSG:4545),
    idle_sites_lonlat (EPSG:4490), demand_points (x, y columns, no geometry)."""
    server = postgis_server
    _, rows = _values(SITES_CSV)
    values = ", ".join(
        f"('{r[0]}', '{r[1]}', '{r[2]}', ST_SetSRID(ST_MakePoint({r[3]}, {r[4]}), 4545), "
        f"{r[5] or 'NULL'}, {r[6] or 'NULL'})" for r in rows)
    server.psql("drop table if exists idle_sites, idle_sites_lonlat, idle_plots, idle_sites_gcj02, demand_points")
    server.psql("create table idle_sites (id text primary key, name text, kind text, geom geometry(Point, 4545), "
                f"cost_elder_child double precision, cost_canteen double precision); insert into idle_sites values {values}")
    server.psql("create table idle_sites_lonlat as select id, name, kind, cost_elder_child, cost_canteen, "
                "ST_Transform(geom, 4490)::geometry(Point, 4490) as geom from idle_sites")
    # the same sites as squares (a polygon's point is the server's ST_PointOnSurface: here the centre)
    server.psql("create table idle_plots as select id, name, kind, cost_elder_child, cost_canteen, "
                "ST_Expand(geom, 10)::geometry(Polygon, 4545) as geom from idle_sites")
    # and as a Gaode export would hold them: GCJ-02 longitude/latitude under SRID 4326
    lon, lat = Transformer.from_crs(4545, 4326, always_xy=True).transform(
        [float(r[3]) for r in rows], [float(r[4]) for r in rows])
    glon, glat = wgs84_to_gcj02(lon, lat)
    values = ", ".join(f"('{r[0]}', '{r[1]}', '{r[2]}', ST_SetSRID(ST_MakePoint({a!r}, {b!r}), 4326), "
                       f"{r[5] or 'NULL'}, {r[6] or 'NULL'})" for r, a, b in zip(rows, glon.tolist(), glat.tolist()))
    server.psql("create table idle_sites_gcj02 (id text, name text, kind text, geom geometry(Point, 4326), "
                f"cost_elder_child double precision, cost_canteen double precision); "
                f"insert into idle_sites_gcj02 values {values}")
    _, rows = _values(DEMAND_CSV)
    values = ", ".join(f"('{r[0]}', {r[1]}, {r[2]}, {r[3]}, {r[4]})" for r in rows)
    server.psql("create table demand_points (id text, x double precision, y double precision, elderly integer, "
                f"children integer); insert into demand_points values {values}")
    return server


def scenario_with(folder, sites: str | None = None, demand: str | None = None):
    path = write_scenario(folder)
    text = path.read_text(encoding="utf-8")
    if sites is not None:
        text = text.replace("sites: sites.csv", f"sites: {sites}")
    if demand is not None:
        text = text.replace("demand: demand.csv", f"demand: {demand}")
    path.write_text(text, encoding="utf-8")
    return path


def solve(scenario, out, *more):
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), *more])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8")), result


def test_sites_from_a_table_a_query_and_xy_columns_give_the_csv_objective(db, tmp_path):
    uri = db.uri(password=True)
    csv_run, _ = solve(scenario_with(tmp_path / "csv"), tmp_path / "out_csv")
    assert csv_run["objective"] == HAND_OPTIMUM
    layers = {
        "table": f'{{db: "{uri}", table: idle_sites}}',
        "lonlat": f'{{db: "{uri}", table: idle_sites_lonlat}}',  # SRID 4490, moved to the scenario's 4545
        "polygons": f'{{db: "{uri}", table: idle_plots}}',
        "query": f'{{db: "{uri}", query: "select * from idle_sites where kind <> \'nothing\' order by id"}}',
        "xy": f'{{db: "{uri}", query: "select id, name, kind, ST_X(geom) as x, ST_Y(geom) as y, '
              f'cost_elder_child, cost_canteen from idle_sites"}}',
    }
    for name, layer in layers.items():
        demand = f'{{db: "{uri}", table: demand_points}}' if name == "xy" else None
        run, result = solve(scenario_with(tmp_path / name, sites=layer, demand=demand), tmp_path / f"out_{name}")
        assert run["objective"] == HAND_OPTIMUM, name
        assert run["selected"] == csv_run["selected"], name
        assert run["coverage"] == csv_run["coverage"], name
        # the checksum covers the rows read: same data, same checksum whichever way it came
        assert run["scenario_checksum"] != csv_run["scenario_checksum"]
        assert PASSWORD not in result.output + result.stderr
        assert not any(PASSWORD.encode() in p.read_bytes() for p in (tmp_path / f"out_{name}").rglob("*")
                       if p.is_file()), name


def test_gcj02_points_in_a_database_are_converted_too(db, tmp_path):
    # a Gaode layer stored in PostGIS (SRID 4326, GCJ-02 values) with sites_crs: GCJ-02; the tiny
    # scenario has pairs at exactly the reach, which a sub-millimetre round trip may move across
    # it, so the check is on positions: every site back within 1 mm of the CSV's
    from lifecircle.optimizer.inputs.scenario import load_scenario

    uri = db.uri()
    layer = f'{{db: "{uri}", table: idle_sites_gcj02}}\nsites_crs: GCJ-02'
    gcj = load_scenario(scenario_with(tmp_path / "gcj", sites=layer))
    plain = load_scenario(scenario_with(tmp_path / "csv"))
    assert gcj.input_crs["sites"] == "GCJ-02" and gcj.sites.ids == plain.sites.ids
    assert max(abs(gcj.sites.x_m - plain.sites.x_m).max(), abs(gcj.sites.y_m - plain.sites.y_m).max()) < 0.001
    assert set(gcj.sites.columns) >= {"lon_gcj02", "lat_gcj02"}


def test_report_and_summary_never_show_the_password(db, tmp_path):
    uri = db.uri(password=True)
    scenario = scenario_with(tmp_path / "s", sites=f'{{db: "{uri}", table: idle_sites}}')
    out = tmp_path / "out"
    run, result = solve(scenario, out)  # with report.html and sites.xlsx
    assert (out / "report.html").is_file()
    assert run["objective"] == HAND_OPTIMUM
    for path in out.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path.name
    assert PASSWORD not in result.output + result.stderr


def refused(scenario, expected: str):
    """Exit 2, one line equal to ``expected`` ({f}: the scenario folder), < 10 s, nothing written."""
    out = scenario.parent.parent / f"out_{scenario.parent.name}"
    t0 = time.perf_counter()
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out)])
    seconds = time.perf_counter() - t0
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    assert lines[0] == "error: " + expected.replace("{f}", str(scenario.parent)), lines[0]
    assert PASSWORD not in result.output + result.stderr
    assert seconds < 10
    assert not out.exists()


def test_bad_uri_missing_table_refused_connection_and_bad_query_are_one_line_exit_2(db, tmp_path):
    uri = db.uri(password=True)
    masked = uri.replace(PASSWORD, "***")
    refused(scenario_with(tmp_path / "uri", sites='{db: "postgresql//lifecircle@/city", table: idle_sites}'),
            "{f}/scenario.yaml: field 'sites.db': 'postgresql//lifecircle@/city' is not a database URI; "
            "expected postgresql://user@host/dbname (or ?host=/socket/folder)")
    refused(scenario_with(tmp_path / "both", sites=f'{{db: "{uri}", table: a, query: "select 1"}}'),
            "{f}/scenario.yaml: field 'sites': give exactly one of 'table' or 'query' with 'db'")
    refused(scenario_with(tmp_path / "table", sites=f'{{db: "{uri}", table: no_such_table}}'),
            f"{{f}}/scenario.yaml: field 'sites': the database {masked} has no table 'no_such_table'")
    refused(scenario_with(tmp_path / "refused",
                          sites=f'{{db: "postgresql://lifecircle:{PASSWORD}@127.0.0.1:1/city", table: idle_sites}}'),
            "{f}/scenario.yaml: field 'sites': cannot connect to postgresql://lifecircle:***@127.0.0.1:1/city: "
            "connection refused (is the server running, and are host and port right?)")
    no_db = db.uri("no_such_db", password=True)
    refused(scenario_with(tmp_path / "nodb", sites=f'{{db: "{no_db}", table: idle_sites}}'),
            f"{{f}}/scenario.yaml: field 'sites': cannot connect to {no_db.replace(PASSWORD, '***')}: "
            'database "no_such_db" does not exist')
    refused(scenario_with(tmp_path / "query", sites=f'{{db: "{uri}", query: "select * from nope"}}'),
            "{f}/scenario.yaml: field 'sites': query of 'sites' cannot be read: relation \"nope\" does not exist")
    refused(scenario_with(tmp_path / "cols", sites=f'{{db: "{uri}", query: "select id, name from idle_sites"}}'),
            "query of 'sites': no geometry column and no column 'x'; give a PostGIS geometry or x and y columns")
