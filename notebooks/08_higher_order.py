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
# # Higher-order derivatives
#
# Second and higher derivatives are where AD gets slow or wrong. This notebook shows three
# tools of `adkit.higher`:
#
# 1. **Hessian-vector products** `adkit.hvp` in four modes, none forming the Hessian;
# 2. the **dense Hessian against HVPs**: memory as n grows;
# 3. **Taylor mode** `adkit.jet`: the first k derivatives along a path in one pass, where k
#    nested JVPs build a program 2ᵏ times as large.
#
# Every number is checked against JAX (`jax.hessian`, nested `jax.jvp`) in float64.

# %%
import math
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import adkit
from adkit.bench.suites.higher import by_jet, mlp_loss, nested, taylor_problem

jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## 1. Four ways to compute H v
#
# For a scalar loss f, H v is the derivative of ∇f along v, and (H being symmetric) the
# gradient of the directional derivative ∇f · v. Nesting forward (F) and reverse (R) mode
# gives four programs:
#
# | mode | program |
# |---|---|
# | `fwd-over-rev` | `jvp(grad(f), (x,), (v,))` |
# | `rev-over-fwd` | `grad(lambda x: jvp(f, (x,), (v,))[1])` |
# | `rev-over-rev` | `grad(lambda x: grad(f)(x) @ v)` |
# | `fwd-over-fwd` | eᵢᵀ H v for each i: two nested jvps per row, n rows |

# %%
f, x = mlp_loss(16)
v = jnp.cos(jnp.arange(x.size, dtype=x.dtype))
x, v = x.astype(jnp.float64), v.astype(jnp.float64)
expected = jax.jit(lambda x, v: jax.hessian(f)(x) @ v)(x, v)
for mode in adkit.higher.MODES:
    hv = jax.jit(lambda x, v, m=mode: adkit.hvp(f, (x,), (v,), mode=m)[0])(x, v)
    error = float(jnp.max(jnp.abs(hv - expected)) / jnp.max(jnp.abs(expected)))
    print(f"{mode:<13} relative error against jax.hessian(f)(x) @ v: {error:.1e}")
    assert error < 1e-10

# %% [markdown]
# Their costs differ. Three of them cost a small multiple of one gradient; forward over
# forward needs one pass per input (n of them), which is why nobody uses it for large n. We
# time each, compiled, on MLP losses of growing size.


# %%
def compiled_seconds(fn, *args, repeat=10):
    fn = jax.jit(fn)
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


rows = []
for width in (8, 32):
    f, x = mlp_loss(width)
    v = jnp.ones_like(x)
    base = compiled_seconds(lambda x, v, f=f: jax.jvp(jax.grad(f), (x,), (v,))[1], x, v)
    for mode in adkit.higher.MODES:
        seconds = compiled_seconds(
            lambda x, v, m=mode, f=f: adkit.hvp(f, (x,), (v,), mode=m)[0], x, v
        )
        rows.append((x.size, mode, seconds * 1e6, seconds / base))
print(f"{'n':>5}  {'mode':<13} {'µs':>8}  vs jax.jvp(jax.grad)")
for n, mode, us, ratio in rows:
    print(f"{n:>5}  {mode:<13} {us:8.0f}  {ratio:5.2f}x")

# %% [markdown]
# ## 2. The dense Hessian against Hessian-vector products
#
# `jax.hessian(f)(x) @ v` forms all n² entries first. An HVP needs memory like one gradient.
# XLA reports the temporary memory each compiled program needs; the Hessian itself takes
# n² · 8 bytes in float64.


# %%
def temp_bytes(fn, *args):
    return jax.jit(fn).lower(*args).compile().memory_analysis().temp_size_in_bytes


sizes, dense_bytes, hvp_bytes = [], [], []
for width in (8, 16, 32):
    f, x = mlp_loss(width)
    x = x.astype(jnp.float64)
    v = jnp.ones_like(x)
    sizes.append(x.size)
    dense_bytes.append(temp_bytes(lambda x, v, f=f: jax.hessian(f)(x) @ v, x, v))
    hvp_bytes.append(temp_bytes(lambda x, v, f=f: adkit.hvp(f, (x,), (v,))[0], x, v))
    dense_mib, hvp_kib = dense_bytes[-1] / 2**20, hvp_bytes[-1] / 2**10
    print(f"n = {x.size:5d}: dense {dense_mib:8.2f} MiB, hvp {hvp_kib:7.1f} KiB")

# %%
one_gib = 2**30
n_f64, n_f32 = math.isqrt(one_gib // 8), math.isqrt(one_gib // 4)
print(f"the dense Hessian alone passes 1 GiB at n = {n_f64} (float64), {n_f32} (float32)")
plt.figure(figsize=(6, 3.5))
plt.loglog(sizes, np.array(dense_bytes) / 2**20, "o-", label="jax.hessian(f)(x) @ v")
plt.loglog(sizes, np.array(hvp_bytes) / 2**20, "o-", label="adkit.hvp (fwd-over-rev)")
plt.xlabel("parameters n")
plt.ylabel("XLA temp memory (MiB)")
plt.legend()
plt.grid(alpha=0.3)
plt.show()
assert dense_bytes[-1] > 100 * hvp_bytes[-1]

# %% [markdown]
# ## 3. Taylor mode
#
# `adkit.jet` pushes a truncated Taylor series through a function. With the path x + t, the
# output's terms are f'(x), f''(x), ..., f⁽ᵏ⁾(x): `adkit.derivatives` does exactly that.
# (1/x)⁽ᵏ⁾ = (-1)ᵏ k! / xᵏ⁺¹:

# %%
d = adkit.derivatives(lambda x: 1 / x, 4.0, order=6)
print(d)
assert float(d[5]) == 720 / 4**7 == 0.0439453125

# %% [markdown]
# Inside, each primitive has a rule mapping Taylor coefficients to Taylor coefficients: a
# product is a Cauchy product, a quotient a recurrence, and every element-wise function solves
# the ODE its derivative states (tanh' = 1 - tanh² gives z' = (1 - z²) x'). One pass costs
# O(k²) per operation. k nested JVPs instead differentiate a program that doubles at each level.
# Counting the equations of both programs for the k-th derivative of f(x) = Σ tanh(A sin x)²:

# %%
f, x, v = taylor_problem(256, 64)
x, v = x.astype(jnp.float64), v.astype(jnp.float64)


orders = range(1, 7)
sizes_nested = [len(str(jax.make_jaxpr(nested(jax.jvp, f, k))(x, v)).splitlines()) for k in orders]
sizes_jet = [len(str(jax.make_jaxpr(by_jet(adkit.jet, f, k))(x, v)).splitlines()) for k in orders]
for k, a, b in zip(orders, sizes_nested, sizes_jet, strict=True):
    print(f"k = {k}: nested jax.jvp {a:6d} jaxpr lines, adkit.jet {b:5d}")
    np.testing.assert_allclose(
        jax.jit(nested(jax.jvp, f, k))(x, v), jax.jit(by_jet(adkit.jet, f, k))(x, v), rtol=1e-9
    )
plt.figure(figsize=(6, 3.5))
plt.semilogy(list(orders), sizes_nested, "o-", label="k nested jax.jvp")
plt.semilogy(list(orders), sizes_jet, "o-", label="one adkit.jet")
plt.xlabel("order k")
plt.ylabel("program size (jaxpr lines)")
plt.legend()
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# XLA's common-subexpression elimination recovers much of the nested program's run time once it
# is compiled, but not its compile time: the benchmark (`adkit bench --only higher`, and the
# page "Higher order") measures both.
#
# A function with a `custom_jvp` rule is followed by its rule, at every order: here a
# straight-through rounding, whose rule says "derivative 1", gives the series of the identity.


# %%
@jax.custom_jvp
def rounded(x):
    return jnp.round(x)


@rounded.defjvp
def _(primals, tangents):
    return rounded(primals[0]), tangents[0]


_, terms = adkit.jet(rounded, (0.3,), ([1.0, 1.0, 0.0],))
print([float(t) for t in terms])
assert [float(t) for t in terms] == [1.0, 1.0, 0.0]
