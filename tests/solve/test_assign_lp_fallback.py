"""evaluate()'s assignment LP on a tiny infeasible capacitated problem (issue 14): HiGHS's interior
point ended in "Solve error" there (scipy status 4); evaluate() now re-solves by dual simplex and
reports the plan as missing the floors instead of raising."""

from __future__ import annotations

import numpy as np
import scipy.optimize as so

from lifecircle.models.coverage import facility_columns
from lifecircle.optimizer.core.solution import evaluate
from support.bruteforce import random_service_problem

# tests/outputs/test_swaps.py, case 4, seed 2: a plan of three sites with its facility 1 swapped
CASE = dict(shape="step", capacity=True, circles=3, existing_capacity=True, existing=2,
            equity=dict(min_share=np.array([np.nan, 0.3]), per_circle=0.25, maximin=None))


def test_interior_point_solve_error_is_resolved_by_dual_simplex(monkeypatch):
    problem, _ = random_service_problem(42, n_points=30, n_sites=8, rules=False, **CASE)
    rng = np.random.default_rng(2)
    cand_site, cand_type = facility_columns(problem.cost_cny, problem.forbidden)
    sites = rng.permutation(np.unique(cand_site))[:3]
    pick = np.array([np.flatnonzero(cand_site == j)[0] for j in sites])
    others = ~np.isin(cand_site, cand_site[pick])
    site = np.append(cand_site[pick][[0, 2]], cand_site[others][0])
    type_ = np.append(cand_type[pick][[0, 2]], cand_type[others][0])

    calls = []
    real = so.linprog

    def spy(c, **kw):
        result = real(c, **kw)
        calls.append((kw["method"], result.status, c, kw["A_ub"], kw["b_ub"]))
        return result

    monkeypatch.setattr(so, "linprog", spy)
    evaluation = evaluate(problem, site, type_)
    # the case still shows the interior point's failure, so the test keeps meaning something (an
    # earlier LP of evaluate(), without the swap's floors, solves fine)
    assert [(m, s) for m, s, *_ in calls][-2:] == [("highs-ipm", 4), ("highs-ds", 2)]
    assert not evaluation.feasible
    assert evaluation.violations == ("equity: no assignment of people to the open facilities meets the fairness floors",)
    # the verdict is the LP's own: IPX without presolve proves it infeasible too
    _, _, c, A, b = calls[-2]
    assert real(c, A_ub=A, b_ub=b, bounds=(0, None), method="highs-ipm", options={"presolve": False}).status == 2
