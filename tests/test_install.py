"""The README's promises about installing: `make run` takes runtime dependencies only, `make test`
adds the test extras, and `python -m lifecircle` is the same program as the `lifecircle` script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rule(makefile: str, target: str) -> tuple[str, str]:
    """(prerequisites, recipe) of one Makefile rule."""
    match = re.search(rf"^{re.escape(target)}:([^\n]*)\n((?:\t[^\n]*\n)*)", makefile, re.M)
    assert match, f"no rule for {target} in the Makefile"
    return match.group(1).strip(), match.group(2)


def test_make_run_installs_runtime_dependencies_only():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run_needs, _ = _rule(makefile, "run")
    assert run_needs == "$(RUN_STAMP)"
    _, run_install = _rule(makefile, "$(RUN_STAMP)")
    assert "pip install -q -e .\n" in run_install and "[test]" not in run_install
    test_needs, _ = _rule(makefile, "test")
    assert test_needs == "$(STAMP)"
    stamp_needs, stamp_install = _rule(makefile, "$(STAMP)")
    assert stamp_needs == "$(RUN_STAMP)" and "'.[test]'" in stamp_install


def test_python_dash_m_lifecircle_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "lifecircle", "--version"], capture_output=True,
                         text=True, timeout=60)
    script = subprocess.run([str(Path(sys.executable).with_name("lifecircle")), "--version"],
                            capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("lifecircle")
    assert out.stdout == script.stdout
