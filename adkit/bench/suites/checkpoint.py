"""The checkpoint suite: a long loop's gradient under every checkpointing strategy, in one run.

An RNN step h ← tanh(W h + x) with shared weights (width 128, float32), L steps, the gradient
with respect to W and h₀. Baseline: `jax.grad` of a plain `lax.scan` (every step's residuals
stored). Beside it: `lax.scan` of a `jax.checkpoint`ed step, nested √L scans (the outer over
checkpointed segments), equinox's checkpointed while loop with s checkpoints, and
`adkit.checkpoint.scan` with revolve at s snapshots and with √L segments. Measured: compiled run
time, compile time, XLA temp bytes, and step evaluations per step (counted by a callback in the
step during one gradient; for the while-loop-based variants only: in a `lax.scan` JAX does not
run the callback once per step).
"""

from __future__ import annotations

import math

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
import numpy as np

from adkit import checkpoint

from .._registry import Suite, Variant, Workload, register_suite

WIDTH = 128


def _step(w, count):
    def step(h, x):
        if count is not None:
            jax.debug.callback(count)
        return jnp.tanh(w @ h + x), None

    return step


def _plain(w, h0, xs, count=None):
    return jnp.sum(jax.lax.scan(_step(w, count), h0, xs)[0])


def _remat(w, h0, xs, count=None):
    return jnp.sum(jax.lax.scan(jax.checkpoint(_step(w, count)), h0, xs)[0])


def _nested_sqrt(w, h0, xs, count=None):
    length = xs.shape[0]
    k = max(1, math.isqrt(length))
    while length % k:
        k -= 1
    inner = jax.checkpoint(lambda h, rows: (jax.lax.scan(_step(w, count), h, rows)[0], None))
    return jnp.sum(jax.lax.scan(inner, h0, xs.reshape(length // k, k, -1))[0])


def _equinox(snapshots):
    def loss(w, h0, xs, count=None):
        step = _step(w, count)

        def body(state):
            i, h = state
            return i + 1, step(h, xs[i])[0]

        _, h = eqxi.while_loop(
            lambda s: s[0] < xs.shape[0],
            body,
            (0, h0),
            max_steps=xs.shape[0],
            kind="checkpointed",
            checkpoints=snapshots,
        )
        return jnp.sum(h)

    return loss


def _adkit(snapshots, schedule="revolve"):
    def loss(w, h0, xs, count=None):
        scan = checkpoint.scan(_step(w, count), h0, xs, snapshots=snapshots, schedule=schedule)
        return jnp.sum(scan[0])

    return loss


def _variant(label, loss, args, counted=True):
    def count():
        calls = []
        jax.block_until_ready(
            jax.grad(lambda *a: loss(*a, count=lambda: calls.append(1)), (0, 1))(*args)
        )
        jax.effects_barrier()
        return len(calls)

    only = None if counted else ("run", "compile", "temp_bytes")
    return Variant(label, lambda: jax.grad(loss, (0, 1)), count=count, only=only)


def workload(length: int, snapshots: int) -> Workload:
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.normal(size=(WIDTH, WIDTH)) / (2 * np.sqrt(WIDTH)), jnp.float32)
    args = (
        w,
        jnp.zeros(WIDTH, jnp.float32),
        jnp.asarray(rng.normal(size=(length, WIDTH)), jnp.float32),
    )
    variants = [
        # JAX runs a debug callback in a scan's step at trace time only, so its scans' step
        # evaluations are not counted (they are 1 per step stored, 2 recomputed)
        _variant("jax.grad(lax.scan)", _plain, args, counted=False),
        _variant("lax.scan(jax.checkpoint(step))", _remat, args, counted=False),
        _variant("nested sqrt(L) scans", _nested_sqrt, args, counted=False),
        _variant(f"equinox checkpointed while_loop, s={snapshots}", _equinox(snapshots), args),
        _variant(f"adkit checkpoint.scan revolve, s={snapshots}", _adkit(snapshots), args),
        _variant("adkit checkpoint.scan sqrt", _adkit(None, "sqrt"), args),
    ]
    return Workload(
        f"rnn L={length}/gradient",
        args,
        variants,
        measures=("run", "compile", "temp_bytes", "evaluations"),
        info={"length": length, "snapshots": snapshots},
    )


def workloads(quick: bool) -> list[Workload]:
    lengths = (100,) if quick else (100, 1000, 10_000)
    return [workload(length, 14) for length in lengths]


def plot(rows, folder) -> list:
    """Memory against recomputation at L = 10,000: states held against step evaluations per
    step, for revolve at several numbers of snapshots, the sqrt(L) segments and storing every
    state (computed from the schedules, not timed)."""
    from pathlib import Path

    from .._plot import line_plot

    length = 10_000
    revolve = [
        (s, checkpoint.optimal_evaluations(length, s) / length)
        for s in (2, 3, 4, 6, 8, 14, 30, 60, 140)
    ]
    sqrt_actions = checkpoint.schedule(length, 1, kind="sqrt")
    held = 1 + max(a.slot for a in sqrt_actions if a.kind == "store")
    series = {
        "revolve (s snapshots)": revolve,
        "sqrt(L) segments": [(held, checkpoint.evaluations(sqrt_actions) / length)],
        "store every state": [(length, 2.0)],
    }
    path = Path(folder) / "checkpoint-memory-vs-recomputation.png"
    title = "Checkpointing 10,000 steps: memory against recomputation"
    return [
        line_plot(
            path,
            series,
            title=title,
            xlabel="states held",
            ylabel="step evaluations per step",
            logx=True,
        )
    ]


register_suite(
    Suite(
        "checkpoint",
        "checkpointed loops: adkit's schedules against JAX's and equinox's",
        workloads,
        plot=plot,
    )
)
