"""Issue 17, part 3: `lifecircle city --db` writes each circle into a real PostGIS (no mocks).

One transaction per circle: the circle's row is upserted and its sites and coverage rows
replaced. A resumed run updates the rows and never duplicates them; a circle solved again
(changed scenario) replaces its rows; a bad --db is one line, exit 2, within 10 s, before anything
is solved or written; the password never appears in any output.
"""

from __future__ import annotations

import json
import sys
import time

from click.testing import CliRunner
from support.postgres import PASSWORD
from support.scenarios import write_scenario

from lifecircle.cli import main
from lifecircle.optimizer.files import command_line
from lifecircle.optimizer.outputs.text import city_lines
from lifecircle.optimizer.planning.city import run_city

BOUNDARY = {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}},
            "features": [{"type": "Feature", "properties": {},
                          "geometry": {"type": "Polygon", "coordinates": [[
                              [499500, 3299500], [502500, 3299500], [502500, 3300500],
                              [499500, 3300500], [499500, 3299500]]]}}]}


def make_city(root):
    for name in ("c00", "c01", "c02"):
        write_scenario(root / name)
    (root / "c00" / "boundary.geojson").write_text(json.dumps(BOUNDARY), encoding="utf-8")
    broken = write_scenario(root / "broken")
    broken.write_text(broken.read_text(encoding="utf-8").replace("crs: EPSG:4545", "crs: EPSG:999999"),
                      encoding="utf-8")
    return root


def tables(server) -> dict:
    """{table: sorted rows as tuples of text} of the three result tables."""
    queries = {
        "circles": "select circle_id, status, coalesce(error, ''), resumed, objective, spent, "
                   "coalesce(ST_GeometryType(boundary), '') from lifecircle_circles order by 1",
        "sites": "select circle_id, site_id, name, facility_type, cost, round(ST_X(geom)::numeric, 6), "
                 "round(ST_Y(geom)::numeric, 6), ST_SRID(geom) from lifecircle_sites order by 1, 2",
        "coverage": "select circle_id, group_name, population, covered_before, covered_after "
                    "from lifecircle_coverage order by 1, 2",
    }
    return {name: [tuple(line.split("|")) for line in server.psql(sql).splitlines()] for name, sql in queries.items()}


def written_at(server) -> dict:
    return dict(line.split("|") for line in
                server.psql("select circle_id, extract(epoch from written_at) from lifecircle_circles").splitlines())


def test_city_db_writes_rows_resumes_without_duplicates_and_replaces_a_rerun_circle(postgis_server, tmp_path):
    server = postgis_server
    server.psql("drop table if exists lifecircle_sites, lifecircle_coverage, lifecircle_circles")
    uri = server.uri(password=True)
    city, out = make_city(tmp_path / "city"), tmp_path / "out"
    result = run_city(city, out_dir=out, workers=1, processes=False, progress=False, db=uri)
    assert (result.n_solved, result.n_failed, result.db_written) == (3, 1, 4)
    assert city_lines(result)[-1] == (f"PostGIS: 4 circles written to {server.uri().replace('lifecircle@', 'lifecircle:***@')} "
                                      "(lifecircle_circles, lifecircle_sites, lifecircle_coverage)")
    rows = tables(server)
    assert [r[:4] for r in rows["circles"]] == [
        ("broken", "failed", (f"{city}/broken/scenario.yaml: field 'crs': unknown CRS 'EPSG:999999'; give an "
                              "EPSG code such as EPSG:4545, or GCJ-02 (Gaode/Tencent) or BD-09 (Baidu)"), "f"),
        ("c00", "optimal", "", "f"), ("c01", "optimal", "", "f"), ("c02", "optimal", "", "f")]
    # the tiny scenario's hand-worked optimum: 69, spending 800 on S1 (canteen) and S3 (elder_child)
    assert {r[0]: (float(r[4]), float(r[5])) for r in rows["circles"][1:]} == {c: (69.0, 800.0) for c in ("c00", "c01", "c02")}
    assert [r[6] for r in rows["circles"]] == ["", "ST_Polygon", "", ""]
    sites = [r for r in rows["sites"] if r[0] == "c00"]
    assert [(s[1], s[2], s[3], float(s[4]), s[7]) for s in sites] == [
        ("S1", "桥下空间一号", "canteen", 300.0, "4490"), ("S3", "边角地", "elder_child", 500.0, "4490")]
    # EPSG:4545 (500000, 3300000) is 108°E (the zone's central meridian), 29.818555°N in CGCS2000
    assert (float(sites[0][5]), float(sites[0][6])) == (108.0, 29.818555)
    assert len(rows["sites"]) == 6
    assert [r for r in rows["coverage"] if r[0] == "c01"] == [
        ("c01", "children", "34", "0", "9"), ("c01", "elderly", "30", "7", "30")]
    assert len(rows["coverage"]) == 6  # the failed circle has no coverage rows

    # resumed: every circle skipped, every row updated in place, none duplicated
    before = written_at(server)
    time.sleep(0.05)
    again = run_city(city, out_dir=out, workers=1, processes=False, progress=False, db=uri)
    assert (again.n_skipped, again.db_written) == (3, 4)
    resumed = tables(server)
    assert [r[3] for r in resumed["circles"]] == ["f", "t", "t", "t"]
    assert resumed["sites"] == rows["sites"] and resumed["coverage"] == rows["coverage"]
    after = written_at(server)
    assert all(float(after[c]) > float(before[c]) for c in before)

    # c01 changed (a smaller budget) is solved again: its rows replaced, a stray row of it gone
    server.psql("insert into lifecircle_sites (circle_id, site_id, facility_type) values ('c01', 'S9', 'canteen')")
    scenario = city / "c01" / "scenario.yaml"
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("budget: 1000", "budget: 300"), encoding="utf-8")
    third = run_city(city, out_dir=out, workers=1, processes=False, progress=False, db=uri)
    assert (third.n_solved, third.n_skipped) == (1, 2)
    replaced = tables(server)
    summary = json.loads((out / "c01" / "summary.json").read_text(encoding="utf-8"))
    assert [(r[1], r[3], float(r[4])) for r in replaced["sites"] if r[0] == "c01"] == \
        [(s["site_id"], s["facility_type"], s["cost"]) for s in summary["selected"]]
    assert [r for r in replaced["sites"] if r[0] != "c01"] == [r for r in rows["sites"] if r[0] != "c01"]
    c01 = next(r for r in replaced["circles"] if r[0] == "c01")
    assert (c01[3], float(c01[4])) == ("f", summary["objective"]) and summary["objective"] < 69.0
    assert len(replaced["circles"]) == 4
    # the password is in no file the runs wrote
    assert not [p for p in out.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]


def test_city_bad_db_is_one_line_exit_2_within_10_s_and_writes_nothing(postgis_server, tmp_path):
    city, out = make_city(tmp_path / "city"), tmp_path / "out"
    cases = {
        f"postgresql://lifecircle:{PASSWORD}@127.0.0.1:1/city":
            "error: --db: cannot connect to postgresql://lifecircle:***@127.0.0.1:1/city: connection refused "
            "(is the server running, and are host and port right?)",
        "mysql://lifecircle@localhost/city": "error: --db: 'mysql://lifecircle@localhost/city' is not a PostgreSQL "
                                             "URI; expected postgresql://…",
        postgis_server.uri("no_such_db", password=True):
            f"error: --db: cannot connect to {postgis_server.uri('no_such_db')}".replace("lifecircle@", "lifecircle:***@")
            + ': database "no_such_db" does not exist',
    }
    for uri, expected in cases.items():
        t0 = time.perf_counter()
        result = CliRunner().invoke(main, ["city", str(city), "--out", str(out), "--db", uri, "--no-progress"])
        assert time.perf_counter() - t0 < 10
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().splitlines() == [expected]
        assert PASSWORD not in result.output
        assert not out.exists()


def test_markers_never_record_a_password(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lifecircle", "city", "c", "--db",
                                      f"postgresql://planner:{PASSWORD}@db/city?sslmode=require&password={PASSWORD}"])
    assert command_line() == ("lifecircle city c --db "
                              "'postgresql://planner:***@db/city?sslmode=require&password=***'")
