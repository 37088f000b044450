"""The house rules, checked on the source (issue 13): layers, no cycles, no private imports
across modules, no file over 600 lines, and a wheel that installs one name, ``lifecircle``.

Layers, each importing only from layers below it (or from its own package)::

    lifecircle.__main__
    lifecircle (the public API), lifecircle.cli
    optimizer.serve (the workbench, issue 15)
    optimizer.planning | optimizer.classic | optimizer.generate
    optimizer.run
    optimizer.outputs
    optimizer.inputs | optimizer.solve
    optimizer.core
    optimizer.files (the one atomic writer), optimizer.recipes
    optimizer.errors | optimizer (the version) | models

Modules side by side (``|``) do not import each other. Imports inside functions count too:
a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import networkx as nx
import pytest

from support.scenarios import REPO

MAX_LINES = 600
SOURCE_DIRS = ("optimizer", "models")
TOP_FILES = ("__init__.py", "__main__.py", "cli.py")

# (layer, name prefix): the longest matching prefix decides a module's layer.
LAYERS = [
    (8, "lifecircle.__main__"),
    (7, "lifecircle"), (7, "lifecircle.cli"),
    (6.5, "lifecircle.optimizer.serve"),
    (6, "lifecircle.optimizer.planning"), (6, "lifecircle.optimizer.classic"),
    (6, "lifecircle.optimizer.generate"), (6, "lifecircle.optimizer.api"),
    (5, "lifecircle.optimizer.run"),
    (4, "lifecircle.optimizer.outputs"),
    (3, "lifecircle.optimizer.inputs"), (3, "lifecircle.optimizer.solve"),
    (2, "lifecircle.optimizer.core"),
    (0, "lifecircle.optimizer"), (1, "lifecircle.optimizer.recipes"), (1, "lifecircle.optimizer.files"),
    (0, "lifecircle.optimizer.errors"), (0, "lifecircle.models"),
]

# Known exceptions: empty, and test_the_allow_lists_are_empty keeps them so. A new exception is a
# design decision to argue in review, not a line to add here.
ALLOWED_CYCLES: set = set()
ALLOWED_UPWARD: set = set()  # (importer, imported)
ALLOWED_PRIVATE: set = set()  # (importer, imported name)
ALLOWED_LONG: set = set()


def source_files() -> dict:
    """{module name: path} for every module that installs under ``lifecircle``."""
    out = {}
    for name in TOP_FILES:
        stem = name[:-3]
        out["lifecircle" if stem == "__init__" else f"lifecircle.{stem}"] = REPO / name
    for top in SOURCE_DIRS:
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(["lifecircle", *parts])] = path
    return out


MODULES = source_files()


def _package(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(name: str, path: Path):
    """(imported module, imported names, line) for every import in the file, resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(name, path).split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, tuple(a.name for a in node.names), node.lineno


def owner(module: str) -> str | None:
    """The project module that ``module`` names (a sub-module import names the module itself)."""
    while module and module not in MODULES:
        module = module.rpartition(".")[0]
    return module or None


def layer_of(module: str) -> tuple[int, str]:
    best = max((p for p in LAYERS if module == p[1] or module.startswith(p[1] + ".")), key=lambda p: len(p[1]))
    return best


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in MODULES.items():
        g.add_node(name)
        for module, names, line in imports_of(name, path):
            targets = [owner(module)] + [owner(f"{module}.{n}") for n in names if f"{module}.{n}" in MODULES]
            for target in targets:
                if target and target != name:
                    g.add_edge(name, target, line=line)
    return g


def test_every_import_of_the_project_goes_through_lifecircle():
    """No top-level `optimizer`, `models` or `cli` imports anywhere: they do not exist once installed."""
    bad = []
    files = list(MODULES.values()) + sorted((REPO / "tests").rglob("*.py")) + sorted((REPO / "benchmarks").rglob("*.py"))
    for path in files:
        for module, _, line in imports_of("lifecircle.x", path):
            if module.split(".")[0] in ("optimizer", "models", "cli"):
                bad.append(f"{path.relative_to(REPO)}:{line}: {module}")
    assert not bad, bad


def test_no_import_cycles():
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph())
              if len(c) > 1 and frozenset(c) not in ALLOWED_CYCLES]
    assert not cycles, cycles


def test_models_import_nothing_from_optimizer():
    g = graph()
    bad = [(a, b) for a, b in g.edges if a.startswith("lifecircle.models") and not b.startswith("lifecircle.models")]
    assert not bad, bad


def test_layers_import_only_downwards():
    g = graph()
    bad = []
    for a, b, data in g.edges(data=True):
        (la, pa), (lb, pb) = layer_of(a), layer_of(b)
        same_package = pa == pb
        if lb < la or same_package or (a, b) in ALLOWED_UPWARD:
            continue
        bad.append(f"{MODULES[a].relative_to(REPO)}:{data['line']}: {a} (layer {la}) imports {b} (layer {lb})")
    assert not bad, "\n".join(bad)


def test_no_private_names_imported_across_modules():
    bad = []
    for name, path in MODULES.items():
        for module, names, line in imports_of(name, path):
            target = owner(module)
            if target is None or target == name:
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__") and f"{module}.{n}" not in MODULES \
                        and (name, f"{module}.{n}") not in ALLOWED_PRIVATE:
                    bad.append(f"{path.relative_to(REPO)}:{line}: {n} from {module}")
    assert not bad, "\n".join(bad)


def test_no_file_over_600_lines():
    long = {str(p.relative_to(REPO)): n for p in MODULES.values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert set(long) <= ALLOWED_LONG, {k: v for k, v in long.items() if k not in ALLOWED_LONG}


def test_the_allow_lists_are_empty():
    assert not ALLOWED_CYCLES and not ALLOWED_UPWARD and not ALLOWED_PRIVATE and not ALLOWED_LONG


def test_packages_in_pyproject_are_every_folder_of_the_source():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    folders = {"lifecircle"} | {".".join(["lifecircle", *p.parent.relative_to(REPO).parts])
                                for top in SOURCE_DIRS for p in (REPO / top).rglob("__init__.py")}
    assert listed == folders


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the source (setuptools leaves build/ where it builds)."""
    import shutil

    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", *TOP_FILES):
        shutil.copy2(REPO / name, src / name)
    for top in SOURCE_DIRS:
        shutil.copytree(REPO / top, src / top, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = out.glob("lifecircle-*.whl")
    return path


def test_the_wheel_installs_one_name_lifecircle(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"lifecircle"}
    # every source module and the packaged recipes are in it
    expected = {"lifecircle/" + str(p.relative_to(REPO)).replace(os.sep, "/") for p in MODULES.values()}
    expected.add("lifecircle/optimizer/recipes.yaml")
    assert expected <= set(names), sorted(expected - set(names))
    assert not [n for n in names if n.startswith(("lifecircle/tests", "lifecircle/benchmarks"))]


def test_test_file_names_are_unique():
    """pytest imports test files by their base name (no __init__.py in the folders): two files of
    the same name in two capability folders would not both run."""
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
