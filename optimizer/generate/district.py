"""Seeded generator of realistic synthetic district scenarios.

`generate_district` writes a complete scenario folder (``scenario.yaml``, ``demand.csv``,
``sites.csv``, ``existing.csv`` and a ``README.md`` recording the call) for one of three
Chongqing district profiles. Everything is built from whole numpy arrays, so a district with
100,000 demand points and 10,000 sites takes a few seconds, and the same arguments always give
the same bytes (for a given numpy version: numpy does not promise identical ``Generator``
streams across feature releases).

Profiles
--------
``hillside``
    Dense old hillside district modelled on Yuzhong (渝中区), centred near 106.57°E 29.56°N.
    Elongated east-west like the Yuzhong peninsula, organic Gaussian housing clusters, an old
    population (about 27 % aged 60+), many under-bridge spaces and vacant community rooms.
``newtown``
    New residential district modelled on the Liangjiang New Area (两江新区) near 106.60°E
    29.70°N. Rectangular gated compounds, young families (more infants and children), more idle
    land and property-management rooms.
``rural``
    Rural life circle modelled on Bishan (璧山区) near 106.20°E 29.60°N. Small scattered
    villages plus isolated farmhouses, an aged resident population, mostly idle collective land.

Coordinates
-----------
Both city profiles use EPSG:4545 (CGCS2000 3-degree Gauss-Krüger, central meridian 108°E,
false easting 500,000 m, no zone prefix); Bishan lies west of 106.5°E, so the rural profile uses
EPSG:4544 (central meridian 105°E, false easting 500,000 m). x is easting and y northing, in
metres. The profile centres were computed once with pyproj from CGCS2000 (EPSG:4490)
longitude/latitude and are hard-coded in ``PROFILES``.

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
No published conversion costs exist (see DOMAIN.md), so these are **illustrative** base costs
in CNY per site, before a per-site size/condition multiplier ``exp(N(0, 0.3))`` (shared by both
types at a site, times an independent ``exp(N(0, 0.1))`` per type) and a profile factor
(hillside 1.1 for hauling materials up stairs and slopes, newtown 1.0, rural 0.75). Costs are
rounded to 1,000 CNY.

==============  ===============  ===========  ==================================================
kind            elder_child      canteen      why
==============  ===============  ===========  ==================================================
vacant_room     600,000          450,000      interior fit-out only; cheapest
under_bridge    not allowed      800,000      enclosure, roof, weather-proofing, drainage, power
idle_land       1,800,000        1,300,000    new light-steel building and utility connections
corner_plot     1,200,000        900,000      small prefabricated building on a tight plot
other           900,000          700,000      converting a non-residential structure
==============  ===============  ===========  ==================================================

An elder-child station (老幼共托服务站) needs more floor area and child-safety fit-out than a
community canteen (社区食堂), hence the higher costs. Not every site can host every type
(a blank cost in ``sites.csv``): under-bridge spaces never host childcare (exhaust, noise, no
daylight), and a type is allowed on a site of a given kind with probability

==============  ===========  =======  =========================================================
kind            elder_child  canteen  why
==============  ===========  =======  =========================================================
vacant_room     0.85         0.60     a canteen needs a flue and kitchen ventilation
under_bridge    0.00         0.75
idle_land       0.90         0.90
corner_plot     0.50         0.80     small plots rarely fit a childcare station
other           0.70         0.60
==============  ===========  =======  =========================================================

A site that draws neither type gets the type more likely for its kind. The default budget is a
profile share (12-15 %) of the sum of every site's cheapest allowed cost, rounded to
100,000 CNY: enough for a dozen or more sites, far from all of them.

The bundled districts in ``scenarios/`` are made by ``write_bundled`` (``python -m
optimizer.generate --bundled scenarios``) from the calls in ``BUNDLED``.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.spatial import cKDTree

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.recipes import load_recipes

__all__ = ["BUNDLED", "PROFILES", "Profile", "generate_city", "generate_district", "write_bundled"]

SITE_KINDS = ("under_bridge", "vacant_room", "idle_land", "corner_plot", "other")
FACILITY_TYPES = ("elder_child", "canteen")
GROUPS = ("elderly", "infants", "children")

# Base cost (CNY) per kind, columns in FACILITY_TYPES order; nan = never allowed.
BASE_COST_CNY = {
    "vacant_room": (600_000.0, 450_000.0),
    "under_bridge": (math.nan, 800_000.0),
    "idle_land": (1_800_000.0, 1_300_000.0),
    "corner_plot": (1_200_000.0, 900_000.0),
    "other": (900_000.0, 700_000.0),
}
# Probability that a facility type is allowed on a site of each kind (FACILITY_TYPES order).
ALLOWED_PROB = {
    "vacant_room": (0.85, 0.60),
    "under_bridge": (0.00, 0.75),
    "idle_land": (0.90, 0.90),
    "corner_plot": (0.50, 0.80),
    "other": (0.70, 0.60),
}
SITE_SIZE_SIGMA = 0.3
TYPE_COST_SIGMA = 0.1
CLUSTER_SHARE_SIGMA = 0.25
COST_ROUND_CNY = 1_000
BUDGET_ROUND_CNY = 100_000
# Size limits of one district, checked before anything is drawn. 1,000,000 demand points (a
# building or block each: several cities' worth) take about 17 s and 0.5 GB; beyond that the
# arrays alone would exhaust a desktop's memory. More people belong in a city (--city).
MAX_DEMAND_POINTS = 1_000_000
MAX_SITES = 1_000_000
# A city of circles: ten Chongqings at most (each circle is a folder of files).
MAX_CIRCLES = 10_000

CRS_TEXT = {
    "EPSG:4545": "CGCS2000 3-degree Gauss-Kruger, central meridian 108E, false easting 500000 m",
    "EPSG:4544": "CGCS2000 3-degree Gauss-Kruger, central meridian 105E, false easting 500000 m",
}
FACILITY_LABELS = {
    "zh": {"elder_child": "老幼共托服务站", "canteen": "社区食堂"},
    "en": {"elder_child": "elder-child care station", "canteen": "community canteen"},
}


@dataclass(frozen=True)
class Profile:
    """Everything that makes one kind of district look the way it does.

    Attributes
    ----------
    crs : str
        EPSG code of the projected CRS the coordinates are in.
    centre_x_m, centre_y_m : float
        District centre in that CRS, metres.
    half_width_m, half_height_m : float
        Semi-axes of the elliptical district outline (east-west, north-south).
    n_demand, n_sites, n_existing : int
        Default sizes.
    n_clusters : int
        Housing clusters (old neighbourhoods, compounds or villages) at the default size.
    cluster_shape : str
        ``"gaussian"`` (organic, anisotropic) or ``"block"`` (uniform in a rotated rectangle).
    cluster_radius_m : tuple of float
        Range of a cluster's semi-axes (Gaussian sigma or half side), metres.
    scatter_share : float
        Share of demand points scattered uniformly over the district (isolated houses).
    residents_mean, residents_sigma : float
        Lognormal residents per demand point: mean and log-scale spread.
    share_elderly, share_infants, share_children : float
        Mean population shares of the three groups.
    kind_weights : tuple of float
        Probabilities of each site kind, in ``SITE_KINDS`` order.
    site_jitter_m : float
        Spread of a non-bridge site around the demand point it is placed next to.
    n_bridges : int
        Bridges or viaducts whose undersides give under-bridge sites, at the default size.
    cost_factor : float
        Multiplier on every base cost.
    budget_share : float
        Default budget as a share of the summed cheapest allowed cost of all sites.
    circle_type, language : str
        Scenario fields.
    walk_speed_m_s, elderly_speed_m_s, detour_factor : float
        Walking parameters written into the scenario.
    name : str
        Default scenario name.
    places : tuple of str
        Community (or village) names; each becomes an anchor at a populated spot and names the
        sites nearest to it.
    bridges : tuple of str
        Bridge and viaduct names for under-bridge sites.
    templates : dict
        For each site kind, the name endings a site of that kind draws from.
    """

    crs: str
    centre_x_m: float
    centre_y_m: float
    half_width_m: float
    half_height_m: float
    n_demand: int
    n_sites: int
    n_existing: int
    n_clusters: int
    cluster_shape: str
    cluster_radius_m: tuple
    scatter_share: float
    residents_mean: float
    residents_sigma: float
    share_elderly: float
    share_infants: float
    share_children: float
    kind_weights: tuple
    site_jitter_m: float
    n_bridges: int
    cost_factor: float
    budget_share: float
    circle_type: str
    language: str
    walk_speed_m_s: float
    elderly_speed_m_s: float
    detour_factor: float
    name: str
    places: tuple
    bridges: tuple
    templates: dict


# Kinds whose names always carry a number ("...桥下空间3号"); others only when repeated.
NUMBERED_KINDS = ("under_bridge", "idle_land", "corner_plot")

PROFILES = {
    "hillside": Profile(
        crs="EPSG:4545",
        # pyproj EPSG:4490 -> EPSG:4545 of (106.57E, 29.56N), Jiefangbei area of Yuzhong.
        centre_x_m=361412.6,
        centre_y_m=3272193.3,
        half_width_m=2000.0,
        half_height_m=900.0,
        n_demand=4000,
        n_sites=160,
        n_existing=4,
        n_clusters=14,
        cluster_shape="gaussian",
        cluster_radius_m=(100.0, 350.0),
        scatter_share=0.03,
        residents_mean=20.0,
        residents_sigma=0.6,
        share_elderly=0.27,
        share_infants=0.022,
        share_children=0.085,
        kind_weights=(0.30, 0.35, 0.08, 0.15, 0.12),
        site_jitter_m=60.0,
        n_bridges=6,
        cost_factor=1.1,
        budget_share=0.12,
        circle_type="residential",
        language="zh",
        walk_speed_m_s=1.0,
        elderly_speed_m_s=0.8,
        detour_factor=1.4,
        name="渝中区 解放碑—七星岗山地老城15分钟生活圈（合成数据）",
        places=(
            "解放碑", "较场口", "七星岗", "两路口", "上清寺", "大坪", "化龙桥", "石油路",
            "大溪沟", "菜园坝", "朝天门", "南纪门", "望龙门", "储奇门", "鹅岭", "佛图关",
            "李子坝", "枇杷山", "人和街", "民生路", "黄花园", "马家堡",
        ),
        bridges=(
            "黄花园大桥", "嘉陵江大桥", "千厮门大桥", "东水门大桥", "菜园坝长江大桥",
            "石板坡长江大桥", "李子坝轻轨高架", "牛角沱立交", "两路口立交", "大坪立交",
        ),
        templates={
            "under_bridge": ("桥下空间",),
            "vacant_room": ("社区闲置用房", "社区居委会闲置用房", "小区物业闲置用房",
                            "社区活动室闲置房"),
            "idle_land": ("闲置用地",),
            "corner_plot": ("边角地", "梯坎边角地", "坡地边角地"),
            "other": ("原菜市场闲置空间", "原幼儿园闲置教室", "小区架空层", "老厂房闲置空间",
                      "原人防工程"),
        },
    ),
    "newtown": Profile(
        crs="EPSG:4545",
        # pyproj EPSG:4490 -> EPSG:4545 of (106.60E, 29.70N), Lijia area of Liangjiang.
        centre_x_m=364507.9,
        centre_y_m=3287678.7,
        half_width_m=1800.0,
        half_height_m=1500.0,
        n_demand=3000,
        n_sites=120,
        n_existing=2,
        n_clusters=12,
        cluster_shape="block",
        cluster_radius_m=(120.0, 300.0),
        scatter_share=0.02,
        residents_mean=25.0,
        residents_sigma=0.5,
        share_elderly=0.12,
        share_infants=0.05,
        share_children=0.15,
        kind_weights=(0.10, 0.35, 0.25, 0.20, 0.10),
        site_jitter_m=80.0,
        n_bridges=4,
        cost_factor=1.0,
        budget_share=0.12,
        circle_type="residential",
        language="en",
        walk_speed_m_s=1.0,
        elderly_speed_m_s=0.8,
        detour_factor=1.25,
        name="Liangjiang New Area, Lijia new-town 15-minute circle (synthetic)",
        places=(
            "礼嘉", "悦来", "人和", "大竹林", "鸳鸯", "金山", "天宫殿", "翠云", "康美",
            "星光", "照母山", "金海湾", "楠竹山", "白林", "嘉悦",
        ),
        bridges=(
            "礼嘉大桥", "嘉悦大桥", "金山大道高架", "金开大道立交", "轨道6号线高架",
            "轨道10号线高架",
        ),
        templates={
            "under_bridge": ("桥下空间",),
            "vacant_room": ("小区物业闲置用房", "社区配套用房", "社区居委会闲置用房",
                            "商业裙楼闲置用房"),
            "idle_land": ("闲置用地", "待建配套用地"),
            "corner_plot": ("边角地", "街角绿地边角地"),
            "other": ("幼儿园闲置教室", "小区架空层", "地下车库闲置空间"),
        },
    ),
    "rural": Profile(
        crs="EPSG:4544",
        # pyproj EPSG:4490 -> EPSG:4544 of (106.20E, 29.60N), Bishan; CM 105E zone, not 108E.
        centre_x_m=616249.4,
        centre_y_m=3276375.1,
        half_width_m=4000.0,
        half_height_m=3500.0,
        n_demand=1800,
        n_sites=70,
        n_existing=1,
        n_clusters=18,
        cluster_shape="gaussian",
        cluster_radius_m=(60.0, 220.0),
        scatter_share=0.15,
        residents_mean=12.0,
        residents_sigma=0.6,
        share_elderly=0.32,
        share_infants=0.018,
        share_children=0.08,
        kind_weights=(0.03, 0.25, 0.50, 0.12, 0.10),
        site_jitter_m=200.0,
        n_bridges=2,
        cost_factor=0.75,
        budget_share=0.15,
        circle_type="rural",
        language="zh",
        walk_speed_m_s=1.0,
        elderly_speed_m_s=0.8,
        detour_factor=1.4,
        name="璧山区 大路街道乡村生活圈（合成数据）",
        places=(
            "石庙村", "龙井村", "白羊村", "花园村", "新店村", "高峰村", "龙泉村", "大石村",
            "青龙村", "黄桷村", "狮子村", "梨园村", "松林村", "桂花村", "水口村", "金鸡村",
            "三元村", "双河村",
        ),
        bridges=("璧南河大桥", "渝蓉高速高架", "成渝高铁高架", "梅江河大桥"),
        templates={
            "under_bridge": ("桥下空间",),
            "vacant_room": ("闲置村委用房", "村集体闲置用房", "原村卫生室"),
            "idle_land": ("闲置集体建设用地",),
            "corner_plot": ("边角地",),
            "other": ("原村小闲置校舍", "闲置农房", "原供销社门市"),
        },
    ),
}

# The bundled districts in scenarios/: folder name -> generate_district keyword arguments.
BUNDLED = {
    # Budgets below what full coverage costs (about 11.6 and 8.1 million), so they force choices.
    "yuzhong_hillside": {"profile": "hillside", "n_demand": 4000, "n_sites": 160,
                         "n_existing": 4, "seed": 101, "budget_cny": 6_000_000},
    "liangjiang_newtown": {"profile": "newtown", "n_demand": 3000, "n_sites": 120,
                           "n_existing": 2, "seed": 202, "budget_cny": 5_000_000},
    "bishan_rural": {"profile": "rural", "n_demand": 1800, "n_sites": 70,
                     "n_existing": 1, "seed": 303},
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
    n_demand = _count("n_demand", prof.n_demand if n_demand is None else n_demand, minimum=1,
                      maximum=MAX_DEMAND_POINTS)
    n_sites = _count("n_sites", prof.n_sites if n_sites is None else n_sites, minimum=1,
                     maximum=MAX_SITES)
    n_existing = _count("n_existing", prof.n_existing if n_existing is None else n_existing,
                        minimum=0, maximum=MAX_SITES)
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
    if budget_cny is None:
        cheapest_cny = sites[[f"cost_{k}" for k in FACILITY_TYPES]].min(axis=1).sum()
        budget_cny = round(prof.budget_share * cheapest_cny / BUDGET_ROUND_CNY) * BUDGET_ROUND_CNY
    else:
        call["budget_cny"] = int(budget_cny)
    budget_cny = int(budget_cny)
    if name is not None:
        call["name"] = name

    if write_in_place:
        return _write_district(Path(out_dir), prof, profile, call, name, budget_cny, demand, sites, existing)
    from lifecircle.optimizer.files import atomic_folder

    # Whole or not at all, and never over a folder of the user's (issue 12): OUT_DIR must be
    # missing, empty, or a scenario folder generate wrote and nobody changed since.
    with atomic_folder(out_dir, option="OUT_DIR", kind="scenario") as tmp:
        _write_district(tmp, prof, profile, call, name, budget_cny, demand, sites, existing)
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


def _count(field, value, *, minimum, maximum=None):
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


# ---- a whole synthetic city (issue 6) ----------------------------------------------------------

# Chongqing's central city has 915 fifteen-minute circles (DOMAIN.md) and about 10 million
# residents (a round figure for the synthetic city, not a census count).
CITY_CIRCLES = 915
CITY_RESIDENTS = 10_000_000
# Circle centres on a jittered hexagonal grid this far apart; a 15-minute circle is about 1 km
# in radius, so neighbouring circles touch.
CITY_SPACING_M = 1_700.0
# Ring shares from the centre outwards: old hillside town, new towns, rural circles at the edge.
CITY_RINGS = (("hillside", 0.30), ("newtown", 0.55), ("rural", 0.15))
# Residents per circle relative to the average, by profile (rural circles are smaller), and the
# lognormal spread between circles of one profile.
CITY_SIZE_FACTOR = {"hillside": 1.15, "newtown": 1.1, "rural": 0.45}
CITY_SIZE_SIGMA = 0.35
# Circle budgets: this share of the summed cheapest site costs (the districts use 12-15 %; a
# circle has few sites, and it must afford its recipe's min_open pair).
CITY_BUDGET_SHARE = 0.10
CITY_MIN_OPEN_MARGIN = 1.25


def _min_open_cost(scenario_path: Path, min_open: dict) -> float:
    """Cheapest cost of the recipe's min_open facilities in a generated circle (type by type)."""
    sites = pd.read_csv(scenario_path.parent / "sites.csv")
    return float(sum(np.sort(sites[f"cost_{k}"].dropna().to_numpy())[: int(count)].sum()
                     for k, count in (min_open or {}).items() if f"cost_{k}" in sites and count))


def generate_city(out_dir, n_circles=CITY_CIRCLES, *, seed=0, residents=None) -> Path:
    """Write a synthetic city: one circle folder (a complete scenario) per life circle.

    Circle centres lie on a jittered hexagonal grid (``CITY_SPACING_M`` apart) around the
    hillside profile's centre, in EPSG:4545; the ``n_circles`` nearest the centre are kept. The
    inner 30 % are hillside circles, the next 55 % new-town circles and the outer 15 % rural
    circles (their coordinates are re-projected to EPSG:4544, as the rural profile uses).
    Residents are split between circles by a lognormal share (rural circles are smaller) that sums
    to ``residents``; each circle gets ``residents / residents_mean`` demand points, one site per
    20 points (12 to 60), 0 to 2 existing facilities and a budget of ``CITY_BUDGET_SHARE`` of
    its summed cheapest site costs, but at least ``CITY_MIN_OPEN_MARGIN`` times the cheapest cost
    of its recipe's min_open facilities (so every circle can meet its recipe). Each circle is a :func:`generate_district` call with a
    shrunken profile (centre, outline, cluster and bridge counts), so it reads like a district.

    Every circle also gets ``boundary.geojson``: its Voronoi cell among the circle centres,
    clipped to a disc around its centre, in the circle's CRS. ``README.md`` at the top records the
    call and the totals.

    Parameters
    ----------
    out_dir : folder to write into (created); circle folders are ``c001``, ``c002``, ...
    n_circles : number of circles.
    seed : seed of every random draw.
    residents : total residents of the city (expected value; each circle's demand points draw
        their residents at random). Default: ``CITY_RESIDENTS`` scaled by ``n_circles /
        CITY_CIRCLES``, so circles keep a realistic size (about 11,000 residents on average).

    Returns
    -------
    pathlib.Path
        The city folder.
    """
    n_circles = _count("n_circles", n_circles, minimum=1, maximum=MAX_CIRCLES)
    if residents is None:
        residents = round(CITY_RESIDENTS * n_circles / CITY_CIRCLES)
    residents = _count("residents", residents, minimum=n_circles)
    from lifecircle.optimizer.files import atomic_folder

    # The whole city appears at once, and never over a folder of the user's (issue 12).
    with atomic_folder(out_dir, option="OUT_DIR", kind="generated-city") as tmp:
        _write_city(tmp, n_circles, seed, residents)
    return Path(out_dir)


def _write_city(out: Path, n_circles: int, seed: int, residents: int) -> None:
    from pyproj import Transformer
    from shapely.geometry import MultiPoint, Point, mapping

    import shapely

    seeds = np.random.SeedSequence(seed).spawn(n_circles + 1)
    rng = np.random.default_rng(seeds[-1])

    # Hexagonal grid big enough for n_circles, jittered, nearest to the centre first.
    side = int(math.ceil(math.sqrt(n_circles * 1.3))) + 2
    col, row = np.meshgrid(np.arange(-side, side + 1), np.arange(-side, side + 1))
    x = (col + 0.5 * (row % 2)) * CITY_SPACING_M
    y = row * CITY_SPACING_M * math.sqrt(3) / 2
    xy = np.column_stack([x.ravel(), y.ravel()]) + rng.normal(0.0, 0.12 * CITY_SPACING_M, (x.size, 2))
    order = np.argsort(np.hypot(xy[:, 0] / 1.25, xy[:, 1]), kind="stable")  # a wider east-west city
    xy = xy[order[:n_circles]]
    base = PROFILES["hillside"]
    centre = xy + (base.centre_x_m, base.centre_y_m)

    ring_edges = np.cumsum([share for _, share in CITY_RINGS]) * n_circles
    profile_of = np.array([CITY_RINGS[int(np.searchsorted(ring_edges, n, side="right"))][0]
                           for n in range(n_circles)])
    factor = np.array([CITY_SIZE_FACTOR[p] for p in profile_of])
    share = factor * np.exp(rng.normal(0.0, CITY_SIZE_SIGMA, n_circles))
    circle_residents = residents * share / share.sum()

    cells = shapely.voronoi_polygons(MultiPoint([Point(p) for p in centre]), extend_to=None)
    cell_of = {}
    for cell in shapely.get_parts(cells):
        hit = np.flatnonzero(shapely.contains_xy(cell, centre[:, 0], centre[:, 1]))
        if hit.size:
            cell_of[int(hit[0])] = cell
    to_rural = Transformer.from_crs("EPSG:4545", PROFILES["rural"].crs, always_xy=True)
    recipes = load_recipes()

    width = len(str(n_circles))
    totals = {"points": 0, "sites": 0, "expected_residents": 0.0}
    counts = {p: 0 for p, _ in CITY_RINGS}
    for n in range(n_circles):
        profile = str(profile_of[n])
        prof = PROFILES[profile]
        circle_rng = np.random.default_rng(seeds[n])
        n_demand = max(30, int(round(circle_residents[n] / prof.residents_mean)))
        n_sites = int(np.clip(round(n_demand / 20), 12, 60))
        n_existing = int(circle_rng.integers(0, 3))
        cx, cy = centre[n]
        boundary = cell_of.get(n, Point(cx, cy).buffer(0.55 * CITY_SPACING_M)).intersection(
            Point(cx, cy).buffer(0.9 * CITY_SPACING_M))
        crs = prof.crs
        if crs != "EPSG:4545":
            cx, cy = to_rural.transform(cx, cy)
            boundary = shapely.transform(boundary, lambda p: np.column_stack(to_rural.transform(p[:, 0], p[:, 1])))
        half_w = 0.42 * CITY_SPACING_M * float(circle_rng.uniform(0.9, 1.1))
        half_h = 0.42 * CITY_SPACING_M * float(circle_rng.uniform(0.8, 1.0))
        overrides = {
            "centre_x_m": round(float(cx), 1), "centre_y_m": round(float(cy), 1),
            "half_width_m": round(half_w, 1), "half_height_m": round(half_h, 1),
            "n_demand": n_demand, "n_sites": n_sites,
            "n_clusters": max(2, int(round(prof.n_clusters * n_demand / prof.n_demand * 2))),
            "n_bridges": 1, "budget_share": CITY_BUDGET_SHARE,
            "cluster_radius_m": tuple(min(r, 0.35 * half_h) for r in prof.cluster_radius_m),
        }
        circle_id = f"c{n + 1:0{width}d}"
        folder = out / circle_id
        call = {"profile": profile, "n_demand": n_demand, "n_sites": n_sites, "n_existing": n_existing,
                "seed": int(seeds[n].generate_state(1)[0]),
                "name": f"Synthetic Chongqing circle {circle_id} ({profile})", "profile_overrides": overrides}
        path = generate_district(folder, write_in_place=True, **call)
        # A small circle's budget share may not buy its recipe's min_open facilities; such a
        # circle gets CITY_MIN_OPEN_MARGIN times their cheapest cost instead (same seed, so the
        # same people and sites), which its README records.
        need = _min_open_cost(path, recipes.get(prof.circle_type, {}))
        budget = yaml.safe_load(path.read_text(encoding="utf-8"))["budget"]
        if budget < CITY_MIN_OPEN_MARGIN * need:
            floor = math.ceil(CITY_MIN_OPEN_MARGIN * need / BUDGET_ROUND_CNY) * BUDGET_ROUND_CNY
            generate_district(folder, budget_cny=floor, write_in_place=True, **call)
        feature = {"type": "Feature", "properties": {"circle_id": circle_id, "profile": profile},
                   "geometry": mapping(shapely.set_precision(boundary, 0.1))}
        collection = {"type": "FeatureCollection", "name": circle_id,
                      "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs.split(':')[1]}"}},
                      "features": [feature]}
        (folder / "boundary.geojson").write_text(json.dumps(collection) + "\n", encoding="utf-8")
        totals["points"] += n_demand
        totals["sites"] += n_sites
        totals["expected_residents"] += n_demand * prof.residents_mean
        counts[profile] += 1

    (out / "README.md").write_text(
        "# Synthetic Chongqing-sized city (no real people or sites)\n\n"
        "```python\nfrom lifecircle.optimizer.generate import generate_city\n"
        f"generate_city(out_dir, n_circles={n_circles}, seed={seed}, residents={residents})\n```\n\n"
        f"- {n_circles} circles: " + ", ".join(f"{p} {c}" for p, c in counts.items()) + ".\n"
        f"- {totals['points']:,} demand points and {totals['sites']:,} candidate sites in total.\n"
        f"- Residents: {totals['expected_residents']:,.0f} expected (demand points x the profile's mean "
        "residents per point; each point draws its own). The scenarios count only the elderly, "
        "infants and children among them.\n"
        "- Each circle folder holds a scenario (see its README.md) and boundary.geojson.\n"
        "- **Costs are illustrative**, as in every generated district.\n",
        encoding="utf-8")


def main(argv=None):
    """Command line: ``python -m lifecircle.optimizer.generate OUT_DIR [--profile P] [--seed S] ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="scenario folder, or the scenarios folder with --bundled")
    parser.add_argument("--bundled", action="store_true", help="regenerate every bundled district")
    parser.add_argument("--profile", default="hillside", choices=sorted(PROFILES))
    parser.add_argument("--n-demand", type=int)
    parser.add_argument("--n-sites", type=int)
    parser.add_argument("--n-existing", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-cny", type=int)
    parser.add_argument("--name")
    opts = parser.parse_args(argv)
    if opts.bundled:
        paths = write_bundled(opts.out_dir)
    else:
        paths = [generate_district(
            opts.out_dir, profile=opts.profile, n_demand=opts.n_demand, n_sites=opts.n_sites,
            n_existing=opts.n_existing, seed=opts.seed, budget_cny=opts.budget_cny,
            name=opts.name,
        )]
    print("\n".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
