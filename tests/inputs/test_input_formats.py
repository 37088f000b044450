"""Issue 15, section 4: input as planners have it.

One generated district written as CSV (UTF-8, UTF-8 with a byte-order mark, GB18030 detected and
declared), as Shapefiles with 10-character names and a ``columns:`` mapping, as one .xlsx workbook
and as one GeoPackage gives the same objective (exactly) and the same plan through
``optimizer.run``; the encoding each layer was read in is reported; the inputs are never modified;
bad input is one exact line and exit 2.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.errors import LifecircleWarning, ScenarioError
from lifecircle.optimizer.inputs.formats import LayerSource, rename_columns
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.run import run_solve

YAML = """\
name: 格式测试街区 formats district
crs: EPSG:4545
circle_type: other
budget: 2600
language: zh
walking: {{speed_m_s: 1.0, group_speed_m_s: {{elderly: 0.8}}, detour_factor: 1.3}}
groups: {{elderly: 2.0, children: 1.0}}
facility_types:
  elder_child: {{label: 老幼共托服务站, serves: [elderly, children], walk_minutes: 10}}
  canteen: {{label: 社区食堂, serves: [elderly], walk_minutes: 8}}
demand: {demand}
sites: {sites}
existing: {existing}
{extra}"""

NAMES = ["桥下空间", "闲置用房", "边角地", "老厂房", "社区活动室", "菜市场二楼", "停车场边", "旧仓库",
         "街道办附楼", "学校旁空地", "滨江步道", "防空洞口"]
SHORT = {"cost_elder_child": "cost_elder", "cost_canteen": "cost_cante"}  # Shapefile's 10 characters
SHEETS = {"demand": "需求", "sites": "候选点", "existing": "现状设施"}


def district() -> dict:
    """{layer: DataFrame of strings}: 80 demand points, 12 sites, 2 existing canteens, 2 km square."""
    rng = np.random.default_rng(15)
    n = 80
    demand = pd.DataFrame({
        "id": [f"D{i:02d}" for i in range(n)],
        "x": [f"{v:.1f}" for v in 500000 + rng.uniform(0, 2000, n)],
        "y": [f"{v:.1f}" for v in 3300000 + rng.uniform(0, 2000, n)],
        "elderly": [str(v) for v in rng.integers(0, 40, n)],
        "children": [str(v) for v in rng.integers(0, 30, n)],
    })
    m = len(NAMES)
    costs = rng.integers(3, 10, (m, 2)) * 100
    sites = pd.DataFrame({
        "id": [f"S{j:02d}" for j in range(m)],
        "name": NAMES,
        "kind": ["under_bridge", "vacant_room", "corner_plot", "idle_land"] * 3,
        "x": [f"{v:.2f}" for v in 500000 + rng.uniform(0, 2000, m)],
        "y": [f"{v:.2f}" for v in 3300000 + rng.uniform(0, 2000, m)],
        "cost_elder_child": [str(c) if j % 5 else "" for j, c in enumerate(costs[:, 0])],  # some cannot host it
        "cost_canteen": [str(c) for c in costs[:, 1]],
    })
    existing = pd.DataFrame({"id": ["E1", "E2"], "name": ["解放碑社区食堂", "七星岗食堂"],
                             "type": ["canteen", "canteen"], "x": ["500500.0", "501700.0"],
                             "y": ["3300400.0", "3301500.0"]})
    return {"demand": demand, "sites": sites, "existing": existing}


def write_yaml(folder: Path, extra: str = "", **layers) -> Path:
    names = {"demand": "demand.csv", "sites": "sites.csv", "existing": "existing.csv"} | layers
    path = folder / "scenario.yaml"
    path.write_text(YAML.format(extra=extra, **names), encoding="utf-8")
    return path


def write_csv(folder: Path, encoding="utf-8", **yaml) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, frame in district().items():
        (folder / f"{key}.csv").write_bytes(frame.to_csv(index=False).encode(encoding))
    return write_yaml(folder, **yaml)


def geo_frame(frame):
    import geopandas as gpd

    plain = frame.drop(columns=["x", "y"]).copy()
    for column in plain.columns:
        if column not in ("id", "name", "kind", "type"):
            plain[column] = pd.to_numeric(plain[column])  # real number fields, blanks NULL
    points = gpd.points_from_xy(frame["x"].astype(float), frame["y"].astype(float))
    return gpd.GeoDataFrame(plain, geometry=points, crs="EPSG:4545")


def write_shapefiles(folder: Path) -> Path:
    """Truncated names mapped back by per-layer and top-level columns:; existing's .dbf in GB18030
    with no .cpg (as ArcGIS often leaves it), found by the .dbf's own bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    layers = district()
    demand = geo_frame(layers["demand"]).rename(columns={"elderly": "pop_old", "children": "pop_kid"})
    demand.to_file(folder / "demand.shp")
    geo_frame(layers["sites"]).rename(columns=SHORT).to_file(folder / "sites.shp")
    geo_frame(layers["existing"]).to_file(folder / "existing.shp", encoding="GB18030")
    (folder / "existing.cpg").unlink()
    mapping = ", ".join(f"{ours}: {theirs}" for ours, theirs in SHORT.items())
    return write_yaml(folder, demand="demand.shp", sites=f"{{file: sites.shp, columns: {{{mapping}}}}}",
                      existing="existing.shp", extra="columns: {demand: {elderly: pop_old, children: pop_kid}}\n")


def write_xlsx(folder: Path) -> Path:
    """One workbook, a sheet per layer, numbers typed as numbers and blank costs as empty cells."""
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for key, frame in district().items():
        sheet = book.create_sheet(SHEETS[key])
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if v == "" else (v if c in ("id", "name", "kind", "type") else float(v))
                          for c, v in zip(frame.columns, row)])
    book.save(folder / "district.xlsx")
    return write_yaml(folder, **{key: f"{{file: district.xlsx, sheet: {name}}}" for key, name in SHEETS.items()})


def write_gpkg(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, frame in district().items():
        geo_frame(frame).to_file(folder / "district.gpkg", layer=key, driver="GPKG")
    return write_yaml(folder, **{key: f"{{file: district.gpkg, layer: {key}}}" for key in SHEETS})


def xlsx_with(**yaml):
    """The workbook, with the YAML's layers changed by ``yaml``."""
    def make(folder):
        write_xlsx(folder)
        layers = {key: f"{{file: district.xlsx, sheet: {name}}}" for key, name in SHEETS.items()}
        return write_yaml(folder, **(layers | yaml))
    return make


def write_gb18030_declared(folder: Path) -> Path:
    return write_csv(folder, "gb18030", sites="{file: sites.csv, encoding: gb18030}",
                     existing="{file: existing.csv, encoding: GBK}", demand="{file: demand.csv, encoding: utf-8}")


UTF8 = {"demand": "utf-8", "sites": "utf-8", "existing": "utf-8"}
CASES = {  # name: (writer, input_encoding expected in summary.json, warns GB18030)
    "csv-utf8": (lambda f: write_csv(f), UTF8, False),
    "csv-bom": (lambda f: write_csv(f, "utf-8-sig"), dict.fromkeys(UTF8, "utf-8-sig"), False),
    "csv-gb18030-detected": (lambda f: write_csv(f, "gb18030"), UTF8 | {"sites": "gb18030", "existing": "gb18030"},
                             True),
    "csv-gb18030-declared": (write_gb18030_declared, {"demand": "utf-8", "sites": "gb18030", "existing": "gbk"},
                             False),
    "shapefile-columns": (write_shapefiles, UTF8 | {"existing": "gb18030"}, False),
    "xlsx": (write_xlsx, None, False),
    "gpkg": (write_gpkg, None, False),
}


def digests(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def solved(scenario: Path, out: Path) -> dict:
    return run_solve(scenario, out_dir=out, report=False).summary


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base")
    return solved(write_csv(folder / "csv"), folder / "out")


@pytest.mark.parametrize("case", list(CASES))
def test_every_format_gives_the_same_plan(case, baseline, tmp_path):
    writer, encodings, warns = CASES[case]
    scenario = writer(tmp_path / "in")
    before = digests(scenario.parent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = solved(scenario, tmp_path / "out")
    gb_warnings = [str(w.message) for w in caught if issubclass(w.category, LifecircleWarning)]
    assert bool(gb_warnings) == warns, gb_warnings
    assert summary["status"] == "optimal"
    assert summary["objective"] == baseline["objective"]  # exact: the same numbers were read
    assert summary["selected"] == baseline["selected"]
    assert summary["coverage"] == baseline["coverage"]
    assert summary.get("input_encoding") == encodings
    assert digests(scenario.parent) == before  # inputs are only ever read


def test_the_district_is_a_real_choice(baseline):
    """The plan chooses among sites (not all, not none), so equal plans say something."""
    assert 0 < len(baseline["selected"]) < len(NAMES)
    assert baseline["objective"] > 0


def test_names_read_in_chinese_from_every_encoding(tmp_path):
    for case in ("csv-gb18030-declared", "shapefile-columns", "xlsx"):
        scenario = load_scenario(CASES[case][0](tmp_path / case))
        assert list(scenario.sites.columns["name"]) == NAMES
        assert np.isnan(scenario.sites.columns["cost_elder_child"][0])  # a blank cost stays blank


def test_encoding_is_logged_at_info(tmp_path, caplog):
    scenario = write_gb18030_declared(tmp_path / "in")
    with caplog.at_level(logging.INFO, logger="lifecircle.optimizer.inputs.formats"):
        load_scenario(scenario)
    assert f"{tmp_path / 'in' / 'sites.csv'}: text read as gb18030" in caplog.messages


def test_mapped_source_columns_leave_the_table():
    """A truncated capacity_e must not stay behind to be read as a group named 'e'."""
    frame = pd.DataFrame({"id": ["E1"], "capacity_e": ["5"], "x": ["1"]})
    source = LayerSource(Path("existing.shp"), columns={"capacity_elderly": "capacity_e", "x": "x"},
                         columns_field="scenario.yaml: field 'existing.columns'")
    renamed = rename_columns(frame, source)
    assert sorted(renamed.columns) == ["capacity_elderly", "id", "x"]
    assert renamed["capacity_elderly"].tolist() == ["5"]


# ---- bad input: one exact line, exit 2, inputs unchanged ------------------------------------------


def _shapefile_without(part):
    def make(folder):
        scenario = write_shapefiles(folder)
        (folder / f"sites{part}").unlink()
        return scenario
    return make


def _csv_with(**yaml):
    return lambda folder: write_csv(folder, **yaml)


def _xlsx_bad_cell(folder):
    import openpyxl

    scenario = write_xlsx(folder)
    book = openpyxl.load_workbook(folder / "district.xlsx")
    book[SHEETS["sites"]]["G3"] = "四百"
    book.save(folder / "district.xlsx")
    return scenario


def _gb18030_read_as_utf8(folder):
    return write_csv(folder, "gb18030", sites="{file: sites.csv, encoding: utf-8}")


def _both_mappings(folder):
    scenario = write_shapefiles(folder)
    text = scenario.read_text(encoding="utf-8").replace("columns: {demand:", "columns: {sites: {id: id}, demand:")
    scenario.write_text(text, encoding="utf-8")
    return scenario


def _sites_columns(mapping):
    def make(folder):
        scenario = write_shapefiles(folder)
        text = scenario.read_text(encoding="utf-8")
        start = text.index("sites: ")
        end = text.index("\n", start)
        scenario.write_text(text[:start] + f"sites: {{file: sites.shp, columns: {mapping}}}" + text[end:],
                            encoding="utf-8")
        return scenario
    return make


BAD = {
    "missing-file": (_csv_with(sites="sites.xlsx"),
                     "{y}: field 'sites': file {f}/sites.xlsx does not exist"),
    "wrong-sheet": (xlsx_with(sites="{file: district.xlsx, sheet: sitez}"),
                    "{y}: field 'sites': district.xlsx has no sheet 'sitez'; its sheets are 需求, 候选点, 现状设施"),
    "no-sheet-named": (xlsx_with(sites="district.xlsx"),
                       "{y}: field 'sites': district.xlsx has 3 sheets (需求, 候选点, 现状设施); name one, e.g. "
                       "{{file: district.xlsx, sheet: 需求}}"),
    "wrong-layer": (lambda f: (write_gpkg(f), write_yaml(f, sites="{file: district.gpkg, layer: site}",
                                                         demand="{file: district.gpkg, layer: demand}",
                                                         existing="{file: district.gpkg, layer: existing}"))[1],
                    "{y}: field 'sites': district.gpkg has no layer 'site'; its layers are demand, sites, existing"),
    "shapefile-without-dbf": (_shapefile_without(".dbf"),
                              "{y}: field 'sites': Shapefile {f}/sites.shp has no sites.dbf (its attribute table) "
                              "beside it; copy all its files (.shp, .shx, .dbf, .prj, .cpg) together, or save the "
                              "layer as GeoPackage"),
    "shapefile-without-prj": (_shapefile_without(".prj"),
                              "{y}: field 'sites': Shapefile {f}/sites.shp has no sites.prj (its coordinate system) "
                              "beside it; copy all its files (.shp, .shx, .dbf, .prj, .cpg) together, or save the "
                              "layer as GeoPackage"),
    "unknown-source-column": (_sites_columns("{cost_canteen: cost_cantee, cost_elder_child: cost_elder}"),
                              "{y}: field 'sites.columns.cost_canteen': {f}/sites.shp has no column 'cost_cantee'; "
                              "its columns are id, name, kind, cost_elder, cost_cante"),
    "unmapped-truncated-name": (_sites_columns("{cost_canteen: cost_cante}"),
                                "{f}/sites.shp: missing column 'cost_elder_child'"),
    "mapping-twice": (_both_mappings,
                      "{y}: field 'columns.sites': sites has its own 'sites.columns' too; give the mapping once"),
    "declared-encoding-wrong": (_gb18030_read_as_utf8,
                                "{f}/sites.csv line 2: not utf-8 text (byte 51); check the layer's encoding: or "
                                "drop it to detect UTF-8 or GB18030"),
    "unknown-encoding": (_csv_with(sites="{file: sites.csv, encoding: gbkk}"),
                         "{y}: field 'sites.encoding': unknown encoding 'gbkk'; use e.g. utf-8, gb18030, gbk or big5"),
    "encoding-on-xlsx": (xlsx_with(sites="{file: district.xlsx, sheet: 候选点, encoding: gbk}"),
                         "{y}: field 'sites.encoding': district.xlsx stores Unicode text; only .csv, .txt, .shp "
                         "files take an encoding"),
    "sheet-on-csv": (_csv_with(sites="{file: sites.csv, sheet: 候选点}"),
                     "{y}: field 'sites.sheet': sites.csv has no sheets; only .xlsx, .xlsm workbooks do"),
    "unknown-layer-key": (_csv_with(sites="{file: sites.csv, fields: {a: b}}"),
                          "{y}: unknown key 'sites.fields'; allowed: file, layer, sheet, encoding, columns"),
    "columns-for-a-database-layer": (_csv_with(sites="{db: 'postgresql://planner@localhost/city', table: sites}",
                                               extra="columns: {sites: {name: 名称}}\n"),
                                     "{y}: field 'columns.sites': sites is a database layer; rename its columns in "
                                     "the query (SELECT name AS our_name)"),
    "xlsx-not-a-workbook": (lambda f: (xlsx_with()(f), (f / "district.xlsx").write_bytes(b"id,x,y\n"))[0],
                            "{f}/district.xlsx: not a readable Excel workbook; save it again as .xlsx (File is "
                            "not a zip file)"),
    "xlsx-bad-number": (_xlsx_bad_cell,
                        "{f}/district.xlsx sheet '候选点' row 3, column 'cost_canteen': value '四百' is not a number"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2(case, tmp_path):
    make, expected = BAD[case]
    folder = tmp_path / "in"
    folder.mkdir()
    scenario = make(folder)
    before = digests(folder)
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == ["error: " + expected.format(y=scenario, f=folder)]
    assert result.exit_code == 2
    assert digests(folder) == before


def test_old_xls_names_what_to_save(tmp_path):
    scenario = write_csv(tmp_path / "in", sites="sites.xls")
    shutil.copy(tmp_path / "in" / "sites.csv", tmp_path / "in" / "sites.xls")
    with pytest.raises(ScenarioError) as error:
        load_scenario(scenario)
    assert str(error.value) == (f"{tmp_path / 'in' / 'sites.xls'}: old Excel .xls workbooks are not read; "
                                "save it as .xlsx (Excel Workbook) or CSV UTF-8 (.csv)")
