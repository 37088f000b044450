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
