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
# # JVPs, VJPs and Jacobians: which mode when
#
# A JVP gives one column combination $J v$ of the $m \times n$ Jacobian for the price of a small
# multiple of $f$; a VJP gives one row combination $u^T J$ for a small multiple too. So the whole
# Jacobian costs $n$ JVPs (`jacfwd`, one per input) or $m$ VJPs (`jacrev`, one per output):
# forward mode wins for tall Jacobians ($n < m$), reverse mode for wide ones ($n > m$), a
# gradient ($m = 1$) being the widest of all. This notebook measures the crossover on random
# maps $\mathbb{R}^n \to \mathbb{R}^m$ with $n \cdot m$ fixed.

# %%
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import adkit

jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## One Jacobian, two ways
# For a linear map $f(x) = A x$ the Jacobian is $A$ itself: both modes must return it exactly.

# %%
A = jax.random.normal(jax.random.key(0), (3, 5))
linear = lambda x: A @ x
x = jnp.ones(5)
assert jnp.array_equal(adkit.jacfwd(linear)(x), A)  # 5 JVPs: A e₁, ..., A e₅
assert jnp.array_equal(adkit.jacrev(linear)(x), A)  # 3 VJPs: e₁ᵀ A, e₂ᵀ A, e₃ᵀ A

f = lambda x: jnp.tanh(A @ jnp.sin(x))
np.testing.assert_allclose(adkit.jacfwd(f)(x), jax.jacfwd(f)(x), rtol=1e-14)
np.testing.assert_allclose(adkit.jacrev(f)(x), jax.jacrev(f)(x), rtol=1e-14)


# %% [markdown]
# ## The crossover
# With $n \cdot m = 2^{14}$ fixed, $n$ goes from 8 to 2048. Each Jacobian is compiled once and
# timed (the median of a few calls).


# %%
def seconds(fn, x, repeat=7):
    fn = jax.jit(fn)
    jax.block_until_ready(fn(x))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn(x))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


rows = []
for n in (8, 32, 128, 512, 2048):
    m = 2**14 // n
    B = jax.random.normal(jax.random.key(n), (m, n)) / np.sqrt(n)
    g = lambda x, B=B: jnp.tanh(B @ jnp.sin(x))
    x = jnp.linspace(-1.0, 1.0, n)
    forward, reverse = seconds(adkit.jacfwd(g), x), seconds(adkit.jacrev(g), x)
    rows.append((n, m, forward, reverse))
    print(f"n = {n:5d}, m = {m:5d}: jacfwd {forward * 1e3:7.2f} ms, jacrev {reverse * 1e3:7.2f} ms")

ratio = np.array([n / m for n, m, _, _ in rows])
speed = np.array([fwd / rev for _, _, fwd, rev in rows])
plt.figure(figsize=(6, 3.5))
plt.loglog(ratio, speed, "o-")
plt.axhline(1.0, color="gray", ls=":")
plt.axvline(1.0, color="gray", ls=":")
plt.xlabel("n / m (inputs per output)")
plt.ylabel("time(jacfwd) / time(jacrev)")
plt.title("above 1: reverse mode is faster")
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Far from the diagonal the mode with fewer passes wins by the ratio of the pass counts; near
# $n = m$ the constants decide (a VJP stores the forward sweep, a JVP does not). The rule: count
# the passes, `jacfwd` when there are fewer inputs than outputs, `jacrev` when fewer outputs.

# %%
assert speed[0] < 1 < speed[-1]  # tall: forward wins; wide: reverse wins
