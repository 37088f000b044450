"""summary.json's sections computed from a problem and its evaluated plan: equity and utilisation."""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.shares import best_worst_gap, circle_totals, gini, group_totals, share
from lifecircle.optimizer.core.solution import service_levels


def _round(x, digits=6):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def equity_summary(problem: CoverageProblem, evaluation=None, worst_share: float | None = None) -> dict:
    """The ``equity`` section of summary.json: shares per group and circle before and after, the
    Gini coefficient of circle shares, and the best-worst group gap (groups with people)."""
    if evaluation is not None and evaluation.level_before is not None:
        before = evaluation.level_before
    else:
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
