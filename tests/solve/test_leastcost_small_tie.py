"""The tie question made small (optimizer/solve/ties.py, issue 14): the dual bound is a bound for
any duals, every tied plan keeps every fixing, merging parallel rows keeps the optimum, and the
small question answers as enumeration does."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models.coverage import build_coverage_model, encode_selection
from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.leastcost import _equal, _scale, column_ranks
from lifecircle.optimizer.solve.linear import solve_linear
from lifecircle.optimizer.solve.ties import (
    dual_bound, fixings, make_small, merge_parallel, relaxation_duals, small_tie, substitute,
)

from tests.support.canonical import reach_problem, tie_problem, tied_plans

TIE_SEEDS = [304, 335, 350, 357, 360, 387]
REACH_TIE_SEEDS = [25, 26, 52, 65, 76, 104, 106, 114]
CASES = ([("tie", seed) for seed in list(range(300, 312)) + TIE_SEEDS]
         + [("reach", seed) for seed in REACH_TIE_SEEDS + [0, 1, 2, 3]])


def _random_lp(rng, n=8, m=6):
    A = sp.csr_matrix(np.where(rng.random((m, n)) < 0.5, rng.integers(-3, 4, (m, n)), 0).astype(float))
    row_lower = np.where(rng.random(m) < 0.5, -np.inf, -rng.integers(0, 5, m).astype(float))
    row_upper = np.where(rng.random(m) < 0.3, np.inf, rng.integers(0, 6, m).astype(float))
    return LinearModel(sense=MAXIMIZE, c=rng.integers(-4, 6, n).astype(float), A=A, row_lower=row_lower,
                       row_upper=np.maximum(row_upper, row_lower), col_lower=np.zeros(n),
                       col_upper=rng.integers(1, 3, n).astype(float), integrality=rng.random(n) < 0.5)


@pytest.mark.parametrize("seed", range(12))
def test_dual_bound_holds_for_any_duals(seed):
    rng = np.random.default_rng(seed)
    model = _random_lp(rng)
    lp = solve_linear(replace(model, integrality=np.zeros(model.n_cols, dtype=bool)), "highs", SolveOptions())
    if lp.status != "optimal":
        return
    for _ in range(5):  # any y, either sign: weak duality
        bound, _, margin = dual_bound(model, rng.normal(size=model.n_rows) * 3)
        assert bound + margin >= lp.objective - 1e-9
    duals = relaxation_duals(model, SolveOptions())
    bound, _, margin = dual_bound(model, duals)
    assert lp.objective - 1e-6 <= bound <= lp.objective + 1e-6 + margin  # the LP's own duals: tight


@pytest.mark.parametrize("seed", range(8))
def test_merge_and_substitute_keep_the_optimum(seed):
    """Coverage rows copied (parallel rows, private continuous columns): the merged model has
    fewer columns and the same MILP optimum; substitution at a plan's values keeps its value."""
    rng = np.random.default_rng(100 + seed)
    n_x, n_y = 6, 10
    reach = (rng.random((n_y, n_x)) < 0.4).astype(float)
    reach = np.vstack([reach, reach[: n_y // 2]])  # parallel rows
    n_rows = reach.shape[0]
    A = sp.vstack([sp.hstack([-sp.csr_matrix(reach), sp.eye(n_rows)]),
                   sp.csr_matrix(np.r_[rng.integers(1, 5, n_x), np.zeros(n_rows)][None, :])]).tocsr()
    model = LinearModel(sense=MAXIMIZE, c=np.r_[np.zeros(n_x), rng.integers(0, 5, n_rows)].astype(float), A=A,
                        row_lower=np.full(n_rows + 1, -np.inf), row_upper=np.r_[np.zeros(n_rows), 6.0],
                        col_lower=np.zeros(n_x + n_rows), col_upper=np.ones(n_x + n_rows),
                        integrality=np.r_[np.ones(n_x, bool), np.zeros(n_rows, bool)])
    full = solve_linear(model, "highs", SolveOptions())
    merged, kept, group_of = merge_parallel(model)
    assert merged.n_cols < model.n_cols and group_of.max() == kept.size - 1
    assert solve_linear(merged, "highs", SolveOptions()).objective == pytest.approx(full.objective)
    fixed = np.r_[np.ones(n_x, bool), np.zeros(n_rows, bool)]
    small, keep = substitute(model, fixed, np.round(full.values))
    assert small.n_rows <= model.n_rows and keep.size == n_rows
    assert solve_linear(small, "highs", SolveOptions()).objective == pytest.approx(full.objective)


def _bonus(problem, plan):
    """The tie model of leastcost._another_plan on HiGHS (integer bonus, step 1)."""
    model, index = build_coverage_model(problem)
    cost = np.zeros(model.n_cols)
    rank = np.zeros(model.n_cols)
    cost[: index.n_x] = problem.cost_cny[index.x_site, index.x_type]
    rank[: index.n_x] = column_ranks(index.x_site, index.x_type, problem.n_types)
    values = encode_selection(np.array([j for j, _ in plan], np.int64), np.array([k for _, k in plan], np.int64), index)
    facility = rank > 0
    no_good = np.where(facility, np.where(facility & (values > 0.5), -1.0, 1.0), 0.0)
    bonus = _equal(_equal(model, cost, float(cost @ values), "c"), rank, float(rank @ values), "r")
    bonus = replace(bonus, sense=MAXIMIZE, c=model.c * _scale(model.c) * (facility.sum() + 1) + no_good, offset=0.0)
    return bonus, values, index


@pytest.mark.parametrize("kind, seed", CASES)
def test_small_tie_matches_enumeration(kind, seed):
    problem, geometry = reach_problem(seed) if kind == "reach" else tie_problem(seed, rules=seed % 2 == 0)
    plans = tied_plans(problem, geometry)
    if not plans:
        return
    for plan in {0: plans[0], 1: plans[-1]}.values():
        bonus, values, index = _bonus(problem, plan)
        incumbent = float(bonus.c @ values)
        duals = relaxation_duals(bonus, SolveOptions())
        mask, at, bound = fixings(bonus, duals, incumbent + 0.5)
        x = np.arange(bonus.n_cols) < index.n_x
        for other in plans:  # every other tied plan keeps every fixing of a facility column
            if other != plan:
                tie = _bonus(problem, other)[1]
                assert float(bonus.c @ tie) >= incumbent + 1 and bound >= incumbent + 1
                assert np.array_equal(tie[x & mask], at[x & mask]), (kind, seed, plan, other)
        answer = small_tie(bonus, values, incumbent, 1.0, SolveOptions())
        assert answer == ("some" if len(plans) > 1 else "none"), (kind, seed, plans)


def test_small_model_is_used_and_smaller():
    """The small path answers (not the fallback) and removes columns on these instances."""
    used = 0
    for kind, seed in CASES:
        problem, geometry = reach_problem(seed) if kind == "reach" else tie_problem(seed, rules=seed % 2 == 0)
        plans = tied_plans(problem, geometry)
        if not plans:
            continue
        bonus, values, _ = _bonus(problem, plans[0])
        incumbent = float(bonus.c @ values)
        small = make_small(bonus, values, incumbent + 0.5, relaxation_duals(bonus, SolveOptions()))
        used += small == "none" or (small is not None and small.model.n_cols < bonus.n_cols)
    assert used >= len(CASES) // 2


@pytest.mark.parametrize("seed", range(200, 215))
def test_scaled_one_objective_keeps_the_canonical_plan(seed, monkeypatch):
    """The one-objective solve with HiGHS's objective scaled by 2**-10 (as on the bundled
    districts; here forced on small instances) still returns the enumeration's canonical plan."""
    from lifecircle.optimizer.solve import leastcost
    from lifecircle.optimizer.solve.coverage import solve_problem
    from tests.support.canonical import canonical_brute_force

    monkeypatch.setattr(leastcost, "OBJECTIVE_SCALE_TO", 1.0)
    problem, geometry = tie_problem(seed, n_sites=9, budget_share=0.2 + 0.02 * (seed % 5), rules=seed % 2 == 0)
    expected = canonical_brute_force(problem, geometry)
    if expected is None:
        return
    coverage, cost, plan = expected
    model_c = np.array([1e6, 3.0])  # the rule itself: large objectives scaled, by at most 2**-10
    assert leastcost.objective_scale(model_c) == (("user_objective_scale", -10),)
    solution = solve_problem(problem, "highs")
    assert solution.objective == pytest.approx(coverage, abs=1e-6)
    assert solution.spent_cny == pytest.approx(cost, abs=1e-6)
    assert sorted(zip(solution.site.tolist(), solution.type.tolist())) == plan, seed
    assert solution.model_stats["canonical"] is True
    stages = solution.model_stats["stages"]
    assert [s["stage"] for s in stages][:3] == ["coverage", "cost", "rank"]
    assert stages[1]["solves"] == 0  # the one-objective form, the one scaled


def test_objective_scale_rule():
    from lifecircle.optimizer.solve.leastcost import objective_scale

    assert objective_scale(np.array([400.0, -0.5])) == ()  # a coverage objective: as it is
    assert objective_scale(np.array([2.0**30])) == (("user_objective_scale", -4),)
    assert objective_scale(np.array([8e10])) == (("user_objective_scale", -10),)
