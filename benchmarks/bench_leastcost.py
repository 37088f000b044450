"""Least cost first (issue 14): what the canonical stages add to solve time on the bundled districts.

For each district, as bundled (its own scenario.yaml: ``coverage: per_service`` on the three plain
districts), `solve_problem` with HiGHS twice in the same run: ``canonical=False`` (coverage only,
any optimal plan: the engine before issue 14) and ``canonical=True`` (least cost, rank sum and the
bounded tie check). Each is run ``--repeat`` times, alternating, and the minimum wall and the
minimum CPU seconds (this process: HiGHS's threads included) are kept, so a loaded machine hurts
both sides alike. Prints the load average and a markdown table with both ratios.

    .venv/bin/python benchmarks/bench_leastcost.py [--repeat 3] [--scenarios a,b] [--seed 0]

``--seed`` sets HiGHS's ``random_seed`` on both sides (its default is 0): the two objectives take
different search paths, and the ratio moves with the seed, so check a few.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.coverage import solve_problem

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT = "bishan_rural,liangjiang_newtown,yuzhong_hillside"


def _stages(solution) -> str:
    return ", ".join(f"{s['stage']} {s['status']}" + (f" {s['timings_s']['solve']:.2f} s" if s.get("timings_s") else "")
                     for s in solution.model_stats["stages"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenarios", default=DEFAULT)
    parser.add_argument("--seed", type=int, default=None, help="HiGHS random_seed for both sides")
    args = parser.parse_args()
    print(f"seed: {args.seed if args.seed is not None else 'HiGHS default (0)'}")
    print(f"load average at start: {' '.join(open('/proc/loadavg').read().split()[:3])}" if os.path.exists("/proc/loadavg") else "")
    print("| district | coverage | coverage only wall / CPU (s) | least cost + canonical wall / CPU (s) | ratio wall / CPU | "
          "coverage | spent before | spent after | stages (last canonical run) | bound_source |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.scenarios.split(","):
        scenario = load_scenario(SCENARIOS / name / "scenario.yaml")
        problem = build_problem(scenario)
        wall = {False: float("inf"), True: float("inf")}
        cpu = {False: float("inf"), True: float("inf")}
        last = {}
        for _ in range(args.repeat):
            for canonical in (False, True):
                t0, c0 = time.perf_counter(), time.process_time()
                last[canonical] = solve_problem(problem, "highs", SolveOptions(canonical=canonical, seed=args.seed))
                wall[canonical] = min(wall[canonical], time.perf_counter() - t0)
                cpu[canonical] = min(cpu[canonical], time.process_time() - c0)
        after = last[True]
        print(f"| {name} | {scenario.coverage_mode} | {wall[False]:.2f} / {cpu[False]:.2f} | {wall[True]:.2f} / {cpu[True]:.2f} | "
              f"{wall[True] / wall[False]:.2f} / {cpu[True] / cpu[False]:.2f} | "
              f"{after.objective:,.1f} | {last[False].spent_cny:,.0f} | {after.spent_cny:,.0f} | {_stages(after)} | "
              f"{after.bound_source} |", flush=True)
    if os.path.exists("/proc/loadavg"):
        print(f"load average at end: {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main()
