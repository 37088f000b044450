"""The browser the page tests drive (issues 12 and 15): Debian's system Chromium, by the DevTools
protocol or by Playwright. Missing, it skips a local run with the fix, and fails under CI
(CI=true), where `.ci/run` installs it: a browser test that skips in CI would prove nothing."""

from __future__ import annotations

import os
import shutil

import pytest


def missing(message: str):
    """Fail under CI, else skip, with ``message`` (what is missing and how to install it)."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        missing("headless Chromium is not installed (Debian: apt-get install chromium; "
                ".ci/run installs it before `make test`)")
    return path


def sync_playwright():
    """Playwright's ``sync_playwright`` (its Python package, never its own browser download)."""
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        missing("Playwright for Python is not installed (pip install -e '.[test]')")
    return start
