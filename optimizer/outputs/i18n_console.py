"""The console's words (issue 15): error prefixes, progress phases, the Ctrl-C line and the
commands' printed summaries, in Chinese and English. Merged into :data:`i18n.CATALOGUE`, so the
console and the report speak from one catalogue; kept here so that i18n.py stays short.

The English texts are the exact lines lifecircle printed before it spoke Chinese: scripts and
tests that read them see no change.
"""

from __future__ import annotations

CONSOLE: dict[str, dict[str, str]] = {
    # --- line prefixes
    "console.error": {"en": "error: {message}", "zh": "错误：{message}"},
    "console.warning": {"en": "warning: {message}", "zh": "警告：{message}"},
    # --- the one progress line: command labels and the solver's figures
    "console.cmd.solve": {"en": "solve", "zh": "求解"},
    "console.cmd.sweep": {"en": "sweep", "zh": "预算扫描"},
    "console.cmd.plan": {"en": "plan", "zh": "分期规划"},
    "console.cmd.city": {"en": "city", "zh": "全市"},
    "console.cmd.explain": {"en": "explain", "zh": "解释"},
    "console.cmd.bench": {"en": "bench", "zh": "基准测试"},
    "console.starting": {"en": "starting", "zh": "开始"},
    "console.budgets": {"en": "budgets", "zh": "预算"},
    "console.circles": {"en": "circles", "zh": "生活圈"},
    "console.mip": {"en": "incumbent {incumbent} · bound {bound} · gap {gap}",
                    "zh": "当前最优 {incumbent} · 界 {bound} · 间隙 {gap}"},
    "console.mip_gap": {"en": "gap {gap}", "zh": "间隙 {gap}"},
    # --- phases (optimizer.core.events.phase keys)
    "phase.loading": {"en": "loading {path}", "zh": "读取 {path}"},
    "phase.coverage": {"en": "coverage: who each site could reach (straight lines x detour factor)",
                       "zh": "覆盖计算：各场地可覆盖的人口（直线距离 × 绕行系数）"},
    "phase.coverage_network": {"en": "coverage: who each site could reach (walking network)",
                               "zh": "覆盖计算：各场地可覆盖的人口（步行路网）"},
    "phase.solving": {"en": "solving with {solver} (budget {budget})", "zh": "用 {solver} 求解（预算 {budget}）"},
    "phase.stage_cost": {"en": "least cost: cheapest plan at this coverage",
                         "zh": "最省方案：同等覆盖下花费最少"},
    "phase.stage_rank": {"en": "least cost: canonical tie-break", "zh": "最省方案：同等花费时的确定性排序"},
    "phase.stage_ties": {"en": "least cost: checking for equal plans", "zh": "最省方案：检查是否有同样好的方案"},
    "phase.report_resolves": {"en": "report: explaining the plan (re-solves with {solver}, at most {limit} s each)",
                              "zh": "报告：解释方案（用 {solver} 重新求解，每次最多 {limit} 秒）"},
    "phase.report_next_budget": {"en": "report: what {percent}% more budget buys",
                                 "zh": "报告：预算增加 {percent}% 能多覆盖多少"},
    "phase.report_rule": {"en": "report: re-solving without {rule}", "zh": "报告：去掉 {rule} 规则后重新求解"},
    "phase.report_swaps": {"en": "report: {swaps} swaps on one assignment LP ({columns} columns, {classes} classes of "
                                 "{pairs} pairs)",
                           "zh": "报告：在一个分配线性规划上评估 {swaps} 个替换（{columns} 列，{classes} 类，{pairs} 个需求对）"},
    "phase.encoding": {"en": "{path}: text read as {encoding}", "zh": "{path}：按 {encoding} 编码读取"},
    "phase.benders_optimal": {"en": "capacities by Benders: {rounds} master solves, {lps} assignment LPs, {cuts} cuts "
                                    "({reused} reused); coverage optimal",
                              "zh": "容量（Benders 分解）：主问题求解 {rounds} 次，分配线性规划 {lps} 次，割 {cuts} 条"
                                    "（复用 {reused} 条）；覆盖已证明最优"},
    "phase.benders_feasible": {"en": "capacities by Benders: {rounds} master solves, {lps} assignment LPs, {cuts} cuts "
                                     "({reused} reused); coverage not proven optimal",
                               "zh": "容量（Benders 分解）：主问题求解 {rounds} 次，分配线性规划 {lps} 次，割 {cuts} 条"
                                     "（复用 {reused} 条）；覆盖未证明最优"},
    "phase.report_write": {"en": "report: writing report.html and sites.xlsx",
                           "zh": "报告：写入 report.html 和 sites.xlsx"},
    "phase.writing": {"en": "writing {path}", "zh": "写入 {path}"},
    "phase.sweeping": {"en": "sweeping {n} budgets with {solver}", "zh": "用 {solver} 求解 {n} 个预算"},
    "phase.plan": {"en": "solving the {years}-year plan with {solver}", "zh": "用 {solver} 求解 {years} 年分期方案"},
    "phase.myopic": {"en": "solving year by year (myopic), for --compare", "zh": "逐年求解（短视方案），用于 --compare 对比"},
    "phase.city_todo": {"en": "{n} circles: {todo} to solve, {done} already done",
                        "zh": "{n} 个生活圈：待求解 {todo} 个，已完成 {done} 个"},
    "phase.dask": {"en": "starting Dask: {where}", "zh": "启动 Dask：{where}"},
    "phase.dask_stop": {"en": "stopping Dask", "zh": "关闭 Dask"},
    "phase.city_solve": {"en": "solving {n} circles", "zh": "求解 {n} 个生活圈"},
    "phase.city_write": {"en": "writing city.csv and city.geojson into {path}",
                         "zh": "写入 city.csv 和 city.geojson 到 {path}"},
    "phase.bench": {"en": "bench: {name} {model} with {solver}", "zh": "基准测试：{name} {model}，求解器 {solver}"},
    "phase.why_not": {"en": "why not {site}: re-solving with it forced in",
                      "zh": "为何未选 {site}：强制选入后重新求解"},
    # --- Ctrl-C: one line, what was finished and where it is
    "console.interrupted": {"en": "lifecircle: interrupted; nothing written", "zh": "lifecircle：已中断；未写入任何文件"},
    "console.interrupted_during": {"en": "lifecircle: interrupted while {phase}; nothing written",
                                   "zh": "lifecircle：在“{phase}”时中断；未写入任何文件"},
    "console.interrupted_sweep": {"en": "lifecircle: interrupted; {done} of {total} budgets solved, nothing written "
                                        "(a sweep writes its folder at the end)",
                                  "zh": "lifecircle：已中断；{total} 个预算中已求解 {done} 个，未写入任何文件（扫描结果在结束时一次写入）"},
    "console.interrupted_city": {"en": "lifecircle: interrupted; {done} of {total} circles finished, written to {path} "
                                       "(run again to resume)",
                                 "zh": "lifecircle：已中断；{total} 个生活圈中已完成 {done} 个，结果已写入 {path}（再次运行可续算）"},
    "console.interrupted_bench": {"en": "lifecircle: interrupted; {done} of {total} jobs finished, written to {path}",
                                  "zh": "lifecircle：已中断；{total} 个任务中已完成 {done} 个，结果已写入 {path}"},
    # --- solve's summary
    "sum.head": {"en": "{scenario}: {status} with {solver}", "zh": "{scenario}：{status}（求解器 {solver}）"},
    "sum.reason": {"en": "reason: {reason}", "zh": "原因：{reason}"},
    "sum.coverage": {"en": "weighted coverage {objective} ({bound}, {gap_name} {gap})",
                     "zh": "加权覆盖 {objective}（{bound}，{gap_name} {gap}）"},
    "sum.bound": {"en": "bound", "zh": "上界"},
    "sum.gap": {"en": "gap", "zh": "间隙"},
    "sum.ceiling_gap": {"en": "ceiling gap", "zh": "与上限之差"},
    "sum.least_cost": {"en": "least cost: {stages}", "zh": "最省方案：{stages}"},
    "sum.stage_cost": {"en": "cost", "zh": "花费"},
    "sum.stage_rank": {"en": "rank", "zh": "排序"},
    "sum.stage_ties": {"en": "ties", "zh": "同等方案检查"},
    "sum.spent": {"en": "spent {spent} of budget {budget} on {sites} sites",
                  "zh": "新增 {sites} 处场地，花费 {spent}（预算 {budget}）"},
    "sum.group": {"en": "  {group:<12} population {population:>10}  covered before {before:>10}  after {after:>10}",
                  "zh": "  {group} 人口 {population:>10}  规划前覆盖 {before:>10}  规划后 {after:>10}"},  # padded by display width
    "sum.service": {"en": "  {group} · {type:<12} covered before {before:>10}  after {after:>10}",
                    "zh": "  {group} · {type} 规划前覆盖 {before:>10}  规划后 {after:>10}"},
    "sum.equity": {"en": "equity: covered shares {shares}", "zh": "公平：覆盖比例 {shares}"},
    "sum.gini": {"en": "; Gini across circles {gini}", "zh": "；各生活圈覆盖基尼系数 {gini}"},
    "sum.timings": {"en": "timings (s): {timings}", "zh": "用时（秒）：{timings}"},
    "sum.outputs": {"en": "outputs: {path}", "zh": "输出：{path}"},
    # --- sweep
    "sweep.header": {"en": "{budget:>16} {objective:>14} {spent:>16}  status",
                     "zh": "{budget:>16} {objective:>14} {spent:>16}  状态"},
    "sweep.budget": {"en": "budget", "zh": "预算"},
    "sweep.objective": {"en": "objective", "zh": "加权覆盖"},
    "sweep.spent": {"en": "spent", "zh": "花费"},
    "sweep.rule": {"en": "each extra {step} of budget buys less than {gain} more coverage",
                   "zh": "预算每增加 {step}，覆盖增加不到 {gain}"},
    "sweep.no_knee": {"en": "knee: none in this range (coverage still grows faster; beyond the knee {rule})",
                      "zh": "拐点：此范围内没有（覆盖仍增长较快；拐点之后{rule}）"},
    "sweep.knee": {"en": "knee: {knee} (beyond it {rule})", "zh": "拐点：{knee}（此后{rule}）"},
    # --- plan
    "plan.head": {"en": "{scenario}: {status} with {solver}, {years} years",
                  "zh": "{scenario}：{status}（求解器 {solver}，{years} 年）"},
    "plan.year": {"en": "  year {year}: opens {opened} sites, spent {spent} of {budget}; weighted coverage {objective} ({covered})",
                  "zh": "  第 {year} 年：新增 {opened} 处场地，花费 {spent}（预算 {budget}）；加权覆盖 {objective}（{covered}）"},
    "plan.total": {"en": "coverage summed over the years {objective}", "zh": "各年覆盖合计 {objective}"},
    "plan.myopic": {"en": "year-by-year (myopic) plan: {objective}", "zh": "逐年（短视）方案：{objective}"},
    # --- city
    "city.counts": {"en": "{n} circles: {solved} solved, {skipped} already done (skipped), {failed} failed; {seconds} s",
                    "zh": "{n} 个生活圈：求解 {solved} 个，已完成跳过 {skipped} 个，失败 {failed} 个；用时 {seconds} 秒"},
    "city.failed": {"en": "  failed {circle}: {status}: {error}", "zh": "  失败 {circle}：{status}：{error}"},
    "city.more_failed": {"en": "  ... and {n} more in city.csv", "zh": "  ……另有 {n} 个，见 city.csv"},
    "city.phases": {"en": "time per phase, summed over solved circles (s): {phases}",
                    "zh": "各阶段用时，求解的生活圈合计（秒）：{phases}"},
    "city.outputs": {"en": "outputs: {path} (city.csv, city.geojson)", "zh": "输出：{path}（city.csv、city.geojson）"},
    # --- validate
    "validate.valid": {"en": "{scenario}: valid", "zh": "{scenario}：有效"},
    "validate.crs": {"en": "  crs {crs} (distances in {metric}), circle type {circle}",
                     "zh": "  坐标系 {crs}（距离按 {metric} 计算），生活圈类型 {circle}"},
    "validate.counts": {"en": "  {demand} demand points, {sites} sites, {existing} existing facilities",
                        "zh": "  需求点 {demand} 个，备选场地 {sites} 处，现有设施 {existing} 处"},
    "validate.people": {"en": "  people {group}: {people}", "zh": "  人口 {group}：{people}"},
    "validate.cost": {"en": "  candidate cost {type}: {cost}", "zh": "  备选场地费用 {type}：{cost}"},
    "validate.budget": {"en": "  budget {budget}; min_open {min_open}", "zh": "  预算 {budget}；最少新增 min_open {min_open}"},
    "sweep.top": {"en": "largest budget solved ({status}); {n} smaller budgets need no solve",
                  "zh": "最大预算已求解（{status}）；{n} 个较小预算无需求解"},
    "console.city_postfix": {"en": "done {done}, failed {failed}, remaining {remaining}",
                             "zh": "完成 {done}，失败 {failed}，剩余 {remaining}"},
}

# the other commands' printed lines (network, classic, bench, export, generate, validate)
from lifecircle.optimizer.outputs.i18n_commands import COMMANDS  # noqa: E402

if set(COMMANDS) & set(CONSOLE):
    raise RuntimeError(f"i18n: command keys repeat console keys: {sorted(set(COMMANDS) & set(CONSOLE))}")
CONSOLE.update(COMMANDS)
