"""Network reach at city scale: a synthetic grid city, written as a GeoPackage, read back, snapped
and walked from every site with a 15-minute cutoff (issue 4).

    .venv/bin/python benchmarks/bench_network.py                 # 200,000 nodes, 100,000 points, 5,000 sites
    .venv/bin/python benchmarks/bench_network.py --scale 0.25    # a quarter of each, for a quick look

The city: a rows x cols street grid at 60 m spacing with 10% of streets missing, 5% one-way, 10%
stairs or slopes (walk_factor 1.2-2.0) and a river across the middle crossed by a bridge every
1.2 km. Demand points and sites are scattered uniformly, existing facilities too (two types).
Budgets: elder_child 15 min, canteen 10 min; 1.0 m/s, elderly 0.8 m/s; so the cutoff is 900 m.

Each size runs in a fresh child process so that its peak resident memory (ru_maxrss) is the
reach computation's own, plus the interpreter and libraries. The straight-line KD-tree reach of the
same points (radius 900 m / detour 1.3) runs in the same child, as the ratio's baseline.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPACING_M = 60.0
X0, Y0 = 500000.0, 3300000.0
CRS = "EPSG:4545"
SPEED, ELDERLY = 1.0, 0.8
MINUTES = {"elder_child": 15.0, "canteen": 10.0}


def make_city(folder: Path, n_nodes: int, n_demand: int, n_sites: int, seed: int = 0) -> dict:
    """Write streets.gpkg and points.npz into ``folder``; return the city's facts."""
    import pyogrio
    import shapely

    rng = np.random.default_rng(seed)
    rows = int(round(np.sqrt(n_nodes * 0.8)))
    cols = int(round(n_nodes / rows))
    idx = np.arange(rows * cols).reshape(rows, cols)
    xy = np.column_stack([X0 + (idx % cols).ravel() * SPACING_M, Y0 + (idx // cols).ravel() * SPACING_M])
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    vertical = np.r_[np.zeros(rows * (cols - 1), bool), np.ones((rows - 1) * cols, bool)]
    river_row = rows // 2
    crosses = vertical & (a // cols == river_row - 1)
    bridge = (a % cols) % 20 == 0
    keep = (rng.random(len(a)) > 0.10) & ~(crosses & ~bridge)
    keep |= crosses & bridge  # bridges never go missing
    a, b = a[keep], b[keep]
    oneway = (rng.random(len(a)) < 0.05).astype(np.int32)
    factor = np.where(rng.random(len(a)) < 0.10, rng.uniform(1.2, 2.0, len(a)), np.nan)
    lines = shapely.linestrings(np.stack([xy[a], xy[b]], axis=1))
    pyogrio.raw.write(folder / "streets.gpkg", geometry=shapely.to_wkb(lines), field_data=[oneway, factor],
                      fields=["oneway", "walk_factor"], geometry_type="LineString", crs=CRS, driver="GPKG")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    demand = rng.uniform(lo, hi, size=(n_demand, 2))
    sites = rng.uniform(lo, hi, size=(n_sites, 2))
    existing = rng.uniform(lo, hi, size=(max(1, n_sites // 10), 2))
    ex_type = rng.integers(0, 2, len(existing))
    np.savez(folder / "points.npz", demand=demand, sites=sites, existing=existing, ex_type=ex_type)
    return {"nodes": rows * cols, "lines": int(len(a)), "rows": rows, "cols": cols}


def measure(folder: Path) -> dict:
    """Child process: read, snap and walk; report timings and peak memory."""
    from lifecircle.optimizer.inputs.geo import reach_matrices
    from lifecircle.optimizer.inputs.network import read_network
    from lifecircle.optimizer.inputs.network_reach import compute_reach, within

    pts = np.load(folder / "points.npz")
    budgets = {("elder_child", "elderly"): MINUTES["elder_child"] * 60 * ELDERLY,
               ("elder_child", "children"): MINUTES["elder_child"] * 60 * SPEED,
               ("canteen", "elderly"): MINUTES["canteen"] * 60 * ELDERLY}
    limit = max(budgets.values())
    type_limit = [MINUTES["elder_child"] * 60 * SPEED, MINUTES["canteen"] * 60 * ELDERLY]

    t0 = time.perf_counter()
    net = read_network(folder / "streets.gpkg", CRS, CRS)
    t1 = time.perf_counter()
    c1 = time.process_time()
    reach = compute_reach(net, pts["demand"], pts["sites"], pts["existing"], pts["ex_type"], 2,
                          limit, type_limit, 300.0)
    t2 = time.perf_counter()
    c2 = time.process_time()
    coverage = {}
    for key, budget in budgets.items():
        m = reach.site_cost.copy()
        m.data = within(m.data, budget)
        m.eliminate_zeros()
        coverage[key] = m.astype(bool)
    t3 = time.perf_counter()
    rss_reach = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    radii = {key: b / 1.3 for key, b in budgets.items()}
    straight = reach_matrices(pts["demand"], pts["sites"], radii)
    t4 = time.perf_counter()
    count, _, _ = net.components()
    return {
        "read_s": t1 - t0, "reach_s": t2 - t1, "reach_cpu_s": c2 - c1, "threshold_s": t3 - t2, "straight_s": t4 - t3,
        "peak_rss_bytes": rss_reach, "segments": net.n_segments, "net_nodes": net.n_nodes,
        "components": count, "pairs_network": int(reach.site_cost.nnz),
        "pairs_children": int(coverage[("elder_child", "children")].nnz),
        "pairs_straight_children": int(straight[("elder_child", "children")].nnz),
        "covered_before_elderly": int(np.isfinite(reach.before_cost).any(axis=1).sum()),
    }


def run_size(n_nodes: int, n_demand: int, n_sites: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        city = make_city(folder, n_nodes, n_demand, n_sites)
        city["write_s"] = time.perf_counter() - t
        out = subprocess.run([sys.executable, __file__, "--measure", str(folder)], capture_output=True,
                             text=True, check=True)
        return city | json.loads(out.stdout.strip().splitlines()[-1]) | {"demand": n_demand, "sites": n_sites}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the full size (default 1).")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return
    full = (200_000, 100_000, 5_000)
    sizes = [tuple(int(v * s) for v in full) for s in (args.scale / 4, args.scale)]
    results = [run_size(*size) for size in sizes]
    print("network reach, synthetic grid city (60 m blocks, river with bridges, one-way, stairs); 15-minute cutoff 900 m")
    header = (f"{'nodes':>8} {'lines':>8} {'demand':>8} {'sites':>6} | {'read s':>7} {'reach s':>8} {'cpu s':>6} {'peak GiB':>8} "
              f"| {'pairs':>10} {'straight s':>10} {'reach/straight':>14} {'pairs net/straight':>18}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['net_nodes']:>8,} {r['lines']:>8,} {r['demand']:>8,} {r['sites']:>6,} | {r['read_s']:>7.2f} "
              f"{r['reach_s'] + r['threshold_s']:>8.2f} {r['reach_cpu_s']:>6.1f} {r['peak_rss_bytes'] / 2**30:>8.2f} | {r['pairs_network']:>10,} "
              f"{r['straight_s']:>10.2f} {(r['reach_s'] + r['threshold_s']) / max(r['straight_s'], 1e-9):>14.1f} "
              f"{r['pairs_children'] / max(r['pairs_straight_children'], 1):>18.2f}")
    small, big = results
    print(f"scaling: {big['net_nodes'] / small['net_nodes']:.1f}x nodes and points -> "
          f"{(big['reach_s'] + big['threshold_s']) / (small['reach_s'] + small['threshold_s']):.1f}x reach time")
    print(f"target at full size: reach < 60 s and < 4 GiB; components in the big city: {big['components']}")


if __name__ == "__main__":
    main()
