"""Two-customer cuts (Lv et al., arXiv 2409.09834) on lifecircle's budgeted MCLP (issue 14, section 4):
a measured experiment, nothing in the engine changes.

    .venv/bin/python benchmarks/bench_lv_cuts.py [--rounds 5] [--time-limit 60]

Isomorphic aggregation (identical reach rows merged) is already in ``build_coverage_model``; this
script tries the other half. Lv et al. derive their two-customer inequalities for the *generalized*
MCLP (negative weights, a cardinality row). With positive weights only, the two-customer system
``y_i <= x(N_i), y_k <= x(N_k)``, ``0 <= x, y <= 1`` is totally unimodular (each column has at most
two nonzeros, and the only two-nonzero columns, sites in N_i & N_k, carry the same sign on two rows
that can be put in different parts), so no cut on two customers alone can help: a two-customer
cut must come from the budget row. The one used here (proof below; checked by brute force at start):

    y_i + y_k <= 1 + x(N_i & N_k) + x(T)

where, with A = N_i - N_k and B = N_k - N_i, T is any vertex cover of the "affordable pair" graph
(a in A, b in B adjacent when c_a + c_b <= budget). Proof: y_i + y_k = 2 with no shared column open
needs some a in A and some b in B open together, which costs c_a + c_b <= budget, so (a, b) is an
edge and T holds a or b: the right side is >= 2. Otherwise the left side is <= 1 <= right side.
Costs are non-negative, so must_open, min_open and one-per-site rows only remove plans (the cut
stays valid). That graph is a staircase; its minimum-weight covers are the thresholds
T(t) = {the t cheapest of A} + {b in B: c_b + c_A[t] <= budget} (c_A[t] the next cost of A), so
separation is exact for a given pair: one prefix sum per side and a searchsorted.

Pairs tried: classes with overlapping reach (R R^T > 0) and y_i + y_k - x(N_i & N_k) > 1 at the LP
optimum. Rounds: LP, separate, add the most violated cuts, repeat. Then HiGHS MIP with and without
the cuts (same options, alternated), all figures from the same run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
TOL = 1e-6
MAX_CUTS_PER_ROUND = 2000
MAX_PAIRS_PER_ROUND = 100_000  # separation tries at most this many pairs a round (largest slack first)


def pair_cover_cuts(Rd: np.ndarray, i: int, k: int, cost: np.ndarray, order: np.ndarray, budget: float):
    """Every threshold cover T(t) of the pair (i, k) as boolean masks over x columns, plus the
    shared set; for the brute-force check and for separation alike."""
    shared = Rd[i] & Rd[k]
    a_sorted = order[(Rd[i] & ~Rd[k])[order]]
    b_sorted = order[(Rd[k] & ~Rd[i])[order]]
    c_b = cost[b_sorted]
    covers = []
    for t in range(a_sorted.size + 1):
        nxt = cost[a_sorted[t]] if t < a_sorted.size else np.inf
        mask = np.zeros(Rd.shape[1], dtype=bool)
        mask[a_sorted[:t]] = True
        mask[b_sorted[: np.searchsorted(c_b, budget - nxt, side="right")]] = True
        covers.append(mask)
    return shared, covers


def separate_pair(Rd, i, k, x, cost, order, budget):
    """The best threshold cover for (i, k) at x: (x(shared) + x(T) minimum, mask of shared | T)."""
    shared = Rd[i] & Rd[k]
    a_sorted = order[(Rd[i] & ~Rd[k])[order]]
    b_sorted = order[(Rd[k] & ~Rd[i])[order]]
    xa = np.concatenate([[0.0], np.cumsum(x[a_sorted])])  # weight of the t cheapest of A
    xb = np.concatenate([[0.0], np.cumsum(x[b_sorted])])
    nxt = np.concatenate([cost[a_sorted], [np.inf]])
    n_b = np.searchsorted(cost[b_sorted], budget - nxt, side="right")
    weight = xa + xb[n_b]
    t = int(np.argmin(weight))
    mask = shared.copy()
    mask[a_sorted[:t]] = True
    mask[b_sorted[: n_b[t]]] = True
    return float(x[shared].sum() + weight[t]), mask


def brute_force_check(n_instances: int = 300, seed: int = 0) -> tuple[int, int]:
    """Every budget-feasible integer plan of tiny random instances satisfies every threshold cut
    of every pair; returns (cuts checked, plan x cut checks). Raises on a violation."""
    rng = np.random.default_rng(seed)
    n_cuts = n_checks = 0
    for _ in range(n_instances):
        n_x, n_c = int(rng.integers(3, 8)), int(rng.integers(2, 6))
        Rd = rng.random((n_c, n_x)) < 0.45
        cost = rng.integers(1, 10, size=n_x).astype(float)
        budget = float(rng.integers(3, 20))
        order = np.argsort(cost, kind="stable")
        plans = np.array(list(itertools.product([0, 1], repeat=n_x)), dtype=float)
        plans = plans[plans @ cost <= budget]
        y = np.minimum(plans @ Rd.T.astype(float), 1.0)  # best integer y for each plan
        for i, k in itertools.combinations(range(n_c), 2):
            shared, covers = pair_cover_cuts(Rd, i, k, cost, order, budget)
            for T in covers:
                rhs = 1.0 + plans @ (shared | T)
                if np.any(y[:, i] + y[:, k] > rhs + TOL):
                    raise AssertionError(f"invalid cut: pair {i},{k}, cost {cost}, budget {budget}")
                n_cuts += 1
                n_checks += plans.shape[0]
    return n_cuts, n_checks


def tiny_lp_check(n_instances: int = 300, seed: int = 1) -> tuple[int, int]:
    """Is the family ever useful? On tiny random MCLPs with dear facilities (costs 3-9, budget
    6-12), how many LP optima does one separation round cut off (instances, cuts)."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(seed)
    hit = n_found = 0
    for _ in range(n_instances):
        n_x, n_c = int(rng.integers(4, 9)), int(rng.integers(3, 8))
        Rd = rng.random((n_c, n_x)) < 0.4
        cost = rng.integers(3, 10, size=n_x).astype(float)
        budget = float(rng.integers(6, 13))
        w = rng.integers(1, 20, size=n_c).astype(float)
        A = np.vstack([np.hstack([-Rd.astype(float), np.eye(n_c)]), np.concatenate([cost, np.zeros(n_c)])])
        lp = linprog(np.concatenate([np.zeros(n_x), -w]), A_ub=A, b_ub=np.concatenate([np.zeros(n_c), [budget]]),
                     bounds=(0, 1), method="highs")
        x, y = lp.x[:n_x], lp.x[n_x:]
        order = np.argsort(cost, kind="stable")
        found = 0
        for i, k in itertools.combinations(range(n_c), 2):
            rhs, _ = separate_pair(Rd, i, k, x, cost, order, budget)
            found += y[i] + y[k] - 1.0 - rhs > TOL
        hit += found > 0
        n_found += found
    return hit, n_found


def relax(model):
    return replace(model, integrality=np.zeros(model.n_cols, dtype=bool))


def add_cuts(model, n_x: int, rows: list[tuple[int, int, np.ndarray]]):
    """The model with cut rows y_i + y_k - x(shared | T) <= 1 appended (block "two_customer")."""
    if not rows:
        return model
    data, indices, indptr = [], [], [0]
    for i, k, mask in rows:
        cols = np.flatnonzero(mask)
        indices.extend(cols.tolist() + [n_x + i, n_x + k])
        data.extend([-1.0] * cols.size + [1.0, 1.0])
        indptr.append(len(indices))
    cuts = sp.csr_matrix((data, indices, indptr), shape=(len(rows), model.n_cols))
    m0 = model.n_rows
    blocks = dict(model.row_blocks) | {"two_customer": slice(m0, m0 + len(rows))}
    return replace(model, A=sp.vstack([model.A, cuts], format="csr"),
                   row_lower=np.concatenate([model.row_lower, np.full(len(rows), -np.inf)]),
                   row_upper=np.concatenate([model.row_upper, np.ones(len(rows))]),
                   row_blocks=blocks)


def cut_rounds(model, R: sp.csr_matrix, cost: np.ndarray, budget: float, rounds: int, solve_linear, opts,
               all_pairs: bool = False):
    """LP, separate, add, repeat. Returns (LP before, LP after, cut rows, separation s, LP s)."""
    n_x = R.shape[1]
    Rd = R.toarray() > 0
    order = np.argsort(cost, kind="stable")
    max_cost = np.where(Rd, cost[None, :], -np.inf).max(axis=1)
    rows: list = []
    seen: set = set()
    sep_s = lp_s = 0.0
    lp_first = lp_last = None
    for round_ in range(rounds + 1):
        t0 = time.perf_counter()
        lp = solve_linear(relax(add_cuts(model, n_x, rows)), "highs", opts)
        lp_s += time.perf_counter() - t0
        lp_last = lp.objective
        lp_first = lp.objective if lp_first is None else lp_first
        if round_ == rounds:
            break
        t0 = time.perf_counter()
        x, y = lp.values[:n_x], lp.values[n_x:]
        if round_ == 0:  # how far from integral the first LP optimum is (the verdict's why)
            fractional = (x > TOL) & (x < 1 - TOL)
            first_lp = {"fractional_x": int(fractional.sum()), "fractional_x_cost": cost[fractional].tolist(),
                        "fractional_y": int(((y > TOL) & (y < 1 - TOL)).sum()),
                        "residual_budget": budget - float(cost[x >= 1 - TOL].sum())}
        live = np.flatnonzero(y > TOL)
        Rl = R[live]
        if all_pairs:  # every pair of live classes, overlapping or not (dense; small models only)
            shared_x = (Rl @ sp.diags(x) @ Rl.T).toarray()
            r, c = np.triu_indices(live.size, k=1)
            sx = shared_x[r, c]
        else:
            overlap = sp.triu(Rl @ Rl.T, k=1).tocoo()  # pairs sharing a column
            shared_x = sp.triu(Rl @ sp.diags(x) @ Rl.T, k=1).tocsr()
            r, c = overlap.row, overlap.col
            sx = np.asarray(shared_x[r, c]).ravel()
        i, k = live[r], live[c]
        # a cut can only bite when y_i + y_k - x(shared) > 1 and some pair (a, b) is unaffordable
        slack = y[i] + y[k] - sx - 1
        keep = np.flatnonzero((slack > TOL) & (max_cost[i] + max_cost[k] > budget))
        stats = ({"first LP": first_lp} if round_ == 0 else {}) | {"pairs": int(i.size), "candidates": int(keep.size)}
        keep = keep[np.argsort(-slack[keep], kind="stable")[:MAX_PAIRS_PER_ROUND]]
        stats["tried"] = int(keep.size)
        found = []
        best = -np.inf
        for a, b in zip(i[keep], k[keep]):
            if (a, b) in seen:
                continue
            rhs, mask = separate_pair(Rd, a, b, x, cost, order, budget)
            violation = y[a] + y[b] - 1.0 - rhs
            best = max(best, violation)
            if violation > TOL:
                found.append((violation, a, b, mask))
        stats["best_violation"] = round(float(best), 9)
        print("<!-- separation round", round_, stats, "-->", flush=True)
        found.sort(key=lambda f: -f[0])
        for violation, a, b, mask in found[:MAX_CUTS_PER_ROUND]:
            rows.append((a, b, mask))
            seen.add((a, b))
        sep_s += time.perf_counter() - t0
        if not found:
            break
    return lp_first, lp_last, rows, sep_s, lp_s


def mclp_model(R: sp.csr_matrix, weight: np.ndarray, cost: np.ndarray, budget: float):
    """A plain budgeted MCLP in lifecircle's model layout (x columns first, then one y per class)."""
    from lifecircle.models.aggregate import identical_row_classes
    from lifecircle.models.linear import MAXIMIZE, LinearModel

    reach = np.diff(R.indptr) > 0
    R, weight = R[reach], weight[reach]
    class_of_row, rep = identical_row_classes(R)
    R = R[rep]
    w = np.bincount(class_of_row, weights=weight, minlength=rep.size)
    n_x, n_y = R.shape[1], R.shape[0]
    A = sp.vstack([sp.hstack([-R, sp.identity(n_y)]),
                   sp.hstack([sp.csr_matrix(cost[None, :]), sp.csr_matrix((1, n_y))])], format="csr")
    model = LinearModel(sense=MAXIMIZE, c=np.concatenate([np.zeros(n_x), w]), A=A,
                        row_lower=np.full(n_y + 1, -np.inf),
                        row_upper=np.concatenate([np.zeros(n_y), [budget]]),
                        col_lower=np.zeros(n_x + n_y), col_upper=np.ones(n_x + n_y),
                        integrality=np.concatenate([np.ones(n_x, bool), np.zeros(n_y, bool)]),
                        integral_optimum=True, col_blocks={"x": slice(0, n_x), "y": slice(n_x, n_x + n_y)},
                        row_blocks={"coverage": slice(0, n_y), "budget": slice(n_y, n_y + 1)})
    return model, R


def instances(seed: int):
    from lifecircle.models.coverage import build_coverage_model
    from lifecircle.optimizer.inputs.geo import pairs_matrix
    from lifecircle.optimizer.run import load_problem

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_spopt import clustered

    _, problem, *_ = load_problem(REPO / "scenarios/yuzhong_hillside/scenario.yaml",
                                  out_dir=tempfile.mkdtemp(prefix="lifecircle-lvcuts-"))
    model, index = build_coverage_model(problem)
    cost = problem.cost_cny[index.x_site, index.x_type]
    yield "yuzhong_hillside", model, index.class_rows, cost, float(problem.budget_cny)

    # clustered 4,000 x 400, 800 m, costs 1-10 (lognormal, median 3), budget 12: a handful of
    # facilities, and any two costing more than 12 together are unaffordable (where the cut can bite)
    pts, w = clustered(4000, seed)
    sites, _ = clustered(400, seed + 1000)
    rng = np.random.default_rng(seed + 7)
    cost = np.clip(np.round(rng.lognormal(np.log(3.0), 0.6, size=400), 1), 1.0, 10.0)
    model, R = mclp_model(pairs_matrix(pts, sites, 800.0), w.astype(float), cost, 12.0)
    yield "clustered 4000x400, B=12", model, R, cost, 12.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO.parent))
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.linear import solve_linear

    t0 = time.perf_counter()
    n_cuts, n_checks = brute_force_check()
    print(f"brute-force validity check: {n_cuts:,} cuts x all budget-feasible integer plans "
          f"({n_checks:,} plan-cut checks) on 300 tiny random instances, 0 violated "
          f"({time.perf_counter() - t0:.1f} s)")
    hit, found = tiny_lp_check()
    print(f"the family is not empty: one separation round cuts off the LP optimum of {hit} of 300 tiny "
          f"random MCLPs with dear facilities ({found} violated cuts)")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    opts = SolveOptions(time_limit_s=args.time_limit, threads=1, seed=0)
    print("| instance | pairs tried | x cols | classes | LP bound | LP bound + cuts | MIP optimum | LP gap closed "
          "| cuts | separation s | LP s (all rounds) | MIP s without (wall/CPU, twice) | MIP s with (wall/CPU, twice) |")
    print("|" + "---|" * 13)
    for name, model, R, cost, budget in instances(args.seed):
        mip_rows = {}
        for mode in ("overlapping", "all"):
            lp0, lp1, rows, sep_s, lp_s = cut_rounds(model, R, cost, budget, args.rounds, solve_linear, opts,
                                                     all_pairs=mode == "all")
            cut_model = add_cuts(model, R.shape[1], rows)
            plan = [("without", model)] if not mip_rows else []
            if rows:  # alternated with the plain model, so both see the same load
                plan = [("without", model), ("with", cut_model)] * 2
            for label, m in plan:
                w0, c0 = time.perf_counter(), time.process_time()
                sol = solve_linear(m, "highs", opts)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                mip_rows.setdefault(label, []).append((wall, cpu, sol.status.value, sol.objective))
            mip = mip_rows["without"][0][3]
            for wall, cpu, status, objective in mip_rows.get("with", []):
                if abs(objective - mip) > 1e-6 * max(1.0, abs(mip)):
                    raise AssertionError(f"{name}: MIP optimum changed with the cuts: {objective} vs {mip}")
            closed = (lp0 - lp1) / (lp0 - mip) if lp0 - mip > 1e-9 else float("nan")

            def fmt(label):
                runs = mip_rows.get(label) if label == "without" or rows else None
                if not runs:
                    return "no cuts: same model"
                return " ; ".join(f"{w:.2f}/{c:.2f}{'' if st == 'optimal' else ' ' + st}" for w, c, st, _ in runs)

            print(f"| {name} | {mode} | {R.shape[1]} | {R.shape[0]} | {lp0:,.1f} | {lp1:,.1f} | {mip:,.1f} "
                  f"| {closed:.1%} | {len(rows)} | {sep_s:.2f} | {lp_s:.2f} | {fmt('without')} | {fmt('with')} |",
                  flush=True)
            mip_rows.pop("with", None)
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
