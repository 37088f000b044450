"""summary.json's per-service keys (issue 14, ``coverage: per_service``; see inputs/services.py).

Under ``per_service`` the problem's groups are services s = (group, type), so ``coverage`` and every
per-group figure of the model comes per service (``equity``, sites.csv's ``unique_``/``newly_``
columns, the sweep curve). summary.json's ``coverage`` stays per group of the YAML (people reached by
at least one of the group's services, as under ``any_service``), and ``services`` adds each
service's group, type, weights and people and weighted people covered before and after.
"""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.core.solution import service_levels


def _round(x, digits=3):
    return None if x is None else round(float(x), digits)


def _levels(problem, evaluation):
    """(before, after) levels (I, S); after is None without a plan."""
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
    return before, after


def services_keys(scenario, problem, evaluation=None) -> dict:
    """``coverage_mode``, and under ``per_service`` the ``services`` block: {service: {group,
    facility_type, weight, group_weight, type_weight, population, covered_before, covered_after,
    weighted_before, weighted_after}} (``*_after`` None without a plan)."""
    out = {"coverage_mode": getattr(scenario, "coverage_mode", "any_service")}
    if not getattr(scenario, "services", None):
        return out
    before, after = _levels(problem, evaluation)
    people = problem.people
    cov_b = (people * before).sum(axis=0)
    cov_a = None if after is None else (people * after).sum(axis=0)
    services = {}
    for s, name in enumerate(problem.group_names):
        g, k = scenario.services[name]
        w = float(problem.group_weight[s])
        services[name] = {
            "group": g, "facility_type": k, "weight": w, "group_weight": float(scenario.base_groups[g]),
            "type_weight": float(scenario.facility_types[k].weight), "population": _round(people[:, s].sum()),
            "covered_before": _round(cov_b[s]), "covered_after": None if cov_a is None else _round(cov_a[s]),
            "weighted_before": _round(w * cov_b[s]), "weighted_after": None if cov_a is None else _round(w * cov_a[s]),
        }
    return out | {"services": services}


def group_coverage(scenario, problem, evaluation=None) -> dict | None:
    """Under ``per_service``, summary.json's ``coverage`` per group of the YAML, as under
    ``any_service``: {group: (population, covered_before, covered_after)}, where a point's level for
    the group is its best level over the group's services (1: reached by some type that serves it;
    decay: the best weight). None under ``any_service`` (the problem's groups are the YAML's)."""
    if not getattr(scenario, "services", None):
        return None
    before, after = _levels(problem, evaluation)
    by_group = {}
    for s, name in enumerate(problem.group_names):
        by_group.setdefault(scenario.services[name][0], []).append(s)
    out = {}
    for g in scenario.base_groups:
        cols = by_group.get(g)
        if not cols:  # a group no type serves: nobody is ever covered
            pop = float(scenario.demand.columns[g].sum())
            out[g] = (pop, 0.0, None if after is None else 0.0)
            continue
        pop = problem.people[:, cols[0]]
        out[g] = (float(pop.sum()), float((pop * before[:, cols].max(axis=1)).sum()),
                  None if after is None else float((pop * after[:, cols].max(axis=1)).sum()))
    return out
