"""Large generated districts (issue 14, section 4): plan, bound, gap and bound_source within a time
limit, each solve in its own process with its peak memory. The time limit is one deadline from the
child's start (load included), as ``--time-limit`` is for a run; `total s` and `CPU s` are the
child's, load included.

    .venv/bin/python benchmarks/bench_large.py [--only a,b] [--time-limit 120] [--extra-limit 600]

(a) the 100,000 x 10,000 hillside district (seed 1, 2 facility types) at a 100 M budget: the
    large route (local search, windows, Lagrangian bound) under ``--time-limit``, and again under
    ``--extra-limit`` (0 to skip);
(b) the realistic 100,000-point district: generate's defaults (one site per 1,000 residents, so
    2,000 candidates; budget 30 % of full coverage's cost), which HiGHS should prove optimal.
Also the greedy and local backends on (a) for the primal ratio, in the same run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
t_start = time.monotonic()  # issue 14: --time-limit is one deadline for the whole run, load included
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from lifecircle.optimizer.core.deadline import Deadline
from lifecircle.optimizer.run import load_problem
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.coverage import solve_problem
limit = {limit!r}
options = SolveOptions(time_limit_s=limit, deadline=None if limit is None else Deadline(limit, start=t_start))
scenario, problem, facts, out, t = load_problem({scenario!r}, out_dir={out!r})
t_load = time.perf_counter() - t0
cpu_load = time.process_time()
s = solve_problem(problem, {solver!r}, options)
source = s.bound_source.value if s.bound_source is not None else s.model_stats.get("bound_source")
stages = s.model_stats.get("stages") or [{{}}]
print(json.dumps({{"status": str(s.status.value), "objective": s.objective, "bound": s.bound, "gap": s.gap,
                  "bound_source": source, "route": s.model_stats.get("route"),
                  "spent": s.spent_cny, "budget": problem.budget_cny, "sites": int(s.site.size),
                  "load_s": t_load, "total_s": time.perf_counter() - t0,
                  "cpu_load_s": cpu_load, "cpu_s": time.process_time(),
                  "timings": {{k: round(v, 1) for k, v in s.timings_s.items()}},
                  "large": s.model_stats.get("large"),
                  "dominated": s.model_stats.get("dominated_columns"),
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(scenario: Path, solver: str, limit, out: Path, cap_s: float) -> dict:
    code = CHILD.format(repo=str(REPO), scenario=str(scenario), out=str(out), solver=solver, limit=limit)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap_s)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout>{cap_s:.0f}s", "wall_s": time.perf_counter() - t0}
    if proc.returncode:
        return {"status": "crash: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["wall_s"] = time.perf_counter() - t0
    row["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "-"
    return row


def cell(row, key, fmt):
    value = row.get(key)
    return "-" if value is None else format(value, fmt)


def print_row(name, solver, limit, row):
    print(f"| {name} | {solver} | {limit or '-'} | {row['status']} | {row.get('route') or '-'} | "
          f"{cell(row, 'objective', ',.1f')} | {cell(row, 'bound', ',.1f')} | {cell(row, 'gap', '.3%')} | "
          f"{row.get('bound_source') or '-'} | {cell(row, 'spent', ',.0f')} / {cell(row, 'budget', ',.0f')} | "
          f"{cell(row, 'load_s', '.1f')} | {cell(row, 'total_s', '.1f')} | {cell(row, 'cpu_s', '.1f')} | "
          f"{row.get('loadavg', '-')} | {cell(row, 'peak_mib', ',.0f')} |", flush=True)
    if row.get("timings"):
        print(f"<!-- {name} {solver} {limit}: solve timings s {row['timings']}, large route "
              f"{row.get('large')}, load CPU s {cell(row, 'cpu_load_s', '.1f')} -->", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="a,b")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--extra-limit", type=float, default=600.0)
    parser.add_argument("--solvers-a", default="highs,greedy,local")
    # the review's district (issue 14) counted coverage by any type; generate now writes per_service
    parser.add_argument("--coverage", default="any_service", choices=["any_service", "per_service"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from lifecircle.optimizer.generate.district import generate_district

    tmp = Path(tempfile.mkdtemp(prefix="lifecircle-large-"))
    print("| district | solver | time limit s | status | route | objective | bound | gap | bound_source "
          "| spent / budget | load s | total s | CPU s | load avg | peak MiB |")
    print("|" + "---|" * 15)
    if "a" in args.only:
        # n_existing=4: the district of issue 14's review (the old default; the new one scales
        # existing facilities with population, 100 here)
        path = generate_district(tmp / "a", profile="hillside", n_demand=100_000, n_sites=10_000, seed=1,
                                 n_existing=4, budget_cny=100_000_000)
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(?m)^coverage: \w+$", f"coverage: {args.coverage}", text), encoding="utf-8")
        limits = [args.time_limit] + ([args.extra_limit] if args.extra_limit else [])
        for solver in args.solvers_a.split(","):
            for limit in (limits if solver == "highs" else [args.time_limit]):
                row = run(path, solver, limit, tmp / "out", cap_s=3 * limit + 600)
                print_row("100k x 10k x 2, 100 M", solver, limit, row)
    if "b" in args.only:
        path = generate_district(tmp / "b", profile="hillside", n_demand=100_000, seed=1)
        row = run(path, "highs", args.time_limit, tmp / "out", cap_s=3 * args.time_limit + 600)
        print_row("100k x 2,000 (defaults)", "highs", args.time_limit, row)


if __name__ == "__main__":
    main()
