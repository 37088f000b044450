"""The hand-built walking network of tests/inputs/test_network.py (see its docstring for the map)
and small writers of GeoJSON lines and CSV tables."""

from __future__ import annotations

import json
import textwrap

from support.scenarios import write_scenario

X0, Y0 = 500000.0, 3300000.0

# (coordinates relative to X0, Y0; properties)
HAND_LINES = [
    ("F1", [(0, 0), (500, 0), (1000, 0)], {}),
    ("F2", [(0, 200), (1000, 200)], {}),
    ("F3", [(1000, 0), (2000, 0)], {}),
    ("F4", [(2000, 0), (2400, 0)], {"oneway": 1}),
    ("F5", [(2000, 0), (2000, 300)], {}),
    ("F6", [(2000, 300), (2400, 300)], {"length_m": 500.0}),
    ("F7", [(2400, 300), (2400, 0)], {"walk_factor": 1.5}),
    ("F8", [(250, -100), (250, 0)], {}),
    ("F9", [(1500, -50), (1500, 50)], {}),
]

DEMAND = [  # id, x, y, elderly, children
    ("N1", 100, 210, 10, 10),   # north bank: 220 m from S1 in a straight line, no bridge
    ("D2", 400, 5, 10, 10),     # mid-segment, same segment as S1
    ("D3", 620, 0, 10, 10),     # 530 m walk to S1: children yes, elderly no
    ("T", 250, -100, 10, 10),   # end of the side street F8
    ("W", 2000, -10, 10, 10),   # west end of the one-way street
    ("E", 2400, -20, 10, 10),   # east end of the one-way street
    ("M", 2200, 304, 10, 10),   # middle of F6, both ends walked
    ("B", 1500, 40, 10, 10),    # on the flyover F9: its own component
    ("FAR", 500, 1000, 10, 10),  # 800 m from every street: beyond max_snap_m
]
SITES = [("S1", 100, -10), ("S2", 2400, -10), ("S3", 2000, -20)]
EXISTING = [("E1", 300, 215)]

# Hand-worked walks (effective metres), every pair below 5,000 m.
HAND_COST = {
    ("D2", "S1"): 5 + 300 + 10,
    ("D3", "S1"): 120 + 400 + 10,
    ("T", "S1"): 100 + 150 + 10,
    ("W", "S1"): 10 + 1000 + 900 + 10,
    ("E", "S1"): 20 + 450 + 500 + 300 + 1000 + 900 + 10,  # west on F4 is closed: stairs and top
    ("M", "S1"): 4 + 250 + 300 + 1000 + 900 + 10,
    ("D2", "S2"): 5 + 100 + 500 + 1000 + 400 + 10,
    ("D3", "S2"): 380 + 1000 + 400 + 10,
    ("T", "S2"): 100 + 750 + 1000 + 400 + 10,
    ("W", "S2"): 10 + 400 + 10,  # with the one-way direction
    ("E", "S2"): 20 + 10,
    ("M", "S2"): 4 + 250 + 450 + 10,  # east end then stairs, not west round the one-way
    ("D2", "S3"): 5 + 100 + 500 + 1000 + 20,
    ("D3", "S3"): 380 + 1000 + 20,
    ("T", "S3"): 100 + 750 + 1000 + 20,
    ("W", "S3"): 10 + 20,
    ("E", "S3"): 20 + 450 + 500 + 300 + 20,  # against the one-way: round by the stairs
    ("M", "S3"): 4 + 250 + 300 + 20,
}

YAML = """\
name: hand-built network
crs: EPSG:4545
circle_type: other
budget: 1000
walking:
  speed_m_s: 1.0
  group_speed_m_s: {elderly: 0.8}
  detour_factor: 1.3
  oneway: respect  # the hand-worked walks keep F4 one-way (issue 12: walking ignores oneway by default)
  network: streets.geojson
groups: {elderly: 1.0, children: 1.0}
facility_types:
  elder_child: {serves: [elderly, children], walk_minutes: 10}
demand: demand.csv
sites: sites.csv
existing: existing.csv
"""


def geojson_lines(lines, crs="EPSG:4545", x0=X0, y0=Y0) -> str:
    features = []
    for name, coords, props in lines:
        features.append({"type": "Feature", "properties": {"name": name, **props},
                         "geometry": {"type": "LineString",
                                      "coordinates": [[x0 + x, y0 + y] for x, y in coords]}})
    code = crs.split(":")[1]
    return json.dumps({"type": "FeatureCollection", "features": features,
                       "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}}})


def csv_text(header, rows) -> str:
    return header + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"


def write_hand_scenario(folder, yaml_text=YAML, lines=HAND_LINES):
    demand = csv_text("id,x,y,elderly,children", [(i, X0 + x, Y0 + y, e, c) for i, x, y, e, c in DEMAND])
    sites = csv_text("id,name,kind,x,y,cost_elder_child", [(i, i, "other", X0 + x, Y0 + y, 100) for i, x, y in SITES])
    existing = csv_text("id,type,x,y", [(i, "elder_child", X0 + x, Y0 + y) for i, x, y in EXISTING])
    path = write_scenario(folder, textwrap.dedent(yaml_text), demand, sites, existing)
    (folder / "streets.geojson").write_text(geojson_lines(lines), encoding="utf-8")
    return path
