"""Sparsity of the structural primitives: each output element is one input element (or none).

Every rule here is an index map (`_maps.py`): the primitive's own data movement, applied with
NumPy (or the primitive itself) to the operands' element indices.
"""

from __future__ import annotations

import numpy as np

from ..._registry import SPARSITY_RULES
from ._maps import index_map


def _reshape(x, *, new_sizes, dimensions=None, **_):
    # reshape moves nothing in row-major order: element e stays element e
    return np.reshape(x if dimensions is None else np.transpose(x, dimensions), new_sizes)


def _broadcast(x, *, shape, broadcast_dimensions, **_):
    # out[..., i_d, ...] = x[i_{broadcast_dimensions}]: x's axes placed, size-1 axes stretched
    expanded = [1] * len(shape)
    for axis, dim in enumerate(broadcast_dimensions):
        expanded[dim] = x.shape[axis]
    return np.broadcast_to(np.reshape(x, expanded), shape)


def _slice(x, *, start_indices, limit_indices, strides=None, **_):
    strides = strides or (1,) * x.ndim
    return x[tuple(map(slice, start_indices, limit_indices, strides))]


def _concatenate(*xs, dimension):
    return np.concatenate(xs, axis=dimension)


def _split(x, *, sizes, axis):
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _pad(x, value, *, padding_config):
    # lax.pad, axis by axis: `interior` copies of the value between neighbours, then `lo` and
    # `hi` of them at the ends (a negative `lo` or `hi` crops instead); the value is operand 1
    out = np.asarray(x)
    fill = np.asarray(value).reshape(())
    for axis, (lo, hi, interior) in enumerate(padding_config):
        n = out.shape[axis]
        core = n + max(n - 1, 0) * interior
        shape = list(out.shape)
        shape[axis] = max(lo, 0) + core + max(hi, 0)
        grown = np.full(shape, fill, dtype=out.dtype)
        where = [slice(None)] * out.ndim
        where[axis] = slice(max(lo, 0), max(lo, 0) + core, interior + 1)
        grown[tuple(where)] = out
        where[axis] = slice(max(-lo, 0), shape[axis] - max(-hi, 0))
        out = grown[tuple(where)]
    return out


def _same(x, **_):
    return x


for _name, _move in {
    "reshape": _reshape,
    "broadcast_in_dim": _broadcast,
    "transpose": lambda x, *, permutation: np.transpose(x, permutation),
    "squeeze": lambda x, *, dimensions: np.squeeze(x, axis=tuple(dimensions)),
    "rev": lambda x, *, dimensions: np.flip(x, axis=tuple(dimensions)),
    "slice": _slice,
    "concatenate": _concatenate,
    "split": _split,
    "stack": lambda *xs, axis: np.stack(xs, axis=axis),
    "unstack": lambda x, *, axis: list(np.moveaxis(x, axis, 0)),
    "tile": lambda x, *, reps: np.tile(x, reps),
    "pad": _pad,
    "copy": _same,
    "device_put": lambda *xs, **_: list(xs),
    "sharding_constraint": _same,
    "reduce_precision": _same,  # rounds each element: the same element, the same dependence
    "optimization_barrier": lambda *xs: list(xs),
}.items():
    SPARSITY_RULES.register(_name, index_map(_move))
