"""The workbench in a real browser with real clicks (issue 15): Playwright drives the system
Chromium against the real ``lifecircle serve`` app on a copy of scenarios/bishan_rural.

Checks: a changed budget reaches the solve; clicking a selected site out drops the weighted
coverage by exactly that site's unique contribution (as the server computed it with evaluate());
the download links deliver the run's files; the sweep curve loads a plan on click; comparing two
runs colours the map; and the page makes no request outside 127.0.0.1 and logs no console error.
Skips without Chromium or Playwright, except under CI (CI=true), where it fails instead.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from outputs.test_browser import FLAGS
from support.browser import chromium_path, sync_playwright
from support.report import HOSTILE
from support.scenarios import REPO

BUDGET_CNY = 6_000_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 30_000
# The report test's flags, but Playwright adds --headless itself, and the resolver that answers
# nothing must still let the page reach the server on 127.0.0.1.
ARGS = [f for f in FLAGS if f != "--headless" and not f.startswith("--host-resolver-rules")]
ARGS.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost")


@pytest.fixture(scope="module")
def chromium():
    path = chromium_path()
    with sync_playwright()() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS)
        yield browser
        browser.close()


class Watched:
    """A page whose requests, console errors and uncaught exceptions are recorded."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(url)
        self.page.wait_for_selector("#map [data-site-id]")

    def outside(self) -> list[str]:
        return [u for u in self.requests
                if not u.startswith("data:") and urlparse(u).hostname not in LOCAL_HOSTS]

    def close(self):
        self.context.close()


@pytest.fixture
def watched(chromium, workbench):
    w = Watched(chromium, workbench.url)
    yield w
    w.close()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.load(resp)


def solve(page, budget_cny=None) -> str:
    """Press Solve (after setting the budget) and wait for the page to show the new run."""
    before = page.get_attribute("#run-status", "data-rid") or ""
    if budget_cny is not None:
        page.fill("#budget", str(budget_cny))
    page.click("#solve")
    page.wait_for_function("old => (document.querySelector('#run-status').dataset.rid || '') !== old",
                           arg=before)
    return page.get_attribute("#run-status", "data-rid")


def weighted(page) -> float:
    return float(page.get_attribute("#weighted", "data-value"))


# A selected marker that is the topmost element at its centre, so a real click lands on it.
TOPMOST_SELECTED = """() => {
  for (const n of document.querySelectorAll('#map .site.selected')) {
    const r = n.getBoundingClientRect();
    if (document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === n) return n.dataset.siteId;
  }
  return null;
}"""


def screenshot_path(tmp_path: Path) -> Path:
    if os.environ.get("LIFECIRCLE_SCREENSHOTS") == "1":
        return REPO / "docs" / "workbench.png"
    return tmp_path / "workbench.png"


def test_solve_click_out_and_download(watched, workbench, tmp_path):
    page = watched.page
    assert page.input_value("#budget") == "8300000"
    rid = solve(page, BUDGET_CNY)
    run = get_json(f"{workbench.url}api/runs/{rid}")
    assert page.get_attribute("#progress", "data-state") == "done"
    state, *phases = page.text_content("#progress").split(" · ")
    assert state == "完成" and phases  # the state and the last phase, in the scenario's language
    assert run["budget_cny"] == BUDGET_CNY
    assert 0 < run["cost_cny"] <= BUDGET_CNY
    assert weighted(page) == run["objective"]
    assert page.locator("#coverage tbody tr").count() == len(run["coverage"])
    assert page.locator("#sites tr[data-site-id]").count() == len(run["selected"])
    assert page.locator("#map .site.selected").count() == len(run["selected"])
    # The site list and the map are linked: hovering a row lights its marker.
    first = run["selected"][0]["id"]
    page.hover(f'#sites tr[data-site-id="{first}"]')
    assert "hl" in page.get_attribute(f'#map [data-site-id="{first}"]', "class").split()

    # What-if: take one selected site out by clicking its marker on the map.
    site_id = page.evaluate(TOPMOST_SELECTED)
    assert site_id is not None, "every selected marker is covered by another element"
    (site,) = [s for s in run["selected"] if s["id"] == site_id]
    old = weighted(page)
    page.locator(f'#map [data-site-id="{site_id}"]').click()
    page.wait_for_function("old => document.querySelector('#weighted').dataset.value !== old",
                           arg=page.get_attribute("#weighted", "data-value"))
    new = weighted(page)
    assert old == run["objective"]
    assert abs(new - (old - site["unique_contribution"])) <= 1e-9
    assert page.get_attribute(f'#map [data-site-id="{site_id}"]', "class").split()[:2] == ["site", "candidate"]
    assert page.locator(f'#sites tr[data-site-id="{site_id}"]').count() == 0
    assert float(page.get_attribute("#cost", "data-value")) == pytest.approx(run["cost_cny"] - site["cost_cny"])
    assert page.locator("#gainloss li").count() == len(run["coverage"])
    assert page.is_enabled("#reoptimise")
    page.screenshot(path=str(screenshot_path(tmp_path)))

    # Downloads: the GeoPackage a planner opens in QGIS.
    wanted = "plan.gpkg"
    assert wanted in run["files"]
    with page.expect_download() as info:
        page.click(f'#downloads a[data-file="{wanted}"]')
    download = info.value
    assert download.suggested_filename == wanted
    saved = tmp_path / wanted
    download.save_as(saved)
    assert saved.stat().st_size > 0
    assert saved.read_bytes()[:16] == b"SQLite format 3\x00"

    assert watched.outside() == []
    assert watched.errors == []


def test_cancel_sweep_curve_and_compare(watched, workbench):
    """Cancel, then a sweep whose curve loads plans, then two runs compared on the map."""
    page = watched.page
    # Cancel right after Solve: the job ends cancelled, and no run or run folder appears.
    runs_dir = workbench.folder / "results" / "serve"
    before = sorted(p.name for p in runs_dir.iterdir()) if runs_dir.is_dir() else []
    n_runs = len(get_json(f"{workbench.url}api/runs")["runs"])
    page.fill("#budget", "7000000")
    page.click("#solve")
    page.click("#cancel")  # enabled once the server has taken the job
    page.wait_for_function("() => ['cancelled', 'done', 'failed'].includes(document.querySelector('#progress').dataset.state)")
    assert page.get_attribute("#progress", "data-state") == "cancelled"
    assert page.is_enabled("#solve") and not page.is_enabled("#cancel")
    assert len(get_json(f"{workbench.url}api/runs")["runs"]) == n_runs
    assert (sorted(p.name for p in runs_dir.iterdir()) if runs_dir.is_dir() else []) == before

    # A sweep of two budgets, drawn as a curve whose points load their plans.
    budgets = [3_000_000, 8_300_000]
    page.fill("#sweep-budgets", ", ".join(map(str, budgets)))
    page.click("#sweep")
    page.wait_for_selector("#curve circle.point[data-budget]")
    points = page.locator("#curve circle.point")
    assert sorted(float(b) for b in (points.nth(n).get_attribute("data-budget") for n in range(points.count()))) == budgets
    # Clicking the small budget's point loads its plan.
    page.click('#curve circle.point[data-budget="3000000"]')
    page.wait_for_function("() => document.querySelector('#budget').value === '3000000'")
    small = get_json(f"{workbench.url}api/runs/{page.get_attribute('#run-status', 'data-rid')}")
    assert small["budget_cny"] == 3_000_000
    assert weighted(page) == small["objective"]

    # Compare the two sweep runs: each map marker of their sites shows which run has it.
    runs = [r for r in get_json(f"{workbench.url}api/runs")["runs"] if r["budget_cny"] in budgets]
    a = next(r["rid"] for r in runs if r["budget_cny"] == 3_000_000)
    b = next(r["rid"] for r in runs if r["budget_cny"] == 8_300_000)
    page.select_option("#compare-a", a)
    page.select_option("#compare-b", b)
    page.click("#compare")
    page.wait_for_selector("#compare-result div")
    cmp = get_json(f"{workbench.url}api/compare?a={a}&b={b}")
    for key, cls in (("only_a", "only-a"), ("only_b", "only-b"), ("both", "both")):
        shown = sorted(page.eval_on_selector_all(f"#map .site.{cls}", "ns => ns.map(n => n.dataset.siteId)"))
        assert shown == sorted(cmp[key])
    assert cmp["only_b"], "the larger budget opens sites the smaller one does not"
    assert watched.outside() == []
    assert watched.errors == []


def test_hostile_names_stay_text(chromium, hostile_workbench):
    """Names full of markup show as the characters they are, run nothing and make no element."""
    w = Watched(chromium, hostile_workbench.url)
    try:
        page = w.page
        assert page.text_content("#scenario option") == "</title><script>alert(3)</script> 测试"
        assert page.text_content('#coverage tr[data-group="<i>kids</i>"] td') == "<i>kids</i>"
        page.locator("#map [data-site-id]").nth(0).hover()
        lines = page.eval_on_selector_all("#tooltip div", "ns => ns.map(n => n.textContent)")
        assert lines[0].startswith(HOSTILE["script"])
        assert any(line.startswith("<img src=x onerror=alert(2)>: ") for line in lines), lines
        # Only the page's own elements: no <script>, <img>, <b> or <i> made from data.
        assert page.locator("script").count() == 2
        assert page.locator("img, b:not(#weighted):not(#cost):not(#gainloss b), i:not(.swatch)").count() == 0
        assert w.errors == []
        assert w.outside() == []
    finally:
        w.close()


def test_walking_network_drawn(chromium, network_workbench):
    """A scenario with a walking network shows its streets, one SVG segment per edge sent, its
    circle boundary, and service areas along the streets."""
    w = Watched(chromium, network_workbench.url)
    try:
        (sid,) = [s["sid"] for s in get_json(f"{network_workbench.url}api/scenarios")["scenarios"]]
        edges = get_json(f"{network_workbench.url}api/scenario/{sid}")["network"]
        assert edges
        d = w.page.get_attribute("#map path.network", "d")
        assert d.count("M") == len(edges)
        assert w.page.locator("#map circle.demand").count() == 9
        assert w.page.get_attribute("#map path.boundary", "d").count("L") >= 4
        # Zoom by button and wheel, pan by drag: the viewBox follows.
        view = lambda: [float(v) for v in w.page.get_attribute("#map", "viewBox").split()]  # noqa: E731
        x0, y0, width0, height0 = view()
        w.page.click("#zoom-in")
        assert view()[2] == pytest.approx(width0 / 1.5)
        box = w.page.locator("#map").bounding_box()
        w.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        w.page.mouse.wheel(0, 100)  # dispatched without waiting for the page's handler
        w.page.wait_for_function("w => Math.abs(document.querySelector('#map').viewBox.baseVal.width - w) < 1e-3 * w",
                                 arg=width0 / 1.5 * 1.2)
        x1 = view()[0]
        w.page.mouse.down()
        w.page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=4)
        w.page.mouse.up()
        assert view()[0] < x1
        w.page.click("#zoom-fit")
        assert view() == pytest.approx([x0, y0, width0, height0])
        # The scale bar: a round length whose drawn width is that many metres at the current zoom.
        metres = float(w.page.text_content("#scale-text").removesuffix(" m"))
        assert str(metres)[0] in "125"
        bar_px = w.page.locator("#scale-bar").bounding_box()["width"]
        assert bar_px == pytest.approx(metres / max(width0 / box["width"], height0 / box["height"]), abs=1.5)
        # A site put in by a click gets its service area along the streets, not a circle.
        old = w.page.get_attribute("#weighted", "data-value")
        w.page.locator('#map [data-site-id="S1"]').click()
        w.page.wait_for_function("old => document.querySelector('#weighted').dataset.value !== old", arg=old)
        assert w.page.locator("#map path.reach.isochrone").count() == 1
        # With no run yet, who gains is counted against what the existing facilities cover.
        scenario = get_json(f"{network_workbench.url}api/scenario/{sid}")
        post = lambda body: json.load(urllib.request.urlopen(urllib.request.Request(  # noqa: E731
            f"{network_workbench.url}api/evaluate", json.dumps(body).encode(), {"Content-Type": "application/json"})))
        base = post({"sid": sid, "open": []})["covered_after"]
        now = post({"sid": sid, "open": [{"id": "S1", "type": "elder_child"}]})["covered_after"]
        for g in ("elderly", "children"):
            gained = sum(d["population"][g] for d in scenario["demand"] if d["i"] in set(now[g]) - set(base[g]))
            assert gained > 0
            assert w.page.text_content(f'#gainloss li[data-group="{g}"] .gain') == f"gain {gained:g}"
        assert w.page.locator("#map circle.reach").count() == 0
        assert w.errors == [] and w.outside() == []
    finally:
        w.close()


def test_the_watch_catches_outside_requests_and_errors(chromium, network_workbench):
    """The two guards above are not blind: a request to another host and a console error are seen.
    The page's own Content-Security-Policy refuses the image (a console error); the navigation
    is a request the resolver then refuses."""
    watched = Watched(chromium, network_workbench.url)
    try:
        page = watched.page
        page.evaluate("() => { new Image().src = 'http://example.invalid/tile.png'; }")
        page.wait_for_timeout(200)
        assert any("Content Security Policy" in e for e in watched.errors), watched.errors
        with pytest.raises(Exception):
            page.goto("http://example.invalid/", timeout=5_000)
        assert "http://example.invalid/" in watched.outside()
    finally:
        watched.close()
