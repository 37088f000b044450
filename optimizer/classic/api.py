r"""The textbook location models for researchers: ``mclp``, ``lscp``, ``pmedian``, ``pcenter``.

Each function takes either a cost matrix (``demand x sites``) or two GeoDataFrames, solves the
model with :func:`~lifecircle.optimizer.classic.solve.solve_classic` (the formulations of
:mod:`lifecircle.models.classic`; there is no second one here) and returns a frozen
:class:`LocationResult`. Like spopt's ``from_cost_matrix`` and ``from_geodataframe``, the
GeoDataFrame path is a thin adapter: it only turns two frames into the same instance.

>>> import numpy as np
>>> from lifecircle import classic
>>> cost = np.array([[0.0, 4.0, 9.0], [3.0, 1.0, 8.0], [9.0, 2.0, 1.0], [7.0, 6.0, 0.5]])
>>> res = classic.mclp(cost, weights=[4, 1, 2, 3], radius=2.0, p=1)
>>> res.selected.tolist(), res.objective
([2], 5.0)
>>> classic.pmedian(cost, weights=[4, 1, 2, 3], p=2).selected.tolist()
[0, 2]

Cost matrices
    A numpy array: every finite entry is a reachable pair, ``inf`` or ``nan`` an unreachable one.
    A scipy sparse matrix: every stored entry (explicit zeros too) is a reachable pair and a
    missing one is unreachable, so a network's reachable pairs never become a dense matrix.
    Coverage (MCLP, LSCP) is ``cost <= radius``, inclusive.
GeoDataFrames
    ``demand`` holds points (with a weight column for MCLP and p-median), ``sites`` the candidate
    points; both in the same projected CRS in metres, where cost is the straight-line distance
    in metres. A geographic CRS (degrees) is refused: reproject with ``to_crs`` first. Site ids
    are the ``sites`` index labels (unique); coverage comes from a KD-tree radius query, never a
    dense matrix (p-median and p-center need every pair, and refuse beyond
    :data:`~lifecircle.optimizer.classic.instance.MAX_DENSE_PAIRS`).

Every input error is a :class:`~lifecircle.optimizer.errors.ScenarioError` (a ``ValueError``)
naming the argument; data that admits no plan (an LSCP point no site reaches) raises
:class:`~lifecircle.optimizer.errors.InfeasibleError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecircle.optimizer.errors import ScenarioError

if TYPE_CHECKING:
    import numpy as np

# The root package imports this module, and with it every `lifecircle` command: numpy, scipy and
# the backends are imported inside the functions, so `lifecircle --help` stays at 0.3 s (1.5 s
# with them imported here).

__all__ = ["LocationResult", "mclp", "lscp", "pmedian", "pcenter"]


@dataclass(frozen=True, eq=False)
class LocationResult:
    """One solve of a textbook model; arrays are read-only.

    Attributes
    ----------
    model : str
        ``"mclp"``, ``"lscp"``, ``"pmedian"`` or ``"pcenter"``.
    status : str
        ``"optimal"``, ``"feasible"`` (stopped by the time limit with a plan), ``"infeasible"``
        or ``"no_solution"``.
    objective : float or None
        Recomputed from the selected sites, never taken from the solver: covered weight (MCLP),
        number of sites (LSCP), weighted cost (p-median), largest cost (p-center).
    bound : float or None
        The solver's proven bound on the objective (equal to it when optimal).
    gap : float or None
        Relative gap between objective and bound.
    selected : (k,) int array
        Positions (0-based columns of the cost matrix, rows of ``sites``) of the selected sites.
    selected_ids : tuple
        The same sites' ids: positions for a matrix, index labels for a GeoDataFrame.
    assignment : (n,) int array or None
        p-median and p-center: each demand point's nearest selected site (a position), -1 where
        none is reachable. None for MCLP and LSCP, which assign nothing.
    covered : (n,) bool array or None
        MCLP and LSCP: whether a selected site covers the demand point. None for the others.
    termination : str
        The solver's own words for why it stopped ("Optimal", "Time limit reached"), "" if none.
    solver : str
        The backend that solved it.
    timings_s : dict
        Seconds spent building and solving.
    """

    model: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    selected: np.ndarray
    selected_ids: tuple
    assignment: np.ndarray | None
    covered: np.ndarray | None
    termination: str
    solver: str
    timings_s: dict


# ---- the four models ----------------------------------------------------------------------------

def mclp(cost=None, weights=None, *, radius: float, p: int | None = None,
         budget: float | None = None, site_costs=None, demand=None, sites=None,
         weight_col: str | None = None, site_cost_col: str | None = None, preselected=(),
         solver: str | None = None, time_limit_s: float | None = None) -> LocationResult:
    """Maximal covering (Church and ReVelle 1974): the most demand weight within ``radius`` of
    ``p`` sites, or of sites whose costs fit ``budget``.

    Parameters
    ----------
    cost : (n, m) array or scipy sparse matrix, optional
        Demand x site costs (see the module docstring). Give ``cost`` or ``demand`` and ``sites``.
    weights : (n,) array of numbers >= 0
        Demand weights, with ``cost``.
    radius : float
        Covered means ``cost <= radius`` (metres for GeoDataFrames).
    p : int, optional
        Number of sites to open. Give ``p`` or ``budget``.
    budget : float, optional
        Budgeted MCLP: the selected sites' costs sum to at most ``budget``.
    site_costs : (m,) array, optional
        Each site's cost, with ``cost`` and ``budget``.
    demand, sites : GeoDataFrame, optional
        Demand points and candidate sites, in one metric CRS.
    weight_col : str
        The column of ``demand`` that holds the weights.
    site_cost_col : str, optional
        The column of ``sites`` that holds their costs, with ``budget``.
    preselected : sequence, optional
        Sites that must open: positions for a matrix, index labels for GeoDataFrames.
    solver : str, optional
        A registered backend (``"highs"``, ``"ortools-scip"``, ...); by default HiGHS.
    time_limit_s : float, optional
        Stop the solver after this many seconds (the result is then "feasible" with a gap).

    Returns
    -------
    LocationResult
        With ``covered``; ``objective`` is the covered weight.
    """
    if (p is None) == (budget is None):
        raise ScenarioError("p, budget: mclp needs exactly one of p (the number of sites) "
                            "and budget")
    instance = _instance(cost, demand, sites, weights, weight_col, need_weights=True)
    if budget is not None:
        instance = _with_site_costs(instance, site_costs, sites, site_cost_col)
    elif site_costs is not None or site_cost_col is not None:
        raise ScenarioError("site_costs: site costs only matter with budget; give budget "
                            "instead of p")
    return _solve(instance, "mclp", p=p, radius=radius, budget=budget, preselected=preselected,
                  solver=solver, time_limit_s=time_limit_s)


def lscp(cost=None, *, radius: float, demand=None, sites=None, solver: str | None = None,
         time_limit_s: float | None = None) -> LocationResult:
    """Location set covering (Toregas et al. 1971): the fewest sites that put every demand point
    within ``radius`` of one.

    Parameters
    ----------
    cost : (n, m) array or scipy sparse matrix, optional
        Demand x site costs. Give ``cost`` or ``demand`` and ``sites``.
    radius : float
        Covered means ``cost <= radius`` (metres for GeoDataFrames).
    demand, sites : GeoDataFrame, optional
        Demand points and candidate sites, in one metric CRS (no weights needed).
    solver : str, optional
        A registered backend; by default HiGHS.
    time_limit_s : float, optional
        Stop the solver after this many seconds.

    Returns
    -------
    LocationResult
        With ``covered``; ``objective`` is the number of sites.

    Raises
    ------
    InfeasibleError
        When some demand point is within ``radius`` of no site.
    """
    instance = _instance(cost, demand, sites, None, None, need_weights=False)
    return _solve(instance, "lscp", radius=radius, solver=solver, time_limit_s=time_limit_s)


def pmedian(cost=None, weights=None, *, p: int, demand=None, sites=None,
            weight_col: str | None = None, solver: str | None = None,
            time_limit_s: float | None = None) -> LocationResult:
    """p-median (Hakimi 1964): ``p`` sites minimising the weighted cost from each demand point to
    its nearest selected site.

    Parameters
    ----------
    cost : (n, m) array or scipy sparse matrix, optional
        Demand x site costs. Give ``cost`` or ``demand`` and ``sites``.
    weights : (n,) array of numbers >= 0
        Demand weights, with ``cost``.
    p : int
        Number of sites to open.
    demand, sites : GeoDataFrame, optional
        Demand points and candidate sites, in one metric CRS.
    weight_col : str
        The column of ``demand`` that holds the weights.
    solver : str, optional
        A registered backend; by default HiGHS.
    time_limit_s : float, optional
        Stop the solver after this many seconds.

    Returns
    -------
    LocationResult
        With ``assignment``; ``objective`` is the sum of weight x cost to the nearest site.
    """
    instance = _instance(cost, demand, sites, weights, weight_col, need_weights=True)
    return _solve(instance, "pmedian", p=p, solver=solver, time_limit_s=time_limit_s)


def pcenter(cost=None, weights=None, *, p: int, demand=None, sites=None,
            weight_col: str | None = None, method: str = "levels", solver: str | None = None,
            time_limit_s: float | None = None) -> LocationResult:
    """p-center (Hakimi 1965): ``p`` sites minimising the largest cost from a demand point to its
    nearest selected site; with weights, the largest weight x cost (weighted p-center).

    Parameters
    ----------
    cost : (n, m) array or scipy sparse matrix, optional
        Demand x site costs. Give ``cost`` or ``demand`` and ``sites``.
    weights : (n,) array of numbers >= 0, optional
        Weighted p-center: each point's cost is multiplied by its weight (points of weight 0
        are ignored). None: the classic unweighted p-center.
    p : int
        Number of sites to open.
    demand, sites : GeoDataFrame, optional
        Demand points and candidate sites, in one metric CRS.
    weight_col : str, optional
        With GeoDataFrames, the column of ``demand`` that holds the weights (weighted p-center).
    method : str
        ``"levels"`` (default): the exact search over distance levels, each a covering check
        (Daskin 2000, Calik & Tansel 2013); ``"compact"``: one MIP, kept for comparison.
    solver : str, optional
        A registered backend; by default HiGHS.
    time_limit_s : float, optional
        Stop after this many seconds: the best plan, status "feasible", with its proven bound.

    Returns
    -------
    LocationResult
        With ``assignment``; ``objective`` is the largest (weighted) cost to the nearest site.
    """
    if method not in ("levels", "compact"):
        raise ScenarioError(f"method: {method!r} is not a p-center method; choose 'levels' or "
                            "'compact'")
    weighted = weights is not None or weight_col is not None
    instance = _instance(cost, demand, sites, weights, weight_col, need_weights=weighted)
    return _solve(instance, "pcenter", p=p, solver=solver, time_limit_s=time_limit_s,
                  method=method, weighted=weighted)


# ---- solve and decode ---------------------------------------------------------------------------

def _solve(instance, model: str, *, solver: str, time_limit_s: float | None,
           **params) -> LocationResult:
    import numpy as np

    from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions
    from lifecircle.optimizer.classic.solve import solve_classic

    # Checked here too, so that a message names the argument and not the command-line option.
    p = params.get("p")
    if p is not None and (isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer))
                          or not 1 <= p <= instance.n_sites):
        raise ScenarioError(f"p: {p!r} must be a whole number of sites in 1..{instance.n_sites}")
    for name in ("radius", "budget"):
        value = params.get(name)
        if value is not None and not (isinstance(value, (int, float, np.number))
                                      and np.isfinite(value) and value >= 0):
            raise ScenarioError(f"{name}: {value!r} must be a finite number >= 0")
    preselected = tuple(params.pop("preselected", ()))
    res = solve_classic(instance, model, preselected=preselected, solver=solver or DEFAULT_BACKEND,
                        options=SolveOptions(time_limit_s=time_limit_s), **params)
    return _result(instance, model, res, params.get("radius"))


def _result(instance, model: str, res, radius) -> LocationResult:
    import numpy as np

    from lifecircle.models.classic import covered_mask

    position = {sid: j for j, sid in enumerate(instance.site_ids)}
    selected = np.array(sorted(position[s] for s in res.selected), dtype=np.int64)
    assignment = covered = None
    if res.objective is not None and model in ("mclp", "lscp"):
        covered = _frozen(covered_mask(instance.coverage(radius), selected))
    elif res.objective is not None:
        assignment = _frozen(_nearest_open(instance.cost_table(), selected))
    return LocationResult(
        model, res.status, res.objective, res.bound, res.gap, _frozen(selected),
        tuple(instance.site_ids[j] for j in selected), assignment, covered, res.message, res.solver,
        {k: v for k, v in res.timings_s.items() if k != "read"})  # nothing is read here


def _nearest_open(table, selected):
    """Each demand point's cheapest selected site (ties: the lowest position), -1 if none."""
    import numpy as np

    is_open = np.zeros(table.n_sites, dtype=bool)
    is_open[selected] = True
    keep = is_open[table.site]
    d, s, c = table.demand[keep], table.site[keep], table.cost[keep]
    order = np.lexsort((s, c, d))
    d, s = d[order], s[order]
    first = np.ones(d.size, dtype=bool)
    first[1:] = d[1:] != d[:-1]
    out = np.full(table.n_demand, -1, dtype=np.int64)
    out[d[first]] = s[first]
    return out


def _frozen(array):
    array.setflags(write=False)
    return array


# ---- inputs: a cost matrix or two GeoDataFrames -------------------------------------------------

def _instance(cost, demand, sites, weights, weight_col, *, need_weights: bool):
    frames = demand is not None or sites is not None
    if (cost is not None) == frames:
        raise ScenarioError("cost, demand, sites: give a cost matrix, or demand and sites as "
                            "GeoDataFrames, not both and not neither")
    if frames:
        if weights is not None:
            raise ScenarioError("weights: with GeoDataFrames the weights come from weight_col")
        return _frame_instance(demand, sites, weight_col if need_weights else None, need_weights)
    if weight_col is not None:
        raise ScenarioError("weight_col: a column name needs GeoDataFrames; with a cost matrix "
                            "give weights")
    return _matrix_instance(cost, weights, need_weights)


def _matrix_instance(cost, weights, need_weights: bool):
    import numpy as np
    import scipy.sparse as sp

    from lifecircle.models.classic import CostTable
    from lifecircle.optimizer.classic.instance import ClassicInstance

    if hasattr(cost, "geometry"):
        raise ScenarioError("cost: this is a GeoDataFrame; pass demand=... and sites=... instead")
    if sp.issparse(cost):
        if cost.ndim != 2:
            raise ScenarioError(f"cost: expected a 2-D (demand x sites) matrix, got shape "
                                f"{cost.shape}")
        coo = sp.coo_matrix(cost)
        coo.sum_duplicates()
        values = np.asarray(coo.data, dtype=float)
        rows, cols = coo.row, coo.col
        n, m = coo.shape
    else:
        dense = np.asarray(cost, dtype=float)
        if dense.ndim != 2:
            raise ScenarioError(f"cost: expected a 2-D (demand x sites) matrix, got shape "
                                f"{dense.shape}")
        rows, cols = np.nonzero(~np.isnan(dense) & (dense != np.inf))
        values = dense[rows, cols]
        n, m = dense.shape
    if n == 0 or m == 0:
        raise ScenarioError(f"cost: the matrix is {n} x {m}; it needs at least one demand point "
                            "and one site")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ScenarioError(f"cost: entry ({rows[k]}, {cols[k]}) is {values[k]:g}; costs must be "
                            ">= 0 (inf or a missing sparse entry marks an unreachable pair)")
    w = _weights(weights, n, "weights") if need_weights else np.ones(n)
    table = CostTable.from_pairs(n, m, rows, cols, values)
    return ClassicInstance("cost matrix", tuple(range(n)), tuple(range(m)), w, costs=table,
                           source="cost")


def _weights(values, n: int, name: str):
    import numpy as np

    if values is None:
        raise ScenarioError(f"{name}: this model needs demand weights ({n} numbers >= 0)")
    try:
        w = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ScenarioError(f"{name}: demand weights must be numbers") from None
    if w.shape != (n,):
        raise ScenarioError(f"{name}: expected {n} weights (one per demand point), got shape "
                            f"{w.shape}")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ScenarioError(f"{name}: weight {w[bad[0]]:g} of demand point {int(bad[0])} must be a "
                            "finite number >= 0")
    return w


def _with_site_costs(instance, site_costs, sites, site_cost_col):
    if sites is not None:
        if site_costs is not None:
            raise ScenarioError("site_costs: with GeoDataFrames the site costs come from "
                                "site_cost_col")
        if site_cost_col is None:
            raise ScenarioError("site_cost_col: a budgeted mclp needs each site's cost; name the "
                                "column of sites that holds it")
        values = _column(sites, site_cost_col, "sites", "site_cost_col", "site costs")
    else:
        if site_cost_col is not None:
            raise ScenarioError("site_cost_col: a column name needs GeoDataFrames; with a cost "
                                "matrix give site_costs")
        if site_costs is None:
            raise ScenarioError(f"site_costs: a budgeted mclp needs each site's cost "
                                f"({instance.n_sites} numbers >= 0)")
        values = site_costs
    costs = _weights(values, instance.n_sites, "site_costs")
    return instance.with_site_costs(costs)


def _column(frame, column, frame_name: str, option: str, what: str):
    if column is None:
        raise ScenarioError(f"{option}: name the column of {frame_name} that holds the {what}")
    if column not in frame.columns:
        raise ScenarioError(f"{option}: {frame_name} has no column {column!r}; it has "
                            f"{', '.join(map(str, frame.columns))}")
    return frame[column].to_numpy()


def _frame_instance(demand, sites, weight_col, need_weights: bool):
    import numpy as np

    from lifecircle.optimizer.classic.instance import ClassicInstance

    if demand is None or sites is None:
        raise ScenarioError("demand, sites: give both GeoDataFrames (demand points and "
                            "candidate sites)")
    crs = _metric_crs(demand, "demand")
    site_crs = _metric_crs(sites, "sites")
    if crs != site_crs:
        raise ScenarioError(f"sites: CRS {site_crs.to_string()} differs from the demand's "
                            f"{crs.to_string()}; reproject one with to_crs so distances agree")
    demand_xy = _points(demand, "demand")
    site_xy = _points(sites, "sites")
    if not sites.index.is_unique:
        raise ScenarioError("sites: the index labels are the site ids and must be unique; "
                            "reset_index() gives positions")
    if need_weights:
        w = _weights(_column(demand, weight_col, "demand", "weight_col", "weights"), len(demand),
                     "weight_col")
    else:
        w = np.ones(len(demand))
    return ClassicInstance("GeoDataFrames", tuple(demand.index), tuple(sites.index), w,
                           demand_xy=demand_xy, site_xy=site_xy, source="demand")


def _metric_crs(frame, name: str):
    if not hasattr(frame, "geometry"):
        raise ScenarioError(f"{name}: expected a GeoDataFrame, got {type(frame).__name__}")
    crs = frame.crs
    if crs is None:
        raise ScenarioError(f"{name}: the GeoDataFrame has no CRS; set its projected CRS in "
                            "metres (set_crs) so distances are in metres")
    if crs.is_geographic:
        raise ScenarioError(f"{name}: CRS {crs.to_string()} is geographic (degrees), so distances "
                            f"would be in degrees; reproject both frames to a metric CRS first, "
                            f"e.g. {name}.to_crs({name}.estimate_utm_crs())")
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise ScenarioError(f"{name}: CRS {crs.to_string()} is in {unit}, not metres; reproject "
                            "both frames to a metric CRS")
    return crs


def _points(frame, name: str):
    import numpy as np

    if len(frame) == 0:
        raise ScenarioError(f"{name}: the GeoDataFrame is empty; it needs at least one point")
    geometry = frame.geometry
    kinds = np.asarray(geometry.geom_type)
    bad = np.flatnonzero(kinds != "Point")
    if bad.size:
        raise ScenarioError(f"{name}: row {frame.index[bad[0]]!r} is a {kinds[bad[0]]}, not a "
                            "point; pass points (for areas, e.g. their representative_point())")
    xy = np.column_stack([np.asarray(geometry.x, dtype=float), np.asarray(geometry.y, dtype=float)])
    bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if bad.size:
        raise ScenarioError(f"{name}: row {frame.index[bad[0]]!r} has no finite coordinates")
    return xy
