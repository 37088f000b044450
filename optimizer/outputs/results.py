"""A results folder read back: one validating loader for what explain, compare and city read.

``lifecircle solve`` (and ``plan``) write ``summary.json`` and ``sites.csv`` into a results
folder. ``explain`` and ``compare`` read them back, and ``city`` reads every finished circle's
summary to resume. A folder may have been edited by hand, copied in half or written by another
program, so every reader goes through :func:`read_run_summary`: the file must be a JSON object
holding the keys those readers use, each of the right kind (finite numbers, strings, lists), or
the reader refuses with one line naming the file, the key path (``selected[2].cost``) and what is
wrong, as a :class:`~optimizer.errors.ScenarioError` (exit 2), before any of it is used.

The result is a :class:`RunSummary`: the typed keys, plus the whole object in ``data`` for the
keys not typed yet. It is meant to grow into the one typed run summary that every command writes
and reads back.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from lifecircle.optimizer.solve.backends import Status
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.files import csv_text

SUMMARY_FILE = "summary.json"
SITES_FILE = "sites.csv"
STATUSES = tuple(str(s) for s in Status)
PLAN_STATUSES = (str(Status.OPTIMAL), str(Status.FEASIBLE))
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


@dataclass(frozen=True)
class GroupCoverage:
    """People of one group: all of them, covered before the plan and after (None: no plan)."""

    population: float | None
    covered_before: float | None
    covered_after: float | None


@dataclass(frozen=True)
class RunSummary:
    """A validated ``summary.json``. Numbers are finite or None; ``data`` is the whole object."""

    path: Path
    status: str
    objective: float | None
    budget_cny: float | None
    spent_cny: float | None
    selected: tuple  # of SelectedFacility, in the file's order
    coverage: dict  # group -> GroupCoverage, in the file's order
    scenario: str | None
    scenario_file: str | None
    scenario_path: str | None
    scenario_checksum: str | None
    solver: str | None
    reason: str
    language: str | None  # report.language: the run's report language
    timings_s: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict, repr=False)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def has_plan(self) -> bool:
        return self.status in PLAN_STATUSES

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


def read_run_summary(folder, *, fix: str = REWRITE) -> RunSummary:
    """Read and validate ``folder/summary.json``; ScenarioError (one line, exit 2) when it is not
    one that ``lifecircle solve`` writes. ``fix`` ends every message: what the user should do."""
    folder = Path(folder)
    path = folder / SUMMARY_FILE
    if not path.is_file():
        raise ScenarioError(f"{folder}: no {SUMMARY_FILE}; give a folder written by `lifecircle solve`")
    data = _load_json(path, fix)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a JSON object as `lifecircle solve` writes, found "
                            f"{_kind(data)}; {fix}")
    status = _get(data, "status", path, fix, str)
    if status not in STATUSES:
        raise _bad(path, "status", f"value {status!r} is not one of {', '.join(STATUSES)}", fix)
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
    report = _get(data, "report", path, fix, dict, none=True, optional=True) or {}
    timings = _get(data, "timings_s", path, fix, dict, optional=True) or {}
    return RunSummary(
        path=path, status=status,
        objective=_number(data, "objective", path, fix, none=True),
        budget_cny=_number(data, "budget", path, fix, none=True, optional=True),
        spent_cny=_number(data, "spent", path, fix, none=True, optional=True),
        selected=tuple(selected), coverage=coverage,
        scenario=_get(data, "scenario", path, fix, str, none=True, optional=True),
        scenario_file=_get(data, "scenario_file", path, fix, str, none=True, optional=True),
        scenario_path=_get(data, "scenario_path", path, fix, str, none=True, optional=True),
        scenario_checksum=_get(data, "scenario_checksum", path, fix, str, none=True, optional=True),
        solver=_get(data, "solver", path, fix, str, none=True, optional=True),
        reason=_get(data, "reason", path, fix, str, none=True, optional=True) or "",
        language=_get(report, "language", path, fix, str, "report", none=True, optional=True),
        timings_s={key: _number(timings, key, path, fix, "timings_s") for key in timings},
        data=data,
    )


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
