"""Issue 15: the console while lifecircle works, on a real terminal (a pty), and its language.

- a real solve on a terminal shows one line with the phase and the solver's incumbent, bound and
  gap; with --quiet, or when stderr is not a terminal, nothing extra;
- HiGHS and CP-SAT emit ``mip`` events from their callbacks, incumbent <= bound (maximisation),
  the last one holding the returned objective;
- Ctrl-C on `city` is one line (what was finished, where), exit 130, no traceback, whole files;
- --lang zh speaks Chinese for solve, sweep, plan and city; the scenario's language is the default
  (the city's circles say zh: its progress and Ctrl-C line are Chinese without --lang).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from lifecircle.cli import main
from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.core import events
from lifecircle.optimizer.generate.city import generate_city
from lifecircle.optimizer.generate.district import generate_district
from lifecircle.optimizer.solve.backends import REGISTRY, SolveOptions
from lifecircle.optimizer.solve.linear import solve_linear

CLI = [sys.executable, "-c", "from lifecircle.cli import main; main()"]


@pytest.fixture
def console_env(monkeypatch):
    """The console's own default (tests/conftest.py pins English for the rest of the suite)."""
    monkeypatch.delenv("LIFECIRCLE_LANG", raising=False)
    return {k: v for k, v in os.environ.items() if k != "LIFECIRCLE_LANG"}


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    """Hard enough that HiGHS branches (incumbents and bounds before the end), solved in seconds."""
    return generate_district(tmp_path_factory.mktemp("district") / "d", n_demand=400, n_sites=60, seed=1)


def run_on_pty(args, *, env, ctrl_c_after: str | None = None, timeout_s: float = 240.0):
    """Run ``args`` with stdin and stderr on a new terminal (its controlling tty, 200 columns), stdout
    a pipe. ``ctrl_c_after``: type Ctrl-C once stderr shows this text (the terminal then sends
    SIGINT to the whole process group, as a person's Ctrl-C does). Returns (code, stdout, stderr)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))

    def controlling_tty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        # a parallel test worker (pytest-xdist) ignores SIGINT and a child would inherit that;
        # a person's shell starts lifecircle with Ctrl-C at its default
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen(args, stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env,
                            start_new_session=True, preexec_fn=controlling_tty)
    os.close(slave)
    seen, sent, t0 = b"", False, time.monotonic()
    try:
        while time.monotonic() - t0 < timeout_s:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if ctrl_c_after and not sent and ctrl_c_after.encode() in seen:
                os.write(master, b"\x03")
                sent = True
            if not ready and proc.poll() is not None:
                break
        if proc.poll() is None:  # still running at the timeout: stop it, or reading stdout never ends
            proc.kill()
        out = proc.stdout.read().decode()
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    if ctrl_c_after:
        assert sent, f"never saw {ctrl_c_after!r} on stderr: {seen[-2000:]!r}"
    return code, out, seen.decode(errors="replace")


def test_solve_on_a_terminal_shows_phase_incumbent_bound_and_gap(district, tmp_path, console_env):
    code, out, err = run_on_pty([*CLI, "solve", str(district), "--out", str(tmp_path / "r"), "--no-report",
                                 "--lang", "en"], env=console_env)
    assert code == 0, err
    assert "solve: loading" in err and "solve: solving with highs (budget" in err
    figures = re.findall(r"incumbent ([\d,.]+) · bound ([\d,.]+) · gap ([\d.]+)%", err)
    assert figures, err[-2000:]
    for incumbent, bound, _gap in figures:  # maximisation: the bound is never below the plan
        assert float(incumbent.replace(",", "")) <= float(bound.replace(",", "")) + 0.05
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert f"weighted coverage {summary['objective']:,.1f}" in out  # stdout: the unchanged summary
    assert "incumbent" not in out
    assert "Traceback" not in err


def test_quiet_or_not_a_terminal_prints_nothing_extra(tiny_scenario, tmp_path, console_env):
    code, out, err = run_on_pty([*CLI, "--quiet", "solve", str(tiny_scenario), "--out", str(tmp_path / "q"),
                                 "--no-report"], env=console_env)
    assert code == 0 and err == "", err
    done = _invoke(["solve", tiny_scenario, "--out", tmp_path / "p", "--no-report"])  # stderr: not a tty
    assert done.exit_code == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines()[-1] == f"outputs: {tmp_path / 'p'}"


def _knapsack(n: int = 18, m: int = 5) -> LinearModel:
    """A seeded multi-dimensional 0-1 knapsack: both solvers branch before proving it."""
    rng = np.random.default_rng(1)
    weights = rng.integers(10, 100, size=(m, n)).astype(float)
    values = weights.sum(axis=0) + rng.integers(0, 50, size=n)
    return LinearModel(MAXIMIZE, values.astype(float), sp.csr_matrix(weights), np.full(m, -np.inf),
                       weights.sum(axis=1) / 2, np.zeros(n), np.ones(n), np.ones(n, dtype=bool), offset=7.0)


@pytest.mark.parametrize("solver", ["highs", "ortools-cpsat"])
def test_solver_callbacks_emit_mip_events(solver):
    if not REGISTRY[solver].available():
        pytest.skip(f"{solver} is not installed")
    model, seen = _knapsack(), []
    with events.subscribe(lambda kind, **fields: seen.append((kind, fields))):
        result = solve_linear(model, solver, SolveOptions(presolve=False, threads=2))
    mips = [fields for kind, fields in seen if kind == "mip"]
    assert result.status == "optimal"
    during = [f for f in mips if not f.get("final")]
    assert during, "no event from the solver's callback"
    for f in mips:
        assert f["solver"] == solver and f["elapsed_s"] >= 0
        if f["incumbent"] is not None and f["bound"] is not None:
            assert f["incumbent"] <= f["bound"] + 1e-6 * abs(f["bound"])
            assert f["gap"] == pytest.approx(abs(f["bound"] - f["incumbent"]) / abs(f["incumbent"]), abs=1e-9)
    assert mips[-1].get("final") and mips[-1]["incumbent"] == result.objective  # offset included
    assert result.objective == pytest.approx(float(model.c @ result.values) + 7.0)
    # nobody watching: no callback installed, nothing emitted, same optimum
    assert solve_linear(model, solver, SolveOptions(presolve=False, threads=2)).objective == result.objective


def test_ctrl_c_on_city_says_what_finished_and_where(tmp_path, console_env):
    city = generate_city(tmp_path / "city", 3, seed=3)
    out_dir = tmp_path / "results"
    code, out, err = run_on_pty([*CLI, "city", str(city), "--out", str(out_dir), "--workers", "1"],
                                env=console_env, ctrl_c_after="完成 1，")
    assert code == 130, err[-3000:]
    assert "Traceback" not in err and "Aborted" not in err and "KeyboardInterrupt" not in err
    assert "全市：求解 3 个生活圈" in err  # the progress line, in the scenarios' language (no --lang)
    last = [line for line in err.replace("\r", "\n").splitlines() if line.strip()][-1]
    # the city's circles say `language: zh`; one line naming the count and the folder
    found = re.fullmatch(r"lifecircle：已中断；3 个生活圈中已完成 (\d) 个，结果已写入 (.+)（再次运行可续算）", last)
    assert found, last
    assert Path(found.group(2)) == out_dir
    finished = [p for p in out_dir.iterdir() if p.is_dir() and (p / "summary.json").is_file()]
    assert len(finished) >= int(found.group(1)) >= 1
    for folder in finished:  # whole files: atomic folders, nothing half written
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["status"] in ("optimal", "feasible")
        assert json.loads((folder / "sites.geojson").read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    assert not [p for p in out_dir.rglob("*") if ".tmp" in p.name]  # no temporaries left behind


def _invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_lang_zh_for_solve_sweep_plan(tiny_scenario, tmp_path, console_env):
    solved = _invoke(["solve", tiny_scenario, "--out", tmp_path / "s", "--no-report", "--lang", "zh"])
    assert solved.exit_code == 0, solved.output
    assert "加权覆盖" in solved.output and "输出：" in solved.output
    swept = _invoke(["sweep", tiny_scenario, "--budgets", "100000,200000", "--out", tmp_path / "w", "--lang", "zh"])
    assert swept.exit_code == 0, swept.output
    assert "拐点" in swept.output and "预算" in swept.output and "knee" not in swept.output
    planned = _invoke(["plan", tiny_scenario, "--years", "2", "--budget-per-year", "100000", "--out", tmp_path / "p",
                       "--lang", "zh"])
    assert planned.exit_code == 0, planned.output
    assert "第 1 年" in planned.output and "year 1" not in planned.output
    bad = _invoke(["validate", tmp_path / "missing.yaml", "--lang", "zh"])
    assert bad.exit_code == 2 and bad.output.startswith("错误：")


def test_english_stays_as_it_was(tiny_scenario, tmp_path, console_env):
    """Without --lang and without a scenario language: the English lines scripts already read."""
    swept = _invoke(["sweep", tiny_scenario, "--budgets", "100000,200000", "--out", tmp_path / "w"])
    assert swept.exit_code == 0, swept.output
    assert swept.output.splitlines()[0].split() == ["budget", "objective", "spent", "status"]
    assert "knee:" in swept.output
    bad = _invoke(["validate", tmp_path / "missing.yaml"])
    assert bad.output.startswith("error: ")


@pytest.mark.parametrize("command", ["solve", "validate", "sweep", "plan", "city", "explain", "compare", "classic",
                                     "bench", "export", "network", "generate", "solvers"])
def test_every_command_takes_lang(command):
    assert "--lang" in _invoke([command, "--help"]).output


def test_explain_why_not_shows_its_re_solve(district, tmp_path, console_env):
    import csv

    out_dir = tmp_path / "r"
    assert _invoke(["solve", district, "--out", out_dir, "--no-report"]).exit_code == 0
    with open(out_dir / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        chosen = {row["site_id"] for row in csv.DictReader(fh)}
    with open(Path(district).parent / "sites.csv", encoding="utf-8-sig", newline="") as fh:
        other = next(row["id"] for row in csv.DictReader(fh) if row["id"] not in chosen)
    code, out, err = run_on_pty([*CLI, "explain", str(out_dir), "--why-not", other, "--lang", "en"], env=console_env)
    assert code == 0, err
    assert f"explain: why not {other}: re-solving with it forced in" in err
    assert re.search(r"re-solving with it forced in · incumbent [\d,.]+ · bound [\d,.]+ · gap [\d.]+%", err), err[-2000:]
    assert "Re-solve with it forced in" in out and "incumbent" not in out


def test_bench_counts_its_jobs_and_shows_each_job_s_solver_figures(tmp_path, console_env):
    """Each job solves in its own process; its MIP figures reach the bar through stderr lines."""
    edges = [(1, 2, 3), (2, 3, 4), (3, 4, 2), (4, 5, 6), (5, 6, 1), (6, 7, 5), (7, 8, 2), (8, 1, 4), (2, 6, 7)]
    instance = tmp_path / "tiny.txt"
    instance.write_text("8 9 3\n" + "".join(f"{a} {b} {w}\n" for a, b, w in edges), encoding="utf-8")
    code, out, err = run_on_pty([*CLI, "bench", str(instance), "--model", "mclp", "--radius", "5", "--solvers",
                                 "highs,ortools-cpsat", "--out", str(tmp_path / "b"), "--lang", "en"], env=console_env)
    assert code == 0, err
    assert re.search(r"bench mclp: +50%\|.*\| 1/2", err) and re.search(r"bench mclp: 100%\|.*\| 2/2", err), err
    # p = 3 sites cover all 8 vertices within 5: both jobs end at 8 with a closed gap
    assert re.search(r"\| [12]/2 \[[^]]*, incumbent 8\.0 · bound 8\.0 · gap 0\.00%\]", err), err[-1500:]
    assert "lifecircle-event" not in err and "lifecircle-event" not in out
    assert out.strip().endswith(f"wrote {tmp_path / 'b' / 'bench.csv'} and {tmp_path / 'b' / 'bench.md'}")
