"""Issue 12 (parts 1, 4 and 5): lifecircle never deletes or overwrites a user's files, an output the
OS refuses is one line with exit 2, and the CSVs it writes for Excel hold no live formulas.

Every case asserts the exit code, the exact one-line message, no traceback, nothing left behind,
and that the user's files (inputs included) are unchanged byte for byte.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.scenarios import REPO, SITES_CSV, write_scenario
from lifecircle.optimizer.files import MARKER, csv_cell, csv_text

FOREIGN = "holds files lifecircle did not write; choose another --out or remove them"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder: Path) -> dict:
    """Every file and folder below ``folder`` (hidden ones too): relative path -> bytes (None: a folder)."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        out[str(path.relative_to(folder))] = None if path.is_dir() else path.read_bytes()
    return out


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def user_folder(path: Path) -> Path:
    """A folder of the user's own: notes, a hidden folder, a sub-folder."""
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("my notes 我的笔记\n", encoding="utf-8")
    (path / ".ssh").mkdir()
    (path / ".ssh" / "id_ed25519").write_bytes(b"secret key\n")
    (path / "photos").mkdir()
    (path / "photos" / "a.jpg").write_bytes(bytes(range(256)))
    return path


COMMANDS = {
    "solve": lambda scenario, out: ["solve", scenario, "--no-report", "--out", out],
    "sweep": lambda scenario, out: ["sweep", scenario, "--budgets", "500,1000", "--out", out],
    "plan": lambda scenario, out: ["plan", scenario, "--years", "2", "--budget-per-year", "500", "--out", out],
}


# ---- 1. never delete or overwrite what lifecircle did not write -----------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_at_the_scenarios_own_folder_is_refused(tmp_path, command):
    scenario = write_scenario(tmp_path / "district")
    folder = scenario.parent
    before = snapshot(tmp_path)
    line = one_line_error(run(*COMMANDS[command](scenario, folder)))
    assert line == f"error: {folder} holds the scenario's own file {scenario.resolve()}; choose another --out"
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_at_an_ancestor_of_the_data_or_inside_it_is_refused(tmp_path, command):
    scenario = write_scenario(tmp_path / "work" / "district")
    before = snapshot(tmp_path)
    line = one_line_error(run(*COMMANDS[command](scenario, tmp_path / "work")))
    assert line == (f"error: {tmp_path / 'work'} holds the scenario's own file {scenario.resolve()}; "
                    "choose another --out")
    inside = scenario.parent / "demand.csv" / "out"
    line = one_line_error(run(*COMMANDS[command](scenario, inside)))
    assert line == (f"error: {inside} lies inside the scenario's own file {(scenario.parent / 'demand.csv').resolve()}; "
                    "choose another --out")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_at_a_folder_of_the_users_files_is_refused(tmp_path, command):
    scenario = write_scenario(tmp_path / "district")
    out = user_folder(tmp_path / "mine")
    before = snapshot(tmp_path)
    line = one_line_error(run(*COMMANDS[command](scenario, out)))
    assert line == f"error: {out} {FOREIGN} (first: .ssh)"
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_users_file_dropped_into_a_result_folder_survives(tmp_path, command):
    scenario = write_scenario(tmp_path / "district")
    out = tmp_path / "results"
    assert run(*COMMANDS[command](scenario, out)).exit_code == 0
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert marker["written_by"] == "lifecircle" and marker["kind"] == "result"
    assert sorted(marker["files"]) == sorted(p.name for p in out.iterdir() if p.name != MARKER)
    assert marker["command"] and marker["lifecircle_version"]  # sys.argv: the real command line
    # lifecircle's own folder is replaced whole by a rerun
    first = snapshot(out)
    assert run(*COMMANDS[command](scenario, out)).exit_code == 0
    assert set(snapshot(out)) == set(first)

    (out / "notes.txt").write_text("keep me\n", encoding="utf-8")
    before = snapshot(tmp_path)
    line = one_line_error(run(*COMMANDS[command](scenario, out)))
    assert line == f"error: {out} {FOREIGN} (first: notes.txt)"
    assert snapshot(tmp_path) == before


def test_a_result_file_the_user_changed_is_not_replaced(tmp_path, tiny_scenario):
    out = tmp_path / "results"
    assert run("solve", tiny_scenario, "--no-report", "--out", out).exit_code == 0
    with open(out / "sites.csv", "a", encoding="utf-8") as fh:
        fh.write("my own row\n")
    before = snapshot(tmp_path)
    line = one_line_error(run("solve", tiny_scenario, "--no-report", "--out", out))
    assert line == f"error: {out} {FOREIGN} (first: sites.csv (changed since lifecircle wrote it))"
    assert snapshot(tmp_path) == before


def test_out_at_a_file_or_a_link_is_refused(tmp_path, tiny_scenario):
    target = tmp_path / "report.docx"
    target.write_bytes(b"the user's report")
    link = tmp_path / "link"
    link.symlink_to(user_folder(tmp_path / "mine"))
    before = snapshot(tmp_path)
    result = run("solve", tiny_scenario, "--no-report", "--out", target)  # click refuses it first
    assert result.exit_code == 2 and "is a file" in result.stderr and "Traceback" not in result.stderr
    from lifecircle.optimizer.errors import ScenarioError
    from lifecircle.optimizer.run import run_solve

    with pytest.raises(ScenarioError) as error:  # the writer's own guard, for callers other than the CLI
        run_solve(tiny_scenario, out_dir=target, report=False)
    assert str(error.value) == f"{target} is a file lifecircle did not write; choose another --out or remove it"
    line = one_line_error(run("solve", tiny_scenario, "--no-report", "--out", link))
    assert line == f"error: {link} is a link lifecircle did not write; choose another --out or remove it"
    assert snapshot(tmp_path) == before


def test_out_dot(tmp_path, monkeypatch):
    scenario = write_scenario(tmp_path / "district")
    here = user_folder(tmp_path / "here")
    monkeypatch.chdir(here)
    before = snapshot(tmp_path)
    line = one_line_error(run("solve", scenario, "--no-report", "--out", "."))
    assert line == f"error: . {FOREIGN} (first: .ssh)"
    monkeypatch.chdir(scenario.parent)  # in the scenario's own folder
    line = one_line_error(run("solve", "scenario.yaml", "--no-report", "--out", "."))
    assert line == f"error: . holds the scenario's own file {scenario.resolve()}; choose another --out"
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)  # replacing the current folder would leave the shell in a deleted one
    line = one_line_error(run("solve", scenario, "--no-report", "--out", "."))
    assert line == ("error: . is the current folder, which a run replaces whole; choose a folder below it, "
                    "such as --out results")
    assert snapshot(tmp_path) == before | {"empty": None}


def test_an_empty_folder_may_be_filled(tmp_path, tiny_scenario):
    out = tmp_path / "out"
    out.mkdir()
    assert run("solve", tiny_scenario, "--no-report", "--out", out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "plan.gpkg", "sites.csv", "sites.geojson", "summary.json"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---- export -------------------------------------------------------------------------------------


def test_export_never_overwrites_a_users_file(tmp_path, tiny_scenario):
    folder = tiny_scenario.parent
    mine = tmp_path / "mine.mps"
    mine.write_text("NAME my own model\nENDATA\n", encoding="utf-8")
    before = snapshot(tmp_path)
    demand = folder / "demand.csv"
    line = one_line_error(run("export", tiny_scenario, "--mps", demand))
    assert line == f"error: {demand} is a file lifecircle did not write; choose another --mps or remove it"
    line = one_line_error(run("export", tiny_scenario, "--mps", tmp_path / "m.mps", "--lp", folder / "sites.csv"))
    assert line == (f"error: {folder / 'sites.csv'} is a file lifecircle did not write; choose another --lp "
                    "or remove it")
    line = one_line_error(run("export", tiny_scenario, "--mps", mine))
    assert line == f"error: {mine} is a file lifecircle did not write; choose another --mps or remove it"
    same = tmp_path / "m.mps"
    line = one_line_error(run("export", tiny_scenario, "--mps", same, "--lp", same))
    assert line == f"error: --lp {same}: is the same file as --mps {same}; give two different files"
    assert snapshot(tmp_path) == before


def test_export_replaces_its_own_exports(tmp_path, tiny_scenario):
    mps, lp = tmp_path / "m.mps", tmp_path / "m.lp"
    assert run("export", tiny_scenario, "--mps", mps, "--lp", lp).exit_code == 0
    assert mps.read_text(encoding="utf-8").startswith("* lifecircle export by lifecircle ")
    assert lp.read_text(encoding="utf-8").startswith("\\ lifecircle export by lifecircle ")
    result = run("export", tiny_scenario, "--budget", 500, "--mps", mps, "--lp", lp)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.lp", "m.mps", "tiny"]  # no temporaries
    from test_export_scenario import solve_mps

    assert solve_mps(mps) == 60.0 and solve_mps(lp) == 60.0  # the comment line is read as one


# ---- city ---------------------------------------------------------------------------------------


def test_city_circle_named_ssh_never_touches_dot_ssh(tmp_path):
    from lifecircle.optimizer.planning.city import run_city

    city = tmp_path / "city"
    scenario = write_scenario(city / "ssh")
    out = tmp_path / "out"
    run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    for name in (".ssh", ".ssh.bak", ".ssh.old.1"):  # what the old clean-up removed
        (out / name).mkdir()
        (out / name / "id_ed25519").write_bytes(b"secret key\n")
    (out / "notes.txt").write_text("my notes\n", encoding="utf-8")
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("budget: 1000", "budget: 500"),
                        encoding="utf-8")  # the circle is solved again
    mine = {k: v for k, v in snapshot(out).items() if k.startswith((".ssh", "notes"))}
    again = run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    assert (again.n_solved, again.n_failed) == (1, 0)
    assert {k: v for k, v in snapshot(out).items() if k.startswith((".ssh", "notes"))} == mine
    assert json.loads((out / "ssh" / "summary.json").read_text(encoding="utf-8"))["budget"] == 500.0


def test_city_refuses_a_users_folder(tmp_path):
    city = tmp_path / "city"
    write_scenario(city / "ssh")
    out = user_folder(tmp_path / "home")
    before = snapshot(tmp_path)
    line = one_line_error(run("city", city, "--out", out, "--workers", 1, "--no-progress"))
    assert line == f"error: {out} {FOREIGN} (first: .ssh)"
    line = one_line_error(run("city", city, "--out", city, "--workers", 1, "--no-progress"))
    assert line == f"error: {city} holds circle ssh's own files ({(city / 'ssh').resolve()}); choose another --out"
    assert snapshot(tmp_path) == before


def test_city_refuses_a_circle_folder_it_did_not_write(tmp_path):
    from lifecircle.optimizer.planning.city import run_city

    city = tmp_path / "city"
    write_scenario(city / "c1")
    write_scenario(city / "ssh")
    out = tmp_path / "out"
    run_city(city, out_dir=out, workers=1, processes=False, progress=False)
    shutil.rmtree(out / "ssh")
    user_folder(out / "ssh")  # the user's folder where the circle's results would go
    (out / "city.csv").write_bytes((out / "city.csv").read_bytes())
    before = snapshot(tmp_path)
    line = one_line_error(run("city", city, "--out", out, "--workers", 1, "--no-progress"))
    assert line == f"error: {out / 'ssh'} {FOREIGN} (first: .ssh)"
    assert snapshot(tmp_path) == before


# ---- killed runs and temporaries ----------------------------------------------------------------


def test_a_killed_writes_temporaries_are_removed_and_nothing_else(tmp_path, tiny_scenario):
    out = tmp_path / "out"
    killed = ("import os, sys; from lifecircle.optimizer.files import atomic_folder\n"
              "writer = atomic_folder(sys.argv[2]); tmp = writer.__enter__()\n"
              "(tmp / 'sites.csv').write_text('half a fi'); os._exit(9)")  # dies mid-write
    subprocess.run([sys.executable, "-c", killed, str(REPO), str(out)], check=False)
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".lifecircle-tmp.out.")]
    assert len(left) == 1 and (tmp_path / left[0] / MARKER).is_file()
    # look-alikes without lifecircle's marker are the user's: never removed
    for name in (".lifecircle-tmp.out.1.abcd", ".out.old.1", ".out.123abc"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.txt").write_text("mine\n", encoding="utf-8")
    mine = {k: v for k, v in snapshot(tmp_path).items() if k.startswith((".out", ".lifecircle-tmp.out.1."))}
    assert run("solve", tiny_scenario, "--no-report", "--out", out).exit_code == 0
    assert not (tmp_path / left[0]).exists()
    now = {k: v for k, v in snapshot(tmp_path).items() if k.startswith((".out", ".lifecircle-tmp.out.1."))}
    assert now == mine


# ---- modes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask, folder_mode, file_mode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600),
                                                           (0o002, 0o775, 0o664)])
def test_results_follow_the_umask(tmp_path, tiny_scenario, umask, folder_mode, file_mode):
    old = os.umask(umask)
    try:
        assert run("solve", tiny_scenario, "--out", tmp_path / "out").exit_code == 0
        assert run("export", tiny_scenario, "--mps", tmp_path / "m.mps").exit_code == 0
    finally:
        os.umask(old)
    out = tmp_path / "out"
    assert out.stat().st_mode & 0o777 == folder_mode
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == {
        p.name: file_mode for p in out.iterdir()}
    assert (tmp_path / "m.mps").stat().st_mode & 0o777 == file_mode


# ---- 4. unwritable output -----------------------------------------------------------------------


def cli(*args, limit_bytes=None, cwd=None):
    """The real command in a fresh process; ``limit_bytes`` caps file sizes like a full disk."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", "from lifecircle.cli import main; main()", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, preexec_fn=cap if limit_bytes else None, timeout=300)


def test_a_full_disk_is_one_line_and_leaves_the_old_results(tmp_path, tiny_scenario):
    out = tmp_path / "out"
    assert run("solve", tiny_scenario, "--out", out).exit_code == 0
    before = snapshot(tmp_path)
    proc = cli("solve", tiny_scenario, "--out", out, limit_bytes=4096)  # report.html is larger
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {out}: cannot write the output (File too large); nothing was written"]
    assert snapshot(tmp_path) == before
    proc = cli("export", tiny_scenario, "--mps", tmp_path / "m.mps", limit_bytes=200)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'm.mps'}: cannot write the output (File too large); nothing was written"]
    assert snapshot(tmp_path) == before


def test_a_read_only_folder_is_one_line(tmp_path, tiny_scenario):
    if os.geteuid() == 0:  # root writes through mode bits; a read-only file system still refuses
        parent = Path("/sys")
        if not parent.is_dir() or os.access(parent, os.W_OK) and _can_mkdir(parent):
            pytest.skip("no read-only folder to try as root")
        out = parent / "lifecircle-test-out"
    else:
        parent = tmp_path / "ro"
        parent.mkdir()
        parent.chmod(0o555)
        out = parent / "out"
    before = snapshot(tiny_scenario.parent)
    line = one_line_error(run("solve", tiny_scenario, "--no-report", "--out", out))
    assert re.fullmatch(rf"error: {re.escape(str(out))}: cannot write the output \((Permission denied|"
                        r"Operation not permitted|Read-only file system)\); nothing was written", line), line
    assert not out.exists()
    assert snapshot(tiny_scenario.parent) == before


def _can_mkdir(parent: Path) -> bool:
    probe = parent / f"lifecircle-probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    probe.rmdir()
    return True


# ---- 5. spreadsheet formula injection -----------------------------------------------------------

HOSTILE = {"S1": "=cmd|' /C calc'!A0", "S2": '=HYPERLINK("http://evil.example","click")', "S3": "@SUM(1+1)"}
HOSTILE_SITES = (SITES_CSV.replace("桥下空间一号", '"=cmd|\' /C calc\'!A0"')
                 .replace("闲置用房", '"=HYPERLINK(""http://evil.example"",""click"")"')
                 .replace("边角地", "@SUM(1+1)").replace("S3,", "-3,"))


def read_csv(path: Path) -> list:
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


def test_csv_cell_rule():
    for text in ("=1+1", "+1", "-5", "@A1", "\tx", "\rx", "-"):
        assert csv_cell(text) == "'" + text and csv_text(csv_cell(text)) == text
    for value in (-5, -1.5, np.float64(-2.0), np.int64(-3), 0, None, True):
        assert csv_cell(value) is value  # numbers are never touched
    for text in ("plain", "'=already quoted", "a=b", ""):
        assert csv_cell(text) == text


def test_sites_csv_and_xlsx_hold_no_formula(tmp_path):
    from openpyxl import load_workbook

    scenario = write_scenario(tmp_path / "d", sites=HOSTILE_SITES)
    before = snapshot(scenario.parent)
    out = tmp_path / "out"
    assert run("solve", scenario, "--budget", 2000, "--out", out).exit_code == 0
    rows = read_csv(out / "sites.csv")
    header, body = rows[0], rows[1:]
    assert len(body) == 3
    names = {csv_text(r[0]): r[1] for r in body}
    assert names == {"S1": "'" + HOSTILE["S1"], "S2": "'" + HOSTILE["S2"], "-3": "'" + HOSTILE["S3"]}
    assert "'-3" in [r[0] for r in body]  # a text id that looks like a number is text too (OWASP)
    cost = header.index("cost")
    assert all(not r[cost].startswith("'") and float(r[cost]) > 0 for r in body)  # numbers as they are
    sheet = load_workbook(out / "sites.xlsx").worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=@"]
    assert {c.value for c in cells} >= {HOSTILE["S1"], HOSTILE["S2"], HOSTILE["S3"]}
    assert {c.data_type for c in cells} == {"s"}  # text, never a formula
    assert snapshot(scenario.parent) == before

    # lifecircle reads its own CSV back as it was: compare names the sites by their real names
    out_b = tmp_path / "out_b"
    assert run("solve", scenario, "--budget", 300, "--no-report", "--out", out_b).exit_code == 0
    assert run("compare", out_b, out, "--out", tmp_path / "cmp.json").exit_code == 0
    diff = json.loads((tmp_path / "cmp.json").read_text(encoding="utf-8"))
    assert {e["name"] for e in diff["sites_added"]} <= set(HOSTILE.values())
    assert diff["sites_added"]


def test_sweep_csvs_hold_no_formula(tmp_path):
    scenario = write_scenario(tmp_path / "d", sites=HOSTILE_SITES)
    out = tmp_path / "out"
    assert run("sweep", scenario, "--budgets", "300,2000", "--out", out).exit_code == 0
    plans = read_csv(out / "plans.csv")
    assert plans[0] == ["budget", "site_id", "name", "facility_type", "cost"]
    for row in plans[1:]:
        assert row[2] in {"'" + v for v in HOSTILE.values()}
        assert not row[0].startswith("'") and not row[4].startswith("'")
    assert {r[1] for r in plans[1:]} <= {"S1", "S2", "'-3"}
    curve = read_csv(out / "curve.csv")
    assert all(not cell.startswith("'") for row in curve for cell in row)  # numbers and plain status words


def test_city_csv_holds_no_formula(tmp_path):
    from lifecircle.optimizer.planning.city import run_city

    city = tmp_path / "city"
    write_scenario(city / "=HYPERLINK(1)")
    write_scenario(city / "-broken", sites=SITES_CSV.replace(",600,400", ",six hundred,400"))
    run_city(city, out_dir=tmp_path / "out", workers=1, processes=False, progress=False)
    rows = read_csv(tmp_path / "out" / "city.csv")
    ids = {r[0] for r in rows[1:]}
    assert ids == {"'=HYPERLINK(1)", "'-broken"}
    objective = rows[0].index("objective")
    assert [r[objective] for r in rows[1:] if r[0] == "'=HYPERLINK(1)"] == ["69.0"]


def test_bench_csv_holds_no_formula(tmp_path):
    instance = tmp_path / "=calc.txt"
    instance.write_text("5 6 2\n1 2 3\n2 3 4\n3 4 2\n4 5 6\n5 1 7\n2 4 5\n", encoding="utf-8")
    result = run("bench", instance, "--model", "pmedian", "--solvers", "highs", "--out", tmp_path / "bench")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "bench" / "bench.csv")
    assert rows[1][0] == "'=calc"
    assert not rows[1][4].startswith("'") and float(rows[1][4]) > 0


def test_bench_never_overwrites_a_users_bench_csv(tmp_path):
    instance = tmp_path / "tiny.txt"
    instance.write_text("5 6 2\n1 2 3\n2 3 4\n3 4 2\n4 5 6\n5 1 7\n2 4 5\n", encoding="utf-8")
    folder = user_folder(tmp_path / "mine")
    (folder / "bench.csv").write_text("my own table\n", encoding="utf-8")
    before = snapshot(tmp_path)
    args = ("bench", instance, "--model", "pmedian", "--solvers", "highs", "--out")
    line = one_line_error(run(*args, folder))
    assert line == f"error: {folder} {FOREIGN} (first: .ssh)"
    assert snapshot(tmp_path) == before
    # a folder bench itself wrote is written again, and a user's notes added to it are kept
    out = tmp_path / "bench"
    assert run(*args, out).exit_code == 0
    (out / "notes.txt").write_text("kept\n", encoding="utf-8")
    first = (out / "bench.csv").read_bytes()
    assert run(*args, out).exit_code == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "kept\n"
    assert (out / "bench.csv").read_bytes().splitlines()[1].split(b",")[:4] == first.splitlines()[1].split(b",")[:4]
    assert json.loads((out / MARKER).read_text(encoding="utf-8"))["kind"] == "bench"
    # a result folder of another kind is not a bench folder
    solved = tmp_path / "solved"
    assert run("solve", write_scenario(tmp_path / "d"), "--no-report", "--out", solved).exit_code == 0
    line = one_line_error(run(*args, solved))
    assert line == f"error: {solved} holds a lifecircle result folder, not a bench folder; choose another --out"


# ---- generate writes whole folders, and never over the user's ------------------------------------


def test_generate_never_writes_over_a_users_folder(tmp_path):
    folder = user_folder(tmp_path / "mine")
    (folder / "demand.csv").write_text("my survey\n", encoding="utf-8")
    before = snapshot(tmp_path)
    line = one_line_error(run("generate", folder, "--demand", "50", "--sites", "10"))
    assert line == f"error: {folder} holds files lifecircle did not write; choose another OUT_DIR or remove them (first: .ssh)"
    assert snapshot(tmp_path) == before
    # a folder generate wrote is written again; once the user edits a file in it, it is theirs
    out = tmp_path / "district"
    assert run("generate", out, "--demand", "50", "--sites", "10").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "README.md", "demand.csv", "existing.csv",
                                                     "scenario.yaml", "sites.csv"]
    assert run("generate", out, "--demand", "60", "--sites", "10", "--seed", "2").exit_code == 0
    assert len((out / "demand.csv").read_text(encoding="utf-8").splitlines()) == 61
    (out / "scenario.yaml").write_text((out / "scenario.yaml").read_text(encoding="utf-8") + "# mine\n",
                                       encoding="utf-8")
    before = snapshot(tmp_path)
    line = one_line_error(run("generate", out, "--demand", "50", "--sites", "10"))
    assert line.endswith("(first: scenario.yaml (changed since lifecircle wrote it))")
    assert snapshot(tmp_path) == before


def test_generated_city_is_one_marked_folder_and_a_users_file_inside_it_is_kept(tmp_path):
    out = tmp_path / "city"
    assert run("generate", "--city", "2", out, "--seed", "3").exit_code == 0
    circles = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(circles) == 2 and json.loads((out / MARKER).read_text(encoding="utf-8"))["kind"] == "generated-city"
    assert run("generate", "--city", "2", out, "--seed", "4").exit_code == 0  # its own folder: replaced
    (out / circles[0] / "notes.txt").write_text("site visit\n", encoding="utf-8")
    before = snapshot(tmp_path)
    line = one_line_error(run("generate", "--city", "2", out))
    assert line.endswith(f"(first: {circles[0]}/notes.txt)")
    assert snapshot(tmp_path) == before


def test_generate_cfl_never_replaces_an_existing_file(tmp_path):
    target = tmp_path / "instance.txt"
    target.write_text("a file of mine\n", encoding="utf-8")
    line = one_line_error(run("generate", "--cfl", "5", "20", target))
    assert line == f"error: {target} is a file lifecircle did not write; choose another OUT or remove it"
    assert target.read_text(encoding="utf-8") == "a file of mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance.txt"]
