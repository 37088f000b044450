"""``create_app``: the workbench's Starlette application (issue 15; the API is in
/work/notes/serve-contract.md and the README's Workbench section).

Every answer under /api is JSON; errors are ``{"error": "one line"}`` with 400, 403, 404, 409, 413,
415 or 429. The page is the static index.html, app.js and app.css of ``optimizer/serve/static``:
no HTML is ever built from data on the server.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lifecircle.optimizer.errors import LifecircleError
from lifecircle.optimizer.serve.catalog import Catalog
from lifecircle.optimizer.serve.httperror import ApiError
from lifecircle.optimizer.serve.jobs import JobRegistry
from lifecircle.optimizer.serve.runs import RunStore, new_rid, parse_budget
from lifecircle.optimizer.serve.security import GuardMiddleware

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 1_000_000
MAX_SWEEP_POINTS = 50
MAX_TIME_LIMIT_S = 24 * 3600.0


def create_app(folder, *, token: str | None = None, max_solves: int = 2, lang: str | None = None,
               out_dir=None) -> Starlette:
    """The workbench for FOLDER (one scenario, or a city of scenario folders).

    Parameters
    ----------
    token : required on every request when given (query ``?token=`` once, then a cookie; or the
        ``X-Lifecircle-Token`` header). Without it only loopback Host headers are served.
    max_solves : solves and sweeps running at once; one more is refused with 429.
    lang : zh | en for labels and reports (default: each scenario's ``language``).
    out_dir : where run folders go (default ``FOLDER/results/serve``).
    """
    catalog = Catalog(folder, lang)
    runs = RunStore(catalog, Path(out_dir) if out_dir is not None else catalog.root / "results" / "serve")
    jobs = JobRegistry(runs, max_solves)
    api = _Api(catalog, runs, jobs, lang)
    routes = [
        Route("/", api.index),
        Mount("/static", app=StaticFiles(directory=STATIC, check_dir=False), name="static"),
        Route("/api/scenarios", api.scenarios),
        Route("/api/scenario/{sid}", api.scenario),
        Route("/api/solve", api.solve, methods=["POST"]),
        Route("/api/sweep", api.sweep, methods=["POST"]),
        Route("/api/jobs/{jid}", api.job),
        Route("/api/jobs/{jid}/cancel", api.cancel, methods=["POST"]),
        Route("/api/runs", api.run_list),
        Route("/api/runs/{rid}", api.run),
        Route("/api/runs/{rid}/files/{name}", api.file),
        Route("/api/evaluate", api.evaluate, methods=["POST"]),
        Route("/api/compare", api.compare),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:  # the server stops: no solver process outlives it
            await run_in_threadpool(jobs.shutdown)

    app = Starlette(routes=routes, exception_handlers={
        ApiError: _api_error, LifecircleError: _lifecircle_error, HTTPException: _http_error}, lifespan=lifespan)
    app.add_middleware(GuardMiddleware, token=token)
    app.state.catalog, app.state.runs, app.state.jobs = catalog, runs, jobs
    return app


def _api_error(request, error: ApiError):
    return JSONResponse({"error": error.message}, status_code=error.status)


def _lifecircle_error(request, error: LifecircleError):
    return JSONResponse({"error": " ".join(str(error).split())}, status_code=400)


def _http_error(request, error: HTTPException):
    message = {404: "not found", 405: "method not allowed"}.get(error.status_code, str(error.detail))
    return JSONResponse({"error": message}, status_code=error.status_code)


def _json(data, status_code: int = 200) -> JSONResponse:
    return JSONResponse(_clean(data), status_code=status_code)


def _clean(value):
    """JSON-safe: numpy scalars to Python, NaN and infinity to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


async def _body(request: Request) -> dict:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body over {MAX_BODY_BYTES:,} bytes")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "request body: not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body: expected a JSON object")
    return body


class _Api:
    def __init__(self, catalog: Catalog, runs: RunStore, jobs: JobRegistry, lang):
        self.catalog, self.runs, self.jobs, self.lang = catalog, runs, jobs, lang

    async def index(self, request):
        page = STATIC / "index.html"
        if not page.is_file():
            raise ApiError(404, "the workbench page is not installed (optimizer/serve/static/index.html)")
        return FileResponse(page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    async def scenarios(self, request):
        return _json({"scenarios": await run_in_threadpool(self.catalog.listing), "lang": self.lang})

    async def scenario(self, request):
        return _json(await run_in_threadpool(self.catalog.scenario_json, request.path_params["sid"]))

    async def solve(self, request):
        body = await _body(request)
        job = await run_in_threadpool(self._start_solve, body)
        return _json({"job": job.jid}, 202)

    async def sweep(self, request):
        body = await _body(request)
        job = await run_in_threadpool(self._start_sweep, body)
        return _json({"job": job.jid}, 202)

    async def job(self, request):
        return _json(self.jobs.get(request.path_params["jid"]).json())

    async def cancel(self, request):
        job = await run_in_threadpool(self.jobs.cancel, request.path_params["jid"])
        return _json({"job": job.jid, "state": job.state})

    async def run_list(self, request):
        return _json({"runs": await run_in_threadpool(self.runs.listing)})  # may load scenarios

    async def run(self, request):
        return _json(await run_in_threadpool(self.runs.run_json, request.path_params["rid"]))

    async def file(self, request):
        path = await run_in_threadpool(self.runs.file_path, request.path_params["rid"], request.path_params["name"])
        return FileResponse(path, filename=path.name, content_disposition_type="attachment")

    async def evaluate(self, request):
        body = await _body(request)
        return _json(await run_in_threadpool(self.runs.evaluate_json, body))

    async def compare(self, request):
        a, b = request.query_params.get("a"), request.query_params.get("b")
        if not a or not b:
            raise ApiError(400, "compare: give two runs as ?a=RID&b=RID")
        return _json(await run_in_threadpool(self.runs.compare_json, a, b))

    # ---- job specs --------------------------------------------------------------------------

    def _common(self, body: dict) -> tuple[str, dict, tuple]:
        """(sid, spec, rule arrays) shared by solve and sweep: scenario, solver, rules, time limit."""
        from lifecircle.optimizer.solve.backends import DEFAULT_BACKEND, REGISTRY

        sid = body.get("sid")
        loaded = self.catalog.load(sid)  # 404 / 400 (confinement, bad scenario) before any job
        solver = body.get("solver") or DEFAULT_BACKEND
        if not isinstance(solver, str) or solver not in REGISTRY:
            raise ApiError(400, f"solver: unknown solver {solver!r}; choose one of {', '.join(sorted(REGISTRY))}")
        if not REGISTRY[solver].available():
            raise ApiError(400, f"solver: {solver} needs the Python package {REGISTRY[solver].library!r}, "
                                "which is not installed")
        time_limit = body.get("time_limit_s")
        if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                       or not 0 < time_limit <= MAX_TIME_LIMIT_S):
            raise ApiError(400, f"time_limit_s: value {time_limit!r} must be a number in (0, {MAX_TIME_LIMIT_S:g}]")
        must_open, forbid, min_open, arrays = self._rules(sid, loaded.scenario, body)
        spec = {"scenario_path": str(loaded.path), "solver": solver, "time_limit_s": time_limit,
                "must_open": must_open, "forbid": forbid, "min_open": min_open, "lang": self.lang,
                "cache_dir": None if self.catalog.cache_dir(loaded.scenario) is None
                else str(self.catalog.cache_dir(loaded.scenario))}
        return sid, spec, arrays

    def _rules(self, sid, sc, body: dict):
        """The request's must_open / forbid / min_open merged over the YAML's rules: a site the
        request forbids leaves the YAML's must_open, a site it opens leaves the YAML's forbid."""
        from lifecircle.optimizer.core.problem import NO_TYPE

        index = self.catalog.site_index(sid)
        costs = sc.cost_matrix()
        asked = {}
        for n, item in enumerate(_list(body.get("must_open"), "must_open")):
            site_id, key = (item.get("id"), item.get("type")) if isinstance(item, dict) else (item, None)
            if site_id not in index:
                raise ApiError(400, f"must_open[{n}]: unknown site {site_id!r}")
            key = key or sc.must_open.get(site_id) or self.catalog.cheapest_type(sid, index[site_id])
            if key not in sc.type_names or not np.isfinite(costs[index[site_id], sc.type_names.index(key)]):
                raise ApiError(400, f"must_open[{n}]: site {site_id} cannot host facility type {key!r}")
            asked[site_id] = key
        forbid_asked = []
        for n, site_id in enumerate(_list(body.get("forbid"), "forbid")):
            if site_id not in index:
                raise ApiError(400, f"forbid[{n}]: unknown site {site_id!r}")
            if site_id in asked:
                raise ApiError(400, f"forbid[{n}]: site {site_id} is also in must_open")
            forbid_asked.append(site_id)
        must_open = {s: k for s, k in sc.must_open.items() if s not in forbid_asked} | asked
        forbid = list(dict.fromkeys([s for s in sc.forbid if s not in asked] + forbid_asked))
        min_open = dict(sc.min_open)
        raw = body.get("min_open") or {}
        if not isinstance(raw, dict):
            raise ApiError(400, "min_open: expected {facility type: count}")
        for key, count in raw.items():
            if key not in sc.type_names:
                raise ApiError(400, f"min_open.{key}: unknown facility type; types are {', '.join(sc.type_names)}")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ApiError(400, f"min_open.{key}: value {count!r} must be a whole number >= 0")
            min_open[key] = count
        must_arr = np.full(len(index), NO_TYPE, dtype=np.int64)
        for s, k in must_open.items():
            must_arr[index[s]] = sc.type_names.index(k)
        forbidden = np.zeros(len(index), dtype=bool)
        forbidden[[index[s] for s in forbid]] = True
        return must_open, forbid, min_open, (must_arr, forbidden)

    def _start_solve(self, body: dict):
        sid, spec, arrays = self._common(body)
        sc = self.catalog.load(sid).scenario
        budget = parse_budget(body["budget_cny"]) if body.get("budget_cny") is not None else float(sc.budget_cny)
        rid = new_rid()
        spec |= {"budget_cny": budget, "rid": rid, "folder": str(self.runs.folder_of(rid))}
        return self.jobs.start("solve", sid, spec, [rid], arrays)

    def _start_sweep(self, body: dict):
        sid, spec, arrays = self._common(body)
        raw = _list(body.get("budgets_cny"), "budgets_cny")
        budgets = sorted({parse_budget(b, f"budgets_cny[{n}]") for n, b in enumerate(raw)})
        if not 1 <= len(budgets) <= MAX_SWEEP_POINTS:
            raise ApiError(400, f"budgets_cny: give 1 to {MAX_SWEEP_POINTS} budgets, got {len(budgets)}")
        rids = [new_rid() for _ in budgets]
        spec |= {"budgets_cny": budgets, "rids": rids, "folders": [str(self.runs.folder_of(r)) for r in rids]}
        return self.jobs.start("sweep", sid, spec, rids, arrays)


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(400, f"{what}: expected a list")
    return value
