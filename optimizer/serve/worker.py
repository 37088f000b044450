"""What a workbench job does, in its own process (issue 15).

A solve or a sweep runs in a child process started with multiprocessing's ``spawn``, so Cancel can
really stop it (the solver's C code does not listen to Python threads) and two jobs never mix their
progress events (:mod:`optimizer.core.events` is process-global). The child puts messages on a
queue: ``("event", kind, fields)`` for every event emitted while it works, then one
``("done", result)`` or ``("failed", message)``. It writes run folders only through
``write_solved`` (atomic): a child killed mid-write leaves a marked temporary, which the parent
removes.

Everything here is plain data in, plain data out: specs and results are dicts of numbers, strings
and lists, so they cross the process boundary as they are.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from types import MappingProxyType

from lifecircle.optimizer.core import events
from lifecircle.optimizer.errors import LifecircleError

EVENT_FIELDS = {"phase": ("message",), "mip": ("incumbent", "bound", "gap", "elapsed_s"),
                "step": ("done", "total", "label")}


def main(queue, spec: dict) -> None:
    """The child's entry point: run ``spec["kind"]`` ("solve" or "sweep"), report on ``queue``."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # its own process group: Cancel stops a solver's helper processes (CBC) too

    try:
        with events.subscribe(Forward(queue)):
            result = (sweep if spec["kind"] == "sweep" else solve)(spec)
        queue.put(("done", result))
    except LifecircleError as error:
        queue.put(("failed", " ".join(str(error).split())))
    except Exception as error:  # noqa: BLE001 - one line to the page, not a traceback
        queue.put(("failed", f"{type(error).__name__}: {' '.join(str(error).split())}"))


def wait_and_run(start, queue) -> None:
    """A spare worker's entry point: import what a job needs now, then wait for one spec on
    ``start`` and run it as :func:`main` does. The server gone (the queue closed), it just ends."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    import lifecircle.optimizer.planning.sweep  # noqa: F401 - the imports are the point: done ahead
    import lifecircle.optimizer.run  # noqa: F401
    import lifecircle.optimizer.solve.coverage  # noqa: F401

    try:
        spec = start.get()
    except (EOFError, OSError, KeyboardInterrupt):
        return
    main(queue, spec)


class Forward:
    """An events subscriber putting the contract's fields of each event on ``queue`` (anything with
    ``put``); a phase repeated at once (this module's word, then the run layer's own event for the
    same step) is sent once."""

    def __init__(self, queue):
        self.queue = queue
        self.last_phase = None

    def __call__(self, kind, **fields):
        wanted = EVENT_FIELDS.get(kind)
        if wanted is None:
            return
        if kind == "phase":
            fields = dict(fields, message=phase_word(fields))
            if fields["message"] == self.last_phase:
                return
            self.last_phase = fields["message"]
        self.queue.put(("event", kind, {k: _plain(fields.get(k)) for k in wanted}))


def phase_word(fields: dict) -> str:
    """A phase event's one word for the page: the run layer's events carry a catalogue ``key``
    ("phase.solving", "phase.coverage_network"), whose last part is the word; the page translates
    the words it knows (starting, loading, coverage, solving, writing) and shows others as they are.
    Messages (which name server paths) are not sent."""
    key = fields.get("key")
    if isinstance(key, str) and key:
        word = key.rpartition(".")[2]
        return "coverage" if word.startswith("coverage") else word
    return str(fields.get("message", ""))


def _plain(value):
    if value is None or isinstance(value, (str, bool, int)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def load(spec: dict):
    """(scenario, problem, facts, loaded seconds) of the spec's scenario with its budget and rules."""
    from lifecircle.optimizer.inputs.assemble import build_problem_and_facts
    from lifecircle.optimizer.inputs.scenario import load_scenario

    t0 = time.perf_counter()
    events.emit("phase", message="loading")
    scenario = load_scenario(spec["scenario_path"], budget_cny=spec.get("budget_cny"))
    rules = {}
    if spec.get("must_open") is not None:
        rules["must_open"] = MappingProxyType(dict(spec["must_open"]))
    if spec.get("forbid") is not None:
        rules["forbid"] = tuple(spec["forbid"])
    if spec.get("min_open") is not None:
        rules["min_open"] = MappingProxyType(dict(spec["min_open"]))
    scenario = replace(scenario, **rules)
    t_load = time.perf_counter()
    events.emit("phase", message="coverage")
    problem, facts = build_problem_and_facts(scenario, cache_dir=spec.get("cache_dir"))
    return scenario, problem, facts, {"load": t_load - t0, "coverage": time.perf_counter() - t_load}


def _options(spec: dict):
    from lifecircle.optimizer.core.deadline import with_deadline
    from lifecircle.optimizer.solve.backends import SolveOptions

    return with_deadline(SolveOptions(time_limit_s=spec.get("time_limit_s")))


def solve(spec: dict) -> dict:
    """Load, solve and write one run folder (report included) at ``spec["folder"]``."""
    from lifecircle.optimizer.run import solve_loaded, write_solved

    t0 = time.perf_counter()
    options = _options(spec)
    scenario, problem, facts, loaded_s = load(spec)
    events.emit("phase", message="solving")
    solved = solve_loaded(scenario, problem, spec["solver"], options, loaded_s, facts)
    events.emit("phase", message="writing")
    write_solved(spec["folder"], solved, report=spec.get("report", True), lang=spec.get("lang"), t0=t0)
    return {"runs": [_run_facts(spec["rid"], scenario.budget_cny, solved)]}


def _unique(problem, solution) -> list | None:
    """The plan's unique contributions, worked out here when each evaluate() is an LP (see
    :func:`runs.costly_to_evaluate`); None otherwise (the server computes them in milliseconds)."""
    from lifecircle.optimizer.serve.runs import costly_to_evaluate, unique_contributions

    if solution is None or not solution.has_plan or not costly_to_evaluate(problem):
        return None
    events.emit("phase", message="unique contributions")
    return unique_contributions(problem, solution.site, solution.type)


def _run_facts(rid: str, budget_cny: float, solved) -> dict:
    solution = solved.solution
    has_plan = solution is not None and solution.has_plan
    return {"rid": rid, "budget_cny": float(budget_cny), "status": str(solved.status), "reason": solved.reason,
            "solver": solution.backend if solution is not None else solved.solver,
            "objective": solution.objective if has_plan else None,
            "bound": solution.bound if solution is not None else None,
            "gap": solution.gap if solution is not None else None,
            "bound_source": None if solution is None or solution.bound_source is None else str(solution.bound_source),
            "cost_cny": solution.spent_cny if has_plan else None,
            "site": solution.site.tolist() if has_plan else [], "type": solution.type.tolist() if has_plan else [],
            "unique": _unique(solved.problem, solution)}


def sweep(spec: dict) -> dict:
    """Solve every budget of ``spec["budgets_cny"]`` (ascending, distinct) on one model and store
    each point with a plan as a run folder (no report: the page's Solve writes that)."""
    from lifecircle.optimizer.core.solution import Solution, evaluate
    from lifecircle.optimizer.planning.sweep import sweep_problem
    from lifecircle.optimizer.run import Solved, write_solved
    from lifecircle.optimizer.solve.backends import Status

    options = _options(spec)
    scenario, problem, facts, loaded_s = load(spec)
    budgets = spec["budgets_cny"]
    total = len(budgets)
    settled = [0]

    def on_budget(n):
        settled[0] = min(total, settled[0] + n)  # budgets sharing one optimum settle together
        events.emit("step", done=settled[0], total=total, label="budgets")

    events.emit("phase", message="solving")
    events.emit("step", done=0, total=total, label="budgets")
    result = sweep_problem(problem, budgets, spec["solver"], options, jobs=1, on_budget=on_budget)
    events.emit("phase", message="writing")
    runs, points = [], []
    for point, rid, folder in zip(result.points, spec["rids"], spec["folders"]):
        has_plan = point.objective is not None and point.status in (Status.OPTIMAL, Status.FEASIBLE)
        if not has_plan:
            points.append({"budget_cny": point.budget_cny, "objective": None, "cost_cny": None, "rid": None,
                           "status": str(point.status)})
            continue
        at_budget = replace(problem, budget_cny=float(point.budget_cny))
        solution = Solution(point.status, spec["solver"], point.objective, point.bound, point.gap, point.site,
                            point.type, float(point.spent_cny), evaluation=evaluate(at_budget, point.site, point.type))
        solved = Solved(replace(scenario, budget_cny=float(point.budget_cny)), at_budget, solution, point.status,
                        point.reason, spec["solver"], options, {**loaded_s, "solve": point.solve_s}, facts)
        write_solved(folder, solved, report=False, lang=spec.get("lang"))
        runs.append(_run_facts(rid, point.budget_cny, solved))
        points.append({"budget_cny": point.budget_cny, "objective": point.objective, "cost_cny": point.spent_cny,
                       "rid": rid, "status": str(point.status)})
    return {"runs": runs, "sweep": points, "knee_cny": result.knee_cny}
