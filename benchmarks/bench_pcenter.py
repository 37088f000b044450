"""p-center on OR-Library pmed1-40: the level search (default) against the compact MIP.

    .venv/bin/python benchmarks/bench_pcenter.py                      # pmed1-30 from ../shared
    .venv/bin/python benchmarks/bench_pcenter.py --extra DIR          # + pmed31-40 from DIR
    .venv/bin/python benchmarks/bench_pcenter.py --compact pmed1,pmed2 --compact-limit 300

Each instance is solved by ``solve_classic(..., "pcenter")`` with HiGHS in this process, one after
the other; the table gives wall and CPU seconds, status, objective, bound, gap and the bound's
source for each, then the total and the slowest. ``--compact`` names instances also solved with
the compact formulation (``method="compact"``) under ``--compact-limit`` seconds, in the same run,
for the ratio. pmed31-40 are public OR-Library files not shipped in ../shared: give their folder
with ``--extra``; without it they are skipped with a message.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "orlib-pmed")


def solve(path: str, method: str, time_limit: float | None, threads: int | None):
    from lifecircle.optimizer.classic.formats import read_orlib_pmed
    from lifecircle.optimizer.classic.solve import solve_classic
    from lifecircle.optimizer.solve.backends import SolveOptions

    wall, cpu = time.perf_counter(), time.process_time()
    inst = read_orlib_pmed(path)
    res = solve_classic(inst, "pcenter", method=method,
                        options=SolveOptions(time_limit_s=time_limit, threads=threads, seed=0))
    return inst, res, time.perf_counter() - wall, time.process_time() - cpu


def fmt(value, digits=4):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder with pmed1.txt ... pmed30.txt")
    ap.add_argument("--extra", default=None, help="folder with pmed31.txt ... pmed40.txt")
    ap.add_argument("--only", default=None, help="comma-separated names, e.g. pmed1,pmed6")
    ap.add_argument("--time-limit", type=float, default=300.0, help="per instance (levels)")
    ap.add_argument("--compact", default="pmed1,pmed2,pmed5",
                    help="instances also solved with the compact MIP ('' for none)")
    ap.add_argument("--compact-limit", type=float, default=300.0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    if not os.path.isfile(os.path.join(args.data, "pmed1.txt")):
        print(f"no OR-Library data at {os.path.normpath(args.data)}; give --data DIR")
        return 0
    paths = {f"pmed{k}": os.path.join(args.data, f"pmed{k}.txt") for k in range(1, 31)}
    if args.extra and os.path.isfile(os.path.join(args.extra, "pmed31.txt")):
        paths.update({f"pmed{k}": os.path.join(args.extra, f"pmed{k}.txt") for k in range(31, 41)})
    else:
        print("pmed31-40 skipped: not shipped in ../shared; give their folder with --extra DIR")
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        paths = {k: v for k, v in paths.items() if k in wanted}
    compact = {s.strip() for s in args.compact.split(",") if s.strip()}

    with open("/proc/loadavg", encoding="utf-8") as fh:
        load = fh.read().split()[0]
    print(f"p-center, HiGHS, levels method; threads {args.threads or 'default'}, seed 0; "
          f"1-min load average at start {load}\n")
    head = ("| instance | n | p | time_s | cpu_s | status | objective | bound | gap | bound_source "
            "| checks (LP/MIP) | compact time_s | compact status | ratio |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    total, slowest = 0.0, ("", 0.0)
    for name, path in paths.items():
        inst, res, wall, cpu = solve(path, "levels", args.time_limit, args.threads)
        total += wall
        if wall > slowest[1]:
            slowest = (name, wall)
        cols = ["-", "-", "-"]
        if name in compact:
            _, cres, cwall, _ = solve(path, "compact", args.compact_limit, args.threads)
            shown = f"{cwall:.1f}" if cres.status == "optimal" else f">{args.compact_limit:g}"
            cols = [shown, cres.status, f"{cwall / wall:.0f}x" + ("" if cres.status == "optimal"
                                                                   else " (at least)")]
        size = res.size
        print(f"| {name} | {inst.n_demand} | {inst.p} | {wall:.2f} | {cpu:.2f} | {res.status} | "
              f"{fmt(res.objective)} | {fmt(res.bound)} | {fmt(res.gap)} | {res.bound_source} | "
              f"{size.get('lp_checks')}/{size.get('mip_checks')} | " + " | ".join(cols) + " |",
              flush=True)
    print(f"\ntotal {total:.1f} s over {len(paths)} instances; slowest {slowest[0]} "
          f"{slowest[1]:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
