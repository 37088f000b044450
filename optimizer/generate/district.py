"""Seeded generator of realistic synthetic district scenarios.

`generate_district` writes a complete scenario folder (``scenario.yaml``, ``demand.csv``,
``sites.csv``, ``existing.csv`` and a ``README.md`` recording the call) for one of three
Chongqing district profiles. Everything is built from whole numpy arrays, so a district with
100,000 demand points and 10,000 sites takes a few seconds, and the same arguments always give
the same bytes (for a given numpy version: numpy does not promise identical ``Generator``
streams across feature releases).

Population groups
-----------------
Each demand point is a residential building or small block. Its residents are drawn from a
lognormal distribution, then split into ``elderly`` (aged 60+), ``infants`` (0-3) and
``children`` (3-12) by a chain of binomial draws, with each housing cluster's shares varying
around the profile's (cluster multiplier ``exp(N(0, 0.25))``). Shares per profile follow the
facts in DOMAIN.md: Chongqing is older than China as a whole (60+ about 22 % in the 2020
census), old districts and hollowed-out villages older still, new towns young.

Unit costs (illustrative)
-------------------------
The base costs per site kind, the multipliers on them and which facility types a site of each
kind may host are tabled in the docstring of :mod:`lifecircle.optimizer.generate.profiles`
(``BASE_COST_CNY``, ``ALLOWED_PROB``); the bundled README files point here.

The bundled districts in ``scenarios/`` are made by ``write_bundled`` (``python -m
lifecircle.optimizer.generate --bundled scenarios``) from the calls in ``BUNDLED``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.spatial import cKDTree

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.generate.profiles import (
    ALLOWED_PROB,
    BASE_COST_CNY,
    BUDGET_ROUND_CNY,
    CLUSTER_SHARE_SIGMA,
    COST_ROUND_CNY,
    CRS_TEXT,
    FACILITY_LABELS,
    FACILITY_TYPES,
    GROUPS,
    MAX_DEMAND_POINTS,
    MAX_SITES,
    NUMBERED_KINDS,
    PROFILES,
    RESIDENTS_PER_SITE,
    SITE_KINDS,
    SITE_SIZE_SIGMA,
    TYPE_COST_SIGMA,
    Profile,
)

__all__ = ["BUNDLED", "check_count", "generate_district", "write_bundled"]

# The bundled districts in scenarios/: folder name -> generate_district keyword arguments.
BUNDLED = {
    # Budgets below what full coverage costs (about 11.6 and 8.1 million), so they force choices.
    "yuzhong_hillside": {"profile": "hillside", "n_demand": 4000, "n_sites": 160,
                         "n_existing": 4, "seed": 101, "budget_cny": 6_000_000},
    "liangjiang_newtown": {"profile": "newtown", "n_demand": 3000, "n_sites": 120,
                           "n_existing": 2, "seed": 202, "budget_cny": 5_000_000},
    # Its budget was the old default (15 % of the summed cheapest site costs), pinned when the
    # default became a share of full coverage's cost (issue 14), so the bundled data stay put.
    "bishan_rural": {"profile": "rural", "n_demand": 1800, "n_sites": 70,
                     "n_existing": 1, "seed": 303, "budget_cny": 8_300_000},
}


def generate_district(
    out_dir,
    *,
    profile="hillside",
    n_demand=None,
    n_sites=None,
    n_existing=None,
    seed=0,
    budget_cny=None,
    name=None,
    profile_overrides=None,
    write_in_place=False,
) -> Path:
    """Write a synthetic district scenario folder and return its ``scenario.yaml`` path.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder to write. It must be missing, empty, or a scenario folder that ``generate`` wrote
        (its ``.lifecircle.json`` marker lists every file, unchanged); anything else is refused
        with :class:`~optimizer.errors.ScenarioError`. The folder appears whole or not at all.
    profile : {"hillside", "newtown", "rural"}
        District profile, see the module docstring and ``PROFILES``.
    n_demand, n_sites, n_existing : int, optional
        Numbers of demand points, candidate sites and existing facilities; the profile's
        defaults when None. Above the default ``n_demand`` the district's outline, cluster count
        and bridge count grow with ``sqrt(n_demand / default)``, so density stays realistic.
    seed : int
        Seed of the random stream. Demand, sites and existing facilities use independent child
        streams, so changing ``n_sites`` leaves the demand points unchanged.
    budget_cny : int, optional
        Budget in CNY; by default the profile's share of the summed cheapest allowed site costs.
    name : str, optional
        Scenario name; the profile's when None.
    profile_overrides : dict, optional
        Replacement values for fields of the :class:`Profile` (for example ``centre_x_m`` and
        ``half_width_m`` to place a small circle in a city; see :func:`generate_city`). They are
        recorded in README.md. None leaves the output byte for byte as before.
    write_in_place : bool
        Write the five files straight into ``out_dir`` (created if missing), replacing files of
        those names, with no marker: for :func:`write_bundled` (the repository's own bundled
        folders) and for circles inside :func:`generate_city`'s own temporary folder.

    Returns
    -------
    pathlib.Path
        Path of the written ``scenario.yaml``. Next to it: ``demand.csv``, ``sites.csv``,
        ``existing.csv`` and ``README.md``.

    Raises
    ------
    ValueError
        Unknown profile. :class:`~optimizer.errors.ScenarioError` (a ValueError) for a size or
        budget that is negative (or zero for demand and sites), not finite, or above
        ``MAX_DEMAND_POINTS`` / ``MAX_SITES``.
    """
    if profile not in PROFILES:
        raise ValueError(
            f"generate_district: unknown profile {profile!r}; use one of {sorted(PROFILES)}"
        )
    prof = PROFILES[profile]
    if profile_overrides:
        unknown = sorted(set(profile_overrides) - set(Profile.__dataclass_fields__))
        if unknown:
            raise ValueError(f"generate_district: unknown profile field(s) {unknown} in profile_overrides")
        prof = replace(prof, **profile_overrides)
    n_demand = check_count("n_demand", prof.n_demand if n_demand is None else n_demand, minimum=1,
                           maximum=MAX_DEMAND_POINTS)
    # Defaults (issue 14, scenarios/FORMAT.md): one candidate site per RESIDENTS_PER_SITE expected
    # residents (DOMAIN.md: one per 300-3,000), existing facilities in proportion to population.
    if n_sites is None:
        n_sites = max(1, round(n_demand * prof.residents_mean / RESIDENTS_PER_SITE))
    if n_existing is None:
        n_existing = round(prof.n_existing * n_demand / prof.n_demand)
    n_sites = check_count("n_sites", n_sites, minimum=1, maximum=MAX_SITES)
    n_existing = check_count("n_existing", n_existing, minimum=0, maximum=MAX_SITES)
    if budget_cny is not None and not (math.isfinite(budget_cny) and budget_cny >= 0):
        raise ScenarioError(f"generate_district: budget_cny={budget_cny} must be a finite number >= 0")

    rng_demand, rng_sites, rng_existing = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    scale = max(1.0, math.sqrt(n_demand / prof.n_demand))
    demand = _demand(prof, n_demand, scale, rng_demand)
    sites = _sites(prof, n_sites, scale, demand, rng_sites)
    existing = _existing(n_existing, demand, rng_existing)

    call = {"profile": profile, "n_demand": n_demand, "n_sites": n_sites,
            "n_existing": n_existing, "seed": seed}
    if profile_overrides:
        call["profile_overrides"] = dict(profile_overrides)
    # The default budget is a share of full coverage's cost, measured on the written folder
    # (budget.py); a city's circles keep their share of the cheapest site costs.
    share_of_full = budget_cny is None and "budget_share" not in (profile_overrides or {})
    if budget_cny is None:
        cheapest_cny = sites[[f"cost_{k}" for k in FACILITY_TYPES]].min(axis=1).sum()
        budget_cny = round(prof.budget_share * cheapest_cny / BUDGET_ROUND_CNY) * BUDGET_ROUND_CNY
    else:
        call["budget_cny"] = int(budget_cny)
    budget_cny = int(budget_cny)
    if name is not None:
        call["name"] = name

    def write(folder: Path) -> Path:
        path = _write_district(folder, prof, profile, call, name, budget_cny, demand, sites, existing)
        if share_of_full:
            from lifecircle.optimizer.generate.budget import FULL_COVERAGE_SHARE, full_coverage_cost

            full_cny = full_coverage_cost(path)
            budget = max(BUDGET_ROUND_CNY, round(FULL_COVERAGE_SHARE * full_cny / BUDGET_ROUND_CNY)
                         * BUDGET_ROUND_CNY)
            path.write_text(_scenario_yaml(prof, profile, name or prof.name, budget), encoding="utf-8")
            readme = _readme(prof, call, name or prof.name, budget, demand, sites, existing)
            readme += (f"- Default budget: {FULL_COVERAGE_SHARE:.0%} of {full_cny:,.0f} CNY, the cost of a "
                       "cheap plan covering everyone the sites can reach (optimizer/generate/budget.py).\n")
            (folder / "README.md").write_text(readme, encoding="utf-8")
        return path

    if write_in_place:
        return write(Path(out_dir))
    from lifecircle.optimizer.files import atomic_folder

    # Whole or not at all, and never over a folder of the user's (issue 12): OUT_DIR must be
    # missing, empty, or a scenario folder generate wrote and nobody changed since.
    with atomic_folder(out_dir, option="OUT_DIR", kind="scenario") as tmp:
        write(tmp)
    return Path(out_dir) / "scenario.yaml"


def _write_district(out: Path, prof, profile, call, name, budget_cny, demand, sites, existing) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    csv_options = {"index": False, "lineterminator": "\n", "float_format": "%.1f"}
    demand.to_csv(out / "demand.csv", **csv_options)
    sites.to_csv(out / "sites.csv", **csv_options)
    existing.to_csv(out / "existing.csv", **csv_options)
    scenario_path = out / "scenario.yaml"
    scenario_path.write_text(
        _scenario_yaml(prof, profile, name or prof.name, budget_cny), encoding="utf-8"
    )
    (out / "README.md").write_text(
        _readme(prof, call, name or prof.name, budget_cny, demand, sites, existing),
        encoding="utf-8",
    )
    return scenario_path


def write_bundled(scenarios_dir) -> list:
    """Regenerate every bundled district of ``BUNDLED`` under ``scenarios_dir``.

    Parameters
    ----------
    scenarios_dir : str or os.PathLike
        Parent folder; each district goes into a sub-folder named as in ``BUNDLED``, whose
        five generated files (scenario.yaml, demand.csv, sites.csv, existing.csv, README.md)
        are replaced in place: this is the repository's own data, which the generator made.

    Returns
    -------
    list of pathlib.Path
        The written ``scenario.yaml`` paths, in ``BUNDLED`` order.
    """
    return [generate_district(Path(scenarios_dir) / folder, write_in_place=True, **kwargs)
            for folder, kwargs in BUNDLED.items()]


def check_count(field, value, *, minimum, maximum=None):
    """A size argument as an int, or a one-line ScenarioError naming it.

    Parameters
    ----------
    field : str
        The argument's name, for the message.
    value : int or float
        The value given; a float must be a whole number.
    minimum, maximum : int
        Inclusive bounds (no upper bound when ``maximum`` is None).

    Returns
    -------
    int
    """
    if not isinstance(value, (int, np.integer)) and not (isinstance(value, float) and value.is_integer()):
        raise ScenarioError(f"generate_district: {field}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ScenarioError(f"generate_district: {field}={value!r} must be an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise ScenarioError(f"generate_district: {field}={value!r} is above the limit of {maximum:,}")
    return int(value)


def _ellipse_points(rng, n, half_width_m, half_height_m):
    """Uniform points in an axis-aligned ellipse centred on the origin, shape (n, 2)."""
    radius = np.sqrt(rng.random(n))
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.column_stack((half_width_m * radius * np.cos(angle),
                            half_height_m * radius * np.sin(angle)))


def _demand(prof, n_demand, scale, rng):
    """Clustered demand points with integer group counts, as the demand.csv table."""
    half_w, half_h = prof.half_width_m * scale, prof.half_height_m * scale
    n_clusters = max(1, round(prof.n_clusters * scale**2))

    centres_m = _ellipse_points(rng, n_clusters, 0.8 * half_w, 0.8 * half_h)
    weights = rng.dirichlet(np.full(n_clusters, 2.0))
    n_scattered = int(round(prof.scatter_share * n_demand))
    per_cluster = rng.multinomial(n_demand - n_scattered, weights)
    cluster = np.repeat(np.arange(n_clusters), per_cluster)

    lo_m, hi_m = prof.cluster_radius_m
    axes_m = rng.uniform(lo_m, hi_m, (n_clusters, 2))
    heading = rng.uniform(0.0, np.pi, n_clusters)
    n_clustered = cluster.size
    if prof.cluster_shape == "block":
        local = rng.uniform(-1.0, 1.0, (n_clustered, 2)) * axes_m[cluster]
    else:
        local = rng.standard_normal((n_clustered, 2)) * axes_m[cluster]
    cos, sin = np.cos(heading[cluster]), np.sin(heading[cluster])
    clustered_m = centres_m[cluster] + np.column_stack(
        (cos * local[:, 0] - sin * local[:, 1], sin * local[:, 0] + cos * local[:, 1])
    )
    scattered_m = _ellipse_points(rng, n_scattered, half_w, half_h)
    xy_m = np.vstack((clustered_m, scattered_m))

    # Scattered points get no cluster of their own: their shares are the profile means.
    share_factor = np.exp(rng.normal(0.0, CLUSTER_SHARE_SIGMA, (n_clusters + 1, 2)))
    share_factor[-1] = 1.0
    point_cluster = np.concatenate((cluster, np.full(n_scattered, n_clusters)))
    p_elderly = prof.share_elderly * share_factor[point_cluster, 0]
    p_infants = prof.share_infants * share_factor[point_cluster, 1]
    p_children = prof.share_children * share_factor[point_cluster, 1]
    total = p_elderly + p_infants + p_children
    shrink = np.minimum(1.0, 0.9 / total)
    p_elderly, p_infants, p_children = p_elderly * shrink, p_infants * shrink, p_children * shrink

    mu = math.log(prof.residents_mean) - prof.residents_sigma**2 / 2.0
    residents = np.maximum(1, np.rint(rng.lognormal(mu, prof.residents_sigma, n_demand)))
    residents = residents.astype(np.int64)
    elderly = rng.binomial(residents, p_elderly)
    rest = residents - elderly
    infants = rng.binomial(rest, p_infants / (1.0 - p_elderly))
    rest = rest - infants
    children = rng.binomial(rest, np.minimum(1.0, p_children / (1.0 - p_elderly - p_infants)))

    return pd.DataFrame({
        "id": _ids("d", n_demand),
        "x": np.round(prof.centre_x_m + xy_m[:, 0], 1),
        "y": np.round(prof.centre_y_m + xy_m[:, 1], 1),
        "elderly": elderly.astype(np.int64),
        "infants": infants.astype(np.int64),
        "children": children.astype(np.int64),
    })


def _sites(prof, n_sites, scale, demand, rng):
    """Candidate sites with kinds, Chinese names and per-type costs, as the sites.csv table."""
    kind_index = rng.choice(len(SITE_KINDS), size=n_sites, p=np.asarray(prof.kind_weights))
    kind = np.asarray(SITE_KINDS, dtype=object)[kind_index]
    is_bridge = kind == "under_bridge"

    # Under-bridge sites lie along a few straight bridges or viaducts; the rest sit next to
    # housing (a random demand point, so sites follow population density).
    half_w, half_h = prof.half_width_m * scale, prof.half_height_m * scale
    n_bridges = max(1, round(prof.n_bridges * scale**2))
    bridge_mid_m = _ellipse_points(rng, n_bridges, 0.9 * half_w, 0.9 * half_h)
    bridge_heading = rng.uniform(0.0, np.pi, n_bridges)
    bridge_half_len_m = rng.uniform(300.0, 800.0, n_bridges)
    bridge = rng.integers(0, n_bridges, n_sites)
    along_m = rng.uniform(-1.0, 1.0, n_sites) * bridge_half_len_m[bridge]
    bridge_xy_m = bridge_mid_m[bridge] + along_m[:, None] * np.column_stack(
        (np.cos(bridge_heading[bridge]), np.sin(bridge_heading[bridge]))
    ) + rng.normal(0.0, 10.0, (n_sites, 2))

    demand_xy_m = demand[["x", "y"]].to_numpy() - (prof.centre_x_m, prof.centre_y_m)
    near = rng.integers(0, len(demand), n_sites)
    housing_xy_m = demand_xy_m[near] + rng.normal(0.0, prof.site_jitter_m, (n_sites, 2))
    xy_m = np.where(is_bridge[:, None], bridge_xy_m, housing_xy_m)

    # Each place name is anchored at a populated spot and names the sites nearest to it.
    n_places = len(prof.places)
    anchors = rng.choice(len(demand), size=n_places, replace=len(demand) < n_places)
    _, place = cKDTree(demand_xy_m[anchors]).query(xy_m)
    prefix = np.where(is_bridge,
                      np.asarray(prof.bridges, dtype=object)[bridge % len(prof.bridges)],
                      np.asarray(prof.places, dtype=object)[place])
    ending = np.empty(n_sites, dtype=object)
    for k in SITE_KINDS:  # a loop over the five kinds, not over sites
        mask = kind == k
        options = np.asarray(prof.templates[k], dtype=object)
        ending[mask] = options[rng.integers(0, options.size, int(mask.sum()))]
    base = pd.Series(prefix + ending)
    number = base.groupby(base).cumcount().to_numpy() + 1
    repeated = base.map(base.value_counts()).to_numpy() > 1
    numbered = np.isin(kind, NUMBERED_KINDS) | repeated
    suffix = np.where(numbered, pd.Series(number).astype(str).to_numpy(dtype=object) + "号", "")
    names = (base.to_numpy(dtype=object) + suffix).astype(str)

    base_cost_cny = np.array([BASE_COST_CNY[k] for k in SITE_KINDS])[kind_index]
    allowed_prob = np.array([ALLOWED_PROB[k] for k in SITE_KINDS])[kind_index]
    allowed = rng.random((n_sites, len(FACILITY_TYPES))) < allowed_prob
    none_allowed = ~allowed.any(axis=1)
    preferred = np.argmax(allowed_prob, axis=1)
    allowed[none_allowed, preferred[none_allowed]] = True
    site_factor = np.exp(rng.normal(0.0, SITE_SIZE_SIGMA, (n_sites, 1)))
    type_factor = np.exp(rng.normal(0.0, TYPE_COST_SIGMA, (n_sites, len(FACILITY_TYPES))))
    cost_cny = prof.cost_factor * base_cost_cny * site_factor * type_factor
    cost_cny = np.rint(cost_cny / COST_ROUND_CNY) * COST_ROUND_CNY
    cost_cny = np.where(allowed, cost_cny, np.nan)

    table = pd.DataFrame({
        "id": _ids("s", n_sites),
        "name": names,
        "kind": kind.astype(str),
        "x": np.round(prof.centre_x_m + xy_m[:, 0], 1),
        "y": np.round(prof.centre_y_m + xy_m[:, 1], 1),
    })
    for col, k in enumerate(FACILITY_TYPES):
        table[f"cost_{k}"] = pd.array(cost_cny[:, col], dtype="Int64")
    return table


def _existing(n_existing, demand, rng):
    """Existing facilities next to populated spots, as the existing.csv table."""
    near = rng.choice(len(demand), size=n_existing, replace=len(demand) < n_existing)
    xy_m = demand[["x", "y"]].to_numpy()[near] + rng.normal(0.0, 30.0, (n_existing, 2))
    kind = np.asarray(FACILITY_TYPES)[rng.integers(0, len(FACILITY_TYPES), n_existing)]
    return pd.DataFrame({
        "id": _ids("e", n_existing),
        "type": kind.astype(str),
        "x": np.round(xy_m[:, 0], 1),
        "y": np.round(xy_m[:, 1], 1),
    })


def _ids(prefix, n):
    """Zero-padded ids ``prefix0001``..., wide enough for n (at least 4 digits)."""
    width = max(4, len(str(n)))
    if n == 0:  # np.char.zfill fails on an empty array (n_existing=0)
        return np.zeros(0, dtype=f"<U{width + len(prefix)}")
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _scenario_yaml(prof, profile, name, budget_cny):
    labels = FACILITY_LABELS[prof.language]
    doc = {
        "name": name,
        "crs": prof.crs,
        "circle_type": prof.circle_type,
        "budget": budget_cny,
        "language": prof.language,
        "coverage": "per_service",  # issue 14: a circle lacking a canteen needs one (缺啥补啥)
        "walking": {
            "speed_m_s": prof.walk_speed_m_s,
            "group_speed_m_s": {"elderly": prof.elderly_speed_m_s},
            "detour_factor": prof.detour_factor,
        },
        "groups": {"elderly": 1.0, "infants": 1.0, "children": 0.5},
        "facility_types": {
            "elder_child": {"label": labels["elder_child"], "serves": list(GROUPS),
                            "walk_minutes": 15},
            "canteen": {"label": labels["canteen"], "serves": ["elderly"], "walk_minutes": 10},
        },
        "demand": "demand.csv",
        "sites": "sites.csv",
        "existing": "existing.csv",
        "rules": {"must_open": {}, "forbid": [], "min_open": {}},
    }
    header = (
        f"# Synthetic district made by optimizer.generate (profile {profile}); see README.md.\n"
        f"# crs {prof.crs}: {CRS_TEXT[prof.crs]}; x east, y north, metres.\n"
        "# Budget and site costs are in CNY and illustrative, not real conversion costs.\n"
    )
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=None,
                          width=100)
    return header + body


def _readme(prof, call, name, budget_cny, demand, sites, existing):
    args = ", ".join(f"{k}={v!r}" for k, v in call.items())
    residents = demand[list(GROUPS)].sum()
    kinds = sites["kind"].value_counts().reindex(SITE_KINDS, fill_value=0)
    kind_text = ", ".join(f"{k} {n}" for k, n in kinds.items())
    allowed = {k: int(sites[f"cost_{k}"].notna().sum()) for k in FACILITY_TYPES}
    return (
        f"# {name}\n\n"
        "Synthetic district generated by `optimizer/generate/district.py`; no real people or sites.\n\n"
        "```python\n"
        "from lifecircle.optimizer.generate import generate_district\n"
        f"generate_district(out_dir, {args})\n"
        "```\n\n"
        "`python -m lifecircle.optimizer.generate --bundled scenarios` regenerates every bundled district; "
        "`tests/inputs/test_generate.py` checks these files match it byte for byte.\n\n"
        f"- CRS: {prof.crs} ({CRS_TEXT[prof.crs]}); x east, y north, metres.\n"
        f"- Circle type: {prof.circle_type}. Budget: {budget_cny:,} CNY.\n"
        f"- {len(demand):,} demand points: {int(residents['elderly']):,} elderly (60+), "
        f"{int(residents['infants']):,} infants (0-3), {int(residents['children']):,} "
        "children (3-12).\n"
        f"- {len(sites)} candidate sites ({kind_text}); elder_child allowed on "
        f"{allowed['elder_child']}, canteen on {allowed['canteen']}.\n"
        f"- {len(existing)} existing facilities.\n"
        "- **Costs are illustrative**: base costs per site kind in the docstring of "
        "`optimizer/generate/district.py`, not published figures.\n"
    )
