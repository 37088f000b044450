"""Capacitated coverage at district scale (issue 7): model size, build and solve time, memory.

    .venv/bin/python benchmarks/bench_capacity.py [--sizes 20000x2000,100000x10000]
        [--time-limit 600] [--mem-gib 12] [--solver highs]

For each size a hillside district is generated (``generate_district(..., seed=1)``) and solved
twice, each run in its own process under an address-space cap (``--mem-gib``) so a model too big
for the machine fails with MemoryError instead of starving other work:

* ``plain``: the district as generated (the core coverage model);
* ``capacity``: the same district with illustrative capacities (elder_child: 300 elderly,
  30 infants, 120 children; canteen: 240 elderly).

Each row reports the phases (load, coverage, build, solve, evaluate), the model size, peak
resident memory (``ru_maxrss``) and the status within ``--time-limit``; the last columns are
capacity / plain ratios from the same run. The machine has 2 shared cores: timings are noisy.
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
CAPACITY = {"elder_child": {"elderly": 300, "infants": 30, "children": 120}, "canteen": {"elderly": 240}}

CHILD = r"""
import json, resource, sys, time
cap = int({mem_gib} * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.path.insert(0, {repo!r})
def phase(name):
    print("phase", name, flush=True, file=sys.stderr)
out = {{}}
try:
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.solve.coverage import solve_problem
    t0 = time.perf_counter(); phase("load")
    scenario = load_scenario({scenario!r})
    t1 = time.perf_counter(); phase("coverage")
    problem = build_problem(scenario)
    t_cov = time.perf_counter()
    active = problem.weighted_people() > 0
    cap_groups = problem.capacitated_groups()
    # (point, site) pairs within reach in capacitated groups: the assignment columns before merging
    out["reach_pairs"] = int(sum(m[active[:, g]].nnz for (k, g), m in problem.coverage.items() if cap_groups[g]))
    t2 = time.perf_counter(); phase("build+solve+evaluate")
    solution = solve_problem(problem, {solver!r}, SolveOptions(time_limit_s={time_limit}))
    t3 = time.perf_counter()
    s = solution
    out |= {{"status": str(s.status), "objective": s.objective, "bound": s.bound, "gap": s.gap,
           "load": t1 - t0, "coverage": t_cov - t1, "build": s.timings_s["build"], "solve": s.timings_s["solve"],
           "evaluate": (t3 - t2) - s.timings_s["build"] - s.timings_s["solve"], "model": s.model_stats,
           "selected": int(s.site.size)}}
except MemoryError:
    out["status"] = "out of memory"
out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps(out))
"""


def with_capacities(path: Path) -> Path:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, caps in CAPACITY.items():
        data["facility_types"][key]["capacity"] = caps
    out = path.with_name("scenario_capacity.yaml")
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def run(scenario: Path, solver: str, time_limit: float, mem_gib: float) -> dict:
    code = CHILD.format(repo=str(REPO), scenario=str(scenario), solver=solver, time_limit=time_limit,
                        mem_gib=mem_gib)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        phases = [line.split(" ", 1)[1] for line in proc.stderr.splitlines() if line.startswith("phase ")]
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        status = "out of memory" if "MemoryError" in proc.stderr or "bad_alloc" in proc.stderr else f"crash: {last[:70]}"
        return {"status": f"{status} in {phases[-1] if phases else '?'}", "wall": wall,
                "stderr_tail": proc.stderr.strip().splitlines()[-3:]}
    row = json.loads(lines[-1])
    row["wall"] = wall
    return row


def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000x2000,100000x10000")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--mem-gib", type=float, default=12.0)
    parser.add_argument("--solver", default="highs")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from lifecircle.optimizer.generate.district import generate_district

    tmp = Path(tempfile.mkdtemp(prefix="lifecircle-bench-capacity-"))
    header = ("district", "model", "status", "objective", "gap", "load s", "coverage s", "build s", "solve s",
              "evaluate s", "peak GiB", "reach pairs", "columns", "assign cols", "rows", "nonzeros", "cols x", "nnz x",
              "build x")
    print(f"solver {args.solver}, time limit {args.time_limit:g} s per solve, address-space cap {args.mem_gib:g} GiB")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size in args.sizes.split(","):
        n_demand, n_sites = (int(v) for v in size.split("x"))
        plain_path = generate_district(tmp / size, profile="hillside", n_demand=n_demand, n_sites=n_sites, seed=1)
        base = None
        for label, path in (("plain", plain_path), ("capacity", with_capacities(plain_path))):
            row = run(path, args.solver, args.time_limit, args.mem_gib)
            m = row.get("model", {})
            ratios = ["-", "-", "-"]
            if label == "plain":
                base = row
            elif base and m and base.get("model"):
                bm = base["model"]
                ratios = [f"{m['columns'] / bm['columns']:.1f}", f"{m['nonzeros'] / bm['nonzeros']:.1f}",
                          f"{row['build'] / max(base['build'], 1e-9):.1f}"]
            cells = [f"{n_demand:,} x {n_sites:,}", label, row["status"], fmt(row.get("objective"), ",.0f"),
                     "-" if row.get("gap") is None else f"{row['gap']:.2%}",
                     fmt(row.get("load")), fmt(row.get("coverage")), fmt(row.get("build")), fmt(row.get("solve")),
                     fmt(row.get("evaluate")), fmt(row.get("peak_gib"), ".2f"), fmt(row.get("reach_pairs"), ","),
                     fmt(m.get("columns"), ","), fmt(m.get("assignment_columns"), ","), fmt(m.get("rows"), ","),
                     fmt(m.get("nonzeros"), ","), *ratios]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
