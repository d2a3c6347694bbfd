"""The checkpoint suite: a long loop's gradient under every checkpointing strategy, in one run.

An RNN step h ← tanh(W h + x) with shared weights (width 128, float32), L steps, the gradient
with respect to W and h₀. Baseline: `jax.grad` of a plain `lax.scan` (every step's residuals
stored). Beside it: `lax.scan` of a `jax.checkpoint`ed step, nested √L scans (the outer over
checkpointed segments), equinox's checkpointed while loop with s checkpoints, diffrax's
`RecursiveCheckpointAdjoint` with s checkpoints (when diffrax is installed), and
`adkit.checkpoint.scan` with revolve at s snapshots, √L segment taping and the byte budget of
that taping, and `adkit.checkpoint.while_loop` (online, like equinox's) at s snapshots.
Measured: compiled run time, compile time, XLA temp bytes, and step evaluations per step
(counted by a callback in the step during one gradient; not for JAX's scans, whose partial
evaluation hoists a data-free callback out of the step).

diffrax solves dh/dt = tanh(W h + x[round(t)]) - h from t=0 to t=L with `Euler`, dt0=1 and
`max_steps=L`, saving only h(L): one Euler step, h + 1·(tanh(W h + x) - h), is the RNN step (up
to float32 rounding of the subtraction and the addition), and the vector field is evaluated once
per step, where the callback counts it. Its loop is equinox's checkpointed while loop (diffrax
passes `checkpoints` to it unchanged), over diffrax's whole solver state (h, the times, the step
controller's and the solver's state) rather than h alone.

The s states held are counted alike by all three: adkit's `snapshots`, equinox's `checkpoints`
and diffrax's `checkpoints` each include the loop's initial state x₀ (equinox's online schedule
stores x₀ in its first slot, at step 0). equinox and diffrax use the online schedule of
Stumm and Walther (L unknown in advance), within a step of revolve's evaluations while
L ≤ (s+1)(s+2)/2 (120 at s=14), then Wang and Moin's.
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
TAPE_STATES = 3  # a step's tape, in states (tests/test_checkpoint_modes.py asserts it)


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


def _while(loop):
    """The RNN as a while loop over (i, h), run by `loop(cond, body, init, max_steps)`."""

    def loss(w, h0, xs, count=None):
        step = _step(w, count)
        body = lambda state: (state[0] + 1, step(state[1], xs[state[0]])[0])
        condition = lambda state: state[0] < xs.shape[0]
        return jnp.sum(loop(condition, body, (0, h0), xs.shape[0])[1])

    return loss


def _equinox(snapshots):
    return _while(
        lambda cond, body, init, steps: eqxi.while_loop(
            cond, body, init, max_steps=steps, kind="checkpointed", checkpoints=snapshots
        )
    )


def _diffrax(snapshots):
    # one Euler step of dh/dt = tanh(W h + x[t]) - h with dt = 1 is the RNN step; t is rounded,
    # not floored: diffrax's times are t0 + (t1 - t0)·(k/L), exact integers as XLA computes
    # them here, but in float32 arithmetic taken literally some fall an ulp below k
    def loss(w, h0, xs, count=None):
        import diffrax

        length = xs.shape[0]

        def field(t, h, args):
            w, xs = args
            if count is not None:
                jax.debug.callback(count)
            i = jnp.clip(jnp.round(t).astype(jnp.int32), 0, length - 1)
            return jnp.tanh(w @ h + xs[i]) - h

        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(field),
            diffrax.Euler(),
            t0=0,
            t1=length,
            dt0=1,
            y0=h0,
            args=(w, xs),
            saveat=diffrax.SaveAt(t1=True),
            max_steps=length,
            adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=snapshots),
        )
        return jnp.sum(solution.ys[-1])

    return loss


def _adkit_while(snapshots):
    return _while(
        lambda cond, body, init, steps: checkpoint.while_loop(
            cond, body, init, max_steps=steps, snapshots=snapshots
        )
    )


def _adkit(snapshots, schedule="revolve", memory_budget=None):
    def loss(w, h0, xs, count=None):
        step = _step(w, count)
        options = dict(snapshots=snapshots, schedule=schedule, memory_budget=memory_budget)
        return jnp.sum(checkpoint.scan(step, h0, xs, **options)[0])

    return loss


def _variant(label, loss, args, counted=True, needs=None):
    def count():
        calls = []
        jax.block_until_ready(
            jax.grad(lambda *a: loss(*a, count=lambda: calls.append(1)), (0, 1))(*args)
        )
        jax.effects_barrier()
        return len(calls)

    only = None if counted else ("run", "compile", "temp_bytes")
    return Variant(label, lambda: jax.grad(loss, (0, 1)), needs=needs, count=count, only=only)


def workload(length: int, snapshots: int, quick: bool = False) -> Workload:
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.normal(size=(WIDTH, WIDTH)) / (2 * np.sqrt(WIDTH)), jnp.float32)
    args = (
        w,
        jnp.zeros(WIDTH, jnp.float32),
        jnp.asarray(rng.normal(size=(length, WIDTH)), jnp.float32),
    )
    # the bytes of √L segment taping: ⌈√L⌉ states and a tape of ⌈√L⌉ steps, 3 states each
    # (the step's linearization keeps h, tanh(z) and 1 - tanh(z))
    root = math.isqrt(length - 1) + 1
    budget = root * (1 + TAPE_STATES) * WIDTH * 4
    variants = [
        # JAX's partial evaluation hoists a data-free debug callback out of a scan's step, so
        # the scans' step evaluations are not counted (they are 1 per step stored, 2
        # recomputed); adkit's forward sweep is a while loop, where it stays
        _variant("jax.grad(lax.scan)", _plain, args, counted=False),
        _variant("lax.scan(jax.checkpoint(step))", _remat, args, counted=False),
        _variant("nested sqrt(L) scans", _nested_sqrt, args, counted=False),
        _variant(f"equinox checkpointed while_loop, s={snapshots}", _equinox(snapshots), args),
        _variant(
            f"diffrax RecursiveCheckpointAdjoint, s={snapshots}",
            _diffrax(snapshots),
            args,
            needs="diffrax",
        ),
        _variant(f"adkit checkpoint.scan revolve, s={snapshots}", _adkit(snapshots), args),
        _variant(f"adkit checkpoint.while_loop, s={snapshots}", _adkit_while(snapshots), args),
        _variant("adkit checkpoint.scan sqrt", _adkit(None, "sqrt"), args),
        _variant("adkit checkpoint.scan budget=sqrt's bytes", _adkit(None, "budget", budget), args),
    ]
    if quick:  # the smoke pass: the baseline, one peer, adkit's two loops
        keep = ("jax.grad", "equinox", "adkit checkpoint.scan revolve", "adkit checkpoint.while")
        variants = [v for v in variants if v.label.startswith(keep)]
    return Workload(
        f"rnn L={length}/gradient",
        args,
        variants,
        measures=("run", "compile", "temp_bytes", "evaluations"),
        info={"length": length, "snapshots": snapshots},
    )


def workloads(quick: bool) -> list[Workload]:
    lengths = (100,) if quick else (100, 1000, 10_000)
    return [workload(length, 14, quick) for length in lengths]


def summarize(rows) -> list[str]:
    """The issue's targets, from one run: fewer evaluations than equinox's loop wherever
    L > (s+1)(s+2)/2; at L = 10,000 at least 1.3x faster with at most 0.7x its temp bytes;
    compiling within 1.5x of a plain scan gradient."""
    revolve, equinox = (
        "adkit checkpoint.scan revolve, s=14",
        "equinox checkpointed while_loop, s=14",
    )
    online = "adkit checkpoint.while_loop, s=14"

    def pick(length, measure, label):
        name = f"rnn L={length}/gradient"
        return next(
            (r for r in rows if r.workload == name and r.measure == measure and r.variant == label),
            None,
        )

    verdict = lambda ok: "met" if ok else "NOT met"
    lines = []
    bound = (14 + 1) * (14 + 2) // 2
    lengths = sorted({r.info.get("length", 0) for r in rows} - {0})
    fewer = [
        (f"{short} L={n}", pick(n, "evaluations", label), pick(n, "evaluations", equinox))
        for n in lengths
        if n > bound
        for short, label in (("scan", revolve), ("while_loop", online))
    ]
    fewer = [(n, mine.median, theirs.median) for n, mine, theirs in fewer if mine and theirs]
    if fewer:
        text = ", ".join(f"{n}: {a:.2f} vs {b:.2f}" for n, a, b in fewer)
        ok = all(a < b for _, a, b in fewer)
        lines.append(f"evaluations per step, adkit vs equinox ({text}) [{verdict(ok)}]")
    run, temp = pick(10_000, "run", revolve), pick(10_000, "temp_bytes", revolve)
    their_run, their_temp = pick(10_000, "run", equinox), pick(10_000, "temp_bytes", equinox)
    if run and temp and their_run and their_temp:
        speed, memory = their_run.median / run.median, temp.median / their_temp.median
        ok = speed >= 1.3 and memory <= 0.7
        lines.append(
            f"L=10000: revolve {speed:.2f}x faster than equinox's loop at {memory:.2f}x its temp "
            f"bytes (target >= 1.3x at <= 0.7x) [{verdict(ok)}]"
        )
    compiles = [(n, pick(n, "compile", revolve)) for n in lengths]
    compiles = [(n, r.ratio) for n, r in compiles if r and r.ratio is not None]
    if compiles:
        text = ", ".join(f"L={n}: {ratio:.2f}x" for n, ratio in compiles)
        ok = all(ratio <= 1.5 for _, ratio in compiles)
        lines.append(
            f"compile time, revolve vs a plain scan gradient ({text}; target <= 1.5x) "
            f"[{verdict(ok)}]"
        )
    return lines


def plot(rows, folder) -> list:
    """Memory against recomputation at L = 10,000: the buffers held (in states; a step's tape
    counts as 3) against step evaluations per step, for revolve at several numbers of
    snapshots, the byte-budget schedule at several budgets, the √L segments, and storing every
    state (computed from the schedules, not timed)."""
    from pathlib import Path

    from adkit.checkpoint._budget import choose_budget
    from adkit.checkpoint._schedule import blocked

    from .._plot import line_plot

    length = 10_000
    revolve = [
        (s, checkpoint.optimal_evaluations(length, s) / length)
        for s in (2, 3, 4, 6, 8, 14, 30, 60, 140)
    ]
    budget = []
    for states in (2, 4, 8, 14, 30, 60, 140, 300, 600, 1200, 3000):
        s, block = choose_budget(length, states, 1, TAPE_STATES)
        memory = s + (block * TAPE_STATES if block > 1 else 0)
        budget.append((memory, checkpoint.evaluations(blocked(length, s, block)) / length))
    sqrt_actions = checkpoint.schedule(length, 1, kind="sqrt")
    segment = max(a.count for a in sqrt_actions if a.kind == "tape")
    held = 1 + max(a.slot for a in sqrt_actions if a.kind == "store") + TAPE_STATES * segment
    series = {
        "revolve (s snapshots)": revolve,
        "budget (snapshots and tapes)": budget,
        "sqrt(L) segments, taped": [(held, checkpoint.evaluations(sqrt_actions) / length)],
        "store every state": [(length, 2.0)],
    }
    path = Path(folder) / "checkpoint-memory-vs-recomputation.png"
    title = "Checkpointing 10,000 steps: memory against recomputation"
    return [
        line_plot(
            path,
            series,
            title=title,
            xlabel="buffers held, in states",
            ylabel="step evaluations per step",
            logx=True,
        )
    ]


register_suite(
    Suite(
        "checkpoint",
        "checkpointed loops: adkit's schedules against JAX's, equinox's and diffrax's",
        workloads,
        peers=("diffrax",),
        summarize=summarize,
        plot=plot,
    )
)
