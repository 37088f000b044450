"""The normalised outcome of a solve, in two enums (linopy's habit): :class:`Status` says what
the plan is worth, :class:`Termination` says why the solver stopped. Every backend's own codes map
onto these in that backend's one status table."""

from __future__ import annotations

import enum


# Each enum defines its own __str__: Python 3.11's Enum.__format__ honours a __str__ only when the
# enum class itself defines it, so a shared base class would make f-strings print "Status.OPTIMAL".


class Status(str, enum.Enum):
    OPTIMAL = "optimal"  # proven at gap 0
    FEASIBLE = "feasible"  # a plan, stopped by a gap or time limit, with its bound
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # stopped before any plan was found

    def __str__(self) -> str:  # so f-strings and JSON show "optimal"
        return self.value


class Termination(str, enum.Enum):
    """Why a solve stopped; an extension beside :class:`Status`, which keeps its four values.

    ``optimal`` goes with status optimal and ``infeasible`` with infeasible. A feasible plan
    stopped at ``gap_limit`` (the requested relative gap was reached) or ``time_limit``, or is a
    ``heuristic``'s plan that claims nothing. No plan: ``time_limit`` when the clock ran out,
    ``no_solution`` for any other stop, ``declined`` when the backend refused the model before
    solving (see :class:`~lifecircle.optimizer.errors.CapabilityError`).
    """

    OPTIMAL = "optimal"
    GAP_LIMIT = "gap_limit"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    DECLINED = "declined"
    HEURISTIC = "heuristic"

    def __str__(self) -> str:
        return self.value


class BoundSource(str, enum.Enum):
    """Where a reported bound comes from (issue 14), so a trivial ceiling is never read as a solver
    gap. ``ceiling``: everyone any candidate can reach (or an equally trivial count); ``lp``: a
    linear relaxation solved to optimality; ``lagrangian``: a Lagrangian/Volume dual bound;
    ``mip``: the branch-and-bound bound of a MIP solver; ``certificate``: a proof outside the
    solver (a brute force, a covering check at the next distance level, a closed form)."""

    CEILING = "ceiling"
    LP = "lp"
    LAGRANGIAN = "lagrangian"
    MIP = "mip"
    CERTIFICATE = "certificate"

    def __str__(self) -> str:
        return self.value


def default_termination(status: Status | str) -> Termination:
    """The termination a status implies when nothing more is known (a plan built without a
    solver's stop reason, such as a precheck's infeasibility or an empty model)."""
    return {
        "optimal": Termination.OPTIMAL, "feasible": Termination.TIME_LIMIT,
        "infeasible": Termination.INFEASIBLE, "no_solution": Termination.NO_SOLUTION,
    }[str(Status(status))]
