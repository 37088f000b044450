"""scenarios/yuzhong_capacity's optimum (issue 14): 13,050.0 weighted people, proven by HiGHS at
gap 0 on this branch (771 s; `tests/solve/data/yuzhong_capacity_optimum.json` records the run).
Fast checks: the proven plan still evaluates to 13,050.0 and meets every rule (so the optimum is at
least that), and the large-district route's capacity ceiling is not below it (a valid bound)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.capacity_large import capacity_ceiling

REPO = Path(__file__).resolve().parents[2]
OPTIMUM = 13050.0


@pytest.fixture(scope="module")
def yuzhong():
    problem = build_problem(load_scenario(REPO / "scenarios" / "yuzhong_capacity" / "scenario.yaml"))
    data = json.loads((Path(__file__).parent / "data" / "yuzhong_capacity_optimum.json").read_text(encoding="utf-8"))
    return problem, data


def test_the_proven_plan_still_reaches_the_optimum(yuzhong):
    problem, data = yuzhong
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(OPTIMUM)
    site = np.array([problem.site_ids.index(s) for s, _ in data["selected"]])
    type_ = np.array([problem.type_names.index(t) for _, t in data["selected"]])
    ev = evaluate(problem, site, type_)
    assert ev.feasible, ev.violations
    assert ev.objective == pytest.approx(OPTIMUM, abs=1e-6)


def test_the_capacity_ceiling_is_above_the_optimum(yuzhong):
    problem, _ = yuzhong
    assert capacity_ceiling(problem) >= OPTIMUM
