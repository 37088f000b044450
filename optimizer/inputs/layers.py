"""One scenario layer (demand, sites, existing) from its source and in its coordinate system (issue 17).

A layer comes from a file (:func:`tables.read_rows`) or a database table or query
(:mod:`optimizer.inputs.postgis`), and its x/y are in the scenario's ``crs``, in the CRS the file
declares, or in the CRS of its own key (``demand_crs``, ``sites_crs``, ``existing_crs``), which
may be ``GCJ-02`` or ``BD-09`` (:mod:`optimizer.inputs.chinacrs`). :func:`layer_in_crs` converts
GCJ-02 and BD-09 to WGS84 before the trust checks (area of use, layers overlapping) and the
reprojection to the metric CRS see the layer, so those checks work on true positions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from lifecircle.optimizer.errors import LifecircleWarning, ScenarioError
from lifecircle.optimizer.inputs.chinacrs import LayerCrs, out_of_china, output_columns, parse_layer_crs, to_wgs84

# The per-layer keys of issue 17, exactly: each overrides `crs` for its layer.
LAYER_CRS_KEYS = {"demand": "demand_crs", "sites": "sites_crs", "existing": "existing_crs"}


@dataclass(frozen=True)
class PlacedLayer:
    """A layer's x/y ready for the checks: in ``src`` (None: the scenario's crs), with ``source``
    saying where that CRS came from, ``input_crs`` the system the rows were written in, and
    ``columns`` the input coordinates to carry to outputs (``lon_gcj02`` ...)."""

    x: np.ndarray
    y: np.ndarray
    src: object
    source: str
    input_crs: str
    columns: dict = field(default_factory=dict)


def layer_crs_of(data: dict, key: str, scenario_crs: LayerCrs, where) -> tuple[LayerCrs, bool]:
    """(the layer's CRS, whether its own key gave it) for ``key`` (demand, sites, existing)."""
    crs_key = LAYER_CRS_KEYS[key]
    if data.get(crs_key) is None:
        return scenario_crs, False
    return parse_layer_crs(data[crs_key], where(crs_key)), True


def read_layer(source, where: str):
    """(frame of strings, x, y, row labels, declared CRS or None, digest or None, encoding or None)
    of a file (a :class:`~optimizer.inputs.formats.LayerSource`) or a database layer; ``digest``
    (database layers only) enters the scenario's checksum; ``encoding`` is the text encoding a CSV
    or Shapefile was read in (issue 15)."""
    from lifecircle.optimizer.inputs.postgis import DbLayer, read_db_table
    from lifecircle.optimizer.inputs.tables import read_table

    if isinstance(source, DbLayer):
        frame, x, y, crs, digest = read_db_table(source, where)
        return frame, x, y, "row", crs, digest, None
    frame, x, y, labels, crs, encoding = read_table(source, where)
    return frame, x, y, labels, crs, None, encoding


def layer_in_crs(x, y, declared, layer_crs: LayerCrs, explicit: bool, key: str, table, yaml_path) -> PlacedLayer:
    """Put one layer's x/y into a CRS the checks and projections understand.

    ``declared``: the CRS the file (or the database's SRID) declares, None for CSV. ``layer_crs``:
    the layer's key, else the scenario's ``crs``; ``explicit``: it came from the layer's own key.

    - GCJ-02 / BD-09: the values must be longitude/latitude (a file may declare lon/lat, which
      is all GeoJSON can say); they are converted to WGS84 and kept as the output columns. Points
      outside China keep their values (the transform applies no offset there): one warning line.
    - an EPSG CRS from the layer's own key: used for a file that declares none; a file that
      declares another is refused (say it once).
    - the scenario's ``crs``: a file's own CRS wins, as before issue 17.
    """
    from lifecircle.optimizer.inputs.geo import check_extent, crs_label

    crs_key = LAYER_CRS_KEYS[key]
    named = f"{crs_key} {layer_crs.name}" if explicit else f"the scenario's crs {layer_crs.name}"
    if layer_crs.china is not None:
        if declared is not None and not declared.is_geographic:
            raise ScenarioError(f"{table}: declares {crs_label(declared)}, a projected CRS, but {named} is "
                                "longitude/latitude; export the layer as longitude/latitude or drop the key")
        check_extent(x, y, layer_crs.crs, f"{table} (read as {layer_crs.china})")
        outside = out_of_china(x, y)
        if outside.any():
            warnings.warn(LifecircleWarning(
                f"{table}: {int(outside.sum())} of {len(outside)} points lie outside China, where {layer_crs.china} "
                "applies no offset; they are read as WGS84 unchanged"), stacklevel=2)
        lon_col, lat_col = output_columns(layer_crs.china)
        wx, wy = to_wgs84(x, y, layer_crs.china)
        return PlacedLayer(wx, wy, layer_crs.crs, f"{named}, converted to WGS84", layer_crs.china,
                           {lon_col: np.asarray(x, float), lat_col: np.asarray(y, float)})
    if explicit:
        if declared is not None and declared != layer_crs.crs:
            raise ScenarioError(f"{yaml_path}: field '{crs_key}': {table} declares its own CRS "
                                f"{crs_label(declared)}, not {layer_crs.name}; drop '{crs_key}' or re-save the file")
        return PlacedLayer(np.asarray(x, float), np.asarray(y, float), layer_crs.crs, crs_key,
                           crs_label(layer_crs.crs))
    if declared is not None:
        return PlacedLayer(np.asarray(x, float), np.asarray(y, float), declared, "declared in the file",
                           crs_label(declared))
    return PlacedLayer(np.asarray(x, float), np.asarray(y, float), None, "the scenario's crs",
                       crs_label(layer_crs.crs))
