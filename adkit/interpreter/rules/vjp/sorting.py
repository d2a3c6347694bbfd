"""VJP rules (tape path of reverse mode): sorting primitives.

Sorting and `top_k` permute (or select) their input along an axis: y_j = x_{p(j)}. The JVP
gathers the tangent with p; the VJP scatters the cotangent back, x̄_{p(j)} = ȳ_j, and positions
that `top_k` did not select get 0. `sort` finds p on the forward sweep by sorting an iota along
as an extra, non-key operand, and keeps p as its residual; `top_k` returns p as its second
output. (The comparisons of sort's total order, `eq_to`, `le_to`, `lt_to`, are in misc.py, next
to their JVP rules.)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np
from jax import lax

from ..._registry import VJP_RULES


def _put_along(ct, indices, shape, axis):
    """x̄ of shape `shape` with x̄[..., indices[..., j, ...], ...] += ct[..., j, ...] along `axis`:
    the transpose of the gather that took the elements (a scatter-add batched over the other
    axes; the indices along `axis` are distinct)."""
    others = tuple(d for d in range(ct.ndim) if d != axis)
    numbers = lax.ScatterDimensionNumbers(
        update_window_dims=(),
        inserted_window_dims=(axis,),
        scatter_dims_to_operand_dims=(axis,),
        operand_batching_dims=others,
        scatter_indices_batching_dims=others,
    )
    starts = lax.expand_dims(indices, (indices.ndim,))
    return lax.scatter_add(
        lax.full(shape, 0, ct.dtype),
        starts,
        ct,
        numbers,
        unique_indices=True,
        mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS,
    )


# --- sort ---
@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SortPermutation:
    """The residual of `sort`: the permutation p (y_j = x_{p(j)} along the sorted axis)."""

    permutation: Any
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _sort_forward(primals, active, *, dimension, is_stable, num_keys):
    # sort an iota along as the last (non-key) operand: it comes out as the permutation
    iota = lax.broadcasted_iota(np.int32, primals[0].shape, dimension)
    *outs, permutation = lax.sort_p.bind(
        *primals, iota, dimension=dimension, is_stable=is_stable, num_keys=num_keys
    )
    return outs, SortPermutation(permutation, tuple(active))


def _sort_vjp(cts, res, *, dimension, is_stable, num_keys):
    # x̄_{p(j)} = ȳ_j for every operand (all are permuted alike)
    p = res.permutation
    return [
        _put_along(ct, p, p.shape, dimension) if active else None
        for ct, active in zip(cts, res.active, strict=True)
    ]


VJP_RULES.register(lax.sort_p, _sort_vjp, forward=_sort_forward)


# --- top_k ---
@VJP_RULES.register(lax.top_k_p)
def _top_k_vjp(cts, res, *, k, axis):
    # values_j = x_{p(j)} with p the returned indices: x̄_{p(j)} = ȳ_j, 0 where not selected
    (x,), (_, indices) = res.inputs, res.outputs
    return [_put_along(cts[0], indices, x.shape, axis)]
