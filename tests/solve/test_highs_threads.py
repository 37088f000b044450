"""HiGHS sizes one task scheduler per process; a later solve asking another --threads once ended
with no plan ("global scheduler has already been initialized"), so a script, a sweep or the test
suite solving with 1 thread and then 2 got no_solution."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.linear import solve_linear


def _knapsack(n: int = 14, m: int = 3) -> LinearModel:
    rng = np.random.default_rng(3)
    weights = rng.integers(10, 100, size=(m, n)).astype(float)
    values = weights.sum(axis=0) + rng.integers(0, 50, size=n)
    return LinearModel(MAXIMIZE, values.astype(float), sp.csr_matrix(weights), np.full(m, -np.inf),
                       weights.sum(axis=1) / 2, np.zeros(n), np.ones(n), np.ones(n, dtype=bool))


def _brute_force(model: LinearModel) -> float:
    n = model.c.size
    plans = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(float)
    fits = np.all(plans @ model.A.T.toarray() <= model.row_upper, axis=1)
    return float((plans[fits] @ model.c).max())


def test_changing_threads_between_solves_still_solves():
    model = _knapsack()
    best = _brute_force(model)
    for threads in (1, 2, None, 2, 1):
        result = solve_linear(model, "highs", SolveOptions(threads=threads))
        assert result.status == "optimal", threads
        assert result.objective == pytest.approx(best, abs=1e-9), threads


def test_highs_options_reach_the_solver():
    """SolveOptions.highs_options (issue 16's p-MCLP proof): set after lifecircle's own options, a
    misspelt name refused in one line rather than logged by HiGHS and ignored."""
    model = _knapsack()
    best = _brute_force(model)
    quiet = (("mip_heuristic_effort", 0.0), ("mip_heuristic_run_rins", False))
    assert solve_linear(model, "highs", SolveOptions(highs_options=quiet)).objective == pytest.approx(best, abs=1e-9)
    harder = _knapsack(18, 5)  # HiGHS's first plan is one short of the optimum (2,612) here
    first = solve_linear(harder, "highs", SolveOptions(presolve=False, highs_options=(("mip_max_improving_sols", 1),)))
    assert (first.status, first.objective, first.message) == ("feasible", 2611.0, "Solution limit reached")
    assert solve_linear(harder, "highs", SolveOptions(presolve=False)).objective == 2612.0
    with pytest.raises(ValueError, match=r"^highs_options: HiGHS has no option 'mip_heuristics' taking 0$"):
        solve_linear(model, "highs", SolveOptions(highs_options=(("mip_heuristics", 0),)))
