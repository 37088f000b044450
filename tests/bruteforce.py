"""Independent reference answers: random small problems built from coordinates with dense numpy
distances (no KD-tree), and plain enumeration of every plan."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from optimizer.problem import NO_TYPE, CoverageProblem


def random_problem(seed: int, n_points=25, n_sites=7, n_types=2, n_groups=2, budget_share=0.4,
                   existing=1, rules=True) -> tuple[CoverageProblem, dict]:
    """A random instance plus the raw geometry it came from (for brute force)."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 1000, size=(n_points, 2))
    sites = rng.uniform(0, 1000, size=(n_sites, 2))
    ex = rng.uniform(0, 1000, size=(existing, 2))
    ex_type = rng.integers(0, n_types, size=existing)
    people = rng.integers(0, 40, size=(n_points, n_groups)).astype(float)
    weight = rng.choice([0.5, 1.0, 1.5, 2.0], size=n_groups)
    serves = rng.random((n_types, n_groups)) < 0.7
    serves[np.arange(n_types), rng.integers(0, n_groups, n_types)] = True
    radius = rng.choice([150.0, 250.0, 350.0], size=(n_types, n_groups))
    cost = rng.integers(1, 10, size=(n_sites, n_types)).astype(float) * 100.0
    cost[rng.random((n_sites, n_types)) < 0.15] = np.nan
    cost[np.isnan(cost).all(axis=1), 0] = 300.0
    budget = float(np.nanmean(cost) * n_sites * budget_share)
    must_open = np.full(n_sites, NO_TYPE)
    forbidden = np.zeros(n_sites, bool)
    min_open = np.zeros(n_types, int)
    if rules:
        if rng.random() < 0.5:
            j = int(rng.integers(n_sites))
            k = int(np.flatnonzero(np.isfinite(cost[j]))[0])
            must_open[j] = k
        if rng.random() < 0.5:
            j = int(rng.integers(n_sites))
            if must_open[j] == NO_TYPE:
                forbidden[j] = True
        if rng.random() < 0.5:
            min_open[int(rng.integers(n_types))] = 1
    d = np.hypot(pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1])
    dex = np.hypot(pts[:, None, 0] - ex[None, :, 0], pts[:, None, 1] - ex[None, :, 1])
    coverage = {}
    covered_before = np.zeros((n_points, n_groups), bool)
    for k in range(n_types):
        for g in range(n_groups):
            if serves[k, g]:
                coverage[(k, g)] = sp.csr_matrix(d <= radius[k, g])
                covered_before[:, g] |= (dex[:, ex_type == k] <= radius[k, g]).any(axis=1)
    problem = CoverageProblem(
        group_names=tuple(f"g{g}" for g in range(n_groups)),
        type_names=tuple(f"t{k}" for k in range(n_types)),
        site_ids=tuple(f"S{j}" for j in range(n_sites)),
        people=people, group_weight=weight, serves=serves, coverage=coverage,
        covered_before=covered_before, cost_cny=cost, budget_cny=budget, must_open=must_open,
        forbidden=forbidden, min_open=min_open,
    )
    geometry = {"d": d, "dex": dex, "ex_type": ex_type, "radius": radius}
    return problem, geometry


def brute_force(problem: CoverageProblem, geometry: dict):
    """Best objective over every plan (each site: closed or one allowed type), or None if none fits."""
    d, dex, ex_type, radius = geometry["d"], geometry["dex"], geometry["ex_type"], geometry["radius"]
    n_sites, n_types = problem.cost_cny.shape
    options = []
    for j in range(n_sites):
        choices = [] if problem.must_open[j] != NO_TYPE else [None]
        if not problem.forbidden[j]:
            choices += [k for k in range(n_types) if np.isfinite(problem.cost_cny[j, k])
                        and (problem.must_open[j] in (NO_TYPE, k))]
        options.append(choices)
    weighted = problem.people * problem.group_weight
    best = None
    for plan in itertools.product(*options):
        opened = [(j, k) for j, k in enumerate(plan) if k is not None]
        cost = sum(problem.cost_cny[j, k] for j, k in opened)
        if cost > problem.budget_cny + 1e-9:
            continue
        counts = np.bincount([k for _, k in opened], minlength=n_types)
        if np.any(counts < problem.min_open):
            continue
        covered = np.zeros_like(weighted, dtype=bool)
        for g in range(problem.n_groups):
            for k in range(n_types):
                if not problem.serves[k, g]:
                    continue
                covered[:, g] |= (dex[:, ex_type == k] <= radius[k, g]).any(axis=1)
                js = [j for j, kk in opened if kk == k]
                if js:
                    covered[:, g] |= (d[:, js] <= radius[k, g]).any(axis=1)
        value = float(weighted[covered].sum())
        if best is None or value > best + 1e-9:
            best = value
    return best
