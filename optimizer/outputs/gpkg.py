"""plan.gpkg: one GeoPackage a planner opens in QGIS in one step (issue 15 part 3).

Layers, each in the scenario's CRS (column names plain ASCII snake_case; a group or type whose
key is not becomes ``g1``, ``t1``..., in the scenario's order):

- ``selected_sites`` (points): ``site_id, name, kind, facility_type, facility_label, cost_cny,
  must_open`` (1 when a rule put it there), ``unique_<g>`` (people of group g who lose coverage
  if it alone is dropped) and ``newly_<g>`` (people it reaches not covered before the plan);
- ``candidates`` (points, every site): ``status`` (``selected`` | ``must_open`` | ``forbidden`` |
  ``not_chosen``), ``reason_code`` and ``reason`` (see :func:`candidate_status`),
  ``facility_type`` (the type it opens as, or empty), ``cost_<type>`` (null where it cannot host);
- ``demand`` (points): ``demand_id``, ``circle`` (when given), ``population_<g>``,
  ``covered_before_<g>`` and ``covered_after_<g>`` (the covered share of the point's group-g
  people, 0-1: 1 covered, 0 not, between under decay or capacities) and ``coverage``
  (``covered_before`` | ``newly_covered`` | ``partly_covered`` | ``not_covered`` | ``no_people``);
- ``existing`` (points): ``existing_id, facility_type, facility_label`` (empty layer without
  existing facilities);
- ``service_areas`` (polygons): ``source`` (``new``: a selected facility; ``existing``),
  ``site_id`` (the existing facility's id for those), ``facility_type, method`` (``network`` |
  ``radius``), ``reach_m, groups, buffer_m``, one per facility and distinct reach (see
  :mod:`service_areas`);
- ``circle`` (polygon): the circle's ``boundary.geojson``, when the scenario folder has one;
- ``field_keys`` (a table): ``column_key, kind, name``: which group or type each column suffix
  stands for (``g1`` -> 老年人);
- ``layer_styles``: QGIS's own style table, one default style per layer (:mod:`qgis_styles`).

The file is written in a temporary folder and renamed into place (``optimizer/files.py``): it
appears whole or not at all.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import numpy as np

from lifecircle.optimizer.core.problem import NO_TYPE
from lifecircle.optimizer.core.tolerances import BUDGET_TOL

__all__ = ["PLAN_FILE", "PLAN_LAYERS", "REASONS", "TABLES", "candidate_status", "column_keys", "plan_layers",
           "write_layers", "write_plan", "write_plan_gpkg"]

PLAN_FILE = "plan.gpkg"
PLAN_LAYERS = ("selected_sites", "candidates", "demand", "existing", "service_areas", "circle")  # circle: with a boundary
TABLES = ("field_keys", "layer_styles")
POLYGON_LAYERS = ("service_areas", "circle", "circles")
# A dominance check multiplies the candidates' coverage with itself (work: the sum over pairs of
# the square of the facilities reaching each); past this it is skipped (the reason then stays
# "over budget") so the GeoPackage never costs more than the solve.
MAX_DOMINANCE_WORK = 100_000_000  # ~2.5 s; a 20,000-point district needs 43 M


# reason text per reason_code, in both languages ({type} is the type's key in English, its label in Chinese)
REASONS = {
    "selected": {"en": "in the plan", "zh": "已纳入方案"},
    "must_open": {"en": "rules.must_open: {type}", "zh": "规则 must_open 指定：{type}"},
    "must_open_no_plan": {"en": "rules.must_open: {type} (no plan)", "zh": "规则 must_open 指定：{type}（本次无方案）"},
    "forbidden": {"en": "rules.forbid", "zh": "规则 forbid 禁止"},
    "no_plan": {"en": "the run found no plan", "zh": "本次求解未得到方案"},
    "no_type": {"en": "no facility type has a cost on this site", "zh": "该点位没有任何设施类型的造价"},
    "covers_no_one_new": {"en": "covers no one new: everyone it reaches is covered after the plan",
                          "zh": "不新增覆盖：其可达的居民在方案后均已覆盖"},
    "dominated": {"en": "dominated by {site}{tag} as {type}: it reaches everyone this site reaches, at no higher cost",
                  "zh": "被 {site}{tag}（{type}）占优：它覆盖本点位可达的全部居民，造价不更高"},
    "tag_selected": {"en": " (selected)", "zh": "（已选）"},
    "over_budget": {"en": "over budget: its cheapest useful type costs {cost} and {left} is left unspent",
                    "zh": "超出预算：最便宜的有效类型造价 {cost} 元，剩余预算 {left} 元"},
    "not_taken": {"en": "fits the {left} left unspent but the plan did not take it ({status})",
                  "zh": "剩余预算 {left} 元足够，但方案未选（{status}）"},
}


def column_keys(names, prefix: str) -> list:
    """ASCII snake_case column suffixes for group or type names: the name itself (other marks such
    as the ``·`` of a per-service name made ``_``) unless it has a non-ASCII letter or digit (老年人),
    then ``<prefix><n>`` (1-based, the scenario's order); unique."""
    import unicodedata

    out = []
    for n, name in enumerate(names):
        name = str(name)
        key = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
        foreign = any(not c.isascii() and unicodedata.category(c)[0] in "LN" for c in name)
        if not key or foreign or key in out:
            key = f"{prefix}{n + 1}"
        out.append(key)
    return out


def _levels(problem, solution, evaluation):
    """(level_before, level_after) (I, G) covered shares; after is None without a plan."""
    before = np.asarray(problem.level_before(), dtype=float)
    if evaluation is None:
        return before, None
    after = evaluation.level if evaluation.level is not None else evaluation.covered.astype(float)
    return before, np.asarray(after, dtype=float)


def candidate_status(scenario, problem, solution, evaluation, lang: str = "en") -> tuple[list, list, list, list]:
    """(status, reason_code, reason, facility_type) per site, as far as cheaply known; ``reason``
    in ``lang`` (zh | en, :data:`REASONS`).

    ``selected`` / ``must_open`` sites are in the plan (must_open: put there by ``rules.must_open``);
    ``forbidden`` ones by ``rules.forbid``. A ``not_chosen`` site's reason, most specific first:
    ``no_type`` (no type has a cost there), ``covers_no_one_new`` (everyone it reaches is covered
    after the plan), ``dominated`` (another site reaches everyone it reaches, at no higher cost),
    ``over_budget`` (its cheapest useful type costs more than the budget left unspent: taking it
    means dropping a chosen site, which covers more), ``not_taken`` (it fits the unspent budget
    and adds coverage: the plan is not proven optimal, or capacities or rules held it back),
    ``no_plan`` (the run found no plan). Nothing here re-solves: ``lifecircle explain --why-not``
    measures the loss of forcing a site in.
    """
    from lifecircle.models.coverage import facility_columns, pair_coverage

    ids, types = scenario.sites.ids, scenario.type_names
    zh = lang == "zh"
    name = (lambda k: scenario.facility_types[types[k]].label if zh else types[k])  # noqa: E731
    n_j = problem.n_sites
    status, code, opened = ["not_chosen"] * n_j, [""] * n_j, [""] * n_j
    facts: list[dict] = [{} for _ in range(n_j)]  # the reason's placeholders
    has_plan = solution is not None and solution.has_plan
    chosen = {}
    if has_plan:
        chosen = {int(j): int(k) for j, k in zip(solution.site, solution.type)}
    for j in range(n_j):
        must = int(problem.must_open[j])
        if j in chosen:
            opened[j] = types[chosen[j]]
            status[j], code[j] = ("must_open", "must_open") if must != NO_TYPE else ("selected", "selected")
        elif problem.forbidden[j]:
            status[j], code[j] = "forbidden", "forbidden"
        elif must != NO_TYPE:
            status[j], code[j] = "must_open", "no_plan"
        facts[j] = {"type": name(must)} if must != NO_TYPE else {}
    todo = [j for j in range(n_j) if status[j] == "not_chosen"]
    if not has_plan:
        for j in todo:
            code[j] = "no_plan"
        return status, code, _reasons(code, facts, status, lang), opened
    allowed = problem.allowed()
    cand_site, cand_type = facility_columns(problem.cost_cny, problem.forbidden)
    R, weight, point, group = pair_coverage(problem, cand_site, cand_type)
    _, after = _levels(problem, solution, evaluation)
    open_weight = weight * np.clip(1.0 - after[point, group], 0.0, 1.0)
    gain = np.asarray(R.T @ open_weight).ravel()  # weighted people each column would add
    cost = problem.cost_cny[cand_site, cand_type]
    left = problem.budget_cny - float(solution.spent_cny)
    work = float((np.diff(R.indptr).astype(float) ** 2).sum())
    dominated = _dominators(R, cand_site, cost, chosen) if work <= MAX_DOMINANCE_WORK else {}
    for j in todo:
        cols = np.flatnonzero(cand_site == j)
        useful = cols[gain[cols] > 1e-9]
        best = int(useful[np.lexsort((cost[useful], -gain[useful]))[0]]) if useful.size else -1
        if not allowed[j].any() or cols.size == 0:
            code[j] = "no_type"
        elif useful.size == 0:
            code[j] = "covers_no_one_new"
        elif best in dominated:
            c = dominated[best]
            code[j] = "dominated"
            facts[j] = {"site": ids[int(cand_site[c])], "type": name(int(cand_type[c])),
                        "tag": REASONS["tag_selected"][lang] if int(cand_site[c]) in chosen else ""}
        elif float(cost[useful].min()) > left + BUDGET_TOL * max(1.0, abs(problem.budget_cny)):
            code[j] = "over_budget"
            facts[j] = {"cost": f"{float(cost[useful].min()):,.0f}", "left": f"{max(left, 0.0):,.0f}"}
        else:
            code[j] = "not_taken"
            facts[j] = {"left": f"{left:,.0f}", "status": str(solution.status)}
    return status, code, _reasons(code, facts, status, lang), opened


def _reasons(code, facts, status, lang: str) -> list:
    out = []
    for c, f, s in zip(code, facts, status):
        key = "must_open_no_plan" if c == "no_plan" and s == "must_open" else c
        out.append(REASONS[key][lang].format(**f))
    return out


def _dominators(R, cand_site, cost, chosen) -> dict:
    """{column: a column of another site reaching every open pair it reaches at no higher cost},
    preferring a selected dominator, then the cheapest."""
    import scipy.sparse as sp

    R = sp.csc_matrix(R, dtype=float)
    size = np.asarray(R.sum(axis=0)).ravel()
    overlap = (R.T @ R).tocoo()  # overlap[a, b]: pairs both reach
    a, b = overlap.row, overlap.col
    ok = (overlap.data >= size[b] - 0.5) & (size[b] > 0) & (cand_site[a] != cand_site[b]) \
        & (cost[a] <= cost[b] * (1 + BUDGET_TOL))
    a, b = a[ok], b[ok]
    selected = np.isin(cand_site[a], list(chosen))
    order = np.lexsort((cost[a], ~selected, b))
    out = {}
    for col, dom in zip(b[order], a[order]):
        out.setdefault(int(col), int(dom))
    return out


def _coverage_status(people, before, after) -> np.ndarray:
    has = people > 0
    tol = 1e-9
    all_before = np.all((before >= 1 - tol) | ~has, axis=1)
    if after is None:
        after = before
    all_after = np.all((after >= 1 - tol) | ~has, axis=1)
    some_after = np.any((after > tol) & has, axis=1)
    return np.select([~has.any(axis=1), all_before, all_after, some_after],
                     ["no_people", "covered_before", "newly_covered", "partly_covered"], "not_covered")


def plan_layers(scenario, problem, solution, *, evaluation=None, areas=None, network=None,
                lang: str | None = None) -> dict:
    """{layer name: GeoDataFrame} of plan.gpkg (see the module docstring), in the scenario's CRS.

    ``evaluation`` defaults to the solution's own (or a fresh :func:`evaluate`); ``areas``: the
    service areas when already computed (:func:`plan_service_areas` of the selected facilities,
    then :func:`existing_service_areas`). ``lang``: of the candidates' ``reason`` text (default:
    the scenario's ``language``, else English).
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from lifecircle.optimizer.outputs.service_areas import (
        ISOCHRONE_BUFFER_M, existing_service_areas, plan_service_areas, read_circle_boundary,
    )

    from pyproj import CRS

    crs = CRS.from_user_input(scenario.crs)  # parsed once: geopandas would parse a string per frame
    groups, types = scenario.group_names, scenario.type_names
    gkey, tkey = column_keys(groups, "g"), column_keys(types, "t")
    has_plan = solution is not None and solution.has_plan
    if has_plan and evaluation is None:
        evaluation = solution.evaluation
        if evaluation is None:
            from lifecircle.optimizer.core.solution import evaluate

            evaluation = evaluate(problem, solution.site, solution.type)
    sites, cols = scenario.sites, scenario.sites.columns
    points = (lambda table, idx=None: shapely.points(np.column_stack([table.x, table.y]) if idx is None
                                                     else np.column_stack([table.x[idx], table.y[idx]])))
    layers = {}

    order = np.argsort(solution.site, kind="stable") if has_plan else np.zeros(0, np.int64)
    sel_j = solution.site[order].astype(np.int64) if has_plan else np.zeros(0, np.int64)
    sel_k = solution.type[order].astype(np.int64) if has_plan else np.zeros(0, np.int64)
    selected = {
        "site_id": [sites.ids[j] for j in sel_j], "name": [str(cols["name"][j]) for j in sel_j],
        "kind": [str(cols["kind"][j]) for j in sel_j], "facility_type": [types[k] for k in sel_k],
        "facility_label": [scenario.facility_types[types[k]].label for k in sel_k],
        "cost_cny": [float(problem.cost_cny[j, k]) for j, k in zip(sel_j, sel_k)],
        "must_open": [int(problem.must_open[j] != NO_TYPE) for j in sel_j],
    }
    for g, key in enumerate(gkey):
        selected[f"unique_{key}"] = [float(v) for v in evaluation.unique[order, g]] if has_plan else []
        selected[f"newly_{key}"] = [float(v) for v in evaluation.newly_covered[order, g]] if has_plan else []
    layers["selected_sites"] = gpd.GeoDataFrame(selected, geometry=points(sites, sel_j), crs=crs)

    from lifecircle.optimizer.outputs.i18n import resolve_language

    status, code, reason, opened = candidate_status(scenario, problem, solution, evaluation,
                                                    resolve_language(lang, scenario.language))
    candidates = {"site_id": list(sites.ids), "name": [str(v) for v in cols["name"]],
                  "kind": [str(v) for v in cols["kind"]], "status": status, "reason_code": code, "reason": reason,
                  "facility_type": opened}
    for k, key in enumerate(tkey):
        candidates[f"cost_{key}"] = np.where(np.isfinite(problem.cost_cny[:, k]), problem.cost_cny[:, k], np.nan)
    layers["candidates"] = gpd.GeoDataFrame(candidates, geometry=points(sites), crs=crs)

    before, after = _levels(problem, solution, evaluation if has_plan else None)
    demand = {"demand_id": list(scenario.demand.ids)}
    if "circle" in scenario.demand.columns:
        demand["circle"] = [str(v) for v in scenario.demand.columns["circle"]]
    for g, key in enumerate(gkey):
        demand[f"population_{key}"] = problem.people[:, g]
        demand[f"covered_before_{key}"] = before[:, g]
        demand[f"covered_after_{key}"] = after[:, g] if after is not None else np.full(len(before), np.nan)
    demand["coverage"] = _coverage_status(problem.people, before, after)
    layers["demand"] = gpd.GeoDataFrame(demand, geometry=points(scenario.demand), crs=crs)

    ex = scenario.existing
    ex_types = [str(t) for t in ex.columns["type"]] if ex is not None else []
    layers["existing"] = gpd.GeoDataFrame(
        {"existing_id": list(ex.ids) if ex is not None else [], "facility_type": ex_types,
         "facility_label": [scenario.facility_types[t].label if t in scenario.facility_types else t for t in ex_types]},
        geometry=points(ex) if ex is not None else shapely.points(np.zeros((0, 2))), crs=crs)

    if areas is None:
        if scenario.network_path is not None and network is None:  # read once for both
            from lifecircle.optimizer.inputs.network import read_network

            network = read_network(scenario.network_path, scenario.crs, scenario.metric_crs,
                                   oneway=scenario.respect_oneway)
        areas = plan_service_areas(scenario, problem, sel_j, sel_k, network=network) if has_plan else []
        areas = areas + existing_service_areas(scenario, problem, network=network)
    layers["service_areas"] = gpd.GeoDataFrame(
        {"source": [a.source for a in areas], "site_id": [a.site_id for a in areas],
         "facility_type": [a.type for a in areas],
         "method": [a.method for a in areas], "reach_m": [a.reach_m for a in areas],
         "groups": [", ".join(a.groups) for a in areas],
         "buffer_m": [ISOCHRONE_BUFFER_M if a.method == "network" else 0.0 for a in areas]},
        geometry=[a.polygon for a in areas], crs=crs)

    boundary = read_circle_boundary(scenario)
    if boundary is not None:
        layers["circle"] = gpd.GeoDataFrame({"name": [scenario.name]}, geometry=[boundary], crs=crs)
    layers["field_keys"] = pd.DataFrame({"column_key": gkey + tkey, "kind": ["group"] * len(gkey) + ["type"] * len(tkey),
                                         "name": [str(g) for g in groups] + [str(t) for t in types]})
    return layers


def write_layers(path, layers: dict, lang: str = "en") -> None:
    """Write {name: GeoDataFrame} into the new GeoPackage ``path`` (a temporary file: callers
    rename it into place), then QGIS's ``layer_styles`` table for them (legends in ``lang``)."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    from lifecircle.optimizer.outputs.qgis_styles import layer_style_rows

    # SQLite syncs the disk after every layer (0.2 s each); the file is private until renamed,
    # so sync once at the end instead (8 layers: 1.3 s -> 0.3 s)
    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        spatial = []
        for name, frame in layers.items():
            if not isinstance(frame, gpd.GeoDataFrame):  # a plain table (field_keys)
                pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
                continue
            polygons = name in POLYGON_LAYERS
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                                    geometry_type="MultiPolygon" if polygons else "Point", promote_to_multi=polygons)
            spatial.append(name)
        styles = pd.DataFrame(layer_style_rows(((name, "geom") for name in spatial), lang))
        pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"})
    except (DataLayerError, DataSourceError) as error:  # GDAL's word for a full disk, a locked file ...
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        # SQLite's own words end GDAL's message ("... CREATE TABLE ... failed: disk I/O error")
        raise OSError(errno.EIO, f"GDAL: {first.rsplit(' failed: ', 1)[-1][:200]}") from None
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    from lifecircle.optimizer.files import current_umask

    os.chmod(path, 0o666 & ~current_umask())  # SQLite creates 0644 whatever the umask says


def write_plan(path, scenario, problem, solution, *, evaluation=None, areas=None, network=None,
               lang: str | None = None) -> None:
    """plan.gpkg's layers (:func:`plan_layers`) written into the new file ``path``, not atomically:
    for a folder that is itself written atomically (``solve``'s result folder). ``lang``: of the
    reasons and the QGIS legends (default: the scenario's ``language``, else English)."""
    from lifecircle.optimizer.outputs.i18n import resolve_language

    lang = resolve_language(lang, scenario.language)
    write_layers(path, plan_layers(scenario, problem, solution, evaluation=evaluation, areas=areas,
                                   network=network, lang=lang), lang=lang)


def write_plan_gpkg(path, scenario, problem, solution, *, evaluation=None, areas=None, network=None, lang=None,
                    option: str = "--out", owned=None) -> Path:
    """Write plan.gpkg (see the module docstring) at ``path``, whole or not at all; return it.

    An existing ``path`` is replaced only when ``owned(path)`` says lifecircle wrote it (by
    default: listed in its folder's result marker); else ScenarioError naming ``option``.
    """
    from lifecircle.optimizer.files import atomic_file, listed_in_marker

    with atomic_file(path, option=option, owned=owned or listed_in_marker) as tmp:
        write_plan(tmp, scenario, problem, solution, evaluation=evaluation, areas=areas, network=network, lang=lang)
    return Path(path)
