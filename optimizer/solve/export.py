"""Export any :class:`~lifecircle.models.linear.LinearModel` as MPS or CPLEX LP, written by HiGHS.

``lifecircle export`` writes a scenario's coverage model and a classic instance's model through
this one writer, so the file is exactly the model the backends receive (HiGHS holds it:
:func:`lifecircle.optimizer.solve.backends.highs.highs_with`).
"""

from __future__ import annotations

import os

from lifecircle.models.linear import LinearModel

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.solve.backends.highs import highs_with

EXPORT_TAG = "lifecircle export"
_EXPORT_COMMENT = {".mps": "* ", ".lp": "\\ "}  # a comment line in each format


def is_lifecircle_export(path) -> bool:
    """Whether ``path`` is an MPS or LP file :func:`export_model` wrote (its first line says so)."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return False
    return any(first.startswith((c + EXPORT_TAG).encode()) for c in _EXPORT_COMMENT.values())


def check_export_targets(mps_path: str, lp_path: str | None = None) -> None:
    """Refuse (ScenarioError, exit 2) export targets that are the same file, or that exist and are
    not earlier lifecircle exports (a scenario's demand.csv, say)."""
    from lifecircle.optimizer.files import check_file_target

    if lp_path is not None:
        a, b = os.path.abspath(mps_path), os.path.abspath(lp_path)
        same = a == b or (os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b))
        if same:
            raise ScenarioError(f"--lp {lp_path}: is the same file as --mps {mps_path}; give two different files")
    check_file_target(mps_path, "--mps", owned=is_lifecircle_export)
    if lp_path is not None:
        check_file_target(lp_path, "--lp", owned=is_lifecircle_export)


def export_model(model: LinearModel, mps_path: str, lp_path: str | None = None) -> None:
    """Write ``model`` exactly as the backends receive it, as MPS (and optionally CPLEX LP).

    Written by HiGHS (``writeModel``), objective offset and integrality included, so any MPS
    reader, commercial solvers too, solves the same problem. The file name's extension does not
    matter: the format is fixed by the argument. Each file starts with a comment line
    ``lifecircle export ...``: only such files are ever overwritten (issue 12), and each appears
    whole or not at all (:func:`lifecircle.optimizer.files.atomic_file`).
    """
    import shutil

    from lifecircle.optimizer import __version__
    from lifecircle.optimizer.solve.backends.base import quiet_stdout
    from lifecircle.optimizer.files import atomic_file, command_line

    check_export_targets(mps_path, lp_path)
    h = highs_with(model)
    command = " ".join(command_line().split())  # one line, whatever the arguments hold
    for path, ext, option in ((mps_path, ".mps", "--mps"), (lp_path, ".lp", "--lp")):
        if path is None:
            continue
        with atomic_file(path, option=option, owned=is_lifecircle_export) as tmp:
            raw = tmp.parent / ("highs-model" + ext)  # HiGHS picks the format by the extension
            with quiet_stdout():
                status = h.writeModel(str(raw))
            if not raw.exists() or str(status).endswith("kError"):
                raise ScenarioError(f"{path}: HiGHS could not write the model ({status})")
            with open(tmp, "wb") as out, open(raw, "rb") as src:
                out.write(f"{_EXPORT_COMMENT[ext]}{EXPORT_TAG} by lifecircle {__version__}: {command}\n".encode())
                shutil.copyfileobj(src, out, 1 << 20)
