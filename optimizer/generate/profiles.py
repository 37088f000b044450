"""The three district profiles, the site kinds and the illustrative cost tables.

A :class:`Profile` holds everything that makes one kind of district look the way it does, and
``PROFILES`` names the three of them; the generator (:mod:`lifecircle.optimizer.generate.district`)
draws people and sites from a profile.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ALLOWED_PROB", "BASE_COST_CNY", "FACILITY_TYPES", "GROUPS", "MAX_DEMAND_POINTS", "MAX_SITES",
           "PROFILES", "Profile", "SITE_KINDS"]

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
# Default candidate density (issue 14): one idle site per this many expected residents. DOMAIN.md:
# a 15-minute circle (50,000-100,000 residents) offers tens to a few hundred candidates, one per
# roughly 300-3,000 residents; 1,000 is inside that range (the old default was one per 200).
RESIDENTS_PER_SITE = 1_000
# Size limits of one district, checked before anything is drawn. 1,000,000 demand points (a
# building or block each: several cities' worth) take about 17 s and 0.5 GB; beyond that the
# arrays alone would exhaust a desktop's memory. More people belong in a city (--city).
MAX_DEMAND_POINTS = 1_000_000
MAX_SITES = 1_000_000

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
