"""Read and validate a scenario (YAML plus data files) into typed, immutable objects.

Every problem is reported as one :class:`ScenarioError` line naming the file, the field or row,
the value and what is wrong. YAML is loaded by ``inputs.load_plain_yaml``, a hardened
``yaml.safe_load``: tags such as ``!!python/object`` are refused, never executed, and so are aliases,
duplicate keys and deep nesting. Input files are only ever read.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.guards import (  # load_yaml: city.py and tests read it here
    MAX_NUMBER, MAX_WEIGHTED_TOTAL, file_problem, load_yaml)
from lifecircle.optimizer.inputs.tables import (
    CIRCLE_COLUMN, PointTable, capacity_columns, circle_column, numeric_column, point_table,
    require_columns, row_label,
)
from lifecircle.optimizer.recipes import RECIPES_PATH, load_recipes

CIRCLE_TYPES = ("residential", "industrial", "commercial", "other", "rural")
SITE_KINDS = ("under_bridge", "vacant_room", "idle_land", "corner_plot", "other")
LANGUAGES = ("zh", "en")
TOP_KEYS = {
    "name": False, "crs": True, "circle_type": True, "budget": True, "walking": False,
    "groups": True, "facility_types": True, "demand": True, "sites": True, "existing": False,
    "rules": False, "language": False, "description": False,
    "equity": False,
    # issue 17: a layer's own CRS (an EPSG code, GCJ-02 or BD-09), overriding `crs` for that layer
    "demand_crs": False, "sites_crs": False, "existing_crs": False,
    "coverage": False,  # issue 14: any_service (default) | per_service, see inputs/services.py
    "columns": False,  # issue 15: {layer: {our_name: the file's name}}, see inputs/formats.py
}
WALKING_KEYS = ("speed_m_s", "group_speed_m_s", "detour_factor", "network", "max_snap_m", "oneway")
# walking.oneway (issue 12): OSM one-way tags are car rules, so walking ignores them by default.
ONEWAY_CHOICES = ("ignore", "respect")
# demand/sites/existing: a file name, or {file:, layer:, sheet:, encoding:, columns:} (issue 15,
# optimizer/inputs/formats.py), or {db: postgresql://..., table: name | query: SQL} (issue 17,
# optimizer/inputs/postgis.py)
TYPE_KEYS = ("label", "serves", "walk_minutes", "capacity", "decay", "weight")
RULE_KEYS = ("must_open", "forbid", "min_open")
# Capacities, decay and equity (issue 7); semantics in models/service.py.
DECAY_KEYS = ("shape", "full_minutes", "zero_minutes", "beta")
DECAY_SHAPES = ("step", "linear", "exponential")
EQUITY_KEYS = ("min_coverage", "min_coverage_per_circle", "maximin")
MAXIMIN_OVER = ("groups", "circles")
# Defaults from DOMAIN.md: 1.0 m/s overall, and a detour factor in the usual 1.2-1.4 band.
DEFAULT_SPEED_M_S = 1.0
DEFAULT_DETOUR_FACTOR = 1.3
# Walking networks (issue 4): a point farther than this from every street reaches nothing.
DEFAULT_MAX_SNAP_M = 300.0


@dataclass(frozen=True)
class Decay:
    """How a facility's value fades with walking time (see models/service.py)."""

    shape: str  # step | linear | exponential
    full_minutes: float
    zero_minutes: float
    beta: float | None = None  # per minute, exponential only


@dataclass(frozen=True)
class Equity:
    min_coverage: Mapping[str, float] = field(default_factory=dict)  # group -> share in [0, 1]
    min_coverage_per_circle: float | None = None
    maximin: str | None = None  # "groups" | "circles"
    # issue 14: group (a service under per_service) -> (the YAML key its floor was written under,
    # the group as messages name it), e.g. elderly·canteen -> (equity.min_coverage.elderly.canteen,
    # elderly (canteen)); empty: the key is equity.min_coverage.<group>
    floor_keys: Mapping[str, tuple] = field(default_factory=dict)


@dataclass(frozen=True)
class FacilityType:
    key: str
    label: str
    serves: tuple
    walk_minutes: float
    capacity: Mapping[str, float] = field(default_factory=dict)  # group -> people one facility serves
    decay: Decay | None = None
    weight: float = 1.0  # issue 14: the service's objective weight under coverage: per_service

    @property
    def reach_minutes(self) -> float:
        """The walking time up to which the type counts: decay.zero_minutes when decay is given."""
        return self.decay.zero_minutes if self.decay is not None else self.walk_minutes


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    crs: str
    metric_crs: str
    circle_type: str
    budget_cny: float
    language: str | None
    speed_m_s: float
    group_speed_m_s: Mapping[str, float]
    detour_factor: float
    groups: Mapping[str, float]
    facility_types: Mapping[str, FacilityType]
    demand: PointTable  # columns: one (I,) float array per group
    sites: PointTable  # columns: name, kind, cost_<type>
    existing: PointTable | None  # columns: type
    must_open: Mapping[str, str]
    forbid: tuple
    min_open: Mapping[str, int]  # effective: recipe, then the scenario's own rules
    checksum: str
    raw: Mapping = field(default_factory=dict)
    equity: Equity | None = None
    network_path: Path | None = None  # walking.network, resolved; None: straight line × detour
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    files: tuple = ()  # the YAML and every data file it reads (its checksum's files; issue 12)
    respect_oneway: bool = False  # walking.oneway: respect (issue 12); default: streets walk both ways
    input_crs: Mapping[str, str] = field(default_factory=dict)  # issue 17: layer -> CRS its rows were in
    # issue 14 (inputs/services.py): under per_service, groups are services and these map them back
    coverage_mode: str = "any_service"
    services: Mapping[str, tuple] = field(default_factory=dict)  # service -> (group, type); empty: any_service
    base_groups: Mapping[str, float] = field(default_factory=dict)  # the YAML's groups and weights
    input_encoding: Mapping[str, str] = field(default_factory=dict)  # issue 15: layer -> text encoding read

    @property
    def group_names(self) -> tuple:
        return tuple(self.groups)

    @property
    def type_names(self) -> tuple:
        return tuple(self.facility_types)

    def speed_of(self, group: str) -> float:
        return float(self.group_speed_m_s.get(group, self.speed_m_s))

    def reach_m(self, type_key: str, group: str) -> float:
        """Straight-line reach: walk_minutes (or decay.zero_minutes) × 60 × speed(group) / detour_factor."""
        ft = self.facility_types[type_key]
        return ft.reach_minutes * 60.0 * self.speed_of(group) / self.detour_factor

    def cost_matrix(self) -> np.ndarray:
        return np.stack([self.sites.columns[f"cost_{k}"] for k in self.facility_types], axis=1)


# ---------------------------------------------------------------------------------------------
# small validators: each raises one ScenarioError line


def _where(path: Path, key: str) -> str:
    return f"{path}: field '{key}'"


def _number(value, path: Path, key: str, *, minimum=None, strict=False, integer=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{_where(path, key)}: value {value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise ScenarioError(f"{_where(path, key)}: value {value!r} is not finite")
    if abs(value) > MAX_NUMBER:
        raise ScenarioError(f"{_where(path, key)}: value {value:g} is beyond the limit {MAX_NUMBER:g}; "
                            "values this large overflow the model")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        rel = ">" if strict else ">="
        raise ScenarioError(f"{_where(path, key)}: value {value:g} must be {rel} {minimum:g}")
    if integer and value != int(value):
        raise ScenarioError(f"{_where(path, key)}: value {value:g} must be a whole number")
    return value


def _mapping(value, path: Path, key: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError(f"{_where(path, key)}: expected a mapping, got {type(value).__name__}")
    return value


def _check_keys(data: dict, allowed, path: Path, where: str, required=()):
    for key in data:
        if key not in allowed:
            choices = ", ".join(allowed)
            raise ScenarioError(f"{path}: unknown key '{where}{key}'; allowed: {choices}")
    for key in required:
        if key not in data:
            raise ScenarioError(f"{path}: missing key '{where}{key}'")


# ---------------------------------------------------------------------------------------------


def checksum_of(paths, digests=()) -> str:
    """sha256 over the scenario's files and the recipes, which decide min_open as much as they do;
    ``digests``: hashes of what database layers returned (issue 17)."""
    digest = hashlib.sha256()
    digest.update(RECIPES_PATH.read_bytes())
    for p in paths:
        digest.update(p.name.encode("utf-8"))
        digest.update(p.read_bytes())
    for d in digests:
        digest.update(d.encode("utf-8"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# capacities, decay and equity (issue 7)


def _type_capacity(raw, serves, path: Path, key: str) -> dict:
    """{group: people one facility of this type serves}; only groups the type serves."""
    where = f"facility_types.{key}.capacity"
    capacity = {}
    for g, n in _mapping(raw, path, where).items():
        if str(g) not in [str(s) for s in serves]:
            raise ScenarioError(f"{_where(path, f'{where}.{g}')}: {key} does not serve group {g!r}; it serves {', '.join(map(str, serves))}")
        capacity[str(g)] = _number(n, path, f"{where}.{g}", minimum=0)
    return capacity


def _type_decay(raw, walk_minutes: float, path: Path, key: str) -> Decay | None:
    where = f"facility_types.{key}.decay"
    if raw is None:
        return None
    spec = _mapping(raw, path, where)
    _check_keys(spec, DECAY_KEYS, path, f"{where}.")
    shape = spec.get("shape", "step")
    if shape not in DECAY_SHAPES:
        raise ScenarioError(f"{_where(path, f'{where}.shape')}: value {shape!r} is not one of {', '.join(DECAY_SHAPES)}")
    zero = _number(spec.get("zero_minutes", walk_minutes), path, f"{where}.zero_minutes", minimum=0, strict=True)
    if shape == "step":
        for extra in ("full_minutes", "beta"):
            if extra in spec:
                raise ScenarioError(f"{_where(path, f'{where}.{extra}')}: a step decay has no {extra}; use shape linear or exponential")
        return Decay("step", zero, zero)
    full = _number(spec.get("full_minutes", 0.0), path, f"{where}.full_minutes", minimum=0)
    if zero < full:
        raise ScenarioError(
            f"{_where(path, f'{where}.zero_minutes')}: value {zero:g} is below full_minutes {full:g}; the value must fade to zero after it is full"
        )
    beta = None
    if shape == "exponential":
        if "beta" not in spec:
            raise ScenarioError(f"{path}: missing key '{where}.beta' (per minute, > 0) for an exponential decay")
        beta = _number(spec["beta"], path, f"{where}.beta", minimum=0, strict=True)
    elif "beta" in spec:
        raise ScenarioError(f"{_where(path, f'{where}.beta')}: only an exponential decay has beta")
    return Decay(shape, full, zero, beta)


def _share(value, path: Path, key: str) -> float:
    share = _number(value, path, key)
    if not 0.0 <= share <= 1.0:
        raise ScenarioError(f"{_where(path, key)}: value {share:g} is a share and must be in [0, 1]")
    return share


def _equity(raw, groups: dict, demand: PointTable, path: Path, demand_path: Path) -> Equity | None:
    if raw is None:
        return None
    spec = _mapping(raw, path, "equity")
    _check_keys(spec, EQUITY_KEYS, path, "equity.")
    floors = {}
    for g, share in _mapping(spec.get("min_coverage"), path, "equity.min_coverage").items():
        g = str(g)
        if g not in groups:
            raise ScenarioError(f"{_where(path, f'equity.min_coverage.{g}')}: unknown group {g!r}; groups are {', '.join(groups)}")
        if groups[g] <= 0:
            raise ScenarioError(f"{_where(path, f'equity.min_coverage.{g}')}: group {g} has weight 0; give it a positive weight to ask for a coverage floor")
        floors[g] = _share(share, path, f"equity.min_coverage.{g}")
    per_circle = spec.get("min_coverage_per_circle")
    if per_circle is not None:
        per_circle = _share(per_circle, path, "equity.min_coverage_per_circle")
    maximin = spec.get("maximin")
    if maximin is not None and maximin not in MAXIMIN_OVER:
        raise ScenarioError(f"{_where(path, 'equity.maximin')}: value {maximin!r} is not one of {', '.join(MAXIMIN_OVER)}")
    for key, asks in (("min_coverage_per_circle", per_circle is not None), ("maximin", maximin == "circles")):
        if asks and CIRCLE_COLUMN not in demand.columns:
            raise ScenarioError(
                f"{_where(path, f'equity.{key}')}: per-circle equity needs a '{CIRCLE_COLUMN}' column in {demand_path}, which has none"
            )
    if not any(w > 0 for w in groups.values()) and (floors or per_circle is not None or maximin):
        raise ScenarioError(f"{_where(path, 'equity')}: every group has weight 0, so no coverage share can be asked for")
    return Equity(MappingProxyType(floors), per_circle, maximin)


def _resolved(p: Path) -> Path:
    """``p.resolve()``, or ``p`` as given when it is a symlink loop (file_problem then says so)."""
    try:
        return p.resolve()
    except (RuntimeError, OSError):
        return p


def _network_path(value, base: Path, path: Path) -> Path | None:
    """walking.network: a file relative to the YAML's folder (or ``{osm: extract.osm.pbf}``); its contents
    are read at solve time."""
    from lifecircle.optimizer.inputs.network import NETWORK_SUFFIXES
    from lifecircle.optimizer.inputs.network_osm import OSM_SUFFIXES

    if value is None:
        return None
    osm = False
    if isinstance(value, dict):  # issue 17: {osm: extract.osm.pbf}, built at load time
        if set(value) != {"osm"} or not isinstance(value["osm"], str) or not value["osm"].strip():
            raise ScenarioError(f"{_where(path, 'walking.network')}: expected a file name or "
                                f"{{osm: extract.osm.pbf}}, got {value!r}")
        value, osm = value["osm"], True
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{_where(path, 'walking.network')}: expected a file name, got {value!r}")
    p = _resolved(base / value)
    problem = file_problem(p)
    if problem:
        raise ScenarioError(f"{_where(path, 'walking.network')}: file {p} {problem}")
    if osm or p.name.lower().endswith(OSM_SUFFIXES):
        if not (osm and p.name.lower().endswith(OSM_SUFFIXES)):
            raise ScenarioError(f"{_where(path, 'walking.network')}: an OpenStreetMap extract is named as "
                                f"{{osm: NAME.osm.pbf}}; got {value!r}")
        return p
    if p.suffix.lower() not in NETWORK_SUFFIXES:
        raise ScenarioError(
            f"{_where(path, 'walking.network')}: {p.name} is not one of {', '.join(NETWORK_SUFFIXES)}"
        )
    return p


def load_scenario(path, *, budget_cny: float | None = None) -> Scenario:
    """Read, validate and project a scenario. ``budget_cny`` overrides the file's budget."""
    path = Path(path)
    data = load_yaml(path)
    _check_keys(data, list(TOP_KEYS), path, "", [k for k, req in TOP_KEYS.items() if req])
    base = path.parent

    name = str(data.get("name") or path.stem)
    circle_type = data["circle_type"]
    if circle_type not in CIRCLE_TYPES:
        raise ScenarioError(f"{_where(path, 'circle_type')}: value {circle_type!r} is not one of {', '.join(CIRCLE_TYPES)}")
    language = data.get("language")
    if language is not None and language not in LANGUAGES:
        raise ScenarioError(f"{_where(path, 'language')}: value {language!r} is not one of zh, en")
    budget = _number(data["budget"], path, "budget", minimum=0)
    if budget_cny is not None:
        budget = _number(budget_cny, path, "--budget", minimum=0)

    walking = _mapping(data.get("walking"), path, "walking")
    _check_keys(walking, WALKING_KEYS, path, "walking.")
    speed = _number(walking.get("speed_m_s", DEFAULT_SPEED_M_S), path, "walking.speed_m_s", minimum=0, strict=True)
    detour = _number(walking.get("detour_factor", DEFAULT_DETOUR_FACTOR), path, "walking.detour_factor")
    if detour < 1:
        raise ScenarioError(
            f"{_where(path, 'walking.detour_factor')}: value {detour:g} is below 1; a walk is never shorter than the straight line"
        )
    max_snap = _number(walking.get("max_snap_m", DEFAULT_MAX_SNAP_M), path, "walking.max_snap_m", minimum=0)
    oneway = walking.get("oneway", "ignore")
    if oneway not in ONEWAY_CHOICES:
        raise ScenarioError(f"{_where(path, 'walking.oneway')}: value {oneway!r} is not one of {', '.join(ONEWAY_CHOICES)}")

    groups_raw = _mapping(data["groups"], path, "groups")
    if not groups_raw:
        raise ScenarioError(f"{_where(path, 'groups')}: at least one population group is needed")
    groups = {str(g): _number(w, path, f"groups.{g}", minimum=0) for g, w in groups_raw.items()}
    group_speed = {}
    for g, s in _mapping(walking.get("group_speed_m_s"), path, "walking.group_speed_m_s").items():
        if str(g) not in groups:
            raise ScenarioError(f"{_where(path, f'walking.group_speed_m_s.{g}')}: unknown group {g!r}; groups are {', '.join(groups)}")
        group_speed[str(g)] = _number(s, path, f"walking.group_speed_m_s.{g}", minimum=0, strict=True)

    from lifecircle.optimizer.inputs.services import coverage_mode, expand_services, service_floors

    coverage = coverage_mode(data.get("coverage"), _where(path, "coverage"))
    types_raw = _mapping(data["facility_types"], path, "facility_types")
    if not types_raw:
        raise ScenarioError(f"{_where(path, 'facility_types')}: at least one facility type is needed")
    facility_types = {}
    for key, spec in types_raw.items():
        key = str(key)
        spec = _mapping(spec, path, f"facility_types.{key}")
        _check_keys(spec, TYPE_KEYS, path, f"facility_types.{key}.", ("serves", "walk_minutes"))
        serves = spec["serves"]
        if isinstance(serves, str):
            serves = [serves]
        if not isinstance(serves, list) or not serves:
            raise ScenarioError(f"{_where(path, f'facility_types.{key}.serves')}: expected a list of groups")
        for g in serves:
            if str(g) not in groups:
                raise ScenarioError(f"{_where(path, f'facility_types.{key}.serves')}: unknown group {g!r}; groups are {', '.join(groups)}")
        minutes = _number(spec["walk_minutes"], path, f"facility_types.{key}.walk_minutes", minimum=0, strict=True)
        capacity = _type_capacity(spec.get("capacity"), serves, path, key)
        decay = _type_decay(spec.get("decay"), minutes, path, key)
        weight = _number(spec.get("weight", 1.0), path, f"facility_types.{key}.weight", minimum=0)
        if "weight" in spec and coverage != "per_service":
            raise ScenarioError(f"{_where(path, f'facility_types.{key}.weight')}: a type weight counts only with "
                                "coverage: per_service; remove it or set coverage: per_service")
        facility_types[key] = FacilityType(key, str(spec.get("label", key)), tuple(str(g) for g in serves), minutes,
                                           MappingProxyType(capacity), decay, weight)

    from lifecircle.optimizer.inputs.geo import check_extent, check_layers, to_metric
    from lifecircle.optimizer.inputs.layers import LAYER_CRS_KEYS, layer_crs_of, layer_in_crs, read_layer
    from lifecircle.optimizer.inputs.chinacrs import parse_layer_crs
    from lifecircle.optimizer.inputs.postgis import db_layer
    from lifecircle.optimizer.inputs.formats import layer_source, top_level_columns

    scenario_crs = parse_layer_crs(data["crs"], _where(path, "crs"))  # issue 17: GCJ-02, BD-09 too
    crs = scenario_crs.crs  # GCJ-02 / BD-09 layers are converted to WGS84, the scenario's CRS then
    layer_crs = {key: layer_crs_of(data, key, scenario_crs, lambda k: _where(path, k)) for key in LAYER_CRS_KEYS}

    files = [path]
    digests = []  # issue 17: what database layers returned, for the checksum
    input_crs = {}  # issue 17: layer -> the CRS its rows were written in (summary.json)
    input_encoding = {}  # issue 15: layer -> the text encoding its file was read in (summary.json)
    placed = []  # (name, x, y, crs, where the crs came from, x_m, y_m) per layer, issue 12
    top_columns = top_level_columns(data.get("columns"), path)  # issue 15

    def resolve(key):
        value = data.get(key)
        if isinstance(value, dict) and "db" in value:
            if key in top_columns:
                raise ScenarioError(f"{_where(path, f'columns.{key}')}: {key} is a database layer; rename "
                                    "its columns in the query (SELECT name AS our_name)")
            return db_layer(value, key, str(path))
        source = layer_source(value, key, path, top_columns, lambda name: _resolved(base / name))
        files.append(source.path)
        return source

    def load(key):
        """(path, frame, labels, layer placed in its CRS) of demand, sites or existing."""
        source = resolve(key)
        frame, x, y, labels, declared, digest, encoding = read_layer(source, _where(path, key))
        if digest is not None:
            digests.append(digest)
        if encoding is not None:
            input_encoding[key] = encoding
        source = getattr(source, "path", source)  # a file's path; a database layer names itself
        layer = layer_in_crs(x, y, declared, *layer_crs[key], key, source, path)
        input_crs[key] = layer.input_crs
        return source, frame, labels, layer

    def place(table_path, layer, table=None):
        """Check a layer against its CRS's area of use; with ``table``, keep it for the overlap check."""
        src = layer.src if layer.src is not None else crs
        if table is None:
            check_extent(layer.x, layer.y, src, str(table_path))
            return
        placed.append((str(table_path), layer.x, layer.y, src, layer.source, table.x_m, table.y_m))

    network_path = _network_path(walking.get("network"), base, path)
    if network_path is not None:
        from lifecircle.optimizer.inputs.network import network_files

        files.extend(network_files(network_path))

    # demand: its coordinates decide the metric CRS when the scenario CRS is geographic
    demand_path, frame, labels, layer = load("demand")
    if len(frame) == 0:
        raise ScenarioError(f"{demand_path}: the table is empty; it needs at least one row")
    require_columns(frame, ["id", *groups], demand_path)
    place(demand_path, layer)
    x, y, src = layer.x, layer.y, layer.src
    sx, sy = x, y
    if src is not None and src != crs:
        from lifecircle.optimizer.inputs.geo import transform

        sx, sy = transform(x, y, src, crs)
    _, _, metric = to_metric(sx, sy, crs, _where(path, "crs"))
    people = {g: numeric_column(frame, g, demand_path, labels, minimum=0) for g in groups}
    weighted = sum(groups[g] * float(people[g].sum()) for g in groups)
    if weighted > MAX_WEIGHTED_TOTAL:
        raise ScenarioError(
            f"{_where(path, 'groups')}: the weights times the people of {demand_path.name} add up to {weighted:.3g}, "
            f"beyond the limit {MAX_WEIGHTED_TOTAL:g}; scale the group weights down (only their ratios matter)"
        )
    demand_cols = dict(people)
    if CIRCLE_COLUMN in frame.columns and CIRCLE_COLUMN not in groups:
        demand_cols[CIRCLE_COLUMN] = circle_column(frame, demand_path, labels)
    demand = point_table(frame, x, y, demand_path, labels, src, crs, metric, demand_cols)
    place(demand_path, layer, demand)

    sites_path, frame, labels, layer = load("sites")
    if len(frame) == 0:
        raise ScenarioError(f"{sites_path}: the table is empty; it needs at least one row")
    cost_cols = [f"cost_{k}" for k in facility_types]
    require_columns(frame, ["id", "name", "kind", *cost_cols], sites_path)
    kinds = frame["kind"].astype(str).str.strip()
    bad_kind = ~kinds.isin(SITE_KINDS).to_numpy()
    if bad_kind.any():
        i = int(np.flatnonzero(bad_kind)[0])
        raise ScenarioError(
            f"{sites_path} {row_label(labels, i)}, column 'kind': value {kinds.iloc[i]!r} is not one of {', '.join(SITE_KINDS)}"
        )
    site_cols = {"name": np.asarray(frame["name"].astype(str).tolist(), dtype=object),
                 "kind": np.asarray(kinds.tolist(), dtype=object)}
    for col in cost_cols:
        site_cols[col] = numeric_column(frame, col, sites_path, labels, minimum=0, blank_ok=True)
    site_cols.update(layer.columns)  # issue 17: lon_gcj02/lat_gcj02 (or _bd09) for sites.csv
    place(sites_path, layer)
    sites = point_table(frame, layer.x, layer.y, sites_path, labels, layer.src, crs, metric, site_cols)
    place(sites_path, layer, sites)

    existing = None
    if data.get("existing") is not None:
        ex_path, frame, labels, layer = load("existing")
        if len(frame):
            require_columns(frame, ["id", "type"], ex_path)
            types = frame["type"].astype(str).str.strip()
            unknown = ~types.isin(list(facility_types)).to_numpy()
            if unknown.any():
                i = int(np.flatnonzero(unknown)[0])
                raise ScenarioError(
                    f"{ex_path} {row_label(labels, i)}, column 'type': unknown facility type {types.iloc[i]!r}; types are {', '.join(facility_types)}"
                )
            ex_cols = {"type": np.asarray(types.tolist(), dtype=object)}
            ex_cols.update(capacity_columns(frame, groups, ex_path, labels))
            place(ex_path, layer)
            existing = point_table(frame, layer.x, layer.y, ex_path, labels, layer.src, crs, metric, ex_cols)
            place(ex_path, layer, existing)
    # issue 12: layers in different places mean a wrong CRS somewhere; the longest walk is the slack
    longest_walk_m = max(ft.reach_minutes * 60.0 * max([speed, *group_speed.values()])
                         for ft in facility_types.values())
    check_layers(placed, metric, longest_walk_m)

    rules = _mapping(data.get("rules"), path, "rules")
    _check_keys(rules, RULE_KEYS, path, "rules.")
    site_index = {s: j for j, s in enumerate(sites.ids)}
    costs = np.stack([sites.columns[c] for c in cost_cols], axis=1)
    must_open = {}
    for sid, tkey in _mapping(rules.get("must_open"), path, "rules.must_open").items():
        sid, tkey = str(sid), str(tkey)
        if sid not in site_index:
            raise ScenarioError(f"{_where(path, f'rules.must_open.{sid}')}: unknown site {sid!r}")
        if tkey not in facility_types:
            raise ScenarioError(f"{_where(path, f'rules.must_open.{sid}')}: unknown facility type {tkey!r}; types are {', '.join(facility_types)}")
        if not np.isfinite(costs[site_index[sid], list(facility_types).index(tkey)]):
            raise ScenarioError(f"{_where(path, f'rules.must_open.{sid}')}: site {sid} has no cost_{tkey}, so it cannot host {tkey}")
        must_open[sid] = tkey
    forbid = rules.get("forbid") or []
    if not isinstance(forbid, list):
        raise ScenarioError(f"{_where(path, 'rules.forbid')}: expected a list of site ids")
    for sid in forbid:
        if str(sid) not in site_index:
            raise ScenarioError(f"{_where(path, 'rules.forbid')}: unknown site {sid!r}")
        if str(sid) in must_open:
            raise ScenarioError(f"{_where(path, 'rules.forbid')}: site {sid} is also in must_open")
    min_open_rule = {}
    for tkey, count in _mapping(rules.get("min_open"), path, "rules.min_open").items():
        if str(tkey) not in facility_types:
            raise ScenarioError(f"{_where(path, f'rules.min_open.{tkey}')}: unknown facility type {tkey!r}; types are {', '.join(facility_types)}")
        min_open_rule[str(tkey)] = int(_number(count, path, f"rules.min_open.{tkey}", minimum=0, integer=True))
    recipe = load_recipes().get(circle_type, {})
    raw_equity, service_floor = service_floors(data.get("equity"), groups, facility_types, coverage,
                                               lambda key: _where(path, key))
    equity = _equity(raw_equity, groups, demand, path, demand_path)
    min_open = {k: int(recipe.get(k, 0)) for k in facility_types} | min_open_rule

    scenario = Scenario(
        path=path, name=name, crs=crs.to_string(), metric_crs=metric.to_string(),
        circle_type=circle_type, budget_cny=budget, language=language,
        speed_m_s=speed, group_speed_m_s=MappingProxyType(group_speed), detour_factor=detour,
        groups=MappingProxyType(groups), facility_types=MappingProxyType(facility_types),
        demand=demand, sites=sites, existing=existing,
        must_open=MappingProxyType(must_open), forbid=tuple(str(s) for s in forbid),
        min_open=MappingProxyType(min_open), checksum=checksum_of(files, digests),
        raw=MappingProxyType(data), equity=equity,
        network_path=network_path, max_snap_m=max_snap, files=tuple(files),
        respect_oneway=oneway == "respect", input_crs=MappingProxyType(input_crs),
        coverage_mode=coverage, base_groups=MappingProxyType(groups),
        input_encoding=MappingProxyType(input_encoding),
    )
    if coverage != "per_service":
        return scenario
    return expand_services(scenario, service_floor, lambda v, key: _share(v, path, key), lambda key: _where(path, key))
