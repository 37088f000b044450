"""Per-service against any-service coverage (issue 14) on the bundled districts, in one run.

    .venv/bin/python benchmarks/bench_per_service.py [--solvers highs,ortools-cpsat] [--cap-s 600]

Each bundled district is copied to a temporary folder twice, once with ``coverage: any_service``
and once with ``coverage: per_service`` (what the bundled files say), and solved by every solver in
its own process without the report. Prints per row the status, objective, facilities per type,
model size and phase seconds, and the ratio of per_service's total time to any_service's with the
same solver in this run (the machine is shared: compare ratios, not seconds).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLED = ["yuzhong_hillside", "liangjiang_newtown", "bishan_rural"]

CHILD = r"""
import json, sys
from collections import Counter
sys.path.insert(0, {repo!r})
from lifecircle.optimizer.run import run_solve
s = run_solve({scenario!r}, solver={solver!r}, out_dir={out!r}, report=False).summary
print(json.dumps({{"status": s["status"], "objective": s["objective"], "timings": s["timings_s"],
                  "model": s["model"], "types": Counter(x["facility_type"] for x in s["selected"])}}))
"""


def run_one(scenario: Path, solver: str, cap_s: float, out: Path) -> dict:
    code = CHILD.format(repo=str(REPO), scenario=str(scenario), solver=solver, out=str(out))
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=cap_s)
    except subprocess.TimeoutExpired:
        return {"status": f"cap {cap_s:g} s"}
    if proc.returncode != 0:
        return {"status": "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solvers", default="highs,ortools-cpsat")
    parser.add_argument("--cap-s", type=float, default=600.0)
    args = parser.parse_args()
    print("| district | solver | coverage | status | objective | stations + canteens | columns | rows | "
          "load | coverage s | solve | total | per/any |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for folder in BUNDLED:
            copies = {}
            for mode in ("any_service", "per_service"):
                dest = Path(tmp) / mode / folder
                shutil.copytree(REPO / "scenarios" / folder, dest)
                y = dest / "scenario.yaml"
                y.write_text(y.read_text(encoding="utf-8").replace("coverage: per_service", f"coverage: {mode}"),
                             encoding="utf-8")
                copies[mode] = y
            for solver in args.solvers.split(","):
                totals = {}
                for mode, y in copies.items():
                    r = run_one(y, solver, args.cap_s, Path(tmp) / "out" / f"{folder}-{mode}-{solver}")
                    t = r.get("timings", {})
                    totals[mode] = t.get("total")
                    ratio = ""
                    if mode == "per_service" and totals.get("any_service") and totals[mode]:
                        ratio = f"{totals[mode] / totals['any_service']:.2f}"
                    types = r.get("types", {})
                    m = r.get("model", {})
                    obj = r.get("objective")
                    print(f"| {folder} | {solver} | {mode} | {r['status']} | "
                          f"{'' if obj is None else f'{obj:,.1f}'} | "
                          f"{types.get('elder_child', 0)} + {types.get('canteen', 0)} | {m.get('columns', '')} | "
                          f"{m.get('rows', '')} | {t.get('load', 0):.2f} | {t.get('coverage', 0):.2f} | "
                          f"{t.get('solve', 0):.2f} | {t.get('total', 0):.2f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
