"""`lifecircle bench` rows a referee accepts (issue 16) and `classic pcenter` options, end to end."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.classic.bench import SPOPT_ABSENT, spopt_available

# 5 vertices, p = 2: the p-center optimum is 5 (brute_radius below) and the p-median optimum 11.
ORLIB = "5 6 2\n1 2 3\n2 3 4\n3 4 2\n4 5 6\n5 1 7\n2 4 5\n"


@pytest.fixture()
def graph(tmp_path):
    path = tmp_path / "g5.txt"
    path.write_text(ORLIB)
    return str(path)


def run(args):
    return CliRunner().invoke(main, args)


def brute_radius():
    d = np.full((5, 5), np.inf)
    np.fill_diagonal(d, 0)
    for line in ORLIB.splitlines()[1:]:
        i, j, c = map(int, line.split())
        d[i - 1, j - 1] = d[j - 1, i - 1] = c
    for k in range(5):
        d = np.minimum(d, d[:, [k]] + d[[k], :])
    return min(d[:, [a, b]].min(axis=1).max() for a in range(5) for b in range(a + 1, 5))


@pytest.mark.parametrize("method", ["levels", "compact"])
def test_classic_pcenter_json_says_termination_and_bound_source(graph, method):
    res = run(["classic", "pcenter", "--instance", graph, "--pcenter-method", method,
               "--threads", "1", "--seed", "7", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["objective"] == brute_radius() == 5
    assert out["status"] == "optimal" and out["termination"] == "optimal"
    assert out["bound"] == 5
    assert out["bound_source"] == ("mip" if method == "compact" else out["bound_source"])
    assert out["bound_source"] in ("certificate", "lp", "mip")


def test_classic_pmedian_and_mclp_fill_termination_and_bound_source(graph):
    out = json.loads(run(["classic", "pmedian", "--instance", graph, "--json"]).stdout)
    # the exact p-median path (highs) proves this one by its Lagrangian bound, before any MIP
    assert (out["objective"], out["termination"], out["bound_source"]) == (11, "optimal", "lagrangian")
    out = json.loads(run(["classic", "pmedian", "--instance", graph, "--solver", "ortools-scip",
                          "--json"]).stdout)
    assert (out["objective"], out["termination"], out["bound_source"]) == (11, "optimal", "mip")
    out = json.loads(run(["classic", "lscp", "--instance", graph, "--radius", "4",
                          "--json"]).stdout)
    assert (out["termination"], out["bound_source"]) == ("optimal", "mip")


def test_bench_rows_record_bound_threads_seed_and_repeats(graph, tmp_path):
    out = tmp_path / "bench"
    res = run(["bench", graph, "--model", "pcenter", "--solvers", "highs", "--threads", "1",
               "--seed", "5", "--repeat", "2", "--out", str(out), "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(out / "bench.csv")))
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["termination"], row["objective"], row["bound"], row["gap"]) == \
        ("optimal", "optimal", "5", "5", "0")
    assert row["bound_source"] in ("certificate", "lp")
    assert (row["threads"], row["seed"], row["runs"]) == ("1", "5", "2")
    assert row["solver_version"].startswith("1.")
    wall, low, high = float(row["wall_s"]), float(row["wall_s_min"]), float(row["wall_s_max"])
    assert 0 < low <= wall <= high and float(row["cpu_s"]) > 0
    md = (out / "bench.md").read_text()
    assert "threads: 1; seed: 5; runs per job: 2" in md and "bound_source" in md


def test_bench_time_limited_pcenter_row_shows_bound_and_gap(tmp_path):
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 1000, size=(400, 2))
    xy = tmp_path / "pts.txt"
    xy.write_text("400\n" + "".join(f"{x:.1f} {y:.1f}\n" for x, y in pts))
    w = tmp_path / "w.txt"
    w.write_text("1\n" * 400)
    out = tmp_path / "bench"
    res = run(["bench", str(xy), "--format", "xy-weights", "--weights", str(w), "--model",
               "pcenter", "--p", "12", "--time-limit", "0.001", "--out", str(out)])
    assert res.exit_code == 0, res.output
    row = next(csv.DictReader(open(out / "bench.csv")))
    assert (row["status"], row["termination"]) == ("feasible", "time_limit")
    # the closed-form bound, or the covering LP's when a fast machine finished one LP in time
    assert row["bound_source"] in ("certificate", "lp")
    objective, bound = float(row["objective"]), float(row["bound"])
    assert 0 <= bound < objective  # sites are the points: the closed-form bound is 0
    assert float(row["gap"]) == pytest.approx((objective - bound) / objective, rel=1e-6)


def test_bench_compare_spopt(graph, tmp_path):
    out = tmp_path / "bench"
    res = run(["bench", graph, "--model", "pcenter", "--compare", "spopt", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(out / "bench.csv")))
    md = (out / "bench.md").read_text()
    if not spopt_available():
        assert SPOPT_ABSENT in res.stdout and SPOPT_ABSENT in md
        assert [r["solver"] for r in rows] == ["highs"]
        return
    assert [r["solver"] for r in rows] == ["highs", "spopt"]
    assert rows[0]["objective"] == rows[1]["objective"] == "5"
    assert "objective equals highs's" in rows[1]["note"] and "MISMATCH" not in res.output


def test_bench_rejects_bad_repeat(graph, tmp_path):
    res = run(["bench", graph, "--model", "pcenter", "--repeat", "0", "--out",
               str(tmp_path / "b")])
    assert res.exit_code == 2 and "--repeat" in res.stderr


def test_bench_lines_flag_a_mismatch_on_stderr():
    from lifecircle.optimizer.classic.bench import bench_lines, objectives_agree
    from lifecircle.optimizer.outputs.text import ToStderr

    assert objectives_agree(5819.0, 5819.0 + 1e-9) and not objectives_agree(5819.0, 5820.0)
    rows = [{"instance": "pmed1", "status": "optimal"},
            {"instance": "pmed1", "status": "optimal", "mismatch": True,
             "note": "OBJECTIVE MISMATCH: highs 127 vs spopt 128"}]
    lines = bench_lines(rows, None, "out")
    loud = [line for line in lines if isinstance(line, ToStderr)]
    assert loud == ["bench: pmed1: OBJECTIVE MISMATCH: highs 127 vs spopt 128"]
    assert lines[-1] == "2 of 2 rows optimal; wrote out/bench.csv and out/bench.md"


@pytest.mark.parametrize("backend", ["highs", "ortools-scip", "ortools-cpsat"])
def test_every_seeded_backend_takes_threads_and_seed(graph, backend):
    from lifecircle.optimizer.classic.formats import read_orlib_pmed
    from lifecircle.optimizer.classic.solve import solve_classic
    from lifecircle.optimizer.solve.backends import REGISTRY, SolveOptions

    if not REGISTRY[backend].available():
        pytest.skip(f"{backend} is not installed")
    inst = read_orlib_pmed(graph)
    for seed in (0, 12345):
        res = solve_classic(inst, "pmedian", solver=backend,
                            options=SolveOptions(threads=1, seed=seed))
        assert (res.status, res.objective) == ("optimal", 11)
