"""Reading the demand, site and existing-facility tables (CSV, Parquet, vector files) into columns.

Every problem is one :class:`ScenarioError` line naming the file, the row (a physical CSV line, a
feature or a Parquet row) and the column. :func:`read_rows` reads a file as strings with checked
coordinates; the column readers turn strings into numbers, ids and circle names; :func:`point_table`
projects the rows into a :class:`PointTable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs import formats
from lifecircle.optimizer.inputs.formats import VECTOR_SUFFIXES
from lifecircle.optimizer.inputs.guards import (
    MAX_COORDINATE, MAX_NUMBER, NOT_READ_SUFFIXES, CsvLines, file_problem, read_csv_strings,
)

__all__ = ["BIG_CSV_BYTES", "CIRCLE_COLUMN", "VECTOR_SUFFIXES", "PointTable", "capacity_columns", "circle_column",
           "column_ids", "numeric_column", "point_table", "read_big_csv", "read_rows", "read_table", "require_columns",
           "row_label"]

CIRCLE_COLUMN = "circle"
# Coordinate column pairs read when a table has neither x nor y (issue 17: POI exports).
LONLAT_COLUMNS = (("lon", "lat"), ("lng", "lat"), ("经度", "纬度"))


@dataclass(frozen=True)
class PointTable:
    """A table of located rows. ``x``/``y`` are in the scenario CRS as given; ``x_m``/``y_m`` in
    the metric CRS used for distances."""

    path: Path
    ids: tuple
    x: np.ndarray
    y: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def read_rows(path: Path, where: str, layer=None):
    """Read a CSV, Parquet, Excel or vector table as strings plus its checked coordinates.

    Parameters
    ----------
    path : pathlib.Path
        The table file.
    where : str
        Who names the file, for messages (``"scenario.yaml: field 'demand'"``).
    layer : str, optional
        The layer of a multi-layer vector file.

    Returns
    -------
    tuple
        (DataFrame of strings, x, y, row labels, source CRS or None).
    """
    return read_table(formats.LayerSource(path, layer), where)[:5]


def read_table(source, where: str):
    """:func:`read_rows` of a :class:`~optimizer.inputs.formats.LayerSource` (issue 15: Shapefile
    and .xlsx too, ``columns:`` renaming, ``encoding:``), plus the text encoding it was read in
    (None for formats that store Unicode)."""
    import pandas as pd

    path = source.path
    problem = file_problem(path)
    if problem:
        raise ScenarioError(f"{where}: file {path} {problem}")
    suffix = path.suffix.lower()
    if suffix in NOT_READ_SUFFIXES:
        raise ScenarioError(f"{path}: {NOT_READ_SUFFIXES[suffix]}")
    encoding = None
    if suffix in VECTOR_SUFFIXES or suffix == formats.SHAPEFILE_SUFFIX:
        from lifecircle.optimizer.inputs.geo import read_vector_table

        if suffix == formats.SHAPEFILE_SUFFIX:
            formats.check_shapefile(path, where)
            encoding = source.encoding or formats.dbf_encoding(path)
        frame, x, y, file_crs = read_vector_table(path, where, source.layer, encoding=encoding)
        if suffix == formats.SHAPEFILE_SUFFIX:
            encoding = formats.report_encoding(path, encoding or formats.shapefile_encoding_read(path))
        frame = formats.rename_columns(frame, source)
        labels = "feature"
        huge = np.flatnonzero(np.maximum(np.abs(np.asarray(x, float)), np.abs(np.asarray(y, float))) > MAX_COORDINATE)
        if huge.size:
            i = int(huge[0])
            raise ScenarioError(f"{path} feature {i + 1}: coordinates ({x[i]:g}, {y[i]:g}) are beyond the limit "
                                f"±{MAX_COORDINATE:g}; values this large overflow the model")
        return frame, np.asarray(x, float), np.asarray(y, float), labels, file_crs, encoding
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as error:  # pyarrow's many kinds of "not Parquet": one line, no traceback
            detail = (str(error).replace(f" '{path}'", "").splitlines() or [type(error).__name__])[0][:160]
            raise ScenarioError(f"{path}: not a readable Parquet file; export it again ({detail})") from None
        frame = frame.astype(str).where(frame.notna(), "")
        labels = "row"
    elif suffix in formats.XLSX_SUFFIXES:
        frame, labels = formats.read_xlsx(path, source.sheet, where)
    else:
        encoding = formats.report_encoding(path, formats.csv_encoding(path, source.encoding))
        labels = CsvLines(path, source.encoding and encoding)
        if source.encoding is not None:  # the layer said; no guessing, no GB18030 warning
            frame = read_csv_strings(path, encoding)
        elif encoding == "gb18030" or (frame := read_big_csv(path)) is None:  # pyarrow reads UTF-8 only
            frame = read_csv_strings(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = formats.rename_columns(frame, source)
    x_col, y_col = "x", "y"
    if x_col not in frame.columns and y_col not in frame.columns:
        # issue 17: web-map POI exports (Gaode, Baidu) name their coordinates lon/lat or 经度/纬度
        x_col, y_col = next(((a, b) for a, b in LONLAT_COLUMNS if a in frame.columns and b in frame.columns),
                            (x_col, y_col))
    for column in (x_col, y_col):
        if column not in frame.columns:
            raise ScenarioError(f"{path}: missing column '{column}'")
    x = numeric_column(frame, x_col, path, labels, finite_only=True)
    y = numeric_column(frame, y_col, path, labels, finite_only=True)
    return frame, x, y, labels, None, encoding


# Population grids of a million rows (issue 8): above this size a CSV is read by pyarrow's
# multi-threaded parser (6x faster than pandas' C engine here); below it pyarrow's import costs more
# than it saves.
BIG_CSV_BYTES = 4 << 20


def read_big_csv(path: Path):
    """A large CSV as a DataFrame of strings via pyarrow, or None to use the C-engine path.

    Same result as the C-engine read: all columns strings, blanks kept as "", spaces after a
    delimiter dropped (``skipinitialspace``). Files with a quote character, or that pyarrow
    cannot parse, return None, so the usual reader applies with its usual messages.
    """
    import pandas as pd

    try:
        if path.stat().st_size < BIG_CSV_BYTES:
            return None
        with open(path, "rb") as fh:
            if b'"' in fh.read():
                return None  # quoting after a space differs between the engines; keep the C one
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                            engine="pyarrow")
    except Exception:  # any trouble: the C-engine path reports it in its own words
        return None
    return frame.apply(lambda column: column.str.lstrip(" "))


def row_label(labels, index: int) -> str:
    """How a message names row ``index`` (0-based): ``line 7`` for CSV, ``feature 3``, ``row 3``."""
    # CSV lines are physical lines, the header being line 1; features and parquet rows count from 1.
    if isinstance(labels, CsvLines):
        return f"line {labels.line_of(index)}"
    if hasattr(labels, "label"):  # issue 15: an Excel sheet's row numbers (formats.SheetRows)
        return labels.label(index)
    return f"line {index + 2}" if labels == "line" else f"{labels} {index + 1}"


def numeric_column(frame, column: str, path: Path, labels: str, *, finite_only=False,
                   minimum=None, blank_ok=False) -> np.ndarray:
    """A column of strings as floats, or a ScenarioError naming the first bad row.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as strings (:func:`read_rows`).
    column : str
        The column to read.
    path : pathlib.Path
        The file, for messages.
    labels : CsvLines or str
        Row labels from :func:`read_rows`.
    finite_only : bool
        A coordinate: infinities are refused and the limit is ``MAX_COORDINATE``.
    minimum : float, optional
        Values below it are refused.
    blank_ok : bool
        Blanks read as NaN instead of being refused.

    Returns
    -------
    numpy.ndarray
        (rows,) float.
    """
    import pandas as pd

    text = frame[column].astype(str).str.strip()
    try:  # pyarrow's parser: 15x faster on a million rows, same doubles (both correctly rounded)
        values = text.astype("float64[pyarrow]").to_numpy(dtype=float, na_value=np.nan)
    except Exception:  # a blank or a non-number: the precise path below finds and names it
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    blank = (text == "").to_numpy()
    bad = np.isnan(values) & ~(blank & blank_ok)
    if finite_only:
        bad |= ~np.isfinite(values) & ~(blank & blank_ok)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "is not a finite coordinate" if finite_only else "is not a number"
        raise ScenarioError(f"{path} {row_label(labels, i)}, column '{column}': value {text.iloc[i]!r} {what}")
    if minimum is not None:
        low = values < minimum
        if low.any():
            i = int(np.flatnonzero(low)[0])
            raise ScenarioError(
                f"{path} {row_label(labels, i)}, column '{column}': value {text.iloc[i]} is negative; must be >= {minimum:g}"
            )
    if not blank_ok and not np.all(np.isfinite(values)):
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ScenarioError(f"{path} {row_label(labels, i)}, column '{column}': value {text.iloc[i]!r} is not finite")
    # A coordinate of 1e300 overflows the KD-tree; a weight of 1e308 the objective.
    limit = MAX_COORDINATE if finite_only else MAX_NUMBER
    huge = np.abs(values) > limit
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        what = "coordinate" if finite_only else "number"
        raise ScenarioError(f"{path} {row_label(labels, i)}, column '{column}': value {text.iloc[i]!r} is "
                            f"beyond the limit ±{limit:g} for a {what}; values this large overflow the model")
    return values


def column_ids(frame, path: Path, labels: str) -> tuple:
    """The ``id`` column as a tuple of stripped strings: present, never empty, never repeated."""
    if "id" not in frame.columns:
        raise ScenarioError(f"{path}: missing column 'id'")
    ids = frame["id"].astype(str).str.strip()
    empty = (ids == "").to_numpy()
    if empty.any():
        raise ScenarioError(f"{path} {row_label(labels, int(np.flatnonzero(empty)[0]))}, column 'id': empty id")
    dup = ids.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ScenarioError(f"{path} {row_label(labels, i)}, column 'id': duplicate id {ids.iloc[i]!r}")
    return tuple(ids.tolist())


def require_columns(frame, columns, path: Path):
    """Raise a ScenarioError naming the first of ``columns`` the table lacks."""
    for column in columns:
        if column not in frame.columns:
            raise ScenarioError(f"{path}: missing column '{column}'")


def point_table(frame, x, y, path: Path, labels: str, src_crs, scenario_crs, metric_crs, columns):
    """The rows as a :class:`PointTable`: coordinates moved into the scenario CRS and projected
    to ``metric_crs``; ``columns`` ({name: (rows,) array}) are kept as they are."""
    from lifecircle.optimizer.inputs.geo import transform

    if len(frame) == 0:
        raise ScenarioError(f"{path}: the table is empty; it needs at least one row")
    if src_crs is not None and scenario_crs is not None and src_crs != scenario_crs:
        x, y = transform(x, y, src_crs, scenario_crs)
    x_m, y_m = transform(x, y, scenario_crs, metric_crs)
    bad = ~(np.isfinite(x_m) & np.isfinite(y_m))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioError(f"{path} {row_label(labels, i)}: coordinates ({x[i]}, {y[i]}) cannot be projected")
    return PointTable(path, column_ids(frame, path, labels), x, y, x_m, y_m, MappingProxyType(columns))


def circle_column(frame, path: Path, labels: str) -> np.ndarray:
    """The demand table's ``circle`` column as an object array of names, none of them blank."""
    text = frame[CIRCLE_COLUMN].astype(str).str.strip()
    blank = (text == "").to_numpy()
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise ScenarioError(f"{path} {row_label(labels, i)}, column '{CIRCLE_COLUMN}': empty circle name")
    return np.asarray(text.tolist(), dtype=object)


def capacity_columns(frame, groups, path: Path, labels: str) -> dict:
    """{capacity_<group>: (E,) float, NaN where blank (unlimited, as without the column)}."""
    columns = {}
    for column in frame.columns:
        if not str(column).startswith("capacity_"):
            continue
        group = str(column)[len("capacity_"):]
        if group not in groups:
            raise ScenarioError(f"{path}: column '{column}' names unknown group {group!r}; groups are {', '.join(groups)}")
        columns[column] = numeric_column(frame, column, path, labels, minimum=0, blank_ok=True)
    return columns
