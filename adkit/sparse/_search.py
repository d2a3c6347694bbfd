"""Runs a greedy coloring under one named vertex order, or under several and keeps the best.

`order="best"` colors with every deterministic order of `adkit.sparse._orders` and a few seeded
random ones, keeps the coloring with the fewest colors (the first such in the order tried), and
refines it by a few rounds of iterated greedy (`adkit.sparse._greedy.iterated_greedy`); above
1024 vertices only the three cheapest orders and fewer rounds (coloring is then most of a sparse
Jacobian's one-off cost). An order equal to one already tried (largest-first on a regular graph
is the natural order) is skipped. It stops as soon as a coloring reaches a known lower bound (for a
column coloring, the most entries in one row: those columns all conflict), since nothing can do
better; the cheap orders go first.
"""

from __future__ import annotations

import numpy as np

from ._graph import Graph, intersection_graph
from ._greedy import GreedyFn, greedy, iterated_greedy, num_colors
from ._orders import ORDERS, order_array

__all__ = ["BEST_ORDERS", "check_order", "color_columns", "compact", "search"]

BEST_ORDERS = ("largest_first", "natural", "smallest_last", "incidence_degree", "dsatur")
NUM_RANDOM = 3  # seeded random orders tried by "best"
DSATUR_LIMIT = 1000  # "best" tries dsatur (a heap update per colored neighbour) up to here
PATIENCE = 5  # iterated-greedy rounds without a new best before "best" stops refining
LARGE = 1024  # above this many vertices, "best" tries the three cheap orders and refines less
LARGE_ORDERS = ("largest_first", "smallest_last", "natural")
PATIENCE_LARGE = 2


def search(
    graph: Graph,
    order: str,
    seed: int = 0,
    greedy_fn: GreedyFn = greedy,
    lower_bound: int = 1,
) -> tuple[np.ndarray, str]:
    """Colors `graph` with `greedy_fn` under the vertex order `order`, or the best of several.

    Args:
        graph: the graph `greedy_fn` colors.
        order: one of `ORDERS`, or `"best"`.
        seed: seeds the random orders and the random class permutations of iterated greedy.
        greedy_fn: the greedy coloring (distance-1, star or acyclic).
        lower_bound: no coloring has fewer colors: "best" stops when it reaches this many.

    Returns:
        `(colors, winner)`: the colors (from 0) and the name of the order that gave them, with
        `"+iterated_greedy"` appended when the refinement removed colors.

    Examples:
        >>> import numpy as np
        >>> path = Graph.from_edges(4, np.array([0, 1, 2]), np.array([1, 2, 3]))
        >>> colors, winner = search(path, "best")
        >>> colors.tolist(), winner
        ([1, 0, 1, 0], 'largest_first')
    """
    rng = np.random.default_rng(seed)
    if order != "best":
        return greedy_fn(graph, order_array(graph, order, rng)), order
    if graph.num_vertices == 0:
        return np.zeros(0, dtype=np.int64), BEST_ORDERS[0]
    large = graph.num_vertices > LARGE
    # large: smallest_last second, as it most often reaches the bound on stencils and grids
    names = [*LARGE_ORDERS] if large else [*BEST_ORDERS[:4], *(["random"] * NUM_RANDOM)]
    if graph.num_vertices <= DSATUR_LIMIT:  # the slowest order, tried last on small graphs
        names.append(BEST_ORDERS[4])
    best, winner, tried = None, "", []
    for name in names:
        order = order_array(graph, name, rng)
        if any(np.array_equal(order, other) for other in tried):
            continue  # largest_first on a regular graph is the natural order
        tried.append(order)
        colors = greedy_fn(graph, order)
        if best is None or num_colors(colors) < num_colors(best):
            best, winner = colors, name
        if num_colors(best) <= lower_bound:
            return best, winner
    patience = PATIENCE_LARGE if large else PATIENCE
    refined, improved = iterated_greedy(graph, best, rng, greedy_fn, patience=patience)
    return refined, winner + ("+iterated_greedy" if improved else "")


def check_order(order: str) -> None:
    """Raises a ValueError naming the valid orders if `order` is not one of them or `"best"`."""
    if order != "best" and order not in ORDERS:
        names = ", ".join(repr(o) for o in ("best", *ORDERS))
        raise ValueError(
            f"Unknown coloring order {order!r}. Expected one of {names}; pass one of these "
            '("best" tries several and keeps the fewest colors).'
        )


def color_columns(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], order: str, seed: int = 0
) -> tuple[np.ndarray, str]:
    """A column partition of the entries `(rows[k], cols[k])` of an `m x n` matrix.

    Two columns conflict iff they share a row; columns without entries get color -1 (they need no
    seed), and the others colors `0 .. k-1`.

    Args:
        rows: the row of each entry.
        cols: the column of each entry.
        shape: `(m, n)`.
        order: one of `ORDERS`, or `"best"`.
        seed: as for `search`.

    Returns:
        `(colors, winner)` as for `search`, `colors` of length `n`.

    Examples:
        >>> import numpy as np
        >>> colors, _ = color_columns(np.array([0, 0, 1]), np.array([0, 1, 1]), (2, 3), "natural")
        >>> colors.tolist()
        [0, 1, -1]
    """
    bound = int(np.bincount(rows, minlength=shape[0]).max(initial=1))  # one row's columns
    colors, winner = search(intersection_graph(rows, cols, shape), order, seed, lower_bound=bound)
    return compact(colors, np.bincount(cols, minlength=shape[1]) > 0), winner


def compact(colors: np.ndarray, used: np.ndarray) -> np.ndarray:
    """`colors` with -1 where `used` is False, the other colors renumbered `0 .. k-1` in order.

    Examples:
        >>> import numpy as np
        >>> compact(np.array([0, 1, 2, 1]), np.array([True, False, True, True])).tolist()
        [0, -1, 2, 1]
    """
    out = np.full(colors.shape, -1, dtype=np.int64)
    _, out[used] = np.unique(colors[used], return_inverse=True)
    return out
