"""The report's "next 10 % of budget" question on yuzhong_capacity (issue 14): before and after.

    .venv/bin/python benchmarks/bench_next_budget.py [--limit 21]

On one plan of ``scenarios/yuzhong_capacity`` (the proven optimum, 13,050.0, stored in
``tests/solve/data/yuzhong_capacity_optimum.json``), in one process, one after the other:

* ``milp`` (before): :func:`optimizer.outputs.explain._resolve`, the warm-started assignment MILP
  at 1.1 x the budget, capped at ``--limit`` seconds (the report caps it at the main solve's own
  time, 20.9 s in the last measured run);
* ``greedy`` (after): :func:`optimizer.solve.next_budget.add_within_budget`, the plan plus
  facilities added greedily, each priced by the persistent assignment LP, with the capacity
  ceiling as bound.

Prints a table: wall and CPU seconds, status, objective (what the budget buys), bound and its
source, and the CPU ratio milp / greedy from the same run. The machine has 2 shared cores: CPU
seconds are the steadier figure under load.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=21.0)
    args = parser.parse_args()

    from lifecircle.optimizer.core.solution import evaluate
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.outputs.explain import NEXT_BUDGET_FACTOR, _resolve
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.next_budget import add_within_budget

    problem = build_problem(load_scenario(REPO / "scenarios" / "yuzhong_capacity" / "scenario.yaml"))
    data = json.loads((REPO / "tests" / "solve" / "data" / "yuzhong_capacity_optimum.json").read_text(encoding="utf-8"))
    site = np.array([problem.site_ids.index(s) for s, _ in data["selected"]])
    type_ = np.array([problem.type_names.index(t) for _, t in data["selected"]])
    ev = evaluate(problem, site, type_)
    larger = problem.with_budget(problem.budget_cny * NEXT_BUDGET_FACTOR)
    print(f"plan: {site.size} facilities, objective {ev.objective:,.1f}, spent {ev.spent_cny:,.0f} of "
          f"{problem.budget_cny:,.0f}; question: budget {larger.budget_cny:,.0f}", flush=True)

    rows = []
    res, wall, cpu = timed(lambda: _resolve(larger, "highs", SolveOptions(time_limit_s=args.limit), (site, type_)))
    rows.append(("milp (before)", wall, cpu, res.status, res.objective, res.bound, "mip"))
    (s2, t2, after, bound), wall, cpu = timed(lambda: add_within_budget(larger, site, type_, ev))
    rows.append(("greedy + assignment LP (after)", wall, cpu, "feasible", after.objective, bound, "ceiling"))

    print("| method | wall s | CPU s | status | objective | gain | bound | bound_source | CPU x greedy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, wall, cpu, status, objective, bound, source in rows:
        gain = "-" if objective is None else f"{objective - ev.objective:,.1f}"
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {status} | "
              f"{'-' if objective is None else f'{objective:,.1f}'} | {gain} | "
              f"{'-' if bound is None else f'{bound:,.1f}'} | {source} | {cpu / rows[-1][2]:.1f} |")


if __name__ == "__main__":
    main()
