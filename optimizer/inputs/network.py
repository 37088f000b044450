"""Walking networks: read street files (vector lines or OSMnx GraphML) and their columns.

The segment graph they become, and snapping points onto it, are in
:mod:`lifecircle.optimizer.inputs.network_graph` (its docstring states the model).

Accepted files: GeoPackage, GeoJSON or Shapefile of (Multi)LineStrings with optional columns
``length_m`` (metres, > 0; OSMnx's ``length`` is taken when there is no ``length_m``, once it is
seen to be metres), ``oneway`` (1/true/yes: only in drawing direction; -1/reverse: only against
it; 0/false/no/blank: both ways) and ``walk_factor`` (> 0, blank = 1; ``walk_facto``, its
Shapefile truncation, counts too); or a GraphML file as written by OSMnx (``x``/``y`` on nodes,
``length`` in metres on edges, optional ``geometry`` WKT and ``walk_factor`` on edges; a directed
graph's edges are walked only in their own direction). A file without a CRS is taken to be in the
scenario's CRS; coordinates that cannot be in the CRS they are read in are refused.

One-way rules (``oneway`` columns, a directed graph's single edges) are read only when
``oneway=True``. Scenarios pass ``walking.oneway: respect`` for that; by default they walk every
street both ways, since OSM's ``oneway`` is a rule for cars (issue 12).

An OpenStreetMap extract (``.osm.pbf``, a scenario's ``walking.network: {osm: file}``) is read
by :mod:`lifecircle.optimizer.inputs.network_osm` into the same lines the GeoPackage written by
``lifecircle network --from-osm`` holds, so both give the same network (issue 17).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.network_graph import WalkNetwork, build_network, join_line_ends
from lifecircle.optimizer.inputs.network_osm import OSM_RULES, OSM_SUFFIXES, STEPS_FACTOR, read_osm_walk

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
GRAPHML_SUFFIXES = (".graphml",)
NETWORK_SUFFIXES = VECTOR_SUFFIXES + GRAPHML_SUFFIXES
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")
_ONEWAY_BOTH = {"", "0", "0.0", "false", "no", "f", "n", "none", "nan"}
_ONEWAY_FWD = {"1", "1.0", "true", "yes", "t", "y"}
_ONEWAY_BWD = {"-1", "-1.0", "reverse"}
# (column read, the names it may have): first name found wins. Shapefile cuts names to 10
# characters; OSMnx writes ``length`` (metres) where our own files say ``length_m``.
LENGTH_COLUMNS = ("length_m", "length")
FACTOR_COLUMNS = ("walk_factor", "walk_facto")
# OSMnx's ``length`` is taken as metres only when it agrees with the drawn length within this
# factor (median over lines): a ``length`` in km, feet or degrees is refused, not guessed.
LENGTH_ALIAS_RATIO = (0.5, 2.0)


def network_files(path: Path) -> list:
    """The files whose bytes define a network: a Shapefile's sidecars count too."""
    path = Path(path)
    files = [path]
    if path.suffix.lower() == ".shp":
        for suffix in SHAPEFILE_SIDECARS:
            for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
                if candidate.is_file():
                    files.append(candidate)
                    break
    return files


def is_osm_extract(path) -> bool:
    """Whether ``path`` names an OpenStreetMap extract (.osm.pbf or .osm)."""
    return Path(path).name.lower().endswith(OSM_SUFFIXES)


def network_digest(path: Path) -> str:
    digest = hashlib.sha256()
    if is_osm_extract(path):  # the walking rules shape the network as much as the bytes do
        digest.update(OSM_RULES.encode("ascii"))
    for p in network_files(path):
        digest.update(p.suffix.lower().encode("ascii"))
        digest.update(p.read_bytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# reading


def read_network(path, scenario_crs: str, metric_crs: str, oneway: bool = True) -> WalkNetwork:
    """Read a walking network file into a :class:`WalkNetwork` in ``metric_crs``.

    ``oneway``: read the file's one-way rules (a scenario asks with ``walking.oneway: respect``);
    False walks every street both ways.

    Raises :class:`ScenarioError` (one line naming the file) when the file does not parse, has
    no line geometry, has a CRS that cannot be transformed, has coordinates outside its CRS's
    area, or has a non-positive length or factor.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: walking network file does not exist")
    suffix = path.suffix.lower()
    if is_osm_extract(path):
        return _read_osm(path, scenario_crs, metric_crs)
    if suffix in GRAPHML_SUFFIXES:
        return _read_graphml(path, scenario_crs, metric_crs, oneway)
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, scenario_crs, metric_crs, oneway)
    raise ScenarioError(
        f"{path}: walking network must be one of {', '.join(NETWORK_SUFFIXES)}, not '{path.suffix}'"
    )


def _transformer(path: Path, source, target):
    """A pyproj transformer source -> target, or None when they are the same CRS."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError, ProjError

    try:
        src = CRS.from_user_input(source)
    except (CRSError, TypeError, ValueError):
        raise ScenarioError(f"{path}: unknown CRS {str(source)[:80]!r}") from None
    dst = CRS.from_user_input(target)
    if src == dst:
        return None
    try:
        return Transformer.from_crs(src, dst, always_xy=True)
    except ProjError:
        raise ScenarioError(
            f"{path}: CRS {src.name!r} cannot be transformed to the scenario's {dst.name!r}; "
            "reproject the network to the scenario CRS"
        ) from None


def _project(path: Path, xy: np.ndarray, file_crs, scenario_crs: str, metric_crs: str) -> np.ndarray:
    """File coordinates -> metric CRS (a file without a CRS is in the scenario CRS)."""
    source = file_crs if file_crs is not None else scenario_crs
    transformer = _transformer(path, source, metric_crs)
    if transformer is None or len(xy) == 0:
        _check_extent(path, xy, source)
        return np.asarray(xy, dtype=float)
    with np.errstate(invalid="ignore"):
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
    out = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    if not np.all(np.isfinite(out)):
        from pyproj import CRS

        hint = ""
        if CRS.from_user_input(source).is_geographic and np.abs(xy).max() > 360:
            hint = " (the coordinates look projected: a GeoJSON without a 'crs' member is read as WGS84)"
        raise ScenarioError(
            f"{path}: coordinates in CRS {str(source)[:60]!r} cannot be transformed to the scenario's "
            f"{metric_crs}{hint}; reproject the network to the scenario CRS"
        )
    _check_extent(path, xy, source)
    return out


def _check_extent(path: Path, xy: np.ndarray, source) -> None:
    """Coordinates that cannot be in the CRS they are read in (lon/lat in a file without a CRS
    under a projected scenario: every node would merge and every point lie beyond max_snap_m)."""
    from pyproj import CRS

    from lifecircle.optimizer.inputs.geo import check_extent

    if len(xy):
        check_extent(xy[:, 0], xy[:, 1], CRS.from_user_input(source), str(path))


def _pick_layer(path: Path):
    import pyogrio

    from lifecircle.optimizer.inputs.geo import read_quietly

    try:
        layers = read_quietly(lambda: pyogrio.list_layers(path), path)
    except ScenarioError:
        raise
    except Exception as error:  # pyogrio raises several types; all mean "not readable"
        raise ScenarioError(f"{path}: walking network does not parse: {_first_line(error)}") from None
    if len(layers) <= 1:
        return None
    lines = [str(name) for name, kind in layers if kind and "line" in str(kind).lower()]
    if len(lines) == 1:
        return lines[0]
    if not lines:
        kinds = ", ".join(f"{n} ({k})" for n, k in layers)
        raise ScenarioError(f"{path}: walking network has no line geometry; layers: {kinds}")
    raise ScenarioError(
        f"{path}: walking network has several line layers ({', '.join(lines)}); save one as its own file"
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _read_vector(path: Path, scenario_crs: str, metric_crs: str, oneway: bool = True) -> WalkNetwork:
    import pyogrio
    import shapely

    from lifecircle.optimizer.inputs.geo import read_quietly

    layer = _pick_layer(path)
    try:
        meta, _, wkb, fields = read_quietly(lambda: pyogrio.raw.read(path, layer=layer), path)
    except ScenarioError:
        raise
    except Exception as error:
        raise ScenarioError(f"{path}: walking network does not parse: {_first_line(error)}") from None
    if wkb is None or len(wkb) == 0:
        raise ScenarioError(f"{path}: walking network has no features")
    geoms = shapely.from_wkb(wkb)
    kind = shapely.get_type_id(geoms)  # 1 LineString, 5 MultiLineString; -1 missing
    is_line = np.isin(kind, (1, 5)) & ~shapely.is_empty(geoms)
    if not is_line.any():
        found = sorted({shapely.get_type_id(g) for g in geoms[:100] if g is not None} - {-1})
        names = {0: "Point", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon", 7: "GeometryCollection"}
        what = ", ".join(names.get(int(k), str(k)) for k in found) or "no geometry"
        raise ScenarioError(f"{path}: walking network has no line geometry (found {what})")
    if not is_line.all():
        i = int(np.flatnonzero(~is_line)[0])
        if kind[i] == -1 or shapely.is_empty(geoms[i]):
            raise ScenarioError(f"{path} feature {i + 1}: has no geometry; give it its line or delete it")
        raise ScenarioError(f"{path} feature {i + 1}: not a LineString; a walking network holds lines only")
    names = [str(n) for n in meta["fields"]]
    columns = dict(zip(names, fields))
    n = len(geoms)
    length_col = next((c for c in LENGTH_COLUMNS if c in columns), None)
    factor_col = next((c for c in FACTOR_COLUMNS if c in columns), None)
    length = _positive_column(columns.get(length_col), path, length_col, n, default=np.nan)
    factor = _positive_column(columns.get(factor_col), path, factor_col, n, default=1.0)
    if oneway:
        fwd, bwd = _oneway_column(columns.get("oneway"), path, n)
    else:
        fwd, bwd = np.ones(n, dtype=bool), np.ones(n, dtype=bool)

    parts, feature_of_part = shapely.get_parts(geoms, return_index=True)
    coords, part_of_coord = shapely.get_coordinates(parts, return_index=True)
    coords = _project(path, coords, meta.get("crs"), scenario_crs, metric_crs)
    if length_col not in (None, LENGTH_COLUMNS[0]):
        _check_length_alias(path, length_col, length, coords, part_of_coord, feature_of_part, n)
    used = (("length", length_col or "drawn geometry"), ("walk_factor", factor_col or "none (1)"),
            ("oneway", _oneway_used("oneway" in columns, oneway, "column 'oneway'")))
    coords, part_of_coord = join_line_ends(coords, part_of_coord)
    return build_network(path, coords, part_of_coord, feature_of_part, length, factor, fwd, bwd,
                  n_features=n, columns=used)


def _read_osm(path: Path, scenario_crs: str, metric_crs: str) -> WalkNetwork:
    """An OSM extract's pedestrian network, built exactly as its ``--from-osm`` GeoPackage reads:
    the same lon/lat vertices, the same per-edge length_m and walk_factor, both ways."""
    walk = read_osm_walk(path)
    coords = _project(path, walk.lonlat, "EPSG:4326", scenario_crs, metric_crs)
    coords, part_of_coord = join_line_ends(coords, walk.edge_of_coord)
    n = walk.n_edges
    both = np.ones(n, dtype=bool)
    used = (("length", "OSM: geodesic length of each edge"),
            ("walk_factor", f"OSM: steps {STEPS_FACTOR:g}, other ways 1"),
            ("oneway", "OSM oneway ignored: every way walked both ways (a rule for cars)"))
    return build_network(path, coords, part_of_coord, np.arange(n), walk.length_m, walk.walk_factor,
                         both, both, n_features=n, columns=used)


def _oneway_used(present: bool, respected: bool, what: str) -> str:
    if not present:
        return "none: every street both ways"
    return f"{what}, respected (walking.oneway: respect)" if respected else \
        f"{what} ignored: every street both ways (walking.oneway: ignore)"


def _check_length_alias(path: Path, column: str, length, coords, part_of_coord, feature_of_part, n: int):
    """An alias length column (OSMnx ``length``) must be metres: its median ratio to the drawn
    length, in the metric CRS, is within ``LENGTH_ALIAS_RATIO``; else refuse, never rescale."""
    same = part_of_coord[1:] == part_of_coord[:-1]
    start = np.flatnonzero(same)
    feature = np.asarray(feature_of_part)[part_of_coord[start]]
    drawn = np.bincount(feature, weights=np.hypot(*(coords[start + 1] - coords[start]).T), minlength=n)
    ok = np.isfinite(length) & (drawn > 0)
    if not ok.any():
        return
    ratio = float(np.median(length[ok] / drawn[ok]))
    low, high = LENGTH_ALIAS_RATIO
    if not low <= ratio <= high:
        raise ScenarioError(
            f"{path}, column '{column}': its values are {ratio:.3g} × the drawn length (median), so they "
            f"are not metres; rename the column to length_m if they are, or drop it"
        )


def _positive_column(values, path: Path, column: str, n: int, default: float) -> np.ndarray:
    """Optional numeric column: blanks take ``default``; zero, negative or text is an error."""
    if values is None:
        return np.full(n, default)
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":  # the usual case, kept vectorised for city-sized files
        out = arr.astype(float)
        blank = np.isnan(out)
        bad = ~blank & ~(np.isfinite(out) & (out > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScenarioError(
                f"{path} feature {i + 1}, column '{column}': value {format(out[i], 'g')!r} must be a number > 0"
            )
        return np.where(blank, default, out)
    import pandas as pd

    raw = pd.Series(values, dtype=object)
    # numbers print as the user wrote them (-5, not -5.0); NaN and None are blanks
    text = raw.map(lambda v: "" if v is None or v != v else
                   format(float(v), "g") if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                   else str(v).strip())
    out = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
    blank = (text == "").to_numpy() | raw.isna().to_numpy()
    bad = (np.isnan(out) & ~blank) | ~np.isfinite(np.where(blank, 1.0, out)) | (np.where(blank, 1.0, out) <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioError(
            f"{path} feature {i + 1}, column '{column}': value {text.iloc[i]!r} must be a number > 0"
        )
    return np.where(blank, default, out)


def _oneway_column(values, path: Path, n: int):
    """(forward allowed, backward allowed) per feature from an optional ``oneway`` column."""
    fwd, bwd = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    if values is None:
        return fwd, bwd
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        text = np.where(arr, "1", "0")
    elif arr.dtype.kind in "iuf":  # numbers read as text: 1, -1, 0 and blank (NaN) are valid
        text = np.array(["" if np.isnan(v) else format(v, "g") for v in arr.astype(float)], dtype=object)
    else:
        text = np.array(["" if v is None else str(v).strip().lower() for v in arr], dtype=object)
    only_fwd = np.isin(text, list(_ONEWAY_FWD))
    only_bwd = np.isin(text, list(_ONEWAY_BWD))
    bad = ~(only_fwd | only_bwd | np.isin(text, list(_ONEWAY_BOTH)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioError(
            f"{path} feature {i + 1}, column 'oneway': value {text[i]!r} is not one of "
            "1/true/yes (drawing direction), -1/reverse (against it), 0/false/no/blank (both)"
        )
    return fwd & ~only_bwd, bwd & ~only_fwd


def _read_graphml(path: Path, scenario_crs: str, metric_crs: str, oneway: bool = True) -> WalkNetwork:
    """OSMnx-style GraphML, parsed with the standard library (no osmnx or networkx needed)."""
    import xml.etree.ElementTree as ET

    import shapely

    keys = {}  # key id -> attribute name
    edge_keys = set()
    graph_data = {}
    directed_default = False
    node_xy = {}
    edges = []  # (source, target, directed, data)
    stack = []
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if event == "start":
                stack.append(tag)
                if tag == "graph" and stack.count("graph") == 1:
                    directed_default = elem.get("edgedefault", "directed") == "directed"
                continue
            stack.pop()
            if tag == "key":
                keys[elem.get("id")] = elem.get("attr.name") or elem.get("id")
                if elem.get("for") in ("edge", "all"):
                    edge_keys.add(keys[elem.get("id")])
            elif tag == "data" and stack and stack[-1] == "graph":
                graph_data[keys.get(elem.get("key"), elem.get("key"))] = (elem.text or "").strip()
            elif tag == "node":
                data = {keys.get(d.get("key"), d.get("key")): (d.text or "").strip()
                        for d in elem if d.tag.rsplit("}", 1)[-1] == "data"}
                node_xy[elem.get("id")] = (data.get("x"), data.get("y"))
                elem.clear()
            elif tag == "edge":
                data = {keys.get(d.get("key"), d.get("key")): (d.text or "").strip()
                        for d in elem if d.tag.rsplit("}", 1)[-1] == "data"}
                directed = elem.get("directed")
                directed = directed_default if directed is None else directed == "true"
                edges.append((elem.get("source"), elem.get("target"), directed, data))
                elem.clear()
    except (ET.ParseError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: GraphML does not parse: {_first_line(error)}") from None
    if not node_xy:
        raise ScenarioError(f"{path}: GraphML has no nodes; expected an OSMnx graph with x/y on nodes")
    if not edges:
        raise ScenarioError(f"{path}: walking network has no line geometry (GraphML has no edges)")
    if "length" not in edge_keys:
        raise ScenarioError(f"{path}: GraphML has no 'length' attribute on edges; save the graph with edge lengths in metres")

    ids = list(node_xy)
    index = {node: n for n, node in enumerate(ids)}
    xy = np.empty((len(ids), 2))
    for n, node in enumerate(ids):
        x, y = node_xy[node]
        try:
            xy[n] = (float(x), float(y))
        except (TypeError, ValueError):
            raise ScenarioError(f"{path} node {node}: x/y {x!r}, {y!r} are not numbers; OSMnx graphs have x/y on every node") from None
    if not np.all(np.isfinite(xy)):
        node = ids[int(np.flatnonzero(~np.isfinite(xy).all(axis=1))[0])]
        raise ScenarioError(f"{path} node {node}: coordinates are not finite")
    n_e = len(edges)
    length, factor = np.empty(n_e), np.ones(n_e)
    directed = np.zeros(n_e, dtype=bool)
    wkt = np.full(n_e, None, dtype=object)
    for e, (u, v, is_directed, data) in enumerate(edges):
        name = f"edge {u}->{v}"
        if u not in index or v not in index:
            raise ScenarioError(f"{path} {name}: refers to a node that is not in the file")
        length[e] = _positive_number(data.get("length"), path, name, "length")
        if data.get("walk_factor", "") != "":
            factor[e] = _positive_number(data["walk_factor"], path, name, "walk_factor")
        directed[e] = is_directed
        wkt[e] = data.get("geometry") or None
    geoms = shapely.from_wkt(wkt, on_invalid="ignore")
    broken = (wkt != None) & (shapely.get_type_id(geoms) != 1)  # noqa: E711 - elementwise
    if broken.any():
        e = int(np.flatnonzero(broken)[0])
        raise ScenarioError(f"{path} edge {edges[e][0]}->{edges[e][1]}: geometry {str(wkt[e])[:40]!r} is not a WKT LineString")

    # Each edge: its u node, the geometry's inner vertices, its v node; all projected in one go.
    u_xy = xy[[index[u] for u, _, _, _ in edges]]
    v_xy = xy[[index[v] for _, v, _, _ in edges]]
    inner, inner_edge = shapely.get_coordinates(geoms, return_index=True)
    first = np.searchsorted(inner_edge, np.arange(n_e))
    count = np.bincount(inner_edge, minlength=n_e)
    has = count > 0
    # a geometry stored from v to u (an undirected graph may keep either order) is read backwards
    start_xy = inner[np.minimum(first, max(len(inner) - 1, 0))] if len(inner) else np.zeros((n_e, 2))
    backwards = has & (np.hypot(*(start_xy - v_xy).T) < np.hypot(*(start_xy - u_xy).T))
    pos = np.arange(len(inner)) - first[inner_edge]
    pos = np.where(backwards[inner_edge], count[inner_edge] - 1 - pos, pos)
    keep = (pos > 0) & (pos < count[inner_edge] - 1)  # the ends are the nodes themselves
    n_inner = np.maximum(count - 2, 0)
    sizes = n_inner + 2
    offset = np.r_[0, np.cumsum(sizes)[:-1]]
    coords = np.empty((int(sizes.sum()), 2))
    coords[offset] = u_xy
    coords[offset + sizes - 1] = v_xy
    coords[offset[inner_edge[keep]] + pos[keep]] = inner[keep]
    coords = _project(path, coords, graph_data.get("crs") or None, scenario_crs, metric_crs)
    part_of_coord = np.repeat(np.arange(n_e), sizes)
    # an OSMnx graph from OSM XML keeps one edge for a one-way street: walked one way only when asked
    one_way = directed if oneway else np.zeros(n_e, dtype=bool)
    used = (("length", "edge attribute 'length'"),
            ("walk_factor", "edge attribute 'walk_factor'" if "walk_factor" in edge_keys else "none (1)"),
            ("oneway", _oneway_used(bool(directed.any()), oneway, "directed edges")))
    return build_network(path, coords, part_of_coord, np.arange(n_e), length, factor,
                  np.ones(n_e, dtype=bool), ~one_way, n_features=n_e, columns=used)


def _positive_number(text, path: Path, name: str, attr: str) -> float:
    if text is None or text == "":
        raise ScenarioError(f"{path} {name}: missing '{attr}'; every edge needs a length in metres")
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{path} {name}: '{attr}' value {text!r} is not a number") from None
    if not np.isfinite(value) or value <= 0:
        raise ScenarioError(f"{path} {name}: '{attr}' value {text!r} must be a number > 0")
    return value
