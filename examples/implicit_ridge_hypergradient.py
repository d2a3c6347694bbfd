"""The hypergradient of ridge regression: implicit differentiation, unrolling, and the exact value.

x*(λ) = argmin ½‖X x - y‖² + ½λ‖x‖² solves (XᵀX + λI) x = Xᵀy. We find it with conjugate
gradients and ask how a validation loss L(λ) = ½‖V x*(λ) - w‖² changes with λ. With
A = XᵀX + λI, differentiating the normal equations gives dx*/dλ = -A⁻¹x*, so
L'(λ) = (V x* - w)ᵀ V dx*/dλ: the exact value, from two dense solves.

`implicit.custom_root` gets the same number from the optimality condition alone, whatever
solver found x*; backprop through K steps of gradient descent only approaches it as K grows.

python examples/implicit_ridge_hypergradient.py
"""

import itertools

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from jax.scipy.sparse.linalg import cg  # noqa: E402

from adkit import implicit  # noqa: E402


def make_data(n=500, d=50, seed=0):
    rng = np.random.default_rng(seed)
    # features on scales from 1 down to 1/30: an ill-conditioned problem, as real ones are
    X = rng.normal(size=(n, d)) / np.sqrt(n) * np.geomspace(1.0, 1 / 30, d)
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    V = rng.normal(size=(n // 5, d)) / np.sqrt(n)
    w = V @ rng.normal(size=d)
    return tuple(jnp.asarray(a, jnp.float64) for a in (X, y, V, w))


def optimality(x, lam, X, y):
    """The gradient of the ridge objective: zero exactly at x*(λ)."""
    return X.T @ (X @ x - y) + lam * x


@implicit.custom_root(optimality, symmetric=True, solve="cg", tol=1e-12)
def ridge_cg(init, lam, X, y):
    """x*(λ) by conjugate gradients; never differentiated itself."""
    matvec = lambda v: X.T @ (X @ v) + lam * v
    return cg(matvec, X.T @ y, x0=init, tol=1e-14, maxiter=10 * X.shape[1])[0]


def ridge_unrolled(lam, X, y, steps, step_size):
    """x after `steps` of gradient descent from zero: backprop differentiates every step."""
    body = lambda i, x: x - step_size * optimality(x, lam, X, y)
    return lax.fori_loop(0, steps, body, jnp.zeros(X.shape[1], X.dtype))


def validation_loss(x, V, w):
    return 0.5 * jnp.sum((V @ x - w) ** 2)


def closed_form_hypergradient(lam, X, y, V, w):
    X, y, V, w = (np.asarray(a) for a in (X, y, V, w))
    A = X.T @ X + lam * np.eye(X.shape[1])
    x = np.linalg.solve(A, X.T @ y)
    dx = -np.linalg.solve(A, x)
    return (V @ x - w) @ (V @ dx)


def main() -> None:
    X, y, V, w = make_data()
    lam = 0.05
    exact = closed_form_hypergradient(lam, X, y, V, w)

    # implicit: one adjoint CG solve at the solution, in reverse mode or forward mode
    implicit_loss = lambda lam: validation_loss(ridge_cg(jnp.zeros(X.shape[1]), lam, X, y), V, w)
    with implicit.record() as stats:
        reverse = jax.jit(jax.grad(implicit_loss))(lam)
    forward = jax.jvp(implicit_loss, (lam,), (1.0,))[1]
    for got in (reverse, forward):
        np.testing.assert_allclose(got, exact, rtol=1e-8)
    assert all(np.all(s.converged) for s in stats)
    solves = ", ".join(f"{s.solve} ({s.method}) residual {float(s.residual):.1e}" for s in stats)
    print(f"closed form   dL/dλ = {exact:.12f}")
    error = abs(float(reverse) - exact) / abs(exact)
    print(f"implicit      dL/dλ = {float(reverse):.12f}   relative error {error:.1e}")
    print(f"  its solves: {solves}")

    # unrolled: exact only in the limit; the error shrinks like the solver's own error
    eigenvalues = np.linalg.eigvalsh(np.asarray(X.T @ X))
    step_size = 1.0 / (eigenvalues[-1] + lam)
    errors = {}
    for steps in (10, 30, 100, 300, 1000):
        unrolled_loss = lambda lam, k=steps: validation_loss(
            ridge_unrolled(lam, X, y, k, step_size), V, w
        )
        got = float(jax.jit(jax.grad(unrolled_loss))(lam))
        errors[steps] = abs(got - exact) / abs(exact)
        print(f"unrolled {steps:4d} steps of gradient descent: relative error {errors[steps]:.1e}")
    values = list(errors.values())
    assert all(a > b for a, b in itertools.pairwise(values)), errors
    assert errors[10] > 1e-2 and errors[1000] < 1e-6, errors
    print("the implicit hypergradient matches the closed form; unrolling only approaches it")


if __name__ == "__main__":
    main()
