"""`recovery`: how each entry of a sparse Jacobian or Hessian is read from compressed products.

The compressed evaluation of a `Coloring` with `p` column colors and `q` row colors gives

- `B`, shape `(p, m)`: `B[c, i] = sum of J[i, j] over the columns j colored c` (one
  Jacobian-vector product per column color; for a Hessian, `m = n` and `J = H`);
- `C`, shape `(q, n)`: `C[c, j] = sum of J[i, j] over the rows i colored c` (one
  vector-Jacobian product per row color),

flattened into `flat = concatenate([B.ravel(), C.ravel()])`. A `Recovery` gives the value of
pattern entry `k` as `sum of weight[t] * flat[index[t]] over the t with entry[t] == k`.

A direct read: `B[color[j], i]` equals `J[i, j]` when `(i, j)` is the only entry of row `i` whose
column has color `color[j]`; `C[row_color[i], j]` equals it when `(i, j)` is the only entry of
column `j` whose row has color `row_color[i]`. Column, row and bidirectional colorings read every
entry one of these ways. For a star coloring of a symmetric pattern, `H[i, j]` is read as
`B[color[j], i]` or else, by symmetry, as `B[color[i], j]`: if neither were exact, `i` would have
another neighbour `k` colored `color[j]` and `j` another neighbour `l` colored `color[i]`, and
`k - i - j - l` would be a two-colored path on four vertices. An acyclic coloring needs
substitution (`adkit.sparse._substitution`).

References:
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._coloring import Coloring
from ._graph import is_symmetric
from ._pattern import Pattern
from ._substitution import substitution_terms

__all__ = ["Recovery", "decompress_numpy", "recovery", "unique_reads"]


@dataclasses.dataclass(frozen=True, eq=False)
class Recovery:
    """The entries of a pattern as weighted sums of the compressed products `flat`.

    `values = segment_sum(weight * flat[index], entry, num_segments=nnz)`; the terms are sorted
    by `entry`.

    Attributes:
        index: int64 positions in `flat`, one per term.
        entry: int64 pattern entries (in pattern order), one per term, sorted.
        weight: float64 weights (+1 or -1), one per term.
        nnz: the number of pattern entries.
        size: the length of `flat`: `p * m + q * n`.

    Examples:
        >>> import numpy as np
        >>> r = Recovery(np.array([2, 0]), np.array([0, 1]), np.array([1.0, 1.0]), nnz=2, size=3)
        >>> r.direct
        True
    """

    index: np.ndarray
    entry: np.ndarray
    weight: np.ndarray
    nnz: int
    size: int

    @property
    def direct(self) -> bool:
        """True when every entry is a single read (`entry == arange(nnz)`, weights all 1)."""
        return bool(
            self.entry.size == self.nnz
            and np.array_equal(self.entry, np.arange(self.nnz))
            and np.all(self.weight == 1.0)
        )


def unique_reads(line: np.ndarray, color: np.ndarray) -> np.ndarray:
    """Which entries are the only one of their line with their color (color -1: never).

    Args:
        line: the line (row or column) each entry lies in.
        color: the color each entry is read under (-1: none).

    Returns:
        A bool array, one per entry.

    Examples:
        >>> import numpy as np
        >>> unique_reads(np.array([0, 0, 0, 1]), np.array([0, 1, 1, -1])).tolist()
        [True, False, False, False]
    """
    colored = color >= 0
    out = np.zeros(line.shape, dtype=bool)
    key = line[colored] * (int(color.max(initial=0)) + 1) + color[colored]
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    out[colored] = counts[inverse] == 1
    return out


def _unrecoverable(pattern: Pattern, coloring: Coloring, missing: np.ndarray) -> ValueError:
    k = int(np.flatnonzero(missing)[0])
    i, j = int(pattern.rows[k]), int(pattern.cols[k])
    return ValueError(
        f"The {coloring.kind} coloring cannot recover entry ({i}, {j}) (and "
        f"{int(missing.sum()) - 1} more): no compressed product holds it alone. The coloring is "
        "not valid for this pattern; `check_coloring` says why. If `color` produced it, this is "
        "a bug in adkit: please report it with the pattern."
    )


def recovery(pattern: Pattern, coloring: Coloring) -> Recovery:
    """Where each entry of `pattern` is read from in the compressed products of `coloring`.

    Args:
        pattern: the pattern that was colored.
        coloring: its coloring, from `color` or built by hand.

    Returns:
        The `Recovery`: direct (one read per entry) for every kind but `"acyclic"`.

    Raises:
        ValueError: if the shapes differ, or the coloring does not determine every entry.

    Examples:
        >>> import numpy as np
        >>> from adkit.sparse._coloring import color
        >>> pattern = Pattern.from_dense(np.array([[1, 1, 0], [0, 1, 1]]))
        >>> coloring = color(pattern)  # columns 0 and 2 share a color
        >>> r = recovery(pattern, coloring)
        >>> r.direct, r.index.tolist()  # B has shape (2, 2); entry (i, j) is B[color[j], i]
        (True, [2, 0, 1, 3])
    """
    if tuple(pattern.shape) != tuple(coloring.shape):
        raise ValueError(
            f"The coloring is for a {coloring.shape} pattern, but received a {pattern.shape} "
            "pattern. Pass the pattern that was colored."
        )
    m, n = pattern.shape
    if coloring.kind in ("star", "acyclic") and not is_symmetric(pattern):
        raise ValueError(
            f"The {coloring.kind} coloring cannot recover a pattern that is not symmetric, but "
            f"received a {m} x {n} pattern that differs from its transpose. Star and acyclic "
            "colorings are for Hessians; color a Jacobian with kind='column' or 'row'."
        )
    p, q = coloring.num_col_colors, coloring.num_row_colors
    rows, cols = pattern.rows, pattern.cols
    size = p * m + q * n
    if coloring.kind == "acyclic":
        index, entry, weight = substitution_terms(rows, cols, coloring.col_colors, n)
        missing = np.bincount(entry, minlength=pattern.nnz) == 0
        if missing.any():
            raise _unrecoverable(pattern, coloring, missing)
        return Recovery(index, entry, weight, pattern.nnz, size)
    col_of, row_of = coloring.col_colors[cols], coloring.row_colors[rows]
    forward = unique_reads(rows, col_of)  # B[col_of, i] holds the entry alone
    if coloring.kind == "star":  # the mirror entry (j, i), read as B[color[i], j]
        mirror = unique_reads(cols, coloring.col_colors[rows]) & ~forward
        index = np.where(forward, col_of * m + rows, coloring.col_colors[rows] * m + cols)
    else:
        mirror = unique_reads(cols, row_of) & ~forward
        index = np.where(forward, col_of * m + rows, p * m + row_of * n + cols)
    missing = ~(forward | mirror)
    if missing.any():
        raise _unrecoverable(pattern, coloring, missing)
    ones = np.ones(pattern.nnz)
    return Recovery(index.astype(np.int64), np.arange(pattern.nnz), ones, pattern.nnz, size)


def decompress_numpy(pattern: Pattern, recovery: Recovery, flat) -> np.ndarray:
    """The entries of `pattern` (in pattern order) from the compressed products, with NumPy.

    Args:
        pattern: the pattern.
        recovery: `recovery(pattern, coloring)`.
        flat: `concatenate([B.ravel(), C.ravel()])`, of length `recovery.size`.

    Returns:
        The values of the entries, a float array of length `pattern.nnz`.

    Examples:
        >>> import numpy as np
        >>> from adkit.sparse._coloring import color
        >>> a = np.array([[2.0, 3.0, 0.0], [0.0, 5.0, 7.0]])
        >>> pattern = Pattern.from_dense(a)
        >>> coloring = color(pattern)
        >>> b = coloring.col_seeds() @ a.T  # B[c, i] = sum of a[i, j] over the columns colored c
        >>> decompress_numpy(pattern, recovery(pattern, coloring), b.ravel()).tolist()
        [2.0, 3.0, 5.0, 7.0]
    """
    flat = np.asarray(flat)
    if flat.shape != (recovery.size,):
        raise ValueError(
            f"The compressed products should be a flat array of length {recovery.size} "
            f"(B then C, raveled), but received shape {flat.shape}. Pass "
            "`concatenate([B.ravel(), C.ravel()])` with B of shape (p, m) and C of shape (q, n) "
            "for the coloring this recovery was made from."
        )
    terms = recovery.weight * flat[recovery.index]
    values = np.zeros(pattern.nnz, dtype=terms.dtype)
    np.add.at(values, recovery.entry, terms)
    return values
