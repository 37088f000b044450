"""lifecircle: place community facilities on idle sites to cover the most people within a budget.

The installed package is ``lifecircle``: ``lifecircle.cli`` (the command line),
``lifecircle.optimizer`` (files in, solves, files out) and ``lifecircle.models`` (formulations).

The Python API for notebooks (:mod:`lifecircle.optimizer.api`; README, "Python API")::

    scenario = lifecircle.load_scenario("scenarios/bishan_rural/scenario.yaml")
    result = lifecircle.solve(scenario, budget=1_500_000)   # .sites .coverage .summary .write(out)
"""

from lifecircle.optimizer import __version__
from lifecircle.optimizer.classic import api as classic

__all__ = ["__version__", "classic", "load_scenario", "solve", "Result"]

# The API is imported on first use: `import lifecircle` (which every `lifecircle.cli` run does
# first) stays as light as the version string.
_API = ("load_scenario", "solve", "Result")


def __getattr__(name: str):
    if name in _API:
        from lifecircle.optimizer import api

        return getattr(api, name)
    raise AttributeError(f"module 'lifecircle' has no attribute {name!r}")
