"""CoverageProblem: the budgeted multi-type coverage instance as immutable arrays.

Index letters: ``i`` demand point, ``j`` site, ``k`` facility type, ``g`` population group.
Geometry has already been turned into sparse coverage matrices by ``optimizer/geo.py``; nothing
here knows about coordinates or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from .errors import InfeasibleError

NO_TYPE = -1


@dataclass(frozen=True)
class CoverageProblem:
    """Arrays of one instance.

    Parameters
    ----------
    group_names : (G,) names of population groups.
    type_names : (K,) names of facility types.
    site_ids : (J,) site identifiers, for messages.
    people : (I, G) float, people of group g at point i.
    group_weight : (G,) objective weight per group.
    serves : (K, G) bool, type k serves group g.
    coverage : {(k, g): (I, J) CSR bool} for every serving pair: site j as type k reaches group g
        of point i.
    covered_before : (I, G) bool, already reached by an existing facility of a serving type.
    cost_cny : (J, K) float, NaN where type k cannot go on site j.
    budget_cny : float.
    must_open : (J,) int, the type index a site must open as, or -1.
    forbidden : (J,) bool.
    min_open : (K,) int, the minimum number of new facilities of each type.
    """

    group_names: tuple
    type_names: tuple
    site_ids: tuple
    people: np.ndarray
    group_weight: np.ndarray
    serves: np.ndarray
    coverage: Mapping[tuple, sp.csr_matrix]
    covered_before: np.ndarray
    cost_cny: np.ndarray
    budget_cny: float
    must_open: np.ndarray
    forbidden: np.ndarray
    min_open: np.ndarray
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self):
        n_i, n_g = self.people.shape
        n_j, n_k = self.cost_cny.shape
        checks = [
            ("group_names", len(self.group_names), n_g),
            ("type_names", len(self.type_names), n_k),
            ("site_ids", len(self.site_ids), n_j),
            ("group_weight", self.group_weight.shape, (n_g,)),
            ("serves", self.serves.shape, (n_k, n_g)),
            ("covered_before", self.covered_before.shape, (n_i, n_g)),
            ("must_open", self.must_open.shape, (n_j,)),
            ("forbidden", self.forbidden.shape, (n_j,)),
            ("min_open", self.min_open.shape, (n_k,)),
        ]
        for name, got, want in checks:
            if got != want:
                raise ValueError(f"CoverageProblem.{name}: shape {got}, expected {want}")
        wanted_keys = {(int(k), int(g)) for k, g in zip(*np.nonzero(self.serves))}
        if set(self.coverage) != wanted_keys:
            raise ValueError("CoverageProblem.coverage must have one matrix per serving (type, group)")
        coverage = {}
        for key, mat in self.coverage.items():
            if mat.shape != (n_i, n_j):
                raise ValueError(f"CoverageProblem.coverage[{key}]: shape {mat.shape}, expected {(n_i, n_j)}")
            mat = sp.csr_matrix(mat, dtype=bool)
            mat.sum_duplicates()
            mat.sort_indices()
            coverage[key] = mat
        object.__setattr__(self, "coverage", MappingProxyType(coverage))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        for arr in (self.people, self.group_weight, self.cost_cny, self.covered_before,
                    self.serves, self.must_open, self.forbidden, self.min_open):
            arr.setflags(write=False)

    @property
    def n_points(self) -> int:
        return int(self.people.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.cost_cny.shape[0])

    @property
    def n_types(self) -> int:
        return int(self.cost_cny.shape[1])

    @property
    def n_groups(self) -> int:
        return int(self.people.shape[1])

    def allowed(self) -> np.ndarray:
        """(J, K) bool: type k may open on site j (it has a cost and the site is not forbidden)."""
        return np.isfinite(self.cost_cny) & ~self.forbidden[:, None]

    def weighted_people(self) -> np.ndarray:
        return self.people * self.group_weight[None, :]

    def with_budget(self, budget_cny: float) -> "CoverageProblem":
        from dataclasses import replace

        return replace(self, budget_cny=float(budget_cny))

    def precheck(self) -> None:
        """Raise :class:`InfeasibleError` when the data alone rule out every plan.

        These checks are cheap bounds: what they miss, the solver reports as infeasible.
        """
        must = np.flatnonzero(self.must_open != NO_TYPE)
        must_cost = float(self.cost_cny[must, self.must_open[must]].sum()) if must.size else 0.0
        if must_cost > self.budget_cny:
            raise InfeasibleError(
                f"must_open sites cost {must_cost:,.0f} > budget {self.budget_cny:,.0f}"
            )
        allowed = self.allowed()
        extra_cost = 0.0
        free_sites = (self.must_open == NO_TYPE) & allowed.any(axis=1)
        for k, name in enumerate(self.type_names):
            already = int(np.count_nonzero(self.must_open[must] == k))
            missing = int(self.min_open[k]) - already
            if missing <= 0:
                continue
            candidates = np.flatnonzero(allowed[:, k] & free_sites)
            if candidates.size < missing:
                raise InfeasibleError(
                    f"min_open {name}: {int(self.min_open[k])} needed but only "
                    f"{candidates.size + already} sites can host it"
                )
            extra_cost += float(np.sort(self.cost_cny[candidates, k])[:missing].sum())
        needed = int(np.maximum(self.min_open - np.bincount(self.must_open[must], minlength=self.n_types), 0).sum())
        if needed > int(free_sites.sum()):
            raise InfeasibleError(
                f"min_open asks for {needed} more facilities but only {int(free_sites.sum())} free sites exist"
            )
        if must_cost + extra_cost > self.budget_cny:
            raise InfeasibleError(
                f"must_open and min_open need at least {must_cost + extra_cost:,.0f} > budget "
                f"{self.budget_cny:,.0f}"
            )
