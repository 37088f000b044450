"""City-scale figures of issue 6, each measured in its own process, with phase timings.

    .venv/bin/python benchmarks/bench_scale.py [--only district,sweep,city] [--keep DIR]
        [--district 100000x10000] [--budgets 1e6:2e7:20] [--circles 915] [--workers 2]
        [--binding 1e8,5e7] [--cap-s 300] [--repeat 3] [--jobs 1,2]

district  One large district from `lifecircle generate` with its documented defaults (hillside
          profile, seed 1): load to proven optimum through optimizer.reduced_solve (exact
          reductions, coverage ceiling), peak memory (ru_maxrss of the child). With --binding,
          the same district at smaller budgets where the budget binds, each capped at --cap-s.
sweep     For each bundled district: wall time of `lifecircle solve` and of `lifecircle sweep
          --budgets ... --jobs J` for each J of --jobs (whole CLI processes, interleaved), and the
          ratios, measured in the same run.
city      `lifecircle generate --city N` then `lifecircle city --workers W`, end to end, with the
          per-phase time summed over circles.

The machine is shared (2 cores, several jobs): absolute times are noisy; ratios from one run are
what to compare. Every table is printed in Markdown for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED = ["yuzhong_hillside", "liangjiang_newtown", "bishan_rural"]
LIFECIRCLE = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); from lifecircle.cli import main; main()"]

DISTRICT_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.solve.reduced import solve_reduced
from lifecircle.optimizer.solve.backends import SolveOptions
scenario = load_scenario({scenario!r}, budget_cny={budget!r})
t1 = time.perf_counter()
problem = build_problem(scenario)
t2 = time.perf_counter()
solution = solve_reduced(problem, "highs", SolveOptions(time_limit_s={cap!r}))
t3 = time.perf_counter()
print(json.dumps({{"status": str(solution.status), "objective": solution.objective, "bound": solution.bound,
                  "gap": solution.gap, "spent": solution.spent_cny, "sites": int(solution.site.size),
                  "budget": problem.budget_cny, "route": solution.model_stats.get("route"),
                  "stats": solution.model_stats,
                  "timings": {{"load": t1 - t0, "coverage": t2 - t1, **solution.timings_s, "total": t3 - t0}},
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}, default=str))
"""


def child(code: str, timeout_s: float) -> dict:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"status": f"killed at {timeout_s:.0f} s", "wall": time.perf_counter() - t0}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": f"crash: {last[:80]}", "wall": time.perf_counter() - t0}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["wall"] = time.perf_counter() - t0
    return row


def timed(args: list, timeout_s: float = 3600) -> tuple[float, int, str, float]:
    """(wall seconds, exit code, stdout, peak MiB of the process tree's largest child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, cwd=REPO, check=False)
    wall = time.perf_counter() - t0
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return wall, proc.returncode, proc.stdout + proc.stderr, peak


def bench_district(args, tmp: Path) -> None:
    sys.path.insert(0, str(REPO))
    from lifecircle.optimizer.generate.district import generate_district

    n_demand, n_sites = (int(v) for v in args.district.split("x"))
    path = generate_district(tmp / "district", profile="hillside", n_demand=n_demand, n_sites=n_sites, seed=1)
    print(f"\n### District {n_demand:,} x {n_sites:,} (hillside, seed 1), HiGHS through solve_reduced\n")
    header = ("budget", "status", "route", "objective", "gap", "spent", "sites", "load", "coverage", "build",
              "ceiling", "reduce", "solve", "check", "total", "peak MiB")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    budgets = [None] + [float(b) for b in args.binding.split(",") if b]
    for budget in budgets:
        code = DISTRICT_CHILD.format(repo=str(REPO), scenario=str(path), budget=budget, cap=args.cap_s)
        row = child(code, timeout_s=args.cap_s * 3 + 300)
        t = row.get("timings", {})
        cells = [f"{row.get('budget', budget or 0):,.0f}" + ("" if budget else " (default)"), row["status"],
                 str(row.get("route", "-")),
                 "-" if row.get("objective") is None else f"{row['objective']:,.1f}",
                 "-" if row.get("gap") is None else f"{row['gap']:.2%}",
                 "-" if row.get("spent") is None else f"{row['spent']:,.0f}", str(row.get("sites", "-")),
                 *(f"{t[k]:.1f}" if k in t else "-" for k in ("load", "coverage", "build", "ceiling", "reduce",
                                                             "solve", "check", "total")),
                 f"{row['peak_mib']:.0f}" if "peak_mib" in row else "-"]
        print("| " + " | ".join(cells) + " |", flush=True)
        if budget is None and "stats" in row:
            print(f"\nmodel: {json.dumps(row['stats'])}\n", flush=True)


def bench_sweep(args, tmp: Path) -> None:
    import os

    jobs = [int(j) for j in str(args.jobs).split(",") if j.strip()]
    load_before = os.getloadavg()
    print(f"\n### Sweep `--budgets {args.budgets}` against one `solve` (whole CLI processes), "
          f"`--jobs` {', '.join(map(str, jobs))}\n")
    header = ("district", "solve s", *(f"sweep s --jobs {j}" for j in jobs), *(f"ratio --jobs {j}" for j in jobs),
              "points solved", f"sweep phases --jobs {jobs[-1]} (s)", "knee")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in BUNDLED:
        scenario = REPO / "scenarios" / name / "scenario.yaml"
        solves, sweeps = [], {j: [] for j in jobs}
        for _ in range(args.repeat):  # interleaved, so a change in load hits every column alike
            wall, _, _, _ = timed([*LIFECIRCLE, "solve", str(scenario), "--no-report", "--out",
                                   str(tmp / f"solve-{name}")])
            solves.append(wall)
            for j in jobs:
                wall, _, _, _ = timed([*LIFECIRCLE, "sweep", str(scenario), "--budgets", args.budgets,
                                       "--jobs", str(j), "--out", str(tmp / f"sweep-{name}-{j}")])
                sweeps[j].append(wall)
        curves = {j: (tmp / f"sweep-{name}-{j}" / "curve.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
                  for j in jobs}
        # every column but solve_s (wall time) must agree between --jobs values
        same = len({tuple(",".join(line.split(",")[:-2] + line.split(",")[-1:]) for line in c)
                    for c in curves.values()}) == 1
        meta = json.loads((tmp / f"sweep-{name}-{jobs[-1]}" / "sweep.json").read_text(encoding="utf-8"))
        curve = curves[jobs[-1]]
        solved = sum(1 for line in curve if float(line.split(",")[-2]) > 0)
        phases = ", ".join(f"{k} {v:.1f}" for k, v in meta["timings_s"].items())
        knee = "-" if meta["knee"] is None else f"{meta['knee']:,.0f}"
        s = min(solves)
        w = {j: min(sweeps[j]) for j in jobs}
        cells = [name, f"{s:.2f}", *(f"{w[j]:.2f}" for j in jobs), *(f"{w[j] / s:.2f}" for j in jobs),
                 f"{solved} of {len(curve)}" + ("" if same else " (curves differ between --jobs!)"), phases, knee]
        print("| " + " | ".join(cells) + " |", flush=True)
    load_after = os.getloadavg()
    print(f"\nload average (1, 5, 15 min) before {', '.join(f'{v:.2f}' for v in load_before)}, "
          f"after {', '.join(f'{v:.2f}' for v in load_after)} (this benchmark's own processes count too)")


def bench_city(args, tmp: Path) -> None:
    city = Path(args.keep) / "city" if args.keep else tmp / "city"
    out = Path(args.keep) / "city_out" if args.keep else tmp / "city_out"
    if not (city / "README.md").is_file():
        wall, code, text, _ = timed([*LIFECIRCLE, "generate", "--city", str(args.circles), str(city)])
        print(f"\ngenerate --city {args.circles}: {wall:.1f} s (exit {code})")
    wall, code, text, peak = timed([*LIFECIRCLE, "city", str(city), "--workers", str(args.workers), "--out",
                                    str(out), "--no-progress"])
    print(f"\n### City: {args.circles} circles, `lifecircle city --workers {args.workers}`\n")
    print(f"wall {wall:.1f} s ({wall / 60:.1f} min), exit {code}; peak RSS of the largest child {peak:.0f} MiB\n")
    print("```\n" + text.strip() + "\n```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="district,sweep,city")
    parser.add_argument("--district", default="100000x10000")
    parser.add_argument("--binding", default="", help="extra budgets for the district, comma list")
    parser.add_argument("--cap-s", type=float, default=300.0, help="solver time limit per district solve")
    parser.add_argument("--budgets", default="1e6:2e7:20")
    parser.add_argument("--repeat", type=int, default=1, help="sweep/solve repetitions (the minimum is shown)")
    parser.add_argument("--jobs", default="1,2", help="sweep --jobs values to time side by side, comma list")
    parser.add_argument("--circles", type=int, default=915)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", default=None, help="folder to keep the generated city in (reused when present)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lifecircle-scale-"))
    print(f"# bench_scale: {' '.join(sys.argv[1:]) or '(defaults)'}; temporary files in {tmp}")
    for part in args.only.split(","):
        {"district": bench_district, "sweep": bench_sweep, "city": bench_city}[part](args, tmp)


if __name__ == "__main__":
    main()
