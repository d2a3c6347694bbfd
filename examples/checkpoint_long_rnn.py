"""A 10,000-step RNN differentiated in 16 states' memory, at the fewest step evaluations.

`jax.grad` of a `lax.scan` keeps every step's residuals: memory grows with the length. With
`checkpoint.scan(..., snapshots=16)` the backward pass holds at most 16 states and recomputes the
rest on Griewank and Walther's binomial (revolve) schedule, which is provably the fewest step
evaluations for that many states. This script checks the gradient against the plain scan's,
counts the step's evaluations during one gradient (a host callback in the step) against the
schedule's formula, and compares the memory XLA asks for.

    python examples/checkpoint_long_rnn.py
"""

import jax
import jax.numpy as jnp
import numpy as np

from adkit import checkpoint

LENGTH, WIDTH, SNAPSHOTS = 10_000, 32, 16


def make_problem():
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    w = jax.random.normal(k1, (WIDTH, WIDTH)) * (0.9 / jnp.sqrt(WIDTH))
    xs = 0.1 * jax.random.normal(k2, (LENGTH, WIDTH))
    h0 = jax.random.normal(k3, (WIDTH,))
    return w, xs, h0


def step(w, h, x):
    return jnp.tanh(w @ h + x)


def loss_plain(w, xs, h0):
    h, _ = jax.lax.scan(lambda h, x: (step(w, h, x), None), h0, xs)
    return jnp.sum(h**2)


calls = []  # one entry per evaluation of the step, appended by the host callback


def loss_checkpointed(w, xs, h0, count=False):
    def body(h, x):
        if count:
            jax.debug.callback(lambda: calls.append(1))
        return step(w, h, x), None

    h, _ = checkpoint.scan(body, h0, xs, snapshots=SNAPSHOTS)
    return jnp.sum(h**2)


def temp_bytes(fun, *args):
    return jax.jit(fun).lower(*args).compile().memory_analysis().temp_size_in_bytes


def main():
    w, xs, h0 = make_problem()
    plain = jax.jit(jax.grad(loss_plain))(w, xs, h0)
    ours = jax.jit(jax.grad(loss_checkpointed))(w, xs, h0)
    np.testing.assert_allclose(ours, plain, rtol=1e-4, atol=1e-6)

    jax.grad(lambda w: loss_checkpointed(w, xs, h0, count=True))(w)
    jax.effects_barrier()
    expected = checkpoint.optimal_evaluations(LENGTH, SNAPSHOTS)
    assert len(calls) == expected, (len(calls), expected)
    print(f"step evaluations: {len(calls)} = revolve's minimum for {SNAPSHOTS} snapshots, "
          f"{len(calls) / LENGTH:.2f} per step")  # fmt: skip

    plain_bytes = temp_bytes(jax.grad(loss_plain), w, xs, h0)
    our_bytes = temp_bytes(jax.grad(loss_checkpointed), w, xs, h0)
    assert our_bytes * 50 < plain_bytes, (our_bytes, plain_bytes)
    print(f"XLA temp memory: lax.scan {plain_bytes / 2**20:.1f} MiB, "
          f"checkpoint.scan {our_bytes / 2**10:.1f} KiB")  # fmt: skip
    print("the checkpointed gradient equals the plain scan's")


if __name__ == "__main__":
    main()
