"""adkit.checkpoint: the revolve schedule action by action, its evaluation count against
Griewank and Walther's formula, and checkpointed scans against `lax.scan`'s gradients."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit import checkpoint
from adkit.checkpoint._revolve import forward_advances


# --- the schedule, as plain data ---
def simulate(actions, length):
    """Runs a schedule on indices: every action must find the state it claims; returns the
    order in which steps were reversed and the slots used."""
    slots, current, reversed_steps = {0: 0}, 0, []
    for action in actions:
        if action.kind == "advance":
            assert current == action.index, action
            current += action.count
        elif action.kind == "store":
            assert current == action.index and action.slot > 0, action
            slots[action.slot] = current
        elif action.kind == "restore":
            assert slots.get(action.slot) == action.index, action
            current = action.index
        else:  # a reverse, or a tape of `count` steps reversed last to first
            if not reversed_steps:  # the forward pass ran to x_L and kept the block's start
                assert current == length
                current = action.index
            assert current == action.index, action
            count = action.count if action.kind == "tape" else 1
            reversed_steps.extend(reversed(range(action.index, action.index + count)))
    return reversed_steps, set(slots) - {0}


@functools.cache
def fewest_advances(length, snapshots):  # by exhaustive search over the first split
    if length <= 1:
        return 0
    if snapshots <= 1:
        return length * (length - 1) // 2
    return min(
        m + fewest_advances(m, snapshots) + fewest_advances(length - m, snapshots - 1)
        for m in range(1, length)
    )


def test_the_binomial_formula_is_the_minimum_of_the_recursion():
    for length in range(1, 70):
        for snapshots in range(1, 7):
            assert forward_advances(length, snapshots) == fewest_advances(length, snapshots)


@pytest.mark.parametrize("snapshots", [1, 2, 3, 5, 14])
def test_revolve_reverses_every_step_once_at_the_optimal_cost(snapshots):
    for length in [*range(1, 60), 100, 1000, 3000]:
        actions = checkpoint.schedule(length, snapshots)
        order, slots = simulate(actions, length)
        assert order == list(reversed(range(length)))
        assert len(slots) <= snapshots - 1  # x₀ is the loop's input: slot 0
        assert checkpoint.evaluations(actions) == checkpoint.optimal_evaluations(length, snapshots)


def test_the_evaluations_per_step_at_ten_thousand_steps_and_fourteen_snapshots():
    assert checkpoint.optimal_evaluations(10_000, 14) == 56_125  # 5.61 per step


def test_a_small_schedule_action_by_action():
    assert [str(a) for a in checkpoint.schedule(3, 2)] == [
        "advance 0..0",
        "store x1 -> slot 1",
        "advance 1..2",
        "reverse 2",
        "restore x1 <- slot 1",
        "reverse 1",
        "restore x0 <- slot 0",
        "reverse 0",
    ]


def test_the_sqrt_schedule_stores_the_segment_starts_and_evaluates_each_step_twice():
    for length in (1, 2, 10, 100, 101, 1000):
        actions = checkpoint.schedule(length, 1, kind="sqrt")
        order, slots = simulate(actions, length)
        assert order == list(reversed(range(length)))
        segment = int(np.ceil(np.sqrt(length)))
        assert len(slots) + 1 == -(-length // segment)  # x₀ and each later segment's start
        reversals = [a for a in actions if a.kind in ("tape", "reverse")]
        taped = [a.count if a.kind == "tape" else 1 for a in reversals]
        assert max(taped) == min(segment, length)
        assert checkpoint.evaluations(actions) == 2 * length


# --- checkpointed scans against lax.scan ---
def _rnn(scan, w, h0, xs):
    def step(carry, x):
        h, total = carry
        h = jnp.tanh(w["a"] @ h + w["b"] * x["u"]) + 0.1 * x["v"]
        return (h, total + jnp.sum(h)), {"h": h, "square": jnp.sum(h**2)}

    (h, total), ys = scan(step, (h0, jnp.zeros(())), xs)
    return jnp.sum(h) + total + jnp.sum(ys["h"] ** 3) + jnp.sum(ys["square"])


def _inputs(length=23):
    rng = np.random.default_rng(0)
    w = {"a": jnp.asarray(0.4 * rng.normal(size=(4, 4))), "b": jnp.asarray(rng.normal(size=4))}
    xs = {
        "u": jnp.asarray(rng.normal(size=(length, 4))),
        "v": jnp.asarray(rng.normal(size=(length, 4))),
    }
    return w, jnp.ones(4), xs


SCHEDULES = [("revolve", 2), ("revolve", 3), ("revolve", 6), ("sqrt", None), ("store_all", None)]


@pytest.mark.parametrize("schedule, snapshots", SCHEDULES)
def test_gradients_equal_lax_scan(schedule, snapshots):
    w, h0, xs = _inputs()
    scan = functools.partial(checkpoint.scan, schedule=schedule, snapshots=snapshots)
    loss = functools.partial(_rnn, scan)
    expected = jax.grad(functools.partial(_rnn, jax.lax.scan), (0, 1, 2))(w, h0, xs)
    for got in (
        jax.grad(loss, (0, 1, 2))(w, h0, xs),
        jax.jit(jax.grad(loss, (0, 1, 2)))(w, h0, xs),
        adkit.grad(loss, (0, 1, 2))(w, h0, xs),
        adkit.grad(loss, (0, 1, 2), method="transpose")(w, h0, xs),
    ):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_reverse_and_an_integer_in_the_carry():
    def loss(scan, w):
        def step(carry, x):
            h, k = carry
            return (jnp.sin(w * h + x), k + 1), h * k

        (h, k), ys = scan(
            step, (jnp.float64(0.3), jnp.int32(0)), jnp.linspace(0, 1, 9), reverse=True
        )
        return h + jnp.sum(ys) + k

    expected = jax.grad(functools.partial(loss, jax.lax.scan))(0.7)
    got = jax.grad(functools.partial(loss, functools.partial(checkpoint.scan, snapshots=2)))(0.7)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def _while_depths(jaxpr, depth=0):
    """The nesting depth of every while loop in `jaxpr` and the jaxprs inside it."""
    depths = []
    for eqn in jaxpr.eqns:
        nested = depth + (eqn.primitive.name == "while")
        if eqn.primitive.name == "while":
            depths.append(depth)
        for value in eqn.params.values():
            for v in value if isinstance(value, (list, tuple)) else [value]:
                inner = getattr(v, "jaxpr", v)
                if hasattr(inner, "eqns"):
                    depths += _while_depths(inner, nested)
    return depths


@pytest.mark.parametrize("schedule, expected", [("revolve", [0, 0, 1]), ("sqrt", [0, 0, 1, 1, 1])])
def test_the_gradient_is_the_forward_sweep_and_one_loop_of_blocks(schedule, expected):
    # every loop costs XLA compile time: the forward sweep, the loop over reversed blocks, and
    # inside it the advances (and, for a taped schedule, the tape's record and sweep back)
    w, xs = 0.5 * jnp.eye(4), jnp.ones((50, 4))
    step = lambda w: lambda h, x: (jnp.tanh(w @ h + x), None)
    loss = lambda w: jnp.sum(
        checkpoint.scan(step(w), jnp.ones(4), xs, snapshots=3, schedule=schedule)[0]
    )
    assert _while_depths(jax.make_jaxpr(jax.grad(loss))(w).jaxpr) == expected


@pytest.mark.parametrize("length, snapshots", [(1, 2), (2, 2), (7, 2), (30, 3), (50, 4), (64, 6)])
def test_the_step_runs_exactly_the_optimal_number_of_times(length, snapshots):
    calls = []

    def loss(w):
        def step(h, x):
            jax.debug.callback(lambda: calls.append(1))
            return jnp.tanh(w * h + x), None

        return checkpoint.scan(step, 0.1, jnp.linspace(0, 1, length), snapshots=snapshots)[0]

    jax.block_until_ready(jax.grad(loss)(0.5))
    jax.effects_barrier()
    assert len(calls) == checkpoint.optimal_evaluations(length, snapshots)


def test_bad_arguments_are_clear_errors():
    step = lambda h, x: (h + x, h)
    with pytest.raises(ValueError, match="`schedule` must be one of"):
        checkpoint.scan(step, 0.0, jnp.ones(3), schedule="binomial")
    with pytest.raises(ValueError, match="`snapshots` must be a positive integer"):
        checkpoint.scan(step, 0.0, jnp.ones(3), snapshots=0)
    with pytest.raises(ValueError, match="needs the loop's length"):
        checkpoint.scan(step, 0.0, None)


def test_a_state_sharded_over_eight_devices():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).with_name("sharded_checkpoint.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sharded checkpointed gradient ok" in result.stdout


@pytest.mark.parametrize("snapshots", [14, 140])
def test_memory_at_ten_thousand_steps_is_the_snapshots_plus_one_step(snapshots):
    # a state of 1024 float32, shared 1024 x 1024 weights: XLA's temp bytes (compiled, not run)
    # are at most (s + 2) states, one step's residuals (3 states) and one weight-sized cotangent
    length, n = 10_000, 1024
    w = jnp.zeros((n, n), jnp.float32)
    h0, xs = jnp.zeros(n, jnp.float32), jnp.ones((length, n), jnp.float32)

    def loss(w, h0, xs):
        step = lambda h, x: (jnp.tanh(w @ h + x), None)
        return jnp.sum(checkpoint.scan(step, h0, xs, snapshots=snapshots)[0])

    compiled = jax.jit(jax.grad(loss, (0, 1))).lower(w, h0, xs).compile()
    state = n * 4
    assert compiled.memory_analysis().temp_size_in_bytes <= (snapshots + 2 + 3) * state + w.nbytes
