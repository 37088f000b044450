"""What every classic instance format shares: :class:`ClassicInstance` (arrays, validated once)
and the coverage of points given by coordinates (the one reach kernel,
:func:`lifecircle.optimizer.inputs.geo.pairs_matrix`).

The readers that build instances from files are in :mod:`lifecircle.optimizer.classic.formats`
(and :mod:`lifecircle.optimizer.classic.cfl` for the CFL format).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.classic import CostTable

from lifecircle.optimizer.errors import ScenarioError

# Euclidean p-median/p-center materialise every pair; refuse beyond this many (about 800 MB).
MAX_DENSE_PAIRS = 50_000_000


@dataclass(frozen=True)
class ClassicInstance:
    """One instance: ids as given in the file, weights, and costs as a table or as coordinates.

    Exactly one of ``costs`` and (``demand_xy``, ``site_xy``) is set. ``p`` is the instance's own
    p where the format carries one (OR-Library).
    """

    name: str
    demand_ids: tuple
    site_ids: tuple
    weights: np.ndarray
    costs: CostTable | None = None
    demand_xy: np.ndarray | None = None
    site_xy: np.ndarray | None = None
    site_costs: np.ndarray | None = None
    p: int | None = None
    source: str = ""

    @property
    def n_demand(self) -> int:
        return len(self.demand_ids)

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    def coverage(self, radius: float) -> sp.csr_matrix:
        """Sparse 0/1 (demand x site) matrix of pairs with cost <= radius (inclusive)."""
        if self.costs is not None:
            return self.costs.coverage(radius)
        from lifecircle.optimizer.inputs.geo import pairs_matrix

        return pairs_matrix(self.demand_xy, self.site_xy, radius)

    def cost_table(self) -> CostTable:
        """Every reachable pair with its cost; for coordinates, all pairs (dense Euclidean)."""
        if self.costs is not None:
            return self.costs
        pairs = self.n_demand * self.n_sites
        if pairs > MAX_DENSE_PAIRS:
            raise ScenarioError(
                f"{self.source}: {self.n_demand} x {self.n_sites} points need {pairs:,} Euclidean "
                f"costs, more than {MAX_DENSE_PAIRS:,}; use a matrix-csv with the reachable pairs"
            )
        d = self.demand_xy[:, None, :] - self.site_xy[None, :, :]
        return CostTable.from_dense(np.hypot(d[..., 0], d[..., 1]))

    def with_site_costs(self, site_costs: np.ndarray) -> "ClassicInstance":
        from dataclasses import replace

        return replace(self, site_costs=np.asarray(site_costs, dtype=float))


