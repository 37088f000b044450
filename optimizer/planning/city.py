"""Whole-city runs (`lifecircle city`): every life circle solved on its own, on Dask distributed.

Layout
------
``CITY_DIR`` is searched recursively. Every folder below it that holds ``scenario.yaml`` (or
``scenario.yml``) is one circle; the folder's name is the circle id and must be unique in the
city. Hidden folders (``.name``) are skipped. A circle may also hold ``boundary.geojson``: a
Polygon or MultiPolygon (or Features of them, unioned) in the CRS its ``crs`` member names, else
in the scenario's CRS. Circles with a boundary are drawn in ``city.geojson``; the others appear
there with a null geometry.

Outputs
-------
``OUT/<circle id>/`` holds exactly what ``lifecircle solve`` writes (via
:func:`optimizer.run.run_solve`, whole or not at all). ``OUT/city.csv`` has one row per circle:
status, error, people and coverage before/after per group, budget, spent and seconds.
``OUT/city.geojson`` has the same properties plus the covered share per group, with boundaries
in EPSG:4490 (CGCS2000 longitude/latitude); ``OUT/city.gpkg`` every circle's plan.gpkg layers and
a ``circles`` coverage layer (:mod:`optimizer.planning.city_gpkg`). All are rewritten whole at the
end of every run.

Resuming
--------
A circle is finished when ``OUT/<id>/summary.json`` exists, its ``scenario_checksum`` equals the
circle's current scenario checksum (the hash of the YAML and every data file it reads, as
``load_scenario`` computes it), and its status is not ``no_solution`` (a time-limit outcome,
which a rerun may improve). Finished circles are not submitted and their folders are not touched;
their rows come from their summary.json. The driver hashes the files itself to decide this
without loading scenarios; when it cannot (a network scenario, an unreadable YAML) the worker
loads the scenario and still skips a circle whose checksum matches, writing nothing. So a run
killed at any moment and started again loses nothing and repeats nothing: results only appear
by an atomic rename, and leftover temporary folders of killed circles are removed at start.

Failures
--------
A circle whose files are bad, whose rules are infeasible, or whose solve ends without a plan
(time limit) is recorded with its status and error in ``city.csv`` and the run goes on; so is a
task whose worker dies. The run's exit code is 5 when any circle failed.
"""

from __future__ import annotations

import json
import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lifecircle.optimizer.core import events
from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, SolveOptions
from lifecircle.optimizer.errors import ClusterError, LifecircleError, ScenarioError
from lifecircle.optimizer.outputs.results import RunSummary, read_run_summary

logger = logging.getLogger(__name__)

CIRCLE_FILES = ("scenario.yaml", "scenario.yml")
BOUNDARY_FILE = "boundary.geojson"
CITY_FILES = ("city.csv", "city.geojson", "city.gpkg")
SCHEDULER_TIMEOUT_S = 10
SHUTDOWN_TIMEOUT_S = 10
SUCCESS = ("optimal", "feasible")
RETRY_STATUSES = ("no_solution",)
EXIT_SOME_FAILED = 5


@dataclass(frozen=True)
class Circle:
    id: str
    folder: Path
    scenario: Path
    checksum: str | None  # None: the driver could not hash it; the worker decides
    crs: str | None
    size_bytes: int


@dataclass(frozen=True)
class CityResult:
    out_dir: Path
    rows: tuple
    n_circles: int
    n_solved: int
    n_skipped: int
    n_failed: int
    seconds: float
    phase_s: dict = field(default_factory=dict)
    db_written: int | None = None  # issue 17: circles written to --db (None: no --db)
    db_uri: str | None = None  # issue 17: --db with its password masked

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.n_failed else 0


# ---- finding circles ------------------------------------------------------------------------


def find_circles(city_dir) -> list[Circle]:
    """Every circle below ``city_dir``, sorted by id. ScenarioError when there is none."""
    city_dir = Path(city_dir)
    if not city_dir.is_dir():
        raise ScenarioError(f"CITY_DIR: {city_dir} is not a folder")
    circles, seen = [], {}
    for root, dirs, files in os.walk(city_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        root_path = Path(root)
        if root_path == city_dir:
            continue
        name = next((f for f in CIRCLE_FILES if f in files), None)
        if name is None:
            continue
        circle_id = root_path.name
        if circle_id in seen:
            raise ScenarioError(f"CITY_DIR: circle id {circle_id!r} appears twice: {seen[circle_id]} and "
                                f"{root_path}; circle folder names must be unique")
        seen[circle_id] = root_path
        scenario = root_path / name
        checksum, crs = _quick_facts(scenario)
        size = sum(p.stat().st_size for p in root_path.iterdir() if p.is_file())
        circles.append(Circle(circle_id, root_path, scenario, checksum, crs, size))
    if not circles:
        raise ScenarioError(f"CITY_DIR: {city_dir} holds no circle: no sub-folder has "
                            f"{' or '.join(CIRCLE_FILES)}")
    return sorted(circles, key=lambda c: c.id)


def _quick_facts(scenario: Path) -> tuple[str | None, str | None]:
    """(checksum, crs) of a scenario without loading its tables, or None where unsure.

    The same checksum as ``load_scenario``'s (``checksum_of`` over the YAML, then demand, sites and
    existing, and the recipes). A mismatch can only make the driver submit a circle that is
    finished; the worker then compares the real checksum and skips it.
    """
    from lifecircle.optimizer.inputs.scenario import checksum_of, load_yaml

    try:
        data = load_yaml(scenario)
    except LifecircleError:
        return None, None
    crs = data.get("crs") if isinstance(data.get("crs"), str) else None
    walking = data.get("walking")
    if isinstance(walking, dict) and walking.get("network") is not None:
        return None, crs
    files = [scenario]
    for key in ("demand", "sites", "existing"):
        value = data.get(key)
        if key == "existing" and value is None:
            continue
        if not isinstance(value, str) or not (scenario.parent / value).is_file():
            return None, crs
        files.append((scenario.parent / value).resolve())
    return checksum_of(files), crs


def finished_summary(out_dir: Path, checksum: str | None) -> RunSummary | None:
    """The summary of a finished circle result in ``out_dir``, or None (see the module docstring).

    ScenarioError when ``out_dir/summary.json`` is not one that ``solve`` writes
    (:func:`optimizer.results.read_run_summary`)."""
    if not (Path(out_dir) / "summary.json").is_file():
        return None
    # A summary that is not one `solve` writes was edited or copied in: refuse, never overwrite it.
    run = read_run_summary(out_dir, fix=f"delete the folder {out_dir} to solve this circle again")
    if checksum is None or run.scenario_checksum != checksum or run.status in RETRY_STATUSES:
        return None
    return run


# ---- one circle (runs on a Dask worker) -----------------------------------------------------


def solve_circle(scenario: str, out_dir: str, solver: str, options: SolveOptions, report: bool) -> dict:
    """Solve one circle into ``out_dir``; never raises. Returns {"summary", "error", "skipped",
    "seconds"}: the :class:`RunSummary` of the result (None when nothing was written) and a one-line
    error for failures."""
    t0 = time.perf_counter()
    try:
        from lifecircle.optimizer.run import run_solve
        from lifecircle.optimizer.inputs.scenario import load_scenario

        if (Path(out_dir) / "summary.json").is_file():
            checksum = load_scenario(scenario).checksum
            summary = finished_summary(Path(out_dir), checksum)
            if summary is not None:
                return {"summary": summary, "error": "", "skipped": True, "seconds": time.perf_counter() - t0}
        result = run_solve(scenario, solver=solver, out_dir=out_dir, options=options, report=report)
        summary = result.run
        error = "" if summary.status in SUCCESS else (summary.reason or summary.status)
        return {"summary": summary, "error": error, "skipped": False, "seconds": time.perf_counter() - t0}
    except LifecircleError as error:
        message = str(error)
    except Exception as error:  # noqa: BLE001 - a bug or a library crash: record it, keep the city going
        message = f"{type(error).__name__}: {error}"
    return {"summary": None, "error": message.splitlines()[0] if message else "error", "skipped": False,
            "seconds": time.perf_counter() - t0}


# ---- the run ----------------------------------------------------------------------------------


def check_scheduler(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Refuse ``address`` unless a Dask scheduler answers there within ``timeout_s`` seconds.

    The limit covers the connection, the handshake and an ``identity`` request together: a port
    that accepts and then says nothing, or speaks another protocol, would otherwise hang the
    client for ever (the handshake read has no timeout) or crash it on a garbage frame length.
    Raises ClusterError (exit 2).
    """
    import asyncio

    from distributed.comm import connect as comm_connect

    async def identity():
        comm = await comm_connect(address, timeout=timeout_s)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), timeout_s))
    except (asyncio.TimeoutError, TimeoutError) as error:
        detail = str(error).splitlines()[0] if str(error) else "no answer"
    except OSError as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    except Exception as error:  # noqa: BLE001 - whatever a foreign server makes the protocol raise
        first = str(error).splitlines()[0] if str(error) else "no details"
        detail = f"the server there does not speak Dask's protocol: {type(error).__name__}: {first}"
    else:
        kind = reply.get("type") if isinstance(reply, dict) else None
        if kind == "Scheduler":
            return
        detail = f"it answered as {kind or type(reply).__name__}, not as a scheduler"
    raise ClusterError(f"--scheduler: no Dask scheduler answered at {address} within {timeout_s:g} s "
                       f"({detail[:160]})")


def connect(scheduler: str | None, workers: int | None, processes: bool = True):
    """(client, cluster or None). An unreachable scheduler raises ClusterError within about
    ``SCHEDULER_TIMEOUT_S`` seconds."""
    import warnings

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ClusterError(f"--scheduler: no Dask scheduler answered at {scheduler} within "
                               f"{SCHEDULER_TIMEOUT_S} s ({first})") from None
        return client, None
    n = int(workers or os.cpu_count() or 1)
    if n < 1:
        raise ScenarioError(f"--workers: value {n} must be >= 1")
    # CRITICAL, not ERROR: workers log CommClosedError tracebacks when the cluster stops, and a
    # worker that fails a circle is reported by the task's own result anyway.
    with warnings.catch_warnings():
        # Without a dashboard the scheduler still serves /health on 8787, or on another port with
        # a UserWarning on stderr when 8787 is taken (another run): the port is of no use here.
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        with _workers_ignore_ctrl_c():
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=None,
                                   silence_logs=logging.CRITICAL)
    return Client(cluster), cluster


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Ctrl-C reaches every process of the terminal's group: worker processes started while
    SIGINT is ignored keep ignoring it (Python and asyncio leave an inherited SIG_IGN alone), so
    only this process stops, says what was finished (issue 15) and closes the cluster; the
    workers would otherwise print a traceback each."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


def run_city(city_dir, *, out_dir=None, scheduler: str | None = None, workers: int | None = None,
             solver: str = DEFAULT_BACKEND, options: SolveOptions | None = None, report: bool = False,
             progress: bool = True, processes: bool = True, db: str | None = None) -> CityResult:
    """Solve every circle of ``city_dir`` (see the module docstring) and write the city files.

    Parameters
    ----------
    city_dir : folder of circle folders.
    out_dir : results folder (default ``results/<city folder name>``).
    scheduler : address of a running Dask scheduler; None starts a LocalCluster.
    workers : LocalCluster worker processes (default: the number of cores).
    solver, options : as for ``solve``; options default to one solver thread per circle, since
        the workers already use the cores, and no solver presolve: on circle-sized coverage
        models HiGHS's probing costs more than the solve (20 sample circles of the synthetic
        city: 4.8 s with it, 1.7 s without, same optima).
    report : also write report.html and sites.xlsx per circle (they cost re-solves).
    progress : show the progress bar on stderr (when it is a terminal and not --quiet; see
        :func:`optimizer.outputs.progress.progress`).
    processes : False runs the LocalCluster's workers as threads of this process (tests).
    db : a ``postgresql://`` URI: also write every circle's status, coverage and selected sites
        there (:mod:`optimizer.outputs.postgis`), one transaction per circle, resumed ones too.
    """
    from lifecircle.optimizer.solve.backends import REGISTRY, get_backend

    t0 = time.perf_counter()
    city_dir = Path(city_dir)
    backend = REGISTRY.get(solver)
    get_backend(solver, "coverage" if backend is not None and "milp" not in backend.features else "milp")
    options = options or SolveOptions(threads=1, presolve=False)
    circles = find_circles(city_dir)
    if scheduler:  # before anything is written: a wrong address leaves no empty --out behind
        check_scheduler(scheduler)
    city_db = None
    if db is not None:  # issue 17: checked (tables made) before anything is solved or written
        from lifecircle.optimizer.outputs.postgis import open_city_db

        city_db = open_city_db(db)
    out_dir = Path(out_dir) if out_dir is not None else Path("results") / (city_dir.resolve().name or "city")
    _prepare_out_dir(out_dir, circles)

    outcome: dict[str, dict] = {}
    todo = []
    for circle in circles:
        summary = finished_summary(out_dir / circle.id, circle.checksum)
        if summary is not None:
            outcome[circle.id] = {"summary": summary, "error": "", "skipped": True, "seconds": 0.0}
        else:
            todo.append(circle)
    from lifecircle.optimizer.files import check_replaceable

    for circle in todo:  # issue 12: a circle's folder that is not lifecircle's stops the run before any solve
        check_replaceable(out_dir / circle.id)

    events.phase(logger, "phase.city_todo", "%d circles: %d to solve, %d already done", len(circles), len(todo),
                 len(circles) - len(todo), n=len(circles), todo=len(todo), done=len(circles) - len(todo))
    if todo:
        events.phase(logger, "phase.dask", "starting Dask: %s", scheduler or f"{workers or os.cpu_count() or 1} local workers",
                     where=scheduler or f"{workers or os.cpu_count() or 1}")
        client, cluster = connect(scheduler, workers, processes)
        try:
            _run_tasks(client, todo, out_dir, solver, options, report, outcome, len(circles), progress)
        finally:
            shutdown(client, cluster)

    rows = tuple(_row(circle, outcome[circle.id]) for circle in circles)
    events.phase(logger, "phase.city_write", "writing city.csv and city.geojson into %s", out_dir, path=str(out_dir))
    _write_city_files(out_dir, circles, rows)
    if city_db is not None:
        logger.info("writing %d circles to %s", len(circles), city_db.masked_uri)
        try:
            for circle, row in zip(circles, rows):
                city_db.write_circle(circle, row, outcome[circle.id]["summary"], out_dir / circle.id)
        finally:
            city_db.close()
    n_failed = sum(1 for r in rows if r["status"] not in SUCCESS)
    n_skipped = sum(1 for r in rows if r["resumed"])
    n_solved = sum(1 for r in rows if r["status"] in SUCCESS and not r["resumed"])
    phase = {}
    for circle in circles:
        summary = outcome[circle.id]["summary"]
        if summary and not outcome[circle.id]["skipped"]:
            for key, value in summary.timings_s.items():
                phase[key] = phase.get(key, 0.0) + float(value)
    return CityResult(out_dir, rows, len(circles), n_solved, n_skipped, n_failed,
                      time.perf_counter() - t0, phase, None if city_db is None else city_db.written,
                      None if city_db is None else city_db.masked_uri)


def shutdown(client, cluster) -> None:
    """Close the client, then the cluster we started, within ``SHUTDOWN_TIMEOUT_S`` each.

    The results are on disk by now, so nothing at shutdown may turn a finished run into a
    traceback: distributed logs comms closing under its feet (``CommClosedError``) while workers
    stop, so its loggers are silenced first, and a close that fails or times out is ignored.
    """
    events.phase(logger, "phase.dask_stop", "stopping Dask")
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # Under load, a close interrupted by Ctrl-C once waited past its own timeout for minutes; the
    # closes run in a daemon thread, so the run ends on time whatever Dask does.
    closing = threading.Thread(target=_close, args=(client, cluster), daemon=True, name="lifecircle-dask-stop")
    closing.start()
    closing.join(2 * SHUTDOWN_TIMEOUT_S + 5)


def _close(client, cluster) -> None:
    for close in (client.close, getattr(cluster, "close", None)):
        if close is None:
            continue
        try:
            close(timeout=SHUTDOWN_TIMEOUT_S)
        except BaseException:  # noqa: BLE001, S110 - see shutdown's docstring
            pass


def _run_tasks(client, todo, out_dir, solver, options, report, outcome, n_total, progress):
    from distributed import as_completed

    from lifecircle.optimizer.outputs.console import language
    from lifecircle.optimizer.outputs.i18n import t
    from lifecircle.optimizer.outputs.progress import progress as progress_bar

    # Largest circles first, so the slowest tasks do not start last and leave a worker idle.
    todo = sorted(todo, key=lambda c: -c.size_bytes)
    futures = {}
    for circle in todo:
        future = client.submit(solve_circle, str(circle.scenario), str(out_dir / circle.id), solver, options,
                               report, key=f"circle-{circle.id}-{os.getpid()}-{time.time_ns()}", pure=False)
        futures[future] = circle
    done = sum(1 for o in outcome.values() if not o["error"])
    failed = sum(1 for o in outcome.values() if o["error"])
    events.phase(logger, "phase.city_solve", "solving %d circles", len(todo), n=len(todo))
    events.emit("step", done=done, total=n_total, label="circles", out_dir=str(out_dir))  # for Ctrl-C
    with progress_bar(n_total, "circles", unit="circle", initial=n_total - len(todo),
                      show=None if progress else False) as bar:
        try:
            for future in as_completed(futures):
                circle = futures[future]
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 - the worker died or the task could not run
                    result = {"summary": None, "error": f"{type(error).__name__}: {error}".splitlines()[0],
                              "skipped": False, "seconds": 0.0}
                outcome[circle.id] = result
                logger.debug("circle %s: %s", circle.id,
                             result["error"] or (result["summary"].status if result["summary"] else None))
                if result["error"]:
                    failed += 1
                else:
                    done += 1
                # told before the bar shows it: a Ctrl-C at the sight of the bar finds the count
                events.emit("step", done=done, total=n_total, label="circles", out_dir=str(out_dir))
                bar.set_postfix_str(t("console.city_postfix", language(), done=done, failed=failed,
                                      remaining=n_total - done - failed))
                bar.update(1)
        finally:
            for future in futures:
                future.cancel()


def _prepare_out_dir(out_dir: Path, circles) -> None:
    """Make ``out_dir`` a city results folder, or refuse it (issue 12).

    It must not hold a circle's own folder, and must be missing, empty, or a folder an earlier
    city run marked (``.lifecircle.json``, kind ``city``) whose city.csv and city.geojson are
    still as lifecircle wrote them. Files of the user's in a marked folder are left alone: the
    city folder is never replaced whole, only its circle folders (each checked on its own) and
    its two city files. Temporaries a killed run left there are removed (only marked ones).
    """
    from lifecircle.optimizer.files import prepare_marked_folder

    display = str(out_dir)
    resolved = Path(os.path.abspath(out_dir)).resolve()
    for circle in circles:
        folder = circle.folder.resolve()
        if resolved == folder or resolved in folder.parents:
            raise ScenarioError(f"{display} holds circle {circle.id}'s own files ({folder}); choose another --out")
    prepare_marked_folder(out_dir, "city", CITY_FILES, display=display)


def _row(circle: Circle, result: dict) -> dict:
    run: RunSummary | None = result["summary"]  # None: the circle failed before writing anything
    status = run.status if run else "failed"
    error = result["error"]
    if status not in SUCCESS and not error:
        error = (run.reason if run else "") or status
    row = {"circle_id": circle.id, "scenario": str(circle.scenario), "status": status,
           "resumed": bool(result["skipped"]), "error": error,
           "budget": run.budget_cny if run else None, "spent": run.spent_cny if run else None,
           "objective": run.objective if run else None, "sites": len(run.selected) if run else None,
           "seconds": round(float((run.timings_s if run else {}).get("total", result["seconds"])), 4)}
    row["coverage"] = {g: c.to_json() for g, c in run.coverage.items()} if run else {}
    # issue 14: per_service circles add a column triple per service (group·type) beside their groups
    row["coverage"] |= {s: {k: c[k] for k in ("population", "covered_before", "covered_after")}
                        for s, c in ((run.extra.get("services") or {}) if run else {}).items()}
    return row


def _groups(rows) -> list:
    groups = []
    for row in rows:
        for g in row["coverage"]:
            if g not in groups:
                groups.append(g)
    return groups


def city_table(rows) -> tuple[list, list]:
    """(header, rows) of city.csv."""
    groups = _groups(rows)
    header = ["circle_id", "status", "error", "resumed", "budget", "spent", "objective", "seconds"]
    for g in groups:
        header += [f"population_{g}", f"before_{g}", f"after_{g}"]
    header.append("scenario")
    out = []
    for row in rows:
        cells = [row["circle_id"], row["status"], row["error"], int(row["resumed"]),
                 _cell(row["budget"]), _cell(row["spent"]), _cell(row["objective"]), row["seconds"]]
        for g in groups:
            c = row["coverage"].get(g) or {}
            cells += [_cell(c.get("population")), _cell(c.get("covered_before")), _cell(c.get("covered_after"))]
        cells.append(row["scenario"])
        out.append(cells)
    return header, out


def _cell(value):
    return "" if value is None else value


def _write_city_files(out_dir: Path, circles, rows) -> None:
    from lifecircle.optimizer.inputs.geo import BOUNDARY_CRS, read_boundary_lonlat
    from lifecircle.optimizer.files import csv_text_bytes, geojson_crs_member, write_marker

    header, table = city_table(rows)
    _write_atomic(out_dir / "city.csv", csv_text_bytes(header, table), encoding="utf-8-sig")

    from shapely.geometry import mapping

    groups = _groups(rows)
    features = []
    for circle, row, cells in zip(circles, rows, table):
        props = dict(zip(header, cells))
        for g in groups:
            c = row["coverage"].get(g) or {}
            pop, after = c.get("population"), c.get("covered_after")
            props[f"share_after_{g}"] = None if not pop or after is None else after / pop
            before = c.get("covered_before")
            props[f"share_before_{g}"] = None if not pop or before is None else before / pop
        geometry = None
        boundary = circle.folder / BOUNDARY_FILE
        if boundary.is_file():
            try:
                geometry = mapping(read_boundary_lonlat(boundary, circle.crs))
            except LifecircleError as error:
                props["boundary_error"] = str(error)
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    collection = {"type": "FeatureCollection", "name": "city"}
    member = geojson_crs_member(BOUNDARY_CRS)
    if member:
        collection["crs"] = member
    collection["features"] = features
    _write_atomic(out_dir / "city.geojson", json.dumps(collection, ensure_ascii=False, default=_plain) + "\n")
    from lifecircle.optimizer.files import listed_in_marker
    from lifecircle.optimizer.planning.city_gpkg import write_city_gpkg

    # issue 15: every circle's plan.gpkg layers and a circle-level coverage layer (city_gpkg.py)
    write_city_gpkg(out_dir, circles, rows, BOUNDARY_FILE, owned=lambda p: listed_in_marker(p, content=False))
    write_marker(out_dir, kind="city", names=CITY_FILES)


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _write_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    from lifecircle.optimizer.files import listed_in_marker, write_text_atomic

    # city.csv and city.geojson are rewritten whole by every run: listed in the city's marker is
    # enough (a run killed between the rename and the marker update must still resume)
    write_text_atomic(path, text, option="--out", encoding=encoding,
                      owned=lambda p: listed_in_marker(p, content=False))
