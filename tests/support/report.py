"""A scenario full of hostile names (scripts, quotes, right-to-left marks, formulas) for the
report's escaping tests and the browser test."""

from __future__ import annotations

import csv

from support.scenarios import write_scenario

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "quotes": "\"Quoted\" & 'single' <b>bold</b> &amp;",
    "long": "长" * 250 + "x" * 250,
    "rtl": "مركز رعاية المسنين \u202eevil\u202c",
    "formula": "=HYPERLINK(\"http://example.invalid\",\"click\")",
}
HOSTILE_SCENARIO = """\
name: "</title><script>alert(3)</script> 测试"
crs: EPSG:4545
circle_type: other
budget: 100000
language: en
groups: {elderly: 1.0, "<i>kids</i>": 1.0}
facility_types:
  elder_child: {label: "<img src=x onerror=alert(2)>", serves: [elderly, "<i>kids</i>"], walk_minutes: 5}
demand: demand.csv
sites: sites.csv
"""


def hostile_scenario(folder):
    demand = "id,x,y,elderly,<i>kids</i>\n" + "".join(
        f"d{n},{500000 + 2000 * n},3300000,{5 + n},{n}\n" for n in range(len(HOSTILE)))
    rows = [["id", "name", "kind", "x", "y", "cost_elder_child"]]
    for n, name in enumerate(HOSTILE.values()):
        rows.append([f"s{n}<&>\"'" if n == 0 else f"s{n}", name, "other", 500000 + 2000 * n, 3300000, 100 + n])
    path = folder / "sites.csv"
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return write_scenario(folder, yaml_text=HOSTILE_SCENARIO, demand=demand,
                          sites=path.read_text(encoding="utf-8"), existing=None)
