"""Walking networks straight from an OpenStreetMap extract (issue 17), read with pyosmium.

Rules
-----
A way is walked when it has a ``highway`` tag of a walkable class and pedestrians may use it:

* **walkable classes** (:data:`WALK_CLASSES`): footway, path, pedestrian, steps, corridor,
  living_street, residential, service, track, unclassified, road, and tertiary/secondary/primary
  with their links (city streets have pavements; where OSM maps the pavement as its own footway
  both are kept, which only adds a parallel way of the same length);
* **only with** ``foot=yes|designated|permissive`` (:data:`FOOT_ONLY_CLASSES`): trunk and
  trunk_link (an expressway with a pavement), cycleway and bridleway (OSM's default foot access
  differs by country; the tag settles it);
* **never**: motorway and motorway_link (pedestrians are banned by law; a ``foot=yes`` there is
  taken as an error), and every other value (construction, proposed, platform, raceway, busway, ...);
* **access**: ``foot=no|private|use_sidepath`` excludes the way; otherwise ``access=no|private``
  excludes it unless ``foot=yes|designated|permissive`` says pedestrians may (OSM's rule: the
  more specific key wins);
* **one-way**: OSM's ``oneway`` is a rule for cars and is not read: every way is walked both ways;
* **steps** carry ``walk_factor`` = :data:`STEPS_FACTOR` (2.0: a stair flight drawn 50 m long
  takes the time of 100 m on the flat, the top of FORMAT.md's 1.5–2 range for stairs, since
  DOMAIN.md gives no number and Chongqing's flights are long climbs); every other way has 1.

Graph
-----
Each kept way is cut at every node that another kept way also uses (or that the way itself
visits twice), so junctions are graph nodes and the graph is routable. A node missing from the
extract (a way cut at the extract's edge) breaks its way there. An edge's ``length_m`` is
geodesic on the WGS84 ellipsoid (pyproj.Geod), summed over its segments.

Why pyosmium
------------
pyosmium (``osmium`` on PyPI) binds libosmium, the C++ library of the OSM tools themselves,
maintained by OSM developers; it ships wheels for CPython 3.10–3.13 on Linux, macOS and Windows,
streams the file (node locations stay in libosmium's C++ index; Python holds only the walked
ways' node lists), and reads PBF in parallel threads. pyrosm reads into
GeoDataFrames at once (the whole layer in memory), depends on protobuf and rapidjson, and its
network is already filtered by its own rules; it is used in the tests only, as the source of a
real extract (its wheel ships Helsinki's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError

__all__ = ["OSM_RULES", "OSM_SUFFIXES", "STEPS_FACTOR", "OsmWalk", "walk_rule", "read_osm_walk"]

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".pbf", ".osm")
# Enters the network digest (and so the reach cache key) of an OSM extract: change it with the rules.
OSM_RULES = "lifecircle-osm-walk-1"
STEPS_FACTOR = 2.0
WALK_CLASSES = frozenset({
    "footway", "path", "pedestrian", "steps", "corridor", "living_street", "residential", "service",
    "track", "unclassified", "road", "tertiary", "tertiary_link", "secondary", "secondary_link",
    "primary", "primary_link",
})
FOOT_ONLY_CLASSES = frozenset({"trunk", "trunk_link", "cycleway", "bridleway"})
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
FOOT_BANNED = frozenset({"no", "private", "use_sidepath"})
ACCESS_BANNED = frozenset({"no", "private"})
COORDINATE_PRECISION = 10_000_000  # OSM stores degrees x 1e7 as integers (libosmium's Location.x/y)
PROGRESS_EVERY = 50_000  # highway ways: one status line per this many read (--verbose prints each)


def walk_rule(tags) -> float | None:
    """The walk factor of a way with these tags (a mapping), or None when it is not walked."""
    highway = tags.get("highway")
    foot = tags.get("foot")
    if foot in FOOT_BANNED:
        return None
    foot_ok = foot in FOOT_ALLOWED
    if highway in FOOT_ONLY_CLASSES:
        if not foot_ok:
            return None
    elif highway not in WALK_CLASSES:
        return None
    if tags.get("access") in ACCESS_BANNED and not foot_ok:
        return None
    return STEPS_FACTOR if highway == "steps" else 1.0


@dataclass(frozen=True)
class OsmWalk:
    """A pedestrian network cut from an extract: edges between junctions, in WGS84 lon/lat.

    Attributes
    ----------
    path : the extract read.
    lonlat : (P, 2) float, every edge's vertices, edge after edge.
    edge_of_coord : (P,) int64, the edge of each vertex (sorted).
    way_id, u, v : (E,) int64, the OSM way of each edge and its first and last OSM node.
    highway : (E,) object, the way's highway class.
    length_m : (E,) float, geodesic length in metres.
    walk_factor : (E,) float.
    ways_read, ways_kept : highway ways in the file, and those walked (inside the area).
    """

    path: Path
    lonlat: np.ndarray
    edge_of_coord: np.ndarray
    way_id: np.ndarray
    u: np.ndarray
    v: np.ndarray
    highway: np.ndarray
    length_m: np.ndarray
    walk_factor: np.ndarray
    ways_read: int
    ways_kept: int

    @property
    def n_edges(self) -> int:
        return int(len(self.way_id))

    @property
    def n_nodes(self) -> int:
        """Graph nodes: the distinct OSM nodes that end an edge (junctions and dead ends)."""
        return int(len(np.unique(np.concatenate([self.u, self.v]))))


def _open_error(path: Path, error: Exception) -> ScenarioError:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ScenarioError(f"{path}: not a readable OSM extract (.osm.pbf): {text}")


def _read_ways(path: Path):
    """(refs, lon, lat, way_index, valid, way ids, highway, factor, ways read) of the walked ways."""
    try:
        import osmium
    except ImportError as error:  # a runtime dependency; kept lazy like every reader
        raise ScenarioError(f"{path}: reading OSM extracts needs pyosmium ('pip install osmium'): {error}") from None

    refs, xs, ys, sizes = [], [], [], []
    way_ids, classes, factors = [], [], []
    read = 0
    try:
        processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway")))
        for way in processor:
            read += 1
            if read % PROGRESS_EVERY == 0:
                logger.info("OSM extract: %s highway ways read, %s walked", f"{read:,}", f"{len(way_ids):,}")
            tags = way.tags
            factor = walk_rule(tags)
            if factor is None:
                continue
            before = len(refs)
            for node in way.nodes:  # the one loop per node: fixed-point x/y, divided in numpy below
                location = node.location
                refs.append(node.ref)
                xs.append(location.x)
                ys.append(location.y)
            sizes.append(len(refs) - before)
            way_ids.append(way.id)
            classes.append(tags.get("highway"))
            factors.append(factor)
    except (RuntimeError, ValueError, OSError) as error:  # libosmium's io and format errors
        raise _open_error(path, error) from None
    x, y = np.asarray(xs, np.int64), np.asarray(ys, np.int64)
    # libosmium marks a node missing from the extract with an undefined location (outside the range)
    valid = (np.abs(x) <= 180 * COORDINATE_PRECISION) & (np.abs(y) <= 90 * COORDINATE_PRECISION)
    lon = np.where(valid, x / COORDINATE_PRECISION, np.nan)
    lat = np.where(valid, y / COORDINATE_PRECISION, np.nan)
    way_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    return (np.asarray(refs, np.int64), lon, lat, way_of, np.asarray(way_ids, np.int64),
            np.asarray(classes, object), np.asarray(factors, float), read)


def read_osm_walk(path, area=None, area_name: str = "the area") -> OsmWalk:
    """Read the pedestrian network of an OSM extract.

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.osm.pbf`` (or ``.osm`` XML) extract.
    area : shapely geometry in EPSG:4326, optional
        Keep only ways that touch it (whole ways, so walks near its edge are not cut short).
    area_name : str
        How messages name the area (``--bbox 106.5,29.5,106.6,29.6``).

    Returns
    -------
    OsmWalk

    Raises
    ------
    ScenarioError
        The file is missing or not an OSM extract, or no walkable way is left (in the area).
    """
    import shapely
    from pyproj import Geod

    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: OSM extract does not exist")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise ScenarioError(f"{path}: an OSM extract must end in .osm.pbf (or .osm), not '{path.suffix}'")
    logger.info("OSM extract: reading %s", path.name)
    refs, lon, lat, way_of, way_ids, classes, factors, read = _read_ways(path)
    if read == 0:
        raise ScenarioError(f"{path}: the extract holds no highway ways")
    if len(way_ids) == 0:
        raise ScenarioError(f"{path}: none of its {read} highway ways is walkable (see FORMAT.md's OSM rules)")

    # Parts: a way's run of located nodes; a missing node, or a repeated node in a row, splits nothing
    # but is dropped (the repeat) or ends the run (the missing one).
    valid = np.isfinite(lon)
    prev_same_way = np.r_[False, way_of[1:] == way_of[:-1]]
    repeat = prev_same_way & np.r_[False, refs[1:] == refs[:-1]]
    starts = ~prev_same_way | np.r_[False, ~valid[:-1]]
    keep = valid & ~repeat
    part = np.cumsum(starts)[keep] - 1
    refs, lon, lat, way_of = refs[keep], lon[keep], lat[keep], way_of[keep]
    _, part = np.unique(part, return_inverse=True)
    size = np.bincount(part)
    ok = size[part] >= 2  # a part of one located node has no extent
    refs, lon, lat, way_of, part = refs[ok], lon[ok], lat[ok], way_of[ok], part[ok]
    _, part = np.unique(part, return_inverse=True)
    if area is not None and len(part):
        lines = shapely.linestrings(np.column_stack([lon, lat]), indices=part)
        inside = shapely.intersects(lines, area)
        ok = inside[part]
        refs, lon, lat, way_of, part = refs[ok], lon[ok], lat[ok], way_of[ok], part[ok]
        _, part = np.unique(part, return_inverse=True)
    if len(part) == 0:
        where = f" within {area_name}" if area is not None else ""
        raise ScenarioError(f"{path}: no walkable way{where}; {_extent_hint(path, area)}")
    kept_ways = int(len(np.unique(way_of)))

    # Cut at shared nodes: a node used twice or more (by any kept way) is a junction.
    _, node_index, uses = np.unique(refs, return_inverse=True, return_counts=True)
    junction = uses[node_index] >= 2
    first = np.r_[True, part[1:] != part[:-1]]
    last = np.r_[part[1:] != part[:-1], True]
    inner_cut = junction & ~first & ~last
    # An inner junction ends one edge and starts the next: it appears twice.
    copies = np.where(inner_cut, 2, 1)
    idx = np.repeat(np.arange(len(refs)), copies)
    second_copy = np.r_[False, idx[1:] == idx[:-1]]
    edge_of_coord = np.cumsum(first[idx] | second_copy) - 1
    refs, lon, lat, way_of = refs[idx], lon[idx], lat[idx], way_of[idx]

    same = edge_of_coord[1:] == edge_of_coord[:-1]
    start = np.flatnonzero(same)
    _, _, seg_m = Geod(ellps="WGS84").inv(lon[start], lat[start], lon[start + 1], lat[start + 1])
    n_edges = int(edge_of_coord[-1]) + 1
    length_m = np.bincount(edge_of_coord[start], weights=seg_m, minlength=n_edges)
    head = np.flatnonzero(np.r_[True, ~same])
    tail = np.r_[head[1:] - 1, len(refs) - 1]
    # an edge of zero length (a closed way of coincident nodes) joins nothing
    good = length_m > 0
    keep_coord = good[edge_of_coord]
    edge_way = way_of[head]
    renumber = np.cumsum(good) - 1
    walk = OsmWalk(
        path=path, lonlat=np.column_stack([lon, lat])[keep_coord],
        edge_of_coord=renumber[edge_of_coord[keep_coord]].astype(np.int64),
        way_id=way_ids[edge_way][good], u=refs[head][good], v=refs[tail][good],
        highway=classes[edge_way][good], length_m=length_m[good], walk_factor=factors[edge_way][good],
        ways_read=int(read), ways_kept=kept_ways,
    )
    logger.info("OSM extract: %s walked ways -> %s edges", f"{kept_ways:,}", f"{walk.n_edges:,}")
    return walk


def _extent_hint(path: Path, area) -> str:
    """Where the extract is, for an area that misses it."""
    try:
        import osmium

        box = osmium.io.Reader(str(path), osmium.osm.NOTHING).header().box()
        if box.valid():
            return (f"the extract covers lon {box.bottom_left.lon:.4f}..{box.top_right.lon:.4f}, "
                    f"lat {box.bottom_left.lat:.4f}..{box.top_right.lat:.4f}")
    except Exception:  # noqa: BLE001 - only a hint; the error itself is already decided
        pass
    return "check that the area lies inside the extract" if area is not None else "check the extract"
