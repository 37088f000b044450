"""Issue 17 inputs at scale: the GCJ-02 transform over many points, and layers read from PostGIS.

    .venv/bin/python benchmarks/bench_china_inputs.py [--points 1000000] [--demand 100000]

1. GCJ-02 -> WGS84 for ``--points`` points over Chongqing, vectorised (optimizer/inputs/chinacrs.py)
   against the same formulas in plain Python, one point at a time (as the scalar PyPI libraries
   do), the latter timed on 100,000 points and scaled; and the round-trip error.
2. ``load_scenario`` of a district whose demand has ``--demand`` points, read from CSV, from a
   PostGIS table with a geometry column, and from a table with x/y columns. Needs the PostgreSQL
   server binaries (the test fixture in tests/support/postgres.py starts a throw-away server).

Prints two tables; ratios come from the same run.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from lifecircle.optimizer.inputs.chinacrs import gcj02_to_wgs84, wgs84_to_gcj02


def _scalar_wgs84_to_gcj02(lon: float, lat: float):
    """The published formulas in plain Python floats, one point: what the scalar PyPI libraries do."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    w = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + w
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + w
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - ee * math.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((a * (1.0 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = (dlon * 180.0) / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def _scalar_gcj02_to_wgs84(lon: float, lat: float):
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = _scalar_wgs84_to_gcj02(wlon, wlat)
        if math.hypot(glon - lon, glat - lat) * 111_320.0 < 1e-3:
            break
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat


def bench_transform(n: int) -> None:
    from pyproj import Geod

    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(105.28, 110.19, n), rng.uniform(28.16, 32.22, n)
    t0 = time.perf_counter()
    glon, glat = wgs84_to_gcj02(lon, lat)
    t_fwd = time.perf_counter() - t0
    t0 = time.perf_counter()
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    t_inv = time.perf_counter() - t0
    err = Geod(ellps="WGS84").inv(lon, lat, wlon, wlat)[2]
    m = 100_000
    t0 = time.perf_counter()
    scalar = [_scalar_gcj02_to_wgs84(a, b) for a, b in zip(glon[:m].tolist(), glat[:m].tolist())]
    t_scalar = (time.perf_counter() - t0) * n / m
    same = np.abs(np.array(scalar) - np.column_stack([wlon[:m], wlat[:m]])).max() * 111_320.0
    print(f"\n### GCJ-02 -> WGS84, {n:,} points over Chongqing\n")
    print("| method | seconds | points/s | x vectorised |")
    print("|---|---|---|---|")
    print(f"| vectorised inverse (iterated to < 1 mm) | {t_inv:.2f} | {n / t_inv:,.0f} | 1.0 |")
    print(f"| plain-Python floats, one point at a time ({m:,} timed, scaled) | {t_scalar:.1f} | {n / t_scalar:,.0f} | "
          f"{t_scalar / t_inv:.0f} |")
    print(f"| vectorised forward WGS84 -> GCJ-02 | {t_fwd:.2f} | {n / t_fwd:,.0f} | {t_fwd / t_inv:.2f} |")
    print(f"\nround trip WGS84 -> GCJ-02 -> WGS84: max error {err.max() * 1000:.4f} mm, mean {err.mean() * 1000:.4f} mm; "
          f"scalar and vectorised agree within {same * 1000:.4f} mm")


def bench_postgis(n_demand: int) -> None:
    from support.postgres import start_server, stop_server
    from support.scenarios import SCENARIO_YAML, SITES_CSV

    from lifecircle.optimizer.inputs.scenario import load_scenario

    rng = np.random.default_rng(1)
    x, y = rng.uniform(499000, 503000, n_demand), rng.uniform(3298000, 3302000, n_demand)
    old, kid = rng.integers(0, 50, n_demand), rng.integers(0, 30, n_demand)
    folder = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    folder.chmod(0o755)  # the server (user postgres) reads demand.csv with COPY
    demand = folder / "demand.csv"
    with open(demand, "w", encoding="utf-8") as fh:
        fh.write("id,x,y,elderly,children\n")
        fh.writelines(f"D{i},{a:.2f},{b:.2f},{c},{d}\n" for i, (a, b, c, d) in enumerate(zip(x, y, old, kid)))
    (folder / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    (folder / "existing.csv").write_text("id,type,x,y\n", encoding="utf-8")
    server = start_server()
    try:
        server.psql(f"create table demand_xy (id text, x double precision, y double precision, elderly integer, "
                    f"children integer); copy demand_xy from '{demand}' with (format csv, header true)")
        server.psql("create table demand_geom as select id, elderly, children, "
                    "ST_SetSRID(ST_MakePoint(x, y), 4545)::geometry(Point, 4545) as geom from demand_xy")
        uri = server.uri()
        variants = {"CSV": "demand.csv", "PostGIS table, geometry": f'{{db: "{uri}", table: demand_geom}}',
                    "PostGIS table, x/y columns": f'{{db: "{uri}", table: demand_xy}}'}
        times = {}
        for name, layer in variants.items():
            path = folder / f"{abs(hash(name))}.yaml"
            path.write_text(SCENARIO_YAML.replace("demand: demand.csv", f"demand: {layer}"), encoding="utf-8")
            load_scenario(path)  # warm imports and caches once
            t0 = time.perf_counter()
            scenario = load_scenario(path)
            times[name] = time.perf_counter() - t0
            assert len(scenario.demand) == n_demand
        print(f"\n### load_scenario, demand of {n_demand:,} points\n")
        print("| demand from | seconds | x CSV |")
        print("|---|---|---|")
        for name, t in times.items():
            print(f"| {name} | {t:.2f} | {t / times['CSV']:.2f} |")
    finally:
        stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--demand", type=int, default=100_000)
    args = parser.parse_args()
    bench_transform(args.points)
    bench_postgis(args.demand)


if __name__ == "__main__":
    main()
