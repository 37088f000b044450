"""Turn a validated :class:`Scenario` into a :class:`CoverageProblem` of arrays."""

from __future__ import annotations

import numpy as np

from .geo import reach_matrices
from .problem import NO_TYPE, CoverageProblem
from .scenario import Scenario


def reach_radii_m(scenario: Scenario) -> dict:
    """{(k, g): straight-line reach in metres} for every type k serving group g."""
    groups = scenario.group_names
    radii = {}
    for k, (key, ft) in enumerate(scenario.facility_types.items()):
        for group in ft.serves:
            radii[(k, groups.index(group))] = scenario.reach_m(key, group)
    return radii


def build_problem(scenario: Scenario, cache_dir=None) -> CoverageProblem:
    """Arrays of a scenario. With ``walking.network``, coverage and covered_before come from
    network reach (optimizer/network_reach.py, cached in ``cache_dir`` when given); without one,
    from the straight-line × detour-factor rule."""
    groups, types = scenario.group_names, scenario.type_names
    demand_xy = np.column_stack([scenario.demand.x_m, scenario.demand.y_m])
    sites_xy = np.column_stack([scenario.sites.x_m, scenario.sites.y_m])
    radii = reach_radii_m(scenario)
    network_meta = {}
    if scenario.network_path is not None:
        from .network_reach import network_coverage

        coverage, network_before, network_meta = network_coverage(scenario, cache_dir)
    else:
        coverage = reach_matrices(demand_xy, sites_xy, radii)

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
    return CoverageProblem(
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
        meta={"radii_m": {f"{types[k]}/{groups[g]}": r for (k, g), r in radii.items()}} | network_meta,
    )
