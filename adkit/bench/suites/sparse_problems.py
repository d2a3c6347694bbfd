"""Sparse-Jacobian problems for adkit.sparse's benchmarks and tests.

Each maker returns `(f, x)`: a function of one array and a point. The Jacobians are structurally
sparse: stencils (Brusselator, Bratu, Laplacian, heat steps), local convolutions, and indexing.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def brusselator(n: int = 32, dtype=None):
    """The 2D Brusselator reaction-diffusion right-hand side on a periodic n x n grid.

    State (n, n, 2) flattened: u = [..., 0], v = [..., 1]. Each row couples a 5-point periodic
    stencil of its own species with the other species at the same point.
    """
    a, b, alpha = 3.4, 1.0, 10.0
    grid = np.linspace(0.0, 1.0, n, dtype=np.float64)
    xg, yg = np.meshgrid(grid, grid, indexing="ij")
    forcing = np.where((xg - 0.3) ** 2 + (yg - 0.6) ** 2 <= 0.01, 5.0, 0.0)
    scale = alpha * (n - 1) ** 2

    def lap(w):
        return (
            jnp.roll(w, 1, 0)
            + jnp.roll(w, -1, 0)
            + jnp.roll(w, 1, 1)
            + jnp.roll(w, -1, 1)
            - 4.0 * w
        )

    def f(x):
        s = x.reshape(n, n, 2)
        u, v = s[..., 0], s[..., 1]
        du = scale * lap(u) + b + u**2 * v - (a + 1.0) * u + forcing
        dv = scale * lap(v) + a * u - u**2 * v
        return jnp.stack([du, dv], axis=-1).reshape(-1)

    rng = np.random.default_rng(0)
    return f, jnp.asarray(rng.uniform(0.5, 1.5, size=2 * n * n), _float(dtype))


def bratu(n: int = 256, lam: float = 1.0, dtype=None):
    """The 1D Bratu problem u'' + λ eᵘ = 0 with zero Dirichlet boundaries: tridiagonal."""
    h2 = (1.0 / (n + 1)) ** 2

    def f(u):
        padded = jnp.pad(u, 1)
        return (padded[:-2] - 2.0 * u + padded[2:]) / h2 + lam * jnp.exp(u)

    return f, jnp.asarray(np.random.default_rng(1).normal(size=n), _float(dtype))


def laplacian(n: int = 32, dtype=None):
    """A nonlinear 2D 5-point Laplacian problem (Dirichlet) on an n x n grid, flattened."""

    def f(x):
        u = x.reshape(n, n)
        p = jnp.pad(u, 1)
        lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * u
        return (lap + u**3).reshape(-1)

    return f, jnp.asarray(np.random.default_rng(2).normal(size=n * n), _float(dtype))


def gradient_energy(n: int = 16, dtype=None):
    """E(u) = Σ over grid edges (u_i - u_j)² + Σ u⁴/4: its Hessian has the 5-point pattern."""

    def f(x):
        u = x.reshape(n, n)
        return (
            jnp.sum((u[1:] - u[:-1]) ** 2)
            + jnp.sum((u[:, 1:] - u[:, :-1]) ** 2)
            + 0.25 * jnp.sum(x**4)
        )

    return f, jnp.asarray(np.random.default_rng(3).normal(size=n * n), _float(dtype))


def conv_net(n: int = 128, channels: int = 4, width: int = 3, dtype=None):
    """A two-layer 1D convolution net on a signal of length n (fixed weights, 'SAME' padding)."""
    rng = np.random.default_rng(4)
    w1 = jnp.asarray(rng.normal(size=(channels, 1, width)), _float(dtype))
    w2 = jnp.asarray(rng.normal(size=(1, channels, width)), _float(dtype))

    def conv(x, w):
        return lax.conv_general_dilated(x, w, (1,), "SAME", dimension_numbers=("NCH", "OIH", "NCH"))

    def f(x):
        h = jnp.tanh(conv(x.reshape(1, 1, n), w1))
        return conv(h, w2).reshape(-1)

    return f, jnp.asarray(rng.normal(size=n), _float(dtype))


def heat_steps(n: int = 100, steps: int = 20, dtype=None):
    """`steps` explicit heat-equation steps inside `lax.scan`: a band of half-width `steps`."""

    def f(u):
        def step(u, _):
            p = jnp.pad(u, 1)
            return u + 0.2 * (p[:-2] - 2.0 * u + p[2:]) - 0.01 * u**3, None

        return lax.scan(step, u, None, length=steps)[0]

    return f, jnp.asarray(np.random.default_rng(5).normal(size=n), _float(dtype))


def while_steps(n: int = 64, steps: int = 3, dtype=None):
    """A `while_loop` with a static trip count: `steps` tridiagonal smoothing steps."""

    def f(u):
        def body(carry):
            i, u = carry
            p = jnp.pad(u, 1)
            return i + 1, jnp.sin(p[:-2] + p[2:]) + u

        return lax.while_loop(lambda c: c[0] < steps, body, (0, u))[1]

    return f, jnp.asarray(np.random.default_rng(6).normal(size=n), _float(dtype))


def gather_scatter(n: int = 40, dtype=None):
    """Gather and scatter with constant indices (a permutation, a scatter-add, a set)."""
    rng = np.random.default_rng(7)
    perm = rng.permutation(n)
    targets = rng.integers(0, n // 2, size=n)

    def f(x):
        gathered = x[perm] * x
        added = jnp.zeros(n // 2, x.dtype).at[targets].add(jnp.sin(x))
        written = x.at[jnp.arange(0, n, 4)].set(x[::4] ** 2 + x[1::4])
        return jnp.concatenate([gathered, added, written])

    return f, jnp.asarray(rng.normal(size=n), _float(dtype))


def _float(dtype):
    """The requested dtype, or JAX's default float (float64 with x64 enabled)."""
    return jnp.result_type(float) if dtype is None else dtype


@jax.custom_jvp
def straight_through_round(x):
    """`round(x)` whose derivative is 2 (a scaled straight-through estimator)."""
    return jnp.round(x)


@straight_through_round.defjvp
def _straight_through_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.round(x), 2.0 * t


def straight_through(n: int = 16, dtype=None):
    """A straight-through `custom_jvp`: the primal is piecewise constant, the Jacobian is 2I."""
    return straight_through_round, jnp.asarray(
        np.random.default_rng(8).normal(size=n), _float(dtype)
    )


JACOBIAN_PROBLEMS = {
    "brusselator_32": lambda: brusselator(32),
    "bratu": bratu,
    "laplacian_32": lambda: laplacian(32),
    "conv_net": conv_net,
    "heat_scan_20": heat_steps,
    "while_static": while_steps,
    "gather_scatter": gather_scatter,
    "straight_through": straight_through,
}
