"""city.gpkg (issue 15 part 3): every circle's plan layers with a circle_id, and a circles layer
of outlines (boundary.geojson or the demand's hull) with each circle's coverage."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pyogrio
import pytest
import shapely
from support.scenarios import SITES_CSV, write_scenario

from lifecircle.optimizer.planning.city import run_city

BOUNDARY = {"type": "Polygon", "coordinates": [[[499500, 3299500], [502500, 3299500], [502500, 3300500],
                                                 [499500, 3300500], [499500, 3299500]]],
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("city")
    write_scenario(root / "city" / "a")
    (root / "city" / "a" / "boundary.geojson").write_text(json.dumps(BOUNDARY), encoding="utf-8")
    write_scenario(root / "city" / "b")
    write_scenario(root / "city" / "broken", sites=SITES_CSV.replace(",600,400", ",six hundred,400"))
    result = run_city(root / "city", out_dir=root / "out", workers=1, processes=False, progress=False)
    return result


def test_city_gpkg_concatenates_every_circle(city):
    out = city.out_dir / "city.gpkg"
    layers = {str(n): g for n, g in pyogrio.list_layers(out)}
    assert layers == {"selected_sites": "Point", "candidates": "Point", "demand": "Point", "existing": "Point",
                      "service_areas": "MultiPolygon", "circles": "MultiPolygon", "layer_styles": None}
    for name in layers:
        if layers[name] is not None:
            assert pyogrio.read_info(out, layer=name)["crs"] == "EPSG:4490", name
    per_circle = {cid: {name: pyogrio.read_info(city.out_dir / cid / "plan.gpkg", layer=name)["features"]
                        for name in ("selected_sites", "candidates", "demand", "existing", "service_areas")}
                  for cid in ("a", "b")}
    for name in ("selected_sites", "candidates", "demand", "existing", "service_areas"):
        frame = gpd.read_file(out, layer=name)
        assert list(frame.columns[:1]) == ["circle_id"]
        assert frame.circle_id.value_counts().to_dict() == {cid: per_circle[cid][name] for cid in ("a", "b")}, name
    assert per_circle["a"]["candidates"] == 3 and per_circle["a"]["demand"] == 4


def test_circles_layer_has_outline_and_coverage(city):
    circles = gpd.read_file(city.out_dir / "city.gpkg", layer="circles").set_index("circle_id")
    assert list(circles.index) == ["a", "b", "broken"]
    assert list(circles.outline) == ["boundary", "hull", "none"]
    assert circles.loc["broken", "status"] == "failed" and circles.geometry["broken"] is None
    rows = {r["circle_id"]: r for r in city.rows}
    for cid in ("a", "b"):
        row = circles.loc[cid]
        assert (row.status, row.sites, row.spent_cny) == ("optimal", 2, 800.0)
        for g in ("elderly", "children"):
            cov = rows[cid]["coverage"][g]
            assert row[f"after_{g}"] == cov["covered_after"]
            assert row[f"share_after_{g}"] == pytest.approx(cov["covered_after"] / cov["population"])
    a = gpd.GeoSeries([circles.geometry["a"]], crs="EPSG:4490").to_crs("EPSG:4545")[0]
    assert a.bounds == pytest.approx((499500, 3299500, 502500, 3300500), abs=0.01)  # its boundary.geojson
    demand = gpd.read_file(city.out_dir / "city.gpkg", layer="demand")
    hull_b = circles.geometry["b"]
    assert shapely.covers(hull_b, demand[demand.circle_id == "b"].geometry).all()
    with sqlite3.connect(city.out_dir / "city.gpkg") as con:
        styled = {r[0] for r in con.execute("select f_table_name from layer_styles where useAsDefault")}
    assert styled == {"selected_sites", "candidates", "demand", "existing", "service_areas", "circles"}
