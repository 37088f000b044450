"""Walking isochrones on a network: the streets a facility's walking budget reaches, as a polygon.

Formulation (the same walks as :mod:`lifecircle.optimizer.inputs.network_reach`)
----------------------------------------------------------------------------------
A facility snaps to segment ``s0`` at fraction ``t0``, ``d`` metres off the street. A node ``x``
is reached when its walk *to* the facility, ``D(x)``, is within the budget ``B`` (effective
metres). A point at fraction ``f`` along segment ``s = (a, b)`` walks ``f * w_bwd[s]`` to ``a`` or
``(1 - f) * w_fwd[s]`` to ``b`` (see :mod:`network_graph`), so the reached part of ``s`` is::

    [0, (B - D(a)) / w_bwd[s]]        when D(a) <= B
    [1 - (B - D(b)) / w_fwd[s], 1]    when D(b) <= B

clipped to [0, 1] (partial edges are cut there); on the facility's own segment also the stretch
``t0 - (B - d) / w_fwd <= f <= t0 + (B - d) / w_bwd`` walked straight to it. The reached pieces
and the facility's snap walk are buffered by ``buffer_m`` (:data:`ISOCHRONE_BUFFER_M`, 25 m: a
street's width and the pavement either side) and unioned. A demand point counts as reached by
its own snap walk of up to ``max_snap_m``, so a covered point may lie outside the drawn area: the
polygon draws the streets walked, not every door they serve. A facility beyond ``max_snap_m``
reaches nothing: its polygon is empty.
"""

from __future__ import annotations

import numpy as np

from lifecircle.optimizer.inputs.network_graph import WalkNetwork, snap_points
from lifecircle.optimizer.inputs.network_reach import REL_SLACK

__all__ = ["ISOCHRONE_BUFFER_M", "network_isochrones", "reached_pieces"]

ISOCHRONE_BUFFER_M = 25.0


def _csr(rows, cols, weights, n: int):
    """(n, n) CSR with these entries (no duplicates here: segments join distinct node pairs), built
    directly so an explicit zero (a facility standing on a node) stays an edge."""
    import scipy.sparse as sp

    order = np.lexsort((cols, rows))
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n))]
    return sp.csr_matrix((weights[order], cols[order], indptr), shape=(n, n))


def _walks_to_facilities(net: WalkNetwork, xy: np.ndarray, max_snap_m: float, limit_m: float):
    """(D (F, N) walk from every node to each facility, inf beyond ``limit_m``; snap of the facilities).

    Each facility is a virtual node joined to both ends of its segment by the walk along the
    segment plus its snap walk; the graph is reversed (walking x -> y of weight w is entry [y, x])
    so one Dijkstra from the virtual node gives every node's walk *to* the facility.
    """
    from scipy.sparse.csgraph import dijkstra

    n, n_f = net.n_nodes, len(xy)
    snap = snap_points(net, xy, max_snap_m)
    ok = np.flatnonzero(snap.ok)
    virtual = n + np.arange(len(ok))
    s, t, d = snap.seg[ok], snap.t[ok], snap.dist_m[ok]
    # walking a -> facility: along the segment a -> b (w_fwd) to t, then the snap walk
    with np.errstate(invalid="ignore"):  # 0 x inf: a facility at a node is not beyond a closed street
        to_a = np.where(t <= 0.0, 0.0, t * net.w_fwd[s]) + d
        to_b = np.where(t >= 1.0, 0.0, (1.0 - t) * net.w_bwd[s]) + d
    rows = np.concatenate([net.seg_b, net.seg_a, virtual, virtual])
    cols = np.concatenate([net.seg_a, net.seg_b, net.seg_a[s], net.seg_b[s]])
    weights = np.concatenate([net.w_fwd, net.w_bwd, to_a, to_b])
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(weights)
    n_total = n + len(ok)
    reverse = _csr(rows[keep], cols[keep], weights[keep], n_total)
    dist = np.full((n_f, n), np.inf)
    if len(ok):
        limit = limit_m * (1 + REL_SLACK) + REL_SLACK
        dist[ok] = dijkstra(reverse, directed=True, indices=virtual, limit=limit)[:, :n]
    return dist, snap


def reached_pieces(net: WalkNetwork, dist_to_site: np.ndarray, budget_m: float, own=None):
    """(segment, f0, f1) of every reached piece of street for one facility.

    ``dist_to_site``: (N,) walk from each node to the facility; ``own``: (segment, t, snap) of the
    facility, or None when it is beyond max_snap_m (then nothing is reached).
    """
    budget = budget_m * (1 + REL_SLACK) + REL_SLACK
    d_a, d_b = dist_to_site[net.seg_a], dist_to_site[net.seg_b]
    with np.errstate(invalid="ignore", divide="ignore"):
        reach_a = np.where(d_a <= budget, np.clip((budget - d_a) / net.w_bwd, 0.0, 1.0), np.nan)
        reach_b = np.where(d_b <= budget, np.clip(1.0 - (budget - d_b) / net.w_fwd, 0.0, 1.0), np.nan)
    seg = np.arange(net.n_segments)
    pieces = [np.column_stack([seg, np.zeros(len(seg)), reach_a])[~np.isnan(reach_a)],
              np.column_stack([seg, reach_b, np.ones(len(seg))])[~np.isnan(reach_b)]]
    if own is not None:
        s0, t0, snap_m = own
        left = budget - snap_m
        if left >= 0:
            f0 = max(0.0, t0 - left / net.w_fwd[s0])  # x / inf = 0: no walk against a one-way street
            f1 = min(1.0, t0 + left / net.w_bwd[s0])
            pieces.append(np.array([[s0, min(f0, t0), max(f1, t0)]]))
    out = np.vstack(pieces)
    return out[:, 0].astype(np.int64), out[:, 1], out[:, 2]


def network_isochrones(net: WalkNetwork, xy, budgets_m, max_snap_m: float,
                       buffer_m: float = ISOCHRONE_BUFFER_M) -> list:
    """One shapely polygon per facility, in the network's metric CRS (see the module docstring).

    ``xy``: (F, 2) facility positions in metres; ``budgets_m``: (F,) walking budget of each, in
    effective metres. A facility beyond ``max_snap_m`` or whose snap walk exceeds its budget gets
    an empty polygon.
    """
    import shapely

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    budgets = np.asarray(budgets_m, dtype=float).reshape(-1)
    if len(xy) == 0:
        return []
    dist, snap = _walks_to_facilities(net, xy, max_snap_m, float(budgets.max()))
    out = []
    for f in range(len(xy)):  # one facility's pieces at a time; each is vectorised over segments
        own = (int(snap.seg[f]), float(snap.t[f]), float(snap.dist_m[f])) if snap.ok[f] else None
        if own is None or own[2] > budgets[f] * (1 + REL_SLACK) + REL_SLACK:
            out.append(shapely.Polygon())
            continue
        seg, f0, f1 = reached_pieces(net, dist[f], budgets[f], own)
        a_xy, b_xy = net.node_xy[net.seg_a[seg]], net.node_xy[net.seg_b[seg]]
        start = a_xy + f0[:, None] * (b_xy - a_xy)
        end = a_xy + f1[:, None] * (b_xy - a_xy)
        foot = net.node_xy[net.seg_a[own[0]]] + own[1] * (net.node_xy[net.seg_b[own[0]]] - net.node_xy[net.seg_a[own[0]]])
        lines = shapely.linestrings(np.stack([np.vstack([start, xy[f]]), np.vstack([end, foot])], axis=1))
        out.append(shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4)))
    return out
