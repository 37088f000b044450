"""What every classic instance format shares: :class:`ClassicInstance` (arrays, validated once)
and the coverage of points given by coordinates (:func:`xy_coverage`).

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
        return xy_coverage(self.demand_xy, self.site_xy, radius)

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


def xy_coverage(demand_xy: np.ndarray, site_xy: np.ndarray, radius: float) -> sp.csr_matrix:
    """Pairs within ``radius`` (inclusive) from a KD-tree radius query, never a dense matrix.

    The tree query runs with a hair more radius and the kept pairs are decided on ``np.hypot``,
    the same float expression as :meth:`ClassicInstance.cost_table`, so both agree exactly.
    """
    from scipy.spatial import cKDTree

    n, m = demand_xy.shape[0], site_xy.shape[0]
    if radius < 0 or n == 0 or m == 0:
        return sp.csr_matrix((n, m))
    pairs = cKDTree(demand_xy).sparse_distance_matrix(
        cKDTree(site_xy), radius * (1 + 1e-9) + 1e-9, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    d = np.hypot(demand_xy[i, 0] - site_xy[j, 0], demand_xy[i, 1] - site_xy[j, 1])
    keep = d <= radius
    return sp.csr_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(n, m))
