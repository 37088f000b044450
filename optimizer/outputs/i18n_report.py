"""The report's own words (issue 15): headlines, rules said plainly, the map's furniture, print.

Kept beside :mod:`i18n` so the shared catalogue file stays small; :mod:`i18n` merges this dict
into its ``CATALOGUE``, so :func:`~lifecircle.optimizer.outputs.i18n.t` and its both-languages
test see these keys like any other.
"""

from __future__ import annotations

REPORT_CATALOGUE: dict[str, dict[str, str]] = {
    # --- headline
    "head.people": {"en": "People covered, per group", "zh": "各人群覆盖人数"},
    "head.group_line": {"en": "{group} {after} / {population} people ({share})",
                        "zh": "{group} {after} / {population} 人（{share}）"},
    "head.group_before": {"en": "before the plan {before} ({share_before}); newly covered {newly}",
                          "zh": "规划前 {before}（{share_before}），新增覆盖 {newly}"},
    "head.weighted": {"en": "Weighted coverage {objective} ({status}): people × the scenario's group weights, "
                            "the figure the optimiser maximises.",
                      "zh": "加权覆盖人数 {objective}（{status}）：人数 × 情景中的人群权重，即优化目标值。"},
    "head.money": {"en": "{sites} sites recommended; spent {spent} of the budget {budget} ({share}).",
                   "zh": "推荐 {sites} 处场地；使用预算 {spent}（总预算 {budget}，占 {share}）。"},
    "head.rules": {"en": "Which rules bound this plan", "zh": "哪些规则约束了本方案"},
    "bound.budget_yes": {"en": "The budget bound: more money would cover more people ({slack} left unspent).",
                         "zh": "预算起作用：增加预算可以覆盖更多人（结余 {slack}）。"},
    "bound.budget_no": {"en": "The budget did not bind: more money would not cover anyone more ({slack} left "
                              "unspent).",
                        "zh": "预算未起作用：增加预算也不能覆盖更多人（结余 {slack}）。"},
    "bound.budget_unknown": {"en": "Whether the budget bound is unknown (the re-solve did not settle it).",
                             "zh": "预算是否起作用未知（重新求解未能确定）。"},
    "bound.must_yes": {"en": "The must-open sites bound: without them the plan would cover {gain} more weighted "
                             "people.",
                       "zh": "必选场地起作用：若不强制选用，方案可多覆盖加权 {gain} 人。"},
    "bound.must_no": {"en": "The must-open sites cost no coverage: an equally good plan keeps them.",
                      "zh": "必选场地不影响覆盖：同样好的方案也包含它们。"},
    "bound.min_yes": {"en": "The minimum new facilities per type (min_open) bound: without them the plan would "
                            "cover {gain} more weighted people. {counts}",
                      "zh": "各类设施最少新增数（min_open）起作用：若无此要求，方案可多覆盖加权 {gain} 人。{counts}"},
    "bound.min_no": {"en": "The minimum new facilities per type (min_open) did not bind. {counts}",
                     "zh": "各类设施最少新增数（min_open）未起作用。{counts}"},
    "bound.unknown": {"en": "{rule}: whether it bound is unknown (the re-solve did not settle it).",
                      "zh": "{rule}：是否起作用未知（重新求解未能确定）。"},
    "bound.absent": {"en": "No {rule}.", "zh": "未设{rule}。"},
    "bound.floor": {"en": "Coverage floor for {group}: at least {floor}; the plan reaches {share}{tight}.",
                    "zh": "{group}覆盖率下限 {floor}；方案达到 {share}{tight}。"},
    "bound.floor_circle": {"en": "Coverage floor per circle: at least {floor}.", "zh": "各生活圈覆盖率下限 {floor}。"},
    "bound.tight": {"en": " (at the floor: it may bind)", "zh": "（恰在下限：可能起作用）"},
    "bound.maximin": {"en": "The plan raises the worst-covered group first (maximin: {what}).",
                      "zh": "方案优先提高覆盖最差的人群（maximin：{what}）。"},
    "bound.forbid": {"en": "{count} site(s) excluded by rules.forbid (listed under the site list).",
                     "zh": "{count} 处场地被 rules.forbid 排除（见清单下方）。"},
    # --- site rules
    "rules.title": {"en": "Rules on sites", "zh": "场地规则"},
    "rules.must_open": {"en": "Must-open sites (rules.must_open)", "zh": "必选场地（rules.must_open）"},
    "rules.forbid": {"en": "Forbidden sites (rules.forbid)", "zh": "禁用场地（rules.forbid）"},
    "rules.none": {"en": "none", "zh": "无"},
    "rules.forbid_rule": {"en": "excluded by the scenario's rules.forbid", "zh": "情景规则 rules.forbid 禁止使用"},
    "rules.must_rule": {"en": "required by rules.must_open as {type}", "zh": "rules.must_open 要求建为{type}"},
    "rules.recipe": {"en": "Minimum new facilities: circle type {circle} — {items}.",
                     "zh": "最少新增设施：生活圈类型 {circle}——{items}。"},
    "rules.recipe_item": {"en": "{type} at least {minimum} ({source}; this plan opens {opened})",
                          "zh": "{type}至少 {minimum} 处（{source}；本方案新增 {opened} 处）"},
    "rules.recipe_none": {"en": "no minimum applies", "zh": "无最少数要求"},
    "rules.from_recipe": {"en": "recipe for {circle}", "zh": "{circle}配置标准"},
    "rules.from_scenario": {"en": "the scenario's rules.min_open", "zh": "情景 rules.min_open"},
    "circle.residential": {"en": "residential", "zh": "居住型"},
    "circle.industrial": {"en": "industrial", "zh": "产业型"},
    "circle.commercial": {"en": "commercial", "zh": "商服型"},
    "circle.other": {"en": "other", "zh": "其他型"},
    "circle.rural": {"en": "rural", "zh": "乡村"},
    "col.rule_flag": {"en": "rule", "zh": "规则"},
    "flag.must_open": {"en": "must open", "zh": "必选"},
    "list.part_effect": {"en": "List, part 1: what each site covers", "zh": "清单（一）：各场地覆盖"},
    "list.part_alt": {"en": "List, part 2: rank and best alternative", "zh": "清单（二）：排序与最佳替代"},
    # --- map furniture
    "map.north": {"en": "N", "zh": "北"},
    "map.key": {"en": "Key to the numbered sites", "zh": "场地编号对照"},
    "map.boundary": {"en": "circle boundary", "zh": "生活圈边界"},
    "map.network": {"en": "walking network", "zh": "步行路网"},
    "map.area_network": {"en": "walking service area on the network (outer limit: the longest walk a site serves)",
                         "zh": "推荐场地的路网步行服务范围（外边界：该设施最远步行距离）"},
    "map.note_areas": {"en": "Each dot is a demand point, sized by its people and coloured by the state of most of "
                             "them. Service areas follow the walking network: the streets from which a walk reaches "
                             "the site in time, widened by {band} m.",
                       "zh": "每个圆点为一个需求点，大小表示人数，颜色表示其多数人口的覆盖状态。服务范围沿步行路网计算："
                             "在规定时间内可步行到达场地的街道，两侧各加宽 {band} 米。"},
    "map.zoom_hint": {"en": "Scroll or use the buttons to zoom, drag to pan.", "zh": "滚轮或按钮缩放，拖动平移。"},
    "map.zoom_in": {"en": "zoom in", "zh": "放大"},
    "map.zoom_out": {"en": "zoom out", "zh": "缩小"},
    "map.zoom_reset": {"en": "reset view", "zh": "复位"},
    "col.number": {"en": "no.", "zh": "编号"},
    "head.money_unit": {"en": "money in 元 (yuan); 1 万元 = 10,000 元", "zh": "金额单位：元；1 万元 = 10,000 元"},
}
