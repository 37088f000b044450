"""``lifecircle network --from-osm``: write an extract's pedestrian network as a GeoPackage (issue 17).

The file is what ``walking.network`` reads: one LineString per edge in EPSG:4326 with
``length_m`` (geodesic metres) and ``walk_factor``, plus ``osm_way_id``, ``highway`` and the end
nodes ``u``/``v`` (OSM node ids) for checking. No ``oneway`` column: walking ignores car one-ways.
The layer's metadata names lifecircle, so a later run may replace the file and nothing else.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.network_osm import OSM_RULES, STEPS_FACTOR, OsmWalk, read_osm_walk

__all__ = ["LAYER", "area_from_bbox", "area_from_polygon", "is_osm_network_file", "network_from_osm",
           "osm_network_lines", "write_osm_network", "write_walk"]

logger = logging.getLogger(__name__)

LAYER = "walk"
MARK_KEY = "lifecircle"


def is_osm_network_file(path) -> bool:
    """Whether ``path`` is a GeoPackage that :func:`write_osm_network` wrote (its layer metadata)."""
    import pyogrio

    try:
        info = pyogrio.read_info(path, layer=LAYER)
    except Exception:  # noqa: BLE001 - anything unreadable is not ours
        return False
    meta = info.get("layer_metadata") or {}
    return str(meta.get(MARK_KEY, "")).startswith("osm walking network")


def area_from_bbox(text: str):
    """``minlon,minlat,maxlon,maxlat`` -> a shapely box in EPSG:4326 (ScenarioError when malformed)."""
    import shapely

    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ScenarioError(f"--bbox {text}: expected four numbers minlon,minlat,maxlon,maxlat")
    x0, y0, x1, y1 = values
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise ScenarioError(f"--bbox {text}: need -180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90 "
                            "(degrees, WGS84 lon/lat order)")
    return shapely.box(x0, y0, x1, y1)


def area_from_polygon(path):
    """The union of a polygon file's (Multi)Polygons, in EPSG:4326 (a file without a CRS: WGS84)."""
    import pyogrio
    import shapely

    from lifecircle.optimizer.inputs.geo import read_quietly

    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"--polygon {path}: file does not exist")
    try:
        meta, _, wkb, _ = read_quietly(lambda: pyogrio.raw.read(path), path)
    except ScenarioError:
        raise
    except Exception as error:  # pyogrio raises several types; all mean "not readable"
        raise ScenarioError(f"--polygon {path}: does not parse: {str(error).strip().splitlines()[0]}") from None
    geoms = shapely.from_wkb(wkb) if wkb is not None else np.zeros(0, object)
    polys = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))] if len(geoms) else geoms
    if len(polys) == 0:
        raise ScenarioError(f"--polygon {path}: holds no Polygon or MultiPolygon")
    area = shapely.union_all(polys)
    crs = meta.get("crs")
    if crs:
        from pyproj import CRS, Transformer

        source = CRS.from_user_input(crs)
        if not source.equals(CRS.from_epsg(4326)):
            to_wgs = Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)
            area = shapely.transform(area, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
    if not area.is_valid:
        area = shapely.make_valid(area)
    x0, y0, x1, y1 = area.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ScenarioError(f"--polygon {path}: coordinates are not lon/lat after reading its CRS "
                            f"({crs or 'none: taken as WGS84'}); save it with its CRS")
    return area


def write_osm_network(extract, out, *, area=None, area_name: str = "the area") -> OsmWalk:
    """Read ``extract``'s pedestrian network (within ``area``) and write it to ``out`` (.gpkg).

    Written through :func:`lifecircle.optimizer.files.atomic_file`: the file appears whole or
    not at all, and an existing ``out`` is replaced only when lifecircle wrote it.
    """
    from lifecircle.optimizer.files import check_file_target

    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise ScenarioError(f"--out {out}: the walking network is written as a GeoPackage; name it *.gpkg")
    check_file_target(out, "--out", owned=is_osm_network_file)  # before the (long) read
    if Path(extract).exists() and out.exists() and out.resolve() == Path(extract).resolve():
        raise ScenarioError(f"--out {out}: is the extract itself; choose another --out")
    walk = read_osm_walk(extract, area=area, area_name=area_name)
    write_walk(walk, out)
    return walk


def write_walk(walk: OsmWalk, out) -> None:
    """Write an :class:`OsmWalk` as ``out`` (GeoPackage, layer ``walk``, EPSG:4326), atomically."""
    import pyogrio.raw
    import shapely

    from lifecircle.optimizer.files import atomic_file

    out = Path(out)
    lines = shapely.linestrings(walk.lonlat, indices=walk.edge_of_coord)
    fields = {
        "osm_way_id": walk.way_id, "highway": walk.highway.astype(str), "u": walk.u, "v": walk.v,
        "length_m": walk.length_m, "walk_factor": walk.walk_factor,
    }
    logger.info("writing %s (%d edges)", out.name, walk.n_edges)
    with atomic_file(out, option="--out", owned=is_osm_network_file) as tmp:
        pyogrio.raw.write(
            tmp, shapely.to_wkb(lines), list(fields.values()), list(fields), layer=LAYER, driver="GPKG",
            geometry_type="LineString", crs="EPSG:4326", encoding="UTF-8",
            layer_metadata={MARK_KEY: f"osm walking network from {walk.path.name} ({OSM_RULES})"},
        )


def osm_network_lines(walk: OsmWalk, out, lang: str = "en") -> list:
    """What ``lifecircle network --from-osm`` prints: counts, length, the classes kept (in ``lang``)."""
    from lifecircle.optimizer.outputs.i18n import t

    classes, counts = np.unique(walk.highway.astype(str), return_counts=True)
    length = {c: walk.length_m[walk.highway == c].sum() for c in classes}
    order = np.argsort(-np.array([length[c] for c in classes]))
    lines = [t("cmd.osm.head", lang, out=out, edges=f"{walk.n_edges:,}", nodes=f"{walk.n_nodes:,}",
               kept=f"{walk.ways_kept:,}", read=f"{walk.ways_read:,}", km=f"{walk.length_m.sum() / 1000:,.2f}"),
             t("cmd.osm.rules", lang, factor=STEPS_FACTOR)]
    lines.append(t("cmd.osm.classes", lang, classes=", ".join(
        t("cmd.osm.km", lang, name=classes[i], count=f"{counts[i]:,}", km=f"{length[classes[i]] / 1000:,.1f}")
        for i in order)))
    return lines


def network_from_osm(scenario, extract, bbox, polygon, out, lang: str = "en") -> list:
    """``lifecircle network --from-osm EXTRACT [--bbox B | --polygon P] --out walk.gpkg``: check the
    options, build and write the network (a status line on a terminal), return the lines to print."""
    from lifecircle.optimizer.outputs.progress import phases

    if scenario is not None and extract is not None:
        raise ScenarioError("--from-osm builds a network file; give no SCENARIO with it")
    if extract is None or out is None:
        raise ScenarioError("give a SCENARIO, or --from-osm EXTRACT.osm.pbf --out walk.gpkg "
                            "(--bbox, --polygon and --out go with --from-osm)")
    if bbox is not None and polygon is not None:
        raise ScenarioError("--bbox and --polygon: give one or neither")
    area, name = None, "the area"
    if bbox is not None:
        area, name = area_from_bbox(bbox), f"--bbox {bbox}"
    elif polygon is not None:
        area, name = area_from_polygon(polygon), f"--polygon {polygon}"
    with phases("network"):
        walk = write_osm_network(extract, out, area=area, area_name=name)
    return osm_network_lines(walk, out, lang)
