"""Decompression: the compressed products to the Jacobian's entries, through one gather.

The recovery (`_recovery.py`) says, for each entry of the pattern, where its value sits in the
flat compressed products `concat(B.ravel(), C.ravel())`. For column, row, star and bidirectional
colorings that is one position per entry, so decompression is one gather; an acyclic coloring
adds a weighted segment sum (each entry a signed sum along a two-colored tree).

Where no element holds two entries (column, row and bidirectional colorings), a BCOO needs no
gather at all: the flat products are its data as they stand, and the precomputed index array
names the entry each element holds (an out-of-range row for an element that holds none).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from jax.experimental import sparse as jsparse

OUTPUTS = ("bcoo", "bcsr", "dense", "scipy")


def check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise ValueError(f"`output` must be one of {OUTPUTS}, but received {output!r}.")


def entry_values(flat, index, entry, weight, nnz: int, direct: bool):
    """The pattern's values, in pattern order, from the flat compressed products."""
    if direct:
        return flat[index]
    return jax.ops.segment_sum(weight.astype(flat.dtype) * flat[index], entry, num_segments=nnz)


def assemble_in_place(flat, flat_indices, shape: tuple[int, int], output: str):
    """The Jacobian with the flat compressed products as its data, unmoved (BCOO or dense).

    Element e of `flat` is entry `flat_indices[e]` (a row and a column), or padding where the
    row is out of range (BCOO ignores such entries, and the dense scatter drops them).
    """
    if output == "bcoo":
        return jsparse.BCOO((flat, flat_indices), shape=shape)
    rows, cols = flat_indices[:, 0], flat_indices[:, 1]
    return jnp.zeros(shape, flat.dtype).at[rows, cols].set(flat, mode="drop")


def assemble(values, rows, cols, indptr, shape: tuple[int, int], output: str):
    """The Jacobian in the requested format, from its values at the pattern's entries."""
    if output == "bcoo":
        indices = jnp.stack([rows, cols], axis=-1)
        return jsparse.BCOO(
            (values, indices), shape=shape, indices_sorted=True, unique_indices=True
        )
    if output == "bcsr":
        return jsparse.BCSR((values, cols, indptr), shape=shape)
    if output == "dense":
        return jnp.zeros(shape, values.dtype).at[rows, cols].set(values, unique_indices=True)
    try:
        host = np.asarray(values)
    except jax.errors.TracerArrayConversionError:
        raise TypeError(
            'output="scipy" builds a `scipy.sparse` matrix on the host, which cannot happen '
            'inside `jit`, `vmap` or another transformation. Use output="bcoo" (or "bcsr", '
            '"dense") there, or call outside the transformation.'
        ) from None
    return sp.csr_array((host, (np.asarray(rows), np.asarray(cols))), shape=shape)
