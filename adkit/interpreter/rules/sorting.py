"""JVP rules for sorting and selection: `sort` (one or several operands) and `top_k`.

Both permute their input, so the tangent is the input tangent under the same permutation. For
`sort` the tangents simply ride along as extra operands (only the first `num_keys` operands
decide the order), so the JVP of a sort is one sort; `top_k` gathers the tangent at the indices
it returns.
"""

from __future__ import annotations

from jax import lax

from .._zeros import Zero, is_zero
from ._table import register_jvp


@register_jvp(lax.sort_p)
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    # d sort(x) = P dx, P the sorting permutation: the tangents are sorted along as non-keys
    carried = [t for t in tangents if not is_zero(t)]
    outs = lax.sort_p.bind(
        *primals, *carried, dimension=dimension, is_stable=is_stable, num_keys=num_keys
    )
    n = len(primals)
    sorted_tangents = iter(outs[n:])
    tangent_outs = [
        Zero.like(out) if is_zero(t) else next(sorted_tangents)
        for out, t in zip(outs[:n], tangents, strict=True)
    ]
    return list(outs[:n]), tangent_outs


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


@register_jvp(lax.top_k_p)
def _top_k_jvp(primals, tangents, *, k, axis):
    # d top_k(x) = dx at the selected indices; the indices have a zero tangent
    (x,), (t,) = primals, tangents
    values, indices = lax.top_k_p.bind(x, k=k, axis=axis)
    return [values, indices], [_take_along(t, indices, axis), Zero.like(indices)]
