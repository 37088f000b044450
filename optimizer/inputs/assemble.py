"""Turn a validated :class:`Scenario` into a :class:`CoverageProblem` of arrays."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from lifecircle.optimizer.inputs.geo import reach_matrices
from lifecircle.optimizer.core.problem import NO_TYPE, CoverageProblem
from lifecircle.optimizer.inputs.scenario import Scenario


def reach_radii_m(scenario: Scenario) -> dict:
    """{(k, g): straight-line reach in metres} for every type k serving group g."""
    groups = scenario.group_names
    radii = {}
    for k, (key, ft) in enumerate(scenario.facility_types.items()):
        for group in ft.serves:
            radii[(k, groups.index(group))] = scenario.reach_m(key, group)
    return radii


@dataclass(frozen=True)
class ReachFacts:
    """What the reach computation found, for summary.json and the report; not part of the
    problem, whose arrays are all a model sees.

    ``radii_m``: "type/group" -> straight-line reach in metres. ``network``: the walking
    network's facts (nodes, components, snapping, cache hit or miss), None without a network.
    """

    radii_m: Mapping[str, float]
    network: Mapping | None = None


def build_problem(scenario: Scenario, cache_dir=None) -> CoverageProblem:
    """The scenario's :class:`CoverageProblem` (see :func:`build_problem_and_facts`)."""
    return build_problem_and_facts(scenario, cache_dir)[0]


def build_problem_and_facts(scenario: Scenario, cache_dir=None) -> tuple[CoverageProblem, ReachFacts]:
    """Arrays of a scenario. With ``walking.network``, coverage and covered_before come from
    network reach (optimizer/network_reach.py, cached in ``cache_dir`` when given), and so do the
    walking times of decay weights and existing capacities; without one, from the straight-line ×
    detour-factor rule."""
    groups, types = scenario.group_names, scenario.type_names
    demand_xy = np.column_stack([scenario.demand.x_m, scenario.demand.y_m])
    sites_xy = np.column_stack([scenario.sites.x_m, scenario.sites.y_m])
    radii = reach_radii_m(scenario)
    network_meta = {}
    walks = None  # the network reach, when there is a network
    if scenario.network_path is not None:
        from lifecircle.optimizer.inputs.network_reach import coverage_from_reach, scenario_reach

        ex = scenario.existing
        per_existing = (bool(_decays(scenario)) or _existing_capacity(scenario) is not None) \
            and ex is not None and len(ex) > 0
        walks, info = scenario_reach(scenario, cache_dir, per_existing=per_existing)
        coverage, network_before, network_meta = coverage_from_reach(scenario, walks, info)
    else:
        coverage = reach_matrices(demand_xy, sites_xy, radii)

    _refuse_unreachable(scenario, coverage, demand_xy, sites_xy, radii, network_meta)

    serves = np.zeros((len(types), len(groups)), dtype=bool)
    for k, g in radii:
        serves[k, g] = True
    covered_before = np.zeros((len(scenario.demand), len(groups)), dtype=bool)
    if scenario.network_path is not None:
        covered_before = network_before
    elif scenario.existing is not None and len(scenario.existing):
        ex = scenario.existing
        ex_type = np.array([types.index(t) for t in ex.columns["type"]])
        ex_xy = np.column_stack([ex.x_m, ex.y_m])
        for (k, g), radius in radii.items():
            mine = ex_type == k
            if mine.any():
                reach = reach_matrices(demand_xy, ex_xy[mine], {0: radius})[0]
                covered_before[:, g] |= np.diff(reach.indptr) > 0

    site_index = {s: j for j, s in enumerate(scenario.sites.ids)}
    must_open = np.full(len(scenario.sites), NO_TYPE, dtype=np.int64)
    for sid, tkey in scenario.must_open.items():
        must_open[site_index[sid]] = types.index(tkey)
    forbidden = np.zeros(len(scenario.sites), dtype=bool)
    forbidden[[site_index[s] for s in scenario.forbid]] = True
    people = np.column_stack([scenario.demand.columns[g] for g in groups])
    coverage, covered_before, service = service_fields(scenario, coverage, covered_before, demand_xy, sites_xy,
                                                       walks)
    problem = CoverageProblem(
        group_names=groups,
        type_names=types,
        site_ids=scenario.sites.ids,
        people=people,
        group_weight=np.array([scenario.groups[g] for g in groups], dtype=float),
        serves=serves,
        coverage=coverage,
        covered_before=covered_before,
        cost_cny=scenario.cost_matrix(),
        budget_cny=scenario.budget_cny,
        must_open=must_open,
        forbidden=forbidden,
        min_open=np.array([scenario.min_open.get(k, 0) for k in types], dtype=np.int64),
        **service,
    )
    # with a network, the reach is the walking limit (network_meta's radii_m), not the straight line
    radii_m = network_meta.get("radii_m") or {f"{types[k]}/{groups[g]}": r for (k, g), r in radii.items()}
    facts = ReachFacts(MappingProxyType(dict(radii_m)), network_meta.get("network"))
    return problem, facts


def _refuse_unreachable(scenario: Scenario, coverage: dict, demand_xy, sites_xy, radii: dict, network_meta: dict):
    """Issue 12: when no candidate site reaches any demand point, every plan covers nobody and an
    "optimal" answer would only hide wrong input (a CRS, a unit, a file): refuse it with the numbers."""
    from scipy.spatial import cKDTree

    from lifecircle.optimizer.errors import ScenarioError

    if any(m.nnz for m in coverage.values()) or not len(demand_xy) or not len(sites_xy):
        return
    nearest = float(cKDTree(sites_xy).query(demand_xy, k=1)[0].min())
    sites, demand = scenario.sites.path, scenario.demand.path
    if network_meta:
        n = network_meta["network"]
        far = {k: n[f"snap_{k}"]["beyond_max_snap"] for k in ("demand", "sites")}
        how = f"by the walking network ({far['demand']} of {len(demand_xy)} demand points and " \
              f"{far['sites']} of {len(sites_xy)} sites lie beyond max_snap_m {n['max_snap_m']:g} m)"
    else:
        how = f"(longest straight-line reach {max(radii.values()):,.0f} m)"
    raise ScenarioError(
        f"{sites}: no candidate site is within reach of any demand point in {demand} {how}; the nearest "
        f"site is {nearest:,.0f} m from a demand point in a straight line; check the coordinates and "
        "the CRS of both files"
    )


def _decays(scenario: Scenario) -> dict:
    """{k: decay} of the types whose decay is not a step (a step is the plain reach rule)."""
    return {k: ft.decay for k, ft in enumerate(scenario.facility_types.values())
            if ft.decay is not None and ft.decay.shape != "step"}


def _existing_capacity(scenario: Scenario) -> np.ndarray | None:
    """(E, G) capacities of existing facilities (inf = unlimited), or None when none is finite."""
    ex = scenario.existing
    if ex is None or not len(ex) or not any(c.startswith("capacity_") for c in ex.columns):
        return None
    ex_cap = np.full((len(ex), len(scenario.group_names)), np.inf)
    for g, group in enumerate(scenario.group_names):
        values = ex.columns.get(f"capacity_{group}")
        if values is not None:
            ex_cap[:, g] = np.where(np.isnan(values), np.inf, values)
    return ex_cap if np.isfinite(ex_cap).any() else None


def service_fields(scenario: Scenario, coverage: dict, covered_before: np.ndarray, demand_xy, sites_xy,
                   reach=None):
    """Capacities, decay weights, circles and equity (issue 7) as CoverageProblem fields.

    Returns (coverage, covered_before, extra keyword arguments). Without any of them it returns
    its inputs and no extra fields, so the problem is exactly the plain one. Decay weights are
    computed from the same walking time as reach and rounded to ``DECAY_DECIMALS``; pairs whose
    weight rounds to 0 leave the coverage matrices. The walking time is straight-line distance ×
    ``detour_factor`` / speed(g), or with a walking network (``reach``, a
    :class:`~optimizer.network_reach.NetworkReach` with ``existing_cost`` when existing facilities
    need it) the network cost / speed(g), both in minutes.
    """
    from lifecircle.models.decay import DECAY_DECIMALS, decay_weight

    from lifecircle.optimizer.inputs.geo import distance_m, reach_pairs
    from lifecircle.optimizer.core.problem import EquityRule

    groups, types = scenario.group_names, scenario.type_names
    n_i, n_g, n_k = len(scenario.demand), len(groups), len(types)
    extra = {}
    capacity = np.full((n_k, n_g), np.inf)
    for k, ft in enumerate(scenario.facility_types.values()):
        for g, n in ft.capacity.items():
            capacity[k, groups.index(g)] = n
    if np.isfinite(capacity).any():
        extra["capacity"] = capacity
    decays = _decays(scenario)
    ex = scenario.existing
    ex_cap = _existing_capacity(scenario)

    if reach is None:
        def site_pairs(k, g, mat):
            """(i, j, minutes) of coverage matrix ``mat``'s pairs."""
            mat = mat.tocoo()
            d = distance_m(demand_xy[mat.row, 0], demand_xy[mat.row, 1], sites_xy[mat.col, 0], sites_xy[mat.col, 1])
            return mat.row, mat.col, d * scenario.detour_factor / scenario.speed_of(groups[g]) / 60.0

        def existing_pairs(k, g, mine):
            """(i, position in ``mine``, minutes) of existing facilities ``mine`` within reach."""
            i, e, d = reach_pairs(demand_xy, ex_xy[mine], scenario.reach_m(types[k], groups[g]))
            return i, e, d * scenario.detour_factor / scenario.speed_of(groups[g]) / 60.0
    else:
        from lifecircle.optimizer.inputs.network_reach import walk_budgets_m, within

        budgets = walk_budgets_m(scenario)

        def network_pairs(cost, k, g):
            cost = cost.tocoo()
            keep = within(cost.data, budgets[(k, g)])  # the reach rule: exactly coverage's pairs
            t = cost.data[keep] / scenario.speed_of(groups[g]) / 60.0
            # a walk within the 1e-9 rounding allowance of the budget counts as at the budget
            t = np.minimum(t, scenario.facility_types[types[k]].reach_minutes)
            return cost.row[keep], cost.col[keep], t

        def site_pairs(k, g, mat):
            return network_pairs(reach.site_cost, k, g)

        def existing_pairs(k, g, mine):
            return network_pairs(reach.existing_cost[:, mine], k, g)

    def weights(k, t):
        dec = decays[k] if k in decays else scenario.facility_types[types[k]].decay
        if dec is None:
            return np.ones_like(t)
        w = decay_weight(t, dec.shape, dec.full_minutes, dec.zero_minutes, dec.beta)
        return np.round(w, DECAY_DECIMALS)

    if decays:
        reach_weight = {}
        coverage = dict(coverage)
        for (k, g), mat in coverage.items():
            if k in decays:
                row, col, t = site_pairs(k, g, mat)
                w = weights(k, t)
            else:
                mat = mat.tocoo()
                row, col, w = mat.row, mat.col, np.ones(mat.nnz)
            keep = w > 0
            shape = (n_i, len(scenario.sites))
            coverage[(k, g)] = sp.csr_matrix((np.ones(int(keep.sum()), dtype=bool), (row[keep], col[keep])), shape=shape)
            reach_weight[(k, g)] = sp.csr_matrix((w[keep], (row[keep], col[keep])), shape=shape)
        extra["reach_weight"] = reach_weight
    if (decays or ex_cap is not None) and ex is not None and len(ex):
        # existing facilities one by one: unlimited ones give weight_before, limited ones existing_reach
        ex_type = np.array([types.index(t) for t in ex.columns["type"]])
        ex_xy = np.column_stack([ex.x_m, ex.y_m])
        caps = ex_cap if ex_cap is not None else np.full((len(ex), n_g), np.inf)
        weight_before = np.zeros((n_i, n_g))
        existing_reach = {}
        for g, group in enumerate(groups):
            rows, cols, vals = [], [], []
            for k in np.flatnonzero([group in ft.serves for ft in scenario.facility_types.values()]):
                mine = np.flatnonzero(ex_type == k)
                if mine.size == 0:
                    continue
                i, e, t = existing_pairs(int(k), g, mine)
                w = weights(int(k), t)
                keep = w > 0
                rows.append(i[keep])
                cols.append(mine[e[keep]])
                vals.append(w[keep])
            if rows:
                R = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                  shape=(n_i, len(ex)))
            else:
                R = sp.csr_matrix((n_i, len(ex)))
            unlimited = ~np.isfinite(caps[:, g])
            if unlimited.any():
                weight_before[:, g] = R[:, np.flatnonzero(unlimited)].max(axis=1).toarray().ravel()
            existing_reach[g] = R
        covered_before = weight_before >= 1
        extra["weight_before"] = weight_before
        if ex_cap is not None:
            extra["existing_capacity"] = ex_cap
            extra["existing_reach"] = existing_reach
    circle_col = scenario.demand.columns.get("circle")
    if circle_col is not None and not np.issubdtype(np.asarray(circle_col).dtype, np.number):
        names, first, inverse = np.unique(np.asarray(circle_col, dtype=str), return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # circles in order of first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        extra["circle"] = rank[inverse.ravel()]
        extra["circle_names"] = tuple(str(n) for n in names[order])
    eq = getattr(scenario, "equity", None)
    if eq is not None and (eq.min_coverage or eq.min_coverage_per_circle is not None or eq.maximin):
        floors = np.full(n_g, np.nan)
        for group, share in eq.min_coverage.items():
            floors[groups.index(group)] = share
        keys = None
        if eq.floor_keys:  # per_service: messages name the YAML key, not the internal service
            keys = tuple(eq.floor_keys.get(g, (f"equity.min_coverage.{g}", g)) for g in groups)
        extra["equity"] = EquityRule(floors, eq.min_coverage_per_circle, eq.maximin, keys)
    return coverage, covered_before, extra
