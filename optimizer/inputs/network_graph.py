"""Walking networks as a segment graph, and points snapped onto it.

Model
-----
A network is a set of straight segments between nodes. Nodes are the vertices of the input lines,
merged when they coincide to within ``NODE_MERGE_M`` (1 mm). A line end lying on another line of a
vector file joins it there (a T-junction drawn without a vertex). Lines that cross without a shared
vertex do not connect: a footbridge over an expressway is not a crossing. Each segment ``s`` from
node ``a`` to node ``b`` has one walking weight per direction, in *effective metres*::

    w_fwd[s] = length_m[s] * walk_factor      (a -> b; inf where closed, e.g. one-way)
    w_bwd[s] = length_m[s] * walk_factor      (b -> a; inf where closed)

``length_m`` is the segment's planar length in the scenario's metric CRS, scaled so that a line's
segments add up to the line's own ``length_m`` column (vector files) or ``length`` attribute
(GraphML) when one is given. Walking time for group g is ``w / speed_g``. Segments that join the
same two nodes are merged, keeping the smaller weight per direction, so a directed OSMnx graph's
two opposite edges of a two-way street become one segment walkable both ways.

A point snaps to the nearest point *on* a segment (exact projection, not the nearest node). At
fraction ``t`` along segment (a, b) it walks ``t * w_bwd`` to a and ``(1 - t) * w_fwd`` to b, after
walking its straight snap distance. Reach by network is in :mod:`lifecircle.optimizer.inputs.network_reach`.

:func:`build_network` makes the graph from polylines; the readers of street files are in
:mod:`lifecircle.optimizer.inputs.network`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError

__all__ = ["NODE_MERGE_M", "Snap", "WalkNetwork", "build_network", "coordinate_ids", "join_line_ends",
           "snap_points", "snap_stats"]

NODE_MERGE_M = 0.001


@dataclass(frozen=True)
class WalkNetwork:
    """Segments between merged nodes, in the scenario's metric CRS.

    Attributes
    ----------
    path : the file read.
    node_xy : (N, 2) float, node coordinates in metres.
    seg_a, seg_b : (S,) int64, the end nodes of each segment (seg_a < seg_b).
    length_m : (S,) float, real length in metres.
    w_fwd, w_bwd : (S,) float, effective metres a -> b and b -> a (inf where closed).
    n_features : lines (vector file) or edges (GraphML) read.
    columns : (role, what was read) pairs for ``lifecircle network``: which column gave the length,
        the walk factor and the one-way rule (issue 12).
    """

    path: Path
    node_xy: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    length_m: np.ndarray
    w_fwd: np.ndarray
    w_bwd: np.ndarray
    n_features: int
    columns: tuple = ()

    def __post_init__(self):
        for arr in (self.node_xy, self.seg_a, self.seg_b, self.length_m, self.w_fwd, self.w_bwd):
            arr.setflags(write=False)

    @property
    def n_nodes(self) -> int:
        return int(len(self.node_xy))

    @property
    def n_segments(self) -> int:
        return int(len(self.seg_a))

    @property
    def total_length_m(self) -> float:
        return float(self.length_m.sum())

    def components(self) -> tuple[int, np.ndarray, int]:
        """(count, (N,) label per node, label of the largest component by length).

        Connectivity ignores direction: a one-way street still joins its two ends.
        """
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        n = self.n_nodes
        graph = sp.csr_matrix((np.ones(self.n_segments), (self.seg_a, self.seg_b)), shape=(n, n))
        count, labels = connected_components(graph, directed=False)
        length = np.bincount(labels[self.seg_a], weights=self.length_m, minlength=count)
        return int(count), labels, int(np.argmax(length))


@dataclass(frozen=True)
class Snap:
    """Where points meet the network: segment, fraction along it, straight snap distance."""

    seg: np.ndarray  # (P,) int64
    t: np.ndarray  # (P,) float in [0, 1]
    dist_m: np.ndarray  # (P,) float
    ok: np.ndarray  # (P,) bool: dist_m <= max_snap_m


def coordinate_ids(coords: np.ndarray):
    """(index of the first of each distinct place, (P,) place id per coordinate) on a 1 mm grid."""
    grid = np.round(coords / NODE_MERGE_M).astype(np.int64)
    if len(grid) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    grid -= grid.min(axis=0)
    span = [int(v) + 1 for v in grid.max(axis=0)]
    if span[0] * span[1] < 2**62:  # one int64 key sorts ~20x faster than unique rows
        _, first, ids = np.unique(grid[:, 0] * span[1] + grid[:, 1], return_index=True, return_inverse=True)
    else:  # an extent beyond ~2,000 km at 1 mm: fall back to unique rows
        _, first, ids = np.unique(grid, axis=0, return_index=True, return_inverse=True)
    return first, ids.ravel()


def join_line_ends(coords: np.ndarray, part_of_coord: np.ndarray):
    """Insert every line end that lies on another line's segment (not at a vertex) as a vertex there.

    GIS street files often end a side street on the middle of a main street without a vertex
    there (a T-junction). Such a junction is real; two lines that merely cross are not joined,
    since that is how a bridge over a road is drawn.
    """
    import shapely

    start = np.flatnonzero(part_of_coord[1:] == part_of_coord[:-1])
    if len(start) == 0:
        return coords, part_of_coord
    a, b = coords[start], coords[start + 1]
    tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
    boundary = np.r_[True, part_of_coord[1:] != part_of_coord[:-1]]
    ends = np.flatnonzero(boundary | np.r_[boundary[1:], True])
    ends = ends[coordinate_ids(coords[ends])[0]]  # one query per place, not per line end there
    pi, si = tree.query(shapely.points(coords[ends]), predicate="dwithin", distance=NODE_MERGE_M)
    p, a, b = coords[ends[pi]], a[si], b[si]
    d = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((p - a) * d).sum(axis=1) / (d * d).sum(axis=1)
    inner = (np.hypot(*(p - a).T) > NODE_MERGE_M) & (np.hypot(*(p - b).T) > NODE_MERGE_M) & (t > 0) & (t < 1)
    if not inner.any():
        return coords, part_of_coord
    # Order key: vertex c sits at c, a point at fraction t of the segment starting at c at c + t.
    key = np.concatenate([np.arange(len(coords), dtype=float), start[si[inner]] + t[inner]])
    o = np.argsort(key, kind="stable")
    coords = np.concatenate([coords, p[inner]])[o]
    part_of_coord = np.concatenate([part_of_coord, part_of_coord[start[si[inner]]]])[o]
    return coords, part_of_coord


def build_network(path: Path, coords, part_of_coord, feature_of_part, length, factor, fwd, bwd, *,
                  n_features: int, columns: tuple = ()) -> WalkNetwork:
    """Segments from polylines: scale lengths, merge nodes by coordinate, merge duplicate segments.

    Parameters
    ----------
    path : pathlib.Path
        The file read, for messages.
    coords : (P, 2) float
        Every vertex in the metric CRS, line part after line part.
    part_of_coord, feature_of_part : int arrays
        The line part of each vertex, and the feature (line or edge) of each part.
    length, factor : (F,) float
        Per feature: its length in metres (NaN: the drawn length) and its walk factor.
    fwd, bwd : (F,) bool
        Per feature: walkable in, and against, its drawing direction.
    n_features : int
        Features read.
    columns : tuple
        (role, what was read) pairs, kept on the network.

    Returns
    -------
    WalkNetwork
    """
    coords = np.asarray(coords, dtype=float)
    same_part = part_of_coord[1:] == part_of_coord[:-1]
    start = np.flatnonzero(same_part)  # segment k runs coords[k] -> coords[k + 1]
    feature = np.asarray(feature_of_part)[part_of_coord[start]]
    planar = np.hypot(*(coords[start + 1] - coords[start]).T)
    line_planar = np.bincount(feature, weights=planar, minlength=n_features)
    # A line without extent (all vertices equal, a GraphML self-loop drawn as a point) joins
    # nothing to anything, so it is dropped below with the other zero-length segments.
    flat = line_planar <= 0
    scale = np.where(np.isfinite(length) & ~flat, length / np.where(flat, 1.0, line_planar), 1.0)
    seg_len = planar * scale[feature]
    weight = seg_len * factor[feature]
    w_fwd = np.where(fwd[feature], weight, np.inf)
    w_bwd = np.where(bwd[feature], weight, np.inf)

    # Nodes: every vertex, merged on a 1 mm grid; the first vertex seen gives the coordinates.
    first, node_of_coord = coordinate_ids(coords)
    node_xy = coords[first]
    a, b = node_of_coord[start], node_of_coord[start + 1]
    keep = a != b
    a, b, seg_len, w_fwd, w_bwd = a[keep], b[keep], seg_len[keep], w_fwd[keep], w_bwd[keep]
    flip = a > b
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    w_fwd, w_bwd = np.where(flip, w_bwd, w_fwd), np.where(flip, w_fwd, w_bwd)
    order = np.lexsort((b, a))
    a, b, seg_len, w_fwd, w_bwd = a[order], b[order], seg_len[order], w_fwd[order], w_bwd[order]
    new = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])] if len(a) else np.zeros(0, bool)
    heads = np.flatnonzero(new)
    if len(heads) == 0:
        raise ScenarioError(f"{path}: walking network has no line geometry (every line has zero extent)")
    return WalkNetwork(
        path=path, node_xy=node_xy, seg_a=a[heads].astype(np.int64), seg_b=b[heads].astype(np.int64),
        length_m=np.minimum.reduceat(seg_len, heads), w_fwd=np.minimum.reduceat(w_fwd, heads),
        w_bwd=np.minimum.reduceat(w_bwd, heads), n_features=int(n_features), columns=tuple(columns),
    )


def snap_points(network: WalkNetwork, xy: np.ndarray, max_snap_m: float) -> Snap:
    """Snap each point to the exact nearest point on a segment.

    The STRtree finds the nearest segment; the fraction ``t`` and the distance are then
    recomputed with one formula, the clamped orthogonal projection onto the segment.
    """
    import shapely

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    if n == 0:
        empty = np.zeros(0)
        return Snap(np.zeros(0, np.int64), empty, empty, np.zeros(0, bool))
    a_xy, b_xy = network.node_xy[network.seg_a], network.node_xy[network.seg_b]
    tree = shapely.STRtree(shapely.linestrings(np.stack([a_xy, b_xy], axis=1)))
    found = tree.query_nearest(shapely.points(xy), all_matches=False)
    seg = np.zeros(n, dtype=np.int64)
    seg[found[0]] = found[1]
    d = b_xy[seg] - a_xy[seg]
    t = np.clip(((xy - a_xy[seg]) * d).sum(axis=1) / (d * d).sum(axis=1), 0.0, 1.0)
    foot = a_xy[seg] + t[:, None] * d
    dist = np.hypot(*(xy - foot).T)
    return Snap(seg, t, dist, dist <= max_snap_m)


def snap_stats(dist_m: np.ndarray, ok: np.ndarray, ids) -> dict:
    """Summary of snap distances and the points beyond max_snap_m (all of their ids)."""
    if len(dist_m) == 0:
        return {"count": 0, "min_m": None, "median_m": None, "p95_m": None, "max_m": None,
                "beyond_max_snap": 0, "beyond_ids": []}
    far = np.flatnonzero(~ok)
    return {
        "count": int(len(dist_m)),
        "min_m": float(dist_m.min()), "median_m": float(np.median(dist_m)),
        "p95_m": float(np.percentile(dist_m, 95)), "max_m": float(dist_m.max()),
        "beyond_max_snap": int(len(far)), "beyond_ids": [str(ids[i]) for i in far],
    }
