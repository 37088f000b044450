"""The report's headline and its rules said plainly (issue 15).

A meeting reads the first screen only: people covered per group come first ("老年人 3,611 /
4,200 人（86.0%）"), the weighted objective second, money in 元 / 万元, then one sentence per rule
saying whether it bound this plan. The rules on sites (must-open, forbidden, the circle-type
recipe's minimums) are listed under the site list, so nobody has to read the YAML.
"""

from __future__ import annotations

from lifecircle.optimizer.outputs.cells import esc, money, num, pct, text
from lifecircle.optimizer.outputs.explain import PlanFacts
from lifecircle.optimizer.outputs.i18n import CATALOGUE, group_label, status_label, t, type_label

__all__ = ["FLOOR_TIGHT", "headline_html", "rule_sentences", "site_rules_html"]

# a group's covered share within this of its floor reads "at the floor" (may bind)
FLOOR_TIGHT = 0.005


def headline_html(scenario, facts: PlanFacts, solve_info: dict, n_sites: int, lang: str) -> str:
    """``<section id="headline">``: people per group, weighted coverage, money, rules that bound."""
    items = []
    for g, name in enumerate(scenario.group_names):
        pop, before, after = facts.population[g], facts.covered_before[g], facts.covered_after[g]
        main = t("head.group_line", lang, group=group_label(name, lang, scenario), after=num(after),
                 population=num(pop), share=pct(after, pop))
        sub = t("head.group_before", lang, before=num(before), share_before=pct(before, pop),
                newly=num(after - before))
        items.append(f'<li><strong class="people">{text(main)}</strong> <span class="note">{esc(sub)}</span></li>')
    spent, budget = solve_info.get("spent"), solve_info.get("budget")
    rules = "".join(f"<li>{esc(s)}</li>" for s in rule_sentences(scenario, facts, solve_info, lang))
    return "".join([
        '<section id="headline">',
        f'<h2 class="sr">{esc(t("head.people", lang))}</h2><ul class="head-people">{"".join(items)}</ul>',
        f'<p class="head-weighted">{esc(t("head.weighted", lang, objective=num(solve_info.get("objective"), 1), status=status_label(solve_info.get("status"), lang)))}</p>',
        f'<p class="head-money">{esc(t("head.money", lang, sites=n_sites, spent=money(spent), budget=money(budget), share=pct(spent, budget)))}'
        f' <span class="note">{esc(t("head.money_unit", lang))}</span></p>',
        f'<h3>{esc(t("head.rules", lang))}</h3><ul id="rules-bound">{rules}</ul>',
        "</section>",
    ])


def _min_counts(scenario, detail, lang: str) -> str:
    return t("rule.min_counts", lang, counts=", ".join(
        f"{type_label(scenario, k, lang)} {opened}/{minimum}" for k, opened, minimum in detail)) if detail else ""


def rule_sentences(scenario, facts: PlanFacts, solve_info: dict, lang: str) -> list:
    """One plain sentence per rule: whether it bound, by the report's re-solves and checks."""
    out = []
    for r in facts.rules:
        label = t(f"rule.{r.rule}", lang)
        if not r.present:
            if r.rule != "budget":
                out.append(t("bound.absent", lang, rule=label))
            continue
        if r.binding is None:
            out.append(t("bound.budget_unknown", lang) if r.rule == "budget" else t("bound.unknown", lang, rule=label))
        elif r.rule == "budget":
            out.append(t("bound.budget_yes" if r.binding else "bound.budget_no", lang, slack=money(r.slack)))
        elif r.rule == "must_open":
            out.append(t("bound.must_yes", lang, gain=num(r.gain, 1)) if r.binding else t("bound.must_no", lang))
        else:
            counts = _min_counts(scenario, r.detail, lang)
            out.append(t("bound.min_yes", lang, gain=num(r.gain, 1), counts=counts) if r.binding
                       else t("bound.min_no", lang, counts=counts))
    equity = solve_info.get("equity") or {}
    floors = (equity.get("rules") or {})
    groups = equity.get("groups") or {}
    for g, floor in (floors.get("min_coverage") or {}).items():
        share = (groups.get(g) or {}).get("share_after")
        tight = share is not None and share - float(floor) <= FLOOR_TIGHT
        out.append(t("bound.floor", lang, group=group_label(g, lang, scenario), floor=f"{100 * float(floor):g}%",
                     share="—" if share is None else f"{100 * share:.1f}%",
                     tight=t("bound.tight", lang) if tight else ""))
    if floors.get("min_coverage_per_circle") is not None:
        out.append(t("bound.floor_circle", lang, floor=f"{100 * floors['min_coverage_per_circle']:g}%"))
    if floors.get("maximin"):
        out.append(t("bound.maximin", lang, what=str(floors["maximin"])))
    if scenario.forbid:
        out.append(t("bound.forbid", lang, count=len(scenario.forbid)))
    return out


def site_rules_html(scenario, opened_types: list, lang: str) -> str:
    """Must-open and forbidden sites with their rule, and the min_open minimums that applied.

    ``opened_types``: the type index k of every facility in the plan.
    """
    from lifecircle.optimizer.recipes import load_recipes

    ids, names = scenario.sites.ids, scenario.sites.columns["name"]
    index = {sid: j for j, sid in enumerate(ids)}
    types = list(scenario.type_names)
    out = [f'<h3 id="sec-site-rules">{esc(t("rules.title", lang))}</h3>']
    must = [[sid, names[index[sid]], t("rules.must_rule", lang, type=type_label(scenario, types.index(k), lang))]
            for sid, k in scenario.must_open.items()]
    forbid = [[sid, names[index[sid]], t("rules.forbid_rule", lang)] for sid in scenario.forbid]
    heads = [t("col.site_id", lang), t("col.name", lang), t("col.rule_flag", lang)]
    for key, rows, table_id in (("rules.must_open", must, "must-open"), ("rules.forbid", forbid, "forbidden")):
        out.append(f"<h4>{esc(t(key, lang))}</h4>")
        if rows:
            body = "".join("<tr>" + "".join(f"<td>{text(v)}</td>" for v in row) + "</tr>" for row in rows)
            out.append(f'<table id="{table_id}"><thead><tr>'
                       + "".join(f'<th scope="col">{esc(h)}</th>' for h in heads)
                       + f"</tr></thead><tbody>{body}</tbody></table>")
        else:
            out.append(f'<p id="{table_id}">{esc(t("rules.none", lang))}</p>')
    recipe = load_recipes().get(scenario.circle_type, {})
    own = dict(((scenario.raw or {}).get("rules") or {}).get("min_open") or {})
    circle = (t(f"circle.{scenario.circle_type}", lang) if f"circle.{scenario.circle_type}" in CATALOGUE
              else scenario.circle_type)
    items = []
    for k, key in enumerate(types):
        minimum = int(scenario.min_open.get(key, 0))
        if minimum <= 0:
            continue
        source = t("rules.from_scenario", lang) if key in own else t("rules.from_recipe", lang, circle=circle)
        items.append(t("rules.recipe_item", lang, type=type_label(scenario, k, lang), minimum=minimum,
                       source=source, opened=sum(1 for x in opened_types if int(x) == k)))
    if not items and recipe:
        items = [t("rules.recipe_none", lang)]
    out.append(f'<p id="recipe-minimums">{esc(t("rules.recipe", lang, circle=circle, items="; ".join(items) or t("rules.recipe_none", lang)))}</p>')
    return "".join(out)

