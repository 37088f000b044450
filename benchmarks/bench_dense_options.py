"""HiGHS options against stage 1 (coverage) of the realistic 100,000-point district of issue 14
(benchmarks/bench_dense.py): the reduced model and start the route builds, solved by HiGHS with one
variant of its options per row, each row its own process, one at a time.

    .venv/bin/python benchmarks/bench_dense_options.py [--variants route pscost2 ...] [--seeds 0 2] [--limit 170]

Variants (every one starts from the route's options: presolve off, ``mip_heuristic_effort`` 1.0,
the greedy + local-search start):

- ``route``: as the route runs it (optimizer/solve/reduced.py);
- ``presolve``: presolve on (it reduces nothing here, and allows restarts);
- ``pscost2``: ``mip_pscost_minreliable`` 2 (less strong branching; HiGHS's default 8);
- ``nodecuts``: ``mip_allow_cut_separation_at_nodes`` off;
- ``absgap``: ``mip_abs_gap`` 0.49: plans' coverage lies on a grid of 0.5, so a bound within 0.49
  of the incumbent proves it, and HiGHS stops exploring nodes that cannot beat it by 0.49;
- ``scaled``: the budget row divided by 1,000 (the costs' gcd: coefficients 207-4,977, not 2e8);
- ``implied``: the coverage columns declared implied integer (HiGHS then sees the objective on a
  grid of 0.5 and may prune nodes within 0.5 of the incumbent);
- ``effort05``, ``effort03``: ``mip_heuristic_effort`` 0.5 or 0.3 instead of the route's 1.0;
- ``presolve03``: presolve on and ``mip_heuristic_effort`` 0.3.

``wall s`` is HiGHS's run alone (the model is built before the clock starts); ``nodes`` its
branch-and-bound nodes. The optimum is 1,174,983.0.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np

from bench_dense_probe import dense_district, dense_reduced  # same directory

VARIANTS = ("route", "presolve", "pscost2", "nodecuts", "absgap", "scaled", "implied", "effort05", "effort03",
            "presolve03")
# set after the route's own options, so each variant's value wins
OPTIONS = {"presolve": (("presolve", "on"),), "pscost2": (("mip_pscost_minreliable", 2),),
           "nodecuts": (("mip_allow_cut_separation_at_nodes", False),), "absgap": (("mip_abs_gap", 0.49),),
           "effort05": (("mip_heuristic_effort", 0.5),), "effort03": (("mip_heuristic_effort", 0.3),),
           "presolve03": (("presolve", "on"), ("mip_heuristic_effort", 0.3))}


def one(scenario: str, variant: str, seed: int, limit: float) -> dict:
    """Stage 1 of the route's reduced model under ``variant`` (runs in a child process)."""
    problem, index, cost, must, dominated, reduced = dense_reduced(scenario)
    import highspy
    import scipy.sparse as sp

    from lifecircle.optimizer.solve.backends.highs import highs_lp
    from lifecircle.optimizer.solve.reduced import DENSE_HEURISTIC_EFFORT, warm_start_plan
    from lifecircle.optimizer.solve.strengthen import improve_plan

    start = warm_start_plan(index, cost, problem.budget_cny, must, problem.min_open, ~dominated)
    start = improve_plan(index, cost, problem.budget_cny, must, problem.min_open, start, ~dominated,
                         window_until=0.0)  # as the route: local search, no windows
    m = reduced.model
    if variant == "scaled":
        budget = m.row_blocks["budget"]
        scale = np.ones(m.n_rows)
        scale[budget] = 1e-3
        m = replace(m, A=sp.csr_matrix(sp.diags(scale) @ m.A), row_lower=m.row_lower * scale,
                    row_upper=m.row_upper * scale)
    lp = highs_lp(m)
    if variant == "implied":
        lp.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kImplicitInteger
                           for flag in m.integrality]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for name, value in (("presolve", "off"), ("mip_heuristic_effort", DENSE_HEURISTIC_EFFORT),
                        ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0), ("time_limit", limit),
                        ("random_seed", seed)) + OPTIONS.get(variant, ()):
        h.setOptionValue(name, value)
    h.passModel(lp)
    warm = highspy.HighsSolution()
    warm.col_value = list(reduced.encode(start.astype(float), index.class_rows))
    warm.value_valid = True
    h.setSolution(warm)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    h.run()
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    info = h.getInfo()
    return {"status": h.modelStatusToString(h.getModelStatus()), "objective": info.objective_function_value + m.offset,
            "bound": info.mip_dual_bound + m.offset, "nodes": int(info.mip_node_count), "wall_s": wall,
            "cpu_s": ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime,
            "load": open("/proc/loadavg").read().split()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 2])
    parser.add_argument("--limit", type=float, default=170.0, help="HiGHS time limit per row, seconds")
    parser.add_argument("--one", nargs=3, metavar=("SCENARIO", "VARIANT", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], int(args.one[2]), args.limit)))
        return
    path = dense_district()
    print("| variant | seed | status | objective | bound | nodes | wall s | cpu s | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for variant in args.variants:
        for seed in args.seeds:
            proc = subprocess.run([sys.executable, __file__, "--limit", str(args.limit), "--one", str(path),
                                   variant, str(seed)], capture_output=True, text=True)
            if proc.returncode:
                print(f"| {variant} | {seed} | crash: {(proc.stderr.strip().splitlines() or ['?'])[-1][:80]} |")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"| {variant} | {seed} | {row['status']} | {row['objective']:,.1f} | {row['bound']:,.1f} | "
                  f"{row['nodes']} | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | {row['load']} |", flush=True)


if __name__ == "__main__":
    main()
