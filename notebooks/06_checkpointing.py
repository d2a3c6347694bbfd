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
# # Checkpointing: trading memory for recomputation
#
# Reverse mode walks a program backwards, so it needs every intermediate state again, last
# first. A loop of L steps therefore keeps L states. Checkpointing keeps only some of them and
# recomputes the others from the nearest one kept. This notebook builds the classic √L scheme
# by hand on a chain of L steps, counts what it stores and recomputes, then shows the optimal
# schedule (revolve) and `adkit.checkpoint.scan`.

# %%
import math

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from adkit import checkpoint

jax.config.update("jax_enable_x64", True)


def step(x):  # one step of the chain
    return jnp.sin(x) + 0.5 * x


def step_vjp(x, cotangent):  # the derivative of one step, at the state it started from
    return cotangent * (jnp.cos(x) + 0.5)


# %% [markdown]
# ## Storing everything
#
# The forward pass keeps every state; the backward pass reads them in reverse. L states stored,
# L step evaluations.


# %%
def gradient_store_all(x0, length):
    states, x = [], x0
    for _ in range(length):
        states.append(x)
        x = step(x)
    cotangent = 1.0
    for x in reversed(states):
        cotangent = step_vjp(x, cotangent)
    return cotangent, {"stored": len(states), "evaluations": length}


# %% [markdown]
# ## The √L scheme, from scratch
#
# Keep every k-th state on the way forward. On the way back, take one segment at a time:
# recompute its k states from the kept one (k - 1 extra evaluations), then reverse them.
# Memory: about L/k kept states plus k for the segment being reversed, smallest at k = √L.
# Extra work: about one more forward pass.


# %%
def gradient_sqrt(x0, length):
    k = max(1, math.isqrt(length))
    kept, x, evaluations = {}, x0, 0
    for i in range(length):
        if i % k == 0:
            kept[i] = x
        x = step(x)
        evaluations += 1
    cotangent, peak = 1.0, 0
    for start in sorted(kept, reverse=True):
        segment, x = [kept[start]], kept[start]
        for _ in range(start + 1, min(start + k, length)):  # recompute the segment
            x = step(x)
            evaluations += 1
            segment.append(x)
        peak = max(peak, len(kept) + len(segment))
        for x in reversed(segment):
            cotangent = step_vjp(x, cotangent)
    return cotangent, {"stored": peak, "evaluations": evaluations}


for length in (16, 100, 1000):
    g_all, all_stats = gradient_store_all(0.3, length)
    g_sqrt, sqrt_stats = gradient_sqrt(0.3, length)
    assert np.isclose(g_all, g_sqrt)
    print(length, all_stats, sqrt_stats)

# %% [markdown]
# Storage grows like 2√L, not L, and the work is under two forward passes. Measured over L:

# %%
lengths = [16, 64, 256, 1024, 4096]
stored = [gradient_sqrt(0.3, n)[1]["stored"] for n in lengths]
extra = [gradient_sqrt(0.3, n)[1]["evaluations"] / n for n in lengths]
assert all(s <= 2 * math.isqrt(n) + 2 for s, n in zip(stored, lengths, strict=True))
figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
left.loglog(lengths, stored, "o-", label="√L scheme")
left.loglog(lengths, lengths, "--", label="store everything")
left.set_xlabel("L")
left.set_ylabel("states stored")
left.legend()
right.semilogx(lengths, extra, "o-")
right.set_xlabel("L")
right.set_ylabel("forward evaluations per step")
figure.tight_layout()

# %% [markdown]
# ## The optimum: revolve
#
# With s states held (the input among them), Griewank and Walther's binomial schedule reverses
# L steps with the fewest evaluations, p(L, s) + L + 1 in the count used here (the forward
# pass, the recomputation, one evaluation per reversed step). `checkpoint.schedule` gives it as
# plain actions:

# %%
for action in checkpoint.schedule(6, snapshots=3):
    print(action)
assert checkpoint.evaluations(checkpoint.schedule(6, 3)) == checkpoint.optimal_evaluations(6, 3)

# %% [markdown]
# Memory against recomputation at L = 10,000: a few dozen states cost a few evaluations per
# step; the √L segments hold about 200 states.

# %%
length = 10_000
snapshots = [2, 3, 4, 6, 8, 14, 30, 60, 140]
per_step = [checkpoint.optimal_evaluations(length, s) / length for s in snapshots]
sqrt_actions = checkpoint.schedule(length, 1, kind="sqrt")
segment = max(a.count for a in sqrt_actions if a.kind == "tape")
tape = 3  # this RNN step's tape holds 3 states (h, tanh(z), 1 - tanh(z))
sqrt_held = 1 + max(a.slot for a in sqrt_actions if a.kind == "store") + tape * segment
plt.figure(figsize=(5, 3.2))
plt.semilogx(snapshots, per_step, "o-", label="revolve")
plt.semilogx([sqrt_held], [checkpoint.evaluations(sqrt_actions) / length], "s", label="√L taping")
plt.xlabel("buffers held, in states")
plt.ylabel("step evaluations per step")
plt.legend()
print(dict(zip(snapshots, np.round(per_step, 2), strict=True)))

# %% [markdown]
# ## A byte budget: store states, or store a step's residuals
#
# Keeping a state saves recomputing the steps before it; keeping a step's residuals (its tape)
# saves recomputing the step itself when it is reversed. `schedule="budget"` searches revolve
# over blocks of K steps: s snapshots at block starts and one block taped at a time, for the
# fewest evaluations within `memory_budget` bytes. K = 1 is revolve; K = √L with every block
# start stored is √L segment taping. Below, in units of one state: the budget's evaluations
# per step as the budget grows, beside revolve with as many states.

# %%
from adkit.checkpoint._budget import choose_budget
from adkit.checkpoint._schedule import blocked

for states in (4, 14, 60, 200, 400):
    s, block = choose_budget(length, states, 1, tape)
    cost = checkpoint.evaluations(blocked(length, s, block)) / length
    revolve = checkpoint.optimal_evaluations(length, states) / length
    assert cost <= revolve + 1e-12  # the budget never does worse than revolve
    print(
        f"{states:4d} states: {s} snapshots, blocks of {block}: {cost:.2f} per step "
        f"(revolve: {revolve:.2f})"
    )

# %% [markdown]
# ## In a real loop: `checkpoint.scan`
#
# `checkpoint.scan` has `lax.scan`'s semantics; its gradient follows the schedule. The step
# below counts its own evaluations: exactly the optimum.

# %%
calls = []


def loss(w, xs, snapshots):
    def body(h, x):
        jax.debug.callback(lambda: calls.append(1))
        return jnp.tanh(w * h + x), None

    return checkpoint.scan(body, 0.0, xs, snapshots=snapshots)[0]


xs = jnp.linspace(-1, 1, 200)
plain = jax.grad(lambda w: jax.lax.scan(lambda h, x: (jnp.tanh(w * h + x), None), 0.0, xs)[0])
for s in (3, 8):
    calls.clear()
    g = jax.block_until_ready(jax.grad(loss)(0.7, xs, s))
    jax.effects_barrier()
    assert np.isclose(g, plain(0.7), rtol=1e-12)
    assert len(calls) == checkpoint.optimal_evaluations(200, s)
    print(f"s={s}: {len(calls)} evaluations for 200 steps, gradient {float(g):.6f}")

# %% [markdown]
# The same loss under a byte budget (200 steps of a scalar state: 8 bytes a state), forward
# mode through the checkpointed loop, and a while loop whose length is known only when it stops
# (`checkpoint.while_loop`, checkpointed online):

# %%
budgeted = lambda w: checkpoint.scan(
    lambda h, x: (jnp.tanh(w * h + x), None), 0.0, xs, schedule="budget", memory_budget=30 * 8
)[0]
assert np.isclose(jax.grad(budgeted)(0.7), plain(0.7), rtol=1e-12)
assert np.isclose(jax.jvp(budgeted, (0.7,), (1.0,))[1], plain(0.7), rtol=1e-12)


def until_small(w):
    body = lambda c: (c[0] + 1, jnp.tanh(w * c[1]))
    return checkpoint.while_loop(lambda c: c[1] > 1e-3, body, (0, 1.0), max_steps=10_000)[1]


reference = jax.jvp(
    lambda w: jax.lax.while_loop(
        lambda c: c[1] > 1e-3, lambda c: (c[0] + 1, jnp.tanh(w * c[1])), (0, 1.0)
    )[1],
    (0.9,),
    (1.0,),
)[1]
gradient = jax.grad(until_small)(0.9)
assert np.isclose(gradient, reference, rtol=1e-12)
print("while_loop gradient", float(gradient), "= lax.while_loop's forward mode", float(reference))

# %% [markdown]
# `checkpoint.memory_report` shows where a gradient's memory goes: XLA's bytes, the residuals by
# source line, and warnings about the known silent pathologies.

# %%
print(checkpoint.memory_report(lambda w: loss(w, xs, 8), 0.7))
