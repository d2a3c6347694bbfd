"""New primitives: the `define_primitive` pattern, `tridiagonal_matvec` (linear, bilinear in its
bands) and `logcosh` (nonlinear), through JAX's transformations and adkit's, against closed forms
and dense references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit import _jax_compat as jc
from adkit.ops._logcosh import logcosh, logcosh_p
from adkit.ops._primitive import (
    define_primitive,
    elementwise_batching,
    is_undefined,
    remove_adkit_rules,
)
from adkit.ops._tridiagonal import tridiagonal_matvec, tridiagonal_matvec_p
from adkit.testing import check_grads

METHODS = ("tape", "transpose")
N, K = 5, 3


def tol(dtype):
    return 1e-12 if np.dtype(dtype) == np.float64 else 2e-5


def assert_close(actual, expected, rtol):
    a_leaves, a_tree = jax.tree.flatten(actual)
    e_leaves, e_tree = jax.tree.flatten(expected)
    assert a_tree == e_tree, (a_tree, e_tree)
    for a, e in zip(a_leaves, e_leaves, strict=True):
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape and a.dtype == e.dtype, (a.shape, a.dtype, e.shape, e.dtype)
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale)


def bands(dtype, seed=0, n=N):
    rng = np.random.default_rng(seed)
    return tuple(jnp.asarray(rng.standard_normal(m).astype(dtype)) for m in (n - 1, n, n - 1))


def vector(dtype, seed=1, shape=(N,)):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def dense(lower, diag, upper):
    return jnp.diag(diag) + jnp.diag(lower, -1) + jnp.diag(upper, 1)


# --- tridiagonal_matvec: values ---
@pytest.mark.parametrize("rhs", [(N,), (N, K)], ids=["vector", "block"])
def test_tridiagonal_matches_dense_eager_and_jit(dtype, rhs):
    lower, diag, upper = bands(dtype)
    x = vector(dtype, shape=rhs)
    expected = dense(lower, diag, upper) @ x
    assert_close(tridiagonal_matvec(lower, diag, upper, x), expected, tol(dtype))
    assert_close(jax.jit(tridiagonal_matvec)(lower, diag, upper, x), expected, tol(dtype))


def test_tridiagonal_of_size_one_and_errors():
    one = tridiagonal_matvec(jnp.zeros(0), jnp.array([3.0]), jnp.zeros(0), jnp.array([2.0]))
    assert one.tolist() == [6.0]
    with pytest.raises(ValueError, match=r"lower \(n-1,\).*received lower float64\[4\]"):
        tridiagonal_matvec(jnp.zeros(4), jnp.zeros(4), jnp.zeros(3), jnp.zeros(4))


def test_tridiagonal_vmap_keeps_the_primitive(dtype):
    lower, diag, upper = bands(dtype)
    xs = vector(dtype, shape=(N, 4))  # four right-hand sides, batched along axis 1
    diags = vector(dtype, seed=2, shape=(4, N))  # four diagonals, batched along axis 0
    f = jax.vmap(tridiagonal_matvec, in_axes=(None, 0, None, 1), out_axes=1)
    expected = jnp.stack([dense(lower, diags[b], upper) @ xs[:, b] for b in range(4)], axis=1)
    assert_close(f(lower, diags, upper, xs), expected, tol(dtype))
    assert_close(jax.jit(f)(lower, diags, upper, xs), expected, tol(dtype))
    jaxpr = jax.make_jaxpr(f)(lower, diags, upper, xs)
    assert "tridiagonal_matvec" in jc.primitives_in(jaxpr)
    # x alone batched, with blocks of right-hand sides
    blocks = vector(dtype, seed=3, shape=(2, N, K))
    g = jax.vmap(tridiagonal_matvec, in_axes=(None, None, None, 0))
    expected = jnp.einsum("ij,bjk->bik", dense(lower, diag, upper), blocks)
    assert_close(g(lower, diag, upper, blocks), expected, tol(dtype))


def test_tridiagonal_lowers_to_plain_hlo():
    lower, diag, upper = bands(np.float64)
    x = vector(np.float64)
    jitted = jax.jit(tridiagonal_matvec)
    text = jitted.lower(lower, diag, upper, x).as_text()
    assert "custom_call" not in text
    compiled = jitted.lower(lower, diag, upper, x).compile()
    assert_close(compiled(lower, diag, upper, x), dense(lower, diag, upper) @ x, 1e-12)


# --- tridiagonal_matvec: derivatives ---
def _weighted(w):
    return lambda lower, diag, upper, x: jnp.sum(w * tridiagonal_matvec(lower, diag, upper, x))


def test_tridiagonal_grad_closed_form_jax_and_adkit(dtype):
    lower, diag, upper = bands(dtype)
    x, w = vector(dtype), vector(dtype, seed=4)
    f = _weighted(w)
    args, argnums = (lower, diag, upper, x), (0, 1, 2, 3)
    # d(wᵀ T x): lower̄ = w[1:] x[:-1], diaḡ = w x, upper̄ = w[:-1] x[1:], x̄ = Tᵀ w
    closed = (w[1:] * x[:-1], w * x, w[:-1] * x[1:], dense(lower, diag, upper).T @ w)
    assert_close(jax.grad(f, argnums)(*args), closed, tol(dtype))
    for method in METHODS:
        assert_close(adkit.grad(f, argnums, method=method)(*args), closed, tol(dtype))


@pytest.mark.parametrize("rhs", [(N,), (N, K)], ids=["vector", "block"])
def test_tridiagonal_jvp_and_vjp_jax_and_adkit(dtype, rhs):
    primals = (*bands(dtype), vector(dtype, shape=rhs))
    tangents = (*bands(dtype, seed=5), vector(dtype, seed=6, shape=rhs))
    lower, diag, upper, x = primals
    d_lower, d_diag, d_upper, dx = tangents
    # d(T x) = T(d bands) x + T dx
    closed = dense(d_lower, d_diag, d_upper) @ x + dense(lower, diag, upper) @ dx
    out_jax, t_jax = jax.jvp(tridiagonal_matvec, primals, tangents)
    assert_close(t_jax, closed, tol(dtype))
    assert_close(adkit.jvp(tridiagonal_matvec, primals, tangents), (out_jax, t_jax), tol(dtype))
    ct = vector(dtype, seed=7, shape=rhs)
    out, f_vjp = jax.vjp(tridiagonal_matvec, *primals)
    expected = f_vjp(ct)
    # the dot-product test: <T(d bands) x + T dx, c> = <(d bands, dx), Jᵀ c>
    pairing = sum(jnp.vdot(t, g) for t, g in zip(tangents, expected, strict=True))
    np.testing.assert_allclose(pairing, jnp.vdot(closed, ct), rtol=10 * tol(dtype))
    for method in METHODS:
        out_a, vjp_a = adkit.vjp(tridiagonal_matvec, *primals, method=method)
        assert_close((out_a, vjp_a(ct)), (out, expected), tol(dtype))


def test_tridiagonal_hessian_is_the_bilinear_coupling(dtype):
    lower, diag, upper = bands(dtype)
    x, w = vector(dtype), vector(dtype, seed=4)
    cuts = np.cumsum([N - 1, N, N - 1])  # z = [lower, diag, upper, x], one vector

    def f(z):
        return _weighted(w)(*jnp.split(z, cuts))

    z = jnp.concatenate([lower, diag, upper, x])
    h_jax = jax.jit(jax.hessian(f))(z)
    # ∂²(wᵀ T x)/∂diag_i ∂x_j = w_i δ_ij, ∂²/∂lower_i ∂x_j = w_{i+1} δ_ij,
    # ∂²/∂upper_i ∂x_j = w_i δ_{i+1,j}; no band-band or x-x terms
    closed = np.zeros((4 * N - 2, 4 * N - 2), dtype)
    closed[: N - 1, cuts[2] : cuts[2] + N - 1] = np.diag(w[1:])
    closed[N - 1 : cuts[1], cuts[2] :] = np.diag(w)
    closed[cuts[1] : cuts[2], cuts[2] + 1 :] = np.diag(w[:-1])
    closed = closed + closed.T
    assert np.abs(closed).max() > 0.1
    assert_close(h_jax, jnp.asarray(closed), tol(dtype))
    for method in METHODS:
        assert_close(jax.jit(adkit.hessian(f, method=method))(z), h_jax, tol(dtype))


def test_tridiagonal_transpose_in_x_is_itself():
    lower, diag, upper = bands(np.float64)
    x, y = vector(np.float64), vector(np.float64, seed=8)
    matvec = lambda v: tridiagonal_matvec(lower, diag, upper, v)
    transpose = jax.linear_transpose(matvec, x)
    jaxpr = jax.make_jaxpr(transpose)(y)
    assert "tridiagonal_matvec" in jc.primitives_in(jaxpr)
    (t_y,) = transpose(y)
    # Tᵀ is the tridiagonal matrix with the bands swapped; <T x, y> = <x, Tᵀ y>
    assert_close(t_y, tridiagonal_matvec(upper, diag, lower, y), 1e-12)
    assert_close(t_y, dense(lower, diag, upper).T @ y, 1e-12)
    np.testing.assert_allclose(jnp.vdot(matvec(x), y), jnp.vdot(x, t_y), rtol=1e-12)
    for method in METHODS:
        pullback = lambda c, method=method: adkit.vjp(matvec, x, method=method)[1](c)
        assert "tridiagonal_matvec" in jc.primitives_in(jax.make_jaxpr(pullback)(y))
        assert_close(pullback(y), (t_y,), 1e-12)


@pytest.mark.parametrize("transforms", ["adkit", "adkit-transpose", "jax"])
def test_tridiagonal_check_grads(transforms):
    args = (*bands(np.float64), vector(np.float64, shape=(N, 2)))
    f = lambda lower, diag, upper, x: jnp.sin(tridiagonal_matvec(lower, diag, upper, x))
    check_grads(f, args, order=2, transforms=transforms)


# --- logcosh ---
def test_logcosh_values_jit_and_vmap(dtype):
    x = vector(dtype, shape=(3, 4)) * 3
    expected = jnp.log(jnp.cosh(x))
    assert_close(logcosh(x), expected, tol(dtype))
    assert_close(jax.jit(logcosh)(x), expected, tol(dtype))
    assert_close(jax.vmap(logcosh, in_axes=1, out_axes=1)(x), expected, tol(dtype))
    assert "logcosh" in jc.primitives_in(jax.make_jaxpr(jax.vmap(logcosh))(x))
    assert logcosh(2).dtype == jnp.result_type(float)  # integers become floats


def test_logcosh_is_finite_where_the_naive_formula_overflows(dtype):
    x = jnp.array([1000.0, -1000.0], dtype)
    log2 = np.log(2.0)
    assert np.isinf(np.asarray(jnp.log(jnp.cosh(x)))).all()
    assert_close(logcosh(x), jnp.asarray([1000.0 - log2] * 2, dtype), tol(dtype))
    g = lambda x: jnp.sum(logcosh(x))
    assert_close(jax.grad(g)(x), jnp.asarray([1.0, -1.0], dtype), 0.0)
    for method in METHODS:
        assert_close(adkit.grad(g, method=method)(x), jnp.asarray([1.0, -1.0], dtype), 0.0)
    assert_close(jax.jit(adkit.hessian(g))(x), jnp.zeros((2, 2), dtype), 0.0)  # 1 - tanh² = 0


def test_logcosh_derivatives_closed_form_jax_and_adkit(dtype):
    x, t, ct = (vector(dtype, seed=s, shape=(4,)) * 2 for s in (1, 2, 3))
    tanh = jnp.tanh(x)
    # d log cosh x = tanh x dx;  d² log cosh x = (1 - tanh² x) dx²
    out, t_jax = jax.jvp(logcosh, (x,), (t,))
    assert_close(t_jax, tanh * t, tol(dtype))
    assert_close(adkit.jvp(logcosh, (x,), (t,)), (out, t_jax), tol(dtype))
    _, f_vjp = jax.vjp(logcosh, x)
    assert_close(f_vjp(ct), (tanh * ct,), tol(dtype))
    for method in METHODS:
        assert_close(adkit.vjp(logcosh, x, method=method)[1](ct), (tanh * ct,), tol(dtype))
    g = lambda x: jnp.sum(logcosh(x))
    hess = jnp.diag(1 - tanh**2)
    assert_close(jax.jit(jax.hessian(g))(x), hess, tol(dtype))
    for method in METHODS:
        assert_close(adkit.grad(g, method=method)(x), tanh, tol(dtype))
        assert_close(jax.jit(adkit.hessian(g, method=method))(x), hess, tol(dtype))
    # grad of grad of a scalar, both ways
    s = x[0]
    second = 1 - tanh[0] ** 2
    assert_close(jax.jit(jax.grad(jax.grad(logcosh)))(s), second, tol(dtype))
    for method in METHODS:
        g2 = jax.jit(adkit.grad(adkit.grad(logcosh, method=method), method=method))(s)
        assert_close(g2, second, tol(dtype))


@pytest.mark.parametrize("transforms", ["adkit", "adkit-transpose", "jax"])
def test_logcosh_check_grads(transforms):
    x = vector(np.float64, shape=(4,)) * 2
    check_grads(logcosh, (x,), order=2, transforms=transforms)


def test_logcosh_lowers_to_plain_hlo_and_rejects_complex():
    x = vector(np.float64, shape=(4,))
    text = jax.jit(logcosh).lower(x).as_text()
    assert "custom_call" not in text
    assert_close(jax.jit(logcosh).lower(x).compile()(x), jnp.log(jnp.cosh(x)), 1e-12)
    with pytest.raises(TypeError, match=r"complex128.*jnp.real"):
        logcosh(jnp.array([1j]))


# --- registration ---
def test_importing_registers_complete_adkit_rules():
    for p in (tridiagonal_matvec_p, logcosh_p):
        assert p in adkit.rules.JVP_RULES and p in adkit.rules.VJP_RULES
    assert tridiagonal_matvec_p in adkit.rules.TRANSPOSE_RULES
    assert logcosh_p not in adkit.rules.TRANSPOSE_RULES  # not linear: its JVP is linearized
    coverage = adkit.rules.coverage()
    assert coverage["tridiagonal_matvec"] == {
        "jvp": True,
        "vjp": "own",
        "transpose": "rule",
        "jet": "derived",
    }
    assert coverage["logcosh"] == {
        "jvp": True,
        "vjp": "own",
        "transpose": "linearized",
        "jet": "derived",
    }


# --- the define_primitive pattern itself ---
def test_one_jvp_rule_sees_zero_tangents_as_none_in_jax_and_adkit():
    seen = []

    def jvp(primals, tangents):  # d(a b) = b da + a db
        seen.append(tuple(t is None for t in tangents))
        a, b = primals
        da, db = tangents
        terms = [v for v in (None if da is None else b * da, None if db is None else a * db)]
        terms = [v for v in terms if v is not None]
        return mul_p.bind(a, b), sum(terms[1:], terms[0])

    mul_p = define_primitive("test_mul", lambda a, b: a * b, jvp=jvp, batch="elementwise")
    try:
        a, b = jnp.array([2.0, 3.0]), jnp.array([5.0, 7.0])
        assert_close(jax.grad(lambda a: mul_p.bind(a, b).sum())(a), b, 0.0)
        assert_close(adkit.grad(lambda a: mul_p.bind(a, b).sum())(a), b, 0.0)
        assert_close(adkit.jvp(lambda b: mul_p.bind(a, b), (b,), (b,))[1], a * b, 0.0)
        assert seen and all(s in {(False, True), (True, False)} for s in seen), seen
        # derived adkit VJP (linearized JVP), second order through both
        h = adkit.hessian(lambda v: mul_p.bind(v, v).sum())(a)
        assert_close(h, 2 * jnp.eye(2), 0.0)
        assert adkit.rules.coverage()["test_mul"]["vjp"] == "transposed"
        # elementwise batching broadcasts an unbatched operand and keeps one equation
        f = jax.vmap(mul_p.bind, in_axes=(0, None))
        assert_close(f(jnp.ones((3, 2)), b), jnp.tile(b, (3, 1)), 0.0)
        assert "test_mul" in jc.primitives_in(jax.make_jaxpr(f)(jnp.ones((3, 2)), b))
    finally:
        remove_adkit_rules(mul_p)
    assert mul_p not in adkit.rules.JVP_RULES and mul_p not in adkit.rules.VJP_RULES


def test_one_transpose_rule_sees_undefined_operands_in_jax_and_adkit():
    kinds = []

    def transpose(ct, x):  # y = 3x transposes to c -> 3c
        kinds.append(is_undefined(x) and tuple(x.aval.shape))
        return [3 * ct]

    triple_p = define_primitive(
        "test_triple",
        lambda x: 3 * x,
        jvp=lambda p, t: (triple_p.bind(*p), triple_p.bind(*t)),
        transpose=transpose,
    )
    try:
        x = jnp.array([1.0, 2.0])
        (jax_t,) = jax.linear_transpose(triple_p.bind, x)(x)
        assert_close(jax_t, 3 * x, 0.0)
        for method in METHODS:
            assert_close(adkit.vjp(triple_p.bind, x, method=method)[1](x), (3 * x,), 0.0)
        assert kinds == [(2,)] * 3
        # the default batching is vmap of the implementation
        assert_close(jax.vmap(triple_p.bind)(jnp.ones((2, 3))), 3 * jnp.ones((2, 3)), 0.0)
    finally:
        remove_adkit_rules(triple_p)


def test_define_primitive_errors_are_explained():
    with pytest.raises(ValueError, match=r'batch=.*"elementwise"'):
        define_primitive("test_bad_batch", lambda x: x, batch="rowwise")
    bad_p = define_primitive(
        "test_bad_transpose",
        lambda x: -x,
        jvp=lambda p, t: (bad_p.bind(*p), bad_p.bind(*t)),
        transpose=lambda ct, x: [-ct, None],
    )
    try:
        with pytest.raises(ValueError, match="returned 2 cotangents for 1 operands"):
            adkit.grad(bad_p.bind, method="transpose")(1.0)
        with pytest.raises(ValueError, match="returned 2 cotangents for 1 operands"):
            jax.grad(bad_p.bind)(1.0)
    finally:
        remove_adkit_rules(bad_p)


def test_elementwise_batching_rule_directly():
    hypot_p = define_primitive("test_hypot", lambda a, b: jnp.sqrt(a * a + b * b))
    rule = elementwise_batching(hypot_p)
    out, dim = rule((jnp.array([[3.0, 0.0]]), jnp.array([[4.0], [1.0]])), (1, 0))
    assert dim == 0 and out.tolist() == [[5.0], [1.0]]
