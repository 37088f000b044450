"""Cordeau–Furini–Ljubić (2019) budgeted-MCLP instances: read them fast, and generate them.

The layout (tab-separated after the first line)::

    n_sites n_clients
    F  j  x  y  cost        (n_sites lines)
    C  i  x  y  demand      (n_clients lines)

The generator follows the paper's recipe: sites and clients uniform on a square of side 30,
integer demand 1-100 and integer site cost 10-100; the radius and the budget are chosen per run
(``--radius R --budget B``). Whole-city instances have tens of millions of clients, so the reader
is pyarrow's multi-threaded CSV parser (never a Python loop over lines) and the writer formats
numbers into one byte buffer with numpy. Every bad input is one
:class:`~optimizer.errors.ScenarioError` naming the file and the line, exit code 2.
"""

from __future__ import annotations

import os
import re

import numpy as np

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.inputs.guards import MAX_COORDINATE, MAX_NUMBER, require_file
from lifecircle.optimizer.classic.instance import ClassicInstance

SIDE = 30.0  # the paper's square
DEMAND_RANGE = (1, 100)  # inclusive, integers
COST_RANGE = (10, 100)  # inclusive, integers
COORD_DECIMALS = 4  # written coordinates; the reader gets back exactly the generated doubles
_COLUMNS = ("tag", "id", "x", "y", "value")


def _read_header(path: str) -> tuple[int, int, int]:
    """(n_sites, n_clients, byte length of line 1) from the first line."""
    require_file(path, f"{path}:")  # a FIFO would block the reader
    try:
        with open(path, "rb") as fh:
            first = fh.readline()
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the file ({err.strerror})") from None
    toks = first.decode("utf-8", "replace").split()
    if not first.strip():
        raise ScenarioError(f"{path}:1: the file is empty; expected 'n_sites n_clients'")
    if len(toks) != 2 or not all(t.isdigit() for t in toks):
        raise ScenarioError(f"{path}:1: expected 'n_sites n_clients' as two integers, found "
                            f"{first.decode('utf-8', 'replace').strip()[:60]!r}")
    return int(toks[0]), int(toks[1]), len(first)


def _arrow_table(path: str, use_threads: bool):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(skip_rows=1, column_names=list(_COLUMNS), use_threads=use_threads,
                             block_size=1 << 24)
    # Blank lines are kept as all-null rows so that row r is always line r + 2.
    parse = pacsv.ParseOptions(delimiter="\t", ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(
        column_types={"tag": pa.dictionary(pa.int32(), pa.string()), "id": pa.int64(),
                      "x": pa.float64(), "y": pa.float64(), "value": pa.float64()},
        null_values=[""], strings_can_be_null=True)  # "nan" is a NaN, not an empty field
    return pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def _valid(column) -> np.ndarray:
    """Per row, True where the field is not null; read from the validity bitmaps directly
    (``is_valid()`` would import pyarrow.compute, and with it pandas: a second of start-up)."""
    parts = []
    for chunk in column.chunks:
        bitmap = chunk.buffers()[0]
        if bitmap is None or chunk.null_count == 0:
            parts.append(np.ones(len(chunk), dtype=bool))
            continue
        bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
        parts.append(bits[chunk.offset:chunk.offset + len(chunk)].astype(bool))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _tag_codes(column) -> np.ndarray:
    """Per row: 1 for 'F', 2 for 'C', 0 for any other text, -1 for an empty field."""
    parts = []
    for chunk in column.chunks:  # each chunk has its own dictionary
        words = [str(v) for v in chunk.dictionary.to_pylist()]
        lookup = np.array([1 if w == "F" else 2 if w == "C" else 0 for w in words],
                          dtype=np.int8)
        indices = chunk.indices
        codes = np.frombuffer(indices.buffers()[1], dtype=np.int32)[
            indices.offset:indices.offset + len(indices)]
        tag = lookup[np.clip(codes, 0, max(len(words) - 1, 0))] if words else np.zeros(
            len(chunk), dtype=np.int8)
        tag = np.where(_valid(pa_chunked(chunk)), tag, -1).astype(np.int8)
        parts.append(tag)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)


def pa_chunked(array):
    import pyarrow as pa

    return pa.chunked_array([array], type=array.type)


def _parse_error(path: str, err: Exception) -> ScenarioError:
    """A pyarrow parse/convert error as a one-line error with the line number.

    The multi-threaded reader does not know row numbers, so the file is read once more on one
    thread (only on this error path), where pyarrow names the physical row.
    """
    import pyarrow as pa

    message = str(err)
    try:
        _arrow_table(path, use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as again:
        message = str(again)
    found = re.search(r"Row #(\d+)", message)
    detail = re.sub(r"^(In CSV column #\d+: )?(CSV (parse|conversion) error[^:]*: )?(Row #\d+: )?", "",
                    message).strip()
    column = re.search(r"In CSV column #(\d+)", message)
    if column:
        detail = f"field {int(column.group(1)) + 1} ({_COLUMNS[int(column.group(1))]}): {detail}"
    where = f"{path}:{found.group(1)}" if found else path
    return ScenarioError(f"{where}: malformed line, expected 'F|C<TAB>id<TAB>x<TAB>y<TAB>number' "
                         f"({detail[:120]})")


def _warm_imports() -> None:
    """Import what the solve needs next (scipy.spatial, 0.5 s; highspy, 0.15 s) on a thread.

    pyarrow parses the file without holding the GIL, so on a second core the imports run while
    the file is read instead of after it.
    """
    import threading

    def work():
        try:
            import highspy  # noqa: F401
            import scipy.spatial  # noqa: F401
        except ImportError:  # reported where the module is really used
            pass

    threading.Thread(target=work, name="lifecircle-warm-imports", daemon=True).start()


def read_cfl(path: str) -> ClassicInstance:
    """Read a CFL instance into a :class:`~lifecircle.optimizer.classic.instance.ClassicInstance`.

    Sites keep their ids ``j`` (for reporting); clients become demand points with weight
    ``demand``, coordinates as read. The checks are vectorised and report the first bad line:
    a truncated file, a count line that disagrees with the rows, an F/C line out of place, an
    empty field, a negative demand or cost, a non-finite coordinate, a repeated site id.
    """
    import pyarrow as pa

    n_sites, n_clients, _ = _read_header(path)
    _warm_imports()
    try:
        table = _arrow_table(path, use_threads=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise _parse_error(path, err) from None
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read the file ({err})") from None

    rows = table.num_rows
    tag = _tag_codes(table.column("tag"))  # 1 F, 2 C, 0 anything else, -1 empty
    # All-null rows are blank lines; trailing ones are allowed (an editor's final newline).
    blank = tag == -1
    for name in ("id", "x", "y", "value"):
        blank &= ~_valid(table.column(name))
    if rows and blank[-1]:
        rows = 0 if blank.all() else rows - int(np.argmin(blank[::-1]))
        table, tag, blank = table.slice(0, rows), tag[:rows], blank[:rows]
    if blank.any():
        raise ScenarioError(f"{path}:{int(np.argmax(blank)) + 2}: blank line inside the data; "
                            "remove it")
    expected = n_sites + n_clients
    if rows < expected:
        raise ScenarioError(
            f"{path}:{rows + 2}: the file ends after {rows + 1} lines but line 1 announces "
            f"{n_sites} sites and {n_clients} clients ({expected + 1} lines); truncated file?")
    if rows > expected:
        raise ScenarioError(
            f"{path}:{expected + 2}: line 1 announces {n_sites} sites and {n_clients} clients "
            f"({expected + 1} lines) but the file has {rows + 1}; fix the count line")

    # Tags: F for the first n_sites rows, C after.
    want = np.concatenate([np.ones(n_sites, np.int8), np.full(n_clients, 2, np.int8)])
    bad = np.flatnonzero(tag != want)
    if bad.size:
        r = int(bad[0])
        kind = "F (site)" if want[r] == 1 else "C (client)"
        if tag[r] in (1, 2):
            raise ScenarioError(
                f"{path}:{r + 2}: expected an {kind} line here, found {'FC'[tag[r] - 1]!r}; line 1 "
                f"announces {n_sites} sites then {n_clients} clients, so the count line disagrees "
                "with the rows")
        found = table.column("tag")[r].as_py() or ""
        raise ScenarioError(f"{path}:{r + 2}: the first field must be 'F' or 'C', found "
                            f"{str(found)[:20]!r}")

    columns = {}
    for name in ("id", "x", "y", "value"):
        col = table.column(name).combine_chunks()
        if col.null_count:
            r = int(np.argmin(_valid(pa_chunked(col))))
            raise ScenarioError(f"{path}:{r + 2}: field {_COLUMNS.index(name) + 1} ({name}) is "
                                "empty")
        dtype = np.int64 if name == "id" else np.float64
        # From the buffer: Array.to_numpy would import pandas (a second of start-up).
        columns[name] = np.frombuffer(col.buffers()[1], dtype=dtype)[col.offset:col.offset + len(col)]
    del table, tag
    x, y, value = columns["x"], columns["y"], columns["value"]
    finite = (np.abs(x) <= MAX_COORDINATE) & (np.abs(y) <= MAX_COORDINATE)  # False for NaN too
    if not finite.all():
        r = int(np.argmin(finite))
        raise ScenarioError(f"{path}:{r + 2}: coordinates must be finite numbers within "
                            f"±{MAX_COORDINATE:g}, found x={x[r]:g}, y={y[r]:g}")
    bad = np.flatnonzero(~((value >= 0) & (value <= MAX_NUMBER)))
    if bad.size:
        r = int(bad[0])
        what = "site cost" if r < n_sites else "client demand"
        raise ScenarioError(f"{path}:{r + 2}: {what} {value[r]:g} must be a finite number >= 0 "
                            f"and at most {MAX_NUMBER:g}")
    site_ids = columns["id"][:n_sites]
    uniq, first = np.unique(site_ids, return_index=True)
    if uniq.size != n_sites:
        seen = np.zeros(n_sites, dtype=bool)
        seen[first] = True
        r = int(np.argmin(seen))
        raise ScenarioError(f"{path}:{r + 2}: site id {int(site_ids[r])} was already given; site "
                            "ids must be unique")
    site_xy = np.column_stack([x[:n_sites], y[:n_sites]])
    demand_xy = np.column_stack([x[n_sites:], y[n_sites:]])
    del x, y
    name = os.path.splitext(os.path.basename(path))[0]
    return ClassicInstance(
        name, columns["id"][n_sites:], tuple(int(j) for j in site_ids), value[n_sites:].copy(),
        demand_xy=demand_xy, site_xy=site_xy, site_costs=value[:n_sites].copy(), source=path)


# ---- generator ------------------------------------------------------------------------------------

def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative ints, right-aligned; leading zeros become 0 bytes
    (removed later) except the last digit."""
    out = np.empty((values.size, width), dtype=np.uint8)
    v = values.astype(np.int64)
    for pos in range(width - 1, -1, -1):
        out[:, pos] = (v % 10 + 48).astype(np.uint8)
        v //= 10
    power = 10 ** np.arange(width - 1, 0, -1, dtype=np.int64)  # place value of columns 0..w-2
    out[:, : width - 1][values[:, None] < power[None, :]] = 0
    return out


def _fixed(values_scaled: np.ndarray, int_width: int, decimals: int) -> np.ndarray:
    """(n, int_width + 1 + decimals) bytes of a fixed-point number given as an int of 10^-d."""
    scale = 10 ** decimals
    whole = _digits(values_scaled // scale, int_width)
    frac = values_scaled % scale + scale  # a leading 1 keeps the zeros, then dropped
    frac = _digits(frac, decimals + 1)[:, 1:]
    dot = np.full((values_scaled.size, 1), ord("."), dtype=np.uint8)
    return np.hstack([whole, dot, frac])


def _lines(tag: str, ids: np.ndarray, x_scaled, y_scaled, value: np.ndarray) -> bytes:
    """Tab-separated lines as one byte string, formatted in bulk (no per-line Python)."""
    n = ids.size
    id_width = max(1, len(str(int(ids.max(initial=0)))))
    val_width = max(1, len(str(int(value.max(initial=0)))))
    int_width = max(1, len(str(int(max(x_scaled.max(initial=0), y_scaled.max(initial=0))
                                   // 10 ** COORD_DECIMALS))))

    def const(text):
        return np.frombuffer(text.encode(), dtype=np.uint8)[None, :].repeat(n, axis=0)

    mat = np.hstack([const(tag + "\t"), _digits(ids, id_width), const("\t"),
                     _fixed(x_scaled, int_width, COORD_DECIMALS), const("\t"),
                     _fixed(y_scaled, int_width, COORD_DECIMALS), const("\t"),
                     _digits(value, val_width), const("\n")])
    flat = mat.ravel()
    return flat[flat != 0].tobytes()


CLIENT_CHUNK = 1 << 20  # clients drawn and written per step; fixed, so a seed means one file


def _never_ours(path) -> bool:
    """An existing OUT is never replaced: the CFL format has no room for lifecircle's mark, so a
    generated instance cannot be told from a downloaded one (issue 12)."""
    return False


def generate_cfl(out_path: str, n_sites: int, n_clients: int, seed: int = 0) -> dict:
    """Write a seeded CFL-style instance to ``out_path`` (whole or not at all).

    Coordinates are uniform on [0, 30]², rounded to 4 decimals (the file holds them exactly);
    demand is uniform on 1..100 and site cost on 10..100, integers. Clients are drawn and written
    :data:`CLIENT_CHUNK` at a time (each chunk from its own seeded stream), so memory stays
    bounded for tens of millions of clients and the same seed always gives the same file.

    Returns
    -------
    dict with ``path``, ``total_site_cost`` (for a budget of 10 %: ``0.1 * total_site_cost``).
    """
    if n_sites < 1 or n_clients < 1:
        raise ScenarioError(f"--cfl: need at least one site and one client, got {n_sites} "
                            f"{n_clients}")
    site_rng = np.random.default_rng([seed, 0])
    chunk = CLIENT_CHUNK
    scale = 10 ** COORD_DECIMALS
    top = int(SIDE * scale)

    directory = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(directory):
        raise ScenarioError(f"{out_path}: the folder {directory} does not exist")
    from lifecircle.optimizer.files import atomic_file

    try:  # one writer for every output (issue 12): whole or not at all, mode from the umask
        with atomic_file(out_path, option="OUT", owned=_never_ours) as tmp, open(tmp, "wb") as fh:
            fh.write(f"{n_sites}\t{n_clients}\n".encode())
            sx, sy = site_rng.integers(0, top, size=(2, n_sites), endpoint=True)
            cost = site_rng.integers(COST_RANGE[0], COST_RANGE[1], size=n_sites, endpoint=True)
            fh.write(_lines("F", np.arange(1, n_sites + 1), sx, sy, cost))
            for start in range(0, n_clients, chunk):
                stop = min(n_clients, start + chunk)
                part = np.random.default_rng([seed, 1, start // chunk])
                cx, cy = part.integers(0, top, size=(2, stop - start), endpoint=True)
                demand = part.integers(DEMAND_RANGE[0], DEMAND_RANGE[1], size=stop - start,
                                       endpoint=True)
                fh.write(_lines("C", np.arange(start + 1, stop + 1), cx, cy, demand))
    except ScenarioError as error:
        if getattr(error, "os_reason", None) is None:
            raise
        raise ScenarioError(f"{out_path}: cannot write the file ({error.os_reason})") from None
    return {"path": out_path, "n_sites": n_sites, "n_clients": n_clients, "seed": seed,
            "total_site_cost": float(cost.sum())}
