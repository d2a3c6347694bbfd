"""The dependency sets' two hot operations, compiled with Numba: a row gather and a row union.

Every structural equation (slice, concatenate, pad, roll, reshape with a transpose) is a row
gather of a dependency matrix, and every element-wise one with two dependent operands a row
union. Written with NumPy they are a dozen whole-array passes each (a repeat, a cumsum, a fancy
index; SciPy's sparse sum), about 80 µs on a 4096-row matrix; compiled, one or two passes, a
few µs. Both read and write CSR arrays (`indptr` and `indices` of one integer dtype, which the
result keeps) and keep each row sorted and free of duplicates when it was. They return the
number of entries as well, counted in int64, so that the caller can tell an int32 result that
overflowed (and redo it in int64).

Numba is imported with this module, that is when the sparsity rules are (by `adkit.sparse`'s
detection); the very first detection after installing compiles these loops (about 1 s) into
the cache beside this file.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def gather_rows(indptr, indices, ids):
    """Row `r` of the result is row `ids[r]` of `(indptr, indices)`, empty where `ids[r] < 0`."""
    rows = ids.size
    new_indptr = np.empty(rows + 1, indices.dtype)
    new_indptr[0] = 0
    total = np.int64(0)
    for r in range(rows):
        i = ids[r]
        if i >= 0:
            total += indptr[i + 1] - indptr[i]
        new_indptr[r + 1] = total
    new_indices = np.empty(total, indices.dtype)
    t = 0
    for r in range(rows):
        i = ids[r]
        if i >= 0:
            for k in range(indptr[i], indptr[i + 1]):
                new_indices[t] = indices[k]
                t += 1
    return new_indptr, new_indices, total


@numba.njit(cache=True, nogil=True)
def merge_rows(indptr_a, indices_a, indptr_b, indices_b):
    """Row `r` of the result is the union of row `r` of `a` and of `b`, both sorted and without
    duplicates (the result is too): a merge, as in merge sort."""
    rows = indptr_a.size - 1
    new_indptr = np.empty(rows + 1, indices_a.dtype)
    new_indptr[0] = 0
    merged = np.empty(indices_a.size + indices_b.size, indices_a.dtype)
    t = np.int64(0)
    for r in range(rows):
        i, i_end = indptr_a[r], indptr_a[r + 1]
        j, j_end = indptr_b[r], indptr_b[r + 1]
        while i < i_end and j < j_end:
            a, b = indices_a[i], indices_b[j]
            if a <= b:
                merged[t] = a
                i += 1
                if a == b:
                    j += 1
            else:
                merged[t] = b
                j += 1
            t += 1
        while i < i_end:
            merged[t] = indices_a[i]
            i += 1
            t += 1
        while j < j_end:
            merged[t] = indices_b[j]
            j += 1
            t += 1
        new_indptr[r + 1] = t
    return new_indptr, merged[:t].copy(), t
