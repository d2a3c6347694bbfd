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
# # Dual numbers from scratch
#
# Forward-mode automatic differentiation carries, next to every value $v$, its tangent
# $\dot v$: the derivative of $v$ along one chosen input direction. This notebook builds it from
# nothing: a dual-number class with operator overloading, the elementary functions, the forward
# trace table of the textbook function $f(x_1, x_2) = \log x_1 + x_1 x_2 - \sin x_2$ at
# $(2, 5)$; then compares it with finite differences (and why they are less accurate), with
# `adkit.jvp` and with `jax.jvp`.

# %%
import math

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import adkit

jax.config.update("jax_enable_x64", True)


# %% [markdown]
# ## A dual number
# A dual number $a + b\varepsilon$ with $\varepsilon^2 = 0$ satisfies
# $f(a + b\varepsilon) = f(a) + f'(a)\,b\,\varepsilon$: the $\varepsilon$ part is the tangent.
# Each operation applies its derivative rule to the tangents; a plain number is a dual number
# with tangent 0.


# %%
class Dual:
    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    def __repr__(self):
        return f"Dual({self.value!r}, {self.tangent!r})"

    @staticmethod
    def lift(x):
        return x if isinstance(x, Dual) else Dual(x, 0.0)

    def __add__(self, other):  # d(u + w) = du + dw
        other = Dual.lift(other)
        return Dual(self.value + other.value, self.tangent + other.tangent)

    __radd__ = __add__

    def __sub__(self, other):  # d(u - w) = du - dw
        other = Dual.lift(other)
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __rsub__(self, other):
        return Dual.lift(other) - self

    def __mul__(self, other):  # d(u w) = du w + u dw
        other = Dual.lift(other)
        return Dual(
            self.value * other.value, self.tangent * other.value + self.value * other.tangent
        )

    __rmul__ = __mul__

    def __truediv__(self, other):  # d(u / w) = (du w - u dw) / w²
        other = Dual.lift(other)
        return Dual(
            self.value / other.value,
            (self.tangent * other.value - self.value * other.tangent) / other.value**2,
        )

    def __pow__(self, n):  # d uⁿ = n uⁿ⁻¹ du, for a plain exponent n
        return Dual(self.value**n, n * self.value ** (n - 1) * self.tangent)


# the elementary functions, each with its derivative
def log(u):  # d log u = du / u
    return Dual(math.log(u.value), u.tangent / u.value)


def exp(u):  # d eᵘ = eᵘ du
    return Dual(math.exp(u.value), math.exp(u.value) * u.tangent)


def sin(u):  # d sin u = cos u du
    return Dual(math.sin(u.value), math.cos(u.value) * u.tangent)


def cos(u):  # d cos u = -sin u du
    return Dual(math.cos(u.value), -math.sin(u.value) * u.tangent)


def sqrt(u):  # d √u = du / (2 √u)
    return Dual(math.sqrt(u.value), u.tangent / (2 * math.sqrt(u.value)))


def tanh(u):  # d tanh u = (1 - tanh² u) du
    t = math.tanh(u.value)
    return Dual(t, (1 - t * t) * u.tangent)


# %% [markdown]
# ## The forward trace table
# The textbook function, written once for dual numbers, evaluated with the seed
# $(\dot x_1, \dot x_2) = (1, 0)$: every intermediate value carries $\partial v / \partial x_1$.
# We print the table of Griewank and Walther (and Baydin et al., 2018) as we go.


# %%
def f_dual(x1, x2, table):
    v1 = log(x1)
    v2 = x1 * x2
    v3 = v1 + v2
    v4 = sin(x2)
    v5 = v3 - v4
    for name, v in (("x1", x1), ("x2", x2), ("v1", v1), ("v2", v2), ("v3", v3), ("v4", v4)):
        table.append((name, v.value, v.tangent))
    table.append(("v5 = y", v5.value, v5.tangent))
    return v5


table = []
y = f_dual(Dual(2.0, 1.0), Dual(5.0, 0.0), table)
print(f"{'var':<7} {'value':>14} {'tangent d/dx1':>14}")
for name, value, tangent in table:
    print(f"{name:<7} {value:14.10f} {tangent:14.10f}")
assert y.tangent == 5.5  # 1/x1 + x2

y2 = f_dual(Dual(2.0, 0.0), Dual(5.0, 1.0), [])  # the other seed: d/dx2 = x1 - cos x2
assert abs(y2.tangent - (2 - math.cos(5))) < 1e-15
print(f"df/dx1 = {y.tangent}, df/dx2 = {y2.tangent:.12f} (2 - cos 5 = {2 - math.cos(5):.12f})")

# %% [markdown]
# ## Against finite differences
# The central difference $(f(x + h) - f(x - h)) / 2h$ has a truncation error of order $h^2$ and
# a rounding error of order $\epsilon / h$ ($\epsilon \approx 2.2 \cdot 10^{-16}$ in float64): it
# is best near $h \approx \epsilon^{1/3} \approx 6 \cdot 10^{-6}$, and even there keeps only
# about ten digits. The dual number has no step: its error is a few roundings.


# %%
def f_float(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


steps = np.logspace(-15, 0, 61)
central = np.array([(f_float(2 + h, 5) - f_float(2 - h, 5)) / (2 * h) for h in steps])
errors = np.abs(central - 5.5) + 1e-18
best = steps[np.argmin(errors)]
print(f"best step {best:.1e}: error {errors.min():.1e}; dual numbers: {abs(y.tangent - 5.5)}")
plt.figure(figsize=(6, 3.5))
plt.loglog(steps, errors, ".-", label="central difference")
plt.axhline(np.finfo(float).eps, color="gray", ls=":", label="machine epsilon")
plt.xlabel("step h")
plt.ylabel("|error| in df/dx1")
plt.legend()
plt.grid(alpha=0.3)
plt.show()
assert errors.min() > 1e-13  # finite differences never reach the dual number's accuracy
assert 1e-7 < best < 1e-3

# %% [markdown]
# ## Against `adkit.jvp` and `jax.jvp`
# Both push the same tangent through the function's jaxpr with one rule per primitive, exactly
# what the class above does with one method per operation.

# %%
f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
_, ours = adkit.jvp(f, (2.0, 5.0), (1.0, 0.0))
_, theirs = jax.jvp(f, (2.0, 5.0), (1.0, 0.0))
print(float(ours), float(theirs))
assert float(ours) == float(theirs) == y.tangent == 5.5

# %% [markdown]
# ## The same table from adkit
# `adkit.trace(f, *args, tangents=...)` walks the jaxpr of `f` and applies adkit's JVP rule to
# every primitive. Its tangent column is the $\varepsilon$ part above, row by row.


# %%
def f(x1, x2):
    return jnp.log(x1) + x1 * x2 - jnp.sin(x2)


tape = adkit.trace(f, 2.0, 5.0, tangents=(1.0, 0.0))
print(tape)
assert float(tape.output_tangent) == y.tangent == 5.5

# %% [markdown]
# ## `adkit.jvp` and friends
# `adkit.jvp` returns the value and the tangent, like `jax.jvp`, and is ordinary JAX: it
# compiles, batches, and nests (a JVP of a JVP is a second derivative).

# %%
x = jnp.linspace(0.5, 2.0, 4)
ours = jax.jit(jax.vmap(lambda a: adkit.jvp(f, (a, 5.0), (1.0, 0.0))))(x)
theirs = jax.vmap(lambda a: jax.jvp(f, (a, 5.0), (1.0, 0.0)))(x)
np.testing.assert_allclose(ours, theirs, rtol=1e-14)

second = adkit.jvp(lambda a: adkit.jvp(f, (a, 5.0), (1.0, 0.0))[1], (2.0,), (1.0,))[1]
print("d2f/dx1^2 at (2, 5):", float(second), " closed form -1/x1^2:", -1 / 4)
assert abs(float(second) + 0.25) < 1e-15

# %% [markdown]
# `adkit.jacfwd` builds a whole Jacobian from one JVP per input element:

# %%
g = lambda v: jnp.array([v[0] * v[1], jnp.sin(v[0]) + v[1] ** 2])
print(adkit.jacfwd(g)(jnp.array([1.0, 2.0])))
np.testing.assert_allclose(
    adkit.jacfwd(g)(jnp.array([1.0, 2.0])), jax.jacfwd(g)(jnp.array([1.0, 2.0]))
)
