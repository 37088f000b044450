"""The `lifecircle` command: parse options, call optimizer/, map errors to exit codes. No model logic."""

from __future__ import annotations

import sys

import click

from lifecircle.optimizer import __version__
from lifecircle.optimizer.classic.options import (  # issues 3 and 16: light, click only
    CLASSIC_MODELS, bench_kwargs, bench_options, instance_options, load_kwargs, model_options,
    research_options, solve_kwargs)
from lifecircle.optimizer.errors import LifecircleError, exit_code_for
from lifecircle.optimizer.outputs.console import (  # issue 15
    OneLineGroup, counting, lang_option, language, say, tracking, use_language)

EXIT_OK, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 2, 3, 4


def fail(error: LifecircleError) -> "NoReturn":  # noqa: F821
    """One line on stderr, no traceback, the error's exit code (prefix in the console's language)."""
    click.echo(say("console.error", message=error), err=True)
    sys.exit(getattr(error, "exit_code", 1))


def echo_lines(lines) -> None:
    """Echo console lines from optimizer.outputs.text: plain ones on stdout, ToStderr ones on stderr."""
    from lifecircle.optimizer.outputs.text import ToStderr

    for line in lines:
        click.echo(line, err=isinstance(line, ToStderr))


@click.group(cls=OneLineGroup, name="lifecircle")
@click.version_option(__version__, prog_name="lifecircle")
@click.option("--verbose", "-v", is_flag=True, help="Log each phase (load, coverage, solve, report, write) on stderr.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors on stderr: no warnings, no progress display.")
@click.pass_context
def main(ctx, verbose, quiet):
    """Place community facilities on idle sites to cover the most people within a budget."""
    from lifecircle.optimizer.outputs.progress import console_logging

    if verbose and quiet:
        raise click.UsageError("--verbose and --quiet: give one or neither")
    ctx.call_on_close(console_logging(verbose=verbose, quiet=quiet))  # undone when the command ends


# ---- commands below; each section is owned by one feature ----

# ---- core engine: solve, validate, solvers, generate ----


def solve_options(time_limit, gap, threads=None, verbose=False, seed=None):
    from lifecircle.optimizer.solve.backends import SolveOptions

    if gap is not None and not 0 <= gap < 1:  # also NaN
        fail(_bad_input(f"--gap: value {gap} must be in [0, 1)"))
    if time_limit is not None and not 0 < time_limit < float("inf"):  # also NaN
        fail(_bad_input(f"--time-limit: value {time_limit} must be a finite number > 0"))
    return SolveOptions(time_limit_s=time_limit, gap=gap or 0.0, threads=threads, verbose=verbose, seed=seed)


def _bad_input(message: str):
    from lifecircle.optimizer.errors import ScenarioError

    return ScenarioError(message)


# Options several commands share with the same meaning (commands whose options mean something
# else, such as a per-budget limit, declare their own).
solver_option = click.option("--solver", default="highs", show_default=True,
                             help="Backend name; see `lifecircle solvers`.")
time_limit_option = click.option("--time-limit", type=float, default=None,
                                 help="Stop after S seconds for the whole run: load, build, every stage (status: feasible).")
gap_option = click.option("--gap", type=float, default=None, help="Stop at this relative gap (status: feasible).")

@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@click.option("--budget", type=float, default=None, help="Budget in currency units; overrides the scenario's.")
@solver_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Result folder (default: results/<scenario>).")
@time_limit_option
@gap_option
@click.option("--verbose", is_flag=True, help="Show the solver's log.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Walking-network reach cache (default: $LIFECIRCLE_CACHE_DIR, else ~/.cache/lifecircle).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of report.html and sites.xlsx (default: the scenario's `language`, else en).")
@click.option("--no-report", is_flag=True, help="Skip report.html and sites.xlsx (and their re-solves).")
def solve(scenario, budget, solver, out_dir, time_limit, gap, verbose, cache_dir, lang, no_report):
    """Solve SCENARIO and write sites.csv, sites.geojson, summary.json, report.html and sites.xlsx."""
    from lifecircle.optimizer.outputs.progress import phases
    from lifecircle.optimizer.outputs.text import solve_lines
    from lifecircle.optimizer.run import run_solve

    use_language(lang, scenario)  # the console's; the report keeps its own default
    options = solve_options(time_limit, gap, verbose=verbose)
    if budget is not None and not 0 <= budget < float("inf"):  # also NaN
        fail(_bad_input(f"--budget: value {budget} must be a finite number >= 0"))
    try:  # no status line under the solver's own log (--verbose): both would share the terminal
        with tracking("solve"), phases("solve", show=False if verbose else None):
            result = run_solve(scenario, budget_cny=budget, solver=solver, out_dir=out_dir, options=options,
                               cache_dir=cache_dir, lang=lang, report=not no_report)
    except LifecircleError as error:
        fail(error)
    echo_lines(solve_lines(result.summary, result.out_dir, result.exit_code, lang=language(),
                           type_labels=result.type_labels))
    sys.exit(result.exit_code)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@lang_option("scenario")
def validate(scenario):
    """Check SCENARIO without solving and print a short summary."""
    from lifecircle.optimizer.outputs.text import validate_lines
    from lifecircle.optimizer.run import validate as run_validate

    try:
        facts = run_validate(scenario)
    except LifecircleError as error:
        fail(error)
    echo_lines(validate_lines(facts, lang=language()))


@main.command()
@lang_option()
def solvers():
    """List the backends and whether each is available here."""
    from lifecircle.optimizer.outputs.text import solvers_lines
    from lifecircle.optimizer.solve.backends import REGISTRY

    echo_lines(solvers_lines(REGISTRY))


@main.command()
@click.argument("out_dir", type=click.Path())
@click.option("--profile", type=click.Choice(["hillside", "newtown", "rural"]), default="hillside", show_default=True)
@click.option("--demand", "n_demand", type=int, default=None, help="Number of demand points.")
@click.option("--sites", "n_sites", type=int, default=None, help="Number of idle sites.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--budget", type=float, default=None, help="Budget in currency units.")
@click.option("--name", default=None, help="Scenario name.")
@click.option("--cfl", "cfl", type=int, nargs=2, default=None, metavar="N_SITES N_CLIENTS",
              help="Write a Cordeau-Furini-Ljubic budgeted-MCLP instance FILE (OUT) instead of a scenario.")
@click.option("--city", "n_circles", type=int, default=None, metavar="N",
              help="Write a synthetic city of N circle folders instead (915: Chongqing-sized, ~10 million people).")
@lang_option()
def generate(out_dir, profile, n_demand, n_sites, seed, budget, name, cfl, n_circles):
    """Write a seeded synthetic district scenario into OUT_DIR (or, with --cfl, an instance file OUT)."""
    import os

    from lifecircle.optimizer.generate.district import generate_district

    if cfl:  # issue 8: uniform sites and clients on a 30 x 30 square, for `classic --format cfl`
        from lifecircle.optimizer.classic.cfl import generate_cfl

        try:
            info = generate_cfl(out_dir, cfl[0], cfl[1], seed=seed)
        except LifecircleError as error:
            fail(error)
        click.echo(say("cmd.generate.cfl", path=info["path"], sites=cfl[0], clients=cfl[1], seed=seed,
                       cost=info["total_site_cost"], budget=0.1 * info["total_site_cost"]))
        return
    if os.path.isfile(out_dir):
        fail(_bad_input(f"OUT_DIR: {out_dir} is a file; give a folder for the scenario"))
    if n_circles is not None:  # issue 6: a whole city
        _generate_city(out_dir, n_circles, seed, n_demand, n_sites, budget, name)
        return
    _check_district_size(n_demand, n_sites, budget)
    try:
        path = generate_district(out_dir, profile=profile, n_demand=n_demand, n_sites=n_sites,
                                 seed=seed, budget_cny=budget, name=name)
    except LifecircleError as error:
        fail(error)
    click.echo(say("cmd.generate.wrote", path=path))


def _check_district_size(n_demand, n_sites, budget):
    """Refuse before drawing anything: sizes in 1..limit, a finite budget >= 0 (issue 12)."""
    import math

    from lifecircle.optimizer.generate.profiles import MAX_DEMAND_POINTS, MAX_SITES

    for flag, value, limit, what in (("--demand", n_demand, MAX_DEMAND_POINTS, "demand points"),
                                     ("--sites", n_sites, MAX_SITES, "sites")):
        if value is not None and value < 1:
            fail(_bad_input(f"{flag}: value {value} must be >= 1"))
        if value is not None and value > limit:
            fail(_bad_input(f"{flag}: value {value} is above the limit of {limit:,} {what} per district; "
                            "for more people generate a city (--city N)"))
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        fail(_bad_input(f"--budget: value {budget:g} must be a finite number >= 0"))


# ---- classic location models: classic, bench, export (issue 3) ----
# Everything heavy (numpy, scipy, solvers) is imported inside the commands, so that start-up
# stays small: `lifecircle classic` is timed from process start to JSON.

@main.command()
@click.argument("model", type=click.Choice(CLASSIC_MODELS))
@click.option("--instance", required=True, type=click.Path(dir_okay=False), help="Instance file.")
@instance_options
@model_options
@solver_option
@time_limit_option
@research_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout, nothing else.")
@lang_option()
def classic(model, instance, fmt, weights, site_costs, demand_col, site_col, cost_col, weight_col,
            site_cost_col, p, radius, budget, preselected, solver, time_limit, as_json, **research):
    """Solve one textbook MODEL (mclp, lscp, pmedian, pcenter) on an instance file."""
    import json
    import time

    options = solve_options(time_limit, None, research["threads"], seed=research["solver_seed"])
    from lifecircle.optimizer.classic.solve import solve_classic
    from lifecircle.optimizer.classic.formats import load_instance

    t0 = time.perf_counter()
    try:
        inst = load_instance(instance, fmt, **load_kwargs(weights, site_costs, demand_col, site_col,
                                                           cost_col, weight_col, site_cost_col))
        read_s = time.perf_counter() - t0
        pre = [s.strip() for s in preselected.split(",") if s.strip()] if preselected else ()
        result = solve_classic(inst, model, p=p, radius=radius, budget=budget, preselected=pre,
                               solver=solver, options=options, read_s=read_s,
                               **solve_kwargs(model, research))
    except LifecircleError as error:
        fail(error)
    code = exit_code_for(result.status)
    if as_json:
        from lifecircle.optimizer.files import finite_json

        click.echo(json.dumps(finite_json(result.as_json()), allow_nan=False))  # NaN, inf: null
        sys.exit(code)
    from lifecircle.optimizer.outputs.text import classic_lines

    echo_lines(classic_lines(result, model, code == EXIT_NO_SOLUTION, lang=language()))
    sys.exit(code)


@main.command()
@click.argument("instances", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--model", required=True, type=click.Choice(CLASSIC_MODELS))
@click.option("--solvers", default="highs", show_default=True, help="Comma-separated backend names.")
@click.option("--known", type=click.Path(dir_okay=False), default=None,
              help="Best known values, lines 'name value' (e.g. pmedopt.txt).")
@click.option("--time-limit", type=float, default=None, help="Per solve; a job is killed at 2S + 60 s.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="bench", show_default=True)
@instance_options
@model_options
@bench_options
@lang_option()
def bench(instances, model, solvers, known, time_limit, out_dir, fmt, weights, site_costs,
          demand_col, site_col, cost_col, weight_col, site_cost_col, p, radius, budget, preselected,
          **research):
    """Run MODEL on every INSTANCE with every solver; write bench.csv and bench.md as rows finish."""
    from lifecircle.optimizer.classic.bench import bench_lines, run_bench
    from lifecircle.optimizer.classic.formats import read_known
    from lifecircle.optimizer.outputs.progress import progress, solver_figures

    solve_options(time_limit, None)
    if not instances:
        fail(_bad_input("INSTANCES: give at least one instance file"))
    names = [s.strip() for s in solvers.split(",") if s.strip()]
    params = {"p": p, "radius": radius, "budget": budget,
              "preselected": [s.strip() for s in preselected.split(",")] if preselected else (),
              **solve_kwargs(model, research)}
    command = "lifecircle " + " ".join(sys.argv[1:])
    try:  # the bar is erased when it closes, so an error stays the only line on stderr
        best = read_known(known) if known else {}
        with tracking("bench"), progress(len(instances) * len(names), f"bench {model}", unit="job") as bar, \
                solver_figures(bar):
            rows = run_bench(list(instances), model, names, fmt=fmt, known=best,
                             time_limit=time_limit, out_dir=out_dir, params=params,
                             load=load_kwargs(weights, site_costs, demand_col, site_col, cost_col,
                                               weight_col, site_cost_col),
                             command=command, on_row=lambda row, step=counting(
                                 bar, len(instances) * len(names), "jobs", f"{out_dir}/bench.csv"): step(1),
                             **bench_kwargs(research))
    except LifecircleError as error:
        fail(error)
    echo_lines(bench_lines(rows, research["compare"], out_dir, lang=language()))


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--instance", type=click.Path(dir_okay=False), default=None, help="Instance file.")
@click.option("--model", type=click.Choice(CLASSIC_MODELS), default=None, help="With --instance.")
@instance_options
@model_options
@click.option("--mps", required=True, type=click.Path(dir_okay=False), help="Write the model as MPS.")
@click.option("--lp", "lp_path", type=click.Path(dir_okay=False), default=None,
              help="Also write it in CPLEX LP format.")
@lang_option("scenario")
def export(scenario, instance, model, fmt, weights, site_costs, demand_col, site_col, cost_col,
           weight_col, site_cost_col, p, radius, budget, preselected, mps, lp_path):
    """Write the exact model that would be solved, for any other solver (SCENARIO or --instance)."""
    from lifecircle.optimizer.outputs.text import export_line
    from lifecircle.optimizer.solve.export import check_export_targets, export_model

    try:  # issue 12: before any loading, never over a file lifecircle did not write
        check_export_targets(mps, lp_path)
    except LifecircleError as error:
        fail(error)

    if scenario is not None:
        from lifecircle.optimizer.inputs.assemble import build_problem
        from lifecircle.optimizer.inputs.scenario import load_scenario
        from lifecircle.optimizer.solve.coverage import problem_model

        if instance is not None:
            fail(_bad_input("export: give SCENARIO or --instance, not both"))
        try:
            lin, _ = problem_model(build_problem(load_scenario(scenario, budget_cny=budget)))
            export_model(lin, mps, lp_path)
        except LifecircleError as error:
            fail(error)
        click.echo(export_line(mps, lp_path, lin, lang=language()))
        return
    if instance is None or model is None:
        fail(_bad_input("export: give SCENARIO, or --instance FILE with --model MODEL"))
    from lifecircle.optimizer.classic.formats import load_instance
    from lifecircle.optimizer.classic.solve import build_classic

    try:
        inst = load_instance(instance, fmt, **load_kwargs(weights, site_costs, demand_col, site_col,
                                                           cost_col, weight_col, site_cost_col))
        pre = [s.strip() for s in preselected.split(",") if s.strip()] if preselected else ()
        built = build_classic(inst, model, p=p, radius=radius, budget=budget, preselected=pre)
        export_model(built.linear, mps, lp_path)
    except LifecircleError as error:
        fail(error)
    click.echo(export_line(mps, lp_path, built.linear, lang=language()))


# ---- walking networks: network (issue 4) ----


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=str))
@click.option("--from-osm", "extract", help="Write this OSM extract's (.osm.pbf) pedestrian network to --out.")
@click.option("--bbox", help="With --from-osm: keep ways touching minlon,minlat,maxlon,maxlat (WGS84).")
@click.option("--polygon", help="With --from-osm: keep ways touching this polygon file (a circle).")
@click.option("--out", help="With --from-osm: the GeoPackage to write (walking.network may name it).")
@lang_option("scenario")
def network(scenario, extract, bbox, polygon, out):
    """Print SCENARIO's walking network and its snaps, or (--from-osm) write an OSM extract's."""
    from lifecircle.optimizer.errors import ScenarioError
    from lifecircle.optimizer.inputs.network_reach import network_facts
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.outputs.osm_network import network_from_osm
    from lifecircle.optimizer.outputs.text import network_lines

    try:
        if scenario is None or extract or bbox or polygon or out:  # issue 17: an OSM extract
            return echo_lines(network_from_osm(scenario, extract, bbox, polygon, out, lang=language()))
        loaded = load_scenario(scenario)
        if loaded.network_path is None:
            raise ScenarioError(f"{scenario}: no walking.network; reach uses straight lines × detour_factor")
        facts = network_facts(loaded)
    except LifecircleError as error:
        fail(error)
    echo_lines(network_lines(facts, lang=language()))


# ---- officials: explain, compare (issue 5) ----


@main.command()
@click.argument("result_dir", type=click.Path(file_okay=False))
@click.argument("site_id", required=False)
@click.option("--why-not", "why_not_id", default=None, metavar="SITE_ID",
              help="Why this site was not chosen (re-solves with it forced in).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Output language (default: the run's report language, else the scenario's, else en).")
@click.option("--solver", default=None, help="Backend for re-solves (default: the run's own).")
@click.option("--time-limit", type=float, default=None, help="Per re-solve, in seconds.")
def explain(result_dir, site_id, why_not_id, lang, solver, time_limit):
    """Explain a solve in RESULT_DIR: one SITE_ID, --why-not SITE_ID, or (neither) the plan as a whole.

    Reloads the scenario named in summary.json and refuses when it changed since the run.
    """
    from lifecircle.optimizer.outputs.progress import phases
    from lifecircle.optimizer.outputs.text import explain_lines

    use_language(lang, result_dir, "result")
    if site_id is not None and why_not_id is not None:
        fail(_bad_input("explain: give SITE_ID or --why-not SITE_ID, not both"))
    options = solve_options(time_limit, None)
    try:
        with phases("explain", show=None if why_not_id else False):  # --why-not re-solves
            lines = explain_lines(result_dir, site_id, why_not_id, lang=lang, solver=solver, options=options)
    except LifecircleError as error:
        fail(error)
    echo_lines(lines)


@main.command()
@click.argument("result_a", type=click.Path(file_okay=False))
@click.argument("result_b", type=click.Path(file_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Output language (default: RESULT_A's report language, else en).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="JSON file to write (default: compare_<A>_vs_<B>.json beside RESULT_B).")
def compare(result_a, result_b, lang, out_path):
    """Print and write what changed from RESULT_A to RESULT_B: sites, coverage per group, cost."""
    from lifecircle.optimizer.outputs.compare import run_compare
    from lifecircle.optimizer.outputs.i18n import t

    use_language(lang, result_a, "result")
    try:
        lines, path, lang = run_compare(result_a, result_b, lang=lang, out=out_path)
    except LifecircleError as error:
        fail(error)
    echo_lines([*lines, t("compare.written", lang, path=path)])


# ---- city scale: sweep, plan, city, generate --city (issue 6) ----


def _generate_city(out_dir, n_circles, seed, n_demand, n_sites, budget, name):
    from lifecircle.optimizer.generate.city import generate_city

    given = [flag for flag, value in (("--demand", n_demand), ("--sites", n_sites), ("--budget", budget),
                                      ("--name", name)) if value is not None]
    if given:
        fail(_bad_input(f"{given[0]}: not used with --city; each circle's size and budget follow the city recipe"))
    if n_circles < 1:
        fail(_bad_input(f"--city: value {n_circles} must be >= 1"))
    from lifecircle.optimizer.generate.city import MAX_CIRCLES

    if n_circles > MAX_CIRCLES:
        fail(_bad_input(f"--city: value {n_circles} is above the limit of {MAX_CIRCLES:,} circles"))
    try:
        path = generate_city(out_dir, n_circles, seed=seed)
    except LifecircleError as error:
        fail(error)
    click.echo(say("cmd.generate.city", n=n_circles, path=path, readme=path / "README.md"))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@click.option("--budgets", required=True, metavar="START:END:N|B1,B2,...",
              help="N evenly spaced budgets from START to END, or a comma list.")
@solver_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Result folder (default: results/<scenario>-sweep).")
@click.option("--time-limit", type=float, default=None, help="Per budget, in seconds.")
@click.option("--gap", type=float, default=None, help="Stop each solve at this relative gap.")
@click.option("--jobs", type=int, default=None,
              help="Budget solves at once, in threads (default: the number of cores; the budgets "
                   "form 4 chains, so at most 4 are used; 1: one after another). The results do "
                   "not depend on it unless --time-limit cuts solves short.")
@lang_option("scenario")
def sweep(scenario, budgets, solver, out_dir, time_limit, gap, jobs):
    """Solve SCENARIO at many budgets; write curve.csv, curve.png, plans.csv and print the knee."""
    from lifecircle.optimizer.outputs.progress import phases, progress
    from lifecircle.optimizer.outputs.text import sweep_lines
    from lifecircle.optimizer.planning.curve import KNEE_BUDGET_STEP, KNEE_COVERAGE_GAIN, parse_budgets
    from lifecircle.optimizer.planning.sweep import run_sweep

    options = solve_options(time_limit, gap)
    if jobs is not None and jobs < 1:
        fail(_bad_input(f"--jobs: value {jobs} must be >= 1"))
    try:
        values = parse_budgets(budgets)
        with tracking("sweep"), phases("sweep"), progress(len(values), "budgets", unit="budget") as bar:
            run = run_sweep(scenario, values, solver=solver, out_dir=out_dir, options=options, jobs=jobs,
                            on_budget=counting(bar, len(values), "budgets"))
    except LifecircleError as error:
        fail(error)
    echo_lines(sweep_lines(run, KNEE_BUDGET_STEP, KNEE_COVERAGE_GAIN, lang=language()))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@click.option("--years", type=int, default=3, show_default=True, help="Planning years.")
@click.option("--budget-per-year", "budget_per_year", required=True, metavar="N|B1,B2,...",
              help="Each year's budget: one number for every year, or one per year.")
@click.option("--solver", default="highs", show_default=True, help="Exact backend; see `lifecircle solvers`.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Result folder (default: results/<scenario>-plan).")
@time_limit_option
@gap_option
@click.option("--compare", is_flag=True, help="Also solve year by year (myopic) and report both.")
@lang_option("scenario")
def plan(scenario, years, budget_per_year, solver, out_dir, time_limit, gap, compare):
    """Phased plan for SCENARIO: which sites open in which year (one MILP over all years)."""
    from lifecircle.optimizer.outputs.progress import phases
    from lifecircle.optimizer.outputs.text import phased_lines
    from lifecircle.optimizer.planning.phased import parse_year_budgets, run_plan

    options = solve_options(time_limit, gap)
    try:
        budgets = parse_year_budgets(budget_per_year, years)
        with tracking("plan"), phases("plan"):
            result = run_plan(scenario, years=years, budgets_cny=budgets, solver=solver, out_dir=out_dir,
                              options=options, compare=compare)
    except LifecircleError as error:
        fail(error)
    echo_lines(phased_lines(result.summary, years, result.out_dir, result.exit_code, lang=language(),
                            type_labels=result.type_labels))
    sys.exit(result.exit_code)


@main.command()
@click.argument("city_dir", type=click.Path(file_okay=False, path_type=str))
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="A running Dask scheduler, e.g. tcp://host:8786 (default: a local cluster).")
@click.option("--workers", type=int, default=None, help="Local worker processes (default: the number of cores).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Result folder (default: results/<CITY_DIR name>).")
@solver_option
@click.option("--time-limit", type=float, default=None, help="Per circle; no plan in time counts as failed.")
@click.option("--gap", type=float, default=None, help="Per circle relative gap.")
@click.option("--report", is_flag=True, help="Also write report.html and sites.xlsx per circle (slower).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--db", default=None, metavar="URI", help="Also write each circle's results to PostGIS (postgresql://…).")
@lang_option("city_dir", "city")
def city(city_dir, scheduler, workers, out_dir, solver, time_limit, gap, report, no_progress, db):
    """Solve every circle under CITY_DIR on Dask; resumable. Exit 5 if any circle failed.

    Each sub-folder with scenario.yaml is a circle (its folder name is the id); its results go to
    OUT/<id>/. Also writes OUT/city.csv and OUT/city.geojson (boundaries from an optional
    boundary.geojson per circle).
    """
    from dataclasses import replace

    from lifecircle.optimizer.outputs.progress import phases
    from lifecircle.optimizer.outputs.text import city_lines
    from lifecircle.optimizer.planning.city import run_city

    base = solve_options(time_limit, gap)
    if workers is not None and workers < 1:
        fail(_bad_input(f"--workers: value {workers} must be >= 1"))
    options = replace(base, threads=1, presolve=False)
    try:
        with tracking("city"), phases("city", show=False if no_progress else None):
            result = run_city(city_dir, out_dir=out_dir, scheduler=scheduler, workers=workers, solver=solver,
                              options=options, report=report, progress=not no_progress, db=db)
    except LifecircleError as error:
        fail(error)
    echo_lines(city_lines(result, lang=language()))
    sys.exit(result.exit_code)


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but localhost requires a token (a random one is printed).")
@click.option("--token", default=None, help="Access token to require (default: random when --host is not local).")
@click.option("--max-solves", type=int, default=2, show_default=True, help="Solves running at once.")
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Page and report language.")
def serve(folder, port, host, token, max_solves, no_browser, lang):
    """Open the planning workbench for FOLDER (a scenario, or a city of them) in the browser."""
    from lifecircle.optimizer.serve.command import run_server

    try:
        run_server(folder, host=host, port=port, token=token, max_solves=max_solves,
                   open_browser=not no_browser, lang=lang, echo=click.echo)
    except LifecircleError as error:
        fail(error)
