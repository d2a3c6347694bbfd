"""The linear solves of implicit differentiation: A v = b with A = ∂F/∂x at the solution.

The tangent system (forward mode) is `A ẋ = -∂F/∂θ θ̇`; the adjoint system (reverse mode) is
`Aᵀ u = x̄`, then `θ̄ = -(∂F/∂θ)ᵀ u`. adkit builds only the first, through
`lax.custom_linear_solve`, and JAX (or adkit's interpreter) transposes it into the second, calling
the same solver on `Aᵀ`. A is never formed unless a dense method is asked for: it is applied as a
JVP of F (and its transpose as a VJP), so memory is a few vectors of x's size.

Methods (`solve=`):

| method | for | memory | from |
|---|---|---|---|
| `"cg"` | symmetric positive definite A (F is a gradient at a minimum) | 4 vectors | lineax |
| `"gmres"` | any nonsingular A | `restart` vectors | lineax |
| `"bicgstab"` | any nonsingular A | 8 vectors | lineax |
| `"neumann"` | A = I - J with J a contraction (fixed points) | 3 vectors | adkit |
| `"lu"`, `"cholesky"` | small systems: A materialised by JVPs | n² | lineax |
| `"auto"` | `"lu"` up to 64 unknowns, else `"cg"` if symmetric, else `"bicgstab"` | | |

Every solve ends with adkit's residual check, `‖b - A v‖ <= tol ‖b‖` (two-norm over the whole
pytree), whatever the method reported (see `_failure`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import lineax as lx
from jax import lax

from ._failure import enforce

METHODS = ("auto", "cg", "gmres", "bicgstab", "neumann", "lu", "cholesky")
DENSE_UP_TO = 64  # "auto" solves systems of at most this many unknowns densely
DEFAULT_MAXITER = 1000
# The iterative solvers aim at this fraction of the tolerance that `run` then checks: the check
# recomputes the residual from scratch, and its rounding (or a Krylov method's recursive
# residual drifting from the true one) must not fail a solve that stopped as converged. A
# solve stopped at exactly `tol` failed the check by one rounding error (float32, 1 of 256).
AIM = 0.5
ATOL = 1e-30  # representable in float32


def check_method(solve: str | Callable) -> str | Callable:
    if callable(solve) or solve in METHODS:
        return solve
    raise ValueError(
        f"`solve` must be one of {METHODS} or a function `solve(matvec, b) -> x`, but received "
        f'{solve!r}. `"auto"` chooses from the size of the system and `symmetric=`.'
    )


def resolve(method: str | Callable, size: int, symmetric: bool) -> str | Callable:
    """The method `"auto"` stands for, for a system of `size` unknowns."""
    if method != "auto":
        return method
    if size <= DENSE_UP_TO:
        return "lu"
    return "cg" if symmetric else "bicgstab"


def two_norm(tree: Any) -> jax.Array:
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.zeros(())
    return jnp.sqrt(sum(jnp.sum(jnp.abs(leaf) ** 2) for leaf in leaves))


def tangent_solve(
    matvec: Callable[[Any], Any],
    b: Any,
    *,
    method: str | Callable,
    symmetric: bool,
    tol: float,
    maxiter: int | None,
    on_failure: str,
) -> Any:
    """Solves `matvec(v) = b` with `lax.custom_linear_solve`, so that transposing it (reverse
    mode) solves the adjoint system with the same method and the same check."""
    size = sum(jnp.size(leaf) for leaf in jax.tree.leaves(b))
    method = resolve(method, size, symmetric)
    options = dict(method=method, symmetric=symmetric, tol=tol, maxiter=maxiter, policy=on_failure)

    def solve(mv, rhs):
        return run(mv, rhs, solve_name="tangent", **options)

    def transpose_solve(vm, rhs):
        return run(vm, rhs, solve_name="adjoint", **options)

    return lax.custom_linear_solve(
        matvec, b, solve, transpose_solve=transpose_solve, symmetric=symmetric
    )


def run(matvec, b, *, method, symmetric, tol, maxiter, policy, solve_name) -> Any:
    """One solve of `matvec(v) = b` by `method`, then the residual check."""
    if callable(method):
        v, iterations, name = method(matvec, b), jnp.asarray(-1), getattr(method, "__name__", "")
    elif method == "neumann":
        v, iterations, name = (*_neumann(matvec, b, tol, maxiter), method)
    else:
        v, iterations, name = (*_lineax(matvec, b, method, symmetric, tol, maxiter), method)
    scale = two_norm(b)
    residual = two_norm(jax.tree.map(lambda x, y: x - y, b, matvec(v)))
    relative = jnp.where(scale > 0, residual / jnp.where(scale > 0, scale, 1), residual)
    hint = _HINTS.get(name, "Try another `solve=` method or a larger `maxiter`.")
    return enforce(
        v, relative, iterations, tol=tol, policy=policy, solve=solve_name, method=name, hint=hint
    )


_HINTS = {
    "cg": "CG needs A symmetric positive definite: if F is not the gradient of a function at a "
    'minimum, pass `symmetric=False` (or `solve="gmres"`); otherwise raise `maxiter`.',
    "neumann": "The Neumann series converges only when the fixed-point map is a contraction at "
    'the solution; use `solve="gmres"` or `"bicgstab"` otherwise.',
    "lu": "A is singular (or nearly) at the solution: the implicit function theorem does not "
    "apply there; check that the solution is isolated.",
    "cholesky": 'Cholesky needs A symmetric positive definite; use `solve="lu"` otherwise.',
    "gmres": "Raise `maxiter`, or precondition the problem; check A is nonsingular.",
    "bicgstab": 'Raise `maxiter`, or try `solve="gmres"`; check A is nonsingular.',
}


def _lineax(matvec, b, method, symmetric, tol, maxiter):
    structure = jax.eval_shape(lambda: b)
    tags = (lx.symmetric_tag, lx.positive_semidefinite_tag) if symmetric else ()
    if method in ("cg", "cholesky") and not symmetric:
        raise ValueError(
            f'`solve="{method}"` needs a symmetric positive definite system: pass '
            '`symmetric=True` (when F is a gradient), or use `solve="gmres"` or `"lu"`.'
        )
    operator = lx.FunctionLinearOperator(matvec, structure, tags=tags)
    steps = maxiter or DEFAULT_MAXITER
    # atol > 0: an exactly zero residual must count as converged (BiCGStab divides by it)
    krylov = dict(rtol=AIM * tol, atol=ATOL, norm=two_norm, max_steps=steps)
    solvers = {
        "cg": lambda: lx.CG(**krylov),
        "gmres": lambda: lx.GMRES(**krylov),
        "bicgstab": lambda: lx.BiCGStab(**krylov),
        "lu": lambda: lx.LU(),
        "cholesky": lambda: lx.Cholesky(),
    }
    if method in ("lu", "cholesky"):
        operator = lx.materialise(operator)
    solution = lx.linear_solve(operator, b, solvers[method](), throw=False)
    iterations = solution.stats.get("num_steps", None)
    return solution.value, jnp.asarray(-1 if iterations is None else iterations)


def _neumann(matvec, b, tol, maxiter):
    # A = I - J:  v = Σₖ Jᵏ b,  iterated as v ← b + J v = b + v - A v, until
    # ‖b - A v‖ <= AIM tol ‖b‖
    steps = maxiter or DEFAULT_MAXITER
    scale = two_norm(b)
    sub = lambda x, y: jax.tree.map(lambda p, q: p - q, x, y)
    add = lambda x, y: jax.tree.map(lambda p, q: p + q, x, y)

    def cond(state):
        _v, r, k = state
        return (k < steps) & (two_norm(r) > AIM * tol * scale)

    def body(state):
        v, r, k = state
        v = add(v, r)
        return v, sub(b, matvec(v)), k + 1

    v, _, k = lax.while_loop(cond, body, (b, sub(b, matvec(b)), jnp.asarray(1)))
    return v, k
