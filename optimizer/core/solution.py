"""Solution: one plan in problem terms, and evaluate(): the independent re-check of any plan.

``evaluate`` never looks at the MILP. It recomputes feasibility and coverage from the problem's
own coverage matrices (before any merging), so a bug in the formulation, a reduction or a
backend shows up as a disagreement instead of a wrong site list.

With decay, a pair's level is the best weight of an open or existing facility, read directly from
the problem's weight matrices. With capacities, evaluate *recomputes* the best assignment for the
plan itself: it builds the transportation LP over unmerged (point, group, facility) pairs from the
problem's arrays and solves it with ``scipy.optimize.linprog`` (HiGHS), including the equity
floors and the maximin level when given. A second LP then keeps that optimum and maximises what
existing facilities serve, so existing capacity is used first and new facilities' utilisation is
what they add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lifecircle.models.linear import decimal_scale
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.core.status import BoundSource, Status, Termination, default_termination
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.core.tolerances import ASSIGN_TOL, BUDGET_TOL, OBJECTIVE_TOL, PEOPLE_TOL



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
    # service (issue 7); for a plain problem level == covered and level_before == covered_before
    level: np.ndarray | None = None  # (I, G) served part of each pair after the plan, in [0, 1]
    level_before: np.ndarray | None = None  # (I, G) the same with existing facilities only
    served: np.ndarray | None = None  # (n_selected, G) people assigned (capacitated groups; NaN otherwise)
    capacity: np.ndarray | None = None  # (n_selected, G) capacity (inf: unlimited; NaN: not capacitated)
    existing_served: np.ndarray | None = None  # (E, G) people assigned to capacitated existing facilities
    worst_share: float | None = None  # the maximin level the plan was checked against


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
    worst_share: float | None = None  # maximin: the first solve's worst covered share
    # Why the solve stopped (optimal, gap_limit, time_limit, ...); None: the one the status implies.
    termination: Termination | None = None
    # Where ``bound`` comes from (issue 14); None while a backend does not say yet.
    bound_source: BoundSource | None = None

    def __post_init__(self):
        if self.termination is None:
            object.__setattr__(self, "termination", default_termination(self.status))

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


def service_levels(problem: CoverageProblem, site, type_, *, with_equity=False, worst_share=None,
                   assignment=None):
    """Levels of every pair under a plan: (level (I, G), served (n, G), existing_served (E, G) or
    None, assignable, problems).

    Capacitated groups: with ``assignment`` ({g: (I, n + E) CSR people}, columns the plan's
    facilities then the existing ones) the given assignment is checked and used; without it the
    best assignment is recomputed by LP. ``assignable`` is False when the LP finds no assignment
    meeting the equity floors; ``problems`` lists what a given assignment violates.
    """
    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    n_sel = site.size
    level = uncapacitated_levels(problem, site, type_)
    cap_groups = problem.capacitated_groups()
    served = np.full((n_sel, problem.n_groups), np.nan)
    if not cap_groups.any():
        return level, served, None, True, []
    blocks = [(g, *gain_rows(problem, site, type_, g)) for g in np.flatnonzero(cap_groups)]
    if assignment is not None:
        return _check_assignment(problem, site, type_, level, served, blocks, assignment)
    return _assign(problem, site, type_, level, served, blocks, with_equity, worst_share)


def uncapacitated_levels(problem: CoverageProblem, site: np.ndarray, type_: np.ndarray) -> np.ndarray:
    """(I, G) levels under a plan: each uncapacitated pair at its best open or existing weight;
    capacitated groups stay at their level before (their assignment LP decides the rest)."""
    level = problem.level_before().copy()
    cap_groups = problem.capacitated_groups()
    for (k, g) in problem.coverage:
        cols = site[type_ == k]
        if cap_groups[g] or cols.size == 0:
            continue
        best = problem.weight_of(k, g)[:, cols].max(axis=1).toarray().ravel()
        level[:, g] = np.maximum(level[:, g], best)
    return level


def gain_rows(problem, site, type_, g):
    """(rows, gain, capacity) of capacitated group g: the pairs that can gain (people of positive
    weight, not fully served before), their gain d - b over [plan facilities | existing], and the
    capacity of each of those facilities (inf: unlimited)."""
    import scipy.sparse as sp

    n_sel = site.size
    base = problem.level_before()
    n_ex = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
    rows = np.flatnonzero((problem.weighted_people()[:, g] > 0) & (base[:, g] < 1))
    W = sp.csr_matrix((rows.size, n_sel))
    for k in np.flatnonzero(problem.serves[:, g]):
        pos = np.flatnonzero(type_ == k)
        if pos.size:
            pick = sp.csr_matrix((np.ones(pos.size), (np.arange(pos.size), pos)), shape=(pos.size, n_sel))
            W = W + problem.weight_of(int(k), g)[rows][:, site[pos]] @ pick
    q = np.full(n_sel + n_ex, np.inf)
    mine = problem.serves[type_, g]
    q[:n_sel][mine] = problem.type_capacity()[type_[mine], g]
    if n_ex and g in problem.existing_reach:
        limited = np.isfinite(problem.existing_capacity[:, g])
        E = sp.csr_matrix(problem.existing_reach[g][rows].multiply(limited[None, :]))
        q[n_sel:] = problem.existing_capacity[:, g]
    else:
        E = sp.csr_matrix((rows.size, n_ex))
    gain = sp.csr_matrix(sp.hstack([W, E], format="csr"))
    gain.data = gain.data - base[rows, g][np.repeat(np.arange(rows.size), np.diff(gain.indptr))]
    gain.data[gain.data < 0] = 0.0
    gain.eliminate_zeros()
    return rows, gain, q


def _finish_levels(problem, level, served, ex_served, blocks, assigned):
    """Fill level, served and existing_served from per-group (pairs × facilities) people."""
    base = problem.level_before()
    n_sel = served.shape[0]
    for (g, rows, gain, q), Z in zip(blocks, assigned):
        people = problem.people[rows, g]
        add = np.asarray(Z.multiply(gain).sum(axis=1)).ravel()
        level[rows, g] = np.minimum(1.0, base[rows, g] + add / people)
        per_facility = np.asarray(Z.sum(axis=0)).ravel()
        served[:, g] = per_facility[:n_sel]
        if ex_served is not None:
            ex_served[:, g] = per_facility[n_sel:]
    return level, served, ex_served


def _check_assignment(problem, site, type_, level, served, blocks, assignment):
    """Verify a given assignment (reach, supply, capacity) and take the levels it gives."""
    n_sel = site.size
    n_ex = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
    ex_served = np.zeros((n_ex, problem.n_groups)) if n_ex else None
    problems, assigned = [], []
    for g, rows, gain, q in blocks:
        Z = assignment.get(int(g))
        Z = (Z.tocsr()[rows] if Z is not None else gain * 0.0)
        if Z.shape != gain.shape:
            raise ValueError(f"evaluate: assignment for group {g} has shape {Z.shape}, expected {gain.shape}")
        name = problem.group_names[g]
        if Z.nnz and Z.data.min() < -ASSIGN_TOL:
            problems.append(f"assignment of {name}: negative people")
        outside = Z - Z.multiply(gain > 0)
        if outside.nnz and np.abs(outside.data).max() > ASSIGN_TOL:
            problems.append(f"assignment of {name}: people sent to a facility that cannot reach or help them")
        over = np.asarray(Z.sum(axis=1)).ravel() - problem.people[rows, g]
        if over.size and over.max() > ASSIGN_TOL * max(1.0, float(problem.people[rows, g].max(initial=1.0))):
            problems.append(f"assignment of {name}: more people assigned than live at a point")
        load = np.asarray(Z.sum(axis=0)).ravel()
        excess = load - q
        if excess.size and np.nanmax(excess) > ASSIGN_TOL * max(1.0, float(np.nanmax(np.where(np.isfinite(q), q, 1.0), initial=1.0))):
            f = int(np.nanargmax(excess))
            where = (f"site {problem.site_ids[site[f]]}" if f < n_sel else f"existing facility {f - n_sel + 1}")
            problems.append(f"capacity of {name} at {where}: {load[f]:,.3f} > {q[f]:,.3f}")
        assigned.append(Z.multiply(gain > 0).tocsr())
    level, served, ex_served = _finish_levels(problem, level, served, ex_served, blocks, assigned)
    for g, rows, gain, q in blocks:
        served[~problem.serves[type_, g], g] = np.nan
    return level, served, ex_served, True, problems


def _assign(problem, site, type_, level, served, blocks, with_equity, worst_share):
    """The transportation LP of the capacitated groups for a fixed plan (see the module docstring)."""
    import scipy.sparse as sp

    from lifecircle.optimizer.core.shares import circle_totals, group_totals

    n_sel = site.size
    n_ex = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
    ex_served = np.zeros((n_ex, problem.n_groups)) if n_ex else None
    n_var = sum(gain.nnz for _, _, gain, _ in blocks)
    c = np.zeros(n_var)
    ub_rows, ub_rhs, var_info = [], [], []
    start = 0
    for g, rows, gain, q in blocks:
        coo = gain.tocoo()
        r, f, d = coo.row, coo.col, coo.data
        idx = start + np.arange(r.size)
        c[idx] = -problem.group_weight[g] * d
        ub_rows.append(sp.csr_matrix((np.ones(r.size), (r, idx)), shape=(rows.size, n_var)))
        ub_rhs.append(problem.people[rows, g])
        finite = np.flatnonzero(np.isfinite(q))
        pos = np.searchsorted(finite, f)
        hit = (pos < finite.size) & (finite[np.minimum(pos, max(finite.size - 1, 0))] == f) if finite.size \
            else np.zeros(f.size, bool)
        ub_rows.append(sp.csr_matrix((np.ones(int(hit.sum())), (pos[hit], idx[hit])), shape=(finite.size, n_var)))
        ub_rhs.append(q[finite])
        var_info.append((g, rows, r, f, d, idx))
        start += r.size

    if with_equity and problem.equity is not None:
        rule = problem.equity
        g_cov, g_people = group_totals(problem, level)
        c_cov, c_people = circle_totals(problem, level)
        wanted = []  # (kind, set index, share)
        for g, floor in enumerate(np.asarray(rule.min_share, dtype=float)):
            if np.isfinite(floor):
                wanted.append(("g", g, floor))
        if rule.min_share_per_circle is not None:
            wanted += [("c", cc, rule.min_share_per_circle) for cc in range(len(problem.circle_names))]
        if worst_share is not None and rule.maximin == "groups":
            wanted += [("g", g, worst_share) for g in range(problem.n_groups) if problem.group_weight[g] > 0]
        if worst_share is not None and rule.maximin == "circles":
            wanted += [("c", cc, worst_share) for cc in range(len(problem.circle_names))]
        for kind, s, floor in wanted:
            cov, people = (g_cov[s], g_people[s]) if kind == "g" else (c_cov[s], c_people[s])
            if people <= 0:
                continue
            coef = np.zeros(n_var)
            for g, rows, r, f, d, idx in var_info:
                mine = np.full(r.size, g == s) if kind == "g" else problem.circle[rows[r]] == s
                coef[idx[mine]] = d[mine]
            ub_rows.append(sp.csr_matrix(-coef[None, :]))
            # half the slack floor_violations allows, so the LP's own tolerance cannot tip it over
            ub_rhs.append(np.array([cov - floor * people + 0.5 * PEOPLE_TOL * max(1.0, people)]))
    A = sp.vstack(ub_rows, format="csr")
    b = np.concatenate(ub_rhs)
    if n_var == 0:  # nothing to assign: only the constant parts of the floors remain
        assigned = [gain.copy() for _, _, gain, _ in blocks]
        level, served, ex_served = _finish_levels(problem, level, served, ex_served, blocks, assigned)
        for g, rows, gain, q in blocks:
            served[~problem.serves[type_, g], g] = np.nan
        return level, served, ex_served, bool(np.all(b >= 0)), []
    result = _linprog(c, A, b)
    if result.status == 2:
        return level, served, ex_served, False, []
    if result.status != 0:
        raise SolverResultError(f"evaluate: the assignment LP failed: {result.message}")
    z = result.x
    on_existing = np.zeros(n_var, dtype=bool)
    for g, rows, r, f, d, idx in var_info:
        on_existing[idx[f >= n_sel]] = True
    saturated = True
    for g, rows, r, f, d, idx in var_info:
        ex_f = f >= n_sel
        if ex_f.any():
            load = np.bincount(f[ex_f] - n_sel, weights=z[idx[ex_f]], minlength=n_ex)
            cap = problem.existing_capacity[:, g]
            used = np.unique(f[ex_f] - n_sel)
            saturated &= bool(np.all(load[used] >= cap[used] - 1e-6 * np.maximum(1.0, cap[used])))
    if on_existing.any() and not saturated:
        # existing capacity first: keep the optimum, then serve as many as possible there
        value = float(result.fun)
        A2 = sp.vstack([A, sp.csr_matrix(c[None, :])], format="csr")
        b2 = np.concatenate([b, [value + 1e-9 * max(1.0, abs(value))]])
        second = _linprog(-on_existing.astype(float), A2, b2)
        if second.status == 0:
            z = second.x
    z = np.maximum(z, 0.0)
    assigned = [sp.csr_matrix((z[idx], (r, f)), shape=gain.shape) for (g, rows, r, f, d, idx), (_, _, gain, _)
                in zip(var_info, blocks)]
    level, served, ex_served = _finish_levels(problem, level, served, ex_served, blocks, assigned)
    for g, rows, gain, q in blocks:
        served[~problem.serves[type_, g], g] = np.nan
    return level, served, ex_served, True, []


def _linprog(c, A, b):
    """min c z, A z <= b, z >= 0 by HiGHS's interior point, re-solved by dual simplex when that
    ends in neither an optimum nor a proof of infeasibility.

    Why: on some tiny infeasible assignment LPs (equity floors no assignment meets, e.g. a swap in
    tests/outputs/test_swaps.py) IPX's presolved model ends in "Solve error" (scipy status 4)
    where dual simplex, or IPX without presolve, proves infeasibility (issue 14)."""
    from scipy.optimize import linprog

    result = linprog(c, A_ub=A, b_ub=b, bounds=(0, None), method="highs-ipm")
    if result.status in (0, 2):
        return result
    return linprog(c, A_ub=A, b_ub=b, bounds=(0, None), method="highs-ds")


def objective_tolerance(problem: CoverageProblem, objective: float = 0.0) -> float:
    """How far a model's objective may differ from :func:`evaluate`'s (issue 14).

    Step coverage: half the smallest step of the objective, ``0.5 / (s_w s_p)`` with ``s_w`` and
    ``s_p`` the decimal scales of the group weights and of the people
    (:func:`models.linear.decimal_scale`): every objective is a whole multiple of ``1 / (s_w s_p)``
    (0.1 for weights 1 and 0.5 and whole people), so a one-child discrepancy is caught
    (a relative 1e-6 was 0.69 people on the 100k district). Decay, capacities and equity
    (fractional levels and assignments) have no such grid: :data:`OBJECTIVE_TOL` relative there.
    """
    relative = OBJECTIVE_TOL * max(1.0, abs(objective))
    if problem.has_service:
        return relative
    people = problem.people[problem.people > 0]
    weights = problem.group_weight[problem.group_weight > 0]
    if people.size == 0 or weights.size == 0:
        return relative
    scale_people = decimal_scale(people, max_abs=2.0**53)
    scale_weights = decimal_scale(weights, max_abs=2.0**53)
    if scale_people is None or scale_weights is None:
        return relative
    # every objective is a whole multiple of 1 / (s_weights s_people): one person of any group
    return 0.5 / (scale_people * scale_weights)


def check_objective(problem: CoverageProblem, model_objective: float, evaluated: float, who: str) -> None:
    """Raise :class:`SolverResultError` when the model's objective and the evaluated one differ by
    more than :func:`objective_tolerance`."""
    if abs(evaluated - model_objective) > objective_tolerance(problem, model_objective):
        raise SolverResultError(f"{who} objective {model_objective} != evaluated {evaluated}")


def check_bound(problem: CoverageProblem, objective: float, bound: float | None, who: str) -> None:
    """Raise :class:`SolverResultError` when a maximisation's bound is below its plan by more
    than the tolerance (a bound is never clamped to hide that)."""
    if bound is not None and objective - bound > objective_tolerance(problem, objective):
        raise SolverResultError(f"{who} bound {bound} is below the plan's objective {objective}")


def evaluate(problem: CoverageProblem, site, type_, *, worst_share: float | None = None,
             assignment: dict | None = None, bound: float | None = None) -> Evaluation:
    """Check a plan against every rule and recompute what it covers.

    Parameters
    ----------
    problem : the instance.
    site, type_ : (n,) int arrays, the facilities the plan opens.
    worst_share : the maximin level the plan must give every group (or circle), if any.
    assignment : capacitated groups only: {g: (I, n + E) CSR} people of group g at each point
        assigned to each of the plan's facilities, then to each existing facility. When given it
        is verified and used (fast, and what the solver chose); when absent evaluate recomputes the
        best assignment by LP.
    bound : a claimed upper bound on the objective, if any: a bound below the plan's evaluated
        objective by more than :func:`objective_tolerance` is a violation (issue 14).
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
    level, level_before = covered.astype(float), problem.covered_before.astype(float)
    served = capacity = existing_served = None
    if problem.has_service:
        from lifecircle.optimizer.core.shares import floor_violations

        empty = np.zeros(0, dtype=np.int64)
        level_before = service_levels(problem, empty, empty)[0]
        level, served, existing_served, assignable, problems = service_levels(
            problem, site, type_, with_equity=True, worst_share=worst_share, assignment=assignment)
        violations.extend(problems)
        if not assignable:
            violations.append("equity: no assignment of people to the open facilities meets the fairness floors")
        else:
            violations.extend(floor_violations(problem, level, worst_share))
        covered = level > 0
        objective = float((weighted * level).sum())
        people_before = (people * level_before).sum(axis=0)
        people_after = (people * level).sum(axis=0)
        capacity = np.where(problem.serves[type_][:, :] & problem.capacitated_groups()[None, :],
                            problem.type_capacity()[type_], np.nan)

    if bound is not None and objective - bound > objective_tolerance(problem, objective):
        violations.append(f"bound {bound:,.6g} is below the plan's objective {objective:,.6g}")

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
        level=level,
        level_before=level_before,
        served=served,
        capacity=capacity,
        existing_served=existing_served,
        worst_share=worst_share,
    )
