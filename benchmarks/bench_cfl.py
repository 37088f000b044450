"""Whole-city population grids (issue 8): CFL budgeted-MCLP instances from file to proven optimum.

Usage::

    .venv/bin/python benchmarks/bench_cfl.py [--only 1,2,3,4] [--methods compact,benders,plain]
                                             [--tmp DIR] [--benders-limit S]

For every row of the issue's table it generates the instance (``lifecircle generate --cfl``,
into a temporary folder that is deleted afterwards), then solves it in a fresh process per
method and prints one table row per (instance, method):

- ``compact`` is the default route: ``lifecircle classic mclp --format cfl --json`` itself, run
  as a command, so start-up, imports and JSON are all inside the measured wall time;
- ``plain`` is the same route without the presolve (aggregation only);
- ``benders`` solves the presolved problem with the cut loop of ``models/benders.py``, stopped
  after ``--benders-limit`` seconds (then its status is ``feasible``).

Phases (read, coverage, aggregate, presolve, solve) come from the run's own ``timings_s``;
``read->opt`` is their sum, ``wall`` is the process from spawn to exit, ``cpu`` its user + system
time (both cores count), ``peak`` its maximum resident memory. The machine's load average is printed with every row: the 2-core
machine is shared, so wall times are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

# (sites, clients, radius, budget share, goal seconds, goal GiB), the table
ROWS = [
    (200, 1_000_000, 2.0, 0.10, 5, 2),
    (200, 2_000_000, 2.0, 0.10, 6, 3),
    (100, 20_000_000, 2.0, 0.10, 60, 8),
    (2000, 1_000_000, 0.5, 0.10, 120, 8),
]
PHASES = ("read", "coverage", "aggregate", "presolve", "solve")


def job() -> None:
    """One solve in this process (spec as JSON in argv[1]); prints the result as JSON."""
    spec = json.loads(sys.argv[1])
    t0 = time.perf_counter()
    from lifecircle.optimizer.classic.points import solve_mclp_points
    from lifecircle.optimizer.classic.formats import load_instance

    inst = load_instance(spec["path"], "cfl")
    read_s = time.perf_counter() - t0
    from lifecircle.optimizer.solve.backends import SolveOptions

    res = solve_mclp_points(inst, radius=spec["radius"], budget=spec["budget"], read_s=read_s,
                            presolve=spec["presolve"], method=spec["method"],
                            options=SolveOptions(time_limit_s=spec.get("time_limit")))
    print(json.dumps(res.as_json()))


def run(cmd: list[str]) -> tuple[dict | None, str]:
    """(last stdout line as JSON, stderr tail) of one fresh process."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=REPO, check=False)
    try:
        result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = None
    return result, proc.stderr.decode().strip()[-300:]


def run_isolated(cmd: list[str]) -> tuple[dict | None, float, float, float, str]:
    """(result, wall s, CPU s, peak MiB, stderr) of ``cmd`` run by a fresh wrapper process, so that the
    wrapper's RUSAGE_CHILDREN maximum is ``cmd``'s own peak resident memory."""
    wrapper = [sys.executable, "-c",
               ("import json, resource, subprocess, sys, time;"
               "t = time.perf_counter();"
               "p = subprocess.run(sys.argv[1:], capture_output=True);"
               "w = time.perf_counter() - t;"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
               "sys.stderr.write(p.stderr.decode());"
               "print(json.dumps({'out': p.stdout.decode(), 'wall': w, 'peak': u.ru_maxrss / 1024,"
               " 'cpu': u.ru_utime + u.ru_stime}))"), *cmd]
    result, err = run(wrapper)
    if result is None:
        return None, float("nan"), float("nan"), float("nan"), err
    try:
        inner = json.loads(result["out"].strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        inner = None
    return inner, result["wall"], result["cpu"], result["peak"], err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="1,2,3,4", help="Rows of the table to run (1-based).")
    parser.add_argument("--methods", default="compact,benders,plain")
    parser.add_argument("--tmp", default=None, help="Folder for the generated instances.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--benders-limit", type=float, default=300.0,
                        help="Stop the Benders loop after this many seconds (status: feasible).")
    args = parser.parse_args()
    from lifecircle.optimizer.classic.cfl import generate_cfl

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    tmp = tempfile.mkdtemp(prefix="bench_cfl_", dir=args.tmp)
    header = ("| instance | radius | budget | method | status | objective | classes | sites after | "
              "classes after | " + " | ".join(PHASES) + " | read->opt s | wall s | cpu s | peak GiB | goal | "
              "met | load |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    try:
        for row in [ROWS[int(k) - 1] for k in args.only.split(",")]:
            m, n, radius, share, goal_s, goal_gib = row
            path = os.path.join(tmp, f"cfl_{m}x{n}.txt")
            t0 = time.perf_counter()
            info = generate_cfl(path, m, n, seed=args.seed)
            gen_s = time.perf_counter() - t0
            budget = round(share * info["total_site_cost"], 6)
            print(f"<!-- generated {m} x {n:,} in {gen_s:.1f} s, "
                  f"{os.path.getsize(path) / 2**20:.0f} MiB -->", flush=True)
            for method in methods:
                if method == "compact":
                    cmd = [os.path.join(os.path.dirname(sys.executable), "lifecircle"), "classic",
                           "mclp", "--instance", path, "--format", "cfl", "--radius", str(radius),
                           "--budget", str(budget), "--json"]
                else:
                    spec = {"path": path, "radius": radius, "budget": budget,
                            "presolve": method != "plain",
                            "method": "benders" if method == "benders" else "compact",
                            "time_limit": args.benders_limit if method == "benders" else None}
                    cmd = [sys.executable, "-c", "from benchmarks.bench_cfl import job; job()",
                           json.dumps(spec)]
                load = os.getloadavg()[0]
                res, wall, cpu, peak, err = run_isolated(cmd)
                if res is None:
                    print(f"| {m}x{n:,} | {radius} | {budget:g} | {method} | crash: {err[-120:]} |")
                    continue
                t = res["timings_s"]
                ps = res.get("presolve") or {}
                total = sum(t.get(k, 0.0) for k in PHASES)
                met = "yes" if total < goal_s and peak / 1024 < goal_gib else "no"
                print(f"| {m} x {n:,} | {radius} | {budget:g} | {method} | {res['status']} | "
                      f"{res['objective']:.0f} | {ps.get('classes_before')} | "
                      f"{ps.get('sites_after')} | {ps.get('classes_after')} | "
                      + " | ".join(f"{t.get(k, 0.0):.2f}" for k in PHASES)
                      + f" | {total:.2f} | {wall:.2f} | {cpu:.2f} | {peak / 1024:.2f} | < {goal_s} s, "
                        f"< {goal_gib} GiB | {met} | {load:.1f} |", flush=True)
            os.unlink(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
