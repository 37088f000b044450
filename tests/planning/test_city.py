"""`lifecircle city`: circles on Dask, failures recorded, resuming after a kill repeats nothing."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.scenarios import REPO, SITES_CSV, write_scenario

from lifecircle.cli import main
from lifecircle.optimizer.planning.city import find_circles, run_city
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.scenario import load_scenario

BOUNDARY = {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}},
            "features": [{"type": "Feature", "properties": {},
                          "geometry": {"type": "Polygon", "coordinates": [[
                              [499500, 3299500], [502500, 3299500], [502500, 3300500],
                              [499500, 3300500], [499500, 3299500]]]}}]}


def make_city(root: Path, n: int = 4, bad: bool = True) -> Path:
    """n good circles (two levels deep, the first with a boundary), plus a bad-file circle and an
    infeasible one when ``bad``."""
    for i in range(n):
        folder = root / ("north" if i % 2 else "south") / f"c{i:02d}"
        write_scenario(folder)
        if i == 0:
            (folder / "boundary.geojson").write_text(json.dumps(BOUNDARY), encoding="utf-8")
    if bad:
        write_scenario(root / "south" / "broken", sites=SITES_CSV.replace(",600,400", ",six hundred,400"))
        infeasible = write_scenario(root / "north" / "tight")
        infeasible.write_text(infeasible.read_text(encoding="utf-8").replace("budget: 1000", "budget: 100")
                              + "rules:\n  must_open: {S3: elder_child}\n", encoding="utf-8")
    (root / "notes").mkdir(parents=True, exist_ok=True)  # a folder without a scenario is no circle
    return root


def read_city_csv(out: Path) -> dict:
    rows = csv.DictReader((out / "city.csv").read_text(encoding="utf-8-sig").splitlines())
    return {r["circle_id"]: r for r in rows}


def stamp(folder: Path):
    """Inode and modification time of a result folder and each of its files."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in [folder, *sorted(folder.iterdir())]}


def test_failures_are_recorded_and_the_run_goes_on(tmp_path):
    city = make_city(tmp_path / "city")
    out = tmp_path / "out"
    result = run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    assert (result.n_circles, result.n_solved, result.n_failed, result.n_skipped) == (6, 4, 2, 0)
    assert result.exit_code == 5
    rows = read_city_csv(out)
    assert sorted(rows) == ["broken", "c00", "c01", "c02", "c03", "tight"]
    assert rows["broken"]["status"] == "failed"
    assert "sites.csv line 3, column 'cost_elder_child': value 'six hundred' is not a number" in rows["broken"]["error"]
    assert not (out / "broken").exists()
    assert rows["tight"]["status"] == "infeasible"
    assert rows["tight"]["error"] == "must_open sites cost 500 > budget 100"
    for cid in ("c00", "c01", "c02", "c03"):  # the tiny scenario's hand-worked optimum
        row = rows[cid]
        assert (row["status"], float(row["objective"]), float(row["spent"])) == ("optimal", 69.0, 800.0)
        assert (float(row["before_elderly"]), float(row["after_elderly"]), float(row["after_children"])) == (7.0, 30.0, 9.0)
        assert sorted(p.name for p in (out / cid).iterdir()) == [".lifecircle.json", "plan.gpkg", "sites.csv",
                                                             "sites.geojson", "summary.json"]
    geo = json.loads((out / "city.geojson").read_text(encoding="utf-8"))
    features = {f["properties"]["circle_id"]: f for f in geo["features"]}
    assert geo["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4490"
    ring = features["c00"]["geometry"]["coordinates"][0]
    assert features["c00"]["geometry"]["type"] == "Polygon" and len(ring) == 5
    assert all(107.9 < lon < 108.1 and 29.7 < lat < 29.9 for lon, lat in ring)  # EPSG:4545 near CM 108E
    assert features["c01"]["geometry"] is None
    assert features["c00"]["properties"]["share_after_elderly"] == 1.0
    assert features["c00"]["properties"]["share_after_children"] == pytest.approx(9 / 34)

    # A second run skips what is finished (the infeasible circle too: its result is final for
    # this scenario), leaves it untouched, and retries only the circle that left no result.
    before = {cid: stamp(out / cid) for cid in ("c00", "c01", "c02", "c03", "tight")}
    again = run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    assert (again.n_skipped, again.n_solved, again.n_failed) == (5, 0, 2)
    assert {cid: stamp(out / cid) for cid in before} == before
    assert read_city_csv(out)["c02"]["resumed"] == "1"


def test_a_changed_scenario_is_solved_again(tmp_path):
    city = make_city(tmp_path / "city", n=2, bad=False)
    out = tmp_path / "out"
    run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    scenario = city / "north" / "c01" / "scenario.yaml"
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("budget: 1000", "budget: 500"), encoding="utf-8")
    again = run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    assert (again.n_skipped, again.n_solved) == (1, 1)
    assert read_city_csv(out)["c01"]["objective"] == "60.0"


def test_resume_after_a_killed_run_repeats_nothing(tmp_path):
    n = 24
    city = make_city(tmp_path / "city", n=n, bad=False)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", "from lifecircle.cli import main; main()", "city", str(city), "--workers", "1",
                             "--out", str(out), "--no-progress"], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while len(list(out.glob("c*/summary.json"))) < 3:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "no circle finished within 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Dask worker processes
        proc.wait()
    finished = sorted(p.parent.name for p in out.glob("c*/summary.json"))
    assert 3 <= len(finished) < n
    before = {cid: stamp(out / cid) for cid in finished}

    result = run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    assert (result.n_skipped, result.n_solved, result.n_failed) == (len(finished), n - len(finished), 0)
    assert {cid: stamp(out / cid) for cid in finished} == before
    rows = read_city_csv(out)
    assert sorted(r["circle_id"] for r in rows.values() if r["resumed"] == "1") == finished
    assert all(r["status"] == "optimal" for r in rows.values())
    # no half-written folders; the marker says lifecircle wrote the folder (issue 12)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".lifecircle.json"]


def test_finding_circles(tmp_path):
    city = make_city(tmp_path / "city", n=2)
    circles = find_circles(city)
    assert [c.id for c in circles] == ["broken", "c00", "c01", "tight"]
    for circle in circles:
        if circle.id != "broken":  # the driver's quick hash is the loader's checksum
            assert circle.checksum == load_scenario(circle.scenario).checksum
    write_scenario(city / "east" / "c00")
    with pytest.raises(ScenarioError, match="circle id 'c00' appears twice"):
        find_circles(city)


def test_cli_empty_city_and_bad_workers_exit_2(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    result = CliRunner().invoke(main, ["city", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "holds no circle" in result.stderr
    make_city(tmp_path / "city", n=1, bad=False)
    result = CliRunner().invoke(main, ["city", str(tmp_path / "city"), "--workers", "0"])
    assert result.exit_code == 2 and "--workers: value 0 must be >= 1" in result.stderr


def test_cli_unreachable_scheduler_fails_within_10_s(tmp_path):
    make_city(tmp_path / "city", n=1, bad=False)
    t0 = time.monotonic()
    result = CliRunner().invoke(main, ["city", str(tmp_path / "city"), "--scheduler", "tcp://127.0.0.1:9",
                                       "--out", str(tmp_path / "out")])
    elapsed = time.monotonic() - t0
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --scheduler: no Dask scheduler answered at tcp://127.0.0.1:9 within 10 s")
    assert len(result.stderr.strip().splitlines()) == 1
    assert elapsed < 40  # the 10 s limit plus start-up on a busy machine; a hang would never end


def test_generated_city_solves_with_boundaries(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--city", "3", str(tmp_path / "city"), "--seed", "4"])
    assert result.exit_code == 0, result.output
    circles = find_circles(tmp_path / "city")
    assert [c.id for c in circles] == ["c1", "c2", "c3"]
    assert all((c.folder / "boundary.geojson").is_file() for c in circles)
    assert "3 circles" in (tmp_path / "city" / "README.md").read_text(encoding="utf-8")
    city = run_city(tmp_path / "city", out_dir=tmp_path / "out", workers=1, processes=False, progress=False)
    assert city.n_failed == 0 and city.n_solved == 3
    geo = json.loads((tmp_path / "out" / "city.geojson").read_text(encoding="utf-8"))
    for feature in geo["features"]:
        assert feature["geometry"]["type"] == "Polygon"
        lon, lat = feature["geometry"]["coordinates"][0][0]
        assert 105.5 < lon < 107.5 and 29.0 < lat < 30.2  # around Chongqing's central city
    bad = CliRunner().invoke(main, ["generate", "--city", "3", str(tmp_path / "c2"), "--demand", "10"])
    assert bad.exit_code == 2 and "--demand: not used with --city" in bad.stderr


def test_existing_scheduler_is_used_as_is(tmp_path):
    from distributed import LocalCluster

    city = make_city(tmp_path / "city", n=2, bad=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = run_city(city, out_dir=tmp_path / "out", scheduler=cluster.scheduler_address, progress=False)
        assert (result.n_solved, result.n_failed) == (2, 0)
        assert cluster.scheduler.status.name == "running"  # the run leaves someone else's cluster up
    assert read_city_csv(tmp_path / "out")["c01"]["objective"] == "69.0"
