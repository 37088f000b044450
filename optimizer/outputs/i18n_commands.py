"""The printed lines of network, classic, bench, export, generate and validate, in Chinese and
English (issue 15). Merged into :data:`i18n.CATALOGUE` through :mod:`i18n_console` (a key clash
raises), so these commands speak from the same catalogue as the report.

The English texts are the exact lines these commands printed before: scripts and tests that read
them see no change. Identifiers (file names, option and field names such as max_snap_m, status
and solver names, model names) stay as written in both languages: they are what a person types.
"""

from __future__ import annotations

COMMANDS: dict[str, dict[str, str]] = {
    # --- the frame of click's usage errors after "错误：" (click's detail stays as click says it)
    "cmd.click.see_help": {"en": " (see '{command} --help')", "zh": "（见 '{command} --help'）"},
    "cmd.click.aborted": {"en": "aborted", "zh": "已中止"},
    "cmd.click.missing_argument": {"en": "Missing argument {hint}.", "zh": "缺少参数 {hint}。"},
    "cmd.click.missing_option": {"en": "Missing option {hint}.", "zh": "缺少选项 {hint}。"},
    "cmd.click.invalid": {"en": "Invalid value for {hint}: {message}", "zh": "{hint} 的值无效：{message}"},
    "cmd.click.no_such_option": {"en": "No such option '{name}'.", "zh": "没有选项 '{name}'。"},
    "cmd.click.did_you_mean": {"en": " Did you mean {options}?", "zh": "是否想用 {options}？"},
    # --- validate: the lines i18n_console.py did not cover
    "cmd.validate.layers": {"en": "  layers read as: {layers}", "zh": "  各图层的坐标系：{layers}"},
    "cmd.validate.converted": {"en": " (converted to WGS84)", "zh": "（已转换为 WGS84）"},
    "cmd.validate.coverage": {"en": "  coverage {mode}", "zh": "  覆盖方式 {mode}"},
    "cmd.validate.network": {"en": "  walking network {file}: {nodes} nodes, {edges} edges, {km} km "
                                   "(details: lifecircle network)",
                             "zh": "  步行路网 {file}：节点 {nodes} 个，路段 {edges} 条，共 {km} 公里"
                                   "（详见 lifecircle network）"},
    # --- network (a scenario's walking network)
    "cmd.network.head": {"en": "{file} (distances in {crs})", "zh": "{file}（距离按 {crs} 计算）"},
    "cmd.network.size": {"en": "  {nodes} nodes, {edges} edges from {features} lines, total length {km} km",
                         "zh": "  节点 {nodes} 个，路段 {edges} 条（来自 {features} 条线），总长 {km} 公里"},
    "cmd.network.components": {"en": "  {n} connected component(s); the largest holds {share} of the length",
                               "zh": "  连通分量 {n} 个；最大的一个占总长的 {share}"},
    "cmd.network.islands": {"en": "  demand on smaller components: {islands}", "zh": "  位于较小连通分量上的需求：{islands}"},
    "cmd.network.fragments": {"en": "  {label} on smaller components ({n}; fragment street length): {shown}",
                              "zh": "  位于较小连通分量上的{label}（{n} 处；括号内为该分量的街道长度）：{shown}"},
    "cmd.network.snap_head": {"en": "  snap distance (m), max_snap_m {max_snap:g}:",
                              "zh": "  吸附距离（米），max_snap_m {max_snap:g}："},
    "cmd.network.snap_none": {"en": "    {label:<9} none", "zh": "    {label:<9} 无"},
    "cmd.network.snap": {"en": "    {label:<9} n {n:>7}  min {min:8.1f}  median {median:8.1f}  p95 {p95:8.1f}  "
                               "max {max:8.1f}  beyond max_snap_m {beyond}",
                         "zh": "    {label:<9} 数量 {n:>7}  最小 {min:8.1f}  中位数 {median:8.1f}  p95 {p95:8.1f}  "
                               "最大 {max:8.1f}  超出 max_snap_m {beyond}"},
    "cmd.network.unreachable": {"en": "      unreachable (beyond max_snap_m): {shown}",
                                "zh": "      无法到达（超出 max_snap_m）：{shown}"},
    "cmd.network.demand": {"en": "demand", "zh": "需求点"},
    "cmd.network.sites": {"en": "sites", "zh": "备选场地"},
    "cmd.network.existing": {"en": "existing", "zh": "现有设施"},
    # the network's columns, as optimizer/inputs/network.py describes them (role: what was used)
    "cmd.network.column": {"en": "  {role}: {used}", "zh": "  {role}：{used}"},
    "cmd.network.role.length": {"en": "length", "zh": "长度"},
    "cmd.network.used.drawn": {"en": "drawn geometry", "zh": "按线的几何长度"},
    "cmd.network.used.no_factor": {"en": "none (1)", "zh": "无（取 1）"},
    "cmd.network.used.no_oneway": {"en": "none: every street both ways", "zh": "无：每条街都可双向通行"},
    "cmd.network.used.respected": {"en": "column 'oneway', respected (walking.oneway: respect)",
                                   "zh": "列 'oneway'，已遵循（walking.oneway: respect）"},
    "cmd.network.used.ignored": {"en": "column 'oneway' ignored: every street both ways (walking.oneway: ignore)",
                                 "zh": "列 'oneway' 已忽略：每条街都可双向通行（walking.oneway: ignore）"},
    "cmd.network.used.osm_length": {"en": "OSM: geodesic length of each edge", "zh": "OSM：每条路段的大地线长度"},
    "cmd.network.used.osm_steps": {"en": "OSM: steps {factor}, other ways 1", "zh": "OSM：台阶 steps {factor}，其他道路 1"},
    "cmd.network.used.osm_oneway": {"en": "OSM oneway ignored: every way walked both ways (a rule for cars)",
                                    "zh": "OSM oneway 已忽略：步行时每条路都可双向通行（这是机动车的规则）"},
    # --- network --from-osm
    "cmd.osm.head": {"en": "{out}: {edges} edges between {nodes} junctions and dead ends, from {kept} of {read} "
                           "highway ways, total length {km} km",
                     "zh": "{out}：路段 {edges} 条，连接 {nodes} 个路口和尽端，取自 {read} 条 highway 道路中的 {kept} 条，"
                           "总长 {km} 公里"},
    "cmd.osm.rules": {"en": "  oneway: ignored (every way walked both ways); steps: walk_factor {factor:g}",
                      "zh": "  oneway：忽略（步行时每条路都可双向通行）；台阶 steps：walk_factor {factor:g}"},
    "cmd.osm.classes": {"en": "  by class: {classes}", "zh": "  按道路等级：{classes}"},
    "cmd.osm.km": {"en": "{name} {count} ({km} km)", "zh": "{name} {count}（{km} 公里）"},
    # --- classic
    "cmd.classic.head": {"en": "{instance}: {model} {status} with {solver}",
                         "zh": "{instance}：{model} {status}（求解器 {solver}）"},
    "cmd.classic.objective": {"en": "objective {objective} (bound {bound}, gap {gap})",
                              "zh": "目标值 {objective}（界 {bound}，间隙 {gap}）"},
    "cmd.classic.selected": {"en": "selected {n} sites: {shown}{more}", "zh": "选中 {n} 处场地：{shown}{more}"},
    "cmd.classic.more": {"en": " ... ({n} in all)", "zh": " ……（共 {n} 处）"},
    "cmd.classic.covered": {"en": "covered weight {weight}; uncovered points {uncovered}",
                            "zh": "覆盖权重 {weight}；未覆盖点 {uncovered} 个"},
    "cmd.classic.presolve": {"en": "presolve: sites {sites_before} -> {sites_after}, demand classes {classes_before} -> "
                                   "{classes_after} (from {points} points), fixed open {fixed_open}",
                             "zh": "预处理：场地 {sites_before} -> {sites_after}，需求类 {classes_before} -> "
                                   "{classes_after}（来自 {points} 个点），固定选中 {fixed_open} 处"},
    "cmd.classic.no_plan": {"en": "no plan found within the time limit ({message})",
                            "zh": "时限内未找到方案（{message}）"},
    "cmd.classic.timings": {"en": "timings (s): {timings}", "zh": "用时（秒）：{timings}"},
    # classic's timing names (the keys of its --json timings_s)
    "cmd.timing.read": {"en": "read", "zh": "读取"},
    "cmd.timing.coverage": {"en": "coverage", "zh": "覆盖计算"},
    "cmd.timing.aggregate": {"en": "aggregate", "zh": "聚合"},
    "cmd.timing.presolve": {"en": "presolve", "zh": "预处理"},
    "cmd.timing.build": {"en": "build", "zh": "建模"},
    "cmd.timing.solve": {"en": "solve", "zh": "求解"},
    # --- bench
    "cmd.bench.mismatch": {"en": "bench: {instance}: {note}", "zh": "基准测试：{instance}：{note}"},
    "cmd.bench.done": {"en": "{ok} of {n} rows optimal; wrote {out}/bench.csv and {out}/bench.md",
                       "zh": "{n} 行中 {ok} 行为最优；已写入 {out}/bench.csv 和 {out}/bench.md"},
    "cmd.bench.no_spopt": {"en": "bench --compare spopt: spopt is not installed (pip install spopt); no spopt rows",
                           "zh": "bench --compare spopt：未安装 spopt（pip install spopt）；不含 spopt 的行"},
    # --- export
    "cmd.export.wrote": {"en": "wrote {mps}{lp}: {rows} rows, {cols} columns, {nnz} nonzeros, objective offset {offset:g}",
                         "zh": "已写入 {mps}{lp}：{rows} 行，{cols} 列，{nnz} 个非零元，目标常数项 {offset:g}"},
    "cmd.export.and": {"en": " and {path}", "zh": " 和 {path}"},
    # --- generate
    "cmd.generate.wrote": {"en": "wrote {path}", "zh": "已写入 {path}"},
    "cmd.generate.cfl": {"en": "wrote {path}: {sites} sites, {clients} clients, seed {seed}; total site cost {cost:g} "
                               "(10% budget: {budget:g})",
                         "zh": "已写入 {path}：场地 {sites} 处，客户 {clients} 个，随机种子 {seed}；场地总费用 {cost:g}"
                               "（10% 预算：{budget:g}）"},
    "cmd.generate.city": {"en": "wrote {n} circles into {path} (see {readme})",
                          "zh": "已写入 {n} 个生活圈到 {path}（见 {readme}）"},
}
