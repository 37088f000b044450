"""Small scenarios written in code, so every test reads a readable file."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_PMED = REPO.parent / "shared" / "data" / "orlib-pmed"

SCENARIO_YAML = """\
name: 测试社区 test circle
crs: EPSG:4545
circle_type: other
budget: 1000
walking:
  speed_m_s: 1.0
  group_speed_m_s: {elderly: 0.5}
  detour_factor: 1.0
groups: {elderly: 2.0, children: 1.0}
facility_types:
  elder_child: {label: 老幼共托服务站, serves: [elderly, children], walk_minutes: 10}
  canteen: {label: 社区食堂, serves: [elderly], walk_minutes: 10}
demand: demand.csv
sites: sites.csv
existing: existing.csv
"""

# Reach: elder_child reaches children at 600 m and elderly at 300 m; canteen elderly at 300 m.
DEMAND_CSV = """\
id,x,y,elderly,children
D1,500000,3300000,10,5
D2,500300,3300000,4,20
D3,501000,3300000,7,0
D4,502000,3300000,9,9
"""

SITES_CSV = """\
id,name,kind,x,y,cost_elder_child,cost_canteen
S1,桥下空间一号,under_bridge,500000,3300000,,300
S2,闲置用房,vacant_room,500600,3300000,600,400
S3,边角地,corner_plot,502000,3300000,500,200
"""

EXISTING_CSV = """\
id,type,x,y
E1,canteen,501000,3300100
"""


def write_scenario(folder: Path, yaml_text=SCENARIO_YAML, demand=DEMAND_CSV, sites=SITES_CSV,
                   existing=EXISTING_CSV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    (folder / "demand.csv").write_text(demand, encoding="utf-8")
    (folder / "sites.csv").write_text(sites, encoding="utf-8")
    if existing is not None:
        (folder / "existing.csv").write_text(existing, encoding="utf-8")
    return folder / "scenario.yaml"
