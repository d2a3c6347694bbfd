"""Surrogate-gradient operations: forward values are the documented formulas, and JAX and adkit
both differentiate them with the documented surrogate derivatives (closed forms), in every mode
the operation supports, under jit and vmap, in float32 and float64."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit.ops._surrogate import (
    clip_gradient,
    fake_quantize,
    gumbel_softmax,
    scale_gradient,
    straight_through,
)

X = [-1.3, -1.0, -0.4, 0.2, 0.25, 0.7, 1.5, 2.5, 2.6]  # includes the fake_quantize range ends
X2 = [0.9, -2.2, 1.1, -0.1, 3.1, 0.45, -0.6, 1.9, 0.3]  # a second batch row
W = [-5.0, -0.5, 0.0, 0.3, 1.0, 2.0, 4.0, -100.0, 100.0]  # upstream cotangent weights


def _tol(dtype):
    return 1e-13 if np.dtype(dtype) == np.float64 else 2e-6


def assert_close(actual, expected, dtype):
    actual = np.asarray(actual)
    assert actual.dtype == np.dtype(dtype), f"dtype {actual.dtype}, expected {dtype}"
    tol = _tol(dtype)
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=np.float64), rtol=tol, atol=tol)


def check_gradients(f, x, expected, dtype, x2=X2):
    """`f` is scalar-valued; `expected(x)` the closed-form gradient. Checks adkit.grad eagerly,
    then, in one jitted program (one compilation keeps the file fast), jax.grad, adkit.grad by
    transposition, and adkit.grad batched by vmap over `x` and `x2`."""
    assert_close(adkit.grad(f)(x), expected(x), dtype)
    xs = jnp.stack([x, jnp.asarray(x2, dtype)])
    program = lambda x, xs: (
        jax.grad(f)(x),
        adkit.grad(f, method="transpose")(x),
        jax.vmap(adkit.grad(f))(xs),
    )
    by_jax, transposed, batched = jax.jit(program)(x, xs)
    assert_close(by_jax, expected(x), dtype)
    assert_close(transposed, expected(x), dtype)
    assert_close(batched, np.stack([expected(xs[0]), expected(xs[1])]), dtype)


def check_forward(op, x, expected_value, dtype):
    """`op` maps an array to an array: eager, jit and vmap (two rows) agree with the formula."""
    assert_close(op(x), expected_value(x), dtype)
    xs = jnp.stack([x, jnp.asarray(X2, dtype)])
    jitted, batched = jax.jit(lambda x, xs: (op(x), jax.vmap(op)(xs)))(x, xs)
    assert_close(jitted, expected_value(x), dtype)
    assert_close(batched, np.stack([expected_value(r) for r in xs]), dtype)


def check_jvp(op, x, t, expected_value, expected_tangent, dtype):
    """adkit.jvp eagerly, then jax.jvp and adkit.jvp in one jitted program, all give the
    formula's value and the surrogate tangent."""
    program = lambda x, t: [jvp(op, (x,), (t,)) for jvp in (jax.jvp, adkit.jvp)]
    for y, ty in [adkit.jvp(op, (x,), (t,)), *jax.jit(program)(x, t)]:
        assert_close(y, expected_value, dtype)
        assert_close(ty, expected_tangent, dtype)


def check_hessian(f, x, expected, dtype):
    """jax.hessian, adkit.hessian and forward-over-transpose all give the closed form (in one
    jitted program; adkit's interpreter still runs, at trace time)."""
    hessians = (jax.hessian(f), adkit.hessian(f), jax.jacfwd(adkit.grad(f, method="transpose")))
    for hess in jax.jit(lambda x: [h(x) for h in hessians])(x):
        assert_close(hess, expected, dtype)


# --- straight_through ---


def test_straight_through_round(dtype):
    x, w, t = (jnp.asarray(v, dtype) for v in (X, W, X2))
    st_round = straight_through(jnp.round)
    check_forward(st_round, x, lambda x: np.round(np.asarray(x)), dtype)
    # the estimator's gradient is exactly the upstream cotangent: d round = identity
    check_gradients(lambda x: jnp.sum(w * st_round(x)), x, lambda x: w, dtype)
    check_jvp(st_round, x, t, np.round(np.asarray(x)), t, dtype)
    np.testing.assert_array_equal(adkit.grad(lambda x: jnp.sum(st_round(x)))(x), np.ones(9))


def test_straight_through_smooth_function_second_order(dtype):
    x, t = jnp.asarray(X, dtype), jnp.asarray(X2, dtype)
    st_sin = straight_through(jnp.sin)
    f = lambda x: jnp.sum(st_sin(x) * x**2)
    # d/dx [s(x) x^2] = x^2 + 2 x sin x with s' = 1; the next derivative sees s' = 1 again
    check_gradients(f, x, lambda x: x**2 + 2 * x * np.sin(x), dtype)
    check_hessian(f, x, np.diag(4 * np.asarray(x) + 2 * np.sin(np.asarray(x))), dtype)
    check_jvp(st_sin, x, t, np.sin(np.asarray(x)), t, dtype)
    # jvp of grad, in both libraries
    for jvp, grad in ((jax.jvp, jax.grad), (adkit.jvp, adkit.grad)):
        _, hvp = jvp(grad(f), (x,), (t,))
        assert_close(hvp, (4 * np.asarray(x) + 2 * np.sin(np.asarray(x))) * t, dtype)


# --- fake_quantize ---


def _fake_quantize_reference(x, bits, scale, zero_point):
    x = np.asarray(x)
    q = np.clip(np.round(x / scale) + zero_point, 0, 2**bits - 1)
    return (q - zero_point) * scale


def test_fake_quantize(dtype):
    x, w, t = (jnp.asarray(v, dtype) for v in (X, W, X2))
    bits, scale, zero_point = 3, 0.5, 2  # grid -1.0, -0.5, ..., 2.5
    fq = lambda x: fake_quantize(x, bits, scale, zero_point)
    check_forward(fq, x, lambda x: _fake_quantize_reference(x, bits, scale, zero_point), dtype)
    values = np.asarray(fq(x))
    assert set(values.tolist()) <= {-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5}
    assert values[np.asarray(X) == 0.25] == 0.0  # round half to even: round(0.5) = 0

    def inside(x):  # the closed representable range [-1.0, 2.5]
        x = np.asarray(x)
        return ((x >= -1.0) & (x <= 2.5)).astype(np.float64)

    np.testing.assert_array_equal(inside(x), [0, 1, 1, 1, 1, 1, 1, 1, 0])
    check_gradients(lambda x: jnp.sum(w * fq(x)), x, lambda x: w * inside(x), dtype)
    check_jvp(fq, x, t, values, t * inside(x), dtype)
    # second order: the clipped STE is piecewise constant, so d/dx [fq(x) x] = fq'(x) x + fq(x)
    # differentiates to 2 fq'(x)
    f = lambda x: jnp.sum(fq(x) * x)
    check_gradients(f, x, lambda x: inside(x) * x + _fake_quantize_reference(x, 3, 0.5, 2), dtype)
    check_hessian(f, x, np.diag(2 * inside(x)), dtype)


def test_fake_quantize_scale_and_zero_point_get_no_gradient(dtype):
    x = jnp.asarray(X, dtype)
    scale, zero_point = jnp.asarray(0.5, dtype), jnp.asarray(2.0, dtype)
    f = lambda s, z: jnp.sum(fake_quantize(x, 3, s, z) * jnp.arange(1.0, 10.0, dtype=dtype))
    for grad in (jax.grad, adkit.grad):
        ds, dz = grad(f, argnums=(0, 1))(scale, zero_point)
        assert_close(ds, 0.0, dtype)
        assert_close(dz, 0.0, dtype)


def test_fake_quantize_per_channel(dtype):
    x = jnp.asarray(np.reshape(X[:8], (4, 2)), dtype)
    scale = jnp.asarray([0.5, 0.25], dtype)  # one scale and zero point per column
    zero_point = jnp.asarray([2.0, 8.0], dtype)
    bits = 4
    expected = _fake_quantize_reference(x, bits, np.asarray(scale), np.asarray(zero_point))
    assert_close(fake_quantize(x, bits, scale, zero_point), expected, dtype)
    lo = (0 - np.asarray(zero_point)) * np.asarray(scale)
    hi = (2**bits - 1 - np.asarray(zero_point)) * np.asarray(scale)
    inside = ((np.asarray(x) >= lo) & (np.asarray(x) <= hi)).astype(np.float64)
    assert 0 < inside.sum() < inside.size
    f = lambda x: jnp.sum(fake_quantize(x, bits, scale, zero_point))
    for grad in (jax.grad, adkit.grad):
        assert_close(grad(f)(x), inside, dtype)


# --- clip_gradient ---


def test_clip_gradient(dtype):
    x, w = jnp.asarray(X, dtype), jnp.asarray(W, dtype)
    op = lambda x: clip_gradient(x, -1.0, 2.0)
    check_forward(op, x, np.asarray, dtype)
    # upstream cotangent w is clipped into [-1, 2]: -100 -> -1, 100 -> 2, 0.3 unchanged
    check_gradients(lambda x: jnp.sum(w * op(x)), x, lambda x: np.clip(w, -1.0, 2.0), dtype)
    # a cotangent from a nonlinear consumer: d/dx sum(op(x)^3) = clip(3 x^2, -1, 2)
    f = lambda x: jnp.sum(op(x) ** 3)
    check_gradients(f, x, lambda x: np.clip(3 * np.asarray(x) ** 2, -1.0, 2.0), dtype)


def test_clip_gradient_array_bounds(dtype):
    x, w = jnp.asarray(X, dtype), jnp.asarray(W, dtype)
    lo = jnp.asarray([-1.0, -0.1, 0.0, 0.0, -np.inf, 0.5, -3.0, -50.0, 0.0], dtype)
    hi = jnp.asarray([1.0, 0.1, 0.0, 0.2, np.inf, 3.0, 3.0, 50.0, 7.0], dtype)
    expected = np.clip(np.asarray(w), lo, hi)
    for grad in (jax.grad, adkit.grad):
        assert_close(grad(lambda x: jnp.sum(w * clip_gradient(x, lo, hi)))(x), expected, dtype)


def test_clip_gradient_forward_mode_raises_in_jax_and_adkit(dtype):
    x = jnp.asarray(X, dtype)
    op = lambda x: clip_gradient(x, -1.0, 1.0)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(op, (x,), (x,))
    with pytest.raises(TypeError, match="custom_vjp"):
        adkit.jvp(op, (x,), (x,))
    with pytest.raises(TypeError, match="custom_vjp"):
        adkit.jacfwd(op)(x)


# --- scale_gradient ---


@pytest.mark.parametrize("s", [-1.0, 0.5])
def test_scale_gradient(dtype, s):
    x, w, t = (jnp.asarray(v, dtype) for v in (X, W, X2))
    op = lambda x: scale_gradient(x, s)
    check_forward(op, x, np.asarray, dtype)
    check_gradients(lambda x: jnp.sum(w * op(x)), x, lambda x: s * w, dtype)
    check_jvp(op, x, t, x, s * t, dtype)
    # sum(sin(y)), y = scale_gradient(x): the gradient s cos(x); differentiating again passes
    # through scale_gradient once more, so the Hessian is diag(-s^2 sin x)
    f = lambda x: jnp.sum(jnp.sin(op(x)))
    check_gradients(f, x, lambda x: s * np.cos(x), dtype)
    check_hessian(f, x, np.diag(-(s**2) * np.sin(np.asarray(x))), dtype)


def test_scale_gradient_reversal_and_array_factor(dtype):
    x, w = jnp.asarray(X, dtype), jnp.asarray(W, dtype)
    s = jnp.asarray([-1.0, 1.0, 2.0, 0.0, -3.0, 1.0, 1.0, 0.5, -0.5], dtype)
    f = lambda x, s: jnp.sum(w * scale_gradient(x, s))
    for grad in (jax.grad, adkit.grad):
        assert_close(grad(f)(x, s), np.asarray(s) * np.asarray(w), dtype)
        assert_close(grad(f, argnums=1)(x, s), np.zeros(9), dtype)  # s is a constant
    # gradient reversal: the plain gradient with its sign flipped
    g = lambda x: jnp.sum(jnp.tanh(x) * w)
    for grad in (jax.grad, adkit.grad):
        reversed_ = grad(lambda x: g(scale_gradient(x, -1.0)))(x)
        assert_close(reversed_, -np.asarray(jax.grad(g)(x)), dtype)


# --- gumbel_softmax ---

LOGITS = [[0.3, -1.2, 2.0, 0.5], [1.0, 1.1, -0.4, 0.0], [-2.0, 0.7, 0.1, 0.6]]
C = [[1.0, -2.0, 0.5, 3.0], [0.0, 1.5, -1.0, 2.0], [2.5, -0.5, 1.0, 0.0]]


def _softmax(z, axis):
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _soft_sample(logits, key, tau, axis):
    g = np.asarray(jax.random.gumbel(key, logits.shape, logits.dtype), np.float64)
    return _softmax((np.asarray(logits, np.float64) + g) / tau, axis)


def soft_jvp(y, t, tau):
    """The soft sample's derivative along `t` (of logits), and equally its gradient for the
    cotangent `t` (the Jacobian is symmetric): y * (t - sum(y t)) / tau over the last axis."""
    t = np.asarray(t, np.float64)
    return y * (t - np.sum(y * t, axis=-1, keepdims=True)) / tau


def soft_hessian(y, c, tau):
    """Hessian in the logits of sum(c * y), y = softmax((logits + g) / tau) rowwise:
    H_ij = [d_ij y_i (c_i - m) - y_i y_j (c_i - m) - y_i y_j (c_j - m)] / tau^2, m = sum(y c),
    block diagonal over rows."""
    rows, n = y.shape
    h = np.zeros((rows, n, rows, n))
    for r in range(rows):
        yr, d = y[r], c[r] - np.sum(y[r] * c[r])
        outer = np.outer(yr, yr)
        h[r, :, r, :] = (np.diag(yr * d) - outer * d[:, None] - outer * d[None, :]) / tau**2
    return h


@pytest.mark.parametrize("axis", [-1, 0])
def test_gumbel_softmax_values(dtype, axis):
    logits, key, tau = jnp.asarray(LOGITS, dtype), jax.random.key(3), 0.7
    soft = _soft_sample(logits, key, tau, axis)
    assert_close(gumbel_softmax(logits, key, tau, axis=axis), soft, dtype)
    hard = np.asarray(gumbel_softmax(logits, key, tau, hard=True, axis=axis))
    assert hard.dtype == np.dtype(dtype)
    expected = np.moveaxis(np.eye(soft.shape[axis])[np.argmax(soft, axis=axis)], -1, axis)
    np.testing.assert_array_equal(hard, expected)  # exactly one-hot, at the soft argmax
    np.testing.assert_array_equal(hard.sum(axis=axis), 1.0)
    keys = jax.random.split(key, 3)

    def jitted_and_batched(logits, key, keys):  # one program: one compilation
        results = []
        for h in (False, True):
            op = lambda logits, k, h=h: gumbel_softmax(logits, k, tau, hard=h, axis=axis)
            results.append((op(logits, key), jax.vmap(op, in_axes=(None, 0))(logits, keys)))
        return results

    results = jax.jit(jitted_and_batched)(logits, key, keys)
    for h, (jitted, batched) in zip((False, True), results, strict=True):
        assert_close(jitted, gumbel_softmax(logits, key, tau, hard=h, axis=axis), dtype)
        eager = [gumbel_softmax(logits, k, tau, hard=h, axis=axis) for k in keys]
        assert_close(batched, np.stack(eager), dtype)
    assert not np.allclose(results[0][1][0], results[0][1][1])  # other keys, other samples


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_derivatives(dtype, hard):
    logits, key, tau = jnp.asarray(LOGITS, dtype), jax.random.key(5), 0.6
    c, t = jnp.asarray(C, dtype), jnp.asarray(np.cos(np.arange(12.0)).reshape(3, 4), dtype)
    y = _soft_sample(logits, key, tau, -1)
    op = lambda logits: gumbel_softmax(logits, key, tau, hard=hard)

    f = lambda logits: jnp.sum(c * op(logits))
    expected_grad = lambda logits: soft_jvp(_soft_sample(logits, key, tau, -1), c, tau)
    check_gradients(f, logits, expected_grad, dtype, x2=logits + 0.3 * jnp.cos(logits))
    value = np.eye(4)[np.argmax(y, axis=-1)] if hard else y
    check_jvp(op, logits, t, value, soft_jvp(y, t, tau), dtype)
    # hard or soft, the second derivative is the soft sample's
    check_hessian(f, logits, soft_hessian(y, np.asarray(c), tau), dtype)
    # the temperature is differentiated like the soft sample's: dz/dtau = -z / tau
    g_tau = lambda tau: jnp.sum(c * gumbel_softmax(logits, key, tau, hard=hard))
    z = np.log(y)  # equals (logits + g) / tau up to a per-row constant, which cancels
    expected_tau = float(np.sum(soft_jvp(y, c, tau) * tau * (-z / tau)))
    for grad in (jax.grad, adkit.grad):
        assert_close(grad(g_tau)(jnp.asarray(tau, dtype)), expected_tau, dtype)


# --- bad arguments ---

_x = jnp.asarray([0.5, 1.5, 2.5])
_key = jax.random.key(0)

BAD = [
    (lambda: straight_through(3), TypeError, ["received 3", "Pass the function"]),
    (lambda: straight_through(jnp.sum)(_x), TypeError, ["returned float", "elementwise"]),
    (lambda: straight_through(jnp.round)(jnp.arange(3)), TypeError, ["int", "astype"]),
    (lambda: fake_quantize(_x, 0, 0.5, 0), ValueError, ["bits=0", "bits=8"]),
    (lambda: fake_quantize(_x, 2.5, 0.5, 0), TypeError, ["received 2.5", "bits=8"]),
    (lambda: fake_quantize(_x, True, 0.5, 0), TypeError, ["received True", "bits=8"]),
    (lambda: fake_quantize(_x, 8, 0.0, 0), ValueError, ["received 0.0", "scale="]),
    (lambda: fake_quantize(_x, 8, [0.5, -1.0, 1.0], 0), ValueError, ["-1.", "scale="]),
    (lambda: fake_quantize(_x, 8, 0.5, 1.5), ValueError, ["received 1.5", "jnp.round"]),
    (lambda: fake_quantize(_x, 8, 0.5, 300), ValueError, ["received 300", "[0, 255]"]),
    (lambda: fake_quantize(_x, 8, jnp.ones(2), 0), ValueError, ["shape (2,)", "broadcasts"]),
    (lambda: clip_gradient(_x, 1.0, -1.0), ValueError, ["lo=1.0", "hi=-1.0", "in order"]),
    (lambda: clip_gradient(_x, 0.0, np.nan), ValueError, ["hi=nan", "in order"]),
    (lambda: clip_gradient(jnp.arange(3), -1.0, 1.0), TypeError, ["int", "astype"]),
    (lambda: scale_gradient(_x, np.inf), ValueError, ["received inf", "finite"]),
    (lambda: scale_gradient(_x, 1j), TypeError, ["received 1j", "real number"]),
    (lambda: scale_gradient(_x, jnp.ones((2, 3))), ValueError, ["shape (2, 3)", "broadcasts"]),
    (lambda: gumbel_softmax(_x, _key, tau=0.0), ValueError, ["tau=0.0", "tau > 0"]),
    (lambda: gumbel_softmax(_x, _key, tau=-1), ValueError, ["tau=-1", "tau > 0"]),
    (lambda: gumbel_softmax(_x, _key, hard="yes"), TypeError, ["received 'yes'", "hard=True"]),
    (lambda: gumbel_softmax(_x, _key, axis=1), ValueError, ["axis=1", "[-1, 0]"]),
    (lambda: gumbel_softmax(_x, _key, axis=0.0), TypeError, ["received 0.0", "axis=-1"]),
    (lambda: gumbel_softmax(_x, 0), TypeError, ["received 0", "jax.random.key"]),
    (lambda: gumbel_softmax(jnp.asarray(1.0), _key), ValueError, ["scalar", "jnp.array"]),
    (lambda: gumbel_softmax(jnp.arange(3), _key), TypeError, ["int", "astype"]),
]


@pytest.mark.parametrize("call, error, fragments", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert message.startswith("`adkit.ops."), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    assert re.search(r"\. [A-Z][^.]*\.?", message), f"no sentence with a fix in: {message}"
