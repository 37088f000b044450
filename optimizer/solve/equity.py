"""Fairness prechecks: floors that no plan can meet are found before any solver runs, and an
infeasible fairness solve is explained. The shares themselves are :mod:`optimizer.core.shares`.
"""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.shares import circle_totals, floor_key, group_totals
from lifecircle.optimizer.core.tolerances import PEOPLE_TOL
from lifecircle.optimizer.errors import InfeasibleError


# ---------------------------------------------------------------------------------------------
# before solving: bounds that need no solver


def best_reach_level(problem: CoverageProblem) -> np.ndarray:
    """(I, G) the best level any allowed site (or an existing facility) could give each pair."""
    level = problem.level_before().copy()
    allowed = problem.allowed()
    for (k, g) in problem.coverage:
        sites = np.flatnonzero(allowed[:, k])
        if sites.size:
            W = problem.weight_of(k, g)[:, sites]
            level[:, g] = np.maximum(level[:, g], W.max(axis=1).toarray().ravel())
    if problem.existing_reach is not None:
        for g, W in problem.existing_reach.items():
            finite = np.isfinite(problem.existing_capacity[:, g])
            if finite.any():
                level[:, g] = np.maximum(level[:, g], W[:, finite].max(axis=1).toarray().ravel())
    return level


def _capacity_bound(problem: CoverageProblem, g: int) -> float:
    """People of group g that new and existing capacity could serve at most, within the budget.

    A relaxation (any site may host every type, fractions of facilities may be bought), so it is
    a valid upper bound.
    """
    bound = 0.0
    if problem.existing_capacity is not None:
        cap = problem.existing_capacity[:, g]
        # unlimited existing facilities are in level_before already
        bound += float(cap[np.isfinite(cap)].sum())
    q = problem.type_capacity()[:, g]
    allowed = problem.allowed() & problem.serves[None, :, g]
    if not allowed.any():
        return bound
    if np.any(~np.isfinite(q[np.flatnonzero(allowed.any(axis=0))])):
        return np.inf
    js, ks = np.nonzero(allowed)
    cost = problem.cost_cny[js, ks]
    cap = q[ks]
    free = cost <= 0
    bound += float(cap[free].sum())
    order = np.argsort(-(cap[~free] / cost[~free]), kind="stable")
    left = problem.budget_cny
    for c, qq in zip(cost[~free][order], cap[~free][order]):
        take = min(1.0, left / c)
        bound += take * qq
        left -= take * c
        if left <= 0:
            break
    return bound


def precheck_equity(problem: CoverageProblem) -> None:
    """Raise :class:`InfeasibleError` for a floor no plan can meet, naming the largest share
    achievable by this bound (reach, and capacity within the budget)."""
    rule = problem.equity
    if rule is None:
        return
    level = best_reach_level(problem)
    g_cov, g_people = group_totals(problem, level)
    cap_groups = problem.capacitated_groups()
    before = group_totals(problem, problem.level_before())[0]
    for g, floor in enumerate(np.asarray(rule.min_share, dtype=float)):
        if not np.isfinite(floor) or g_people[g] <= 0:
            continue
        best, why = g_cov[g], "within reach of any allowed site or existing facility"
        if cap_groups[g]:
            cap_best = before[g] + _capacity_bound(problem, g)
            if cap_best < best:
                best, why = cap_best, "by the capacity the budget can buy plus existing capacity"
        if best < floor * g_people[g] - PEOPLE_TOL * max(1.0, g_people[g]):
            raise InfeasibleError(
                f"{floor_key(problem, g)[0]}: {floor:g} asked but at most "
                f"{best / g_people[g]:.4f} of {floor_key(problem, g)[1]} can be covered ({why})"
            )
    if rule.min_share_per_circle is not None:
        c_cov, c_people = circle_totals(problem, level)
        floor = rule.min_share_per_circle
        short = np.flatnonzero((c_people > 0) & (c_cov < floor * c_people - PEOPLE_TOL * np.maximum(1.0, c_people)))
        if short.size:
            c = short[np.argmin(c_cov[short] / c_people[short])]
            raise InfeasibleError(
                f"equity.min_coverage_per_circle: {floor:g} asked but circle {problem.circle_names[c]} can reach at "
                f"most {c_cov[c] / c_people[c]:.4f} (people beyond every allowed site's reach); "
                f"{short.size} circle(s) fall short"
            )


# ---------------------------------------------------------------------------------------------
# after the solver proves infeasibility: the largest shares that are achievable


def diagnose_infeasible(problem: CoverageProblem, solver: str, options) -> str:
    """Why the fairness demands cannot all hold, with the largest achievable shares.

    One extra solve per group floor (maximise that group's covered people under budget and rules)
    and one maximin solve over circles for a per-circle floor. Returns one line.
    """
    from dataclasses import replace

    from lifecircle.models.maximin import maximin_first_stage, worst_share
    from lifecircle.models.service import build_service_model

    from lifecircle.optimizer.solve.linear import solve_linear
    from lifecircle.optimizer.solve.backends import Status
    from lifecircle.optimizer.core.problem import EquityRule

    rule = problem.equity
    plain = replace(problem, equity=None)
    parts = []
    model, index = build_service_model(plain)
    for g, floor in enumerate(np.asarray(rule.min_share, dtype=float)):
        if not np.isfinite(floor) or index.set_people[g] <= 0:
            continue
        c = index.set_rows[g].toarray().ravel()
        result = solve_linear(replace(model, c=c, offset=float(index.set_before[g])), solver, options)
        if result.status == Status.INFEASIBLE:
            return "budget, must_open and min_open cannot all hold, before any fairness demand"
        if result.objective is None:
            continue
        best = result.bound if result.status != Status.OPTIMAL and result.bound is not None else result.objective
        achievable = best / index.set_people[g]
        mark = "<" if achievable < floor - 1e-9 else ">="
        name = problem.group_names[g]
        if rule.floor_keys:  # per_service: the YAML key and the group (type), not elderly·canteen
            name = "{}: {}".format(*floor_key(problem, g))
        parts.append(f"{name} at most {achievable:.4f} ({mark} {floor:g} asked)")
    if rule.min_share_per_circle is not None and problem.circle is not None:
        circles = replace(problem, equity=EquityRule(np.full(problem.n_groups, np.nan), None, "circles"))
        m2, i2 = build_service_model(circles)
        result = solve_linear(maximin_first_stage(m2, i2), solver, options)
        if result.values is not None:
            t = worst_share(result.values, i2)
            if result.status != Status.OPTIMAL and result.bound is not None:
                t = result.bound / i2.t_scale
            mark = "<" if t < rule.min_share_per_circle - 1e-9 else ">="
            parts.append(f"every circle at once at most {t:.4f} ({mark} {rule.min_share_per_circle:g} asked)")
    if not parts:
        return "the fairness demands cannot all hold with the budget and rules"
    alone = all(">=" in p for p in parts)
    lead = ("each fairness floor is achievable alone but not all together: " if alone
            else "fairness floors cannot be met: ")
    return lead + "; ".join(parts)
