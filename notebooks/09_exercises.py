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
# # Exercises, with worked solutions
#
# The exercises of an AD course chapter, each followed by a solution that asserts its answer
# against adkit and JAX (float64). Try each before reading its solution; the notebooks of the
# track (00 to 08) have the background.

# %%
import math

import jax
import jax.numpy as jnp
import numpy as np

import adkit
from adkit import checkpoint, implicit

jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## 1. Dual numbers
# Extend a dual number with division and `exp`, and differentiate
# $f(x) = e^x / (1 + x^2)$ at $x = 1$ and $x = 2$. What is special about $x = 1$?
#
# **Solution.** $(u/w)' = (u'w - uw')/w^2$ and $(e^u)' = e^u u'$. The closed form
# $f'(x) = e^x (1 - x)^2 / (1 + x^2)^2$ vanishes at $x = 1$: a stationary point.


# %%
class Dual:
    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    def __add__(self, other):
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __mul__(self, other):
        return Dual(
            self.value * other.value, self.tangent * other.value + self.value * other.tangent
        )

    def __truediv__(self, other):  # (u / w)' = (u'w - uw') / w²
        return Dual(
            self.value / other.value,
            (self.tangent * other.value - self.value * other.tangent) / other.value**2,
        )


def exp(u):  # (eᵘ)' = eᵘ u'
    return Dual(math.exp(u.value), math.exp(u.value) * u.tangent)


def f_dual(x):
    return exp(x) / (Dual(1.0) + x * x)


for x in (1.0, 2.0):
    ours = f_dual(Dual(x, 1.0)).tangent
    closed = math.exp(x) * (1 - x) ** 2 / (1 + x * x) ** 2
    _, jvp = adkit.jvp(lambda x: jnp.exp(x) / (1 + x * x), (x,), (1.0,))
    print(f"f'({x}) = {ours:.12f}")
    assert abs(ours - closed) < 1e-15 and abs(float(jvp) - closed) < 1e-15

# %% [markdown]
# ## 2. A reverse trace by hand
# For $f(x_1, x_2) = x_1 x_2 + e^{x_1 x_2}$ at $(1, 2)$, write the Wengert list and the adjoint
# of every value, from $\bar y = 1$ back to $\bar x_1, \bar x_2$.
#
# **Solution.** $v_1 = x_1 x_2 = 2$, $v_2 = e^{v_1}$, $y = v_1 + v_2$. Backwards:
# $\bar v_2 = 1$; $\bar v_1 = 1 + \bar v_2 e^{v_1} = 1 + e^2$ ($v_1$ is read twice);
# $\bar x_1 = \bar v_1 x_2 = 2(1 + e^2)$, $\bar x_2 = \bar v_1 x_1 = 1 + e^2$.

# %%
e2 = math.exp(2)
by_hand = {"v1": 1 + e2, "v2": 1.0, "x1": 2 * (1 + e2), "x2": 1 + e2}


def g(x1, x2):
    v1 = x1 * x2  # computed once and read twice, as in the list by hand
    return v1 + jnp.exp(v1)


sweep = adkit.trace(g, 1.0, 2.0).backward()
print(sweep)
assert np.isclose(sweep.adjoints["v1"], by_hand["v1"], rtol=1e-15)  # adkit names v1 = x1 x2
assert np.allclose(sweep.gradient, (by_hand["x1"], by_hand["x2"]), rtol=1e-15)
assert np.allclose(jax.grad(g, argnums=(0, 1))(1.0, 2.0), sweep.gradient, rtol=1e-15)

# %% [markdown]
# ## 3. Topological sort
# Write Kahn's algorithm for a graph given as `{node: [the nodes it reads]}`, returning an order
# in which every node comes after the nodes it reads, and raising on a cycle.
#
# **Solution.** Count each node's unread inputs; repeatedly take a node with none left.


# %%
def kahn(reads):
    waiting = {n: len(set(inputs)) for n, inputs in reads.items()}
    readers = {n: [] for n in reads}
    for n, inputs in reads.items():
        for i in set(inputs):
            readers[i].append(n)
    ready = sorted(n for n, count in waiting.items() if count == 0)
    order = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for r in readers[n]:
            waiting[r] -= 1
            if waiting[r] == 0:
                ready.append(r)
    if len(order) != len(reads):
        raise ValueError(f"the graph has a cycle through {sorted(set(reads) - set(order))}")
    return order


graph = {"x1": [], "x2": [], "v1": ["x1", "x2"], "v2": ["v1"], "y": ["v1", "v2"]}
order = kahn(graph)
print(order)
assert all(order.index(i) < order.index(n) for n, inputs in graph.items() for i in inputs)
try:
    kahn({"a": ["b"], "b": ["a"]})
    raise AssertionError("a cycle must be refused")
except ValueError as error:
    print("refused:", error)

# %% [markdown]
# ## 4. The JVP/VJP crossover
# How many JVPs does `jacfwd` need for $f: \mathbb{R}^{1000} \to \mathbb{R}^3$, and how many VJPs
# does `jacrev` need? Which would you use, and which for $\mathbb{R}^3 \to \mathbb{R}^{1000}$?
#
# **Solution.** One JVP per input (1000) or one VJP per output (3): `jacrev` for the wide
# Jacobian, `jacfwd` for the tall one. Both give the same matrix; notebook 03 measures the
# crossover.

# %%
W = jax.random.normal(jax.random.key(0), (3, 1000)) / 30
wide = lambda x: jnp.tanh(W @ x)
tall = lambda x: jnp.tanh(W.T @ x)
passes = {"wide": (1000, 3), "tall": (3, 1000)}  # (JVPs, VJPs)
assert min(passes["wide"]) == passes["wide"][1] and min(passes["tall"]) == passes["tall"][0]
x_wide, x_tall = jnp.linspace(-1, 1, 1000), jnp.linspace(-1, 1, 3)
np.testing.assert_allclose(adkit.jacrev(wide)(x_wide), jax.jacfwd(wide)(x_wide), rtol=1e-13)
np.testing.assert_allclose(adkit.jacfwd(tall)(x_tall), jax.jacrev(tall)(x_tall), rtol=1e-13)

# %% [markdown]
# ## 5. Hessian-vector products three ways, and their memory
# Compute $H v$ for $f(x) = \sum \log(1 + e^{(A x)_i})$ by forward over reverse, reverse over
# forward and reverse over reverse, written with `adkit.jvp` and `adkit.grad`, without forming
# $H$. Compare the temporary memory of each with the dense Hessian's.
#
# **Solution.** $H v = \frac{d}{d\varepsilon} \nabla f(x + \varepsilon v)$
# $= \nabla_x (\nabla f(x) \cdot v) = \nabla_x (J_f(x) v)$.

# %%
A = jax.random.normal(jax.random.key(1), (200, 300)) / 10
f = lambda x: jnp.sum(jax.nn.softplus(A @ x))
x, v = jnp.linspace(-1, 1, 300), jnp.cos(jnp.arange(300.0))
ways = {
    "fwd-over-rev": lambda x, v: adkit.jvp(adkit.grad(f), (x,), (v,))[1],
    "rev-over-fwd": lambda x, v: adkit.grad(lambda x: adkit.jvp(f, (x,), (v,))[1])(x),
    "rev-over-rev": lambda x, v: adkit.grad(lambda x: adkit.grad(f)(x) @ v)(x),
}
expected = jax.hessian(f)(x) @ v


def temp_bytes(fn):
    return jax.jit(fn).lower(x, v).compile().memory_analysis().temp_size_in_bytes


dense = temp_bytes(lambda x, v: jax.hessian(f)(x) @ v)
for name, way in ways.items():
    np.testing.assert_allclose(way(x, v), expected, rtol=1e-12)
    np.testing.assert_allclose(adkit.hvp(f, (x,), (v,), mode=name)[0], expected, rtol=1e-12)
    print(f"{name}: {temp_bytes(way) / 1024:7.1f} KiB (dense Hessian: {dense / 1024:.1f} KiB)")
    assert temp_bytes(way) < dense / 10

# %% [markdown]
# ## 6. A stable softplus with a custom VJP
# `log(1 + exp(x))` overflows for large x and its gradient becomes NaN. Write a stable softplus
# whose VJP is the logistic function, and check it at x = ±1000.
#
# **Solution.** $\log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})$, and its derivative is
# $\sigma(x) = 1 / (1 + e^{-x})$, computed without overflow by `jax.nn.sigmoid`.


# %%
@jax.custom_vjp
def softplus(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


softplus.defvjp(lambda x: (softplus(x), x), lambda x, g: (g * jax.nn.sigmoid(x),))

naive = lambda x: jnp.log(1 + jnp.exp(x))
print("naive at 1000:", float(naive(1000.0)), "; its gradient:", float(jax.grad(naive)(1000.0)))
for x in (-1000.0, -3.0, 0.0, 3.0, 1000.0):
    assert np.isfinite(softplus(x)) and np.isclose(softplus(x), jax.nn.softplus(x), rtol=1e-15)
    assert float(adkit.grad(softplus)(x)) == float(jax.grad(softplus)(x))
    assert np.isclose(adkit.grad(softplus)(x), jax.nn.sigmoid(x), rtol=1e-15)

# %% [markdown]
# ## 7. √L checkpointing of a depth-L chain
# For a chain of L = 100 steps, store only every ⌈√L⌉-th state on the way forward. How many
# states are held at once, and how many step evaluations does the gradient cost? Check your
# counts against `checkpoint.schedule(..., kind="sqrt")`, and the gradient against plain scan.
#
# **Solution.** ⌈√100⌉ = 10 segment starts, plus one segment of 10 states being reversed; each
# step is evaluated twice (once forward, once when its segment is re-run with a tape), 200 in all.

# %%
L = 100
actions = checkpoint.schedule(L, snapshots=1, kind="sqrt")
assert checkpoint.evaluations(actions) == 2 * L
stored = 1 + sum(a.kind == "store" for a in actions)  # x₀ is held from the start
assert stored == math.isqrt(L - 1) + 1 == 10  # the segment starts
assert sum(a.kind == "tape" for a in actions) == 10  # each segment re-run once with a tape
step = lambda h, w: (jnp.tanh(w * h + 0.1), None)


def loss(w, schedule):
    scan = jax.lax.scan if schedule is None else (lambda *a: checkpoint.scan(*a, schedule=schedule))
    h, _ = scan(step, 0.5, jnp.full(L, w))
    return h


np.testing.assert_allclose(adkit.grad(loss)(0.9, "sqrt"), jax.grad(loss)(0.9, None), rtol=1e-12)

# %% [markdown]
# ## 8. Implicit differentiation through a ridge solve
# $x^*(\lambda) = \arg\min_x \|X x - y\|^2/2 + \lambda \|x\|^2/2$. Find $d x^*/d\lambda$ from the
# optimality condition $X^T(X x - y) + \lambda x = 0$ without differentiating the solver, and
# compare with unrolling 10, 100 and 1000 gradient-descent steps.
#
# **Solution.** Differentiating the condition: $(X^T X + \lambda I)\, dx^*/d\lambda = -x^*$.
# `implicit.custom_root` does this for any solver; unrolling converges to it only as the solver
# converges.

# %%
rng = np.random.default_rng(0)
X = jnp.asarray(rng.normal(size=(40, 8)) * np.geomspace(1.0, 1 / 30, 8))  # ill-conditioned
y = jnp.asarray(rng.normal(size=40))
condition = lambda x, lam: X.T @ (X @ x - y) + lam * x
solve = lambda lam: jnp.linalg.solve(X.T @ X + lam * jnp.eye(8), X.T @ y)
ridge = implicit.custom_root(condition)(lambda x0, lam: solve(lam))
lam = 0.05
exact = -jnp.linalg.solve(X.T @ X + lam * jnp.eye(8), solve(lam))  # dx*/dλ in closed form
implicit_jac = adkit.jacfwd(lambda lam: ridge(jnp.zeros(8), lam))(lam)
np.testing.assert_allclose(implicit_jac, exact, rtol=1e-12)


def unrolled(lam, steps):
    rate = 1.0 / (jnp.linalg.norm(X, 2) ** 2 + lam)
    return jax.lax.fori_loop(0, steps, lambda i, x: x - rate * condition(x, lam), jnp.zeros(8))


errors = []
for steps in (10, 100, 1000):
    error = jnp.linalg.norm(jax.jacfwd(unrolled)(lam, steps) - exact) / jnp.linalg.norm(exact)
    errors.append(float(error))
    print(f"unrolled {steps:4d} steps: relative error {errors[-1]:.1e}")
error_implicit = float(jnp.linalg.norm(implicit_jac - exact) / jnp.linalg.norm(exact))
print(f"implicit: relative error {error_implicit:.1e}")
assert error_implicit < 1e-10 and errors[0] > errors[1] > errors[2] > error_implicit
