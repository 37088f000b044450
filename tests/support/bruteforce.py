"""Independent reference answers, computed without models/ or evaluate(): random small problems
built from coordinates with dense numpy distances (no KD-tree), and plain enumeration of every plan.

The plain coverage model (:func:`random_problem`, :func:`brute_force`) and realistic service
(:func:`random_service_problem`, :func:`brute_force_service`: capacities, decay and equity, with a
dense LP for the best assignment under capacities).
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from lifecircle.models.decay import DECAY_DECIMALS, decay_weight
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem, EquityRule


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


SPEED_M_MIN = 60.0  # metres per minute


def random_service_problem(seed: int, *, n_points=14, n_sites=6, n_types=2, n_groups=2, shape="step",
                           capacity=False, existing=1, existing_capacity=False, circles=0,
                           equity=None, budget_share=0.4, rules=True, round_populations=False):
    """(problem, dense) for a random instance; ``dense`` holds what the brute force needs.

    ``equity`` is None or a dict(min_share=(G,) array, per_circle=float|None, maximin=None|str).
    ``round_populations`` makes every group and circle population a divisor of 720 so a maximin
    column scales exactly (CP-SAT can then solve it).
    """
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 1000, size=(n_points, 2))
    sites = rng.uniform(0, 1000, size=(n_sites, 2))
    ex = rng.uniform(0, 1000, size=(existing, 2))
    ex_type = rng.integers(0, n_types, size=existing)
    people = rng.integers(0, 30, size=(n_points, n_groups)).astype(float)
    circle = rng.integers(0, circles, size=n_points) if circles else None
    if round_populations:
        people = _round_populations(people, circle, circles, rng)
    weight = rng.choice([0.5, 1.0, 1.5, 2.0], size=n_groups)
    serves = rng.random((n_types, n_groups)) < 0.7
    serves[np.arange(n_types), rng.integers(0, n_groups, n_types)] = True
    zero = rng.choice([4.0, 6.0, 8.0], size=(n_types, n_groups))  # minutes
    full = np.round(zero * rng.choice([0.0, 0.25, 0.5], size=(n_types, n_groups)), 2)
    beta = rng.choice([0.2, 0.5], size=(n_types, n_groups))
    cost = rng.integers(1, 10, size=(n_sites, n_types)).astype(float) * 100.0
    cost[rng.random((n_sites, n_types)) < 0.15] = np.nan
    cost[np.isnan(cost).all(axis=1), 0] = 300.0
    budget = float(np.nanmean(cost) * n_sites * budget_share)
    must_open = np.full(n_sites, NO_TYPE)
    forbidden = np.zeros(n_sites, bool)
    min_open = np.zeros(n_types, int)
    if rules:
        if rng.random() < 0.4:
            j = int(rng.integers(n_sites))
            must_open[j] = int(np.flatnonzero(np.isfinite(cost[j]))[0])
        if rng.random() < 0.4:
            j = int(rng.integers(n_sites))
            if must_open[j] == NO_TYPE:
                forbidden[j] = True
        if rng.random() < 0.4:
            min_open[int(rng.integers(n_types))] = 1
    minutes = np.hypot(pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1]) / SPEED_M_MIN
    ex_minutes = np.hypot(pts[:, None, 0] - ex[None, :, 0], pts[:, None, 1] - ex[None, :, 1]) / SPEED_M_MIN

    def w(t, k, g):
        return np.round(decay_weight(t, shape, full[k, g], zero[k, g], beta[k, g]), DECAY_DECIMALS)

    type_cap = np.full((n_types, n_groups), np.inf)
    if capacity:
        type_cap = rng.integers(5, 40, size=(n_types, n_groups)).astype(float)
        type_cap[rng.random((n_types, n_groups)) < 0.2] = np.inf  # some types unlimited for a group
    ex_cap = np.full((existing, n_groups), np.inf)
    if existing_capacity:
        ex_cap = rng.integers(5, 30, size=(existing, n_groups)).astype(float)
    dense_w = {}
    coverage, reach_weight = {}, {}
    base = np.zeros((n_points, n_groups))
    ex_w = {}
    for k in range(n_types):
        for g in range(n_groups):
            if serves[k, g]:
                dense_w[(k, g)] = w(minutes, k, g)
                coverage[(k, g)] = sp.csr_matrix(dense_w[(k, g)] > 0)
                reach_weight[(k, g)] = sp.csr_matrix(dense_w[(k, g)])
    for g in range(n_groups):
        ew = np.zeros((n_points, existing))
        for e in range(existing):
            if serves[ex_type[e], g]:
                ew[:, e] = w(ex_minutes[:, e], ex_type[e], g)
        ex_w[g] = ew
        unlimited = ~np.isfinite(ex_cap[:, g])
        if unlimited.any():
            base[:, g] = ew[:, unlimited].max(axis=1)
    covered_before = base >= 1
    extra = {}
    if shape != "step":
        extra.update(reach_weight=reach_weight, weight_before=base)
    else:
        extra.update(weight_before=base)
    if capacity:
        extra["capacity"] = type_cap
    if existing_capacity:
        extra["existing_capacity"] = ex_cap
        extra["existing_reach"] = {g: sp.csr_matrix(ex_w[g]) for g in range(n_groups)}
    if circles:
        extra.update(circle=circle, circle_names=tuple(f"C{c}" for c in range(circles)))
    if equity is not None:
        extra["equity"] = EquityRule(np.asarray(equity.get("min_share", np.full(n_groups, np.nan)), float),
                                     equity.get("per_circle"), equity.get("maximin"))
    problem = CoverageProblem(
        group_names=tuple(f"g{g}" for g in range(n_groups)),
        type_names=tuple(f"t{k}" for k in range(n_types)),
        site_ids=tuple(f"S{j}" for j in range(n_sites)),
        people=people, group_weight=weight, serves=serves, coverage=coverage,
        covered_before=covered_before, cost_cny=cost, budget_cny=budget, must_open=must_open,
        forbidden=forbidden, min_open=min_open, **extra,
    )
    dense = dict(w=dense_w, base=base, ex_w=ex_w, ex_cap=ex_cap, type_cap=type_cap, circle=circle,
                 n_circles=circles)
    return problem, dense


def _round_populations(people, circle, circles, rng):
    """Raise people so every group (or, with circles, every circle) population is a divisor of 720."""
    people = people.copy()
    targets = np.array([120.0, 144.0, 180.0, 240.0, 360.0, 720.0])
    if circles:
        for c in range(circles):
            idx = np.flatnonzero(circle == c)
            if idx.size:
                total = people[idx].sum()
                people[idx[0], 0] += targets[targets >= total][0] - total
    else:
        for g in range(people.shape[1]):
            total = people[:, g].sum()
            people[0, g] += targets[targets >= total][0] - total
    return people


def plans(problem: CoverageProblem):
    """Every plan that meets site rules, budget and min_open, as a list of (site, type)."""
    n_sites, n_types = problem.cost_cny.shape
    options = []
    for j in range(n_sites):
        choices = [] if problem.must_open[j] != NO_TYPE else [None]
        if not problem.forbidden[j]:
            choices += [k for k in range(n_types) if np.isfinite(problem.cost_cny[j, k])
                        and problem.must_open[j] in (NO_TYPE, k)]
        options.append(choices)
    for plan in itertools.product(*options):
        opened = [(j, k) for j, k in enumerate(plan) if k is not None]
        if sum(problem.cost_cny[j, k] for j, k in opened) > problem.budget_cny + 1e-9:
            continue
        if np.any(np.bincount([k for _, k in opened], minlength=n_types) < problem.min_open):
            continue
        yield opened


def plan_value(problem: CoverageProblem, dense: dict, opened, *, objective="total", worst=None):
    """Best value of a plan: 'total' (weighted covered people) or 'worst' (the maximin share).

    Returns None when no assignment meets the equity floors (and ``worst`` when given).
    """
    people = problem.people
    n_i, n_g = people.shape
    weight = problem.group_weight
    active = people * weight > 0
    cap_groups = problem.capacitated_groups()
    level = dense["base"].copy()
    for (k, g), W in dense["w"].items():
        js = [j for j, kk in opened if kk == k]
        if js and not cap_groups[g]:
            level[:, g] = np.maximum(level[:, g], W[:, js].max(axis=1))
    # variables: z for (i, g, facility) with gain > 0 in capacitated groups, then t
    var = []  # (i, g, facility key, gain)
    caps = {}
    for g in np.flatnonzero(cap_groups):
        facs = []
        for n, (j, k) in enumerate(opened):
            if problem.serves[k, g]:
                facs.append((("new", n), dense["w"][(k, g)][:, j], dense["type_cap"][k, g]))
        for e in range(dense["ex_cap"].shape[0]):
            if np.isfinite(dense["ex_cap"][e, g]):
                facs.append((("ex", e), dense["ex_w"][g][:, e], dense["ex_cap"][e, g]))
        for key, wcol, cap in facs:
            caps[(g, key)] = cap
            for i in range(n_i):
                if active[i, g] and wcol[i] > dense["base"][i, g]:
                    var.append((i, g, key, wcol[i] - dense["base"][i, g]))
    n_z = len(var)
    n_v = n_z + 1
    A, b = [], []
    for (i, g) in {(v[0], v[1]) for v in var}:
        row = np.zeros(n_v)
        for n, v in enumerate(var):
            if v[0] == i and v[1] == g:
                row[n] = 1
        A.append(row)
        b.append(people[i, g])
    for (g, key), cap in caps.items():
        if np.isfinite(cap):
            row = np.zeros(n_v)
            for n, v in enumerate(var):
                if v[1] == g and v[2] == key:
                    row[n] = 1
            A.append(row)
            b.append(cap)
    # sets: groups, then circles (pooled over groups of positive weight)
    sets = []
    for g in range(n_g):
        mask = np.zeros((n_i, n_g), bool)
        mask[:, g] = people[:, g] > 0
        sets.append(("g", g, mask))
    if dense["n_circles"]:
        for c in range(dense["n_circles"]):
            mask = active & (dense["circle"] == c)[:, None]
            sets.append(("c", c, mask))

    def set_row(mask):
        row = np.zeros(n_v)
        for n, (i, g, key, gain) in enumerate(var):
            if mask[i, g]:
                row[n] = gain
        const = float((people * level * mask).sum())
        return row, const, float((people * mask).sum())

    rule = problem.equity
    floors = []
    if rule is not None:
        for g, share in enumerate(np.asarray(rule.min_share, float)):
            if np.isfinite(share):
                floors.append((sets[g][2], share))
        if rule.min_share_per_circle is not None:
            floors += [(s[2], rule.min_share_per_circle) for s in sets if s[0] == "c"]
    maximin_sets = []
    if rule is not None and rule.maximin:
        maximin_sets = [s[2] for s in sets if (s[0] == "g") == (rule.maximin == "groups")
                        and (s[0] == "c" or weight[s[1]] > 0)]
    if n_z == 0:  # nothing to assign: the shares follow from the plan directly
        for mask, share in floors:
            _, const, total = set_row(mask)
            if total > 0 and const < share * total - 1e-7:
                return None
        shares = [set_row(m)[1] / set_row(m)[2] for m in maximin_sets if set_row(m)[2] > 0]
        t = min(shares) if shares else 1.0
        if objective == "worst":
            return float(t)
        if worst is not None and maximin_sets and t < worst - 1e-7:
            return None
        return float((weight[None, :] * people * level).sum())
    for mask, share in floors:
        row, const, total = set_row(mask)
        if total > 0:
            A.append(-row)
            b.append(const - share * total + 1e-7)
    for mask in maximin_sets:
        row, const, total = set_row(mask)
        if total > 0:
            row = -row
            row[-1] = total  # total * t - covered <= const
            A.append(row)
            b.append(const + (0 if worst is None else 1e-7))
    c = np.zeros(n_v)
    if objective == "worst":
        c[-1] = -1.0
    else:
        for n, (i, g, key, gain) in enumerate(var):
            c[n] = -weight[g] * gain
    bounds = [(0, None)] * n_z + [((worst - 1e-7) if worst is not None else 0.0, 1.0 if maximin_sets else 0.0)]
    if worst is not None:
        bounds[-1] = (worst - 1e-7, 1.0)
    if A:
        res = linprog(c, A_ub=np.array(A), b_ub=np.array(b), bounds=bounds, method="highs")
    else:
        res = linprog(c, bounds=bounds, method="highs")
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    if objective == "worst":
        return float(res.x[-1])
    return float((weight[None, :] * people * level).sum() - res.fun)


def brute_force_service(problem: CoverageProblem, dense: dict):
    """(best objective, best worst share or None) over every plan; (None, None) if none is feasible."""
    rule = problem.equity
    all_plans = list(plans(problem))
    worst = None
    if rule is not None and rule.maximin:
        values = [plan_value(problem, dense, p, objective="worst") for p in all_plans]
        values = [v for v in values if v is not None]
        if not values:
            return None, None
        worst = max(values)
    best = None
    for p in all_plans:
        v = plan_value(problem, dense, p, worst=worst)
        if v is not None and (best is None or v > best + 1e-9):
            best = v
    return best, worst
