"""Record what the CLI writes on the bundled scenarios, so a refactor can prove it changed nothing.

    python benchmarks/record_outputs.py OUT_DIR        # run every command, normalise, write OUT_DIR
    python benchmarks/record_outputs.py OUT_DIR NAME.. # only these runs (added to OUT_DIR)
    python benchmarks/record_outputs.py --compare BEFORE_DIR AFTER_DIR   # a line per run: same/DIFF

--compare ignores what may change without changing an answer: result-folder markers, timings
(report.html's timing rows, curve.csv's solve_s), the scenario checksum (issue 13 added the recipes
to it) and summary keys listed in ADDED_KEYS (additions are allowed, renames are not).

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


ADDED_KEYS = {"termination"}  # issue 13


def _comparable(path: Path) -> str | dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            def walk(x):
                if isinstance(x, dict):
                    return {k: walk(v) for k, v in x.items() if k not in ADDED_KEYS and k != "scenario_checksum"}
                return [walk(v) for v in x] if isinstance(x, list) else x
            return walk(json.loads(text))
        except json.JSONDecodeError:
            return text
    if path.suffix == ".html":
        text = re.sub(r"[0-9a-f]{64}", "<sha>", text)
        text = re.sub(r"<tr><td>(耗时（秒）|Timings \(s\)|生成时间|Generated)</td><td>.*?</td></tr>", "", text)
        return re.sub(r"(load|coverage|build|solve|write|total) \d+\.\d+", r"\1 <t>", text)
    if path.name == "curve.csv":
        rows = [line.split(",") for line in text.splitlines()]
        column = rows[0].index("solve_s") if rows and "solve_s" in rows[0] else None
        return "\n".join(",".join(c for n, c in enumerate(r) if n != column) for r in rows)
    return "\n".join(line for line in text.splitlines() if "termination" not in line)


def compare(before: Path, after: Path) -> int:
    """Print same/DIFF per recorded run; exit 1 when any run differs or is missing."""
    bad = 0
    for run in sorted(before.iterdir()):
        other = after / run.name
        files = {p.relative_to(run) for p in run.rglob("*") if p.is_file() and p.name != ".lifecircle.json"}
        theirs = {p.relative_to(other) for p in other.rglob("*") if p.is_file() and p.name != ".lifecircle.json"} \
            if other.is_dir() else set()
        diffs = sorted(str(f) for f in files ^ theirs)
        diffs += [str(f) for f in sorted(files & theirs) if _comparable(run / f) != _comparable(other / f)]
        print(f"{'same' if not diffs else 'DIFF'} {run.name} {' '.join(diffs)}".rstrip())
        bad += bool(diffs)
    return 1 if bad else 0


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
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), set(sys.argv[2:])))
