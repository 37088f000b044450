"""The `explain` command's printed text: explanations from :mod:`optimizer.outputs.explain` in zh or en."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from lifecircle.optimizer.outputs.explain import PlanFacts, SiteExplanations, WhyNot
from lifecircle.optimizer.outputs.i18n import CATALOGUE, group_label, kind_label, status_label, t, type_label
from lifecircle.optimizer.outputs.cells import num, pct
from lifecircle.optimizer.outputs.report import binding_rows, coord, next_budget_rows


def _people(scenario, values, lang: str) -> str:
    return ", ".join(f"{group_label(g, lang, scenario)} {num(v)}" for g, v in zip(scenario.group_names, values))


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
        lines.append("  " + t("explain.group_line", lang, group=group_label(group, lang, scenario),
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


def explain_lines(result_dir, site_id: str | None, why_not_id: str | None, *, lang: str | None,
                  solver: str | None, options) -> list:
    """`lifecircle explain`: the plan as a whole (neither id), one selected SITE_ID, or why
    ``why_not_id`` (or an unselected ``site_id``) was not chosen, which re-solves with it forced in.

    ``lang`` defaults to the run's report language, else the scenario's; ``solver`` to the run's.
    """
    from lifecircle.optimizer.outputs.explain import (
        explain_sites, load_result, plan_facts, resolve_solver, site_index, why_not,
    )
    from lifecircle.optimizer.outputs.i18n import resolve_language

    res = load_result(result_dir)
    lang = resolve_language(lang, res.summary.language or res.scenario.language)
    backend = resolve_solver(solver or res.summary.solver)
    if site_id is None and why_not_id is None:
        facts = plan_facts(res.problem, res.site, res.type, solver=backend, options=options,
                           evaluation=res.evaluation)
        return plan_lines(res.scenario, facts, len(res.site), lang)
    j = site_index(res.scenario, site_id or why_not_id, f"{result_dir}: SITE_ID")
    expl = explain_sites(res.problem, res.site, res.type, res.evaluation)
    n = selected_position(expl, j)
    if n is not None:
        return site_lines(res.scenario, expl, n, lang)
    why = why_not(res.problem, res.site, res.type, j, solver=backend, options=options, evaluation=res.evaluation)
    return why_not_lines(res.scenario, res.problem, why, backend, lang)


# ---- the other commands' console lines: each function returns lines, the CLI echoes them ----


class ToStderr(str):
    """A console line meant for stderr (a failure's reason, a failed circle); plain str lines go to
    stdout, in the order given."""


def _people_or_dash(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _status(status, lang: str) -> str:
    return status if lang == "en" else status_label(status, lang)


def _stage(name, lang: str) -> str:
    # least-cost stage names (cost, rank, ties) are summary.json keys in English, words in Chinese
    key = f"sum.stage_{name}"
    return name if lang == "en" or key not in CATALOGUE else t(key, lang)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    # a terminal shows a Chinese character two columns wide: pad by columns, not characters
    return text + " " * max(0, width - _display_width(text))


def _group(name, lang: str) -> str:
    return name if lang == "en" else group_label(name, lang)


def _kind(key: str, lang: str, type_labels: dict | None) -> str:
    """A facility type: its key in English, the scenario's label (社区食堂) in Chinese."""
    return key if lang == "en" else (type_labels or {}).get(key, key)


def _service(name, lang: str, type_labels: dict | None) -> str:
    """A group, or under per_service a service key ``group·type``, as the console names it."""
    if lang == "en" or "·" not in name:
        return _group(name, lang)
    group, kind = name.split("·", 1)
    return f"{_group(group, lang)} · {_kind(kind, lang, type_labels)}"


def _join(items, lang: str) -> str:
    return ("，" if lang == "zh" else ", ").join(items)


def solve_lines(s: dict, out_dir, exit_code: int, lang: str = "en", type_labels: dict | None = None) -> list:
    """`lifecircle solve`: status, coverage per group, network and equity facts, timings, outputs
    (``s`` is summary.json's dict), in ``lang`` (issue 15; the English lines are unchanged).
    ``type_labels``: facility type key -> the scenario's label, which the Chinese service lines show."""
    lines = [t("sum.head", lang, scenario=s["scenario"], status=_status(s["status"], lang), solver=s["solver"])]
    if s["reason"]:
        lines.append((ToStderr if exit_code != 0 else str)(t("sum.reason", lang, reason=s["reason"])))
    if s["objective"] is not None:
        gap_text = "0" if s["gap"] == 0 else ("-" if s["gap"] is None else f"{s['gap']:.4%}")
        source = s.get("bound_source")  # issue 14: a trivial ceiling is never a solver gap
        gap_name = t("sum.ceiling_gap" if source == "ceiling" else "sum.gap", lang)
        bound_text = f"{t('sum.bound', lang)} {'-' if s['bound'] is None else format(s['bound'], ',.1f')}" + (f" [{source}]" if source else "")
        lines.append(t("sum.coverage", lang, objective=f"{s['objective']:,.1f}", bound=bound_text, gap_name=gap_name,
                       gap=gap_text))
        stages = [st for st in s.get("stages") or [] if st.get("stage") != "coverage"]
        if stages:
            lines.append(t("sum.least_cost", lang, stages=_join((f"{_stage(st['stage'], lang)} {_status(st['status'], lang)}"
                                                                 for st in stages), lang)))
        lines.append(t("sum.spent", lang, spent=f"{s['spent']:,.0f}", budget=f"{s['budget']:,.0f}", sites=len(s["selected"])))
    # English keeps its format widths (the lines scripts read); Chinese is padded by display width
    for group, c in s["coverage"].items():
        name = _group(group, lang) if lang == "en" else _pad(_group(group, lang), 12)
        lines.append(t("sum.group", lang, group=name, population=_people_or_dash(c["population"]),
                       before=_people_or_dash(c["covered_before"]), after=_people_or_dash(c["covered_after"])))
    services = list((s.get("services") or {}).values())  # issue 14: per_service, 缺啥补啥
    labels = [(_group(c["group"], lang), _kind(c["facility_type"], lang, type_labels)) for c in services]
    wide = max([_display_width(f"{g} · {k}") for g, k in labels] + [0])
    for c, (group, kind) in zip(services, labels):
        kind = kind if lang == "en" else _pad(kind, wide - _display_width(f"{group} · "))
        lines.append(t("sum.service", lang, group=group, type=kind,
                       before=_people_or_dash(c["covered_before"]), after=_people_or_dash(c["covered_after"])))
    if "network" in s:  # issue 4: never let points off the network pass unnoticed
        n = s["network"]
        far = {k: n[f"snap_{k}"]["beyond_max_snap"] for k in ("demand", "sites", "existing")}
        lines.append(f"walking network: {n['nodes']:,} nodes, {n['components']} component(s), reach cache {n['cache']}; "
                     f"beyond max_snap_m {n['max_snap_m']:g} (unreachable): {far['demand']} demand points, "
                     f"{far['sites']} sites, {far['existing']} existing")
        frag = {k: len(n.get(f"{k}_on_fragments") or []) for k in ("sites", "existing")}
        if frag["sites"] or frag["existing"]:  # issue 12
            lines.append(f"walking network: {frag['sites']} sites and {frag['existing']} existing facilities lie on "
                         "smaller components (see summary.json network.sites_on_fragments)")
    equity = s.get("equity") or {}
    if equity.get("rules") or equity.get("circles"):
        shares = _join((f"{_service(g, lang, type_labels)} {v['share_after']:.1%}"
                        for g, v in equity["groups"].items() if v["share_after"] is not None), lang)
        gini = equity.get("gini_circles_after")
        lines.append(t("sum.equity", lang, shares=shares)
                     + (t("sum.gini", lang, gini=f"{gini:.3f}") if gini is not None else ""))
    lines.append(t("sum.timings", lang, timings=", ".join(f"{k} {v:.2f}" for k, v in s["timings_s"].items())))
    lines.append(t("sum.outputs", lang, path=out_dir))
    return lines


def solvers_lines(registry: dict) -> list:
    """`lifecircle solvers`: each backend, exact or heuristic, and whether it is installed."""
    lines = []
    for name, backend in registry.items():
        ok = backend.available()
        version = backend.version() if ok else None
        kind = "exact" if backend.exact else "heuristic"
        state = f"available ({backend.distribution} {version})" if ok else f"missing: pip install {backend.distribution}"
        lines.append(f"{name:<14} {kind:<9} {state}")
    return lines


def validate_lines(facts: dict, lang: str = "en") -> list:
    """`lifecircle validate`: counts and totals of a scenario (its main lines in ``lang``)."""
    lines = [t("validate.valid", lang, scenario=facts["scenario"]),
             t("validate.crs", lang, crs=facts["crs"], metric=facts["metric_crs"], circle=facts["circle_type"]),
             t("validate.counts", lang, demand=facts["demand_points"], sites=facts["sites"], existing=facts["existing"])]
    layers = facts.get("input_crs") or {}  # issue 17: layers read in another system than crs
    if any(v != facts["crs"] for v in layers.values()):
        converted = t("cmd.validate.converted", lang)
        lines.insert(2, t("cmd.validate.layers", lang, layers=", ".join(
            f"{k} {v}" + (converted if v in ("GCJ-02", "BD-09") else "") for k, v in layers.items())))
    lines += [t("validate.people", lang, group=_group(group, lang), people=f"{people:,.0f}")
              for group, people in facts["people"].items()]
    lines += [t("validate.cost", lang, type=key, cost=f"{cost:,.0f}") for key, cost in facts["candidate_cost"].items()]
    lines.append(t("validate.budget", lang, budget=f"{facts['budget']:,.0f}", min_open=facts["min_open"]))
    if facts.get("coverage_mode"):  # issue 14
        lines.append(t("cmd.validate.coverage", lang, mode=facts["coverage_mode"]))
    if "network" in facts:
        n = facts["network"]
        lines.append(t("cmd.validate.network", lang, file=n["file"], nodes=f"{n['nodes']:,}",
                       edges=f"{n['segments']:,}", km=f"{n['total_length_m'] / 1000:,.2f}"))
    return lines


def network_lines(facts: dict, lang: str = "en") -> list:
    """`lifecircle network`: the walking network's size, components and snap distances, in ``lang``."""
    lines = [t("cmd.network.head", lang, file=facts["file"], crs=facts["crs"]),
             t("cmd.network.size", lang, nodes=f"{facts['nodes']:,}", edges=f"{facts['segments']:,}",
               features=f"{facts['features']:,}", km=f"{facts['total_length_m'] / 1000:,.2f}"),
             t("cmd.network.components", lang, n=facts["components"],
               share=f"{facts['largest_component_length_share']:.1%}")]
    lines += [_column_line(role, used, lang) for role, used in facts.get("columns", {}).items()]  # issue 12
    islands = ", ".join(f"{_group(g, lang)} {share:.1%}" for g, share in facts["demand_on_small_islands"].items())
    lines.append(t("cmd.network.islands", lang, islands=islands))
    for label, key in (("sites", "sites_on_fragments"), ("existing", "existing_on_fragments")):
        frag = facts.get(key) or []
        if frag:  # issue 12: a site on a fragment serves only that fragment
            shown = ", ".join(f"{f['id']} ({f['fragment_length_m']:,.0f} m)" for f in frag[:20])
            lines.append(t("cmd.network.fragments", lang, label=t(f"cmd.network.{label}", lang), n=len(frag),
                           shown=f"{shown}{' ...' if len(frag) > 20 else ''}"))
    lines.append(t("cmd.network.snap_head", lang, max_snap=facts["max_snap_m"]))
    for label, key in (("demand", "snap_demand"), ("sites", "snap_sites"), ("existing", "snap_existing")):
        st, name = facts[key], t(f"cmd.network.{label}", lang)
        if st["count"] == 0:
            lines.append(t("cmd.network.snap_none", lang, label=name))
            continue
        lines.append(t("cmd.network.snap", lang, label=name, n=f"{st['count']:,}", min=st["min_m"], median=st["median_m"],
                       p95=st["p95_m"], max=st["max_m"], beyond=st["beyond_max_snap"]))
        if st["beyond_ids"]:
            shown = ", ".join(st["beyond_ids"][:20]) + (" ..." if len(st["beyond_ids"]) > 20 else "")
            lines.append(t("cmd.network.unreachable", lang, shown=shown))
    return lines


def _column_line(role: str, used: str, lang: str) -> str:
    """A network column's role and what was used for it; a text optimizer/inputs/network.py wrote
    in English is looked up in the catalogue (a column name is shown as written)."""
    if lang == "en":
        return f"  {role}: {used}"
    steps = re.fullmatch(r"OSM: steps (\S+), other ways 1", used)
    if steps:
        used = t("cmd.network.used.osm_steps", lang, factor=steps.group(1))
    else:
        known = {entry["en"]: entry[lang] for key, entry in CATALOGUE.items() if key.startswith("cmd.network.used.")}
        used = known.get(used, used)
    role_key = f"cmd.network.role.{role}"
    return t("cmd.network.column", lang, role=t(role_key, lang) if role_key in CATALOGUE else role, used=used)


def classic_lines(result, model: str, no_solution: bool, lang: str = "en") -> list:
    """`lifecircle classic` without --json: status, objective, sites, presolve, timings, in ``lang``."""
    lines = [t("cmd.classic.head", lang, instance=result.instance, model=model, status=_status(result.status, lang),
               solver=result.solver)]
    if result.objective is not None:
        gap = "-" if result.gap is None else f"{result.gap:.4%}"
        lines.append(t("cmd.classic.objective", lang, objective=f"{result.objective:,.6g}", bound=result.bound, gap=gap))
        shown = ", ".join(str(s) for s in result.selected[:30])
        more = t("cmd.classic.more", lang, n=len(result.selected)) if len(result.selected) > 30 else ""
        lines.append(t("cmd.classic.selected", lang, n=len(result.selected), shown=shown, more=more))
    if result.covered_weight is not None:
        lines.append(t("cmd.classic.covered", lang, weight=f"{result.covered_weight:,.6g}",
                       uncovered=result.uncovered_points))
    if result.presolve:  # issue 8: aggregated demand classes and presolve
        ps = result.presolve
        lines.append(t("cmd.classic.presolve", lang, **{**ps, "points": f"{ps['points']:,}"}))
    if no_solution:
        lines.append(ToStderr(t("cmd.classic.no_plan", lang, message=result.message)))
    names = {k: t(f"cmd.timing.{k}", lang) if f"cmd.timing.{k}" in CATALOGUE else k for k in result.timings_s}
    lines.append(t("cmd.classic.timings", lang, timings=", ".join(f"{names[k]} {v:.3f}" for k, v in result.timings_s.items())))
    return lines


def export_line(mps: str, lp_path: str | None, lin, lang: str = "en") -> str:
    """`lifecircle export`: what was written and the model's size, in ``lang``."""
    return t("cmd.export.wrote", lang, mps=mps, lp=t("cmd.export.and", lang, path=lp_path) if lp_path else "",
             rows=lin.n_rows, cols=lin.n_cols, nnz=lin.A.nnz, offset=lin.offset)


def sweep_lines(run, budget_step: float, coverage_gain: float, lang: str = "en") -> list:
    """`lifecircle sweep`: one row per budget, the knee (by the rule ``budget_step`` of budget buys
    less than ``coverage_gain`` more coverage), timings and outputs, in ``lang``."""
    result = run.result
    lines = [t("sweep.header", lang, budget=t("sweep.budget", lang), objective=t("sweep.objective", lang),
               spent=t("sweep.spent", lang))]
    for p in result.points:
        objective = "-" if p.objective is None else f"{p.objective:,.1f}"
        spent = "-" if p.spent_cny is None else f"{p.spent_cny:,.0f}"
        lines.append(f"{p.budget_cny:>16,.0f} {objective:>14} {spent:>16}  {_status(p.status, lang)}")
    rule = t("sweep.rule", lang, step=f"{budget_step:.0%}", gain=f"{coverage_gain:.0%}")
    if result.knee_cny is None:
        lines.append(t("sweep.no_knee", lang, rule=rule))
    else:
        lines.append(t("sweep.knee", lang, knee=f"{result.knee_cny:,.0f}", rule=rule))
    lines.append(t("sum.timings", lang, timings=", ".join(f"{k} {v:.2f}" for k, v in run.timings_s.items())))
    lines.append(t("sum.outputs", lang, path=run.out_dir))
    return lines


def phased_lines(s: dict, years: int, out_dir, exit_code: int, lang: str = "en",
                 type_labels: dict | None = None) -> list:
    """`lifecircle plan`: each year's openings and coverage, the total, the myopic comparison.
    ``type_labels`` as for :func:`solve_lines`: Chinese lines name services 老年人 · 社区食堂."""
    lines = [t("plan.head", lang, scenario=s["scenario"], status=_status(s["status"], lang), solver=s["solver"],
               years=years)]
    if s["reason"]:
        lines.append((ToStderr if exit_code != 0 else str)(t("sum.reason", lang, reason=s["reason"])))
    for y in s["years"]:
        covered = _join((f"{_service(g, lang, type_labels)} {v:,.0f}" for g, v in y["covered"].items()), lang)
        lines.append(t("plan.year", lang, year=y["year"], opened=y["opened"], spent=f"{y['spent']:,.0f}",
                       budget=f"{y['budget']:,.0f}", objective=f"{y['objective']:,.1f}", covered=covered))
    if s["objective"] is not None:
        lines.append(t("plan.total", lang, objective=f"{s['objective']:,.1f}"))
    if "year_by_year" in s and s["year_by_year"]["objective"] is not None:
        lines.append(t("plan.myopic", lang, objective=f"{s['year_by_year']['objective']:,.1f}"))
    lines.append(t("sum.outputs", lang, path=out_dir))
    return lines


def city_lines(result, lang: str = "en") -> list:
    """`lifecircle city`: counts, the first failed circles (on stderr), time per phase, outputs."""
    lines = [t("city.counts", lang, n=result.n_circles, solved=result.n_solved, skipped=result.n_skipped,
               failed=result.n_failed, seconds=f"{result.seconds:.1f}")]
    failed = [r for r in result.rows if r["status"] not in ("optimal", "feasible")]
    lines += [ToStderr(t("city.failed", lang, circle=row["circle_id"], status=_status(row["status"], lang),
                         error=row["error"])) for row in failed[:10]]
    if len(failed) > 10:
        lines.append(ToStderr(t("city.more_failed", lang, n=len(failed) - 10)))
    if result.phase_s:
        lines.append(t("city.phases", lang, phases=", ".join(f"{k} {v:.1f}" for k, v in result.phase_s.items())))
    lines.append(t("city.outputs", lang, path=result.out_dir))
    if getattr(result, "db_written", None) is not None:  # issue 17: city --db
        lines.append(f"PostGIS: {result.db_written} circles written to {result.db_uri} "
                     "(lifecircle_circles, lifecircle_sites, lifecircle_coverage)")
    return lines
