"""Covered shares per group and per circle, and inequality measures.

Shares are defined once here and used by ``evaluate`` and the reports (the model in
``models/service.py`` builds the same sums as linear rows). A pair's *level* is the part of its
people served: 0/1 for step coverage, the best decay weight, or the assigned share under
capacities. The share of a group is Σ people × level / Σ people over its points; the share of a
circle pools every group with positive weight (groups of weight 0 are not part of the plan's aim).
"""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.tolerances import PEOPLE_TOL



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


def floor_key(problem: CoverageProblem, g: int) -> tuple[str, str]:
    """(the YAML key group g's floor was written under, the group as messages name it): under
    per_service ``equity.min_coverage.elderly.canteen`` / ``elderly (canteen)``, not the internal
    service name (issue 14)."""
    keys = problem.equity.floor_keys if problem.equity is not None else None
    if keys is not None:
        return keys[g]
    return f"equity.min_coverage.{problem.group_names[g]}", problem.group_names[g]


def floor_violations(problem: CoverageProblem, level: np.ndarray, worst_share: float | None = None) -> list:
    """Messages for every equity floor (and maximin level) that ``level`` misses."""
    rule = problem.equity
    if rule is None:
        return []
    out = []
    g_cov, g_people = group_totals(problem, level)
    for g, floor in enumerate(np.asarray(rule.min_share, dtype=float)):
        if np.isfinite(floor) and g_people[g] > 0 and g_cov[g] < floor * g_people[g] - PEOPLE_TOL * max(1.0, g_people[g]):
            key, who = floor_key(problem, g)
            out.append(f"{key}: share of {who} {g_cov[g] / g_people[g]:.6f} < {floor:g}"
                       if rule.floor_keys else f"{key}: share {g_cov[g] / g_people[g]:.6f} < {floor:g}")
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
