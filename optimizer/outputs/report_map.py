"""The report map's context (issue 15): circle boundary, walking network, network service areas,
name labels that do not overlap, a north arrow, and pan and zoom.

Everything is computed in the scenario's metric CRS (the map's own coordinates) and drawn as
inline SVG by :func:`~lifecircle.optimizer.outputs.svgmap.render_map`; the pan-and-zoom script is
a few lines inside the page, so the report stays one file that fetches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lifecircle.optimizer.inputs.isochrone import ISOCHRONE_BUFFER_M
from lifecircle.optimizer.outputs.cells import esc

__all__ = ["AREA_BAND_M", "MapContext", "ZOOM_SCRIPT", "map_context", "north_arrow", "place_labels",
           "ring_path", "segments_path", "text_width"]

# the areas' band either side of a walked street: the GeoPackage's service_areas layer uses the same
AREA_BAND_M = ISOCHRONE_BUFFER_M


@dataclass
class MapContext:
    """What the map draws besides demand and sites, all in metric coordinates."""

    boundary: list = field(default_factory=list)  # rings: (n, 2) arrays
    segments: np.ndarray | None = None  # (S, 2, 2) walking network segments
    areas: dict = field(default_factory=dict)  # plan row n -> [(rings, outermost)], longest walk first


def _rings(geometry) -> list:
    """The exterior and interior rings of a shapely (Multi)Polygon as (n, 2) arrays."""
    rings = []
    for poly in getattr(geometry, "geoms", [geometry]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings += [np.asarray(r.coords)[:, :2] for r in (poly.exterior, *poly.interiors)]
    return rings


def _to_metric(geometry, scenario):
    """A shapely geometry from the scenario CRS into its metric CRS (the map's coordinates)."""
    import shapely

    if geometry is None or geometry.is_empty or scenario.crs == scenario.metric_crs:
        return geometry
    from pyproj import Transformer

    transformer = Transformer.from_crs(scenario.crs, scenario.metric_crs, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def map_context(scenario, problem, expl) -> MapContext:
    """Boundary, network and network service areas for the report map, each when the scenario has
    it: the same boundary and areas as plan.gpkg's ``circle`` and ``service_areas`` layers
    (:mod:`~lifecircle.optimizer.outputs.service_areas`)."""
    from lifecircle.optimizer.outputs.service_areas import plan_service_areas, read_circle_boundary

    boundary = read_circle_boundary(scenario)
    ctx = MapContext(boundary=[] if boundary is None else _rings(_to_metric(boundary, scenario)))
    if getattr(scenario, "network_path", None) is None or not len(expl):
        return ctx
    from lifecircle.optimizer.inputs.network import read_network

    net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs, oneway=scenario.respect_oneway)
    ctx.segments = np.stack([net.node_xy[net.seg_a], net.node_xy[net.seg_b]], axis=1)
    row = {(str(scenario.sites.ids[int(j)]), scenario.type_names[int(k)]): n
           for n, (j, k) in enumerate(zip(expl.site, expl.type))}
    by_row: dict = {}
    for area in plan_service_areas(scenario, problem, np.asarray(expl.site), np.asarray(expl.type), network=net):
        by_row.setdefault(row[(area.site_id, area.type)], []).append(area)
    for n, areas in by_row.items():
        longest = max(a.reach_m for a in areas)
        # the longest walk filled, shorter ones (slower groups) as dashed outlines
        ctx.areas[n] = [(_rings(_to_metric(a.polygon, scenario)), a.reach_m == longest)
                        for a in sorted(areas, key=lambda a: -a.reach_m)]
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
