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
# # The Wengert list of a JAX function
#
# Automatic differentiation starts from the *Wengert list*: the sequence of elementary
# operations a program executes, each writing a new intermediate value. This notebook builds it
# for the textbook example
#
# $$f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2$$
#
# at $(x_1, x_2) = (2, 5)$, first by hand, then with `adkit.trace`, which reads it off the jaxpr
# that JAX records.

# %%
import math

import jax
import jax.numpy as jnp
import numpy as np

import adkit

jax.config.update("jax_enable_x64", True)


def f(x1, x2):
    return jnp.log(x1) + x1 * x2 - jnp.sin(x2)


# %% [markdown]
# ## By hand
# Inputs get the names $v_{-1}, v_0$; every elementary operation writes the next $v_i$.

# %%
v = {-1: 2.0, 0: 5.0}
v[1] = math.log(v[-1])
v[2] = v[-1] * v[0]
v[3] = v[1] + v[2]
v[4] = math.sin(v[0])
v[5] = v[3] - v[4]
v

# %% [markdown]
# ## What JAX records
# `jax.make_jaxpr` traces `f` into a jaxpr: the same list, in JAX's notation.

# %%
closed = jax.make_jaxpr(f)(2.0, 5.0)
print(closed)

# %% [markdown]
# ## The tape
# `adkit.trace` walks that jaxpr with concrete values and records one row per primitive.

# %%
tape = adkit.trace(f, np.float64(2.0), np.float64(5.0))
print(tape)

# %%
assert tape.ops() == ["log", "mul", "add", "sin", "sub"]
by_hand = [v[1], v[2], v[3], v[4], v[5]]
np.testing.assert_allclose([float(e.values[0]) for e in tape], by_hand, rtol=1e-15)

# %% [markdown]
# ## Evaluating the jaxpr
# `adkit.eval_jaxpr` is the same walk without the recording. Its result is ordinary JAX, so it
# can be compiled with `jax.jit` and batched with `jax.vmap`.

# %%
[y] = adkit.eval_jaxpr(closed, 2.0, 5.0)
y_jit = jax.jit(lambda a, b: adkit.eval_jaxpr(closed, a, b)[0])(2.0, 5.0)
ys = jax.vmap(lambda a: adkit.eval_jaxpr(closed, a, 5.0)[0])(jnp.array([1.0, 2.0, 3.0]))
assert float(y) == float(f(2.0, 5.0)) == float(y_jit)
np.testing.assert_array_equal(ys, jax.vmap(lambda a: f(a, 5.0))(jnp.array([1.0, 2.0, 3.0])))
print(y, ys)

# %% [markdown]
# ## Control flow on the tape
# The tape inlines what the program actually executed: the branch a `cond` took and every
# iteration of a loop, each row tagged with its scope.


# %%
def g(x):
    y = jax.lax.cond(x > 0, jnp.sin, jnp.cos, x)
    return jax.lax.fori_loop(0, 3, lambda i, c: c * x + 1.0, y)


print(adkit.trace(g, 0.5))

# %% [markdown]
# ## Tangent and adjoint columns
# With `tangents=`, each row also carries its tangent (forward mode, one direction); the tape's
# `backward()` sweeps it from the output's adjoint $\bar y = 1$ back to the inputs, each row
# sending its adjoint through adkit's VJP rule. `adkit trace path.py:f --args 2 5` prints
# both columns in one table from the command line.

# %%
forward = adkit.trace(f, np.float64(2.0), np.float64(5.0), tangents=(1.0, 0.0))
print(forward)
sweep = forward.backward()
print(sweep)
assert float(forward.output_tangent) == 5.5  # df/dx1
np.testing.assert_allclose(sweep.gradient, (5.5, 2 - math.cos(5)), rtol=1e-15)

# %% [markdown]
# ## Two reverse paths, side by side
# adkit computes reverse mode in two independent ways that check each other:
#
# - **the tape** (`method="tape"`, the default): a forward sweep stores each equation's
#   residuals, a backward sweep applies each primitive's VJP rule;
# - **the transpose** (`method="transpose"`): linearize the program with the JVP rules (a linear
#   program in the tangents), then transpose that linear program equation by equation.
#
# The transposed path's linear program is an ordinary jaxpr; `adkit.linearize` returns it as a
# function. Its jaxpr holds the tangent equations (`mul a d`: the tangent of x1 times 1/x1, ...),
# which read the inputs `a` and `b`; the primal values around them are operations on constants,
# which XLA folds when it compiles.

# %%
_, f_jvp = adkit.linearize(f, 2.0, 5.0)
print(jax.make_jaxpr(f_jvp)(1.0, 0.0))
tape_grad = adkit.grad(f, argnums=(0, 1), method="tape")(2.0, 5.0)
transpose_grad = adkit.grad(f, argnums=(0, 1), method="transpose")(2.0, 5.0)
jax_grad = jax.grad(f, argnums=(0, 1))(2.0, 5.0)
print("tape:", tape_grad, "\ntranspose:", transpose_grad, "\njax.grad:", jax_grad)
np.testing.assert_allclose(tape_grad, transpose_grad, rtol=1e-15)
np.testing.assert_allclose(tape_grad, jax_grad, rtol=1e-15)
