"""The scenarios a workbench serves: found in its folder, checked, loaded once, sent as JSON.

FOLDER holds one scenario (``scenario.yaml``) or a city (subfolders each with one). A scenario's
id (``sid``) is its folder's name. Each is loaded at most once per server, after
:func:`security.check_scenario_files` has confined every file it names to its own folder; the
loaded problem (coverage built at the YAML's budget and rules) serves the scenario JSON, every
what-if and every run's figures. Coordinates go out in the scenario's metric CRS (metres).
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.serve.httperror import ApiError
from lifecircle.optimizer.serve.security import check_scenario_files

SCENARIO_FILES = ("scenario.yaml", "scenario.yml")  # as `lifecircle city` reads
BOUNDARY_FILE = "boundary.geojson"  # a circle's outline, as `lifecircle city` reads it
# The page draws the walking network as SVG lines: beyond this many segments it is thinned (every
# n-th segment), which keeps the JSON under a few MB and the page responsive.
MAX_NETWORK_SEGMENTS = 20_000


@dataclass(frozen=True)
class Loaded:
    """A scenario loaded for the workbench: the scenario, its problem at the YAML's budget and
    rules, what its reach found, and the language of its labels."""

    sid: str
    path: Path
    scenario: object  # Scenario
    problem: object  # CoverageProblem
    facts: object  # ReachFacts
    lang: str


def discover(folder) -> dict[str, Path]:
    """{sid: scenario file} of FOLDER: itself when it holds a scenario, else every folder below it
    that does (as ``lifecircle city`` finds circles: hidden folders skipped, names unique)."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise ScenarioError(f"{folder}: not a folder; give the folder of a scenario or of a city")
    own = next((root / f for f in SCENARIO_FILES if (root / f).is_file()), None)
    if own is not None:
        return {root.name: own}
    found = {}
    for here, dirs, files in os.walk(root):  # links to folders are not followed
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        name = next((f for f in SCENARIO_FILES if f in files), None)
        if name is None or Path(here) == root:
            continue
        sid = Path(here).name
        if sid in found:
            raise ScenarioError(f"{folder}: scenario folder name {sid!r} appears twice: {found[sid].parent} and "
                                f"{here}; folder names must be unique")
        found[sid] = Path(here) / name
    if not found:
        raise ScenarioError(f"{folder}: no {' or '.join(SCENARIO_FILES)} in it or in its subfolders")
    return dict(sorted(found.items()))


def _xy(x, y) -> list:
    return [round(float(x), 2), round(float(y), 2)]


def base_groups(scenario) -> dict:
    """{group: weight} of the YAML (under per_service the problem's groups are services)."""
    return dict(scenario.base_groups or scenario.groups)


def base_columns(scenario, problem) -> dict:
    """{YAML group: [problem group columns]}: under per_service a group's services, else itself."""
    services = getattr(scenario, "services", None) or {}
    out = {g: [] for g in base_groups(scenario)}
    for n, name in enumerate(problem.group_names):
        g = services[name][0] if name in services else name
        out.setdefault(g, []).append(n)
    return out


class Catalog:
    """The scenarios of one FOLDER, loaded on first use (thread-safe)."""

    def __init__(self, folder, lang: str | None = None):
        self.root = Path(folder).resolve()
        self.paths = discover(folder)
        self.lang = lang
        self._loaded: dict[str, Loaded] = {}
        self._json: dict[str, dict] = {}
        self._locks = {sid: threading.Lock() for sid in self.paths}

    def path_of(self, sid) -> Path:
        if not isinstance(sid, str) or sid not in self.paths:
            raise ApiError(404, f"unknown scenario {sid!r}")
        return self.paths[sid]

    def listing(self) -> list[dict]:
        """[{sid, name, language}]: read from the YAML only, nothing else is opened."""
        from lifecircle.optimizer.inputs.guards import load_yaml

        out = []
        for sid, path in self.paths.items():
            name, language = sid, None
            try:
                data = load_yaml(path)
                if isinstance(data, dict):
                    name = str(data.get("name") or sid)
                    language = data.get("language") if data.get("language") in ("zh", "en") else None
            except ScenarioError:
                pass  # opening it says what is wrong
            out.append({"sid": sid, "name": name, "language": language})
        return out

    def load(self, sid) -> Loaded:
        """The scenario ``sid``, confined to its folder and loaded (once). ScenarioError: 400."""
        path = self.path_of(sid)
        with self._locks[sid]:
            if sid not in self._loaded:
                from lifecircle.optimizer.inputs.assemble import build_problem_and_facts
                from lifecircle.optimizer.inputs.scenario import load_scenario
                from lifecircle.optimizer.outputs.i18n import resolve_language

                try:
                    check_scenario_files(path)
                    scenario = load_scenario(path)
                    problem, facts = build_problem_and_facts(scenario, cache_dir=self.cache_dir(scenario))
                except ScenarioError as error:
                    raise ApiError(400, str(error)) from None
                lang = resolve_language(self.lang, scenario.language)
                self._loaded[sid] = Loaded(sid, path, scenario, problem, facts, lang)
            return self._loaded[sid]

    @staticmethod
    def cache_dir(scenario):
        """Where network reach is cached: lifecircle's default cache (None without a network)."""
        if scenario.network_path is None:
            return None
        from lifecircle.optimizer.inputs.network_reach import resolve_cache_dir

        return resolve_cache_dir(None, None)

    def scenario_json(self, sid) -> dict:
        """The contract's ``GET /api/scenario/{sid}`` (built once: the files are read once too)."""
        loaded = self.load(sid)
        with self._locks[sid]:
            if sid not in self._json:
                self._json[sid] = self._scenario_json(sid, loaded)
            return self._json[sid]

    def _scenario_json(self, sid, loaded: Loaded) -> dict:
        from lifecircle.optimizer.outputs.i18n import group_label
        from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, REGISTRY

        sc, lang = loaded.scenario, loaded.lang
        services = getattr(sc, "services", None) or {}
        solvers = [DEFAULT_BACKEND] + [n for n, b in REGISTRY.items() if n != DEFAULT_BACKEND and b.available()]
        groups = [{"name": g, "label": group_label(g, lang), "weight": float(w)} for g, w in base_groups(sc).items()]
        types = []
        for k, ft in sc.facility_types.items():  # straight-line reach: the page's circles
            by_group = {services.get(g, (g,))[0]: round(sc.reach_m(k, g), 2) for g in ft.serves}
            # walk_m: the walking budget along streets (no detour factor), for network service areas
            walk_m = max((sc.reach_m(k, g) * sc.detour_factor for g in ft.serves), default=0.0)
            types.append({"name": k, "label": ft.label, "reach_m": max(by_group.values(), default=0.0),
                          "reach_m_by_group": by_group, "walk_m": round(walk_m, 2)})
        d = sc.demand
        people = {g: np.asarray(d.columns[g], dtype=float) for g in base_groups(sc) if g in d.columns}
        demand = [{"i": i, "x": round(float(d.x_m[i]), 2), "y": round(float(d.y_m[i]), 2),
                   "population": {g: float(p[i]) for g, p in people.items()}} for i in range(len(d))]
        s = sc.sites
        costs = sc.cost_matrix()
        must, forbid = dict(sc.must_open), set(sc.forbid)
        sites = [{"j": j, "id": s.ids[j], "name": str(s.columns["name"][j]), "x": round(float(s.x_m[j]), 2),
                  "y": round(float(s.y_m[j]), 2), "kind": str(s.columns["kind"][j]),
                  "cost_cny": {k: float(costs[j, n]) for n, k in enumerate(sc.type_names) if np.isfinite(costs[j, n])},
                  "must_open": s.ids[j] in must, "must_open_type": must.get(s.ids[j]),
                  "forbidden": s.ids[j] in forbid} for j in range(len(s))]
        ex = sc.existing
        existing = [] if ex is None else [{"x": round(float(ex.x_m[e]), 2), "y": round(float(ex.y_m[e]), 2),
                                           "type": str(ex.columns["type"][e])} for e in range(len(ex))]
        return {"sid": sid, "name": sc.name, "language": sc.language, "lang": lang,
                "budget_cny": float(sc.budget_cny), "crs": sc.metric_crs, "solvers": solvers,
                "groups": groups, "types": types, **self._boundary(loaded), "network": self._network(sc),
                "demand": demand, "sites": sites, "existing": existing,
                "min_open": {k: int(v) for k, v in sc.min_open.items()}}

    @staticmethod
    def _boundary(loaded: Loaded) -> dict:
        """{"boundary": the outline of ``boundary.geojson`` beside the scenario (its largest polygon's
        outer ring, metres) or None}; a file that cannot be read adds ``boundary_error`` instead."""
        path = loaded.path.parent / BOUNDARY_FILE
        if not path.is_file():
            return {"boundary": None}
        from pyproj import Transformer

        from lifecircle.optimizer.inputs.geo import BOUNDARY_CRS, read_boundary_lonlat

        sc = loaded.scenario
        try:
            shape = read_boundary_lonlat(path, sc.crs)
        except ScenarioError as error:
            return {"boundary": None, "boundary_error": str(error)}
        polygons = list(getattr(shape, "geoms", [shape]))
        ring = np.asarray(max(polygons, key=lambda p: p.area).exterior.coords)
        x, y = Transformer.from_crs(BOUNDARY_CRS, sc.metric_crs, always_xy=True).transform(ring[:, 0], ring[:, 1])
        return {"boundary": [_xy(a, b) for a, b in zip(x, y)]}

    @staticmethod
    def _network(sc) -> list | None:
        """The walking network's segments [[x, y], [x, y]] in metres, thinned past
        :data:`MAX_NETWORK_SEGMENTS`; None without a network."""
        if sc.network_path is None:
            return None
        from lifecircle.optimizer.inputs.network import read_network

        try:
            net = read_network(sc.network_path, sc.crs, sc.metric_crs, oneway=sc.respect_oneway)
        except ScenarioError as error:
            raise ApiError(400, str(error)) from None
        step = max(1, math.ceil(net.seg_a.size / MAX_NETWORK_SEGMENTS))
        a, b = net.node_xy[net.seg_a[::step]], net.node_xy[net.seg_b[::step]]
        return [[_xy(*p), _xy(*q)] for p, q in zip(a, b)]

    def site_index(self, sid) -> dict:
        return {s: j for j, s in enumerate(self.load(sid).scenario.sites.ids)}

    def cheapest_type(self, sid, j: int) -> str | None:
        """The type site ``j`` hosts most cheaply (allowed: a finite cost), None when none is."""
        sc = self.load(sid).scenario
        costs = sc.cost_matrix()[j]
        if not np.isfinite(costs).any():
            return None
        return sc.type_names[int(np.nanargmin(np.where(np.isfinite(costs), costs, np.inf)))]
