"""Issue 15 §5: `--lang zh|en` on network, classic, bench, export, generate and validate.

Their printed lines come from the report's catalogue (optimizer/outputs/i18n_commands.py). Under
`--lang zh` no English sentence word of the English output is left (identifiers such as file
names, model, solver and option names stay as typed); `--lang en` prints the lines scripts read
before; without --lang the scenario's `language` decides where the command reads a scenario.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from support.network import YAML, write_hand_scenario

from lifecircle.cli import main
from lifecircle.optimizer.outputs.i18n import CATALOGUE
from lifecircle.optimizer.outputs.i18n_commands import COMMANDS

# What stays English in Chinese output: identifiers a person types or reads in files.
IDENTIFIERS = {"highs", "mclp", "pmedian", "lifecircle", "network", "mps", "txt", "yaml", "geojson", "csv",
               "bench", "md", "crs", "epsg", "other", "elderly", "children", "highway", "residential",
               "footway", "walk", "gpkg", "read", "build", "solve", "model", "total", "far", "hand", "streets",
               "oneway", "respect", "ignore", "built", "inst"}  # FAR: a point id; hand/streets/inst: file names; built: a name


@pytest.fixture
def console_env(monkeypatch):
    """The console's own default (tests/conftest.py pins English for the rest of the suite)."""
    monkeypatch.delenv("LIFECIRCLE_LANG", raising=False)


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def _words(text: str, tmp_path) -> set:
    text = text.replace(str(tmp_path), "")  # folder names are not sentences
    return {w.lower() for w in re.findall(r"(?<![\w.])[A-Za-z]{3,}(?![\w.])", text)}


def _english_left(en: str, zh: str, tmp_path) -> set:
    return (_words(en, tmp_path) & _words(zh, tmp_path)) - IDENTIFIERS


@pytest.fixture
def hand(tmp_path):
    """The hand-built walking network: fragments, an unreachable point; its scenario has no language."""
    return write_hand_scenario(tmp_path / "hand")


@pytest.fixture
def instance(tmp_path):
    path = tmp_path / "inst.txt"
    assert _run("generate", path, "--cfl", 6, 40, "--seed", 3, "--lang", "en").exit_code == 0
    return path


def test_network_in_both_languages(hand, tmp_path, console_env):
    en, zh = _run("network", hand, "--lang", "en"), _run("network", hand, "--lang", "zh")
    assert en.exit_code == zh.exit_code == 0, en.output + zh.output
    assert "connected component(s); the largest holds" in en.output
    assert "  snap distance (m), max_snap_m 300:" in en.output.splitlines()
    zh_lines = zh.output.splitlines()
    assert "  吸附距离（米），max_snap_m 300：" in zh_lines
    assert "      无法到达（超出 max_snap_m）：FAR" in zh_lines
    assert any(line.startswith("  位于较小连通分量上的需求：") for line in zh_lines)
    assert not _english_left(en.output, zh.output, tmp_path)
    assert _run("network", hand).output == en.output  # no language in the scenario: English


def test_validate_and_network_default_to_the_scenarios_language(tmp_path, console_env):
    scenario = write_hand_scenario(tmp_path / "zh", YAML + "language: zh\n")
    for command in ("validate", "network"):
        default, zh = _run(command, scenario), _run(command, scenario, "--lang", "zh")
        assert default.exit_code == 0, default.output
        assert default.output == zh.output
        assert _run(command, scenario, "--lang", "en").output != zh.output
    lines = _run("validate", scenario).output.splitlines()
    assert lines[0] == "hand-built network：有效"
    assert any(line.startswith("  步行路网 ") and "streets.geojson：节点 13 个，路段 11 条，共 4.70 公里（详见 lifecircle network）"
               in line for line in lines)


def test_validate_in_both_languages(hand, tmp_path, console_env):
    en, zh = _run("validate", hand, "--lang", "en"), _run("validate", hand, "--lang", "zh")
    assert en.exit_code == zh.exit_code == 0
    assert "(details: lifecircle network)" in en.output
    assert not _english_left(en.output, zh.output, tmp_path)


def test_classic_in_both_languages(instance, tmp_path, console_env):
    args = ["classic", "mclp", "--instance", instance, "--format", "cfl", "--radius", "8", "--budget", "100"]
    en, zh = _run(*args, "--lang", "en"), _run(*args, "--lang", "zh")
    assert en.exit_code == zh.exit_code == 0, en.output + zh.output
    en_lines, zh_lines = en.output.splitlines(), zh.output.splitlines()
    assert en_lines[0] == "inst: mclp optimal with highs"
    assert zh_lines[0] == "inst：mclp 最优（求解器 highs）"
    assert zh_lines[1].startswith("目标值 ") and "（界 " in zh_lines[1]
    assert zh_lines[-1].startswith("用时（秒）：")
    assert len(en_lines) == len(zh_lines)
    assert not _english_left(en.output, zh.output, tmp_path)


def test_bench_in_both_languages(instance, tmp_path, console_env):
    args = ["bench", instance, "--model", "mclp", "--format", "cfl", "--radius", "8", "--budget", "100"]
    en = _run(*args, "--out", tmp_path / "en", "--lang", "en")
    zh = _run(*args, "--out", tmp_path / "zh", "--lang", "zh")
    assert en.exit_code == zh.exit_code == 0, en.output + zh.output
    assert en.output.splitlines()[-1] == f"1 of 1 rows optimal; wrote {tmp_path / 'en'}/bench.csv and {tmp_path / 'en'}/bench.md"
    assert zh.output.splitlines()[-1] == f"1 行中 1 行为最优；已写入 {tmp_path / 'zh'}/bench.csv 和 {tmp_path / 'zh'}/bench.md"
    assert not _english_left(en.output, zh.output, tmp_path)


def test_export_in_both_languages_and_from_the_scenario(tmp_path, console_env):
    scenario = write_hand_scenario(tmp_path / "zh", YAML + "language: zh\n")
    en = _run("export", scenario, "--mps", tmp_path / "a.mps", "--lp", tmp_path / "a.lp", "--lang", "en")
    zh = _run("export", scenario, "--mps", tmp_path / "b.mps", "--lp", tmp_path / "b.lp")  # the scenario says zh
    assert en.exit_code == zh.exit_code == 0, en.output + zh.output
    assert en.output.startswith(f"wrote {tmp_path / 'a.mps'} and {tmp_path / 'a.lp'}: ")
    assert "nonzeros, objective offset" in en.output
    assert re.fullmatch(rf"已写入 {re.escape(str(tmp_path / 'b.mps'))} 和 {re.escape(str(tmp_path / 'b.lp'))}："
                        r"\d+ 行，\d+ 列，\d+ 个非零元，目标常数项 \S+\n", zh.output)


def test_generate_in_both_languages(tmp_path, console_env):
    en = _run("generate", tmp_path / "d_en", "--demand", 20, "--sites", 5, "--lang", "en")
    zh = _run("generate", tmp_path / "d_zh", "--demand", 20, "--sites", 5, "--lang", "zh")
    assert en.output == f"wrote {tmp_path / 'd_en' / 'scenario.yaml'}\n"
    assert zh.output == f"已写入 {tmp_path / 'd_zh' / 'scenario.yaml'}\n"
    cfl = _run("generate", tmp_path / "i.txt", "--cfl", 4, 10, "--lang", "zh")
    assert cfl.output.startswith(f"已写入 {tmp_path / 'i.txt'}：场地 4 处，客户 10 个，随机种子 0；场地总费用 ")
    city = _run("generate", tmp_path / "c", "--city", 1, "--lang", "zh")
    assert city.output == f"已写入 1 个生活圈到 {tmp_path / 'c'}（见 {tmp_path / 'c' / 'README.md'}）\n"


def test_every_command_text_has_both_languages_and_the_same_fields():
    fields = re.compile(r"\{(\w+)")
    for key in COMMANDS:
        entry = CATALOGUE[key]
        assert set(entry) == {"en", "zh"}, key
        assert sorted(fields.findall(entry["en"])) == sorted(fields.findall(entry["zh"])), key


def test_usage_errors_translate_clicks_frame(console_env):
    """Before the command runs only --lang (or $LIFECIRCLE_LANG) can choose; click's detail stays."""
    assert _run("classic", "mclp", "--lang", "zh").output == "错误：缺少选项 '--instance'。（见 'lifecircle classic --help'）\n"
    assert _run("solve", "--budge", "1", "x", "--lang", "zh").output == (
        "错误：没有选项 '--budge'。是否想用 --budget？（见 'lifecircle solve --help'）\n")
    bad = _run("solve", "x", "--budget", "abc", "--lang", "zh")
    assert bad.exit_code == 2
    assert bad.output == "错误：'--budget' 的值无效：'abc' is not a valid float.（见 'lifecircle solve --help'）\n"
    assert _run("classic", "mclp", "--lang", "en").output == (
        "error: Missing option '--instance'. (see 'lifecircle classic --help')\n")
    assert _run("solve", "--budge", "1", "x").output == (
        "error: No such option '--budge'. Did you mean '--budget'? (see 'lifecircle solve --help')\n")
