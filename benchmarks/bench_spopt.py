"""MCLP side by side with spopt (PySAL) on seeded, city-like instances, and start-to-JSON speed.

spopt is a benchmark-only extra (``pip install spopt``), never a runtime dependency.

    .venv/bin/python benchmarks/bench_spopt.py sizes --sizes 1000x100,2000x200,5000x500 --cap 900
    .venv/bin/python benchmarks/bench_spopt.py start-to-json --repeat 3
    .venv/bin/python benchmarks/bench_spopt.py start-to-json --generator town,clustered --seeds 5 --repeat 1
    .venv/bin/python benchmarks/bench_spopt.py routes --seeds 5   # old vs new p-MCLP route, CPU s

``sizes`` builds and solves the same MCLP (radius 600 m, p = m/20) with lifecircle (KD-tree
coverage, merged demand, ``build_mclp``, HiGHS) and with spopt (dense ``cdist`` cost matrix,
``MCLP.from_cost_matrix``, ``solve`` with PuLP's HiGHS, so both use the same solver), each in its
own process. It prints build and solve seconds for both, the ratio, and whether the covered
weights agree. A size where spopt passes ``--cap`` seconds, or whose dense matrices would not fit
in half the memory, is recorded and larger sizes are skipped for spopt.

``start-to-json`` times whole processes on the city-like 2,000-point ``xy-weights`` instance of
:func:`town` (p = 20, R = 600 m): ``lifecircle classic mclp ... --json`` against a script that
reads the same files with spopt, solves with PuLP's HiGHS at gap 0 and prints the same JSON. Both
include interpreter start-up and imports; the 1-minute load average is recorded at each start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RADIUS_M = 600.0


def city(n: int, seed: int, extent_m: float = 20_000.0):
    """Clustered points like a city: dense centres of varied size plus a thin background."""
    import numpy as np

    rng = np.random.default_rng(seed)
    k = max(6, n // 1500)
    centres = rng.uniform(0.1 * extent_m, 0.9 * extent_m, size=(k, 2))
    spread = rng.uniform(300.0, 1500.0, size=k)
    share = rng.dirichlet(np.full(k, 0.8))
    n_bg = n // 10
    which = rng.choice(k, size=n - n_bg, p=share)
    pts = centres[which] + rng.normal(size=(n - n_bg, 2)) * spread[which, None]
    pts = np.vstack([pts, rng.uniform(0, extent_m, size=(n_bg, 2))])
    return np.round(np.clip(pts, 0, extent_m), 1)


def town(n: int, seed: int, extent_m: float = 8_000.0, n_hoods: int = 40,
         min_gap_m: float = 900.0):
    """Residential buildings of a compact multi-centre city, as Chongqing's districts are.

    ``n_hoods`` neighbourhoods (housing estates on the terraces between hills and rivers) whose
    centres lie at least ``min_gap_m`` apart, denser towards the middle of an ``extent_m`` square;
    each holds buildings scattered 120-320 m (s.d.) around its centre, in Dirichlet shares; a
    tenth of the buildings lie anywhere (villages, isolated blocks). Weights are residents per
    building: lognormal with median 150, clipped to 10..2,000 (walk-ups to high-rise towers).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    centres: list = []
    while len(centres) < n_hoods:
        c = rng.normal(extent_m / 2, extent_m / 4.5, size=2)
        if (c < 0).any() or (c > extent_m).any():
            continue
        if all(np.hypot(*(c - o)) >= min_gap_m for o in centres):
            centres.append(c)
    centres = np.array(centres)
    spread = rng.uniform(120.0, 320.0, size=n_hoods)
    share = rng.dirichlet(np.full(n_hoods, 3.0))
    n_out = n // 10
    which = rng.choice(n_hoods, size=n - n_out, p=share)
    pts = centres[which] + rng.normal(size=(n - n_out, 2)) * spread[which, None]
    pts = np.vstack([pts, rng.uniform(0, extent_m, size=(n_out, 2))])
    pts = np.round(np.clip(pts, 0, extent_m), 1)
    weights = np.clip(np.round(rng.lognormal(np.log(150.0), 0.8, size=n)), 10, 2000)
    return pts, weights


def clustered(n: int, seed: int, extent_m: float = 20_000.0, n_centres: int = 12,
              sigma_m: float = 700.0):
    """``n`` buildings around ``n_centres`` uniform centres (normal, s.d. ``sigma_m``), weights as
    in :func:`town`: the issue-16 "clustered" kind (12 centres, sigma 700 m)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.15 * extent_m, 0.85 * extent_m, size=(n_centres, 2))
    which = rng.integers(0, n_centres, size=n)
    pts = np.round(np.clip(centres[which] + rng.normal(size=(n, 2)) * sigma_m, 0, extent_m), 1)
    weights = np.clip(np.round(rng.lognormal(np.log(150.0), 0.8, size=n)), 10, 2000)
    return pts, weights


def instance(n: int, m: int, seed: int = 0):
    import numpy as np

    demand = city(n, seed)
    sites = city(m, seed + 1000)
    rng = np.random.default_rng(seed + 7)
    weights = np.maximum(1, np.round(rng.lognormal(3.0, 1.0, size=n))).astype(float)
    return demand, sites, weights


def covered_weight(demand, sites, weights, chosen) -> float:
    sys.path.insert(0, ROOT)
    from lifecircle.optimizer.inputs.geo import pairs_matrix

    import numpy as np

    cov = pairs_matrix(demand, sites[np.asarray(chosen, dtype=int)], RADIUS_M)
    return float(weights[np.diff(cov.indptr) > 0].sum())


def run_lifecircle(n, m, p, seed, time_limit=None):
    sys.path.insert(0, ROOT)
    import scipy.spatial  # noqa: F401  imported before the clock, as spopt's cdist is

    from lifecircle.models.classic import build_mclp, open_sites
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.inputs.geo import pairs_matrix
    from lifecircle.optimizer.solve.linear import solve_linear

    demand, sites, weights = instance(n, m, seed)
    t0 = time.perf_counter()
    cov = pairs_matrix(demand, sites, RADIUS_M)
    model = build_mclp(cov, weights, p)
    t1 = time.perf_counter()
    sol = solve_linear(model, "highs", SolveOptions(time_limit_s=time_limit))
    t2 = time.perf_counter()
    chosen = open_sites(model, sol.values).tolist()
    return {"build_s": t1 - t0, "solve_s": t2 - t1, "status": str(sol.status), "gap": sol.gap,
            "objective": covered_weight(demand, sites, weights, chosen), "pairs": int(cov.nnz),
            "merged_rows": int(model.col_blocks["covered"].stop - model.col_blocks["covered"].start)}


def run_spopt(n, m, p, seed):
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    demand, sites, weights = instance(n, m, seed)
    t0 = time.perf_counter()
    cost = cdist(demand, sites)
    model = MCLP.from_cost_matrix(cost, weights, RADIUS_M, p_facilities=p)
    t1 = time.perf_counter()
    model.solve(pulp.HiGHS(msg=False), results=False)
    t2 = time.perf_counter()
    chosen = [j for j, v in enumerate(model.fac_vars) if v.varValue and v.varValue > 0.5]
    return {"build_s": t1 - t0, "solve_s": t2 - t1, "status": pulp.LpStatus[model.problem.status],
            "objective": covered_weight(demand, sites, weights, chosen)}


def child(func: str, n: int, m: int, p: int, seed: int, timeout: float | None, *extra):
    args = ", ".join(repr(v) for v in (n, m, p, seed, *extra))
    code = (f"import json, sys; sys.path.insert(0, {ROOT!r}); "
            f"from benchmarks.bench_spopt import {func}; "
            f"print('@@' + json.dumps({func}({args})))")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": f"over {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("@@"):
            out = json.loads(line[2:])
            out["wall_s"] = time.perf_counter() - t0
            return out
    return {"status": "crash: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:120]}


def memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def sizes_table(args):
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"MCLP, R = {RADIUS_M:g} m, p = m/20, seed {args.seed}; both solved by HiGHS "
          f"(spopt through PuLP); spopt cap {args.cap:g} s")
    print("| demand x sites | p | pairs within R | lifecircle build s | lifecircle solve s "
          "| spopt build s | spopt solve s | spopt / lifecircle (build+solve) | objectives agree |")
    print("|---|---|---|---|---|---|---|---|---|")
    spopt_skip = "not run (--lifecircle-only)" if args.lifecircle_only else None
    for n, m in sizes:
        p = max(5, m // 20)
        lc = child("run_lifecircle", n, m, p, args.seed, None, args.time_limit)
        if lc.get("status") == "feasible":  # stopped by --time-limit: say how far from proven
            lc["status"] = f"feasible, gap {100 * (lc.get('gap') or 0):.2f} %"
        if spopt_skip:
            sp = {"status": spopt_skip}
        elif 16 * n * m > memory_bytes() / 2:
            sp = {"status": f"skipped: dense matrices need {16 * n * m / 2**30:.0f} GB"}
            spopt_skip = "skipped (a smaller size already exceeded memory)"
        else:
            sp = child("run_spopt", n, m, p, args.seed, args.cap)
            if "build_s" not in sp:
                spopt_skip = f"skipped (a smaller size: {sp['status']})"
        lt = lc.get("build_s", 0) + lc.get("solve_s", 0)
        if "build_s" in sp and "build_s" in lc:
            ratio = f"{(sp['build_s'] + sp['solve_s']) / lt:.1f}x"
            agree = "yes" if abs(sp["objective"] - lc["objective"]) < 1e-6 else (
                f"no ({sp['objective']:g} vs {lc['objective']:g})")
        else:
            ratio, agree = "", sp["status"]
        f = lambda r, k: f"{r[k]:.2f}" if k in r else r.get("status", "")  # noqa: E731
        lc_solve = f(lc, "solve_s") + (f" ({lc['status']})" if "solve_s" in lc
                                        and lc.get("status") != "optimal" else "")
        print(f"| {n:,} x {m:,} | {p} | {lc.get('pairs', 0):,} | {f(lc, 'build_s')} | "
              f"{lc_solve} | {f(sp, 'build_s')} | {f(sp, 'solve_s')} | {ratio} | "
              f"{agree} |", flush=True)


SPOPT_SCRIPT = r"""
import json, sys, time
import numpy as np
import pulp
from scipy.spatial.distance import cdist
from spopt.locate import MCLP
xy_path, w_path, p, radius = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
t0 = time.perf_counter()
xy = np.loadtxt(xy_path, skiprows=1)
w = np.loadtxt(w_path)
t1 = time.perf_counter()
model = MCLP.from_cost_matrix(cdist(xy, xy), w, radius, p_facilities=p)
t2 = time.perf_counter()
model.solve(pulp.HiGHS(msg=False, gapRel=0.0))
t3 = time.perf_counter()
chosen = [j + 1 for j, v in enumerate(model.fac_vars) if v.varValue and v.varValue > 0.5]
covered = float(w[(model.aij[:, [c - 1 for c in chosen]] > 0).any(axis=1)].sum())
print(json.dumps({"model": "mclp", "solver": "spopt+highs", "objective": covered,
                  "status": pulp.LpStatus[model.problem.status].lower(),
                  "selected": chosen, "timings_s": {"read": t1 - t0, "build": t2 - t1,
                  "solve": t3 - t2}}))
"""


def start_to_json(args):
    """Each seed of each generator: both tools as whole processes; returns {generator: ratios}."""
    gens = [g.strip() for g in args.generator.split(",")]
    seeds = range(args.seeds) if args.seeds else [args.seed]
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ratios = {}
    for gen in gens:
        for seed in seeds:
            ratios.setdefault(gen, []).append(one_start_to_json(args, gen, seed))
            print()
    print("| generator | seeds | worst wall ratio (seed) | median wall ratio | all wall ratios "
          "| worst CPU ratio | median CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for gen, rows in ratios.items():
        wall = [r[0] for r in rows]
        cpu = [r[1] for r in rows]
        worst = min(range(len(wall)), key=wall.__getitem__)
        print(f"| {gen} | {len(wall)} | {wall[worst]:.1f}x (seed {list(seeds)[worst]}) | "
              f"{statistics.median(wall):.1f}x | {' / '.join(f'{v:.1f}' for v in wall)} | "
              f"{min(cpu):.1f}x | {statistics.median(cpu):.1f}x |")
    return ratios


def one_start_to_json(args, generator, seed):
    import resource

    if generator == "town":
        xy, w = town(2000, seed)
    else:
        xy, w = clustered(2000, seed, extent_m=1000.0 * args.extent_km)
    tmp = tempfile.mkdtemp(prefix="lc_spopt_")
    xy_path, w_path = os.path.join(tmp, "pts.txt"), os.path.join(tmp, "w.txt")
    with open(xy_path, "w") as fh:
        fh.write("2000\n" + "".join(f"{x:.1f} {y:.1f}\n" for x, y in xy))
    with open(w_path, "w") as fh:
        fh.write("".join(f"{int(v)}\n" for v in w))
    script = os.path.join(tmp, "spopt_mclp.py")
    with open(script, "w") as fh:
        fh.write(SPOPT_SCRIPT)
    lifecircle = os.path.join(os.path.dirname(sys.executable), "lifecircle")
    ours = [lifecircle, "classic", "mclp", "--instance", xy_path, "--format", "xy-weights",
            "--weights", w_path, "--p", "20", "--radius", str(RADIUS_M), "--json"]
    theirs = [sys.executable, script, xy_path, w_path, "20", str(RADIUS_M)]
    times = {"lifecircle": [], "spopt": []}
    cpus = {"lifecircle": [], "spopt": []}
    loads = {"lifecircle": [], "spopt": []}
    objective, status, phases = {}, {}, {}
    # lifecircle's run is seconds long, so a burst of the shared machine's load moves its wall
    # time far more than spopt's minute; it runs --lifecircle-runs times per repeat (median kept)
    order = [("lifecircle", ours)] * args.lifecircle_runs + [("spopt", theirs)]
    for _ in range(args.repeat):
        for name, cmd in order:
            loads[name].append(os.getloadavg()[0])
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            times[name].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if proc.returncode != 0:
                sys.exit(f"{name} failed: {proc.stderr.strip()[-300:]}")
            # The JSON is the last line: PuLP's HiGHS may print its banner even with msg=False.
            out = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
            objective[name], status[name] = out["objective"], out.get("status", "")
            phases[name] = out["timings_s"]
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    where = "" if generator == "town" else f", {args.extent_km:g} km square"
    print(f"{generator}{where} 2,000-point xy-weights MCLP ({int(w.sum()):,} residents, "
          f"seed {seed}), p = 20, R = 600 m; whole process, start to JSON")
    print("| tool | median wall s | all runs s | CPU s (user+sys) | load avg "
          "(1 min) at each start | last run read / build / solve s | status | covered weight |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("lifecircle", "spopt"):
        ph = phases[name]
        print(f"| {name} | {med[name]:.2f} | {' / '.join(f'{t:.2f}' for t in times[name])} | "
              f"{cpu[name]:.2f} | {' / '.join(f'{v:.1f}' for v in loads[name])} | "
              f"{ph['read']:.2f} / {ph['build']:.2f} / {ph['solve']:.2f} | {status[name]} | "
              f"{objective[name]:g} |")
    agree = abs(objective["spopt"] - objective["lifecircle"]) < 1e-6
    print(f"\n{generator} seed {seed}: spopt / lifecircle = {med['spopt'] / med['lifecircle']:.1f}x "
          f"wall, {cpu['spopt'] / cpu['lifecircle']:.1f}x CPU; objectives "
          f"{'agree' if agree else 'DIFFER'}", flush=True)
    if not agree:
        sys.exit(f"{generator} seed {seed}: objectives differ: {objective}")
    return med["spopt"] / med["lifecircle"], cpu["spopt"] / cpu["lifecircle"]


def routes_table(args):
    """Old route (dominance + compact MIP, greedy start) against the bound-and-fix route, CPU
    seconds in one process, same instances (issue 16)."""
    sys.path.insert(0, ROOT)
    import numpy as np

    from lifecircle.models import classic as cm
    from lifecircle.models.presolve import greedy_budgeted, presolve_budgeted_mclp
    from lifecircle.optimizer.classic.instance import ClassicInstance
    from lifecircle.optimizer.classic.points import coverage_classes
    from lifecircle.optimizer.classic.solve import solve_classic
    from lifecircle.optimizer.solve.backends import SolveOptions
    from lifecircle.optimizer.solve.linear import solve_linear

    print("| generator | seed | old route CPU s | new route CPU s | speed-up | sites closed by "
          "fixing | sites left for HiGHS | objectives |")
    print("|---|---|---|---|---|---|---|---|")
    for gen in args.generator.split(","):
        for seed in range(args.seeds):
            xy, w = town(2000, seed) if gen == "town" else clustered(
                2000, seed, extent_m=1000.0 * args.extent_km)
            c0 = time.process_time()
            cl = coverage_classes(xy[:, 0], xy[:, 1], w, xy, RADIUS_M)
            red = presolve_budgeted_mclp(cl.rows, cl.weight, np.ones(len(w)), 20.0)
            lin = cm.build_mclp(red.rows, red.weight, site_costs=red.cost, budget=red.budget)
            x = np.zeros(red.n_sites)
            x[greedy_budgeted(red.rows, red.weight, red.cost, red.budget)] = 1.0
            C = -lin.A[lin.row_blocks["cover"]][:, lin.col_blocks["open"]]
            warm = np.concatenate([x, np.minimum(np.asarray(C @ x).reshape(-1), 1.0)])
            sol = solve_linear(lin, "highs", SolveOptions(presolve=False, warm_start=warm))
            old = time.process_time() - c0
            ids = tuple(range(1, len(w) + 1))
            c0 = time.process_time()
            res = solve_classic(ClassicInstance(gen, ids, ids, w, demand_xy=xy, site_xy=xy),
                                "mclp", p=20, radius=RADIUS_M)
            new = time.process_time() - c0
            bf = res.presolve["bound_fix"]
            agree = abs(sol.objective + red.offset - res.objective) < 1e-6
            print(f"| {gen} | {seed} | {old:.2f} | {new:.2f} | {old / new:.1f}x | "
                  f"{bf['closed']:,} | {bf['sites_left']} | {'agree' if agree else 'DIFFER'} |",
                  flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("sizes")
    s.add_argument("--sizes", default="1000x100,2000x200,5000x500,10000x1000,20000x2000,"
                                      "50000x5000,100000x10000")
    s.add_argument("--cap", type=float, default=900.0, help="spopt seconds per size")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--lifecircle-only", action="store_true",
                   help="skip spopt (it passed its cap at a smaller size in an earlier run)")
    s.add_argument("--time-limit", type=float, default=None, help="lifecircle solve seconds")
    t = sub.add_parser("start-to-json")
    t.add_argument("--repeat", type=int, default=3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--lifecircle-runs", type=int, default=3,
                   help="lifecircle runs per repeat (its median is compared; spopt runs once)")
    t.add_argument("--seeds", type=int, default=0, help="run seeds 0..N-1 and report the worst")
    t.add_argument("--generator", default="town",
                   help="town, clustered, or both as town,clustered (one run, one table)")
    t.add_argument("--extent-km", type=float, default=20.0,
                   help="side of the clustered generator's square (default 20, the "
                        "reconstruction; see benchmarks/README.md)")
    r = sub.add_parser("routes")
    r.add_argument("--generator", default="town,clustered")
    r.add_argument("--seeds", type=int, default=5)
    r.add_argument("--extent-km", type=float, default=20.0)
    args = ap.parse_args(argv)
    {"sizes": sizes_table, "start-to-json": start_to_json, "routes": routes_table}[args.what](args)


if __name__ == "__main__":
    main()
