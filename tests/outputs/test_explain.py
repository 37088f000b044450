"""Explanations: unique contributions by dropping each site, alternatives by evaluating swaps,
binding rules and why-not answers against brute force, and the `explain` command."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from support.bruteforce import brute_force, random_problem
from lifecircle.cli import main
from support.scenarios import REPO
from lifecircle.optimizer.inputs.assemble import build_problem
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.outputs.explain import explain_sites, load_result, plan_facts, why_not
from lifecircle.optimizer.core.problem import NO_TYPE
from lifecircle.optimizer.inputs.scenario import load_scenario
from lifecircle.optimizer.core.solution import evaluate
from lifecircle.optimizer.core.tolerances import BUDGET_TOL
from lifecircle.optimizer.solve.coverage import solve_problem


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def drop(site, type_, n):
    keep = np.arange(site.size) != n
    return site[keep], type_[keep]


def check_unique_by_dropping(problem, site, type_):
    """Each facility's unique contribution equals what dropping it alone loses, by evaluate()."""
    expl = explain_sites(problem, site, type_)
    full = evaluate(problem, site, type_)
    for n in range(site.size):
        without = evaluate(problem, *drop(site, type_, n))
        lost = full.people_after - without.people_after
        np.testing.assert_allclose(expl.unique[n], lost, atol=1e-9)
        assert expl.unique_weighted[n] == pytest.approx(full.objective - without.objective, abs=1e-9)
    return expl


def test_tiny_by_hand(tiny_scenario):
    problem = build_problem(load_scenario(tiny_scenario))
    sol = solve_problem(problem)
    expl = check_unique_by_dropping(problem, sol.site, sol.type)
    ids = [problem.site_ids[j] for j in expl.site]
    assert ids == ["S1", "S3"]
    # S1 canteen reaches D1 and D2 elderly (10 + 4, weight 2); S3 elder_child D4 elderly and children (9, 9)
    assert expl.newly.tolist() == [[14.0, 0.0], [9.0, 9.0]]
    assert expl.newly_weighted.tolist() == [28.0, 27.0]
    assert expl.unique_weighted.tolist() == [28.0, 27.0]
    assert expl.cost_per_newly_weighted == pytest.approx([300 / 28, 500 / 27])
    assert expl.gain_rank.tolist() == [1, 2] and expl.marginal_gain.tolist() == [28.0, 27.0]
    # dropping S1 frees 500: S2 as canteen (400) recovers D2's elderly (8 weighted) -> 69 - 28 + 8
    # dropping S3 frees 700: nothing reaches D4; S2 as elder_child (600) adds D1, D2 children (25)
    assert [problem.site_ids[j] for j in expl.alt_site] == ["S2", "S2"]
    assert [problem.type_names[k] for k in expl.alt_type] == ["canteen", "elder_child"]
    assert expl.alt_recovered_weighted.tolist() == [8.0, 0.0]
    assert expl.alt_objective.tolist() == [49.0, 67.0]
    assert expl.freed_budget_cny.tolist() == [500.0, 700.0]


@pytest.mark.parametrize("seed", range(10))
def test_random_unique_and_alternatives_by_evaluation(seed):
    problem, _ = random_problem(seed, n_points=30, n_sites=8, n_types=2, n_groups=2, budget_share=0.5)
    sol = solve_problem(problem)
    if not sol.has_plan or sol.site.size == 0:
        pytest.skip("no facility opened")
    expl = check_unique_by_dropping(problem, sol.site, sol.type)
    base = sol.evaluation
    used = set(sol.site.tolist())
    for n in range(sol.site.size):
        rest_site, rest_type = drop(sol.site, sol.type, n)
        rest = evaluate(problem, rest_site, rest_type)
        freed = problem.budget_cny - base.spent_cny + problem.cost_cny[sol.site[n], sol.type[n]]
        best = None  # (recovered, net, -cost) over every swap, by evaluate()
        for j in range(problem.n_sites):
            for k in range(problem.n_types):
                if j in used or not problem.allowed()[j, k] or problem.cost_cny[j, k] > freed * (1 + BUDGET_TOL):
                    continue
                opened = np.bincount(rest_type, minlength=problem.n_types)
                if opened[sol.type[n]] < problem.min_open[sol.type[n]] and k != sol.type[n]:
                    continue
                swap = evaluate(problem, np.append(rest_site, j), np.append(rest_type, k))
                lost_pairs = base.covered & ~rest.covered
                recovered = float((problem.weighted_people() * (lost_pairs & swap.covered)).sum())
                key = (round(recovered, 9), round(swap.objective, 9), -problem.cost_cny[j, k])
                if best is None or key > best[0]:
                    best = (key, j, k, swap.objective)
        if best is None:
            assert expl.alt_site[n] == -1
            continue
        assert expl.alt_recovered_weighted[n] == pytest.approx(best[0][0])
        assert expl.alt_objective[n] == pytest.approx(best[3])
        swap = evaluate(problem, np.append(rest_site, expl.alt_site[n]), np.append(rest_type, expl.alt_type[n]))
        assert swap.objective == pytest.approx(expl.alt_objective[n]) and swap.spent_cny <= problem.budget_cny + 1e-6


def test_bundled_unique_by_dropping_each_site():
    problem = build_problem(load_scenario(REPO / "scenarios" / "bishan_rural" / "scenario.yaml"))
    sol = solve_problem(problem)
    expl = check_unique_by_dropping(problem, sol.site, sol.type)
    assert sorted(expl.gain_rank.tolist()) == list(range(1, sol.site.size + 1))
    # the greedy order's gains add up to what the plan adds over the existing facilities
    assert expl.marginal_gain.sum() == pytest.approx(sol.evaluation.objective - (problem.weighted_people() * problem.covered_before).sum())


def test_plan_facts_on_tiny_against_brute_force(tiny_scenario):
    problem = build_problem(load_scenario(tiny_scenario))
    sol = solve_problem(problem)
    facts = plan_facts(problem, sol.site, sol.type)
    budget = facts.rule("budget")
    # 1,100 buys S1 canteen, S2 elder_child and S3 canteen: 14 + 28 + 25 + 18 = 85
    assert facts.next_budget.objective == 85.0 and facts.next_budget.budget_cny == pytest.approx(1100.0)
    assert budget.binding and budget.gain == 16.0 and budget.slack == 200.0
    assert not facts.rule("must_open").present and not facts.rule("min_open").present
    # children at D1, D2 are reachable (S2 as elder_child) but uncovered; D3 has none
    assert facts.uncovered.tolist() == [0.0, 25.0] and facts.unreachable.tolist() == [0.0, 0.0]
    assert [(i, p) for i, p, _ in facts.uncovered_points[1]] == [(1, 20.0), (0, 5.0)]


@pytest.mark.parametrize("seed", range(6))
def test_rules_bind_exactly_when_brute_force_says_so(seed):
    problem, geometry = random_problem(seed + 40, n_points=25, n_sites=7, rules=False, budget_share=0.35)
    must = np.full(problem.n_sites, NO_TYPE)
    j = int(np.flatnonzero(problem.allowed().any(axis=1))[-1])
    must[j] = int(np.flatnonzero(problem.allowed()[j])[0])
    problem = replace(problem, must_open=must, min_open=np.array([2, 0]))
    try:
        sol = solve_problem(problem)
    except Exception:
        pytest.skip("rules infeasible for this draw")
    if not sol.has_plan:
        pytest.skip("rules infeasible for this draw")
    facts = plan_facts(problem, sol.site, sol.type)
    for rule, relaxed in (("must_open", replace(problem, must_open=np.full(problem.n_sites, NO_TYPE))),
                          ("min_open", replace(problem, min_open=np.zeros(2, dtype=np.int64))),
                          ("budget", problem.with_budget(problem.budget_cny * 1.1))):
        best = brute_force(relaxed, geometry)
        check = facts.rule(rule)
        assert check.gain == pytest.approx(best - sol.objective, abs=1e-6)
        assert check.binding == (best > sol.objective + 1e-6)


def test_why_not_on_tiny(tiny_scenario):
    problem = build_problem(load_scenario(tiny_scenario))
    sol = solve_problem(problem)
    why = why_not(problem, sol.site, sol.type, problem.site_ids.index("S2"))
    # forced in as elder_child (600), S1 canteen still fits: 14 + 28 + 25 = 67, a loss of 2
    assert why.reason == "too_expensive" and problem.type_names[why.type] == "elder_child"
    assert why.forced.objective == 67.0 and why.loss == 2.0
    assert why.gain_weighted == 25.0  # D1 and D2 children, which the plan leaves uncovered
    selected = why_not(problem, sol.site, sol.type, problem.site_ids.index("S1"))
    assert selected.reason == "selected" and selected.forced is None


@pytest.mark.parametrize("seed", range(5))
def test_why_not_loss_matches_brute_force(seed):
    problem, geometry = random_problem(seed + 60, n_points=25, n_sites=7, rules=False, budget_share=0.3)
    sol = solve_problem(problem)
    for j in sorted(set(range(problem.n_sites)) - set(sol.site.tolist())):
        why = why_not(problem, sol.site, sol.type, j)
        forced = [brute_force(replace(problem, must_open=np.where(np.arange(problem.n_sites) == j, k, NO_TYPE)), geometry)
                  for k in np.flatnonzero(problem.allowed()[j])]
        forced = [f for f in forced if f is not None]
        if not forced:
            assert why.forced is None or why.forced.objective is None
            continue
        assert why.forced.objective == pytest.approx(max(forced))
        assert why.loss >= -1e-9
        assert (why.reason == "tie") == (why.loss <= 1e-6 * max(1.0, sol.objective))
        if why.reason == "already_covered":
            assert why.gain_weighted == 0.0
        if why.reason == "dominated":
            oj, ok = why.dominated_by
            assert problem.cost_cny[oj, ok] <= why.cost_cny


def test_why_not_dominated_site(tiny_scenario):
    # S4, 10 m from S3, reaches exactly D4 as elder_child, like S3, but costs 750 instead of 500
    sites = ("id,name,kind,x,y,cost_elder_child,cost_canteen\nS1,桥下空间一号,under_bridge,500000,3300000,,300\n"
             "S2,闲置用房,vacant_room,500600,3300000,600,400\nS3,边角地,corner_plot,502000,3300000,500,200\n"
             "S4,对面边角地,corner_plot,502000,3300010,750,\n")
    tiny_scenario.with_name("sites.csv").write_text(sites, encoding="utf-8")
    problem = build_problem(load_scenario(tiny_scenario))
    sol = solve_problem(problem)
    why = why_not(problem, sol.site, sol.type, problem.site_ids.index("S4"))
    assert why.reason == "dominated" and why.dominated_by == (2, 0) and why.dominated_by_selected
    # forced in, S4 leaves 250: only S3 as canteen fits, adding nobody: 14 + 18 + 9 = 41
    assert why.forced.objective == 41.0 and why.loss == 28.0


def test_explain_command_and_changed_scenario(tiny_scenario, tmp_path):
    out = tmp_path / "out"
    assert run("solve", tiny_scenario, "--out", out).exit_code == 0
    result = run("explain", out, "S1")
    assert result.exit_code == 0, result.output
    assert "Site S1 桥下空间一号 (space under a bridge) as 社区食堂 (canteen), cost 300" in result.output
    assert "unique contribution (lost if only this site is dropped): elderly 14, children 0 (weighted 28.0)" in result.output
    assert "S2 闲置用房 as 社区食堂 (canteen), cost 400; recovers 8.0 of its 28.0 unique weighted people (28.6%)" in result.output
    zh = run("explain", out, "--why-not", "S2", "--lang", "zh")
    assert zh.exit_code == 0, zh.output
    assert "相对收益而言费用过高" in zh.output and "损失 2.0" in zh.output
    plan = run("explain", out)
    assert plan.exit_code == 0 and "budget: binding yes; coverage gained with 10% more budget: 16.0 (re-solved with highs (optimal))" in plan.output
    unknown = run("explain", out, "S9")
    assert unknown.exit_code == 2 and "unknown site 'S9'" in unknown.output

    sites = tiny_scenario.with_name("sites.csv")
    sites.write_text(sites.read_text(encoding="utf-8").replace("300", "301"), encoding="utf-8")
    changed = run("explain", out, "S1")
    assert changed.exit_code == 2
    assert "changed since this run" in changed.output and "re-run `lifecircle solve`" in changed.output
    with pytest.raises(ScenarioError, match="changed since this run"):
        load_result(out)


def test_explain_needs_a_plan(tiny_scenario, tmp_path):
    text = tiny_scenario.read_text(encoding="utf-8") + "rules:\n  must_open: {S2: elder_child, S1: canteen, S3: canteen}\n"
    tiny_scenario.write_text(text, encoding="utf-8")
    run("solve", tiny_scenario, "--out", tmp_path / "out")
    result = run("explain", tmp_path / "out", "S1")
    assert result.exit_code == 2 and "has no plan to explain" in result.output
    assert json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["status"] == "infeasible"
