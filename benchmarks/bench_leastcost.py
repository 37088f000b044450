"""Least cost first (issue 14): what the canonical stages add to solve time on the bundled districts.

For each district, `solve_problem` with HiGHS twice in the same run: ``canonical=False`` (coverage
only, any optimal plan: the engine before issue 14) and ``canonical=True`` (least cost, rank sum and
the bounded tie check). Each is run ``--repeat`` times, alternating, and the minimum is kept, so a
loaded machine hurts both sides alike. Prints a markdown table with the ratio.

    .venv/bin/python benchmarks/bench_leastcost.py [--repeat 3] [--scenarios a,b]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.coverage import solve_problem

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT = "bishan_rural,liangjiang_newtown,yuzhong_hillside"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenarios", default=DEFAULT)
    args = parser.parse_args()
    print("| district | coverage only (s) | least cost + canonical (s) | ratio | coverage | spent before | "
          "spent after | stages | bound_source |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.scenarios.split(","):
        problem = build_problem(load_scenario(SCENARIOS / name / "scenario.yaml"))
        best = {False: float("inf"), True: float("inf")}
        last = {}
        for _ in range(args.repeat):
            for canonical in (False, True):
                t0 = time.perf_counter()
                last[canonical] = solve_problem(problem, "highs", SolveOptions(canonical=canonical))
                best[canonical] = min(best[canonical], time.perf_counter() - t0)
        after = last[True]
        stages = ", ".join(f"{s['stage']} {s['status']}" + (f" {s['timings_s']['solve']:.2f} s" if s.get("timings_s") else "")
                           for s in after.model_stats["stages"])
        print(f"| {name} | {best[False]:.2f} | {best[True]:.2f} | {best[True] / best[False]:.2f} | "
              f"{after.objective:,.1f} | {last[False].spent_cny:,.0f} | {after.spent_cny:,.0f} | {stages} | "
              f"{after.bound_source} |", flush=True)


if __name__ == "__main__":
    main()
