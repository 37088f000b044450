"""What the hostile-input tests check after every refusal: the one error line, and that nothing
under a folder changed."""

from __future__ import annotations

from pathlib import Path


def snapshot(folder: Path) -> dict:
    """Every file below ``folder``: relative path -> bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(stderr: str) -> str:
    """The single line of ``stderr``, which holds no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]
