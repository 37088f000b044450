"""Per-service coverage (issue 14, 缺啥补啥): brute force for every exact backend, and a case worked
by hand where ``any_service`` opens no canteen and ``per_service`` does.

The brute force (tests/support/bruteforce_service.py) scores plans from the raw coordinates, type
by type, without the scenario reader's service expansion, so these tests check the expansion.
"""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.backends import Status, exact_backends
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce_service import brute_force_per_service, per_service_value, write_random_per_service
from support.scenarios import write_scenario

EXACT = exact_backends()


@pytest.mark.parametrize("decay", [False, True], ids=["step", "linear-decay"])
@pytest.mark.parametrize("solver", EXACT)
def test_per_service_matches_brute_force(tmp_path, solver, decay):
    for seed in range(6):
        raw = write_random_per_service(tmp_path / f"s{seed}", seed, decay=decay)
        best, _ = brute_force_per_service(raw)
        problem = build_problem(load_scenario(raw["path"]))
        sol = solve_problem(problem, solver)
        assert sol.status == Status.OPTIMAL, (seed, sol.message)
        assert sol.objective == pytest.approx(best, abs=1e-6), seed
        # the plan the backend chose, scored from raw coordinates, is worth the same
        plan = [(int(j), int(k)) for j, k in zip(sol.site, sol.type)]
        assert per_service_value(raw, plan) == pytest.approx(best, abs=1e-6), seed
        ev = evaluate(problem, sol.site, sol.type)
        assert ev.feasible and ev.objective == pytest.approx(best, abs=1e-6), seed


def test_expansion_copies_people_and_multiplies_weights(tmp_path):
    """``any_service`` keeps the YAML's groups; ``per_service`` has one group per (group, type),
    with the group's people and the weight w_g · w_k."""
    raw = write_random_per_service(tmp_path / "any", 3, coverage="any_service")
    problem = build_problem(load_scenario(raw["path"]))
    assert problem.group_names == ("elderly", "children")
    per = build_problem(load_scenario(write_random_per_service(tmp_path / "per", 3)["path"]))
    assert per.group_names == ("elderly·station", "elderly·canteen", "children·station", "children·school")
    # people are copied per service, weights multiply
    np.testing.assert_array_equal(per.people[:, 0], problem.people[:, 0])
    np.testing.assert_array_equal(per.people[:, 1], problem.people[:, 0])
    np.testing.assert_array_equal(per.people[:, 3], problem.people[:, 1])
    raw = write_random_per_service(tmp_path / "raw", 3)
    types = raw["types"]
    want = [raw["groups"]["elderly"] * types["station"][2], raw["groups"]["elderly"] * types["canteen"][2],
            raw["groups"]["children"] * types["station"][2], raw["groups"]["children"] * types["school"][2]]
    np.testing.assert_allclose(per.group_weight, want)
    # existing facilities reach only their own type's services
    assert per.serves.tolist() == [[True, False, True, False], [False, True, False, False],
                                   [False, False, False, True]]


# Worked by hand. Speed 1 m/s, detour 1.0, walk 10 minutes: every reach is 600 m.
#   D1 (0 m): 10 elderly. D2 (2,000 m): 5 children.
#   existing E1: a station at 100 m from D1, so D1's elderly are covered by a station before.
#   S1 at 50 m: canteen only, 300 CNY. S2 at 2,100 m: station only, 400 CNY. Budget 500: one of them.
# any_service (weights elderly 2, children 1):
#   before: D1 elderly 10 × 2 = 20. S1 canteen adds 0 (already covered) -> 20; S2 station adds
#   D2 children 5 × 1 = 5 -> 25. Optimum 25: the station, no canteen.
# per_service (type weights 1): services elderly·station, elderly·canteen, children·station.
#   before: elderly·station at D1 10 × 2 = 20. S1 canteen adds elderly·canteen 10 × 2 = 20 -> 40;
#   S2 station adds children·station 5 × 1 = 5 -> 25. Optimum 40: the canteen.
HAND_YAML = """\
name: canteen gap
crs: EPSG:4545
circle_type: other
budget: 500
coverage: {mode}
walking: {{speed_m_s: 1.0, detour_factor: 1.0}}
groups: {{elderly: 2.0, children: 1.0}}
facility_types:
  station: {{label: 老幼共托服务站, serves: [elderly, children], walk_minutes: 10}}
  canteen: {{label: 社区食堂, serves: [elderly], walk_minutes: 10}}
demand: demand.csv
sites: sites.csv
existing: existing.csv
"""
HAND_DEMAND = "id,x,y,elderly,children\nD1,500000,3300000,10,0\nD2,502000,3300000,0,5\n"
HAND_SITES = ("id,name,kind,x,y,cost_station,cost_canteen\n"
              "S1,桥下,under_bridge,500050,3300000,,300\nS2,闲置用房,vacant_room,502100,3300000,400,\n")
HAND_EXISTING = "id,type,x,y\nE1,station,500100,3300000\n"


def hand_scenario(folder, mode):
    return write_scenario(folder, HAND_YAML.format(mode=mode), HAND_DEMAND, HAND_SITES, HAND_EXISTING)


@pytest.mark.parametrize("solver", EXACT)
def test_canteen_gap_by_hand(tmp_path, solver):
    any_problem = build_problem(load_scenario(hand_scenario(tmp_path / "any", "any_service")))
    sol = solve_problem(any_problem, solver)
    assert sol.objective == pytest.approx(25.0)
    assert [any_problem.site_ids[j] for j in sol.site] == ["S2"]
    assert [any_problem.type_names[k] for k in sol.type] == ["station"]

    per_problem = build_problem(load_scenario(hand_scenario(tmp_path / "per", "per_service")))
    sol = solve_problem(per_problem, solver)
    assert sol.objective == pytest.approx(40.0)
    assert [per_problem.site_ids[j] for j in sol.site] == ["S1"]
    assert [per_problem.type_names[k] for k in sol.type] == ["canteen"]
    ev = sol.evaluation
    # per service: elderly·station 10 before and after, elderly·canteen 0 -> 10, children·station 0
    assert per_problem.group_names == ("elderly·station", "elderly·canteen", "children·station")
    np.testing.assert_allclose(ev.people_before, [10, 0, 0])
    np.testing.assert_allclose(ev.people_after, [10, 10, 0])


def test_type_weight_scales_the_service(tmp_path):
    """canteen weight 0.2: the canteen is worth 10 × 2 × 0.2 = 4 < the station's 5, so the station
    opens (objective 20 + 5 = 25); weight 1 gives the canteen (40, above)."""
    text = HAND_YAML.format(mode="per_service").replace(
        "serves: [elderly], walk_minutes: 10}", "serves: [elderly], walk_minutes: 10, weight: 0.2}")
    path = write_scenario(tmp_path / "w", text, HAND_DEMAND, HAND_SITES, HAND_EXISTING)
    problem = build_problem(load_scenario(path))
    np.testing.assert_allclose(problem.group_weight, [2.0, 0.4, 1.0])
    for solver in EXACT:
        sol = solve_problem(problem, solver)
        assert sol.objective == pytest.approx(25.0), solver
        assert [problem.type_names[k] for k in sol.type] == ["station"], solver


def test_capacities_per_service_by_hand(tmp_path):
    """Capacities carry over per (type, group): the existing station E1 serves 6 elderly
    (capacity_elderly 6) and a new canteen 4. Before: elderly·station min(10, 6) = 6, worth 12.
    S1 canteen adds elderly·canteen 4 × 2 = 8 -> 20; S2 station adds children·station 5 -> 17.
    The station's capacity must not serve the canteen service, nor the canteen's the station's."""
    text = HAND_YAML.format(mode="per_service").replace(
        "serves: [elderly], walk_minutes: 10}", "serves: [elderly], walk_minutes: 10, capacity: {elderly: 4}}")
    existing = "id,type,x,y,capacity_elderly\nE1,station,500100,3300000,6\n"
    problem = build_problem(load_scenario(write_scenario(tmp_path / "c", text, HAND_DEMAND, HAND_SITES, existing)))
    for solver in EXACT:
        sol = solve_problem(problem, solver)
        assert sol.status == Status.OPTIMAL, (solver, sol.message)
        assert sol.objective == pytest.approx(20.0), solver
        assert [problem.site_ids[j] for j in sol.site] == ["S1"], solver
        np.testing.assert_allclose(sol.evaluation.people_before, [6, 0, 0])
        np.testing.assert_allclose(sol.evaluation.people_after, [6, 4, 0])
