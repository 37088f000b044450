"""GCJ-02 and BD-09: the offset longitude/latitude of Chinese web maps, to and from WGS84 (issue 17).

高德/腾讯 (Gaode/AMap, Tencent) publish coordinates in GCJ-02, WGS84 moved by a deliberate,
nonlinear offset; 百度 (Baidu) publishes BD-09, a further rotation and shift of GCJ-02. Around
Chongqing the GCJ-02 offset is about 300-600 m, half a 15-minute walk. This module implements the
published transform (the "Mars coordinates" formulas, as in eviltransform and PRCoords), vectorised
over numpy arrays:

- WGS84 -> GCJ-02 is the closed formula; GCJ-02 -> WGS84 has no closed form and is solved by
  fixed-point iteration (w <- w - (gcj(w) - g)) until every point's residual is under
  ``INVERSE_TOLERANCE_M`` (1 mm), so a round trip is exact to well under 1 cm;
- GCJ-02 <-> BD-09 is Baidu's rotation and shift; its inverse is iterated the same way.

**Outside China** the GCJ-02 offset is not applied, as the transform defines: a point outside the
box 72.004-137.8347°E, 0.8293-55.8271°N is WGS84 unchanged (the box is the transform's own, coarse
test; it also holds parts of China's neighbours), and so is BD-09 there (as eviltransform does). WGS84 and CGCS2000 (EPSG:4490) agree to centimetres, far below these
offsets, so the converted values are used as either.

Scenario keys (``crs:``, ``demand_crs:``, ``sites_crs:``, ``existing_crs:``) name these systems
as ``GCJ-02`` and ``BD-09`` (case and the hyphen do not matter): :func:`parse_layer_crs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifecircle.optimizer.errors import ScenarioError

GCJ02 = "GCJ-02"
BD09 = "BD-09"
# What the scenario may write for each system; compared after upper-casing and removing "-", "_", " ".
CHINA_SYSTEMS = {"GCJ02": GCJ02, "BD09": BD09}
# The geographic CRS a converted layer is in: GCJ-02 is defined as an offset of WGS84.
WGS84 = "EPSG:4326"

# Krasovsky 1940 ellipsoid, which the published formulas use for the offset's arc lengths.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's shift of GCJ-02, in degrees, and its rotation's frequency (3000 per radian).
_BD_DLON, _BD_DLAT = 0.0065, 0.0060
_BD_FREQ = np.pi * 3000.0 / 180.0
# The transform's own test for "in China" (outside it GCJ-02 is WGS84).
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
# Inverses stop when every point's residual is under this (1 mm, ten times inside the 1 cm asked).
INVERSE_TOLERANCE_M = 1e-3
MAX_ITERATIONS = 30
_M_PER_DEG = 111_320.0  # a degree of latitude, roughly: residuals in degrees -> metres (an upper bound)


@dataclass(frozen=True)
class LayerCrs:
    """How one layer's x/y are to be read: ``name`` as the scenario wrote it (normalised for the
    Chinese systems), ``crs`` the pyproj CRS the values are in once converted, and ``china`` the
    Chinese system to convert from (``GCJ-02``, ``BD-09``) or None for an EPSG-style CRS."""

    name: str
    crs: object  # pyproj.CRS
    china: str | None = None


def china_system(text) -> str | None:
    """``GCJ-02`` or ``BD-09`` when ``text`` names one (any case, with or without "-"), else None."""
    if not isinstance(text, str):
        return None
    key = text.upper().replace("-", "").replace("_", "").replace(" ", "")
    return CHINA_SYSTEMS.get(key)


def parse_layer_crs(text, where: str) -> LayerCrs:
    """A scenario's ``crs`` (or ``<layer>_crs``) value: an EPSG code (anything pyproj reads),
    ``GCJ-02`` or ``BD-09``. An unknown value is one ScenarioError line naming ``where``."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    system = china_system(text)
    if system is not None:
        return LayerCrs(system, CRS.from_user_input(WGS84), system)
    try:
        crs = CRS.from_user_input(text)
    except (CRSError, TypeError, ValueError):
        raise ScenarioError(f"{where}: unknown CRS {text!r}; give an EPSG code such as EPSG:4545, "
                            f"or {GCJ02} (Gaode/Tencent) or {BD09} (Baidu)") from None
    return LayerCrs(crs.to_string(), crs, None)


def out_of_china(lon, lat) -> np.ndarray:
    """True where the point lies outside the transform's China box (no GCJ-02 offset there)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return ~((CHINA_LON[0] <= lon) & (lon <= CHINA_LON[1]) & (CHINA_LAT[0] <= lat) & (lat <= CHINA_LAT[1]))


def _offset_deg(lon, lat):
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat), the published formulas."""
    x, y = lon - 105.0, lat - 35.0
    waves_x = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + waves_x
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + waves_x
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84 longitude/latitude (arrays, degrees) to GCJ-02; points outside China are returned as
    they are. Returns (lon, lat) float arrays."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _offset_deg(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _iterate_inverse(forward, lon, lat, start):
    """Solve forward(w) = (lon, lat) for w by fixed-point iteration from ``start`` until every
    residual is under ``INVERSE_TOLERANCE_M``. The forward maps move a point by under 1 km with a
    gradient of order 1e-3, so each step gains about three digits: 3-4 steps in practice."""
    wlon, wlat = start
    for _ in range(MAX_ITERATIONS):
        flon, flat = forward(wlon, wlat)
        rlon, rlat = flon - lon, flat - lat
        if not np.any(np.hypot(rlon, rlat) * _M_PER_DEG >= INVERSE_TOLERANCE_M):
            break
        wlon, wlat = wlon - rlon, wlat - rlat
    return wlon, wlat


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 longitude/latitude (arrays, degrees) to WGS84, iterated to under 1 mm. Points outside
    China are returned as they are."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return _iterate_inverse(wgs84_to_gcj02, lon, lat, (lon, lat))


def gcj02_to_bd09(lon, lat):
    """GCJ-02 to BD-09 (Baidu's rotation and shift), arrays in degrees; outside China unchanged."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_FREQ)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_FREQ)
    outside = out_of_china(lon, lat)
    return (np.where(outside, lon, z * np.cos(theta) + _BD_DLON),
            np.where(outside, lat, z * np.sin(theta) + _BD_DLAT))


def bd09_to_gcj02(lon, lat):
    """BD-09 to GCJ-02: Baidu's published approximate inverse, then iterated to under 1 mm;
    outside China unchanged."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_FREQ)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_FREQ)
    outside = out_of_china(lon, lat)
    start = (np.where(outside, lon, z * np.cos(theta)), np.where(outside, lat, z * np.sin(theta)))
    return _iterate_inverse(gcj02_to_bd09, lon, lat, start)


def wgs84_to_bd09(lon, lat):
    """WGS84 to BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 to WGS84 (through GCJ-02), each inverse iterated to under 1 mm."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon, lat, system: str):
    """``system`` (``GCJ-02`` or ``BD-09``) longitude/latitude to WGS84."""
    if system == GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if system == BD09:
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"not a Chinese map coordinate system: {system!r}")


def output_columns(system: str) -> tuple[str, str]:
    """The sites.csv / sites.geojson columns that carry a site's input coordinates back:
    ``lon_gcj02, lat_gcj02`` for GCJ-02, ``lon_bd09, lat_bd09`` for BD-09."""
    suffix = {GCJ02: "gcj02", BD09: "bd09"}[system]
    return f"lon_{suffix}", f"lat_{suffix}"
