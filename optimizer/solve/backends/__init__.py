"""Backends registered by name. Importing this package imports no solver library."""

from __future__ import annotations

from lifecircle.optimizer.errors import BackendUnavailableError, CapabilityError
from lifecircle.optimizer.solve.backends.base import (
    Backend, Capability, LinearSolution, SolveOptions, Status, Termination,
)
from lifecircle.optimizer.solve.backends.greedy import GreedyBackend
from lifecircle.optimizer.solve.backends.highs import HighsBackend
from lifecircle.optimizer.solve.backends.local import LocalBackend
from lifecircle.optimizer.solve.backends.ortools_cpsat import OrtoolsCpsatBackend
from lifecircle.optimizer.solve.backends.ortools_scip import OrtoolsScipBackend
from lifecircle.optimizer.solve.backends.pulp_cbc import PulpCbcBackend

REGISTRY: dict[str, Backend] = {}

DEFAULT_BACKEND = "highs"


def register(backend: Backend) -> Backend:
    REGISTRY[backend.name] = backend
    return backend


for _backend in (HighsBackend(), PulpCbcBackend(), OrtoolsCpsatBackend(), OrtoolsScipBackend(),
                 GreedyBackend(), LocalBackend()):
    register(_backend)


def exact_backends() -> list[str]:
    return [name for name, b in REGISTRY.items() if b.exact]


def get_backend(name: str, feature: Capability | str = Capability.MILP) -> Backend:
    """The backend called ``name``, checked to be installed and to declare ``feature`` (a
    :class:`Capability` or its value, "milp" or "coverage")."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise BackendUnavailableError(f"--solver: unknown solver {name!r}; choose one of {known}")
    backend = REGISTRY[name]
    feature = str(Capability(feature))
    if feature not in backend.features:  # installed or not, it declines this kind of model
        raise CapabilityError(
            f"--solver: {name} cannot solve this model ({feature}); use one of "
            + ", ".join(n for n, b in REGISTRY.items() if feature in b.features)
        )
    if not backend.available():
        raise BackendUnavailableError(
            f"--solver: {name} needs the Python package {backend.library!r}, which is not installed"
        )
    return backend


__all__ = [
    "Backend", "Capability", "LinearSolution", "SolveOptions", "Status", "Termination", "REGISTRY", "DEFAULT_BACKEND",
    "register", "get_backend", "exact_backends",
]
