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

from lifecircle.optimizer.core import events
from lifecircle.optimizer import __version__
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.outputs.cells import esc, money, num, pct, sort_key, text
from lifecircle.optimizer.outputs.explain import (
    PlanFacts, SiteExplanations, explain_sites, plan_facts,
)
from lifecircle.optimizer.outputs.i18n import (
    group_label, kind_label, rule_label, status_label, t, type_label,
)
from lifecircle.optimizer.outputs.report_headline import headline_html, site_rules_html
from lifecircle.optimizer.outputs.report_fonts import embed_cjk_font
from lifecircle.optimizer.outputs.report_map import ZOOM_SCRIPT, map_context
from lifecircle.optimizer.outputs.report_print import CSP, CSS
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
                t("col.alt_recovered", lang), t("col.alt_share", lang), t("col.alt_objective", lang),
                t("col.rule_flag", lang)]
    numeric = [False] * 4 + [True] * (1 + 2 * len(groups) + 5) + [False] * 3 + [True] * 4 + [False]
    # people per group are counts; weighted figures keep their precision; money reads in 元 / 万元
    digits = ([0] * 4 + [CNY] + [0] * (2 * len(groups)) + [1, 1, CNY1, 0, 1] + [0] * 3 + [CNY, 1, 1, 1]
              + [0])
    must = {sid: key for sid, key in scenario.must_open.items()}
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
            t("flag.must_open", lang) if ids[j] in must else None,
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


# ``digits`` markers for money columns: shown in 元 / 万元 (whole yuan, or one decimal per person)
CNY, CNY1 = "cny", "cny1"


def _cell(value, numeric: bool, digits=0) -> str:
    if numeric:
        if isinstance(value, str):
            shown = esc(value)
        elif digits in (CNY, CNY1):
            shown = money(value, 1 if digits == CNY1 else 0)
        else:
            shown = num(value, digits)
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
            detail = t("rule.budget_slack", lang, slack=money(r.slack))
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
                                               status=status_label(r.resolve.status, lang),
                                               bound="—" if r.resolve.bound is None else num(r.resolve.bound, 1))
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
    sentence = t("next.summary", lang, budget=money(nb.budget_cny), gain=num(nb.objective - facts.objective, 1),
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
        (t("facts.budget", lang), money(budget)),
        (t("facts.spent", lang), f"{money(spent)} ({pct(spent, budget)})"),
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



def render_report(scenario, problem, expl: SiteExplanations, facts: PlanFacts, covered: np.ndarray,
                  solve_info: dict, lang: str, context=None) -> str:
    """The whole page as one string.

    ``context``: the map's boundary, network and service areas (:func:`report_map.map_context`).
    ``solve_info``: solver, status, objective, bound, gap, spent, budget, timings_s, date (from the run).
    """
    headers, rows, numeric, digits = site_list(scenario, problem, expl, lang)
    g_headers, g_rows = group_rows(scenario, facts, lang)
    k_headers, k_rows = kind_rows(scenario, problem, expl, lang)
    facts_html = ('<table class="facts" id="solve-facts"><tbody>'
                  + "".join(f"<tr><td>{esc(k)}</td><td>{text(v)}</td></tr>"
                            for k, v in solve_fact_rows(scenario, problem, len(expl), solve_info, lang))
                  + "</tbody></table>")
    title = esc(t("report.title", lang, name=scenario.name))
    return "".join([
        "<!DOCTYPE html>\n",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{CSS}</style></head><body>",
        f"<h1><bdi>{title}</bdi></h1>",
        headline_html(scenario, facts, solve_info, len(expl), lang),
        f'<h2 id="sec-map">{esc(t("sec.map", lang))}</h2>',
        map_section(scenario, problem, expl, covered, lang, context),
        fragment_note(solve_info, lang),
        f'<h2 id="sec-table">{esc(t("sec.table", lang))}</h2>',
        f"<h3>{esc(t('table.groups', lang))}</h3>",
        html_table(g_headers, g_rows, [False, True, True, True, False, True, False, True, True, True],
                   table_id="coverage-table", digits=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        f"<h3>{esc(t('table.kinds', lang))}</h3>",
        html_table(k_headers, k_rows, [False] + [True] * (len(k_headers) - 1), table_id="kind-table",
                   digits=[0] * (len(k_headers) - 1) + [CNY]),
        f'<section class="wide"><h2 id="sec-list">{esc(t("sec.list", lang))}</h2>',
        f'<p class="note">{esc(t("list.note", lang))}</p>',
        site_list_html(headers, rows, numeric, digits, len(scenario.group_names), lang),
        site_rules_html(scenario, [int(k) for k in expl.type], lang), "</section>",
        f'<h2 id="sec-plan">{esc(t("sec.plan", lang))}</h2>',
        _plan_sections(scenario, facts, lang),
        equity_section(scenario, solve_info.get("equity"), solve_info.get("utilisation"), lang),
        f'<h2 id="sec-facts">{esc(t("sec.facts", lang))}</h2>',
        facts_html,
        f"<script>{SORT_SCRIPT}{ZOOM_SCRIPT}</script></body></html>\n",
    ])


def map_section(scenario, problem, expl, covered, lang: str, context=None) -> str:
    """The map with its zoom buttons, legend, note and the key to the numbered sites."""
    from lifecircle.optimizer.outputs.report_map import AREA_BAND_M

    ids, names = scenario.sites.ids, scenario.sites.columns["name"]
    buttons = "".join(f'<button type="button" data-zoom="{z}" title="{esc(t(key, lang))}">{esc(label)}</button>'
                      for z, label, key in (("in", "+", "map.zoom_in"), ("out", "−", "map.zoom_out"),
                                            ("reset", t("map.zoom_reset", lang), "map.zoom_reset")))
    if context is not None and context.areas:
        note = t("map.note_areas", lang, band=f"{AREA_BAND_M:g}")
    else:
        note = t("map.note_network" if on_network(scenario) else "map.note", lang)
    key = [[n + 1, ids[int(j)], names[int(j)], type_label(scenario, int(k), lang)]
           for n, (j, k) in enumerate(zip(expl.site, expl.type))]
    return "".join([
        f'<div class="map-tools no-print"><span class="note">{esc(t("map.zoom_hint", lang))}</span> {buttons}</div>',
        f'<div class="map-box">{render_map(scenario, problem, expl, covered, lang, context)}</div>',
        render_legend(scenario, lang, context),
        f'<p class="note">{esc(note)}</p>',
        f"<h3>{esc(t('map.key', lang))}</h3>",
        html_table([t("col.number", lang), t("col.site_id", lang), t("col.name", lang), t("col.facility_type", lang)],
                   key, [True, False, False, False], table_id="map-key", digits=[0, 0, 0, 0]),
    ])


def site_list_html(headers, rows, numeric, digits, n_groups: int, lang: str) -> str:
    """The list in two logical column groups, each narrow enough for a printed page (issue 15):
    what each site covers (``#site-list``), then its rank and best alternative (``#site-alt``);
    both keep the site id and name, so each reads alone."""
    effect = list(range(5 + 2 * n_groups + 3)) + [len(headers) - 1]
    alternative = [0, 1] + list(range(5 + 2 * n_groups + 3, len(headers) - 1))
    out = []
    for cols, table_id, key in ((effect, "site-list", "list.part_effect"), (alternative, "site-alt", "list.part_alt")):
        out.append(f'<h3>{esc(t(key, lang))}</h3><div class="wrap">')
        out.append(html_table([headers[c] for c in cols], [[row[c] for c in cols] for row in rows],
                              [numeric[c] for c in cols], table_id=table_id, sortable=True,
                              digits=[digits[c] for c in cols]))
        out.append("</div>")
    return "".join(out)


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
    events.phase(logger, "phase.report_resolves", "report: explaining the plan (re-solves with %s, at most %.0f s each)",
                 solver, limit, solver=solver, limit=f"{limit:.0f}")
    # the rule re-solves and the per-site evaluations are independent: run them side by side
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(plan_facts, problem, solution.site, solution.type, solver=solver, options=quiet,
                              evaluation=solution.evaluation)
        expl = explain_sites(problem, solution.site, solution.type, solution.evaluation)
        facts = pending.result()
    t1 = time.perf_counter()
    events.phase(logger, "phase.report_write", "report: writing report.html and sites.xlsx")
    info = dict(solve_info)
    info.setdefault("date", datetime.now().astimezone().isoformat(timespec="seconds"))
    if "equity" not in info:
        from lifecircle.optimizer.outputs.summary import equity_summary, utilisation_rows

        info["equity"] = equity_summary(problem, solution.evaluation, solution.worst_share)
        info["utilisation"] = utilisation_rows(problem, solution.site, solution.type, solution.evaluation)
    context = map_context(scenario, problem, expl)
    page = embed_cjk_font(render_report(scenario, problem, expl, facts, solution.evaluation.covered, info, lang,
                                        context))
    (Path(folder) / "report.html").write_text(page, encoding="utf-8")
    t2 = time.perf_counter()
    headers, rows, _, _ = site_list(scenario, problem, expl, lang)
    write_sites_xlsx(Path(folder) / "sites.xlsx", (headers, rows), group_rows(scenario, facts, lang),
                     kind_rows(scenario, problem, expl, lang), binding_rows(scenario, facts, lang),
                     uncovered_rows(scenario, facts, lang),
                     solve_fact_rows(scenario, problem, len(expl), info, lang), lang)
    t3 = time.perf_counter()
    return {"explain": round(t1 - t0, 4), "html": round(t2 - t1, 4), "xlsx": round(t3 - t2, 4)}
