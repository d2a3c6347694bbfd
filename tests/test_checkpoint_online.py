"""adkit.checkpoint._online: the online schedule action by action, its evaluation count against
the offline optimum (n <= (s+1)(s+2)/2) and against equinox's checkpointed while loop (beyond),
and its state machines under `jax.jit` and inside `lax` loops."""

from __future__ import annotations

import functools

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
import pytest
from jax import lax

from adkit import checkpoint
from adkit.checkpoint import _online


def beta2(snapshots):  # β(s, 2): the longest loop an online schedule can reverse optimally
    return (snapshots + 1) * (snapshots + 2) // 2


def simulate(actions, length, snapshots):
    """Runs a schedule on step indices: each action must find the state it claims, no slot
    beyond s - 1 is used, and every step is reversed once, at its own state, last first."""
    slots, current, reversed_steps = {0: 0}, 0, []  # slot -> the step whose state it holds
    for action in actions:
        if action.kind == "advance":
            assert current == action.index and action.count >= 1, action
            current += action.count
        elif action.kind == "store":
            assert current == action.index and 0 < action.slot < snapshots, action
            slots[action.slot] = current
        elif action.kind == "restore":
            assert slots.get(action.slot) == action.index, action
            current = action.index
        else:
            assert action.kind == "reverse", action
            if not reversed_steps:  # the forward pass ran to x_n and kept x_{n-1}
                assert current == length, action
                current = length - 1
            assert current == action.index, action
            reversed_steps.append(action.index)
    assert reversed_steps == list(reversed(range(length)))
    assert len(slots) <= snapshots


TABLE = [
    *[(n, 1) for n in (1, 2, 3, 7)],
    *[(n, 2) for n in (1, 2, 3, 6, 7, 40)],
    *[(n, 3) for n in (1, 2, 3, 4, 10, 11, 12, 60, 200)],
    *[(n, 6) for n in (1, 2, 7, 28, 29, 33, 150)],
    *[(n, 14) for n in (2, 120, 121, 400)],
]


@pytest.mark.parametrize("length, snapshots", TABLE)
def test_every_action_finds_its_state_and_every_step_is_reversed_once(length, snapshots):
    actions = _online.online_schedule(length, snapshots)
    simulate(actions, length, snapshots)
    assert sum(a.count for a in actions if a.kind == "advance") >= length  # the forward pass
    assert checkpoint.evaluations(actions) >= checkpoint.optimal_evaluations(length, snapshots)


@pytest.mark.parametrize("snapshots", [2, 3, 4, 6])
def test_optimal_up_to_the_online_bound(snapshots):
    for length in range(1, beta2(snapshots) + 1):
        actions = _online.online_schedule(length, snapshots)
        assert checkpoint.evaluations(actions) == checkpoint.optimal_evaluations(
            length, snapshots
        ), (length, snapshots)


def test_the_forward_pass_ends_at_the_final_positions():
    # at n = β(s, 2) the gaps between stored steps are s, s - 1, ..., 1 (the only optimal choice)
    actions = _online.online_schedule(beta2(4), 4)
    stored = {}
    for action in actions:
        if action.kind == "reverse":
            break
        if action.kind == "store":
            stored[action.slot] = action.index
    assert sorted(stored.values()) == [5, 9, 12]  # and x₀; then steps 13 and 14


# --- against equinox's checkpointed while loop, at equal memory ---
# `checkpoints=c` is a buffer of c states whose first entry is x₀ (stored at step 0, never
# evicted), plus the working state of the backward loop: that is our `snapshots=c` (x₀ in slot
# 0, c - 1 free slots) plus our current state.
@functools.cache
def equinox_counter(checkpoints):
    calls = []

    def body(carry):
        i, x, n = carry
        jax.debug.callback(lambda: calls.append(1))
        return i + 1, jnp.sin(x), n

    def loss(x, n):
        init = (jnp.zeros((), n.dtype), x, n)
        cond = lambda carry: carry[0] < carry[2]
        kind, max_steps = "checkpointed", 100_000
        return eqxi.while_loop(cond, body, init, max_steps=max_steps, kind=kind,
                               checkpoints=checkpoints)[1]  # fmt: skip

    grad = jax.jit(jax.grad(loss))  # n is traced: one compilation per `checkpoints`

    def count(length):
        calls.clear()
        jax.block_until_ready(grad(0.3, jnp.asarray(length)))
        jax.effects_barrier()
        return len(calls)

    return count


@pytest.mark.parametrize(
    "snapshots, lengths",
    [(2, [7, 10, 25, 60]), (3, [11, 13, 20, 40, 90]), (6, [29, 33, 45, 80, 160])],
)
def test_no_more_evaluations_than_equinox_beyond_the_bound(snapshots, lengths):
    count = equinox_counter(snapshots)
    assert count(beta2(snapshots)) >= checkpoint.optimal_evaluations(beta2(snapshots), snapshots)
    for length in lengths:
        assert length > beta2(snapshots)
        ours = checkpoint.evaluations(_online.online_schedule(length, snapshots))
        assert ours <= count(length), (length, snapshots)


# --- the state machines in JAX ---
def _leaves_equal(a, b):
    return all(
        x.dtype == y.dtype and x.tolist() == y.tolist()
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


@pytest.mark.parametrize("length, snapshots", [(13, 3), (17, 4), (4, 1)])  # into phase 2
def test_jit_and_eager_agree(length, snapshots):
    place, next_action = jax.jit(_online.place), jax.jit(_online.next_action)
    eager = jitted = _online.placement_init(snapshots)
    for i in range(length - 1):
        eager, slot = _online.place(eager, i)
        jitted, jitted_slot = place(jitted, i)
        assert _leaves_equal((eager, slot), (jitted, jitted_slot)), i
    eager = jitted = _online.reversal_init(eager.positions, length)
    for _ in range(10 * length):
        eager, *action = _online.next_action(eager)
        jitted, *jitted_action = next_action(jitted)
        assert _leaves_equal((eager, action), (jitted, jitted_action))
        if int(action[0]) == _online.DONE:
            break
    else:
        raise AssertionError("the reverse pass did not finish")


@functools.partial(jax.jit, static_argnums=1)
def _evaluations_inside_lax_loops(length, snapshots):
    # the forward placement in a fori_loop and the reverse pass in a while_loop, n traced
    state = lax.fori_loop(
        0,
        length - 1,
        lambda i, state: _online.place(state, i)[0],
        _online.placement_init(snapshots),
    )

    def body(carry):
        reversal, _, total = carry
        reversal, kind, _, count, _ = _online.next_action(reversal)
        return reversal, kind, total + count + (kind == _online.REVERSE)

    zero = jnp.zeros((), state.positions.dtype)
    init = (_online.reversal_init(state.positions, length), zero, zero)
    _, _, total = lax.while_loop(lambda carry: carry[1] != _online.DONE, body, init)
    return total + length  # plus the forward pass's n steps


@pytest.mark.parametrize("snapshots", [1, 3, 6])
def test_the_state_machines_run_inside_lax_loops(snapshots):
    for length in (1, 2, beta2(snapshots) - 1, beta2(snapshots) + 3, 100):
        expected = checkpoint.evaluations(_online.online_schedule(length, snapshots))
        assert int(_evaluations_inside_lax_loops(jnp.asarray(length), snapshots)) == expected


def test_the_split_is_optimal():
    from adkit.checkpoint._revolve import forward_advances as p

    split = jax.jit(jax.vmap(_online.split, (0, None)))  # one compilation, every L at once
    for sigma in range(2, 8):
        for length, m in enumerate(split(jnp.arange(2, 300), sigma).tolist(), start=2):
            assert 1 <= m < length
            assert m + p(m, sigma) + p(length - m, sigma - 1) == p(length, sigma)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="length must be a positive integer"):
        _online.online_schedule(0, 2)
    with pytest.raises(ValueError, match="`snapshots` must be a positive integer"):
        _online.online_schedule(3, 0)
    with pytest.raises(ValueError, match="`snapshots` must be a positive integer"):
        _online.placement_init(0)
    with pytest.raises(ValueError, match="exact only while max_steps"):
        _online.placement_init(100, max_steps=2**30, dtype=jnp.int32)
