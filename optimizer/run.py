"""The `solve` and `validate` workflows: scenario file in, result folder out."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lifecircle.optimizer.core import events
from lifecircle.optimizer import __version__
from lifecircle.optimizer.inputs.assemble import ReachFacts, build_problem_and_facts
from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions, Status
from lifecircle.optimizer.core.deadline import with_deadline
from lifecircle.optimizer.core.status import default_termination
from lifecircle.optimizer.errors import InfeasibleError, exit_code_for
from lifecircle.optimizer.files import (
    atomic_folder, check_out_dir, write_csv_bom, write_points_geojson,
)
from lifecircle.optimizer.inputs.scenario import Scenario, load_scenario
from lifecircle.optimizer.core.solution import Solution
from lifecircle.optimizer.outputs.services import group_coverage, services_keys
from lifecircle.optimizer.outputs.results import (
    GroupCoverage, ReportFacts, RunSummary, SelectedFacility, write_summary,
)

logger = logging.getLogger(__name__)

INFEASIBLE_BY_SOLVER = "the solver proved that no plan meets budget, must_open and min_open together"




def type_labels(scenario) -> dict:
    """Facility type key -> the scenario's label (社区食堂), for :attr:`RunResult.type_labels`."""
    return {key: ft.label for key, ft in scenario.facility_types.items()}


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder, its typed summary (as written) and the CLI's exit code."""

    out_dir: Path
    run: RunSummary
    exit_code: int
    # facility type key -> the scenario's label (社区食堂), for the console's Chinese lines
    type_labels: dict = field(default_factory=dict)

    @property
    def summary(self) -> dict:
        """summary.json as written (``run.to_json()``)."""
        return self.run.to_json()


def default_out_dir(scenario_path: Path, suffix: str = "") -> Path:
    """results/<name><suffix>: the YAML file's stem, or its folder's name when the stem is generic
    (``suffix`` keeps a sweep's or a phased plan's results apart from the plain solve's)."""
    path = Path(scenario_path)
    stem = path.stem if path.stem.lower() not in ("scenario", "config", "circle") else path.parent.name
    slug = re.sub(r"[^\w.-]+", "_", stem, flags=re.UNICODE).strip("_") or "scenario"
    return Path("results") / f"{slug}{suffix}"


def site_rows(scenario: Scenario, problem, solution: Solution) -> tuple[list, list, list]:
    """(header, rows, properties) for the selected sites, in a stable order (by site id order)."""
    groups = scenario.group_names
    ev = solution.evaluation
    order = np.argsort(solution.site, kind="stable")
    header = ["site_id", "name", "kind", "facility_type", "cost"] + [f"unique_{g}" for g in groups] \
        + ["facility_label"] + [f"newly_{g}" for g in groups] + ["x", "y"]
    # issue 17: sites read as GCJ-02 / BD-09 carry their input coordinates back, for web maps
    mapped = [c for c in ("lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09") if c in scenario.sites.columns]
    header += mapped
    rows, props = [], []
    for n in order:
        j, k = int(solution.site[n]), int(solution.type[n])
        key = scenario.type_names[k]
        unique = [float(v) for v in ev.unique[n]]
        newly = [float(v) for v in ev.newly_covered[n]]
        row = [scenario.sites.ids[j], scenario.sites.columns["name"][j], scenario.sites.columns["kind"][j],
               key, float(problem.cost_cny[j, k]), *unique, scenario.facility_types[key].label, *newly,
               float(scenario.sites.x[j]), float(scenario.sites.y[j]),
               *(float(scenario.sites.columns[c][j]) for c in mapped)]
        rows.append(row)
        props.append(dict(zip(header, row)))
    return header, rows, props


def summary_of(scenario: Scenario, problem, solution: Solution | None, status: Status,
               timings: dict, reason: str = "", solver: str | None = None, *,
               scenario_path: str | None = None, report: ReportFacts | None = None,
               facts: ReachFacts | None = None) -> RunSummary:
    """The run's summary (summary.json's common keys). ``solver`` names the backend asked for,
    reported when the run stopped before any backend answered (a precheck found the data
    infeasible)."""
    groups = scenario.group_names
    population = problem.people.sum(axis=0)
    before = (problem.people * problem.covered_before).sum(axis=0)
    if solution and solution.evaluation:  # issue 7: capacitated or decayed existing facilities
        before = solution.evaluation.people_before
    after = solution.evaluation.people_after if solution and solution.evaluation else None
    coverage = {g: GroupCoverage(float(population[n]), float(before[n]), None if after is None else float(after[n]))
                for n, g in enumerate(groups)}
    # issue 14: under per_service the problem's groups are services; coverage stays per YAML group
    per_group = group_coverage(scenario, problem, solution.evaluation if solution is not None else None)
    if per_group is not None:
        coverage = {g: GroupCoverage(*values) for g, values in per_group.items()}
    selected = []
    if solution is not None and solution.has_plan:
        for j, k in sorted(zip(solution.site.tolist(), solution.type.tolist())):
            selected.append(SelectedFacility(scenario.sites.ids[j], scenario.type_names[k], float(problem.cost_cny[j, k])))
    service = _service_summary(problem, solution)  # issue 7: equity, utilisation
    # issue 14: coverage_mode, and per service (coverage: per_service) the services block
    per_service = services_keys(scenario, problem, solution.evaluation if solution is not None else None)
    return RunSummary(
        scenario=scenario.name,
        scenario_file=str(scenario.path),
        scenario_checksum=scenario.checksum,
        solver=solution.backend if solution else solver,
        status=str(status),
        # issue 13: why the solve stopped, beside status (which keeps its four values)
        termination=str(solution.termination if solution is not None and solution.status == status
                        else default_termination(status)),
        reason=reason,
        objective=None if solution is None else solution.objective,
        bound=None if solution is None else solution.bound,
        gap=None if solution is None else solution.gap,
        budget_cny=scenario.budget_cny,
        spent_cny=None if solution is None or not solution.has_plan else solution.spent_cny,
        coverage=coverage,
        selected=tuple(selected),
        timings_s={k: round(float(v), 4) for k, v in timings.items()},
        crs=scenario.crs,
        metric_crs=scenario.metric_crs,
        input_crs=dict(scenario.input_crs) or None,  # issue 17
        reach_m=dict(facts.radii_m) if facts is not None else {},
        network=dict(facts.network) if facts is not None and facts.network is not None else None,  # issue 4
        min_open=dict(scenario.min_open),
        equity=service["equity"],
        utilisation=service.get("utilisation"),
        model=dict(solution.model_stats) if solution else {},
        lifecircle_version=__version__,
        scenario_path=scenario_path,
        report=report,
        # issue 15: layer -> the text encoding its CSV or Shapefile was read in
        extra=per_service | proof_summary(solution)
        | ({"input_encoding": dict(scenario.input_encoding)} if scenario.input_encoding else {}),
    )


def proof_summary(solution: Solution | None) -> dict:
    """issue 14: where the bound comes from, and what each stage proved (summary.json additions:
    ``bound_source``; ``stages``: coverage, then cost, rank and ties of the canonical plan)."""
    if solution is None:
        return {"bound_source": None, "stages": []}
    source = solution.bound_source
    return {"bound_source": None if source is None else str(source),
            "stages": list(solution.model_stats.get("stages", []))}


def _service_summary(problem, solution: Solution | None) -> dict:
    """Issue 7: covered shares per group and circle, Gini, group gap; utilisation under capacities."""
    from lifecircle.optimizer.outputs.summary import equity_summary, utilisation_rows

    evaluation = solution.evaluation if solution is not None else None
    out = {"equity": equity_summary(problem, evaluation, solution.worst_share if solution else None)}
    if problem.capacitated_groups().any():
        out["utilisation"] = utilisation_rows(problem, solution.site, solution.type, evaluation) \
            if solution is not None and solution.has_plan else []
    return out


def load_problem(scenario_path, *, out_dir=None, suffix: str = "", budget_cny=None, cache_dir=None):
    """What every command does first: load the scenario, decide the output folder and build the
    problem. Returns (scenario, problem, facts, out_dir, {"load": s, "coverage": s}), where
    ``facts`` (:class:`ReachFacts`) is what the reach found, for summary.json and the report.

    ``out_dir`` defaults to ``results/<scenario><suffix>``. Network reach (scenarios with
    ``walking.network``) is cached in ``cache_dir``, by default the one
    :func:`optimizer.network_reach.resolve_cache_dir` picks for ``out_dir``.
    """
    t0 = time.perf_counter()
    events.phase(logger, "phase.loading", "loading %s", scenario_path, path=str(scenario_path))
    scenario = load_scenario(scenario_path, budget_cny=budget_cny)
    t_load = time.perf_counter()
    logger.debug("%s: %d demand points, %d sites, %d facility types, read in %.2f s", scenario.name,
                 len(scenario.demand), len(scenario.sites), len(scenario.type_names), t_load - t0)
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(scenario.path, suffix)
    check_out_dir(out_dir, scenario.files)  # issue 12: refused before a long solve, not after it
    if scenario.network_path is not None:
        from lifecircle.optimizer.inputs.network_reach import resolve_cache_dir

        cache_dir = resolve_cache_dir(cache_dir, out_dir)
    events.phase(logger, "phase.coverage_network" if scenario.network_path is not None else "phase.coverage",
                 "coverage: who each site could reach (%s)",
                 "walking network" if scenario.network_path is not None else "straight lines x detour factor")
    problem, facts = build_problem_and_facts(scenario, cache_dir=cache_dir)
    logger.debug("coverage built in %.2f s", time.perf_counter() - t_load)
    return scenario, problem, facts, out_dir, {"load": t_load - t0, "coverage": time.perf_counter() - t_load}


@dataclass(frozen=True)
class Solved:
    """A solve done in memory, before anything is written: what :func:`write_solved` writes.

    ``solution`` is None when a precheck proved the data infeasible before any backend ran;
    ``timings_s`` holds load, coverage, build and solve seconds.
    """

    scenario: Scenario
    problem: object  # CoverageProblem
    solution: Solution | None
    status: Status
    reason: str
    solver: str
    options: SolveOptions | None
    timings_s: dict
    facts: ReachFacts | None = None  # what the reach found (summary.json's reach_m, network)


def solve_loaded(scenario: Scenario, problem, solver: str = DEFAULT_BACKEND, options: SolveOptions | None = None,
                 loaded_s: dict | None = None, facts: ReachFacts | None = None) -> Solved:
    """Solve a built problem; an infeasible or unsolved run is a status with a reason, not an error.

    ``loaded_s``: the load and coverage seconds of :func:`load_problem`, kept in the timings;
    ``facts``: what its reach found, carried to the summary and the report.
    """
    from lifecircle.optimizer.solve.coverage import solve_problem

    t_cov = time.perf_counter()
    solution, reason = None, ""
    events.phase(logger, "phase.solving", "solving with %s (budget %s)", solver, f"{scenario.budget_cny:,.0f}",
                 solver=solver, budget=f"{scenario.budget_cny:,.0f}")
    try:
        solution = solve_problem(problem, solver, options)
        status = solution.status
        if status == Status.INFEASIBLE:
            reason = INFEASIBLE_BY_SOLVER
            if problem.equity is not None and solution.message:  # issue 7: the fairness diagnosis
                reason = solution.message
        elif status == Status.NO_SOLUTION:
            reason = solution.message or "no plan found within the time limit"
    except InfeasibleError as error:
        status, reason = Status.INFEASIBLE, str(error)
    t_solved = time.perf_counter()
    logger.debug("solve: %s in %.2f s", status, t_solved - t_cov)
    timings = {**(loaded_s or {}), "build": solution.timings_s["build"] if solution else 0.0,
               "solve": solution.timings_s["solve"] if solution else t_solved - t_cov}
    return Solved(scenario, problem, solution, status, reason, solver, options, timings, facts)


def write_solved(out_dir, solved: Solved, *, report: bool = True, lang: str | None = None,
                 t0: float | None = None) -> RunSummary:
    """Write a solve's result folder (sites.csv, sites.geojson, plan.gpkg, summary.json; with a
    plan and ``report``, report.html and sites.xlsx) through the one atomic writer; return the summary
    written. ``t0``: when the run started (perf_counter), for the ``total`` timing; by default the
    sum of the earlier timings."""
    t_write = time.perf_counter()
    scenario, problem, solution, status = solved.scenario, solved.problem, solved.solution, solved.status
    events.phase(logger, "phase.writing", "writing %s", out_dir, path=str(out_dir))
    timings = dict(solved.timings_s)
    with atomic_folder(out_dir, inputs=scenario.files) as tmp:
        if solution is not None and solution.has_plan:
            header, rows, props = site_rows(scenario, problem, solution)
            write_csv_bom(tmp / "sites.csv", header, rows)
            xs = [p["x"] for p in props]
            ys = [p["y"] for p in props]
            write_points_geojson(tmp / "sites.geojson", props, xs, ys, scenario.crs)
        report_facts = None
        if report and solution is not None and solution.has_plan:  # issue 5: report.html, sites.xlsx
            from lifecircle.optimizer.outputs.i18n import resolve_language
            from lifecircle.optimizer.outputs.report import write_reports

            language = resolve_language(lang, scenario.language)
            info = {"solver": solution.backend, "status": str(status), "objective": solution.objective,
                    "bound": solution.bound, "gap": solution.gap, "spent": solution.spent_cny,
                    "bound_source": None if solution.bound_source is None else str(solution.bound_source),
                    "budget": scenario.budget_cny, "timings_s": dict(timings),
                    "reach_m": dict(solved.facts.radii_m) if solved.facts else {},
                    "network": dict(solved.facts.network) if solved.facts and solved.facts.network else {}}
            report_facts = ReportFacts(language, ("report.html", "sites.xlsx"),
                                       write_reports(tmp, scenario, problem, solution, info, lang=language,
                                                     solver=solution.backend, options=solved.options))
        if solution is not None and solution.has_plan:  # issue 15: the plan's GIS layers, styled for QGIS
            from lifecircle.optimizer.outputs.gpkg import PLAN_FILE, write_plan

            write_plan(tmp / PLAN_FILE, scenario, problem, solution, lang=lang)
        timings["write"] = time.perf_counter() - t_write
        timings["total"] = time.perf_counter() - t0 if t0 is not None else sum(timings.values())
        summary = summary_of(scenario, problem, solution, status, timings, solved.reason, solved.solver,
                             scenario_path=str(Path(scenario.path).resolve()),  # issue 5: explain reloads it
                             report=report_facts, facts=solved.facts)
        write_summary(tmp, summary)
    return summary


def run_solve(scenario_path, *, budget_cny=None, solver=DEFAULT_BACKEND, out_dir=None,
              options: SolveOptions | None = None, cache_dir=None, lang: str | None = None,
              report: bool = True) -> RunResult:
    """Load, solve and write. Bad input raises ScenarioError before anything is written.

    With a plan and ``report`` (issue 5), also report.html and sites.xlsx, in ``lang`` (zh|en;
    default: the scenario's ``language``, else en). Their explanations cost a few re-solves.

    ``cache_dir``: where network reach is cached (default: ``network_reach.default_cache_dir()``);
    only scenarios with ``walking.network`` use it.
    """
    t0 = time.perf_counter()
    options = with_deadline(options)  # issue 14: one clock from here, load included
    scenario, problem, facts, out_dir, loaded_s = load_problem(scenario_path, out_dir=out_dir,
                                                               budget_cny=budget_cny, cache_dir=cache_dir)
    solved = solve_loaded(scenario, problem, solver, options, loaded_s, facts)
    summary = write_solved(out_dir, solved, report=report, lang=lang, t0=t0)
    return RunResult(out_dir, summary, exit_code_for(solved.status), type_labels(scenario))


def validate(scenario_path) -> dict:
    """Counts and totals of a scenario, without solving."""
    scenario = load_scenario(scenario_path)
    costs = scenario.cost_matrix()
    network = {}
    if scenario.network_path is not None:  # issue 4: a bad network file fails validate too
        from lifecircle.optimizer.inputs.network import read_network

        net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs, oneway=scenario.respect_oneway)
        network = {"network": {"file": str(scenario.network_path), "nodes": net.n_nodes,
                               "segments": net.n_segments, "total_length_m": net.total_length_m}}
    return network | {
        "scenario": scenario.name,
        "crs": scenario.crs,
        "metric_crs": scenario.metric_crs,
        "input_crs": dict(scenario.input_crs),  # issue 17
        "input_encoding": dict(scenario.input_encoding),  # issue 15
        "circle_type": scenario.circle_type,
        "budget": scenario.budget_cny,
        "demand_points": len(scenario.demand),
        "sites": len(scenario.sites),
        "existing": 0 if scenario.existing is None else len(scenario.existing),
        # per group of the YAML (under per_service the groups are services, people counted once each)
        "people": {g: float(scenario.demand.columns[g].sum()) for g in (scenario.base_groups or scenario.groups)},
        "coverage_mode": scenario.coverage_mode,  # issue 14
        "candidate_cost": {k: float(np.nansum(costs[:, n])) for n, k in enumerate(scenario.type_names)},
        "min_open": dict(scenario.min_open),
    }
