"""Where the time goes on the realistic 100,000-point district of issue 14 (benchmarks/bench_dense.py):
three measurements on its reduced model (2,568 facility columns x 33,115 classes), each a fact
that rules a route to the proof in or out.

    .venv/bin/python benchmarks/bench_dense_probe.py [--limit 40]

1. **Components.** Connected components of the coverage graph (facility columns and classes,
   linked by coverage and one_per_site rows; the budget row left out). Many small components
   would let the budget be split exactly over them (a knapsack over each component's value curve).
2. **LP neighbourhoods.** The LP relaxation, then the restricted MILP over the LP's support and
   every column whose LP reduced cost is at most T, within ``--limit`` s each. Its MILP bound is
   valid for the restriction, so a bound below the optimum (1,174,983) proves that the optimum
   uses a column outside the neighbourhood.
3. **The proof phase alone.** HiGHS on the reduced coverage model (coverage objective, presolve
   off, primal heuristics off as in ``classic.points.PROVE_OPTIONS``) from the LP-guided start
   (optimizer/solve/lp_guided.py), for ``3 x --limit`` s: the bound it reaches.

Wall and CPU seconds of this process and the load average are printed with every figure.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
OPTIMUM = 1_174_983.0  # proven once (benchmarks/README.md, "Dense district")


def clock() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), ru.ru_utime + ru.ru_stime


def since(start: tuple[float, float]) -> str:
    wall, cpu = clock()
    load = open("/proc/loadavg").read().split()[0]
    return f"wall {wall - start[0]:.1f} s, cpu {cpu - start[1]:.1f} s, load {load}"


def dense_reduced(scenario: str):
    """The district's problem, column index, costs, must-open and dominated columns and reduced
    model, built as optimizer/solve/reduced.py builds them (bench_dense_options.py uses it too)."""
    sys.path.insert(0, str(REPO))
    from lifecircle.models.coverage import build_coverage_model
    from lifecircle.models.reduce import dominated_columns, reduce_coverage
    from lifecircle.optimizer.run import load_problem

    _, problem, _, _, _ = load_problem(scenario, out_dir=tempfile.mkdtemp(prefix="lifecircle-dense-out-"))
    model, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    must = problem.must_open[index.x_site] == index.x_type
    dominated = dominated_columns(index, cost, must, problem.min_open)
    reduced = reduce_coverage(model, index, cost, problem.budget_cny, must, dominated)
    return problem, index, cost, must, dominated, reduced


def dense_district() -> str:
    """A fresh copy of the district (generate's defaults at 100,000 points, seed 1)."""
    sys.path.insert(0, str(REPO))
    from lifecircle.optimizer.generate.district import generate_district

    tmp = Path(tempfile.mkdtemp(prefix="lifecircle-dense-probe-"))
    return str(generate_district(tmp / "b", profile="hillside", n_demand=100_000, seed=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=40.0, help="seconds per restricted MILP")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from scipy.sparse.csgraph import connected_components

    from lifecircle.optimizer.classic.points import PROVE_OPTIONS
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.lp_guided import lp_guided_plan
    from lifecircle.optimizer.solve.linear import solve_linear

    _, index, _, _, _, reduced = dense_reduced(dense_district())
    m, n_x = reduced.model, int(reduced.x_cols.size)
    print(f"reduced model: {n_x} facility columns, {m.n_rows} rows, {m.A.nnz} nonzeros")

    t = clock()
    rows = np.r_[np.arange(m.n_rows)[m.row_blocks["coverage"]], np.arange(m.n_rows)[m.row_blocks["one_per_site"]]]
    B = sp.csr_matrix(m.A)[rows]
    _, label = connected_components(sp.bmat([[None, B], [B.T, None]]).tocsr(), directed=False)
    _, sizes = np.unique(label[rows.size:rows.size + n_x], return_counts=True)
    print(f"1. components holding facility columns: {sizes.size}, largest {np.sort(sizes)[::-1][:5].tolist()} "
          f"({since(t)})")

    t = clock()
    import highspy
    from lifecircle.optimizer.solve.backends.highs import highs_lp

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highs_lp(replace(m, integrality=np.zeros(m.n_cols, dtype=bool)))
    lp.sense_ = highspy.ObjSense.kMaximize
    h.passModel(lp)
    h.run()
    x = np.asarray(h.getSolution().col_value)[:n_x]
    reduced_cost = np.abs(np.asarray(h.getSolution().col_dual)[:n_x])
    print(f"2. LP bound {h.getInfo().objective_function_value + m.offset:,.1f}, support {(x > 1e-6).sum()} "
          f"({since(t)})")
    print("| T | columns | status | objective | bound | bound < optimum | wall s | cpu s | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for limit_t in (0.0, 5.0, 20.0):
        keep = (x > 1e-6) | (reduced_cost <= limit_t)
        upper = m.col_upper.copy()
        upper[:n_x][~keep] = 0.0
        t = clock()
        sub = solve_linear(replace(m, col_upper=upper), "highs", SolveOptions(time_limit_s=args.limit))
        wall, cpu = clock()
        fmt = (lambda v: "-" if v is None else f"{v:,.1f}")
        print(f"| {limit_t:g} | {int(keep.sum())} | {sub.status.value} | {fmt(sub.objective)} | {fmt(sub.bound)} | "
              f"{'yes' if sub.bound is not None and sub.bound < OPTIMUM else 'no'} | {wall - t[0]:.1f} | "
              f"{cpu - t[1]:.1f} | {open('/proc/loadavg').read().split()[0]} |", flush=True)

    t = clock()
    guided = lp_guided_plan(reduced, "highs")
    start = reduced.encode(guided.astype(float), index.class_rows)
    print(f"3. LP-guided start {m.objective_value(start):,.1f} ({since(t)})")
    t = clock()
    proof = solve_linear(m, "highs", SolveOptions(time_limit_s=3 * args.limit, warm_start=start, presolve=False,
                                                  highs_options=PROVE_OPTIONS))
    print(f"   heuristics off, presolve off: {proof.status.value}, objective {proof.objective:,.1f}, "
          f"bound {proof.bound:,.1f} ({proof.bound - OPTIMUM:+.1f} from the optimum) ({since(t)})")


if __name__ == "__main__":
    main()
