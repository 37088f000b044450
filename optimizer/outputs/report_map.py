"""The report map's context (issue 15): circle boundary, walking network, network service areas,
name labels that do not overlap, a north arrow, and pan and zoom.

Everything is computed in the scenario's metric CRS (the map's own coordinates) and drawn as
inline SVG by :func:`~lifecircle.optimizer.outputs.svgmap.render_map`; the pan-and-zoom script is
a few lines inside the page, so the report stays one file that fetches nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lifecircle.optimizer.outputs.cells import esc

logger = logging.getLogger(__name__)

__all__ = ["AREA_BAND_M", "BOUNDARY_FILE", "MapContext", "ZOOM_SCRIPT", "boundary_rings", "map_context",
           "network_areas", "place_labels", "ring_path"]

BOUNDARY_FILE = "boundary.geojson"
# a network service area is the streets a walk reaches, widened by this band (people live beside
# the street, not on it); the same band the map note states
AREA_BAND_M = 30.0


@dataclass
class MapContext:
    """What the map draws besides demand and sites, all in metric coordinates."""

    boundary: list = field(default_factory=list)  # rings: (n, 2) arrays
    segments: np.ndarray | None = None  # (S, 2, 2) walking network segments
    areas: dict = field(default_factory=dict)  # plan row n -> list of rings (exterior and holes)


def boundary_rings(scenario) -> list:
    """The circle boundary (the scenario folder's boundary.geojson) as metric rings; [] when absent."""
    path = Path(scenario.path).parent / BOUNDARY_FILE
    if not path.is_file():
        return []
    from lifecircle.optimizer.inputs.geo import BOUNDARY_CRS, read_boundary_lonlat, transform

    shape = read_boundary_lonlat(path, scenario.crs)
    rings = []
    for poly in getattr(shape, "geoms", [shape]):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            x, y = transform(xy[:, 0], xy[:, 1], BOUNDARY_CRS, scenario.metric_crs)
            rings.append(np.column_stack([x, y]))
    return rings


def _walk_limits_m(scenario, k: int) -> float:
    """The longest walk a type-k site serves (its fastest served group), in effective metres:
    the outer edge of its service area."""
    from lifecircle.optimizer.inputs.network_reach import walk_budgets_m

    return max(v for (kk, _), v in walk_budgets_m(scenario).items() if kk == k)


def network_areas(scenario, net, sites: np.ndarray, types: np.ndarray) -> dict:
    """{n: rings} the streets from which a walk reaches plan row n's site within its type's longest
    walk, widened by :data:`AREA_BAND_M`: walks run on the network toward the site (one-way rules
    as the scenario reads them), partial streets included."""
    import scipy.sparse as sp
    import shapely
    from scipy.sparse.csgraph import dijkstra

    from lifecircle.optimizer.inputs.network_graph import snap_points
    from lifecircle.optimizer.inputs.network_reach import _min_csr

    n_nodes = net.n_nodes
    a, b = net.seg_a, net.seg_b
    ok_f, ok_b = np.isfinite(net.w_fwd), np.isfinite(net.w_bwd)
    # reversed edges: distance from the site outward = the walk from each node to the site
    rows = np.concatenate([b[ok_f], a[ok_b]])
    cols = np.concatenate([a[ok_f], b[ok_b]])
    w = np.concatenate([net.w_fwd[ok_f], net.w_bwd[ok_b]])
    # parallel streets between the same two nodes keep the shorter walk; the extra node is the site
    base = _min_csr(rows, cols, np.maximum(w, 1e-9), (n_nodes + 1, n_nodes + 1))
    xy = np.column_stack([scenario.sites.x_m, scenario.sites.y_m])[sites]
    snap = snap_points(net, xy, scenario.max_snap_m)
    pa, pb = net.node_xy[a], net.node_xy[b]
    out = {}
    for n in range(len(sites)):
        if not snap.ok[n]:
            continue
        limit = _walk_limits_m(scenario, int(types[n])) - snap.dist_m[n]
        s, t = int(snap.seg[n]), float(snap.t[n])
        # a virtual node for the site, joined to its segment's ends by the partial walks
        ends = [(int(a[s]), t * net.w_fwd[s]), (int(b[s]), (1 - t) * net.w_bwd[s])]
        ends = [(node, max(cost, 1e-9)) for node, cost in ends if np.isfinite(cost)]
        extra = sp.csr_matrix(([c for _, c in ends], ([n_nodes] * len(ends), [e for e, _ in ends])),
                              shape=(n_nodes + 1, n_nodes + 1))
        graph = base + extra
        d = dijkstra(graph, indices=n_nodes, limit=limit)[:n_nodes]
        # along each segment: the part walked via a (fraction from a) and via b
        with np.errstate(invalid="ignore", divide="ignore"):
            via_a = np.clip((limit - d[a]) / net.w_bwd, 0, 1)
            via_b = np.clip((limit - d[b]) / net.w_fwd, 0, 1)
        via_a = np.where(np.isfinite(d[a]) & np.isfinite(via_a), via_a, 0.0)
        via_b = np.where(np.isfinite(d[b]) & np.isfinite(via_b), via_b, 0.0)
        pieces = []
        keep = via_a > 0
        pieces.append(np.stack([pa[keep], pa[keep] + via_a[keep, None] * (pb[keep] - pa[keep])], axis=1))
        keep = via_b > 0
        pieces.append(np.stack([pb[keep], pb[keep] + via_b[keep, None] * (pa[keep] - pb[keep])], axis=1))
        # the site's own street, walked straight to the site from either side
        lo = max(0.0, t - limit / net.w_fwd[s]) if np.isfinite(net.w_fwd[s]) else t
        hi = min(1.0, t + limit / net.w_bwd[s]) if np.isfinite(net.w_bwd[s]) else t
        pieces.append(np.stack([pa[s] + lo * (pb[s] - pa[s]), pa[s] + hi * (pb[s] - pa[s])])[None])
        lines = np.concatenate(pieces)
        if not len(lines):
            continue
        area = shapely.buffer(shapely.multilinestrings(lines), AREA_BAND_M, quad_segs=2)
        area = area.simplify(AREA_BAND_M / 6)
        rings = []
        for poly in getattr(area, "geoms", [area]):
            if poly.is_empty:
                continue
            rings += [np.asarray(r.coords)[:, :2] for r in (poly.exterior, *poly.interiors)]
        out[n] = rings
    return out


def map_context(scenario, expl) -> MapContext:
    """Boundary, network and network service areas for the report map (each when the scenario has it)."""
    ctx = MapContext(boundary=boundary_rings(scenario))
    if getattr(scenario, "network_path", None) is not None:
        from lifecircle.optimizer.inputs.network import read_network

        net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs,
                           oneway=getattr(scenario, "respect_oneway", False))
        ctx.segments = np.stack([net.node_xy[net.seg_a], net.node_xy[net.seg_b]], axis=1)
        ctx.areas = network_areas(scenario, net, np.asarray(expl.site), np.asarray(expl.type))
    return ctx


def ring_path(rings, x0: float, y0: float) -> str:
    """SVG path data for rings in metric coordinates (y flipped), whole metres."""
    out = []
    for ring in rings:
        px, py = np.rint(ring[:, 0] - x0).astype(np.int64), np.rint(y0 - ring[:, 1]).astype(np.int64)
        out.append("M" + "L".join(f"{x} {y}" for x, y in zip(px.tolist(), py.tolist())) + "Z")
    return "".join(out)


def segments_path(segments: np.ndarray, x0: float, y0: float) -> str:
    px = np.rint(segments[:, :, 0] - x0).astype(np.int64)
    py = np.rint(y0 - segments[:, :, 1]).astype(np.int64)
    return "".join(f"M{a} {b}L{c} {d}" for a, b, c, d in zip(px[:, 0].tolist(), py[:, 0].tolist(),
                                                             px[:, 1].tolist(), py[:, 1].tolist()))


def text_width(label: str, size: float) -> float:
    """A label's width at font size ``size``: a CJK character is one em, others about 0.6."""
    return size * sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in label)


def place_labels(xy: np.ndarray, labels: list, size: float, marker_r: float, width: float, height: float):
    """Greedy label placement: each label takes the first of eight spots around its marker, then
    rings further out (with a leader line), that overlaps no label or marker placed so far.

    Returns, per label, (x, y, leader) with x, y the text's lower-left corner, or None when no spot
    within four rings is free (the numbered marker and the key table still name it).
    """
    boxes = [(x - marker_r, y - marker_r, x + marker_r, y + marker_r) for x, y in xy]
    placed = []
    order = np.argsort(xy[:, 1], kind="stable")  # top to bottom: labels settle like a reader scans
    result = [None] * len(labels)
    directions = [(1, -1), (1, 1), (-1, -1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1)]

    def free(box):
        if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
            return False
        return not any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3]
                       for o in boxes + placed)

    for i in order:
        x, y = xy[i]
        w, h = text_width(labels[i], size), size * 1.2
        for ring in range(4):
            gap = marker_r * 1.4 + ring * size * 1.6
            for dx, dy in directions:
                left = x + gap if dx > 0 else (x - gap - w if dx < 0 else x - w / 2)
                top = y + gap if dy > 0 else (y - gap - h if dy < 0 else y - h / 2)
                box = (left, top, left + w, top + h)
                if free(box):
                    placed.append(box)
                    result[i] = (left, top + h * 0.8, ring > 0)
                    break
            if result[i] is not None:
                break
    return result


def north_arrow(x: float, y: float, unit: float, label: str) -> str:
    """A north arrow at (x, y) (its tip), pointing up the map: the metric CRS's grid north."""
    s = 14 * unit
    return (f'<g id="north-arrow" class="north"><polygon points="{x:.1f},{y:.1f} {x + s * 0.45:.1f},{y + s * 1.4:.1f} '
            f'{x:.1f},{y + s:.1f}" fill="#222"/><polygon points="{x:.1f},{y:.1f} {x - s * 0.45:.1f},{y + s * 1.4:.1f} '
            f'{x:.1f},{y + s:.1f}" fill="#fff" stroke="#222" stroke-width="{unit:.2f}"/>'
            f'<text x="{x:.1f}" y="{y + s * 2.4:.1f}" text-anchor="middle" font-size="{12 * unit:.1f}" '
            f'font-weight="bold" fill="#222">{esc(label)}</text></g>')


# Pan and zoom inside the page: the wheel and the buttons scale the viewBox about a point, a drag
# moves it; no request, no library. Print shows the current view.
ZOOM_SCRIPT = """
(function () {
  var svg = document.getElementById("map");
  if (!svg) { return; }
  var home = svg.getAttribute("viewBox").split(" ").map(Number), box = home.slice();
  function set() { svg.setAttribute("viewBox", box.join(" ")); }
  function zoom(f, cx, cy) {
    if (cx === undefined) { cx = box[0] + box[2] / 2; cy = box[1] + box[3] / 2; }
    var w = Math.min(home[2] * 2, Math.max(home[2] / 40, box[2] * f)), k = w / box[2];
    box = [cx - (cx - box[0]) * k, cy - (cy - box[1]) * k, box[2] * k, box[3] * k]; set();
  }
  function point(e) {
    var r = svg.getBoundingClientRect();
    return [box[0] + (e.clientX - r.left) / r.width * box[2], box[1] + (e.clientY - r.top) / r.height * box[3]];
  }
  svg.addEventListener("wheel", function (e) {
    e.preventDefault(); var p = point(e); zoom(e.deltaY < 0 ? 0.8 : 1.25, p[0], p[1]);
  }, {passive: false});
  var drag = null;
  svg.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; svg.setPointerCapture(e.pointerId); });
  svg.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    box[0] -= (e.clientX - drag[0]) / r.width * box[2]; box[1] -= (e.clientY - drag[1]) / r.height * box[3];
    drag = [e.clientX, e.clientY]; set();
  });
  svg.addEventListener("pointerup", function () { drag = null; });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var z = b.getAttribute("data-zoom");
      if (z === "reset") { box = home.slice(); set(); } else { zoom(z === "in" ? 0.8 : 1.25); }
    });
  });
})();
"""
