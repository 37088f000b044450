"""The realistic 100,000-point district of issue 14 (2,000 candidates, binding budget, per_service):
the solve as it stands, with wall and CPU seconds, load average and peak memory, and the two
starts the reduced MILP can get (local search, the LP-guided start of optimizer/solve/lp_guided.py).

    .venv/bin/python benchmarks/bench_dense.py [--time-limit 120 (0: none)] [--starts] [--seeds 0 1 2]

The district is ``generate``'s defaults at 100,000 points, seed 1 (one candidate per 1,000
residents, 100 existing facilities, budget 30 % of full coverage's cost, ``coverage: per_service``).
Each measurement is its own process; ``cpu s`` is the child's user + system time (HiGHS threads
included), ``load`` the 1-minute load average when the child ended.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

SOLVE = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from lifecircle.optimizer.run import load_problem
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.coverage import solve_problem
scenario, problem, facts, out, t = load_problem({scenario!r}, out_dir={out!r})
t_load = time.perf_counter() - t0
s = solve_problem(problem, "highs", SolveOptions(time_limit_s={limit!r}, seed={seed!r}))
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"status": s.status.value, "objective": s.objective, "bound": s.bound, "gap": s.gap,
                  "bound_source": s.bound_source.value if s.bound_source is not None else None,
                  "route": s.model_stats.get("route"), "coverage": scenario.coverage if hasattr(scenario, "coverage") else None,
                  "load_s": t_load, "total_s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "peak_mib": ru.ru_maxrss / 1024, "load": open("/proc/loadavg").read().split()[0],
                  "stages": [(one["stage"], one["status"], one["timings_s"].get("solve"))
                             for one in s.model_stats.get("stages", [])]}}))
"""

STARTS = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
sys.path.insert(0, {bench!r})
from bench_dense_probe import dense_reduced
from lifecircle.models.local_search import local_search, plan_value
from lifecircle.optimizer.solve.lp_guided import lp_guided_plan
from lifecircle.optimizer.solve.reduced import warm_start_plan
problem, index, cost, must, dominated, reduced = dense_reduced({scenario!r})
rows = {{}}
def clock():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), ru.ru_utime + ru.ru_stime
w0, c0 = clock()
start = warm_start_plan(index, cost, problem.budget_cny, must, problem.min_open, ~dominated)
plan = local_search(index, cost, problem.budget_cny, must, problem.min_open, start, ~dominated)
w1, c1 = clock()
rows["greedy + local search"] = (plan_value(index, plan) + index.constant, w1 - w0, c1 - c0)
guided = lp_guided_plan(reduced, "highs")
w2, c2 = clock()
rows["LP-guided"] = (None if guided is None else plan_value(index, guided) + index.constant, w2 - w1, c2 - c1)
print(json.dumps({{"rows": rows, "stats": reduced.stats, "load": open("/proc/loadavg").read().split()[0]}}))
"""


def child(code: str, cap_s: float) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap_s)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout>{cap_s:.0f}s"}
    if proc.returncode:
        return {"status": "crash: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:100]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds; 0: no limit")
    parser.add_argument("--starts", action="store_true", help="also compare the two MILP starts")
    parser.add_argument("--seeds", type=int, nargs="*", default=[None],
                        help="HiGHS random_seed of each run (default: HiGHS's own); one row per seed")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    from bench_dense_probe import dense_district

    path = dense_district()
    out = tempfile.mkdtemp(prefix="lifecircle-dense-out-")
    limit = args.time_limit or None
    # stages: each stage's status and seconds (summary.json's stages[].timings_s), coverage first
    print("| time limit s | seed | status | objective | bound | gap | bound_source | load s | stages (status, s) "
          "| wall s | cpu s | load | peak MiB |")
    print("|" + "---|" * 13)
    for seed in args.seeds:
        row = child(SOLVE.format(repo=str(REPO), scenario=str(path), out=out, limit=limit, seed=seed),
                    cap_s=3 * (limit or 600) + 600)
        stages = "; ".join(f"{name} {status} {fmt(seconds, '.1f')}" for name, status, seconds in row.get("stages") or [])
        print(f"| {limit or 'none'} | {'-' if seed is None else seed} | {row.get('status')} | "
              f"{fmt(row.get('objective'), ',.1f')} | {fmt(row.get('bound'), ',.1f')} | {fmt(row.get('gap'), '.4%')} | "
              f"{row.get('bound_source') or '-'} | {fmt(row.get('load_s'), '.1f')} | {stages or '-'} | "
              f"{fmt(row.get('total_s'), '.1f')} | {fmt(row.get('cpu_s'), '.1f')} | {row.get('load', '-')} | "
              f"{fmt(row.get('peak_mib'), ',.0f')} |", flush=True)
    if args.starts:
        t0 = time.perf_counter()
        found = child(STARTS.format(repo=str(REPO), bench=str(BENCH), scenario=str(path)), cap_s=900)
        print(f"\nreduced model: {found.get('stats')}; load {found.get('load')}; "
              f"{time.perf_counter() - t0:.1f} s\n")
        print("| start | objective | wall s | cpu s |")
        print("|---|---|---|---|")
        for name, (value, wall, cpu) in (found.get("rows") or {}).items():
            print(f"| {name} | {fmt(value, ',.1f')} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
