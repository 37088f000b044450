"""city.gpkg: the city's 一张图 and 一张表 in one GeoPackage (issue 15 part 3).

Every circle's ``plan.gpkg`` layers (``selected_sites``, ``candidates``, ``demand``, ``existing``,
``service_areas``), concatenated with a ``circle_id`` column first (``circle`` is already a
demand column of circles that name sub-circles), plus ``circles``: one polygon per circle, its
``boundary.geojson`` or, without one, the convex hull of its demand points (``outline`` says
which), with the city.csv row: status, budget, spent, objective, selected ``sites``, and
population, covered before and after and covered share per group. Circles differ in CRS, so
every layer is in EPSG:4490 (CGCS2000 longitude/latitude), as city.geojson is. A circle without
a plan.gpkg (failed, or solved before plan.gpkg existed) has a ``circles`` row and no other rows.
The per-circle ``circle`` layer is not repeated: ``circles`` holds the same outlines.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import LifecircleError
from lifecircle.optimizer.outputs.gpkg import PLAN_FILE, column_keys, write_layers

logger = logging.getLogger(__name__)

CITY_GPKG = "city.gpkg"
CIRCLE_LAYERS = ("selected_sites", "candidates", "demand", "existing", "service_areas")


def _read_plan(path: Path, crs) -> dict:
    """{layer: GeoDataFrame in ``crs``} of one circle's plan.gpkg; {} when unreadable."""
    import geopandas as gpd
    import pyogrio

    try:
        names = {str(name) for name, _ in pyogrio.list_layers(path)}
        return {name: gpd.read_file(path, layer=name, use_arrow=True).to_crs(crs)
                for name in CIRCLE_LAYERS if name in names}
    except Exception as error:  # noqa: BLE001 - a damaged circle file must not stop the city's map
        logger.warning("%s: cannot read (%s); its circle has no plan layers in %s", path,
                       str(error).splitlines()[0] if str(error) else type(error).__name__, CITY_GPKG)
        return {}


def city_layers(out_dir: Path, circles, rows, boundary_file: str) -> dict:
    """{layer: GeoDataFrame} of city.gpkg (see the module docstring)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from lifecircle.optimizer.inputs.geo import BOUNDARY_CRS, read_boundary_lonlat

    parts: dict[str, list] = {name: [] for name in CIRCLE_LAYERS}
    outlines, kinds = [], []
    for circle in circles:
        plan = out_dir / circle.id / PLAN_FILE
        layers = _read_plan(plan, BOUNDARY_CRS) if plan.is_file() else {}
        for name, frame in layers.items():
            frame.insert(0, "circle_id", circle.id)
            parts[name].append(frame)
        outline, kind = None, "none"
        if (circle.folder / boundary_file).is_file():
            try:
                outline, kind = read_boundary_lonlat(circle.folder / boundary_file, circle.crs), "boundary"
            except LifecircleError as error:
                logger.warning("%s", error)
        if outline is None and "demand" in layers and len(layers["demand"]):
            outline, kind = shapely.convex_hull(shapely.union_all(layers["demand"].geometry.to_numpy())), "hull"
            if outline.geom_type not in ("Polygon", "MultiPolygon"):
                # demand on one line or one point: the hull is a line, which a polygon layer refuses
                outline = outline.buffer(0.0005)  # degrees (EPSG:4490): about 50 m
        outlines.append(outline)
        kinds.append(kind)
    out = {}
    for name, frames in parts.items():
        frames = [f for f in frames if len(f)]
        out[name] = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=BOUNDARY_CRS) if frames
                     else gpd.GeoDataFrame({"circle_id": []}, geometry=[], crs=BOUNDARY_CRS))
    out["circles"] = gpd.GeoDataFrame(_circle_table(rows, kinds), geometry=outlines, crs=BOUNDARY_CRS)
    return out


def _circle_table(rows, kinds) -> dict:
    groups = []
    for row in rows:
        groups += [g for g in row["coverage"] if g not in groups]
    keys = column_keys(groups, "g")
    table = {"circle_id": [r["circle_id"] for r in rows], "status": [r["status"] for r in rows],
             "error": [r["error"] for r in rows], "outline": list(kinds),
             "budget_cny": [r["budget"] for r in rows], "spent_cny": [r["spent"] for r in rows],
             "objective": [r["objective"] for r in rows], "sites": [r.get("sites") for r in rows]}
    for group, key in zip(groups, keys):
        cells = [r["coverage"].get(group) or {} for r in rows]
        pop = np.array([c.get("population") for c in cells], dtype=float)
        before = np.array([c.get("covered_before") for c in cells], dtype=float)
        after = np.array([c.get("covered_after") for c in cells], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(pop > 0, after / pop, np.nan)
        table |= {f"population_{key}": pop, f"before_{key}": before, f"after_{key}": after,
                  f"share_after_{key}": share}
    return table


def write_city_gpkg(out_dir: Path, circles, rows, boundary_file: str, owned) -> Path:
    """Write ``out_dir/city.gpkg`` whole or not at all (``owned``: may an existing one be
    replaced, as for city.csv); return its path."""
    from lifecircle.optimizer.files import atomic_file

    layers = city_layers(Path(out_dir), circles, rows, boundary_file)
    target = Path(out_dir) / CITY_GPKG
    with atomic_file(target, option="--out", owned=owned) as tmp:
        write_layers(tmp, layers)
    return target
