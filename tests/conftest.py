"""Fixtures every test folder shares. Helpers live in tests/support (on the path via pytest's
``pythonpath`` setting in pyproject.toml)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# issue 15: the console now speaks the scenario's language (most bundled scenarios say zh). The
# suite's many assertions on console text were written in English, so the console speaks English
# here unless a test asks otherwise (tests/outputs/test_console_progress.py removes this).
os.environ.setdefault("LIFECIRCLE_LANG", "en")

from support.scenarios import SHARED_PMED, write_scenario


@pytest.fixture
def tiny_scenario(tmp_path) -> Path:
    return write_scenario(tmp_path / "tiny")


@pytest.fixture
def pmed_dir() -> Path:
    if not SHARED_PMED.is_dir():
        pytest.skip(f"OR-Library data not found at {SHARED_PMED}; the shared folder is absent")
    return SHARED_PMED


@pytest.fixture(scope="session")
def postgis_server():
    """A real PostgreSQL + PostGIS on a unix socket for the whole session (issue 17; see
    tests/support/postgres.py): skipped without the server binaries, except in CI, where it fails."""
    from support.postgres import start_server, stop_server

    server = start_server()
    yield server
    stop_server(server)
