"""Finite-difference directional derivatives: the reference every derivative check leans on.

The derivative of f at x along t is the limit of (f(x + h t) - f(x)) / h. Three estimates:

- **central** differences, (f(x + h t) - f(x - h t)) / 2h: the error is O(h²) truncation plus
  O(ε/h) rounding (ε the machine epsilon), so h ≈ ε^(1/3) balances them, about 6e-6 in float64,
  for roughly 10 correct digits.
- **Richardson** extrapolation combines central differences at h and h/2,
  (4 D(h/2) - D(h)) / 3, which cancels the h² term: O(h⁴) truncation, so a larger h (1e-3) keeps
  rounding small; about 12 correct digits on smooth functions.
- **complex step**, Im f(x + i h t) / h, for real-analytic f of real inputs: no subtraction, so
  no cancellation; with h = 1e-20 the estimate is exact to machine precision. It needs f to be
  written with operations that extend analytically to complex numbers (no `abs`, comparisons or
  `real`), and its inputs real.

All estimates here run in float64 (`jax.enable_x64`); float32 inputs are checked in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

METHODS = ("central", "richardson", "complex_step")
DEFAULT_STEP = {"central": 6e-6, "richardson": 1e-3, "complex_step": 1e-20}


def directional_derivative(
    f: Callable[..., Any], args: tuple, tangents: tuple, method: str = "central", eps=None
) -> Any:
    """The derivative of `f` at `args` along `tangents`, estimated without differentiating.

    Args:
        f: a function of pytrees of arrays.
        args: its arguments (a tuple).
        tangents: one tangent per argument, structured like it (zeros for integer leaves).
        method: `"central"`, `"richardson"` or `"complex_step"`.
        eps: the step; the method's default when None.

    Returns:
        A pytree shaped like `f(*args)`: the estimated J t.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.testing import directional_derivative
        >>> with jax.enable_x64(True):
        ...     d = directional_derivative(jnp.sin, (1.0,), (1.0,), method="complex_step")
        ...     print(round(float(d), 12))  # cos(1)
        0.540302305868
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, but received {method!r}.")
    h = DEFAULT_STEP[method] if eps is None else eps
    if method == "complex_step":
        return _complex_step(f, args, tangents, h)
    central = lambda h: _central(f, args, tangents, h)
    if method == "central":
        return central(h)
    coarse, fine = central(h), central(h / 2)
    return jax.tree.map(lambda c, f_: (4 * f_ - c) / 3, coarse, fine)


def _shift(args, tangents, step):
    def move(x, t):
        if not jnp.issubdtype(jnp.result_type(x), jnp.inexact):
            return x
        return x + step * jnp.asarray(t, jnp.result_type(x, step))

    return jax.tree.map(move, args, tangents)


def _central(f, args, tangents, h):
    plus, minus = f(*_shift(args, tangents, h)), f(*_shift(args, tangents, -h))
    return jax.tree.map(lambda p, m: _diff(p, m) / (2 * h), plus, minus)


def _diff(p, m):
    if not jnp.issubdtype(jnp.result_type(p), jnp.inexact):
        return np.zeros(np.shape(p), np.float64)
    return p - m


def _complex_step(f, args, tangents, h):
    for x in jax.tree.leaves(args):
        if jnp.issubdtype(jnp.result_type(x), jnp.complexfloating):
            raise TypeError(
                "The complex-step method needs real inputs, but an input is complex "
                f"({jnp.result_type(x)}). Use method='central' or 'richardson'."
            )

    def lift(x, t):
        if not jnp.issubdtype(jnp.result_type(x), jnp.floating):
            return x
        return x + 1j * h * jnp.asarray(t, jnp.float64)

    out = f(*jax.tree.map(lift, args, tangents))
    return jax.tree.map(lambda y: jnp.imag(y) / h, out)
