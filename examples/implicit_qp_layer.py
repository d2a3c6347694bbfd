"""A differentiable layer that solves a box-constrained quadratic program.

    x*(Q, c) = argmin ½ xᵀQx + cᵀx   subject to   lo <= x <= hi

The forward pass is projected gradient descent: x* is the fixed point of
T(x) = clip(x - η(Qx + c), lo, hi). Differentiating that fixed point implicitly gives the
derivative the KKT conditions give: where the solution sits strictly inside the box
(the free coordinates F), ∂T/∂x = I - ηQ; where a bound is active with a nonzero multiplier,
the clip is flat and ∂T/∂x = 0. The implicit function theorem then yields

    dx_F = -Q_FF⁻¹ (dQ x* + dc)_F,      dx_A = 0 on the active coordinates A,

which this script checks against central finite differences in float64 and against the
formula, at a point where the active set does not change under small perturbations.

python examples/implicit_qp_layer.py
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from adkit import implicit  # noqa: E402

N = 12
LO, HI = -1.0, 1.0


def projected_gradient_step(x, Q, c, step_size):
    return jnp.clip(x - step_size * (Q @ x + c), LO, HI)


def qp_step(x, Q, c):
    """T(x; Q, c), with the step size 1/‖Q‖₂ computed from Q (it only changes the speed of the
    iteration, never the fixed point)."""
    return projected_gradient_step(x, Q, c, 1.0 / jnp.linalg.norm(Q, 2))


@implicit.custom_fixed_point(qp_step, tol=1e-12)
def solve_qp(init, Q, c):
    """Projected gradient descent until x no longer moves; never differentiated itself."""
    step_size = 1.0 / jnp.linalg.norm(Q, 2)

    def cond(state):
        x, k = state
        moved = jnp.linalg.norm(x - projected_gradient_step(x, Q, c, step_size))
        return (k < 20_000) & (moved > 1e-14)

    def body(state):
        x, k = state
        return projected_gradient_step(x, Q, c, step_size), k + 1

    return lax.while_loop(cond, body, (init, 0))[0]


def qp_layer(Q, c):
    return solve_qp(jnp.zeros(Q.shape[0], Q.dtype), Q, c)


def problem(seed=8):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(N, N))
    Q = M @ M.T / N + 0.5 * np.eye(N)  # symmetric positive definite
    c = 1.5 * rng.normal(size=N)
    return jnp.asarray(Q), jnp.asarray(c)


def main() -> None:
    Q, c = problem()
    x = qp_layer(Q, c)

    # the KKT conditions: the gradient g = Qx + c vanishes on the free coordinates, and pushes
    # outward (g <= 0 at hi, g >= 0 at lo) on the active ones, with a margin: strict
    # complementarity, so the active set is stable and the solution differentiable
    g = np.asarray(Q @ x + c)
    x_np = np.asarray(x)
    at_lo, at_hi = np.isclose(x_np, LO, atol=1e-12), np.isclose(x_np, HI, atol=1e-12)
    free = ~(at_lo | at_hi)
    assert 0 < free.sum() < N, "want some free and some active coordinates"
    np.testing.assert_allclose(g[free], 0.0, atol=1e-10)
    assert np.all(g[at_lo] > 1e-2) and np.all(g[at_hi] < -1e-2)
    assert np.all(np.abs(x_np[free]) < HI - 1e-2)
    print(f"x* has {free.sum()} free coordinates, {at_lo.sum()} at lo, {at_hi.sum()} at hi")

    # the Jacobian dx*/dc: -Q_FF⁻¹ on the free block, zero on every active row and column
    jac = np.asarray(jax.jacrev(qp_layer, argnums=1)(Q, c))
    expected = np.zeros((N, N))
    expected[np.ix_(free, free)] = -np.linalg.inv(np.asarray(Q)[np.ix_(free, free)])
    np.testing.assert_allclose(jac, expected, atol=1e-10)
    np.testing.assert_allclose(jax.jacfwd(qp_layer, argnums=1)(Q, c), expected, atol=1e-10)
    print(f"dx*/dc against -Q_FF⁻¹ on the free block: max error {np.max(abs(jac - expected)):.1e}")

    # a downstream loss, differentiated in c and in Q, against central finite differences
    target = jnp.linspace(-0.5, 0.5, N)
    loss = lambda Q, c: jnp.sum((qp_layer(Q, c) - target) ** 2)
    grad_Q, grad_c = jax.grad(loss, argnums=(0, 1))(Q, c)
    h = 1e-6
    rng = np.random.default_rng(1)
    symmetric = (lambda M: M + M.T)(rng.normal(size=(N, N)))  # Q stays symmetric
    for name, grad, direction, perturb in (
        ("c", grad_c, rng.normal(size=N), lambda t, d: loss(Q, c + t * d)),
        ("Q", grad_Q, symmetric, lambda t, d: loss(Q + t * d, c)),
    ):
        finite_difference = (perturb(h, direction) - perturb(-h, direction)) / (2 * h)
        directional = jnp.vdot(grad, direction)
        np.testing.assert_allclose(directional, finite_difference, rtol=1e-6)
        print(
            f"d loss/d{name} along a random direction: implicit {float(directional):+.10f}, "
            f"finite differences {float(finite_difference):+.10f}"
        )

    # as a layer: a batch of linear terms, jitted, one solve and one adjoint solve per sample
    cs = c + 0.1 * jax.random.normal(jax.random.key(0), (8, N), jnp.float64)
    with implicit.record() as stats:
        batch_grads = jax.jit(jax.vmap(jax.grad(loss, argnums=1), in_axes=(None, 0)))(Q, cs)
    assert batch_grads.shape == (8, N) and np.all(np.isfinite(batch_grads))
    assert all(np.all(s.converged) for s in stats)
    print("the QP layer's implicit derivatives agree with the KKT formula and finite differences")


if __name__ == "__main__":
    main()
