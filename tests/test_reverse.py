"""Reverse-mode API: `adkit.vjp`, `grad`, `value_and_grad`, `jacrev`, `hessian` behave like
JAX's on pytrees, integers, custom rules, higher order, and under `jax.jit`/`jax.vmap`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_forward import PARAMS, X, _f
from test_jvp_rules import assert_close

import adkit
from adkit import _jax_compat as jc


def test_vjp_on_pytrees():
    out, f_vjp = adkit.vjp(_f, PARAMS, X)
    out2, f_vjp2 = jax.vjp(_f, PARAMS, X)
    ct = jax.tree.map(lambda o: jnp.ones_like(o) * 0.7, out2)
    assert_close((out, f_vjp(ct)), (out2, f_vjp2(ct)), 1e-12)


def test_vjp_has_aux_and_integer_inputs():
    f = lambda x, n: (x * n, {"n": n})
    n = jnp.int32(3)
    out, f_vjp, aux = adkit.vjp(f, X, n, has_aux=True)
    g_x, g_n = f_vjp(jnp.ones_like(out))
    np.testing.assert_array_equal(g_x, [3.0, 3.0])
    assert g_n.dtype == jax.dtypes.float0 and int(aux["n"]) == 3


def test_grad_value_and_grad_argnums():
    loss = lambda p, x: jnp.sum(_f(p, x)["y"] ** 2) + _f(p, x)["norm"]
    assert_close(adkit.grad(loss)(PARAMS, X), jax.grad(loss)(PARAMS, X), 1e-12)
    assert_close(
        adkit.value_and_grad(loss, argnums=(0, 1))(PARAMS, X),
        jax.value_and_grad(loss, argnums=(0, 1))(PARAMS, X),
        1e-12,
    )
    g, aux = adkit.grad(lambda x: (jnp.sum(x**2), x[0]), has_aux=True)(X)
    np.testing.assert_allclose(g, 2 * X, rtol=1e-15)
    assert float(aux) == float(X[0])


def test_grad_errors_like_jax():
    with pytest.raises(TypeError, match=r"real or complex inputs.*int32"):
        adkit.grad(lambda n: n * 2.0)(jnp.int32(3))
    with pytest.raises(TypeError, match=r"returning a real scalar.*float64\[2\]"):
        adkit.grad(jnp.sin)(X)
    with pytest.raises(ValueError, match="method"):
        adkit.vjp(jnp.sin, 1.0, method="magic")


def test_sixth_derivative_of_reciprocal():
    f = lambda x: 1.0 / x
    for _ in range(6):
        f = adkit.grad(f)
    assert float(f(4.0)) == 0.0439453125  # 6! / 4^7


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] at 1 is exactly 1
    inner = lambda x: adkit.grad(lambda y: x + y)(1.0)
    assert float(adkit.grad(lambda x: x * inner(x))(1.0)) == 1.0


def test_custom_jvp_rules_are_honoured_in_reverse():
    assert float(adkit.grad(jax.nn.relu)(0.0)) == 0.0

    @jax.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 7.0 * t[0]))
    assert float(adkit.grad(f)(0.3)) == 7.0


def test_composes_with_jit_vmap_and_itself():
    f = lambda x: jnp.sin(x) * jnp.exp(-(x**2))
    xs = jnp.linspace(-2.0, 2.0, 5)
    assert_close(jax.jit(jax.vmap(adkit.grad(f)))(xs), jax.vmap(jax.grad(f))(xs), 1e-12)
    assert_close(adkit.grad(jax.jit(f))(0.3), jax.grad(f)(0.3), 1e-12)
    assert_close(adkit.grad(adkit.grad(f))(0.3), jax.grad(jax.grad(f))(0.3), 1e-12)


def test_jacrev_and_hessian_match_jax():
    assert_close(
        adkit.jacrev(_f, argnums=(0, 1))(PARAMS, X),
        jax.jacrev(_f, argnums=(0, 1))(PARAMS, X),
        1e-12,
    )
    assert_close(adkit.jacrev(_f)(PARAMS, X), jax.jacrev(_f)(PARAMS, X), 1e-12)
    h = lambda x: jnp.sum(jnp.tanh(x) * x[0]) + jnp.prod(x)
    assert_close(adkit.hessian(h)(X), jax.hessian(h)(X), 1e-12)


def test_effects_are_not_repeated_by_the_backward_pass(capfd):
    def f(x):
        jax.debug.print("value {x}", x=x)
        return jnp.sin(x) * 2.0

    adkit.grad(f)(0.5)
    assert capfd.readouterr().out.count("value") == 1


@pytest.mark.parametrize("kind", ["mlp", "layernorm", "attention"])
def test_equinox_model_gradients_match_jax(kind):
    key = jax.random.key(0)
    if kind == "mlp":
        model = eqx.nn.MLP(4, 3, width_size=8, depth=2, activation=jax.nn.tanh, key=key)
        x = jnp.linspace(-1.0, 1.0, 4)
    elif kind == "layernorm":
        model = eqx.nn.Sequential([eqx.nn.Linear(4, 6, key=key), eqx.nn.LayerNorm(6)])
        x = jnp.linspace(-1.0, 1.0, 4)
    else:
        model = eqx.nn.MultiheadAttention(num_heads=2, query_size=4, key=key)
        x = jnp.linspace(-1.0, 1.0, 12).reshape(3, 4)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    params = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    x = x.astype(jnp.float64)

    def loss(p):
        m = eqx.combine(p, static)
        y = m(x, x, x) if kind == "attention" else m(x)
        return jnp.sum(y**2)

    assert_close(adkit.grad(loss)(params), jax.grad(loss)(params), 1e-10)


def test_custom_vjp_rules_are_used_in_reverse():
    @jax.custom_vjp
    def f(x, y):
        return jnp.sin(x) * y

    # a deliberately "wrong" bwd (3x the true x-derivative) proves the user's rule is used
    f.defvjp(
        lambda x, y: (f(x, y), (jnp.cos(x), y, x)),
        lambda r, g: (3.0 * r[0] * r[1] * g, jnp.sin(r[2]) * g),
    )
    g = lambda x, y: f(x, y) ** 2 + x
    assert_close(adkit.grad(g, (0, 1))(1.0, 2.0), jax.grad(g, (0, 1))(1.0, 2.0), 1e-12)
    assert_close(jax.jit(adkit.grad(g))(1.0, 2.0), jax.grad(g)(1.0, 2.0), 1e-12)
    seven = jax.custom_gradient(lambda x: (jnp.sin(x), lambda ct: (7.0 * ct,)))
    assert float(adkit.grad(seven)(0.3)) == 7.0


def test_register_transpose_extends_reverse_mode_to_a_new_primitive():
    double_p = jc.Primitive("double_example")
    double_p.def_impl(lambda x: 2.0 * x)
    double_p.def_abstract_eval(lambda x: x)
    adkit.register_jvp(double_p, lambda p, t: (double_p.bind(*p), double_p.bind(*t)))
    adkit.register_transpose(double_p, lambda ct, x: [double_p.bind(ct)])  # (2·)ᵀ = 2·
    try:
        x = jnp.array([0.5, -1.5])
        g = adkit.grad(lambda x: jnp.sum(double_p.bind(x) * x))(x)  # d Σ 2x² = 4x
        np.testing.assert_array_equal(g, 4.0 * x)
    finally:  # keep the global tables as the library ships them
        del adkit.rules.JVP_RULES[double_p]
        del adkit.rules.TRANSPOSE_RULES[double_p]
