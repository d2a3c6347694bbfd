"""Implicit differentiation of a root: x*(θ) with F(x*(θ), θ) = 0.

By the implicit function theorem, where A = ∂F/∂x is nonsingular at the root,

    ẋ = -A⁻¹ (∂F/∂θ) θ̇                      (the tangent: one linear solve)
    θ̄ = -(∂F/∂θ)ᵀ A⁻ᵀ x̄                      (the cotangent: one adjoint solve)

`custom_root` attaches the first to a solver as a `jax.custom_jvp` rule whose linear solve is a
`lax.custom_linear_solve`; JAX (or adkit's interpreter) transposes it for reverse mode, so one
rule serves `jvp`, `grad`, `vmap`, `jit`, `jacfwd`, `hessian` and adkit's own transforms. The
solver itself is never differentiated: how it found x* does not matter, only that F(x*) = 0,
which is checked after every solve (see `_failure`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._failure import check_policy, enforce, tolerances
from ._linear_solve import check_method, resolve, run, tangent_solve, two_norm


def custom_root(
    optimality_fun: Callable[..., Any],
    *,
    solve: str | Callable = "auto",
    has_aux: bool = False,
    symmetric: bool = False,
    tol: float | None = None,
    maxiter: int | None = None,
    on_failure: str = "raise",
):
    """Decorates `solver(init, *args, **kwargs)` so its result is differentiated implicitly.

    The result x* (or `(x*, aux)` with `has_aux`) must satisfy
    `optimality_fun(x*, *args, **kwargs) == 0`; its derivatives with respect to `args` and
    `kwargs` come from the implicit function theorem, not from differentiating the solver.
    The call shape is that of `jaxopt.implicit_diff.custom_root`.

    Args:
        optimality_fun: F(x, *args, **kwargs), returning a pytree shaped like x.
        solve: the linear solver of the tangent and adjoint systems: `"auto"`, `"cg"`,
            `"gmres"`, `"bicgstab"`, `"neumann"`, `"lu"`, `"cholesky"`, or a function
            `solve(matvec, b) -> x`.
        has_aux: whether the solver returns `(x*, aux)`; aux is not differentiated.
        symmetric: whether ∂F/∂x is symmetric (F a gradient): allows `"cg"`, `"cholesky"`.
        tol: the relative residual the linear solves must reach and the forward solve is held
            to (default: `√ε` forward, `ε^(2/3)` linear, for x's dtype).
        maxiter: the linear solves' iteration limit (default 1000).
        on_failure: `"raise"`, `"nan"` or `"warn"`, when a solve misses its tolerance.

    Returns:
        A decorator; the decorated solver takes the same arguments. `init` gets a zero
        derivative.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit import implicit
        >>> F = lambda x, a: x**2 - a                      # the root is √a
        >>> @implicit.custom_root(F)
        ... def sqrt(init, a):
        ...     return jax.lax.fori_loop(0, 30, lambda i, x: 0.5 * (x + a / x), init)
        >>> round(float(jax.grad(sqrt, argnums=1)(1.0, 4.0)), 6)   # 1 / (2 √a)
        0.25
    """
    options = _Options(
        check_method(solve), has_aux, symmetric, tol, maxiter, check_policy(on_failure)
    )

    def decorator(solver):
        @functools.wraps(solver)
        def solved(init, *args, **kwargs):
            return _attach(solver, optimality_fun, options, init, args, kwargs)

        return solved

    return decorator


def custom_fixed_point(
    fixed_point_fun: Callable[..., Any],
    *,
    solve: str | Callable = "auto",
    has_aux: bool = False,
    symmetric: bool = False,
    tol: float | None = None,
    maxiter: int | None = None,
    on_failure: str = "raise",
):
    """`custom_root` for a fixed point x* = T(x*, *args, **kwargs).

    The optimality function is x - T(x), so ∂F/∂x = I - ∂T/∂x and `solve="neumann"` sums
    Σ (∂T/∂x)ᵏ, which converges when T is a contraction at x*.

    Examples:
        >>> import jax
        >>> from adkit import implicit
        >>> T = lambda x, a: 0.5 * x + a                   # x* = 2a
        >>> @implicit.custom_fixed_point(T, solve="neumann")
        ... def solver(init, a):
        ...     return jax.lax.fori_loop(0, 60, lambda i, x: T(x, a), init)
        >>> round(float(jax.grad(solver, argnums=1)(0.0, 1.0)), 4)
        2.0
    """
    return custom_root(
        _fixed_point_residual(fixed_point_fun),
        solve=solve,
        has_aux=has_aux,
        symmetric=symmetric,
        tol=tol,
        maxiter=maxiter,
        on_failure=on_failure,
    )


def root_jvp(
    optimality_fun: Callable[..., Any],
    sol: Any,
    args: tuple,
    tangents: tuple,
    *,
    solve: str | Callable = "auto",
    symmetric: bool = False,
    tol: float | None = None,
    maxiter: int | None = None,
    on_failure: str = "raise",
) -> Any:
    """ẋ = -A⁻¹ (∂F/∂θ) θ̇ at a root `sol` of `optimality_fun(x, *args)`.

    Examples:
        >>> from adkit import implicit
        >>> F = lambda x, a: x**2 - a
        >>> float(implicit.root_jvp(F, 2.0, (4.0,), (1.0,)))     # d√a = da / (2 √a)
        0.25
    """
    args, tangents = tuple(args), tuple(tangents)
    _, b = jax.jvp(lambda *a: optimality_fun(sol, *a), args, tangents)
    _, linear_tol = tolerances(tol, _dtype(sol))
    return tangent_solve(
        _matvec(optimality_fun, sol, args, {}),
        _neg(b),
        method=check_method(solve),
        symmetric=symmetric,
        tol=linear_tol,
        maxiter=maxiter,
        on_failure=check_policy(on_failure),
    )


def root_vjp(
    optimality_fun: Callable[..., Any],
    sol: Any,
    args: tuple,
    cotangent: Any,
    *,
    solve: str | Callable = "auto",
    symmetric: bool = False,
    tol: float | None = None,
    maxiter: int | None = None,
    on_failure: str = "raise",
) -> tuple:
    """θ̄ = -(∂F/∂θ)ᵀ A⁻ᵀ x̄ at a root `sol`: one cotangent per element of `args`.

    Examples:
        >>> from adkit import implicit
        >>> F = lambda x, a: x**2 - a
        >>> [float(g) for g in implicit.root_vjp(F, 2.0, (4.0,), 1.0)]
        [0.25]
    """
    args = tuple(args)
    _, linear_tol = tolerances(tol, _dtype(sol))
    _, pullback_x = jax.vjp(lambda x: optimality_fun(x, *args), sol)
    size = sum(np.size(leaf) for leaf in jax.tree.leaves(sol))
    u = run(
        lambda v: pullback_x(v)[0],  # Aᵀ v
        cotangent,
        method=resolve(check_method(solve), size, symmetric),
        symmetric=symmetric,
        tol=linear_tol,
        maxiter=maxiter,
        policy=check_policy(on_failure),
        solve_name="adjoint",
    )
    _, pullback_args = jax.vjp(lambda *a: optimality_fun(sol, *a), *args)
    return pullback_args(_neg(u))


# --- the rule ---
class _Options(eqx.Module):
    solve: Any = eqx.field(static=True)
    has_aux: bool = eqx.field(static=True)
    symmetric: bool = eqx.field(static=True)
    tol: float | None = eqx.field(static=True)
    maxiter: int | None = eqx.field(static=True)
    on_failure: str = eqx.field(static=True)
    # adkit's own solvers return (x*, Stats): the check reads their residual and iterations
    # instead of recomputing F(x*) (the same number, computed where the solver stopped)
    own_stats: bool = eqx.field(static=True, default=False)


def _attach(solver, optimality_fun, options: _Options, init, args, kwargs):
    """Runs `solver` under a custom JVP rule built from `optimality_fun`."""
    dynamic, static = eqx.partition((args, kwargs), eqx.is_array)

    def call(fun, x, dyn):
        a, k = eqx.combine(dyn, static)
        return fun(x, *a, **k)

    def forward(init, dyn):
        """The solve and its check: `(out, factor)`, factor 1 (or NaN: a failed solve)."""
        out = call(lambda x, *a, **k: solver(x, *a, **k), init, dyn)
        x, aux = (out[0], out[1]) if options.has_aux else (out, None)
        _check_structure(x, init)
        forward_tol, _ = tolerances(options.tol, _dtype(x))
        if options.own_stats:
            relative, iterations = aux.residual, aux.iterations
        else:
            residual = two_norm(call(optimality_fun, x, dyn))
            relative = residual / jnp.maximum(1.0, two_norm(call(optimality_fun, init, dyn)))
            iterations = jnp.asarray(-1)
        x, factor = enforce(
            x,
            relative,
            iterations,
            tol=forward_tol,
            policy=options.on_failure,
            solve="forward",
            method=getattr(solver, "__name__", "solver"),
            hint="Give the solver more iterations or a better start, or check that a root "
            "exists (a fixed-point map must be a contraction near it).",
            with_factor=True,
        )
        return ((x, aux) if options.has_aux else x), factor

    @jax.custom_jvp
    def solved(init, dyn):
        return forward(init, dyn)[0]

    @solved.defjvp
    def solved_jvp(primals, tangents):
        init, dyn = primals
        _, dyn_dot = tangents
        out, factor = forward(init, dyn)
        x = out[0] if options.has_aux else out
        _, b = jax.jvp(lambda d: call(optimality_fun, x, d), (dyn,), (dyn_dot,))
        _, linear_tol = tolerances(options.tol, _dtype(x))
        x_dot = tangent_solve(
            _matvec(lambda x_: call(optimality_fun, x_, dyn), x, (), {}),
            _neg(b),
            method=options.solve,
            symmetric=options.symmetric,
            tol=linear_tol,
            maxiter=options.maxiter,
            on_failure=options.on_failure,
        )
        # the forward solve's verdict reaches the derivative even where it does not read x*
        x_dot = jax.tree.map(lambda t: t * factor.astype(jnp.result_type(t)), x_dot)
        if options.has_aux:
            return out, (x_dot, jax.tree.map(_zero_tangent, out[1]))
        return out, x_dot

    return solved(init, dynamic)


def _fixed_point_residual(fixed_point_fun):
    # F(x) = x - T(x): its Jacobian is I - ∂T/∂x, the form the Neumann series sums
    def residual(x, *args, **kwargs):
        return jax.tree.map(lambda p, q: p - q, x, fixed_point_fun(x, *args, **kwargs))

    return residual


def _matvec(optimality_fun, sol, args, kwargs):
    return lambda v: jax.jvp(lambda x: optimality_fun(x, *args, **kwargs), (sol,), (v,))[1]


def _neg(tree):
    return jax.tree.map(lambda leaf: -leaf, tree)


def _zero_tangent(leaf):
    if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
        return jnp.zeros_like(leaf)
    return np.zeros(np.shape(leaf), jax.dtypes.float0)


def _dtype(tree):
    leaves = [
        leaf for leaf in jax.tree.leaves(tree) if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)
    ]
    if not leaves:
        raise TypeError(
            "adkit.implicit: the solution has no floating-point leaves, so it has no derivative. "
            "Return the solution x* (a pytree of float arrays) from the solver."
        )
    return jnp.result_type(*leaves)


def _check_structure(x, init):
    if jax.tree.structure(x) != jax.tree.structure(init):
        raise TypeError(
            f"adkit.implicit: the solver returned a solution structured as "
            f"{jax.tree.structure(x)}, but `init` is {jax.tree.structure(init)}. Return x* "
            "shaped like `init` (with `has_aux=True`, return `(x*, aux)`)."
        )
