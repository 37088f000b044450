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

from lifecircle.optimizer.errors import ScenarioError

# CGCS2000 3-degree Gauss-Krüger zones, central-meridian variants: EPSG:4534 is CM 75°E, one code
# per 3 degrees up to EPSG:4554 at CM 135°E.
GK_FIRST_EPSG, GK_FIRST_CM, GK_LAST_CM = 4534, 75, 135


def distance_m(ax, ay, bx, by):
    """Straight-line distance, the one formula used for reach everywhere."""
    return np.hypot(np.asarray(ax) - np.asarray(bx), np.asarray(ay) - np.asarray(by))


# Points per KD-tree query: bounds the pair arrays of one query for million-point grids.
PAIRS_CHUNK = 200_000


def pairs_within(points_xy: np.ndarray, sites_xy: np.ndarray, radius_m: float, *, distances: bool = False):
    """Every (point, site) pair with ``distance_m <= radius_m``, inclusive: the one reach kernel.

    Scenarios, classic instances and million-point grids all call this. A KD-tree over the sites
    is queried by a KD-tree over a chunk of points with a hair more radius (pairs come back as
    arrays, never a dense matrix). The tree's distance and :func:`distance_m` can differ in the
    last bits only, so pairs within a relative 1e-12 of the radius are re-measured with
    :func:`distance_m` and kept when ``<= radius_m``: float rounding inside the tree can neither
    add nor drop a pair, whatever the caller.

    Parameters
    ----------
    points_xy, sites_xy : (n, 2) and (m, 2) float arrays, metres.
    radius_m : float
        Reach; a negative radius reaches nothing.
    distances : bool
        Also return each pair's :func:`distance_m` (for callers that cut the same pairs at
        several smaller radii).

    Returns
    -------
    (i, j) int64 arrays, sorted by point then site, or (i, j, d) with ``distances``.
    """
    from scipy.spatial import cKDTree

    n, m = len(points_xy), len(sites_xy)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or m == 0 or not radius_m >= 0:
        return (empty, empty, np.zeros(0)) if distances else (empty, empty)
    site_tree = cKDTree(sites_xy)
    out_i, out_j, out_d = [], [], []
    for start in range(0, n, PAIRS_CHUNK):
        part = points_xy[start:start + PAIRS_CHUNK]
        # Unbalanced, uncompacted, 64-point leaves: the fastest build for a tree used once.
        point_tree = cKDTree(part, leafsize=64, balanced_tree=False, compact_nodes=False)
        found = point_tree.sparse_distance_matrix(site_tree, radius_m * (1 + 1e-9) + 1e-9, output_type="ndarray")
        i, j = found["i"].astype(np.int64), found["j"].astype(np.int64)
        if distances:
            d = distance_m(part[i, 0], part[i, 1], sites_xy[j, 0], sites_xy[j, 1])
            keep = d <= radius_m
            out_d.append(d[keep])
        else:
            keep = found["v"] <= radius_m * (1 - 1e-12)
            band = np.flatnonzero(~keep)
            keep[band] = distance_m(part[i[band], 0], part[i[band], 1], sites_xy[j[band], 0],
                                    sites_xy[j[band], 1]) <= radius_m
        i, j = i[keep] + start, j[keep]
        order = np.lexsort((j, i))
        out_i.append(i[order])
        out_j.append(j[order])
        if distances:
            out_d[-1] = out_d[-1][order]
    i, j = np.concatenate(out_i), np.concatenate(out_j)
    return (i, j, np.concatenate(out_d)) if distances else (i, j)


def pairs_matrix(points_xy: np.ndarray, sites_xy: np.ndarray, radius_m: float) -> sp.csr_matrix:
    """:func:`pairs_within` as a (points x sites) CSR matrix of ones, sorted indices."""
    i, j = pairs_within(points_xy, sites_xy, radius_m)
    matrix = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(len(points_xy), len(sites_xy)))
    matrix.sort_indices()
    return matrix


def reach_pairs(points_xy: np.ndarray, sites_xy: np.ndarray, radius_m: float):
    """All (point, site, distance) with distance <= radius_m, as three arrays (see
    :func:`pairs_within`)."""
    return pairs_within(points_xy, sites_xy, radius_m, distances=True)


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


# ---- is this data in this CRS? (issue 12) ----

# A layer may lie a little outside its CRS's area of use: a city on a zone boundary (Chongqing at
# 106.5°E) is often drawn whole in one zone. Two degrees keep Gauss-Krüger scale error under 0.4 %
# while lon/lat read as metres, metres read as degrees, or a zone prefix in the wrong CRS all land
# thousands of kilometres (or degrees) off and are refused.
EXTENT_MARGIN_DEG = 2.0
# A projected CRS whose scale at the data differs from 1 by more than this is not used for
# distances (Web Mercator: 1/cos(latitude), +15 % in Chongqing); the data is reprojected instead.
MAX_SCALE_ERROR = 0.005
# CGCS2000 3-degree Gauss-Krüger zones with the zone number prefixed to the easting: EPSG:4513 is
# zone 25 (CM 75°E) up to EPSG:4533, zone 45 (CM 135°E). Zone number = CM / 3.
GK_PREFIXED_FIRST_EPSG, GK_FIRST_ZONE, GK_LAST_ZONE = 4513, 25, 45
LONLAT_EPSG = 4490


def crs_label(crs) -> str:
    """``EPSG:4545`` when the CRS has an EPSG code, else its name."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def _gk_zone(crs):
    """("cm" | "prefixed", central meridian) of a CGCS2000 3-degree Gauss-Krüger CRS, else None."""
    code = crs.to_epsg() or 0
    if GK_FIRST_EPSG <= code <= GK_FIRST_EPSG + (GK_LAST_CM - GK_FIRST_CM) // 3:
        return "cm", GK_FIRST_CM + 3 * (code - GK_FIRST_EPSG)
    if GK_PREFIXED_FIRST_EPSG <= code <= GK_PREFIXED_FIRST_EPSG + GK_LAST_ZONE - GK_FIRST_ZONE:
        return "prefixed", GK_FIRST_CM + 3 * (code - GK_PREFIXED_FIRST_EPSG)
    return None


def expected_bounds(crs):
    """(xmin, ymin, xmax, ymax) in the CRS's own units (x east) where it is used: pyproj's area of
    use widened by ``EXTENT_MARGIN_DEG``. None when pyproj knows no area for the CRS."""
    from pyproj import Transformer

    area = crs.area_of_use
    if area is None:
        return None
    w, s, e, n = area.bounds
    m = EXTENT_MARGIN_DEG
    w, e = (w - m, e + m) if e - w < 360 - 2 * m else (-180.0, 180.0)
    s, n = max(s - m, -89.9), min(n + m, 89.9)
    if crs.is_geographic:
        return w, s, e, n
    if "mercator" in _method(crs):
        s, n = max(s, -85.06), min(n, 85.06)
    try:
        bounds = Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True).transform_bounds(
            w, s, e, n, densify_pts=21)
    except Exception:  # noqa: BLE001 - a CRS pyproj cannot bound: no check, as before issue 12
        return None
    return bounds if np.all(np.isfinite(bounds)) else None


def _method(crs) -> str:
    op = crs.coordinate_operation
    return (op.method_name if op is not None else "").lower()


def _inside(span, bounds) -> bool:
    x0, x1, y0, y1 = span
    return bounds is not None and bounds[0] <= x0 and x1 <= bounds[2] and bounds[1] <= y0 and y1 <= bounds[3]


def _span(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.min(x)), float(np.max(x)), float(np.min(y)), float(np.max(y))


def _number(value: float, crs) -> str:
    return f"{value:,.2f}" if crs.is_geographic else f"{value:,.0f}"


def _extent_hints(span, crs) -> list:
    """CRSs the values would fit, most likely first: lon/lat, a zone prefix, the other GK variant."""
    from pyproj import CRS

    x0, x1, y0, y1 = span
    candidates = []
    lonlat = -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90
    if lonlat and not crs.is_geographic:
        candidates.append(LONLAT_EPSG)
    zone = int(x0 // 1e6)
    if GK_FIRST_ZONE <= zone <= GK_LAST_ZONE and int(x1 // 1e6) == zone:  # a zone-prefixed easting
        candidates.append(GK_PREFIXED_FIRST_EPSG + zone - GK_FIRST_ZONE)
    gk = _gk_zone(crs)
    if gk is not None and gk[0] == "prefixed":
        candidates.append(GK_FIRST_EPSG + (gk[1] - GK_FIRST_CM) // 3)  # same zone without prefix
    hints = []
    for code in dict.fromkeys(candidates):
        cand = CRS.from_epsg(code)
        if cand != crs and _inside(span, expected_bounds(cand)):
            hints.append(code)
    return hints


def _hint_text(codes) -> str:
    if not codes:
        return ""
    named = [f"EPSG:{c} (longitude/latitude)" if c == LONLAT_EPSG else f"EPSG:{c}" for c in codes]
    return "; did you mean " + " or ".join(named) + "?"


def check_extent(x, y, crs, where: str) -> None:
    """Refuse coordinates that cannot be in ``crs``: outside its area of use (pyproj's, widened
    by ``EXTENT_MARGIN_DEG``). The one line names the spans, the expected ranges and, when the
    values fit one, the CRS they look like (lon/lat under a projected CRS, a zone prefix).
    """
    if len(x) == 0:
        return
    bounds = expected_bounds(crs)
    span = _span(x, y)
    if bounds is None or _inside(span, bounds):
        return
    unit = "°" if crs.is_geographic else " m"
    f = (lambda v: _number(v, crs))
    raise ScenarioError(
        f"{where}: x spans {_plain(span[0])}–{_plain(span[1])} and y {_plain(span[2])}–{_plain(span[3])}, "
        f"which is not {crs_label(crs)} (expected x {f(bounds[0])}–{f(bounds[2])}{unit}, "
        f"y {f(bounds[1])}–{f(bounds[3])}{unit}){_hint_text(_extent_hints(span, crs)) or _metres_hint(span, crs)}"
    )


def _metres_hint(span, crs) -> str:
    """Metres under a geographic CRS, when no zone prefix names the zone."""
    if crs.is_geographic and max(abs(v) for v in span) > 1000:
        return ("; the values look like projected metres: give their CRS, such as a CGCS2000 "
                "Gauss-Krüger zone EPSG:4534–4554")
    return ""


def _plain(value: float) -> str:
    """A coordinate as the user wrote it, roughly: degrees keep decimals, metres do not."""
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"


def bbox_gap_m(a, b) -> float:
    """Distance between two boxes (x0, x1, y0, y1); 0 when they touch or overlap."""
    dx = max(a[0] - b[1], b[0] - a[1], 0.0)
    dy = max(a[2] - b[3], b[2] - a[3], 0.0)
    return float(np.hypot(dx, dy))


def _sample(x, y, n: int = 2000):
    """At most ``n`` points, always with the extreme ones: enough to place a layer for a hint."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) <= n:
        return x, y
    pick = np.unique(np.r_[np.linspace(0, len(x) - 1, n).astype(np.int64),
                           np.argmin(x), np.argmax(x), np.argmin(y), np.argmax(y)])
    return x[pick], y[pick]


def _neighbour_crss(crs) -> list:
    """The CRSs a layer in ``crs`` is most often really in: the Gauss-Krüger zones 1-2 away."""
    from pyproj import CRS

    gk = _gk_zone(crs)
    if gk is None:
        return []
    kind, cm = gk
    out = []
    for step in (-1, 1, -2, 2):
        other = cm + 3 * step
        if GK_FIRST_CM <= other <= GK_LAST_CM:
            first = GK_FIRST_EPSG if kind == "cm" else GK_PREFIXED_FIRST_EPSG
            out.append(CRS.from_epsg(first + (other - GK_FIRST_CM) // 3))
    return out


def _fits_as(x, y, candidates, target_span, metric, tolerance_m):
    """The first candidate CRS under which (x, y) are valid and lie within ``tolerance_m`` of
    ``target_span`` in ``metric``; None when none does."""
    for cand in candidates:
        if not _inside(_span(x, y), expected_bounds(cand)):
            continue
        try:
            xm, ym = transform(x, y, cand, metric)
        except Exception:  # noqa: BLE001 - a candidate that does not transform is not the answer
            continue
        if np.all(np.isfinite(xm)) and bbox_gap_m(_span(xm, ym), target_span) <= tolerance_m:
            return cand
    return None


# Layers whose boxes lie farther apart than this (or the longest walk, when longer) are not one
# district. A wrong CRS moves a layer much farther: a neighbouring Gauss-Krüger zone ~290 km, Web
# Mercator read as metres ~500 km at 30°N; a site a little beyond reach is the no-reach check's job.
LAYER_SLACK_M = 5000.0


def check_layers(layers, metric, longest_walk_m: float) -> None:
    """Refuse layers that do not overlap the first (demand).

    ``layers``: [(name, x, y, crs, source, x_m, y_m)] with x/y as in the file, ``crs`` the CRS
    they were read in, ``source`` where that CRS came from ("declared in the file" or "the
    scenario's crs") and x_m/y_m in ``metric``. A layer whose box lies more than
    ``LAYER_SLACK_M`` (or ``longest_walk_m`` when longer) from demand's is refused with both boxes,
    the gap and, when one fits, the CRS that would make the two overlap.
    """
    from pyproj import CRS

    tolerance_m = max(float(longest_walk_m), LAYER_SLACK_M)

    ref_name, rx, ry, rcrs, rsource, rxm, rym = layers[0]
    ref_span = _span(rxm, rym)
    for name, x, y, crs, source, xm, ym in layers[1:]:
        if len(xm) == 0:
            continue
        span = _span(xm, ym)
        gap = bbox_gap_m(span, ref_span)
        if gap <= tolerance_m:
            continue
        sx, sy = _sample(x, y)
        lonlat = [CRS.from_epsg(LONLAT_EPSG)]
        mine = _fits_as(sx, sy, [c for c in [rcrs, *_neighbour_crss(crs), *lonlat] if c != crs],
                        ref_span, metric, tolerance_m)
        rsx, rsy = _sample(rx, ry)
        theirs = _fits_as(rsx, rsy, [c for c in [crs, *_neighbour_crss(rcrs)] if c != rcrs],
                          span, metric, tolerance_m)
        short, ref_short = Path(name).name, Path(ref_name).name
        hints = ([f"{short} if it were {crs_label(mine)}"] if mine is not None else []) + \
            ([f"{ref_short} if it were {crs_label(theirs)}"] if theirs is not None else [])
        box = (lambda s: f"x {s[0]:,.0f}–{s[1]:,.0f}, y {s[2]:,.0f}–{s[3]:,.0f}")
        raise ScenarioError(
            f"{name}: lies {gap / 1000:,.1f} km from {ref_short}, too far for one district "
            f"(at most {tolerance_m / 1000:,.1f} km): {box(span)} against {box(ref_span)} in {crs_label(metric)} "
            f"({short} read as {crs_label(crs)}, {source}; {ref_short} as {crs_label(rcrs)}, {rsource})"
            + ("; they would overlap with " + ", or ".join(hints) if hints else
               "; check that both are in the CRS they say")
        )


def _scale_error(crs, x, y) -> float:
    """Largest |scale - 1| of a projected CRS at the data's centre (0 when pyproj cannot say)."""
    from pyproj import Proj, Transformer

    try:
        lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(
            float(np.mean(x)), float(np.mean(y)))
        factors = Proj(crs).get_factors(lon, lat)
        return float(max(abs(factors.meridional_scale - 1), abs(factors.parallel_scale - 1)))
    except Exception:  # noqa: BLE001 - an exotic CRS pyproj cannot measure: trust it as before
        return 0.0


def to_metric(x: np.ndarray, y: np.ndarray, crs, where: str):
    """Project coordinates to metres. Returns (x_m, y_m, metric_crs).

    A projected CRS in metres that is true to distance at the data (scale within
    ``MAX_SCALE_ERROR`` of 1) is used as it is. A geographic one, or a projected one that is not
    (Web Mercator EPSG:3857: 1/cos(latitude), +15 % at Chongqing), is projected to the CGCS2000
    Gauss-Krüger zone of the data's mean longitude; outside China's zones that is an error.
    """
    from pyproj import Transformer

    if crs.is_projected:
        unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
        if unit not in ("metre", "meter"):
            raise ScenarioError(f"{where}: CRS {crs.to_string()} is in {unit}, not metres; use a metric CRS")
        scale_error = _scale_error(crs, x, y) if len(x) else 0.0
        if scale_error <= MAX_SCALE_ERROR:
            return x, y, crs
        lon, _ = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(
            float(np.mean(x)), float(np.mean(y)))
        target = metric_crs_for(crs, lon)
        if target is None:
            raise ScenarioError(
                f"{where}: CRS {crs_label(crs)} stretches distances by {100 * scale_error:.1f} % here and "
                f"longitude {lon:.2f} is outside the CGCS2000 Gauss-Krüger zones (75°E-135°E); give a "
                "projected CRS that is true to distance, such as the local UTM zone"
            )
        xm, ym = Transformer.from_crs(crs, target, always_xy=True).transform(
            np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(xm), np.asarray(ym), target
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


# GDAL's note that it renumbered repeated feature ids: its own FIDs, never our data (an ``id``
# column keeps its values and tables refuse duplicate ids themselves).
_HARMLESS_WARNINGS = ("Several features with id =",)


def read_quietly(read, path: Path):
    """``read()`` with every library warning turned into our words: a harmless one is dropped,
    any other becomes a one-line ScenarioError naming ``path``. None reaches the user raw."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = read()
    for warning in caught:
        text = str(warning.message).strip().splitlines()[0] if str(warning.message).strip() else \
            type(warning.message).__name__
        if not text.startswith(_HARMLESS_WARNINGS):
            raise ScenarioError(f"{path}: the file reader warns: {text}; fix or re-save the file")
    return result


def vector_layers(path: Path) -> list:
    """[(layer name, geometry type)] of a vector file; ScenarioError when it cannot be listed."""
    import pyogrio

    try:
        return [(str(name), str(kind)) for name, kind in read_quietly(lambda: pyogrio.list_layers(path), path)]
    except ScenarioError:
        raise
    except Exception as error:  # pyogrio raises many types; all mean "cannot read this file"
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(f"{path}: cannot read as a vector file: {first}") from None


def choose_layer(path: Path, layer: str | None, where: str) -> str | None:
    """The layer to read: ``layer`` when the file has it; the only one when there is one. A file
    with several layers and no ``layer`` is refused with their names (GDAL would read the first)."""
    names = [name for name, _ in vector_layers(path)]
    if layer is not None:
        if layer not in names:
            raise ScenarioError(f"{where}: {path.name} has no layer {layer!r}; its layers are {', '.join(names)}")
        return layer
    if len(names) > 1:
        raise ScenarioError(
            f"{where}: {path.name} has {len(names)} layers ({', '.join(names)}); name one, e.g. "
            f"{{file: {path.name}, layer: {names[0]}}}"
        )
    return None


def read_vector_table(path: Path, where: str, layer: str | None = None, encoding: str | None = None):
    """Read a GeoJSON, GeoPackage or Shapefile into (properties as a DataFrame of strings, x, y, crs).

    Polygons and lines are reduced to a representative point (always inside the shape). A file
    with several layers needs ``layer`` (see :func:`choose_layer`). ``encoding``: a Shapefile's
    .dbf text encoding (issue 15), else GDAL's own choice.
    """
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a dependency
        raise ScenarioError(f"{where}: reading {path.suffix} files needs geopandas") from None
    layer = choose_layer(path, layer, where)
    options = ({} if layer is None else {"layer": layer}) | ({} if encoding is None else {"encoding": encoding})

    def read():
        try:  # Arrow transfer: a million-point GeoPackage reads ~3x faster (issue 8)
            return gpd.read_file(path, use_arrow=True, **options)
        except Exception:
            return gpd.read_file(path, **options)

    try:
        frame = read_quietly(read, path)
    except ScenarioError:
        raise
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
    from lifecircle.optimizer.inputs.chinacrs import china_system, to_wgs84

    if china_system(crs_text) is not None:  # issue 17: a circle drawn on a Gaode or Baidu map
        system = china_system(crs_text)
        return shapely.transform(boundary, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], system)))
    crs = parse_crs(crs_text or BOUNDARY_CRS, f"{path}: crs")
    if crs.to_epsg() != 4490:
        transformer = Transformer.from_crs(crs, BOUNDARY_CRS, always_xy=True)
        boundary = shapely.transform(boundary, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return boundary
