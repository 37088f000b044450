"""Merging rows of a sparse 0/1 matrix that are identical (demand with identical coverage sets).

Two rows are identical when they cover exactly the same columns. Rows are hashed by two sums of
random 64-bit keys over their columns (order-free, vectorised), grouped by (length, hash, hash),
and every merge is then verified column by column, so a hash collision can never merge different
rows silently.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_SEED = 0x1F2E3D4C


def identical_row_classes(R: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows of ``R``.

    Parameters
    ----------
    R : (n, m) CSR matrix; only the pattern matters. Every row must have at least one entry.

    Returns
    -------
    class_of_row : (n,) int, the class of each row, numbered 0..c-1.
    representative : (c,) int, one row index per class.
    """
    R = sp.csr_matrix(R)
    R.sum_duplicates()
    R.sort_indices()
    n, m = R.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nnz = np.diff(R.indptr)
    if np.any(nnz == 0):
        raise ValueError("identical_row_classes: every row needs at least one entry")
    rng = np.random.default_rng(_SEED)
    keys = rng.integers(0, np.iinfo(np.int64).max, size=(2, m), dtype=np.int64).astype(np.uint64)
    starts = R.indptr[:-1]
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(keys[0][R.indices], starts)
        h2 = np.add.reduceat(keys[1][R.indices], starts)
    signature = np.stack([nnz.astype(np.uint64), h1, h2], axis=1)
    _, representative, class_of_row = np.unique(
        signature, axis=0, return_index=True, return_inverse=True
    )
    class_of_row = class_of_row.reshape(-1)
    rep_of_row = representative[class_of_row]
    offset = np.arange(R.indices.size) - np.repeat(starts, nnz)
    rep_positions = np.repeat(R.indptr[rep_of_row], nnz) + offset
    if not np.array_equal(R.indices, R.indices[rep_positions]):
        raise RuntimeError("identical_row_classes: hash collision between different rows")
    return class_of_row.astype(np.int64), representative.astype(np.int64)
