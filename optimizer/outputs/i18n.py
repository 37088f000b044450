"""The one catalogue of every label lifecircle shows to officials, in Chinese and English.

The report, sites.xlsx and the ``explain`` and ``compare`` output take all their words from
:data:`CATALOGUE` through :func:`t`; nothing user-facing is spelled out elsewhere. The language is
``--lang`` when given, else the scenario's ``language`` key, else English. A test checks that every
key has both languages and the same ``{placeholders}`` in each.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "en"

CATALOGUE: dict[str, dict[str, str]] = {
    # --- words
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "yes_reachable": {"en": "(a candidate site could reach it)", "zh": "（有备选场地可覆盖）"},
    "not_reachable": {"en": "(no candidate site within reach)", "zh": "（步行范围内无备选场地）"},
    # --- site kinds (scenario `kind` column)
    "kind.under_bridge": {"en": "space under a bridge", "zh": "桥下空间"},
    "kind.vacant_room": {"en": "vacant community room", "zh": "闲置社区用房"},
    "kind.idle_land": {"en": "idle land", "zh": "闲置用地"},
    "kind.corner_plot": {"en": "corner plot", "zh": "边角地"},
    "kind.other": {"en": "other idle site", "zh": "其他闲置资源"},
    # --- common population groups; other group names are shown as written in the scenario
    "group.elderly": {"en": "elderly", "zh": "老年人"},
    "group.infants": {"en": "infants", "zh": "婴幼儿"},
    "group.children": {"en": "children", "zh": "儿童"},
    "group.teenagers": {"en": "teenagers", "zh": "青少年"},
    "group.adults": {"en": "adults", "zh": "成年人"},
    "group.workers": {"en": "workers", "zh": "就业人口"},
    # --- solve status
    "status.optimal": {"en": "optimal", "zh": "最优"},
    "status.feasible": {"en": "feasible (not proven optimal)", "zh": "可行（未证明最优）"},
    "status.infeasible": {"en": "infeasible", "zh": "不可行"},
    "status.no_solution": {"en": "no plan found", "zh": "未找到方案"},
    # --- rules
    "rule.budget": {"en": "budget", "zh": "预算"},
    "rule.must_open": {"en": "must_open (sites that must open)", "zh": "必选场地（must_open）"},
    "rule.min_open": {"en": "min_open (minimum new facilities per type)", "zh": "各类设施最少新增数（min_open）"},
    "rule.absent": {"en": "rule not used", "zh": "未设此规则"},
    "rule.unknown": {"en": "unknown (re-solve: {status})", "zh": "未知（重新求解：{status}）"},
    "rule.budget_slack": {"en": "unspent budget {slack}", "zh": "预算结余 {slack}"},
    "rule.relax_budget": {"en": "with {percent}% more budget",
                         "zh": "预算增加 {percent}%"},
    "rule.relax_remove": {"en": "without this rule",
                         "zh": "去掉此规则"},
    "rule.by_bound": {"en": "no MILP re-solve needed: the LP relaxation's bound equals the plan's coverage",
                     "zh": "无需重新求解整数规划：线性松弛上界等于方案覆盖"},
    "rule.by_ceiling": {"en": "no re-solve needed: the plan already covers everyone an idle site can reach",
                       "zh": "无需重新求解：方案已覆盖所有闲置场地可覆盖的人"},
    "rule.by_count_bound": {"en": "no re-solve needed: a plan short of a type's minimum covers at most {bound}, "
                                  "no more than this plan",
                            "zh": "无需重新求解：少于某类设施最低数量的方案，覆盖至多 {bound}，不超过本方案"},
    "rule.by_resolve": {"en": "re-solved with {solver} ({status})", "zh": "用 {solver} 重新求解（{status}）"},
    "rule.by_greedy": {"en": "facilities added greedily, each priced by the assignment LP ({status})",
                       "zh": "逐个贪心增加设施，每个由分配线性规划定价（{status}）"},
    "rule.must_dropped": {"en": "required sites the unconstrained plan would drop: {sites}",
                          "zh": "不受约束时方案会放弃的必选场地：{sites}"},
    "rule.min_counts": {"en": "opened / minimum: {counts}", "zh": "新增数 / 最少数：{counts}"},
    # --- report
    "report.title": {"en": "Recommended sites: {name}", "zh": "闲置资源选址推荐报告：{name}"},
    "sec.map": {"en": "1. Map", "zh": "一、一张图"},
    "sec.table": {"en": "2. Table: what the circle has and lacks", "zh": "二、一张表：服务覆盖现状与缺口"},
    "sec.list": {"en": "3. List of projects", "zh": "三、一张清单：推荐项目"},
    "sec.plan": {"en": "4. The plan as a whole", "zh": "四、方案整体分析"},
    "sec.facts": {"en": "5. Solve facts", "zh": "五、求解信息"},
    "sec.equity": {"en": "Fairness and capacity use", "zh": "公平性与设施负荷"},
    "equity.group": {"en": "Group", "zh": "人群"},
    "equity.circle": {"en": "Circle", "zh": "生活圈"},
    "equity.people": {"en": "People", "zh": "人口"},
    "equity.before": {"en": "Covered share before", "zh": "规划前覆盖率"},
    "equity.after": {"en": "Covered share after", "zh": "规划后覆盖率"},
    "equity.gap": {"en": "Gap between best and worst covered group (percentage points)", "zh": "覆盖最好与最差人群之差（百分点）"},
    "equity.gini": {"en": "Gini coefficient of covered share across circles", "zh": "各生活圈覆盖率基尼系数"},
    "equity.measure": {"en": "Measure", "zh": "指标"},
    "equity.rules": {"en": "Fairness rules", "zh": "公平性约束"},
    "equity.none": {"en": "none", "zh": "无"},
    "util.site": {"en": "Site", "zh": "场地"},
    "util.type": {"en": "Facility", "zh": "设施"},
    "util.served": {"en": "Served", "zh": "服务人数"},
    "util.capacity": {"en": "Capacity", "zh": "容量"},
    "util.share": {"en": "Utilisation", "zh": "负荷率"},
    "map.aria": {"en": "Map of demand coverage and recommended sites", "zh": "需求覆盖与推荐场地分布图"},
    "map.covered_before": {"en": "demand already covered by existing facilities",
                           "zh": "已由现有设施覆盖的需求"},
    "map.newly": {"en": "demand newly covered by this plan", "zh": "本方案新覆盖的需求"},
    "map.uncovered": {"en": "demand still uncovered", "zh": "仍未覆盖的需求"},
    "map.selected_type": {"en": "recommended: {type}", "zh": "推荐新建：{type}"},
    "map.existing": {"en": "existing facility", "zh": "现有设施"},
    "map.candidate": {"en": "idle site not chosen", "zh": "未选中的闲置场地"},
    "map.reach": {"en": "walking reach of a recommended site (dashed: slower group)",
                  "zh": "推荐场地的步行服务范围（虚线：步行较慢人群）"},
    "map.note": {"en": "Each dot is a demand point, sized by its people and coloured by the state of most "
                       "of them. Distances are straight lines in metres divided by the detour factor.",
                 "zh": "每个圆点为一个需求点，大小表示人数，颜色表示其多数人口的覆盖状态。距离为直线距离（米）除以绕行系数。"},
    "map.fragments": {"en": "On smaller street fragments (they walk only within their fragment; street length in "
                            "brackets) — {what}: {items}.",
                      "zh": "位于较小路网碎片上（只能在该碎片内步行；括号内为碎片道路长度）——{what}：{items}。"},
    "map.fragments_sites": {"en": "candidate sites", "zh": "候选场地"},
    "map.fragments_existing": {"en": "existing facilities", "zh": "现有设施"},
    "map.note_network": {"en": "Each dot is a demand point, sized by its people and coloured by the state of most "
                               "of them. Reach follows the walking network; a circle is the outer limit of a walk "
                               "(no path is shorter than the straight line).",
                         "zh": "每个圆点为一个需求点，大小表示人数，颜色表示其多数人口的覆盖状态。服务范围按步行路网计算；"
                               "圆圈为步行可达的外边界（任何路径都不短于直线距离）。"},
    "table.groups": {"en": "Coverage by population group", "zh": "各人群覆盖情况"},
    "table.kinds": {"en": "Idle sites used, by kind", "zh": "各类闲置资源使用情况"},
    "list.note": {"en": "Click a column heading to sort. Weighted people use the scenario's group weights. "
                        "Unique: people who lose coverage if only this site is dropped. Best alternative: the "
                        "unchosen site that recovers most of that within the freed budget.",
                  "zh": "点击列标题可排序。加权人数按情景中的人群权重计算。独有贡献：仅去掉该场地时失去覆盖的人数。"
                        "最佳替代：在腾出的预算内能挽回最多独有贡献的未选场地。"},
    "plan.binding": {"en": "Which rules bind", "zh": "哪些约束起作用"},
    "plan.uncovered": {"en": "Who is still uncovered, and where", "zh": "仍未覆盖的人群及位置"},
    "plan.next_budget": {"en": "What the next 10% of budget buys (re-solved)", "zh": "再增加 10% 预算的效果（重新求解）"},
    "next.summary": {"en": "With budget {budget} the weighted coverage is {objective} ({status}), {gain} more.",
                     "zh": "预算增至 {budget} 时，加权覆盖人数为 {objective}（{status}），增加 {gain}。"},
    "next.by_bound": {"en": "The LP relaxation with the larger budget cannot do better, so this is proven without a "
                            "MILP re-solve.",
                      "zh": "增加预算后的线性松弛上界也无法更高，因此无需重新求解整数规划即可证明。"},
    "next.by_ceiling": {"en": "The plan already covers everyone an idle site can reach, so more budget cannot add "
                              "anyone; no re-solve is needed to prove it.",
                        "zh": "方案已覆盖所有闲置场地可覆盖的人，增加预算无法再增加覆盖，无需重新求解即可证明。"},
    "next.by_greedy": {"en": "Found by adding facilities to the plan greedily, each priced by the assignment LP, not "
                             "by a second MILP: at least this much; no plan covers more than {bound} (capacity ceiling).",
                       "zh": "在方案上逐个贪心增加设施（每个由分配线性规划定价）得到，未再次求解整数规划：至少如此；"
                             "任何方案的覆盖都不超过 {bound}（容量上限）。"},
    "next.none": {"en": "The re-solve with more budget found no plan ({status}).",
                  "zh": "增加预算后的重新求解未得到方案（{status}）。"},
    "next.added": {"en": "sites it adds", "zh": "新增场地"},
    "next.removed": {"en": "sites it drops", "zh": "去掉的场地"},
    "facts.scenario": {"en": "scenario", "zh": "情景"},
    "facts.scenario_file": {"en": "scenario file", "zh": "情景文件"},
    "facts.checksum": {"en": "scenario checksum (SHA-256)", "zh": "情景校验码（SHA-256）"},
    "facts.solver": {"en": "solver", "zh": "求解器"},
    "facts.status": {"en": "status", "zh": "求解状态"},
    "facts.objective": {"en": "weighted coverage", "zh": "加权覆盖人数"},
    "facts.bound": {"en": "upper bound", "zh": "上界"},
    "facts.gap": {"en": "optimality gap", "zh": "最优间隙"},
    "facts.budget": {"en": "budget", "zh": "预算"},
    "facts.spent": {"en": "spent", "zh": "已用预算"},
    "facts.sites": {"en": "recommended sites", "zh": "推荐场地数"},
    "facts.crs": {"en": "coordinate system / for distances", "zh": "坐标系 / 距离计算坐标系"},
    "facts.reach": {"en": "walking reach (straight line)", "zh": "步行服务半径（直线）"},
    "facts.timings": {"en": "timings (s)", "zh": "耗时（秒）"},
    "facts.version": {"en": "lifecircle version", "zh": "lifecircle 版本"},
    "facts.date": {"en": "date", "zh": "生成时间"},
    # --- columns (report, sites.xlsx)
    "col.site_id": {"en": "site id", "zh": "场地编号"},
    "col.name": {"en": "name", "zh": "名称"},
    "col.kind": {"en": "kind of idle site", "zh": "闲置资源类型"},
    "col.facility_type": {"en": "facility type", "zh": "设施类型"},
    "col.cost": {"en": "cost", "zh": "费用"},
    "col.newly_group": {"en": "newly covered: {group}", "zh": "新覆盖：{group}"},
    "col.unique_group": {"en": "unique: {group}", "zh": "独有贡献：{group}"},
    "col.newly_weighted": {"en": "newly covered (weighted)", "zh": "新覆盖（加权）"},
    "col.unique_weighted": {"en": "unique (weighted)", "zh": "独有贡献（加权）"},
    "col.cost_per_person": {"en": "cost per newly covered weighted person", "zh": "每新覆盖加权人均费用"},
    "col.gain_rank": {"en": "marginal-gain rank", "zh": "边际收益排序"},
    "col.marginal_gain": {"en": "gain at its turn (weighted)", "zh": "排序时的边际收益（加权）"},
    "alt.not_needed": {"en": "none needed: nobody depends on this site alone", "zh": "无需替代：没有人仅依赖此场地"},
    "alt.none_fits": {"en": "none fits the freed budget", "zh": "腾出的预算内无可用场地"},
    "col.alt_site": {"en": "best alternative", "zh": "最佳替代场地"},
    "col.alt_name": {"en": "alternative's name", "zh": "替代场地名称"},
    "col.alt_type": {"en": "alternative's type", "zh": "替代设施类型"},
    "col.alt_cost": {"en": "alternative's cost", "zh": "替代费用"},
    "col.alt_recovered": {"en": "unique recovered (weighted)", "zh": "可挽回的独有贡献（加权）"},
    "col.alt_share": {"en": "share recovered (%)", "zh": "挽回比例（%）"},
    "col.alt_objective": {"en": "plan coverage after the swap (weighted)", "zh": "替换后方案覆盖（加权）"},
    "col.group": {"en": "group", "zh": "人群"},
    "col.weight": {"en": "weight", "zh": "权重"},
    "col.population": {"en": "population", "zh": "人口"},
    "col.covered_before": {"en": "covered before", "zh": "现状覆盖"},
    "col.share_before": {"en": "share before", "zh": "现状覆盖率"},
    "col.covered_after": {"en": "covered after", "zh": "方案后覆盖"},
    "col.share_after": {"en": "share after", "zh": "方案后覆盖率"},
    "col.newly_total": {"en": "newly covered", "zh": "新增覆盖"},
    "col.uncovered": {"en": "still uncovered", "zh": "仍未覆盖"},
    "col.unreachable": {"en": "of whom no idle site can reach", "zh": "其中无闲置场地可覆盖"},
    "col.where": {"en": "where (most people first: point (x, y): people)", "zh": "位置（按人数排序：需求点 (x, y)：人数）"},
    "col.candidates": {"en": "candidate sites", "zh": "备选场地数"},
    "col.used": {"en": "used", "zh": "选用数"},
    "col.used_as": {"en": "as {type}", "zh": "用作{type}"},
    "col.spent": {"en": "spent", "zh": "费用合计"},
    "col.rule": {"en": "rule", "zh": "约束"},
    "col.binding": {"en": "binding", "zh": "是否起作用"},
    "col.relaxation": {"en": "relaxation", "zh": "放宽方式"},
    "col.test": {"en": "how measured", "zh": "检验方法"},
    "col.gain_if_relaxed": {"en": "coverage gained if relaxed (weighted)", "zh": "放宽后增加的覆盖（加权）"},
    "col.detail": {"en": "detail", "zh": "说明"},
    "col.covered_next": {"en": "covered with 10% more budget", "zh": "预算增加 10% 后覆盖"},
    "col.change": {"en": "change", "zh": "变化"},
    # --- sites.xlsx
    "sheet.sites": {"en": "sites", "zh": "推荐清单"},
    "sheet.groups": {"en": "coverage", "zh": "覆盖情况"},
    "sheet.kinds": {"en": "site kinds", "zh": "闲置资源"},
    "sheet.plan": {"en": "binding rules", "zh": "约束分析"},
    "sheet.uncovered": {"en": "uncovered", "zh": "未覆盖人群"},
    "col.item": {"en": "item", "zh": "项目"},
    "col.value": {"en": "value", "zh": "内容"},
    "sheet.facts": {"en": "solve facts", "zh": "求解信息"},
    # --- explain
    "explain.site": {"en": "Site {site} {name} ({kind}) as {type}, cost {cost}",
                     "zh": "场地 {site} {name}（{kind}），用作{type}，费用 {cost}"},
    "explain.newly": {"en": "newly covered: {people} (weighted {weighted})", "zh": "新覆盖：{people}（加权 {weighted}）"},
    "explain.unique": {"en": "unique contribution (lost if only this site is dropped): {people} (weighted {weighted})",
                       "zh": "独有贡献（仅去掉此场地会失去覆盖）：{people}（加权 {weighted}）"},
    "explain.per_person": {"en": "cost per newly covered weighted person: {value}", "zh": "每新覆盖加权人均费用：{value}"},
    "explain.rank": {"en": "marginal-gain rank: {rank} of {count} (adds {gain} weighted people at its turn)",
                     "zh": "边际收益排序：第 {rank} / {count} 位（排到它时新增加权 {gain} 人）"},
    "explain.alt": {"en": "best alternative within the freed budget {freed}: {site} {name} as {type}, cost {cost}; "
                          "recovers {recovered} of its {unique} unique weighted people ({share}); plan coverage "
                          "{objective} instead of {base}",
                    "zh": "在腾出的预算 {freed} 内的最佳替代：{site} {name}，用作{type}，费用 {cost}；可挽回其独有加权 "
                          "{unique} 人中的 {recovered} 人（{share}）；方案覆盖由 {base} 变为 {objective}"},
    "explain.no_alt": {"en": "best alternative: no unchosen site fits the freed budget {freed}",
                       "zh": "最佳替代：腾出的预算 {freed} 内没有可用的未选场地"},
    "explain.plan": {"en": "Plan: {sites} sites, spent {spent} of {budget}, weighted coverage {objective}",
                     "zh": "方案：{sites} 处场地，使用预算 {spent} / {budget}，加权覆盖 {objective}"},
    "explain.rule_absent": {"en": "{rule}: rule not used", "zh": "{rule}：未设此规则"},
    "explain.rule_line": {"en": "{rule}: binding {state}; coverage gained {relax}: {gain} ({how}); {detail}",
                         "zh": "{rule}：是否起作用 {state}；{relax}后增加的覆盖：{gain}（{how}）；{detail}"},
    "explain.group_line": {"en": "{group}: {uncovered} still uncovered, {unreachable} of them out of reach of every idle site",
                           "zh": "{group}：仍未覆盖 {uncovered} 人，其中 {unreachable} 人不在任何闲置场地的服务范围内"},
    "explain.where_line": {"en": "point {point} at ({x}, {y}): {people} {reach}", "zh": "需求点 {point}（{x}, {y}）：{people} 人 {reach}"},
    "why.head": {"en": "Why site {site} {name} ({kind}) was not chosen:", "zh": "场地 {site} {name}（{kind}）未被选中的原因："},
    "why.selected": {"en": "it was chosen, as {type}.", "zh": "该场地已被选中，用作{type}。"},
    "why.forbidden": {"en": "the scenario's rules.forbid excludes it.", "zh": "情景规则 rules.forbid 禁止使用该场地。"},
    "why.no_type": {"en": "it has no cost for any facility type, so it cannot host one.",
                    "zh": "该场地没有任何设施类型的费用，无法建设。"},
    "why.already_covered": {"en": "its people are already covered: everyone it would reach as {type} is covered by an "
                                  "existing facility or by the plan.",
                            "zh": "其服务人群已被覆盖：作为{type}能覆盖的人已由现有设施或方案中的场地覆盖。"},
    "why.dominated": {"en": "it is dominated by {other}, which reaches everyone it would reach as {type} at a cost of "
                            "{other_cost} (its own: {cost}).",
                      "zh": "它被 {other} 占优：后者以 {other_cost} 的费用覆盖了它作为{type}能覆盖的所有人（其自身费用 {cost}）。"},
    "why.dominated_selected": {"en": "(that site is in the plan)", "zh": "（该场地已在方案中）"},
    "why.too_expensive": {"en": "it is too expensive for its gain: as {type} it would add {gain} weighted people for "
                                "{cost}, {per_person} per person; the plan's sites cost at most {worst} per newly covered "
                                "weighted person.",
                          "zh": "相对收益而言费用过高：作为{type}仅能新增加权 {gain} 人，费用 {cost}，人均 {per_person}；"
                                "方案中场地每新覆盖加权人的费用最高为 {worst}。"},
    "why.tie": {"en": "it could have been chosen: forcing it in as {type} loses nothing, so an equally good plan "
                      "uses it.",
                "zh": "它本可入选：强制选用（作为{type}）不损失覆盖，存在同样好的包含它的方案。"},
    "why.forced": {"en": "Re-solve with it forced in as {type} ({solver}, {status}): weighted coverage {forced} instead "
                         "of {base}, a loss of {loss} ({percent}).",
                   "zh": "强制选用（作为{type}）后重新求解（{solver}，{status}）：加权覆盖 {forced}，原方案 {base}，损失 {loss}（{percent}）。"},
    "why.forced_none": {"en": "Re-solve with it forced in as {type} ({solver}): no plan ({status}) — {message}",
                        "zh": "强制选用（作为{type}）后重新求解（{solver}）：无可行方案（{status}）——{message}"},
    # --- compare
    "compare.head": {"en": "Compare {a} → {b}", "zh": "方案对比 {a} → {b}"},
    "compare.scenario": {"en": "scenarios: {a} | {b}", "zh": "情景：{a} | {b}"},
    "compare.added": {"en": "sites added ({count})", "zh": "新增场地（{count}）"},
    "compare.removed": {"en": "sites removed ({count})", "zh": "去掉的场地（{count}）"},
    "compare.retyped": {"en": "sites with another facility type ({count})", "zh": "设施类型改变的场地（{count}）"},
    "compare.kept": {"en": "sites in both: {count}", "zh": "两方案共有场地：{count}"},
    "compare.site_line": {"en": "{site} {name} as {type}, cost {cost}", "zh": "{site} {name}，{type}，费用 {cost}"},
    "compare.retype_line": {"en": "{site} {name}: {type_a} → {type_b}", "zh": "{site} {name}：{type_a} → {type_b}"},
    "compare.coverage": {"en": "coverage after the plan, per group", "zh": "各人群方案后覆盖"},
    "compare.group_line": {"en": "{group}: {a} → {b} ({change})", "zh": "{group}：{a} → {b}（{change}）"},
    "compare.cost": {"en": "spent: {a} → {b} ({change}); budget: {budget_a} → {budget_b}",
                     "zh": "已用预算：{a} → {b}（{change}）；总预算：{budget_a} → {budget_b}"},
    "compare.objective": {"en": "weighted coverage: {a} → {b} ({change})", "zh": "加权覆盖：{a} → {b}（{change}）"},
    "compare.status": {"en": "status: {a} → {b}", "zh": "求解状态：{a} → {b}"},
    "compare.different_scenarios": {"en": "note: the two runs come from different scenario files",
                                    "zh": "注意：两次运行来自不同的情景文件"},
    "compare.written": {"en": "written: {path}", "zh": "已写入：{path}"},
}

# issue 15: the console's words (prefixes, phases, summaries, Ctrl-C) live in their own module
from lifecircle.optimizer.outputs.i18n_console import CONSOLE  # noqa: E402

if set(CONSOLE) & set(CATALOGUE):  # a clash would silently replace a report label
    raise RuntimeError(f"i18n: console keys repeat report keys: {sorted(set(CONSOLE) & set(CATALOGUE))}")
CATALOGUE.update(CONSOLE)


def t(key: str, lang: str, **values) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    try:
        entry = CATALOGUE[key]
    except KeyError:
        raise KeyError(f"i18n: no label {key!r} in the catalogue") from None
    text = entry[lang if lang in LANGUAGES else DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def resolve_language(lang: str | None, scenario_language: str | None = None) -> str:
    """``--lang`` when given, else the scenario's ``language``, else English."""
    for choice in (lang, scenario_language):
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LANGUAGE


def _lookup(prefix: str, name, lang: str) -> str:
    key = f"{prefix}.{name}"
    return t(key, lang) if key in CATALOGUE else str(name)


def group_label(group: str, lang: str, scenario=None) -> str:
    """A population group's label; names the catalogue does not know are shown as written.

    Under ``coverage: per_service`` (issue 14) a group is a service: with ``scenario`` it reads
    "elderly · canteen" (老年人 · 社区食堂), the group's label then the type's.
    """
    services = getattr(scenario, "services", None) or {}
    if group in services:
        g, k = services[group]
        return f"{_lookup('group', g, lang)} · {type_label(scenario, scenario.type_names.index(k), lang)}"
    return _lookup("group", group, lang)


def kind_label(kind: str, lang: str) -> str:
    return _lookup("kind", kind, lang)


def status_label(status, lang: str) -> str:
    return _lookup("status", status, lang)


def rule_label(rule: str, lang: str) -> str:
    return _lookup("rule", rule, lang)


def type_label(scenario, k: int, lang: str) -> str:
    """A facility type as the scenario labels it; in English the type key follows a differing label."""
    key = scenario.type_names[k]
    label = scenario.facility_types[key].label
    return label if lang == "zh" or label == key else f"{label} ({key})"


# issue 15: the report's own words live in i18n_report.py; one catalogue for t() and its tests
from lifecircle.optimizer.outputs.i18n_report import REPORT_CATALOGUE  # noqa: E402

CATALOGUE.update(REPORT_CATALOGUE)
