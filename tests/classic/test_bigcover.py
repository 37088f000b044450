"""Chunked coverage classes (issue 8) against plain dense geometry and a dict of site sets."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.classic.points import coverage_classes
from lifecircle.optimizer.inputs.geo import distance_m, pairs_matrix


def reference(points, weight, sites, radius):
    """{frozenset of sites: (weight, count)} from dense distances; plus (uncovered, weight)."""
    d = np.hypot(points[:, None, 0] - sites[None, :, 0], points[:, None, 1] - sites[None, :, 1])
    classes, lost, lost_w = {}, 0, 0.0
    for i, row in enumerate(d <= radius):
        key = frozenset(np.flatnonzero(row).tolist())
        if not key:
            lost += 1
            lost_w += weight[i]
            continue
        w, c = classes.get(key, (0.0, 0))
        classes[key] = (w + weight[i], c + 1)
    return classes, lost, lost_w


def as_dict(cc):
    out = {}
    for k in range(cc.n_classes):
        s, e = cc.rows.indptr[k], cc.rows.indptr[k + 1]
        out[frozenset(cc.rows.indices[s:e].tolist())] = (cc.weight[k], int(cc.count[k]))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk", [7, 100, 1 << 20])
def test_classes_equal_dense_reference(seed, chunk):
    rng = np.random.default_rng(seed)
    # integer coordinates so that many points sit exactly on a circle (3-4-5 triangles)
    points = rng.integers(0, 40, size=(300, 2)).astype(float)
    sites = rng.integers(0, 40, size=(12, 2)).astype(float)
    weight = rng.integers(0, 9, size=300).astype(float)
    radius = 5.0
    cc = coverage_classes(points[:, 0], points[:, 1], weight, sites, radius, chunk=chunk)
    ref, lost, lost_w = reference(points, weight, sites, radius)
    assert as_dict(cc) == ref
    assert cc.n_classes == len(ref)  # maximal: no two classes with the same site set
    assert cc.uncovered_points == lost and cc.uncovered_weight == lost_w
    assert cc.n_points == 300 and int(cc.count.sum()) + lost == 300
    assert cc.pairs == int(pairs_matrix(points, sites, radius).nnz)
    assert cc.rows.has_sorted_indices


def test_boundary_is_inclusive():
    sites = np.array([[0.0, 0.0], [0.1, 0.2]])
    # exactly at distance 0.3 from site 1 in float: 0.1+0.2 style rounding
    points = np.array([[0.3, 0.0], [0.1 + 0.2, 0.0], [0.0, 0.30000000000000004], [0.4, 0.2]])
    for radius in (0.3, 0.30000000000000004, 0.1):
        dense = distance_m(points[:, None, 0], points[:, None, 1], sites[None, :, 0], sites[None, :, 1]) <= radius
        assert (pairs_matrix(points, sites, radius).toarray() > 0).tolist() == dense.tolist()


def test_classes_are_chunk_invariant_on_a_larger_cloud():
    rng = np.random.default_rng(11)
    points = rng.uniform(0, 30, size=(20000, 2))
    sites = rng.uniform(0, 30, size=(40, 2))
    weight = rng.integers(1, 101, size=20000).astype(float)
    one = coverage_classes(points[:, 0], points[:, 1], weight, sites, 2.0, chunk=1 << 20)
    many = coverage_classes(points[:, 0], points[:, 1], weight, sites, 2.0, chunk=1500)
    assert as_dict(one) == as_dict(many)
    assert one.weight.sum() + one.uncovered_weight == weight.sum()
    # a plan's covered weight from the classes equals the plain per-point count
    plan = np.array([0, 3, 7, 19])
    covered = pairs_matrix(points, sites, 2.0)[:, plan].getnnz(axis=1) > 0
    assert one.weight[one.covered(plan)].sum() == weight[covered].sum()


def test_empty_inputs():
    cc = coverage_classes(np.zeros(0), np.zeros(0), np.zeros(0), np.array([[0.0, 0.0]]), 1.0)
    assert cc.n_classes == 0 and cc.n_points == 0
    cc = coverage_classes(np.array([5.0]), np.array([5.0]), np.array([3.0]),
                          np.array([[0.0, 0.0]]), 1.0)
    assert cc.n_classes == 0 and cc.uncovered_points == 1 and cc.uncovered_weight == 3.0
