"""p-median formulations side by side on OR-Library instances: Elloumi's distinct-distance ladder
(what ``models/classic.py`` builds) against the textbook assignment model (``x_ij <= y_j``, n x m
columns), both solved by the same backend through ``solve_linear``.

    .venv/bin/python benchmarks/bench_classic.py ../shared/data/orlib-pmed --instances 1-10 \
        --solver highs --time-limit 300

Prints a table: size of each model, build and solve seconds, objectives, and the solve-time ratio
assignment / ladder from the same run (> 1: the ladder is faster). Each solve runs in its own
process so that one slow or crashing solve cannot stall the table.
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


def build_assignment(costs, weights, p):
    """The textbook p-median: min sum w_i d_ij x_ij, sum_j x_ij = 1, x_ij <= y_j, sum y = p."""
    import numpy as np
    import scipy.sparse as sp

    from lifecircle.models.linear import MINIMIZE, LinearModel, stack_rows

    n, m, k = costs.n_demand, costs.n_sites, costs.n_pairs
    pair = np.arange(k)
    assign = sp.csr_matrix((np.ones(k), (costs.demand, m + pair)), shape=(n, m + k))
    link = sp.csr_matrix((np.r_[np.ones(k), -np.ones(k)],
                          (np.r_[pair, pair], np.r_[m + pair, costs.site])), shape=(k, m + k))
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))), shape=(1, m + k))
    A, lo, hi, blocks = stack_rows([("assign", assign, 1.0, 1.0), ("link", link, -np.inf, 0.0),
                                    ("count", count, float(p), float(p))])
    c = np.r_[np.zeros(m), np.asarray(weights)[costs.demand] * costs.cost]
    return LinearModel(MINIMIZE, c, A, lo, hi, np.zeros(m + k), np.ones(m + k),
                       np.r_[np.ones(m, dtype=bool), np.zeros(k, dtype=bool)],
                       integral_optimum=True, col_blocks={"open": slice(0, m)}, row_blocks=blocks)


def one(path: str, formulation: str, solver: str, time_limit: float | None) -> dict:
    from lifecircle.models.classic import build_pmedian
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.classic.formats import read_orlib_pmed
    from lifecircle.optimizer.solve.linear import solve_linear

    inst = read_orlib_pmed(path)
    t0 = time.perf_counter()
    build = build_pmedian if formulation == "ladder" else build_assignment
    model = build(inst.costs, inst.weights, inst.p)
    t1 = time.perf_counter()
    sol = solve_linear(model, solver, SolveOptions(time_limit_s=time_limit))
    t2 = time.perf_counter()
    return {"cols": model.n_cols, "rows": model.n_rows, "nnz": int(model.A.nnz),
            "status": str(sol.status), "objective": sol.objective, "build_s": t1 - t0,
            "solve_s": t2 - t1}


def run_child(path, formulation, solver, time_limit):
    code = ("import json, sys; sys.path.insert(0, %r); from benchmarks.bench_classic import one; "
            "print('@@' + json.dumps(one(%r, %r, %r, %r)))" % (ROOT, path, formulation, solver,
                                                               time_limit))
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=None if time_limit is None else 2 * time_limit + 60)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    for line in proc.stdout.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    return {"status": "crash"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="folder with pmedN.txt and pmedopt.txt")
    ap.add_argument("--instances", default="1-10", help="range like 1-10 or list 1,6,11")
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--time-limit", type=float, default=300)
    args = ap.parse_args(argv)
    if "-" in args.instances:
        a, b = map(int, args.instances.split("-"))
        numbers = range(a, b + 1)
    else:
        numbers = [int(x) for x in args.instances.split(",")]
    sys.path.insert(0, ROOT)
    from lifecircle.optimizer.classic.formats import read_known

    known = read_known(os.path.join(args.folder, "pmedopt.txt"))
    print(f"p-median formulations, solver {args.solver}, time limit {args.time_limit:g} s")
    print("| instance | opt | ladder cols / nnz | assignment cols / nnz | ladder build+solve s "
          "| assignment build+solve s | ladder obj | assignment obj | solve ratio asg/ladder |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in numbers:
        name = f"pmed{k}"
        path = os.path.join(args.folder, name + ".txt")
        lad = run_child(path, "ladder", args.solver, args.time_limit)
        asg = run_child(path, "assignment", args.solver, args.time_limit)

        def cell(r, key, fmt="{:.2f}"):
            return fmt.format(r[key]) if r.get(key) is not None else r.get("status", "")

        ratio = (f"{asg['solve_s'] / lad['solve_s']:.2f}" if "solve_s" in lad and "solve_s" in asg
                 else "")
        print(f"| {name} | {known.get(name, ''):g} | {cell(lad, 'cols', '{:,}')} / "
              f"{cell(lad, 'nnz', '{:,}')} | {cell(asg, 'cols', '{:,}')} / {cell(asg, 'nnz', '{:,}')}"
              f" | {cell(lad, 'build_s')}+{cell(lad, 'solve_s')} | {cell(asg, 'build_s')}+"
              f"{cell(asg, 'solve_s')} | {cell(lad, 'objective', '{:g}')} | "
              f"{cell(asg, 'objective', '{:g}')} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
