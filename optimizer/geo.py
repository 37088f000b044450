"""CRS handling, distances and reach. The only module that imports geopandas (lazily).

Reach is exact and inclusive: a site reaches a point when the straight-line distance is
``<= radius_m``. The KD-tree query uses a slightly larger radius and every candidate pair is then
re-measured with the same formula ``evaluate`` and the tests use, so float rounding inside the tree
can neither add nor drop a pair.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .errors import ScenarioError

# CGCS2000 3-degree Gauss-Krüger zones, central-meridian variants: EPSG:4534 is CM 75°E, one code
# per 3 degrees up to EPSG:4554 at CM 135°E.
GK_FIRST_EPSG, GK_FIRST_CM, GK_LAST_CM = 4534, 75, 135


def distance_m(ax, ay, bx, by):
    """Straight-line distance, the one formula used for reach everywhere."""
    return np.hypot(np.asarray(ax) - np.asarray(bx), np.asarray(ay) - np.asarray(by))


def reach_pairs(points_xy: np.ndarray, sites_xy: np.ndarray, radius_m: float):
    """All (point, site, distance) with distance <= radius_m, as three arrays.

    Chunked over points so memory stays bounded for large demand tables.
    """
    from scipy.spatial import cKDTree

    if len(points_xy) == 0 or len(sites_xy) == 0 or radius_m < 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = cKDTree(sites_xy)
    chunk = 200_000
    out_i, out_j, out_d = [], [], []
    for start in range(0, len(points_xy), chunk):
        part = points_xy[start:start + chunk]
        ptree = cKDTree(part, balanced_tree=False, compact_nodes=False)  # 2.5x faster to build
        pairs = ptree.sparse_distance_matrix(tree, radius_m * (1 + 1e-9) + 1e-9, output_type="ndarray")
        i = pairs["i"].astype(np.int64)
        j = pairs["j"].astype(np.int64)
        d = distance_m(part[i, 0], part[i, 1], sites_xy[j, 0], sites_xy[j, 1])
        keep = d <= radius_m
        out_i.append(i[keep] + start)
        out_j.append(j[keep])
        out_d.append(d[keep])
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)


def reach_matrices(points_xy: np.ndarray, sites_xy: np.ndarray, radii_m: dict) -> dict:
    """{key: (I, J) CSR bool} for each radius in ``radii_m``, from one KD-tree query at the largest."""
    n_i, n_j = len(points_xy), len(sites_xy)
    if not radii_m:
        return {}
    i, j, d = reach_pairs(points_xy, sites_xy, max(radii_m.values()))
    out = {}
    for key, radius in radii_m.items():
        keep = d <= radius
        out[key] = sp.csr_matrix((np.ones(int(keep.sum()), dtype=bool), (i[keep], j[keep])), shape=(n_i, n_j))
    return out


def parse_crs(crs_text, where: str):
    """A pyproj CRS from scenario text, or a one-line ScenarioError naming ``where``."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs_text)
    except (CRSError, TypeError, ValueError):
        raise ScenarioError(f"{where}: unknown CRS {crs_text!r}; give an EPSG code such as EPSG:4545") from None


def metric_crs_for(crs, lon_deg: float):
    """The CGCS2000 Gauss-Krüger zone (central-meridian variant) for a longitude."""
    from pyproj import CRS

    cm = int(round(lon_deg / 3.0) * 3)
    if not GK_FIRST_CM <= cm <= GK_LAST_CM:
        return None
    return CRS.from_epsg(GK_FIRST_EPSG + (cm - GK_FIRST_CM) // 3)


def to_metric(x: np.ndarray, y: np.ndarray, crs, where: str):
    """Project coordinates to metres. Returns (x_m, y_m, metric_crs).

    A projected CRS in metres is used as it is. A geographic one is projected to the CGCS2000
    Gauss-Krüger zone of the data's mean longitude; outside China's zones that is an error.
    """
    from pyproj import Transformer

    if crs.is_projected:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        if unit not in ("metre", "meter"):
            raise ScenarioError(f"{where}: CRS {crs.to_string()} is in {unit}, not metres; use a metric CRS")
        return x, y, crs
    if not crs.is_geographic:
        raise ScenarioError(f"{where}: CRS {crs.to_string()} is neither projected nor geographic")
    lon = float(np.mean(x)) if len(x) else 0.0
    target = metric_crs_for(crs, lon)
    if target is None:
        raise ScenarioError(
            f"{where}: CRS {crs.to_string()} is geographic and longitude {lon:.2f} is outside the "
            "CGCS2000 Gauss-Krüger zones (75°E-135°E); give a projected CRS in metres"
        )
    transformer = Transformer.from_crs(crs, target, always_xy=True)
    xm, ym = transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(xm), np.asarray(ym), target


def transform(x, y, source, target):
    from pyproj import Transformer

    if source == target:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    xm, ym = Transformer.from_crs(source, target, always_xy=True).transform(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(xm), np.asarray(ym)


def read_vector_table(path: Path, where: str):
    """Read a GeoJSON or GeoPackage into (properties as a pandas DataFrame of strings, x, y, crs).

    Polygons and lines are reduced to a representative point (always inside the shape).
    """
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a dependency
        raise ScenarioError(f"{where}: reading {path.suffix} files needs geopandas") from None
    try:
        try:  # Arrow transfer: a million-point GeoPackage reads ~3x faster (issue 8)
            frame = gpd.read_file(path, use_arrow=True)
        except Exception:
            frame = gpd.read_file(path)
    except Exception as error:  # pyogrio raises many types; all mean "cannot read this file"
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(f"{path}: cannot read as a vector file: {first}") from None
    if frame.geometry is None or frame.geometry.isna().any() or frame.geometry.is_empty.any():
        bad = int(np.flatnonzero((frame.geometry.isna() | frame.geometry.is_empty).to_numpy())[0]) + 1
        raise ScenarioError(f"{path}: feature {bad} has no geometry")
    is_point = (frame.geometry.geom_type == "Point").to_numpy()
    # A point is its own representative point; computing it for a million points costs seconds.
    points = frame.geometry if is_point.all() else frame.geometry.representative_point()
    props = frame.drop(columns=frame.geometry.name).astype(str)
    props = props.where(frame.drop(columns=frame.geometry.name).notna(), "")
    return props, points.x.to_numpy(), points.y.to_numpy(), frame.crs


# ---- circle boundaries for city maps (issue 6) ----

BOUNDARY_CRS = "EPSG:4490"  # CGCS2000 longitude/latitude: one CRS for every circle of a city


def read_boundary_lonlat(path: Path, default_crs: str | None):
    """A circle's boundary as one shapely (Multi)Polygon in EPSG:4490 longitude/latitude.

    ``path`` is a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection (features are
    unioned). Its coordinates are in the CRS its ``crs`` member names, else in ``default_crs``
    (the circle scenario's). Plain ``json`` and pyproj keep this at about a millisecond a file,
    so a 915-circle city map costs a second, not the 15 s of reading each with geopandas.
    """
    import json

    import shapely
    from pyproj import Transformer
    from shapely.geometry import shape

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ScenarioError(f"{path}: cannot read as GeoJSON: {error}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a GeoJSON object")
    crs_text = ((data.get("crs") or {}).get("properties") or {}).get("name") or default_crs
    if data.get("type") == "FeatureCollection":
        geometries = [f.get("geometry") for f in data.get("features") or []]
    elif data.get("type") == "Feature":
        geometries = [data.get("geometry")]
    else:
        geometries = [data]
    try:
        shapes = [shape(g) for g in geometries if g]
    except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException) as error:
        raise ScenarioError(f"{path}: invalid geometry: {error}") from None
    shapes = [s for s in shapes if s.geom_type in ("Polygon", "MultiPolygon") and not s.is_empty]
    if not shapes:
        raise ScenarioError(f"{path}: no Polygon or MultiPolygon in the file")
    boundary = shapely.union_all(shapes)
    crs = parse_crs(crs_text or BOUNDARY_CRS, f"{path}: crs")
    if crs.to_epsg() != 4490:
        transformer = Transformer.from_crs(crs, BOUNDARY_CRS, always_xy=True)
        boundary = shapely.transform(boundary, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return boundary
