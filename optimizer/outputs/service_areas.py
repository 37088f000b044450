"""Service areas of facilities, and the circle boundary, as shapely geometry in the scenario CRS.

A service area is what one facility (a site opened as a type) reaches, for the groups that share
one reach:

- ``method="network"`` (the scenario has ``walking.network``): the walking isochrone of
  :func:`optimizer.inputs.isochrone.network_isochrones`: the streets walked within the budget
  (partial streets cut where the budget ends), buffered by ``ISOCHRONE_BUFFER_M`` (25 m) and
  unioned. ``reach_m`` is the walking budget in effective metres (minutes x 60 x speed).
- ``method="radius"`` (no network): a circle of the straight-line reach
  (minutes x 60 x speed / detour_factor), the same radius coverage is computed with.

Groups walk at their own speed, so one facility may have several areas: one per distinct reach,
each naming its groups. Geometry is built in the scenario's metric CRS and returned in its CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifecircle.optimizer.inputs.isochrone import ISOCHRONE_BUFFER_M

__all__ = ["BOUNDARY_FILE", "CIRCLE_QUAD_SEGS", "ISOCHRONE_BUFFER_M", "ServiceArea", "existing_service_areas",
           "plan_service_areas",
           "read_circle_boundary", "service_areas", "to_scenario_crs"]

BOUNDARY_FILE = "boundary.geojson"  # beside scenario.yaml; the same file `city` draws
CIRCLE_QUAD_SEGS = 64  # 256 vertices: the polygon's area is within 0.01 % of the true circle's


@dataclass(frozen=True)
class ServiceArea:
    """Where one facility's reach extends, for ``groups`` (the groups sharing ``reach_m``)."""

    site_id: str
    type: str
    polygon: object  # shapely (Multi)Polygon in the scenario CRS; empty when it reaches nothing
    method: str  # "network" | "radius"
    reach_m: float
    groups: tuple = ()
    source: str = "new"  # "new": a site of the plan; "existing": an existing facility


def to_scenario_crs(geometry, scenario):
    """A shapely geometry from the scenario's metric CRS into its CRS."""
    import shapely

    if scenario.metric_crs == scenario.crs or geometry.is_empty:
        return geometry
    from pyproj import Transformer

    transformer = Transformer.from_crs(scenario.metric_crs, scenario.crs, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _index(value, names, what: str) -> int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        return list(names).index(value)
    except ValueError:
        raise KeyError(f"no {what} {value!r}") from None


def _reaches(scenario, problem) -> tuple[str, dict]:
    """(method, {(k, g): reach in metres}) for every serving pair of the problem."""
    if scenario.network_path is not None:
        from lifecircle.optimizer.inputs.network_reach import walk_budgets_m

        return "network", walk_budgets_m(scenario)
    from lifecircle.optimizer.inputs.assemble import reach_radii_m

    return "radius", reach_radii_m(scenario)


def plan_service_areas(scenario, problem, sites, types, *, network=None) -> list[ServiceArea]:
    """Service areas of many facilities at once (the walking network is read once).

    ``sites``/``types``: equal-length sequences of site indices (or ids) and type indices (or
    names), e.g. a solution's ``site`` and ``type``. ``network``: an already read
    :class:`~optimizer.inputs.network_graph.WalkNetwork` in the scenario's metric CRS (read from
    ``walking.network`` when None). Areas come facility by facility, then by reach (smallest
    first).
    """
    facilities = []
    for site, type_ in zip(sites, types):
        j = _index(site, scenario.sites.ids, "site")
        facilities.append((str(scenario.sites.ids[j]), _index(type_, scenario.type_names, "facility type"),
                           scenario.sites.x_m[j], scenario.sites.y_m[j]))
    return _areas(scenario, problem, facilities, "new", network)


def existing_service_areas(scenario, problem=None, *, network=None) -> list[ServiceArea]:
    """Service areas of the existing facilities (``source="existing"``, ``site_id`` their id):
    what the circle already has, on the same rule as new ones."""
    ex = scenario.existing
    if ex is None or len(ex) == 0:
        return []
    types = scenario.type_names
    facilities = [(str(ex.ids[e]), types.index(str(t)), ex.x_m[e], ex.y_m[e])
                  for e, t in enumerate(ex.columns["type"]) if str(t) in types]
    return _areas(scenario, problem, facilities, "existing", network)


def _areas(scenario, problem, facilities, source: str, network) -> list[ServiceArea]:
    """facilities: (id, type index, x_m, y_m)."""
    import shapely

    method, reach = _reaches(scenario, problem)
    groups = scenario.group_names
    jobs = []  # (facility, reach, groups)
    for n, (_, k, _, _) in enumerate(facilities):
        by_reach: dict[float, list] = {}
        for (kk, g), metres in reach.items():
            if kk == k:
                by_reach.setdefault(float(metres), []).append(groups[g])
        jobs += [(n, metres, tuple(by_reach[metres])) for metres in sorted(by_reach)]
    if not jobs:
        return []
    xy = np.array([[facilities[n][2], facilities[n][3]] for n, _, _ in jobs], dtype=float)
    budgets = np.array([metres for _, metres, _ in jobs])
    if method == "network":
        from lifecircle.optimizer.inputs.isochrone import network_isochrones

        if network is None:
            from lifecircle.optimizer.inputs.network import read_network

            network = read_network(scenario.network_path, scenario.crs, scenario.metric_crs,
                                   oneway=scenario.respect_oneway)
        shapes = network_isochrones(network, xy, budgets, scenario.max_snap_m)
    else:
        shapes = list(shapely.buffer(shapely.points(xy), budgets, quad_segs=CIRCLE_QUAD_SEGS))
    shapes = to_scenario_crs(shapely.GeometryCollection(shapes), scenario).geoms if shapes else []
    return [ServiceArea(facilities[n][0], scenario.type_names[facilities[n][1]], shape, method, float(metres), names,
                        source)
            for (n, metres, names), shape in zip(jobs, shapes)]


def service_areas(scenario, problem, site, type_, *, network=None) -> list[ServiceArea]:
    """The service areas of site ``site`` (index or id) opened as ``type_`` (index or name): one
    per distinct reach of the groups the type serves (see the module docstring)."""
    return plan_service_areas(scenario, problem, [site], [type_], network=network)


def read_circle_boundary(scenario):
    """The circle's boundary (``boundary.geojson`` beside the scenario YAML) as a shapely
    (Multi)Polygon in the scenario CRS, or None when the folder has none. A boundary file that is
    not valid GeoJSON polygons is a ScenarioError naming it (see
    :func:`optimizer.inputs.geo.read_boundary_lonlat`)."""
    from lifecircle.optimizer.inputs.geo import BOUNDARY_CRS, read_boundary_lonlat

    path = Path(scenario.path).parent / BOUNDARY_FILE
    if not path.is_file():
        return None
    boundary = read_boundary_lonlat(path, scenario.crs)
    from pyproj import CRS, Transformer

    if CRS.from_user_input(scenario.crs).equals(CRS.from_user_input(BOUNDARY_CRS)):
        return boundary
    import shapely

    transformer = Transformer.from_crs(BOUNDARY_CRS, scenario.crs, always_xy=True)
    return shapely.transform(boundary, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
