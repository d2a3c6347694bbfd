"""JVP rules for sorting and selection: `sort` (one or several operands) and `top_k`.

Both permute their input, so the tangent is the input tangent under the same permutation. For
`sort` the permutation comes from an iota sorted along as an extra, non-key operand (only the
first `num_keys` operands decide the order); `top_k` returns its indices. The tangents are then
gathered at those indices.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._registry import JVP_RULES
from ..._zeros import Zero, is_zero


@JVP_RULES.register(lax.sort_p)
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    # d sort(x) = P dx, P the sorting permutation: an iota sorted along as a non-key gives P,
    # and each tangent is gathered with it (a gather is linear, so reverse mode can transpose
    # it; sorting the tangents themselves along would tie them to the primal outputs)
    shape = primals[0].shape
    iota = lax.broadcasted_iota(np.int32, shape, dimension)
    outs = lax.sort_p.bind(
        *primals, iota, dimension=dimension, is_stable=is_stable, num_keys=num_keys
    )
    *outs, permutation = outs
    tangent_outs = [
        Zero.like(out) if is_zero(t) else _take_along(t, permutation, dimension)
        for out, t in zip(outs, tangents, strict=True)
    ]
    return outs, tangent_outs


def _take_along(t, indices, axis):
    """t[..., indices[..., j, ...], ...] along `axis`: a gather batched over the other axes."""
    others = tuple(d for d in range(t.ndim) if d != axis)
    numbers = lax.GatherDimensionNumbers(
        offset_dims=(),
        collapsed_slice_dims=(axis,),
        start_index_map=(axis,),
        operand_batching_dims=others,
        start_indices_batching_dims=others,
    )
    starts = lax.expand_dims(indices, (indices.ndim,))
    return lax.gather(
        t, starts, numbers, (1,) * t.ndim, mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS
    )


@JVP_RULES.register(lax.top_k_p)
def _top_k_jvp(primals, tangents, *, k, axis):
    # d top_k(x) = dx at the selected indices; the indices have a zero tangent
    (x,), (t,) = primals, tangents
    values, indices = lax.top_k_p.bind(x, k=k, axis=axis)
    return [values, indices], [_take_along(t, indices, axis), Zero.like(indices)]
