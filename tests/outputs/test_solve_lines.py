"""`lifecircle solve`'s summary lines on a three-solve least-cost run (the dense district's shape):
the bound printed like the objective, and the least-cost stage names in the console's language."""

from __future__ import annotations

import re
import unicodedata

from click.testing import CliRunner
from support.scenarios import REPO

from lifecircle.cli import main
from lifecircle.optimizer.outputs.i18n import CATALOGUE
from lifecircle.optimizer.outputs.text import solve_lines

BISHAN = REPO / "scenarios" / "bishan_rural" / "scenario.yaml"


def _summary() -> dict:
    return {"scenario": "dense", "status": "optimal", "solver": "highs", "reason": None,
            "objective": 1_174_983.0, "bound": 1_174_983.0, "gap": 0.0, "bound_source": "mip",
            "stages": [{"stage": "coverage", "status": "optimal"}, {"stage": "cost", "status": "feasible"},
                       {"stage": "ties", "status": "optimal"}],
            "spent": 178_100_000.0, "budget": 178_100_000.0, "selected": [{}] * 317,
            "coverage": {}, "timings_s": {"solve": 134.64},
            "services": {"elderly·canteen": {"group": "elderly", "facility_type": "canteen", "covered_before": 134_642.0,
                                             "covered_after": 507_679.0}}}


def test_english_lines():
    lines = solve_lines(_summary(), "out", 0, "en")
    assert lines[1] == "weighted coverage 1,174,983.0 (bound 1,174,983.0 [mip], gap 0)"
    assert lines[2] == "least cost: cost feasible, ties optimal"
    # English keeps the type key, with or without labels
    assert solve_lines(_summary(), "out", 0, "en", {"canteen": "社区食堂"})[4] == \
        "  elderly · canteen      covered before    134,642  after    507,679"


def test_chinese_lines_name_the_stages_in_chinese():
    lines = solve_lines(_summary(), "out", 0, "zh")
    assert lines[1] == "加权覆盖 1,174,983.0（上界 1,174,983.0 [mip]，间隙 0）"
    assert lines[2] == "最省方案：花费 可行（未证明最优），同等方案检查 最优"
    assert lines[4] == "  老年人 · canteen 规划前覆盖    134,642  规划后    507,679"  # no labels given
    labelled = solve_lines(_summary(), "out", 0, "zh", {"canteen": "社区食堂"})
    assert labelled[4] == "  老年人 · 社区食堂 规划前覆盖    134,642  规划后    507,679"


def test_chinese_columns_line_up_on_the_terminal(tmp_path):
    """A Chinese character takes two terminal columns: the figures start in one column on every line."""
    summary = _summary() | {
        "coverage": {g: {"population": 10.0, "covered_before": 1.0, "covered_after": 2.0}
                     for g in ("elderly", "infants", "children")},
        "services": {f"{g}·{k}": {"group": g, "facility_type": k, "covered_before": 1.0, "covered_after": 2.0}
                     for g, k in (("elderly", "elder_child"), ("elderly", "canteen"), ("children", "elder_child"))}}
    lines = solve_lines(summary, "out", 0, "zh", {"elder_child": "老幼共托服务站", "canteen": "社区食堂"})

    def column(line: str, word: str) -> int:
        head = line[:line.index(word)]
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in head)

    assert {column(line, "人口") for line in lines[4:7]} == {15}  # "  " + 12 columns + " "
    assert len({column(line, "规划前覆盖") for line in lines[7:10]}) == 1
    assert lines[8] == "  老年人 · 社区食堂       规划前覆盖          1  规划后          2"


def test_solve_names_services_by_the_scenarios_labels_in_chinese(tmp_path):
    scenario = BISHAN
    zh = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(tmp_path / "zh"), "--no-report", "--lang", "zh"])
    en = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(tmp_path / "en"), "--no-report", "--lang", "en"])
    assert zh.exit_code == en.exit_code == 0, zh.output + en.output
    assert [line.split("规划前覆盖")[0].strip() for line in zh.output.splitlines() if " · " in line] == [
        "老年人 · 老幼共托服务站", "老年人 · 社区食堂", "婴幼儿 · 老幼共托服务站", "儿童 · 老幼共托服务站"]
    assert [line.split("covered before")[0].strip() for line in en.output.splitlines() if " · " in line] == [
        "elderly · elder_child", "elderly · canteen", "infants · elder_child", "children · elder_child"]


def test_plan_names_services_by_the_scenarios_labels_in_chinese(tmp_path):
    scenario = BISHAN
    args = ["plan", str(scenario), "--years", "2", "--budget-per-year", "4000000", "--lang"]
    zh = CliRunner().invoke(main, args + ["zh", "--out", str(tmp_path / "zh")])
    en = CliRunner().invoke(main, args + ["en", "--out", str(tmp_path / "en")])
    assert zh.exit_code == en.exit_code == 0, zh.output + en.output
    year = next(line for line in zh.output.splitlines() if line.startswith("  第 1 年"))
    assert year.endswith("（老年人 · 老幼共托服务站 4,092，老年人 · 社区食堂 1,256，婴幼儿 · 老幼共托服务站 318，"
                         "儿童 · 老幼共托服务站 1,509）")
    assert "(elderly·elder_child 4,092, elderly·canteen 1,256, infants·elder_child 318, children·elder_child 1,509)" \
        in en.output


def test_equity_line_in_both_languages():
    summary = _summary() | {"equity": {"rules": True, "gini_circles_after": 0.1324,
                                       "groups": {"elderly·canteen": {"share_after": 0.406},
                                                  "children·elder_child": {"share_after": 0.481},
                                                  "infants·elder_child": {"share_after": None}}}}
    labels = {"canteen": "社区食堂", "elder_child": "老幼共托服务站"}
    en = solve_lines(summary, "out", 0, "en", labels)
    zh = solve_lines(summary, "out", 0, "zh", labels)
    assert "equity: covered shares elderly·canteen 40.6%, children·elder_child 48.1%; Gini across circles 0.132" in en
    assert "公平：覆盖比例 老年人 · 社区食堂 40.6%，儿童 · 老幼共托服务站 48.1%；各生活圈覆盖基尼系数 0.132" in zh


def test_every_status_line_phase_has_both_languages():
    """The status line shows a phase in the console's language when its key is in the catalogue, else
    the English log message: every ``events.phase`` key in the code has both (f-string keys spelled
    out below)."""
    root = REPO
    keys = set()
    for path in list((root / "optimizer").rglob("*.py")) + [root / "cli.py"]:
        keys |= set(re.findall(r'events\.(?:phase|note)\(\s*logger,\s*"([\w.]+)"', path.read_text(encoding="utf-8")))
    keys |= {f"phase.stage_{name}" for name in ("cost", "rank", "ties")}
    keys |= {"phase.benders_optimal", "phase.benders_feasible"}
    assert {"phase.encoding", "phase.report_swaps", "phase.report_rule", "phase.report_next_budget"} <= keys
    missing = sorted(k for k in keys if k not in CATALOGUE or not {"en", "zh"} <= set(CATALOGUE[k]))
    assert not missing
