"""Recovery of a symmetric matrix from an acyclic coloring, by substitution along trees.

With `B[c, i] = sum of H[i, j] over the j colored c` and an acyclic coloring (every two color
classes induce a forest), take an off-diagonal entry `H[i, j]`, colors `a = color[i]` and
`b = color[j]`. `B[b, i]` sums `H[i, k]` over the neighbours `k` of `i` colored `b`: the edges at
`i` in the forest of the classes `a` and `b` (the diagonal is not among them, as `a != b`).
So each forest is a tree problem: every node `(i, b)` knows the sum of its incident edges. Root
each tree; then the edge from a node `u` to its parent is `B` at `u` minus the edges to `u`'s
children, and unrolling,

    edge(u, parent(u)) = sum over the nodes d below u (u included) of ±B at d,

with sign `(-1) ** (depth(d) - depth(u))`. Each entry is a signed sum of entries of `B`; the
trees are rooted at a centroid, which makes the sums as short as a rooting can. All the forests
are handled together as one forest on the nodes `(vertex, other color)`. A diagonal entry
`H[i, i]` is `B[color[i], i]` directly (no neighbour shares `i`'s color).

References:
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
    A. H. Gebremedhin, A. Tarafdar, A. Pothen and A. Walther, "Efficient computation of sparse
    Hessians using coloring and automatic differentiation", INFORMS Journal on Computing 21(2),
    2009.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["substitution_terms"]


def _invalid(reason: str) -> ValueError:
    return ValueError(
        f"The acyclic coloring cannot recover the pattern: {reason}. The coloring is not valid "
        "for this pattern; `check_coloring` says why. If `color` produced it, this is a bug in "
        "adkit: please report it with the pattern."
    )


def _bfs(adjacency: sp.csr_array, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Breadth-first order and parents of a forest from the given roots, via a virtual vertex N
    # joined to every root; the roots get parent N.
    num = adjacency.shape[0]
    link = sp.csr_array(
        (np.ones(roots.size), (np.full(roots.size, num), roots)), shape=(num + 1, num + 1)
    )
    grown = sp.block_diag([adjacency, sp.csr_array((1, 1))], format="csr") + link
    order, parent = csgraph.breadth_first_order(grown, num, directed=False)
    return order[1:], parent


def _centroids(adjacency: sp.csr_array, labels: np.ndarray) -> np.ndarray:
    # One centroid per tree: the node whose largest remaining part, once removed, is smallest.
    num = adjacency.shape[0]
    first = np.zeros(labels.max(initial=-1) + 1, dtype=np.int64)
    first[labels[::-1]] = np.arange(num)[::-1]  # the first node of each tree
    order, parent = _bfs(adjacency, first)
    size = np.ones(num + 1, dtype=np.int64)
    parent_list = parent.tolist()
    for v in order[::-1].tolist():
        size[parent_list[v]] += size[v]
    nodes = np.arange(num)
    largest_child = np.zeros(num + 1, dtype=np.int64)
    np.maximum.at(largest_child, parent[nodes], size[nodes])
    total = size[first][labels]
    part = np.maximum(largest_child[:num], total - size[:num])
    by_tree = np.lexsort((part, labels))
    return by_tree[np.searchsorted(labels[by_tree], np.arange(first.size))]


def substitution_terms(
    rows: np.ndarray, cols: np.ndarray, colors: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The terms `(index, entry, weight)` recovering a symmetric pattern from `B` (shape `(p, n)`).

    Args:
        rows: the rows of the pattern's entries (sorted row-major, symmetric pattern).
        cols: their columns.
        colors: an acyclic coloring of the vertices.
        n: the order of the matrix.

    Returns:
        Int64 `index` into `B.ravel()`, int64 `entry`, float64 `weight`, sorted by `entry`.

    Raises:
        ValueError: if the pattern is not symmetric or the coloring is not acyclic.

    Examples:
        >>> import numpy as np
        >>> rows, cols = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 2, 1])  # a path 0 - 1 - 2
        >>> index, entry, weight = substitution_terms(rows, cols, np.array([0, 1, 0]), 3)
        >>> entry.tolist(), weight.tolist()  # the diagonal and both edges read once each
        ([0, 1, 2, 3, 4], [1.0, 1.0, 1.0, 1.0, 1.0])
    """
    nnz = rows.size
    keys = rows * n + cols
    colors = np.asarray(colors, dtype=np.int64)
    p = int(colors.max(initial=-1)) + 1
    diagonal = np.flatnonzero(rows == cols)
    upper = np.flatnonzero(rows < cols)
    i, j = rows[upper], cols[upper]
    mirror = np.searchsorted(keys, j * n + i)
    if upper.size and (mirror.max() >= nnz or not np.array_equal(keys[mirror], j * n + i)):
        raise _invalid("the pattern is not symmetric")
    color_i, color_j = colors[i], colors[j]
    if (colors[rows[diagonal]] < 0).any() or (color_i < 0).any() or (color_j < 0).any():
        raise _invalid("a vertex with entries has color -1")
    if (color_i == color_j).any():
        k = int(np.flatnonzero(color_i == color_j)[0])
        raise _invalid(f"the adjacent vertices {i[k]} and {j[k]} share color {color_i[k]}")
    terms = [(colors[rows[diagonal]] * n + rows[diagonal], diagonal, np.ones(diagonal.size))]
    if upper.size:
        node_keys, ends = np.unique(
            np.concatenate([i * p + color_j, j * p + color_i]), return_inverse=True
        )
        head, tail = ends[: upper.size], ends[upper.size :]
        num = node_keys.size
        value = (node_keys % p) * n + node_keys // p  # the node (v, c) holds B[c, v]
        adjacency = sp.csr_array(
            (np.ones(2 * upper.size), (np.concatenate([head, tail]), np.concatenate([tail, head]))),
            shape=(num, num),
        )
        count, labels = csgraph.connected_components(adjacency, directed=False)
        if upper.size != num - count:
            raise _invalid("two color classes induce a cycle")
        order, parent = _bfs(adjacency, _centroids(adjacency, labels))
        edge_keys = np.minimum(head, tail) * num + np.maximum(head, tail)
        by_key = np.argsort(edge_keys)
        below = order[parent[order] != num]  # the nodes that have a parent edge
        up_key = np.minimum(below, parent[below]) * num + np.maximum(below, parent[below])
        edge_of = np.zeros(num, dtype=np.int64)
        edge_of[below] = by_key[np.searchsorted(edge_keys[by_key], up_key)]
        d, u, sign = below, below, np.ones(below.size)
        while d.size:
            for side in (upper, mirror):
                terms.append((value[d], side[edge_of[u]], sign))
            u, sign = parent[u], -sign
            keep = parent[u] != num
            d, u, sign = d[keep], u[keep], sign[keep]
    index, entry, weight = (np.concatenate(parts) for parts in zip(*terms, strict=True))
    by_entry = np.argsort(entry, kind="stable")
    return index[by_entry].astype(np.int64), entry[by_entry].astype(np.int64), weight[by_entry]
