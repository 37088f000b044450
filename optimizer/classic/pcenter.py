"""p-center by the level search of :mod:`lifecircle.models.pcenter`, on any exact backend.

Each covering check goes through :func:`~lifecircle.optimizer.solve.linear.solve_linear` (so every
plan is re-checked against its model), and the radius reported is recomputed from the open sites.
A search stopped by ``--time-limit`` returns its best plan as ``feasible`` with the lower bound it
has proven: the next distance level above the largest level shown infeasible (or the LP bound).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from lifecircle.models import classic as cm
from lifecircle.models import pcenter as pc

from lifecircle.optimizer.core.status import BoundSource, Status, Termination
from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions, get_backend
from lifecircle.optimizer.solve.backends.base import Capability, relative_gap
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.classic.instance import ClassicInstance
from lifecircle.optimizer.classic.options import PCENTER_METHODS
from lifecircle.optimizer.classic.params import check_p, reachable_or_fail
from lifecircle.optimizer.classic.result import ClassicResult
from lifecircle.optimizer.solve.linear import solve_linear

logger = logging.getLogger(__name__)

# An integral check only asks "is there a cover with at most p sites?": any plan answers it, so
# the solver may stop at its first one (a relative gap this wide is met by any incumbent).
_ANY_PLAN_GAP = 0.99


def pcenter_table(instance: ClassicInstance, weighted: bool) -> cm.CostTable:
    """The instance's cost table, costs multiplied by the weights when ``weighted``."""
    table = instance.cost_table()
    return pc.weighted_table(table, instance.weights) if weighted else table


def _checker(solver: str, options: SolveOptions):
    def check(model, limit, integral):
        # Presolve off: the checks come reduced (models/pcenter.reduce_cover), and HiGHS's own
        # probing of these dense covers cost more than it saved (pmed26 at 37: 0.46 s against
        # 1.48 s with it; pmed27 at 32: 5.3 s against 7.1 s).
        opts = replace(options, time_limit_s=limit, warm_start=None, presolve=False,
                       gap=_ANY_PLAN_GAP if integral else 0.0)
        sol = solve_linear(model, solver, opts)
        if sol.values is not None and (integral or sol.status == Status.OPTIMAL):
            return pc.FEASIBLE, sol.values, sol.objective
        if sol.status == Status.INFEASIBLE:
            return pc.INFEASIBLE, None, None
        return pc.UNKNOWN, None, None
    return check


def solve_pcenter_levels(instance: ClassicInstance, *, p: int | None = None, weighted: bool = False,
                         solver: str = DEFAULT_BACKEND, options: SolveOptions | None = None,
                         read_s: float = 0.0) -> ClassicResult:
    """Exact (weighted) p-center on ``instance`` by the level search (see models/pcenter.py).

    Parameters
    ----------
    instance : ClassicInstance
    p : int, optional
        Number of sites (default: the instance's own).
    weighted : bool
        Minimise the largest ``weight x cost`` instead of the largest cost.
    solver : str
        Backend for the covering checks.
    options : SolveOptions, optional
        ``time_limit_s`` bounds the whole search; ``threads`` and ``seed`` go to each check.
    read_s : float
        Seconds spent reading the instance, for the timings.

    Returns
    -------
    ClassicResult
        Status ``optimal`` when proven, else ``feasible`` with the proven lower bound
        (termination ``time_limit``); ``bound_source`` says what proved the bound.
    """
    options = options or SolveOptions()
    t0 = time.perf_counter()
    p = check_p(instance, p, "pcenter")
    mask = instance.weights > 0 if weighted else np.ones(instance.n_demand, dtype=bool)
    reachable_or_fail(instance, instance.cost_table(), mask, "pcenter")
    table = pcenter_table(instance, weighted)
    backend = get_backend(solver, "milp")
    use_lp = Capability.LP in backend.capabilities
    t1 = time.perf_counter()
    search = pc.pcenter_levels(table, p, _checker(solver, options),
                               time_limit_s=options.time_limit_s, use_lp=use_lp,
                               on_step=lambda text: logger.info("pcenter: %s", text))
    t2 = time.perf_counter()
    sites = search.sites
    objective = cm.pcenter_cost(table, sites) if sites.size else None
    if objective is None or abs(objective - search.radius) > 1e-9 * max(1.0, abs(objective)):
        raise SolverResultError(f"{solver}: the p-center plan's radius is {objective} but the "
                                f"search says {search.radius:g}; this is a bug in lifecircle, "
                                "please report it")
    if search.lower > objective + 1e-9 * max(1.0, abs(objective)):
        raise SolverResultError(f"{solver}: the p-center bound {search.lower:g} is above the plan's "
                                f"radius {objective:g}; this is a bug in lifecircle, please report it")
    status = Status.OPTIMAL if search.proven else Status.FEASIBLE
    termination = Termination.OPTIMAL if search.proven else (
        Termination.TIME_LIMIT if search.stopped == "time_limit" else Termination.NO_SOLUTION)
    stats = search.stats
    message = (f"levels: {stats['lp_checks']} LP and {stats['mip_checks']} MIP covering checks, "
               f"{stats['greedy_hits']} levels answered by a greedy cover, over {stats['levels']} "
               "distance levels")
    if search.stopped == "no_answer":
        message += "; a covering check gave no answer, search stopped"
    size = {"rows": None, "cols": instance.n_sites, "nonzeros": table.n_pairs,
            "binaries": instance.n_sites, "levels": stats["levels"],
            "lp_checks": stats["lp_checks"], "mip_checks": stats["mip_checks"],
            "greedy_hits": stats["greedy_hits"]}
    timings = {"read": round(read_s, 4), "build": round(t1 - t0, 4), "solve": round(t2 - t1, 4)}
    return ClassicResult(
        instance.name, "pcenter", backend.name, str(status), objective, search.lower,
        relative_gap(objective, search.lower), [instance.site_ids[int(j)] for j in sites],
        None, None, timings, size, message, termination=str(termination),
        bound_source=str(BoundSource(search.bound_source)))


__all__ = ["PCENTER_METHODS", "pcenter_table", "solve_pcenter_levels"]
