"""The one reach kernel (issue 13): pairs_within against a dense reference on random points, with
radii that fall exactly on pair distances (the boundary is inclusive) and grids of ties."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.inputs.geo import distance_m, pairs_matrix, pairs_within, reach_pairs


def dense_pairs(points, sites, radius):
    """Every pair measured with the same formula, no tree: the reference."""
    d = distance_m(points[:, None, 0], points[:, None, 1], sites[None, :, 0], sites[None, :, 1])
    i, j = np.nonzero(d <= radius)
    return i.astype(np.int64), j.astype(np.int64), d[i, j]


@pytest.mark.parametrize("seed", range(12))
def test_pairs_within_equals_the_dense_reference_including_boundary_radii(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 300), rng.integers(1, 60)
    scale = [1.0, 1e3, 3.3e6][seed % 3]  # metres near zero, a district, Gauss-Krüger northings
    points = rng.uniform(0, 1000, (n, 2)) + scale
    sites = rng.uniform(0, 1000, (m, 2)) + scale
    if seed % 2:  # integer grids: many pairs at exactly the same distance
        points, sites = np.round(points / 50) * 50, np.round(sites / 50) * 50
    d_all = distance_m(points[:, None, 0], points[:, None, 1], sites[None, :, 0], sites[None, :, 1]).ravel()
    radii = [0.0, 150.0, float(np.median(d_all)), float(d_all[rng.integers(d_all.size)]),
             float(np.nextafter(d_all[rng.integers(d_all.size)], 0)), -1.0]
    for radius in radii:
        ref_i, ref_j, ref_d = dense_pairs(points, sites, radius)
        i, j = pairs_within(points, sites, radius)
        assert np.array_equal(i, ref_i) and np.array_equal(j, ref_j), radius
        i, j, d = reach_pairs(points, sites, radius)
        assert np.array_equal(i, ref_i) and np.array_equal(j, ref_j) and np.array_equal(d, ref_d), radius
        dense = np.zeros((n, m), dtype=bool)
        dense[ref_i, ref_j] = True
        assert np.array_equal(pairs_matrix(points, sites, radius).toarray() > 0, dense), radius


def test_chunks_give_the_same_pairs(monkeypatch):
    import lifecircle.optimizer.inputs.geo as geo

    rng = np.random.default_rng(5)
    points, sites = rng.uniform(0, 500, (1000, 2)), rng.uniform(0, 500, (40, 2))
    whole = pairs_within(points, sites, 80.0, distances=True)
    monkeypatch.setattr(geo, "PAIRS_CHUNK", 97)
    chunked = pairs_within(points, sites, 80.0, distances=True)
    assert all(np.array_equal(a, b) for a, b in zip(whole, chunked))


def test_empty_inputs():
    none = np.zeros((0, 2))
    one = np.zeros((1, 2))
    for points, sites in ((none, one), (one, none), (none, none)):
        i, j = pairs_within(points, sites, 10.0)
        assert i.size == 0 and j.size == 0
    i, j = pairs_within(one, one, 0.0)
    assert i.tolist() == [0] and j.tolist() == [0]  # distance 0 is within radius 0
