"""The report's map: inline SVG drawn in the metric CRS, so reach outlines are true circles.

Demand points are shaded by the state of most of their people (covered before, newly covered,
uncovered); chosen sites are markers whose shape and colour (Okabe-Ito, colour-blind safe) give
the facility type, drawn inside their reach outlines; candidates and existing facilities are
outlined; a scale bar shows a round number of metres. Every scenario string goes through
:func:`~lifecircle.optimizer.outputs.cells.esc`.
"""

from __future__ import annotations

import math

import numpy as np

from lifecircle.optimizer.outputs.cells import esc, num
from lifecircle.optimizer.outputs.explain import SiteExplanations
from lifecircle.optimizer.outputs.i18n import t, type_label

__all__ = ["MAP_WIDTH_PX", "STATE_COLOURS", "TYPE_COLOURS", "demand_state", "marker", "on_network",
           "outline_radii_m", "render_legend", "render_map"]

# Colour-blind-safe (Okabe-Ito) colours for facility types, cycled when there are more types.
TYPE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
# Demand shading: covered before, newly covered, uncovered.
STATE_COLOURS = ("#9aa5b1", "#1a9850", "#d73027")
MAP_WIDTH_PX = 960


def marker(shape: int, x: float, y: float, r: float, attrs: str = "", inner: str = "") -> str:
    """A facility marker: circle, triangle, diamond or star by type, with optional attributes and
    children (a <title>)."""
    close = f">{inner}</{'circle' if shape % 4 == 0 else 'polygon'}>" if inner else "/>"
    if shape % 4 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"{attrs}{close}'
    if shape % 4 == 1:
        pts = ((x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8))
    elif shape % 4 == 2:
        pts = ((x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y))
    else:
        a = np.linspace(0, 2 * np.pi, 11)[:-1] - np.pi / 2
        rad = np.where(np.arange(10) % 2 == 0, r * 1.4, r * 0.6)
        pts = tuple(zip(x + rad * np.cos(a), y + rad * np.sin(a)))
    return '<polygon points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in pts) + f'"{attrs}{close}'


def demand_state(problem, covered: np.ndarray) -> np.ndarray:
    """(I,) 0 covered before, 1 newly covered, 2 uncovered, -1 nobody: the state of most of its people."""
    people = problem.people
    shares = np.stack([
        (people * problem.covered_before).sum(axis=1),
        (people * (covered & ~problem.covered_before)).sum(axis=1),
        (people * ~covered).sum(axis=1),
    ], axis=1)
    state = np.argmax(shares, axis=1)
    return np.where(people.sum(axis=1) > 0, state, -1)


def on_network(scenario) -> bool:
    """Whether the scenario walks a street network (reach outlines are then outer limits)."""
    return getattr(scenario, "network_path", None) is not None


def outline_radii_m(scenario) -> dict:
    """{k: sorted radii} drawn around a site of type k, one per distinct group speed.

    Straight-line reach without a network; with one, the walk itself (no path is shorter than the
    straight line, so the circle is the outer limit of what the network reaches).
    """
    out = {}
    for k, (key, ft) in enumerate(scenario.facility_types.items()):
        if on_network(scenario):
            radii = {ft.walk_minutes * 60.0 * scenario.speed_of(g) for g in ft.serves}
        else:
            radii = {scenario.reach_m(key, g) for g in ft.serves}
        out[k] = sorted(round(r, 1) for r in radii)
    return out


def render_map(scenario, problem, expl: SiteExplanations, covered: np.ndarray, lang: str, context=None) -> str:
    """The map as one ``<svg id="map">`` element (see the module docstring).

    ``context`` (a :class:`~lifecircle.optimizer.outputs.report_map.MapContext`) adds the circle
    boundary, the walking network and network service areas (drawn instead of reach circles).
    """
    from lifecircle.optimizer.outputs.report_map import (
        MapContext, north_arrow, place_labels, ring_path, segments_path, text_width,
    )

    ctx = context or MapContext()
    dx, dy = np.asarray(scenario.demand.x_m), np.asarray(scenario.demand.y_m)
    sx, sy = np.asarray(scenario.sites.x_m), np.asarray(scenario.sites.y_m)
    ex = scenario.existing
    xs = [dx, sx] + ([np.asarray(ex.x_m)] if ex is not None else []) + [r[:, 0] for r in ctx.boundary]
    ys = [dy, sy] + ([np.asarray(ex.y_m)] if ex is not None else []) + [r[:, 1] for r in ctx.boundary]
    allx, ally = np.concatenate(xs), np.concatenate(ys)
    reach = outline_radii_m(scenario)
    max_reach = max((max(r) for r in reach.values() if r), default=0.0)
    extent = max(float(allx.max() - allx.min()), float(ally.max() - ally.min()), 1.0)
    pad = max(0.03 * extent, min(max_reach, 0.25 * extent))
    x0, y0 = float(allx.min()) - pad, float(ally.max()) + pad
    width, height = float(allx.max()) + pad - x0, y0 - (float(ally.min()) - pad)
    unit = max(width, height) / 1000.0  # one "pixel" at about 1000 px across

    parts = [f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.1f} {height:.1f}" '
             f'role="img" aria-label="{esc(t("map.aria", lang))}" '
             f'style="width:100%;max-width:{MAP_WIDTH_PX}px;height:auto;background:#fff">']
    parts.append(f'<rect x="-{10 * width:.0f}" y="-{10 * height:.0f}" width="{21 * width:.0f}" '
                 f'height="{21 * height:.0f}" fill="#fbfbf8"/>')
    # context first, so points and markers sit on top: network, service areas, boundary
    if ctx.segments is not None and len(ctx.segments):
        parts.append(f'<path id="network" d="{segments_path(ctx.segments, x0, y0)}" fill="none" stroke="#b9b4a8" '
                     f'stroke-width="{0.9 * unit:.2f}" stroke-linecap="round"/>')
    if ctx.areas:
        parts.append(f'<g id="service-areas" fill-opacity="0.10" stroke-width="{1.0 * unit:.2f}" stroke-opacity="0.6">')
        for n, areas in ctx.areas.items():
            colour = TYPE_COLOURS[int(expl.type[n]) % len(TYPE_COLOURS)]
            for rings, outer in areas:
                if not rings:
                    continue
                look = (f'class="service-area" fill="{colour}"' if outer else
                        f'class="service-area-inner" fill="none" stroke-dasharray="{6 * unit:.1f} {4 * unit:.1f}"')
                parts.append(f'<path {look} d="{ring_path(rings, x0, y0)}" stroke="{colour}" fill-rule="evenodd"/>')
        parts.append("</g>")
    if ctx.boundary:
        parts.append(f'<path id="circle-boundary" d="{ring_path(ctx.boundary, x0, y0)}" fill="none" stroke="#6a3d9a" '
                     f'stroke-width="{2.2 * unit:.2f}" stroke-dasharray="{10 * unit:.1f} {4 * unit:.1f}" '
                     'fill-rule="evenodd"/>')
    parts.append(f'<g class="reach" fill="none" stroke-width="{1.2 * unit:.2f}" stroke-opacity="0.55">')
    for n in range(len(expl) if not ctx.areas else 0):
        j, k = int(expl.site[n]), int(expl.type[n])
        colour = TYPE_COLOURS[k % len(TYPE_COLOURS)]
        for m, r in enumerate(reversed(reach[k])):
            dash = "" if m == 0 else f' stroke-dasharray="{6 * unit:.1f} {4 * unit:.1f}"'
            parts.append(f'<circle cx="{sx[j] - x0:.1f}" cy="{y0 - sy[j]:.1f}" r="{r:.1f}" stroke="{colour}"{dash}/>')
    parts.append("</g>")

    state = demand_state(problem, covered)
    people = problem.people.sum(axis=1)
    biggest = float(people.max()) if people.size and people.max() > 0 else 1.0
    radius = unit * (1.2 + 3.0 * np.sqrt(people / biggest))
    for s, colour in enumerate(STATE_COLOURS):
        idx = np.flatnonzero(state == s)
        parts.append(f'<g class="demand-{s}" fill="{colour}" fill-opacity="0.75">')
        parts.append("".join(f'<circle cx="{dx[i] - x0:.1f}" cy="{y0 - dy[i]:.1f}" r="{radius[i]:.1f}"/>'
                             for i in idx))
        parts.append("</g>")

    chosen = np.zeros(len(scenario.sites), dtype=bool)
    chosen[expl.site] = True
    parts.append(f'<g class="candidates" fill="none" stroke="#555" stroke-width="{0.8 * unit:.2f}">')
    parts.append("".join(f'<circle cx="{sx[j] - x0:.1f}" cy="{y0 - sy[j]:.1f}" r="{2.2 * unit:.1f}"/>'
                         for j in np.flatnonzero(~chosen)))
    parts.append("</g>")
    if ex is not None and len(ex):
        types = list(scenario.type_names)
        parts.append(f'<g class="existing" fill="#fff" stroke-width="{1.6 * unit:.2f}">')
        for e in range(len(ex)):
            colour = TYPE_COLOURS[types.index(ex.columns["type"][e]) % len(TYPE_COLOURS)]
            s = 4.5 * unit
            parts.append(f'<rect x="{ex.x_m[e] - x0 - s:.1f}" y="{y0 - ex.y_m[e] - s:.1f}" width="{2 * s:.1f}" '
                         f'height="{2 * s:.1f}" stroke="{colour}"><title>{esc(ex.ids[e])} · '
                         f'{esc(type_label(scenario, types.index(ex.columns["type"][e]), lang))}</title></rect>')
        parts.append("</g>")
    names = scenario.sites.columns["name"]
    parts.append(f'<g class="selected" stroke="#fff" stroke-width="{0.8 * unit:.2f}">')
    for n in range(len(expl)):
        j, k = int(expl.site[n]), int(expl.type[n])
        colour = TYPE_COLOURS[k % len(TYPE_COLOURS)]
        x, y = sx[j] - x0, y0 - sy[j]
        title = (f"<title>{esc(scenario.sites.ids[j])} {esc(names[j])} · "
                 f"{esc(type_label(scenario, k, lang))}</title>")
        parts.append(marker(k, x, y, 6.0 * unit, f' fill="{colour}"', title))
    parts.append("</g>")
    # numbers on the markers (the key table below the map names every one), then the names where
    # they fit without overlapping: beside the marker, or further out with a leader line
    xy = np.column_stack([sx[expl.site] - x0, y0 - sy[expl.site]]) if len(expl) else np.zeros((0, 2))
    size = 11 * unit
    parts.append(f'<g class="numbers" font-size="{8 * unit:.1f}" fill="#fff" text-anchor="middle" font-weight="bold">')
    parts.append("".join(f'<text x="{x:.1f}" y="{y + 2.8 * unit:.1f}">{n + 1}</text>' for n, (x, y) in enumerate(xy)))
    parts.append("</g>")
    spots = place_labels(xy, [str(names[int(j)]) for j in expl.site], size, 6.0 * unit, width, height)
    parts.append(f'<g class="labels" font-size="{size:.1f}" fill="#222" stroke="#fff" '
                 f'stroke-width="{2.5 * unit:.2f}" paint-order="stroke">')
    for n, spot in enumerate(spots):
        if spot is None:
            continue
        lx, ly, leader = spot
        if leader:
            end = lx if lx >= xy[n, 0] else lx + text_width(str(names[int(expl.site[n])]), size)
            parts.append(f'<line class="leader" x1="{xy[n, 0]:.1f}" y1="{xy[n, 1]:.1f}" x2="{end:.1f}" '
                         f'y2="{ly - size * 0.35:.1f}" stroke="#666" stroke-width="{0.7 * unit:.2f}"/>')
        parts.append(f'<text class="site-label" x="{lx:.1f}" y="{ly:.1f}">{esc(names[int(expl.site[n])])}</text>')
    parts.append("</g>")
    parts.append(north_arrow(width - 30 * unit, 14 * unit, unit, t("map.north", lang)))
    # scale bar: a round number of metres near a fifth of the width
    bar = 10 ** math.floor(math.log10(max(width / 5, 1.0)))
    bar *= 5 if bar * 5 <= width / 4 else (2 if bar * 2 <= width / 4 else 1)
    bx, by = 20 * unit, height - 20 * unit
    parts.append(f'<g class="scale" stroke="#222" stroke-width="{2 * unit:.1f}"><line x1="{bx:.1f}" y1="{by:.1f}" '
                 f'x2="{bx + bar:.1f}" y2="{by:.1f}"/></g><text x="{bx:.1f}" y="{by - 6 * unit:.1f}" '
                 f'font-size="{11 * unit:.1f}" fill="#222">{num(bar)} m</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_legend(scenario, lang: str, context=None) -> str:
    """The map's legend as a ``<ul class="legend">`` of small inline SVG symbols."""
    def item(shape_svg: str, label: str) -> str:
        return (f'<li><svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">{shape_svg}</svg>'
                f"{esc(label)}</li>")

    items = [item(f'<circle cx="9" cy="9" r="5" fill="{STATE_COLOURS[s]}"/>', t(key, lang))
             for s, key in enumerate(("map.covered_before", "map.newly", "map.uncovered"))]
    for k in range(len(scenario.type_names)):
        colour = TYPE_COLOURS[k % len(TYPE_COLOURS)]
        items.append(item(marker(k, 9, 9, 5, f' fill="{colour}"'),
                          t("map.selected_type", lang, type=type_label(scenario, k, lang))))
    items.append(item('<rect x="4" y="4" width="10" height="10" fill="#fff" stroke="#555" stroke-width="2"/>',
                      t("map.existing", lang)))
    items.append(item('<circle cx="9" cy="9" r="3" fill="none" stroke="#555"/>', t("map.candidate", lang)))
    if context is not None and context.areas:
        items.append(item('<rect x="2" y="4" width="14" height="10" fill="#0072B2" fill-opacity="0.15" '
                          'stroke="#0072B2"/>', t("map.area_network", lang)))
    else:
        items.append(item('<circle cx="9" cy="9" r="7" fill="none" stroke="#0072B2"/>', t("map.reach", lang)))
    if context is not None and context.segments is not None:
        items.append(item('<path d="M1 13L8 6L17 9" fill="none" stroke="#b9b4a8" stroke-width="2"/>',
                          t("map.network", lang)))
    if context is not None and context.boundary:
        items.append(item('<rect x="2" y="3" width="14" height="12" fill="none" stroke="#6a3d9a" stroke-width="2" '
                          'stroke-dasharray="4 2"/>', t("map.boundary", lang)))
    return '<ul class="legend">' + "".join(items) + "</ul>"
