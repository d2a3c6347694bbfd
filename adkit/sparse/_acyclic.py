"""Greedy acyclic coloring of the adjacency graph of a symmetric (Hessian) pattern.

An acyclic coloring is a distance-1 coloring in which every cycle uses at least three colors;
equivalently, the subgraph induced by any two color classes is a forest. It often needs fewer
colors than a star coloring, but the Hessian entries are then recovered by substitution along the
two-colored trees rather than read off directly (see `adkit.sparse._recovery`).

The greedy coloring visits the vertices in a given order and gives each vertex `v` the smallest
color `c` that keeps the partial coloring acyclic. Coloring `v` with `c` closes a two-colored
cycle exactly when two neighbours `w1`, `w2` of `v` share a color `b` and are already joined by
a path alternating `b` and `c`, that is, lie in one tree of the forest of edges between the
classes `b` and `c`. Those trees are kept in one union-find structure per color pair; once `v` is
colored, its edges to each neighbour join their trees.

References:
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
    T. F. Coleman and J.-Y. Cai, "The cyclic coloring problem and estimation of sparse Hessian
    matrices", SIAM Journal on Algebraic and Discrete Methods 7(2), 1986.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._graph import Adjacency, as_lists

__all__ = ["acyclic_greedy"]


class _Forests:
    """Union-find over `(pair, vertex)`: the trees of the forest of each pair of color classes."""

    def __init__(self):
        self.parent: dict[tuple[int, int, int], int] = {}

    def find(self, lo: int, hi: int, v: int) -> int:
        parent = self.parent
        root = v
        while (p := parent.get((lo, hi, root), root)) != root:
            root = p
        while v != root:  # path compression
            parent[(lo, hi, v)], v = root, parent[(lo, hi, v)]
        return root

    def union(self, lo: int, hi: int, a: int, b: int) -> None:
        ra, rb = self.find(lo, hi, a), self.find(lo, hi, b)
        if ra != rb:
            self.parent[(lo, hi, ra)] = rb


def acyclic_greedy(neighbors: Adjacency, order: Sequence[int]) -> np.ndarray:
    """Colors the vertices in `order`, each with the smallest color that keeps the coloring acyclic.

    Args:
        neighbors: the adjacency graph (a `Graph`, or each vertex's neighbours as lists).
        order: a permutation of the vertices (a list, or an int array: read as a list).

    Returns:
        An int64 array: the color of each vertex, from 0.

    Examples:
        >>> square = [[1, 3], [0, 2], [1, 3], [0, 2]]  # a 4-cycle: two colors would close it
        >>> acyclic_greedy(square, [0, 1, 2, 3]).tolist()
        [0, 1, 0, 2]
    """
    neighbors = as_lists(neighbors)
    order = order.tolist() if isinstance(order, np.ndarray) else order  # Python ints: faster here
    n = len(neighbors)
    color = [-1] * n
    forests = _Forests()
    for v in order:
        by_color: dict[int, list[int]] = {}
        for w in neighbors[v]:
            if color[w] >= 0:
                by_color.setdefault(color[w], []).append(w)
        shared = [(b, ws) for b, ws in by_color.items() if len(ws) > 1]
        c = 0
        while True:
            if c not in by_color and not _closes_cycle(forests, shared, c):
                break
            c += 1
        color[v] = c
        for b, ws in by_color.items():
            lo, hi = min(b, c), max(b, c)
            for w in ws:
                forests.union(lo, hi, v, w)
    return np.asarray(color, dtype=np.int64)


def _closes_cycle(forests: _Forests, shared: list[tuple[int, list[int]]], c: int) -> bool:
    # True when two neighbours of one color b lie in one tree of the (b, c) forest
    for b, ws in shared:
        lo, hi = min(b, c), max(b, c)
        roots = set()
        for w in ws:
            root = forests.find(lo, hi, w)
            if root in roots:
                return True
            roots.add(root)
    return False
