"""adkit.checkpoint.while_loop: derivatives against lax.while_loop's forward mode (float64,
tight), the executed step evaluations against the online schedule's count, every transform."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit import checkpoint
from adkit.checkpoint._online import online_schedule


def _loss(loop, steps, calls=None):
    def loss(w, x0):
        def body(carry):
            i, x = carry
            if calls is not None:
                jax.debug.callback(lambda: calls.append(1))
            return i + 1, {"a": jnp.tanh(w["m"] @ x["a"]) + 0.1 * x["b"], "b": jnp.sin(x["a"])}

        _, x = loop(lambda c: c[0] < steps, body, (0, x0))
        return jnp.sum(x["a"] ** 2) + jnp.sum(x["b"])

    return loss


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    w = {"m": jnp.asarray(0.5 * rng.normal(size=(3, 3)))}
    return w, {"a": jnp.asarray(rng.normal(size=3)), "b": jnp.asarray(rng.normal(size=3))}


def _ours(snapshots, max_steps=200):
    return lambda c, b, i: checkpoint.while_loop(c, b, i, max_steps=max_steps, snapshots=snapshots)


def _close(got, expected):
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("steps, snapshots", [(0, 3), (1, 2), (9, 3), (40, 3), (25, 6)])
def test_gradients_equal_lax_while_loop_forward_mode(steps, snapshots):
    args = _inputs()
    plain, loss = _loss(jax.lax.while_loop, steps), _loss(_ours(snapshots), steps)
    expected = jax.jacfwd(plain, (0, 1))(*args)  # lax.while_loop: forward mode only
    _close(jax.grad(loss, (0, 1))(*args), expected)
    _close(jax.jit(jax.grad(loss, (0, 1)))(*args), expected)
    _close(adkit.grad(loss, (0, 1))(*args), expected)
    _close(adkit.grad(loss, (0, 1), method="transpose")(*args), expected)
    _close(jax.jacfwd(loss, (0, 1))(*args), expected)  # forward mode


@pytest.mark.parametrize("snapshots", [2, 3, 5])
def test_the_step_runs_as_often_as_the_online_schedule_says(snapshots):
    bound = (snapshots + 1) * (snapshots + 2) // 2
    args = _inputs()
    calls = []
    # the step count is an argument: one compilation serves every n
    gradient = jax.jit(lambda steps, *a: jax.grad(_loss(_ours(snapshots), steps, calls))(*a))
    for steps in (1, 2, bound - 1, bound, bound + 1, 3 * bound):
        calls.clear()
        jax.block_until_ready(gradient(steps, *args))
        jax.effects_barrier()
        schedule = checkpoint.evaluations(online_schedule(steps, snapshots))
        assert len(calls) == schedule
        if steps <= bound:  # revolve's optimum while the loop stays within (s+1)(s+2)/2 steps
            assert len(calls) == checkpoint.optimal_evaluations(steps, snapshots)


def test_max_steps_stops_the_loop_and_vmap_in_both_orders():
    w, x0 = _inputs()
    plain = _loss(jax.lax.while_loop, 12)
    capped = _loss(_ours(3, max_steps=12), 10**6)  # cond never false: stopped by max_steps
    _close(jax.grad(capped)(w, x0), jax.jacfwd(plain)(w, x0))
    batch = jax.tree.map(lambda a: jnp.stack([a, -a, 0.3 * a]), x0)
    loss = _loss(_ours(3), 15)
    reference = _loss(jax.lax.while_loop, 15)
    expected = jax.vmap(jax.jacfwd(reference), (None, 0))(w, batch)
    _close(jax.vmap(jax.grad(loss), (None, 0))(w, batch), expected)
    total = lambda f: lambda w: jnp.sum(jax.vmap(f, (None, 0))(w, batch))
    _close(jax.grad(total(loss))(w), jax.jacfwd(total(reference))(w))


def test_a_data_dependent_number_of_steps():
    def loss(loop, w):
        body = lambda c: (c[0] + 1, jnp.tanh(w * c[1]))
        return loop(lambda c: c[1] > 1e-3, body, (0, 1.0))[1]

    w = 0.9
    expected = jax.jvp(lambda w: loss(jax.lax.while_loop, w), (w,), (1.0,))[1]
    got = jax.grad(lambda w: loss(_ours(4), w))(w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bad_arguments_are_clear_errors():
    body = lambda c: c + 1.0
    with pytest.raises(ValueError, match="`max_steps` must be a non-negative integer"):
        checkpoint.while_loop(lambda c: c < 3, body, 0.0, max_steps=None)
    with pytest.raises(ValueError, match="`snapshots` must be a positive integer"):
        checkpoint.while_loop(lambda c: c < 3, body, 0.0, max_steps=5, snapshots=0)
    with pytest.raises(TypeError, match="same structure, shapes and dtypes"):
        checkpoint.while_loop(lambda c: c < 3, lambda c: jnp.ones(2), 0.0, max_steps=5)
