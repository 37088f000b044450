"""Input as planners have it (issue 15, section 4): Shapefile and Excel layers, field mappings and
CSV encodings.

A scenario's ``demand``, ``sites`` and ``existing`` are a file name or a mapping
``{file:, layer:, sheet:, encoding:, columns:}`` (:func:`layer_source`). This module checks the
mapping, reads ``.xlsx`` sheets (:func:`read_xlsx`), checks a Shapefile's companion files and its
``.dbf`` encoding (:func:`check_shapefile`, :func:`dbf_encoding`), decides a CSV's encoding
(:func:`csv_encoding`) and renames fields as an ArcGIS field mapping does (:func:`rename_columns`):
``columns: {our_name: their_name}``, so Shapefile's 10-character names (``cost_cante``) work.
Every problem is one :class:`ScenarioError` line naming the file and the field.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from lifecircle.optimizer.core import events
from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.guards import file_problem

logger = logging.getLogger(__name__)

LAYER_KEYS = ("file", "layer", "sheet", "encoding", "columns")
LAYER_NAMES = ("demand", "sites", "existing")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg")  # read by GDAL; a GeoPackage may hold several layers
SHAPEFILE_SUFFIX = ".shp"
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Only these carry text in an encoding of their own; GeoPackage, GeoJSON and .xlsx are Unicode.
ENCODED_SUFFIXES = (".csv", ".txt", SHAPEFILE_SUFFIX)
# A Shapefile is several files; GDAL needs these beside the .shp (the .prj: we never guess a CRS).
SHAPEFILE_PARTS = ((".shx", "its shape index"), (".dbf", "its attribute table"), (".prj", "its coordinate system"))
_UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class LayerSource:
    """Where one layer's rows come from. ``columns``: {our name: the file's name};
    ``field``: how messages name the YAML field (``"scenario.yaml: field 'sites'"``)."""

    path: Path
    layer: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    field: str = ""
    columns_field: str = ""  # "sites.columns" or "columns.sites": where the mapping was written


def _text(value, where: str, what: str, *, numbers=False) -> str:
    if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # a sheet named 2021 reads from YAML as a number
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: expected {what}, got {value!r}")
    return value.strip()


def encoding_name(value, where: str) -> str:
    """Python's name for an ``encoding:`` value (``GBK`` -> ``gbk``), or one error line."""
    text = _text(value, where, "an encoding name such as utf-8 or gb18030")
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise ScenarioError(f"{where}: unknown encoding {text!r}; use e.g. utf-8, gb18030, gbk or big5") from None


def column_mapping(value, where: str) -> dict:
    """``columns: {our_name: their_name}`` checked: names are non-blank text, one source each."""
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: expected a mapping {{our_name: the file's name}}, got {type(value).__name__}")
    mapping = {}
    for ours, theirs in value.items():
        ours = _text(ours, where, "a column name", numbers=True)
        mapping[ours] = _text(theirs, f"{where}.{ours}", "the file's column name", numbers=True)
    return mapping


def top_level_columns(value, yaml_path) -> dict:
    """The scenario's top-level ``columns: {demand: {...}, sites: {...}}``: {layer: mapping}."""
    if value is None:
        return {}
    where = f"{yaml_path}: field 'columns'"
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: expected a mapping of layers ({', '.join(LAYER_NAMES)}) to "
                            f"{{our_name: the file's name}}, got {type(value).__name__}")
    for key in value:
        if key not in LAYER_NAMES:
            raise ScenarioError(f"{where}: unknown layer {key!r}; columns are mapped per layer: "
                                f"{', '.join(LAYER_NAMES)}")
    return {key: column_mapping(spec, f"{yaml_path}: field 'columns.{key}'") for key, spec in value.items()}


def layer_source(value, key: str, yaml_path: Path, top_columns: dict, resolve) -> LayerSource:
    """Check the YAML value of layer ``key``: a file name or ``{file:, layer:, sheet:, encoding:,
    columns:}``. ``resolve(name)`` turns a file name into a path (relative to the YAML)."""
    where = f"{yaml_path}: field '{key}'"
    spec = value if isinstance(value, dict) else {"file": value}
    for k in spec:
        if k not in LAYER_KEYS:
            raise ScenarioError(f"{yaml_path}: unknown key '{key}.{k}'; allowed: {', '.join(LAYER_KEYS)}")
    if "file" not in spec:
        raise ScenarioError(f"{yaml_path}: missing key '{key}.file'")
    name = spec["file"]
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"{where}: expected a file name, got {name!r}")
    path = resolve(name)
    problem = file_problem(path)
    if problem:
        raise ScenarioError(f"{where}: file {path} {problem}")
    suffix = path.suffix.lower()
    layer = sheet = encoding = None
    if spec.get("layer") is not None:
        layer = spec["layer"]
        if not isinstance(layer, str) or not layer.strip():
            raise ScenarioError(f"{yaml_path}: field '{key}.layer': expected a layer name, got {layer!r}")
        if suffix not in VECTOR_SUFFIXES:
            raise ScenarioError(f"{yaml_path}: field '{key}.layer': {path.name} has no layers; only "
                                f"{', '.join(VECTOR_SUFFIXES)} files do")
    if spec.get("sheet") is not None:
        sheet = _text(spec["sheet"], f"{yaml_path}: field '{key}.sheet'", "a sheet name", numbers=True)
        if suffix not in XLSX_SUFFIXES:
            raise ScenarioError(f"{yaml_path}: field '{key}.sheet': {path.name} has no sheets; only "
                                f"{', '.join(XLSX_SUFFIXES)} workbooks do")
    if spec.get("encoding") is not None:
        encoding = encoding_name(spec["encoding"], f"{yaml_path}: field '{key}.encoding'")
        if suffix not in ENCODED_SUFFIXES:
            raise ScenarioError(f"{yaml_path}: field '{key}.encoding': {path.name} stores Unicode text; "
                                f"only {', '.join(ENCODED_SUFFIXES)} files take an encoding")
    columns, columns_field = {}, ""
    if spec.get("columns") is not None:
        if key in top_columns:
            raise ScenarioError(f"{yaml_path}: field 'columns.{key}': {key} has its own '{key}.columns' "
                                "too; give the mapping once")
        columns, columns_field = column_mapping(spec["columns"], f"{yaml_path}: field '{key}.columns'"), f"{key}.columns"
    elif key in top_columns:
        columns, columns_field = top_columns[key], f"columns.{key}"
    return LayerSource(path, layer and layer.strip(), sheet, encoding, MappingProxyType(columns), where,
                       f"{yaml_path}: field '{columns_field}'")


def rename_columns(frame, source: LayerSource):
    """The table with ``source.columns`` applied: each of our names takes the file's column; the
    file's names that were mapped leave (so a truncated ``capacity_e`` is not read as a group)."""
    if not source.columns:
        return frame
    present = [str(c) for c in frame.columns]
    for ours, theirs in source.columns.items():
        if theirs not in present:
            raise ScenarioError(f"{source.columns_field[:-1]}.{ours}': {source.path} has no column "
                                f"{theirs!r}; its columns are {', '.join(present)}")
        if ours in present and ours != theirs and ours not in source.columns.values():
            raise ScenarioError(f"{source.columns_field[:-1]}.{ours}': {source.path} has a column {ours!r} "
                                f"already; map it from {theirs!r} or keep the file's own, not both")
    renamed = frame.copy()
    for ours, theirs in source.columns.items():
        renamed[ours] = frame[theirs]
    gone = [c for c in set(source.columns.values()) if c not in source.columns]
    return renamed.drop(columns=gone)


# ---- CSV encodings ----------------------------------------------------------------------------


def csv_encoding(path: Path, given: str | None = None) -> str:
    """The encoding a CSV is read in: ``given``, else UTF-8 (``utf-8-sig`` with a byte-order mark),
    else GB18030 (GBK, as Excel saves on Chinese Windows). Undecodable: one line with the byte and
    line where decoding failed, suggesting ``encoding:``. Read in chunks: a big file is not held twice."""
    with open(path, "rb") as fh:
        bom = fh.read(3) == _UTF8_BOM
    if given is not None:
        name = "utf-8-sig" if given == "utf-8" and bom else given
        _decode_strictly(path, name, f"not {given} text", "check the layer's encoding: or drop it to detect "
                         "UTF-8 or GB18030")
        return name
    try:
        _decode_strictly(path, "utf-8-sig", "", "")
        return "utf-8-sig" if bom else "utf-8"
    except _Undecodable:
        pass
    data = path.read_bytes()
    if b"\x00" in data:  # GB18030 decodes NUL: binary files and UTF-16 must not pass as text
        raise ScenarioError(f"{path}: not a text file (binary data or UTF-16); save it as CSV UTF-8")
    _decode_strictly(path, "gb18030", "neither UTF-8 nor GB18030 text",
                     f"save it as CSV UTF-8 or give its encoding, e.g. {{file: {path.name}, encoding: big5}}")
    return "gb18030"


class _Undecodable(ScenarioError):
    pass


def _decode_strictly(path: Path, encoding: str, what: str, advice: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset, newlines = 0, 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad = offset + max(error.start, 0)
                line = newlines + chunk.count(b"\n", 0, max(error.start, 0)) + 1
                raise _Undecodable(f"{path} line {line}: {what} (byte {bad}); {advice}") from None
            offset += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _Undecodable(f"{path} line {newlines + 1}: {what} (byte {offset}, a cut character at the "
                               f"end); {advice}") from None


def report_encoding(path: Path, encoding: str | None) -> str | None:
    """Log the encoding a layer was read in (INFO) and return it for summary.json."""
    if encoding is not None:
        events.note(logger, "phase.encoding", "%s: text read as %s", path, encoding, path=str(path), encoding=encoding)
    return encoding


# ---- Shapefiles --------------------------------------------------------------------------------


def _part(path: Path, suffix: str) -> Path | None:
    """The Shapefile part ``suffix`` beside ``path`` (either case, as GDAL looks), or None."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if file_problem(candidate) is None:
            return candidate
    return None


def check_shapefile(path: Path, where: str) -> None:
    """Refuse a Shapefile without its .shx, .dbf or .prj, naming the missing file."""
    for suffix, what in SHAPEFILE_PARTS:
        if _part(path, suffix) is None:
            raise ScenarioError(f"{where}: Shapefile {path} has no {path.stem}{suffix} ({what}) beside it; "
                                "copy all its files (.shp, .shx, .dbf, .prj, .cpg) together, or save the "
                                "layer as GeoPackage")


def dbf_encoding(path: Path) -> str | None:
    """The encoding to read a Shapefile's .dbf in when neither a .cpg nor the .dbf's language
    driver byte says (GDAL would read Latin-1): UTF-8 when its records decode so, else GB18030
    when they decode so; None leaves GDAL's choice."""
    if _part(path, ".cpg") is not None:
        return None
    dbf = _part(path, ".dbf")
    data = dbf.read_bytes()
    if len(data) < 32 or data[29] != 0:  # byte 29: the language driver id, which GDAL honours
        return None
    body = data[int.from_bytes(data[8:10], "little"):]
    for encoding in ("utf-8", "gb18030"):
        try:
            body.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return None


def shapefile_encoding_read(path: Path) -> str | None:
    """The encoding GDAL reads the .dbf in: its .cpg's (GDAL then reports UTF-8, what it recodes
    to, so the .cpg is read here), else what GDAL says (from the language driver byte)."""
    import pyogrio

    cpg = _part(path, ".cpg")
    if cpg is not None:
        text = cpg.read_bytes()[:64].decode("ascii", "replace").strip()
        try:
            return codecs.lookup(text).name
        except LookupError:
            return text.lower() or None
    try:
        found = pyogrio.read_info(path).get("encoding")
    except Exception:  # the read itself reports a broken file in its own words
        return None
    return found.lower() if found else None


# ---- Excel -------------------------------------------------------------------------------------


class SheetRows:
    """Row labels of a sheet: data row ``i`` is named by its Excel row number."""

    def __init__(self, sheet: str, rows: list):
        self.sheet, self.rows = sheet, rows

    def label(self, index: int) -> str:
        return f"sheet {self.sheet!r} row {self.rows[index]}"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return str(int(value))  # 12.0 -> "12": an id typed as a number reads as it does in CSV
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def read_xlsx(path: Path, sheet: str | None, where: str):
    """(DataFrame of strings, :class:`SheetRows`) of one sheet: its first non-blank row is the
    header; blank rows are skipped; cells give their values (a formula its last computed value)."""
    import openpyxl
    import pandas as pd

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl's own errors: all "not a workbook"
        detail = (str(error).splitlines() or [type(error).__name__])[0][:160]
        raise ScenarioError(f"{path}: not a readable Excel workbook; save it again as .xlsx ({detail})") from None
    try:
        names = list(book.sheetnames)
        if sheet is None and len(names) > 1:
            raise ScenarioError(f"{where}: {path.name} has {len(names)} sheets ({', '.join(names)}); name one, "
                                f"e.g. {{file: {path.name}, sheet: {names[0]}}}")
        if sheet is not None and sheet not in names:
            raise ScenarioError(f"{where}: {path.name} has no sheet {sheet!r}; its sheets are {', '.join(names)}")
        name = sheet or names[0]
        header, rows, numbers = None, [], []
        if not hasattr(book[name], "iter_rows"):  # a chart sheet holds no cells
            raise ScenarioError(f"{where}: sheet {name!r} of {path.name} is a chart, not a table")
        try:
            for number, values in enumerate(book[name].iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in values]
                if not any(cells):
                    continue
                if header is None:
                    header = cells
                else:
                    rows.append(cells)
                    numbers.append(number)
        except Exception as error:  # a damaged sheet's XML: one line, no traceback
            detail = (str(error).splitlines() or [type(error).__name__])[0][:160]
            raise ScenarioError(f"{path} sheet {name!r}: cannot be read; save the workbook again ({detail})") from None
    finally:
        book.close()
    if header is None:
        raise ScenarioError(f"{path} sheet {name!r}: the sheet is empty; it needs a header and at least one row")
    width = max([len(header), *map(len, rows)])
    header += [""] * (width - len(header))
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = []
    for c, title in enumerate(header):
        if title:
            keep.append(c)
        elif any(r[c] for r in rows):
            raise ScenarioError(f"{path} sheet {name!r}: column {_letters(c)} has values but no header")
    titles = [header[c] for c in keep]
    twice = next((t for n, t in enumerate(titles) if t in titles[:n]), None)
    if twice is not None:
        raise ScenarioError(f"{path} sheet {name!r}: column {twice!r} appears twice in the header")
    frame = pd.DataFrame([[r[c] for c in keep] for r in rows], columns=titles, dtype=str)
    return frame, SheetRows(name, numbers)


def _letters(index: int) -> str:
    """Excel's column letters of a 0-based column (0 -> A, 27 -> AB)."""
    text = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        text = chr(ord("A") + rest) + text
    return text
