"""The real workbench server for the browser tests (issue 15): ``create_app`` on a copy of a
bundled scenario, served by uvicorn in a background thread on a free port of 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from support.scenarios import REPO

START_TIMEOUT_S = 20


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """A running server: ``url`` ends with a slash; ``folder`` is the scenario copy it serves."""

    def __init__(self, folder: Path, **options):
        import uvicorn

        from lifecircle.optimizer.serve.app import create_app

        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        config = uvicorn.Config(create_app(folder, **options), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="auto")
        self.server = uvicorn.Server(config)
        # uvicorn installs signal handlers only in the main thread; this thread must leave them alone.
        self.server.install_signal_handlers = lambda: None
        self.thread = threading.Thread(target=self.server.run, name="lifecircle-serve-test", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the workbench server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT_S)


def scenario_copy(dest: Path, name: str = "bishan_rural") -> Path:
    """A copy of a bundled scenario, so the run folders the server writes stay in tmp."""
    folder = dest / name
    shutil.copytree(REPO / "scenarios" / name, folder)
    return folder


@pytest.fixture(scope="module")
def hostile_workbench(tmp_path_factory):
    """The workbench on the report tests' hostile scenario: markup and scripts in every name."""
    from support.report import hostile_scenario

    served = Served(hostile_scenario(tmp_path_factory.mktemp("hostile") / "hostile").parent)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def network_workbench(tmp_path_factory):
    """The workbench on the hand-built street network of tests/inputs/test_network.py, with a
    rectangular circle boundary (boundary.geojson in the scenario's CRS, as `city` reads it)."""
    from support.network import X0, Y0, write_hand_scenario

    folder = write_hand_scenario(tmp_path_factory.mktemp("network") / "streets").parent
    ring = [[X0 - 200, Y0 - 300], [X0 + 2600, Y0 - 300], [X0 + 2600, Y0 + 1200], [X0 - 200, Y0 + 1200],
            [X0 - 200, Y0 - 300]]
    (folder / "boundary.geojson").write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}),
                                             encoding="utf-8")
    served = Served(folder)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    """The workbench on a copy of scenarios/bishan_rural, for the whole test module."""
    served = Served(scenario_copy(tmp_path_factory.mktemp("workbench")))
    yield served
    served.stop()
