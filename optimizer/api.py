"""The Python API for notebooks: load a scenario, solve it, look at the plan, write the folder.

``lifecircle.load_scenario`` and ``lifecircle.solve`` (re-exported by the package root) do what
``lifecircle solve`` does, without files in between::

    import lifecircle

    scenario = lifecircle.load_scenario("scenarios/bishan_rural/scenario.yaml")
    result = lifecircle.solve(scenario, budget=1_500_000)
    result.sites                  # GeoDataFrame of the selected sites (sites.csv's columns)
    result.coverage               # people per group: population, covered before and after
    result.summary.objective      # the typed run summary (summary.json)
    result.write("results/bishan")  # the same folder as `lifecircle solve --out results/bishan`

It is a thin layer over the run layer (:mod:`optimizer.run`): the solve is
:func:`~optimizer.run.solve_loaded` and :meth:`Result.write` is
:func:`~optimizer.run.write_solved`, the code behind ``lifecircle solve``. pandas and geopandas
are imported only when ``sites`` or ``coverage`` is read.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from lifecircle.optimizer.core.solution import Solution
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.scenario import Scenario
from lifecircle.optimizer.outputs.results import RunSummary
from lifecircle.optimizer.run import Solved, site_rows, solve_loaded, summary_of, write_solved
from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions


def load_scenario(path, *, budget: float | None = None) -> Scenario:
    """Read and validate a scenario file, as ``lifecircle validate`` and ``solve`` do.

    Parameters
    ----------
    path : str or Path
        The scenario's YAML file (see scenarios/FORMAT.md).
    budget : float, optional
        Replaces the file's ``budget`` (CNY), like ``--budget``.

    Returns
    -------
    Scenario
        Typed and immutable; ScenarioError (a ValueError) names the file, field and fix when the
        input is wrong.
    """
    from lifecircle.optimizer.inputs.scenario import load_scenario as load

    return load(path, budget_cny=budget)


@dataclass(frozen=True)
class Result:
    """One solve, in memory. Nothing is written until :meth:`write`.

    Attributes
    ----------
    scenario : Scenario
        The scenario solved (with the budget it was solved for).
    summary : RunSummary
        The run's typed summary, as summary.json holds it (its timings have no ``write`` yet).
    solution : Solution or None
        The evaluated plan; None when a precheck proved the data infeasible before any solver ran.
    """

    scenario: Scenario
    summary: RunSummary
    solution: Solution | None
    _solved: Solved = field(repr=False, compare=False)

    @property
    def status(self) -> str:
        """optimal, feasible, infeasible or no_solution."""
        return self.summary.status

    @property
    def objective(self) -> float | None:
        """Weighted people newly covered by the plan (None without one)."""
        return self.summary.objective

    @property
    def sites(self):
        """The selected sites as a GeoDataFrame: sites.csv's columns and rows (in site order),
        with point geometry in the scenario's CRS. Empty, with the same columns, without a plan."""
        import geopandas as gpd

        header, rows = self._site_table()
        frame = gpd.GeoDataFrame(
            [dict(zip(header, row)) for row in rows], columns=header,
            geometry=gpd.points_from_xy([r[-2] for r in rows], [r[-1] for r in rows]), crs=self.scenario.crs,
        )
        return frame

    @property
    def coverage(self):
        """People per group (the index): ``population``, ``covered_before`` and ``covered_after``
        (weighted by service level where decay or capacities apply; NaN after without a plan)."""
        import pandas as pd

        frame = pd.DataFrame(
            [[c.population, c.covered_before, c.covered_after] for c in self.summary.coverage.values()],
            index=pd.Index(list(self.summary.coverage), name="group"),
            columns=["population", "covered_before", "covered_after"], dtype=float,
        )
        return frame

    def write(self, out, *, report: bool = True, lang: str | None = None) -> Path:
        """Write the result folder ``out``, the same files as ``lifecircle solve --out OUT``
        (``report=False`` is ``--no-report``; ``lang`` is ``--lang``), through the same atomic
        writer: a folder lifecircle did not write is refused, never replaced. Returns ``out``."""
        write_solved(out, self._solved, report=report, lang=lang)
        return Path(out)

    def _site_table(self) -> tuple[list, list]:
        solution = self.solution
        if solution is None or not solution.has_plan:
            scenario = self.scenario
            header = ["site_id", "name", "kind", "facility_type", "cost"] \
                + [f"unique_{g}" for g in scenario.group_names] + ["facility_label"] \
                + [f"newly_{g}" for g in scenario.group_names] + ["x", "y"]
            return header, []
        header, rows, _ = site_rows(self.scenario, self._solved.problem, solution)
        return header, rows


def solve(scenario, budget: float | None = None, solver: str = DEFAULT_BACKEND, time_limit: float | None = None,
          gap: float | None = None, *, cache_dir=None) -> Result:
    """Solve a scenario as ``lifecircle solve`` does and return the result in memory.

    Parameters
    ----------
    scenario : Scenario or str or Path
        From :func:`load_scenario`, or the path of a scenario file.
    budget : float, optional
        Replaces the scenario's budget (CNY), like ``--budget``; the file is read again.
    solver : str
        A backend name (``lifecircle solvers``), like ``--solver``.
    time_limit : float, optional
        Seconds before the solver stops with its best plan (status ``feasible``).
    gap : float, optional
        Relative gap in [0, 1) at which the solver stops.
    cache_dir : str or Path, optional
        Where walking-network reach is cached (scenarios with ``walking.network``).

    Returns
    -------
    Result
        An infeasible or unsolved run is a result with that status and a ``summary.reason``,
        as the CLI writes it, not an exception. Bad input raises ScenarioError.
    """
    from lifecircle.optimizer.inputs.assemble import build_problem_and_facts

    if gap is not None and not 0 <= gap < 1:  # also NaN
        raise ScenarioError(f"gap: value {gap} must be in [0, 1)")
    if time_limit is not None and not 0 < time_limit < math.inf:  # also NaN
        raise ScenarioError(f"time_limit: value {time_limit} must be a finite number > 0")
    t0 = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, budget=budget)
    elif budget is not None:  # the file again, so the budget is checked as --budget is
        scenario = load_scenario(scenario.path, budget=budget)
    t_load = time.perf_counter()
    kwargs = {}
    if scenario.network_path is not None:
        from lifecircle.optimizer.inputs.network_reach import resolve_cache_dir

        kwargs["cache_dir"] = resolve_cache_dir(cache_dir)
    problem, facts = build_problem_and_facts(scenario, **kwargs)
    loaded_s = {"load": t_load - t0, "coverage": time.perf_counter() - t_load}
    options = SolveOptions(time_limit_s=time_limit, gap=gap or 0.0)
    solved = solve_loaded(scenario, problem, solver, options, loaded_s, facts)
    summary = summary_of(scenario, problem, solved.solution, solved.status, solved.timings_s, solved.reason,
                         solver, scenario_path=str(Path(scenario.path).resolve()), facts=facts)
    return Result(scenario, summary, solved.solution, solved)
