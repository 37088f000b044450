"""Walking networks: hand-built streets with hand-worked walks, and real packaged streets checked
against networkx.

The hand-built district (metres from X0, Y0 in EPSG:4545)::

      (0,200) ============ (1000,200)   north bank F2: an island, no bridge over the river
                                         (2000,300) --F6 top, length_m 500-- (2400,300)
                                              |F5 300 m                         |F7 stairs, factor 1.5
      (0,0) --F1-- (250,0) -- (500,0) -- (1000,0) --F3 1000 m-- (2000,0) --F4 one-way east--> (2400,0)
                      |F8 side street, ends on F1 with no vertex there (a T-junction)
                   (250,-100)                (1500,50)
                                                |F9 crosses F3 with no shared vertex (a flyover)
                                             (1500,-50)

Walks in effective metres = snap + network length x walk_factor + snap; budgets are
walk_minutes 10 x 60 x speed: children 1.0 m/s -> 600 m, elderly 0.8 m/s -> 480 m.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.network import (
    HAND_COST, HAND_LINES, X0, Y0, YAML, geojson_lines, write_hand_scenario,
)
from lifecircle.optimizer.inputs.assemble import build_problem, build_problem_and_facts
from lifecircle.optimizer.inputs.network import read_network
from lifecircle.optimizer.inputs.network_graph import snap_points
from lifecircle.optimizer.inputs.network_reach import (
    compute_reach, network_coverage, scenario_reach,
)
from lifecircle.optimizer.inputs.scenario import load_scenario

@pytest.fixture
def hand(tmp_path):
    return write_hand_scenario(tmp_path / "hand")


def cost_table(reach, scenario) -> dict:
    coo = reach.site_cost.tocoo()
    return {(scenario.demand.ids[i], scenario.sites.ids[j]): float(c) for i, j, c in zip(coo.row, coo.col, coo.data)}


def test_network_structure_and_snapping(hand):
    scenario = load_scenario(hand)
    net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs)
    # 12 distinct drawn vertices plus the T-junction at (250, 0), where F1 splits: 11 segments
    assert (net.n_nodes, net.n_segments, net.n_features) == (13, 11, 9)
    assert net.total_length_m == pytest.approx(4700.0)  # F6 counts its length_m 500, not 400
    count, labels, largest = net.components()
    assert count == 3  # the main streets, the north bank, the flyover
    xy = np.array([[X0 + 400, Y0 + 5], [X0 + 2200, Y0 + 304], [X0 + 500, Y0 + 1000]])
    snap = snap_points(net, xy, 300.0)
    assert snap.dist_m.tolist() == pytest.approx([5.0, 4.0, 800.0])
    assert snap.ok.tolist() == [True, True, False]
    a, b = net.node_xy[net.seg_a[snap.seg[0]]], net.node_xy[net.seg_b[snap.seg[0]]]
    foot = a + snap.t[0] * (b - a)
    assert foot.tolist() == pytest.approx([X0 + 400, Y0])  # the exact nearest point, not a node


def test_hand_walks_match_hand_calculation(hand):
    scenario = load_scenario(hand)
    net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs)
    demand_xy = np.column_stack([scenario.demand.x_m, scenario.demand.y_m])
    sites_xy = np.column_stack([scenario.sites.x_m, scenario.sites.y_m])
    ex_xy = np.column_stack([scenario.existing.x_m, scenario.existing.y_m])
    reach = compute_reach(net, demand_xy, sites_xy, ex_xy, np.array([0]), 1, 5000.0, [5000.0], 300.0)
    got = cost_table(reach, scenario)
    assert set(got) == set(HAND_COST)  # N1 (river), B (flyover) and FAR reach no site
    for pair, cost in HAND_COST.items():
        assert got[pair] == pytest.approx(cost, abs=1e-6), pair
    # the north bank's only facility is E1: N1 walks 10 + 200 + 15
    assert reach.before_cost[0, 0] == pytest.approx(225.0)
    assert np.isinf(reach.before_cost[1:, 0]).all()
    # smaller chunks of Dijkstra output give the same matrix
    small = compute_reach(net, demand_xy, sites_xy, ex_xy, np.array([0]), 1, 5000.0, [5000.0], 300.0,
                          chunk_mib=1e-6)
    assert (small.site_cost != reach.site_cost).nnz == 0


def test_points_at_segment_ends_and_shared_positions(tmp_path):
    """One street (0,0)-(100,0). Two sites meet it at the same point (50, 0); points meet it at
    both ends, at that point, and mid-way between."""
    (tmp_path / "s.geojson").write_text(geojson_lines([("L", [(0, 0), (100, 0)], {})]), encoding="utf-8")
    net = read_network(tmp_path / "s.geojson", "EPSG:4545", "EPSG:4545")
    at = lambda pts: np.array([[X0 + x, Y0 + y] for x, y in pts], dtype=float)  # noqa: E731
    demand = at([(110, 0), (-10, 0), (50, -3), (75, 2)])
    sites = at([(50, 5), (50, -5)])
    reach = compute_reach(net, demand, sites, np.zeros((0, 2)), np.zeros(0), 1, 1000.0, [1000.0], 300.0)
    want = np.array([[10 + 50 + 5] * 2, [10 + 50 + 5] * 2, [3 + 5] * 2, [2 + 25 + 5] * 2], dtype=float)
    assert reach.site_cost.toarray() == pytest.approx(want)


def test_river_one_way_and_slow_group_in_the_coverage_matrices(hand):
    scenario = load_scenario(hand)
    problem = build_problem(scenario)
    ids, sites = scenario.demand.ids, scenario.sites.ids
    elderly, children = scenario.group_names.index("elderly"), scenario.group_names.index("children")

    def pairs(g):
        coo = problem.coverage[(0, g)].tocoo()
        return {(ids[i], sites[j]) for i, j in zip(coo.row, coo.col)}

    assert pairs(children) == {("D2", "S1"), ("D3", "S1"), ("T", "S1"), ("W", "S2"), ("E", "S2"),
                               ("W", "S3"), ("M", "S3")}
    # the elderly walk 0.8 m/s: 480 m in 10 minutes, so D3 (530 m) and M (574 m) drop out
    assert pairs(elderly) == pairs(children) - {("D3", "S1"), ("M", "S3")}
    # one-way: W reaches S2 (420 m) but E does not reach S3 (1,290 m round the stairs)
    assert ("W", "S2") in pairs(children) and ("E", "S3") not in pairs(children)
    # river: N1 is 220 m from S1 in a straight line, but no bridge: not covered by any site
    assert not any(i == "N1" for i, _ in pairs(children))
    assert problem.covered_before[:, children].tolist() == [True] + [False] * 8
    assert problem.covered_before[:, elderly].tolist() == [True] + [False] * 8

    # the same scenario without the network: the straight line covers N1 from S1
    straight = write_hand_scenario(hand.parent / "straight", YAML.replace("  network: streets.geojson\n", ""))
    sl = build_problem(load_scenario(straight))
    assert sl.coverage[(0, children)][ids.index("N1"), sites.index("S1")]

    # the same elderly at 1.0 m/s get D3 back: only the speed differs
    fast = write_hand_scenario(hand.parent / "fast", YAML.replace("{elderly: 0.8}", "{elderly: 1.0}"))
    fp = build_problem(load_scenario(fast))
    assert fp.coverage[(0, elderly)][ids.index("D3"), sites.index("S1")]
    assert not problem.coverage[(0, elderly)][ids.index("D3"), sites.index("S1")]


def test_detour_factor_is_not_applied_with_a_network(hand):
    a, a_facts = build_problem_and_facts(load_scenario(hand))
    other = write_hand_scenario(hand.parent / "detour", YAML.replace("detour_factor: 1.3", "detour_factor: 2.5"))
    b = build_problem(load_scenario(other))
    for key in a.coverage:
        assert (a.coverage[key] != b.coverage[key]).nnz == 0
    assert a_facts.radii_m == {"elder_child/elderly": 480.0, "elder_child/children": 600.0}


def test_far_points_are_reported_not_dropped(hand, tmp_path):
    scenario = load_scenario(hand)
    _, _, meta = network_coverage(scenario)
    facts = meta["network"]
    assert facts["snap_demand"]["beyond_max_snap"] == 1 and facts["snap_demand"]["beyond_ids"] == ["FAR"]
    assert facts["snap_demand"]["max_m"] == pytest.approx(800.0)
    assert facts["components"] == 3
    # N1 (north bank) and B (flyover) stand on smaller components: 2 of 9 equal points
    assert facts["demand_on_small_islands"] == {"elderly": pytest.approx(2 / 9), "children": pytest.approx(2 / 9)}
    problem = build_problem(scenario)
    assert problem.n_points == 9  # FAR is still there, with its people, uncovered
    # a larger max_snap_m lets FAR reach the north bank (800 m snap), but no site
    wide = write_hand_scenario(tmp_path / "wide", YAML.replace("  network:", "  max_snap_m: 1000\n  network:"))
    _, _, meta = network_coverage(load_scenario(wide))
    assert meta["network"]["snap_demand"]["beyond_max_snap"] == 0


def test_graphml_directed_graph_gives_the_same_walks(hand, tmp_path):
    """The same streets as an OSMnx-style directed GraphML: two-way streets are two edges."""
    import networkx as nx

    graph = nx.MultiDiGraph(crs="EPSG:4545")
    node = {}
    for name, coords, props in HAND_LINES:
        pts = list(coords)
        if name == "F1":
            pts = [(0, 0), (250, 0), (500, 0), (1000, 0)]  # GraphML has its junctions explicit
        for p in pts:
            node.setdefault(p, str(len(node)))
            graph.add_node(node[p], x=X0 + p[0], y=Y0 + p[1])
        planar = sum(np.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(pts, pts[1:]))
        for a, b in zip(pts, pts[1:]):
            seg = np.hypot(b[0] - a[0], b[1] - a[1])
            length = seg * props.get("length_m", planar) / planar
            attrs = {"length": float(length), "walk_factor": float(props.get("walk_factor", 1.0))}
            graph.add_edge(node[a], node[b], **attrs)
            if not props.get("oneway"):
                graph.add_edge(node[b], node[a], **attrs)
    nx.write_graphml(graph, tmp_path / "hand.graphml")
    yaml_text = YAML.replace("network: streets.geojson", f"network: {tmp_path / 'hand.graphml'}")
    folder = write_hand_scenario(tmp_path / "g", yaml_text).parent
    scenario = load_scenario(folder / "scenario.yaml")
    reach, info = scenario_reach(scenario)
    assert info["cache"] == "off"
    got = cost_table(reach, scenario)
    want = {pair: c for pair, c in HAND_COST.items() if c <= 600}
    assert set(got) == set(want)
    for pair, cost in want.items():
        assert got[pair] == pytest.approx(cost, abs=1e-6), pair


def test_cli_solve_uses_the_cache_and_network_command_reports(hand, tmp_path):
    cache = tmp_path / "cache"
    runner = CliRunner()
    out = tmp_path / "out"
    first = runner.invoke(main, ["solve", str(hand), "--out", str(out), "--cache-dir", str(cache)])
    assert first.exit_code == 0, first.output
    assert "reach cache miss" in first.output and "1 demand points" in first.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["network"]["cache"] == "miss"
    assert summary["network"]["snap_demand"]["beyond_ids"] == ["FAR"]
    assert len(list(cache.glob("reach-*.npz"))) == 1
    # a budget sweep point: same network, points and speeds -> the walk is read from the cache
    second = runner.invoke(main, ["solve", str(hand), "--budget", "200", "--out", str(out), "--cache-dir", str(cache)])
    assert second.exit_code == 0, second.output
    assert "reach cache hit" in second.output
    again = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert again["network"]["cache"] == "hit"
    assert again["coverage"]["elderly"]["covered_before"] == summary["coverage"]["elderly"]["covered_before"] == 10.0

    # with budget 1000 and costs 100, all three sites open: children covered = 7 pairs' 6 points + N1
    assert summary["coverage"]["children"]["covered_after"] == 70.0
    assert summary["coverage"]["elderly"]["covered_after"] == 50.0  # N1, D2, T, W, E

    # changing the network changes the key
    streets = hand.parent / "streets.geojson"
    streets.write_text(streets.read_text(encoding="utf-8").replace('"walk_factor": 1.5', '"walk_factor": 1.25'),
                       encoding="utf-8")
    third = runner.invoke(main, ["solve", str(hand), "--out", str(out), "--cache-dir", str(cache)])
    assert "reach cache miss" in third.output
    changed = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert changed["scenario_checksum"] != summary["scenario_checksum"]  # the network is an input
    assert len(list(cache.glob("reach-*.npz"))) == 2

    inside = runner.invoke(main, ["solve", str(hand), "--out", str(out), "--cache-dir", str(out / "cache")])
    assert inside.exit_code == 2 and "inside the output folder" in inside.output

    facts = runner.invoke(main, ["network", str(hand)])
    assert facts.exit_code == 0, facts.output
    assert "13 nodes, 11 edges from 9 lines, total length 4.70 km" in facts.output
    assert "3 connected component(s)" in facts.output
    assert "beyond max_snap_m 1" in facts.output and "unreachable (beyond max_snap_m): FAR" in facts.output


def test_corrupt_cache_entry_is_recomputed(hand, tmp_path):
    scenario = load_scenario(hand)
    reach, info = scenario_reach(scenario, tmp_path / "c")
    assert info["cache"] == "miss"
    entry = next((tmp_path / "c").glob("reach-*.npz"))
    entry.write_bytes(b"not a zip file")
    again, info = scenario_reach(scenario, tmp_path / "c")
    assert info["cache"] == "miss"
    assert (again.site_cost != reach.site_cost).nnz == 0
    _, info = scenario_reach(scenario, tmp_path / "c")
    assert info["cache"] == "hit"


# ---------------------------------------------------------------------------------------------
# real data: John Snow's 1854 Soho streets (libpysal) and an OSMnx graph of Manhattan (momepy)


def _package_file(package: str, *parts):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (test-only dependency)")
    return Path(spec.submodule_search_locations[0]).joinpath(*parts)


def _independent_walks(net, demand_xy, sites_xy, limit):
    """Walk costs from networkx on the same segments, with points attached independently:
    shapely finds each point's nearest segment and position, and the segment is cut into a chain
    through every point on it before networkx runs single_source_dijkstra_path_length."""
    import networkx as nx
    import shapely

    a, b = net.node_xy[net.seg_a], net.node_xy[net.seg_b]
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    graph = nx.DiGraph()
    points = np.vstack([demand_xy, sites_xy])
    on_seg = {}
    for p, xy in enumerate(points):
        pt = shapely.Point(xy)
        d = shapely.distance(pt, lines)
        s = int(np.argmin(d))
        pos = float(shapely.line_locate_point(lines[s], pt, normalized=True))
        on_seg.setdefault(s, []).append((pos, p, float(d[s])))
    for s in range(net.n_segments):
        chain = [(0.0, ("n", int(net.seg_a[s])))] + [(pos, ("p", p)) for pos, p, _ in sorted(on_seg.get(s, []))] \
            + [(1.0, ("n", int(net.seg_b[s])))]
        for (t0, u), (t1, v) in zip(chain, chain[1:]):
            graph.add_edge(u, v, w=(t1 - t0) * net.w_fwd[s])
            graph.add_edge(v, u, w=(t1 - t0) * net.w_bwd[s])
    snap = {p: d for pts in on_seg.values() for _, p, d in pts}
    reverse = graph.reverse(copy=True)
    n_i = len(demand_xy)
    out = {}
    for j in range(len(sites_xy)):
        site = n_i + j
        dist = nx.single_source_dijkstra_path_length(reverse, ("p", site), cutoff=limit, weight="w")
        for i in range(n_i):
            if ("p", i) in dist:
                cost = snap[i] + dist[("p", i)] + snap[site]
                if cost <= limit:
                    out[(i, j)] = cost
    return out


def test_snow_soho_network_against_networkx():
    import pyogrio
    import shapely
    from pyproj import Transformer

    folder = _package_file("libpysal", "examples", "snow_maps")
    # the scenario works in British National Grid; the files are Web Mercator and get transformed
    net = read_network(folder / "Soho_Network.shp", "EPSG:27700", "EPSG:27700")
    assert (net.n_features, net.n_nodes) == (118, 226)
    count, labels, largest = net.components()
    assert count == 4 and np.bincount(labels).max() == 220  # T-junctions joined; three stray segments

    to_bng = Transformer.from_crs(3857, 27700, always_xy=True)

    def points(name):
        xy = shapely.get_coordinates(shapely.from_wkb(pyogrio.raw.read(folder / name)[2]))
        return np.column_stack(to_bng.transform(xy[:, 0], xy[:, 1]))

    deaths, pumps = points("SohoPeople.shp"), points("SohoWater.shp")
    assert (len(deaths), len(pumps)) == (324, 13)
    limit = 400.0
    reach = compute_reach(net, deaths, pumps, np.zeros((0, 2)), np.zeros(0), 1, limit, [limit], 1000.0)
    want = _independent_walks(net, deaths, pumps, limit)
    coo = reach.site_cost.tocoo()
    got = {(int(i), int(j)): float(c) for i, j, c in zip(coo.row, coo.col, coo.data)}
    assert len(want) > 500  # a real check: most deaths lie within 400 m of some pump
    assert set(got) == set(want)
    worst = max(abs(got[k] - want[k]) for k in want)
    assert worst < 1e-6

    # Snow's finding: the Broad Street pump is the nearest pump by walking for most deaths
    cost = reach.site_cost.toarray()
    cost[cost == 0] = np.inf
    nearest = np.argmin(cost, axis=1)[np.isfinite(cost).any(axis=1)]
    broad = int(np.bincount(nearest).argmax())
    assert np.mean(nearest == broad) > 0.5


def test_osmnx_graphml_against_networkx_reader(tmp_path):
    """momepy's Manhattan graph, written by OSMnx: our reader vs networkx.read_graphml + Dijkstra."""
    import networkx as nx

    path = _package_file("momepy", "datasets", "nyc_graph.graphml")
    crs = "+proj=utm +zone=18 +ellps=WGS84 +datum=WGS84 +units=m +no_defs +type=crs"
    net = read_network(path, crs, "EPSG:32618")
    graph = nx.read_graphml(path)
    assert net.n_features == graph.number_of_edges()
    # edges follow their drawn geometry, even the 34 of 73 stored from v to u (no zigzag back)
    import shapely

    drawn = sum(shapely.from_wkt(d["geometry"]).length for _, _, d in graph.edges(data=True))
    planar = np.hypot(*(net.node_xy[net.seg_b] - net.node_xy[net.seg_a]).T).sum()
    assert planar == pytest.approx(drawn, rel=1e-9)
    xy = {n: (float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True)}
    weighted = nx.Graph()  # undirected file: keep the shortest of parallel edges
    for u, v, d in graph.edges(data=True):
        w = float(d["length"])
        if u != v and (not weighted.has_edge(u, v) or weighted[u][v]["w"] > w):
            weighted.add_edge(u, v, w=w)
    rng = np.random.default_rng(4)
    nodes = list(weighted.nodes)
    sources = [nodes[k] for k in rng.choice(len(nodes), 5, replace=False)]
    sites_xy = np.array([xy[n] for n in sources])
    demand_xy = np.array([xy[n] for n in nodes])
    limit = 1500.0
    reach = compute_reach(net, demand_xy, sites_xy, np.zeros((0, 2)), np.zeros(0), 1, limit, [limit], 1.0)
    cost = reach.site_cost.tocsc()
    checked = 0
    for j, s in enumerate(sources):
        dist = nx.single_source_dijkstra_path_length(weighted, s, cutoff=limit, weight="w")
        col = cost[:, j].toarray().ravel()
        ours = {nodes[i]: col[i] for i in np.flatnonzero(col)} | ({s: 0.0} if s in dist else {})
        assert set(ours) == set(dist)
        for n, d in dist.items():
            assert ours[n] == pytest.approx(d, abs=1e-6)
            checked += 1
    assert checked > 100
