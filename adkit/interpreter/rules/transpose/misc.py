"""Transpose rules for stacking and tiling, placement and scheduling plumbing, and collectives.

Stacking transposes to unstacking (and back); tiling to summing the tiles. Placing a value
(`device_put`, `sharding_constraint`) or fencing it (`optimization_barrier`) is the identity
on its elements, so the cotangent goes back through the same plumbing. Across devices: a sum
over devices (`psum_invariant`) transposes to marking the value as device-varying (`pvary`)
and back; gathering to reduce-scattering and back; a permutation to the inverse permutation;
an all-to-all to the all-to-all with the split and concatenation axes swapped.
"""

from __future__ import annotations

from jax import lax

from .... import _jax_compat as jc
from ..._linear import is_undefined
from ..._zeros import is_zero
from .._table import register_transpose
from ._util import materialize, zeros


# --- stack, unstack, tile ---
@register_transpose(lax.stack_p)
def _stack_transpose(ct, *pieces, axis):
    # pieces -> stack(pieces) transposes to unstacking the cotangent
    cts = lax.unstack_p.bind(materialize(ct), axis=axis)
    return [c if is_undefined(p) else None for p, c in zip(pieces, cts, strict=True)]


@register_transpose(lax.unstack_p)
def _unstack_transpose(cts, x, *, axis):
    # x -> its slices along `axis` transposes to stacking the slices' cotangents
    shape = list(x.aval.shape)
    del shape[axis]
    piece_aval = x.aval.update(shape=tuple(shape))
    pieces = [zeros(piece_aval) if is_zero(c) else c for c in cts]
    return [lax.stack_p.bind(*pieces, axis=axis)]


@register_transpose(lax.tile_p)
def _tile_transpose(ct, x, *, reps):
    # tile(t, reps)[k·n + j] = t[j] per axis transposes to the sum of the tiles of c: view c as
    # (reps_0, n_0, reps_1, n_1, ...) and sum the reps axes
    shape = x.aval.shape
    assert len(reps) == len(shape), "adkit bug: tile with implicit leading axes."
    split = [size for pair in zip(reps, shape, strict=True) for size in pair]
    tiles = lax.reshape(materialize(ct), tuple(split))
    return [lax.reduce_sum(tiles, tuple(range(0, 2 * len(shape), 2)))]


# --- placement and scheduling: identities on the elements ---
@register_transpose(lax.device_put_p)
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


@register_transpose(lax.sharding_constraint_p)
def _sharding_constraint_transpose(ct, x, **params):
    # the identity with a placement: the cotangent is placed the same way
    return [lax.sharding_constraint_p.bind(materialize(ct), **params)]


@register_transpose(lax.optimization_barrier_p)
def _optimization_barrier_transpose(cts, *operands):
    # the identity: the cotangents of the linear operands pass through one barrier together
    linear = [k for k, x in enumerate(operands) if is_undefined(x)]
    through = lax.optimization_barrier_p.bind(*(materialize(cts[k]) for k in linear))
    out = [None] * len(operands)
    for k, value in zip(linear, through, strict=True):
        out[k] = value
    return out


# --- collectives ---
_psum_invariant_p = jc.primitive_by_name("psum_invariant")
_pvary_p = jc.primitive_by_name("pvary")
_all_gather_p = jc.primitive_by_name("all_gather")
_reduce_scatter_p = jc.primitive_by_name("reduce_scatter")
_ppermute_p = jc.primitive_by_name("ppermute")
_all_to_all_p = jc.primitive_by_name("all_to_all")


@register_transpose(_psum_invariant_p)
def _psum_invariant_transpose(ct, x, *, axes):
    # Σ_devices t (the same on every device) transposes to c marked device-varying
    return [_pvary_p.bind(materialize(ct), axes=axes)]


@register_transpose(_pvary_p)
def _pvary_transpose(ct, x, *, axes):
    # copying an invariant value to every device transposes to summing the copies' cotangents
    return [_psum_invariant_p.bind(materialize(ct), axes=axes)]


@register_transpose(_all_gather_p)
def _all_gather_transpose(ct, x, *, all_gather_dimension, axis_name, axis_index_groups,
                          axis_size, tiled):  # fmt: skip
    # every device reads every block: transposes to summing the cotangents of block k on
    # device k, a reduce-scatter along the gathered dimension
    return [
        _reduce_scatter_p.bind(
            materialize(ct),
            scatter_dimension=all_gather_dimension,
            axis_name=axis_name,
            axis_index_groups=axis_index_groups,
            axis_size=axis_size,
            tiled=tiled,
        )
    ]


@register_transpose(_reduce_scatter_p)
def _reduce_scatter_transpose(ct, x, *, scatter_dimension, axis_name, axis_index_groups,
                              axis_size, tiled):  # fmt: skip
    # device k receives Σ_devices block k: transposes to every device gathering all blocks
    return [
        _all_gather_p.bind(
            materialize(ct),
            all_gather_dimension=scatter_dimension,
            axis_name=axis_name,
            axis_index_groups=axis_index_groups,
            axis_size=axis_size,
            tiled=tiled,
        )
    ]


@register_transpose(_ppermute_p)
def _ppermute_transpose(ct, x, *, axis_name, perm):
    # sending src -> dst transposes to sending the cotangent back, dst -> src
    inverse = tuple((dst, src) for src, dst in perm)
    return [_ppermute_p.bind(materialize(ct), axis_name=axis_name, perm=inverse)]


@register_transpose(_all_to_all_p)
def _all_to_all_transpose(ct, x, *, split_axis, concat_axis, axis_name, axis_index_groups,
                          tiled):  # fmt: skip
    # splitting along a and concatenating along b transposes to splitting along b and
    # concatenating along a
    return [
        _all_to_all_p.bind(
            materialize(ct),
            split_axis=concat_axis,
            concat_axis=split_axis,
            axis_name=axis_name,
            axis_index_groups=axis_index_groups,
            tiled=tiled,
        )
    ]
