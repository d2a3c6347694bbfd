"""`Pattern`: where a Jacobian or Hessian may be nonzero, as sorted (row, column) index pairs."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp


@dataclasses.dataclass(frozen=True, eq=False)
class Pattern:
    """The structural nonzeros of an `m x n` matrix, valid for every input (a global pattern).

    Entries are sorted row-major and unique: entry `k` is `(rows[k], cols[k])`. Every later stage
    (coloring, compressed evaluation, decompression) refers to entries by this order.

    Attributes:
        shape: `(m, n)`: outputs by inputs for a Jacobian, `(n, n)` for a Hessian.
        rows: the row of each entry, a NumPy int64 array of length `nnz`.
        cols: the column of each entry, likewise.

    Examples:
        >>> import numpy as np
        >>> p = Pattern.from_dense(np.eye(3, dtype=bool))
        >>> p.nnz, p.rows.tolist(), p.cols.tolist()
        (3, [0, 1, 2], [0, 1, 2])
    """

    shape: tuple[int, int]
    rows: np.ndarray
    cols: np.ndarray

    def __post_init__(self):
        m, n = (int(d) for d in self.shape)
        rows = np.asarray(self.rows, dtype=np.int64).reshape(-1)
        cols = np.asarray(self.cols, dtype=np.int64).reshape(-1)
        if rows.shape != cols.shape:
            raise ValueError(
                f"A Pattern needs as many rows as columns, but received {rows.size} rows and "
                f"{cols.size} columns."
            )
        if rows.size and (rows.min() < 0 or rows.max() >= m or cols.min() < 0 or cols.max() >= n):
            raise ValueError(f"A Pattern's indices must lie inside its shape {(m, n)}.")
        key = rows * n + cols
        if not np.all(key[1:] > key[:-1]):  # sorted row-major, then duplicates dropped
            key = np.sort(key)
            key = key[np.concatenate([[True], key[1:] != key[:-1]])]
            rows, cols = np.divmod(key, n) if n else (key, key)
        else:  # already in order: kept, as copies (the caller's arrays stay the caller's)
            rows, cols = rows.copy(), cols.copy()
        for name, value in (("shape", (m, n)), ("rows", rows), ("cols", cols)):
            object.__setattr__(self, name, value)
        rows.flags.writeable = False
        cols.flags.writeable = False

    @classmethod
    def from_dense(cls, mask) -> Pattern:
        """The pattern of the nonzeros of a 2D array (NumPy or JAX)."""
        mask = np.asarray(mask) != 0
        if mask.ndim != 2:
            raise ValueError(f"`Pattern.from_dense` expects a 2D array, got shape {mask.shape}.")
        rows, cols = np.nonzero(mask)
        return cls(mask.shape, rows, cols)

    @classmethod
    def from_scipy(cls, matrix) -> Pattern:
        """The pattern of the stored entries of a `scipy.sparse` matrix (explicit zeros kept)."""
        coo = sp.coo_array(matrix)
        return cls(coo.shape, coo.row, coo.col)

    @property
    def nnz(self) -> int:
        """The number of structural nonzeros."""
        return int(self.rows.size)

    @property
    def T(self) -> Pattern:
        """The transposed pattern."""
        return Pattern(self.shape[::-1], self.cols, self.rows)

    @property
    def density(self) -> float:
        """`nnz / (m * n)` (0.0 for an empty shape)."""
        size = self.shape[0] * self.shape[1]
        return self.nnz / size if size else 0.0

    def todense(self) -> np.ndarray:
        """The pattern as a NumPy bool array of shape `shape`."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.rows, self.cols] = True
        return out

    def to_scipy(self, values=None) -> sp.csr_array:
        """A `scipy.sparse.csr_array` with `values` (default all ones) at the entries."""
        values = np.ones(self.nnz, dtype=bool) if values is None else np.asarray(values)
        return sp.csr_array((values, (self.rows, self.cols)), shape=self.shape)

    def to_bcoo(self, values=None):
        """A `jax.experimental.sparse.BCOO` with `values` (default all ones) at the entries."""
        import jax
        from jax.experimental import sparse as jsparse

        values = jax.device_put(np.ones(self.nnz, dtype=bool) if values is None else values)
        indices = jax.device_put(np.stack([self.rows, self.cols], axis=1).astype(np.int32))
        return jsparse.BCOO(
            (values, indices), shape=self.shape, indices_sorted=True, unique_indices=True
        )

    def row_counts(self) -> np.ndarray:
        """The number of entries in each row."""
        return np.bincount(self.rows, minlength=self.shape[0])

    def col_counts(self) -> np.ndarray:
        """The number of entries in each column."""
        return np.bincount(self.cols, minlength=self.shape[1])

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Pattern)
            and self.shape == other.shape
            and np.array_equal(self.rows, other.rows)
            and np.array_equal(self.cols, other.cols)
        )

    __hash__ = None  # mutable-free but array-valued: compare with ==, do not hash

    def __repr__(self) -> str:
        m, n = self.shape
        return f"Pattern(shape=({m}, {n}), nnz={self.nnz}, density={self.density:.3g})"
