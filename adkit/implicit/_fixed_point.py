"""Fixed-point solvers, x* = T(x*, θ), differentiated implicitly through x - T(x) = 0.

Both stop when the relative residual ‖x - T(x)‖ / max(1, ‖init - T(init)‖) is at most `tol`,
and report it with the iteration count in the returned `Solution`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from ._linear_solve import two_norm
from ._solution import Solution, Stats, forward_tol, running, scale_of, solve_with


def fixed_point_iteration(
    fixed_point_fun: Callable[..., Any],
    init: Any,
    *args: Any,
    tol: float | None = None,
    maxiter: int = 1000,
    solve: str | Callable = "auto",
    on_failure: str = "raise",
    **kwargs: Any,
) -> Solution:
    """Iterates x ← T(x, *args, **kwargs) from `init` until ‖x - T(x)‖ is small.

    Converges when T is a contraction; derivatives with respect to `args`/`kwargs` come from
    the implicit function theorem (the iterations are not differentiated).

    Args:
        fixed_point_fun: T(x, *args, **kwargs), returning a pytree shaped like x.
        init: the starting point.
        *args: T's parameters (differentiable).
        tol: the relative residual to reach (default √ε of x's dtype).
        maxiter: the iteration limit.
        solve: the linear solver of the derivative (see `custom_root`).
        on_failure: `"raise"`, `"nan"` or `"warn"`.
        **kwargs: T's keyword parameters (differentiable).

    Returns:
        A `Solution`: `value` (x*), `residual`, `iterations`.

    Examples:
        >>> import jax
        >>> from adkit import implicit
        >>> T = lambda x, a: 0.5 * x + a                   # x* = 2a, dx*/da = 2
        >>> sol = implicit.fixed_point_iteration(T, 0.0, 1.0, tol=1e-6)
        >>> round(float(sol.value), 4), int(sol.iterations) > 0
        (2.0, True)
        >>> float(jax.grad(lambda a: implicit.fixed_point_iteration(T, 0.0, a).value)(1.0))
        2.0
    """
    tol_ = forward_tol(tol, init)

    def iterate(x0, *args, **kwargs):
        T = lambda x: fixed_point_fun(x, *args, **kwargs)
        gap = lambda x, tx: two_norm(jax.tree.map(jnp.subtract, x, tx))
        tx0 = T(x0)
        scale = scale_of(jax.tree.map(jnp.subtract, x0, tx0))

        def cond(state):
            x, tx, k = state
            return running(k, maxiter, gap(x, tx), tol_, scale)

        def body(state):
            _, tx, k = state
            return tx, T(tx), k + 1

        x, tx, k = lax.while_loop(cond, body, (x0, tx0, jnp.asarray(0)))
        return x, Stats(gap(x, tx) / scale, k)

    return solve_with(
        iterate,
        fixed_point_fun,
        init,
        args,
        kwargs,
        name="fixed_point_iteration",
        fixed_point=True,
        solve=solve,
        tol=tol,
        on_failure=on_failure,
    )


def anderson(
    fixed_point_fun: Callable[..., Any],
    init: Any,
    *args: Any,
    tol: float | None = None,
    maxiter: int = 1000,
    history: int = 5,
    mixing: float = 1.0,
    ridge: float | None = None,
    solve: str | Callable = "auto",
    on_failure: str = "raise",
    **kwargs: Any,
) -> Solution:
    """Anderson acceleration of x ← T(x): the next iterate mixes the last `history` images,
    with weights that minimise the combined residual.

    With residuals gᵢ = T(xᵢ) - xᵢ of the last m iterates, the weights w solve
    min ‖Σ wᵢ gᵢ‖ subject to Σ wᵢ = 1 (with a small relative `ridge` on the normal
    equations; where the history is degenerate, a plain step), and
    x ← Σ wᵢ (mixing · T(xᵢ) + (1 - mixing) · xᵢ). Memory: 2m copies of x.

    Args:
        fixed_point_fun: as in `fixed_point_iteration`.
        init: as in `fixed_point_iteration`.
        *args: as in `fixed_point_iteration`.
        tol: as in `fixed_point_iteration`.
        maxiter: as in `fixed_point_iteration`.
        solve: as in `fixed_point_iteration`.
        on_failure: as in `fixed_point_iteration`.
        **kwargs: as in `fixed_point_iteration`.
        history: m, the number of past iterates mixed.
        mixing: β, the damping (1: undamped).
        ridge: the regularisation of the weights' normal equations, relative to the largest
            squared residual (default 100 ε).

    Returns:
        A `Solution`.

    References:
        Walker and Ni, "Anderson acceleration for fixed-point iterations", SIAM J. Numer. Anal.
        49 (2011).

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit import implicit
        >>> T = lambda x, a: jnp.cos(x) * a                # x* = a cos x*
        >>> sol = implicit.anderson(T, jnp.zeros(3), 0.5, tol=1e-5)
        >>> bool(jnp.allclose(sol.value, 0.5 * jnp.cos(sol.value), atol=1e-5))
        True
    """
    tol_ = forward_tol(tol, init)

    def iterate(x0, *args, **kwargs):
        flat0, unravel = ravel_pytree(x0)
        T = lambda v: ravel_pytree(fixed_point_fun(unravel(v), *args, **kwargs))[0]
        t0 = T(flat0)
        scale = scale_of(flat0 - t0)
        m, n = history, flat0.size
        eps = jnp.finfo(flat0.dtype).eps
        ridge_ = 100 * eps if ridge is None else ridge
        tiny = jnp.finfo(flat0.dtype).tiny
        xs = jnp.zeros((m, n), flat0.dtype).at[0].set(flat0)
        ts = jnp.zeros((m, n), flat0.dtype).at[0].set(t0)

        def cond(state):
            _, _, k, res = state
            return running(k, maxiter, res, tol_, scale)

        def body(state):
            xs, ts, k, _ = state
            filled = jnp.arange(m) <= jnp.minimum(k, m - 1)  # rows holding past iterates
            g = jnp.where(filled[:, None], ts - xs, 0.0)
            gram = g @ g.T
            eye = jnp.eye(m, dtype=g.dtype)
            gram = gram + (ridge_ * jnp.max(jnp.diag(gram)) + tiny) * eye  # relative ridge
            gram = jnp.where(filled[:, None] & filled[None, :], gram, eye)
            weights = jnp.where(filled, jnp.linalg.solve(gram, filled.astype(g.dtype)), 0.0)
            alpha = weights / jnp.sum(weights)
            # a degenerate history (weights not finite): take a plain step from the newest
            newest = jax.nn.one_hot(k % m, m, dtype=g.dtype)
            alpha = jnp.where(jnp.all(jnp.isfinite(alpha)), alpha, newest)
            x_new = alpha @ (mixing * ts + (1 - mixing) * xs)
            t_new = T(x_new)
            slot = (k + 1) % m
            xs, ts = xs.at[slot].set(x_new), ts.at[slot].set(t_new)
            return xs, ts, k + 1, jnp.linalg.norm(x_new - t_new)

        xs, ts, k, res = lax.while_loop(
            cond, body, (xs, ts, jnp.asarray(0), jnp.linalg.norm(flat0 - t0))
        )
        slot = k % m
        return unravel(xs[slot]), Stats(res / scale, k)

    return solve_with(
        iterate,
        fixed_point_fun,
        init,
        args,
        kwargs,
        name="anderson",
        fixed_point=True,
        solve=solve,
        tol=tol,
        on_failure=on_failure,
    )
