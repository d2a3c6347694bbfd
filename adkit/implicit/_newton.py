"""Newton's method for F(x, θ) = 0, differentiated implicitly through F."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from ._linear_solve import _lineax, resolve, two_norm
from ._solution import Solution, Stats, forward_tol, running, scale_of, solve_with


def newton(
    optimality_fun: Callable[..., Any],
    init: Any,
    *args: Any,
    tol: float | None = None,
    maxiter: int = 50,
    solve: str = "auto",
    symmetric: bool = False,
    on_failure: str = "raise",
    **kwargs: Any,
) -> Solution:
    """Newton's method: x ← x - A⁻¹ F(x) with A = ∂F/∂x, until ‖F(x)‖ is small.

    Each step solves with the same linear method as the derivative (`"auto"`: dense LU up to
    64 unknowns, else a Krylov method on JVPs of F); the derivative of x* with respect to
    `args`/`kwargs` comes from the implicit function theorem.

    Examples:
        >>> import jax
        >>> from adkit import implicit
        >>> F = lambda x, a: x**3 - a                      # x* = ∛a
        >>> sol = implicit.newton(F, 1.0, 8.0, tol=1e-6)
        >>> round(float(sol.value), 6)
        2.0
        >>> round(float(jax.grad(lambda a: implicit.newton(F, 1.0, a).value)(8.0)), 6)   # 1/(3x²)
        0.083333
    """
    tol_ = forward_tol(tol, init)

    def iterate(x0, *args, **kwargs):
        F = lambda x: optimality_fun(x, *args, **kwargs)
        size = sum(jnp.size(leaf) for leaf in jax.tree.leaves(x0))
        method = resolve(solve, size, symmetric)
        f0 = F(x0)
        scale = scale_of(f0)

        def cond(state):
            _x, fx, k = state
            return running(k, maxiter, two_norm(fx), tol_, scale)

        def body(state):
            x, fx, k = state
            matvec = lambda v: jax.jvp(F, (x,), (v,))[1]
            step, _ = _lineax(matvec, fx, method, symmetric, tol_ * 1e-2, None)
            x = jax.tree.map(jnp.subtract, x, step)
            return x, F(x), k + 1

        x, fx, k = lax.while_loop(cond, body, (x0, f0, jnp.asarray(0)))
        return x, Stats(two_norm(fx) / scale, k)

    return solve_with(
        iterate,
        optimality_fun,
        init,
        args,
        kwargs,
        name="newton",
        solve=solve,
        symmetric=symmetric,
        tol=tol,
        on_failure=on_failure,
    )
