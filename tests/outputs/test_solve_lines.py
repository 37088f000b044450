"""`lifecircle solve`'s summary lines on a three-solve least-cost run (the dense district's shape):
the bound printed like the objective, and the least-cost stage names in the console's language."""

from __future__ import annotations

from lifecircle.optimizer.outputs.text import solve_lines


def _summary() -> dict:
    return {"scenario": "dense", "status": "optimal", "solver": "highs", "reason": None,
            "objective": 1_174_983.0, "bound": 1_174_983.0, "gap": 0.0, "bound_source": "mip",
            "stages": [{"stage": "coverage", "status": "optimal"}, {"stage": "cost", "status": "feasible"},
                       {"stage": "ties", "status": "optimal"}],
            "spent": 178_100_000.0, "budget": 178_100_000.0, "selected": [{}] * 317,
            "coverage": {}, "timings_s": {"solve": 134.64}}


def test_english_lines():
    lines = solve_lines(_summary(), "out", 0, "en")
    assert lines[1] == "weighted coverage 1,174,983.0 (bound 1,174,983.0 [mip], gap 0)"
    assert lines[2] == "least cost: cost feasible, ties optimal"


def test_chinese_lines_name_the_stages_in_chinese():
    lines = solve_lines(_summary(), "out", 0, "zh")
    assert lines[1] == "加权覆盖 1,174,983.0（上界 1,174,983.0 [mip]，间隙 0）"
    assert lines[2] == "最省方案：花费 可行（未证明最优），同等方案检查 最优"
