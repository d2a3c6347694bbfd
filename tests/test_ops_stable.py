"""adkit.ops' stable and safe operations: adkit's derivatives agree with JAX's (float64, 1e-12)
and with finite differences; values agree with float64 references in float32 and float64; and at
the extremes, where the naive formula gives inf or NaN (in value or gradient), the op gives the
closed-form value and gradient."""

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sp
from helpers import assert_trees_close

import adkit
from adkit.ops._safe import safe_div, safe_log, safe_norm, safe_sqrt
from adkit.ops._stable import (
    log1m_exp,
    log1p_exp,
    log_sigmoid,
    log_softmax,
    logaddexp,
    logsumexp,
    softmax,
    softplus,
)
from adkit.testing import check_grads

MASK = np.array([[True, False, True], [False, True, True]])  # every row and column has a True


# --- the table of ops, with inputs in their domain ---
class Case(NamedTuple):
    name: str
    fn: Callable  # of the arrays `make` draws
    make: Callable  # rng -> tuple of float64 numpy arrays
    ref: Callable  # (dtype, *float64 args) -> float64 numpy reference value
    order: int = 2  # check_grads order: 1 where the op is not smooth at the inputs


def normal(*shapes):
    return lambda rng: tuple(rng.normal(size=s) for s in shapes)


def around(*values):
    """Six fixed points as a (2, 3) array, jittered a little: inputs on chosen sides of a
    branch point (one shape for every case, so compiled kernels are shared)."""
    return lambda rng: ((np.asarray(values) + 0.01 * rng.uniform(-1, 1, 6)).reshape(2, 3),)


def divisor(rng):
    return rng.normal(size=(2, 3)), rng.choice([-1.0, 1.0], 3) * rng.uniform(0.5, 2.0, 3)


def zero_row(rng):
    return (np.stack([rng.normal(size=3), np.zeros(3)]),)


def masked_softmax_ref(x, axis):
    return np.where(MASK, sp.softmax(np.where(MASK, x, -np.inf), axis=axis), 0.0)


def masked_log_softmax_ref(x, axis):
    return np.where(MASK, sp.log_softmax(np.where(MASK, x, -np.inf), axis=axis), 0.0)


CASES = [
    Case("logsumexp", logsumexp, normal((2, 3)), lambda dt, x: sp.logsumexp(x)),
    Case("logsumexp-axis1-keepdims", lambda x: logsumexp(x, axis=1, keepdims=True),
         normal((2, 3)), lambda dt, x: sp.logsumexp(x, axis=1, keepdims=True)),
    Case("logsumexp-where", lambda x: logsumexp(x, axis=1, where=MASK), normal((2, 3)),
         lambda dt, x: sp.logsumexp(np.where(MASK, x, -np.inf), axis=1)),
    Case("softplus", softplus, around(-30.0, -2.0, -0.3, 0.0, 1.5, 30.0),
         lambda dt, x: np.logaddexp(x, 0.0)),
    Case("log_sigmoid", log_sigmoid, around(-30.0, -2.0, -0.3, 0.0, 1.5, 30.0),
         lambda dt, x: -np.logaddexp(-x, 0.0)),
    # both branches: above and below -log 2
    Case("log1m_exp", log1m_exp, around(-30.0, -2.0, -0.8, -0.6, -0.2, -0.05),
         lambda dt, x: np.log(-np.expm1(x))),
    Case("logaddexp-broadcast", logaddexp, normal((2, 3), (3,)),
         lambda dt, a, b: np.logaddexp(a, b)),
    Case("softmax", softmax, normal((2, 3)), lambda dt, x: sp.softmax(x, axis=-1)),
    Case("softmax-axis0-where", lambda x: softmax(x, axis=0, where=MASK), normal((2, 3)),
         lambda dt, x: masked_softmax_ref(x, 0)),
    Case("log_softmax", log_softmax, normal((2, 3)), lambda dt, x: sp.log_softmax(x, axis=-1)),
    # the masked entries are -inf: replaced by 0, so that finite differences are finite
    Case("log_softmax-where", lambda x: jnp.where(MASK, log_softmax(x, where=MASK), 0.0),
         normal((2, 3)), lambda dt, x: masked_log_softmax_ref(x, 1)),
    # x <= 0 too: there the op is constant, so smooth
    Case("safe_log", safe_log, around(-1.3, -0.4, 0.2, 0.9, 2.5, 7.0),
         lambda dt, x: np.log(np.maximum(x, np.finfo(dt).tiny))),
    Case("safe_sqrt", safe_sqrt, around(-1.3, -0.4, 0.2, 0.9, 2.5, 7.0),
         lambda dt, x: np.sqrt(np.maximum(x, 0.0))),
    Case("safe_norm", safe_norm, normal((2, 3)), lambda dt, x: np.linalg.norm(x)),
    # the zero row is a kink: order 1 (central differences of |x| at 0 are 0, the chosen gradient)
    Case("safe_norm-axis1-zero-row", lambda x: safe_norm(x, axis=1), zero_row,
         lambda dt, x: np.linalg.norm(x, axis=1), order=1),
    Case("safe_div-broadcast", safe_div, divisor, lambda dt, a, b: a / b),
]  # fmt: skip
IDS = [c.name for c in CASES]


def args_of(case, dtype=np.float64, seed=0):
    return tuple(jnp.asarray(a, dtype) for a in case.make(np.random.default_rng(seed)))


def scalar(case, args):
    """A non-linear scalar reduction of the op's output, with fixed random weights."""
    out = jax.eval_shape(case.fn, *args)
    w = jnp.asarray(np.random.default_rng(7).normal(size=out.shape), out.dtype)

    def f(*a):
        out = case.fn(*a)
        return jnp.sum(out * (w + 0.1 * out))

    return f


def assert_finite(tree):
    for leaf in jax.tree.leaves(tree):
        assert np.all(np.isfinite(leaf)), f"non-finite derivative: {leaf}"


# --- 1. adkit agrees with JAX on the same custom rules ---
def first_order(case, args, grad, jvp):
    f = scalar(case, args)
    tangents = tuple(jnp.asarray(np.random.default_rng(3).normal(size=a.shape)) for a in args)
    return grad(f, tuple(range(len(args))))(*args), jvp(case.fn, args, tangents)


def second_order_and_batched(case, args, batched, grad, hessian):
    f = scalar(case, args)
    argnums = tuple(range(len(args)))
    return hessian(f, argnums)(*args), jax.vmap(grad(f, argnums))(*batched)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_adkit_agrees_with_jax(case):
    """grad and jvp eager and under jit; hessian and vmap of grad under jit (eager order-2
    jvp and vjp run in `test_check_grads`)."""
    args = args_of(case)
    draws = [args_of(case, seed=s) for s in range(3)]
    batched = tuple(jnp.stack(leaves) for leaves in zip(*draws, strict=True))

    def both(args, batched):  # one compilation for JAX's and adkit's derivatives
        return [
            (first_order(case, args, g, j), second_order_and_batched(case, args, batched, g, h))
            for g, j, h in [
                (jax.grad, jax.jvp, jax.hessian),
                (adkit.grad, adkit.jvp, adkit.hessian),
            ]
        ]

    expected, ours = jax.jit(both)(args, batched)
    assert_finite(expected)
    assert_trees_close(ours, expected, 1e-12)
    assert_trees_close(first_order(case, args, adkit.grad, adkit.jvp), expected[0], 1e-12)


# --- 2. derivatives against finite differences ---
@pytest.mark.parametrize("transforms", ["adkit", "jax"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_grads(case, transforms):
    check_grads(case.fn, args_of(case), order=case.order, transforms=transforms)


# --- 3. float32 and float64 values against a float64 reference ---
@jax.jit
def values_and_gradients(arg_lists):
    """Every case's value and gradient (one compilation per dtype)."""
    return [
        (case.fn(*args), adkit.grad(scalar(case, args), tuple(range(len(args))))(*args))
        for case, args in zip(CASES, arg_lists, strict=True)
    ]


def test_values_and_gradients_in_both_precisions(dtype):
    """Values against the float64 reference at the same (rounded) inputs; gradients against
    adkit's float64 gradient there."""
    arg_lists = [args_of(case, dtype) for case in CASES]
    arg_lists64 = [tuple(a.astype(np.float64) for a in args) for args in arg_lists]
    results, results64 = values_and_gradients(arg_lists), values_and_gradients(arg_lists64)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for case, args, (out, grads), (_, grads64) in zip(
        CASES, arg_lists, results, results64, strict=True
    ):
        exact = case.ref(dtype, *(np.asarray(a, np.float64) for a in args))
        assert out.dtype == dtype, case.name
        scale = max(1.0, np.max(np.abs(exact)))
        np.testing.assert_allclose(out, exact, rtol=tol, atol=tol * scale, err_msg=case.name)
        for g, g64 in zip(grads, grads64, strict=True):
            assert g.dtype == dtype, case.name
            scale = max(1.0, float(np.max(np.abs(g64))))
            np.testing.assert_allclose(g, g64, rtol=50 * tol, atol=50 * tol * scale,
                                       err_msg=case.name)  # fmt: skip


# --- 4. the extremes: the naive formula fails, the op gives the closed form ---
def gradients(f, argnums=0):
    """adkit's gradient of f, checked equal to JAX's (at the extremes too); compiled once per
    input shape, so calling it at several points costs one compilation."""
    both = jax.jit(lambda *a: (adkit.grad(f, argnums)(*a), jax.grad(f, argnums)(*a)))

    def grad(*args):
        ours, theirs = both(*args)
        assert_trees_close(ours, theirs, 0.0)
        return ours

    return grad


def second(f):
    """adkit's second derivative of a scalar function of a scalar, compiled."""
    return jax.jit(adkit.grad(adkit.grad(f)))


def is_bad(x):
    return bool(np.any(~np.isfinite(np.asarray(x))))


def test_softplus_at_the_extremes(dtype):
    naive = lambda x: jnp.log(1 + jnp.exp(x))
    big = jnp.asarray(1000.0, dtype)
    assert np.isinf(naive(big)) and np.isnan(jax.grad(naive)(big))
    assert softplus(big) == 1000.0 and log1p_exp(big) == 1000.0
    grad, curvature = gradients(softplus), second(softplus)
    assert grad(big) == 1.0
    assert curvature(big) == 0.0  # sigmoid(x)(1 - sigmoid(x))
    small = jnp.asarray(-1000.0, dtype)
    assert 0.0 <= float(softplus(small)) < 1e-300
    assert 0.0 <= float(grad(small)) < 1e-300
    # at 0 the stable formula's own derivative hangs on JAX's subgradients of max and |x|
    stable_formula = lambda x: jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))
    zero = jnp.asarray(0.0, dtype)
    assert jax.grad(stable_formula)(zero) == 0.0
    assert grad(zero) == 0.5
    assert curvature(zero) == 0.25


def test_log_sigmoid_at_the_extremes(dtype):
    naive = lambda x: jnp.log(jax.nn.sigmoid(x))
    x = jnp.asarray(-1000.0, dtype)
    assert np.isinf(naive(x)) and np.isnan(jax.grad(naive)(x))
    assert log_sigmoid(x) == -1000.0 and gradients(log_sigmoid)(x) == 1.0
    assert log_sigmoid(jnp.asarray(1000.0, dtype)) == 0.0


def test_logsumexp_of_large_entries(dtype):
    naive = lambda x: jnp.log(jnp.sum(jnp.exp(x)))
    x = jnp.asarray([1000.0, 1000.0], dtype)
    assert np.isinf(naive(x)) and is_bad(jax.grad(naive)(x))
    np.testing.assert_allclose(logsumexp(x), 1000.0 + math.log(2.0), rtol=1e-7)
    np.testing.assert_array_equal(gradients(logsumexp)(x), [0.5, 0.5])


def test_logsumexp_of_all_minus_infinity():
    naive = lambda x: jnp.log(jnp.sum(jnp.exp(x)))
    x = jnp.full(3, -jnp.inf)
    assert naive(x) == -jnp.inf and np.all(np.isnan(jax.grad(naive)(x)))  # value right, grad NaN
    assert logsumexp(x) == -jnp.inf
    grad = gradients(logsumexp)
    np.testing.assert_array_equal(grad(x), np.zeros(3))
    np.testing.assert_array_equal(jax.jit(adkit.hessian(logsumexp))(x), np.zeros((3, 3)))
    # some -inf entries: they get weight exactly 0, the others the softmax of the finite ones
    y = jnp.array([-jnp.inf, 0.0, 0.0])
    np.testing.assert_array_equal(grad(y), [0.0, 0.5, 0.5])


def test_masked_logsumexp_softmax_and_log_softmax_have_no_nan_gradients():
    x = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = jnp.array([[True, False, True], [False, False, False]])  # row 1: everything masked

    def shifted(x):  # the textbook masked formula: max of the row, then shift
        xm = jnp.where(mask, x, -jnp.inf)
        m = jax.lax.stop_gradient(jnp.max(xm, axis=1, keepdims=True))
        return m[:, 0] + jnp.log(jnp.sum(jnp.exp(xm - m), axis=1))

    assert np.isnan(shifted(x)[1])  # -inf - -inf in the all-masked row
    lse = lambda x: logsumexp(x, axis=1, where=mask)
    np.testing.assert_allclose(lse(x), [np.logaddexp(1.0, 3.0), -np.inf], rtol=1e-15)
    p = sp.softmax([1.0, 3.0])
    expected = [[p[0], 0.0, p[1]], [0.0, 0.0, 0.0]]
    np.testing.assert_allclose(gradients(lambda x: jnp.sum(lse(x)))(x), expected, rtol=1e-15)
    assert_finite(jax.jit(adkit.hessian(lambda x: jnp.sum(lse(x))))(x))
    # softmax: masked entries and the all-masked row are 0, with zero gradient
    np.testing.assert_allclose(softmax(x, where=mask), expected, rtol=1e-15)
    w = jnp.array([[0.3, -1.0, 2.0], [1.0, 1.0, 1.0]])
    g = gradients(lambda x: jnp.sum(w * softmax(x, where=mask)))(x)
    dp = p * (np.array([0.3, 2.0]) - p @ np.array([0.3, 2.0]))  # p (w - <p, w>)
    np.testing.assert_allclose(g, [[dp[0], 0.0, dp[1]], [0.0, 0.0, 0.0]], rtol=1e-14, atol=1e-16)
    # log_softmax: -inf where masked (all of row 1), gradient 0 there
    out = log_softmax(x, where=mask)
    np.testing.assert_allclose(out[0, [0, 2]], np.log(p), rtol=1e-15)
    assert np.all(out[0, 1] == -np.inf) and np.all(out[1] == -np.inf)
    g = gradients(lambda x: jnp.sum(jnp.where(mask, log_softmax(x, where=mask), 0.0)))(x)
    np.testing.assert_allclose(g, [[1 - 2 * p[0], 0.0, 1 - 2 * p[1]], [0.0, 0.0, 0.0]], rtol=1e-14)


def test_logaddexp_at_the_extremes(dtype):
    naive = lambda a, b: jnp.log(jnp.exp(a) + jnp.exp(b))
    ninf = jnp.asarray(-jnp.inf, dtype)
    assert naive(ninf, ninf) == -jnp.inf and is_bad(jax.grad(naive, (0, 1))(ninf, ninf))
    grad = gradients(logaddexp, argnums=(0, 1))
    assert logaddexp(ninf, ninf) == -jnp.inf
    assert grad(ninf, ninf) == (0.0, 0.0)
    big = jnp.asarray(1000.0, dtype)
    assert np.isinf(naive(big, big))
    np.testing.assert_allclose(logaddexp(big, big), 1000.0 + math.log(2.0), rtol=1e-7)
    # at a == b the stable formula's own gradient hangs on JAX's subgradients of max and |a - b|
    stable_formula = lambda a, b: jnp.maximum(a, b) + jnp.log1p(jnp.exp(-jnp.abs(a - b)))
    assert jax.grad(stable_formula, (0, 1))(big, big) == (0.0, 1.0)
    assert grad(big, big) == (0.5, 0.5)
    # -inf against a finite value: the finite one takes all the weight
    assert logaddexp(ninf, big) == 1000.0
    assert grad(ninf, big) == (0.0, 1.0)


def test_log_softmax_and_softmax_of_widely_spread_logits(dtype):
    x = jnp.asarray([1000.0, 0.0, -1000.0], dtype)
    naive_log_softmax = lambda x: x - jnp.log(jnp.sum(jnp.exp(x)))
    naive_softmax = lambda x: jnp.exp(x) / jnp.sum(jnp.exp(x))
    assert is_bad(naive_log_softmax(x)) and is_bad(naive_softmax(x))
    np.testing.assert_array_equal(log_softmax(x), [0.0, -1000.0, -2000.0])
    np.testing.assert_array_equal(softmax(x), [1.0, 0.0, 0.0])
    w = jnp.asarray([0.5, -2.0, 1.0], dtype)
    g = gradients(lambda x: jnp.sum(w * log_softmax(x)))(x)
    np.testing.assert_allclose(g, w - np.array([1.0, 0.0, 0.0]) * np.sum(w), rtol=1e-6)


def test_log1m_exp_near_zero_and_far_below(dtype):
    naive = lambda x: jnp.log(1 - jnp.exp(x))
    one_where = lambda x: jnp.where(
        x > -math.log(2), jnp.log(-jnp.expm1(x)), jnp.log1p(-jnp.exp(x))
    )
    grad, curvature = gradients(log1m_exp), second(log1m_exp)
    x = jnp.asarray(-1e-20, dtype)
    assert naive(x) == -jnp.inf and np.isinf(jax.grad(naive)(x))
    assert np.isnan(jax.grad(one_where)(x))  # right value, NaN from the unselected branch
    np.testing.assert_allclose(log1m_exp(x), math.log(1e-20), rtol=1e-7)
    np.testing.assert_allclose(grad(x), -1e20, rtol=1e-6)  # -1 / expm1(-x)
    if dtype == np.float64:
        far = jnp.asarray(-50.0)
        assert naive(far) == 0.0  # rounds 1 - e^-50 to 1: every digit lost
        np.testing.assert_allclose(log1m_exp(far), math.log1p(-math.exp(-50.0)), rtol=1e-15)
        slope = -math.exp(-50.0) / -math.expm1(-50.0)
        np.testing.assert_allclose(grad(far), slope, rtol=1e-15)
        exact = -math.exp(-50.0) / math.expm1(-50.0) ** 2  # -e^x / expm1(x)²
        np.testing.assert_allclose(curvature(far), exact, rtol=1e-14)
    # the documented values at 0 and at -inf
    assert log1m_exp(jnp.asarray(0.0, dtype)) == -jnp.inf
    assert grad(jnp.asarray(0.0, dtype)) == -jnp.inf
    ninf = jnp.asarray(-jnp.inf, dtype)
    assert log1m_exp(ninf) == 0.0 and grad(ninf) == 0.0 and curvature(ninf) == 0.0


def test_safe_norm_at_zero_and_at_extreme_magnitudes(dtype):
    naive = lambda x: jnp.sqrt(jnp.sum(x**2))
    grad = gradients(safe_norm)
    zeros = jnp.zeros(2, dtype)
    assert np.all(np.isnan(jax.grad(naive)(zeros)))
    assert safe_norm(zeros) == 0.0
    np.testing.assert_array_equal(grad(zeros), np.zeros(2))
    np.testing.assert_array_equal(jax.jit(adkit.hessian(safe_norm))(zeros), np.zeros((2, 2)))
    big, tiny = (1e200, 1e-200) if dtype == np.float64 else (1e30, 1e-30)
    for scale in (big, tiny):
        x = jnp.asarray([scale, scale], dtype)
        assert naive(x) in (0.0, np.inf)  # x² overflows or underflows
        np.testing.assert_allclose(safe_norm(x), math.sqrt(2) * scale, rtol=1e-6)
        np.testing.assert_allclose(grad(x), [2**-0.5] * 2, rtol=1e-6)
    assert not np.allclose(jax.grad(naive)(jnp.asarray([big, big], dtype)), 2**-0.5)


def test_safe_sqrt_at_and_below_zero(dtype):
    x = jnp.asarray(0.0, dtype)
    assert np.isinf(jax.grad(jnp.sqrt)(x))
    one_where = lambda x: jnp.where(x > 0, jnp.sqrt(x), 0.0)
    assert np.isnan(jax.grad(one_where)(jnp.asarray(-1.0, dtype)))
    grad, curvature = gradients(safe_sqrt), second(safe_sqrt)
    for point in (0.0, -1.0):
        p = jnp.asarray(point, dtype)
        assert safe_sqrt(p) == 0.0 and grad(p) == 0.0 and curvature(p) == 0.0
    assert grad(jnp.asarray(4.0, dtype)) == 0.25


def test_safe_log_at_and_below_zero(dtype):
    one_where = lambda x: jnp.where(x > 0, jnp.log(x), -100.0)
    assert np.isnan(jax.grad(one_where)(jnp.asarray(0.0, dtype)))
    floor = np.log(np.finfo(dtype).tiny)
    grad, curvature = gradients(safe_log), second(safe_log)
    for point in (0.0, -1.0, -jnp.inf):
        p = jnp.asarray(point, dtype)
        assert safe_log(p) == floor and grad(p) == 0.0 and curvature(p) == 0.0
    assert grad(jnp.asarray(4.0, dtype)) == 0.25
    assert np.isnan(safe_log(jnp.asarray(np.nan, dtype)))  # NaN is not hidden


def test_safe_div_by_zero(dtype):
    one_where = lambda a, b: jnp.where(b == 0, 0.0, a / b)
    one, zero = jnp.asarray(1.0, dtype), jnp.asarray(0.0, dtype)
    assert np.isnan(jax.grad(one_where, 1)(one, zero))
    assert safe_div(one, zero) == 0.0
    assert gradients(safe_div, (0, 1))(one, zero) == (0.0, 0.0)
    assert_finite(jax.jit(adkit.hessian(safe_div, (0, 1)))(one, zero))
    # broadcast: the zero divisor's column gets zero gradient, the others a / b
    a, b = jnp.ones((2, 2), dtype), jnp.asarray([0.0, 2.0], dtype)
    np.testing.assert_array_equal(safe_div(a, b), [[0.0, 0.5], [0.0, 0.5]])
    ga, gb = gradients(lambda a, b: jnp.sum(safe_div(a, b)), (0, 1))(a, b)
    np.testing.assert_array_equal(ga, [[0.0, 0.5], [0.0, 0.5]])
    np.testing.assert_array_equal(gb, [0.0, -0.5])  # -sum(a) / b² in the second column


# --- errors name the problem and the fix ---
def test_bad_arguments_raise_clear_errors():
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match=r"axis=2 for an input of rank 2.*\[-2, 2\)"):
        logsumexp(x, axis=2)
    with pytest.raises(ValueError, match="names an axis twice"):
        softmax(x, axis=(1, -1))
    with pytest.raises(ValueError, match=r"`where` of shape \(4,\).*broadcast"):
        log_softmax(x, where=jnp.ones(4, bool))
    with pytest.raises(TypeError, match=r"complex array.*jnp.real"):
        safe_norm(jnp.ones(3, jnp.complex64))
