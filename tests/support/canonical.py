"""Reference answers for least-cost canonical plans (issue 14), computed without models/, the
solver or evaluate(): random small problems built to have many ties (duplicate sites, few cost
levels), and plain enumeration of every plan ranked by the canonical order of
``optimizer/solve/leastcost.py``: coverage (max), cost (min), rank sum (min), sorted ranks (lex min).

The rank of a (site, type) pair is its 1-based position among the allowed pairs (a cost, site not
forbidden) in (site row, type) order.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem


def tie_problem(seed: int, n_points=16, n_sites=7, n_types=2, n_groups=2, budget_share=0.45,
                rules=True) -> tuple[CoverageProblem, dict]:
    """A random instance with many equally good plans: some sites are copies of others (same
    place, same costs), costs take two levels, people are few and round."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 1000, size=(n_points, 2))
    n_distinct = max(2, n_sites - 3)
    base = rng.uniform(0, 1000, size=(n_distinct, 2))
    copy_of = np.concatenate([np.arange(n_distinct), rng.integers(0, n_distinct, n_sites - n_distinct)])
    rng.shuffle(copy_of)
    sites = base[copy_of]
    people = rng.integers(0, 4, size=(n_points, n_groups)).astype(float) * 5.0
    weight = rng.choice([0.5, 1.0, 2.0], size=n_groups)
    serves = rng.random((n_types, n_groups)) < 0.7
    serves[np.arange(n_types), rng.integers(0, n_groups, n_types)] = True
    radius = rng.choice([300.0, 450.0], size=(n_types, n_groups))
    base_cost = rng.choice([100.0, 200.0], size=(n_distinct, n_types))
    cost = base_cost[copy_of].copy()
    if rng.random() < 0.3:
        cost[rng.integers(n_sites), rng.integers(n_types)] = 0.0  # a free site: ties in cost too
    cost[rng.random((n_sites, n_types)) < 0.1] = np.nan
    cost[np.isnan(cost).all(axis=1), 0] = 100.0
    budget = float(np.round(np.nanmean(cost) * n_sites * budget_share, -2))
    must_open = np.full(n_sites, NO_TYPE)
    forbidden = np.zeros(n_sites, bool)
    min_open = np.zeros(n_types, int)
    if rules:
        if rng.random() < 0.4:
            j = int(rng.integers(n_sites))
            must_open[j] = int(np.flatnonzero(np.isfinite(cost[j]))[0])
        if rng.random() < 0.4:
            min_open[int(rng.integers(n_types))] = int(rng.integers(1, 3))
    d = np.hypot(pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1])
    coverage = {(k, g): sp.csr_matrix(d <= radius[k, g])
                for k in range(n_types) for g in range(n_groups) if serves[k, g]}
    problem = CoverageProblem(
        group_names=tuple(f"g{g}" for g in range(n_groups)),
        type_names=tuple(f"t{k}" for k in range(n_types)),
        site_ids=tuple(f"S{j}" for j in range(n_sites)),
        people=people, group_weight=weight, serves=serves, coverage=coverage,
        covered_before=np.zeros((n_points, n_groups), bool), cost_cny=cost, budget_cny=budget,
        must_open=must_open, forbidden=forbidden, min_open=min_open,
    )
    return problem, {"d": d, "radius": radius}


def _keyed_plans(problem: CoverageProblem, geometry: dict):
    """Every plan meeting the site rules, budget and min_open, as ((-coverage, cost, rank sum),
    sorted ranks, sorted (site, type) list): the canonical order's key, smallest best."""
    d, radius = geometry["d"], geometry["radius"]
    n_sites, n_types = problem.cost_cny.shape
    weighted = problem.people * problem.group_weight
    options = []
    for j in range(n_sites):
        choices = [] if problem.must_open[j] != NO_TYPE else [None]
        if not problem.forbidden[j]:
            choices += [k for k in range(n_types) if np.isfinite(problem.cost_cny[j, k])
                        and problem.must_open[j] in (NO_TYPE, k)]
        options.append(choices)
    allowed = [(j, k) for j in range(n_sites) for k in range(n_types)
               if np.isfinite(problem.cost_cny[j, k]) and not problem.forbidden[j]]
    rank_of = {pair: n + 1 for n, pair in enumerate(allowed)}  # position among allowed pairs
    for plan in itertools.product(*options):
        opened = [(j, k) for j, k in enumerate(plan) if k is not None]
        cost = sum(problem.cost_cny[j, k] for j, k in opened)
        if cost > problem.budget_cny + 1e-9:
            continue
        if np.any(np.bincount([k for _, k in opened], minlength=n_types) < problem.min_open):
            continue
        covered = problem.covered_before.copy()
        for j, k in opened:
            for g in range(problem.n_groups):
                if problem.serves[k, g]:
                    covered[:, g] |= d[:, j] <= radius[k, g]
        ranks = sorted(rank_of[pair] for pair in opened)
        yield (-round(float(weighted[covered].sum()), 6), round(cost, 6), sum(ranks)), ranks, sorted(opened)


def canonical_brute_force(problem: CoverageProblem, geometry: dict):
    """(coverage, cost, sorted (site, type) list) of the canonical plan, or None if no plan fits."""
    best = min(_keyed_plans(problem, geometry), default=None)
    if best is None:
        return None
    (negative_coverage, cost, _), _, plan = best
    return -negative_coverage, cost, plan


def tied_plans(problem: CoverageProblem, geometry: dict) -> list:
    """Every plan as good as the canonical one on coverage, cost and rank sum (sorted (site, type)
    lists, the canonical plan first), by the same enumeration as :func:`canonical_brute_force`."""
    keyed = list(_keyed_plans(problem, geometry))
    if not keyed:
        return []
    best = min(key for key, _, _ in keyed)
    return [plan for _, _, plan in sorted(item for item in keyed if item[0] == best)]


def reach_problem(seed: int, n_points=4, n_sites=8, per_site=2, budget_sites=2) -> tuple[CoverageProblem, dict]:
    """A random instance with equal people and equal costs, each site reaching ``per_site``
    random points: plans of the same size tie on cost, and rank sums tie often ({1, 4} and
    {2, 3} both covering everyone)."""
    rng = np.random.default_rng(seed)
    reach = np.zeros((n_points, n_sites), dtype=bool)
    for j in range(n_sites):
        reach[rng.choice(n_points, size=per_site, replace=False), j] = True
    d = np.where(reach, 0.0, 1e9)
    problem = CoverageProblem(
        group_names=("g",), type_names=("t",), site_ids=tuple(f"S{j}" for j in range(n_sites)),
        people=np.full((n_points, 1), 5.0), group_weight=np.array([1.0]), serves=np.array([[True]]),
        coverage={(0, 0): sp.csr_matrix(reach)}, covered_before=np.zeros((n_points, 1), bool),
        cost_cny=np.full((n_sites, 1), 100.0), budget_cny=100.0 * budget_sites,
        must_open=np.full(n_sites, NO_TYPE), forbidden=np.zeros(n_sites, bool), min_open=np.zeros(1, int))
    return problem, {"d": d, "radius": np.ones((1, 1))}
