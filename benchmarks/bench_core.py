"""Phase timings of `lifecircle solve` for the bundled districts and a generated large district,
with every exact backend, each run in its own process with a wall-clock cap.

    .venv/bin/python benchmarks/bench_core.py [--large 100000x10000] [--cap-s 600] [--solvers a,b]

Prints one table row per (district, solver): load, coverage, build, solve, write and total seconds,
peak memory, status and objective, plus the ratio of each backend's total to HiGHS's on the same
district in this run (the machine is shared and noisy; ratios from one run are what to compare).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED = ["yuzhong_hillside", "liangjiang_newtown", "bishan_rural"]
SOLVERS = ["highs", "pulp-cbc", "ortools-cpsat", "ortools-scip"]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from lifecircle.optimizer.run import run_solve
t0 = time.perf_counter()
result = run_solve({scenario!r}, solver={solver!r}, out_dir={out!r}, report=False)
s = result.summary
print(json.dumps({{"status": s["status"], "objective": s["objective"], "timings": s["timings_s"],
                  "model": s["model"],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_one(scenario: Path, solver: str, cap_s: float, out: Path) -> dict:
    code = CHILD.format(repo=str(REPO), scenario=str(scenario), solver=solver, out=str(out))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap_s)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout>{cap_s:.0f}s", "wall": time.perf_counter() - t0}
    if proc.returncode not in (0,):
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": f"crash: {last[:60]}", "wall": time.perf_counter() - t0}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["wall"] = time.perf_counter() - t0
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", default="100000x10000", help="demand x sites of the generated district ('' to skip)")
    parser.add_argument("--cap-s", type=float, default=600.0)
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    args = parser.parse_args()
    solvers = args.solvers.split(",")

    districts = [(name, REPO / "scenarios" / name / "scenario.yaml") for name in BUNDLED]
    tmp = Path(tempfile.mkdtemp(prefix="lifecircle-bench-"))
    if args.large:
        sys.path.insert(0, str(REPO))
        from lifecircle.optimizer.generate.district import generate_district

        n_demand, n_sites = (int(v) for v in args.large.split("x"))
        path = generate_district(tmp / "large", profile="hillside", n_demand=n_demand, n_sites=n_sites, seed=1)
        districts.append((f"generated {n_demand:,}x{n_sites:,}", path))

    header = ("district", "solver", "status", "objective", "load", "coverage", "build", "solve", "write",
              "total", "x HiGHS", "peak MiB", "columns", "rows")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, scenario in districts:
        base = None
        for solver in solvers:
            row = run_one(scenario, solver, args.cap_s, tmp / "out" / solver)
            t = row.get("timings", {})
            total = t.get("total")
            if solver == "highs" and total:
                base = total
            ratio = f"{total / base:.2f}" if total and base else "-"
            model = row.get("model", {})
            cells = [name, solver, row["status"],
                     "-" if row.get("objective") is None else f"{row['objective']:,.1f}",
                     *(f"{t[k]:.2f}" if k in t else "-" for k in ("load", "coverage", "build", "solve", "write", "total")),
                     ratio, f"{row['peak_mib']:.0f}" if "peak_mib" in row else "-",
                     str(model.get("columns", "-")), str(model.get("rows", "-"))]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
