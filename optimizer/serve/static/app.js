// lifecircle workbench: the district on one map (一张图), the result table (一张表) and the site
// list (一张清单), what-ifs evaluated by the server exactly like evaluate(), solves with live
// progress. Plain JS, no third-party code, no request leaves this server. Every string that comes
// from data is set with textContent, never parsed as HTML. The map's drawing is in map.js.
"use strict";

const TEXT = {
  en: {
    title: "lifecircle workbench", scenario: "Scenario", plan: "Plan", budget: "Budget (CNY)",
    mustOpen: "Must open (site ids, comma separated)", forbid: "Forbid (site ids, comma separated)",
    solver: "Solver", timeLimit: "Time limit (s)", solve: "Solve", cancel: "Cancel",
    whatIf: "What-if", whatIfHint: "Click a site on the map to take it out or put it in; coverage is re-evaluated exactly, not re-solved.",
    reoptimise: "Re-optimise around my choice", resetWhatIf: "Back to the run",
    compare: "Compare runs", compareBtn: "Compare", clear: "Clear", sweep: "Budget sweep",
    sweepBudgets: "Budgets (CNY, comma separated)", sweepBtn: "Sweep", fit: "Fit", group: "Group",
    result: "Result", weighted: "Weighted coverage", cost: "Cost", population: "People",
    before: "Covered before", after: "Covered after", siteList: "Sites", site: "Site", type: "Type",
    unique: "Unique contribution", downloads: "Downloads", noRun: "No run yet: the figures are what the existing facilities cover. Set a budget and press Solve.",
    selected: "selected", candidate: "candidate", forbidden: "forbidden", "must-open": "must open",
    existing: "existing facility", covered: "covered", uncovered: "not covered", gained: "gains coverage",
    lost: "loses coverage", nobody: "nobody of this group", onlyA: "only in A", onlyB: "only in B",
    both: "in both", boundary: "circle boundary", network: "walking network", reach: "reach (straight line)",
    areaNetwork: "reach along the streets (drawn by the page)",
    people: "people", gains: "gain", loses: "lose", running: "running", done: "done",
    failed: "failed", cancelled: "cancelled", incumbent: "incumbent", bound: "bound", gap: "gap",
    whatIfOf: "what-if on run", budgetOf: "budget", kind: "kind", status: "status", notAllowed: "no type is allowed here",
    sweepPoint: "click a point to load its plan", demandPoint: "demand point", minOpen: "At least open",
  },
  zh: {
    title: "十五分钟生活圈 规划工作台", scenario: "情景", plan: "方案", budget: "预算（元）",
    mustOpen: "必选站点（编号，逗号分隔）", forbid: "禁选站点（编号，逗号分隔）", solver: "求解器",
    timeLimit: "时限（秒）", solve: "求解", cancel: "取消", whatIf: "假设分析",
    whatIfHint: "在地图上点击站点可移除或加入；覆盖按 evaluate() 精确重算，不重新求解。",
    reoptimise: "围绕我的选择重新优化", resetWhatIf: "回到求解结果", compare: "方案比较",
    compareBtn: "比较", clear: "清除", sweep: "预算曲线", sweepBudgets: "预算（元，逗号分隔）",
    sweepBtn: "计算曲线", fit: "全图", group: "人群", result: "结果（一张表）", weighted: "加权覆盖",
    cost: "投资", population: "人数", before: "现状覆盖", after: "规划后覆盖", siteList: "站点清单",
    site: "站点", type: "设施类型", unique: "独有贡献", downloads: "下载",
    noRun: "尚无方案：当前数字为现状设施的覆盖。设定预算后点击“求解”。", selected: "已选", candidate: "候选", forbidden: "禁选",
    "must-open": "必选", existing: "现状设施", covered: "已覆盖", uncovered: "未覆盖",
    gained: "新增覆盖", lost: "失去覆盖", nobody: "该人群无人", onlyA: "仅方案A", onlyB: "仅方案B",
    both: "两者皆有", boundary: "生活圈边界", network: "步行路网", reach: "服务半径（直线）",
    areaNetwork: "沿路网的服务范围（页面绘制）", people: "人",
    gains: "新增", loses: "失去", running: "计算中", done: "完成", failed: "失败", cancelled: "已取消",
    incumbent: "当前解", bound: "上界", gap: "间隙", whatIfOf: "假设分析，基于方案", budgetOf: "预算",
    kind: "用地类型", status: "状态", notAllowed: "此处不允许任何设施类型",
    sweepPoint: "点击曲线上的点查看该预算的方案", demandPoint: "需求点", minOpen: "至少开设",
    phase_loading: "读取数据", phase_coverage: "计算可达范围", phase_solving: "求解", phase_writing: "写出结果",
    status_optimal: "最优", status_feasible: "可行（未证最优）", status_infeasible: "无可行方案",
    status_no_solution: "未找到方案", phase_starting: "启动", phase_report: "生成报告", step_budgets: "预算", step_circles: "生活圈", kind_idle_land: "闲置用地", kind_vacant_room: "闲置用房",
    kind_corner_plot: "边角地", kind_under_bridge: "桥下空间", kind_other: "其他",
  },
};
const $ = (sel) => document.querySelector(sel);
const token = new URLSearchParams(location.search).get("token");
const S = {
  lang: "zh", sid: null, scen: null, sites: new Map(), types: new Map(), run: null, plan: new Map(),
  added: new Set(), removed: new Set(), evald: null, compare: null, job: null, view: null,
  highlight: null, kinds: [],
};

function t(key) { return (TEXT[S.lang] || TEXT.en)[key] || TEXT.en[key] || key; }

// Words that come from the engine (phase names, site kinds): translated when known, else as sent.
function word(prefix, value) {
  const key = `${prefix}_${value}`;
  return (TEXT[S.lang] || {})[key] || String(value).replace(/_/g, " ");
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function showError(message) { $("#error").textContent = message ? String(message) : ""; }

async function api(path, body) {
  const headers = {};
  if (token) headers["X-Lifecircle-Token"] = token;
  const init = { headers };
  if (body !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok) throw new Error((data && data.error) || `HTTP ${resp.status}`);
  return data;
}

function withToken(url) { return token ? `${url}?token=${encodeURIComponent(token)}` : url; }

function people(n) {
  return Number(n).toLocaleString(S.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: 1 });
}

function money(cny) {
  if (cny === null || cny === undefined || !isFinite(cny)) return "—";
  if (S.lang === "zh") {
    return Math.abs(cny) >= 10000 ? `${(cny / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 2 })} 万元`
      : `${Number(cny).toLocaleString("zh-CN")} 元`;
  }
  return `CNY ${Number(cny).toLocaleString("en", { maximumFractionDigits: 0 })}`;
}

function ids(text) { return text.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean); }

function translatePage() {
  document.documentElement.lang = S.lang;
  document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = t(node.dataset.t); });
  document.title = t("title");
}

// ---------- scenario ----------

async function loadScenarios() {
  const data = await api("api/scenarios");
  const select = $("#scenario");
  select.replaceChildren();
  for (const s of data.scenarios) select.appendChild(el("option", { value: s.sid }, s.name || s.sid));
  if (data.scenarios.length) await loadScenario(data.scenarios[0].sid);
}

// A later choice wins: answers for a scenario no longer chosen are dropped.
async function loadScenario(sid) {
  const seq = (S.loadSeq = (S.loadSeq || 0) + 1);
  $("#weighted").dataset.value = "";
  $("#weighted").textContent = "…";
  const scen = await api(`api/scenario/${encodeURIComponent(sid)}`);
  if (seq !== S.loadSeq) return;
  Object.assign(S, { sid, scen, run: null, plan: new Map(), added: new Set(), removed: new Set(),
    evald: null, compare: null, highlight: null, base: null, graph: undefined });
  // ?lang= in the address, else the server's --lang, else the scenario's own language.
  const lang = new URLSearchParams(location.search).get("lang") || scen.lang || scen.language;
  S.lang = lang === "zh" ? "zh" : "en"; // English when nothing says, as the reports do
  translatePage();
  $("#scenario").value = sid;
  // The select already names a lone scenario; a city's select names the circle, this the city.
  $("#scenario-name").textContent = $("#scenario").options.length > 1 ? scen.name || sid : "";
  const minOpen = Object.entries(scen.min_open || {}).filter(([, n]) => n > 0);
  $("#min-open").textContent = minOpen.length ? `${t("minOpen")}: ` + minOpen.map(([k, n]) =>
    `${(scen.types.find((x) => x.name === k) || {}).label || k} ≥ ${n}`).join(", ") : "";
  $("#budget").value = scen.budget_cny ?? "";
  $("#budget-hint").textContent = money(scen.budget_cny);
  $("#must-open").value = scen.sites.filter((s) => s.must_open).map((s) => s.id).join(", ");
  $("#forbid").value = scen.sites.filter((s) => s.forbidden).map((s) => s.id).join(", ");
  fillSelect($("#solver"), (scen.solvers || []).map((n) => [n, n]));
  fillSelect($("#group"), scen.groups.map((g) => [g.name, g.label || g.name]));
  S.sites = new Map(scen.sites.map((s) => [s.id, s]));
  S.types = new Map(scen.types.map((k) => [k.name, k]));
  S.kinds = [...new Set(scen.sites.map((s) => s.kind))];
  const b = Number(scen.budget_cny) || 1e6;
  $("#sweep-budgets").value = [0.25, 0.5, 0.75, 1, 1.25].map((f) => Math.round(b * f)).join(", ");
  $("#curve").replaceChildren();
  showError(scen.boundary_error || "");
  drawMap();
  fitView();
  renderResult();
  // Before any run the map shows what the existing facilities cover (an evaluate of no new site).
  try {
    const base = await api("api/evaluate", { sid, open: [] });
    if (seq !== S.loadSeq) return;
    S.base = base;
    renderResult();
  } catch (e) { showError(e.message); }
  if (seq === S.loadSeq) await refreshRuns();
}

// A scenario the server refused: nothing of the previous one stays on the map or in the tables.
function clearScenario() {
  Object.assign(S, { sid: null, scen: null, run: null, plan: new Map(), added: new Set(), removed: new Set(),
    evald: null, base: null, compare: null, runs: [] });
  $("#map").replaceChildren();
  $("#legend").replaceChildren();
  $("#curve").replaceChildren();
  $("#scenario-name").textContent = "";
  renderResult();
}

function fillSelect(select, pairs) {
  select.replaceChildren();
  for (const [value, label] of pairs) select.appendChild(el("option", { value }, label));
}

// ---------- results ----------

function renderResult() {
  const r = S.evald || S.run || S.base;
  const weighted = $("#weighted"), cost = $("#cost");
  weighted.dataset.value = r ? String(r.objective) : "";
  weighted.textContent = r ? people(r.objective) : "—";
  cost.dataset.value = r ? String(r.cost_cny) : "";
  cost.textContent = r ? money(r.cost_cny) : "—";
  const status = $("#run-status");
  status.dataset.rid = S.run ? S.run.rid : "";
  if (!S.run) status.textContent = t("noRun");
  else {
    const gap = S.run.gap !== null && S.run.gap !== undefined ? ` · ${t("gap")} ${(100 * S.run.gap).toFixed(2)}%` : "";
    status.textContent = `${S.evald ? t("whatIfOf") + " " : ""}${S.run.rid} · ${t("budgetOf")} ${money(S.run.budget_cny)} · ${word("status", S.run.status)}${gap}`;
  }
  const body = $("#coverage tbody");
  body.replaceChildren();
  for (const row of (r && r.coverage) || []) {
    const tr = el("tr", { "data-group": row.group });
    const pct = row.population ? ` (${(100 * row.covered_after / row.population).toFixed(1)}%)` : "";
    tr.append(el("td", {}, row.label || row.group), el("td", {}, people(row.population)),
      el("td", {}, people(row.covered_before)), el("td", {}, people(row.covered_after) + pct));
    body.appendChild(tr);
  }
  renderSites();
  renderGainLoss();
  renderDownloads();
  $("#reoptimise").disabled = !(S.added.size || S.removed.size);
  $("#reset-whatif").disabled = !S.evald;
  paint();
}

function renderSites() {
  const body = $("#sites tbody");
  body.replaceChildren();
  const unique = new Map(((S.run && S.run.selected) || []).map((s) => [s.id, s]));
  for (const [id, type] of S.plan) {
    const s = S.sites.get(id) || { id, name: id, cost_cny: {} };
    const tr = el("tr", { "data-site-id": id });
    const u = unique.get(id);
    const uniq = u && !S.evald ? people(u.unique_contribution) : S.added.has(id) ? "+" : u ? people(u.unique_contribution) : "";
    tr.append(el("td", {}, `${s.name || id} (${id})`), el("td", {}, (S.types.get(type) || {}).label || type),
      el("td", {}, money((s.cost_cny || {})[type])), el("td", {}, uniq));
    tr.addEventListener("mouseenter", () => setHighlight(id));
    tr.addEventListener("mouseleave", () => setHighlight(null));
    tr.addEventListener("click", () => centreOn(id));
    body.appendChild(tr);
  }
}

function centreOn(id) {
  const node = S.siteNodes.get(id);
  if (!node) return;
  const [x, y] = node._xy, v = S.view;
  setView({ ...v, x: x - v.w / 2, y: y - v.h / 2 });
  setHighlight(id);
}

function renderGainLoss() {
  const box = $("#gainloss");
  box.replaceChildren();
  if (!S.evald) return;
  // Against the run the server counts; with no run yet, against the existing facilities' coverage.
  const { gained, lost } = S.run || !S.base ? { gained: S.evald.gained || {}, lost: S.evald.lost || {} }
    : coverageChange(S.base, S.evald);
  const list = el("ul");
  for (const g of S.scen.groups) {
    const li = el("li", { "data-group": g.name });
    li.append(el("b", {}, `${g.label || g.name}: `),
      el("span", { class: "gain" }, `${t("gains")} ${people(gained[g.name] || 0)}`), document.createTextNode(" · "),
      el("span", { class: "loss" }, `${t("loses")} ${people(lost[g.name] || 0)}`));
    list.appendChild(li);
  }
  box.appendChild(list);
}

function coverageChange(before, after) {
  const gained = {}, lost = {};
  const byI = new Map(S.scen.demand.map((d) => [d.i, d]));
  for (const g of S.scen.groups) {
    const was = coveredSet(before.covered_after, g.name) || new Set();
    const now = coveredSet(after.covered_after, g.name) || new Set();
    const count = (a, b) => [...a].filter((i) => !b.has(i)).reduce((n, i) => n + ((((byI.get(i) || {}).population) || {})[g.name] || 0), 0);
    gained[g.name] = count(now, was);
    lost[g.name] = count(was, now);
  }
  return { gained, lost };
}

function renderDownloads() {
  const box = $("#downloads");
  box.replaceChildren();
  if (!S.run) return;
  for (const name of S.run.files || []) {
    const url = withToken(`api/runs/${encodeURIComponent(S.run.rid)}/files/${encodeURIComponent(name)}`);
    box.appendChild(el("a", { href: url, download: name, "data-file": name }, name));
  }
}

async function loadRun(rid) {
  const run = await api(`api/runs/${encodeURIComponent(rid)}`);
  Object.assign(S, { run, evald: null, added: new Set(), removed: new Set() });
  S.plan = new Map(run.selected.map((s) => [s.id, s.type]));
  if (run.budget_cny !== null && run.budget_cny !== undefined) $("#budget").value = run.budget_cny;
  renderResult();
  return run;
}

// ---------- what-if ----------

function cheapestType(s) {
  let best = null;
  for (const [type, cny] of Object.entries(s.cost_cny || {})) {
    if (cny !== null && isFinite(cny) && (best === null || cny < s.cost_cny[best])) best = type;
  }
  return best;
}

async function toggleSite(id) {
  const s = S.sites.get(id);
  if (S.plan.has(id)) {
    S.plan.delete(id);
    if (S.added.has(id)) S.added.delete(id); else S.removed.add(id);
  } else {
    const type = cheapestType(s);
    if (!type) { showError(`${id}: ${t("notAllowed")}`); return; }
    S.plan.set(id, type);
    if (S.removed.has(id)) S.removed.delete(id); else S.added.add(id);
  }
  await evaluatePlan();
}

async function evaluatePlan() {
  const body = { sid: S.sid, open: [...S.plan].map(([id, type]) => ({ id, type })) };
  if (S.run) body.rid = S.run.rid;
  const seq = (S.evalSeq = (S.evalSeq || 0) + 1);
  try {
    const result = await api("api/evaluate", body);
    if (seq !== S.evalSeq) return; // a later click already asked again
    S.evald = result;
    showError("");
  } catch (e) { showError(e.message); }
  renderResult();
}

function resetWhatIf() {
  if (S.run) {
    S.plan = new Map(S.run.selected.map((s) => [s.id, s.type]));
  } else S.plan = new Map();
  Object.assign(S, { evald: null, added: new Set(), removed: new Set() });
  renderResult();
}

function reoptimise() {
  const must = new Set(ids($("#must-open").value)), forbid = new Set(ids($("#forbid").value));
  for (const id of S.added) { must.add(id); forbid.delete(id); }
  for (const id of S.removed) { forbid.add(id); must.delete(id); }
  $("#must-open").value = [...must].join(", ");
  $("#forbid").value = [...forbid].join(", ");
  return solve();
}

// ---------- solve, progress, cancel ----------

function solveBody() {
  const body = { sid: S.sid, must_open: ids($("#must-open").value), forbid: ids($("#forbid").value) };
  const budget = $("#budget").value.trim();
  if (budget !== "") body.budget_cny = Number(budget);
  if ($("#solver").value) body.solver = $("#solver").value;
  const limit = $("#time-limit").value.trim();
  if (limit !== "") body.time_limit_s = Number(limit);
  return body;
}

async function solve() {
  showError("");
  try {
    const { job } = await api("api/solve", solveBody());
    const final = await watch(job);
    if (final.state === "done" && final.run) { await loadRun(final.run); await refreshRuns(); }
  } catch (e) { showError(e.message); }
}

function progressText(job) {
  const parts = [t(job.state) || job.state];
  const events = job.events || [];
  const last = (kind) => { for (let n = events.length - 1; n >= 0; n--) if (events[n].kind === kind) return events[n]; return null; };
  const phase = last("phase"), mip = last("mip"), step = last("step");
  if (phase) parts.push(word("phase", phase.message));
  if (step) parts.push(`${step.label ? word("step", step.label) : ""} ${step.done}/${step.total}`.trim());
  if (mip) {
    const num = (v) => (v === null || v === undefined ? "—" : people(v));
    parts.push(`${t("incumbent")} ${num(mip.incumbent)}`, `${t("bound")} ${num(mip.bound)}`,
      `${t("gap")} ${mip.gap === null || mip.gap === undefined ? "—" : (100 * mip.gap).toFixed(2) + "%"}`);
  }
  return parts.join(" · ");
}

// Polls the job every 300 ms until it ends; one job at a time from this page.
async function watch(jid) {
  S.job = jid;
  $("#solve").disabled = true; $("#sweep").disabled = true; $("#reoptimise").disabled = true;
  $("#cancel").disabled = false;
  const progress = $("#progress");
  progress.dataset.state = "running";
  try {
    for (;;) {
      const job = await api(`api/jobs/${encodeURIComponent(jid)}`);
      progress.textContent = progressText(job);
      if (job.state !== "running") {
        progress.dataset.state = job.state;
        if (job.state === "failed") showError(job.error || t("failed"));
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    S.job = null;
    $("#solve").disabled = false; $("#sweep").disabled = false; $("#cancel").disabled = true;
    $("#reoptimise").disabled = !(S.added.size || S.removed.size);
  }
}

async function cancel() {
  if (!S.job) return;
  try { await api(`api/jobs/${encodeURIComponent(S.job)}/cancel`, {}); } catch (e) { showError(e.message); }
}

// ---------- runs, compare ----------

async function refreshRuns() {
  const data = await api("api/runs");
  const runs = data.runs.filter((r) => r.sid === S.sid);
  S.runs = runs;
  for (const sel of [$("#compare-a"), $("#compare-b")]) {
    const keep = sel.value;
    fillSelect(sel, runs.map((r) => [r.rid, `${r.rid} · ${money(r.budget_cny)} · ${people(r.objective)}`]));
    if (runs.some((r) => r.rid === keep)) sel.value = keep;
  }
  if (runs.length > 1 && $("#compare-a").value === $("#compare-b").value) {
    $("#compare-a").value = runs[runs.length - 2].rid;
    $("#compare-b").value = runs[runs.length - 1].rid;
  }
}

async function compare() {
  const a = $("#compare-a").value, b = $("#compare-b").value;
  if (!a || !b) return;
  try {
    const c = await api(`api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    c.types = {};
    for (const s of [...c.a.selected, ...c.b.selected]) c.types[s.id] = s.type;
    S.compare = c;
    const box = $("#compare-result");
    box.replaceChildren(
      el("div", { class: "only-a" }, `A ${c.a.rid}: ${people(c.a.objective)} · ${money(c.a.cost_cny)} · ${t("onlyA")} ${c.only_a.length}`),
      el("div", { class: "only-b" }, `B ${c.b.rid}: ${people(c.b.objective)} · ${money(c.b.cost_cny)} · ${t("onlyB")} ${c.only_b.length}`),
      el("div", {}, `${t("both")} ${c.both.length}`));
    $("#compare-clear").disabled = false;
    showError("");
  } catch (e) { showError(e.message); }
  paint();
}

function clearCompare() {
  S.compare = null;
  $("#compare-result").replaceChildren();
  $("#compare-clear").disabled = true;
  paint();
}

// ---------- sweep curve ----------

async function sweep() {
  showError("");
  const budgets = ids($("#sweep-budgets").value).map(Number);
  if (!budgets.length || budgets.some((b) => !isFinite(b))) { showError(t("sweepBudgets")); return; }
  try {
    const { job } = await api("api/sweep", { sid: S.sid, budgets_cny: budgets });
    const final = await watch(job);
    if (final.state === "done" && final.sweep) { drawCurve(final.sweep); await refreshRuns(); }
  } catch (e) { showError(e.message); }
}

function drawCurve(points) {
  const curve = $("#curve");
  curve.replaceChildren();
  const W = 300, H = 180, L = 44, B = 24, T = 10, R = 10;
  const xs = points.map((p) => p.budget_cny), ys = points.map((p) => p.objective);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(...ys, 0);
  const fx = (v) => L + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * (W - L - R);
  const fy = (v) => H - B - (y1 > 0 ? v / y1 : 0) * (H - B - T);
  svg("path", { d: `M${L},${T}V${H - B}H${W - R}`, class: "axis" }, curve);
  const sorted = [...points].sort((a, b) => a.budget_cny - b.budget_cny);
  svg("polyline", { points: sorted.map((p) => `${fx(p.budget_cny)},${fy(p.objective)}`).join(" "), class: "line" }, curve);
  svg("text", { x: L, y: H - 6, class: "tick" }, curve).textContent = money(x0);
  svg("text", { x: W - R, y: H - 6, class: "tick end" }, curve).textContent = money(x1);
  svg("text", { x: 2, y: T + 20, class: "tick" }, curve).textContent = people(y1);
  svg("text", { x: (L + W - R) / 2, y: H - 6, class: "tick middle" }, curve).textContent = t("budgetOf");
  svg("text", { x: L + 4, y: T + 8, class: "tick" }, curve).textContent = "↑ " + t("weighted");
  for (const p of sorted) {
    const dot = svg("circle", { cx: fx(p.budget_cny), cy: fy(p.objective), r: 5, class: "point",
      "data-budget": String(p.budget_cny), "data-rid": p.rid || "" }, curve);
    svg("title", {}, dot).textContent = `${money(p.budget_cny)} → ${people(p.objective)} (${t("sweepPoint")})`;
    dot.addEventListener("click", async () => {
      if (!p.rid) return;
      try { await loadRun(p.rid); curve.querySelectorAll(".point").forEach((n) => n.classList.toggle("current", n === dot)); } catch (e) { showError(e.message); }
    });
  }
}

// ---------- start ----------

function init() {
  initMapControls();
  $("#scenario").addEventListener("change", (ev) => {
    showError("");
    loadScenario(ev.target.value).catch((e) => { clearScenario(); showError(e.message); });
  });
  $("#solve").addEventListener("click", solve);
  $("#cancel").addEventListener("click", cancel);
  $("#reoptimise").addEventListener("click", reoptimise);
  $("#reset-whatif").addEventListener("click", resetWhatIf);
  $("#compare").addEventListener("click", compare);
  $("#compare-clear").addEventListener("click", clearCompare);
  $("#sweep").addEventListener("click", sweep);
  $("#budget").addEventListener("input", () => { $("#budget-hint").textContent = money(Number($("#budget").value)); });
  $("#budget").addEventListener("keydown", (ev) => { if (ev.key === "Enter" && !$("#solve").disabled) solve(); });
  $("#must-open").addEventListener("change", paint);
  $("#forbid").addEventListener("change", paint);
  window.addEventListener("resize", () => { if (S.view) setView(S.view); });
  loadScenarios().catch((e) => showError(e.message));
}

init();
