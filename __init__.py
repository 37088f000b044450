"""lifecircle: place community facilities on idle sites to cover the most people within a budget.

The installed package is ``lifecircle``: ``lifecircle.cli`` (the command line),
``lifecircle.optimizer`` (files in, solves, files out) and ``lifecircle.models`` (formulations).
"""

from lifecircle.optimizer import __version__
from lifecircle.optimizer.classic import api as classic

__all__ = ["__version__", "classic"]
