"""VJP rules (tape path of reverse mode): structural primitives.

Reshaping, broadcasting, transposing, slicing, padding, concatenating, stacking, splitting,
tiling and placing values on devices are linear maps of the array elements, so the VJP of each
is its transpose: the cotangent moves back to where the elements came from (reshape back,
transpose by the inverse permutation, pad a slice back into place, sum over broadcast
dimensions, ...). Index and shape operands (the start indices of `dynamic_slice`, the dynamic
sizes of `reshape`) get no cotangent.
"""

from __future__ import annotations

from jax import lax

from ._derive import from_transpose

# x̄ = Lᵀ ȳ for each linear map L (the transpose rules in rules/transpose/structural.py and
# rules/transpose/misc.py):
#   reshape, squeeze: ȳ reshaped back           transpose: ȳ transposed by the inverse permutation
#   rev: ȳ reversed                             broadcast_in_dim: ȳ summed over the new dimensions
#   slice: ȳ padded back into place with zeros  pad: ȳ cropped (x̄) and the rest summed (v̄)
#   concatenate, stack: the pieces of ȳ          split, unstack: the pieces' ȳ joined together
#   tile: the sum of the tiles of ȳ             device_put: ȳ put back where x came from
#   dynamic_slice: ȳ written into a window of zeros
#   dynamic_update_slice: x̄ = ȳ with the window zeroed, ū = the window of ȳ
for _p in (
    lax.reshape_p,
    lax.squeeze_p,
    lax.transpose_p,
    lax.rev_p,
    lax.broadcast_in_dim_p,
    lax.slice_p,
    lax.pad_p,
    lax.concatenate_p,
    lax.split_p,
    lax.stack_p,
    lax.unstack_p,
    lax.tile_p,
    lax.device_put_p,
    lax.dynamic_slice_p,
    lax.dynamic_update_slice_p,
):
    from_transpose(_p)
