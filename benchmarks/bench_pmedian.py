"""Exact p-median on OR-Library pmed1-40 (issue 16): time, status, objective, bound, gap and
bound source of ``solve_classic(..., "pmedian")``, with the old plain-ladder MIP on a few
instances for a ratio measured in the same run.

    .venv/bin/python benchmarks/bench_pmedian.py ../shared/data/orlib-pmed --instances 1-30 \\
        --old 1,6,11 --time-limit 300

pmed31-40 are public OR-Library files not shipped with the shared data: give a folder holding
them (and a ``pmedopt.txt`` with their optima) and ``--instances 31-40``; instances whose file is
missing are listed as skipped. Each solve runs in its own process, so one slow or crashing solve
cannot stall the table. The "old" method is what ``solve_classic`` ran before issue 16: Elloumi's
ladder on every point's ``m - p + 1`` nearest sites, warm-started from the interchange plan, all
proved by HiGHS's branch-and-bound.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def one(path: str, method: str, time_limit: float | None) -> dict:
    from dataclasses import replace

    from lifecircle.models import classic as cm
    from lifecircle.optimizer.classic.formats import read_orlib_pmed
    from lifecircle.optimizer.classic.solve import solve_classic
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.linear import solve_linear

    inst = read_orlib_pmed(path)
    t0 = time.perf_counter()
    if method == "new":
        res = solve_classic(inst, "pmedian", solver="highs",
                            options=SolveOptions(time_limit_s=time_limit))
        wall = time.perf_counter() - t0
        stats = res.presolve or {}
        return {"wall_s": wall, "status": res.status, "objective": res.objective,
                "bound": res.bound, "gap": res.gap, "bound_source": res.bound_source,
                "nodes": stats.get("tree_nodes"), "message": res.message}
    model = cm.build_pmedian(inst.costs, inst.weights, inst.p)
    options = SolveOptions(time_limit_s=time_limit)
    plan = cm.pmedian_interchange(inst.costs, inst.weights, inst.p)
    if plan is not None:
        options = replace(options, warm_start=cm.pmedian_start(inst.costs, inst.weights, inst.p,
                                                               plan))
    sol = solve_linear(model, "highs", options)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "status": str(sol.status), "objective": sol.objective,
            "bound": sol.bound, "gap": sol.gap, "bound_source": "mip"}


def run_child(path, method, time_limit):
    code = ("import json, sys; sys.path.insert(0, %r); from benchmarks.bench_pmedian import one; "
            "print('@@' + json.dumps(one(%r, %r, %r)))" % (ROOT, path, method, time_limit))
    limit = None if time_limit is None else 2 * time_limit + 120
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    for line in proc.stdout.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    return {"status": "crash: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:100]}


def numbers(spec: str):
    if "-" in spec:
        a, b = map(int, spec.split("-"))
        return list(range(a, b + 1))
    return [int(x) for x in spec.split(",") if x]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="folder with pmedN.txt and pmedopt.txt")
    ap.add_argument("--instances", default="1-30", help="range like 1-30 or list 1,6,11")
    ap.add_argument("--old", default="", help="instances also solved the old way, for a ratio")
    ap.add_argument("--time-limit", type=float, default=300)
    args = ap.parse_args(argv)
    from lifecircle.optimizer.classic.formats import read_known

    opt_path = os.path.join(args.folder, "pmedopt.txt")
    known = read_known(opt_path) if os.path.isfile(opt_path) else {}
    old = set(numbers(args.old))
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"p-median, solver highs, time limit {args.time_limit:g} s, each solve in its own "
          "process; wall = read excluded, incumbent + bound + tree/MIP included")
    print("| instance | n | p | known optimum | wall s | status | objective | bound | gap "
          "| bound source | tree nodes | old wall s (status) | old / new |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    times = []
    for k in numbers(args.instances):
        name = f"pmed{k}"
        path = os.path.join(args.folder, name + ".txt")
        if not os.path.isfile(path):
            print(f"| {name} | | | | skipped: {path} not found | | | | | | | | |", flush=True)
            continue
        with open(path) as fh:
            n, _, p = (int(v) for v in fh.readline().split()[:3])
        new = run_child(path, "new", args.time_limit)
        if "wall_s" in new:
            times.append((new["wall_s"], name))
        o_cell, ratio = "", ""
        if k in old:
            o = run_child(path, "old", args.time_limit)
            if "wall_s" in o:
                o_cell = f"{o['wall_s']:.1f} ({o['status']})"
                if "wall_s" in new:
                    ratio = f"{o['wall_s'] / new['wall_s']:.0f}x"
            else:
                o_cell = o["status"]
        f = lambda key, fmt: fmt.format(new[key]) if new.get(key) is not None else ""  # noqa
        mark = "" if new.get("objective") is None or known.get(name) is None else (
            "" if abs(new["objective"] - known[name]) < 1e-6 else " (differs)")
        print(f"| {name} | {n} | {p} | {known.get(name, ''):g} | {f('wall_s', '{:.2f}')} | "
              f"{new.get('status', '')} | {f('objective', '{:g}')}{mark} | {f('bound', '{:g}')} | "
              f"{f('gap', '{:.2g}')} | {new.get('bound_source') or ''} | "
              f"{new.get('nodes') if new.get('nodes') is not None else ''} | {o_cell} | {ratio} |",
              flush=True)
    if times:
        worst = max(times)
        print(f"\ntotal {sum(t for t, _ in times):.1f} s over {len(times)} instances; slowest "
              f"{worst[1]} {worst[0]:.1f} s; load average at end: "
              f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
