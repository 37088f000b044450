"""`lifecircle classic`, `bench` and `export` end to end: JSON on stdout only, exit codes, files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.models.classic import CostTable
from lifecircle.optimizer.solve.backends.base import quiet_stdout
from lifecircle.optimizer.classic.solve import build_classic, solve_classic
from lifecircle.optimizer.solve.export import export_model
from lifecircle.optimizer.classic.instance import ClassicInstance

ORLIB = "5 6 2\n1 2 3\n2 3 4\n3 4 2\n4 5 6\n5 1 7\n2 4 5\n"


@pytest.fixture()
def files(tmp_path):
    graph = tmp_path / "g5.txt"
    graph.write_text(ORLIB)
    xy = tmp_path / "pts.txt"
    rng = np.random.default_rng(4)
    pts = rng.integers(0, 1000, size=(30, 2))
    xy.write_text("30\n" + "".join(f"{x} {y}\n" for x, y in pts))
    w = tmp_path / "w.txt"
    w.write_text("".join(f"{v}\n" for v in rng.integers(1, 50, size=30)))
    known = tmp_path / "opt.txt"
    known.write_text("Data file  Optimal\ng5 11\n")
    return {"graph": str(graph), "xy": str(xy), "w": str(w), "known": str(known),
            "tmp": tmp_path}


def run(args):
    return CliRunner().invoke(main, args)


def test_classic_json_is_one_object_with_the_documented_keys(files):
    res = run(["classic", "pmedian", "--instance", files["graph"], "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)  # the whole stdout is one JSON object
    for key in ("model", "solver", "status", "objective", "bound", "gap", "selected",
                "covered_weight", "uncovered_points", "timings_s"):
        assert key in out
    # hand-checked: sites {2, 4} or {1, 4}, costs 3+0+2+0+6 = 0+3+2+0+6 = 11
    assert out["status"] == "optimal" and out["objective"] == 11.0
    assert sorted(out["selected"]) in ([2, 4], [1, 4])
    assert set(out["timings_s"]) == {"read", "build", "solve"}


def test_classic_json_stdout_clean_in_a_real_process(files):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "from lifecircle.cli import main; main()", "classic", "mclp",
                           "--instance", files["xy"], "--format", "xy-weights", "--weights",
                           files["w"], "--p", "3", "--radius", "250", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["covered_weight"] == out["objective"] and len(out["selected"]) == 3


def test_classic_exit_codes(files, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("5 2 1\n1 2 3\n2 three 4\n")
    res = run(["classic", "pmedian", "--instance", str(bad)])
    assert res.exit_code == 2 and f"{bad}:3:" in res.stderr and res.stderr.count("\n") == 1
    res = run(["classic", "pmedian", "--instance", files["graph"], "--p", "6"])
    assert res.exit_code == 2 and "--p" in res.stderr
    matrix = tmp_path / "m.csv"
    matrix.write_text("demand,site,cost\na,s1,5\nb,s1,50\nb,s2,40\nc,s2,3\n")
    res = run(["classic", "lscp", "--instance", str(matrix), "--format", "matrix-csv",
               "--radius", "10"])
    assert res.exit_code == 3 and "1 of 3 demand points" in res.stderr and "'b'" in res.stderr
    res = run(["classic", "lscp", "--instance", str(matrix), "--format", "matrix-csv",
               "--radius", "40", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["objective"] == 2
    res = run(["classic", "mclp", "--instance", files["graph"], "--p", "2", "--radius", "-1"])
    assert res.exit_code == 2


def test_classic_radius_covering_nothing_is_zero(files):
    res = run(["classic", "mclp", "--instance", files["xy"], "--format", "xy-weights",
               "--weights", files["w"], "--p", "2", "--radius", "0", "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["status"] == "optimal"
    # radius 0 covers each point by its own site only: the two heaviest points
    assert out["objective"] == sorted(int(v) for v in open(files["w"]).read().split())[-1] + \
        sorted(int(v) for v in open(files["w"]).read().split())[-2]


def test_bench_writes_rows_and_records_a_declined_solver(files):
    out = files["tmp"] / "bench"
    res = run(["bench", files["graph"], files["graph"], "--model", "pmedian", "--solvers",
               "highs,nonexistent", "--out", str(out)])
    assert res.exit_code == 2 and "nonexistent" in res.stderr
    res = run(["bench", files["graph"], "--model", "pmedian", "--solvers", "highs,ortools-cpsat",
               "--known", files["known"], "--out", str(out), "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(out / "bench.csv")))
    assert [r["solver"] for r in rows] == ["highs", "ortools-cpsat"]
    assert all(r["status"] == "optimal" and float(r["objective"]) == 11 for r in rows)
    assert all(float(r["gap_to_known_pct"]) == 0 and float(r["peak_mem_mb"]) > 0 for r in rows)
    md = (out / "bench.md").read_text()
    assert "lifecircle 0.1.0" in md and "highs 1." in md and "cores" in md
    # Euclidean p-median: CP-SAT declines, the row says so and the run goes on
    res = run(["bench", files["xy"], "--format", "xy-weights", "--weights", files["w"], "--model",
               "pmedian", "--p", "3", "--solvers", "ortools-cpsat,highs", "--out", str(out)])
    rows = list(csv.DictReader(open(out / "bench.csv")))
    assert [r["status"] for r in rows] == ["declined", "optimal"]


@pytest.mark.parametrize("model, kw", [("pmedian", {"p": 3}), ("pcenter", {"p": 3}),
                                       ("mclp", {"p": 3, "radius": 12.0}),
                                       ("lscp", {"radius": 20.0})])
def test_export_mps_round_trip_reaches_the_same_optimum(tmp_path, model, kw):
    import highspy

    rng = np.random.default_rng(7)
    cost = rng.integers(0, 40, size=(25, 12)).astype(float)
    inst = ClassicInstance("r", tuple(range(25)), tuple(range(12)),
                           rng.integers(1, 9, size=25).astype(float),
                           costs=CostTable.from_dense(cost))
    built = build_classic(inst, model, **kw)
    expected = solve_classic(inst, model, **kw).objective
    mps, lp = tmp_path / "model.out", tmp_path / "model.lp"
    export_model(built.linear, str(mps), str(lp))
    assert lp.read_text().strip()
    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps) if mps.suffix == ".mps" else _as_mps(mps))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(expected)


def _as_mps(path):
    target = path.with_suffix(".mps")
    target.write_text(path.read_text())
    return str(target)


def test_export_cli(files, tmp_path):
    mps = tmp_path / "g5.mps"
    res = run(["export", "--instance", files["graph"], "--model", "pmedian", "--mps", str(mps)])
    assert res.exit_code == 0, res.output
    assert "ROWS" in mps.read_text()
    res = run(["export", "--mps", str(mps)])
    assert res.exit_code == 2
