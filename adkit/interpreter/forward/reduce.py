"""Forward mode through the generic `reduce` and `reduce_window`, which run a user computation ⊕.

Their JVP runs jvp(⊕), itself a monoid on (value, tangent) pairs, as the computation: a pairwise
tree of jvp(⊕) for `reduce`, `reduce_window(jvp ⊕)` for the windowed one.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from ... import _jax_compat as jc
from .._eval import eval_closed
from .._registry import JVP_RULES
from .._zeros import instantiate, is_zero
from ..rules.jvp.reductions import merge_axes
from .engine import (
    jvp_jaxpr,
    merge_tangents,
)


def monoid_jvp(closed, primals, tangents):
    """`jvp(⊕)` of a monoid `⊕` given as a closed jaxpr (accumulators..., elements...) -> outs.

    Returns `(computation, operands, init_tangents, nonzero)`: `computation(a, b)` combines two
    tuples (primal values..., tangents...) and is again a monoid, with identity
    (identity of ⊕, 0); `operands` are the primals followed by the tangents it carries. Only the
    operands in `nonzero` carry a tangent; the set grows until ⊕ maps it into itself.
    """
    n = len(primals)
    nonzero = [not is_zero(t) for t in tangents]
    while True:
        _, out = jvp_jaxpr(closed, (*nonzero, *nonzero))
        widened = [a or b for a, b in zip(nonzero, out, strict=True)]
        if widened == nonzero:
            break
        nonzero = widened
    rule, _ = jvp_jaxpr(closed, (*nonzero, *nonzero), tuple(nonzero))

    def computation(a, b):
        outs = eval_closed(rule, [*a[:n], *b[:n], *a[n:], *b[n:]])
        return tuple(outs)

    carried = [instantiate(t) for t, nz in zip(tangents, nonzero, strict=True) if nz]
    init_tangents = [np.zeros((), t.dtype) for t in carried]
    return computation, [*primals, *carried], init_tangents, nonzero


def check_init_tangents(init_tangents, name, error=NotImplementedError):
    """Refuses tangents for the initial values, as JAX does (with JAX's exception type)."""
    if not all(is_zero(t) for t in init_tangents):
        raise error(
            f"adkit cannot differentiate the primitive `{name}` with respect to its initial "
            "values (the initial value must be the identity of the computation, so it has no "
            "well-defined derivative); JAX does not support this either."
        )


@JVP_RULES.register(lax.reduce_p)
def _reduce_jvp(primals, tangents, *, computation, jaxpr, dimensions):
    # jvp(reduce(⊕)) = a pairwise tree of jvp(⊕) over (x, dx) (the order JAX uses): the
    # reduced axes are merged into one, which is halved until one element is left, an odd
    # length padded with the identity (tangent 0). Unlike one reduce over (x, dx) operands,
    # the tree keeps the primal outputs free of tangents, so reverse mode can transpose it.
    del computation
    n = len(primals) // 2
    check_init_tangents(tangents[n:], "reduce")
    operands, inits = primals[:n], primals[n:]
    fn, carried, zeros, nonzero = monoid_jvp(jaxpr, operands, tangents[:n])
    kept = [d for d in range(operands[0].ndim) if d not in dimensions]
    merged = [merge_axes(v, kept, dimensions) for v in carried]
    outs = _tree_reduce(fn, merged, [*inits, *zeros])
    return list(outs[:n]), merge_tangents(outs[:n], nonzero, outs[n:])


def _tree_reduce(fn, values, identities):
    """Reduces the last axis of every array in `values` jointly with the monoid `fn`."""
    axis = values[0].ndim - 1
    size = values[0].shape[axis]
    if size == 0:
        shape = values[0].shape[:axis]
        return [lax.broadcast_in_dim(i, shape, ()) for i in identities]
    while size > 1:
        half = (size + 1) // 2
        first = [lax.slice_in_dim(v, 0, half, axis=axis) for v in values]
        second = [lax.slice_in_dim(v, half, size, axis=axis) for v in values]
        if size % 2:
            config = [(0, 0, 0)] * axis + [(0, 1, 0)]
            second = [lax.pad(v, i, config) for v, i in zip(second, identities, strict=True)]
        values = _elementwise(fn, first, second)
        size = half
    return [lax.squeeze(v, (axis,)) for v in values]


def _elementwise(fn, first, second):
    """fn applied element by element to two tuples of equally shaped arrays."""
    shape, m = first[0].shape, len(first)
    flat = [lax.reshape(v, (int(np.prod(shape)),)) for v in (*first, *second)]
    outs = jax.vmap(lambda *xs: fn(xs[:m], xs[m:]))(*flat)
    return [lax.reshape(v, shape) for v in outs]


# --- the generic reduce_window ---
@JVP_RULES.register(lax.reduce_window_p)
def _reduce_window_jvp(primals, tangents, *, jaxpr, consts, **window):
    # jvp(reduce_window(⊕)) = reduce_window(jvp ⊕) over (x, dx) with initial values (identity, 0)
    n = len(primals) // 2
    check_init_tangents(tangents[n:], "reduce_window", TypeError)
    closed = jc.ClosedJaxpr(jaxpr, consts) if consts else jc.close_jaxpr(jaxpr)
    operands, inits = primals[:n], primals[n:]
    fn, carried, zeros, nonzero = monoid_jvp(closed, operands, tangents[:n])
    outs = lax.reduce_window(tuple(carried), (*inits, *zeros), fn, **window)
    return list(outs[:n]), merge_tangents(outs[:n], nonzero, outs[n:])
