"""Issue 12, section 4: numbers and size bombs. Each case is one line on stderr, exit 2, no
traceback, nothing written, inputs unchanged; a size bomb is refused before it allocates.

The size bombs run as the installed ``lifecircle`` in a subprocess whose address space is capped
at 1 GiB (``RLIMIT_AS``): an attempt to allocate the bomb would fail with a MemoryError traceback
instead of the refusal, and each must finish within a few seconds.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.optimizer.errors import ScenarioError
from support.hostile import one_error_line, snapshot

LIFECIRCLE = Path(sys.executable).parent / "lifecircle"
ADDRESS_SPACE_BYTES = 1 << 30  # python, numpy and scipy start in well under this
# A hang guard, not a speed goal: a bomb that allocated would die of the 1 GiB address-space cap
# (MemoryError, checked above); one that looped would run for minutes. Start-up is 2-10 s when the
# machine is busy.
BOMB_SECONDS = 60.0


# ---- generate arguments -----------------------------------------------------------------------

GENERATE_CASES = [
    (["--demand", "0"], "--demand: value 0 must be >= 1"),
    (["--sites", "0"], "--sites: value 0 must be >= 1"),
    (["--demand", "-5"], "--demand: value -5 must be >= 1"),
    (["--sites", "-1"], "--sites: value -1 must be >= 1"),
    (["--budget", "-1"], "--budget: value -1 must be a finite number >= 0"),
    (["--budget", "nan"], "--budget: value nan must be a finite number >= 0"),
    (["--budget", "inf"], "--budget: value inf must be a finite number >= 0"),
]


@pytest.mark.parametrize("args, expected", GENERATE_CASES, ids=[" ".join(a) for a, _ in GENERATE_CASES])
def test_generate_bad_numbers_are_one_line(tmp_path, args, expected):
    out = tmp_path / "district"
    result = CliRunner().invoke(main, ["generate", str(out), *args])
    assert result.exit_code == 2, result.output
    assert one_error_line(result.stderr) == "error: " + expected
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_generate_district_raises_scenario_error_for_library_callers(tmp_path):
    from lifecircle.optimizer.generate.district import generate_district
    from lifecircle.optimizer.generate.profiles import MAX_DEMAND_POINTS

    for kwargs, words in (({"n_demand": 0}, "n_demand=0 must be an integer >= 1"),
                          ({"n_sites": 2.5}, "n_sites=2.5 must be an integer >= 1"),
                          ({"budget_cny": float("nan")}, "budget_cny=nan must be a finite number >= 0"),
                          ({"n_demand": MAX_DEMAND_POINTS + 1}, "n_demand=1000001 is above the limit of 1,000,000")):
        with pytest.raises(ScenarioError, match=re.escape(words)):
            generate_district(tmp_path / "d", **kwargs)
    assert not (tmp_path / "d").exists()


# ---- size bombs ---------------------------------------------------------------------------------


def _cap_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))


def run_capped(args, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([str(LIFECIRCLE), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=60, preexec_fn=_cap_address_space)
    return proc, time.perf_counter() - t0


def assert_refused(proc, seconds, expected: str):
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert one_error_line(proc.stderr) == "error: " + expected
    assert "MemoryError" not in proc.stderr
    assert seconds < BOMB_SECONDS, f"took {seconds:.1f} s: it did not refuse before working"


def test_orlib_header_claiming_100000_vertices_is_refused_before_allocating(tmp_path):
    instance = tmp_path / "bomb.txt"
    instance.write_text("100000 3 5\n1 2 3\n2 3 4\n3 4 5\n", encoding="utf-8")
    before = snapshot(tmp_path)
    proc, seconds = run_capped(["classic", "pmedian", "--instance", instance], tmp_path)
    assert_refused(proc, seconds, f"{instance}:1: the first line claims 100000 vertices; their dense "
                   "100000 x 100000 distance matrix needs 74.5 GiB, above the limit of 1 GiB (at most "
                   "11,585 vertices)")
    assert snapshot(tmp_path) == before


def test_orlib_header_claiming_more_vertices_than_its_edges_touch(tmp_path):
    from lifecircle.optimizer.classic.formats import read_orlib_pmed

    instance = tmp_path / "few.txt"
    instance.write_text("9 3 2\n1 2 3\n2 3 4\n3 4 5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        read_orlib_pmed(str(instance))
    assert str(err.value) == (f"{instance}:1: the first line claims 9 vertices but the file's 3 edge lines "
                              "can touch at most 6; the header does not match the file")


def test_plan_years_1e9_is_refused_before_allocating(tiny_scenario, tmp_path):
    before = snapshot(tiny_scenario.parent)
    out = tmp_path / "plan"
    proc, seconds = run_capped(["plan", tiny_scenario, "--years", "1000000000", "--budget-per-year", "500",
                                "--out", out], tmp_path)
    assert_refused(proc, seconds, "--years: value 1000000000 is above the limit of 50 planning years")
    assert not out.exists() and not (tmp_path / "results").exists()
    assert snapshot(tiny_scenario.parent) == before


def test_sweep_of_a_billion_budgets_is_refused_before_allocating(tiny_scenario, tmp_path):
    before = snapshot(tiny_scenario.parent)
    out = tmp_path / "sweep"
    proc, seconds = run_capped(["sweep", tiny_scenario, "--budgets", "1:2:1000000000", "--out", out], tmp_path)
    assert_refused(proc, seconds, "--budgets: value '1:2:1000000000' asks for 1000000000 points, above the "
                   "limit of 1,000 budgets per sweep")
    assert not out.exists() and not (tmp_path / "results").exists()
    assert snapshot(tiny_scenario.parent) == before


def test_sweep_refuses_an_infinite_count_and_a_long_list():
    from lifecircle.optimizer.planning.curve import parse_budgets

    with pytest.raises(ScenarioError, match=r"^--budgets: value '1:2:1e999' asks for 1e999 points, above the "
                                            r"limit of 1,000 budgets per sweep$"):
        parse_budgets("1:2:1e999")
    with pytest.raises(ScenarioError, match=r"^--budgets: 1,001 budgets, above the limit of 1,000 budgets per sweep$"):
        parse_budgets(",".join(str(b) for b in range(1001)))
    assert parse_budgets("0:1:1000").size == 1000  # the limit itself is allowed


@pytest.mark.parametrize("flag, what", [("--demand", "demand points"), ("--sites", "sites")])
def test_generate_1e12_points_is_refused_before_allocating(tmp_path, flag, what):
    out = tmp_path / "district"
    proc, seconds = run_capped(["generate", out, flag, "1000000000000"], tmp_path)
    assert_refused(proc, seconds, f"{flag}: value 1000000000000 is above the limit of 1,000,000 {what} per "
                   "district; for more people generate a city (--city N)")
    assert list(tmp_path.iterdir()) == []


def test_generate_city_of_a_million_circles_is_refused_before_writing(tmp_path):
    out = tmp_path / "city"
    proc, seconds = run_capped(["generate", "--city", "1000000", out], tmp_path)
    assert_refused(proc, seconds, "--city: value 1000000 is above the limit of 10,000 circles")
    assert list(tmp_path.iterdir()) == []
