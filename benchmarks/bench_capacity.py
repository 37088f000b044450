"""Capacitated coverage at district scale (issue 7): model size, build and solve time, memory.

    .venv/bin/python benchmarks/bench_capacity.py [--sizes 20000x2000,100000x10000]
        [--time-limit 600] [--mem-gib 12] [--solver highs]

For each size a hillside district is generated (``generate_district(..., seed=1)``) and solved
twice, each run in its own process under an address-space cap (``--mem-gib``) so a model too big
for the machine fails with MemoryError instead of starving other work:

* ``plain``: the district as generated (the core coverage model);
* ``capacity``: the same district with illustrative capacities (elder_child: 300 elderly,
  30 infants, 120 children; canteen: 240 elderly).

Issue 14 sections (each its own table):

    .venv/bin/python benchmarks/bench_capacity.py --yuzhong [--gap 0.01]
        the whole ``lifecircle solve scenarios/yuzhong_capacity/scenario.yaml`` process (with the
        report): wall and CPU seconds, peak RSS, status, bound and bound_source from summary.json;
        then, in one process, the report's swap figures by the persistent LP against a cold
        evaluate() per swap on the same plan (the ratio is from the same run);
    .venv/bin/python benchmarks/bench_capacity.py --linking SCENARIO[,SCENARIO] [--time-limit 120]
        per linking mode (none, class, pair): rows, LP bound and LP time, MILP status and bound
        within the limit;
    .venv/bin/python benchmarks/bench_capacity.py --large 100000x10000 [--time-limit 120] [--mem-gib 4]
        a generated district with capacities and a binding budget (the generator's budget cut to
        ``--budget-share`` of what full coverage costs) solved through ``solve_problem`` in a
        capped process: status, bound_source, gap, seconds, peak RSS.

    .venv/bin/python benchmarks/bench_capacity.py --proof [--main /work/main] [--rounds 1] [--main-limit 60]
        the whole default command (with the report, no --gap) on this branch (the Benders route,
        optimizer/solve/capacity_benders.py) and on another checkout's ``lifecircle`` (main's MILP
        route, given ``--time-limit``: it took 771 s to prove without one), alternated, each with
        wall and CPU seconds (the child's rusage), the load average before it, status, objective,
        bound, bound_source and the Benders counts from summary.json.

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


def yuzhong(gap: float | None) -> None:
    """The whole solve command, then persistent against cold swaps on its plan."""
    import numpy as np

    extra = [] if gap is None else ["--gap", str(gap)]
    whole = _whole(REPO / ".venv" / "bin" / "lifecircle", REPO, extra)
    summary, wall, cpu = whole["summary"], whole["wall"], whole["cpu"]
    print(f"`{whole['cmd']}` exit {whole['exit']}")
    print("| status | objective | bound | bound_source | wall s | CPU s | peak GiB | timings_s |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {summary.get('status')} | {fmt(summary.get('objective'), ',.1f')} | {fmt(summary.get('bound'), ',.1f')} | "
          f"{summary.get('bound_source', '-')} | {wall:.1f} | {cpu:.1f} | {whole['peak_gib']:.2f} | "
          f"{summary.get('timings_s')}, report {(summary.get('report') or {}).get('timings_s')} |", flush=True)
    # the swaps, persistent against cold, on the plan just found
    from lifecircle.optimizer.core.solution import evaluate
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.outputs.explain import explain_sites

    problem = build_problem(load_scenario(REPO / "scenarios" / "yuzhong_capacity" / "scenario.yaml"))
    ids, types = list(problem.site_ids), list(problem.type_names)
    rows = [(ids.index(r["site_id"]), types.index(r["facility_type"])) for r in summary.get("selected", summary.get("sites", []))]
    if not rows:
        print("no plan in summary.json: swaps not measured")
        return
    site = np.array([r[0] for r in rows], dtype=np.int64)
    type_ = np.array([r[1] for r in rows], dtype=np.int64)
    ev = evaluate(problem, site, type_)
    t0 = time.perf_counter()
    expl = explain_sites(problem, site, type_, ev)
    t_new = time.perf_counter() - t0
    swaps = np.flatnonzero(expl.alt_site >= 0)
    t0 = time.perf_counter()
    worst = 0.0
    for f in swaps:
        keep = np.arange(site.size) != f
        cold = evaluate(problem, np.append(site[keep], expl.alt_site[f]), np.append(type_[keep], expl.alt_type[f])).objective
        worst = max(worst, abs(cold - expl.alt_objective[f]))
    t_cold = time.perf_counter() - t0
    print()
    print("| swaps | explain_sites (persistent LP) s | cold evaluate() per swap s | cold / persistent | largest difference |")
    print("|---|---|---|---|---|")
    print(f"| {swaps.size} | {t_new:.1f} | {t_cold:.1f} | {t_cold / max(t_new, 1e-9):.1f} | {worst:.2e} |")


def linking(paths: str, time_limit: float) -> None:
    """LP bound and MILP progress per linking mode."""
    from dataclasses import replace

    import numpy as np

    from lifecircle.models.service import build_service_model
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.linear import solve_linear

    print(f"HiGHS, MILP time limit {time_limit:g} s")
    print("| scenario | linking | rows | nonzeros | LP bound | LP s | MILP status | objective | MILP bound | MILP s | LP s x none |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in paths.split(","):
        problem = build_problem(load_scenario(path))
        base = None
        for mode in ("none", "class", "pair"):
            model, _ = build_service_model(problem, linking=mode)
            lp = replace(model, integrality=np.zeros(model.n_cols, dtype=bool), integral_optimum=False)
            t0 = time.perf_counter()
            r = solve_linear(lp, "highs", SolveOptions())
            t_lp = time.perf_counter() - t0
            base = t_lp if base is None else base
            t0 = time.perf_counter()
            m = solve_linear(model, "highs", SolveOptions(time_limit_s=time_limit))
            t_mip = time.perf_counter() - t0
            print(f"| {Path(path).parent.name} | {mode} | {model.n_rows:,} | {model.A.nnz:,} | {fmt(r.objective, ',.2f')} | "
                  f"{t_lp:.1f} | {m.status} | {fmt(m.objective, ',.1f')} | {fmt(m.bound, ',.2f')} | {t_mip:.1f} | "
                  f"{t_lp / max(base, 1e-9):.1f} |", flush=True)


LARGE = r"""
import json, resource, sys, time
cap = int({mem_gib} * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
out = {{}}
try:
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.coverage import solve_problem
    t0 = time.perf_counter()
    problem = build_problem(load_scenario({scenario!r}))
    t1 = time.perf_counter()
    s = solve_problem(problem, "highs", SolveOptions(time_limit_s={time_limit}))
    t2 = time.perf_counter()
    out |= {{"status": str(s.status.value), "termination": str(s.termination.value) if s.termination else None,
            "bound_source": s.bound_source.value if s.bound_source else None, "objective": s.objective,
            "bound": s.bound, "gap": s.gap, "load": t1 - t0, "solve": t2 - t1, "selected": int(s.site.size),
            "spent": s.spent_cny, "budget": problem.budget_cny}}
except MemoryError:
    out["status"] = "out of memory"
out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps(out))
"""


def large(sizes: str, time_limit: float, mem_gib: float, budget_share: float) -> None:
    """Generated capacitated districts with a binding budget, through solve_problem."""
    import yaml

    from lifecircle.optimizer.generate.district import generate_district

    tmp = Path(tempfile.mkdtemp(prefix="lifecircle-bench-large-"))
    print(f"time limit {time_limit:g} s, address-space cap {mem_gib:g} GiB, budget {budget_share:.0%} of the generated one")
    print("| district | status | termination | bound_source | objective | bound | gap | facilities | spent / budget | load s | solve s | wall s | peak GiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes.split(","):
        n_demand, n_sites = (int(v) for v in size.split("x"))
        path = with_capacities(generate_district(tmp / size, profile="hillside", n_demand=n_demand, n_sites=n_sites, seed=1))
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["budget"] = int(float(data["budget"]) * budget_share)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        code = LARGE.format(scenario=str(path), time_limit=time_limit, mem_gib=mem_gib)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        lines = proc.stdout.strip().splitlines()
        row = json.loads(lines[-1]) if lines else {"status": "crash: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]}
        print(f"| {n_demand:,} x {n_sites:,} | {row['status']} | {row.get('termination', '-')} | {row.get('bound_source', '-')} | "
              f"{fmt(row.get('objective'), ',.1f')} | {fmt(row.get('bound'), ',.1f')} | "
              f"{'-' if row.get('gap') is None else format(row['gap'], '.2%')} | {row.get('selected', '-')} | "
              f"{fmt(row['spent'] / row['budget'] if row.get('budget') else None, '.3f')} | {fmt(row.get('load'))} | {fmt(row.get('solve'))} | {wall:.1f} | {fmt(row.get('peak_gib'), '.2f')} |", flush=True)


def _whole(exe: Path, cwd: Path, extra: list) -> dict:
    """One `lifecircle solve scenarios/yuzhong_capacity/scenario.yaml` process: wall, CPU, summary."""
    import os
    import resource

    out = Path(tempfile.mkdtemp(prefix="lifecircle-bench-proof-")) / "out"
    cmd = [str(exe), "solve", "scenarios/yuzhong_capacity/scenario.yaml", "--out", str(out)] + extra
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8")) if (out / "summary.json").is_file() else {}
    return {"cmd": " ".join(["lifecircle"] + cmd[1:3] + extra), "exit": proc.returncode, "load": load, "wall": wall,
            "cpu": cpu, "peak_gib": after.ru_maxrss / 2**20, "summary": summary}


def proof(main_repo: Path, rounds: int, main_limit: float) -> None:
    """This branch's default command against main's with a time limit, alternated."""
    runs = []
    for _ in range(rounds):
        runs.append(("branch", _whole(REPO / ".venv" / "bin" / "lifecircle", REPO, [])))
        runs.append(("main", _whole(main_repo / ".venv" / "bin" / "lifecircle", main_repo,
                                    ["--time-limit", f"{main_limit:g}"])))
    print("| path | command | load 1 min | wall s | CPU s | status | objective | bound | bound_source | "
          "solve s | write s | spent | master solves | assignment LPs | cuts (reused) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in runs:
        s = r["summary"]
        t = s.get("timings_s") or {}
        b = (s.get("model") or {}).get("benders") or {}
        print(f"| {name} | `{r['cmd']}` | {r['load']:.1f} | {r['wall']:.1f} | {r['cpu']:.1f} | {s.get('status')} | "
              f"{fmt(s.get('objective'), ',.1f')} | {fmt(s.get('bound'), ',.1f')} | {s.get('bound_source', '-')} | "
              f"{fmt(t.get('solve'))} | {fmt(t.get('write'))} | {fmt(s.get('spent'), ',.0f')} | "
              f"{b.get('master_solves', '-')} | {b.get('assignment_lps', '-')} | "
              f"{b.get('cuts', '-')} ({b.get('cuts_reused', '-')}) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--yuzhong", action="store_true")
    parser.add_argument("--proof", action="store_true")
    parser.add_argument("--main", default="/work/main")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--main-limit", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=None)
    parser.add_argument("--linking", default=None)
    parser.add_argument("--large", default=None)
    parser.add_argument("--budget-share", type=float, default=0.1)
    parser.add_argument("--sizes", default="20000x2000,100000x10000")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--mem-gib", type=float, default=12.0)
    parser.add_argument("--solver", default="highs")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.proof:
        proof(Path(args.main), args.rounds, args.main_limit)
        return
    if args.yuzhong or args.linking or args.large:
        if args.yuzhong:
            yuzhong(args.gap)
        if args.linking:
            linking(args.linking, args.time_limit)
        if args.large:
            large(args.large, args.time_limit, args.mem_gib, args.budget_share)
        return
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
