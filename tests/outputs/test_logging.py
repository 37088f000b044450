"""Logging and the one progress display (issue 13): module loggers, `--verbose` / `--quiet`,
tqdm bars only on a terminal, and stdout the same whatever is shown on stderr."""

from __future__ import annotations

import ast
import importlib
import io
import logging

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.outputs import progress as progress_module
from lifecircle.optimizer.outputs.progress import console_logging, phases, progress
from support.scenarios import REPO, SITES_CSV, write_scenario

LONG_WORK = ["optimizer.run", "optimizer.inputs.network_reach", "optimizer.solve.coverage",
             "optimizer.outputs.report", "optimizer.outputs.explain", "optimizer.planning.sweep",
             "optimizer.planning.phased", "optimizer.planning.city", "optimizer.classic.bench"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(autouse=True)
def lifecircle_logger_clean():
    """Every command undoes its logging set-up: no handler or level is left behind."""
    logger = logging.getLogger("lifecircle")
    before = (list(logger.handlers), logger.level)
    yield
    assert (list(logger.handlers), logger.level) == before


@pytest.mark.parametrize("name", LONG_WORK)
def test_loggers_are_named_by_module(name):
    module = importlib.import_module(f"lifecircle.{name}")
    assert module.logger.name == module.__name__ == f"lifecircle.{name}"


def test_library_code_never_prints():
    """Console output belongs to the CLI; the library logs. (generate's ``python -m`` entry point
    is a command line of its own.)"""
    printing = []
    for top in ("optimizer", "models"):
        for path in sorted((REPO / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                    printing.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert [p for p in printing if not p.startswith("optimizer/generate/")] == []


def test_default_shows_no_log_lines_and_verbose_shows_phases(tiny_scenario, tmp_path):
    quiet = run("solve", tiny_scenario, "--out", tmp_path / "a", "--no-report")
    verbose = run("--verbose", "solve", tiny_scenario, "--out", tmp_path / "b", "--no-report")
    assert quiet.exit_code == verbose.exit_code == 0, verbose.output
    assert quiet.stderr == ""
    lines = verbose.stderr.splitlines()
    assert lines and all(line.startswith("lifecircle: ") for line in lines)
    assert lines[0] == f"lifecircle: loading {tiny_scenario}"
    assert any(line.startswith("lifecircle: solving with highs") for line in lines)
    assert lines[-1] == f"lifecircle: writing {tmp_path / 'b'}"
    assert not any("DEBUG" in line or "model:" in line for line in lines)  # INFO only
    # stdout is the same, but for the folder name and the timings
    def stable(text, folder):
        return [line.replace(str(folder), "OUT") for line in text.splitlines() if not line.startswith("timings")]
    assert stable(verbose.stdout, tmp_path / "b") == stable(quiet.stdout, tmp_path / "a")


def test_solve_verbose_still_means_the_solver_log(tiny_scenario, tmp_path):
    """`solve --verbose` (the solver's log) is not the group's `--verbose` (lifecircle's phases)."""
    result = run("solve", tiny_scenario, "--out", tmp_path / "a", "--no-report", "--verbose")
    assert result.exit_code == 0, result.output
    assert "lifecircle: loading" not in result.stderr


def test_quiet_hides_warnings_not_errors(tmp_path):
    scenario = write_scenario(tmp_path / "gbk")
    (tmp_path / "gbk" / "sites.csv").write_bytes(SITES_CSV.encode("gb18030"))  # read with a warning
    loud = run("validate", scenario)
    assert loud.exit_code == 0 and loud.stderr.startswith("warning: ") and "GB18030" in loud.stderr
    hushed = run("--quiet", "validate", scenario)
    assert hushed.exit_code == 0 and hushed.stderr == ""
    assert hushed.stdout == loud.stdout
    missing = run("-q", "validate", tmp_path / "nowhere.yaml")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: ")


def test_verbose_and_quiet_together_is_a_usage_error(tiny_scenario):
    result = run("--verbose", "--quiet", "validate", tiny_scenario)
    assert result.exit_code == 2
    assert result.stderr == "error: --verbose and --quiet: give one or neither (see 'lifecircle --help')\n"


# ---- the progress display ----


def test_progress_forced_on_draws_a_bar():
    out = FakeTerminal()
    with progress(4, "budgets", unit="budget", show=True, file=out) as bar:
        bar.update(3)
        bar.refresh()  # tqdm redraws at most every 0.1 s on its own
    text = out.getvalue()
    assert "budgets" in text and "3/4" in text
    assert text.endswith("\r")  # erased when it closes: the lines after it start clean


def test_progress_needs_a_terminal_and_no_quiet():
    pipe = io.StringIO()
    with progress(4, "budgets", file=pipe) as bar:  # not a terminal
        bar.update(4)
    assert pipe.getvalue() == ""
    terminal = FakeTerminal()
    with progress(4, "budgets", file=terminal) as bar:
        bar.update(1)
    assert "budgets" in terminal.getvalue()
    undo = console_logging(quiet=True)
    try:
        hushed = FakeTerminal()
        with progress(4, "budgets", file=hushed) as bar:
            bar.update(1)
        assert hushed.getvalue() == ""
    finally:
        undo()


def test_phases_show_the_latest_info_message():
    out = FakeTerminal()
    log = logging.getLogger("lifecircle.optimizer.run")
    with phases("solve", show=True, file=out):
        log.info("loading here.yaml")
        log.debug("a detail")
    text = out.getvalue()
    assert "solve: loading here.yaml" in text and "a detail" not in text


def test_a_terminal_user_sees_progress_and_quiet_silences_it(tiny_scenario, tmp_path, monkeypatch):
    """On a terminal a sweep shows its bars on stderr by default; --quiet shows nothing; stdout is
    the same either way (and without a terminal, as every other test here checks, nothing)."""
    monkeypatch.setattr(progress_module, "is_terminal", lambda stream: True)
    args = ["sweep", tiny_scenario, "--budgets", "400,800,1200", "--jobs", "1"]
    shown = run(*args, "--out", tmp_path / "a")
    hushed = run("--quiet", *args, "--out", tmp_path / "b")
    assert shown.exit_code == hushed.exit_code == 0, shown.output
    assert "budgets" in shown.stderr and "sweep: " in shown.stderr
    assert hushed.stderr == ""
    def stable(text, folder):
        return [line.replace(str(folder), "OUT") for line in text.splitlines() if not line.startswith("timings")]
    assert stable(shown.stdout, tmp_path / "a") == stable(hushed.stdout, tmp_path / "b")


def test_no_terminal_no_progress(tiny_scenario, tmp_path):
    result = run("sweep", tiny_scenario, "--budgets", "400,800,1200", "--jobs", "1", "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
