"""The run summary: one typed object that ``solve`` writes as ``summary.json`` and every reader loads.

``lifecircle solve`` (and ``plan``) write ``summary.json`` and ``sites.csv`` into a results
folder. The summary is a :class:`RunSummary`: ``solve`` builds one and writes it through
:meth:`RunSummary.to_json`; ``explain`` and ``compare`` read it back, and ``city`` reads every
finished circle's summary to resume, all through :meth:`RunSummary.from_json` (by way of
:func:`read_run_summary`). A folder may have been edited by hand, copied in half or written by
another program, so the loader checks every key it types: the file must be a JSON object holding
the keys the readers use, each of the right kind (finite numbers, strings, lists, objects), or the
reader refuses with one line naming the file, the key path (``selected[2].cost``) and what is
wrong, as a :class:`~optimizer.errors.ScenarioError` (exit 2), before any of it is used.

Sections that are plain JSON objects of their own (``network``, ``equity``, ``utilisation``,
``model``) are carried as such; keys the type does not know (``plan``'s ``years`` ...) are kept in
``extra``, in the file's order, so ``to_json(from_json(x)) == x`` for every summary lifecircle
writes. ``tests/outputs/summary.schema.json`` is the same contract as a JSON schema.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from lifecircle.optimizer.core.status import Status, Termination
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.files import csv_text, write_json

SUMMARY_FILE = "summary.json"
SITES_FILE = "sites.csv"
STATUSES = tuple(str(s) for s in Status)
PLAN_STATUSES = (str(Status.OPTIMAL), str(Status.FEASIBLE))
TERMINATIONS = tuple(str(t) for t in Termination)
# A solve's summary is kilobytes (megabytes with per-circle equity on a huge district); a file far
# beyond that is not one, and reading it whole would cost its size in memory.
MAX_SUMMARY_BYTES = 256 << 20
REWRITE = "re-run `lifecircle solve` to write the folder again"


@dataclass(frozen=True)
class SelectedFacility:
    """One facility of the plan: a site opened as a facility type, at its cost."""

    site_id: str
    facility_type: str
    cost_cny: float

    def to_json(self) -> dict:
        return {"site_id": self.site_id, "facility_type": self.facility_type, "cost": self.cost_cny}


@dataclass(frozen=True)
class GroupCoverage:
    """People of one group: all of them, covered before the plan and after (None: no plan)."""

    population: float | None
    covered_before: float | None
    covered_after: float | None

    def to_json(self) -> dict:
        return {"population": self.population, "covered_before": self.covered_before,
                "covered_after": self.covered_after}


@dataclass(frozen=True)
class ReportFacts:
    """The ``report`` section: report.html and sites.xlsx were written, in ``language``."""

    language: str | None
    files: tuple = ()
    timings_s: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"language": self.language, "files": list(self.files), "timings_s": dict(self.timings_s)}


# summary.json's keys in the order solve writes them; the typed field each one fills
_KEYS = {
    "scenario": "scenario", "scenario_file": "scenario_file", "scenario_checksum": "scenario_checksum",
    "solver": "solver", "status": "status", "termination": "termination", "reason": "reason", "objective": "objective", "bound": "bound",
    "gap": "gap", "budget": "budget_cny", "spent": "spent_cny", "coverage": "coverage", "selected": "selected",
    "timings_s": "timings_s", "crs": "crs", "metric_crs": "metric_crs", "input_crs": "input_crs", "reach_m": "reach_m",
    "network": "network", "min_open": "min_open", "equity": "equity", "utilisation": "utilisation",
    "model": "model", "lifecircle_version": "lifecircle_version", "scenario_path": "scenario_path",
    "report": "report",
}
# written only when not None (termination: absent from folders written before issue 13)
_WHEN_PRESENT = ("termination", "network", "utilisation", "scenario_path", "report", "input_crs")


@dataclass(frozen=True)
class RunSummary:
    """One run's summary (``summary.json``), typed. Numbers are finite or None.

    Build one with the run layer's ``summary_of`` (``optimizer.run``), write it with
    :func:`write_summary`, read one back with :func:`read_run_summary`. ``path`` is the file it
    was read from (None for one built in memory); it is not written.
    """

    status: str
    scenario: str | None = None
    scenario_file: str | None = None
    scenario_checksum: str | None = None
    solver: str | None = None
    termination: str | None = None  # issue 13: why the solve stopped (core.status.Termination)
    reason: str = ""
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    budget_cny: float | None = None
    spent_cny: float | None = None
    coverage: dict = field(default_factory=dict)  # group -> GroupCoverage, in the file's order
    selected: tuple = ()  # of SelectedFacility, in the file's order
    timings_s: dict = field(default_factory=dict)
    crs: str | None = None
    metric_crs: str | None = None
    input_crs: dict | None = None  # issue 17: layer -> the CRS its rows were in (GCJ-02, EPSG:4490 ...)
    reach_m: dict = field(default_factory=dict)  # "type/group" -> walking reach in metres
    network: dict | None = None  # issue 4: the walking network's facts (scenarios with one)
    min_open: dict = field(default_factory=dict)
    equity: dict = field(default_factory=dict)  # issue 7: optimizer.outputs.summary.equity_summary
    utilisation: list | None = None  # issue 7: with capacities only
    model: dict = field(default_factory=dict)  # the MILP's size
    lifecircle_version: str | None = None
    scenario_path: str | None = None  # issue 5: the scenario's absolute path, for explain
    report: ReportFacts | None = None  # issue 5: report.html and sites.xlsx, when written
    extra: dict = field(default_factory=dict)  # keys of other writers (plan's years ...), in order
    path: Path | None = field(default=None, compare=False)

    @property
    def folder(self) -> Path | None:
        return None if self.path is None else self.path.parent

    @property
    def has_plan(self) -> bool:
        return self.status in PLAN_STATUSES

    @property
    def language(self) -> str | None:
        """The run's report language (``report.language``), None without a report."""
        return None if self.report is None else self.report.language

    def to_json(self) -> dict:
        """``summary.json`` as a JSON-ready dict, keys in the order lifecircle has always written them."""
        out = {}
        for key, name in _KEYS.items():
            value = getattr(self, name)
            if value is None and key in _WHEN_PRESENT:
                continue
            if key == "coverage":
                value = {g: c.to_json() for g, c in value.items()}
            elif key == "selected":
                value = [s.to_json() for s in value]
            elif key == "report":
                value = value.to_json()
            elif isinstance(value, dict):
                value = dict(value)
            out[key] = value
        return out | self.extra

    @classmethod
    def from_json(cls, data, path, *, fix: str = REWRITE) -> "RunSummary":
        """Validate ``data`` (a parsed ``summary.json`` read from ``path``); ScenarioError (one line,
        exit 2) when it is not one lifecircle writes. ``fix`` ends every message."""
        path = Path(path)
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: expected a JSON object as `lifecircle solve` writes, found "
                                f"{_kind(data)}; {fix}")
        status = _get(data, "status", path, fix, str)
        if status not in STATUSES:
            raise _bad(path, "status", f"value {status!r} is not one of {', '.join(STATUSES)}", fix)
        termination = _get(data, "termination", path, fix, str, optional=True)
        if termination is not None and termination not in TERMINATIONS:
            raise _bad(path, "termination", f"value {termination!r} is not one of {', '.join(TERMINATIONS)}", fix)
        selected = []
        for n, entry in enumerate(_get(data, "selected", path, fix, list)):
            where = f"selected[{n}]"
            if not isinstance(entry, dict):
                raise _bad(path, where, f"expected an object, found {_kind(entry)}", fix)
            selected.append(SelectedFacility(
                _get(entry, "site_id", path, fix, str, where), _get(entry, "facility_type", path, fix, str, where),
                _number(entry, "cost", path, fix, where)))
        coverage = {}
        for group, value in _get(data, "coverage", path, fix, dict).items():
            where = f"coverage.{group}"
            if not isinstance(value, dict):
                raise _bad(path, where, f"expected an object, found {_kind(value)}", fix)
            coverage[group] = GroupCoverage(*(_number(value, key, path, fix, where, none=True)
                                              for key in ("population", "covered_before", "covered_after")))
        report = _get(data, "report", path, fix, dict, none=True, optional=True)
        if report is not None:
            files = _get(report, "files", path, fix, list, "report", optional=True) or []
            if not all(isinstance(f, str) for f in files):
                raise _bad(path, "report.files", "expected a list of file names", fix)
            times = _get(report, "timings_s", path, fix, dict, "report", optional=True) or {}
            report = ReportFacts(_get(report, "language", path, fix, str, "report", none=True, optional=True),
                                 tuple(files), {k: _number(times, k, path, fix, "report.timings_s") for k in times})
        timings = _get(data, "timings_s", path, fix, dict, optional=True) or {}
        reach = _get(data, "reach_m", path, fix, dict, optional=True) or {}

        def text(key):
            return _get(data, key, path, fix, str, none=True, optional=True)

        def number(key):
            return _number(data, key, path, fix, none=True, optional=True)

        def section(key, kind, default):
            value = _get(data, key, path, fix, kind, none=default is None, optional=True)
            return default if value is None else value

        return cls(
            status=status, scenario=text("scenario"), scenario_file=text("scenario_file"),
            scenario_checksum=text("scenario_checksum"), solver=text("solver"), termination=termination,
            reason=text("reason") or "",
            objective=_number(data, "objective", path, fix, none=True), bound=number("bound"), gap=number("gap"),
            budget_cny=number("budget"), spent_cny=number("spent"), coverage=coverage, selected=tuple(selected),
            timings_s={key: _number(timings, key, path, fix, "timings_s") for key in timings},
            crs=text("crs"), metric_crs=text("metric_crs"), input_crs=section("input_crs", dict, None),
            reach_m={key: _number(reach, key, path, fix, "reach_m") for key in reach},
            network=section("network", dict, None), min_open=section("min_open", dict, {}),
            equity=section("equity", dict, {}), utilisation=section("utilisation", list, None),
            model=section("model", dict, {}), lifecircle_version=text("lifecircle_version"),
            scenario_path=text("scenario_path"), report=report,
            extra={k: v for k, v in data.items() if k not in _KEYS}, path=path,
        )

    def check_ids(self, site_ids, type_names, source) -> None:
        """Refuse a selected site or facility type that ``source`` (the scenario) does not have.

        Call it after the checksum check: a scenario that changed explains unknown ids better.
        """
        known_sites, known_types = set(site_ids), list(type_names)
        for n, s in enumerate(self.selected):
            if s.site_id not in known_sites:
                raise _bad(self.path, f"selected[{n}].site_id", f"unknown site {s.site_id!r}; "
                           f"the scenario {source} has no such site", REWRITE)
            if s.facility_type not in known_types:
                raise _bad(self.path, f"selected[{n}].facility_type", f"unknown facility type "
                           f"{s.facility_type!r}; types are {', '.join(known_types)}", REWRITE)


def write_summary(folder, run: RunSummary) -> Path:
    """Write ``folder/summary.json`` (``folder`` is the atomic writer's temporary folder)."""
    path = Path(folder) / SUMMARY_FILE
    write_json(path, run.to_json())
    return path


def read_run_summary(folder, *, fix: str = REWRITE) -> RunSummary:
    """Read and validate ``folder/summary.json``; ScenarioError (one line, exit 2) when it is not
    one that ``lifecircle solve`` writes. ``fix`` ends every message: what the user should do."""
    folder = Path(folder)
    path = folder / SUMMARY_FILE
    if not path.is_file():
        raise ScenarioError(f"{folder}: no {SUMMARY_FILE}; give a folder written by `lifecircle solve`")
    return RunSummary.from_json(_load_json(path, fix), path, fix=fix)


def read_site_labels(run: RunSummary, *, fix: str = REWRITE) -> tuple[dict, dict]:
    """(site_id -> name, facility type -> label) from the folder's sites.csv, checked against the
    summary: every selected facility must be a row. Empty dicts when there is no sites.csv (a
    run without a plan)."""
    path = run.folder / SITES_FILE
    if not path.is_file():
        return {}, {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in ("site_id", "facility_type") if c not in header]
            if missing:
                raise ScenarioError(f"{path}: missing column {missing[0]!r}; {fix}")
            # text cells come back as they were before formula neutralising (output.csv_cell)
            rows = [{k: csv_text(v) if isinstance(v, str) else v for k, v in r.items()} for r in reader]
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text; {fix}") from None
    except csv.Error as error:
        raise ScenarioError(f"{path}: not a CSV table ({error}); {fix}") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the file ({error.strerror}); {fix}") from None
    pairs = {(r["site_id"], r["facility_type"]) for r in rows}
    for n, s in enumerate(run.selected):
        if (s.site_id, s.facility_type) not in pairs:
            raise _bad(run.path, f"selected[{n}]", f"site {s.site_id!r} as {s.facility_type!r} has no row "
                       f"in {path}; the two files are not from the same run", fix)
    return ({r["site_id"]: r.get("name") or "" for r in rows},
            {r["facility_type"]: r.get("facility_label") or r["facility_type"] for r in rows})


# ---- checks ------------------------------------------------------------------------------------


def _load_json(path: Path, fix: str):
    try:
        size = path.stat().st_size
        if size > MAX_SUMMARY_BYTES:
            raise ScenarioError(f"{path}: {size:,} bytes, above the limit of {MAX_SUMMARY_BYTES >> 20} MiB "
                                f"for a summary; {fix}")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text; {fix}") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the file ({error.strerror}); {fix}") from None
    if not text.strip():
        raise ScenarioError(f"{path}: the file is empty; {fix}")
    try:
        return json.loads(text)
    except ValueError as error:  # JSONDecodeError, or an integer beyond Python's digit limit
        raise ScenarioError(f"{path}: not valid JSON ({str(error).splitlines()[0]}); {fix}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: JSON nested too deeply; {fix}") from None


def _bad(path: Path, key: str, what: str, fix: str) -> ScenarioError:
    return ScenarioError(f"{path}: key {key!r}: {what}; {fix}")


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


_EXPECTED = {str: "a string", list: "a list", dict: "an object"}


def _get(obj: dict, key: str, path: Path, fix: str, kind: type, where: str = "", *, none: bool = False,
         optional: bool = False):
    """``obj[key]`` when it is a ``kind`` (or null when ``none``); a missing key is None when
    ``optional``."""
    name = f"{where}.{key}" if where else key
    if key not in obj:
        if optional:
            return None
        raise ScenarioError(f"{path}: missing key {name!r}; {fix}")
    value = obj[key]
    if value is None and none:
        return None
    if not isinstance(value, kind):
        raise _bad(path, name, f"expected {_EXPECTED[kind]}{' or null' if none else ''}, found "
                   f"{_kind(value)}", fix)
    return value


def _number(obj: dict, key: str, path: Path, fix: str, where: str = "", *, none: bool = False,
            optional: bool = False) -> float | None:
    """``obj[key]`` as a finite float (or None when null is allowed)."""
    name = f"{where}.{key}" if where else key
    if key not in obj:
        if optional:
            return None
        raise ScenarioError(f"{path}: missing key {name!r}; {fix}")
    value = obj[key]
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(path, name, f"expected a number{' or null' if none else ''}, found {_kind(value)}", fix)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise _bad(path, name, f"value {str(value)[:40]} is not a finite number", fix)
    return number
