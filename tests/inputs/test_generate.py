"""Tests of the synthetic district generator and the bundled districts it made."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lifecircle.optimizer.generate.district import BUNDLED, generate_district
from lifecircle.optimizer.generate.profiles import PROFILES, SITE_KINDS

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = REPO_ROOT / "scenarios"
FILES = ("scenario.yaml", "demand.csv", "sites.csv", "existing.csv", "README.md")
FORMAT_TOP_KEYS = {"name", "crs", "circle_type", "budget", "walking", "groups",
                   "facility_types", "demand", "sites", "existing", "rules"}


def _read(path):
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    folder = path.parent
    tables = {key: pd.read_csv(folder / scenario[key], dtype={"id": str})
              for key in ("demand", "sites", "existing")}
    return scenario, tables


@pytest.fixture(scope="module", params=sorted(PROFILES))
def small(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    path = generate_district(out, profile=request.param, n_demand=500, n_sites=40,
                             n_existing=3, seed=7)
    return request.param, *_read(path)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a = generate_district(tmp_path / "a", profile="newtown", n_demand=300, n_sites=30, seed=5)
    b = generate_district(tmp_path / "b", profile="newtown", n_demand=300, n_sites=30, seed=5)
    c = generate_district(tmp_path / "c", profile="newtown", n_demand=300, n_sites=30, seed=6)
    for name in FILES:
        assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes(), name
    assert (a.parent / "demand.csv").read_bytes() != (c.parent / "demand.csv").read_bytes()


def test_demand_independent_of_site_count(tmp_path):
    a = generate_district(tmp_path / "a", profile="rural", n_demand=300, n_sites=20, seed=1)
    b = generate_district(tmp_path / "b", profile="rural", n_demand=300, n_sites=60, seed=1)
    assert (a.parent / "demand.csv").read_bytes() == (b.parent / "demand.csv").read_bytes()


def test_sizes(small):
    _, _, tables = small
    assert len(tables["demand"]) == 500
    assert len(tables["sites"]) == 40
    assert len(tables["existing"]) == 3


def test_columns_exactly_as_in_format(small):
    _, scenario, tables = small
    types = list(scenario["facility_types"])
    assert list(tables["demand"].columns) == ["id", "x", "y", *scenario["groups"]]
    assert list(tables["sites"].columns) == ["id", "name", "kind", "x", "y",
                                             *(f"cost_{k}" for k in types)]
    assert list(tables["existing"].columns) == ["id", "type", "x", "y"]


def test_scenario_fields(small):
    _, scenario, _ = small
    assert FORMAT_TOP_KEYS <= set(scenario)
    assert scenario["crs"] in {"EPSG:4544", "EPSG:4545"}
    assert scenario["circle_type"] in {"residential", "industrial", "commercial", "other",
                                       "rural"}
    assert isinstance(scenario["budget"], int) and scenario["budget"] > 0
    for spec in scenario["facility_types"].values():
        assert set(spec["serves"]) <= set(scenario["groups"])


def test_values_valid(small):
    _, scenario, tables = small
    demand, sites, existing = tables["demand"], tables["sites"], tables["existing"]
    counts = demand[list(scenario["groups"])]
    assert all(np.issubdtype(t, np.integer) for t in counts.dtypes)
    assert (counts.to_numpy() >= 0).all()
    for table in tables.values():
        assert table["id"].is_unique
        assert np.isfinite(table[["x", "y"]].to_numpy()).all()
    assert set(sites["kind"]) <= set(SITE_KINDS)
    costs = sites.filter(like="cost_")
    assert (costs.fillna(0).to_numpy() >= 0).all()
    assert costs.notna().any(axis=1).all(), "every site must allow at least one type"
    assert costs["cost_elder_child"][sites["kind"] == "under_bridge"].isna().all()
    assert sites["name"].is_unique
    assert sites["name"].str.contains(r"[\u4e00-\u9fff]").all()
    assert set(existing["type"]) <= set(scenario["facility_types"])


def test_budget_forces_choices(small):
    _, scenario, tables = small
    cheapest_cny = tables["sites"].filter(like="cost_").min(axis=1)
    assert cheapest_cny.min() <= scenario["budget"] < cheapest_cny.sum()


def test_coordinates_near_profile_centre(small):
    profile_name, scenario, tables = small
    profile = PROFILES[profile_name]
    xy = tables["demand"][["x", "y"]].to_numpy()
    offset_m = xy - (profile.centre_x_m, profile.centre_y_m)
    assert scenario["crs"] == profile.crs
    assert np.abs(offset_m).max() < 10_000


def test_explicit_budget_and_name(tmp_path):
    path = generate_district(tmp_path, n_demand=100, n_sites=10, budget_cny=6_000_000,
                             name="测试")
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert scenario["budget"] == 6_000_000
    assert scenario["name"] == "测试"
    assert "budget_cny=6000000" in (tmp_path / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kwargs", [{"profile": "mountain"}, {"n_demand": 0},
                                    {"n_sites": 2.5}, {"n_existing": -1},
                                    {"budget_cny": -1}])
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_district(tmp_path, **kwargs)


def test_profile_population_structure(tmp_path):
    shares = {}
    for profile in ("hillside", "newtown"):
        path = generate_district(tmp_path / profile, profile=profile, n_demand=2000,
                                 n_sites=10, seed=3)
        demand = pd.read_csv(path.parent / "demand.csv")
        shares[profile] = demand[["elderly", "infants", "children"]].sum()
    assert shares["hillside"]["elderly"] / shares["hillside"].sum() > (
        shares["newtown"]["elderly"] / shares["newtown"].sum())
    assert shares["newtown"]["infants"] / shares["newtown"].sum() > (
        shares["hillside"]["infants"] / shares["hillside"].sum())


@pytest.mark.parametrize("folder", sorted(BUNDLED))
def test_bundled_matches_generator(tmp_path, folder):
    regenerated = generate_district(tmp_path / folder, **BUNDLED[folder]).parent
    for name in FILES:
        assert (SCENARIOS / folder / name).read_bytes() == (regenerated / name).read_bytes(), (
            f"scenarios/{folder}/{name} differs from the generator; run "
            "`python -m lifecircle.optimizer.generate --bundled scenarios`"
        )


@pytest.mark.parametrize("folder", sorted(BUNDLED))
def test_bundled_sizes(folder):
    scenario, tables = _read(SCENARIOS / folder / "scenario.yaml")
    assert 1_000 <= len(tables["demand"]) <= 20_000
    assert 50 <= len(tables["sites"]) <= 300
    assert sum(p.stat().st_size for p in (SCENARIOS / folder).iterdir()) < 1_000_000
    recipes = yaml.safe_load((REPO_ROOT / "optimizer" / "recipes.yaml").read_text(encoding="utf-8"))
    assert scenario["circle_type"] in recipes


def test_bundled_readme_documents_call():
    for folder, kwargs in BUNDLED.items():
        readme = (SCENARIOS / folder / "README.md").read_text(encoding="utf-8")
        assert f"seed={kwargs['seed']}" in readme
        assert "illustrative" in readme


def test_hillside_bundle_is_chinese():
    scenario = yaml.safe_load((SCENARIOS / "yuzhong_hillside" / "scenario.yaml").read_text(
        encoding="utf-8"))
    assert scenario["language"] == "zh"
    assert "渝中" in scenario["name"]


def test_recipes_cover_every_circle_type():
    recipes = yaml.safe_load((REPO_ROOT / "optimizer" / "recipes.yaml").read_text(encoding="utf-8"))
    assert set(recipes) == {"residential", "industrial", "commercial", "other", "rural"}
    for minimums in recipes.values():
        assert all(k in {"elder_child", "canteen"} and n >= 0 for k, n in minimums.items())
