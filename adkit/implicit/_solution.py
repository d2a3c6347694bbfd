"""What adkit's own solvers return, and how they attach implicit differentiation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._failure import check_policy, tolerances
from ._linear_solve import check_method, two_norm
from ._root import _attach, _fixed_point_residual, _Options


class Stats(eqx.Module):
    """How a forward solve ended: its relative residual ‖F(x*)‖ / max(1, ‖F(init)‖) and its
    iteration count (not differentiated)."""

    residual: jax.Array
    iterations: jax.Array


class Solution(eqx.Module):
    """A solver's result: `value` (x*, differentiable), `residual`, `iterations`.

    Attributes:
        value: the solution x* (a pytree like `init`); derivatives through it use the implicit
            function theorem, not the solver's iterations.
        residual: the forward solve's relative residual ‖F(x*)‖ / max(1, ‖F(init)‖) (not
            differentiated).
        iterations: the iterations the solver took (not differentiated).

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit import implicit
        >>> T = lambda x, a: 0.5 * x + a  # x* = 2a
        >>> sol = implicit.fixed_point_iteration(T, jnp.zeros(()), 1.0, tol=1e-6)
        >>> round(float(sol.value), 4), int(sol.iterations), bool(sol.residual <= 1e-6)
        (2.0, 20, True)
    """

    value: Any
    residual: jax.Array
    iterations: jax.Array


def solve_with(
    iterate: Callable[..., tuple[Any, Stats]],
    optimality_fun: Callable[..., Any],
    init: Any,
    args: tuple,
    kwargs: dict,
    *,
    name: str,
    solve: str | Callable,
    tol: float | None,
    on_failure: str,
    fixed_point: bool = False,
    symmetric: bool = False,
) -> Solution:
    """Runs `iterate(init, *args, **kwargs) -> (x*, Stats)` with implicit differentiation
    attached, through `optimality_fun` (or the fixed-point map, with `fixed_point=True`)."""
    options = _Options(
        check_method(solve), True, symmetric, tol, None, check_policy(on_failure), True
    )
    iterate.__name__ = name
    residual = _fixed_point_residual(optimality_fun) if fixed_point else optimality_fun
    x, stats = _attach(iterate, residual, options, init, args, kwargs)
    return Solution(x, stats.residual, stats.iterations)


def running(k: jax.Array, maxiter: int, residual: jax.Array, tol: float, scale: jax.Array):
    """A solver's loop condition: iterations left and the residual not yet small (NaN goes on
    until `maxiter`, and the check then reports it)."""
    return (k < maxiter) & ~(residual <= tol * scale)


def forward_tol(tol: float | None, init: Any) -> float:
    from ._root import _dtype

    return tolerances(tol, _dtype(init))[0]


def scale_of(residual_tree: Any) -> jax.Array:
    return jnp.maximum(1.0, two_norm(residual_tree))
