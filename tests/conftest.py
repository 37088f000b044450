"""Fixtures every test folder shares. Helpers live in tests/support (on the path via pytest's
``pythonpath`` setting in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
