"""The function `adkit.vjp` returns: callable, and a pytree whose leaves are its residuals.

JAX's `vjp` returns a `Partial` holding its residuals as pytree leaves, so a VJP function can be
returned from `jax.jit`, passed through `lax.scan`, or stored as the residual of a custom_vjp
fwd rule. adkit's VJP function is a `Pullback`. Called, it runs adkit's backward pass directly.
Flattened (the first time a pytree operation touches it), it is closure-converted with
`jax.closure_convert`: its backward pass is traced once, the traced values it closes over are
hoisted out as its leaves, and the function rebuilt from those leaves runs that trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax


class Pullback:
    """`vjp_fn(cotangent)`, as returned by `adkit.vjp`; a pytree of its residuals.

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> y, f_vjp = adkit.vjp(jnp.sin, 0.5)
        >>> leaves = jax.tree.leaves(f_vjp)  # the residuals the backward pass reads
        >>> float(jax.jit(lambda f, c: f(c)[0])(f_vjp, 1.0)) == float(jnp.cos(0.5))
        True
    """

    def __init__(self, fun: Callable[[Any], Any], example_cotangent: Any):
        self._fun = fun
        self._example = example_cotangent
        self._converted: tuple[Callable[..., Any], list[Any]] | None = None

    def __call__(self, cotangent: Any) -> Any:
        return self._fun(cotangent)

    def converted(self) -> tuple[Callable[..., Any], list[Any]]:
        """`(function of (cotangent, *residuals), residuals)`, traced once."""
        if self._converted is None:
            self._converted = jax.closure_convert(self._fun, self._example)
        return self._converted


def _flatten(pullback: Pullback):
    fun, residuals = pullback.converted()
    return list(residuals), fun


def _unflatten(fun, residuals):
    rebuilt = Pullback(lambda cotangent: fun(cotangent, *residuals), None)
    rebuilt._converted = (fun, list(residuals))
    return rebuilt


jax.tree_util.register_pytree_node(Pullback, _flatten, _unflatten)
