"""The `lifecircle` command: parse options, call optimizer/, map errors to exit codes. No model logic."""

from __future__ import annotations

import sys

import click

from optimizer import __version__
from optimizer.errors import LifecircleError

EXIT_OK, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 2, 3, 4


def fail(error: LifecircleError) -> "NoReturn":  # noqa: F821
    """One line on stderr, no traceback, the error's exit code."""
    click.echo(f"error: {error}", err=True)
    sys.exit(getattr(error, "exit_code", 1))


@click.group()
@click.version_option(__version__, prog_name="lifecircle")
def main():
    """Place community facilities on idle sites to cover the most people within a budget."""


# ---- commands below; each section is owned by one feature ----

# ---- core engine: solve, validate, solvers, generate ----


def solve_options(time_limit, gap, threads=None, verbose=False):
    from optimizer.backends import SolveOptions

    if gap is not None and not 0 <= gap < 1:
        fail(_bad_input(f"--gap: value {gap} must be in [0, 1)"))
    if time_limit is not None and time_limit <= 0:
        fail(_bad_input(f"--time-limit: value {time_limit} must be > 0"))
    return SolveOptions(time_limit_s=time_limit, gap=gap or 0.0, threads=threads, verbose=verbose)


def _bad_input(message: str):
    from optimizer.errors import ScenarioError

    return ScenarioError(message)


def _format_people(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@click.option("--budget", type=float, default=None, help="Budget in currency units; overrides the scenario's.")
@click.option("--solver", default="highs", show_default=True, help="Backend name; see `lifecircle solvers`.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Result folder (default: results/<scenario>).")
@click.option("--time-limit", type=float, default=None, help="Stop after S seconds (status: feasible).")
@click.option("--gap", type=float, default=None, help="Stop at this relative gap (status: feasible).")
@click.option("--verbose", is_flag=True, help="Show the solver's log.")
def solve(scenario, budget, solver, out_dir, time_limit, gap, verbose):
    """Solve SCENARIO and write sites.csv, sites.geojson and summary.json."""
    from optimizer.run import run_solve

    options = solve_options(time_limit, gap, verbose=verbose)
    try:
        result = run_solve(scenario, budget_cny=budget, solver=solver, out_dir=out_dir, options=options)
    except LifecircleError as error:
        fail(error)
    s = result.summary
    click.echo(f"{s['scenario']}: {s['status']} with {s['solver']}")
    if s["reason"]:
        click.echo(f"reason: {s['reason']}", err=result.exit_code != 0)
    if s["objective"] is not None:
        gap_text = "0" if s["gap"] == 0 else ("-" if s["gap"] is None else f"{s['gap']:.4%}")
        click.echo(f"weighted coverage {s['objective']:,.1f} (bound {s['bound'] if s['bound'] is None else round(s['bound'], 1)}, gap {gap_text})")
        click.echo(f"spent {s['spent']:,.0f} of budget {s['budget']:,.0f} on {len(s['selected'])} sites")
    for group, c in s["coverage"].items():
        click.echo(f"  {group:<12} population {_format_people(c['population']):>10}  "
                   f"covered before {_format_people(c['covered_before']):>10}  after {_format_people(c['covered_after']):>10}")
    t = s["timings_s"]
    click.echo("timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in t.items()))
    click.echo(f"outputs: {result.out_dir}")
    sys.exit(result.exit_code)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
def validate(scenario):
    """Check SCENARIO without solving and print a short summary."""
    from optimizer.run import validate as run_validate

    try:
        facts = run_validate(scenario)
    except LifecircleError as error:
        fail(error)
    click.echo(f"{facts['scenario']}: valid")
    click.echo(f"  crs {facts['crs']} (distances in {facts['metric_crs']}), circle type {facts['circle_type']}")
    click.echo(f"  {facts['demand_points']} demand points, {facts['sites']} sites, {facts['existing']} existing facilities")
    for group, people in facts["people"].items():
        click.echo(f"  people {group}: {people:,.0f}")
    for key, cost in facts["candidate_cost"].items():
        click.echo(f"  candidate cost {key}: {cost:,.0f}")
    click.echo(f"  budget {facts['budget']:,.0f}; min_open {facts['min_open']}")


@main.command()
def solvers():
    """List the backends and whether each is available here."""
    from optimizer.backends import REGISTRY

    for name, backend in REGISTRY.items():
        ok = backend.available()
        version = backend.version() if ok else None
        kind = "exact" if backend.exact else "heuristic"
        state = f"available ({backend.distribution} {version})" if ok else f"missing: pip install {backend.distribution}"
        click.echo(f"{name:<14} {kind:<9} {state}")


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--profile", type=click.Choice(["hillside", "newtown", "rural"]), default="hillside", show_default=True)
@click.option("--demand", "n_demand", type=int, default=None, help="Number of demand points.")
@click.option("--sites", "n_sites", type=int, default=None, help="Number of idle sites.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--budget", type=float, default=None, help="Budget in currency units.")
@click.option("--name", default=None, help="Scenario name.")
def generate(out_dir, profile, n_demand, n_sites, seed, budget, name):
    """Write a seeded synthetic district scenario into OUT_DIR."""
    from optimizer.generate import generate_district

    try:
        path = generate_district(out_dir, profile=profile, n_demand=n_demand, n_sites=n_sites,
                                 seed=seed, budget_cny=budget, name=name)
    except LifecircleError as error:
        fail(error)
    click.echo(f"wrote {path}")
