"""``lifecircle bench``: every instance x solver in its own process, rows written as they end.

A job runs :func:`worker` in a fresh interpreter (so a crash, a memory blow-up or a solver that
ignores its time limit costs one row, not the run), which reads the instance, calls
:func:`~lifecircle.optimizer.classic.solve.solve_classic` and writes its row as JSON.

A row a referee accepts (issue 16) says why the solve stopped (``termination``), what it proved
(``bound``, ``gap``, ``bound_source``), the wall and CPU seconds of the job's process, and the
threads and seed the solver was pinned to. ``repeat`` runs a job N times and reports the median
and the spread (min and max wall seconds); ``compare="spopt"`` runs spopt's model on the same
instance in its own process (:mod:`.bench_spopt`) and checks that the objectives agree.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lifecircle.optimizer.core import events
from lifecircle.optimizer.solve.backends import REGISTRY, SolveOptions
from lifecircle.optimizer.errors import (
    CapabilityError, InfeasibleError, LifecircleError, ScenarioError,
)
from lifecircle.optimizer.classic.formats import load_instance
from lifecircle.optimizer.classic.solve import MODELS, solve_classic

BENCH_COLUMNS = ("instance", "model", "solver", "status", "objective", "best_known",
                 "gap_to_known_pct", "read_s", "build_s", "solve_s", "peak_mem_mb",
                 "presolve_sites", "presolve_classes", "note",
                 # issue 16: added at the end, so existing readers keep their columns
                 "termination", "bound", "gap", "bound_source", "wall_s", "wall_s_min",
                 "wall_s_max", "cpu_s", "runs", "threads", "seed", "solver_version")
# Timings that a repeated job reports as medians.
_MEDIAN_COLUMNS = ("read_s", "build_s", "solve_s", "wall_s", "cpu_s", "peak_mem_mb")

logger = logging.getLogger(__name__)


def machine_info() -> dict:
    """CPU model, cores and memory, from /proc where there is one."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": None if mem_gb is None
            else round(mem_gb, 1), "python": platform.python_version(), "os": platform.platform()}


def solver_versions(names) -> dict:
    out = {}
    for name in names:
        backend = REGISTRY.get(name)
        out[name] = (backend.version() if backend else None) or "not installed"
    return out


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children (CBC runs as one). ``resource`` is POSIX
    only; on Windows psutil reads the same counters of this process's own children."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        times = psutil.Process().cpu_times()
        return times.children_user + times.children_system
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return child.ru_utime + child.ru_stime


def _peak_memory_mb() -> float:
    """Peak resident memory of this process in MB (Linux: ru_maxrss in KiB; Windows: peak_wset)."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return round(getattr(psutil.Process().memory_info(), "peak_wset", 0) / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# A job's progress events reach the bench's console as stderr lines with this prefix (issue 15).
EVENT_PREFIX = "\x1elifecircle-event "


def _forward(kind: str, **fields) -> None:
    sys.stderr.write(EVENT_PREFIX + json.dumps([kind, fields], default=str) + "\n")
    sys.stderr.flush()


def worker() -> None:
    """Run one bench job in this process (spec on stdin), write the row as JSON to a file."""
    spec = json.load(sys.stdin)
    if spec.get("forward_events"):
        with events.subscribe(_forward):
            _work(spec)
    else:
        _work(spec)


def _work(spec: dict) -> None:
    row = {"status": "error", "note": ""}
    clock = JobClock()
    try:
        t0 = time.perf_counter()
        inst = load_instance(spec["path"], spec["format"], **spec["load"])
        read_s = time.perf_counter() - t0
        options = SolveOptions(time_limit_s=spec["time_limit"], threads=spec.get("threads"),
                               seed=spec.get("seed"))
        res = solve_classic(inst, spec["model"], solver=spec["solver"], options=options,
                            read_s=read_s, **spec["params"])
        row.update(status=res.status, objective=res.objective, read_s=res.timings_s["read"],
                   build_s=res.timings_s["build"], solve_s=res.timings_s["solve"],
                   termination=res.termination, bound=res.bound, gap=res.gap,
                   bound_source=res.bound_source)
        if res.presolve:  # issue 8: sizes before -> after the presolve
            ps = res.presolve
            row.update(presolve_sites=f"{ps['sites_before']}->{ps['sites_after']}",
                       presolve_classes=f"{ps['classes_before']}->{ps['classes_after']}")
    except InfeasibleError as err:
        row.update(status="infeasible", note=str(err))
    except CapabilityError as err:
        row.update(status="declined", note=str(err))
    except LifecircleError as err:
        row.update(status="error", note=str(err))
    row.update(clock.read())
    row["peak_mem_mb"] = _peak_memory_mb()
    with open(spec["out"], "w", encoding="utf-8") as fh:
        json.dump(row, fh)


class JobClock:
    """Wall and CPU seconds from its creation: the CPU of every thread of this process (HiGHS's
    workers) plus its finished child processes (CBC runs as one), imports excluded."""

    def __init__(self):
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._child = _children_cpu_s()

    def read(self) -> dict:
        cpu = time.process_time() - self._cpu + _children_cpu_s() - self._child
        return {"wall_s": round(time.perf_counter() - self._wall, 4), "cpu_s": round(cpu, 4)}


def _run_job(spec: dict, timeout: float | None, entry: str = "bench") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec = dict(spec, out=os.path.join(tmp, "row.json"))
        spec["forward_events"] = events.watching()  # somebody shows the solver's incumbent and bound
        proc = subprocess.Popen([sys.executable, "-c", f"from lifecircle.optimizer.classic.{entry} import worker; worker()"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tail: list = []
        reader = threading.Thread(target=_relay, args=(proc.stderr, tail), daemon=True)
        reader.start()
        proc.stdin.write(json.dumps(spec))
        proc.stdin.close()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return {"status": "timeout", "note": f"killed after {timeout:.0f} s"}
        finally:
            reader.join(timeout=5)
        if os.path.exists(spec["out"]):
            with open(spec["out"], encoding="utf-8") as fh:
                return json.load(fh)
        last = [line for line in "".join(tail).strip().splitlines()][-1:] or [f"exit code {proc.returncode}"]
        return {"status": "crash", "note": last[0][:200]}


def _relay(stream, tail: list) -> None:
    """Re-emit a job's forwarded events here; keep the last lines of the rest (a crash's note)."""
    for line in stream:
        if line.startswith(EVENT_PREFIX):
            try:
                kind, fields = json.loads(line[len(EVENT_PREFIX):])
            except ValueError:
                continue
            events.emit(kind, **fields)
        else:
            tail.append(line)
            del tail[:-20]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if not value.is_integer() or abs(value) >= 1e15 else str(int(value))
    return str(value)


BENCH_FILES = ("bench.csv", "bench.md")


def _repeated(spec: dict, timeout: float | None, repeat: int, entry: str = "bench") -> dict:
    """Run a job ``repeat`` times; one row with median timings and the wall-time spread."""
    import statistics

    runs = [_run_job(spec, timeout, entry) for _ in range(repeat)]
    row = dict(runs[-1])
    for col in _MEDIAN_COLUMNS:
        values = [r[col] for r in runs if isinstance(r.get(col), (int, float))]
        if values:
            row[col] = round(statistics.median(values), 4)
    walls = [r["wall_s"] for r in runs if isinstance(r.get("wall_s"), (int, float))]
    if walls:
        row.update(wall_s_min=min(walls), wall_s_max=max(walls))
    row["runs"] = repeat
    notes = [row.get("note") or ""]
    if len({r.get("status") for r in runs}) > 1:
        notes.append("status differs across runs: " + "/".join(str(r.get("status")) for r in runs))
    if len({r.get("objective") for r in runs}) > 1:
        notes.append("objective differs across runs: "
                     + "/".join(_fmt(r.get("objective")) for r in runs))
    row["note"] = "; ".join(n for n in notes if n)
    return row


def objectives_agree(a, b) -> bool:
    """True when two objectives are equal up to float noise (1e-6 relative)."""
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)), abs(float(b)))


def spopt_available() -> bool:
    """Whether spopt can be imported here (checked without importing it)."""
    import importlib.util

    return importlib.util.find_spec("spopt") is not None


def spopt_version() -> str:
    """spopt's installed version, or "not installed"."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spopt")
    except PackageNotFoundError:
        return "not installed"


def bench_lines(rows: list[dict], compare: str | None, out_dir: str, lang: str = "en") -> list:
    """The console lines after a bench run: spopt's absence, any objective mismatch (on stderr,
    loudly), and the count of optimal rows, in ``lang`` (issue 15)."""
    from lifecircle.optimizer.outputs.i18n import t
    from lifecircle.optimizer.outputs.text import ToStderr

    lines = [t("cmd.bench.no_spopt", lang)] if compare == "spopt" and not spopt_available() else []
    lines += [ToStderr(t("cmd.bench.mismatch", lang, instance=r["instance"], note=r["note"])) for r in rows
              if r.get("mismatch")]
    ok = sum(r["status"] == "optimal" for r in rows)
    lines.append(t("cmd.bench.done", lang, ok=ok, n=len(rows), out=out_dir))
    return lines


SPOPT_ABSENT = "bench --compare spopt: spopt is not installed (pip install spopt); no spopt rows"


def run_bench(instances: list[str], model: str, solvers: list[str], *, fmt: str = "orlib-pmed",
              known: dict | None = None, time_limit: float | None = None, out_dir: str = "bench",
              params: dict | None = None, load: dict | None = None, command: str = "",
              on_start=None, on_row=None, threads: int | None = None, seed: int | None = None,
              repeat: int = 1, compare: str | None = None) -> list[dict]:
    """Run every instance x solver in its own process; append each row to bench.csv/bench.md.

    A row is written as soon as its job ends, so an interrupted run keeps what it did. A job that
    crashes or outlives ``time_limit`` (plus a grace for building) is recorded and the run goes on.
    ``on_start()`` is called once the arguments and the output folder have passed their checks,
    ``on_row(row)`` after each job. ``threads`` and ``seed`` are passed to every solver that takes
    them and recorded in each row; ``repeat`` runs each job that many times (median and spread);
    ``compare="spopt"`` adds spopt's row after each instance's rows when spopt is installed
    (:func:`spopt_available`), its objective checked against the first lifecircle row's.
    """
    if model not in MODELS:
        raise ScenarioError(f"--model: unknown model {model!r}; choose one of {', '.join(MODELS)}")
    for name in solvers:
        if name not in REGISTRY:
            raise ScenarioError(f"--solvers: unknown solver {name!r}; choose from "
                                f"{', '.join(sorted(REGISTRY))}")
    for path in instances:
        if not os.path.isfile(path):
            raise ScenarioError(f"{path}: no such instance file")
    if not isinstance(repeat, int) or repeat < 1:
        raise ScenarioError(f"--repeat: {repeat} must be a whole number >= 1")
    if compare not in (None, "spopt"):
        raise ScenarioError(f"--compare: unknown tool {compare!r}; the one known is spopt")
    with_spopt = compare == "spopt" and spopt_available()
    known = known or {}
    from lifecircle.optimizer import __version__
    from lifecircle.optimizer.files import csv_cell, prepare_marked_folder, write_marker

    # Rows are appended as jobs end, so the folder is a marked one that lifecircle adds to, never
    # a user's folder whose bench.csv it would overwrite (issue 12).
    prepare_marked_folder(out_dir, "bench", BENCH_FILES)
    csv_path, md_path = os.path.join(out_dir, "bench.csv"), os.path.join(out_dir, "bench.md")

    info = machine_info()
    versions = solver_versions(solvers)
    if with_spopt:
        versions["spopt"] = spopt_version()
    with open(csv_path, "w", encoding="utf-8") as fh:
        fh.write(",".join(BENCH_COLUMNS) + "\n")
    with open(md_path, "w", encoding="utf-8") as fh:
        fh.write(f"# lifecircle bench: {model}\n\n")
        if command:
            fh.write(f"Command: `{command}`\n\n")
        fh.write(f"- lifecircle {__version__}; solvers: "
                 + ", ".join(f"{k} {v}" for k, v in versions.items()) + "\n")
        fh.write(f"- machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB; "
                 f"Python {info['python']}; {info['os']}\n")
        fh.write(f"- time limit per solve: {time_limit if time_limit else 'none'} s; "
                 f"started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.write(f"- threads: {threads if threads else 'solver default'}; seed: "
                 f"{seed if seed is not None else 'solver default'}; runs per job: {repeat} "
                 "(timings are medians; wall_s_min/max the spread); cpu_s is the job process's "
                 "CPU time (all its threads and child processes)\n")
        if compare == "spopt" and not with_spopt:
            fh.write(f"- {SPOPT_ABSENT}\n")
        fh.write("\n| " + " | ".join(BENCH_COLUMNS) + " |\n")
        fh.write("|" + "---|" * len(BENCH_COLUMNS) + "\n")
    write_marker(Path(out_dir), kind="bench", names=BENCH_FILES)
    if on_start is not None:
        on_start()
    timeout = None if time_limit is None else time_limit * 2 + 60

    def write(row):
        # text cells (instance names, notes) neutralised against formula injection (issue 12)
        cells = [_fmt(csv_cell(row.get(col))) for col in BENCH_COLUMNS]
        with open(csv_path, "a", encoding="utf-8") as fh:
            fh.write(",".join('"' + c.replace('"', "'") + '"' if "," in c or '"' in c else c
                              for c in cells) + "\n")
        with open(md_path, "a", encoding="utf-8") as fh:
            fh.write("| " + " | ".join(c.replace("|", "/") for c in cells) + " |\n")
        rows.append(row)
        if on_row is not None:
            on_row(row)

    def with_known(row, name):
        best = known.get(name)
        row["best_known"] = best
        obj = row.get("objective")
        if best is not None and obj is not None:
            row["gap_to_known_pct"] = round(100 * (obj - best) / max(abs(best), 1e-9), 6)
        return row

    rows = []
    for path in instances:
        name = os.path.splitext(os.path.basename(path))[0]
        base = {"path": os.path.abspath(path), "format": fmt, "load": load or {}, "model": model,
                "time_limit": time_limit, "params": params or {}, "threads": threads,
                "seed": seed}
        first = None
        for solver in solvers:
            row = {"instance": name, "model": model, "solver": solver, "threads": threads,
                   "seed": seed, "solver_version": versions.get(solver)}
            events.phase(logger, "phase.bench", "bench: %s %s with %s", name, model, solver, name=name, model=model, solver=solver)
            row.update(_repeated(dict(base, solver=solver), timeout, repeat))
            logger.debug("bench: %s with %s: %s", name, solver, row.get("status"))
            if first is None and row.get("objective") is not None:
                first = row
            write(with_known(row, name))
        if with_spopt:
            row = {"instance": name, "model": model, "solver": "spopt", "threads": threads,
                   "seed": seed, "solver_version": versions.get("spopt")}
            events.phase(logger, "phase.bench", "bench: %s %s with spopt", name, model, name=name, model=model, solver="spopt")
            row.update(_repeated(base, timeout, repeat, entry="bench_spopt"))
            if first is not None and row.get("objective") is not None:
                if objectives_agree(first["objective"], row["objective"]):
                    row["note"] = (row.get("note") or "") + f"; objective equals {first['solver']}'s"
                else:
                    row["note"] = (f"OBJECTIVE MISMATCH: {first['solver']} {_fmt(first['objective'])}"
                                   f" vs spopt {_fmt(row['objective'])}; " + (row.get("note") or ""))
                    row["mismatch"] = True
                    logger.warning("bench: %s: objective mismatch, %s %s vs spopt %s", name,
                                   first["solver"], first["objective"], row["objective"])
            row["note"] = row["note"].strip("; ")
            write(with_known(row, name))
    return rows
