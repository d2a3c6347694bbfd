"""Hessian-vector products in four modes, none of which forms the Hessian.

For a scalar f and a direction v, H v is the derivative of ∇f along v, and, H being symmetric,
also the gradient of the directional derivative <∇f, v>. Each mode nests two of adkit's
transformations:

| mode | computes | cost (evaluations of f) |
|---|---|---|
| `"fwd-over-rev"` | jvp of grad: d/dε ∇f(x + ε v) | about 4 |
| `"rev-over-fwd"` | grad of jvp: ∇ₓ (∂f(x) v) | about 4, stores the forward sweep |
| `"rev-over-rev"` | grad of <grad, v>: ∇ₓ <∇f(x), v> | about 5, stores two sweeps |
| `"fwd-over-fwd"` | eᵢᵀ H v for each i by two nested jvps | about 3 n, one row at a time |

Forward over reverse is the usual choice (Pearlmutter, 1994). Forward over forward never needs
reverse mode but costs n times more: it exists to check the others and for functions with
forward-only rules (`custom_jvp` without transposable rules); its rows are computed one after
another (`lax.map`), so its memory does not grow with n either.

References:
    Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Computation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from ..interpreter import grad, jvp
from ..interpreter.forward.api import split_argnums

MODES = ("fwd-over-rev", "rev-over-fwd", "rev-over-rev", "fwd-over-fwd")


def hvp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    argnums: int | Sequence[int] | None = None,
    mode: str = "fwd-over-rev",
    method: str = "tape",
) -> tuple[Any, ...]:
    """The Hessian of a scalar function times a vector, H(primals) · tangents, without forming H.

    Args:
        fun: a function of pytrees of arrays returning a real scalar.
        primals: a tuple or list of arguments to `fun`.
        tangents: a tuple or list with one pytree per differentiated argument (every argument,
            or those `argnums` selects), shaped like it: the direction v.
        argnums: which arguments the Hessian is taken with respect to (an int or a tuple of
            ints; default: all). The others are held fixed.
        mode: `"fwd-over-rev"` (default), `"rev-over-fwd"`, `"rev-over-rev"` or
            `"fwd-over-fwd"`; see the module's docstring for their costs. All agree.
        method: the reverse-mode path of the modes that use one: `"tape"` or `"transpose"`.

    Returns:
        A tuple shaped like `tangents`: H v, block by block (∑ⱼ ∂²f/∂xᵢ∂xⱼ vⱼ for each i).

    Raises:
        ValueError: for an unknown mode or bad `argnums`.
        TypeError: if `tangents` does not match the differentiated arguments, or `fun` does not
            return a real scalar.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> f = lambda x: jnp.sum(x ** 3)          # H = diag(6 x)
        >>> x, v = jnp.array([1.0, 2.0]), jnp.array([1.0, 1.0])
        >>> [hv] = adkit.hvp(f, (x,), (v,), mode="rev-over-rev")
        >>> hv.tolist()
        [6.0, 12.0]
    """
    if mode not in MODES:
        raise ValueError(f"`adkit.hvp` mode must be one of {MODES}, but received {mode!r}.")
    primals, tangents = _as_tuple("primals", primals), _as_tuple("tangents", tangents)
    positions = tuple(range(len(primals))) if argnums is None else argnums
    dyn, g = split_argnums(fun, primals, positions)
    _check(fun, primals, dyn, tangents)
    every = tuple(range(len(dyn)))
    if mode == "fwd-over-rev":  # d/dε ∇f(x + εv)
        return tuple(jvp(grad(g, argnums=every, method=method), dyn, tangents)[1])
    if mode == "rev-over-fwd":  # ∇ₓ (∂f(x) v)
        directional = lambda *x: jvp(g, x, tangents)[1]
        return tuple(grad(directional, argnums=every, method=method)(*dyn))
    if mode == "rev-over-rev":  # ∇ₓ <∇f(x), v>
        along = lambda *x: _vdot(grad(g, argnums=every, method=method)(*x), tangents)
        return tuple(grad(along, argnums=every, method=method)(*dyn))
    return _fwd_over_fwd(g, dyn, tangents)


def _fwd_over_fwd(g, dyn, tangents):
    # (H v)ᵢ = eᵢᵀ H v = d/dδ d/dε f(x + ε v + δ eᵢ), one row at a time
    flat, unravel = ravel_pytree(dyn)
    v, _ = ravel_pytree(tangents)
    h = lambda x: g(*unravel(x))
    along_v = lambda x: jvp(h, (x,), (v.astype(x.dtype),))[1]

    def row(i):
        e = jnp.zeros_like(flat).at[i].set(1)
        return jvp(along_v, (flat,), (e,))[1]

    return tuple(unravel(lax.map(row, jnp.arange(flat.size))))


def _vdot(a, b):
    leaves = [jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)]
    return sum(leaves[1:], leaves[0])


def _as_tuple(what, value):
    if not isinstance(value, tuple | list):
        raise TypeError(
            f"`adkit.hvp` expects {what} as a tuple or list, but received a "
            f"{type(value).__name__}. Wrap a single argument: `adkit.hvp(f, (x,), (v,))`."
        )
    return tuple(value)


def _check(fun, primals, dyn, tangents):
    if jax.tree.structure(dyn) != jax.tree.structure(tangents):
        raise TypeError(
            "`adkit.hvp` expects one tangent per differentiated argument, shaped like it, but "
            f"the arguments have structure {jax.tree.structure(dyn)} and the tangents "
            f"{jax.tree.structure(tangents)}. With `argnums`, pass tangents for the selected "
            "arguments only."
        )
    for x, t in zip(jax.tree.leaves(dyn), jax.tree.leaves(tangents), strict=True):
        if jnp.shape(x) != jnp.shape(t):
            raise TypeError(
                f"`adkit.hvp`: a tangent of shape {jnp.shape(t)} was given for an argument of "
                f"shape {jnp.shape(x)}. Each tangent is shaped like its argument."
            )
    out = jax.eval_shape(fun, *primals)
    if not (hasattr(out, "shape") and out.shape == () and jnp.issubdtype(out.dtype, jnp.floating)):
        raise TypeError(
            "`adkit.hvp` needs a function returning a real scalar (a loss), but it returned "
            f"{out}. Reduce the output (e.g. `jnp.sum`), or use `adkit.jacfwd(adkit.jacrev(f))` "
            "for the second derivative of a vector function."
        )
