"""summary.json's ``termination`` beside ``status`` (issue 13), and the one status -> exit code map."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.core.status import Status, Termination
from lifecircle.optimizer.errors import exit_code_for
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.coverage import solve_problem
from support.bruteforce import random_problem


def solve_summary(scenario, out, *args):
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), "--no-report", *args])
    return result, json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("solver, status, termination", [
    ("highs", "optimal", "optimal"),
    ("greedy", "feasible", "heuristic"),  # a greedy plan claims nothing
])
def test_summary_carries_termination_next_to_status(tiny_scenario, tmp_path, solver, status, termination):
    result, summary = solve_summary(tiny_scenario, tmp_path / "out", "--solver", solver)
    assert result.exit_code == 0, result.output
    assert (summary["status"], summary["termination"]) == (status, termination)
    keys = list(summary)
    assert keys.index("termination") == keys.index("status") + 1


def test_infeasible_runs_report_termination_infeasible(tiny_scenario, tmp_path):
    base = tiny_scenario.read_text(encoding="utf-8")
    # found by the precheck, before any solver
    tiny_scenario.write_text(base + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n",
                             encoding="utf-8")
    result, summary = solve_summary(tiny_scenario, tmp_path / "pre")
    assert result.exit_code == 3
    assert (summary["status"], summary["termination"]) == ("infeasible", "infeasible")
    # proved by the solver
    tiny_scenario.write_text(base.replace("budget: 1000", "budget: 750")
                             + "rules:\n  min_open: {elder_child: 1, canteen: 1}\n", encoding="utf-8")
    result, summary = solve_summary(tiny_scenario, tmp_path / "solver")
    assert result.exit_code == 3
    assert (summary["status"], summary["termination"]) == ("infeasible", "infeasible")


def test_a_time_limited_solve_says_the_clock_stopped_it():
    # a tight budget keeps the reduced MILP (no ceiling certificate), which 1 ms cannot prove
    problem, _ = random_problem(9, n_points=3000, n_sites=300, n_types=2, n_groups=3, rules=False,
                                budget_share=0.01)
    solution = solve_problem(problem, "highs", SolveOptions(time_limit_s=0.001))
    # issue 14: one deadline; 1 ms is gone before the MILP, so the greedy start is the answer
    assert solution.model_stats["route"] in ("reduced MILP", "greedy start (time limit)")
    assert solution.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    assert solution.termination == Termination.TIME_LIMIT


def test_one_exit_code_map():
    assert [exit_code_for(s) for s in Status] == [0, 0, 3, 4]
    assert [exit_code_for(str(s)) for s in Status] == [0, 0, 3, 4]
    assert exit_code_for("declined") == 4  # anything else: no solution
