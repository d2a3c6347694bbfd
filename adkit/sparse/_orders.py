"""Vertex orders for greedy coloring: the order in which a greedy coloring visits the vertices.

Greedy coloring gives each vertex, in turn, the smallest color its constraints allow; the count it
ends with depends strongly on the order. The orders here:

- `"natural"`: `0, 1, ..., n-1`;
- `"largest_first"`: by decreasing degree (Welsh and Powell);
- `"smallest_last"`: repeatedly set aside a vertex of smallest degree in the graph that remains,
  and visit them in reverse (Matula and Beck). Each vertex then has few neighbours visited
  before it: the count never exceeds one plus the graph's degeneracy;
- `"incidence_degree"`: next, the vertex with the most neighbours already visited, ties to the
  larger degree (Coleman and Moré);
- `"dsatur"`: next, the vertex whose visited neighbours carry the most distinct colors of a
  distance-1 greedy coloring, ties to the larger degree (Brélaz). A dynamic order: it colors as
  it goes, and the order it visited the vertices in is returned;
- `"random"`: a random permutation drawn from the given generator.

References:
    T. F. Coleman and J. J. Moré, "Estimation of sparse Jacobian matrices and graph coloring
    problems", SIAM Journal on Numerical Analysis 20(1), 1983.
    D. W. Matula and L. L. Beck, "Smallest-last ordering and clustering and graph coloring
    algorithms", Journal of the ACM 30(3), 1983.
    D. Brélaz, "New methods to color the vertices of a graph", Communications of the ACM 22(4),
    1979.
"""

from __future__ import annotations

import heapq

import numpy as np

from ._graph import Graph

__all__ = ["ORDERS", "order_array", "vertex_order"]

ORDERS = ("largest_first", "smallest_last", "incidence_degree", "dsatur", "natural", "random")


def vertex_order(graph: Graph, name: str, rng: np.random.Generator | None = None) -> list[int]:
    """The vertices of `graph` in the order `name` (one of `ORDERS`), as a Python list.

    Args:
        graph: the conflict graph.
        name: the order's name.
        rng: the generator `"random"` draws from (a fresh unseeded one if None).

    Returns:
        A permutation of `range(graph.num_vertices)`.

    Raises:
        ValueError: if `name` is not one of `ORDERS`.

    Examples:
        >>> import numpy as np
        >>> star = Graph.from_edges(4, np.array([3, 3, 3]), np.array([0, 1, 2]))
        >>> vertex_order(star, "largest_first")
        [3, 0, 1, 2]
        >>> vertex_order(star, "smallest_last")  # the last two left have degree 1 both
        [0, 3, 1, 2]
    """
    return order_array(graph, name, rng).tolist()


def order_array(graph: Graph, name: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """`vertex_order` as an int64 array, what the compiled greedy coloring reads: on a graph of
    8192 vertices, a round trip through a Python list costs more than the greedy pass itself."""
    n = graph.num_vertices
    degrees = graph.degrees()
    if name == "natural":
        return np.arange(n, dtype=np.int64)
    if name == "largest_first":
        return np.argsort(-degrees, kind="stable").astype(np.int64, copy=False)
    if name == "random":
        rng = np.random.default_rng() if rng is None else rng
        return rng.permutation(n).astype(np.int64, copy=False)
    if name == "smallest_last":
        return _smallest_last(graph, degrees)
    if name == "incidence_degree":
        return np.asarray(_incidence_degree(graph.neighbors, degrees), dtype=np.int64)
    if name == "dsatur":
        return np.asarray(_dsatur(graph.neighbors, degrees), dtype=np.int64)
    raise ValueError(
        f"Unknown vertex order {name!r}. Expected one of {', '.join(map(repr, ORDERS))}; "
        "pass one of these names."
    )


def _smallest_last(graph: Graph, degrees: np.ndarray) -> np.ndarray:
    # compiled (adkit.sparse._kernels): buckets by current degree, filled by decreasing degree
    from . import _kernels  # Numba, imported on the first coloring

    first = np.argsort(-degrees, kind="stable")
    return _kernels.smallest_last(graph.indptr, graph.indices, first)


def _incidence_degree(neighbors: list[list[int]], degrees: np.ndarray) -> list[int]:
    # Buckets by the number of visited neighbours; in each bucket the larger degree pops first.
    n = len(neighbors)
    incidence = [0] * n
    visited = [False] * n
    buckets: list[list[int]] = [[] for _ in range(int(degrees.max(initial=0)) + 1)]
    buckets[0] = np.argsort(degrees, kind="stable").tolist()
    high = 0
    order = []
    for _ in range(n):
        while True:
            bucket = buckets[high]
            while bucket and (visited[bucket[-1]] or incidence[bucket[-1]] != high):
                bucket.pop()
            if bucket:
                break
            high -= 1
        v = bucket.pop()
        visited[v] = True
        order.append(v)
        for w in neighbors[v]:
            if not visited[w]:
                incidence[w] += 1
                buckets[incidence[w]].append(w)
                high = max(high, incidence[w])
    return order


def _dsatur(neighbors: list[list[int]], degrees: np.ndarray) -> list[int]:
    n = len(neighbors)
    deg = degrees.tolist()
    color = [-1] * n
    saturation = [0] * n
    seen: list[set[int]] = [set() for _ in range(n)]
    stamp = [-1] * (max(deg, default=0) + 2)
    heap = [(0, -deg[v], v) for v in range(n)]
    heapq.heapify(heap)
    order = []
    while heap:
        negsat, _, v = heapq.heappop(heap)
        if color[v] >= 0 or -negsat != saturation[v]:
            continue  # a stale entry
        for w in neighbors[v]:
            if color[w] >= 0:
                stamp[color[w]] = v
        c = 0
        while stamp[c] == v:
            c += 1
        color[v] = c
        order.append(v)
        for w in neighbors[v]:
            if color[w] < 0 and c not in seen[w]:
                seen[w].add(c)
                saturation[w] += 1
                heapq.heappush(heap, (-saturation[w], -deg[w], w))
    return order
