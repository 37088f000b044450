"""Record what the CLI writes on the bundled scenarios, so a refactor can prove it changed nothing.

    python benchmarks/record_outputs.py OUT_DIR        # run every command, normalise, write OUT_DIR
    python benchmarks/record_outputs.py OUT_DIR NAME.. # only these runs (added to OUT_DIR)
    diff -r BEFORE_DIR AFTER_DIR                        # empty when nothing changed

The commands: `solve` on every bundled district (with the report on the small ones), `sweep` and
`plan` on two, `export` of one scenario and one OR-Library instance, and `classic` (all four models)
on OR-Library pmed1 and pmed2 when ../shared/data/orlib-pmed exists. Outputs are normalised: timings,
absolute paths, dates and versions are replaced by placeholders; binary files (xlsx, png) are
skipped; report.html is kept with its timing cells blanked. Ties are part of what is compared: the
plan chosen among equal-coverage plans must not move.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PMED = REPO.parent / "shared" / "data" / "orlib-pmed"
LIFECIRCLE = str(Path(sys.executable).with_name("lifecircle"))

# (name, arguments) — {tmp} is a scratch folder, {out} the command's own output folder.
RUNS = [
    ("solve_bishan", ["solve", "scenarios/bishan_rural/scenario.yaml", "--out", "{out}"]),
    ("solve_liangjiang", ["solve", "scenarios/liangjiang_newtown/scenario.yaml", "--out", "{out}"]),
    ("solve_yuzhong", ["solve", "scenarios/yuzhong_hillside/scenario.yaml", "--out", "{out}", "--no-report"]),
    ("solve_yuzhong_capacity", ["solve", "scenarios/yuzhong_capacity/scenario.yaml", "--out", "{out}",
                                "--no-report"]),
    ("sweep_bishan", ["sweep", "scenarios/bishan_rural/scenario.yaml", "--budgets", "5e5:4e6:6",
                      "--out", "{out}"]),
    ("sweep_liangjiang", ["sweep", "scenarios/liangjiang_newtown/scenario.yaml", "--budgets",
                          "1e6,2e6,3.5e6", "--out", "{out}"]),
    ("plan_bishan", ["plan", "scenarios/bishan_rural/scenario.yaml", "--years", "3",
                     "--budget-per-year", "8e5", "--out", "{out}", "--compare"]),
    ("plan_yuzhong", ["plan", "scenarios/yuzhong_hillside/scenario.yaml", "--years", "2",
                      "--budget-per-year", "2e6", "--out", "{out}"]),
    ("export_bishan", ["export", "scenarios/bishan_rural/scenario.yaml", "--mps", "{out}/model.mps",
                       "--lp", "{out}/model.lp"]),
]
# p-center is slow to prove with today's compact model (about 200 s on pmed1): pmed1 only.
CLASSIC = [(model, name, extra) for name in ("pmed1", "pmed2")
           for model, extra in (("pmedian", []), ("pcenter", []), ("mclp", ["--radius", "40", "--p", "5"]),
                                ("lscp", ["--radius", "60"]))
           if not (model == "pcenter" and name != "pmed1")]

VOLATILE_KEYS = re.compile(r"(^timings_s$|_s$|^scenario_path$|^lifecircle_version$|^version$|^written"
                           r"|^created|^date$|^time$|^command$|^machine$|^python$|^cache$)")


def _scrub(value):
    if isinstance(value, dict):
        return {k: ("<volatile>" if VOLATILE_KEYS.search(k) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return value.replace(str(REPO), "<repo>")
    return value


def normalise(folder: Path, scratch: Path) -> None:
    """Rewrite every kept file in ``folder`` without its volatile parts; drop binary files."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".png", ".npz", ".pdf"):
            path.unlink()
            continue
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        text = text.replace(str(scratch), "<tmp>").replace(str(REPO), "<repo>")
        if suffix == ".json":
            try:
                text = json.dumps(_scrub(json.loads(text)), ensure_ascii=False, indent=1, sort_keys=True)
            except json.JSONDecodeError:
                pass
        elif suffix == ".html":
            text = re.sub(r"\d+\.\d+ s\b", "<t> s", text)
            text = re.sub(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?\S*", "<date>", text)
        elif suffix in (".md", ".txt"):
            text = re.sub(r"\d+\.\d+ s\b", "<t> s", text)
        path.write_text(text, encoding="utf-8")


def main(out: Path, only=()) -> int:
    if out.exists() and not only:
        print(f"{out} exists; give a new folder", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="lifecircle-baseline-"))
    try:
        jobs = [(name, args) for name, args in RUNS]
        if PMED.is_dir():
            for model, inst, extra in CLASSIC:
                jobs.append((f"classic_{model}_{inst}", ["classic", model, "--instance", str(PMED / f"{inst}.txt"),
                                                         "--json", *extra]))
            jobs.append(("export_pmed1", ["export", "--instance", str(PMED / "pmed1.txt"), "--model",
                                          "pmedian", "--mps", "{out}/pmed1.mps"]))
        else:
            print(f"note: {PMED} missing; classic runs skipped", file=sys.stderr)
        for name, args in jobs:
            if only and name not in only:
                continue
            target = scratch / name
            if any("{out}/" in a for a in args):
                target.mkdir()
            argv = [LIFECIRCLE] + [a.replace("{out}", str(target)) for a in args]
            print(f"{name}: {' '.join(argv[1:])}", file=sys.stderr, flush=True)
            done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
            record = out / name
            if target.exists():
                shutil.copytree(target, record)
            else:
                record.mkdir()
            stdout = done.stdout
            if args[0] == "classic" and done.returncode in (0, 3, 4):
                stdout = json.dumps(_scrub(json.loads(stdout)), indent=1, sort_keys=True)
            else:
                stdout = re.sub(r"(timings \(s\)|written in|took).*", r"\1 <volatile>", stdout)
            (record / "_exit_and_stdout.txt").write_text(f"exit {done.returncode}\n{stdout}", encoding="utf-8")
            normalise(record, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"recorded {len(list(out.iterdir()))} runs in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), set(sys.argv[2:])))
