"""Problems with closed forms, for adkit.implicit's benchmarks and tests.

Ridge regression: x*(λ) = argmin ½‖X x - y‖² + ½λ‖x‖², i.e. (XᵀX + λI) x = Xᵀy. With
A = XᵀX + λI (dA/dλ = I):  x' = -A⁻¹x,  x'' = -2A⁻¹x'. For the validation loss
L(λ) = ½‖V x*(λ) - w‖²:  L' = rᵀV x',  L'' = ‖V x'‖² + rᵀV x'' with r = V x* - w.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.sparse.linalg import cg

from adkit import implicit


def ridge_data(n=2000, d=200, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) / np.sqrt(n)
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    V = rng.normal(size=(n // 4, d)) / np.sqrt(n)
    w = V @ rng.normal(size=d)
    return tuple(jnp.asarray(a, dtype) for a in (X, y, V, w))


def ridge_optimality(x, lam, X, y):
    # the gradient of the ridge objective, Xᵀ(Xx - y) + λx, as (Xx - y) X: XLA on a CPU
    # multiplies by Xᵀ 3.5x slower than by X when X is an argument
    return (X @ x - y) @ X + lam * x


def ridge_solver(tol, **options):
    """An iterative ridge solver (CG on the normal equations) with implicit differentiation."""

    @implicit.custom_root(ridge_optimality, symmetric=True, tol=tol, **options)
    def solve(init, lam, X, y):
        matvec = lambda v: (X @ v) @ X + lam * v
        return cg(matvec, y @ X, x0=init, tol=tol * 1e-2, maxiter=10 * X.shape[1])[0]

    return solve


def validation_loss(x, V, w):
    return 0.5 * jnp.sum((V @ x - w) ** 2)


def ridge_closed_form(lam, X, y, V, w):
    """(L, L', L'') at λ, from the formulas above, with dense solves in float64."""
    X, y, V, w = (np.asarray(a, np.float64) for a in (X, y, V, w))
    A = X.T @ X + lam * np.eye(X.shape[1])
    x = np.linalg.solve(A, X.T @ y)
    x1 = -np.linalg.solve(A, x)
    x2 = -2 * np.linalg.solve(A, x1)
    r = V @ x - w
    return 0.5 * r @ r, r @ (V @ x1), (V @ x1) @ (V @ x1) + r @ (V @ x2)


def deq_params(width=256, inputs=32, dtype=np.float64, seed=0):
    """z = tanh(W z + U x + b) with ‖W‖₂ = 0.5 (a contraction) and a batch of inputs."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(width, width))
    W *= 0.5 / np.linalg.norm(W, 2)
    U = rng.normal(size=(width, inputs)) / np.sqrt(inputs)
    b = 0.1 * rng.normal(size=width)
    return {k: jnp.asarray(v, dtype) for k, v in {"W": W, "U": U, "b": b}.items()}


def deq_cell(z, params, x):
    return jnp.tanh(params["W"] @ z + params["U"] @ x + params["b"])


def deq_unrolled(params, x, steps):
    """z after `steps` plain iterations from zero, differentiated by backprop (the oracle)."""
    z0 = jnp.zeros(params["W"].shape[0], x.dtype)
    return jax.lax.fori_loop(0, steps, lambda i, z: deq_cell(z, params, x), z0)
