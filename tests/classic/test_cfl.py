"""CFL instances (issue 8): the generator's recipe, exact round trips, every bad input with its
line number, and `classic --format cfl` / `generate --cfl` end to end."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.classic.cfl import generate_cfl, read_cfl
from lifecircle.optimizer.errors import ScenarioError

GOOD = ("3\t4\n"
        "F\t1\t0\t0\t10\n"
        "F\t2\t3\t0\t20\n"
        "F\t3\t10\t10\t15\n"
        "C\t1\t1\t0\t5\n"
        "C\t2\t2\t0\t7\n"
        "C\t3\t3\t4\t11\n"
        "C\t4\t20\t20\t100\n")


def write(tmp_path, text, name="inst.txt"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(args):
    return CliRunner().invoke(main, args)


def test_read_small_file_by_hand(tmp_path):
    inst = read_cfl(write(tmp_path, GOOD))
    assert inst.site_ids == (1, 2, 3)
    assert inst.site_costs.tolist() == [10, 20, 15]
    assert inst.weights.tolist() == [5, 7, 11, 100]
    assert inst.demand_xy.tolist() == [[1, 0], [2, 0], [3, 4], [20, 20]]
    assert inst.site_xy.tolist() == [[0, 0], [3, 0], [10, 10]]
    assert inst.n_demand == 4 and inst.n_sites == 3


def test_generator_follows_the_recipe_and_is_seeded(tmp_path):
    a = generate_cfl(str(tmp_path / "a.txt"), 40, 3000, seed=7)
    generate_cfl(str(tmp_path / "b.txt"), 40, 3000, seed=7)
    c = generate_cfl(str(tmp_path / "c.txt"), 40, 3000, seed=8)
    text_a = (tmp_path / "a.txt").read_bytes()
    assert text_a == (tmp_path / "b.txt").read_bytes()
    assert text_a != (tmp_path / "c.txt").read_bytes()
    inst = read_cfl(a["path"])
    assert inst.n_sites == 40 and inst.n_demand == 3000
    assert a["total_site_cost"] == inst.site_costs.sum()
    for xy in (inst.site_xy, inst.demand_xy):
        assert xy.min() >= 0 and xy.max() <= 30
    assert set(np.unique(inst.weights)) <= set(range(1, 101)) and inst.weights.min() >= 1
    assert set(np.unique(inst.site_costs)) <= set(range(10, 101))
    # the reader returns exactly the doubles Python parses from each line
    lines = text_a.decode().splitlines()
    assert lines[0] == "40\t3000"
    rows = [ln.split("\t") for ln in lines[1:]]
    assert [r[0] for r in rows] == ["F"] * 40 + ["C"] * 3000
    xy = np.array([[float(r[2]), float(r[3])] for r in rows])
    assert np.array_equal(xy[:40], inst.site_xy) and np.array_equal(xy[40:], inst.demand_xy)
    assert c["total_site_cost"] != a["total_site_cost"] or not np.array_equal(
        read_cfl(c["path"]).demand_xy, inst.demand_xy)


def test_generator_writes_whole_files_only(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        generate_cfl(str(tmp_path / "missing" / "x.txt"), 3, 3)
    with pytest.raises(ScenarioError):
        generate_cfl(str(tmp_path / "x.txt"), 0, 3)
    assert list(tmp_path.iterdir()) == []


BAD = {
    # name: (text, expected line, words in the message)
    "truncated": (GOOD.rsplit("C\t4", 1)[0], 8, "truncated"),
    "truncated_mid_sites": ("3\t4\nF\t1\t0\t0\t10\n", 3, "truncated"),
    "more_rows_than_announced": (GOOD + "C\t5\t1\t1\t1\n", 9, "count line"),
    "count_line_swaps_sites_and_clients": (GOOD.replace("3\t4", "2\t5", 1), 4, "count line"),
    "negative_demand": (GOOD.replace("C\t2\t2\t0\t7", "C\t2\t2\t0\t-7"), 6, "demand"),
    "negative_cost": (GOOD.replace("F\t2\t3\t0\t20", "F\t2\t3\t0\t-20"), 3, "cost"),
    "nan_x": (GOOD.replace("C\t3\t3\t4", "C\t3\tnan\t4"), 7, "finite"),
    "nan_y_site": (GOOD.replace("F\t3\t10\t10", "F\t3\t10\tNaN"), 4, "finite"),
    "inf_coordinate": (GOOD.replace("C\t1\t1\t0", "C\t1\tinf\t0"), 5, "finite"),
    "four_fields": (GOOD.replace("C\t2\t2\t0\t7", "C\t2\t2\t7"), 6, "malformed"),
    "not_a_number": (GOOD.replace("C\t3\t3\t4", "C\t3\tabc\t4"), 7, "malformed"),
    "bad_tag": (GOOD.replace("C\t1\t1", "X\t1\t1"), 5, "'F' or 'C'"),
    "empty_field": (GOOD.replace("C\t2\t2\t0\t7", "C\t2\t\t0\t7"), 6, "empty"),
    "blank_line": (GOOD.replace("C\t3", "\nC\t3"), 7, "blank line"),
    "duplicate_site": (GOOD.replace("F\t2\t3", "F\t1\t3"), 3, "already given"),
    "bad_header": ("three four\n" + GOOD.split("\n", 1)[1], 1, "n_sites n_clients"),
    "empty_file": ("", 1, "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_file_and_line(tmp_path, case):
    text, line, words = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        read_cfl(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message and "\n" not in message


@pytest.mark.parametrize("case", ["truncated", "negative_demand", "nan_x", "four_fields",
                                  "count_line_swaps_sites_and_clients"])
def test_bad_input_exit_2_one_line(tmp_path, case):
    text, line, _ = BAD[case]
    path = write(tmp_path, text)
    res = run(["classic", "mclp", "--instance", path, "--format", "cfl", "--radius", "2",
               "--budget", "20", "--json"])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert err.startswith(f"error: {path}:{line}:") and "\n" not in err
    assert res.stdout == ""


def test_trailing_blank_lines_are_fine(tmp_path):
    inst = read_cfl(write(tmp_path, GOOD + "\n\n"))
    assert inst.n_demand == 4


def brute_force(inst, radius, budget):
    d = np.hypot(inst.demand_xy[:, None, 0] - inst.site_xy[None, :, 0],
                 inst.demand_xy[:, None, 1] - inst.site_xy[None, :, 1])
    cover = d <= radius
    best = 0.0
    for r in range(inst.n_sites + 1):
        for plan in itertools.combinations(range(inst.n_sites), r):
            if inst.site_costs[list(plan)].sum() <= budget:
                best = max(best, float(inst.weights[cover[:, list(plan)].any(axis=1)].sum()))
    return best


def test_classic_cfl_json_matches_brute_force(tmp_path):
    # sites 1 and 2 (cost 30) reach clients 1-3 at radius 3 (client 3 is 5 from site 1, 4 from
    # site 2: not reached at 3); radius 4 reaches client 3 from site 2 (inclusive)
    path = write(tmp_path, GOOD)
    for radius, budget in ((3, 30), (4, 20), (4, 45), (0, 10), (100, 5)):
        inst = read_cfl(path)
        res = run(["classic", "mclp", "--instance", path, "--format", "cfl", "--radius",
                   str(radius), "--budget", str(budget), "--json"])
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert out["status"] == "optimal"
        assert out["objective"] == brute_force(inst, radius, budget)
        assert out["covered_weight"] == out["objective"]
        ps = out["presolve"]
        assert ps["sites_before"] == 3 and ps["points"] == 4
        assert ps["sites_after"] <= ps["sites_before"]
        assert ps["classes_after"] <= ps["classes_before"]
        assert set(out["timings_s"]) >= {"read", "coverage", "aggregate", "presolve", "solve"}
    assert json.loads(run(["classic", "mclp", "--instance", path, "--format", "cfl", "--radius",
                           "4", "--budget", "20", "--json"]).stdout)["objective"] == 23.0


def test_generate_cfl_command(tmp_path):
    out = tmp_path / "g.txt"
    res = run(["generate", "--cfl", "12", "500", "--seed", "3", str(out)])
    assert res.exit_code == 0, res.output
    inst = read_cfl(str(out))
    assert inst.n_sites == 12 and inst.n_demand == 500
    res = run(["classic", "mclp", "--instance", str(out), "--format", "cfl", "--radius", "2",
               "--budget", str(0.1 * inst.site_costs.sum())])
    assert res.exit_code == 0 and "presolve: sites 12 ->" in res.output


@pytest.mark.parametrize("budget, pre, error, message", [
    (-1.0, (), "ScenarioError", "--budget: -1.0 must be a finite number >= 0"),
    (float("inf"), (), "ScenarioError", "--budget: inf must be a finite number >= 0"),
    (25.0, (2, 3), "InfeasibleError", "--budget: the pre-selected sites alone cost 35 > budget 25"),
])
def test_budget_checks_are_the_same_on_both_mclp_paths(tmp_path, budget, pre, error, message):
    """Coordinates go through optimizer.bigcover, a cost matrix through build_classic: one check."""
    from lifecircle.optimizer import errors
    from lifecircle.optimizer.classic.solve import solve_classic
    from lifecircle.optimizer.classic.instance import ClassicInstance

    from lifecircle.models.classic import CostTable

    xy = read_cfl(write(tmp_path, GOOD))
    distance = np.linalg.norm(xy.demand_xy[:, None, :] - xy.site_xy[None, :, :], axis=2)
    matrix = ClassicInstance("matrix", xy.demand_ids, xy.site_ids, xy.weights,
                             costs=CostTable.from_dense(distance), site_costs=xy.site_costs)
    for inst in (xy, matrix):
        with pytest.raises(getattr(errors, error)) as caught:
            solve_classic(inst, "mclp", radius=5.0, budget=budget, preselected=list(pre))
        assert str(caught.value) == message
