"""Transpose rules for structural linear maps: moving, copying and placing elements.

Moving elements around transposes to moving them back: reshape to the old shape, transpose by
the inverse permutation, slice to the pad that puts elements back in place (and pad to the
slice), broadcast to the sum over the broadcast dimensions; stacking to unstacking (and back);
tiling to summing the tiles. Placing a value (`device_put`, `sharding_constraint`) is the
identity on its elements, so the cotangent goes back through the same placement.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_undefined, is_zero
from ._util import aval_of, materialize, zeros


@TRANSPOSE_RULES.register(lax.reshape_p)
def _reshape_transpose(ct, x, *dyn, new_sizes, dimensions, sharding):
    # reshape back; with `dimensions`, the input was transposed first: undo that too
    ct = materialize(ct)
    if dimensions is None:
        return [lax.reshape(ct, x.aval.shape), *[None] * len(dyn)]
    permuted = lax.reshape(ct, [x.aval.shape[d] for d in dimensions])
    return [lax.transpose(permuted, tuple(np.argsort(dimensions))), *[None] * len(dyn)]


@TRANSPOSE_RULES.register(lax.squeeze_p)
def _squeeze_transpose(ct, x, *, dimensions):
    return [lax.reshape(materialize(ct), x.aval.shape)]


@TRANSPOSE_RULES.register(lax.transpose_p)
def _transpose_transpose(ct, x, *, permutation):
    return [lax.transpose(materialize(ct), tuple(np.argsort(permutation)))]


@TRANSPOSE_RULES.register(lax.rev_p)
def _rev_transpose(ct, x, *, dimensions):
    return [lax.rev(materialize(ct), dimensions)]


@TRANSPOSE_RULES.register(lax.broadcast_in_dim_p)
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


@TRANSPOSE_RULES.register(lax.concatenate_p)
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


@TRANSPOSE_RULES.register(lax.split_p)
def _split_transpose(cts, x, *, sizes, axis):
    # pieces transpose to their concatenation
    pieces = [materialize(ct) for ct in cts]
    return [lax.concatenate(pieces, axis)]


@TRANSPOSE_RULES.register(lax.slice_p)
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


@TRANSPOSE_RULES.register(lax.pad_p)
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


# --- stack, unstack, tile ---
@TRANSPOSE_RULES.register(lax.stack_p)
def _stack_transpose(ct, *pieces, axis):
    # pieces -> stack(pieces) transposes to unstacking the cotangent
    cts = lax.unstack_p.bind(materialize(ct), axis=axis)
    return [c if is_undefined(p) else None for p, c in zip(pieces, cts, strict=True)]


@TRANSPOSE_RULES.register(lax.unstack_p)
def _unstack_transpose(cts, x, *, axis):
    # x -> its slices along `axis` transposes to stacking the slices' cotangents
    shape = list(x.aval.shape)
    del shape[axis]
    piece_aval = x.aval.update(shape=tuple(shape))
    pieces = [zeros(piece_aval) if is_zero(c) else c for c in cts]
    return [lax.stack_p.bind(*pieces, axis=axis)]


@TRANSPOSE_RULES.register(lax.tile_p)
def _tile_transpose(ct, x, *, reps):
    # tile(t, reps)[k·n + j] = t[j] per axis transposes to the sum of the tiles of c: view c as
    # (reps_0, n_0, reps_1, n_1, ...) and sum the reps axes
    shape = x.aval.shape
    assert len(reps) == len(shape), "adkit bug: tile with implicit leading axes."
    split = [size for pair in zip(reps, shape, strict=True) for size in pair]
    tiles = lax.reshape(materialize(ct), tuple(split))
    return [lax.reduce_sum(tiles, tuple(range(0, 2 * len(shape), 2)))]


# --- placement and scheduling: identities on the elements ---
@TRANSPOSE_RULES.register(lax.device_put_p)
def _device_put_transpose(cts, *operands, devices, srcs, copy_semantics):
    # device_put from srcs to devices transposes to device_put from devices back to srcs,
    # operand by operand (symbolic zeros stay symbolic)
    out = []
    for k, (x, ct) in enumerate(zip(operands, cts, strict=True)):
        if not is_undefined(x) or is_zero(ct):
            out.append(None)
            continue
        (back,) = lax.device_put_p.bind(
            ct, devices=(srcs[k],), srcs=(devices[k],), copy_semantics=(copy_semantics[k],)
        )
        out.append(back)
    return out


@TRANSPOSE_RULES.register(lax.sharding_constraint_p)
def _sharding_constraint_transpose(ct, x, **params):
    # the identity with a placement: the cotangent is placed the same way
    return [lax.sharding_constraint_p.bind(materialize(ct), **params)]
