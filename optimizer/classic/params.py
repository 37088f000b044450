"""Check a classic model's parameters against its instance, before any model is built.

Each check raises :class:`~lifecircle.optimizer.errors.ScenarioError` (exit 2) for a parameter
that does not fit, or :class:`~lifecircle.optimizer.errors.InfeasibleError` (exit 3) for data
that admits no plan; messages name the command-line option (``--p``, ``--radius``, ...).
"""

from __future__ import annotations

import math

import numpy as np

from lifecircle.models.classic import CostTable

from lifecircle.optimizer.errors import InfeasibleError, ScenarioError
from lifecircle.optimizer.classic.instance import ClassicInstance


def check_p(instance: ClassicInstance, p: int | None, model: str) -> int:
    """The number of sites ``p`` (the instance's own when None), checked to lie in 1..n_sites.

    Parameters
    ----------
    instance : ClassicInstance
    p : int or None
    model : str
        The model's name, for the message.

    Returns
    -------
    int
    """
    if p is None:
        p = instance.p
    if p is None:
        raise ScenarioError(f"--p: {model} needs the number of sites p (this instance carries none)")
    if not 1 <= int(p) <= instance.n_sites:
        raise ScenarioError(f"--p: p={p} is outside 1..{instance.n_sites}, the number of candidate "
                            f"sites of {instance.name}")
    return int(p)


def check_radius(radius: float | None, model: str) -> float:
    """The coverage radius, required, finite and >= 0 (covered means cost <= radius).

    Parameters
    ----------
    radius : float or None
    model : str
        The model's name, for the message.

    Returns
    -------
    float
    """
    if radius is None:
        raise ScenarioError(f"--radius: {model} needs a coverage radius R (covered means cost <= R)")
    if not math.isfinite(radius) or radius < 0:
        raise ScenarioError(f"--radius: {radius} must be a finite number >= 0")
    return float(radius)


def check_budget(instance: ClassicInstance, budget: float, pre: np.ndarray) -> float:
    """The budget of a budgeted MCLP, checked against the instance's site costs and the
    pre-selected sites ``pre`` (which every plan pays for).

    Parameters
    ----------
    instance : ClassicInstance
        Must carry ``site_costs``.
    budget : float
    pre : (k,) int array
        Indices of the pre-selected sites.

    Returns
    -------
    float
    """
    if instance.site_costs is None:
        raise ScenarioError("--budget: budgeted MCLP needs site costs; give --site-costs "
                            "FILE (or --site-cost-col for matrix-csv)")
    if not math.isfinite(budget) or budget < 0:
        raise ScenarioError(f"--budget: {budget} must be a finite number >= 0")
    pre_cost = float(np.asarray(instance.site_costs, dtype=float)[pre].sum())
    if pre_cost > budget:
        raise InfeasibleError(f"--budget: the pre-selected sites alone cost {pre_cost:g} > budget "
                              f"{budget:g}")
    return float(budget)


def site_index(instance: ClassicInstance, ids) -> np.ndarray:
    """Sorted unique indices of the site ids ``ids`` (compared as strings) in ``instance``.

    Parameters
    ----------
    instance : ClassicInstance
    ids : iterable of site ids

    Returns
    -------
    (k,) int64 array
    """
    lookup = {str(s): k for k, s in enumerate(instance.site_ids)}
    out = []
    for sid in ids:
        if str(sid) not in lookup:
            raise ScenarioError(f"--preselected: unknown site id {sid!r} in {instance.name}")
        out.append(lookup[str(sid)])
    return np.unique(np.asarray(out, dtype=np.int64))


def reachable_or_fail(instance: ClassicInstance, table: CostTable, mask: np.ndarray,
                      model: str) -> None:
    """Raise InfeasibleError when a demand point in ``mask`` reaches no site at all.

    Parameters
    ----------
    instance : ClassicInstance
    table : CostTable
        The instance's reachable pairs.
    mask : (n,) bool array
        The demand points that must reach a site (p-median: those of positive weight).
    model : str
        The model's name, for the message.
    """
    near = table.nearest_cost_any()
    cut = np.flatnonzero(~np.isfinite(near) & mask)
    if cut.size:
        raise InfeasibleError(
            f"{model}: {cut.size} demand points reach no site at all (first: "
            f"{instance.demand_ids[int(cut[0])]!r}); add their pairs or drop the points")
