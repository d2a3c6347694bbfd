"""Deep-equilibrium layers: the output is the fixed point z* = cell(z*, x)."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ._fixed_point import anderson, fixed_point_iteration

SOLVERS = {"anderson": anderson, "fixed_point_iteration": fixed_point_iteration}


class DEQ(eqx.Module):
    """A deep-equilibrium layer: `DEQ(cell, state_shape)(x)` is z* with z* = cell(z*, x).

    The forward pass finds z* (Anderson acceleration by default); the backward pass is the
    implicit function theorem's adjoint solve, `(I - ∂cell/∂z)ᵀ u = z̄` (a Neumann series by
    default: a few vectors of z's size, whatever the depth the forward iteration reached). The
    cell's parameters are ordinary equinox fields, so `eqx.filter_grad`, `eqx.filter_jit` and
    optax train them; `jax.vmap` over a batch gives one solve per sample.

    Attributes:
        cell: an equinox module (or function) `cell(z, x) -> z`; a contraction in z converges.
        state_shape: the shape of z.
        solver: `"anderson"` or `"fixed_point_iteration"`.
        tol: the relative residual of the forward and backward solves (default √ε, ε^(2/3)).
        maxiter: the forward iteration limit.
        solve: the backward linear solver (`"neumann"`, or any `custom_root` method).
        on_failure: `"raise"`, `"nan"` or `"warn"`.

    Examples:
        >>> import jax, jax.numpy as jnp, equinox as eqx
        >>> from adkit import implicit
        >>> class Cell(eqx.Module):
        ...     w: jax.Array
        ...     def __call__(self, z, x):
        ...         return jnp.tanh(self.w @ z + x)
        >>> layer = implicit.DEQ(Cell(0.3 * jnp.eye(4)), (4,))
        >>> z = layer(jnp.ones(4))
        >>> bool(jnp.allclose(z, jnp.tanh(0.3 * z + 1.0), atol=1e-4))
        True
        >>> grads = eqx.filter_grad(lambda m, x: jnp.sum(m(x)))(layer, jnp.ones(4))
        >>> grads.cell.w.shape
        (4, 4)
    """

    cell: Callable
    state_shape: tuple[int, ...] = eqx.field(static=True)
    solver: str = eqx.field(static=True, default="anderson")
    tol: float | None = eqx.field(static=True, default=None)
    maxiter: int = eqx.field(static=True, default=1000)
    solve: str = eqx.field(static=True, default="neumann")
    on_failure: str = eqx.field(static=True, default="raise")

    def __check_init__(self):
        if self.solver not in SOLVERS:
            raise ValueError(
                f"`DEQ(solver=...)` must be one of {sorted(SOLVERS)}, but received {self.solver!r}."
            )

    def __call__(self, x: jax.Array, z0: jax.Array | None = None) -> jax.Array:
        """z* for the input `x`, starting from `z0` (zeros by default)."""
        if z0 is None:
            dtype = jnp.result_type(*jax.tree.leaves(x))
            z0 = jnp.zeros(self.state_shape, dtype)
        solution = SOLVERS[self.solver](
            lambda z, cell, x: cell(z, x),
            z0,
            self.cell,
            x,
            tol=self.tol,
            maxiter=self.maxiter,
            solve=self.solve,
            on_failure=self.on_failure,
        )
        return solution.value
