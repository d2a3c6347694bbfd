"""Taylor-mode API: `jet` (JAX's `jax.experimental.jet` convention) and `derivatives`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._staging import gc_paused, stage
from .._zeros import instantiate
from ..forward.api import as_array
from .engine import has_series, jet_closed


@gc_paused
def jet(fun: Callable[..., Any], primals: Sequence[Any], series: Sequence[Sequence[Any]]):
    """Pushes truncated Taylor series through `fun` with adkit's own Taylor-mode rules.

    The convention is `jax.experimental.jet`'s: the input path is
    x(t) = x + Σₖ series[k-1] tᵏ / k!, so `series[i]` lists the first K derivatives of the i-th
    input along the path, and the result lists those of the output: with the path x(t) = x + t
    the output terms are f'(x), f''(x), ..., f⁽ᴷ⁾(x). One pass costs O(K²) array operations per
    equation of `fun`, against O(2ᴷ) for K nested `jvp`s. A `custom_jvp` function follows its
    rule (JAX's jet differentiates its primal body instead).

    Args:
        fun: a function of pytrees of arrays.
        primals: a tuple or list of arguments to `fun`.
        series: a tuple or list with one entry per argument: a list of K terms, each a pytree
            shaped like that argument (K ≥ 0, the same for every argument).

    Returns:
        `(primal_out, series_out)`: `fun(*primals)`, and the output's pytree with each leaf
        replaced by the list of its K terms (for a single array output, a list of K arrays).

    Raises:
        TypeError: if the arguments, the numbers of terms or the terms' shapes do not match.
        adkit.MissingRuleError: if `fun` uses a primitive adkit has no jet rule for.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> y, terms = adkit.jet(jnp.exp, (0.0,), ([1.0, 0.0, 0.0],))
        >>> [round(float(t), 6) for t in terms]   # exp's derivatives at 0
        [1.0, 1.0, 1.0]
    """
    primals = tuple(primals) if isinstance(primals, list) else primals
    k = _check_arguments(primals, series)
    staged = stage(fun, primals)
    in_series = []
    for x, terms in zip(primals, series, strict=True):
        term_leaves = [jax.tree.leaves(t) for t in terms]
        for j, leaf in enumerate(jax.tree.leaves(x)):
            coefficients = [_term(terms_j[j], leaf, n + 1) for n, terms_j in enumerate(term_leaves)]
            in_series.append([leaf, *coefficients])
    outs = jet_closed(staged.closed, in_series)
    primal_out = [as_array(s[0]) for s in outs]
    terms_out = [[_unscale(s[n], n, s[0]) for n in range(1, k + 1)] for s in outs]
    return (
        jax.tree.unflatten(staged.out_tree, primal_out),
        jax.tree.unflatten(staged.out_tree, terms_out),
    )


def derivatives(fun: Callable[..., Any], x: Any, order: int) -> Any:
    """The first `order` derivatives of a function of one variable at `x`, from one jet.

    The path x + t is pushed through `fun` once; its k-th output term is f⁽ᵏ⁾(x). For an array
    `x` and an element-wise `fun` this gives every element's derivatives at once.

    Args:
        fun: a function of one array (a scalar, or element-wise on an array).
        x: the point.
        order: how many derivatives, K ≥ 1.

    Returns:
        An array stacking f'(x), f''(x), ..., f⁽ᴷ⁾(x) along a new leading axis (for a pytree
        output, that pytree of such arrays).

    Examples:
        >>> import adkit
        >>> float(adkit.derivatives(lambda x: 1 / x, 4.0, order=6)[5])   # 6! / 4⁷
        0.0439453125
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(
            f"`adkit.derivatives` takes `order` as a positive integer, but received {order!r}."
        )
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    one, zero = jnp.ones_like(x), jnp.zeros_like(x)
    _, terms = jet(fun, (x,), ([one, *([zero] * (order - 1))],))
    is_terms = lambda t: isinstance(t, list) and all(isinstance(e, jax.Array) for e in t)
    return jax.tree.map(jnp.stack, terms, is_leaf=is_terms)


def _check_arguments(primals, series) -> int:
    for what, value in (("primals", primals), ("series", series)):
        if not isinstance(value, tuple | list):
            raise TypeError(
                f"`adkit.jet` expects {what} as a tuple or list with one entry per argument, "
                f"but received a {type(value).__name__}. Wrap a single argument: "
                "`adkit.jet(f, (x,), ([x1, x2],))`."
            )
    if len(primals) != len(series):
        raise TypeError(
            f"`adkit.jet` expects one series per argument, but received {len(primals)} "
            f"argument(s) and {len(series)} series."
        )
    orders = set()
    for i, (x, terms) in enumerate(zip(primals, series, strict=True)):
        if not isinstance(terms, tuple | list):
            raise TypeError(
                f"`adkit.jet`: the series of argument {i} must be a list of terms (the path's "
                f"derivatives), but received a {type(terms).__name__}."
            )
        orders.add(len(terms))
        for n, t in enumerate(terms):
            if jax.tree.structure(t) != jax.tree.structure(x):
                raise TypeError(
                    f"`adkit.jet`: term {n} of argument {i} has tree structure "
                    f"{jax.tree.structure(t)}, but the argument has {jax.tree.structure(x)}. "
                    "Each term is shaped like its argument."
                )
    if len(orders) > 1:
        raise TypeError(
            "`adkit.jet` expects the same number of terms for every argument, but received "
            f"{sorted(orders)}. Pad the shorter series with zeros."
        )
    return orders.pop() if orders else 0


def _term(term, primal, n):
    """The n-th derivative term as the normalised coefficient x⁽ⁿ⁾ / n!."""
    aval = jax.typeof(primal)
    t = jnp.asarray(term)
    if t.shape != aval.shape:
        raise TypeError(
            f"`adkit.jet`: a term of shape {t.shape} was given for an argument of shape "
            f"{aval.shape}. Each term is shaped like its argument."
        )
    if not has_series(aval):
        return instantiate_zero_like(primal)
    return t.astype(aval.dtype) / np.array(math.factorial(n), dtype=aval.dtype)


def instantiate_zero_like(primal):
    from .._zeros import Zero

    return Zero.like(primal)


def _unscale(coefficient, n, primal):
    """A normalised coefficient back to the derivative term: n! xₙ (zeros where symbolic)."""
    value = instantiate(coefficient)
    if not has_series(primal):
        return jnp.zeros(jnp.shape(primal), jax.typeof(primal).dtype)
    return value * np.array(math.factorial(n), dtype=jax.typeof(primal).dtype)
