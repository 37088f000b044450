"""The `explain` command's printed text: explanations from :mod:`optimizer.outputs.explain` in zh or en."""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.outputs.explain import PlanFacts, SiteExplanations, WhyNot
from lifecircle.optimizer.outputs.i18n import group_label, kind_label, t, type_label
from lifecircle.optimizer.outputs.cells import num, pct
from lifecircle.optimizer.outputs.report import binding_rows, coord, next_budget_rows


def _people(scenario, values, lang: str) -> str:
    return ", ".join(f"{group_label(g, lang)} {num(v)}" for g, v in zip(scenario.group_names, values))


def _site_name(scenario, j: int) -> tuple:
    return scenario.sites.ids[j], scenario.sites.columns["name"][j], scenario.sites.columns["kind"][j]


def site_lines(scenario, expl: SiteExplanations, n: int, lang: str) -> list:
    """One selected facility's explanation, row ``n`` of ``expl``."""
    j, k = int(expl.site[n]), int(expl.type[n])
    sid, name, kind = _site_name(scenario, j)
    lines = [t("explain.site", lang, site=sid, name=name, kind=kind_label(kind, lang),
               type=type_label(scenario, k, lang), cost=num(expl.cost_cny[n])),
             "  " + t("explain.newly", lang, people=_people(scenario, expl.newly[n], lang),
                      weighted=num(expl.newly_weighted[n], 1)),
             "  " + t("explain.unique", lang, people=_people(scenario, expl.unique[n], lang),
                      weighted=num(expl.unique_weighted[n], 1)),
             "  " + t("explain.per_person", lang, value=num(float(expl.cost_per_newly_weighted[n]), 1)),
             "  " + t("explain.rank", lang, rank=int(expl.gain_rank[n]), count=len(expl),
                      gain=num(expl.marginal_gain[n], 1))]
    a = int(expl.alt_site[n])
    if not expl.alt_needed[n]:
        lines.append("  " + t("col.alt_site", lang) + ": " + t("alt.not_needed", lang))
    elif a < 0:
        lines.append("  " + t("explain.no_alt", lang, freed=num(expl.freed_budget_cny[n])))
    else:
        aid, aname, _ = _site_name(scenario, a)
        lines.append("  " + t(
            "explain.alt", lang, freed=num(expl.freed_budget_cny[n]), site=aid, name=aname,
            type=type_label(scenario, int(expl.alt_type[n]), lang), cost=num(expl.alt_cost_cny[n]),
            recovered=num(expl.alt_recovered_weighted[n], 1), unique=num(expl.unique_weighted[n], 1),
            share=pct(expl.alt_recovered_weighted[n], expl.unique_weighted[n]),
            objective=num(expl.alt_objective[n], 1), base=num(expl.objective, 1)))
    return lines


def why_not_lines(scenario, problem, why: WhyNot, solver: str, lang: str) -> list:
    sid, name, kind = _site_name(scenario, why.site)
    lines = [t("why.head", lang, site=sid, name=name, kind=kind_label(kind, lang))]
    k = why.type
    label = type_label(scenario, k, lang) if k >= 0 else ""
    if why.reason in ("selected", "forbidden", "no_type"):
        lines.append("  " + t(f"why.{why.reason}", lang, type=label) if why.reason == "selected"
                     else "  " + t(f"why.{why.reason}", lang))
        return lines
    if why.reason == "dominated":
        oj, ok = why.dominated_by
        oid, oname, _ = _site_name(scenario, oj)
        other = f"{oid} {oname} ({type_label(scenario, ok, lang)})"
        text = t("why.dominated", lang, other=other, type=label, other_cost=num(problem.cost_cny[oj, ok]),
                 cost=num(why.cost_cny))
        if why.dominated_by_selected:
            text += " " + t("why.dominated_selected", lang)
        lines.append("  " + text)
    elif why.reason == "too_expensive":
        per = why.cost_cny / why.gain_weighted if why.gain_weighted > 0 else None
        lines.append("  " + t("why.too_expensive", lang, type=label, gain=num(why.gain_weighted, 1),
                              cost=num(why.cost_cny), per_person=num(per, 1),
                              worst=num(why.plan_worst_cost_per_person, 1)))
    else:  # already_covered, tie
        lines.append("  " + t(f"why.{why.reason}", lang, type=label))
    forced = why.forced
    if forced is not None and forced.objective is not None:
        loss = why.loss
        lines.append("  " + t("why.forced", lang, type=label, solver=solver, status=forced.status,
                              forced=num(forced.objective, 1), base=num(why.base_objective, 1),
                              loss=num(loss, 1), percent=pct(loss, why.base_objective)))
    elif forced is not None:
        lines.append("  " + t("why.forced_none", lang, type=label, solver=solver, status=forced.status,
                              message=forced.message))
    return lines


def plan_lines(scenario, facts: PlanFacts, n_sites: int, lang: str) -> list:
    lines = [t("explain.plan", lang, sites=n_sites, spent=num(facts.spent_cny), budget=num(facts.budget_cny),
               objective=num(facts.objective, 1)), t("plan.binding", lang)]
    _, rows = binding_rows(scenario, facts, lang)
    for check, (rule, state, relax, gain, how, detail) in zip(facts.rules, rows):
        if not check.present:
            lines.append("  " + t("explain.rule_absent", lang, rule=rule))
        else:
            lines.append("  " + t("explain.rule_line", lang, rule=rule, state=state, relax=relax, gain=gain,
                                  how=how, detail=detail))
    lines.append(t("plan.uncovered", lang))
    for g, group in enumerate(scenario.group_names):
        lines.append("  " + t("explain.group_line", lang, group=group_label(group, lang),
                              uncovered=num(facts.uncovered[g]), unreachable=num(facts.unreachable[g])))
        for i, people, reachable in facts.uncovered_points[g]:
            lines.append("    " + t("explain.where_line", lang, point=scenario.demand.ids[i],
                                    x=coord(scenario, scenario.demand.x[i]), y=coord(scenario, scenario.demand.y[i]), people=num(people),
                                    reach=t("yes_reachable" if reachable else "not_reachable", lang)))
    lines.append(t("plan.next_budget", lang))
    sentence, _, rows, added, removed = next_budget_rows(scenario, facts, lang)
    lines.append("  " + sentence)
    for group, before, after, change in rows:
        lines.append("  " + t("compare.group_line", lang, group=group, a=num(before), b=num(after),
                              change=f"{change:+,.0f}"))
    if rows:
        lines.append(f"  {t('next.added', lang)}: {added}")
        lines.append(f"  {t('next.removed', lang)}: {removed}")
    return lines


def selected_position(expl: SiteExplanations, j: int) -> int | None:
    hit = np.flatnonzero(expl.site == j)
    return int(hit[0]) if hit.size else None
