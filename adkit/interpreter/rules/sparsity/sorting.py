"""Sparsity of sorting: an output element may come from any element along the sorted axis.

`sort` permutes each line along its dimension by a data-dependent permutation (the other
operands follow the keys); `top_k` picks from the last axis. Output element (..., k, ...)
depends on every element (..., j, ...) of the same line, in every operand.
"""

from __future__ import annotations

import numpy as np

from ..._registry import SPARSITY_RULES
from ._sets import combine, union, unknown, with_matrix


def along_axis(operand, axis: int, out_shape):
    """Out element (..., k, ...) gets the union of the operand's line (..., :, ...)."""
    ids = np.moveaxis(np.arange(operand.size).reshape(operand.shape), axis, -1)
    out_ids = np.moveaxis(
        np.arange(int(np.prod(out_shape, dtype=np.int64))).reshape(out_shape), axis, -1
    )
    groups = np.broadcast_to(out_ids[..., :, None], (*out_ids.shape, ids.shape[-1]))
    members = np.broadcast_to(ids[..., None, :], groups.shape)
    return combine(groups, members, out_ids.size, operand.matrix)


@SPARSITY_RULES.register("sort")
def sort(operands, out_avals, *, dimension, **_):
    # out_i[..., k, ...] = operand_i[..., π(k), ...] with π depending on the keys
    shape = operands[0].shape
    line = union(*(along_axis(o, dimension, shape) for o in operands))
    return [with_matrix(shape, line) for _ in out_avals]


@SPARSITY_RULES.register("top_k")
def top_k(operands, out_avals, **_):
    # values[..., k] = x[..., π(k)]; the indices are integers (no dependence)
    (x,) = operands
    values = with_matrix(out_avals[0].shape, along_axis(x, len(x.shape) - 1, out_avals[0].shape))
    return [values, unknown(out_avals[1].shape, x.num_inputs)]


@SPARSITY_RULES.register("fft")
def fft(operands, out_avals, *, fft_lengths, **_):
    # a discrete Fourier transform mixes every element of its trailing axes
    (x,) = operands
    axes = len(fft_lengths)
    rank = len(x.shape)
    lead = x.shape[: rank - axes]
    out_shape = out_avals[0].shape
    merged_in = x.size // max(int(np.prod(lead, dtype=np.int64)), 1)
    merged_out = int(np.prod(out_shape[rank - axes :], dtype=np.int64))
    lines = int(np.prod(lead, dtype=np.int64))
    ids = np.arange(x.size).reshape(lines, 1, merged_in)
    out_ids = np.arange(lines * merged_out).reshape(lines, merged_out, 1)
    groups = np.broadcast_to(out_ids, (lines, merged_out, merged_in))
    members = np.broadcast_to(ids, groups.shape)
    return [with_matrix(out_shape, combine(groups, members, lines * merged_out, x.matrix))]
