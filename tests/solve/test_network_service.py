"""Decay weights and existing capacities by walking network: hand-worked walks, weights and
objectives, the reach cache, and a CLI solve.

The river district (metres from X0, Y0 in EPSG:4545), one bridge at x = 600::

    (0,200) ---------- (600,200) ---------- (1200,200)   north bank
                          |  bridge 200 m
    (0,0) ------------ (600,0) ------------ (1200,0)     south bank

A point on one bank walks along its bank to the bridge, over it, and back along the other bank:
(100, 200) to (100, 0) is 200 m in a straight line but 500 + 200 + 500 = 1,200 m on foot.
Walking minutes for group g are walk (effective metres) / speed_g / 60; the detour factor (1.3)
applies only to the straight-line rule.
"""

from __future__ import annotations

import itertools
import json
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from support.scenarios import write_scenario
from support.network import HAND_COST, X0, Y0, csv_text, geojson_lines, write_hand_scenario

from lifecircle.cli import main
from lifecircle.optimizer.inputs.assemble import build_problem, build_problem_and_facts
from lifecircle.optimizer.solve.backends import Status, exact_backends
from lifecircle.optimizer.inputs.network import read_network
from lifecircle.optimizer.inputs.network_reach import compute_reach
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.solve.coverage import solve_problem

EXACT = exact_backends()

RIVER = [("south", [(0, 0), (600, 0), (1200, 0)], {}),
         ("north", [(0, 200), (600, 200), (1200, 200)], {}),
         ("bridge", [(600, 0), (600, 200)], {})]

DECAY_YAML = """\
name: river with one bridge, decay
crs: EPSG:4545
circle_type: other
budget: 100
walking:
  speed_m_s: 1.0
  group_speed_m_s: {elderly: 0.8}
  detour_factor: 1.3
  network: streets.geojson
groups: {elderly: 1.0, children: 1.0}
facility_types:
  elder_child:
    serves: [elderly, children]
    walk_minutes: 10
    decay: {shape: linear, full_minutes: 5, zero_minutes: 25}
demand: demand.csv
sites: sites.csv
existing: existing.csv
"""

CAP_YAML = """\
name: river with one bridge, capacities
crs: EPSG:4545
circle_type: other
budget: 100
walking:
  speed_m_s: 1.0
  detour_factor: 1.3
  network: streets.geojson
groups: {elderly: 1.0}
facility_types:
  canteen: {serves: [elderly], walk_minutes: 10, capacity: {elderly: 8}}
demand: demand.csv
sites: sites.csv
existing: existing.csv
"""
CAP_DECAY_YAML = CAP_YAML.replace(
    "capacity: {elderly: 8}}", "capacity: {elderly: 8}, decay: {shape: linear, full_minutes: 5, zero_minutes: 10}}")
STRAIGHT = ("  network: streets.geojson\n", "")


def write_river(folder, yaml_text, demand, sites, existing, groups, type_key):
    """demand: (id, x, y, people per group); sites: (id, x, y, cost); existing: (id, x, y, capacity
    or None) of ``type_key``."""
    d = csv_text("id,x,y," + ",".join(groups), [(i, X0 + x, Y0 + y, *p) for i, x, y, p in demand])
    s = csv_text(f"id,name,kind,x,y,cost_{type_key}", [(i, i, "other", X0 + x, Y0 + y, c) for i, x, y, c in sites])
    with_cap = any(c is not None for *_, c in existing)
    e = csv_text("id,type,x,y" + (",capacity_elderly" if with_cap else ""),
                 [(i, type_key, X0 + x, Y0 + y) + (("" if c is None else c,) if with_cap else ())
                  for i, x, y, c in existing])
    path = write_scenario(folder, textwrap.dedent(yaml_text), d, s, e)
    (folder / "streets.geojson").write_text(geojson_lines(RIVER), encoding="utf-8")
    return path


def decay_river(folder, yaml_text=DECAY_YAML):
    """N on the north bank, D on the south bank, site S on the south bank, existing E (unlimited)
    at the north bank's east end."""
    return write_river(folder, yaml_text, [("N", 100, 200, (10, 10)), ("D", 300, 0, (10, 10))],
                       [("S", 100, 0, 100)], [("E", 1100, 200, None)], ("elderly", "children"), "elder_child")


def cap_river(folder, yaml_text=CAP_YAML, capacity=6):
    """A (10 elderly) at the north end of the bridge, B (5) on the south bank; existing canteen E1
    on the north bank (``capacity`` seats); S1 on the south bank, S2 on the north bank."""
    return write_river(folder, yaml_text, [("A", 600, 200, (10,)), ("B", 100, 0, (5,))],
                       [("S1", 300, 0, 100), ("S2", 900, 200, 100)], [("E1", 100, 200, capacity)],
                       ("elderly",), "canteen")


def dense(mat) -> list:
    return mat.toarray().tolist()


# ---------------------------------------------------------------------------------------------


def test_walks_to_each_existing_facility_match_hand_calculation(tmp_path):
    """The hand-built district of test_network.py with two more existing facilities standing where
    the sites S2 and S3 stand: their walks are the hand-worked walks to S2 and S3."""
    scenario = load_scenario(write_hand_scenario(tmp_path / "hand"))
    net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs)
    demand_xy = np.column_stack([scenario.demand.x_m, scenario.demand.y_m])
    sites_xy = np.column_stack([scenario.sites.x_m, scenario.sites.y_m])
    ex_xy = np.vstack([[X0 + 300, Y0 + 215], sites_xy[1], sites_xy[2]])  # E1 (north bank), at S2, at S3
    ex_type = np.array([0, 0, 1])
    args = (net, demand_xy, sites_xy, ex_xy, ex_type, 2, 5000.0, [5000.0, 1300.0], 300.0)
    plain = compute_reach(*args)
    reach = compute_reach(*args, per_existing=True)
    assert plain.existing_cost is None
    ids = scenario.demand.ids
    coo = reach.existing_cost.tocoo()
    got = {(ids[i], e): float(c) for i, e, c in zip(coo.row, coo.col, coo.data)}
    want = {("N1", 0): 10 + 200 + 15}  # the north bank's only facility; nobody else crosses the river
    want |= {(i, 1): c for (i, j), c in HAND_COST.items() if j == "S2"}
    # type 1 walks only up to its own budget, 1,300 m: W (30 m), M (574 m), E (1,290 m by the stairs)
    want |= {(i, 2): c for (i, j), c in HAND_COST.items() if j == "S3" and c <= 1300}
    assert set(got) == set(want)
    for key, cost in want.items():
        assert got[key] == pytest.approx(cost, abs=1e-6), key
    # the nearest-per-type walks are unchanged, and are the row minima of the per-facility walks
    assert (plain.site_cost != reach.site_cost).nnz == 0
    assert np.array_equal(plain.before_cost, reach.before_cost)
    for k in (0, 1):
        cols = reach.existing_cost[:, ex_type == k].toarray()
        cols[cols == 0] = np.inf
        assert np.allclose(reach.before_cost[:, k], cols.min(axis=1))  # inf where none is in reach


def test_decay_weight_follows_the_network_walk(tmp_path):
    """Linear decay, 1 up to 5 min, 0 at 25 min; children 1.0 m/s, elderly 0.8 m/s.

    Network (no detour factor):
      N -> S: 1,200 m: children 20 min -> (25 - 20) / 20 = 0.25; elderly 25 min -> 0, leaves coverage
      D -> S: 200 m: children 3.33 min, elderly 4.17 min -> 1
      N -> E and D -> E: 1,000 m: children 16.67 min -> 0.41667 -> 0.417; elderly 20.83 min -> 0.208
    Straight line x 1.3:
      N -> S and D -> S: 260 m: children 4.33 min -> 1; elderly 5.417 min -> 0.97917 -> 0.979
      N -> E: 1,300 m: children 21.67 min -> 0.167; elderly beyond 25 min (not in reach)
      D -> E: 824.62 x 1.3 = 1,072.0 m: children 17.87 min -> 0.357; elderly 22.33 min -> 0.133
    Objective with S open, sum of people x max(existing, S):
      network  10 x (0.208 + 0.417) + 10 x (1 + 1)           = 26.25
      straight 10 x (0.979 + 1)     + 10 x (0.979 + 1)       = 39.58
    """
    path = decay_river(tmp_path / "river")
    problem = build_problem(load_scenario(path))
    elderly, children = 0, 1
    assert dense(problem.reach_weight[(0, children)]) == [[0.25], [1.0]]
    assert dense(problem.reach_weight[(0, elderly)]) == [[0.0], [1.0]]
    # N's elderly are within the 25-minute reach (1,200 m at 0.8 m/s) but at weight 0: not a pair
    assert dense(problem.coverage[(0, elderly)]) == [[False], [True]]
    assert problem.weight_before.tolist() == [[0.208, 0.417], [0.208, 0.417]]
    assert problem.existing_reach is None  # E is unlimited: it counts in weight_before
    assert not problem.covered_before.any()
    assert evaluate(problem, np.array([0]), np.array([0])).objective == pytest.approx(26.25)
    assert evaluate(problem, np.array([], np.int64), np.array([], np.int64)).objective == pytest.approx(12.5)
    solution = solve_problem(problem, "highs")
    assert solution.status == Status.OPTIMAL and solution.objective == pytest.approx(26.25)

    straight = build_problem(load_scenario(decay_river(tmp_path / "straight", DECAY_YAML.replace(*STRAIGHT))))
    assert dense(straight.reach_weight[(0, children)]) == [[1.0], [1.0]]
    assert dense(straight.reach_weight[(0, elderly)]) == [[0.979], [0.979]]
    assert straight.weight_before.tolist() == [[0.0, 0.167], [0.133, 0.357]]
    assert evaluate(straight, np.array([0]), np.array([0])).objective == pytest.approx(39.58)


def _plans(problem):
    """Every plan within the budget (each site with its one type), evaluated independently."""
    n_j = len(problem.site_ids)
    out = {}
    for r in range(n_j + 1):
        for sites in itertools.combinations(range(n_j), r):
            site = np.array(sites, dtype=np.int64)
            if np.nansum(problem.cost_cny[site, 0]) <= problem.budget_cny:
                ev = evaluate(problem, site, np.zeros(len(site), dtype=np.int64))
                out[tuple(problem.site_ids[j] for j in sites)] = ev.objective
    return out


def test_existing_capacity_reached_by_network_walk(tmp_path):
    """One group, 1.0 m/s, 10 minutes: 600 m on the network, 600 / 1.3 = 461.5 m in a straight line.

    E1 (6 seats) reaches A by a straight street, 500 m, which the straight-line rule counts as
    650 m (out of reach); B is 200 m from E1 across the river, 1,200 m on foot (out of reach).
    So E1 serves 6 of A before the plan. S1 (8 seats) reaches B (200 m) and A (over the bridge,
    500 m); S2 (8 seats) reaches A only (300 m; B would walk 1,000 m).
      {}: 6.   {S1}: E1 6 of A, S1 the other 4 of A + B's 5 = 8 -> 14.   {S2}: 6 + 4 = 10.
      {S1, S2} (over the budget of 100): all 15.
    The straight-line rule (E1 serving B) gives 5 before and 13 at best.
    """
    problem = build_problem(load_scenario(cap_river(tmp_path / "river")))
    assert dense(problem.existing_reach[0]) == [[1.0], [0.0]]
    assert problem.existing_capacity.tolist() == [[6.0]]
    assert dense(problem.coverage[(0, 0)]) == [[True, True], [True, False]]
    empty = evaluate(problem, np.array([], np.int64), np.array([], np.int64))
    assert empty.people_before.tolist() == [6.0] and empty.existing_served.tolist() == [[6.0]]
    plans = _plans(problem)
    assert plans == {(): pytest.approx(6.0), ("S1",): pytest.approx(14.0), ("S2",): pytest.approx(10.0)}
    both = evaluate(problem, np.array([0, 1]), np.array([0, 0]))
    assert both.objective == pytest.approx(15.0)
    for solver in EXACT:
        solution = solve_problem(problem, solver)
        assert solution.status == Status.OPTIMAL, solver
        assert solution.objective == pytest.approx(max(plans.values())), solver
        assert [problem.site_ids[j] for j in solution.site] == ["S1"], solver

    straight = build_problem(load_scenario(cap_river(tmp_path / "straight", CAP_YAML.replace(*STRAIGHT))))
    assert dense(straight.existing_reach[0]) == [[0.0], [1.0]]
    assert max(_plans(straight).values()) == pytest.approx(13.0)


def test_reach_cache_round_trip_with_existing_walks(tmp_path):
    """The same points, network and budgets share one cache entry; a scenario with existing
    capacities needs the per-facility walks, so an entry without them is recomputed and replaced."""
    cache = tmp_path / "cache"
    plain = load_scenario(cap_river(tmp_path / "plain", capacity=None))  # no capacity column
    capped = load_scenario(cap_river(tmp_path / "capped"))

    first, facts = build_problem_and_facts(plain, cache_dir=cache)
    assert facts.network["cache"] == "miss"
    assert first.covered_before.ravel().tolist() == [True, False]  # E1, unlimited, reaches A
    built, built_facts = build_problem_and_facts(capped, cache_dir=cache)
    assert built_facts.network["cache"] == "miss"  # the entry has no per-facility walks
    again, again_facts = build_problem_and_facts(capped, cache_dir=cache)
    assert again_facts.network["cache"] == "hit"
    assert build_problem_and_facts(plain, cache_dir=cache)[1].network["cache"] == "hit"
    assert len(list(cache.glob("reach-*.npz"))) == 1

    for key in built.coverage:
        assert (built.coverage[key] != again.coverage[key]).nnz == 0
    for g in built.existing_reach:
        a, b = built.existing_reach[g], again.existing_reach[g]
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert np.array_equal(a.data, b.data)
    assert np.array_equal(built.covered_before, again.covered_before)
    assert np.array_equal(built.existing_capacity, again.existing_capacity)
    assert np.array_equal(built.capacity, again.capacity)
    assert solve_problem(again, "highs").objective == pytest.approx(14.0)


def test_cli_solve_with_decay_and_existing_capacity_on_a_network(tmp_path):
    """The capacities of the test above plus linear decay, 1 up to 5 min, 0 at 10 min:
      A -> E1 500 m (8.33 min) and A -> S1 500 m: (10 - 8.33) / 5 = 0.333; A -> S2 300 m: 1;
      B -> S1 200 m: 1.
      {}: E1 6 of A x 0.333 = 1.998.
      {S1}: B's 5 x 1 + (3 of A at S1 + 6 at E1) x 0.333 = 7.997.
      {S2}: 8 of A x 1 + the other 2 at E1 x 0.333 = 8.666, the optimum: decay turns the plan
      from S1 (14 without it) to S2.
    """
    path = cap_river(tmp_path / "river", CAP_DECAY_YAML)
    out, cache = tmp_path / "out", tmp_path / "cache"
    runner = CliRunner()
    result = runner.invoke(main, ["solve", str(path), "--out", str(out), "--cache-dir", str(cache), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output and "reach cache miss" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(8.666)
    assert [s["site_id"] for s in summary["selected"]] == ["S2"]
    assert summary["coverage"]["elderly"]["covered_before"] == pytest.approx(1.998)
    assert summary["coverage"]["elderly"]["covered_after"] == pytest.approx(8.666)
    assert summary["utilisation"][0]["groups"]["elderly"]["served"] == pytest.approx(8.0)
    plans = _plans(build_problem(load_scenario(path)))
    assert plans == {(): pytest.approx(1.998), ("S1",): pytest.approx(7.997), ("S2",): pytest.approx(8.666)}

    second = runner.invoke(main, ["solve", str(path), "--out", str(out), "--cache-dir", str(cache), "--no-report"])
    assert second.exit_code == 0 and "reach cache hit" in second.output
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["objective"] == pytest.approx(8.666)
