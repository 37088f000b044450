"""The command-line options of ``lifecircle classic``, ``bench`` and ``export`` (issues 3 and 16).

Declared here, beside the classic models they steer, so that ``cli.py`` applies them with one
decorator per command. Only click is imported, so ``lifecircle --help`` stays fast.
"""

from __future__ import annotations

import click

PCENTER_METHODS = ("levels", "compact")

_RESEARCH = [
    click.option("--pcenter-method", type=click.Choice(PCENTER_METHODS), default="levels",
                 show_default=True,
                 help="pcenter: search over distance levels, or the compact MIP (for comparison)."),
    click.option("--weighted", is_flag=True,
                 help="pcenter: minimise the largest weight x cost (weights multiply costs)."),
    click.option("--threads", type=click.IntRange(min=1), default=None,
                 help="Solver threads (default: the solver's own)."),
    click.option("--seed", "solver_seed", type=int, default=None,
                 help="Solver random seed (HiGHS, SCIP, CP-SAT; default: the solver's own)."),
]
_BENCH = [
    click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Run each job N times; rows show the median and the spread."),
    click.option("--compare", type=click.Choice(("spopt",)), default=None,
                 help="Also run spopt's model on each instance (when installed); objectives "
                      "checked equal."),
]


def _apply(options):
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


research_options = _apply(_RESEARCH)
bench_options = _apply(_RESEARCH + _BENCH)


def solve_kwargs(model: str, research: dict) -> dict:
    """``solve_classic``'s keyword arguments from the parsed options (p-center method, weights).

    Parameters
    ----------
    model : str
    research : dict
        The parsed options of :data:`research_options`.

    Returns
    -------
    dict
        ``method`` (None unless pcenter) and ``weighted``.
    """
    return {"method": research["pcenter_method"] if model == "pcenter" else None,
            "weighted": bool(research["weighted"])}


def bench_kwargs(research: dict) -> dict:
    """``run_bench``'s keyword arguments from the parsed options of :data:`bench_options`."""
    return {"threads": research["threads"], "seed": research["solver_seed"],
            "repeat": research["repeat"], "compare": research["compare"]}


# ---- reading an instance and building a model (issue 3): shared by classic, bench and export ----

CLASSIC_MODELS = ("mclp", "lscp", "pmedian", "pcenter")
CLASSIC_FORMATS = ("orlib-pmed", "xy-weights", "matrix-csv", "cfl")


def instance_options(command):
    """The options that say how to read an instance file, shared by classic, bench and export."""
    options = [
        click.option("--format", "fmt", type=click.Choice(CLASSIC_FORMATS), default="orlib-pmed",
                     show_default=True, help="Instance file format."),
        click.option("--weights", type=click.Path(dir_okay=False), default=None,
                     help="xy-weights: the file with n weights, one per line."),
        click.option("--site-costs", type=click.Path(dir_okay=False), default=None,
                     help="Site costs for --budget: one per line, or 'site_id cost' lines."),
        click.option("--demand-col", default="demand", show_default=True, help="matrix-csv column."),
        click.option("--site-col", default="site", show_default=True, help="matrix-csv column."),
        click.option("--cost-col", default="cost", show_default=True, help="matrix-csv column."),
        click.option("--weight-col", default=None, help="matrix-csv column (default: weight 1)."),
        click.option("--site-cost-col", default=None, help="matrix-csv column with site costs."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def model_options(command):
    """The options that say which model to build (p, radius, budget, preselected sites)."""
    options = [
        click.option("--p", "p", type=int, default=None,
                     help="Number of sites (default: the instance's own p, OR-Library)."),
        click.option("--radius", type=float, default=None, help="Coverage radius (mclp, lscp)."),
        click.option("--budget", type=float, default=None,
                     help="Budgeted MCLP: spend at most B on site costs instead of opening p."),
        click.option("--preselected", default=None, help="MCLP: comma-separated site ids that must open."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_kwargs(weights, site_costs, demand_col, site_col, cost_col, weight_col, site_cost_col):
    """``load_instance``'s keyword arguments from the parsed instance options."""
    return {"weights": weights, "site_costs": site_costs, "demand_col": demand_col,
            "site_col": site_col, "cost_col": cost_col, "weight_col": weight_col,
            "site_cost_col": site_cost_col}
