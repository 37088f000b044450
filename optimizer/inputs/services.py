"""Per-service coverage (issue 14, 缺啥补啥): ``coverage: per_service`` as an ordinary scenario.

With ``per_service`` each facility type is its own service: a person of group g counts once for
every type k that serves g and is within k's reach, and the objective is
Σ_k Σ_g w_g · w_k · people of g covered by k. That is today's any-service model over *services*
s = (g, k) instead of groups: service s has the people of g, the weight w_g · w_k, and only type k
serves it. So the scenario is rewritten once, here, at the edge: every later step (reach, the
network, existing facilities, decay, capacities, equity, every backend, the reductions,
``evaluate`` and every output) sees services as its groups and needs no change, and the
per-service figures come out of the same code that writes per-group figures today.

What the rewrite does, for each service s = (g, k):

- ``groups[s] = w_g · w_k`` (``facility_types.<k>.weight``, default 1), ``demand.columns[s]`` the
  people of g (the same array), ``walking.group_speed_m_s[s]`` the speed of g;
- ``facility_types[k].serves`` lists k's services; its ``capacity`` per service is its capacity for
  g, and so is an existing facility's ``capacity_<s>`` column; existing facilities of type k reach
  service s only (their type serves nothing else), so ``covered_before`` of s counts type k alone;
- ``equity.min_coverage`` per service (see :func:`service_floors`).

``Scenario.services`` keeps the mapping service → (group, type) so outputs can say
"elderly · canteen" (老人 · 社区食堂).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import numpy as np

from lifecircle.optimizer.errors import ScenarioError

COVERAGE_MODES = ("any_service", "per_service")
DEFAULT_COVERAGE_MODE = "any_service"
# joins a group and a type into a service name: a column name in sites.csv (unique_elderly·canteen)
SEPARATOR = "·"


def service_name(group: str, type_key: str) -> str:
    return f"{group}{SEPARATOR}{type_key}"


def coverage_mode(value, where: str) -> str:
    """The scenario's ``coverage:`` value, checked: ``where`` names the file and field."""
    if value is None:
        return DEFAULT_COVERAGE_MODE
    if not isinstance(value, str) or value not in COVERAGE_MODES:
        raise ScenarioError(f"{where}: value {value!r} is not one of {', '.join(COVERAGE_MODES)}")
    return value


def service_floors(raw_equity, groups: dict, facility_types: dict, mode: str, where) -> tuple:
    """Split ``equity.min_coverage`` into plain group floors and per-service floors.

    Under ``per_service`` a floor is written per group (``elderly: 0.5``: every service of the
    group) or per group and type (``elderly: {canteen: 0.3, elder_child: 0.6}``: those services).
    Returns (the equity mapping with the nested entries removed, {(group, type): share}).
    ``where(key)`` names the file and field for messages.
    """
    if not isinstance(raw_equity, dict) or not isinstance(raw_equity.get("min_coverage"), dict):
        return raw_equity, {}
    plain, nested = {}, {}
    for g, value in raw_equity["min_coverage"].items():
        if not isinstance(value, dict):
            plain[g] = value
            continue
        key = f"equity.min_coverage.{g}"
        if mode != "per_service":
            raise ScenarioError(f"{where(key)}: a floor per facility type needs coverage: per_service; "
                                f"give one share for the group")
        if str(g) not in groups:
            raise ScenarioError(f"{where(key)}: unknown group {g!r}; groups are {', '.join(groups)}")
        for k, share in value.items():
            ft = facility_types.get(str(k))
            if ft is None or str(g) not in ft.serves:
                serving = [t for t, f in facility_types.items() if str(g) in f.serves]
                raise ScenarioError(f"{where(f'{key}.{k}')}: {k!r} is not a facility type serving {g}; "
                                    f"types serving {g} are {', '.join(serving)}")
            nested[(str(g), str(k))] = share
    out = dict(raw_equity)
    out["min_coverage"] = plain
    return out, nested


def expand_services(scenario, nested_floors: dict, check_share, where):
    """The per-service scenario of ``scenario`` (see the module docstring).

    ``nested_floors`` are :func:`service_floors`' per-(group, type) shares, ``check_share(value,
    key)`` validates one, ``where(key)`` names the file and field for messages.
    """
    from lifecircle.optimizer.inputs.guards import MAX_WEIGHTED_TOTAL

    services, weights, speeds, columns = {}, {}, {}, dict(scenario.demand.columns)
    for g, w_g in scenario.groups.items():
        for k, ft in scenario.facility_types.items():
            if g not in ft.serves:
                continue
            s = service_name(g, k)
            if s in scenario.groups or s in columns:
                raise ScenarioError(f"{where('groups')}: group {s!r} clashes with the service name of "
                                    f"group {g} and type {k}; rename the group")
            services[s] = (g, k)
            weights[s] = float(w_g) * float(ft.weight)
            columns[s] = scenario.demand.columns[g]
            if g in scenario.group_speed_m_s:
                speeds[s] = scenario.group_speed_m_s[g]
    weighted = sum(weights[s] * float(np.sum(columns[s])) for s in services)
    if weighted > MAX_WEIGHTED_TOTAL:
        raise ScenarioError(
            f"{where('facility_types')}: the group weights times the type weights times the people add up to "
            f"{weighted:.3g}, beyond the limit {MAX_WEIGHTED_TOTAL:g}; scale the weights down (only their ratios matter)")
    types = {}
    for k, ft in scenario.facility_types.items():
        mine = tuple(service_name(g, k) for g in scenario.groups if g in ft.serves)
        capacity = {service_name(g, k): n for g, n in ft.capacity.items()}
        types[k] = replace(ft, serves=mine, capacity=MappingProxyType(capacity))
    existing = scenario.existing
    if existing is not None and len(existing):
        ex_cols = dict(existing.columns)
        for s, (g, _) in services.items():
            if f"capacity_{g}" in ex_cols:
                ex_cols[f"capacity_{s}"] = ex_cols[f"capacity_{g}"]
        existing = replace(existing, columns=MappingProxyType(ex_cols))
    equity = scenario.equity  # per-service floors come only with an equity section
    if equity is not None:
        floors, keys = {}, {}
        old = dict(equity.min_coverage)
        for s, (g, k) in services.items():
            if (g, k) in nested_floors:
                floors[s] = check_share(nested_floors[(g, k)], f"equity.min_coverage.{g}.{k}")
                keys[s] = (f"equity.min_coverage.{g}.{k}", f"{g} ({k})")
            elif g in old:
                floors[s] = old[g]
                keys[s] = (f"equity.min_coverage.{g}", f"{g} ({k})")
            else:
                continue
            if weights[s] <= 0:
                raise ScenarioError(f"{where(f'equity.min_coverage.{g}')}: service {g} · {k} has weight 0 "
                                    f"(group weight × type weight); give it a positive weight to ask for a floor")
        equity = replace(equity, min_coverage=MappingProxyType(floors), floor_keys=MappingProxyType(keys))
    return replace(
        scenario, groups=MappingProxyType(weights), group_speed_m_s=MappingProxyType(speeds),
        facility_types=MappingProxyType(types), demand=replace(scenario.demand, columns=MappingProxyType(columns)),
        existing=existing, equity=equity, services=MappingProxyType(services), base_groups=scenario.groups,
    )

