"""Every exception lifecircle raises on purpose.

They subclass built-in exceptions so callers can catch them either way (scikit-learn's habit).
A message names the file, the field or row, the offending value and the fix, on one line.
"""


class LifecircleError(Exception):
    """Base of every error lifecircle raises on purpose."""

    exit_code = 1


class ScenarioError(LifecircleError, ValueError):
    """Bad input: a scenario, data or instance file that cannot be used as it is."""

    exit_code = 2


class InfeasibleError(LifecircleError):
    """The data itself makes every plan impossible; found before any solver runs."""

    exit_code = 3


class BackendUnavailableError(LifecircleError, ImportError):
    """A backend whose library is not installed, or that cannot take this model."""

    exit_code = 2


class CapabilityError(BackendUnavailableError):
    """A backend that is installed but declines this model (for example CP-SAT and non-integral data).

    Raised before the solver library is called; a run that records it reports termination
    ``declined``.
    """

    termination = "declined"


# A run's exit code from its status ("optimal", "feasible", "infeasible", "no_solution"): the one map
# behind `solve`, `phased`, `classic` and friends. Keyed by the status string, since this bottom
# layer cannot see optimizer.core.status.Status (a str enum, so Status values look up the same).
STATUS_EXIT_CODES = {"optimal": 0, "feasible": 0, "infeasible": 3, "no_solution": 4}


def exit_code_for(status) -> int:
    """The exit code of a run that ended with ``status`` (a Status or its string).

    Any status outside the four (a failed or declined circle's row) counts as no solution (4).
    """
    return STATUS_EXIT_CODES.get(str(status), STATUS_EXIT_CODES["no_solution"])


class ClusterError(LifecircleError, ConnectionError):
    """A Dask scheduler that cannot be reached (issue 6: ``lifecircle city --scheduler``)."""

    exit_code = 2


class LifecircleWarning(UserWarning):
    """Something worth one line on stderr (``warning: ...``) that does not stop the run, such as a
    CSV read as GB18030 because it is not UTF-8. cli.py prints these and drops library warnings."""


class SolverResultError(LifecircleError, RuntimeError):
    """A backend returned a plan that violates the model, or the independent check itself could
    not run: a bug in lifecircle or a solver, never silently accepted."""

    exit_code = 1
