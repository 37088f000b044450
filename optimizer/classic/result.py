"""The outcome of one classic solve, shared by the compact path (:mod:`.solve`) and the
large-instance path (:mod:`.points`), so that neither imports the other's module for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ClassicResult:
    """One solve: the JSON of ``lifecircle classic --json`` is :meth:`as_json`."""

    instance: str
    model: str
    solver: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    selected: list
    covered_weight: float | None
    uncovered_points: int | None
    timings_s: dict
    size: dict = field(default_factory=dict)
    message: str = ""
    presolve: dict | None = None  # issue 8: sizes before/after the presolve (coordinate MCLP)
    # issue 16: why the solve stopped (a Termination value) and where ``bound`` comes from (a
    # BoundSource value); None while the path does not say yet.
    termination: str | None = None
    bound_source: str | None = None

    def as_json(self) -> dict:
        return asdict(self)


def stop_facts(solution, integral: bool) -> tuple[str | None, str | None]:
    """(termination, bound_source) of a classic result, as strings, from a backend's solution.

    ``solution`` is a :class:`~lifecircle.optimizer.solve.backends.base.LinearSolution` (or
    anything with ``termination``, ``bound`` and optionally ``bound_source``). A backend that does
    not say where its bound comes from gets ``mip`` for an integer model and ``lp`` otherwise:
    that is what a solver's dual bound is.
    """
    termination = getattr(solution, "termination", None)
    source = getattr(solution, "bound_source", None)
    if source is None and getattr(solution, "bound", None) is not None:
        source = "mip" if integral else "lp"
    return (None if termination is None else str(termination),
            None if source is None else str(source))
