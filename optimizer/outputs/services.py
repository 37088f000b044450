"""summary.json's per-service keys (issue 14, ``coverage: per_service``; see inputs/services.py).

Under ``per_service`` the problem's groups are services s = (group, type), so ``coverage`` and every
per-group figure already come per service. These keys add what a planner reads them with: the mode,
each service's group, type, weights and weighted figures, and per group the people reached by at
least one of its services (the any-service figure, for comparison).
"""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.core.solution import service_levels


def _round(x, digits=3):
    return None if x is None else round(float(x), digits)


def services_keys(scenario, problem, evaluation=None) -> dict:
    """``coverage_mode``, and under ``per_service`` ``services`` and ``coverage_by_group``.

    ``services``: {service: {group, facility_type, weight, group_weight, type_weight, population,
    covered_before, covered_after, weighted_before, weighted_after}}; ``coverage_by_group``:
    {group: {population, covered_before, covered_after}} where a point's level for the group is
    its best level over the group's services (1: reached by some type; decay: the best weight).
    ``covered_after`` and ``weighted_after`` are None without a plan.
    """
    out = {"coverage_mode": getattr(scenario, "coverage_mode", "any_service")}
    if not getattr(scenario, "services", None):
        return out
    if evaluation is not None and evaluation.level_before is not None:
        before = evaluation.level_before
    elif problem.has_service:
        empty = np.zeros(0, dtype=np.int64)
        before = service_levels(problem, empty, empty)[0]
    else:
        before = problem.covered_before.astype(float)
    after = None
    if evaluation is not None:
        after = evaluation.level if evaluation.level is not None else evaluation.covered.astype(float)
    people = problem.people
    cov_b = (people * before).sum(axis=0)
    cov_a = None if after is None else (people * after).sum(axis=0)
    services, by_group = {}, {}
    for s, name in enumerate(problem.group_names):
        g, k = scenario.services[name]
        w = float(problem.group_weight[s])
        services[name] = {
            "group": g, "facility_type": k, "weight": w, "group_weight": float(scenario.base_groups[g]),
            "type_weight": float(scenario.facility_types[k].weight), "population": _round(people[:, s].sum()),
            "covered_before": _round(cov_b[s]), "covered_after": None if cov_a is None else _round(cov_a[s]),
            "weighted_before": _round(w * cov_b[s]), "weighted_after": None if cov_a is None else _round(w * cov_a[s]),
        }
        by_group.setdefault(g, []).append(s)
    groups = {}
    for g, cols in by_group.items():
        pop = people[:, cols[0]]
        groups[g] = {"population": _round(pop.sum()),
                     "covered_before": _round((pop * before[:, cols].max(axis=1)).sum()),
                     "covered_after": None if after is None else _round((pop * after[:, cols].max(axis=1)).sum())}
    return out | {"services": services, "coverage_by_group": groups}
