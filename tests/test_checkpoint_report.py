"""checkpoint.memory_report: XLA's bytes, the residual table, and the pathology warnings."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

import adkit
from adkit import checkpoint

W = 0.5 * jnp.eye(16)
XS = jax.random.normal(jax.random.key(0), (50, 16))


def _rnn(W, xs):
    step = lambda h, x: (jnp.tanh(W @ h + x), None)
    return jnp.sum(jax.lax.scan(step, jnp.zeros(16), xs)[0])


def test_the_report_adds_up_and_matches_xla():
    report = checkpoint.memory_report(_rnn, W, XS)
    compiled = jax.jit(jax.grad(_rnn, (0, 1))).lower(W, XS).compile().memory_analysis()
    assert report.temp_bytes == compiled.temp_size_in_bytes
    assert report.argument_bytes == compiled.argument_size_in_bytes
    assert sum(report.by_line.values()) == report.residual_bytes
    # the scan keeps one (50, 16) float64 array per step-wise residual: the states and tanh'
    stacked = [size for shape, size, _ in report.residuals if shape == "float64[50,16]"]
    assert stacked and all(size == 50 * 16 * 8 for size in stacked)
    assert report.warnings == []
    assert "residuals:" in str(report)


def test_adkit_grad_is_reported_alike():
    report = checkpoint.memory_report(_rnn, W, XS, gradient=adkit.grad)
    compiled = jax.jit(adkit.grad(_rnn, (0, 1))).lower(W, XS).compile().memory_analysis()
    assert report.temp_bytes == compiled.temp_size_in_bytes


def test_a_loop_invariant_value_stored_at_every_step_is_named():
    def f(W, xs):
        def step(h, x):
            M = jnp.sin(W) + 0.0 * x[0]  # the same at every step, but JAX cannot tell
            return jnp.tanh(M @ h + x), None

        return jnp.sum(jax.lax.scan(step, jnp.zeros(16), xs)[0])

    [warning] = checkpoint.memory_report(f, W, XS).warnings
    assert "stored 50 times, the same at every step" in warning and "(16, 16)" in warning


def test_one_accumulator_per_nesting_level_is_named():
    def nested(W, xs):
        def outer(h, rows):
            return jax.lax.scan(lambda h, x: (jnp.tanh(W @ h + x), None), h, rows)[0], None

        return jnp.sum(jax.lax.scan(outer, jnp.zeros(16), xs.reshape(5, 10, 16))[0])

    warnings = checkpoint.memory_report(nested, W, XS).warnings
    assert len(warnings) == 1 and "(16, 16)" in warnings[0] and "2 nesting levels" in warnings[0]
    np.testing.assert_allclose(jax.grad(nested)(W, XS), jax.grad(_rnn)(W, XS), rtol=1e-12)


def test_a_checkpoint_whose_policy_saves_everything_is_named():
    def f(W, xs, policy):
        step = jax.checkpoint(lambda h, x: (jnp.tanh(W @ h + x), None), policy=policy)
        return jnp.sum(jax.lax.scan(step, jnp.zeros(16), xs)[0])

    policies = checkpoint.policies
    [warning] = checkpoint.memory_report(
        functools.partial(f, policy=policies.everything_saveable), W, XS
    ).warnings
    assert "saves nothing" in warning and "everything_saveable" in warning
    for policy in (policies.nothing_saveable, policies.dots_saveable):  # these recompute tanh
        report = checkpoint.memory_report(functools.partial(f, policy=policy), W, XS)
        assert report.warnings == []
