"""Minimisation with an optax optimizer, differentiated through the stationarity condition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax import lax

from ._linear_solve import two_norm
from ._solution import Solution, Stats, forward_tol, running, scale_of, solve_with


def minimize(
    fun: Callable[..., Any],
    init: Any,
    *args: Any,
    optimizer: optax.GradientTransformation,
    tol: float | None = None,
    maxiter: int = 10_000,
    solve: str | Callable = "auto",
    on_failure: str = "raise",
    **kwargs: Any,
) -> Solution:
    """x* = argmin_x fun(x, *args, **kwargs), by `optimizer`, until ‖∇ₓfun‖ is small.

    The derivative of x* with respect to `args`/`kwargs` comes from the stationarity condition
    ∇ₓfun(x*, θ) = 0: its Jacobian is the Hessian (symmetric), so `"auto"` uses CG on
    Hessian-vector products (dense LU for at most 64 unknowns).

    Args:
        fun: a scalar function of x (a pytree) and the parameters.
        init: the starting point.
        *args: the parameters (differentiable).
        optimizer: an optax `GradientTransformation`, e.g. `optax.lbfgs()` or `optax.adam(1e-2)`.
        tol: the relative gradient norm to reach (default √ε of x's dtype).
        maxiter: the iteration limit.
        solve: as in `custom_root`.
        on_failure: as in `custom_root`.
        **kwargs: as in `custom_root`.

    Returns:
        A `Solution`.

    Examples:
        >>> import jax, jax.numpy as jnp, optax
        >>> from adkit import implicit
        >>> f = lambda x, a: jnp.sum((x - a) ** 2) + 0.5 * jnp.sum(x**2)   # x* = 2a/3
        >>> sgd = optax.sgd(0.2)
        >>> sol = implicit.minimize(f, jnp.zeros(2), jnp.ones(2), optimizer=sgd, tol=1e-5)
        >>> [round(float(v), 3) for v in sol.value]
        [0.667, 0.667]
        >>> g = jax.grad(lambda a: implicit.minimize(f, jnp.zeros(2), a, optimizer=sgd, tol=1e-5)
        ...     .value.sum())(jnp.ones(2))
        >>> [round(float(v), 3) for v in g]                # dx*/da = 2/3
        [0.667, 0.667]
    """
    tol_ = forward_tol(tol, init)
    gradient = jax.grad(fun)

    def iterate(x0, *args, **kwargs):
        value_and_grad = jax.value_and_grad(lambda x: fun(x, *args, **kwargs))
        g0 = value_and_grad(x0)[1]
        scale = scale_of(g0)

        def cond(state):
            _, _, g, k = state
            return running(k, maxiter, two_norm(g), tol_, scale)

        def body(state):
            x, opt_state, g, k = state
            value = fun(x, *args, **kwargs)
            updates, opt_state = optimizer.update(
                g,
                opt_state,
                x,
                value=value,
                grad=g,
                value_fn=lambda y: fun(y, *args, **kwargs),
            )
            x = optax.apply_updates(x, updates)
            return x, opt_state, value_and_grad(x)[1], k + 1

        state = (x0, optimizer.init(x0), g0, jnp.asarray(0))
        x, _, g, k = lax.while_loop(cond, body, state)
        return x, Stats(two_norm(g) / scale, k)

    return solve_with(
        iterate,
        gradient,
        init,
        args,
        kwargs,
        name=f"minimize ({getattr(optimizer, '__name__', 'optax')})",
        solve=solve,
        symmetric=True,
        tol=tol,
        on_failure=on_failure,
    )
