"""The backend contract (PuLP's shared solver tests, issue 13): one suite every registered backend
runs, on tiny LinearModels whose answers were worked by hand.

Each case says what every backend must return, as (status, termination, objective), unless the
backend declines the model: then ``solve_linear`` raises CapabilityError (termination
``declined``) before the backend's ``solve`` is ever called. Which backends decline which model is
part of the contract too (``DECLINED_BY``): CP-SAT takes integers only, greedy takes no linear
model at all. Every plan is re-checked here, independently of the backend: row, bound and
integrality violation from ``model.violation``, and the objective recomputed as ``c @ v + offset``.

A backend whose library is missing is skipped with the reason locally and fails under CI=true.
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, MINIMIZE, LinearModel
from lifecircle.optimizer.core.tolerances import FEASIBILITY_TOL
from lifecircle.optimizer.errors import CapabilityError
from lifecircle.optimizer.solve.backends import (
    REGISTRY, Capability, SolveOptions, Status, Termination, get_backend,
)
from lifecircle.optimizer.solve.linear import solve_linear

INF = math.inf
OPT, FEAS, INFEAS, NONE = Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.NO_SOLUTION
BACKENDS = list(REGISTRY)


def linear(sense, c, rows, row_lower, row_upper, col_lower, col_upper, integer, offset=0.0,
           integral_optimum=False) -> LinearModel:
    """A LinearModel from dense lists (tiny models only)."""
    c = np.asarray(c, dtype=float)
    A = sp.csr_matrix(np.asarray(rows, dtype=float).reshape(len(row_lower), c.size))
    return LinearModel(sense, c, A, np.asarray(row_lower, dtype=float), np.asarray(row_upper, dtype=float),
                       np.asarray(col_lower, dtype=float), np.asarray(col_upper, dtype=float),
                       np.asarray(integer, dtype=bool), offset=offset, integral_optimum=integral_optimum)


def knapsack() -> LinearModel:
    # max 5a + 4b + 3c, 2a + 3b + c <= 5, binary. {a,b} weighs 5 for 9; {a,c} 3 for 8; {b,c} 4 for 7;
    # all three weigh 6 > 5. Optimum 9.
    return linear(MAXIMIZE, [5, 4, 3], [[2, 3, 1]], [-INF], [5], [0, 0, 0], [1, 1, 1], [1, 1, 1])


def hard_knapsack(seed: int = 7, n: int = 60, m: int = 6) -> LinearModel:
    """A multidimensional 0/1 knapsack with strongly correlated profits: plans within a few percent
    come at once, proving the optimum takes seconds (what the limit cases need)."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(100, 1000, size=(m, n))
    profit = weights.sum(axis=0) // m + rng.integers(0, 50, size=n)
    capacity = weights.sum(axis=1) // 2
    return linear(MAXIMIZE, profit, weights, np.full(m, -INF), capacity, np.zeros(n), np.ones(n),
                  np.ones(n, dtype=bool))


@dataclass(frozen=True)
class Case:
    model: LinearModel
    status: Status
    termination: Termination
    objective: float | None  # None: no plan, or a stopped solve whose objective is not fixed
    options: SolveOptions = field(default_factory=SolveOptions)
    declined_by: frozenset = frozenset()  # besides greedy, which declines every linear model


CPSAT = frozenset({"ortools-cpsat"})

CASES = {
    # max 3x + 2y, x + y <= 4, x + 3y <= 6, 0 <= x <= 3, y >= 0: vertex x = 3, y = 1 gives 11
    # (against 9 at (3, 0) and 4 at (0, 2)). Continuous and fractional in general: CP-SAT declines.
    "lp_max": Case(linear(MAXIMIZE, [3, 2], [[1, 1], [1, 3]], [-INF, -INF], [4, 6], [0, 0], [3, INF], [0, 0]),
                   OPT, Termination.OPTIMAL, 11.0, declined_by=CPSAT),
    # min x + y, x + 2y >= 4, 3x + y >= 6, x, y >= 0: the rows meet at (1.6, 1.2): 2.8 (against 4, 6).
    "lp_min": Case(linear(MINIMIZE, [1, 1], [[1, 2], [3, 1]], [4, 6], [INF, INF], [0, 0], [INF, INF], [0, 0]),
                   OPT, Termination.OPTIMAL, 2.8, declined_by=CPSAT),
    "milp_max": Case(knapsack(), OPT, Termination.OPTIMAL, 9.0),
    # set cover: min 3x1 + 2x2 + 4x3, each of three elements covered by two sets (x1 + x2, x2 + x3,
    # x1 + x3 >= 1): any two sets cover; the cheapest pair {x1, x2} costs 5.
    "milp_min": Case(linear(MINIMIZE, [3, 2, 4], [[1, 1, 0], [0, 1, 1], [1, 0, 1]], [1, 1, 1], [INF] * 3,
                            [0, 0, 0], [1, 1, 1], [1, 1, 1]), OPT, Termination.OPTIMAL, 5.0),
    # equality row: max x + y, x + 2y = 7, integers in [0, 5]. x = 7 - 2y, so x + y = 7 - y, and
    # x <= 5 needs y >= 1: y = 1, x = 5, objective 6.
    "equality": Case(linear(MAXIMIZE, [1, 1], [[1, 2]], [7], [7], [0, 0], [5, 5], [1, 1]),
                     OPT, Termination.OPTIMAL, 6.0),
    # free columns: min x, x - y >= -3, x + y >= -1, x and y free integers. x >= max(y - 3, -1 - y),
    # smallest where both meet, y = 1: x = -2 (a negative optimum, too).
    "free_bounds": Case(linear(MINIMIZE, [1, 0], [[1, -1], [1, 1]], [-3, -1], [INF, INF], [-INF, -INF],
                               [INF, INF], [1, 1]), OPT, Termination.OPTIMAL, -2.0),
    # offset: max 2x + 3y + 10, x + y <= 3, 0 <= x <= 2, 0 <= y <= 2, integers: y = 2, x = 1 gives
    # 2 + 6 + 10 = 18; the bound carries the offset too.
    "offset": Case(linear(MAXIMIZE, [2, 3], [[1, 1]], [-INF], [3], [0, 0], [2, 2], [1, 1], offset=10.0),
                   OPT, Termination.OPTIMAL, 18.0),
    # x + y >= 3 with x, y binary: no plan.
    "infeasible_milp": Case(linear(MAXIMIZE, [1, 1], [[1, 1]], [3], [INF], [0, 0], [1, 1], [1, 1]),
                            INFEAS, Termination.INFEASIBLE, None),
    # x >= 2 and x <= 1, continuous: no plan (CP-SAT declines the continuous column).
    "infeasible_lp": Case(linear(MINIMIZE, [1], [[1]], [2], [INF], [0], [1], [0]),
                          INFEAS, Termination.INFEASIBLE, None, declined_by=CPSAT),
    # no columns: the only plan is the empty one, worth the offset.
    "empty": Case(linear(MAXIMIZE, np.zeros(0), np.zeros((0, 0)), [], [], [], [], [], offset=4.0),
                  OPT, Termination.OPTIMAL, 4.0),
    # no columns and a row 1 <= 0 <= 2 that the empty plan breaks.
    "empty_infeasible": Case(linear(MAXIMIZE, np.zeros(0), np.zeros((1, 0)), [1], [2], [], [], []),
                             INFEAS, Termination.INFEASIBLE, None),
    # a warm start (the worse plan {b, c}, 7) is a hint: the optimum is still 9.
    "warm_start": Case(knapsack(), OPT, Termination.OPTIMAL, 9.0,
                       SolveOptions(warm_start=np.array([0.0, 1.0, 1.0]))),
    # fractional data: max x/3 + y, x + y <= 1, binary: y = 1 gives 1. No power of ten makes 1/3
    # an integer: CP-SAT declines rather than round.
    "fractional": Case(linear(MAXIMIZE, [1 / 3, 1], [[1, 1]], [-INF], [1], [0, 0], [1, 1], [1, 1]),
                       OPT, Termination.OPTIMAL, 1.0, declined_by=CPSAT),
    # a gap of 25% on a knapsack whose first plans are within a few percent and whose proof takes
    # seconds: stopped at once, feasible, at most 25% from its bound.
    "gap_stop": Case(hard_knapsack(), FEAS, Termination.GAP_LIMIT, None, SolveOptions(gap=0.25)),
    # 0.2 s on the same knapsack (its proof takes seconds with every backend): a plan, stopped by the clock.
    "time_stop": Case(hard_knapsack(), FEAS, Termination.TIME_LIMIT, None, SolveOptions(time_limit_s=0.2)),
}


def installed(name: str):
    """The backend, or a skip (a failure under CI=true, where every backend must be installed)."""
    backend = REGISTRY[name]
    if not backend.available():
        reason = f"{name}: the Python package {backend.library!r} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return backend


def declines(name: str, case: Case) -> bool:
    return Capability.MILP not in REGISTRY[name].capabilities or name in case.declined_by


def check_plan(model: LinearModel, result) -> None:
    """The independent re-check: the plan meets the model, and the objective is the plan's."""
    assert result.values is not None and result.values.shape == (model.n_cols,)
    assert model.violation(result.values) <= FEASIBILITY_TOL
    assert result.objective == pytest.approx(float(model.c @ result.values) + model.offset, abs=1e-9)
    if result.bound is not None:
        worse = result.objective - result.bound if model.sense == MAXIMIZE else result.bound - result.objective
        assert worse <= 1e-6 * max(1.0, abs(result.objective)), "bound on the wrong side of the plan"


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case_name", list(CASES))
def test_backend_contract(name, case_name, monkeypatch):
    backend = installed(name)
    case = CASES[case_name]
    if declines(name, case):
        def must_not_run(*args, **kwargs):
            raise AssertionError(f"{name}.solve called on a model it declines")

        monkeypatch.setattr(backend, "solve", must_not_run)
        with pytest.raises(CapabilityError, match=f"{name}.*; use .*highs") as declined:
            solve_linear(case.model, name, case.options)
        assert declined.value.termination == Termination.DECLINED == "declined"
        return
    t0 = time.perf_counter()
    result = solve_linear(case.model, name, case.options)
    elapsed = time.perf_counter() - t0
    assert (result.status, result.termination) == (case.status, case.termination), result.message
    assert result.backend == name
    if case.status in (OPT, FEAS):
        check_plan(case.model, result)
    else:
        assert result.values is None and result.objective is None
    if case.objective is not None:
        assert result.objective == pytest.approx(case.objective, abs=1e-6)
    if case.status == OPT:
        assert result.gap == 0.0 and result.bound == pytest.approx(case.objective, abs=1e-6)
    if case.termination == Termination.GAP_LIMIT:
        assert 0 < result.gap <= case.options.gap + 1e-9
    if case.termination == Termination.TIME_LIMIT:
        assert elapsed < case.options.time_limit_s + 2.0, f"{name} overran its time limit: {elapsed:.2f} s"


@pytest.mark.parametrize("name", BACKENDS)
def test_capabilities_are_declared_as_the_enum(name):
    backend = REGISTRY[name]
    assert backend.capabilities and all(isinstance(c, Capability) for c in backend.capabilities)
    assert backend.features == {c.value for c in backend.capabilities}
    assert (Capability.MILP in backend.capabilities) == backend.exact


def test_greedy_is_a_registered_backend_that_declines_linear_models():
    greedy = REGISTRY["greedy"]
    assert greedy.capabilities == {Capability.COVERAGE}
    assert get_backend("greedy", Capability.COVERAGE) is greedy
    # asked for a MILP by name, the refusal keeps its old message and exit code (2)
    with pytest.raises(CapabilityError, match=r"^--solver: greedy cannot solve this model \(milp\)") as error:
        get_backend("greedy", "milp")
    assert error.value.exit_code == 2 and error.value.termination == "declined"
    reason = greedy.decline(knapsack(), SolveOptions())
    assert reason.startswith("greedy: takes the coverage problem itself")
    with pytest.raises(CapabilityError, match="greedy: takes the coverage problem itself"):
        greedy.solve(knapsack(), SolveOptions())


@pytest.mark.parametrize("model, message", [
    (linear(MAXIMIZE, [1, 1], [[1 / 7, 1]], [-INF], [1], [0, 0], [1, 1], [1, 1]),
     r"ortools-cpsat: constraint row 0 has coefficients that cannot be scaled exactly"),
    (linear(MAXIMIZE, [1, 1], [[1, 1]], [-INF], [1], [0, 0], [1.5, 1], [1, 1]),
     r"ortools-cpsat: a column upper bound is not an integer"),
    (linear(MAXIMIZE, [1 / 3, 1], [[1, 1]], [-INF], [1], [0, 0], [1, 1], [1, 1]),
     r"ortools-cpsat: objective coefficient .* cannot be scaled exactly"),
    (linear(MAXIMIZE, [1, 1], [[1, 1]], [-INF], [1], [0, 0], [1, 1], [0, 0]),
     r"ortools-cpsat: the model has continuous variables that may be fractional"),
])
def test_cpsat_declines_before_solving(model, message):
    backend = installed("ortools-cpsat")
    assert re.search(message, backend.decline(model, SolveOptions()))
    with pytest.raises(CapabilityError, match=message):
        solve_linear(model, "ortools-cpsat")


def test_cpsat_takes_continuous_columns_with_an_integral_optimum():
    installed("ortools-cpsat")
    model = linear(MAXIMIZE, [1, 1], [[1, 1]], [-INF], [1], [0, 0], [1, 1], [0, 0], integral_optimum=True)
    assert REGISTRY["ortools-cpsat"].decline(model, SolveOptions()) is None
    assert solve_linear(model, "ortools-cpsat").objective == pytest.approx(1.0)


def test_a_backend_without_a_limit_capability_declines_the_option(monkeypatch):
    highs = REGISTRY["highs"]
    monkeypatch.setattr(type(highs), "capabilities", highs.capabilities - {Capability.TIME_LIMIT})
    with pytest.raises(CapabilityError, match="highs: cannot stop at a time limit"):
        solve_linear(knapsack(), "highs", SolveOptions(time_limit_s=1.0))
    assert solve_linear(knapsack(), "highs").objective == 9.0



def test_one_decimal_scale_kernel():
    from lifecircle.models.linear import decimal_scale, decimal_scales
    from lifecircle.optimizer.planning.sweep import objective_unit

    values = np.array([1.0, 0.5, 2.25, 3.0, np.inf, 0.1 + 0.2, 1e-7])
    group = np.array([0, 1, 1, 2, 2, 3, 4])
    assert decimal_scales(values, group, 6).tolist() == [1.0, 100.0, 1.0, 10.0, 0.0, 1.0]
    assert decimal_scale([0.5, 1.25]) == 100 and decimal_scale([1 / 3]) is None
    assert decimal_scale([0.5, 1e15], max_abs=2**53) is None  # 1e16 would pass the solver's int range
    assert objective_unit(np.array([1.5, 3.0, 4.5, 0.0])) == 1.5
    assert objective_unit(np.array([1 / 3])) is None
