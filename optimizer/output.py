"""Write a solve's files, whole or not at all.

Everything goes into a temporary folder beside the target, which then replaces the target with
renames only. A crash midway leaves the previous results untouched.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder; on success it becomes ``target`` (replacing any old one)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old.{os.getpid()}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def finite_json(value):
    """``value`` with every NaN or infinity (also numpy's) as None: JSON has no NaN, and a bare
    ``NaN`` makes the whole file unreadable to strict parsers (browsers, jq, json.loads(strict))."""
    if isinstance(value, float):  # np.float64 too
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    if isinstance(value, np.generic):
        return finite_json(value.item())
    return value


def write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(finite_json(data), fh, ensure_ascii=False, indent=2, default=_json_default,
                  allow_nan=False)
        fh.write("\n")


def write_csv_bom(path: Path, header: list, rows: list) -> None:
    """UTF-8 with a byte-order mark, so Excel shows Chinese names correctly."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def geojson_crs_member(crs_text: str) -> dict | None:
    """The (pre-RFC 7946) ``crs`` member GDAL and QGIS read for a projected CRS."""
    if crs_text.upper().startswith("EPSG:"):
        return {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs_text.split(':', 1)[1]}"}}
    return None


def write_points_geojson(path: Path, rows: list[dict], x, y, crs_text: str) -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(a), float(b)]},
         "properties": row}
        for row, a, b in zip(rows, x, y)
    ]
    collection = {"type": "FeatureCollection", "name": "sites"}
    member = geojson_crs_member(crs_text)
    if member:
        collection["crs"] = member
    collection["features"] = features
    write_json(path, collection)
