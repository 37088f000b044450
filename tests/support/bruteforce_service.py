"""Per-service coverage (issue 14) by brute force, from raw coordinates.

:func:`write_random_per_service` writes a small random scenario (YAML and CSV files, existing
facilities, type weights, optionally a linear decay) and returns its raw numbers;
:func:`brute_force_per_service` enumerates every plan and scores it straight from those numbers:
for each type k and each group g it serves, a person counts with the best weight of an open or
existing facility *of type k* within reach. Nothing here uses the scenario reader, the service
expansion, ``models/`` or ``evaluate()``, so the expansion is what these numbers check.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

X0, Y0 = 500000.0, 3300000.0  # EPSG:4545 metres, inside Chongqing's zone


def write_random_per_service(folder: Path, seed: int, *, n_points=12, n_sites=6, decay=False,
                             existing=2, coverage="per_service") -> dict:
    """Write a random two-group, three-type scenario to ``folder``; return its raw numbers."""
    rng = np.random.default_rng(seed)
    groups = {"elderly": float(rng.choice([1.0, 2.0])), "children": float(rng.choice([0.5, 1.0]))}
    speed = {"elderly": 0.8, "children": 1.0}
    types = {  # serves, walk minutes, type weight
        "station": (("elderly", "children"), float(rng.choice([6.0, 8.0])), float(rng.choice([1.0, 1.5]))),
        "canteen": (("elderly",), float(rng.choice([5.0, 7.0])), float(rng.choice([0.5, 1.0, 2.0]))),
        "school": (("children",), 6.0, float(rng.choice([0.0, 1.0]))),
    }
    pts = rng.uniform(0, 900, size=(n_points, 2))
    sites = rng.uniform(0, 900, size=(n_sites, 2))
    ex = rng.uniform(0, 900, size=(existing, 2))
    ex_type = rng.choice(list(types), size=existing)
    people = rng.integers(0, 30, size=(n_points, 2))
    cost = rng.integers(1, 8, size=(n_sites, 3)).astype(float) * 100.0
    cost[rng.random((n_sites, 3)) < 0.25] = np.nan
    cost[np.isnan(cost).all(axis=1), 0] = 300.0
    budget = float(np.nanmean(cost) * n_sites * 0.35)
    full = {"station": 2.0, "canteen": 1.0, "school": 0.0}

    lines = [f"name: per-service {seed}", "crs: EPSG:4545", "circle_type: other", f"budget: {budget}",
             f"coverage: {coverage}", "walking:", "  speed_m_s: 1.0", "  group_speed_m_s: {elderly: 0.8}",
             "  detour_factor: 1.0", f"groups: {{elderly: {groups['elderly']}, children: {groups['children']}}}",
             "facility_types:"]
    for k, (serves, minutes, w) in types.items():
        extra = f", decay: {{shape: linear, full_minutes: {full[k]}, zero_minutes: {minutes}}}" if decay else ""
        weight = f", weight: {w}" if coverage == "per_service" else ""
        lines.append(f"  {k}: {{serves: [{', '.join(serves)}], walk_minutes: {minutes}{weight}{extra}}}")
    lines += ["demand: demand.csv", "sites: sites.csv", "existing: existing.csv"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["id,x,y,elderly,children"] + [f"D{i},{X0 + x:.3f},{Y0 + y:.3f},{a},{b}"
                                           for i, ((x, y), (a, b)) in enumerate(zip(pts, people))]
    (folder / "demand.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    def cell(v):
        return "" if np.isnan(v) else f"{v:g}"

    rows = ["id,name,kind,x,y,cost_station,cost_canteen,cost_school"] + [
        f"S{j},site {j},other,{X0 + x:.3f},{Y0 + y:.3f},{','.join(cell(v) for v in cost[j])}"
        for j, (x, y) in enumerate(sites)]
    (folder / "sites.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = ["id,type,x,y"] + [f"E{e},{t},{X0 + x:.3f},{Y0 + y:.3f}" for e, ((x, y), t) in enumerate(zip(ex, ex_type))]
    (folder / "existing.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # the coordinates as the files hold them (3 decimals), so distances match the reader's
    rd = lambda a: np.round(a, 3)  # noqa: E731
    return {"groups": groups, "speed": speed, "types": types, "pts": rd(pts), "sites": rd(sites), "ex": rd(ex),
            "ex_type": ex_type, "people": people.astype(float), "cost": cost, "budget": budget,
            "decay": decay, "full": full, "path": folder / "scenario.yaml"}


def _weight(minutes: np.ndarray, zero: float, full: float, decay: bool) -> np.ndarray:
    """Step: 1 within reach. Linear: 1 up to ``full``, then (zero - t) / (zero - full), 3 decimals."""
    inside = minutes <= zero
    if not decay:
        return inside.astype(float)
    w = np.where(minutes <= full, 1.0, (zero - minutes) / (zero - full))
    return np.where(inside, np.round(w, 3), 0.0)


def per_service_value(raw: dict, opened) -> float:
    """Σ_k Σ_g w_g · w_k · Σ_i people(i, g) · best weight of type k at i (open or existing)."""
    pts, value = raw["pts"], 0.0
    for t, (k, (serves, minutes, w_k)) in enumerate(raw["types"].items()):
        here = [raw["sites"][j] for j, kk in opened if kk == t] + [e for e, et in zip(raw["ex"], raw["ex_type"]) if et == k]
        if not here:
            continue
        at = np.asarray(here)
        dist = np.hypot(pts[:, None, 0] - at[None, :, 0], pts[:, None, 1] - at[None, :, 1])
        for g_idx, g in enumerate(("elderly", "children")):
            if g not in serves:
                continue
            minutes_walked = dist / raw["speed"][g] / 60.0
            best = _weight(minutes_walked, minutes, raw["full"][k], raw["decay"]).max(axis=1)
            value += raw["groups"][g] * w_k * float((raw["people"][:, g_idx] * best).sum())
    return value


def brute_force_per_service(raw: dict) -> tuple[float, list]:
    """(best per-service value, one best plan as [(site, type index)]) over every plan in budget."""
    cost = raw["cost"]
    options = [[None] + [t for t in range(cost.shape[1]) if np.isfinite(cost[j, t])] for j in range(cost.shape[0])]
    best, best_plan = None, None
    for plan in itertools.product(*options):
        opened = [(j, t) for j, t in enumerate(plan) if t is not None]
        if sum(cost[j, t] for j, t in opened) > raw["budget"] + 1e-9:
            continue
        value = per_service_value(raw, opened)
        if best is None or value > best + 1e-9:
            best, best_plan = value, opened
    return best, best_plan
