"""Transpose rules for indexing: gather and the linear scatters.

Reading elements at indices and adding values at indices are transposes of each other:
<gather(t, i), c> = <t, scatter_add(0, i, c)>, with the same window layout and the same
treatment of out-of-bounds indices (dropped writes mirror filled reads, clamped writes mirror
clamped reads). Overwriting (`scatter` with unique indices) keeps the cotangent of the
operand outside the written locations and gives the updates what was read back there.
"""

from __future__ import annotations

from jax import lax

from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_undefined
from ..jvp.indexing import read_back
from ._util import aval_of, materialize, zeros


def _scatter_numbers(gather_numbers):
    """The scatter layout writing back where a gather with `gather_numbers` reads."""
    return lax.ScatterDimensionNumbers(
        update_window_dims=gather_numbers.offset_dims,
        inserted_window_dims=gather_numbers.collapsed_slice_dims,
        scatter_dims_to_operand_dims=gather_numbers.start_index_map,
        operand_batching_dims=gather_numbers.operand_batching_dims,
        scatter_indices_batching_dims=gather_numbers.start_indices_batching_dims,
    )


@TRANSPOSE_RULES.register(lax.gather_p)
def _gather_transpose(
    ct,
    x,
    indices,
    *,
    dimension_numbers,
    slice_sizes,
    indices_are_sorted,
    unique_indices,
    mode,
    fill_value,
):
    # gather(t, i) transposes to scatter_add(0, i, c): every read element collects the
    # cotangent of each output that read it (filled out-of-bounds reads send nothing back)
    del slice_sizes, fill_value
    t_x = lax.scatter_add(
        zeros(x.aval),
        indices,
        materialize(ct),
        _scatter_numbers(dimension_numbers),
        indices_are_sorted=indices_are_sorted,
        unique_indices=unique_indices,
        mode=mode,
    )
    return [t_x, None]


def _additive_scatter_transpose(sign):
    def rule(ct, x, indices, updates, *, dimension_numbers, mode, **params):
        # scatter_add(t, i, u) = t + Σ_writes u transposes to c -> (c, ±gather(c, i))
        ct = materialize(ct)
        t_x = ct if is_undefined(x) else None
        t_u = None
        if is_undefined(updates):
            u_shape = aval_of(updates).shape
            t_u = read_back(ct, indices, u_shape, dimension_numbers, mode)
            t_u = lax.neg(t_u) if sign < 0 else t_u
        return [t_x, None, t_u]

    return rule


TRANSPOSE_RULES.register(lax.scatter_add_p, _additive_scatter_transpose(+1))
TRANSPOSE_RULES.register(lax.scatter_sub_p, _additive_scatter_transpose(-1))


@TRANSPOSE_RULES.register(lax.scatter_p)
def _scatter_transpose(ct, x, indices, updates, *, dimension_numbers, mode, **params):
    # with unique indices scatter(t, i, u) keeps t outside the written locations and puts u
    # there: it transposes to c -> (c with the written locations zeroed, gather(c, i)).
    # (adkit's scatter JVP emits this form only for unique indices.)
    assert params["unique_indices"], "adkit bug: transposing a scatter with repeated indices."
    ct = materialize(ct)
    u_aval = aval_of(updates)
    t_x = t_u = None
    if is_undefined(x):
        t_x = lax.scatter(
            ct,
            indices,
            zeros(u_aval),
            dimension_numbers,
            indices_are_sorted=params["indices_are_sorted"],
            unique_indices=True,
            mode=mode,
        )
    if is_undefined(updates):
        t_u = read_back(ct, indices, u_aval.shape, dimension_numbers, mode)
    return [t_x, None, t_u]


@TRANSPOSE_RULES.register(lax.scatter_mul_p)
def _scatter_mul_transpose(
    ct, x, indices, updates, *, dimension_numbers, indices_are_sorted, unique_indices, mode, **_
):
    # scatter_mul(t, i, u) (u fixed) multiplies each element of t by a fixed factor: a
    # diagonal map, its own transpose: c -> scatter_mul(c, i, u)
    assert not is_undefined(updates), "adkit bug: scatter_mul linear in its updates."
    t_x = lax.scatter_mul(
        materialize(ct),
        indices,
        updates,
        dimension_numbers,
        indices_are_sorted=indices_are_sorted,
        unique_indices=unique_indices,
        mode=mode,
    )
    return [t_x, None, None]


@TRANSPOSE_RULES.register(lax.dynamic_slice_p)
def _dynamic_slice_transpose(ct, x, *indices, slice_sizes):
    # reading a window transposes to writing the cotangent into that window of zeros
    zero = zeros(x.aval)
    return [lax.dynamic_update_slice(zero, materialize(ct), indices), *[None] * len(indices)]


@TRANSPOSE_RULES.register(lax.dynamic_update_slice_p)
def _dynamic_update_slice_transpose(ct, x, update, *indices):
    # the operand keeps the cotangent outside the window; the update reads the window
    ct = materialize(ct)
    update_shape = aval_of(update).shape
    t_x = lax.dynamic_update_slice(ct, zeros(aval_of(update)), indices) if is_undefined(x) else None
    t_update = lax.dynamic_slice(ct, indices, update_shape) if is_undefined(update) else None
    return [t_x, t_update, *[None] * len(indices)]
