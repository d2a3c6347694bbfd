# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Forward mode: dual numbers on the Wengert list
#
# Forward-mode automatic differentiation carries, next to every value $v$, its tangent
# $\dot v$: the derivative of $v$ along one chosen input direction. We do it by hand with a
# tiny dual-number class, then let adkit do it on the jaxpr of any JAX function.

# %%
import math

import jax
import jax.numpy as jnp
import numpy as np

import adkit

jax.config.update("jax_enable_x64", True)


# %% [markdown]
# ## Dual numbers by hand
# A dual number $a + b\varepsilon$ with $\varepsilon^2 = 0$ satisfies
# $f(a + b\varepsilon) = f(a) + f'(a)\,b\,\varepsilon$: the $\varepsilon$ part is the tangent.


# %%
class Dual:
    def __init__(self, value, tangent):
        self.value, self.tangent = value, tangent

    def __add__(self, other):
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def __sub__(self, other):
        return Dual(self.value - other.value, self.tangent - other.tangent)

    def __mul__(self, other):  # d(uw) = du w + u dw
        return Dual(
            self.value * other.value, self.tangent * other.value + self.value * other.tangent
        )


def log(u):  # d log u = du / u
    return Dual(math.log(u.value), u.tangent / u.value)


def sin(u):  # d sin u = cos u du
    return Dual(math.sin(u.value), math.cos(u.value) * u.tangent)


def f_dual(x1, x2):
    return log(x1) + x1 * x2 - sin(x2)


y = f_dual(Dual(2.0, 1.0), Dual(5.0, 0.0))  # seed the direction (1, 0): d/dx1
y.value, y.tangent

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
