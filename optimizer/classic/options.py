"""The command-line options of issue 16 for ``lifecircle classic`` and ``lifecircle bench``.

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
