"""Greedy star coloring of the adjacency graph of a symmetric (Hessian) pattern.

A star coloring is a distance-1 coloring in which every path on four vertices uses at least three
colors; equivalently, every connected two-colored subgraph is a star. With it, each off-diagonal
entry `H[i, j]` can be read from the compressed Hessian `B` directly, as `B[color[j], i]` or as
`B[color[i], j]` (see `adkit.sparse._recovery`).

The greedy coloring visits the vertices in a given order and gives each vertex `v` the smallest
color `c` that keeps the partial coloring a star coloring. Assuming the colored vertices have no
two-colored path on four vertices (P4), a new one must contain `v` and alternate `c` with some
color `b`: either `v` ends it (`v - w - x - y`, colors `c b c b`) or is second on it
(`u - v - w - x`, colors `b c b c`). Both contain `v - w - x` with `w` a neighbour of `v` colored
`b` and `x != v` a neighbour of `w` colored `c`; such a three-vertex path extends to a bad P4
exactly when `v` has another neighbour `u != w` colored `b`, or `x` has a neighbour `y != w`
colored `b` (`u != x` and `y != v` hold because their colors differ). So `c` is forbidden when it
is a neighbour's color, or when for some colored neighbour `w` (color `b`) and some `x` in
`N(w)`, colored `c`, either count is at least two: the count of `v`'s neighbours colored `b`, or
the count of `x`'s neighbours colored `b`. The counts are kept per vertex as colors are assigned.

A distance-2 coloring (no two vertices within distance two share a color) is always a star
coloring; `color(..., kind="star", order="best")` also tries those and keeps the fewer colors.

References:
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
    G. Fertin, A. Raspaud and B. Reed, "Star coloring of graphs", Journal of Graph Theory 47(3),
    2004.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._graph import Adjacency, as_lists

__all__ = ["star_greedy"]


def star_greedy(neighbors: Adjacency, order: Sequence[int]) -> np.ndarray:
    """Colors the vertices in `order`, each with the smallest color that keeps a star coloring.

    Args:
        neighbors: the adjacency graph (a `Graph`, or each vertex's neighbours as lists).
        order: a permutation of the vertices (a list, or an int array: read as a list).

    Returns:
        An int64 array: the color of each vertex, from 0.

    Examples:
        >>> path = [[1], [0, 2], [1, 3], [2]]  # a path on four vertices needs three colors
        >>> star_greedy(path, [0, 1, 2, 3]).tolist()
        [0, 1, 0, 2]
    """
    neighbors = as_lists(neighbors)
    order = order.tolist() if isinstance(order, np.ndarray) else order  # Python ints: faster here
    n = len(neighbors)
    color = [-1] * n
    counts: list[dict[int, int]] = [{} for _ in range(n)]  # counts[x][b]: x's neighbours colored b
    stamp = [-1] * (n + 1)  # stamp[c] == v: color c is forbidden for v
    for v in order:
        own = counts[v]
        for w in neighbors[v]:
            b = color[w]
            if b < 0:
                continue
            stamp[b] = v
            shared = own[b] > 1  # v has another neighbour colored b
            for x in neighbors[w]:
                c = color[x]
                if c >= 0 and (shared or counts[x][b] > 1):
                    stamp[c] = v
        c = 0
        while stamp[c] == v:
            c += 1
        color[v] = c
        for w in neighbors[v]:
            seen = counts[w]
            seen[c] = seen.get(c, 0) + 1
    return np.asarray(color, dtype=np.int64)
