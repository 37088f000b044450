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
