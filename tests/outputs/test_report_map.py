"""The report's map context (issue 15): site names as labels without overlaps, numbered markers
with a key table, north arrow, circle boundary, walking network and network service areas; and
money in 元 / 万元."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.outputs.cells import money
from lifecircle.optimizer.outputs.report_map import place_labels, text_width
from support.network import X0, Y0, write_hand_scenario
from support.scenarios import SCENARIO_YAML, write_scenario


def solve(scenario, out, *extra):
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text(encoding="utf-8"), json.loads((out / "summary.json").read_text())


def boundary(folder, ring):
    (folder / "boundary.geojson").write_text(json.dumps({
        "type": "Polygon", "coordinates": [[[X0 + x, Y0 + y] for x, y in ring]],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}}), encoding="utf-8")


@pytest.fixture(scope="module")
def tiny_map(tmp_path_factory):
    folder = tmp_path_factory.mktemp("map")
    return solve(write_scenario(folder / "tiny"), folder / "out")


@pytest.fixture(scope="module")
def network_map(tmp_path_factory):
    folder = tmp_path_factory.mktemp("netmap") / "hand"
    scenario = write_hand_scenario(folder)
    boundary(folder, [(-200, -300), (2600, -300), (2600, 600), (-200, 600), (-200, -300)])
    return solve(scenario, folder.parent / "out")


def svg(html):
    return html[html.index('<svg id="map"'):html.index("</svg>", html.index('<svg id="map"'))]


def test_site_names_are_labels_with_numbered_markers_and_a_key(tiny_map):
    html, summary = tiny_map
    names = {"S1": "桥下空间一号", "S2": "闲置用房", "S3": "边角地"}
    chosen = [(s["site_id"], names[s["site_id"]]) for s in summary["selected"]]
    assert [sid for sid, _ in chosen] == ["S1", "S3"]
    labels = re.findall(r'<text class="site-label"[^>]*>([^<]*)</text>', svg(html))
    assert sorted(labels) == sorted(name for _, name in chosen)  # names, not ids
    numbers = re.findall(r'<g class="numbers"[^>]*>(.*?)</g>', svg(html))[0]
    assert re.findall(r">(\d+)</text>", numbers) == ["1", "2"]
    key = html[html.index('<table id="map-key"'):]
    key = key[:key.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", key[key.index("<tbody>"):])
    for n, (sid, name) in enumerate(chosen, start=1):
        assert f">{n}</td>" in rows[n - 1] and sid in rows[n - 1] and name in rows[n - 1]
    assert 'id="north-arrow"' in svg(html)
    # no boundary.geojson and no network: neither is drawn, reach circles are
    assert 'id="circle-boundary"' not in html and 'id="network"' not in html
    assert 'class="reach"' in html and "<circle" in svg(html)


def test_network_run_draws_boundary_network_and_network_service_areas(network_map):
    html, summary = network_map
    drawn = svg(html)
    assert re.search(r'<path id="circle-boundary" d="M[-\d]', drawn)
    assert re.search(r'<path id="network" d="M[-\d]', drawn)
    areas = re.findall(r'<path class="service-area" [^>]*d="([^"]+)"', drawn)
    assert len(areas) == len(summary["selected"]) == 3
    assert all(d.count("L") >= 3 for d in areas)
    # the elderly walk slower (0.8 m/s): a smaller area inside each, dashed
    assert len(re.findall(r'<path class="service-area-inner" [^>]*d="M', drawn)) == 3
    # network areas replace straight-line reach circles
    reach = re.findall(r'<g class="reach"[^>]*>(.*?)</g>', drawn)[0]
    assert "<circle" not in reach
    labels = re.findall(r'<text class="site-label"[^>]*>([^<]*)</text>', drawn)
    assert sorted(labels) == ["S1", "S2", "S3"]


def test_service_area_follows_the_street_not_a_circle(network_map):
    html, _ = network_map
    # S1 (x 100) serves 10 minutes at 1 m/s = 600 effective metres along F1 (y 0): the area ends
    # near x 700 (+ the 25 m band) and never reaches the north bank street F2 at y 200 across
    # the water, which a 600 m circle would cover
    drawn = svg(html)
    first = re.findall(r'<path class="service-area" [^>]*d="([^"]+)"', drawn)[0]
    xy = np.array([[float(v) for v in p.split()] for p in re.split(r"[MLZ]", first) if p.strip()])
    x0 = float(re.search(r'viewBox="0 0 ([\d.]+)', drawn).group(1))  # map width, for scale only
    assert x0 > 0
    span_x = xy[:, 0].max() - xy[:, 0].min()
    span_y = xy[:, 1].max() - xy[:, 1].min()
    assert 600 < span_x < 800  # 100 m west of S1 to F1's start... then east to about x 700
    assert span_y < 200  # the side street F8 (100 m) and the band; not the north bank


def test_labels_never_overlap():
    rng = np.random.default_rng(3)
    xy = np.vstack([np.full((6, 2), 300.0), rng.uniform(100, 500, (14, 2))])  # six on one spot
    labels = [f"场地{i}号 site" for i in range(len(xy))]
    spots = place_labels(xy, labels, 11.0, 6.0, 1000.0, 1000.0)
    boxes = [(x, y - 11.0 * 0.96, x + text_width(labels[i], 11.0), y + 11.0 * 0.24)
             for i, s in enumerate(spots) if s for x, y, _ in [s]]
    assert len(boxes) >= 10
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert not (a[0] < b[2] - 1e-6 and b[0] < a[2] - 1e-6 and a[1] < b[3] - 1e-6 and b[1] < a[3] - 1e-6)
    # labels pushed off their marker carry a leader line
    assert any(s[2] for s in spots if s)


@pytest.mark.parametrize("value, digits, shown", [
    (0, 0, "0 元"), (800, 0, "800 元"), (9999.4, 0, "9,999 元"), (9999.6, 0, "1 万元"), (10_000, 0, "1 万元"),
    (15_000, 0, "1.5 万元"), (5_985_000, 0, "598.5 万元"), (6_000_000, 0, "600 万元"), (12_345_678, 0, "1,234.57 万元"),
    (10.66, 1, "10.7 元"), (-20_000, 0, "-2 万元"), (None, 0, "—"), (float("nan"), 0, "—"),
])
def test_money_reads_in_yuan_and_wan_yuan(value, digits, shown):
    assert money(value, digits) == shown


# the shared tiny circle, as a residential circle (its recipe minimums apply) with two rules
RULES_YAML = (SCENARIO_YAML.replace("name: 测试社区 test circle", "name: 规则 rules circle")
              .replace("circle_type: other", "circle_type: residential")
              + "rules:\n  must_open: {S3: elder_child}\n  forbid: [S2]\n")


def test_site_rules_are_flagged_and_said_out_loud(tmp_path):
    html, summary = solve(write_scenario(tmp_path / "rules", RULES_YAML), tmp_path / "out")
    assert [(s["site_id"], s["facility_type"]) for s in summary["selected"]] == [("S1", "canteen"), ("S3", "elder_child")]
    table = lambda tid: html[html.index(f'id="{tid}"'):html.index("</table>", html.index(f'id="{tid}"'))]  # noqa: E731
    assert "S3" in table("must-open") and "required by rules.must_open as 老幼共托服务站 (elder_child)" in table("must-open")
    assert "S2" in table("forbidden") and "excluded by the scenario&#x27;s rules.forbid" in table("forbidden")
    rows = re.findall(r"<tr>(.*?)</tr>", table("site-list"))
    flagged = [r for r in rows if ">must open<" in r]
    assert len(flagged) == 1 and ">S3<" in flagged[0]
    recipe = re.search(r'<p id="recipe-minimums">([^<]*)</p>', html).group(1)
    assert recipe == ("Minimum new facilities: circle type residential — 老幼共托服务站 (elder_child) at least 1 "
                      "(recipe for residential; this plan opens 1); 社区食堂 (canteen) at least 1 (recipe for "
                      "residential; this plan opens 1).")
    bound = html[html.index('<ul id="rules-bound">'):html.index("</ul>", html.index('<ul id="rules-bound">'))]
    assert "must-open sites" in bound and "min_open" in bound
    assert "1 site(s) excluded by rules.forbid" in bound
