"""Runs the workbench made, and what-ifs on them, evaluated exactly (issue 15).

A run is a plan (sites and types) with its solve's figures and the folder ``write_solved`` wrote
(``<out_dir>/<rid>``). Every figure the page shows beside the solver's own (coverage per group,
who is covered, each site's unique contribution, a what-if's gains and losses) is recomputed by
:func:`optimizer.core.solution.evaluate` on the scenario's problem, never by the page: a site's
``unique_contribution`` is the weighted objective minus evaluate()'s objective for the same plan
without that site, so taking it out in the page drops the objective by exactly that much.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.serve.catalog import Catalog, base_columns
from lifecircle.optimizer.serve.httperror import ApiError


@dataclass(frozen=True)
class Run:
    """One stored plan. ``must_open``/``forbidden`` are the rules it was solved under (problem
    arrays), so a what-if against it is checked against the same rules."""

    rid: str
    sid: str
    budget_cny: float
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    bound_source: str | None
    cost_cny: float | None
    site: np.ndarray
    type: np.ndarray
    folder: Path
    solver: str
    must_open: np.ndarray | None = None
    forbidden: np.ndarray | None = None
    unique: tuple | None = None  # unique contributions in plan order, when the solve's process computed them
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


def new_rid() -> str:
    """A run id: sortable by time, unguessable enough to never collide, URL- and path-safe."""
    import secrets

    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def _plan_levels(loaded, problem, site, type_):
    """(evaluation, {group: (people (I,), level before (I,), level after (I,))}) per YAML group:
    a point's level for a group is its best level over the group's services (under per_service)."""
    ev = evaluate(problem, site, type_)
    after = ev.level if ev.level is not None else ev.covered.astype(float)
    before = ev.level_before if ev.level_before is not None else problem.covered_before.astype(float)
    out = {}
    for g, cols in base_columns(loaded.scenario, problem).items():
        if not cols:
            pop = np.asarray(loaded.scenario.demand.columns[g], dtype=float)
            zero = np.zeros(pop.size)
            out[g] = (pop, zero, zero)
            continue
        out[g] = (problem.people[:, cols[0]], before[:, cols].max(axis=1), after[:, cols].max(axis=1))
    return ev, out


def unique_contributions(problem, site, type_, objective: float | None = None) -> list[float]:
    """Per facility of the plan, the weighted objective minus evaluate()'s objective without it
    (``objective``: the plan's own evaluated objective, if known)."""
    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    if objective is None:
        objective = evaluate(problem, site, type_).objective
    out = []
    for n in range(site.size):
        keep = np.arange(site.size) != n
        out.append(objective - evaluate(problem, site[keep], type_[keep]).objective)
    return out


def costly_to_evaluate(problem) -> bool:
    """Capacities make every evaluate() an assignment LP (seconds on a district): a plan's unique
    contributions are then worked out once, in the solve's own process, not per what-if."""
    return bool(problem.capacitated_groups().any())


def plan_json(loaded, problem, site, type_, *, with_unique: bool = True, unique=None) -> dict:
    """objective, cost, coverage rows, who is covered, violations and the selected sites (with
    their unique contributions: ``unique`` when given, in plan order, else computed when
    ``with_unique``) of a plan, all from evaluate()."""
    from lifecircle.optimizer.outputs.i18n import group_label

    site = np.asarray(site, dtype=np.int64)
    type_ = np.asarray(type_, dtype=np.int64)
    ev, levels = _plan_levels(loaded, problem, site, type_)
    coverage = [{"group": g, "label": group_label(g, loaded.lang), "population": float(p.sum()),
                 "covered_before": float((p * b).sum()), "covered_after": float((p * a).sum())}
                for g, (p, b, a) in levels.items()]
    sc = loaded.scenario
    if unique is None and with_unique:
        unique = unique_contributions(problem, site, type_, ev.objective)
    selected = []
    for n in np.argsort(site, kind="stable"):
        j, k = int(site[n]), int(type_[n])
        row = {"j": j, "id": sc.sites.ids[j], "name": str(sc.sites.columns["name"][j]),
               "type": sc.type_names[k], "cost_cny": _finite(problem.cost_cny[j, k])}
        if unique is not None:
            row["unique_contribution"] = float(unique[n])
        selected.append(row)
    return {"objective": ev.objective, "cost_cny": ev.spent_cny, "coverage": coverage, "selected": selected,
            "covered_after": {g: np.flatnonzero(a > 0).tolist() for g, (p, b, a) in levels.items()},
            "feasible": ev.feasible, "violations": list(ev.violations), "_levels": levels}


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


class RunStore:
    """The runs of one server, in memory; their folders under ``out_dir``."""

    def __init__(self, catalog: Catalog, out_dir):
        self.catalog = catalog
        self.out_dir = Path(out_dir)
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()
        self._json: dict[str, dict] = {}  # rid -> plan_json, computed once
        self._restored = False

    def restore(self) -> int:
        """Take in the runs an earlier server wrote to ``out_dir`` (once; called on first use):
        every lifecircle-marked folder whose summary.json names a scenario of this catalog with
        the same checksum (the data unchanged, so its site ids still mean the same sites).
        Returns the number taken in; anything unreadable is skipped."""
        import json

        from lifecircle.optimizer.files import read_marker

        with self._lock:
            if self._restored:
                return 0
            self._restored = True
        by_path = {str(p.resolve()): sid for sid, p in self.catalog.paths.items()}
        taken = 0
        try:
            folders = sorted(p for p in self.out_dir.iterdir() if p.is_dir() and not p.is_symlink()
                             and not p.name.startswith("."))
        except OSError:
            return 0
        for folder in folders:
            with self._lock:
                if folder.name in self._runs:  # this server's own
                    continue
            try:
                summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
                sid = by_path.get(summary.get("scenario_path"))
                if sid is None or read_marker(folder) is None or summary.get("objective") is None:
                    continue
                loaded = self.catalog.load(sid)
                if summary.get("scenario_checksum") != loaded.scenario.checksum:
                    continue
                index = {s: j for j, s in enumerate(loaded.scenario.sites.ids)}
                names = loaded.scenario.type_names
                chosen = [(index[c["site_id"]], names.index(c["facility_type"])) for c in summary["selected"]]
            except (OSError, ValueError, KeyError, TypeError, ApiError):
                continue
            created = datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
            self.add(Run(folder.name, sid, float(summary["budget"]), str(summary["status"]), summary["objective"],
                         summary.get("bound"), summary.get("gap"), summary.get("bound_source"), summary.get("spent"),
                         np.array([j for j, _ in chosen], dtype=np.int64),
                         np.array([k for _, k in chosen], dtype=np.int64), folder, str(summary.get("solver")),
                         created=created))
            taken += 1
        return taken

    def folder_of(self, rid: str) -> Path:
        return self.out_dir / rid

    def add(self, run: Run) -> None:
        with self._lock:
            self._runs[run.rid] = run

    def get(self, rid) -> Run:
        self.restore()
        with self._lock:
            run = self._runs.get(rid) if isinstance(rid, str) else None
        if run is None:
            raise ApiError(404, f"unknown run {rid!r}")
        return run

    def listing(self) -> list[dict]:
        self.restore()
        with self._lock:
            runs = sorted(self._runs.values(), key=lambda r: (r.created, r.rid))
        return [{"rid": r.rid, "sid": r.sid, "budget_cny": r.budget_cny, "objective": r.objective,
                 "cost_cny": r.cost_cny, "status": r.status, "solver": r.solver, "created": r.created}
                for r in runs]

    def problem_of(self, run: Run):
        """The scenario's problem at the run's budget and rules (coverage is shared, not rebuilt)."""
        problem = self.catalog.load(run.sid).problem
        changes = {"budget_cny": float(run.budget_cny)}
        if run.must_open is not None:
            changes |= {"must_open": run.must_open, "forbidden": run.forbidden}
        return replace(problem, **changes)

    def _plan(self, run: Run) -> dict:
        with self._lock:
            cached = self._json.get(run.rid)
        if cached is None:
            cached = plan_json(self.catalog.load(run.sid), self.problem_of(run), run.site, run.type, unique=run.unique)
            with self._lock:
                self._json[run.rid] = cached
        return cached

    def run_json(self, rid) -> dict:
        """The contract's ``GET /api/runs/{rid}``."""
        run = self.get(rid)
        plan = self._plan(run)
        return {"rid": run.rid, "sid": run.sid, "budget_cny": run.budget_cny, "status": run.status,
                "solver": run.solver, "objective": run.objective, "evaluated_objective": plan["objective"],
                "bound": run.bound, "gap": run.gap, "bound_source": run.bound_source, "cost_cny": run.cost_cny,
                "coverage": plan["coverage"], "selected": plan["selected"], "covered_after": plan["covered_after"],
                "files": self.files(run), "created": run.created}

    def files(self, run: Run) -> list[str]:
        """The files the run's folder holds: plain files only, no marker, no links."""
        try:
            entries = list(os.scandir(run.folder))
        except OSError:
            return []
        return sorted(e.name for e in entries
                      if not e.name.startswith(".") and not e.is_symlink() and e.is_file(follow_symlinks=False))

    def file_path(self, rid, name: str) -> Path:
        run = self.get(rid)
        if name not in self.files(run):
            raise ApiError(404, f"run {rid} has no file {name!r}")
        return run.folder / name

    def evaluate_json(self, body: dict) -> dict:
        """The contract's ``POST /api/evaluate``: the plan ``open`` evaluated exactly, and who
        gains or loses coverage against run ``rid`` when given."""
        sid = body.get("sid")
        loaded = self.catalog.load(sid)
        run = None
        if body.get("rid") is not None:
            run = self.get(body["rid"])
            if run.sid != sid:
                raise ApiError(400, f"run {run.rid} is of scenario {run.sid!r}, not {sid!r}")
        site, type_ = self.parse_open(sid, body.get("open"))
        problem = self.problem_of(run) if run is not None else loaded.problem
        if body.get("budget_cny") is not None:
            problem = replace(problem, budget_cny=parse_budget(body["budget_cny"]))
        with_unique = body.get("unique")
        if with_unique is None:
            with_unique = not costly_to_evaluate(problem)
        plan = plan_json(loaded, problem, site, type_, with_unique=bool(with_unique))
        gained = {g: 0.0 for g in plan["_levels"]}
        lost = dict(gained)
        if run is not None:
            old = self._plan(run)["_levels"]
            for g, (p, _, a) in plan["_levels"].items():
                a0 = old[g][2]
                gained[g] = float((p * np.maximum(0.0, a - a0)).sum())
                lost[g] = float((p * np.maximum(0.0, a0 - a)).sum())
        out = {k: v for k, v in plan.items() if not k.startswith("_")}
        return out | {"gained": gained, "lost": lost, "budget_cny": float(problem.budget_cny)}

    def parse_open(self, sid, items) -> tuple[np.ndarray, np.ndarray]:
        """Site and type indices of ``[{"id", "type"?}]`` (type: the site's cheapest by default)."""
        if not isinstance(items, list):
            raise ApiError(400, "open: expected a list of {\"id\": site id, \"type\": facility type}")
        sc = self.catalog.load(sid).scenario
        index = self.catalog.site_index(sid)
        site, type_ = [], []
        for n, item in enumerate(items):
            if isinstance(item, str):
                item = {"id": item}
            if not isinstance(item, dict) or item.get("id") not in index:
                raise ApiError(400, f"open[{n}]: unknown site {item.get('id') if isinstance(item, dict) else item!r}")
            j = index[item["id"]]
            key = item.get("type") or self.catalog.cheapest_type(sid, j)
            if key not in sc.type_names:
                raise ApiError(400, f"open[{n}]: site {item['id']}: unknown facility type {key!r}; types are "
                                    + ", ".join(sc.type_names))
            site.append(j)
            type_.append(sc.type_names.index(key))
        return np.asarray(site, dtype=np.int64), np.asarray(type_, dtype=np.int64)

    def compare_json(self, a, b) -> dict:
        """The contract's ``GET /api/compare?a=&b=``."""
        ra, rb = self.run_json(a), self.run_json(b)
        ids_a = [s["id"] for s in ra["selected"]]
        ids_b = [s["id"] for s in rb["selected"]]
        return {"a": ra, "b": rb, "only_a": [s for s in ids_a if s not in ids_b],
                "only_b": [s for s in ids_b if s not in ids_a], "both": [s for s in ids_a if s in ids_b]}


def parse_budget(value, what: str = "budget_cny") -> float:
    """A finite budget >= 0 from JSON, else a 400."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise ApiError(400, f"{what}: value {value!r} must be a finite number >= 0")
    return float(value)
