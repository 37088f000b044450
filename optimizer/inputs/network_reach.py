"""Reach by walking network: which sites (and existing facilities) each demand point can walk to.

Formulation
-----------
For demand point i, site j, type k and group g (weights in effective metres, see
:mod:`optimizer.inputs.network`)::

    cost[i, j] = snap_i + min(off_u[i] + D(u_i -> j), off_v[i] + D(v_i -> j))
    D(x -> j)  = shortest network walk from node x to the site's network position, plus snap_j
    covered    = cost[i, j] <= walk_minutes_k * 60 * speed_g      (inclusive, 1e-9 relative slack)

``u_i``/``v_i`` are the ends of the (sub-)segment point i snapped to and ``off`` the walk along it
(inf against a one-way direction). Straight snap walks count at factor 1; ``detour_factor`` is not
applied. Points farther than ``max_snap_m`` from the network reach nothing and are reported.

Sites and existing facilities are made nodes: their segment is split at their position and each
gets a pendant node joined by its snap distance. The graph is stored reversed (an edge x -> y of
walking weight w is entry [y, x]), so ``scipy.sparse.csgraph.dijkstra`` from the pendant nodes
with ``limit`` gives every node's walk *to* each site, in chunks of sites whose dense output stays
under ``chunk_mib``. For plain coverage, existing facilities only need the nearest one per type:
``min_only=True``. Decay weights and existing capacities need each existing facility's own walk
(``existing_cost``, asked for with ``per_existing``): one Dijkstra per existing facility, with
its type's largest budget as the limit, joined onto demand points exactly as for sites; the
nearest per type is then the smallest of those walks, so no ``min_only`` search runs.

Walking time for group g is ``cost / (speed_g * 60)`` minutes, the time the budgets are made of.

The cost matrices (entries up to the largest budget) are cached on disk, keyed by a hash of the
network file's bytes, the point coordinates, ``max_snap_m``, the budgets (speeds x minutes) and
``walking.oneway``, so a budget sweep never walks the graph twice. Cache version 3 (issue 12):
walks ignore one-way rules unless the scenario says ``walking.oneway: respect``, and entries keep
the network component of every site and existing facility, so older entries are recomputed. An entry without ``existing_cost`` is recomputed (and
replaced by one with it) when a scenario needs it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.network import network_digest, read_network
from lifecircle.optimizer.inputs.network_graph import WalkNetwork, snap_points, snap_stats

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # pragma: no cover
    from lifecircle.optimizer.inputs.scenario import Scenario

CACHE_VERSION = "lifecircle-reach-3"  # 2: per-existing-facility costs; 3: oneway ignored by default, fragments
CACHE_ENV = "LIFECIRCLE_CACHE_DIR"
REL_SLACK = 1e-9


def within(cost, budget_m: float):
    """Inclusive budget test shared by reach and its checks: float sums along a path may land a
    hair above a budget they meet exactly."""
    return cost <= budget_m * (1 + REL_SLACK) + REL_SLACK


@dataclass(frozen=True)
class NetworkReach:
    """Network reach of one set of points, in effective metres.

    site_cost : (I, J) CSR float, cost[i, j] for every pair within ``limit_m`` (absent = beyond).
    before_cost : (I, K) float, cost to the nearest existing facility of type k (inf = beyond its
        type's limit, or none).
    demand_snap_m, site_snap_m, existing_snap_m : straight snap distances.
    demand_component : (I,) int, the network component point i snapped onto (-1 beyond max_snap_m).
    existing_cost : (I, E) CSR float, cost[i, e] to existing facility e for every pair within the
        largest budget of e's type; None unless asked for (``per_existing``).
    site_component, existing_component : (J,), (E,) int, component of each (-1 beyond max_snap_m).
    component_length_m : (C,) float, street length of each component.
    columns : (role, what was read) pairs of the network file (see ``WalkNetwork.columns``).
    """

    site_cost: sp.csr_matrix
    before_cost: np.ndarray
    demand_snap_m: np.ndarray
    site_snap_m: np.ndarray
    existing_snap_m: np.ndarray
    demand_component: np.ndarray
    largest_component: int
    n_components: int
    n_nodes: int
    n_segments: int
    total_length_m: float
    limit_m: float
    max_snap_m: float
    existing_cost: sp.csr_matrix | None = None
    site_component: np.ndarray | None = None
    existing_component: np.ndarray | None = None
    component_length_m: np.ndarray | None = None
    columns: tuple = ()


# ---------------------------------------------------------------------------------------------
# graph with facilities as nodes


def _split_at_facilities(net: WalkNetwork, seg, t, ok):
    """Make every facility a node by splitting its segment at its position.

    Returns (fac_node (F,), table (seg, t, node) of split points of every split segment including
    both ends, sorted by (seg, t), forward edges (tail, head, weight), node count).
    """
    n = net.n_nodes
    fac_node = np.full(len(seg), -1, dtype=np.int64)
    at_a, at_b = ok & (t <= 0.0), ok & (t >= 1.0)
    fac_node[at_a] = net.seg_a[seg[at_a]]
    fac_node[at_b] = net.seg_b[seg[at_b]]
    mid = np.flatnonzero(ok & ~at_a & ~at_b)
    order = mid[np.lexsort((t[mid], seg[mid]))]
    ms, mt = seg[order], t[order]
    new = np.r_[True, (ms[1:] != ms[:-1]) | (mt[1:] != mt[:-1])] if len(order) else np.zeros(0, bool)
    fac_node[order] = n + np.cumsum(new) - 1
    cut_seg, cut_t = ms[new], mt[new]
    n_virtual = len(cut_seg)
    split = np.unique(cut_seg)
    table_seg = np.concatenate([cut_seg, split, split])
    table_t = np.concatenate([cut_t, np.zeros(len(split)), np.ones(len(split))])
    table_node = np.concatenate([n + np.arange(n_virtual), net.seg_a[split], net.seg_b[split]])
    o = np.lexsort((table_t, table_seg))
    table_seg, table_t, table_node = table_seg[o], table_t[o], table_node[o]

    k = np.flatnonzero(table_seg[1:] == table_seg[:-1])
    s = table_seg[k]
    frac = table_t[k + 1] - table_t[k]
    whole = np.ones(net.n_segments, dtype=bool)
    whole[split] = False
    a = np.concatenate([net.seg_a[whole], table_node[k]])
    b = np.concatenate([net.seg_b[whole], table_node[k + 1]])
    w_fwd = np.concatenate([net.w_fwd[whole], frac * net.w_fwd[s]])
    w_bwd = np.concatenate([net.w_bwd[whole], frac * net.w_bwd[s]])
    tail = np.concatenate([a, b])
    head = np.concatenate([b, a])
    weight = np.concatenate([w_fwd, w_bwd])
    open_ = np.isfinite(weight)
    return fac_node, (table_seg, table_t, table_node, ~whole), (tail[open_], head[open_], weight[open_]), n + n_virtual


def _point_ends(net: WalkNetwork, table, seg, t, dist, ok):
    """(u, v, off_u, off_v) per point: the ends of its (sub-)segment and the full cost to reach
    each end (snap walk included; inf when closed or beyond max_snap_m)."""
    table_seg, table_t, table_node, is_split = table
    u, v = net.seg_a[seg].copy(), net.seg_b[seg].copy()
    lo, hi = np.zeros(len(seg)), np.ones(len(seg))
    idx = np.flatnonzero(ok & is_split[seg]) if len(seg) else np.zeros(0, np.int64)
    if idx.size:
        # Sort split points and these points together by (seg, t, split-before-point): the last
        # split point at or before a point is its lower end (a segment's t = 0 row always is).
        n_tab = len(table_seg)
        all_seg = np.concatenate([table_seg, seg[idx]])
        all_t = np.concatenate([table_t, t[idx]])
        kind = np.concatenate([np.zeros(n_tab, np.int8), np.ones(len(idx), np.int8)])
        o = np.lexsort((kind, all_t, all_seg))
        last = np.maximum.accumulate(np.where(o < n_tab, o, -1))
        is_point = o >= n_tab
        lower = last[is_point]
        lower = np.where(table_t[lower] >= 1.0, lower - 1, lower)  # a point at t = 1 ends its last piece
        which = idx[o[is_point] - n_tab]
        u[which], v[which] = table_node[lower], table_node[lower + 1]
        lo[which], hi[which] = table_t[lower], table_t[lower + 1]
    with np.errstate(invalid="ignore"):
        off_u = np.where(t <= lo, 0.0, (t - lo) * net.w_bwd[seg]) + dist
        off_v = np.where(t >= hi, 0.0, (hi - t) * net.w_fwd[seg]) + dist
    off_u[~ok], off_v[~ok] = np.inf, np.inf
    return u, v, off_u, off_v


def _min_csr(rows, cols, values, shape) -> sp.csr_matrix:
    """CSR keeping the smallest value of duplicate entries (CSR construction would add them)."""
    rows, cols, values = np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(values, float)
    if len(rows):
        key = rows * shape[1] + cols
        o = np.argsort(key, kind="stable")
        key, values = key[o], values[o]
        heads = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        values = np.minimum.reduceat(values, heads)
        rows, cols = key[heads] // shape[1], key[heads] % shape[1]
    # Explicit zeros (a site standing on the network) must stay edges: build CSR directly.
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=shape[0]))]
    return sp.csr_matrix((values, cols, indptr), shape=shape)


def _walks_to(reverse, sources, pendant_of, limit_m: float, ends, chunk: int):
    """(rows, cols, costs) of every (demand point, facility) walk within ``limit_m``.

    ``sources`` are facility indices (columns), ``pendant_of`` their graph nodes, ``ends`` the
    demand ends grouped by node: (ptr, end_off, end_i). Dijkstra runs on ``chunk`` facilities at a
    time and each reached node's distance is joined onto the demand points ending there.
    """
    from scipy.sparse.csgraph import dijkstra

    ptr, end_off, end_i = ends
    n_total = reverse.shape[0]
    limit = limit_m * (1 + REL_SLACK) + REL_SLACK
    rows, cols, costs = [], [], []
    for start in range(0, len(sources), chunk):
        js = sources[start:start + chunk]
        dist = dijkstra(reverse, directed=True, indices=pendant_of[js], limit=limit).ravel()
        flat = np.flatnonzero(dist <= limit)
        node = flat % n_total
        count = ptr[node + 1] - ptr[node]
        hit = count > 0
        flat, node, count = flat[hit], node[hit], count[hit]
        rep = np.repeat(np.arange(len(flat)), count)
        pos = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count) + ptr[node][rep]
        cost = dist[flat][rep] + end_off[pos]
        ok = within(cost, limit_m)
        rows.append(end_i[pos][ok])
        cols.append(js[flat[rep][ok] // n_total])
        costs.append(cost[ok])
    return rows, cols, costs


# ---------------------------------------------------------------------------------------------


def compute_reach(net: WalkNetwork, demand_xy, sites_xy, existing_xy, existing_type, n_types: int,
                  limit_m: float, type_limit_m, max_snap_m: float, chunk_mib: float = 128,
                  per_existing: bool = False) -> NetworkReach:
    """Network reach of every site and the nearest existing facility per type.

    Parameters
    ----------
    net : the walking network.
    demand_xy, sites_xy, existing_xy : (I, 2), (J, 2), (E, 2) metres in the network's CRS.
    existing_type : (E,) int, type index of each existing facility.
    n_types : K.
    limit_m : largest budget of any (type, group), effective metres; site costs above it are dropped.
    type_limit_m : (K,) largest budget per type, for existing facilities.
    max_snap_m : points farther from the network reach nothing.
    chunk_mib : memory for one chunk of Dijkstra output (float64, sites x nodes).
    per_existing : also walk to each existing facility (``existing_cost``), for decay weights and
        existing capacities.
    """
    from scipy.sparse.csgraph import dijkstra

    demand_xy, sites_xy, existing_xy = (np.asarray(a, float).reshape(-1, 2) for a in (demand_xy, sites_xy, existing_xy))
    n_i, n_j, n_e = len(demand_xy), len(sites_xy), len(existing_xy)
    snap = snap_points(net, np.vstack([demand_xy, sites_xy, existing_xy]), max_snap_m)
    fac = slice(n_i, n_i + n_j + n_e)
    fac_node, table, (tail, head, weight), n_graph = _split_at_facilities(
        net, snap.seg[fac], snap.t[fac], snap.ok[fac])
    fac_ok = snap.ok[fac]
    pendant = np.full(n_j + n_e, -1, dtype=np.int64)
    pendant[fac_ok] = n_graph + np.arange(int(fac_ok.sum()))
    n_total = n_graph + int(fac_ok.sum())
    # Reversed walking graph: walking x -> y with weight w is entry [y, x]; the pendant edge
    # (facility position -> facility) carries the facility's snap walk.
    reverse = _min_csr(np.concatenate([head, pendant[fac_ok]]),
                       np.concatenate([tail, fac_node[fac_ok]]),
                       np.concatenate([weight, snap.dist_m[fac][fac_ok]]), (n_total, n_total))

    dem = slice(0, n_i)
    u, v, off_u, off_v = _point_ends(net, table, snap.seg[dem], snap.t[dem], snap.dist_m[dem], snap.ok[dem])

    # Demand ends grouped by node, to join Dijkstra rows onto demand points without a loop.
    end_node = np.concatenate([u, v])
    end_off = np.concatenate([off_u, off_v])
    end_i = np.concatenate([np.arange(n_i), np.arange(n_i)])
    keep = within(end_off, limit_m)
    end_node, end_off, end_i = end_node[keep], end_off[keep], end_i[keep]
    o = np.argsort(end_node, kind="stable")
    end_node, end_off, end_i = end_node[o], end_off[o], end_i[o]
    ptr = np.r_[0, np.cumsum(np.bincount(end_node, minlength=n_total))]

    ends = (ptr, end_off, end_i)
    chunk = max(1, int(chunk_mib * 2**20 // (8 * max(n_total, 1))))
    rows, cols, costs = _walks_to(reverse, np.flatnonzero(pendant[:n_j] >= 0), pendant[:n_j], limit_m, ends, chunk)
    cat = (lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dt))
    site_cost = _min_csr(cat(rows, np.int64), cat(cols, np.int64), cat(costs, float), (n_i, n_j))

    before_cost = np.full((n_i, n_types), np.inf)
    existing_type = np.asarray(existing_type, dtype=np.int64).reshape(-1)
    ex_pendant = pendant[n_j:]
    type_limit_m = np.asarray(type_limit_m, dtype=float)
    existing_cost = None
    if per_existing:
        rows, cols, costs = [], [], []
        for k in range(n_types):  # each type walks to its own largest budget
            mine = np.flatnonzero((existing_type == k) & (ex_pendant >= 0))
            r, c, w = _walks_to(reverse, mine, ex_pendant, float(type_limit_m[k]), ends, chunk)
            rows, cols, costs = rows + r, cols + c, costs + w
            # the nearest of this type is the smallest of these walks: no second search
            np.minimum.at(before_cost[:, k], cat(r, np.int64), cat(w, float))
        existing_cost = _min_csr(cat(rows, np.int64), cat(cols, np.int64), cat(costs, float), (n_i, n_e))
    else:  # covered_before only needs the nearest facility of each type: one search per type
        for k in range(n_types):
            src = ex_pendant[(existing_type == k) & (ex_pendant >= 0)]
            if src.size == 0 or n_i == 0:
                continue
            lim_k = type_limit_m[k] * (1 + REL_SLACK) + REL_SLACK
            nearest = dijkstra(reverse, directed=True, indices=src, min_only=True, limit=lim_k)
            cost = np.minimum(nearest[u] + off_u, nearest[v] + off_v)
            before_cost[:, k] = np.where(within(cost, type_limit_m[k]), cost, np.inf)

    n_comp, labels, largest = net.components()
    demand_component = np.where(snap.ok[dem], labels[net.seg_a[snap.seg[dem]]], -1) if n_i else np.zeros(0, np.int64)
    return NetworkReach(
        **_components(net, snap, labels, n_i, n_j), columns=net.columns,
        site_cost=site_cost, before_cost=before_cost,
        demand_snap_m=snap.dist_m[dem], site_snap_m=snap.dist_m[n_i:n_i + n_j],
        existing_snap_m=snap.dist_m[n_i + n_j:], demand_component=demand_component.astype(np.int64),
        largest_component=largest, n_components=n_comp, n_nodes=net.n_nodes,
        n_segments=net.n_segments, total_length_m=net.total_length_m, limit_m=float(limit_m),
        max_snap_m=float(max_snap_m), existing_cost=existing_cost,
    )


# ---------------------------------------------------------------------------------------------
# cache


def default_cache_dir() -> Path:
    """$LIFECIRCLE_CACHE_DIR, else $XDG_CACHE_HOME/lifecircle, else ~/.cache/lifecircle."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "lifecircle"


def resolve_cache_dir(cache_dir=None, out_dir=None) -> Path:
    """The reach cache folder; refused when it lies inside ``out_dir``, which a solve replaces."""
    path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if out_dir is not None:
        out, inside = Path(out_dir).resolve(), path.resolve()
        if inside == out or out in inside.parents:
            raise ScenarioError(
                f"--cache-dir {path}: lies inside the output folder {out_dir}, which every solve "
                "replaces; choose a folder outside it"
            )
    return path


_ARRAYS = ("data", "indices", "indptr", "shape", "before_cost", "demand_snap_m", "site_snap_m",
           "existing_snap_m", "demand_component", "scalars")
_EXISTING_ARRAYS = ("ex_data", "ex_indices", "ex_indptr", "ex_shape")
_COMPONENT_ARRAYS = ("site_component", "existing_component", "component_length_m", "columns")


def _components(net: WalkNetwork, snap, labels, n_i: int, n_j: int) -> dict:
    """Component per site and existing facility, and each component's street length (issue 12)."""
    comp = np.where(snap.ok, labels[net.seg_a[snap.seg]], -1) if len(snap.seg) else np.zeros(0, np.int64)
    return {"site_component": comp[n_i:n_i + n_j].astype(np.int64),
            "existing_component": comp[n_i + n_j:].astype(np.int64),
            "component_length_m": np.bincount(labels[net.seg_a], weights=net.length_m, minlength=int(labels.max()) + 1
                                              if len(labels) else 0)}


def _save(path: Path, reach: NetworkReach, key: str) -> None:
    from lifecircle.optimizer.files import atomic_file

    m = reach.site_cost
    optional = {}
    if reach.existing_cost is not None:
        e = reach.existing_cost
        optional = {"ex_data": e.data, "ex_indices": e.indices, "ex_indptr": e.indptr, "ex_shape": np.array(e.shape)}
    scalars = np.array([reach.largest_component, reach.n_components, reach.n_nodes, reach.n_segments,
                        reach.total_length_m, reach.limit_m, reach.max_snap_m])
    optional |= {"site_component": reach.site_component, "existing_component": reach.existing_component,
                 "component_length_m": reach.component_length_m,
                 "columns": np.array(reach.columns, dtype=str).reshape(-1, 2)}
    try:  # one writer for every output (issue 12); readers see the old file or the whole new one
        with atomic_file(path, option="--cache-dir") as tmp, open(tmp, "wb") as handle:
            np.savez(handle, key=np.array(key), data=m.data, indices=m.indices, indptr=m.indptr,
                     shape=np.array(m.shape), before_cost=reach.before_cost,
                     demand_snap_m=reach.demand_snap_m, site_snap_m=reach.site_snap_m,
                     existing_snap_m=reach.existing_snap_m, demand_component=reach.demand_component,
                     scalars=scalars, **optional)
    except ScenarioError as error:
        if getattr(error, "os_reason", None) is None:
            raise
        raise ScenarioError(f"--cache-dir {path.parent}: cannot write the reach cache ({error.os_reason})") from None


def _load(path: Path, key: str) -> NetworkReach | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["key"]) != key:
                return None
            a = {name: f[name] for name in _ARRAYS + _COMPONENT_ARRAYS}
            ex = {name: f[name] for name in _EXISTING_ARRAYS} if "ex_data" in f.files else None
    except (OSError, ValueError, KeyError, EOFError):
        return None  # unreadable entry: recompute and overwrite it
    s = a["scalars"]
    return NetworkReach(
        site_cost=sp.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=tuple(a["shape"])),
        before_cost=a["before_cost"], demand_snap_m=a["demand_snap_m"], site_snap_m=a["site_snap_m"],
        existing_snap_m=a["existing_snap_m"], demand_component=a["demand_component"],
        largest_component=int(s[0]), n_components=int(s[1]), n_nodes=int(s[2]), n_segments=int(s[3]),
        total_length_m=float(s[4]), limit_m=float(s[5]), max_snap_m=float(s[6]),
        existing_cost=None if ex is None else sp.csr_matrix(
            (ex["ex_data"], ex["ex_indices"], ex["ex_indptr"]), shape=tuple(ex["ex_shape"])),
        site_component=a["site_component"], existing_component=a["existing_component"],
        component_length_m=a["component_length_m"], columns=tuple(tuple(str(v) for v in row) for row in a["columns"]),
    )


# ---------------------------------------------------------------------------------------------
# scenario level


def walk_budgets_m(scenario: "Scenario") -> dict:
    """{(k, g): minutes_k * 60 * speed_g} in effective metres, for every serving pair.

    minutes_k is the type's ``walk_minutes``, or its decay's ``zero_minutes`` when it has one
    (the same time the straight-line rule uses).
    """
    groups = scenario.group_names
    return {(k, groups.index(g)): getattr(ft, "reach_minutes", ft.walk_minutes) * 60.0 * scenario.speed_of(g)
            for k, ft in enumerate(scenario.facility_types.values()) for g in ft.serves}


def _points(scenario: "Scenario"):
    demand_xy = np.column_stack([scenario.demand.x_m, scenario.demand.y_m])
    sites_xy = np.column_stack([scenario.sites.x_m, scenario.sites.y_m])
    ex = scenario.existing
    if ex is None or len(ex) == 0:
        return demand_xy, sites_xy, np.zeros((0, 2)), np.zeros(0, np.int64)
    types = scenario.type_names
    ex_type = np.array([types.index(t) for t in ex.columns["type"]], dtype=np.int64)
    return demand_xy, sites_xy, np.column_stack([ex.x_m, ex.y_m]), ex_type


def scenario_reach(scenario: "Scenario", cache_dir=None, per_existing: bool = False) -> tuple[NetworkReach, dict]:
    """Network reach for a scenario with ``walking.network``, from the cache when it holds it.

    ``cache_dir=None`` computes without caching. ``per_existing`` asks for ``existing_cost`` too
    (decay or existing capacities); a cached entry without it is then a miss and is replaced.
    Returns (reach, info) where info has the cache state ("hit", "miss" or "off") and timings.
    """
    budgets = walk_budgets_m(scenario)
    n_types = len(scenario.type_names)
    type_limit = np.zeros(n_types)
    for (k, _), budget in budgets.items():
        type_limit[k] = max(type_limit[k], budget)
    limit = max(budgets.values())
    demand_xy, sites_xy, existing_xy, existing_type = _points(scenario)

    t0 = time.perf_counter()
    path = None
    if cache_dir is not None:
        digest = hashlib.sha256()
        for part in (CACHE_VERSION, network_digest(scenario.network_path), scenario.crs, scenario.metric_crs,
                     repr(float(scenario.max_snap_m)), repr(float(limit)), type_limit.tobytes(),
                     f"oneway={'respect' if scenario.respect_oneway else 'ignore'}",
                     demand_xy.tobytes(), sites_xy.tobytes(), existing_xy.tobytes(), existing_type.tobytes()):
            digest.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
            digest.update(b"\0")
        key = digest.hexdigest()
        path = Path(cache_dir) / f"reach-{key[:40]}.npz"
        reach = _load(path, key)
        if reach is not None and (reach.existing_cost is not None or not per_existing):
            logger.info("walking network: reach from the cache (%s)", path)
            return reach, {"cache": "hit", "cache_file": str(path), "read_s": 0.0,
                           "reach_s": time.perf_counter() - t0}
    logger.info("walking network: reading %s", scenario.network_path)
    net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs, oneway=scenario.respect_oneway)
    check_network_overlap(scenario, net)
    t1 = time.perf_counter()
    logger.info("walking network: %d nodes; walking from %d sites (up to %.0f m)", net.n_nodes, len(sites_xy), limit)
    reach = compute_reach(net, demand_xy, sites_xy, existing_xy, existing_type, n_types, limit,
                          type_limit, scenario.max_snap_m, per_existing=per_existing)
    t2 = time.perf_counter()
    logger.debug("walking network: read in %.2f s, reach in %.2f s", t1 - t0, t2 - t1)
    if path is not None:
        _save(path, reach, key)
    return reach, {"cache": "off" if path is None else "miss", "cache_file": None if path is None else str(path),
                   "read_s": t1 - t0, "reach_s": t2 - t1}


def check_network_overlap(scenario: "Scenario", net: WalkNetwork) -> None:
    """Issue 12: a network that lies away from the demand points reaches nobody; refuse it with
    both boxes rather than report every point beyond max_snap_m."""
    from lifecircle.optimizer.inputs.geo import bbox_gap_m

    box = (lambda x, y: (float(np.min(x)), float(np.max(x)), float(np.min(y)), float(np.max(y))))
    mine = box(net.node_xy[:, 0], net.node_xy[:, 1])
    demand = box(scenario.demand.x_m, scenario.demand.y_m)
    gap = bbox_gap_m(mine, demand)
    if gap > scenario.max_snap_m:
        text = (lambda b: f"x {b[0]:,.0f}–{b[1]:,.0f}, y {b[2]:,.0f}–{b[3]:,.0f}")
        raise ScenarioError(
            f"{scenario.network_path}: the walking network lies {gap / 1000:,.1f} km from {scenario.demand.path.name}, "
            f"beyond max_snap_m {scenario.max_snap_m:g} m: {text(mine)} against {text(demand)} in "
            f"{scenario.metric_crs}; check the network's CRS (a file without one is read in the scenario's crs)"
        )


def network_coverage(scenario: "Scenario", cache_dir=None):
    """(coverage {(k, g): (I, J) CSR bool}, covered_before (I, G) bool, meta) by walking network."""
    return coverage_from_reach(scenario, *scenario_reach(scenario, cache_dir))


def coverage_from_reach(scenario: Scenario, reach: NetworkReach, info: dict):
    """:func:`network_coverage` of an already computed reach: covered_before is by the nearest
    existing facility of each type (``before_cost``)."""
    budgets = walk_budgets_m(scenario)
    n_i = len(scenario.demand)
    coverage = {}
    covered_before = np.zeros((n_i, len(scenario.group_names)), dtype=bool)
    for (k, g), budget in budgets.items():
        m = reach.site_cost.copy()
        m.data = within(m.data, budget)
        m.eliminate_zeros()
        coverage[(k, g)] = m.astype(bool)
        covered_before[:, g] |= within(reach.before_cost[:, k], budget)
    types, groups = scenario.type_names, scenario.group_names
    meta = {
        "radii_m": {f"{types[k]}/{groups[g]}": b for (k, g), b in budgets.items()},
        "network": reach_facts(scenario, reach) | {"cache": info["cache"],
                                                    "timings_s": {"read": info["read_s"], "reach": info["reach_s"]}},
    }
    return coverage, covered_before, meta


def reach_facts(scenario: "Scenario", reach: NetworkReach) -> dict:
    """What a planner needs to trust network reach: size, islands, and who is off the network."""
    people = np.column_stack([scenario.demand.columns[g] for g in scenario.group_names])
    on_island = (reach.demand_component >= 0) & (reach.demand_component != reach.largest_component)
    total = people.sum(axis=0)
    share = np.divide(people[on_island].sum(axis=0), total, out=np.zeros_like(total), where=total > 0)
    ex_ids = scenario.existing.ids if scenario.existing is not None else ()
    max_snap = reach.max_snap_m
    return {
        "file": str(scenario.network_path),
        "nodes": reach.n_nodes, "segments": reach.n_segments, "components": reach.n_components,
        "total_length_m": reach.total_length_m, "max_snap_m": max_snap,
        "demand_on_small_islands": {g: float(s) for g, s in zip(scenario.group_names, share)},
        "snap_demand": snap_stats(reach.demand_snap_m, reach.demand_snap_m <= max_snap, scenario.demand.ids),
        "snap_sites": snap_stats(reach.site_snap_m, reach.site_snap_m <= max_snap, scenario.sites.ids),
        "snap_existing": snap_stats(reach.existing_snap_m, reach.existing_snap_m <= max_snap, ex_ids),
        "sites_on_fragments": _on_fragments(reach, reach.site_component, scenario.sites.ids),
        "existing_on_fragments": _on_fragments(reach, reach.existing_component, ex_ids),
        **({"columns": dict(reach.columns)} if reach.columns else {}),
    }


def _on_fragments(reach: NetworkReach, component, ids) -> list:
    """[{id, fragment_length_m}] of the points snapped onto a component other than the largest:
    they can only walk, or be walked to, within that fragment (issue 12)."""
    if component is None or reach.component_length_m is None or len(component) == 0:
        return []
    on = np.flatnonzero((component >= 0) & (component != reach.largest_component))
    return [{"id": str(ids[i]), "fragment_length_m": round(float(reach.component_length_m[component[i]]), 1)}
            for i in on]


def network_facts(scenario: "Scenario") -> dict:
    """Facts for ``lifecircle network``: read and snap only, no shortest paths."""
    net = read_network(scenario.network_path, scenario.crs, scenario.metric_crs, oneway=scenario.respect_oneway)
    check_network_overlap(scenario, net)
    demand_xy, sites_xy, existing_xy, _ = _points(scenario)
    n_i, n_j = len(demand_xy), len(sites_xy)
    snap = snap_points(net, np.vstack([demand_xy, sites_xy, existing_xy]), scenario.max_snap_m)
    n_comp, labels, largest = net.components()
    comp = np.where(snap.ok[:n_i], labels[net.seg_a[snap.seg[:n_i]]], -1)
    reach = NetworkReach(
        site_cost=sp.csr_matrix((n_i, n_j)), before_cost=np.zeros((n_i, 0)),
        demand_snap_m=snap.dist_m[:n_i], site_snap_m=snap.dist_m[n_i:n_i + n_j],
        existing_snap_m=snap.dist_m[n_i + n_j:], demand_component=comp, largest_component=largest,
        n_components=n_comp, n_nodes=net.n_nodes, n_segments=net.n_segments,
        total_length_m=net.total_length_m, limit_m=0.0, max_snap_m=float(scenario.max_snap_m),
        **_components(net, snap, labels, n_i, n_j), columns=net.columns,
    )
    length_share = np.bincount(labels[net.seg_a], weights=net.length_m, minlength=n_comp)
    return reach_facts(scenario, reach) | {
        "features": net.n_features,
        "largest_component_length_share": float(length_share[largest] / max(length_share.sum(), 1e-300)),
        "crs": scenario.metric_crs,
    }
