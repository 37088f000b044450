"""Read classic location instances into
:class:`~lifecircle.optimizer.classic.instance.ClassicInstance`: arrays, validated once.

Formats
-------
``orlib-pmed``
    OR-Library p-median (Beasley 1990): first line ``n_vertices n_edges p``, then ``i j cost`` per
    undirected edge, vertices from 1; an edge given twice keeps its last line. Shortest paths over
    the graph give the cost matrix; every vertex is a demand point of weight 1 and a site.
``xy-weights``
    First line ``n``, then ``n`` lines ``x y``; a second file holds ``n`` weights, one per line.
    Every point is demand and a candidate site; cost is planar Euclidean distance.
``matrix-csv``
    One row per reachable (demand, site) pair with named columns for demand id, site id, cost and
    optionally the demand weight and the site cost; a missing pair is unreachable.
``cfl``
    Cordeau–Furini–Ljubić budgeted-MCLP instances, read by :mod:`lifecircle.optimizer.classic.cfl`.

Every malformed line is reported as one :class:`~optimizer.errors.ScenarioError` naming the file
and the line number.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import scipy.sparse as sp

from lifecircle.models.classic import CostTable

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.guards import MAX_COORDINATE, MAX_NUMBER, read_text
from lifecircle.optimizer.classic.instance import ClassicInstance

FORMATS = ("orlib-pmed", "xy-weights", "matrix-csv", "cfl")  # cfl: classic/cfl.py (issue 8)


# ---- line parsing ---------------------------------------------------------------------------------

def _read_lines(path: str) -> list[tuple[int, list[str]]]:
    """(line number, tokens) of every non-blank line."""
    text = read_text(path, at=lambda no: f"{path}:{no}")
    return [(no, toks) for no, toks in enumerate((ln.split() for ln in text.splitlines()), 1)
            if toks]


def _nonnegative_values(path: str, rows: list[tuple[int, list[str]]], what: str) -> np.ndarray:
    """One number >= 0 per row (weights, site costs), or an error at the first bad line."""
    values = _table(path, rows, 1, f"one {what}").reshape(-1)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise ScenarioError(f"{path}:{rows[int(bad[0])][0]}: a {what} must be a number >= 0")
    huge = np.flatnonzero(values > MAX_NUMBER)
    if huge.size:
        no, toks = rows[int(huge[0])]
        raise ScenarioError(f"{path}:{no}: a {what} of {toks[-1]} is beyond the limit "
                            f"{MAX_NUMBER:g}; values this large overflow the model")
    return values


def _table(path: str, rows: list[tuple[int, list[str]]], ncols: int, what: str) -> np.ndarray:
    """Rows of ``ncols`` numbers as a float array, or an error at the first bad line."""
    for no, toks in rows:
        if len(toks) != ncols:
            raise ScenarioError(f"{path}:{no}: expected {what} ({ncols} numbers), "
                                f"found {len(toks)} fields: {' '.join(toks)[:60]!r}")
    try:
        return np.array([toks for _, toks in rows], dtype=float).reshape(len(rows), ncols)
    except ValueError:
        for no, toks in rows:
            for tok in toks:
                try:
                    float(tok)
                except ValueError:
                    raise ScenarioError(f"{path}:{no}: {tok!r} is not a number; expected "
                                        f"{what}") from None
        raise


def _header_ints(path: str, rows, count: int, what: str) -> list[int]:
    if not rows:
        raise ScenarioError(f"{path}:1: the file is empty; expected {what}")
    no, toks = rows[0]
    if len(toks) != count or not all(t.lstrip("+").isdigit() for t in toks):
        raise ScenarioError(f"{path}:{no}: expected {what}, found {' '.join(toks)[:60]!r}")
    return [int(t) for t in toks]


def _name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


# ---- the three formats ----------------------------------------------------------------------------

# The shortest paths of an OR-Library graph are one dense n x n float64 matrix, and the cost
# table built from it holds four times that at its peak. OR-Library's largest (pmed40, 900
# vertices) needs 6.2 MiB; a header claiming 100,000 would ask for 74.5 GiB before any check.
ORLIB_DENSE_LIMIT_BYTES = 1 << 30


def _check_orlib_memory(path: str, no: int, n: int) -> None:
    """Refuse a vertex count whose distance matrix passes the memory limit, before reading on."""
    need = n * n * 8
    if need > ORLIB_DENSE_LIMIT_BYTES:
        most = int((ORLIB_DENSE_LIMIT_BYTES // 8) ** 0.5)
        raise ScenarioError(
            f"{path}:{no}: the first line claims {n} vertices; their dense {n} x {n} distance matrix "
            f"needs {need / 2**30:.1f} GiB, above the limit of {ORLIB_DENSE_LIMIT_BYTES / 2**30:g} GiB "
            f"(at most {most:,} vertices)")


def _check_orlib_edges(path: str, no: int, n: int, n_edge_lines: int) -> None:
    """Refuse a vertex count the file's own edge lines cannot touch (isolated vertices aside,
    a header claiming more is not this file's)."""
    if n > max(1, 2 * n_edge_lines):
        raise ScenarioError(
            f"{path}:{no}: the first line claims {n} vertices but the file's {n_edge_lines} edge "
            f"lines can touch at most {2 * n_edge_lines}; the header does not match the file")


def read_orlib_pmed(path: str) -> ClassicInstance:
    """An OR-Library ``pmedN.txt``: the graph's shortest paths as the cost matrix."""
    from scipy.sparse.csgraph import shortest_path

    rows = _read_lines(path)
    n, n_edges, p = _header_ints(path, rows, 3, "'n_vertices n_edges p' as three integers")
    edges = rows[1:]
    _check_orlib_memory(path, rows[0][0], n)
    if len(edges) != n_edges:
        no = edges[-1][0] + 1 if edges else rows[0][0] + 1
        if len(edges) > n_edges:
            no = edges[n_edges][0]
        raise ScenarioError(f"{path}:{no}: the first line announces {n_edges} edges but the file "
                            f"has {len(edges)} edge lines")
    table = _table(path, edges, 3, "an edge 'i j cost'")
    ij = table[:, :2]
    bad = np.flatnonzero((ij != np.round(ij)).any(axis=1) | (ij < 1).any(axis=1)
                         | (ij > n).any(axis=1) | (table[:, 2] < 0) | ~np.isfinite(table[:, 2]))
    if bad.size:
        no, toks = edges[int(bad[0])]
        raise ScenarioError(f"{path}:{no}: edge {' '.join(toks)!r} needs vertices in 1..{n} and a "
                            "cost >= 0")
    _check_orlib_edges(path, rows[0][0], n, len(edges))
    i = ij[:, 0].astype(np.int64) - 1
    j = ij[:, 1].astype(np.int64) - 1
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    # An edge given twice keeps its last line: unique over the reversed list keeps the last.
    _, last = np.unique((lo * n + hi)[::-1], return_index=True)
    last = len(lo) - 1 - last
    loop = lo[last] == hi[last]
    last = last[~loop]
    graph = sp.csr_matrix((table[last, 2], (lo[last], hi[last])), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    ids = tuple(range(1, n + 1))
    return ClassicInstance(_name(path), ids, ids, np.ones(n), costs=CostTable.from_dense(dist),
                           p=p, source=path)


def read_xy_weights(path: str, weights_path: str | None) -> ClassicInstance:
    """Coordinates (first line n, then ``x y`` lines) and a weights file (n lines)."""
    rows = _read_lines(path)
    (n,) = _header_ints(path, rows, 1, "the number of points n")
    points = rows[1:]
    if len(points) != n:
        no = points[n][0] if len(points) > n else (points[-1][0] + 1 if points else 2)
        raise ScenarioError(f"{path}:{no}: the first line announces {n} points but the file has "
                            f"{len(points)} coordinate lines")
    xy = _table(path, points, 2, "a point 'x y'")
    if not np.all(np.abs(xy) <= MAX_COORDINATE):  # also NaN; 1e300 overflows the KD-tree
        no = points[int(np.flatnonzero(~(np.abs(xy) <= MAX_COORDINATE).all(axis=1))[0])][0]
        raise ScenarioError(f"{path}:{no}: coordinates must be finite numbers within "
                            f"±{MAX_COORDINATE:g}")
    if weights_path is None:
        raise ScenarioError(f"{path}: the xy-weights format needs --weights FILE (n weights, one "
                            "per line)")
    wrows = _read_lines(weights_path)
    if len(wrows) != n:
        no = wrows[n][0] if len(wrows) > n else (wrows[-1][0] + 1 if wrows else 1)
        raise ScenarioError(f"{weights_path}:{no}: expected {n} weights (one per point of {path}), "
                            f"found {len(wrows)}")
    w = _nonnegative_values(weights_path, wrows, "weight")
    ids = tuple(range(1, n + 1))
    return ClassicInstance(_name(path), ids, ids, w, demand_xy=xy, site_xy=xy, source=path)


def read_matrix_csv(path: str, demand_col: str = "demand", site_col: str = "site",
                    cost_col: str = "cost", weight_col: str | None = None,
                    site_cost_col: str | None = None) -> ClassicInstance:
    """A long cost matrix: one CSV row per reachable (demand, site) pair.

    Ids are kept as the strings in the file, in order of first appearance. A weight (and a site
    cost) repeats on every row of its point; differing values for one point are an error. A cost
    of ``inf`` is the same as a missing row.
    """
    # UTF-8 (a byte-order mark dropped) or, with a warning, GB18030: Excel's CSV on Chinese Windows.
    with io.StringIO(read_text(path, at=lambda no: f"{path}:{no}"), newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ScenarioError(f"{path}:1: the file is empty; expected a header row")
        header = [h.strip() for h in header]
        wanted = {"--demand-col": demand_col, "--site-col": site_col, "--cost-col": cost_col}
        if weight_col:
            wanted["--weight-col"] = weight_col
        if site_cost_col:
            wanted["--site-cost-col"] = site_cost_col
        col = {}
        for option, name in wanted.items():
            if name not in header:
                raise ScenarioError(f"{path}:1: no column {name!r} ({option}); the header has "
                                    f"{', '.join(header)}")
            col[option] = header.index(name)
        width = max(col.values()) + 1
        demand_of, site_of = {}, {}
        d_idx, s_idx, costs, lines = [], [], [], []
        weight, weight_line, scost, scost_line = {}, {}, {}, {}
        for no, row in enumerate(reader, 2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) < width:
                raise ScenarioError(f"{path}:{no}: expected {len(header)} fields, found {len(row)}")
            did, sid = row[col["--demand-col"]].strip(), row[col["--site-col"]].strip()
            if not did or not sid:
                raise ScenarioError(f"{path}:{no}: empty demand or site id")
            cost = _number(path, no, row[col["--cost-col"]], cost_col, inf_ok=True)
            i = demand_of.setdefault(did, len(demand_of))
            j = site_of.setdefault(sid, len(site_of))
            if weight_col:
                _same(path, no, weight, weight_line, i, did, "weight",
                      _number(path, no, row[col["--weight-col"]], weight_col))
            if site_cost_col:
                _same(path, no, scost, scost_line, j, sid, "site cost",
                      _number(path, no, row[col["--site-cost-col"]], site_cost_col))
            if cost == np.inf:
                continue
            d_idx.append(i)
            s_idx.append(j)
            costs.append(cost)
            lines.append(no)
    if not demand_of:
        raise ScenarioError(f"{path}:2: no (demand, site) rows after the header; the file needs at "
                            "least one")
    n, m = len(demand_of), len(site_of)
    d_arr, s_arr = np.asarray(d_idx, dtype=np.int64), np.asarray(s_idx, dtype=np.int64)
    key = d_arr * max(m, 1) + s_arr
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(np.diff(key[order]) == 0)
    if dup.size:
        a, b = lines[order[dup[0]]], lines[order[dup[0] + 1]]
        raise ScenarioError(f"{path}:{b}: the pair on this line was already given on line {a}; "
                            "give each (demand, site) pair once")
    table = CostTable.from_pairs(n, m, d_arr, s_arr, np.asarray(costs, dtype=float))
    w = np.ones(n) if not weight_col else np.array([weight[i] for i in range(n)])
    sc = None if not site_cost_col else np.array([scost[j] for j in range(m)])
    return ClassicInstance(_name(path), tuple(demand_of), tuple(site_of), w, costs=table,
                           site_costs=sc, source=path)


def _number(path: str, no: int, text: str, column: str, inf_ok: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{path}:{no}: column {column!r} holds {text.strip()!r}, not a number"
                            ) from None
    if np.isnan(value) or value < 0:
        raise ScenarioError(f"{path}:{no}: column {column!r} holds {text.strip()!r}; it must be "
                            ">= 0")
    if value > MAX_NUMBER and not (inf_ok and value == np.inf):  # an inf cost: unreachable
        raise ScenarioError(f"{path}:{no}: column {column!r} holds {text.strip()!r}, beyond the "
                            f"limit {MAX_NUMBER:g}; values this large overflow the model")
    return value


def _same(path, no, values: dict, where: dict, key: int, ident: str, what: str, value: float):
    if key in values and values[key] != value:
        raise ScenarioError(f"{path}:{no}: {what} {value:g} of {ident!r} differs from "
                            f"{values[key]:g} on line {where[key]}; give one {what} per id")
    values.setdefault(key, value)
    where.setdefault(key, no)


def read_site_costs(path: str, site_ids: tuple) -> np.ndarray:
    """Site costs: either one number per line in site order, or ``site_id cost`` lines."""
    rows = _read_lines(path)
    m = len(site_ids)
    if rows and all(len(t) == 2 for _, t in rows):
        index = {str(s): k for k, s in enumerate(site_ids)}
        out = np.full(m, np.nan)
        for no, (sid, text) in rows:
            if sid not in index:
                raise ScenarioError(f"{path}:{no}: unknown site id {sid!r}")
            out[index[sid]] = _number(path, no, text, "cost")
        if np.isnan(out).any():
            missing = site_ids[int(np.flatnonzero(np.isnan(out))[0])]
            raise ScenarioError(f"{path}: no cost for site {missing!r}; give every site a cost")
        return out
    if len(rows) != m:
        no = rows[m][0] if len(rows) > m else (rows[-1][0] + 1 if rows else 1)
        raise ScenarioError(f"{path}:{no}: expected {m} site costs (one per line, or "
                            f"'site_id cost' lines), found {len(rows)} lines")
    return _nonnegative_values(path, rows, "site cost")


def read_known(path: str) -> dict[str, float]:
    """Best known values, lines ``name value``; lines whose value is not a number (headers) are
    skipped."""
    known = {}
    for _, toks in _read_lines(path):
        if len(toks) >= 2:
            try:
                known[toks[0]] = float(toks[-1])
            except ValueError:
                continue
    return known


def load_instance(path: str, fmt: str, *, weights: str | None = None,
                  site_costs: str | None = None, demand_col: str = "demand",
                  site_col: str = "site", cost_col: str = "cost", weight_col: str | None = None,
                  site_cost_col: str | None = None) -> ClassicInstance:
    """Read ``path`` in format ``fmt`` (one of :data:`FORMATS`), with optional site costs."""
    if fmt == "orlib-pmed":
        inst = read_orlib_pmed(path)
    elif fmt == "xy-weights":
        inst = read_xy_weights(path, weights)
    elif fmt == "matrix-csv":
        inst = read_matrix_csv(path, demand_col, site_col, cost_col, weight_col, site_cost_col)
    elif fmt == "cfl":
        from lifecircle.optimizer.classic.cfl import read_cfl

        inst = read_cfl(path)
    else:
        raise ScenarioError(f"--format: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if site_costs is not None:
        inst = inst.with_site_costs(read_site_costs(site_costs, inst.site_ids))
    return inst
