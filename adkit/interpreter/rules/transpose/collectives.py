"""Transpose rules for the collectives inside `shard_map`.

A sum over devices (`psum_invariant`) transposes to marking the value as device-varying (`pvary`)
and back; gathering to reduce-scattering and back; a permutation to the inverse permutation;
an all-to-all to the all-to-all with the split and concatenation axes swapped.
"""

from __future__ import annotations

from .... import _jax_compat as jc
from ..._registry import TRANSPOSE_RULES
from ._util import materialize

_psum_invariant_p = jc.primitive_by_name("psum_invariant")
_pvary_p = jc.primitive_by_name("pvary")
_all_gather_p = jc.primitive_by_name("all_gather")
_reduce_scatter_p = jc.primitive_by_name("reduce_scatter")
_ppermute_p = jc.primitive_by_name("ppermute")
_all_to_all_p = jc.primitive_by_name("all_to_all")


@TRANSPOSE_RULES.register(_psum_invariant_p)
def _psum_invariant_transpose(ct, x, *, axes):
    # Σ_devices t (the same on every device) transposes to c marked device-varying
    return [_pvary_p.bind(materialize(ct), axes=axes)]


@TRANSPOSE_RULES.register(_pvary_p)
def _pvary_transpose(ct, x, *, axes):
    # copying an invariant value to every device transposes to summing the copies' cotangents
    return [_psum_invariant_p.bind(materialize(ct), axes=axes)]


def _swap_gather_and_scatter(to, dimension_param):
    """The transpose of all_gather (a reduce_scatter along the gathered dimension) or of
    reduce_scatter (an all_gather along the scattered one): the other, with the same groups."""

    def rule(ct, x, *, axis_name, axis_index_groups, axis_size, tiled, **dimension):
        [dim] = dimension.values()
        groups = dict(axis_name=axis_name, axis_index_groups=axis_index_groups)
        return [
            to.bind(
                materialize(ct),
                **{dimension_param: dim},
                **groups,
                axis_size=axis_size,
                tiled=tiled,
            )
        ]

    return rule


# every device reads every block: transposes to summing the cotangents of block k on device k
TRANSPOSE_RULES.register(
    _all_gather_p, _swap_gather_and_scatter(_reduce_scatter_p, "scatter_dimension")
)
# device k receives Σ_devices block k: transposes to every device gathering all blocks
TRANSPOSE_RULES.register(
    _reduce_scatter_p, _swap_gather_and_scatter(_all_gather_p, "all_gather_dimension")
)


@TRANSPOSE_RULES.register(_ppermute_p)
def _ppermute_transpose(ct, x, *, axis_name, perm):
    # sending src -> dst transposes to sending the cotangent back, dst -> src
    inverse = tuple((dst, src) for src, dst in perm)
    return [_ppermute_p.bind(materialize(ct), axis_name=axis_name, perm=inverse)]


@TRANSPOSE_RULES.register(_all_to_all_p)
def _all_to_all_transpose(ct, x, *, split_axis, concat_axis, axis_name, axis_index_groups, tiled):
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
