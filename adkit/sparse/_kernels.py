"""The coloring's hot loops, compiled with Numba: greedy distance-1 coloring, the smallest-last
order, and (at the end of this file) the column intersection graph.

Both visit every vertex and every edge once, in an order that depends on what came before, so
neither can be written as whole-array NumPy operations; in Python they cost about half a
microsecond per vertex (a 2D Brusselator of 2048 unknowns: 1.4 ms a greedy pass, 2.6 ms the
order), most of a sparse Jacobian's coloring time. Compiled, they take 30 and 90 µs. They read
the graph as CSR arrays (`Graph.indptr`, `Graph.indices`) and give exactly what the Python loops
they replace gave (the tests keep those loops as references).

`adkit.sparse` imports this module, and Numba with it, only when it first colors. The first
coloring in a process then costs about 0.2 s (importing Numba, loading the compiled loops from
their cache beside this file); the very first after installing compiles them, about 0.8 s.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def greedy(indptr, indices, order):
    """Colors vertices in `order`, each with the smallest color no colored neighbour has."""
    n = indptr.size - 1
    color = np.full(n, -1, np.int64)
    seen = np.full(n + 1, -1, np.int64)  # seen[c] == v: color c is taken around v
    for v in order:
        for k in range(indptr[v], indptr[v + 1]):
            c = color[indices[k]]
            if c >= 0:
                seen[c] = v
        c = 0
        while seen[c] == v:
            c += 1
        color[v] = c
    return color


@numba.njit(cache=True, nogil=True)
def smallest_last(indptr, indices, first):
    """Matula and Beck's order: repeatedly remove a vertex of smallest current degree; visit
    them in reverse. Buckets of vertices by degree are stacks with lazy deletion (a vertex is
    pushed again when its degree drops; stale entries are skipped when popped), filled first in
    the order `first`, exactly as the Python loop did."""
    n = indptr.size - 1
    degree = np.empty(n, np.int64)
    for v in range(n):
        degree[v] = indptr[v + 1] - indptr[v]
    top = np.full(max(degree.max() if n else 0, 0) + 1, -1, np.int64)  # stack head per degree
    capacity = n + indices.size  # one push per vertex, then at most one per edge end
    vertex = np.empty(capacity, np.int64)
    below = np.empty(capacity, np.int64)
    pushed = 0
    for v in first:
        vertex[pushed], below[pushed] = v, top[degree[v]]
        top[degree[v]] = pushed
        pushed += 1
    removed = np.zeros(n, np.bool_)
    removal = np.empty(n, np.int64)
    low = 0
    for i in range(n):
        while True:
            while top[low] >= 0 and (removed[vertex[top[low]]] or degree[vertex[top[low]]] != low):
                top[low] = below[top[low]]
            if top[low] >= 0:
                break
            low += 1
        v = vertex[top[low]]
        top[low] = below[top[low]]
        removed[v] = True
        removal[i] = v
        for k in range(indptr[v], indptr[v + 1]):
            w = indices[k]
            if not removed[w]:
                degree[w] -= 1
                vertex[pushed], below[pushed] = w, top[degree[w]]
                top[degree[w]] = pushed
                pushed += 1
        low = max(low - 1, 0)
    return removal[::-1].copy()


@numba.njit(cache=True, nogil=True)
def _by_key(keys, values, size):
    """Counting sort of `values` by `keys` (stable): `(ptr, sorted values)`, CSR-like."""
    ptr = np.zeros(size + 1, np.int64)
    for k in keys:
        ptr[k + 1] += 1
    for i in range(size):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    out = np.empty(keys.size, np.int64)
    for e in range(keys.size):
        out[fill[keys[e]]] = values[e]
        fill[keys[e]] += 1
    return ptr, out


@numba.njit(cache=True, nogil=True)
def _sort_segment(a, start, stop):
    """Sorts `a[start:stop]` in place: insertion sort for the few neighbours a vertex has."""
    if stop - start > 32:
        a[start:stop] = np.sort(a[start:stop])
        return
    for u in range(start + 1, stop):
        v = a[u]
        w = u - 1
        while w >= start and a[w] > v:
            a[w + 1] = a[w]
            w -= 1
        a[w + 1] = v


ONE_PASS_LIMIT = 1 << 22  # visits (int64 slots, 32 MiB) up to which one pass fills the graph


@numba.njit(cache=True, nogil=True)
def column_adjacency(rows, cols, m, n, one_pass_limit=ONE_PASS_LIMIT):
    """The columns' intersection graph as CSR `(indptr, indices)`, each row sorted: columns j
    and k are adjacent iff some row holds both, a mark per column keeping each neighbour once.

    Listing column j's neighbours visits every entry of every row j is in: sum(row length²)
    visits in all. When that is at most `one_pass_limit`, one pass writes them into a buffer
    of that size; otherwise (a dense row makes it n²) a first pass counts and a second fills,
    with no more memory than the graph's."""
    row_ptr, row_cols = _by_key(rows, cols, m)
    col_ptr, col_rows = _by_key(cols, rows, n)
    visits = 0
    for r in range(m):
        visits += (row_ptr[r + 1] - row_ptr[r]) ** 2
    mark = np.full(n, -1, np.int64)
    indptr = np.zeros(n + 1, np.int64)
    if visits <= one_pass_limit:
        buffer = np.empty(visits, np.int64)
        p = 0
        for j in range(n):
            mark[j] = j
            start = p
            for a in range(col_ptr[j], col_ptr[j + 1]):
                r = col_rows[a]
                for b in range(row_ptr[r], row_ptr[r + 1]):
                    k = row_cols[b]
                    if mark[k] != j:
                        mark[k] = j
                        buffer[p] = k
                        p += 1
            _sort_segment(buffer, start, p)
            indptr[j + 1] = p
        return indptr, buffer[:p].copy()
    for j in range(n):
        mark[j] = j
        for a in range(col_ptr[j], col_ptr[j + 1]):
            r = col_rows[a]
            for b in range(row_ptr[r], row_ptr[r + 1]):
                if mark[row_cols[b]] != j:
                    mark[row_cols[b]] = j
                    indptr[j + 1] += 1
    for j in range(n):
        indptr[j + 1] += indptr[j]
    indices = np.empty(indptr[n], np.int64)
    mark[:] = -1
    for j in range(n):
        mark[j] = j
        p = indptr[j]
        for a in range(col_ptr[j], col_ptr[j + 1]):
            r = col_rows[a]
            for b in range(row_ptr[r], row_ptr[r + 1]):
                k = row_cols[b]
                if mark[k] != j:
                    mark[k] = j
                    indices[p] = k
                    p += 1
        _sort_segment(indices, indptr[j], p)
    return indptr, indices
