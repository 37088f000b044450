"""Guards every reader shares: regular files only, text encodings, sane numbers, plain YAML.

Hostile or broken input (issue 12) must end in one :class:`~optimizer.errors.ScenarioError` line,
never a traceback, a hang or unbounded memory:

- a data path is opened only when it is a regular file; a FIFO would block the reader forever;
- text is UTF-8 (a byte-order mark is dropped); when UTF-8 fails, GB18030 (the superset of GBK
  that Excel writes on Chinese Windows) is tried and a :class:`~optimizer.errors.LifecircleWarning`
  says so;
- numbers beyond :data:`MAX_NUMBER` (coordinates beyond :data:`MAX_COORDINATE`) are refused:
  weights times people must stay far below the solvers' infinity (HiGHS: 1e20) and within
  double precision;
- YAML is read by :func:`plain_loader`: aliases, deep nesting, duplicate keys and non-scalar keys
  are refused while composing, before anything is built, so a billion-laughs file costs
  microseconds.
"""

from __future__ import annotations

import errno
import os
import re
import functools
import stat
import warnings
from pathlib import Path

from lifecircle.optimizer.errors import LifecircleWarning, ScenarioError

# Any single number in a scenario or instance (people, weights, costs in yuan, budgets, counts).
MAX_NUMBER = 1e12
# Σ weight × people over groups and points: the largest objective a solve may have.
MAX_WEIGHTED_TOTAL = 1e15
# |x| and |y| in any CRS: metres on Earth stay below 4e7, degrees below 360.
MAX_COORDINATE = 1e9
# A scenario YAML is a page of settings; megabytes mean something else was given.
MAX_YAML_BYTES = 1 << 20
# Scenarios nest four levels (facility_types.<key>.decay.shape); twenty leaves ample room.
MAX_YAML_DEPTH = 20

_UTF8_BOM = b"\xef\xbb\xbf"


def file_problem(path) -> str | None:
    """Why ``path`` cannot be read as a data file ("does not exist", "is a directory", ...), or
    None when it is a regular file. Never opens the path, so a FIFO cannot block."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "does not exist"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "is a symlink loop"
        return f"cannot be read ({err.strerror})"
    if stat.S_ISDIR(mode):
        return "is a directory"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, socket or device)"
    return None


def require_file(path, where: str) -> None:
    """Raise ``ScenarioError("<where> <problem>")`` unless ``path`` is a regular file."""
    problem = file_problem(path)
    if problem:
        raise ScenarioError(f"{where} {problem}")


def decode_text(data: bytes, path, at=None) -> str:
    """``data`` as text: UTF-8 (byte-order mark dropped), else GB18030 with a warning.

    ``at(line)`` formats the location of an error (default ``"<path> line <n>"``).
    """
    at = at or (lambda line: f"{path} line {line}")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = err.start
    line = data.count(b"\n", 0, bad) + 1
    if b"\x00" in data:  # GB18030 decodes NUL: binary files and UTF-16 must not pass as text
        raise ScenarioError(f"{path}: not a text file (binary data or UTF-16); save it as CSV UTF-8")
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ScenarioError(f"{at(line)}: neither UTF-8 nor GB18030 text (byte {bad}); save it as "
                            "CSV UTF-8") from None
    warnings.warn(LifecircleWarning(
        f"{path}: not UTF-8, read as GB18030 (GBK, as Excel saves on Chinese Windows); save it as "
        "CSV UTF-8 to silence this"), stacklevel=2)
    return text


def read_text(path, where=None, at=None) -> str:
    """A regular file's text via :func:`decode_text`; ``where`` prefixes a file problem."""
    require_file(path, where or f"{path}:")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the file ({err.strerror})") from None
    return decode_text(data, path, at)


# ---- CSV tables (scenario data files) ----------------------------------------------------


def read_csv_strings(path: Path, encoding: str | None = None):
    """A CSV as a DataFrame of strings (C engine): UTF-8, else GB18030 with a warning; with
    ``encoding`` (a layer's ``encoding:``, issue 15) in that encoding, without a warning."""
    import io

    import pandas as pd

    def read(source):
        try:
            return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                               skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise ScenarioError(f"{path}: the file is empty; it needs a header and at least one "
                                "row") from None
        except pd.errors.ParserError as error:
            raise ScenarioError(_csv_parse_error(path, error)) from None

    if encoding is not None:  # checked by formats.csv_encoding before: decodes without error
        return read(io.StringIO(path.read_bytes().decode(encoding)))
    try:
        return read(path)
    except UnicodeDecodeError:
        return read(io.StringIO(decode_text(path.read_bytes(), path)))


def _csv_records(path: Path, encoding: str | None = None):
    """(physical start line, fields) of every non-blank CSV record, header first: what pandas
    reads, with the lines a blank line or a quoted line break takes counted."""
    import csv
    import io

    with warnings.catch_warnings():  # the GB18030 warning was given when the table was read
        warnings.simplefilter("ignore")
        text = path.read_bytes().decode(encoding) if encoding else decode_text(path.read_bytes(), path)
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    end = 0
    for row in reader:
        start, end = end + 1, reader.line_num
        if row and not (len(row) == 1 and not row[0].strip()):  # pandas skips blank lines
            yield start, row


def _csv_parse_error(path: Path, error) -> str:
    """pandas' "Expected 5 fields in line 9" counts lines its own way; name the physical line."""
    records = _csv_records(path)
    header = next(records, (1, []))[1]
    for line, row in records:
        if len(row) > len(header):
            return (f"{path} line {line}: {len(row)} fields where the header has {len(header)}; "
                    "quote a value that holds a comma")
    return f"{path}: CSV does not parse: {str(error).splitlines()[0]}"


class CsvLines:
    """Row labels of a CSV file: data row ``i`` is named by the physical line it starts on.

    Blank lines and quoted line breaks shift lines from rows, so the file is read again with the
    csv module, only when an error needs a line number (big tables stay fast).
    """

    def __init__(self, path: Path, encoding: str | None = None):
        self.path, self.encoding = path, encoding  # encoding: the layer's encoding: (issue 15)

    def line_of(self, index: int) -> int:
        for k, (line, _) in enumerate(_csv_records(self.path, self.encoding)):
            if k == index + 1:  # record 0 is the header
                return line
        return index + 2


# Formats people save demand or sites in that are not read: say which to give instead. Shapefiles
# (.shp) and .xlsx workbooks are read since issue 15 (optimizer/inputs/formats.py).
NOT_READ_SUFFIXES = {
    suffix: "a Shapefile is named by its .shp file (the .shx, .dbf, .prj and .cpg beside it)"
    for suffix in (".shx", ".dbf")
} | {
    ".xls": "old Excel .xls workbooks are not read; save it as .xlsx (Excel Workbook) or CSV UTF-8 (.csv)",
}


# ---- YAML ---------------------------------------------------------------------------------------


class YamlRefused(Exception):
    """A YAML construct scenarios do not allow; ``line`` counts from 1 (None when unknown)."""

    def __init__(self, mark, message: str):
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message = message


@functools.cache
def plain_loader():
    """The loader class, built on first use: ``import yaml`` stays off the start-up of commands
    that never read YAML (``lifecircle classic`` is timed from process start)."""
    import yaml
    from yaml.events import AliasEvent
    from yaml.nodes import MappingNode, ScalarNode

    class PlainLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` for plain data: no aliases, bounded depth, unique scalar keys, and
        YAML 1.2 floats (``8.3e6`` is a number, as ``8.3e+6`` is in YAML 1.1)."""

        _depth = 0

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):
                event = self.peek_event()
                raise YamlRefused(event.start_mark, f"YAML alias '*{event.anchor}' refused; write "
                                  "the value out in full (scenarios are plain data)")
            if self._depth >= MAX_YAML_DEPTH:
                raise YamlRefused(self.peek_event().start_mark, f"YAML nested deeper than "
                                  f"{MAX_YAML_DEPTH} levels; a scenario needs a handful")
            self._depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_mapping(self, node, deep=False):
            if isinstance(node, MappingNode):
                first_line = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    if not isinstance(key_node, ScalarNode):
                        kind = "mapping" if isinstance(key_node, MappingNode) else "list"
                        raise YamlRefused(key_node.start_mark, "a YAML key must be text or a "
                                          f"number, found a {kind}")
                    key = self.construct_object(key_node)
                    if key in first_line:
                        raise YamlRefused(key_node.start_mark, f"duplicate key {key!r} (first on "
                                          f"line {first_line[key]}); give each key once")
                    first_line[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    # YAML 1.2 floats: the exponent sign is optional and the dot too (8.3e6, 1e5, .5E-3).
    PlainLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."))

    return PlainLoader


def load_plain_yaml(text: str):
    """Parse ``text`` with :func:`plain_loader`; raises :class:`YamlRefused` or
    ``yaml.YAMLError``."""
    loader = plain_loader()(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml(path: Path) -> dict:
    """A scenario file's top mapping, read through every guard above: one-line errors naming
    the file and line for a file that is not one, too large, not UTF-8, or not plain YAML."""
    import yaml

    problem = file_problem(path)
    if problem:
        raise ScenarioError(f"{path}: scenario file {problem}")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ScenarioError(f"{path}: {path.stat().st_size:,} bytes is too large for a scenario file "
                            f"(limit {MAX_YAML_BYTES:,}); data belongs in the CSV files it names")
    text = path.read_bytes()
    try:
        data = load_plain_yaml(text.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except YamlRefused as error:
        line = f" line {error.line}" if error.line else ""
        raise ScenarioError(f"{path}{line}: {error.message}") from None
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise ScenarioError(f"{path}{line}: YAML tag refused ({error.problem}); scenarios are plain data") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ScenarioError(f"{path}{line}: YAML does not parse: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a YAML mapping at the top, got {type(data).__name__}")
    return data
