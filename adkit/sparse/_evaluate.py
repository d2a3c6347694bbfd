"""Compressed evaluation: one linearization, then one JVP (or VJP) per color, batched.

With the columns of one color summed into one seed vector, `J @ seed` holds, in row i, the
single entry of row i among those columns (a column coloring guarantees there is at most one).
So p colors need p JVPs instead of n: a `vmap` of the JVP over the p seeds (the primal part,
unbatched, is computed once), or, `chunk_size` seeds at a time to bound memory, one
`jax.linearize` and a `lax.map` of its linear map. Rows work the same way with VJPs.

The `method` chooses whose transforms compute the products: JAX's (`"jax"`) or adkit's own
interpreter (`"adkit"`), which cross-check each other.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

METHODS = ("jax", "adkit")


def _transforms(method: str):
    if method == "jax":
        return jax.linearize, jax.vjp, jax.grad, jax.jvp
    if method == "adkit":
        from .. import interpreter

        return interpreter.linearize, interpreter.vjp, interpreter.grad, interpreter.jvp
    raise ValueError(f"`method` must be one of {METHODS}, but received {method!r}.")


def _batched(fn: Callable, seeds, chunk_size: int | None):
    """`fn` applied to every row of `seeds`: one vmap, or `chunk_size` rows at a time."""
    if seeds.shape[0] == 0:  # no color: an empty pattern
        out = jax.eval_shape(fn, jnp.zeros(seeds.shape[1:], seeds.dtype))
        return jnp.zeros((0, *out.shape), out.dtype)
    if chunk_size is None or chunk_size >= seeds.shape[0]:
        return jax.vmap(fn)(seeds)
    return lax.map(fn, seeds, batch_size=chunk_size)


def _unchunked(seeds, chunk_size) -> bool:
    return seeds.shape[0] > 0 and (chunk_size is None or chunk_size >= seeds.shape[0])


def _pushed(jvp, g, x, seeds):
    """`(g(x), B)` by one vmap of the JVP over the seeds: the primal part does not depend on
    the seed, so `vmap` leaves it unbatched (as `jax.jacfwd` does); this traces and compiles
    faster than `linearize` then `vmap`."""
    return jax.vmap(lambda s: jvp(g, (x,), (s,)), out_axes=(None, 0))(seeds)


def forward_products(g, x, seeds, *, chunk_size=None, method="jax"):
    """`(g(x), B)` with `B[c] = J_g(x) @ seeds[c]`: one vmapped JVP, or one linearization of
    `g` at `x` whose linear map is applied `chunk_size` seeds at a time."""
    linearize, _, _, jvp = _transforms(method)
    seeds = seeds.astype(x.dtype)
    if _unchunked(seeds, chunk_size):
        return _pushed(jvp, g, x, seeds)
    y, lin = linearize(g, x)
    return y, _batched(lin, seeds, chunk_size)


def reverse_products(g, x, seeds, *, chunk_size=None, method="jax"):
    """`(g(x), C)` with `C[c] = seeds[c] @ J_g(x)`, from one VJP of `g` at `x`."""
    _, vjp, _, _ = _transforms(method)
    y, pull = vjp(g, x)
    return y, _batched(lambda s: pull(s)[0], seeds.astype(y.dtype), chunk_size)


def hessian_products(h, x, seeds, *, chunk_size=None, method="jax"):
    """`(∇h(x), B)` with `B[c] = H_h(x) @ seeds[c]`: forward over reverse, the gradient's JVP
    vmapped over the seeds (or its linearization, chunked)."""
    linearize, _, grad, jvp = _transforms(method)
    seeds = seeds.astype(x.dtype)
    if _unchunked(seeds, chunk_size):
        return _pushed(jvp, grad(h), x, seeds)
    gradient, lin = linearize(grad(h), x)
    return gradient, _batched(lin, seeds, chunk_size)


def behind_conditional(fn: Callable, *args):
    """`fn(*args)`, computed inside a `lax.cond` whose predicate is always true.

    Why: XLA fuses a reshape at the root of a program into the loop that computes its operand.
    Flattening the `(colors, n)` products for a BCOO's data then turns their loop into one flat
    loop, in which XLA CPU recomputes, element by element, the index of every operand broadcast
    across the colors, and cannot vectorize its loads: on a 5-point Laplacian the products cost
    1.4x to 2.6x their 2-D loop. A conditional is a boundary fusion does not cross: inside it the
    products keep their own loop and layout, and the flattening outside is a bitcast of the
    conditional's buffer, free.

    The predicate must be a value XLA cannot know, else the conditional is folded away and the
    fusion happens anyway. It is read from the data: `v == v or v != v` for the first element `v`
    of the first floating argument, true for every value, NaN included, but not folded by XLA,
    which does not reason about that disjunction. So the program needs no extra argument, its
    only other kernel is that comparison, and the branch never taken returns zeros: `fn` is
    compiled once. (Were XLA ever to fold the predicate, the result would still be `fn(*args)`,
    only computed in the slower fused loop.) Without a nonempty floating argument, `fn(*args)`
    is returned as it is.

    Examples:
        >>> import jax.numpy as jnp
        >>> f = lambda v: jnp.outer(jnp.arange(2.0), v)
        >>> behind_conditional(f, jnp.ones(3)).ravel().tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
        >>> behind_conditional(f, jnp.array([jnp.nan, 1.0, 1.0])).ravel().tolist()[3:]
        [nan, 1.0, 1.0]
    """
    leaves = [
        leaf
        for leaf in jax.tree.leaves(args)
        if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact) and jnp.size(leaf) > 0
    ]
    if not leaves:
        return fn(*args)
    first = jnp.ravel(leaves[0])[0]
    shapes = jax.eval_shape(fn, *args)
    never = lambda *_: jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    return lax.cond((first == first) | (first != first), fn, never, *args)
