"""The workbench's guards (issue 15): the token off localhost, the loopback Host check without it,
same-origin JSON POSTs, scenario files confined to their folder, security headers. No solve runs."""

from __future__ import annotations

import os

import pytest
from starlette.testclient import TestClient

from lifecircle.optimizer.serve.app import create_app
from lifecircle.optimizer.serve.command import effective_token, server_url
from lifecircle.optimizer.serve.security import check_scenario_files, is_local_host
from support.scenarios import REPO, write_scenario

TOKEN = "s3cret-token"
LOCAL = "http://127.0.0.1"


@pytest.fixture()
def city(tmp_path):
    """A city folder with one good scenario, ``good``."""
    write_scenario(tmp_path / "city" / "good")
    return tmp_path / "city"


def test_with_a_token_every_request_needs_it(city):
    app = create_app(city, token=TOKEN, out_dir=city / "runs")
    with TestClient(app, base_url="http://192.0.2.10:8765") as c:
        for path in ("/", "/api/scenarios", "/api/scenario/good", "/static/app.js"):
            r = c.get(path)
            assert r.status_code == 403 and r.headers["content-type"] == "application/json", path
            assert r.json()["error"].startswith("access token missing or wrong")
        assert c.get("/api/scenarios?token=wrong").status_code == 403
        assert c.get("/api/scenarios", headers={"X-Lifecircle-Token": "wrong"}).status_code == 403
        assert c.get("/api/scenarios", headers={"X-Lifecircle-Token": TOKEN}).status_code == 200
        assert "set-cookie" not in c.get("/api/scenarios", headers={"X-Lifecircle-Token": TOKEN}).headers
        r = c.get(f"/api/scenarios?token={TOKEN}")  # the printed URL's ?token= sets the cookie once
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"lifecircle_token={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/api/scenario/good").status_code == 200  # the cookie alone now
        c.cookies.clear()
        assert c.get("/api/scenario/good").status_code == 403


def test_without_a_token_only_loopback_hosts_are_answered(city):
    app = create_app(city, out_dir=city / "runs")
    for base in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"):
        with TestClient(app, base_url=base) as c:
            assert c.get("/api/scenarios").status_code == 200, base
    with TestClient(app, base_url="http://attacker.example:8765") as c:  # a DNS-rebinding page
        r = c.get("/api/scenarios")
        assert r.status_code == 403 and "localhost only" in r.json()["error"]


def test_a_non_local_host_gets_a_random_token_and_the_url_carries_it():
    assert effective_token("127.0.0.1", None) is None and effective_token("localhost", None) is None
    assert effective_token("::1", None) is None
    made = {effective_token("0.0.0.0", None) for _ in range(3)}
    assert len(made) == 3 and all(len(t) >= 32 for t in made)
    assert effective_token("192.168.1.5", "mine") == "mine"
    assert server_url("192.168.1.5", 8765, "a b") == "http://192.168.1.5:8765/?token=a%20b"
    assert server_url("127.0.0.1", 8765, None) == "http://127.0.0.1:8765/"
    assert not is_local_host("0.0.0.0") and is_local_host("127.0.0.2") and is_local_host("[::1]")


def test_posts_must_be_same_origin_json(city):
    with TestClient(create_app(city, out_dir=city / "runs"), base_url=LOCAL) as c:
        r = c.post("/api/evaluate", content=b'{"sid": "good", "open": []}', headers={"content-type": "text/plain"})
        assert r.status_code == 415 and r.json()["error"] == "POST bodies must be JSON (Content-Type: application/json)"
        r = c.post("/api/evaluate", json={"sid": "good", "open": []}, headers={"origin": "http://evil.example"})
        assert r.status_code == 403 and r.json()["error"] == "cross-origin request from http://evil.example refused"
        r = c.post("/api/evaluate", json={"sid": "good", "open": [{"id": "S2", "type": "canteen"}]},
                   headers={"origin": LOCAL})
        assert r.status_code == 200 and r.json()["cost_cny"] == 400
        r = c.post("/api/jobs/nope/cancel")  # bodyless: allowed through to the 404
        assert r.status_code == 404


def test_every_response_carries_the_security_headers(city):
    with TestClient(create_app(city, out_dir=city / "runs"), base_url=LOCAL) as c:
        for path in ("/api/scenarios", "/api/nothing"):
            headers = c.get(path).headers
            assert "script-src 'self'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


YAML_WITH = """\
name: hostile
crs: EPSG:4545
circle_type: other
budget: 1000
groups: {{elderly: 2.0, children: 1.0}}
facility_types:
  canteen: {{label: 社区食堂, serves: [elderly], walk_minutes: 10}}
demand: {demand}
sites: sites.csv
"""


def hostile(city, sid: str, demand: str):
    folder = city / sid
    write_scenario(folder, yaml_text=YAML_WITH.format(demand=demand), existing=None)
    return folder / "scenario.yaml"


def refused(city, sid: str) -> str:
    with TestClient(create_app(city, out_dir=city / "runs"), base_url=LOCAL) as c:
        assert sid in [s["sid"] for s in c.get("/api/scenarios").json()["scenarios"]]  # listed, not opened
        for r in (c.get(f"/api/scenario/{sid}"), c.post("/api/solve", json={"sid": sid}),
                  c.post("/api/evaluate", json={"sid": sid, "open": []})):
            assert r.status_code == 400
        assert c.get("/api/runs").json() == {"runs": []}
        return r.json()["error"]


def test_a_scenario_reading_above_its_folder_is_refused(city):
    (city / "outside.csv").write_text("id,x,y,elderly,children\nD1,500000,3300000,1,1\n", encoding="utf-8")
    yaml = hostile(city, "up", "../outside.csv")
    assert refused(city, "up") == (f"{yaml}, field 'demand': '../outside.csv' goes up with '..'; the workbench "
                                   "reads files inside the scenario's folder only")


def test_a_scenario_reading_an_absolute_path_is_refused(city):
    target = city / "good" / "demand.csv"
    yaml = hostile(city, "absolute", str(target))
    assert refused(city, "absolute") == (f"{yaml}, field 'demand': '{target}' is an absolute path; the workbench "
                                         "reads files inside the scenario's folder only")


def test_a_scenario_with_a_link_out_of_its_folder_is_refused(city):
    yaml = hostile(city, "linked", "demand_link.csv")
    os.symlink(city / "good" / "demand.csv", city / "linked" / "demand_link.csv")
    assert refused(city, "linked") == ("f{yaml}, field 'demand': demand_link.csv is a link to outside the "
                                       "scenario's folder; the workbench reads files inside the scenario's folder "
                                       "only").replace("f{yaml}", str(yaml))


def test_a_scenario_reading_a_database_is_refused(city):
    yaml = hostile(city, "db", "{db: 'postgresql://example/x', table: demand}")
    assert refused(city, "db") == (f"{yaml}, field 'demand': a database layer is not read by the workbench; it "
                                   "reads files inside the scenario's folder only")


def test_a_link_inside_the_folder_is_fine(city):
    hostile(city, "inner", "demand_link.csv")
    os.symlink("demand.csv", city / "inner" / "demand_link.csv")
    with TestClient(create_app(city, out_dir=city / "runs"), base_url=LOCAL) as c:
        r = c.get("/api/scenario/inner")
        assert r.status_code == 200 and len(r.json()["demand"]) == 4


def test_a_circle_outline_linked_from_outside_is_refused(city, tmp_path):
    (tmp_path / "elsewhere.geojson").write_text('{"type": "Polygon", "coordinates": []}')
    os.symlink(tmp_path / "elsewhere.geojson", city / "good" / "boundary.geojson")
    assert refused(city, "good") == (f"{city / 'good' / 'boundary.geojson'}: a link to outside the scenario's "
                                     "folder; the workbench reads files inside the scenario's folder only")


def test_a_walking_network_linked_from_outside_is_refused(city, tmp_path):
    from support.network import write_hand_scenario

    yaml = write_hand_scenario(city / "net")
    (city / "net" / "streets.geojson").rename(tmp_path / "streets.geojson")
    os.symlink(tmp_path / "streets.geojson", city / "net" / "streets.geojson")
    assert refused(city, "net") == (f"{yaml}, field 'walking.network': streets.geojson is a link to outside the "
                                    "scenario's folder; the workbench reads files inside the scenario's folder only")


@pytest.mark.parametrize("folder", sorted(p.name for p in (REPO / "scenarios").iterdir()
                                          if (p / "scenario.yaml").is_file()))
def test_every_bundled_scenario_reads_only_inside_its_folder(folder):
    # yuzhong_capacity once read ../yuzhong_hillside/sites.csv and the workbench refused it
    check_scenario_files(REPO / "scenarios" / folder / "scenario.yaml")
