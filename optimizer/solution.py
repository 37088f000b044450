"""Solution: one plan in problem terms, and evaluate(): the independent re-check of any plan.

``evaluate`` never looks at the MILP. It recomputes feasibility and coverage from the problem's
own coverage matrices (before any merging), so a bug in the formulation, a reduction or a
backend shows up as a disagreement instead of a wrong site list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backends.base import Status
from .problem import NO_TYPE, CoverageProblem

# Costs and budgets are in currency units; a cent of float noise is not an overspend.
BUDGET_TOL = 1e-6


@dataclass(frozen=True)
class Evaluation:
    """What a plan achieves, recomputed from the problem."""

    feasible: bool
    violations: tuple
    objective: float
    spent_cny: float
    covered: np.ndarray  # (I, G) bool after the plan
    people_before: np.ndarray  # (G,) people covered by existing facilities
    people_after: np.ndarray  # (G,)
    newly_covered: np.ndarray  # (n_selected, G) people not covered before that this facility reaches
    unique: np.ndarray  # (n_selected, G) people who lose coverage if this facility alone is dropped


@dataclass(frozen=True)
class Solution:
    """A plan and how it was found. ``site``/``type`` are index arrays into the problem."""

    status: Status
    backend: str
    objective: float | None
    bound: float | None
    gap: float | None
    site: np.ndarray
    type: np.ndarray
    spent_cny: float
    timings_s: dict = field(default_factory=dict)
    message: str = ""
    model_stats: dict = field(default_factory=dict)
    evaluation: Evaluation | None = None

    @property
    def has_plan(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)


def reach_counts(problem: CoverageProblem, site: np.ndarray, type_: np.ndarray) -> np.ndarray:
    """(I, G) number of facilities reaching each pair: existing ones count once, plus each new one."""
    counts = problem.covered_before.astype(np.int64)
    for (k, g), mat in problem.coverage.items():
        cols = site[type_ == k]
        if cols.size:
            counts[:, g] += np.asarray(mat[:, cols].sum(axis=1)).ravel().astype(np.int64)
    return counts


def evaluate(problem: CoverageProblem, site, type_) -> Evaluation:
    """Check a plan against every rule and recompute what it covers.

    Parameters
    ----------
    problem : the instance.
    site, type_ : (n,) int arrays, the facilities the plan opens.
    """
    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    violations = []
    in_range = (site >= 0) & (site < problem.n_sites) & (type_ >= 0) & (type_ < problem.n_types)
    if not in_range.all():
        raise ValueError("evaluate: site or type index out of range")
    cost = problem.cost_cny[site, type_]
    for s, t in zip(site[~np.isfinite(cost)], type_[~np.isfinite(cost)]):
        violations.append(f"site {problem.site_ids[s]} cannot host {problem.type_names[t]}")
    for s in site[problem.forbidden[site]]:
        violations.append(f"site {problem.site_ids[s]} is forbidden")
    dup = np.flatnonzero(np.bincount(site, minlength=problem.n_sites) > 1)
    for s in dup:
        violations.append(f"site {problem.site_ids[s]} hosts more than one facility")
    spent = float(np.nansum(cost))
    if spent > problem.budget_cny * (1 + BUDGET_TOL) + BUDGET_TOL:
        violations.append(f"spent {spent:,.0f} > budget {problem.budget_cny:,.0f}")
    for s in np.flatnonzero(problem.must_open != NO_TYPE):
        if not np.any((site == s) & (type_ == problem.must_open[s])):
            violations.append(
                f"must_open site {problem.site_ids[s]} is not open as {problem.type_names[problem.must_open[s]]}"
            )
    opened = np.bincount(type_, minlength=problem.n_types)
    for k in np.flatnonzero(opened < problem.min_open):
        violations.append(f"min_open {problem.type_names[k]}: {opened[k]} < {problem.min_open[k]}")

    counts = reach_counts(problem, site, type_)
    covered = counts > 0
    people = problem.people
    weighted = problem.weighted_people()
    objective = float(weighted[covered].sum())
    people_before = (people * problem.covered_before).sum(axis=0)
    people_after = (people * covered).sum(axis=0)

    n_sel = site.size
    newly = np.zeros((n_sel, problem.n_groups))
    unique = np.zeros((n_sel, problem.n_groups))
    for (k, g), mat in problem.coverage.items():
        pos = np.flatnonzero(type_ == k)
        if pos.size == 0:
            continue
        reach = mat[:, site[pos]]  # (I, n of this type)
        not_before = people[:, g] * ~problem.covered_before[:, g]
        only_one = people[:, g] * (counts[:, g] == 1)
        newly[pos, g] = reach.T @ not_before
        unique[pos, g] = reach.T @ only_one
    return Evaluation(
        feasible=not violations,
        violations=tuple(violations),
        objective=objective,
        spent_cny=spent,
        covered=covered,
        people_before=people_before,
        people_after=people_after,
        newly_covered=newly,
        unique=unique,
    )
