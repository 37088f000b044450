"""A whole synthetic city: one generated district per 15-minute life circle (issue 6).

:func:`generate_city` lays circle centres on a jittered hexagonal grid, gives the inner circles the
hillside profile, the next the new-town profile and the outer ring the rural one, and writes each
circle as a small :func:`~lifecircle.optimizer.generate.district.generate_district` call plus its
Voronoi boundary.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from lifecircle.optimizer.generate.district import check_count, generate_district
from lifecircle.optimizer.generate.profiles import BUDGET_ROUND_CNY, PROFILES
from lifecircle.optimizer.recipes import load_recipes

__all__ = ["CITY_CIRCLES", "MAX_CIRCLES", "generate_city"]

# A city of circles: ten Chongqings at most (each circle is a folder of files).
MAX_CIRCLES = 10_000

# Chongqing's central city has 915 fifteen-minute circles (DOMAIN.md) and about 10 million
# residents (a round figure for the synthetic city, not a census count).
CITY_CIRCLES = 915
CITY_RESIDENTS = 10_000_000
# Circle centres on a jittered hexagonal grid this far apart; a 15-minute circle is about 1 km
# in radius, so neighbouring circles touch.
CITY_SPACING_M = 1_700.0
# Ring shares from the centre outwards: old hillside town, new towns, rural circles at the edge.
CITY_RINGS = (("hillside", 0.30), ("newtown", 0.55), ("rural", 0.15))
# Residents per circle relative to the average, by profile (rural circles are smaller), and the
# lognormal spread between circles of one profile.
CITY_SIZE_FACTOR = {"hillside": 1.15, "newtown": 1.1, "rural": 0.45}
CITY_SIZE_SIGMA = 0.35
# Circle budgets: this share of the summed cheapest site costs (the districts use 12-15 %; a
# circle has few sites, and it must afford its recipe's min_open pair).
CITY_BUDGET_SHARE = 0.10
CITY_MIN_OPEN_MARGIN = 1.25


def _min_open_cost(scenario_path: Path, min_open: dict) -> float:
    """Cheapest cost of the recipe's min_open facilities in a generated circle (type by type)."""
    sites = pd.read_csv(scenario_path.parent / "sites.csv")
    return float(sum(np.sort(sites[f"cost_{k}"].dropna().to_numpy())[: int(count)].sum()
                     for k, count in (min_open or {}).items() if f"cost_{k}" in sites and count))


def generate_city(out_dir, n_circles=CITY_CIRCLES, *, seed=0, residents=None) -> Path:
    """Write a synthetic city: one circle folder (a complete scenario) per life circle.

    Circle centres lie on a jittered hexagonal grid (``CITY_SPACING_M`` apart) around the
    hillside profile's centre, in EPSG:4545; the ``n_circles`` nearest the centre are kept. The
    inner 30 % are hillside circles, the next 55 % new-town circles and the outer 15 % rural
    circles (their coordinates are re-projected to EPSG:4544, as the rural profile uses).
    Residents are split between circles by a lognormal share (rural circles are smaller) that sums
    to ``residents``; each circle gets ``residents / residents_mean`` demand points, one site per
    20 points (12 to 60), 0 to 2 existing facilities and a budget of ``CITY_BUDGET_SHARE`` of
    its summed cheapest site costs, but at least ``CITY_MIN_OPEN_MARGIN`` times the cheapest cost
    of its recipe's min_open facilities (so every circle can meet its recipe). Each circle is a :func:`generate_district` call with a
    shrunken profile (centre, outline, cluster and bridge counts), so it reads like a district.

    Every circle also gets ``boundary.geojson``: its Voronoi cell among the circle centres,
    clipped to a disc around its centre, in the circle's CRS. ``README.md`` at the top records the
    call and the totals.

    Parameters
    ----------
    out_dir : folder to write into (created); circle folders are ``c001``, ``c002``, ...
    n_circles : number of circles.
    seed : seed of every random draw.
    residents : total residents of the city (expected value; each circle's demand points draw
        their residents at random). Default: ``CITY_RESIDENTS`` scaled by ``n_circles /
        CITY_CIRCLES``, so circles keep a realistic size (about 11,000 residents on average).

    Returns
    -------
    pathlib.Path
        The city folder.
    """
    n_circles = check_count("n_circles", n_circles, minimum=1, maximum=MAX_CIRCLES)
    if residents is None:
        residents = round(CITY_RESIDENTS * n_circles / CITY_CIRCLES)
    residents = check_count("residents", residents, minimum=n_circles)
    from lifecircle.optimizer.files import atomic_folder

    # The whole city appears at once, and never over a folder of the user's (issue 12).
    with atomic_folder(out_dir, option="OUT_DIR", kind="generated-city") as tmp:
        _write_city(tmp, n_circles, seed, residents)
    return Path(out_dir)


def _write_city(out: Path, n_circles: int, seed: int, residents: int) -> None:
    from pyproj import Transformer
    from shapely.geometry import MultiPoint, Point, mapping

    import shapely

    seeds = np.random.SeedSequence(seed).spawn(n_circles + 1)
    rng = np.random.default_rng(seeds[-1])

    # Hexagonal grid big enough for n_circles, jittered, nearest to the centre first.
    side = int(math.ceil(math.sqrt(n_circles * 1.3))) + 2
    col, row = np.meshgrid(np.arange(-side, side + 1), np.arange(-side, side + 1))
    x = (col + 0.5 * (row % 2)) * CITY_SPACING_M
    y = row * CITY_SPACING_M * math.sqrt(3) / 2
    xy = np.column_stack([x.ravel(), y.ravel()]) + rng.normal(0.0, 0.12 * CITY_SPACING_M, (x.size, 2))
    order = np.argsort(np.hypot(xy[:, 0] / 1.25, xy[:, 1]), kind="stable")  # a wider east-west city
    xy = xy[order[:n_circles]]
    base = PROFILES["hillside"]
    centre = xy + (base.centre_x_m, base.centre_y_m)

    ring_edges = np.cumsum([share for _, share in CITY_RINGS]) * n_circles
    profile_of = np.array([CITY_RINGS[int(np.searchsorted(ring_edges, n, side="right"))][0]
                           for n in range(n_circles)])
    factor = np.array([CITY_SIZE_FACTOR[p] for p in profile_of])
    share = factor * np.exp(rng.normal(0.0, CITY_SIZE_SIGMA, n_circles))
    circle_residents = residents * share / share.sum()

    cells = shapely.voronoi_polygons(MultiPoint([Point(p) for p in centre]), extend_to=None)
    cell_of = {}
    for cell in shapely.get_parts(cells):
        hit = np.flatnonzero(shapely.contains_xy(cell, centre[:, 0], centre[:, 1]))
        if hit.size:
            cell_of[int(hit[0])] = cell
    to_rural = Transformer.from_crs("EPSG:4545", PROFILES["rural"].crs, always_xy=True)
    recipes = load_recipes()

    width = len(str(n_circles))
    totals = {"points": 0, "sites": 0, "expected_residents": 0.0}
    counts = {p: 0 for p, _ in CITY_RINGS}
    for n in range(n_circles):
        profile = str(profile_of[n])
        prof = PROFILES[profile]
        circle_rng = np.random.default_rng(seeds[n])
        n_demand = max(30, int(round(circle_residents[n] / prof.residents_mean)))
        n_sites = int(np.clip(round(n_demand / 20), 12, 60))
        n_existing = int(circle_rng.integers(0, 3))
        cx, cy = centre[n]
        boundary = cell_of.get(n, Point(cx, cy).buffer(0.55 * CITY_SPACING_M)).intersection(
            Point(cx, cy).buffer(0.9 * CITY_SPACING_M))
        crs = prof.crs
        if crs != "EPSG:4545":
            cx, cy = to_rural.transform(cx, cy)
            boundary = shapely.transform(boundary, lambda p: np.column_stack(to_rural.transform(p[:, 0], p[:, 1])))
        half_w = 0.42 * CITY_SPACING_M * float(circle_rng.uniform(0.9, 1.1))
        half_h = 0.42 * CITY_SPACING_M * float(circle_rng.uniform(0.8, 1.0))
        overrides = {
            "centre_x_m": round(float(cx), 1), "centre_y_m": round(float(cy), 1),
            "half_width_m": round(half_w, 1), "half_height_m": round(half_h, 1),
            "n_demand": n_demand, "n_sites": n_sites,
            "n_clusters": max(2, int(round(prof.n_clusters * n_demand / prof.n_demand * 2))),
            "n_bridges": 1, "budget_share": CITY_BUDGET_SHARE,
            "cluster_radius_m": tuple(min(r, 0.35 * half_h) for r in prof.cluster_radius_m),
        }
        circle_id = f"c{n + 1:0{width}d}"
        folder = out / circle_id
        call = {"profile": profile, "n_demand": n_demand, "n_sites": n_sites, "n_existing": n_existing,
                "seed": int(seeds[n].generate_state(1)[0]),
                "name": f"Synthetic Chongqing circle {circle_id} ({profile})", "profile_overrides": overrides}
        path = generate_district(folder, write_in_place=True, **call)
        # A small circle's budget share may not buy its recipe's min_open facilities; such a
        # circle gets CITY_MIN_OPEN_MARGIN times their cheapest cost instead (same seed, so the
        # same people and sites), which its README records.
        need = _min_open_cost(path, recipes.get(prof.circle_type, {}))
        budget = yaml.safe_load(path.read_text(encoding="utf-8"))["budget"]
        if budget < CITY_MIN_OPEN_MARGIN * need:
            floor = math.ceil(CITY_MIN_OPEN_MARGIN * need / BUDGET_ROUND_CNY) * BUDGET_ROUND_CNY
            generate_district(folder, budget_cny=floor, write_in_place=True, **call)
        feature = {"type": "Feature", "properties": {"circle_id": circle_id, "profile": profile},
                   "geometry": mapping(shapely.set_precision(boundary, 0.1))}
        collection = {"type": "FeatureCollection", "name": circle_id,
                      "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs.split(':')[1]}"}},
                      "features": [feature]}
        (folder / "boundary.geojson").write_text(json.dumps(collection) + "\n", encoding="utf-8")
        totals["points"] += n_demand
        totals["sites"] += n_sites
        totals["expected_residents"] += n_demand * prof.residents_mean
        counts[profile] += 1

    (out / "README.md").write_text(
        "# Synthetic Chongqing-sized city (no real people or sites)\n\n"
        "```python\nfrom lifecircle.optimizer.generate import generate_city\n"
        f"generate_city(out_dir, n_circles={n_circles}, seed={seed}, residents={residents})\n```\n\n"
        f"- {n_circles} circles: " + ", ".join(f"{p} {c}" for p, c in counts.items()) + ".\n"
        f"- {totals['points']:,} demand points and {totals['sites']:,} candidate sites in total.\n"
        f"- Residents: {totals['expected_residents']:,.0f} expected (demand points x the profile's mean "
        "residents per point; each point draws its own). The scenarios count only the elderly, "
        "infants and children among them.\n"
        "- Each circle folder holds a scenario (see its README.md) and boundary.geojson.\n"
        "- **Costs are illustrative**, as in every generated district.\n",
        encoding="utf-8")
