"""``lifecircle bench --compare spopt``: spopt's model on the same instance, in its own process.

spopt (PySAL) is a benchmark-only extra (``pip install spopt``), never a runtime dependency: it is
imported in :func:`worker` only. The job reads the instance with lifecircle's reader, hands spopt
the dense cost matrix it needs (``from_cost_matrix``; an unreachable pair gets a cost no optimum
pays), solves with PuLP's HiGHS (the solver lifecircle uses by default) at gap 0 with the same
time limit, threads and seed, and recomputes the objective from spopt's open sites with
lifecircle's own evaluator, so the two rows are compared on one definition.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from lifecircle.models import classic as cm
from lifecircle.optimizer.errors import LifecircleError


def _dense(table: cm.CostTable) -> np.ndarray:
    big = (float(table.cost.max(initial=0.0)) + 1.0) * (table.n_demand + 1) * 10.0
    cost = np.full((table.n_demand, table.n_sites), big)
    cost[table.demand, table.site] = table.cost
    return cost


def _spopt_model(model: str, cost: np.ndarray, weights: np.ndarray, params: dict, p: int | None):
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    if model == "mclp":
        if params.get("budget") is not None or params.get("preselected"):
            raise ValueError("spopt's MCLP here is the p-MCLP; no budget or pre-selected sites")
        return MCLP.from_cost_matrix(cost, weights, _COVER_RADIUS, p_facilities=p)
    if model == "lscp":
        return LSCP.from_cost_matrix(cost, _COVER_RADIUS)
    if model == "pmedian":
        return PMedian.from_cost_matrix(cost, weights, p_facilities=p)
    if params.get("weighted"):
        raise ValueError("spopt's PCenter has no weights; compare the unweighted p-center")
    return PCenter.from_cost_matrix(cost, p_facilities=p)


def worker() -> None:
    """Run spopt on one bench job (spec on stdin, as :func:`.bench.worker`), write the row."""
    import resource

    from lifecircle.optimizer.classic.bench import JobClock, spopt_version
    from lifecircle.optimizer.classic.formats import load_instance

    spec = json.load(sys.stdin)
    row = {"status": "error", "note": "", "termination": None}
    clock = JobClock()
    try:
        import pulp

        t0 = time.perf_counter()
        inst = load_instance(spec["path"], spec["format"], **spec["load"])
        params = spec["params"]
        p = params.get("p") or inst.p
        model = spec["model"]
        t1 = time.perf_counter()
        table = inst.cost_table() if model in ("pmedian", "pcenter") else None
        if table is None:  # coverage models: spopt wants costs; the coverage radius decides
            table = _coverage_costs(inst, params["radius"])
        built = _spopt_model(model, _dense(table), np.asarray(inst.weights, dtype=float), params,
                             p)
        t2 = time.perf_counter()
        extra = {} if spec.get("seed") is None else {"random_seed": int(spec["seed"])}
        solver = pulp.HiGHS(msg=False, gapRel=0.0, timeLimit=spec.get("time_limit"),
                            threads=spec.get("threads"), **extra)
        built.solve(solver)
        t3 = time.perf_counter()
        status = pulp.LpStatus[built.problem.status]
        sites = np.flatnonzero(np.array([v.varValue or 0.0 for v in built.fac_vars]) > 0.5)
        row.update(read_s=round(t1 - t0, 4), build_s=round(t2 - t1, 4), solve_s=round(t3 - t2, 4),
                   note=f"spopt {spopt_version()} with PuLP's HiGHS")
        # PuLP maps a time-limited HiGHS stop with a plan to Optimal too: ask HiGHS itself.
        highs = getattr(built.problem, "solverModel", None)
        native = highs.getModelStatus().name if highs is not None else None
        optimal = native == "kOptimal" if native is not None else status == "Optimal"
        if sites.size:
            objective = _objective(model, inst, table, sites, params)
            row.update(objective=objective, status="optimal" if optimal else "feasible",
                       termination="optimal" if optimal else "time_limit")
            if highs is not None:
                from lifecircle.optimizer.solve.backends.base import relative_gap

                bound = objective if optimal else float(highs.getInfo().mip_dual_bound)
                row.update(bound=bound, gap=relative_gap(objective, bound), bound_source="mip")
        else:
            row.update(status="no_solution", termination="time_limit" if native == "kTimeLimit"
                       else "no_solution")
    except (ImportError, ValueError, LifecircleError) as err:
        row.update(status="declined" if isinstance(err, ValueError) else "error", note=str(err))
    row.update(clock.read())
    row["peak_mem_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    with open(spec["out"], "w", encoding="utf-8") as fh:
        json.dump(row, fh)


# The coverage models get 0 for a covering pair and 1 otherwise, and this radius, so spopt sees
# exactly lifecircle's coverage (inclusive, boundary pairs re-measured) whatever the instance.
_COVER_RADIUS = 0.5


def _coverage_costs(inst, radius: float) -> cm.CostTable:
    """0 for a covering pair and 1 otherwise (see ``_COVER_RADIUS``)."""
    cov = inst.coverage(radius).tocoo()
    table = cm.CostTable.from_dense(np.ones((inst.n_demand, inst.n_sites)))
    cost = np.ones((inst.n_demand, inst.n_sites))
    cost[cov.row, cov.col] = 0.0
    return cm.CostTable(table.n_demand, table.n_sites, table.demand, table.site,
                        cost[table.demand, table.site])


def _objective(model: str, inst, table: cm.CostTable, sites: np.ndarray, params: dict) -> float:
    if model == "pmedian":
        return cm.pmedian_cost(table, inst.weights, sites)
    if model == "pcenter":
        return cm.pcenter_cost(table, sites)
    covered = cm.covered_mask(inst.coverage(params["radius"]), sites)
    return float(sites.size) if model == "lscp" else float(np.asarray(inst.weights)[covered].sum())
