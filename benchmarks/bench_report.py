"""What report.html and sites.xlsx cost on top of a solve (issue 5), by district size.

    .venv/bin/python benchmarks/bench_report.py [--sizes 4000x160,4000x160@0.3,20000x800,50000x2000]
                                                [--time-limit 120]

A size ``NxM@f`` solves with f times the generated budget (a tight budget leaves reachable people
uncovered, so the plan facts need real re-solves instead of a bound).

For each generated hillside district: the main solve (HiGHS), then each part of the report
separately: per-site explanations (evaluation only), plan facts (re-solves or LP bounds), the
HTML page and the workbook. Re-solves are capped as `solve` caps them: the main solve's time,
at least 5 s. The plan-facts column says how each rule was settled (ceiling, LP bound or
re-solve) and whether it binds (y/n, ? when a capped re-solve could not tell). Ratios are to the main solve of the same district in the same run;
the machine is shared and noisy, so compare ratios, not seconds across runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lifecircle.optimizer.inputs.assemble import build_problem  # noqa: E402
from lifecircle.optimizer.solve.backends import SolveOptions  # noqa: E402
from lifecircle.optimizer.outputs.explain import explain_sites, plan_facts  # noqa: E402
from lifecircle.optimizer.generate.district import generate_district  # noqa: E402
from lifecircle.optimizer.outputs.report import (
    binding_rows, group_rows, kind_rows, render_report, site_list,
)  # noqa: E402
from lifecircle.optimizer.outputs.report import RESOLVE_MIN_S, solve_fact_rows, uncovered_rows  # noqa: E402
from lifecircle.optimizer.inputs.scenario import load_scenario  # noqa: E402
from lifecircle.optimizer.solve.coverage import solve_problem  # noqa: E402
from lifecircle.optimizer.outputs.xlsx import write_sites_xlsx  # noqa: E402


def one(size: str, time_limit: float, folder: Path) -> dict:
    dims, _, share = size.partition("@")
    n_demand, n_sites = (int(v) for v in dims.split("x"))
    path = generate_district(folder / dims, profile="hillside", n_demand=n_demand, n_sites=n_sites, seed=1)
    scenario = load_scenario(path)
    if share:
        scenario = load_scenario(path, budget_cny=scenario.budget_cny * float(share))
    problem = build_problem(scenario)
    options = SolveOptions(time_limit_s=time_limit)
    t0 = time.perf_counter()
    sol = solve_problem(problem, "highs", options)
    t1 = time.perf_counter()
    expl = explain_sites(problem, sol.site, sol.type, sol.evaluation)
    t2 = time.perf_counter()
    # re-solves capped as `solve` caps them (optimizer.outputs.report.write_reports)
    cap = SolveOptions(time_limit_s=max(RESOLVE_MIN_S, t1 - t0))
    facts = plan_facts(problem, sol.site, sol.type, options=cap, evaluation=sol.evaluation)
    t3 = time.perf_counter()
    info = {"solver": "highs", "status": str(sol.status), "objective": sol.objective, "bound": sol.bound,
            "gap": sol.gap, "spent": sol.spent_cny, "budget": problem.budget_cny}
    html = render_report(scenario, problem, expl, facts, sol.evaluation.covered, info, "zh")
    t4 = time.perf_counter()
    headers, rows, _, _ = site_list(scenario, problem, expl, "zh")
    write_sites_xlsx(folder / f"{size}.xlsx", (headers, rows), group_rows(scenario, facts, "zh"),
                     kind_rows(scenario, problem, expl, "zh"), binding_rows(scenario, facts, "zh"),
                     uncovered_rows(scenario, facts, "zh"), solve_fact_rows(scenario, problem, len(expl), info, "zh"),
                     "zh")
    t5 = time.perf_counter()
    methods = "/".join(f"{r.resolve.method}:{'?' if r.binding is None else 'yn'[not r.binding]}" if r.resolve
                       else "-" for r in facts.rules)
    return {"size": size, "sites": len(expl), "status": str(sol.status), "solve": t1 - t0, "explain": t2 - t1,
            "facts": t3 - t2, "methods": methods, "html": t4 - t3, "html_mb": len(html.encode()) / 1e6,
            "xlsx": t5 - t4}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="4000x160,4000x160@0.3,20000x800,50000x2000")
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    print("| demand x sites | chosen | status | solve s | explain s | plan facts s (budget/must/min) | html s | html MB "
          "| xlsx s | report / solve |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            r = one(size, args.time_limit, Path(tmp))
            report = r["explain"] + r["facts"] + r["html"] + r["xlsx"]
            print(f"| {r['size']} | {r['sites']} | {r['status']} | {r['solve']:.2f} | {r['explain']:.2f} | "
                  f"{r['facts']:.2f} ({r['methods']}) | {r['html']:.2f} | {r['html_mb']:.1f} | {r['xlsx']:.2f} | "
                  f"{report / max(r['solve'], 1e-9):.2f} |", flush=True)


if __name__ == "__main__":
    main()
