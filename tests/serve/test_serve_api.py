"""The workbench's JSON API (issue 15) on the bundled scenarios, through Starlette's TestClient.

Solves really run (in the server's child processes); their figures are checked against the run
layer (``optimizer.run``) and :func:`optimizer.core.solution.evaluate` called here directly.
"""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from lifecircle.cli import main
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.run import load_problem, solve_loaded
from lifecircle.optimizer.serve.app import create_app
from support.scenarios import REPO

SCENARIOS = REPO / "scenarios"
SID = "bishan_rural"
BUDGET_CNY = 4_000_000.0  # about half the YAML's 8.3 million: a plan that leaves people out
JOB_TIMEOUT_S = 120


def wait_job(client, jid, *, until=lambda job: job["state"] != "running"):
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{jid}").json()
        if until(job) or job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {jid} still running after {JOB_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("serve-runs")


@pytest.fixture(scope="module")
def client(out_dir):
    with TestClient(create_app(SCENARIOS, out_dir=out_dir), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def started(client):
    """{"solve": jid, "sweep": jid}: one solve of bishan_rural at BUDGET_CNY and one sweep, started
    together (max_solves 2) so their processes overlap."""
    jobs = {}
    for kind, body in (("solve", {"sid": SID, "budget_cny": BUDGET_CNY}),
                       ("sweep", {"sid": SID, "budgets_cny": [BUDGET_CNY, 2_000_000]})):
        r = client.post(f"/api/{kind}", json=body)
        assert r.status_code == 202, r.text
        jobs[kind] = r.json()["job"]
    return jobs


@pytest.fixture(scope="module")
def solved(client, started):
    """(job, run JSON) of the solve of bishan_rural at BUDGET_CNY."""
    job = wait_job(client, started["solve"])
    assert job["state"] == "done", job
    run = client.get(f"/api/runs/{job['run']}")
    assert run.status_code == 200
    return job, run.json()


@pytest.fixture(scope="module")
def reference():
    """The same solve through the run layer `lifecircle solve` uses: (scenario, problem, solved)."""
    scenario, problem, facts, _, loaded_s = load_problem(SCENARIOS / SID / "scenario.yaml", out_dir="unused",
                                                         budget_cny=BUDGET_CNY)
    return scenario, problem, solve_loaded(scenario, problem, "highs", None, loaded_s, facts)


def test_the_scenarios_of_a_city_folder_are_listed_by_folder_name(client):
    listed = client.get("/api/scenarios").json()["scenarios"]
    found = {p.parent.name for p in [*SCENARIOS.rglob("scenario.yaml"), *SCENARIOS.rglob("scenario.yml")]
             if not any(part.startswith(".") for part in p.relative_to(SCENARIOS).parts)}
    assert [s["sid"] for s in listed] == sorted(found)
    bishan = next(s for s in listed if s["sid"] == SID)
    assert bishan["language"] == "zh" and "璧山" in bishan["name"]


def test_the_scenario_json_has_every_layer_in_metres(client):
    r = client.get(f"/api/scenario/{SID}")
    assert r.status_code == 200
    data = json.loads(r.text)  # strict JSON: no NaN anywhere
    assert {"sid", "name", "language", "budget_cny", "solvers", "groups", "types", "boundary", "network",
            "demand", "sites", "existing"} <= set(data)
    assert data["budget_cny"] == 8_300_000 and data["solvers"][0] == "highs"
    assert [g["name"] for g in data["groups"]] == ["elderly", "infants", "children"]
    assert [g["weight"] for g in data["groups"]] == [1.0, 1.0, 0.5]
    reach = {t["name"]: t for t in data["types"]}  # minutes x 60 x speed / detour factor
    assert reach["elder_child"]["reach_m"] == pytest.approx(15 * 60 * 1.0 / 1.4, abs=0.01)  # the widest
    assert reach["elder_child"]["reach_m_by_group"]["elderly"] == pytest.approx(15 * 60 * 0.8 / 1.4, abs=0.01)
    assert reach["canteen"]["reach_m_by_group"] == {"elderly": pytest.approx(10 * 60 * 0.8 / 1.4, abs=0.01)}
    with open(SCENARIOS / SID / "demand.csv", encoding="utf-8-sig") as f:
        demand_rows = list(csv.DictReader(f))
    with open(SCENARIOS / SID / "sites.csv", encoding="utf-8-sig") as f:
        site_rows = list(csv.DictReader(f))
    assert len(data["demand"]) == len(demand_rows) == 1800
    assert [d["i"] for d in data["demand"]] == list(range(1800))
    assert sum(d["population"]["elderly"] for d in data["demand"]) == sum(float(r["elderly"]) for r in demand_rows)
    assert [s["id"] for s in data["sites"]] == [r["id"] for r in site_rows]
    first = data["sites"][0]
    assert first["cost_cny"] == {k: float(site_rows[0][f"cost_{k}"]) for k in ("elder_child", "canteen")
                                 if site_rows[0][f"cost_{k}"]}
    assert first["must_open"] is False and first["forbidden"] is False and first["kind"] == site_rows[0]["kind"]
    # metres of EPSG:4544 (the scenario's CRS is already projected): the CSV's own x, y
    assert (first["x"], first["y"]) == (pytest.approx(float(site_rows[0]["x"]), abs=0.01),
                                        pytest.approx(float(site_rows[0]["y"]), abs=0.01))
    assert len(data["existing"]) == 1 and data["network"] is None


def test_a_solve_job_gives_the_objective_of_lifecircle_solve(solved, reference):
    job, run = solved
    _, problem, ref = reference
    assert ref.solution.status == "optimal"
    assert run["status"] == "optimal" and run["objective"] == ref.solution.objective
    assert run["evaluated_objective"] == ref.solution.objective
    assert run["budget_cny"] == BUDGET_CNY and run["cost_cny"] <= BUDGET_CNY
    assert [e["message"] for e in job["events"] if e["kind"] == "phase"][:4] == ["starting", "loading", "coverage", "solving"]
    # the coverage rows and who is covered come from evaluate() of the same plan
    site = np.array([s["j"] for s in run["selected"]])
    type_ = np.array([problem.type_names.index(s["type"]) for s in run["selected"]])
    ev = evaluate(problem, site, type_)
    assert ev.objective == run["objective"]
    elderly = next(c for c in run["coverage"] if c["group"] == "elderly")
    assert elderly["population"] == 6330 and elderly["covered_before"] <= elderly["covered_after"]
    assert set(run["covered_after"]) == {"elderly", "infants", "children"}
    assert {"report.html", "sites.xlsx", "sites.csv", "summary.json"} <= set(run["files"])


def test_removing_a_site_drops_the_objective_by_its_unique_contribution(client, solved, reference):
    _, run = solved
    _, problem, _ = reference
    opened = [{"id": s["id"], "type": s["type"]} for s in run["selected"]]
    ranked = sorted(range(len(opened)), key=lambda n: -run["selected"][n]["unique_contribution"])
    for n in (ranked[0], ranked[-1]):  # the most and the least useful site
        what_if = opened[:n] + opened[n + 1:]
        r = client.post("/api/evaluate", json={"sid": SID, "rid": run["rid"], "open": what_if})
        assert r.status_code == 200, r.text
        ev = r.json()
        unique = run["selected"][n]["unique_contribution"]
        assert unique > 0
        assert run["objective"] - ev["objective"] == unique  # exactly, not approximately
        site = np.array([problem.site_ids.index(o["id"]) for o in what_if])
        type_ = np.array([problem.type_names.index(o["type"]) for o in what_if])
        assert ev["objective"] == evaluate(problem, site, type_).objective
        assert ev["cost_cny"] == run["cost_cny"] - run["selected"][n]["cost_cny"]
        # per YAML group, people covered by no service any more (under per_service a point may keep
        # its group covered through the other type, so this is at most the weighted drop)
        assert sum(ev["gained"].values()) == 0 and all(v >= 0 for v in ev["lost"].values())
        assert sum({"elderly": 1.0, "infants": 1.0, "children": 0.5}[g] * v for g, v in ev["lost"].items()) <= unique
        assert ev["feasible"]


def test_a_what_if_adding_a_site_gains_people(client, solved):
    _, run = solved
    scenario = client.get(f"/api/scenario/{SID}").json()
    chosen = {s["id"] for s in run["selected"]}
    extra = next(s for s in scenario["sites"] if s["id"] not in chosen and "elder_child" in s["cost_cny"])
    opened = [{"id": s["id"], "type": s["type"]} for s in run["selected"]] + [{"id": extra["id"]}]
    ev = client.post("/api/evaluate", json={"sid": SID, "rid": run["rid"], "open": opened}).json()
    assert ev["objective"] >= run["objective"] and sum(ev["lost"].values()) == 0
    cheapest = min(extra["cost_cny"].values())
    assert ev["cost_cny"] == run["cost_cny"] + cheapest  # no type given: the cheapest allowed


def test_a_sweep_stores_each_budget_as_a_run_and_runs_compare(client, started, solved):
    _, run = solved
    job = wait_job(client, started["sweep"])
    assert job["state"] == "done", job
    points = job["sweep"]
    assert [p["budget_cny"] for p in points] == [2_000_000, BUDGET_CNY]
    assert points[1]["objective"] == run["objective"]  # the same optimum as the solve's
    assert points[0]["objective"] < points[1]["objective"]
    low = client.get(f"/api/runs/{points[0]['rid']}").json()
    assert low["objective"] == points[0]["objective"] == low["evaluated_objective"]
    assert "summary.json" in low["files"]
    listed = {r["rid"] for r in client.get("/api/runs").json()["runs"]}
    assert {run["rid"], points[0]["rid"], points[1]["rid"]} <= listed
    cmp = client.get(f"/api/compare?a={points[0]['rid']}&b={run['rid']}").json()
    ids_low = {s["id"] for s in low["selected"]}
    ids_run = {s["id"] for s in run["selected"]}
    assert set(cmp["only_a"]) == ids_low - ids_run and set(cmp["only_b"]) == ids_run - ids_low
    assert set(cmp["both"]) == ids_low & ids_run and cmp["b"]["objective"] == run["objective"]


def test_rules_of_a_request_bind_the_solve(client, solved):
    """Re-optimise around a choice: the most useful site forbidden, a cheap one fixed."""
    _, run = solved
    top = max(run["selected"], key=lambda s: s["unique_contribution"])["id"]
    scenario = client.get(f"/api/scenario/{SID}").json()
    chosen = {s["id"] for s in run["selected"]}
    fixed = next(s for s in scenario["sites"] if s["id"] not in chosen and "canteen" in s["cost_cny"])
    r = client.post("/api/solve", json={"sid": SID, "budget_cny": BUDGET_CNY, "forbid": [top],
                                        "must_open": [{"id": fixed["id"], "type": "canteen"}]})
    job = wait_job(client, r.json()["job"])
    assert job["state"] == "done", job
    again = client.get(f"/api/runs/{job['run']}").json()
    ids = {s["id"]: s["type"] for s in again["selected"]}
    assert top not in ids and ids[fixed["id"]] == "canteen"
    assert again["objective"] <= run["objective"]  # a constrained optimum is no better


def test_run_files_download_only_by_listed_name(client, solved):
    _, run = solved
    r = client.get(f"/api/runs/{run['rid']}/files/summary.json")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert json.loads(r.content)["objective"] == run["objective"]
    for name in (".lifecircle.json", "nothing.csv", "..%2f..%2fscenario.yaml", "..%2fsummary.json"):
        r = client.get(f"/api/runs/{run['rid']}/files/{name}")
        assert r.status_code == 404 and "error" in r.json(), name
    assert client.get("/api/runs/nope/files/summary.json").status_code == 404


@pytest.mark.parametrize("body, status, message", [
    ({"sid": "nowhere"}, 404, "unknown scenario 'nowhere'"),
    ({"sid": SID, "budget_cny": -1}, 400, "budget_cny: value -1 must be a finite number >= 0"),
    ({"sid": SID, "solver": "magic"}, 400, "solver: unknown solver 'magic'"),
    ({"sid": SID, "must_open": ["s9999"]}, 400, "must_open[0]: unknown site 's9999'"),
    ({"sid": SID, "must_open": ["s0001"], "forbid": ["s0001"]}, 400, "forbid[0]: site s0001 is also in must_open"),
    ({"sid": SID, "time_limit_s": 0}, 400, "time_limit_s: value 0 must be a number in (0, 86400]"),
])
def test_bad_requests_are_one_line_errors(client, body, status, message):
    r = client.post("/api/solve", json=body)
    assert r.status_code == status
    assert r.json()["error"].startswith(message) and "\n" not in r.json()["error"]


def test_unknown_things_are_404_json(client):
    for path in ("/api/jobs/nope", "/api/runs/nope", "/api/scenario/nope", "/api/nothing"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/json", path
    assert client.post("/api/evaluate", content=b"{not json", headers={"content-type": "application/json"}
                       ).json() == {"error": "request body: not valid JSON"}


def test_cancel_stops_the_solver_and_leaves_no_run_folder(tmp_path):
    """yuzhong_hillside's MILP takes over a minute: cancelled while solving, its process is gone at
    once; a second solve meanwhile is refused (429 at max_solves=1); a solve cancelled before its
    process has started is cancelled too. No run folder, no temporary is left."""
    out = tmp_path / "runs"
    with TestClient(create_app(SCENARIOS, out_dir=out, max_solves=1), base_url="http://127.0.0.1") as c:
        jid = c.post("/api/solve", json={"sid": "yuzhong_hillside"}).json()["job"]
        job = wait_job(c, jid, until=lambda j: any(e.get("message") == "solving" for e in j["events"]))
        assert job["state"] == "running"
        busy = c.post("/api/solve", json={"sid": SID})
        assert busy.status_code == 429 and "1 solves are running" in busy.json()["error"]
        process = c.app.state.jobs.get(jid).process
        t0 = time.monotonic()
        assert c.post(f"/api/jobs/{jid}/cancel").json() == {"job": jid, "state": "cancelled"}
        assert time.monotonic() - t0 < 10 and not process.is_alive()
        assert c.get(f"/api/jobs/{jid}").json()["state"] == "cancelled"
        early = c.post("/api/solve", json={"sid": SID}).json()["job"]  # the slot is free again
        assert c.post(f"/api/jobs/{early}/cancel").json()["state"] == "cancelled"
        assert c.post(f"/api/jobs/{early}/cancel").json()["state"] == "cancelled"  # twice: no change
        assert c.get("/api/runs").json() == {"runs": []}
    assert not out.exists() or list(out.iterdir()) == []


def test_serve_help_and_a_port_in_use(tmp_path):
    import socket

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--token", "--max-solves", "--no-browser", "--lang"):
        assert option in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", str(SCENARIOS / SID), "--port", str(port), "--no-browser"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"error: --port: port {port} on 127.0.0.1 is in use; stop the other server or give another --port")


def test_a_circle_outline_beside_the_scenario_is_sent_in_metres(tmp_path):
    """boundary.geojson, as `lifecircle city` reads it (here in the scenario's own CRS, EPSG:4545)."""
    from support.scenarios import write_scenario

    folder = tmp_path / "city" / "circle"
    write_scenario(folder)
    ring = [[499800, 3299800], [502200, 3299800], [502200, 3300300], [499800, 3300300], [499800, 3299800]]
    (folder / "boundary.geojson").write_text(json.dumps({
        "type": "Polygon", "coordinates": [ring], "crs": {"type": "name", "properties": {"name": "EPSG:4545"}}}))
    write_scenario(tmp_path / "city" / "plain")
    with TestClient(create_app(tmp_path / "city", out_dir=tmp_path / "runs"), base_url="http://127.0.0.1") as c:
        assert [s["sid"] for s in c.get("/api/scenarios").json()["scenarios"]] == ["circle", "plain"]
        outline = c.get("/api/scenario/circle").json()["boundary"]
        assert outline == [[pytest.approx(x, abs=0.01), pytest.approx(y, abs=0.01)] for x, y in ring]
        assert c.get("/api/scenario/plain").json()["boundary"] is None


def test_a_restarted_server_lists_the_runs_it_wrote(out_dir, solved):
    _, run = solved
    with TestClient(create_app(SCENARIOS, out_dir=out_dir), base_url="http://127.0.0.1") as again:
        listed = {r["rid"]: r for r in again.get("/api/runs").json()["runs"]}
        assert listed[run["rid"]]["objective"] == run["objective"]
        back = again.get(f"/api/runs/{run['rid']}").json()
        assert back["selected"] == run["selected"] and back["coverage"] == run["coverage"]


def test_with_capacities_the_solve_process_works_out_the_unique_contributions(tmp_path):
    """Each evaluate() is an LP under capacities, so the job's own process computes the plan's unique
    contributions (called here in-process: the same function the child runs)."""
    from lifecircle.optimizer.inputs.assemble import build_problem
    from lifecircle.optimizer.inputs.scenario import load_scenario
    from lifecircle.optimizer.serve import worker
    from lifecircle.optimizer.serve.runs import costly_to_evaluate
    from support.scenarios import SCENARIO_YAML, write_scenario

    yaml = write_scenario(tmp_path / "cap", yaml_text=SCENARIO_YAML.replace(
        "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}",
        "canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10, capacity: {elderly: 8}}"),
        existing="id,type,x,y,capacity_elderly\nE1,canteen,501000,3300100,5\n")
    facts = worker.solve({"scenario_path": str(yaml), "solver": "highs", "rid": "r1",
                          "folder": str(tmp_path / "runs" / "r1"), "report": False})["runs"][0]
    problem = build_problem(load_scenario(yaml))
    assert costly_to_evaluate(problem) and facts["status"] == "optimal" and len(facts["site"]) >= 2
    site, type_ = np.array(facts["site"]), np.array(facts["type"])
    whole = evaluate(problem, site, type_).objective
    assert whole == pytest.approx(facts["objective"], abs=1e-6)
    for n, unique in enumerate(facts["unique"]):
        keep = np.arange(site.size) != n
        assert unique == whole - evaluate(problem, site[keep], type_[keep]).objective


def test_lifecircle_serve_runs_until_stopped(tmp_path):
    """The real command: it prints the URL, serves the API, and stops cleanly on SIGTERM (exit 0,
    "stopped", no multiprocessing warning about leaked semaphores)."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    from support.scenarios import write_scenario

    write_scenario(tmp_path / "circle")
    proc = subprocess.Popen([sys.executable, "-m", "lifecircle", "serve", str(tmp_path / "circle"), "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        first = proc.stdout.readline()
        url = re.fullmatch(r"lifecircle workbench: (http://127\.0\.0\.1:\d+/)\n", first).group(1)
        assert proc.stdout.readline() == "Ctrl-C to stop\n"
        with urllib.request.urlopen(url + "api/scenarios", timeout=30) as r:
            assert json.load(r)["scenarios"][0]["sid"] == "circle"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == "stopped\n" and "leaked" not in err and "Traceback" not in err


def test_a_walking_network_is_sent_as_segments_in_metres(tmp_path):
    from support.network import X0, Y0, write_hand_scenario

    write_hand_scenario(tmp_path / "city" / "net")
    with TestClient(create_app(tmp_path / "city", out_dir=tmp_path / "runs"), base_url="http://127.0.0.1") as c:
        network = c.get("/api/scenario/net").json()["network"]
    ends = {tuple(p) for segment in network for p in segment}
    # every line's end points are nodes of the segments sent (the hand map: F1 starts at X0, Y0)
    assert (X0, Y0) in ends and (X0 + 2400, Y0 + 300) in ends and (X0 + 250, Y0 - 100) in ends
    assert all(len(segment) == 2 for segment in network) and len(network) >= 9


def test_job_events_keep_the_contract_fields_and_one_word_per_phase():
    import queue

    from lifecircle.optimizer.serve.worker import Forward

    q = queue.Queue()
    forward = Forward(q)
    forward("phase", message="solving")
    forward("phase", message="solving with highs (budget 4,000,000)", key="phase.solving", budget=4e6)
    forward("phase", message="writing /srv/results/x", key="phase.writing", path="/srv/results/x")
    forward("mip", incumbent=5.0, bound=6.0, gap=0.2, elapsed_s=1.5, solver="highs", final=True)
    forward("step", done=1, total=3, label="budgets", out_dir="/srv")
    forward("other", anything=1)
    sent = [q.get_nowait() for _ in range(q.qsize())]
    assert sent == [("event", "phase", {"message": "solving"}), ("event", "phase", {"message": "writing"}),
                    ("event", "mip", {"incumbent": 5.0, "bound": 6.0, "gap": 0.2, "elapsed_s": 1.5}),
                    ("event", "step", {"done": 1, "total": 3, "label": "budgets"})]


def test_a_job_that_fails_says_why_in_one_line_and_writes_nothing(tmp_path):
    """The data changed under the server: the job's own load names the missing file."""
    from support.scenarios import write_scenario

    write_scenario(tmp_path / "city" / "circle")
    out = tmp_path / "runs"
    with TestClient(create_app(tmp_path / "city", out_dir=out), base_url="http://127.0.0.1") as c:
        assert c.get("/api/scenario/circle").status_code == 200  # loaded by the server
        (tmp_path / "city" / "circle" / "demand.csv").unlink()
        job = wait_job(c, c.post("/api/solve", json={"sid": "circle"}).json()["job"])
    assert job["state"] == "failed" and job["run"] is None
    assert "demand.csv" in job["error"] and "\n" not in job["error"]
    assert not out.exists() or list(out.iterdir()) == []
