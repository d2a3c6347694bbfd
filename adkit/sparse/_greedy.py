"""Greedy distance-1 coloring of a conflict graph, and iterated-greedy refinement.

`greedy` visits the vertices in a given order and gives each the smallest color none of its
already-colored neighbours has. `iterated_greedy` improves a coloring by re-running a greedy
coloring that visits the vertices class by class, the color classes taken in a permuted order
(Culberson). For distance-1 greedy the count can never grow: each class is an independent set,
so every vertex of the `k`-th class visited finds a color among the first `k`. Rounds alternate
between three permutations of the classes (reverse color order, largest class first, random)
and stop once several rounds in a row bring no improvement.

References:
    J. C. Culberson, "Iterated greedy graph coloring and the difficulty landscape", Technical
    Report TR 92-07, University of Alberta, 1992.
    A. H. Gebremedhin, F. Manne and A. Pothen, "What color is your Jacobian? Graph coloring for
    computing derivatives", SIAM Review 47(4), 2005.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._graph import Adjacency, as_csr_arrays

__all__ = ["GreedyFn", "greedy", "iterated_greedy", "num_colors"]

GreedyFn = Callable[[Adjacency, Sequence[int]], np.ndarray]


def greedy(neighbors: Adjacency, order: Sequence[int]) -> np.ndarray:
    """Colors the vertices in `order`, each with the smallest color no colored neighbour has.

    The loop runs compiled (`adkit.sparse._kernels`).

    Args:
        neighbors: the graph (a `Graph`, or each vertex's neighbours as lists).
        order: a permutation of the vertices.

    Returns:
        An int64 array: the color of each vertex, from 0.

    Examples:
        >>> greedy([[1], [0, 2], [1]], [0, 1, 2]).tolist()
        [0, 1, 0]
    """
    from . import _kernels  # Numba, imported on the first coloring

    indptr, indices = as_csr_arrays(neighbors)
    return _kernels.greedy(indptr, indices, np.asarray(order, dtype=np.int64))  # free for arrays


def num_colors(colors: np.ndarray) -> int:
    """The number of colors of a coloring whose colors are `0 .. k-1` (0 for no vertices)."""
    return int(colors.max(initial=-1)) + 1


def iterated_greedy(
    neighbors: Adjacency,
    colors: np.ndarray,
    rng: np.random.Generator,
    greedy_fn: GreedyFn = greedy,
    *,
    patience: int = 20,
    max_rounds: int = 300,
) -> tuple[np.ndarray, bool]:
    """Refines a coloring by greedy recoloring class by class (Culberson's iterated greedy).

    A round recolors with `greedy_fn`, visiting the vertices of one color class after another,
    the classes in a permuted order. A round's coloring replaces the current one when it uses no
    more colors (always so for distance-1 greedy); refinement stops after `patience` rounds
    without a new best, or after `max_rounds`.

    Args:
        neighbors: the neighbours of each vertex.
        colors: a valid coloring for `greedy_fn`'s constraints, colors `0 .. k-1`.
        rng: the generator for the random class permutations.
        greedy_fn: the greedy coloring to re-run (distance-1 `greedy`, or a star or acyclic one).
        patience: the number of rounds without improvement after which to stop.
        max_rounds: the most rounds to run.

    Returns:
        `(best, improved)`: the coloring with the fewest colors seen, and whether it has fewer
        than `colors`.

    Examples:
        >>> import numpy as np
        >>> path = [[1], [0, 2], [1, 3], [2]]
        >>> bad = greedy(path, [0, 3, 1, 2])  # 0 and 3 first: 1 then needs a third color
        >>> int(bad.max()) + 1
        3
        >>> best, improved = iterated_greedy(path, bad, np.random.default_rng(0))
        >>> int(best.max()) + 1, improved
        (2, True)
    """
    best = current = np.asarray(colors, dtype=np.int64)
    best_k = current_k = start_k = num_colors(current)
    stall = 0
    for round_ in range(max_rounds):
        if stall >= patience or best_k <= 1:
            break
        sizes = np.bincount(current, minlength=current_k)
        kind = round_ % 3
        if kind == 0:  # reverse color order
            ranking = np.arange(current_k)[::-1]
        elif kind == 1:  # largest class first
            ranking = np.argsort(-sizes, kind="stable")
        else:
            ranking = rng.permutation(current_k)
        rank = np.empty(current_k, dtype=np.int64)
        rank[ranking] = np.arange(current_k)
        order = np.argsort(rank[current], kind="stable")
        candidate = greedy_fn(neighbors, order)
        k = num_colors(candidate)
        if k <= current_k:
            current, current_k = candidate, k
        if k < best_k:
            best, best_k, stall = candidate, k, 0
        else:
            stall += 1
    return best, best_k < start_k
