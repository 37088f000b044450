"""The researchers' API (``lifecircle.classic``): brute force on small random instances, the
GeoDataFrame path against the matrix path, pmed1's published optimum, and the refusals."""

from __future__ import annotations

import doctest
import itertools
import os

import numpy as np
import pytest
import scipy.sparse as sp

import lifecircle
from lifecircle import classic
from lifecircle.optimizer.classic import api
from lifecircle.optimizer.errors import InfeasibleError, ScenarioError

from support.scenarios import SHARED_PMED

PMED_DIR = os.environ.get("LIFECIRCLE_ORLIB_DIR", str(SHARED_PMED))
CRS = "EPSG:32648"  # UTM 48N, metres: Chongqing's zone


def random_instance(seed: int, n: int = 9, m: int = 6):
    """Integer coordinates (ties and exact distances) and integer weights, some of them 0."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(0, 20, size=(n, 2)).astype(float)
    sites = rng.integers(0, 20, size=(m, 2)).astype(float)
    cost = np.hypot(demand[:, None, 0] - sites[None, :, 0], demand[:, None, 1] - sites[None, :, 1])
    weights = rng.integers(0, 10, size=n).astype(float)
    return demand, sites, cost, weights


def subsets(m: int, p: int):
    return (list(s) for s in itertools.combinations(range(m), p))


def brute_mclp(cost, weights, radius, p):
    cover = cost <= radius
    return max(float(weights[cover[:, s].any(axis=1)].sum()) for s in subsets(cost.shape[1], p))


def brute_lscp(cost, radius):
    cover = cost <= radius
    for p in range(1, cost.shape[1] + 1):
        if any(cover[:, s].any(axis=1).all() for s in subsets(cost.shape[1], p)):
            return float(p)
    return None


def brute_pmedian(cost, weights, p):
    return min(float((weights * cost[:, s].min(axis=1)).sum()) for s in subsets(cost.shape[1], p))


def brute_pcenter(cost, p):
    return min(float(cost[:, s].min(axis=1).max()) for s in subsets(cost.shape[1], p))


def close(a, b):
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_every_model_equals_brute_force(seed):
    _, _, cost, weights = random_instance(seed)
    radius = float(np.median(cost))
    for p in (1, 2, 3):
        res = classic.mclp(cost, weights, radius=radius, p=p)
        assert res.status == "optimal"
        assert close(res.objective, brute_mclp(cost, weights, radius, p))
        assert res.selected.size == p
        assert close(weights[res.covered].sum(), res.objective)

        res = classic.pmedian(cost, weights, p=p)
        assert close(res.objective, brute_pmedian(cost, weights, p))
        assert set(res.assignment) <= set(res.selected)
        rows = np.arange(cost.shape[0])
        assert close((weights * cost[rows, res.assignment]).sum(), res.objective)

        res = classic.pcenter(cost, p=p)
        assert close(res.objective, brute_pcenter(cost, p))
        assert close(cost[np.arange(cost.shape[0]), res.assignment].max(), res.objective)
    wide = float(cost.min(axis=1).max()) + 1.0  # every point within reach of some site
    res = classic.lscp(cost, radius=wide)
    assert res.objective == brute_lscp(cost, wide) == res.selected.size
    assert res.covered.all()


@pytest.mark.parametrize("seed", range(3))
def test_budgeted_mclp_equals_brute_force(seed):
    _, _, cost, weights = random_instance(seed)
    site_costs = np.random.default_rng(seed + 100).integers(1, 10, size=cost.shape[1]).astype(float)
    budget, radius = 12.0, float(np.median(cost))
    cover = cost <= radius
    every = (list(s) for k in range(cost.shape[1] + 1) for s in subsets(cost.shape[1], k))
    best = max(float(weights[cover[:, s].any(axis=1)].sum()) for s in every
               if site_costs[s].sum() <= budget)
    res = classic.mclp(cost, weights, radius=radius, budget=budget, site_costs=site_costs)
    assert close(res.objective, best)
    assert site_costs[res.selected].sum() <= budget


def test_sparse_matrix_means_reachable_pairs_only():
    _, _, cost, weights = random_instance(7)
    far = cost > np.percentile(cost, 70)
    dense = np.where(far, np.inf, cost)
    i, j = np.nonzero(~far)  # stored entries are the reachable pairs, a cost of 0 included
    cost_sparse = sp.csr_matrix((cost[i, j], (i, j)), shape=cost.shape)
    a = classic.pmedian(dense, weights, p=3)
    b = classic.pmedian(cost_sparse, weights, p=3)
    assert a.objective == b.objective
    assert classic.mclp(dense, weights, radius=8.0, p=2).objective == \
        classic.mclp(cost_sparse, weights, radius=8.0, p=2).objective


def frames(seed: int):
    gpd = pytest.importorskip("geopandas")
    demand_xy, sites_xy, cost, weights = random_instance(seed)
    demand = gpd.GeoDataFrame({"pop": weights}, geometry=gpd.points_from_xy(*demand_xy.T), crs=CRS,
                              index=[f"d{i}" for i in range(len(weights))])
    rng = np.random.default_rng(seed + 100)
    sites = gpd.GeoDataFrame({"cny": rng.integers(1, 10, size=len(sites_xy)).astype(float)},
                             geometry=gpd.points_from_xy(*sites_xy.T), crs=CRS,
                             index=[f"s{j}" for j in range(len(sites_xy))])
    return demand, sites, cost, weights


@pytest.mark.parametrize("seed", range(4))
def test_geodataframes_equal_the_matrix(seed):
    demand, sites, cost, weights = frames(seed)
    radius = float(np.median(cost))
    pairs = [
        (classic.mclp(demand=demand, sites=sites, weight_col="pop", radius=radius, p=2),
         classic.mclp(cost, weights, radius=radius, p=2)),
        (classic.mclp(demand=demand, sites=sites, weight_col="pop", radius=radius, budget=9.0,
                      site_cost_col="cny"),  # the large-instance path (coordinates, budget)
         classic.mclp(cost, weights, radius=radius, budget=9.0,
                      site_costs=sites["cny"].to_numpy())),
        (classic.lscp(demand=demand, sites=sites, radius=float(cost.min(axis=1).max())),
         classic.lscp(cost, radius=float(cost.min(axis=1).max()))),
        (classic.pmedian(demand=demand, sites=sites, weight_col="pop", p=2),
         classic.pmedian(cost, weights, p=2)),
        (classic.pcenter(demand=demand, sites=sites, p=2), classic.pcenter(cost, p=2)),
    ]
    for geo, mat in pairs:
        assert geo.model == mat.model and geo.status == mat.status == "optimal"
        assert close(geo.objective, mat.objective), geo.model
        assert geo.selected_ids == tuple(f"s{j}" for j in geo.selected)
        assert mat.selected_ids == tuple(int(j) for j in mat.selected)


def test_geographic_and_mismatched_crs_are_refused():
    demand, sites, _, _ = frames(0)
    with pytest.raises(ScenarioError, match="geographic"):
        classic.pcenter(demand=demand.set_crs("EPSG:4326", allow_override=True), sites=sites, p=2)
    with pytest.raises(ScenarioError, match="differs"):
        classic.pcenter(demand=demand, sites=sites.set_crs("EPSG:32649", allow_override=True), p=2)
    with pytest.raises(ScenarioError, match="no CRS"):
        classic.pcenter(demand=demand.set_crs(None, allow_override=True), sites=sites, p=2)
    with pytest.raises(ScenarioError, match="no column 'people'"):
        classic.pmedian(demand=demand, sites=sites, weight_col="people", p=2)
    with pytest.raises(ScenarioError, match="pass demand=... and sites="):
        classic.pcenter(demand, p=2)


def test_bad_matrix_inputs_are_refused():
    cost = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ScenarioError, match="costs must be >= 0"):
        classic.pcenter(-cost, p=1)
    with pytest.raises(ScenarioError, match="expected 2 weights"):
        classic.pmedian(cost, [1.0], p=1)
    with pytest.raises(ScenarioError, match="exactly one of p"):
        classic.mclp(cost, [1, 1], radius=1.0)
    with pytest.raises(ScenarioError, match="site_costs"):
        classic.mclp(cost, [1, 1], radius=1.0, budget=3.0)
    with pytest.raises(ScenarioError, match="not both"):
        classic.lscp(cost, radius=1.0, demand=object(), sites=object())
    with pytest.raises(ScenarioError, match=r"p: 3 must be a whole number of sites in 1..2"):
        classic.pcenter(cost, p=3)
    with pytest.raises(ScenarioError, match="radius: -1.0 must be"):
        classic.lscp(cost, radius=-1.0)
    with pytest.raises(InfeasibleError):
        classic.lscp(cost, radius=0.5)


def test_the_result_is_frozen():
    res = classic.pmedian(np.array([[1.0, 2.0], [3.0, 1.0]]), [1, 1], p=1)
    with pytest.raises(AttributeError):
        res.objective = 0.0
    with pytest.raises(ValueError):
        res.selected[0] = 1
    assert res.termination  # the solver's own words


def test_the_root_package_exposes_it():
    assert lifecircle.classic is api
    assert "classic" in lifecircle.__all__


def test_the_module_docstring_examples_run():
    failures, tried = doctest.testmod(api, raise_on_error=False)
    assert tried and not failures


def test_pmed1_reaches_the_published_optimum():
    path = os.path.join(PMED_DIR, "pmed1.txt")
    if not os.path.isfile(path):
        pytest.skip(f"OR-Library pmed1.txt not found at {os.path.normpath(PMED_DIR)} "
                    "(set LIFECIRCLE_ORLIB_DIR to the folder with pmed1.txt)")
    from scipy.sparse.csgraph import shortest_path

    rows = [line.split() for line in open(path, encoding="utf-8") if line.strip()]
    n, _, p = (int(t) for t in rows[0])
    graph = np.zeros((n, n))
    for i, j, c in rows[1:]:  # an edge given twice keeps its last line, as OR-Library intends
        graph[int(i) - 1, int(j) - 1] = graph[int(j) - 1, int(i) - 1] = float(c)
    cost = shortest_path(sp.csr_matrix(graph), method="D", directed=False)
    res = classic.pmedian(cost, np.ones(n), p=p)
    assert (res.status, res.objective) == ("optimal", 5819.0)


def test_the_readme_example_runs():
    """The lifecircle blocks of the README's "From spopt to lifecircle" run as written (the spopt
    block, marked ``# spopt``, is not run: spopt is no dependency)."""
    import re

    from support.scenarios import REPO

    pytest.importorskip("geopandas")
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### From spopt to lifecircle", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```python\n(.*?)```", section, re.S)
              if not b.startswith("# spopt")]
    assert len(blocks) == 2 and blocks[1].startswith("# lifecircle")
    namespace: dict = {}
    exec(compile("\n".join(blocks), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["res"].status == "optimal" and len(namespace["res"].selected_ids) == 5
