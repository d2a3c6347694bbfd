"""Transpose rules for structural linear maps and the linear reductions.

Moving elements around transposes to moving them back: reshape to the old shape, transpose by
the inverse permutation, slice to the pad that puts elements back in place (and pad to the
slice), broadcast to the sum over the broadcast dimensions, sum to the broadcast.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._linear import is_undefined
from .._table import register_transpose
from ._util import aval_of, materialize, zeros


@register_transpose(lax.reshape_p)
def _reshape_transpose(ct, x, *dyn, new_sizes, dimensions, sharding):
    # reshape back; with `dimensions`, the input was transposed first: undo that too
    ct = materialize(ct)
    if dimensions is None:
        return [lax.reshape(ct, x.aval.shape), *[None] * len(dyn)]
    permuted = lax.reshape(ct, [x.aval.shape[d] for d in dimensions])
    return [lax.transpose(permuted, tuple(np.argsort(dimensions))), *[None] * len(dyn)]


@register_transpose(lax.squeeze_p)
def _squeeze_transpose(ct, x, *, dimensions):
    return [lax.reshape(materialize(ct), x.aval.shape)]


@register_transpose(lax.transpose_p)
def _transpose_transpose(ct, x, *, permutation):
    return [lax.transpose(materialize(ct), tuple(np.argsort(permutation)))]


@register_transpose(lax.rev_p)
def _rev_transpose(ct, x, *, dimensions):
    return [lax.rev(materialize(ct), dimensions)]


@register_transpose(lax.broadcast_in_dim_p)
def _broadcast_in_dim_transpose(ct, x, *dyn, shape, broadcast_dimensions, sharding):
    # sum over the new dimensions and over the size-1 dimensions that were stretched
    in_shape = x.aval.shape
    new = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    stretched = [
        out_dim
        for in_dim, out_dim in enumerate(broadcast_dimensions)
        if in_shape[in_dim] == 1 and shape[out_dim] != 1
    ]
    summed = lax.reduce_sum(materialize(ct), tuple(sorted(new + stretched)))
    return [lax.reshape(summed, in_shape), *[None] * len(dyn)]


@register_transpose(lax.reduce_sum_p)
def _reduce_sum_transpose(ct, x, *, axes, out_sharding=None):
    # Σ over axes transposes to broadcasting back along them
    kept = [d for d in range(len(x.aval.shape)) if d not in axes]
    return [lax.broadcast_in_dim(materialize(ct), x.aval.shape, kept)]


@register_transpose(lax.cumsum_p)
def _cumsum_transpose(ct, x, *, axis, reverse):
    # prefix sums transpose to suffix sums
    return [lax.cumsum(materialize(ct), axis, reverse=not reverse)]


@register_transpose(lax.concatenate_p)
def _concatenate_transpose(ct, *operands, dimension):
    # each linear piece gets its slice of the cotangent
    ct = materialize(ct)
    out, start = [], 0
    for x in operands:
        size = aval_of(x).shape[dimension]
        if is_undefined(x):
            starts = [0] * ct.ndim
            limits = list(ct.shape)
            starts[dimension], limits[dimension] = start, start + size
            out.append(lax.slice(ct, starts, limits))
        else:
            out.append(None)
        start += size
    return out


@register_transpose(lax.split_p)
def _split_transpose(cts, x, *, sizes, axis):
    # pieces transpose to their concatenation
    pieces = [materialize(ct) for ct in cts]
    return [lax.concatenate(pieces, axis)]


@register_transpose(lax.slice_p)
def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    # a slice transposes to padding the cotangent back into place, zeros elsewhere
    shape = x.aval.shape
    strides = strides or (1,) * len(shape)
    ct = materialize(ct)
    config = []
    for d, (start, stride) in enumerate(zip(start_indices, strides, strict=True)):
        last = start + (ct.shape[d] - 1) * stride if ct.shape[d] else start - 1
        config.append((start, shape[d] - last - 1, stride - 1))
    return [lax.pad(ct, np.zeros((), ct.dtype), config)]


@register_transpose(lax.pad_p)
def _pad_transpose(ct, x, padding_value, *, padding_config):
    # the operand's elements are read back (crop the padding, keep every interior+1-th);
    # the padding value collects the cotangent of every padded position
    ct = materialize(ct)
    unpadded = lax.pad(ct, np.zeros((), ct.dtype), [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    strides = [interior + 1 for _, _, interior in padding_config]
    t_operand = lax.slice(unpadded, [0] * ct.ndim, unpadded.shape, strides)
    out = [t_operand if is_undefined(x) else None]
    if is_undefined(padding_value):
        total = lax.reduce_sum(ct, tuple(range(ct.ndim)))
        out.append(total - lax.reduce_sum(t_operand, tuple(range(ct.ndim))))
    else:
        out.append(None)
    return out


@register_transpose(lax.dynamic_slice_p)
def _dynamic_slice_transpose(ct, x, *indices, slice_sizes):
    # reading a window transposes to writing the cotangent into that window of zeros
    zero = zeros(x.aval)
    return [lax.dynamic_update_slice(zero, materialize(ct), indices), *[None] * len(indices)]


@register_transpose(lax.dynamic_update_slice_p)
def _dynamic_update_slice_transpose(ct, x, update, *indices):
    # the operand keeps the cotangent outside the window; the update reads the window
    ct = materialize(ct)
    update_shape = aval_of(update).shape
    t_x = lax.dynamic_update_slice(ct, zeros(aval_of(update)), indices) if is_undefined(x) else None
    t_update = lax.dynamic_slice(ct, indices, update_shape) if is_undefined(update) else None
    return [t_x, t_update, *[None] * len(indices)]


@register_transpose(lax.dot_general_p)
def _dot_general_transpose(ct, x, y, *, dimension_numbers, precision, preferred_element_type,
                           out_sharding=None):  # fmt: skip
    # t -> dot(t, y) transposes to c -> dot(c, y) contracted over y's free dimensions and put
    # back in t's dimension order; symmetrically for the second operand
    (cx, cy), (bx, by) = dimension_numbers
    ct = materialize(ct)
    x_aval, y_aval = aval_of(x), aval_of(y)
    if is_undefined(x):
        t_x = _dot_back(ct, y, x_aval.ndim, y_aval.ndim, cx, cy, bx, by, first=True,
                        precision=precision, dtype=x_aval.dtype)  # fmt: skip
        return [t_x, None]
    t_y = _dot_back(ct, x, y_aval.ndim, x_aval.ndim, cy, cx, by, bx, first=False,
                    precision=precision, dtype=y_aval.dtype)  # fmt: skip
    return [None, t_y]


def _dot_back(ct, other, nd_self, nd_other, c_self, c_other, b_self, b_other, *, first,
              precision, dtype):  # fmt: skip
    """The cotangent of one operand of dot_general from the output's and the other operand."""
    free_self = [d for d in range(nd_self) if d not in c_self and d not in b_self]
    free_other = [d for d in range(nd_other) if d not in c_other and d not in b_other]
    nb = len(b_self)
    # output dims: batch, then the first operand's free dims, then the second's
    ct_free_self = (
        list(range(nb, nb + len(free_self)))
        if first
        else list(range(nb + len(free_other), nb + len(free_other) + len(free_self)))
    )
    ct_free_other = (
        list(range(nb + len(free_self), nb + len(free_self) + len(free_other)))
        if first
        else list(range(nb, nb + len(free_other)))
    )
    dims = ((ct_free_other, free_other), (list(range(nb)), list(b_other)))
    if isinstance(precision, tuple) and not first:
        precision = precision[::-1]
    result = lax.dot_general(ct, other, dims, precision=precision)
    # result dims: batch, self's free dims, then other's contracting dims in ascending order
    remaining_other = [d for d in range(nd_other) if d not in free_other and d not in b_other]
    as_self = [*b_self, *free_self, *[c_self[list(c_other).index(d)] for d in remaining_other]]
    del ct_free_self
    result = lax.transpose(result, tuple(np.argsort(as_self)))
    return lax.convert_element_type(result, dtype) if result.dtype != dtype else result
