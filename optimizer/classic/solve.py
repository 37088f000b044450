"""Solve, benchmark and export the classic models on an instance: checks, build, backend, decode.

The path is the core engine's: ``models/classic.py`` builds a :class:`~models.linear.LinearModel`,
:func:`~optimizer.linear_solve.solve_linear` runs any registered backend and re-checks the plan,
and the objective reported is recomputed here from the decoded sites, never taken from a solver.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from lifecircle.models import classic as cm
from lifecircle.models.linear import MINIMIZE, LinearModel

from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, REGISTRY, SolveOptions, Status
from lifecircle.optimizer.solve.backends.base import relative_gap
from lifecircle.optimizer.errors import (
    CapabilityError, InfeasibleError, LifecircleError, ScenarioError,
)
from lifecircle.optimizer.classic.instance import ClassicInstance, load_instance, read_known
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.linear import solve_linear

logger = logging.getLogger(__name__)

MODELS = ("mclp", "lscp", "pmedian", "pcenter")


@dataclass(frozen=True)
class ClassicResult:
    """One solve: the JSON of ``lifecircle classic --json`` is :meth:`as_json`."""

    instance: str
    model: str
    solver: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    selected: list
    covered_weight: float | None
    uncovered_points: int | None
    timings_s: dict
    size: dict = field(default_factory=dict)
    message: str = ""
    presolve: dict | None = None  # issue 8: sizes before/after the presolve (coordinate MCLP)

    def as_json(self) -> dict:
        return asdict(self)


# ---- checks and build -----------------------------------------------------------------------------

def _check_p(instance: ClassicInstance, p: int | None, model: str) -> int:
    if p is None:
        p = instance.p
    if p is None:
        raise ScenarioError(f"--p: {model} needs the number of sites p (this instance carries none)")
    if not 1 <= int(p) <= instance.n_sites:
        raise ScenarioError(f"--p: p={p} is outside 1..{instance.n_sites}, the number of candidate "
                            f"sites of {instance.name}")
    return int(p)


def _check_radius(radius: float | None, model: str) -> float:
    if radius is None:
        raise ScenarioError(f"--radius: {model} needs a coverage radius R (covered means cost <= R)")
    if not math.isfinite(radius) or radius < 0:
        raise ScenarioError(f"--radius: {radius} must be a finite number >= 0")
    return float(radius)


def _check_budget(instance: ClassicInstance, budget: float, pre: np.ndarray) -> float:
    """The budget of a budgeted MCLP, checked against the instance's site costs and the
    pre-selected sites ``pre`` (which every plan pays for)."""
    if instance.site_costs is None:
        raise ScenarioError("--budget: budgeted MCLP needs site costs; give --site-costs "
                            "FILE (or --site-cost-col for matrix-csv)")
    if not math.isfinite(budget) or budget < 0:
        raise ScenarioError(f"--budget: {budget} must be a finite number >= 0")
    pre_cost = float(np.asarray(instance.site_costs, dtype=float)[pre].sum())
    if pre_cost > budget:
        raise InfeasibleError(f"--budget: the pre-selected sites alone cost {pre_cost:g} > budget {budget:g}")
    return float(budget)


def _site_index(instance: ClassicInstance, ids) -> np.ndarray:
    lookup = {str(s): k for k, s in enumerate(instance.site_ids)}
    out = []
    for sid in ids:
        if str(sid) not in lookup:
            raise ScenarioError(f"--preselected: unknown site id {sid!r} in {instance.name}")
        out.append(lookup[str(sid)])
    return np.unique(np.asarray(out, dtype=np.int64))


def _reachable_or_fail(instance: ClassicInstance, table: cm.CostTable, mask: np.ndarray, model: str):
    near = table.nearest_cost_any()
    cut = np.flatnonzero(~np.isfinite(near) & mask)
    if cut.size:
        raise InfeasibleError(
            f"{model}: {cut.size} demand points reach no site at all (first: "
            f"{instance.demand_ids[int(cut[0])]!r}); add their pairs or drop the points")


@dataclass(frozen=True)
class BuiltModel:
    """A built model with what decoding needs."""

    kind: str
    linear: LinearModel
    p: int | None
    radius: float | None
    coverage: object = None
    costs: cm.CostTable | None = None


def build_classic(instance: ClassicInstance, model: str, *, p: int | None = None,
                  radius: float | None = None, budget: float | None = None,
                  preselected=()) -> BuiltModel:
    """Check the parameters against the instance and build the model (see models/classic.py).

    Raises
    ------
    ScenarioError for parameters that do not fit the instance (exit 2); InfeasibleError for
    data that admits no plan (exit 3).
    """
    if model not in MODELS:
        raise ScenarioError(f"MODEL: unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if model == "mclp":
        radius = _check_radius(radius, model)
        pre = _site_index(instance, preselected) if preselected else np.zeros(0, dtype=np.int64)
        cov = instance.coverage(radius)
        if budget is not None:
            budget = _check_budget(instance, budget, pre)
            lin = cm.build_mclp(cov, instance.weights, site_costs=instance.site_costs,
                                budget=budget, preselected=pre)
            return BuiltModel(model, lin, None, radius, coverage=cov)
        p = _check_p(instance, p, model)
        if pre.size > p:
            raise ScenarioError(f"--preselected: {pre.size} pre-selected sites but p={p}")
        lin = cm.build_mclp(cov, instance.weights, p, preselected=pre)
        return BuiltModel(model, lin, p, radius, coverage=cov)
    if model == "lscp":
        radius = _check_radius(radius, model)
        cov = instance.coverage(radius)
        lost = cm.uncoverable(cov)
        if lost.size:
            raise InfeasibleError(
                f"lscp: infeasible, {lost.size} of {instance.n_demand} demand points are within "
                f"radius {radius:g} of no site (first: {instance.demand_ids[int(lost[0])]!r}); "
                "raise --radius")
        return BuiltModel(model, cm.build_lscp(cov), None, radius, coverage=cov)
    p = _check_p(instance, p, model)
    table = instance.cost_table()
    if model == "pmedian":
        _reachable_or_fail(instance, table, instance.weights > 0, model)
        return BuiltModel(model, cm.build_pmedian(table, instance.weights, p), p, None, costs=table)
    _reachable_or_fail(instance, table, np.ones(instance.n_demand, dtype=bool), model)
    return BuiltModel(model, cm.build_pcenter(table, p), p, None, costs=table)


def _evaluate(instance: ClassicInstance, built: BuiltModel, sites: np.ndarray):
    """(objective, covered weight, uncovered points) recomputed from the open sites alone."""
    if built.kind in ("mclp", "lscp"):
        covered = cm.covered_mask(built.coverage, sites)
        weight = float(instance.weights[covered].sum())
        uncovered = int((~covered).sum())
        objective = weight if built.kind == "mclp" else float(sites.size)
        return objective, weight, uncovered
    if built.kind == "pmedian":
        return cm.pmedian_cost(built.costs, instance.weights, sites), None, None
    return cm.pcenter_cost(built.costs, sites), None, None


def _inconsistent(evaluated: float, model_value: float, sense: str, status) -> bool:
    """True when the plan's own objective contradicts the model's.

    A plan the solver stopped early (a time limit) may carry slack the optimum would remove: a
    p-center radius variable above the plan's real radius, a point assigned past a nearer open
    site, a covered point not counted. Its evaluated objective is then better than the model's
    value, which is fine: the evaluated one is reported and the solver's bound stays valid. Only
    an evaluated objective worse than the model's, or any mismatch in a plan called optimal, is a
    bug.
    """
    tol = 1e-6 * max(1.0, abs(evaluated))
    worse = evaluated - model_value if sense == MINIMIZE else model_value - evaluated
    return worse > tol or (status == Status.OPTIMAL and abs(worse) > tol)


def solve_classic(instance: ClassicInstance, model: str, *, p: int | None = None,
                  radius: float | None = None, budget: float | None = None, preselected=(),
                  solver: str = DEFAULT_BACKEND, options: SolveOptions | None = None,
                  read_s: float = 0.0) -> ClassicResult:
    """Build ``model`` on ``instance``, solve it with ``solver`` and decode the plan.

    The objective is recomputed from the open sites and must match the model's own value; a
    mismatch is a bug and raises :class:`~optimizer.errors.SolverResultError`.
    """
    if model == "mclp" and budget is not None and instance.demand_xy is not None:
        # Budgeted MCLP on coordinates (cfl, xy-weights): chunked coverage, aggregation and
        # presolve (issue 8). p-MCLP stays on the path below: its LP fixing rarely pays there.
        from lifecircle.optimizer.classic.points import solve_mclp_points

        return solve_mclp_points(instance, p=p, radius=radius, budget=budget,
                                 preselected=preselected, solver=solver, options=options,
                                 read_s=read_s)
    t0 = time.perf_counter()
    built = build_classic(instance, model, p=p, radius=radius, budget=budget,
                          preselected=preselected)
    lin = built.linear
    if model == "pmedian" and (options is None or options.warm_start is None):
        # A fast interchange plan as the warm start: with a near-optimal incumbent from the
        # first node, reduced-cost fixing shrinks the ladders at once. SCIP proved pmed6 in
        # 49 s without it (the incumbent arrived after three restarts) and CBC/CP-SAT gain too.
        plan = cm.pmedian_interchange(built.costs, instance.weights, built.p)
        if plan is not None:
            start = cm.pmedian_start(built.costs, instance.weights, built.p, plan)
            options = replace(options or SolveOptions(), warm_start=start)
    if model == "mclp" and solver == "highs" and (options is None or options.presolve):
        # The merged MCLP is already reduced (identical rows merged, empty rows dropped); HiGHS's
        # presolve then mostly probes. Without it the city-like 2,000-point instance of
        # benchmarks/bench_spopt.py solved in 0.8-1.4 s against 1.1-2.4 s (4 of 5 seeds faster).
        options = replace(options or SolveOptions(), presolve=False)
    t1 = time.perf_counter()
    sol = solve_linear(lin, solver, options)
    t2 = time.perf_counter()
    lin = built.linear
    size = {"rows": lin.n_rows, "cols": lin.n_cols, "nonzeros": int(lin.A.nnz),
            "binaries": int(lin.integrality.sum())}
    timings = {"read": round(read_s, 4), "build": round(t1 - t0, 4), "solve": round(t2 - t1, 4)}
    if sol.values is None:
        return ClassicResult(instance.name, model, sol.backend, str(sol.status), None, sol.bound,
                             None, [], None, None, timings, size, sol.message)
    sites = cm.open_sites(lin, sol.values)
    objective, weight, uncovered = _evaluate(instance, built, sites)
    if _inconsistent(objective, sol.objective, lin.sense, sol.status):
        raise SolverResultError(
            f"{sol.backend}: the plan's {model} objective is {objective:g} but the model says "
            f"{sol.objective:g}; this is a bug in lifecircle, please report it")
    bound = sol.bound
    if bound is not None and sol.status == Status.OPTIMAL:
        bound = objective
    gap = relative_gap(objective, bound)
    return ClassicResult(
        instance.name, model, sol.backend, str(sol.status), objective, bound, gap,
        [instance.site_ids[int(j)] for j in sites], weight, uncovered, timings, size, sol.message)


# ---- export ---------------------------------------------------------------------------------------

def _highs_with(model: LinearModel):
    import highspy

    from lifecircle.optimizer.solve.backends.base import quiet_stdout
    from lifecircle.optimizer.solve.backends.highs import highs_lp

    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(highs_lp(model, with_offset=True))
    return h


EXPORT_TAG = "lifecircle export"
_EXPORT_COMMENT = {".mps": "* ", ".lp": "\\ "}  # a comment line in each format


def is_lifecircle_export(path) -> bool:
    """Whether ``path`` is an MPS or LP file :func:`export_model` wrote (its first line says so)."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return False
    return any(first.startswith((c + EXPORT_TAG).encode()) for c in _EXPORT_COMMENT.values())


def check_export_targets(mps_path: str, lp_path: str | None = None) -> None:
    """Refuse (ScenarioError, exit 2) export targets that are the same file, or that exist and are
    not earlier lifecircle exports (a scenario's demand.csv, say)."""
    from lifecircle.optimizer.files import check_file_target

    if lp_path is not None:
        a, b = os.path.abspath(mps_path), os.path.abspath(lp_path)
        same = a == b or (os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b))
        if same:
            raise ScenarioError(f"--lp {lp_path}: is the same file as --mps {mps_path}; give two different files")
    check_file_target(mps_path, "--mps", owned=is_lifecircle_export)
    if lp_path is not None:
        check_file_target(lp_path, "--lp", owned=is_lifecircle_export)


def export_model(model: LinearModel, mps_path: str, lp_path: str | None = None) -> None:
    """Write ``model`` exactly as the backends receive it, as MPS (and optionally CPLEX LP).

    Written by HiGHS (``writeModel``), objective offset and integrality included, so any MPS
    reader, commercial solvers too, solves the same problem. The file name's extension does not
    matter: the format is fixed by the argument. Each file starts with a comment line
    ``lifecircle export ...``: only such files are ever overwritten (issue 12), and each appears
    whole or not at all (:func:`optimizer.output.atomic_file`).
    """
    import shutil

    from lifecircle.optimizer import __version__
    from lifecircle.optimizer.solve.backends.base import quiet_stdout
    from lifecircle.optimizer.files import atomic_file, command_line

    check_export_targets(mps_path, lp_path)
    h = _highs_with(model)
    command = " ".join(command_line().split())  # one line, whatever the arguments hold
    for path, ext, option in ((mps_path, ".mps", "--mps"), (lp_path, ".lp", "--lp")):
        if path is None:
            continue
        with atomic_file(path, option=option, owned=is_lifecircle_export) as tmp:
            raw = tmp.parent / ("highs-model" + ext)  # HiGHS picks the format by the extension
            with quiet_stdout():
                status = h.writeModel(str(raw))
            if not raw.exists() or str(status).endswith("kError"):
                raise ScenarioError(f"{path}: HiGHS could not write the model ({status})")
            with open(tmp, "wb") as out, open(raw, "rb") as src:
                out.write(f"{_EXPORT_COMMENT[ext]}{EXPORT_TAG} by lifecircle {__version__}: {command}\n".encode())
                shutil.copyfileobj(src, out, 1 << 20)


# ---- bench ----------------------------------------------------------------------------------------

BENCH_COLUMNS = ("instance", "model", "solver", "status", "objective", "best_known",
                 "gap_to_known_pct", "read_s", "build_s", "solve_s", "peak_mem_mb",
                 "presolve_sites", "presolve_classes", "note")


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


def _worker() -> None:
    """Run one bench job in this process (spec on stdin), write the row as JSON to a file."""
    import resource

    spec = json.load(sys.stdin)
    row = {"status": "error", "note": ""}
    try:
        t0 = time.perf_counter()
        inst = load_instance(spec["path"], spec["format"], **spec["load"])
        read_s = time.perf_counter() - t0
        options = SolveOptions(time_limit_s=spec["time_limit"])
        res = solve_classic(inst, spec["model"], solver=spec["solver"], options=options,
                            read_s=read_s, **spec["params"])
        row.update(status=res.status, objective=res.objective, read_s=res.timings_s["read"],
                   build_s=res.timings_s["build"], solve_s=res.timings_s["solve"])
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
    row["peak_mem_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    with open(spec["out"], "w", encoding="utf-8") as fh:
        json.dump(row, fh)


def _run_job(spec: dict, timeout: float | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec = dict(spec, out=os.path.join(tmp, "row.json"))
        try:
            proc = subprocess.run(
                [sys.executable, "-c", "from lifecircle.optimizer.classic.solve import _worker; _worker()"],
                input=json.dumps(spec), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "note": f"killed after {timeout:.0f} s"}
        if os.path.exists(spec["out"]):
            with open(spec["out"], encoding="utf-8") as fh:
                return json.load(fh)
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        return {"status": "crash", "note": tail[0][:200]}


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if not value.is_integer() or abs(value) >= 1e15 else str(int(value))
    return str(value)


BENCH_FILES = ("bench.csv", "bench.md")


def run_bench(instances: list[str], model: str, solvers: list[str], *, fmt: str = "orlib-pmed",
              known: dict | None = None, time_limit: float | None = None, out_dir: str = "bench",
              params: dict | None = None, load: dict | None = None, command: str = "",
              on_start=None, on_row=None) -> list[dict]:
    """Run every instance x solver in its own process; append each row to bench.csv/bench.md.

    A row is written as soon as its job ends, so an interrupted run keeps what it did. A job that
    crashes or outlives ``time_limit`` (plus a grace for building) is recorded and the run goes on.
    ``on_start()`` is called once the arguments and the output folder have passed their checks,
    ``on_row(row)`` after each job.
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
    known = known or {}
    from lifecircle.optimizer import __version__
    from lifecircle.optimizer.files import csv_cell, prepare_marked_folder, write_marker

    # Rows are appended as jobs end, so the folder is a marked one that lifecircle adds to, never
    # a user's folder whose bench.csv it would overwrite (issue 12).
    prepare_marked_folder(out_dir, "bench", BENCH_FILES)
    csv_path, md_path = os.path.join(out_dir, "bench.csv"), os.path.join(out_dir, "bench.md")

    info = machine_info()
    versions = solver_versions(solvers)
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
                 f"started {time.strftime('%Y-%m-%d %H:%M:%S')}\n\n")
        fh.write("| " + " | ".join(BENCH_COLUMNS) + " |\n")
        fh.write("|" + "---|" * len(BENCH_COLUMNS) + "\n")
    write_marker(Path(out_dir), kind="bench", names=BENCH_FILES)
    if on_start is not None:
        on_start()
    timeout = None if time_limit is None else time_limit * 2 + 60
    rows = []
    for path in instances:
        name = os.path.splitext(os.path.basename(path))[0]
        for solver in solvers:
            spec = {"path": os.path.abspath(path), "format": fmt, "load": load or {},
                    "model": model, "solver": solver, "time_limit": time_limit,
                    "params": params or {}}
            row = {"instance": name, "model": model, "solver": solver}
            logger.info("bench: %s %s with %s", name, model, solver)
            row.update(_run_job(spec, timeout))
            logger.debug("bench: %s with %s: %s", name, solver, row.get("status"))
            best = known.get(name)
            row["best_known"] = best
            obj = row.get("objective")
            if best is not None and obj is not None:
                row["gap_to_known_pct"] = round(100 * (obj - best) / max(abs(best), 1e-9), 6)
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
    return rows


__all__ = ["MODELS", "ClassicResult", "BuiltModel", "build_classic", "solve_classic",
           "export_model", "run_bench", "read_known", "load_instance"]
