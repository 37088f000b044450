"""Write lifecircle's outputs whole or not at all, and never over a user's own files.

One writer for every command (issue 12):

- :func:`atomic_folder` writes a result folder (solve, sweep, plan, each circle of city) into a
  temporary folder beside the target and then puts it in place with renames only. The folder
  appears whole or not at all.
- :func:`atomic_file` writes one file (city.csv, an MPS export, a compare JSON, the reach
  cache) the same way: into a temporary folder beside it, then one rename.

Markers
-------
Every result folder holds ``.lifecircle.json`` (:data:`MARKER`): lifecircle's version, the
command line, the time, and each file it wrote with its size and sha256. A folder may be
replaced only when it is missing, empty, or holds a valid marker and nothing else: no file the
marker does not list, and no listed file changed since. Anything else is refused with exit 2
(``DIR holds files lifecircle did not write; ...``), so a user's notes.txt dropped into a
results folder survives.

Temporaries
-----------
Named ``.lifecircle-tmp.<target>.<pid>.<random>`` (being written) and
``.lifecircle-old.<target>.<pid>.<random>`` (the previous result, set aside for the last
rename), each with a marker inside. At the start of a write, those of the same target whose
marker is valid, written on this host, by a process that is no longer running, are removed
(left by a killed run). Nothing without a marker is ever removed.

Modes follow the umask: folders ``0o777 & ~umask``, files ``0o666 & ~umask``.

CSV text cells
--------------
Every CSV lifecircle writes goes through :func:`csv_cell`: a text cell beginning with ``=``,
``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (OWASP's advice against
spreadsheet formula injection), so Excel shows it as text. Numbers are never changed. Every text
cell is treated alike, so a text id ``-5`` is written ``'-5``; :func:`csv_text` undoes it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import secrets
import shlex
import shutil
import socket
import sys
import threading
from datetime import datetime
from pathlib import Path

import numpy as np

from lifecircle.optimizer.errors import ScenarioError

MARKER = ".lifecircle.json"
TMP_PREFIX = ".lifecircle-tmp."
OLD_PREFIX = ".lifecircle-old."
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_UMASK_LOCK = threading.Lock()


# ---- modes ------------------------------------------------------------------------------------


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (other threads may be
    creating files at the same moment)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


# ---- markers ----------------------------------------------------------------------------------


def command_line() -> str:
    """The command that runs, as a shell would show it."""
    import re

    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("lifecircle", "cli.py", "__main__.py"):
        argv[0] = "lifecircle"
    # issue 17: a database URI's password (user:password@, password=) never reaches a marker
    argv = [re.sub(r"([?&]password=)[^&\s]*", r"\1***", re.sub(r"(://[^/:@\s]*):[^@/\s]*@", r"\1:***@", str(a)))
            for a in argv]
    return shlex.join(argv)


def _marker_base(kind: str) -> dict:
    from lifecircle.optimizer import __version__

    return {"written_by": "lifecircle", "lifecircle_version": __version__, "kind": kind,
            "command": command_line(), "written": datetime.now().astimezone().isoformat(timespec="seconds"),
            "host": socket.gethostname(), "pid": os.getpid()}


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_entry(path: Path) -> dict:
    return {"size": path.stat().st_size, "sha256": _digest(path)}


def read_marker(folder: Path) -> dict | None:
    """The marker of ``folder``, or None when it has none or it is not lifecircle's."""
    path = Path(folder) / MARKER
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != "lifecircle" or not isinstance(data.get("files"), dict):
        return None
    return data


def _listed_unchanged(folder: Path, name: str, marker: dict) -> bool:
    entry = marker["files"].get(name)
    path = folder / name
    if not isinstance(entry, dict) or path.is_symlink() or not path.is_file():
        return False
    try:
        return path.stat().st_size == entry.get("size") and _digest(path) == entry.get("sha256")
    except OSError:
        return False


def _tree_files(folder: Path) -> list:
    """Every file below ``folder`` as a relative POSIX path (sub-folders walked, links not
    followed), sorted, without the marker itself."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        dirs.sort()
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            path = (rel / name).as_posix()
            if path != MARKER:
                out.append(path)
    return sorted(out)


def foreign_entries(folder: Path, marker: dict | None = None) -> list:
    """Entries of ``folder`` (relative names, sorted) that lifecircle did not write: with no
    valid marker, everything; else what the marker does not list or what changed since.
    Sub-folders are looked into (a generated city's circle folders), so a user's file anywhere
    below counts."""
    folder = Path(folder)
    marker = read_marker(folder) if marker is None else marker
    if marker is None:
        names = sorted(os.listdir(folder))
        return [n if n != MARKER else f"{n} (not a lifecircle marker)" for n in names]
    foreign = []
    for name in _tree_files(folder):
        if name not in marker["files"]:
            foreign.append(name)
        elif not _listed_unchanged(folder, name, marker):
            foreign.append(f"{name} (changed since lifecircle wrote it)")
    return foreign


def write_marker(folder: Path, kind: str = "result", names=None) -> None:
    """Write ``folder``'s marker listing ``names`` (default: every file below it) atomically."""
    folder = Path(folder)
    names = _tree_files(folder) if names is None else sorted(names)
    marker = _marker_base(kind)
    marker["files"] = {n: _file_entry(folder / n) for n in names}
    tmp = folder / f"{MARKER}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        _write_json_file(tmp, marker)
        os.replace(tmp, folder / MARKER)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _foreign_message(display: str, option: str, first: str) -> str:
    return (f"{display} holds files lifecircle did not write; choose another {option} or remove them "
            f"(first: {first})")


def check_replaceable(target, display: str | None = None, option: str = "--out") -> None:
    """Raise ScenarioError unless lifecircle may replace the folder ``target`` (see the module
    docstring): missing, empty, or marked and holding nothing else."""
    target = Path(target)
    display = str(target) if display is None else display
    if target.is_symlink():
        raise ScenarioError(f"{display} is a link lifecircle did not write; choose another {option} or remove it")
    if not target.exists():
        return
    if not target.is_dir():
        raise ScenarioError(f"{display} is a file lifecircle did not write; choose another {option} or remove it")
    try:
        foreign = foreign_entries(target)
    except OSError as error:
        raise unwritable(display, error) from None
    if foreign:
        raise ScenarioError(_foreign_message(display, option, foreign[0]))


def check_out_dir(out_dir, inputs=(), option: str = "--out", display: str | None = None) -> None:
    """Refuse an output folder that is, holds or lies inside one of ``inputs`` (the scenario and
    every data file it reads), that lifecircle may not replace, or that is the current folder.
    Messages name the folder as ``display`` (default: as given)."""
    display = str(out_dir) if display is None else display
    out = Path(os.path.abspath(out_dir))
    resolved = out.resolve()
    for item in inputs:
        path = Path(item).resolve()
        if path == resolved or resolved in path.parents:
            raise ScenarioError(f"{display} holds the scenario's own file {path}; choose another {option}")
        if path in resolved.parents:
            raise ScenarioError(f"{display} lies inside the scenario's own file {path}; choose another {option}")
    check_replaceable(out, display, option)
    if out.name == "" or resolved == Path.cwd().resolve():
        raise ScenarioError(f"{display} is the current folder, which a run replaces whole; choose a folder "
                            f"below it, such as {option} results")


def prepare_marked_folder(out_dir, kind: str, own_files, *, option: str = "--out",
                          display: str | None = None) -> Path:
    """Make ``out_dir`` a folder that lifecircle adds its ``own_files`` to, or refuse it.

    For outputs written in place row by row (city.csv, bench.csv), so that an interrupted run
    keeps what it did. The folder must be missing, empty, or one an earlier run of the same
    ``kind`` marked, whose ``own_files`` (where present) that marker lists. The folder is never
    replaced whole: a user's other files in a marked folder are left alone. Stale marked
    temporaries are removed. Returns the folder's absolute path.
    """
    display = str(out_dir) if display is None else display
    out = Path(os.path.abspath(out_dir))
    if out.is_symlink() or out.is_file():
        raise ScenarioError(f"{display} is a file lifecircle did not write; choose another {option} or remove it")
    try:
        marker = read_marker(out) if out.is_dir() else None
        if out.is_dir() and os.listdir(out):
            if marker is None:
                raise ScenarioError(_foreign_message(display, option, foreign_entries(out, None)[0]))
            if marker.get("kind") != kind:
                raise ScenarioError(f"{display} holds a lifecircle {marker.get('kind')} folder, not a "
                                    f"{kind} folder; choose another {option}")
            for name in own_files:
                if (out / name).exists() and not listed_in_marker(out / name, content=False):
                    raise ScenarioError(_foreign_message(display, option, name))
        out.mkdir(parents=True, exist_ok=True)
        if marker is None:
            write_marker(out, kind=kind, names=[])
        remove_stale_temporaries(out)
    except OSError as error:
        raise unwritable(display, error) from None
    return out


def unwritable(display: str, error: OSError) -> ScenarioError:
    """The one-line error for an output the OS refuses (read-only folder, full disk)."""
    reason = error.strerror or str(error) or type(error).__name__
    out = ScenarioError(f"{display}: cannot write the output ({reason}); nothing was written")
    out.os_reason = reason
    return out


# ---- temporaries ------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:
    """On Windows ``os.kill(pid, 0)`` sends CTRL_C_EVENT (0) instead of probing, so ask the kernel.
    Anything unclear counts as alive: a live writer's temporary is never removed."""
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() != 87  # ERROR_INVALID_PARAMETER: no such process
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _temporary_parts(name: str) -> tuple[str, int] | None:
    """(target name, pid) of a temporary's name, or None when it is not one."""
    for prefix in (TMP_PREFIX, OLD_PREFIX):
        if name.startswith(prefix):
            parts = name[len(prefix):].rsplit(".", 2)
            if len(parts) == 3 and parts[1].isdigit() and parts[0]:
                return parts[0], int(parts[1])
    return None


def remove_stale_temporaries(parent, target_name: str | None = None) -> list:
    """Remove the temporaries in ``parent`` (of ``target_name``, or of every target) that a
    killed run left: marked, written on this host, by a process no longer running. Returns the
    names removed."""
    removed = []
    host = socket.gethostname()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        parts = _temporary_parts(entry.name)
        if parts is None or (target_name is not None and parts[0] != target_name):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        marker = read_marker(Path(entry.path))
        if marker is None or marker.get("host") != host or _pid_alive(parts[1]):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _make_temporary(parent: Path, target_name: str) -> Path:
    tmp = parent / f"{TMP_PREFIX}{target_name}.{os.getpid()}.{secrets.token_hex(4)}"
    os.mkdir(tmp, 0o700)
    try:
        write_marker(tmp, kind="temporary", names=[])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _absolute(target) -> Path:
    # abspath, not resolve: a link in the parent path stays, and the target itself is not followed
    return Path(os.path.abspath(target))


def _start_temporary(target: Path, display: str) -> Path:
    """A fresh marked temporary folder beside ``target``, after removing the stale ones a killed
    run of the same target left; an OS refusal is one ScenarioError naming ``display``."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent, target.name)
        return _make_temporary(target.parent, target.name)
    except OSError as error:
        raise unwritable(display, error) from None


@contextlib.contextmanager
def atomic_folder(target, *, option: str = "--out", inputs=(), kind: str = "result"):
    """Yield a temporary folder; on success it becomes ``target``, with a marker listing its files.

    Refused (ScenarioError, exit 2) before anything is written when ``target`` may not be
    replaced (:func:`check_out_dir`; ``inputs`` are the files the run reads). An error of the
    OS (read-only folder, full disk) becomes one ScenarioError naming the folder; nothing is
    left behind and a previous result stays as it was.
    """
    display = str(target)
    target = _absolute(target)
    check_out_dir(target, inputs, option, display)
    tmp = _start_temporary(target, display)
    try:
        yield tmp
        write_marker(tmp, kind=kind)
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp-style 0700 while private, the umask once public
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise unwritable(display, error) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _put_in_place(tmp, target, display, option)


def _put_in_place(tmp: Path, target: Path, display: str, option: str) -> None:
    """Rename ``tmp`` onto ``target``: over nothing or an empty folder directly; over a previous
    result by setting it aside first (a marked ``.lifecircle-old.*`` folder), then removing it."""
    old = None
    try:
        check_replaceable(target, display, option)  # again: a file may have been dropped in meanwhile
        if target.exists() and os.listdir(target):
            old = target.parent / f"{OLD_PREFIX}{target.name}.{os.getpid()}.{secrets.token_hex(4)}"
            os.replace(target, old)
        os.replace(tmp, target)
    except OSError as error:
        if old is not None and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise unwritable(display, error) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _check_file_target(target: Path, display: str, option: str, owned) -> None:
    if target.is_symlink():
        raise ScenarioError(f"{display} is a link lifecircle did not write; choose another {option} or remove it")
    if target.is_dir():
        raise ScenarioError(f"{display} is a folder; choose another {option}")
    if owned is not None and target.exists() and not owned(target):
        raise ScenarioError(f"{display} is a file lifecircle did not write; choose another {option} or remove it")


def check_file_target(target, option: str, owned=None, display: str | None = None) -> None:
    """Raise ScenarioError unless lifecircle may write the file ``target``: missing, or (when
    ``owned`` is given) a file ``owned(path)`` recognises as lifecircle's own."""
    _check_file_target(_absolute(target), str(target) if display is None else display, option, owned)


@contextlib.contextmanager
def atomic_file(target, *, option: str, owned=None):
    """Yield a path to write; on success that file replaces ``target`` with one rename.

    ``owned(path) -> bool`` says whether an existing ``target`` is lifecircle's own (an earlier
    export, an earlier city.csv); when it is not, ScenarioError (exit 2) before anything is
    written. ``owned=None``: a file in lifecircle's own place (the reach cache), replaced freely.
    The file is written inside a marked temporary folder beside ``target``, so a killed run
    leaves only what the next write of ``target`` removes. OS errors become one ScenarioError.
    """
    display = str(target)
    target = _absolute(target)
    _check_file_target(target, display, option, owned)
    tmp = _start_temporary(target, display)
    try:
        yield tmp / target.name
        _check_file_target(target, display, option, owned)
        os.replace(tmp / target.name, target)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise unwritable(display, error) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(target, text: str, *, option: str, owned=None, encoding: str = "utf-8") -> None:
    """:func:`atomic_file` for a text already in memory."""
    with atomic_file(target, option=option, owned=owned) as tmp:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(text)


def listed_in_marker(path, content: bool = True) -> bool:
    """``owned`` for files in a marked folder (city.csv): listed there and (``content``)
    unchanged since."""
    path = Path(path)
    marker = read_marker(path.parent)
    if marker is None or path.name not in marker["files"]:
        return False
    return not content or _listed_unchanged(path.parent, path.name, marker)


# ---- CSV --------------------------------------------------------------------------------------


def csv_cell(value):
    """``value`` as a CSV cell that a spreadsheet will not run: text beginning with = + - @, tab
    or CR gets a leading ``'`` (OWASP); numbers and everything not text are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(cell: str) -> str:
    """The text :func:`csv_cell` neutralised, as it was (for lifecircle reading its own CSVs)."""
    if isinstance(cell, str) and len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_STARTS:
        return cell[1:]
    return cell


def csv_text_bytes(header: list, rows: list) -> str:
    """A whole CSV as text, every cell through :func:`csv_cell`."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(c) for c in header])
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def write_csv_bom(path: Path, header: list, rows: list) -> None:
    """UTF-8 with a byte-order mark, so Excel shows Chinese names correctly; text cells are
    neutralised against formula injection (:func:`csv_cell`)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(csv_text_bytes(header, rows))


# ---- JSON, GeoJSON ----------------------------------------------------------------------------


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


def _write_json_file(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(finite_json(data), fh, ensure_ascii=False, indent=2, default=_json_default,
                  allow_nan=False)
        fh.write("\n")


def write_json(path: Path, data) -> None:
    _write_json_file(path, data)


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
