"""CoverageProblem: the budgeted multi-type coverage instance as immutable arrays.

Index letters: ``i`` demand point, ``j`` site, ``k`` facility type, ``g`` population group.
Geometry has already been turned into sparse coverage matrices by ``optimizer/geo.py``; nothing
here knows about coordinates or files.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from lifecircle.optimizer.errors import InfeasibleError

NO_TYPE = -1


@dataclass(frozen=True)
class EquityRule:
    """Fairness demands on covered shares (see models/service.py).

    min_share : (G,) float, the floor on each group's covered share; NaN: none.
    min_share_per_circle : floor on every circle's covered share, or None.
    maximin : None, "groups" or "circles": maximise the worst share first (two solves).
    """

    min_share: np.ndarray
    min_share_per_circle: float | None = None
    maximin: str | None = None
    # (G,) (YAML key, name in messages) per group, or None: equity.min_coverage.<group>, <group>
    floor_keys: tuple | None = None

    @property
    def needs_circles(self) -> bool:
        return self.min_share_per_circle is not None or self.maximin == "circles"


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

    Optional service data (issue 7; every default gives today's step, uncapacitated model):

    reach_weight : {(k, g): (I, J) CSR float} with the sparsity of ``coverage``: the decay weight in
        (0, 1] of each reachable pair; None means 1 everywhere (step).
    weight_before : (I, G) float in [0, 1], the best weight an *uncapacitated* existing facility
        gives the pair; None means ``covered_before``. ``covered_before`` must equal
        ``weight_before == 1``.
    capacity : (K, G) float, people of group g one new facility of type k serves; inf: unlimited.
    existing_capacity : (E, G) float, capacity of each existing facility; inf: unlimited (such a
        facility counts in ``weight_before`` instead).
    existing_reach : {g: (I, E) CSR float}, decay weight with which existing facility e reaches
        group g of point i (only facilities of a type serving g).
    circle : (I,) int, the life circle of each point; ``circle_names`` their names.
    equity : :class:`EquityRule` or None.
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
    reach_weight: Mapping[tuple, sp.csr_matrix] | None = None
    weight_before: np.ndarray | None = None
    capacity: np.ndarray | None = None
    existing_capacity: np.ndarray | None = None
    existing_reach: Mapping[int, sp.csr_matrix] | None = None
    circle: np.ndarray | None = None
    circle_names: tuple = ()
    equity: EquityRule | None = None

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
        for arr in (self.people, self.group_weight, self.cost_cny, self.covered_before,
                    self.serves, self.must_open, self.forbidden, self.min_open):
            arr.setflags(write=False)
        self._check_service()

    def _check_service(self) -> None:
        """Shapes and ranges of the optional service fields (programming errors, not user input)."""
        n_i, n_g = self.people.shape
        n_k = self.cost_cny.shape[1]
        if self.reach_weight is not None:
            weights = {}
            for key, mat in self.reach_weight.items():
                if key not in self.coverage:
                    raise ValueError(f"CoverageProblem.reach_weight[{key}]: no such coverage matrix")
                mat = sp.csr_matrix(mat, dtype=float)
                mat.sum_duplicates()
                mat.sort_indices()
                pattern = self.coverage[key]
                if not (np.array_equal(mat.indptr, pattern.indptr) and np.array_equal(mat.indices, pattern.indices)):
                    raise ValueError(f"CoverageProblem.reach_weight[{key}]: sparsity differs from coverage")
                if mat.nnz and not (np.all(mat.data > 0) and np.all(mat.data <= 1)):
                    raise ValueError(f"CoverageProblem.reach_weight[{key}]: weights must be in (0, 1]")
                weights[key] = mat
            for key in self.coverage:
                if key not in weights:
                    weights[key] = sp.csr_matrix(self.coverage[key], dtype=float)
            object.__setattr__(self, "reach_weight", MappingProxyType(weights))
        if self.weight_before is not None:
            wb = np.asarray(self.weight_before, dtype=float)
            if wb.shape != (n_i, n_g) or np.any(wb < 0) or np.any(wb > 1):
                raise ValueError("CoverageProblem.weight_before: (I, G) values in [0, 1] expected")
            if not np.array_equal(wb >= 1, self.covered_before):
                raise ValueError("CoverageProblem.weight_before: covered_before must equal weight_before == 1")
            object.__setattr__(self, "weight_before", wb)
            wb.setflags(write=False)
        if self.capacity is not None:
            cap = np.asarray(self.capacity, dtype=float)
            if cap.shape != (n_k, n_g) or np.any(np.isnan(cap)) or np.any(cap < 0):
                raise ValueError("CoverageProblem.capacity: (K, G) values >= 0 (inf: unlimited) expected")
            object.__setattr__(self, "capacity", cap)
            cap.setflags(write=False)
        if (self.existing_capacity is None) != (self.existing_reach is None):
            raise ValueError("CoverageProblem: existing_capacity and existing_reach go together")
        if self.existing_capacity is not None:
            ecap = np.asarray(self.existing_capacity, dtype=float)
            if ecap.ndim != 2 or ecap.shape[1] != n_g or np.any(np.isnan(ecap)) or np.any(ecap < 0):
                raise ValueError("CoverageProblem.existing_capacity: (E, G) values >= 0 expected")
            reach = {}
            for g, mat in self.existing_reach.items():
                mat = sp.csr_matrix(mat, dtype=float)
                if mat.shape != (n_i, ecap.shape[0]) or (mat.nnz and (mat.data.min() <= 0 or mat.data.max() > 1)):
                    raise ValueError(f"CoverageProblem.existing_reach[{g}]: (I, E) weights in (0, 1] expected")
                mat.sum_duplicates()
                mat.sort_indices()
                reach[int(g)] = mat
            object.__setattr__(self, "existing_capacity", ecap)
            object.__setattr__(self, "existing_reach", MappingProxyType(reach))
            ecap.setflags(write=False)
        if self.circle is not None:
            circle = np.asarray(self.circle, dtype=np.int64)
            if circle.shape != (n_i,) or (n_i and (circle.min() < 0 or circle.max() >= len(self.circle_names))):
                raise ValueError("CoverageProblem.circle: (I,) indices into circle_names expected")
            object.__setattr__(self, "circle", circle)
            circle.setflags(write=False)
        if self.equity is not None:
            floors = np.asarray(self.equity.min_share, dtype=float)
            if floors.shape != (n_g,):
                raise ValueError("EquityRule.min_share: (G,) expected")
            if self.equity.needs_circles and self.circle is None:
                raise ValueError("EquityRule: per-circle equity needs CoverageProblem.circle")

    # -- service (issue 7) --------------------------------------------------------------------

    @property
    def has_service(self) -> bool:
        """True when decay, capacities or equity are present (the service model is needed)."""
        return (self.reach_weight is not None and any(np.any(m.data < 1) for m in self.reach_weight.values())) \
            or (self.weight_before is not None and np.any((self.weight_before > 0) & (self.weight_before < 1))) \
            or bool(self.capacitated_groups().any()) or self.equity is not None

    def level_before(self) -> np.ndarray:
        """(I, G) best weight from uncapacitated existing facilities (1: fully covered before)."""
        if self.weight_before is not None:
            return np.asarray(self.weight_before)
        return self.covered_before.astype(float)

    def weight_of(self, k: int, g: int) -> sp.csr_matrix:
        """(I, J) decay weights of type k for group g (ones on the coverage pattern for step)."""
        if self.reach_weight is not None:
            return self.reach_weight[(k, g)]
        return sp.csr_matrix(self.coverage[(k, g)], dtype=float)

    def capacitated_groups(self) -> np.ndarray:
        """(G,) bool: some new or existing facility has a finite capacity for the group."""
        out = np.zeros(self.n_groups, dtype=bool)
        if self.capacity is not None:
            out |= (np.isfinite(self.capacity) & self.serves).any(axis=0)
        if self.existing_capacity is not None:
            out |= np.isfinite(self.existing_capacity).any(axis=0)
        return out

    def type_capacity(self) -> np.ndarray:
        """(K, G) capacity of one new facility; inf where unlimited."""
        if self.capacity is not None:
            return np.asarray(self.capacity)
        return np.full((self.n_types, self.n_groups), np.inf)

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
