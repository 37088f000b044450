"""OR-Library p-median pmed1-10 (Beasley 1990): the proven optimum from pmedopt.txt, exactly.

The data are not part of the repository; they sit at ../shared/data/orlib-pmed beside it (or at
$LIFECIRCLE_ORLIB_DIR). HiGHS runs pmed1-10. The second exact backend (CBC, the fastest of the
others here) runs the 100-vertex instances pmed1-5 by default; pmed6-10 take it minutes each on
a 2-core machine, so they run with LIFECIRCLE_SLOW_TESTS=1.
"""

from __future__ import annotations

import os

import pytest

from optimizer.backends import SolveOptions
from optimizer.classic import solve_classic
from optimizer.instances import read_known, read_orlib_pmed

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("LIFECIRCLE_ORLIB_DIR",
                      os.path.join(HERE, "..", "..", "shared", "data", "orlib-pmed"))
SLOW = os.environ.get("LIFECIRCLE_SLOW_TESTS") == "1"
SECOND = "pulp-cbc"

pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DATA, "pmedopt.txt")),
    reason=f"OR-Library p-median data not found at {os.path.normpath(DATA)} "
           "(set LIFECIRCLE_ORLIB_DIR to the folder with pmed1.txt ... pmedopt.txt)")


def cases():
    for k in range(1, 11):
        yield pytest.param(f"pmed{k}", "highs", id=f"pmed{k}-highs")
    for k in range(1, 11):
        marks = [] if k <= 5 or SLOW else [pytest.mark.skip(
            reason=f"{SECOND} on 200-vertex pmed{k} takes minutes; set LIFECIRCLE_SLOW_TESTS=1")]
        yield pytest.param(f"pmed{k}", SECOND, id=f"pmed{k}-{SECOND}", marks=marks)


@pytest.mark.parametrize("name, backend", list(cases()))
def test_pmedian_reaches_proven_optimum(name, backend):
    optimum = read_known(os.path.join(DATA, "pmedopt.txt"))[name]
    inst = read_orlib_pmed(os.path.join(DATA, f"{name}.txt"))
    res = solve_classic(inst, "pmedian", solver=backend, options=SolveOptions(time_limit_s=600))
    assert res.status == "optimal"
    assert res.objective == optimum  # exactly: integer costs, recomputed from the open sites
    assert len(res.selected) == inst.p and all(1 <= s <= inst.n_sites for s in res.selected)
