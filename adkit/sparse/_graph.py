"""Conflict graphs of a sparsity pattern, stored in compressed sparse row (CSR) form.

Every coloring in `adkit.sparse` is a coloring of the vertices of some undirected graph built
from a `Pattern`:

- the column intersection graph: two columns are adjacent iff they share a row (the pattern of
  `JᵀJ` without its diagonal); a distance-1 coloring of it is a column partition of `J`;
- the adjacency graph of a symmetric pattern: vertex `i` is adjacent to `j != i` iff `(i, j)` is
  an entry; star and acyclic colorings color it;
- its square: `i` and `j` adjacent iff they are at distance 1 or 2 in the adjacency graph.

The graphs are built with sparse matrix products, never with a Python loop over entries.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Union

import numpy as np
import scipy.sparse as sp

from ._pattern import Pattern

__all__ = [
    "Adjacency",
    "Graph",
    "adjacency_graph",
    "as_csr_arrays",
    "as_lists",
    "column_graph",
    "intersection_graph",
    "is_symmetric",
    "square_graph",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
    """An undirected simple graph on vertices `0 .. n-1`, as CSR arrays.

    The neighbours of `v` are `indices[indptr[v]:indptr[v + 1]]`, sorted, without `v` itself;
    every edge is stored in both directions.

    Attributes:
        indptr: int64 array of length `n + 1`.
        indices: int64 array of length `2 * (number of edges)`.

    Examples:
        >>> import numpy as np
        >>> g = Graph.from_edges(3, np.array([0, 1]), np.array([1, 2]))
        >>> g.neighbors
        [[1], [0, 2], [1]]
    """

    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def from_edges(cls, n: int, heads: np.ndarray, tails: np.ndarray) -> Graph:
        """The graph on `n` vertices with edges `heads[k] -- tails[k]` (loops, repeats dropped)."""
        heads = np.asarray(heads, dtype=np.int64)
        tails = np.asarray(tails, dtype=np.int64)
        ones = np.ones(2 * heads.size, dtype=np.float32)
        both = (np.concatenate([heads, tails]), np.concatenate([tails, heads]))
        return cls.from_scipy(sp.csr_array((ones, both), shape=(n, n)))

    @classmethod
    def from_scipy(cls, matrix) -> Graph:
        """The graph whose edges are the off-diagonal stored entries of a square sparse matrix.

        The matrix must be structurally symmetric (as `SᵀS` and `A + Aᵀ` are).
        """
        csr = sp.csr_array(matrix, copy=True)
        csr.sum_duplicates()  # also sorts the indices of each row
        n = csr.shape[0]
        owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
        off = owner != csr.indices
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[off], minlength=n), out=indptr[1:])
        return cls(indptr, csr.indices[off].astype(np.int64))

    @property
    def num_vertices(self) -> int:
        """The number of vertices `n`."""
        return int(self.indptr.size - 1)

    @property
    def num_edges(self) -> int:
        """The number of (undirected) edges."""
        return int(self.indices.size // 2)

    def degrees(self) -> np.ndarray:
        """The degree of each vertex, an int64 array of length `n`."""
        return np.diff(self.indptr)

    @functools.cached_property
    def neighbors(self) -> list[list[int]]:
        """The neighbours of each vertex as Python lists (fast to loop over in greedy colorings)."""
        ptr = self.indptr.tolist()
        idx = self.indices.tolist()
        return [idx[ptr[v] : ptr[v + 1]] for v in range(self.num_vertices)]

    def to_scipy(self) -> sp.csr_array:
        """The adjacency matrix, a `scipy.sparse.csr_array` of ones."""
        n = self.num_vertices
        data = np.ones(self.indices.size, dtype=np.int32)
        return sp.csr_array((data, self.indices, self.indptr), shape=(n, n))


Adjacency = Union["Graph", list[list[int]]]  # a Graph, or each vertex's neighbours as lists


def as_lists(adjacency: Adjacency) -> list[list[int]]:
    """Each vertex's neighbours as Python lists (what the Python-loop colorings read)."""
    return adjacency.neighbors if isinstance(adjacency, Graph) else adjacency


def as_csr_arrays(adjacency: Adjacency) -> tuple[np.ndarray, np.ndarray]:
    """`(indptr, indices)`, int64 (what the compiled colorings read)."""
    if isinstance(adjacency, Graph):
        return adjacency.indptr, adjacency.indices
    lengths = np.fromiter((len(a) for a in adjacency), dtype=np.int64, count=len(adjacency))
    indptr = np.zeros(len(adjacency) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    flat = np.fromiter(itertools.chain.from_iterable(adjacency), dtype=np.int64)
    return indptr, flat


def intersection_graph(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Graph:
    """The graph on the `n = shape[1]` columns: two columns are adjacent iff they share a row.

    Args:
        rows: the row of each entry.
        cols: the column of each entry.
        shape: `(m, n)`.

    Returns:
        The column intersection graph: the pattern of `SᵀS` without its diagonal, where `S` is the
        0/1 matrix of the entries.

    Examples:
        >>> import numpy as np
        >>> intersection_graph(np.array([0, 0, 1]), np.array([0, 2, 1]), (2, 3)).neighbors
        [[2], [], [0]]
    """
    from ._kernels import column_adjacency  # compiled: imports Numba on first use

    m, n = shape
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    return Graph(*column_adjacency(rows, cols, m, n))


def column_graph(pattern: Pattern) -> Graph:
    """The column intersection graph of `pattern` (columns adjacent iff they share a row).

    Examples:
        >>> import numpy as np
        >>> column_graph(Pattern.from_dense(np.array([[1, 1, 0], [0, 1, 1]]))).neighbors
        [[1], [0, 2], [1]]
    """
    return intersection_graph(pattern.rows, pattern.cols, pattern.shape)


def is_symmetric(pattern: Pattern) -> bool:
    """Whether `pattern` is square and equal to its transpose.

    Examples:
        >>> import numpy as np
        >>> is_symmetric(Pattern.from_dense(np.array([[1, 1], [0, 1]])))
        False
    """
    m, n = pattern.shape
    return m == n and pattern == pattern.T


def adjacency_graph(pattern: Pattern) -> Graph:
    """The adjacency graph of a symmetric pattern: `i -- j` for each entry `(i, j)` with `i != j`.

    Examples:
        >>> import numpy as np
        >>> adjacency_graph(Pattern.from_dense(np.ones((3, 3)))).neighbors
        [[1, 2], [0, 2], [0, 1]]
    """
    return Graph.from_edges(pattern.shape[0], pattern.rows, pattern.cols)


def square_graph(graph: Graph) -> Graph:
    """The square of `graph`: vertices adjacent iff their distance in `graph` is 1 or 2.

    A distance-1 coloring of the square is a distance-2 coloring of `graph`.

    Examples:
        >>> import numpy as np
        >>> path = Graph.from_edges(4, np.array([0, 1, 2]), np.array([1, 2, 3]))
        >>> square_graph(path).neighbors
        [[1, 2], [0, 2, 3], [0, 1, 3], [1, 2]]
    """
    a = graph.to_scipy().astype(np.float32) + sp.eye_array(graph.num_vertices, dtype=np.float32)
    return Graph.from_scipy(a @ a)
