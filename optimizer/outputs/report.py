"""report.html: one self-contained page with the map, the table and the list (一张图, 一张表, 一张清单).

Nothing is fetched: the map is inline SVG drawn in the metric CRS (so reach outlines are true
circles), the sort script is inline, and a Content-Security-Policy forbids every other source, so
the file behaves the same from a USB stick on an offline PC. Labels are HTML text (never pixels),
so Chinese renders with whatever CJK font the reader's system has. Every string that comes from a
scenario goes through :func:`esc`; scenario strings never become attribute names, ids or classes.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from lifecircle.optimizer import __version__
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.outputs.cells import esc, num, pct, sort_key, text
from lifecircle.optimizer.outputs.explain import (
    PlanFacts, SiteExplanations, explain_sites, plan_facts,
)
from lifecircle.optimizer.outputs.i18n import (
    group_label, kind_label, rule_label, status_label, t, type_label,
)
from lifecircle.optimizer.outputs.svgmap import on_network, render_legend, render_map

logger = logging.getLogger(__name__)

RESOLVE_MIN_S = 5.0


# ---------------------------------------------------------------------------------------------
# the list: shared with sites.xlsx


def site_list(scenario, problem, expl: SiteExplanations, lang: str):
    """(headers, rows, numeric) of the recommended-site list with every explanation field.

    ``rows`` hold raw values (str / float / int / None); ``numeric[c]`` says how to show column c.
    """
    groups = scenario.group_names
    ids, names, kinds = scenario.sites.ids, scenario.sites.columns["name"], scenario.sites.columns["kind"]
    headers = [t("col.site_id", lang), t("col.name", lang), t("col.kind", lang), t("col.facility_type", lang),
               t("col.cost", lang)]
    headers += [t("col.newly_group", lang, group=group_label(g, lang, scenario)) for g in groups]
    headers += [t("col.unique_group", lang, group=group_label(g, lang, scenario)) for g in groups]
    headers += [t("col.newly_weighted", lang), t("col.unique_weighted", lang), t("col.cost_per_person", lang),
                t("col.gain_rank", lang), t("col.marginal_gain", lang), t("col.alt_site", lang),
                t("col.alt_name", lang), t("col.alt_type", lang), t("col.alt_cost", lang),
                t("col.alt_recovered", lang), t("col.alt_share", lang), t("col.alt_objective", lang)]
    numeric = [False] * 4 + [True] * (1 + 2 * len(groups) + 5) + [False] * 3 + [True] * 4
    # people per group are counts; weighted figures and money keep their own precision
    digits = [0] * 5 + [0] * (2 * len(groups)) + [1, 1, 1, 0, 1] + [0] * 3 + [0, 1, 1, 1]
    rows = []
    for n in range(len(expl)):
        j, k = int(expl.site[n]), int(expl.type[n])
        a, ak = int(expl.alt_site[n]), int(expl.alt_type[n])
        has_alt = a >= 0 and bool(expl.alt_needed[n])
        alt_text = ids[a] if has_alt else t("alt.not_needed" if not expl.alt_needed[n] else "alt.none_fits", lang)
        share = (expl.alt_recovered_weighted[n] / expl.unique_weighted[n]
                 if has_alt and expl.unique_weighted[n] > 0 else None)
        rows.append([
            ids[j], names[j], kind_label(kinds[j], lang), type_label(scenario, k, lang), float(expl.cost_cny[n]),
            *[float(v) for v in expl.newly[n]], *[float(v) for v in expl.unique[n]],
            float(expl.newly_weighted[n]), float(expl.unique_weighted[n]),
            None if not np.isfinite(expl.cost_per_newly_weighted[n]) else float(expl.cost_per_newly_weighted[n]),
            int(expl.gain_rank[n]), float(expl.marginal_gain[n]),
            alt_text, names[a] if has_alt else None,
            type_label(scenario, ak, lang) if has_alt else None,
            float(expl.alt_cost_cny[n]) if has_alt else None,
            float(expl.alt_recovered_weighted[n]) if has_alt else None,
            None if share is None else 100.0 * share,
            float(expl.alt_objective[n]) if has_alt else None,
        ])
    return headers, rows, numeric, digits


def group_rows(scenario, facts: PlanFacts, lang: str):
    headers = [t("col.group", lang), t("col.weight", lang), t("col.population", lang),
               t("col.covered_before", lang), t("col.share_before", lang), t("col.covered_after", lang),
               t("col.share_after", lang), t("col.newly_total", lang), t("col.uncovered", lang),
               t("col.unreachable", lang)]
    rows = []
    for g, name in enumerate(scenario.group_names):
        pop, before, after = facts.population[g], facts.covered_before[g], facts.covered_after[g]
        rows.append([group_label(name, lang, scenario), float(scenario.groups[name]), float(pop), float(before),
                     pct(before, pop), float(after), pct(after, pop), float(after - before),
                     float(facts.uncovered[g]), float(facts.unreachable[g])])
    return headers, rows


def kind_rows(scenario, problem, expl: SiteExplanations, lang: str):
    """Per kind of idle site: candidates, used (by type) and money spent."""
    kinds = np.asarray(scenario.sites.columns["kind"], dtype=object)
    headers = [t("col.kind", lang), t("col.candidates", lang), t("col.used", lang)]
    headers += [t("col.used_as", lang, type=type_label(scenario, k, lang)) for k in range(problem.n_types)]
    headers += [t("col.spent", lang)]
    rows = []
    used_kind = kinds[expl.site] if len(expl) else np.zeros(0, dtype=object)
    for kind in dict.fromkeys(kinds.tolist()):
        mine = used_kind == kind
        per_type = [int(np.count_nonzero(mine & (expl.type == k))) for k in range(problem.n_types)]
        rows.append([kind_label(kind, lang), int(np.count_nonzero(kinds == kind)), int(mine.sum()), *per_type,
                     float(expl.cost_cny[mine].sum())])
    return headers, rows


# ---------------------------------------------------------------------------------------------
# tables


def _cell(value, numeric: bool, digits: int = 0) -> str:
    if numeric:
        shown = num(value, digits) if not isinstance(value, str) else esc(value)
        return f'<td class="n" data-v="{sort_key(value)}">{shown}</td>'
    return f'<td class="t" data-v="{esc("" if value is None else value)}">{"—" if value is None else text(value)}</td>'


def html_table(headers, rows, numeric=None, *, table_id=None, sortable=False, digits=None) -> str:
    numeric = numeric or [isinstance(v, (int, float)) for v in (rows[0] if rows else [])]
    digits = digits or [1 if n else 0 for n in numeric]
    attrs = (f' id="{table_id}"' if table_id else "") + (' class="sortable"' if sortable else "")
    head = "".join(f'<th scope="col"{" title=" + chr(34) + esc(h) + chr(34) if sortable else ""}>{esc(h)}</th>'
                   for h in headers)
    body = "".join("<tr>" + "".join(_cell(v, numeric[c] if c < len(numeric) else False,
                                          digits[c] if c < len(digits) else 0)
                                    for c, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def binding_rows(scenario, facts: PlanFacts, lang: str):
    """(headers, rows) of the rule checks: budget, must_open, min_open."""
    ids = scenario.sites.ids
    rows = []
    for r in facts.rules:
        if not r.present:
            state = t("rule.absent", lang)
        elif r.binding is None:
            state = t("rule.unknown", lang, status=status_label(r.resolve.status if r.resolve else "", lang))
        else:
            state = t("yes", lang) if r.binding else t("no", lang)
        if r.rule == "budget":
            detail = t("rule.budget_slack", lang, slack=num(r.slack))
            factor = facts.next_budget.budget_cny / facts.budget_cny - 1 if facts.budget_cny else 0.0
            relax = t("rule.relax_budget", lang, percent=num(100 * factor))
        elif r.rule == "must_open":
            detail = t("rule.must_dropped", lang, sites=", ".join(ids[j] for j in r.detail) or "—") if r.present else ""
            relax = t("rule.relax_remove", lang)
        else:
            detail = t("rule.min_counts", lang, counts=", ".join(
                f"{type_label(scenario, k, lang)} {opened}/{minimum}" for k, opened, minimum in r.detail)) \
                if r.present else ""
            relax = t("rule.relax_remove", lang)
        how = "—" if r.resolve is None else t(f"rule.by_{r.resolve.method}", lang, solver=facts.solver,
                                               status=status_label(r.resolve.status, lang))
        rows.append([rule_label(r.rule, lang), state, relax, "—" if r.gain is None else num(r.gain, 1), how, detail])
    headers = [t("col.rule", lang), t("col.binding", lang), t("col.relaxation", lang), t("col.gain_if_relaxed", lang),
               t("col.test", lang), t("col.detail", lang)]
    return headers, rows


def coord(scenario, value: float) -> str:
    """A coordinate as the scenario gives it: degrees to 5 decimals (about 1 m), metres whole."""
    geographic = scenario.crs != scenario.metric_crs  # a projected scenario CRS is used as it is
    return f"{value:.5f}" if geographic else f"{value:,.0f}"


def uncovered_rows(scenario, facts: PlanFacts, lang: str):
    """(headers, rows): per group, people still uncovered, those out of every site's reach, and where."""
    rows = []
    for g, name in enumerate(scenario.group_names):
        where = "; ".join(
            f"{scenario.demand.ids[i]} ({coord(scenario, scenario.demand.x[i])}, {coord(scenario, scenario.demand.y[i])}): "
            f"{num(p)} {t('yes_reachable', lang) if reachable else t('not_reachable', lang)}"
            for i, p, reachable in facts.uncovered_points[g])
        rows.append([group_label(name, lang, scenario), float(facts.uncovered[g]), float(facts.unreachable[g]), where or "—"])
    return [t("col.group", lang), t("col.uncovered", lang), t("col.unreachable", lang), t("col.where", lang)], rows


def next_budget_rows(scenario, facts: PlanFacts, lang: str):
    """(summary sentence, headers, rows, added, removed) for the +10% budget re-solve; rows empty without a plan."""
    ids, names = scenario.sites.ids, scenario.sites.columns["name"]
    nb = facts.next_budget
    if nb is None or nb.objective is None:
        return t("next.none", lang, status=status_label(nb.status if nb else "", lang)), [], [], "", ""
    old = {(int(j), int(k)) for j, k in zip(facts.site, facts.type)}
    new = {(int(j), int(k)) for j, k in zip(nb.site, nb.type)}
    added = ", ".join(f"{ids[j]} {names[j]} ({type_label(scenario, k, lang)})" for j, k in sorted(new - old)) or "—"
    removed = ", ".join(f"{ids[j]} {names[j]} ({type_label(scenario, k, lang)})" for j, k in sorted(old - new)) or "—"
    sentence = t("next.summary", lang, budget=num(nb.budget_cny), gain=num(nb.objective - facts.objective, 1),
                 objective=num(nb.objective, 1), status=status_label(nb.status, lang))
    if nb.method in ("bound", "ceiling"):
        sentence += " " + t(f"next.by_{nb.method}", lang)
    elif nb.method == "greedy":  # issue 14: capacities; a lower bound with its ceiling
        sentence += " " + t("next.by_greedy", lang, bound=num(nb.bound, 1))
    rows = [[group_label(name, lang, scenario), float(facts.covered_after[g]), float(nb.people_after[g]),
             float(nb.people_after[g] - facts.covered_after[g])] for g, name in enumerate(scenario.group_names)]
    headers = [t("col.group", lang), t("col.covered_after", lang), t("col.covered_next", lang), t("col.change", lang)]
    return sentence, headers, rows, added, removed


def solve_fact_rows(scenario, problem, n_sites: int, solve_info: dict, lang: str) -> list:
    """[(label, text)] of how the plan was found: solver, status, gap, money, checksum, version, date."""
    gap = solve_info.get("gap")
    spent, budget = solve_info.get("spent"), solve_info.get("budget")
    radii = solve_info.get("reach_m") or {}
    return [
        (t("facts.scenario", lang), scenario.name),
        (t("facts.scenario_file", lang), str(scenario.path)),
        (t("facts.checksum", lang), scenario.checksum),
        (t("facts.solver", lang), str(solve_info.get("solver"))),
        (t("facts.status", lang), status_label(solve_info.get("status"), lang)),
        (t("facts.objective", lang), num(solve_info.get("objective"), 1)),
        # issue 14: the bound says where it comes from; a ceiling's gap is no solver gap
        (t("facts.bound", lang), num(solve_info.get("bound"), 1)
         + (f" ({solve_info['bound_source']})" if solve_info.get("bound_source") else "")),
        (t("facts.gap", lang), "—" if gap is None else f"{100 * gap:.4f}%"
         + (" (ceiling)" if solve_info.get("bound_source") == "ceiling" else "")),
        (t("facts.budget", lang), num(budget)),
        (t("facts.spent", lang), f"{num(spent)} ({pct(spent, budget)})"),
        (t("facts.sites", lang), num(n_sites)),
        (t("facts.crs", lang), f"{scenario.crs} / {scenario.metric_crs}"),
        (t("facts.reach", lang), "; ".join(f"{k}: {v:,.0f} m" for k, v in radii.items())),
        (t("facts.timings", lang), ", ".join(f"{k} {v:.2f}" for k, v in (solve_info.get("timings_s") or {}).items())),
        (t("facts.version", lang), __version__),
        (t("facts.date", lang), solve_info.get("date") or datetime.now().astimezone().isoformat(timespec="seconds")),
    ]


def equity_section(scenario, equity: dict | None, utilisation: list | None, lang: str) -> str:
    """Covered shares per group and circle, group gap, Gini across circles, capacity use (issue 7)."""
    if not equity:
        return ""
    group_rows_ = [[group_label(g, lang, scenario), v["people"], pct_value(v["share_before"]), pct_value(v["share_after"])]
                   for g, v in equity["groups"].items()]
    heads = [t("equity.people", lang), t("equity.before", lang), t("equity.after", lang)]
    out = [f'<h2 id="sec-equity">{esc(t("sec.equity", lang))}</h2>',
           html_table([t("equity.group", lang), *heads], group_rows_, [False, True, True, True],
                      table_id="equity-groups", digits=[0, 0, 1, 1])]
    measures = [[t("equity.gap", lang), pct_value(equity.get("group_gap_before")),
                 pct_value(equity.get("group_gap_after"))]]
    if equity.get("circles"):
        circle_rows = [[name, v["people"], pct_value(v["share_before"]), pct_value(v["share_after"])]
                       for name, v in equity["circles"].items()]
        out.append(html_table([t("equity.circle", lang), *heads], circle_rows, [False, True, True, True],
                              table_id="equity-circles", sortable=True, digits=[0, 0, 1, 1]))
        measures.append([t("equity.gini", lang), equity.get("gini_circles_before"), equity.get("gini_circles_after")])
    out.append(html_table([t("equity.measure", lang), t("equity.before", lang), t("equity.after", lang)],
                          measures, [False, True, True], table_id="equity-measures", digits=[0, 3, 3]))
    rules = equity.get("rules") or {}
    parts = [f"min_coverage {group_label(g, lang, scenario)} ≥ {100 * v:g}%" for g, v in (rules.get("min_coverage") or {}).items()]
    if rules.get("min_coverage_per_circle") is not None:
        parts.append(f"min_coverage_per_circle ≥ {100 * rules['min_coverage_per_circle']:g}%")
    if rules.get("maximin"):
        parts.append(f"maximin: {rules['maximin']}")
    out.append(f"<p>{esc(t('equity.rules', lang))}: {esc('; '.join(parts) or t('equity.none', lang))}</p>")
    if utilisation:
        rows = [[u["site_id"], type_label(scenario, scenario.type_names.index(u["facility_type"]), lang), group_label(g, lang, scenario), v["served"],
                 v["capacity"], pct_value(v["utilisation"])]
                for u in utilisation for g, v in u["groups"].items()]
        out.append(html_table([t("util.site", lang), t("util.type", lang), t("equity.group", lang),
                               t("util.served", lang), t("util.capacity", lang), t("util.share", lang)],
                              rows, [False, False, False, True, True, True], table_id="utilisation",
                              sortable=True, digits=[0, 0, 0, 1, 0, 1]))
    return "".join(out)


def pct_value(share) -> float | None:
    """A share in [0, 1] as a percentage number (the table formats it), or None."""
    return None if share is None else 100.0 * float(share)


def _plan_sections(scenario, facts: PlanFacts, lang: str) -> str:
    out = [f"<h3>{esc(t('plan.binding', lang))}</h3>",
           html_table(*binding_rows(scenario, facts, lang), [False] * 6, table_id="binding"),
           f"<h3>{esc(t('plan.uncovered', lang))}</h3>",
           html_table(*uncovered_rows(scenario, facts, lang), [False, True, True, False], table_id="uncovered",
                      digits=[0, 0, 0, 0]),
           f"<h3>{esc(t('plan.next_budget', lang))}</h3>"]
    sentence, headers, rows, added, removed = next_budget_rows(scenario, facts, lang)
    out.append(f"<p>{esc(sentence)}</p>")
    if rows:
        out.append(html_table(headers, rows, [False, True, True, True], table_id="next-budget", digits=[0, 0, 0, 0]))
        out.append(f"<p>{esc(t('next.added', lang))}: {text(added)}<br>{esc(t('next.removed', lang))}: {text(removed)}</p>")
    return "".join(out)


CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","SimHei",
"Helvetica Neue",Arial,sans-serif;margin:1.2em auto;max-width:1400px;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em}
th,td{border:1px solid #ccd;padding:.25em .5em;vertical-align:top;max-width:28em;overflow-wrap:anywhere}
td.t{min-width:6em}th{min-width:4.5em;overflow-wrap:normal}
th{background:#eef2f7;text-align:left}td.n{text-align:right;white-space:nowrap}
table.sortable th{cursor:pointer}#site-list td:first-child{white-space:nowrap}table.sortable th[aria-sort=ascending]::after{content:" ▲"}
table.sortable th[aria-sort=descending]::after{content:" ▼"}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.9em}
.legend li{display:flex;align-items:center;gap:.3em}.facts td:first-child{font-weight:600}
.note{color:#555;font-size:.85em}.wrap{overflow-x:auto}
"""

SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("th");
  heads.forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (r1, r2) {
        var a = r1.cells[column].getAttribute("data-v"), b = r2.cells[column].getAttribute("data-v");
        var x = parseFloat(a), y = parseFloat(b);
        return dir * ((isNaN(x) || isNaN(y)) ? String(a).localeCompare(String(b)) : x - y);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def render_report(scenario, problem, expl: SiteExplanations, facts: PlanFacts, covered: np.ndarray,
                  solve_info: dict, lang: str) -> str:
    """The whole page as one string.

    ``solve_info``: solver, status, objective, bound, gap, spent, budget, timings_s, date (from the run).
    """
    headers, rows, numeric, digits = site_list(scenario, problem, expl, lang)
    g_headers, g_rows = group_rows(scenario, facts, lang)
    k_headers, k_rows = kind_rows(scenario, problem, expl, lang)
    facts_html = ('<table class="facts" id="solve-facts"><tbody>'
                  + "".join(f"<tr><td>{esc(k)}</td><td>{text(v)}</td></tr>"
                            for k, v in solve_fact_rows(scenario, problem, len(expl), solve_info, lang))
                  + "</tbody></table>")
    lead = t("report.lead", lang, sites=len(expl), spent=num(solve_info.get("spent")),
             budget=num(solve_info.get("budget")), objective=num(solve_info.get("objective"), 1),
             status=status_label(solve_info.get("status"), lang))
    title = esc(t("report.title", lang, name=scenario.name))
    return "".join([
        "<!DOCTYPE html>\n",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{CSS}</style></head><body>",
        f"<h1><bdi>{title}</bdi></h1>",
        f'<p class="lead">{esc(lead)}</p>',
        f'<h2 id="sec-map">{esc(t("sec.map", lang))}</h2>',
        f'<div class="wrap">{render_map(scenario, problem, expl, covered, lang)}</div>',
        render_legend(scenario, lang),
        f'<p class="note">{esc(t("map.note_network" if on_network(scenario) else "map.note", lang))}</p>',
        fragment_note(solve_info, lang),
        f'<h2 id="sec-table">{esc(t("sec.table", lang))}</h2>',
        f"<h3>{esc(t('table.groups', lang))}</h3>",
        html_table(g_headers, g_rows, [False, True, True, True, False, True, False, True, True, True],
                   table_id="coverage-table", digits=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        f"<h3>{esc(t('table.kinds', lang))}</h3>",
        html_table(k_headers, k_rows, [False] + [True] * (len(k_headers) - 1), table_id="kind-table",
                   digits=[0] * len(k_headers)),
        f'<h2 id="sec-list">{esc(t("sec.list", lang))}</h2>',
        f'<p class="note">{esc(t("list.note", lang))}</p>',
        '<div class="wrap">', html_table(headers, rows, numeric, table_id="site-list", sortable=True, digits=digits),
        "</div>",
        f'<h2 id="sec-plan">{esc(t("sec.plan", lang))}</h2>',
        _plan_sections(scenario, facts, lang),
        equity_section(scenario, solve_info.get("equity"), solve_info.get("utilisation"), lang),
        f'<h2 id="sec-facts">{esc(t("sec.facts", lang))}</h2>',
        facts_html,
        f"<script>{SORT_SCRIPT}</script></body></html>\n",
    ])


def fragment_note(solve_info: dict, lang: str) -> str:
    """Sites and existing facilities on smaller street fragments, by id and street length (issue 12)."""
    network = solve_info.get("network") or {}
    labels = {"sites": t("map.fragments_sites", lang), "existing": t("map.fragments_existing", lang)}
    out = []
    for what in ("sites", "existing"):
        frag = network.get(f"{what}_on_fragments") or []
        if frag:
            items = ", ".join(f"{f['id']} ({num(f['fragment_length_m'])} m)" for f in frag)
            out.append(f'<p class="note" id="fragments-{what}">'
                       f'{esc(t("map.fragments", lang, what=labels[what], items=items))}</p>')
    return "".join(out)


def write_reports(folder: Path, scenario, problem, solution, solve_info: dict, *, lang: str,
                  solver: str, options: SolveOptions | None = None) -> dict:
    """Explain the plan and write report.html and sites.xlsx into ``folder``; return timings.

    The explanations re-solve the problem a few times (see :func:`optimizer.outputs.explain.plan_facts`)
    with the run's own solver and limits.
    """
    from lifecircle.optimizer.outputs.xlsx import write_sites_xlsx

    t0 = time.perf_counter()
    options = options or SolveOptions()
    # each re-solve gets the run's own time limit, else the main solve's time (at least
    # RESOLVE_MIN_S): a report never costs more than a few solves; a rule a capped re-solve
    # cannot settle shows as unknown, never as a guess. No solver log for re-solves.
    limit = options.time_limit_s or max(RESOLVE_MIN_S, float(solution.timings_s.get("solve", 0.0)))
    quiet = replace(options, time_limit_s=limit, warm_start=None, verbose=False)
    logger.info("report: explaining the plan (re-solves with %s, at most %.0f s each)", solver, limit)
    # the rule re-solves and the per-site evaluations are independent: run them side by side
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(plan_facts, problem, solution.site, solution.type, solver=solver, options=quiet,
                              evaluation=solution.evaluation)
        expl = explain_sites(problem, solution.site, solution.type, solution.evaluation)
        facts = pending.result()
    t1 = time.perf_counter()
    logger.info("report: writing report.html and sites.xlsx")
    info = dict(solve_info)
    info.setdefault("date", datetime.now().astimezone().isoformat(timespec="seconds"))
    if "equity" not in info:
        from lifecircle.optimizer.outputs.summary import equity_summary, utilisation_rows

        info["equity"] = equity_summary(problem, solution.evaluation, solution.worst_share)
        info["utilisation"] = utilisation_rows(problem, solution.site, solution.type, solution.evaluation)
    page = render_report(scenario, problem, expl, facts, solution.evaluation.covered, info, lang)
    (Path(folder) / "report.html").write_text(page, encoding="utf-8")
    t2 = time.perf_counter()
    headers, rows, _, _ = site_list(scenario, problem, expl, lang)
    write_sites_xlsx(Path(folder) / "sites.xlsx", (headers, rows), group_rows(scenario, facts, lang),
                     kind_rows(scenario, problem, expl, lang), binding_rows(scenario, facts, lang),
                     uncovered_rows(scenario, facts, lang),
                     solve_fact_rows(scenario, problem, len(expl), info, lang), lang)
    t3 = time.perf_counter()
    return {"explain": round(t1 - t0, 4), "html": round(t2 - t1, 4), "xlsx": round(t3 - t2, 4)}
