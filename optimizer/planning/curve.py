"""The budget curve: the budgets asked for, the points solved at them, the knee, and its files.

The knee is the smallest budget on the curve beyond which every further segment has a log-log
slope below ``ln(1.01) / ln(1.10)``: each extra 10 % of budget buys less than 1 % more weighted
coverage (coverage counts people reached by existing facilities, as the objective does).

:func:`parse_budgets` reads ``--budgets``; :mod:`lifecircle.optimizer.planning.sweep` solves the
points; :func:`curve_rows`, :func:`plan_rows` and :func:`write_curve_png` write curve.csv,
plans.csv and curve.png.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.solve.backends import Status

__all__ = ["KNEE_BUDGET_STEP", "KNEE_COVERAGE_GAIN", "MARGINAL_UNIT_CNY", "MAX_BUDGET_POINTS", "SweepPoint",
           "SweepResult", "budget_knee", "curve_rows", "parse_budgets", "plan_rows", "write_curve_png"]

KNEE_BUDGET_STEP = 0.10
KNEE_COVERAGE_GAIN = 0.01
# Marginal coverage is reported per this many currency units (10,000 CNY, one 万元).
MARGINAL_UNIT_CNY = 10_000.0


@dataclass(frozen=True)
class SweepPoint:
    """The plan at one budget. ``covered_after`` is people per group after the plan (None when
    there is no plan); ``site``/``type`` index the problem's sites and types."""

    budget_cny: float
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    spent_cny: float | None
    covered_after: np.ndarray | None
    solve_s: float
    site: np.ndarray
    type: np.ndarray
    reason: str = ""
    warm_started: bool = False


@dataclass(frozen=True)
class SweepResult:
    group_names: tuple
    points: tuple
    knee_cny: float | None
    timings_s: dict = field(default_factory=dict)

    @property
    def budgets(self) -> np.ndarray:
        return np.array([p.budget_cny for p in self.points])

    @property
    def objectives(self) -> np.ndarray:
        return np.array([np.nan if p.objective is None else p.objective for p in self.points])


# Every budget is a solve: 1,000 of them already take minutes on a district, and a mistyped
# START:END:N (N = 1e9) would allocate gigabytes before the first one.
MAX_BUDGET_POINTS = 1_000
_NUMBER = r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*"


def parse_budgets(text: str) -> np.ndarray:
    """Budgets from ``START:END:N`` (N evenly spaced points) or a comma list, ascending.

    Raises :class:`ScenarioError` (one line) for anything else: START > END, fewer than 2 distinct
    points, negative or non-numeric values.
    """
    text = str(text).strip()
    usage = "give START:END:N (N >= 2 points) or a comma list of at least 2 budgets"
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3 or not all(re.fullmatch(_NUMBER, p) for p in parts):
            raise ScenarioError(f"--budgets: value {text!r} is not START:END:N; {usage}")
        start, end, count = (float(p) for p in parts)
        if count > MAX_BUDGET_POINTS:
            raise ScenarioError(f"--budgets: value {text!r} asks for {parts[2].strip()} points, above the limit of "
                                f"{MAX_BUDGET_POINTS:,} budgets per sweep")
        if count != int(count) or count < 2:
            raise ScenarioError(f"--budgets: value {text!r} asks for {parts[2].strip()} points; {usage}")
        if start > end:
            raise ScenarioError(f"--budgets: value {text!r} starts above its end ({start:g} > {end:g}); {usage}")
        if start == end:
            raise ScenarioError(f"--budgets: value {text!r} has start equal to end, which is 1 point; {usage}")
        budgets = np.linspace(start, end, int(count))
    else:
        parts = [p for p in text.split(",")]
        if not all(re.fullmatch(_NUMBER, p) for p in parts):
            bad = next(p for p in parts if not re.fullmatch(_NUMBER, p))
            raise ScenarioError(f"--budgets: value {bad.strip()!r} is not a number; {usage}")
        budgets = np.unique(np.array([float(p) for p in parts]))
        if budgets.size > MAX_BUDGET_POINTS:
            raise ScenarioError(f"--budgets: {budgets.size:,} budgets, above the limit of "
                                f"{MAX_BUDGET_POINTS:,} budgets per sweep")
        if budgets.size < 2:
            raise ScenarioError(f"--budgets: value {text!r} has fewer than 2 distinct budgets; {usage}")
    if budgets[0] < 0:
        raise ScenarioError(f"--budgets: value {budgets[0]:g} is negative; budgets must be >= 0")
    return budgets


def budget_knee(budgets, objectives, step: float = KNEE_BUDGET_STEP,
                gain: float = KNEE_COVERAGE_GAIN) -> float | None:
    """The smallest budget beyond which each extra ``step`` of budget buys less than ``gain`` more.

    Uses the log-log slope of each segment between consecutive points that have an objective;
    None when the last segment is still steeper than the threshold (no knee in the range) or
    when fewer than two points have positive budget and coverage.
    """
    budgets = np.asarray(budgets, dtype=float)
    objectives = np.asarray(objectives, dtype=float)
    ok = np.isfinite(objectives) & (objectives > 0) & (budgets > 0)
    b, f = budgets[ok], objectives[ok]
    if b.size < 2:
        return None
    threshold = math.log1p(gain) / math.log1p(step)
    slope = np.log(f[1:] / f[:-1]) / np.log(b[1:] / b[:-1])
    steep = np.flatnonzero(slope >= threshold)
    if steep.size == 0:
        return float(b[0])
    last = int(steep[-1])
    return None if last == slope.size - 1 else float(b[last + 1])


def curve_rows(result: SweepResult, by_group=None) -> tuple[list, list]:
    """(header, rows) of curve.csv: one row per budget.

    ``by_group`` (issue 14, ``coverage: per_service``, where the problem's groups are services):
    (the YAML's group names, per point the people of each reached by at least one of its services,
    or None); their ``covered_<group>`` columns come first, then one ``covered_<group·type>`` per
    service.
    """
    groups = result.group_names
    first, per_point = by_group if by_group is not None else ((), [None] * len(result.points))
    header = ["budget", "objective", *(f"covered_{g}" for g in (*first, *groups)), "spent", "status", "gap",
              "solve_s", "sites"]
    rows = []
    for p, extra in zip(result.points, per_point):
        covered = [""] * len(groups) if p.covered_after is None else [float(v) for v in p.covered_after]
        covered = ([""] * len(first) if extra is None else [float(v) for v in extra]) + covered
        rows.append([p.budget_cny, "" if p.objective is None else p.objective, *covered,
                     "" if p.spent_cny is None else p.spent_cny, str(p.status),
                     "" if p.gap is None else p.gap, round(p.solve_s, 4), int(p.site.size)])
    return header, rows


def plan_rows(scenario, problem, result: SweepResult) -> tuple[list, list]:
    """(header, rows) of plans.csv: the selected sites at every budget, long format."""
    header = ["budget", "site_id", "name", "facility_type", "cost"]
    rows = []
    for p in result.points:
        for j, k in sorted(zip(p.site.tolist(), p.type.tolist())):
            rows.append([p.budget_cny, scenario.sites.ids[j], scenario.sites.columns["name"][j],
                         scenario.type_names[k], float(problem.cost_cny[j, k])])
    return header, rows


def write_curve_png(path: Path, result: SweepResult) -> None:
    """Two panels: weighted coverage against budget, and marginal people per 10,000 currency units."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    budgets, objectives = result.budgets, result.objectives
    ok = np.isfinite(objectives)
    fig = Figure(figsize=(7.0, 6.0), dpi=110)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    scale = 1e6
    top.plot(budgets[ok] / scale, objectives[ok], marker="o", lw=1.5)
    top.set_ylabel("weighted coverage (people)")
    top.grid(alpha=0.3)
    if result.knee_cny is not None:
        for ax in (top, bottom):
            ax.axvline(result.knee_cny / scale, color="tab:red", ls="--", lw=1)
        top.annotate(f"knee {result.knee_cny / scale:,.2f} M", (result.knee_cny / scale, objectives[ok].min()),
                     color="tab:red", xytext=(4, 4), textcoords="offset points")
    b, f = budgets[ok], objectives[ok]
    if b.size >= 2:
        marginal = np.diff(f) / np.diff(b) * MARGINAL_UNIT_CNY
        bottom.step(b[1:] / scale, marginal, where="pre")
    bottom.set_ylabel("marginal people per 10,000")
    bottom.set_xlabel("budget (millions)")
    bottom.grid(alpha=0.3)
    top.set_title("coverage against budget")
    fig.tight_layout()
    fig.savefig(path)
