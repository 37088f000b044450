"""A real PostgreSQL + PostGIS server for the tests (issue 17): no mocks.

:func:`start_server` runs Debian's server binaries (``/usr/lib/postgresql/*/bin``): ``initdb``
into a fresh temporary folder, then ``pg_ctl start`` listening only on a unix socket in that
folder (no TCP port, so parallel runs cannot collide). As root (CI, this machine) both run as the
``postgres`` user, since initdb refuses root. Authentication is ``trust`` on the socket: a password
in a URI is accepted and ignored, which lets the tests check that it never appears in any output.

Without the binaries (or PostGIS) the tests skip with the reason, except in CI (``CI=true``),
where a missing server fails: .ci/run installs ``postgresql`` and ``postgresql-postgis``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "lifecircle"
DATABASE = "city"
PASSWORD = "Pw-never-shown-42"  # put in URIs; trust auth ignores it; must appear in no output


@dataclass(frozen=True)
class Server:
    folder: Path  # data directory's parent and the socket directory
    bin_dir: Path
    run_as: list  # command prefix (runuser -u postgres --) or []

    def uri(self, database: str = DATABASE, password: bool = False) -> str:
        secret = f":{PASSWORD}" if password else ""
        return f"postgresql://{USER}{secret}@/{database}?host={self.folder}"

    def psql(self, sql: str, database: str = DATABASE) -> str:
        out = subprocess.run([*self.run_as, str(self.bin_dir / "psql"), "-h", str(self.folder), "-U", USER,
                              "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                             check=False, capture_output=True, text=True, timeout=60)
        if out.returncode:
            raise RuntimeError(out.stderr)
        return out.stdout


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL/PostGIS needed in CI: {reason}; .ci/run installs postgresql and "
                    "postgresql-postgis", pytrace=False)
    pytest.skip(f"no PostgreSQL server here ({reason}); apt-get install postgresql postgresql-postgis")


def find_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def start_server() -> Server:
    """Start a throw-away server (see the module docstring); skip or fail when impossible."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable("no /usr/lib/postgresql/*/bin/initdb")
    version = bin_dir.parent.name
    if not glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
        _unavailable(f"no PostGIS for PostgreSQL {version}")
    run_as = []
    folder = Path(tempfile.mkdtemp(prefix="lc-pg-"))  # short: a socket path has at most 107 bytes
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("running as root without runuser")
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"

    def run(*args, timeout=120):
        out = subprocess.run([*run_as, *args], check=False, capture_output=True, text=True, timeout=timeout)
        if out.returncode:
            raise RuntimeError(f"{' '.join(map(str, args))} failed: {out.stderr or out.stdout}")
        return out

    run(bin_dir / "initdb", "-N", "-D", data, "-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
    run(bin_dir / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "-t", "60",
        "-o", f"-k {folder} -c listen_addresses='' -c fsync=off", "start")
    server = Server(folder, bin_dir, run_as)
    server.psql(f"create database {DATABASE}", database="postgres")
    server.psql("create extension postgis")
    return server


def stop_server(server: Server) -> None:
    subprocess.run([*server.run_as, str(server.bin_dir / "pg_ctl"), "-D", str(server.folder / "data"),
                    "-m", "immediate", "-w", "stop"], check=False, capture_output=True, timeout=60)
    shutil.rmtree(server.folder, ignore_errors=True)
