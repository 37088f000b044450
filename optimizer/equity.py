"""Covered shares per group and per circle, inequality measures, and fairness prechecks.

Shares are defined once here and used by ``evaluate`` and the reports (the model in
``models/service.py`` builds the same sums as linear rows). A pair's *level* is the part of its
people served: 0/1 for step coverage, the best decay weight, or the assigned share under
capacities. The share of a group is Σ people × level / Σ people over its points; the share of a
circle pools every group with positive weight (groups of weight 0 are not part of the plan's aim).
"""

from __future__ import annotations

import numpy as np

from .errors import InfeasibleError
from .problem import CoverageProblem

# Shares are compared with this many people of slack (solver tolerances are ~1e-6 relative).
PEOPLE_TOL = 1e-6


def circle_people_mask(problem: CoverageProblem) -> np.ndarray:
    """(I, G) bool: pairs counted in circle shares (people > 0 in a group of positive weight)."""
    return (problem.people > 0) & (problem.group_weight[None, :] > 0)


def group_totals(problem: CoverageProblem, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(covered people, people) per group."""
    return (problem.people * level).sum(axis=0), problem.people.sum(axis=0)


def circle_totals(problem: CoverageProblem, level: np.ndarray):
    """(covered people, people) per circle, or (None, None) without circles."""
    if problem.circle is None:
        return None, None
    mask = circle_people_mask(problem)
    n_c = len(problem.circle_names)
    covered = np.bincount(problem.circle, weights=(problem.people * level * mask).sum(axis=1), minlength=n_c)
    people = np.bincount(problem.circle, weights=(problem.people * mask).sum(axis=1), minlength=n_c)
    return covered, people


def share(covered: np.ndarray, people: np.ndarray) -> np.ndarray:
    """covered / people, NaN where there are no people."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(people > 0, covered / np.where(people > 0, people, 1.0), np.nan)


def gini(values) -> float | None:
    """Gini coefficient (mean absolute difference / twice the mean), unweighted; None if empty.

    0 when every value is equal; 0 also when all are 0 (nothing to be unequal about).
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return None
    mean = v.mean()
    if mean <= 0:
        return 0.0
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2.0 * v.size**2 * mean))


def best_worst_gap(values) -> float | None:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(max(v) - min(v)) if v else None


def floor_violations(problem: CoverageProblem, level: np.ndarray, worst_share: float | None = None) -> list:
    """Messages for every equity floor (and maximin level) that ``level`` misses."""
    rule = problem.equity
    if rule is None:
        return []
    out = []
    g_cov, g_people = group_totals(problem, level)
    for g, floor in enumerate(np.asarray(rule.min_share, dtype=float)):
        if np.isfinite(floor) and g_people[g] > 0 and g_cov[g] < floor * g_people[g] - PEOPLE_TOL * max(1.0, g_people[g]):
            out.append(f"equity.min_coverage.{problem.group_names[g]}: share {g_cov[g] / g_people[g]:.6f} < {floor:g}")
    c_cov, c_people = circle_totals(problem, level)
    if rule.min_share_per_circle is not None and c_cov is not None:
        floor = rule.min_share_per_circle
        for c in np.flatnonzero((c_people > 0) & (c_cov < floor * c_people - PEOPLE_TOL * np.maximum(1.0, c_people))):
            out.append(f"equity.min_coverage_per_circle: circle {problem.circle_names[c]} share "
                       f"{c_cov[c] / c_people[c]:.6f} < {floor:g}")
    if worst_share is not None and rule.maximin:
        if rule.maximin == "groups":
            cov, people = g_cov * (problem.group_weight > 0), g_people * (problem.group_weight > 0)
            names = problem.group_names
        else:
            cov, people, names = c_cov, c_people, problem.circle_names
        for s in np.flatnonzero((people > 0) & (cov < worst_share * people - PEOPLE_TOL * np.maximum(1.0, people))):
            out.append(f"equity.maximin: {names[s]} share {cov[s] / people[s]:.6f} < the worst-share level {worst_share:.6f}")
    return out


# ---------------------------------------------------------------------------------------------
# before solving: bounds that need no solver


def _best_reach_level(problem: CoverageProblem) -> np.ndarray:
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
    level = _best_reach_level(problem)
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
                f"equity.min_coverage.{problem.group_names[g]}: {floor:g} asked but at most "
                f"{best / g_people[g]:.4f} of {problem.group_names[g]} can be covered ({why})"
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

    from models.service import build_service_model, maximin_first_stage, worst_share

    from .linear_solve import solve_linear
    from .backends import Status
    from .problem import EquityRule

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
        parts.append(f"{problem.group_names[g]} at most {achievable:.4f} ({mark} {floor:g} asked)")
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


# ---------------------------------------------------------------------------------------------
# summary.json


def _round(x, digits=6):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def equity_summary(problem: CoverageProblem, evaluation=None, worst_share: float | None = None) -> dict:
    """The ``equity`` section of summary.json: shares per group and circle before and after, the
    Gini coefficient of circle shares, and the best-worst group gap (groups with people)."""
    if evaluation is not None and evaluation.level_before is not None:
        before = evaluation.level_before
    else:
        from .solution import service_levels

        empty = np.zeros(0, dtype=np.int64)
        before = service_levels(problem, empty, empty)[0] if problem.has_service else problem.covered_before.astype(float)
    after = evaluation.level if evaluation is not None and evaluation.level is not None else None
    out = {"groups": {}, "circles": {}}
    gb_cov, g_people = group_totals(problem, before)
    ga_cov = group_totals(problem, after)[0] if after is not None else None
    gb, ga = share(gb_cov, g_people), (share(ga_cov, g_people) if after is not None else None)
    for g, name in enumerate(problem.group_names):
        out["groups"][name] = {"people": float(g_people[g]), "share_before": _round(gb[g]),
                               "share_after": None if ga is None else _round(ga[g])}
    cb_cov, c_people = circle_totals(problem, before)
    cb = ca = None
    if cb_cov is not None:
        cb = share(cb_cov, c_people)
        ca = share(circle_totals(problem, after)[0], c_people) if after is not None else None
        for c, name in enumerate(problem.circle_names):
            out["circles"][name] = {"people": float(c_people[c]), "share_before": _round(cb[c]),
                                    "share_after": None if ca is None else _round(ca[c])}
    with_people = g_people > 0
    out["group_gap_before"] = _round(best_worst_gap(gb[with_people]))
    out["group_gap_after"] = None if ga is None else _round(best_worst_gap(ga[with_people]))
    out["gini_circles_before"] = None if cb is None else _round(gini(cb))
    out["gini_circles_after"] = None if ca is None else _round(gini(ca))
    rule = problem.equity
    if rule is not None:
        out["rules"] = {
            "min_coverage": {problem.group_names[g]: float(s) for g, s in enumerate(rule.min_share) if np.isfinite(s)},
            "min_coverage_per_circle": rule.min_share_per_circle,
            "maximin": rule.maximin,
        }
        if rule.maximin:
            out["maximin_worst_share"] = _round(worst_share)
    return out


def utilisation_rows(problem: CoverageProblem, site, type_, evaluation) -> list:
    """Per selected facility with a capacity: people served and capacity per capacitated group."""
    if evaluation is None or evaluation.served is None or not problem.capacitated_groups().any():
        return []
    rows = []
    for n in np.argsort(site, kind="stable"):
        groups = {}
        for g in np.flatnonzero(problem.capacitated_groups()):
            served = evaluation.served[n, g]
            if not np.isfinite(served):
                continue
            cap = evaluation.capacity[n, g]
            groups[problem.group_names[g]] = {
                "served": _round(served, 3),
                "capacity": None if not np.isfinite(cap) else float(cap),
                "utilisation": None if not np.isfinite(cap) or cap <= 0 else _round(served / cap, 4),
            }
        if groups:
            rows.append({"site_id": problem.site_ids[site[n]], "facility_type": problem.type_names[type_[n]],
                         "groups": groups})
    return rows
