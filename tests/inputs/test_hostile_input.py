"""Issue 12, section 4: hostile or broken input ends in one line and exit 2, everywhere.

Each case here once gave a traceback, a hang, or unbounded memory or time. Every test asserts the
exit code, the exact one-line message, that no traceback appears, that no result folder is left
behind and that the inputs are unchanged byte for byte.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import lifecircle.cli as cli
from lifecircle.cli import main
from support.scenarios import DEMAND_CSV, SCENARIO_YAML, SITES_CSV, write_scenario
from lifecircle.optimizer.errors import LifecircleWarning, ScenarioError

LIFECIRCLE = str(Path(sys.executable).with_name("lifecircle"))


def yaml_with(old: str, new: str) -> str:
    assert old in SCENARIO_YAML
    return SCENARIO_YAML.replace(old, new)


def snapshot(folder: Path) -> dict:
    """Every entry under ``folder``: file bytes, symlink targets, directories, FIFOs."""
    state = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            state[key] = ("link", os.readlink(p))
        elif p.is_dir():
            state[key] = ("dir",)
        elif p.is_fifo():
            state[key] = ("fifo",)
        else:
            state[key] = ("file", p.read_bytes())
    return state


def check_one_line(result_code: int, stderr: str, code: int, pattern: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert result_code == code, stderr


# billion laughs: a9 would be 9**10 (3.5 billion) strings if expanded
ALIAS_BOMB = "description:\n" + "".join(
    f"  a{k}: &a{k} [" + ", ".join(["x"] * 9 if k == 0 else [f"*a{k - 1}"] * 9) + "]\n"
    for k in range(10)) + "name: *a9\n"
DEEP = "description: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"


def _bomb_yaml() -> str:
    return yaml_with("name: 测试社区 test circle\n", "") + ALIAS_BOMB


def _gbk(text: str) -> bytes:
    return text.encode("gbk")


def _parquet(folder: Path):
    (folder / "demand.parquet").write_bytes(b"PAR1 this is not parquet at all PAR1")


def _symlink_loop(folder: Path):
    os.symlink("loop.csv", folder / "loop.csv")


def _directory(folder: Path):
    (folder / "sub").mkdir()


def _shapefile(folder: Path):
    (folder / "demand.shp").write_bytes(bytes(range(256)) * 4)


def _binary_csv(folder: Path):
    (folder / "demand.csv").write_bytes(b"id,x,y\x00\x01\x02\xff\xfe")


def _geojson_1e300(folder: Path):
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 3300000]},
                 "properties": {"id": f"D{k}", "elderly": 1, "children": 1}}
                for k, x in enumerate([500000, 1e300], 1)]
    (folder / "demand.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                       "features": features}), encoding="utf-8")


# (case id, write_scenario arguments, extra setup, expected stderr line; {f} is the folder)
SCENARIO_CASES = [
    # ---- YAML
    ("alias-bomb", dict(yaml_text=_bomb_yaml()), None,
     r"{f}/scenario.yaml line 17: YAML alias '\*a0' refused; write the value out in full "
     r"\(scenarios are plain data\)"),
    ("nested-3000", dict(yaml_text=SCENARIO_YAML + DEEP), None,
     r"{f}/scenario.yaml line 16: YAML nested deeper than 20 levels; a scenario needs a handful"),
    ("duplicate-key", dict(yaml_text=SCENARIO_YAML + "budget: 5\n"), None,
     r"{f}/scenario.yaml line 16: duplicate key 'budget' \(first on line 4\); give each key once"),
    ("duplicate-nested-key", dict(yaml_text=yaml_with("{elderly: 2.0, children: 1.0}",
                                                      "{elderly: 2.0, children: 1.0, elderly: 3}")),
     None, r"{f}/scenario.yaml line 9: duplicate key 'elderly' \(first on line 9\); give each key once"),
    ("unhashable-key", dict(yaml_text=yaml_with("groups: {elderly", "groups: {[a, b]: 1, elderly")),
     None, r"{f}/scenario.yaml line 9: a YAML key must be text or a number, found a list"),
    ("huge-yaml", dict(yaml_text=SCENARIO_YAML + "description: " + "x" * (1 << 20) + "\n"), None,
     r"{f}/scenario.yaml: 1,04\d,\d\d\d bytes is too large for a scenario file \(limit 1,048,576\); "
     r"data belongs in the CSV files it names"),
    # ---- files
    ("corrupt-parquet", dict(yaml_text=yaml_with("demand.csv", "demand.parquet")), _parquet,
     r"{f}/demand.parquet: not a readable Parquet file; export it again \(.+\)"),
    ("symlink-loop", dict(yaml_text=yaml_with("demand.csv", "loop.csv")), _symlink_loop,
     r"{f}/scenario.yaml: field 'demand': file {f}/loop.csv is a symlink loop"),
    ("data-path-is-directory", dict(yaml_text=yaml_with("demand.csv", "sub")), _directory,
     r"{f}/scenario.yaml: field 'demand': file {f}/sub is a directory"),
    ("shapefile", dict(yaml_text=yaml_with("demand.csv", "demand.shp")), _shapefile,
     # issue 15: Shapefiles are read; one without its companion files is one line naming the missing one
     r"{f}/scenario.yaml: field 'demand': Shapefile {f}/demand.shp has no demand.shx \(its shape index\) "
     r"beside it; copy all its files \(.shp, .shx, .dbf, .prj, .cpg\) together, or save the layer as "
     r"GeoPackage"),
    ("binary-csv", dict(), _binary_csv,
     r"{f}/demand.csv: not a text file \(binary data or UTF-16\); save it as CSV UTF-8"),
    ("neither-utf8-nor-gb18030", dict(), lambda f: (f / "demand.csv").write_bytes(
        DEMAND_CSV.encode() + b"D9,1,2,\xff\xff,3\n"),
     r"{f}/demand.csv line 6: neither UTF-8 nor GB18030 text \(byte \d+\); save it as CSV UTF-8 or give "
     r"its encoding, e.g. \{file: demand.csv, encoding: big5\}"),
    # ---- numbers
    ("coordinate-1e300", dict(demand=DEMAND_CSV.replace("D2,500300", "D2,1e300")), None,
     r"{f}/demand.csv line 3, column 'x': value '1e300' is beyond the limit ±1e\+09 for a "
     r"coordinate; values this large overflow the model"),
    ("geojson-coordinate-1e300", dict(yaml_text=yaml_with("demand.csv", "demand.geojson")),
     _geojson_1e300, r"{f}/demand.geojson feature 2: coordinates \(1e\+300, 3\.3e\+06\) are beyond "
     r"the limit ±1e\+09; values this large overflow the model"),
    ("group-weight-1e308", dict(yaml_text=yaml_with("{elderly: 2.0, children: 1.0}",
                                                    "{elderly: 1.0e+308, children: 1.0e+308}")),
     None, r"{f}/scenario.yaml: field 'groups.elderly': value 1e\+308 is beyond the limit 1e\+12; "
     r"values this large overflow the model"),
    ("weights-times-people", dict(yaml_text=yaml_with("{elderly: 2.0,", "{elderly: 1e12,"),
                                  demand=DEMAND_CSV.replace(",10,5", ",10000,5")), None,
     r"{f}/scenario.yaml: field 'groups': the weights times the people of demand.csv add up to "
     r"1e\+16, beyond the limit 1e\+15; scale the group weights down \(only their ratios matter\)"),
    ("population-1e300", dict(demand=DEMAND_CSV.replace(",4,20", ",1e300,20")), None,
     r"{f}/demand.csv line 3, column 'elderly': value '1e300' is beyond the limit ±1e\+12 for a "
     r"number; values this large overflow the model"),
    ("cost-1e300", dict(sites=SITES_CSV.replace(",600,400", ",1e300,400")), None,
     r"{f}/sites.csv line 3, column 'cost_elder_child': value '1e300' is beyond the limit ±1e\+12 "
     r"for a number; values this large overflow the model"),
    ("min-open-1e300", dict(yaml_text=SCENARIO_YAML + "rules:\n  min_open: {canteen: 1e300}\n"),
     None, r"{f}/scenario.yaml: field 'rules.min_open.canteen': value 1e\+300 is beyond the limit "
     r"1e\+12; values this large overflow the model"),
    # ---- physical line numbers
    ("line-after-blank-lines", dict(demand=DEMAND_CSV.replace("\nD2", "\n\n  \n\nD2")
                                    .replace(",4,20", ",four,20")), None,
     r"{f}/demand.csv line 6, column 'elderly': value 'four' is not a number"),
    ("line-after-quoted-line-break", dict(sites=SITES_CSV.replace("闲置用房", '"闲置\n\n用房"')
                                          .replace(",500,200", ",x500,200")), None,
     r"{f}/sites.csv line 6, column 'cost_elder_child': value 'x500' is not a number"),
    ("duplicate-id-after-blank-lines", dict(sites=SITES_CSV.replace("\nS2", "\n\n\nS2")
                                            .replace("S3,", "S2,")), None,
     r"{f}/sites.csv line 6, column 'id': duplicate id 'S2'"),
    ("too-many-fields-after-quoted-line-break",
     dict(sites=SITES_CSV.replace("闲置用房", '"闲置\n用房"').replace(",500,200", ",500,200,7")),
     None, r"{f}/sites.csv line 5: 8 fields where the header has 7; quote a value that holds a comma"),
]


@pytest.mark.parametrize("case, files, setup, expected", SCENARIO_CASES,
                         ids=[c[0] for c in SCENARIO_CASES])
def test_hostile_scenario_is_one_line_exit_2(tmp_path, case, files, setup, expected):
    folder = tmp_path / "bad"
    scenario = write_scenario(folder, **files)
    if setup is not None:
        setup(folder)
    before = snapshot(folder)
    out = tmp_path / "out"
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(out)])
    seconds = time.perf_counter() - started
    check_one_line(result.exit_code, result.stderr, 2,
                   "error: " + expected.replace("{f}", re.escape(str(folder))))
    assert not out.exists()
    assert snapshot(folder) == before
    assert seconds < 30, seconds  # nothing hangs; the YAML cases are timed tightly below


@pytest.mark.parametrize("yaml_text", [_bomb_yaml(), SCENARIO_YAML + DEEP],
                         ids=["alias-bomb", "nested-3000"])
def test_yaml_bombs_are_refused_fast(tmp_path, yaml_text):
    from lifecircle.optimizer.inputs.scenario import load_yaml

    scenario = write_scenario(tmp_path / "bomb", yaml_text=yaml_text)
    started = time.perf_counter()
    with pytest.raises(ScenarioError):
        load_yaml(scenario)
    assert time.perf_counter() - started < 10.0  # refused while composing; the bomb itself took 84 s


def test_yaml_12_floats_are_numbers(tmp_path):
    """`budget: 8.3e6` is a number, as is YAML 1.1's `8.3e+6`; a quoted one stays text."""
    from lifecircle.optimizer.inputs.scenario import load_yaml

    scenario = write_scenario(tmp_path / "ok", yaml_text=yaml_with("budget: 1000", "budget: 8.3e6")
                              + "description: {a: 8.3e+6, b: 1e5, c: .5E-3, d: '8.3e6', e: 1e}\n")
    data = load_yaml(scenario)
    assert data["budget"] == 8.3e6
    assert data["description"] == {"a": 8.3e6, "b": 1e5, "c": 5e-4, "d": "8.3e6", "e": "1e"}
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "budget 8,300,000;" in result.stdout


def test_yaml_rules_do_not_leak_into_pyyaml(tmp_path):
    import yaml

    from lifecircle.optimizer.inputs.guards import load_plain_yaml

    load_plain_yaml("a: 1e5\n")
    assert yaml.safe_load("a: 1e5\n") == {"a": "1e5"}  # SafeLoader itself is unchanged


# ---- data paths that are not regular files: never opened, so a FIFO cannot block -------------


def _run(args, timeout=120):
    return subprocess.run([LIFECIRCLE, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_data_path_is_not_a_regular_file(tmp_path):
    folder = tmp_path / "bad"
    scenario = write_scenario(folder, yaml_text=yaml_with("demand.csv", "pipe.csv"))
    os.mkfifo(folder / "pipe.csv")
    before = snapshot(folder)
    out = tmp_path / "out"
    result = _run(["solve", str(scenario), "--out", str(out)])
    check_one_line(result.returncode, result.stderr, 2,
                   re.escape(f"error: {scenario}: field 'demand': file {folder / 'pipe.csv'} is not a "
                             "regular file (a pipe, socket or device)"))
    assert not out.exists()
    assert snapshot(folder) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_scenario_and_instance_files(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = _run(["validate", str(pipe)])
    check_one_line(result.returncode, result.stderr, 2,
                   re.escape(f"error: {pipe}: scenario file is not a regular file (a pipe, socket "
                             "or device)"))
    for fmt in ("matrix-csv", "xy-weights", "orlib-pmed", "cfl"):
        result = _run(["classic", "mclp", "--instance", str(pipe), "--format", fmt, "--radius", "1"])
        check_one_line(result.returncode, result.stderr, 2,
                       re.escape(f"error: {pipe}: is not a regular file (a pipe, socket or device)"))


def test_directory_scenario_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    check_one_line(result.exit_code, result.stderr, 2,
                   re.escape(f"error: Invalid value for 'SCENARIO': File '{tmp_path}' is a "
                             "directory. (see 'lifecircle validate --help')"))


# ---- matrix-csv encodings, header-only, CFL messages ------------------------------------------


def _classic(instance: Path, *args):
    return CliRunner().invoke(main, ["classic", "mclp", "--instance", str(instance), "--format",
                                     "matrix-csv", "--radius", "4", "--p", "1", "--json", *args])


MATRIX = "demand,site,cost\n社区A,站点1,3\n社区B,站点1,5\n社区B,站点2,1\n"


def test_gbk_matrix_csv_is_read_as_gb18030_with_one_warning(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_gbk(MATRIX))
    before = path.read_bytes()
    result = _classic(path)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        f"warning: {path}: not UTF-8, read as GB18030 (GBK, as Excel saves on Chinese Windows); "
        "save it as CSV UTF-8 to silence this")
    out = json.loads(result.stdout)
    assert out["objective"] == 1.0 and out["selected"] == ["站点2"]
    assert path.read_bytes() == before


def test_gbk_scenario_csv_is_read_with_one_warning(tmp_path):
    folder = tmp_path / "gbk"
    scenario = write_scenario(folder)
    (folder / "sites.csv").write_bytes(_gbk(SITES_CSV))
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        f"warning: {folder / 'sites.csv'}: not UTF-8, read as GB18030 (GBK, as Excel saves on "
        "Chinese Windows); save it as CSV UTF-8 to silence this")


def test_matrix_csv_with_utf8_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(MATRIX.encode("utf-8-sig"))
    result = _classic(path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["selected"] == ["站点2"]


def test_header_only_matrix_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("demand,site,cost\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classic", "pmedian", "--instance", str(path), "--format",
                                       "matrix-csv", "--p", "2"])
    check_one_line(result.exit_code, result.stderr, 2, re.escape(
        f"error: {path}:2: no (demand, site) rows after the header; the file needs at least one"))


def test_cfl_nan_coordinate_message_is_plain(tmp_path):
    path = tmp_path / "nan.cfl"
    path.write_text("1\t2\nF\t1\tnan\t1\t10\nC\t1\t2\t3\t4\nC\t2\t2\t3\t4\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classic", "mclp", "--instance", str(path), "--format", "cfl",
                                       "--radius", "1", "--budget", "5"])
    check_one_line(result.exit_code, result.stderr, 2, re.escape(
        f"error: {path}:2: coordinates must be finite numbers within ±1e+09, found x=nan, y=1"))


def test_xy_weights_coordinate_1e300(tmp_path):
    path, weights = tmp_path / "pts.txt", tmp_path / "w.txt"
    path.write_text("2\n0 0\n1e300 5\n", encoding="utf-8")
    weights.write_text("1\n1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classic", "mclp", "--instance", str(path), "--format",
                                       "xy-weights", "--weights", str(weights), "--radius", "1",
                                       "--p", "1"])
    check_one_line(result.exit_code, result.stderr, 2, re.escape(
        f"error: {path}:3: coordinates must be finite numbers within ±1e+09"))


def test_xy_weights_weight_1e308(tmp_path):
    path, weights = tmp_path / "pts.txt", tmp_path / "w.txt"
    path.write_text("2\n0 0\n1 5\n", encoding="utf-8")
    weights.write_text("1\n1e308\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classic", "mclp", "--instance", str(path), "--format",
                                       "xy-weights", "--weights", str(weights), "--radius", "1",
                                       "--p", "1"])
    check_one_line(result.exit_code, result.stderr, 2, re.escape(
        f"error: {weights}:2: a weight of 1e308 is beyond the limit 1e+12; values this large "
        "overflow the model"))


def test_matrix_weight_1e308(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("demand,site,cost,w\nA,S1,3,1e308\n", encoding="utf-8")
    result = _classic(path, "--weight-col", "w")
    check_one_line(result.exit_code, result.stderr, 2, re.escape(
        f"error: {path}:2: column 'w' holds '1e308', beyond the limit 1e+12; values this large "
        "overflow the model"))


# ---- command-line numbers and click's usage errors ---------------------------------------------


@pytest.mark.parametrize("args, expected", [
    (["--time-limit", "nan"], "--time-limit: value nan must be a finite number > 0"),
    (["--time-limit", "inf"], "--time-limit: value inf must be a finite number > 0"),
    (["--time-limit", "-1"], "--time-limit: value -1.0 must be a finite number > 0"),
    (["--gap", "nan"], "--gap: value nan must be in [0, 1)"),
    (["--budget", "nan"], "--budget: value nan must be a finite number >= 0"),
    (["--budget", "inf"], "--budget: value inf must be a finite number >= 0"),
    (["--budget", "-inf"], "--budget: value -inf must be a finite number >= 0"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_solve_refuses_non_finite_options(tiny_scenario, tmp_path, args, expected):
    out = tmp_path / "out"
    before = snapshot(tiny_scenario.parent)
    result = CliRunner().invoke(main, ["solve", str(tiny_scenario), "--out", str(out), *args])
    check_one_line(result.exit_code, result.stderr, 2, re.escape(f"error: {expected}"))
    assert not out.exists()
    assert snapshot(tiny_scenario.parent) == before


@pytest.mark.parametrize("command", ["sweep", "plan", "explain", "classic", "city"])
def test_time_limit_nan_everywhere(tmp_path, tiny_scenario, command):
    args = {"sweep": ["sweep", str(tiny_scenario), "--budgets", "1,2"],
            "plan": ["plan", str(tiny_scenario), "--budget-per-year", "5"],
            "explain": ["explain", str(tmp_path)],
            "classic": ["classic", "mclp", "--instance", str(tiny_scenario)],
            "city": ["city", str(tmp_path)]}[command]
    result = CliRunner().invoke(main, [*args, "--time-limit", "nan"])
    check_one_line(result.exit_code, result.stderr, 2,
                   re.escape("error: --time-limit: value nan must be a finite number > 0"))


def test_out_that_is_a_file_is_one_line(tiny_scenario, tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(tiny_scenario), "--out", str(target)])
    check_one_line(result.exit_code, result.stderr, 2, re.escape(
        f"error: Invalid value for '--out': Directory '{target}' is a file. "
        "(see 'lifecircle solve --help')"))
    assert target.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("args, expected", [
    (["solve", "--nope"], "No such option '--nope'. (see 'lifecircle solve --help')"),
    (["solve"], "Missing argument 'SCENARIO'. (see 'lifecircle solve --help')"),
    (["nosuch"], "No such command 'nosuch'. (see 'lifecircle --help')"),
    (["solve", "x.yaml", "--lang", "fr"],
     "Invalid value for '--lang': 'fr' is not one of 'zh', 'en'. (see 'lifecircle solve --help')"),
])
def test_usage_errors_are_one_line_exit_2(args, expected):
    result = CliRunner().invoke(main, args)
    check_one_line(result.exit_code, result.stderr, 2, re.escape(f"error: {expected}"))


def test_help_and_version_still_work():
    assert CliRunner().invoke(main, ["--version"]).exit_code == 0
    result = CliRunner().invoke(main, ["solve", "--help"])
    assert result.exit_code == 0 and result.stdout.startswith("Usage: lifecircle solve")


def test_warnings_are_one_worded_line_or_dropped():
    """Library warnings (numpy's overflow, deprecations) never reach stderr; lifecircle's own
    worded warnings are one line each; the error stays one line."""
    group = cli.OneLineGroup(name="lifecircle")

    @group.command()
    def noisy():
        np.ones(2) * 1e308 * 1e308  # numpy: RuntimeWarning: overflow encountered in multiply
        warnings.warn("old API", DeprecationWarning)
        warnings.warn(LifecircleWarning("x.csv: read as GB18030"))
        cli.fail(ScenarioError("x.csv line 3: bad"))

    result = CliRunner().invoke(group, ["noisy"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["warning: x.csv: read as GB18030", "error: x.csv line 3: bad"]


# ---- JSON: never a bare NaN ----------------------------------------------------------------------


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_write_json_turns_non_finite_into_null(tmp_path):
    from lifecircle.optimizer.files import write_json

    path = tmp_path / "s.json"
    write_json(path, {"bound": float("nan"), "gap": np.float64("inf"), "xs": np.array([1.0, -np.inf]),
                      "nested": [{"v": np.float32("nan")}, (math.inf, 2)], "ok": 1.5})
    assert _strict(path.read_text(encoding="utf-8")) == {
        "bound": None, "gap": None, "xs": [1.0, None], "nested": [{"v": None}, [None, 2]], "ok": 1.5}


def test_summary_json_of_a_solve_is_strict_json(tiny_scenario, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(tiny_scenario), "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    _strict((out / "summary.json").read_text(encoding="utf-8"))
    _strict((out / "sites.geojson").read_text(encoding="utf-8"))
