"""adkit.checkpoint.scan under every transformation: forward mode, vmap, second order, and the
taped schedules ("sqrt", "budget") with their exact evaluation counts."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit import checkpoint
from adkit.checkpoint._budget import choose_budget
from adkit.checkpoint._program import cached
from adkit.checkpoint._schedule import blocked


def _loss(scan, w, h0, xs):
    def step(carry, x):
        h, k = carry
        h = jnp.tanh(w["a"] @ h + w["b"] * x["u"]) + 0.1 * jnp.sin(x["v"])
        return (h, k + 1), {"h": h * k, "square": jnp.sum(h**2)}

    (h, k), ys = scan(step, (h0, jnp.int32(0)), xs)
    return jnp.sum(h) + jnp.sum(ys["h"] ** 3) + jnp.sum(ys["square"]) + 0 * k


def _inputs(length=11, seed=0):
    rng = np.random.default_rng(seed)
    w = {"a": jnp.asarray(0.4 * rng.normal(size=(3, 3))), "b": jnp.asarray(rng.normal(size=3))}
    xs = {
        "u": jnp.asarray(rng.normal(size=(length, 3))),
        "v": jnp.asarray(rng.normal(size=(length, 3))),
    }
    return w, jnp.asarray(rng.normal(size=3)), xs


PLAIN = functools.partial(_loss, jax.lax.scan)
VARIANTS = {
    "revolve": dict(snapshots=3),
    "sqrt": dict(schedule="sqrt"),
    "budget": dict(schedule="budget", memory_budget=6 * 3 * 8 + 4 * 200),
}


def _checkpointed(name):
    return functools.partial(_loss, functools.partial(checkpoint.scan, **VARIANTS[name]))


def _close(got, expected, rtol=1e-12):
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("name", VARIANTS)
def test_forward_mode_equals_lax_scan(name):
    args = _inputs()
    tangents = jax.tree.map(lambda a: jnp.cos(3.0 * a), args)
    expected = jax.jvp(PLAIN, args, tangents)
    loss = _checkpointed(name)
    _close(jax.jvp(loss, args, tangents), expected)
    _close(adkit.jvp(loss, args, tangents), expected)
    # only some inputs perturbed: the others' tangents are symbolic zeros
    w, h0, xs = args
    _close(
        jax.jvp(lambda w: loss(w, h0, xs), (w,), (tangents[0],)),
        jax.jvp(lambda w: PLAIN(w, h0, xs), (w,), (tangents[0],)),
    )


@pytest.mark.parametrize("name", VARIANTS)
def test_gradients_equal_lax_scan_on_both_adkit_paths(name):
    args = _inputs()
    expected = jax.grad(PLAIN, (0, 1, 2))(*args)
    loss = _checkpointed(name)
    _close(jax.grad(loss, (0, 1, 2))(*args), expected)
    _close(adkit.grad(loss, (0, 1, 2))(*args), expected)
    _close(adkit.grad(loss, (0, 1, 2), method="transpose")(*args), expected)


def test_vmap_of_the_gradient_and_gradient_of_the_vmap():
    w, h0, xs = _inputs()
    batch_h0 = jnp.stack([h0, 2 * h0, -h0])
    batch_xs = jax.tree.map(lambda a: jnp.stack([a, a[::-1], 0.5 * a]), xs)
    loss = _checkpointed("revolve")
    # a batch of gradients (the loop's parameters unbatched, the states batched)
    got = jax.vmap(jax.grad(loss, (0, 1)), (None, 0, 0))(w, batch_h0, batch_xs)
    expected = jax.vmap(jax.grad(PLAIN, (0, 1)), (None, 0, 0))(w, batch_h0, batch_xs)
    _close(got, expected)
    # the gradient of a batched loss: the primitive is batched, not unrolled into a plain scan
    batched = lambda f: lambda w: jnp.sum(jax.vmap(f, (None, 0, 0))(w, batch_h0, batch_xs))
    _close(jax.grad(batched(loss))(w), jax.grad(batched(PLAIN))(w))
    jaxpr = jax.make_jaxpr(jax.grad(batched(loss)))(w)
    assert adkit.checkpoint._tangent.checkpoint_tangent_p not in {
        e.primitive for e in jaxpr.jaxpr.eqns
    }  # transposed away: no tangent left in a gradient
    # and a batch of tangents (jacfwd) through the batched primitive
    _close(jax.jacfwd(lambda h: loss(w, h, xs))(h0), jax.jacfwd(lambda h: PLAIN(w, h, xs))(h0))


def test_second_order_in_every_combination():
    w, h0, xs = _inputs(length=7)
    loss = lambda h: _checkpointed("revolve")(w, h, xs)
    plain = lambda h: PLAIN(w, h, xs)
    expected = jax.hessian(plain)(h0)
    _close(jax.hessian(loss)(h0), expected, rtol=1e-10)  # forward over reverse
    _close(jax.jacfwd(jax.jacfwd(loss))(h0), expected, rtol=1e-10)  # forward over forward
    _close(adkit.hessian(loss)(h0), expected, rtol=1e-10)
    # reverse over reverse would differentiate the reverse sweep's loops, whose trip counts
    # are data (the schedule's rows): JAX refuses, and the docs say to use forward over reverse
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        jax.jacrev(jax.jacrev(loss))(h0)


def _count(name_or_kwargs, length):
    calls = []

    def loss(w):
        def step(h, x):
            jax.debug.callback(lambda: calls.append(1))
            return jnp.tanh(w * h + x), None

        xs = jnp.linspace(0, 1, length)
        return checkpoint.scan(step, 0.1, xs, **name_or_kwargs)[0]

    jax.block_until_ready(jax.grad(loss)(0.5))
    jax.effects_barrier()
    return len(calls)


@pytest.mark.parametrize("length", [1, 2, 10, 37])
def test_the_sqrt_schedule_evaluates_each_step_twice(length):
    assert _count({"schedule": "sqrt"}, length) == 2 * length


def test_budget_schedules_run_exactly_their_evaluations():
    from adkit.checkpoint._tangent import tape_bytes

    step = jax.make_jaxpr(lambda w, h, x: [jnp.tanh(w * h + x)])(0.5, 0.1, 0.0)
    state, residual = 8, tape_bytes(step, (1, 1, 1))  # float64 h; its tape
    for length, snapshots, block in [(23, 3, 4), (40, 2, 5), (17, 5, 3)]:
        program = cached("blocked", length, snapshots, block)
        assert program.evaluations == checkpoint.evaluations(blocked(length, snapshots, block))
        # a budget that buys this schedule: s states and a tape of `block` steps
        budget = snapshots * state + block * residual
        chosen = cached("blocked", length, *choose_budget(length, budget, state, residual))
        calls = _count({"schedule": "budget", "memory_budget": budget}, length)
        assert chosen.block > 1  # a taped schedule
        assert calls == chosen.evaluations <= program.evaluations


def test_the_budget_schedule_dominates_both_pure_strategies():
    length, state, residual = 10_000, 4096, 3 * 4096
    root = 100
    # at the memory of √L segment taping: at most 2 evaluations per step
    s, block = choose_budget(length, root * state + root * residual, state, residual)
    assert checkpoint.evaluations(blocked(length, s, block)) <= 2.0 * length
    # at snapshot-only budgets: no more than revolve with as many snapshots
    for snapshots in (2, 5, 14, 140):
        s, block = choose_budget(length, snapshots * state, state, residual)
        evaluations = checkpoint.evaluations(blocked(length, s, block))
        assert evaluations <= checkpoint.optimal_evaluations(length, snapshots)


def test_the_tape_holds_the_step_residuals_and_not_the_parameters():
    from adkit.checkpoint._tangent import tape_bytes

    n = 64
    step = jax.make_jaxpr(lambda w, h, x: (jnp.tanh(w @ h + x), jnp.sum(h)))(
        jnp.zeros((n, n), jnp.float32), jnp.zeros(n, jnp.float32), jnp.zeros(n, jnp.float32)
    )
    # JAX's linearization of the step keeps h (for W's cotangent), tanh's output y and 1 - y:
    # three states; W, 16x larger, is read from the parameters instead
    assert tape_bytes(step, (1, 1, 1)) == 3 * n * 4


def test_budget_errors_are_clear():
    step = lambda h, x: (h + x, h)
    with pytest.raises(ValueError, match='goes with `schedule="budget"`'):
        checkpoint.scan(step, 0.0, jnp.ones(3), memory_budget=100)
    with pytest.raises(ValueError, match="holds at least one state"):
        checkpoint.scan(step, jnp.zeros(4), jnp.ones((3, 4)), schedule="budget", memory_budget=1)


def _nested(scan, w, h0, xs, twice=False):
    def outer(h, rows):
        inner = lambda g, x: (jnp.tanh(w["a"] @ g + x["u"]), jnp.sum(g))
        h, ys = scan(inner, h, rows)
        if twice:  # a second inner loop over the same parameter, and a direct use of it
            h = scan(inner, h, rows)[0] + 0.1 * jnp.sin(w["a"] @ h)
        return h, jnp.sum(ys)

    rows = jax.tree.map(lambda a: a.reshape(4, a.shape[0] // 4, *a.shape[1:]), xs)
    h, ys = scan(outer, h0, rows)
    return jnp.sum(h**2) + jnp.sum(ys)


@pytest.mark.parametrize("twice", [False, True])
def test_nested_checkpointed_loops_share_one_accumulator(twice):
    w, h0, xs = _inputs(length=12)
    scan = functools.partial(checkpoint.scan, snapshots=2)
    expected = jax.grad(functools.partial(_nested, jax.lax.scan, twice=twice), (0, 1))(w, h0, xs)
    loss = functools.partial(_nested, scan, twice=twice)
    _close(jax.grad(loss, (0, 1))(w, h0, xs), expected)
    _close(adkit.grad(loss, (0, 1))(w, h0, xs), expected)


@pytest.mark.parametrize("levels", [2, 3])
def test_nesting_adds_no_parameter_sized_buffer(levels):
    # 100 x 100 steps in two levels, 10 x 10 x 10 in three, of a 1024-float state with 1024 x
    # 1024 weights: XLA's temp bytes hold states and input rows only, no weight-sized buffer
    # (each inner sweep starts from the accumulator of the sweep around it); JAX's nested
    # checkpointed scans hold 1.22 and 2.14 weight sizes
    n = 1024
    w = jnp.zeros((n, n), jnp.float32)
    shape = (100, 100) if levels == 2 else (10, 10, 10)
    h0, xs = jnp.zeros(n, jnp.float32), jnp.ones((*shape, n), jnp.float32)

    def loss(w, h0, xs):
        step = lambda g, x: (jnp.tanh(w @ g + x), None)
        for _ in range(levels - 1):  # wrap the step in a loop over rows of inputs
            step = functools.partial(
                lambda inner, h, rows: (checkpoint.scan(inner, h, rows, snapshots=14)[0], None),
                step,
            )
        return jnp.sum(checkpoint.scan(step, h0, xs, snapshots=14)[0])

    compiled = jax.jit(jax.grad(loss, (0, 1))).lower(w, h0, xs).compile()
    assert compiled.memory_analysis().temp_size_in_bytes < 0.5 * w.nbytes
