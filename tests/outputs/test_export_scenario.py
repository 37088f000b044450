"""`lifecircle export SCENARIO`: the written MPS is the model solve() uses, offset included."""

from __future__ import annotations

from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.solve.backends.base import quiet_stdout


def solve_mps(path) -> float:
    import highspy

    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


def test_export_scenario_round_trip(tiny_scenario, tmp_path):
    mps, lp = tmp_path / "tiny.mps", tmp_path / "tiny.lp"
    result = CliRunner().invoke(main, ["export", str(tiny_scenario), "--mps", str(mps), "--lp", str(lp)])
    assert result.exit_code == 0, result.output
    assert "objective offset 14" in result.output
    assert solve_mps(mps) == 69.0  # the hand-worked optimum of the tiny scenario
    assert solve_mps(lp) == 69.0


def test_export_scenario_with_budget(tiny_scenario, tmp_path):
    mps = tmp_path / "b.mps"
    result = CliRunner().invoke(main, ["export", str(tiny_scenario), "--budget", "500", "--mps", str(mps)])
    assert result.exit_code == 0, result.output
    assert solve_mps(mps) == 60.0


def test_export_scenario_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "none.yaml"), "--mps", str(tmp_path / "x.mps")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'none.yaml'}: scenario file does not exist"
    assert not (tmp_path / "x.mps").exists()
