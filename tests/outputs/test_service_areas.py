"""Service areas (reach circles and walking isochrones) and the circle boundary, issue 15 part 3.

The network cases use the hand-built district of tests/inputs/test_network.py (map in its
docstring): S1 stands 10 m south of F1 at x=100; S3 20 m south of the node (2000, 0) where F3,
the one-way F4 (east only) and F5 meet. Children walk 600 m in 10 minutes, the elderly 480 m.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from support.network import X0, Y0, write_hand_scenario
from support.scenarios import REPO, write_scenario

from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.isochrone import ISOCHRONE_BUFFER_M, network_isochrones
from lifecircle.optimizer.inputs.network import read_network
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.outputs.service_areas import (
    existing_service_areas, plan_service_areas, read_circle_boundary, service_areas,
)

BUNDLED = ("bishan_rural", "jiefangbei_gaode", "liangjiang_newtown", "yuzhong_capacity", "yuzhong_hillside")


def inside(polygon, points) -> list:
    return [bool(shapely.contains_xy(polygon, X0 + x, Y0 + y)) for x, y in points]


def test_radius_site_is_a_circle_of_its_reach(tmp_path):
    scenario = load_scenario(write_scenario(tmp_path / "s"))  # EPSG:4545, detour 1.0, elderly 0.5 m/s
    areas = service_areas(scenario, build_problem(scenario), "S2", "elder_child")
    assert [(a.method, a.reach_m, a.groups) for a in areas] == [("radius", 300.0, ("elderly",)),
                                                                ("radius", 600.0, ("children",))]
    for area in areas:
        assert area.site_id == "S2" and area.type == "elder_child"
        assert area.polygon.area == pytest.approx(math.pi * area.reach_m ** 2, rel=0.01)
        assert area.polygon.centroid.x == pytest.approx(500600.0) and area.polygon.centroid.y == pytest.approx(3300000.0)
    # indices work as well as ids and names; one type serving one group gives one area
    (canteen,) = service_areas(scenario, None, 2, 1)
    assert (canteen.site_id, canteen.type, canteen.reach_m) == ("S3", "canteen", 300.0)


def test_radius_area_in_a_geographic_crs_is_the_metric_circle():
    """jiefangbei_gaode is in EPSG:4490 (lon/lat): the polygon comes back in lon/lat, and measured
    in the metric CRS again it is the reach circle."""
    scenario = load_scenario(REPO / "scenarios" / "jiefangbei_gaode" / "scenario.yaml")
    k = 0
    j = int(np.flatnonzero(np.isfinite(scenario.cost_matrix()[:, k]))[0])
    areas = service_areas(scenario, None, j, k)
    assert areas
    to_metric = Transformer.from_crs(scenario.crs, scenario.metric_crs, always_xy=True)
    for area in areas:
        minx, miny, maxx, maxy = area.polygon.bounds
        assert 100 < minx < maxx < 120 and 20 < miny < maxy < 40  # degrees, not metres
        metric = shapely.transform(area.polygon, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
        assert metric.area == pytest.approx(math.pi * area.reach_m ** 2, rel=0.01)
        assert metric.centroid.x == pytest.approx(scenario.sites.x_m[j], abs=1.0)


@pytest.fixture
def hand(tmp_path):
    return load_scenario(write_hand_scenario(tmp_path / "hand"))


def test_network_isochrone_holds_reached_nodes_and_not_the_others(hand):
    areas = {(a.site_id, a.groups): a for a in plan_service_areas(hand, None, ["S1", "S3"], [0, 0])}
    s1 = areas[("S1", ("children",))]
    assert (s1.method, s1.reach_m) == ("network", 600.0)
    # S1 walks 10 m to F1: both ends of F8 (160 m, 260 m), (500, 0) at 410 m; (1000, 0) is 910 m
    # away and the north bank (0, 200) has no bridge, 210 m from S1 in a straight line
    assert inside(s1.polygon, [(0, 0), (250, 0), (250, -100), (500, 0), (100, -10)]) == [True] * 5
    assert inside(s1.polygon, [(1000, 0), (0, 200), (100, 200), (800, 0)]) == [False] * 4
    # the cut: F1 is walked up to x = 100 + 590 = 690, the buffer adds 25 m
    assert s1.polygon.bounds[2] == pytest.approx(X0 + 690 + ISOCHRONE_BUFFER_M, abs=0.5)

    s3 = areas[("S3", ("elderly",))]
    assert s3.reach_m == 480.0
    # S3 is 20 m from (2000, 0): F5 up to its top (320 m), F3 west to x = 1540; F4 is one-way east,
    # so its east end (2400, 0) walks to S3 only round the stairs and the top street (1,270 m)
    assert inside(s3.polygon, [(2000, 0), (2000, 300), (1560, 0), (2000, -20)]) == [True] * 4
    assert inside(s3.polygon, [(2400, 0), (2400, 300), (1000, 0), (2200, 0), (1500, 0)]) == [False] * 5
    assert s3.polygon.bounds[0] == pytest.approx(X0 + 1540 - ISOCHRONE_BUFFER_M, abs=0.5)
    # F6 (400 m drawn, length_m 500) is walked 160 m of its 500: 128 m drawn
    assert s3.polygon.bounds[2] == pytest.approx(X0 + 2000 + 128 + ISOCHRONE_BUFFER_M, abs=0.5)


def test_network_isochrone_agrees_with_network_coverage(hand):
    """Every demand point a site covers that stands within the buffer of its street is inside the
    site's area: the isochrone and the coverage matrices walk the same graph."""
    problem = build_problem(hand)
    areas = plan_service_areas(hand, problem, [0, 1, 2], [0, 0, 0])
    net = read_network(hand.network_path, hand.crs, hand.metric_crs, oneway=hand.respect_oneway)
    from lifecircle.optimizer.inputs.network_graph import snap_points

    snap = snap_points(net, np.column_stack([hand.demand.x_m, hand.demand.y_m]), hand.max_snap_m)
    near = snap.dist_m < ISOCHRONE_BUFFER_M
    checked = 0
    for area in areas:
        j = hand.sites.ids.index(area.site_id)
        for group in area.groups:
            covered = problem.coverage[(0, hand.group_names.index(group))][:, j].toarray().ravel()
            for i in np.flatnonzero(covered & near):
                assert shapely.contains_xy(area.polygon, hand.demand.x[i], hand.demand.y[i]), (area.site_id, group, i)
                checked += 1
    assert checked >= 5


def test_site_off_the_network_reaches_nothing(hand):
    net = read_network(hand.network_path, hand.crs, hand.metric_crs)
    far, near = [X0 + 500, Y0 + 1000], [X0 + 100, Y0 - 10]
    shapes = network_isochrones(net, [far, near], [600.0, 5.0], hand.max_snap_m)
    assert shapes[0].is_empty  # 800 m from every street, beyond max_snap_m 300
    assert shapes[1].is_empty  # its 10 m snap walk is beyond a 5 m budget


def test_circle_boundary_of_bundled_scenarios_holds_their_demand(tmp_path):
    for name in BUNDLED:
        scenario = load_scenario(REPO / "scenarios" / name / "scenario.yaml")
        boundary = read_circle_boundary(scenario)
        assert boundary is not None and boundary.geom_type == "Polygon", name
        assert shapely.contains_xy(boundary, scenario.demand.x, scenario.demand.y).all(), name
    assert read_circle_boundary(load_scenario(write_scenario(tmp_path / "none"))) is None


def test_existing_facilities_have_areas_on_the_same_rule(hand, tmp_path):
    # E1 stands 15 m north of F2, the north bank's street (0-1000 m): it reaches the bank, not F1
    areas = existing_service_areas(hand)
    assert [(a.site_id, a.source, a.method, a.reach_m) for a in areas] == \
        [("E1", "existing", "network", 480.0), ("E1", "existing", "network", 600.0)]
    assert inside(areas[1].polygon, [(300, 200), (0, 200), (885, 200)]) == [True] * 3
    assert inside(areas[1].polygon, [(300, 0), (1000, 200)]) == [False] * 2
    scenario = load_scenario(write_scenario(tmp_path / "s"))
    (canteen,) = existing_service_areas(scenario)
    assert (canteen.site_id, canteen.type, canteen.method, canteen.reach_m) == ("E1", "canteen", "radius", 300.0)
    assert canteen.polygon.area == pytest.approx(math.pi * 300.0 ** 2, rel=0.01)
