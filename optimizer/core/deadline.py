"""One clock for a whole run (issue 14): ``--time-limit`` covers load, build, every solver stage and
the report's re-solves, so each stage gets what is left, never the full limit again."""

from __future__ import annotations

import math
import time
from dataclasses import replace

# A stage started after the deadline still gets this long: enough for a solver to hand back the
# warm start it was given (a plan and a labelled bound beat no answer), not enough to matter.
MIN_STAGE_S = 0.05


class Deadline:
    """An absolute end time on the monotonic clock.

    Parameters
    ----------
    seconds : the whole run's limit (``--time-limit``).
    start : when the run started (``time.monotonic()``); default now.
    """

    def __init__(self, seconds: float, start: float | None = None):
        self.seconds = float(seconds)
        self.start = time.monotonic() if start is None else float(start)
        self.end = self.start + self.seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def limit(self, requested: float | None = None) -> float:
        """The time limit a stage may use: what is left (at least :data:`MIN_STAGE_S`), and no
        more than ``requested``."""
        left = max(MIN_STAGE_S, self.remaining())
        return left if requested is None or not math.isfinite(requested) else min(float(requested), left)

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.remaining():.2f} s left)"


def with_deadline(options):
    """``options`` (a ``SolveOptions``) with a :class:`Deadline` of its ``time_limit_s`` when it
    has none yet, so every stage after this point shares one clock. A run's entry point calls it
    first thing; ``solve_problem`` and ``solve_phased`` call it too, for callers of the API."""
    if options is not None and options.deadline is None and options.time_limit_s is not None:
        return replace(options, deadline=Deadline(options.time_limit_s))
    return options
