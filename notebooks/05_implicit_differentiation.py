# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Implicit differentiation: derivatives of solutions, not of solvers
#
# Many quantities in a model are not written as formulas but defined as the *solution* of an
# equation: the root of a nonlinear system, the minimiser of a training loss, the equilibrium of
# a recurrent map. A program computes them with an iterative solver, and automatic
# differentiation can differentiate that program step by step ("unrolling"). But the solver is
# an accident: only the equation the solution satisfies matters. This notebook:
#
# 1. derives the derivative of a solution from the implicit function theorem;
# 2. compares it with unrolling, in accuracy and in memory, on ridge regression;
# 3. checks a small deep-equilibrium layer's gradient against backprop through its iterations;
# 4. shows what `adkit.implicit` does when a solve fails, and how to watch every solve.

# %%
import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax import lax
from jax.scipy.sparse.linalg import cg

from adkit import implicit

jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## 1. The implicit function theorem
#
# Let $x^\star(\theta)$ be defined by $F(x^\star(\theta), \theta) = 0$, for a smooth
# $F: \mathbb{R}^n \times \mathbb{R}^p \to \mathbb{R}^n$. Differentiate the identity along a
# direction $\dot\theta$ of the parameters: the chain rule gives
#
# $$\partial_x F \,\dot x + \partial_\theta F \,\dot\theta = 0 .$$
#
# Where $A = \partial_x F(x^\star, \theta)$ is nonsingular, the theorem says $x^\star$ is a
# differentiable function of $\theta$ nearby, and its tangent is
#
# $$\dot x = -A^{-1}\, \partial_\theta F \,\dot\theta \qquad \text{(one linear solve).}$$
#
# Reverse mode needs the transpose of this linear map, $\dot\theta \mapsto \dot x$. For a
# cotangent $\bar x$ (the gradient of a loss with respect to $x^\star$):
#
# $$\bar\theta = -(\partial_\theta F)^\top A^{-\top} \bar x
#   \qquad\text{i.e.}\qquad A^\top u = \bar x, \quad \bar\theta = -(\partial_\theta F)^\top u ,$$
#
# the *adjoint* solve. Nothing here mentions how $x^\star$ was found. $A$ is never formed: a
# Krylov method only needs products $A v$ (a JVP of $F$) or $A^\top u$ (a VJP), so memory is a
# few vectors the size of $x$.
#
# A classic: Kepler's equation $E - e \sin E = M$ gives the eccentric anomaly $E$ of an orbit
# from the mean anomaly $M$ and the eccentricity $e$. It has no closed-form solution, but its
# derivatives do: with $A = 1 - e \cos E$,
# $\partial E / \partial M = 1/A$ and $\partial E / \partial e = \sin E / A$.


# %%
def kepler(E, M, e):
    return E - e * jnp.sin(E) - M


@implicit.custom_root(kepler, tol=1e-12)
def eccentric_anomaly(init, M, e):
    # fixed-point iteration E <- M + e sin E: slow and never differentiated, and that is fine
    return lax.fori_loop(0, 200, lambda i, E: M + e * jnp.sin(E), init)


M, e = 1.0, 0.5
E = eccentric_anomaly(M, M, e)
dE_dM, dE_de = jax.grad(eccentric_anomaly, argnums=(1, 2))(M, M, e)
A = 1 - e * jnp.cos(E)
print(f"E = {float(E):.12f},  residual {float(kepler(E, M, e)):.1e}")
print(f"dE/dM = {float(dE_dM):.12f}   1/A      = {float(1 / A):.12f}")
print(f"dE/de = {float(dE_de):.12f}   sin(E)/A = {float(jnp.sin(E) / A):.12f}")
np.testing.assert_allclose([dE_dM, dE_de], [1 / A, jnp.sin(E) / A], rtol=1e-12)

# %% [markdown]
# `custom_root` turned the solver's output into a differentiable function of `(M, e)`: the
# `init` argument gets a zero derivative, and every other argument gets its derivative from
# the theorem. Given a root, `root_jvp` and `root_vjp` apply the two formulas directly: the
# tangent along $(\dot M, \dot e)$, and the cotangents of both parameters for one $\bar x$.

# %%
tangent = implicit.root_jvp(kepler, E, (M, e), (1.0, 0.0))
cotangents = implicit.root_vjp(kepler, E, (M, e), 1.0)
print("root_jvp along M:", float(tangent), "  root_vjp:", [float(c) for c in cotangents])

# %% [markdown]
# ## 2. Unrolling versus the implicit function theorem
#
# Ridge regression, $x^\star(\lambda) = \arg\min_x \tfrac12\|Xx - y\|^2 + \tfrac12\lambda\|x\|^2$,
# solves $F(x, \lambda) = X^\top(Xx - y) + \lambda x = 0$. Tuning $\lambda$ on a validation
# set needs the *hypergradient* of $L(\lambda) = \tfrac12\|V x^\star(\lambda) - w\|^2$. Here
# $A = X^\top X + \lambda I$ and $\partial_\lambda F = x$, so $dx^\star/d\lambda = -A^{-1} x^\star$
# and $L' = (Vx^\star - w)^\top V \, dx^\star/d\lambda$: exact, from two dense solves.
#
# Three ways to compute $L'$:
#
# - **exact**: the formula above;
# - **implicit**: conjugate gradients for $x^\star$, wrapped in `custom_root` (the adjoint
#   solve is CG too, since $A$ is symmetric positive definite);
# - **unrolled**: $K$ steps of gradient descent written with `lax.fori_loop`, differentiated
#   by backprop through every step.

# %%
rng = np.random.default_rng(0)
n, d = 500, 200
X = jnp.asarray(rng.normal(size=(n, d)) / np.sqrt(n) * np.geomspace(1, 1 / 20, d))
y = X @ rng.normal(size=d) + 0.3 * jnp.asarray(rng.normal(size=n))
V = jnp.asarray(rng.normal(size=(n // 5, d)) / np.sqrt(n))
w = V @ rng.normal(size=d)
lam = 0.05


def optimality(x, lam):
    return X.T @ (X @ x - y) + lam * x


def validation_loss(x):
    return 0.5 * jnp.sum((V @ x - w) ** 2)


Xn, yn, Vn, wn = (np.asarray(a) for a in (X, y, V, w))
Adense = Xn.T @ Xn + lam * np.eye(d)
x_star = np.linalg.solve(Adense, Xn.T @ yn)
dx_dlam = -np.linalg.solve(Adense, x_star)
exact = (Vn @ x_star - wn) @ (Vn @ dx_dlam)


def implicit_hyper(tol):
    @implicit.custom_root(optimality, symmetric=True, solve="cg", tol=tol)
    def ridge(init, lam):
        matvec = lambda v: X.T @ (X @ v) + lam * v
        return cg(matvec, X.T @ y, x0=init, tol=tol / 10, maxiter=10 * d)[0]

    return lambda lam: validation_loss(ridge(jnp.zeros(d), lam))


step_size = 1 / (np.linalg.eigvalsh(Adense)[-1])


def unrolled_hyper(steps):
    def ridge(lam):
        body = lambda i, x: x - step_size * optimality(x, lam)
        return lax.fori_loop(0, steps, body, jnp.zeros(d))

    return lambda lam: validation_loss(ridge(lam))


def measure(loss):
    """The hypergradient's relative error and the compiled gradient's XLA scratch memory."""
    compiled = jax.jit(jax.grad(loss)).lower(lam).compile()
    error = abs(float(compiled(lam)) - exact) / abs(exact)
    return error, compiled.memory_analysis().temp_size_in_bytes


steps_list = [10, 30, 100, 300, 1000, 3000]
unrolled = [measure(unrolled_hyper(k)) for k in steps_list]
implicit_error, implicit_bytes = measure(implicit_hyper(1e-12))
for k, (err, mem) in zip(steps_list, unrolled, strict=True):
    print(f"unrolled {k:5d} steps: relative error {err:.1e}, temp memory {mem / 1e3:8.1f} kB")
print(
    f"implicit:          relative error {implicit_error:.1e}, "
    f"temp memory {implicit_bytes / 1e3:8.1f} kB"
)
assert implicit_error < 1e-8
assert unrolled[-1][1] > 10 * implicit_bytes  # backprop stores every iterate

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.loglog(steps_list, [u[0] for u in unrolled], "o-", label="unrolled")
ax1.axhline(implicit_error, color="C1", ls="--", label="implicit")
ax1.set(xlabel="unrolled steps K", ylabel="relative error of dL/dλ", title="accuracy")
ax2.loglog(steps_list, [u[1] / 1e3 for u in unrolled], "o-", label="unrolled")
ax2.axhline(implicit_bytes / 1e3, color="C1", ls="--", label="implicit")
ax2.set(xlabel="unrolled steps K", ylabel="XLA temp memory (kB)", title="memory of the gradient")
for ax in (ax1, ax2):
    ax.legend()
fig.tight_layout()

# %% [markdown]
# Unrolling converges to the right answer, at the speed of the solver itself (gradient
# descent is slow on this ill-conditioned problem), and its memory grows linearly in $K$:
# reverse mode stores every iterate to run the chain rule backwards. The implicit gradient
# costs one extra linear solve and a constant few vectors, whatever the solver did. (Once it
# has converged, unrolling is as accurate as the arithmetic allows; the implicit gradient is
# as accurate as the tolerance it was given, here $10^{-12}$.)
#
# The implicit formula holds *at* the solution, so its accuracy follows the accuracy of the
# forward solve. `tol` sets both the check on the forward solve and the tolerance of the
# adjoint solve:

# %%
for tol in (1e-3, 1e-6, 1e-9, 1e-12):
    print(f"tol {tol:.0e}: relative error {measure(implicit_hyper(tol))[0]:.1e}")

# %% [markdown]
# ## 3. A deep-equilibrium layer
#
# A deep-equilibrium (DEQ) layer replaces a stack of $K$ identical layers
# $z_{k+1} = f(z_k, x)$ by its limit: the fixed point $z^\star = f(z^\star, x)$. In fixed-point
# form $F(z, \theta) = z - f_\theta(z, x)$, so $A = I - \partial_z f$, and when $f$ is a
# contraction the adjoint solve $A^\top u = \bar z$ is a Neumann series
# $u = \sum_k (\partial_z f^\top)^k \bar z$: backprop through the infinitely deep network
# without storing any layer.
#
# `implicit.DEQ` wraps an equinox cell; its forward pass uses Anderson acceleration. With
# $\|W\|_2 = 0.9$ the cell below is a contraction ($\tanh$ is 1-Lipschitz), so backprop
# through enough unrolled iterations (400: $0.9^{400} \approx 5 \cdot 10^{-19}$) converges to
# the same gradient: a check.


# %%
class Cell(eqx.Module):
    W: jax.Array
    U: jax.Array
    b: jax.Array

    def __call__(self, z, x):
        return jnp.tanh(self.W @ z + self.U @ x + self.b)


width, inputs = 32, 4
keys = jax.random.split(jax.random.key(0), 4)
basis, _ = jnp.linalg.qr(jax.random.normal(keys[0], (width, width)))
cell = Cell(
    basis @ jnp.diag(jnp.linspace(-0.9, 0.9, width)) @ basis.T,  # symmetric, ‖W‖₂ = 0.9
    0.2 * jax.random.normal(keys[1], (width, inputs)),
    jnp.zeros(width),
)
xs = jax.random.normal(keys[2], (16, inputs))
targets = jax.random.normal(keys[3], (16, width))


def deq_layer(cell, x, solver="anderson"):
    return implicit.DEQ(cell, (width,), solver=solver, tol=1e-12)(x)


def unrolled_layer(cell, x, steps=400):
    return lax.fori_loop(0, steps, lambda i, z: cell(z, x), jnp.zeros(width))


def deq_loss(cell, layer):
    return jnp.mean((jax.vmap(lambda x: layer(cell, x))(xs) - targets) ** 2)


with implicit.record() as stats:
    g_implicit = jax.grad(deq_loss)(cell, deq_layer)
g_unrolled = jax.grad(deq_loss)(cell, unrolled_layer)
for name in ("W", "U", "b"):
    a, b = getattr(g_implicit, name), getattr(g_unrolled, name)
    print(f"d loss/d{name}: max difference {float(jnp.max(jnp.abs(a - b))):.1e}")
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
with implicit.record() as plain:
    jax.vmap(lambda x: deq_layer(cell, x, solver="fixed_point_iteration"))(xs)
for s in stats + plain:
    print(f"{s.solve:8s} {s.method:22s} iterations per sample: {s.iterations}")
assert np.mean(stats[0].iterations) < np.mean(plain[0].iterations)

# %% [markdown]
# Anderson acceleration reaches $10^{-12}$ in about half the iterations of plain iteration
# (whose every step backprop would have to store). The Neumann series is plain iteration on the
# linearised, transposed map, so the adjoint takes about as many steps as plain forward
# iteration, storing three vectors; a Krylov method (`DEQ(..., solve="gmres")`) would
# accelerate it as Anderson accelerates the forward pass. For training a DEQ classifier with
# optax, see `examples/implicit_deq_classifier.py`.
#
# ## 4. When a solve fails
#
# The theorem needs a root. If the solver stops short, the formula still produces numbers:
# finite, plausible and wrong. `adkit.implicit` checks the residual of every solve (the
# forward solve and each linear solve) against its tolerance, under `jit` and `vmap` too, and
# applies `on_failure=`: `"raise"` (the default), `"nan"`, or `"warn"`.
#
# $T(x) = 1.5x + a$ is not a contraction: fixed-point iteration runs away from its fixed point
# $x = -2a$.

# %%
expanding = lambda x, a: 1.5 * x + a


def solve(a, on_failure):
    return implicit.fixed_point_iteration(
        expanding, jnp.zeros(3), a, maxiter=50, on_failure=on_failure
    ).value


a = jnp.ones(3)
print("value:   ", solve(a, "nan"))
print("gradient:", jax.grad(lambda a: jnp.sum(solve(a, "nan")))(a))
assert np.all(np.isnan(jax.grad(lambda a: jnp.sum(solve(a, "nan")))(a)))

try:
    solve(a, "raise")
except implicit.ImplicitSolveError as err:
    print(f"\nImplicitSolveError: {err}")

# %% [markdown]
# `implicit.record()` collects every solve's statistics inside a block: which solve, which
# method, the residual reached, the tolerance, the iterations (one per sample under `vmap`)
# and whether it converged. Here a batch of three problems, one of which cannot converge
# (for $|s| \ge 1$ the map $x \mapsto s x + a$ is not a contraction):

# %%
scaled = lambda x, s, a: s * x + a  # x* = a / (1 - s)


def batch_solve(s):
    return implicit.fixed_point_iteration(
        scaled, jnp.zeros(()), s, 1.0, maxiter=1000, tol=1e-10, on_failure="nan"
    ).value


with implicit.record() as stats:
    values, grads = jax.jit(jax.vmap(jax.value_and_grad(batch_solve)))(jnp.array([0.5, 0.9, 1.1]))
print("x*:     ", values, "  (expected 2, 10, -)")
print("dx*/ds: ", grads, "  (expected a/(1-s)^2 = 4, 100, -)")
for s in stats:
    print(
        f"{s.solve:8s} {s.method:22s} residual {np.array2string(s.residual, precision=1)}  "
        f"iterations {s.iterations}  converged {s.converged}"
    )
np.testing.assert_allclose(values[:2], [2.0, 10.0], rtol=1e-8)
np.testing.assert_allclose(grads[:2], [4.0, 100.0], rtol=1e-6)
assert np.isnan(values[2]) and np.isnan(grads[2])

# %% [markdown]
# The failed sample is NaN in its value and in its derivative, and the others are untouched:
# nothing downstream can mistake it for a result. The record shows why, sample by sample.
#
# **Summary.** The derivative of a solution needs the equation it solves, not the path the
# solver took: one linear solve with $A = \partial_x F$ (tangent) or $A^\top$ (adjoint), at a
# memory cost independent of the number of iterations. It is exact to the accuracy of the
# solve, so the solve must be checked, and `adkit.implicit` always checks it.
