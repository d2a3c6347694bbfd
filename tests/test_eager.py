"""Define-by-run (`adkit/interpreter/eager/`): functions that branch in Python on values.

Each function is differentiated at points on each side of each branch, by forward mode and by
both reverse-mode paths, against JAX's own eager differentiation (float64, tight).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit.interpreter.eager.path import path_jaxpr

METHODS = ("tape", "transpose")


def piecewise(x):  # `if` on a scalar
    if x < 1.0:
        return jnp.sin(x) * x
    elif x < 3.0:
        return jnp.exp(-x) + x**2
    return jnp.log(x) * jnp.cos(x)


def newton_sqrt(a):  # `while` on a value: the number of iterations depends on `a`
    x = a
    while jnp.abs(x * x - a) > 1e-10 * a:
        x = 0.5 * (x + a / x)
    return x


def vector_branch(x, w):  # pytree input, a branch on a reduction, a loop bound from a value
    s = jnp.sum(x * w["scale"])
    y = jnp.tanh(x) if s > 0 else x**3
    for _ in range(int(jnp.round(jnp.abs(s))) % 3 + 1):
        y = y * w["scale"] + jnp.sin(y)
    return jnp.sum(y**2) + w["bias"]


POINTS = {piecewise: [0.5, 2.0, 4.0], newton_sqrt: [0.25, 2.0, 9.0]}


@pytest.mark.parametrize("fun", list(POINTS), ids=lambda f: f.__name__)
def test_scalar_branches_match_jax(fun):
    for x in POINTS[fun]:
        x = np.float64(x)
        for method in METHODS:
            np.testing.assert_allclose(
                adkit.grad(fun, method=method)(x), jax.grad(fun)(x), rtol=1e-12
            )
        out, t = adkit.jvp(fun, (x,), (np.float64(0.7),))
        expected = jax.jvp(fun, (x,), (np.float64(0.7),))
        np.testing.assert_allclose((out, t), expected, rtol=1e-12)
        np.testing.assert_allclose(
            adkit.hessian(fun)(x), jax.hessian(fun)(x), rtol=1e-10, atol=1e-14
        )


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_pytree_branch_and_loop_match_jax(sign):
    x = sign * jnp.array([0.3, 1.2, -0.4])
    w = {"scale": jnp.array([1.5, 0.5, 2.0]), "bias": jnp.float64(0.1)}
    expected = jax.vjp(vector_branch, x, w)
    cotangent = np.float64(1.3)
    for method in METHODS:
        out, pull = adkit.vjp(vector_branch, x, w, method=method)
        np.testing.assert_allclose(out, expected[0], rtol=1e-12)
        got, want = pull(cotangent), expected[1](cotangent)
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12), got, want)
    np.testing.assert_allclose(
        adkit.jacfwd(vector_branch)(x, w), jax.jacfwd(vector_branch)(x, w), rtol=1e-12
    )


def test_integer_argument_and_aux():
    def f(x, n):
        y = x
        for _ in range(n):  # n is an int array: its value decides the loop
            y = jnp.sin(y) if y[0] > 0 else y * 2.0
        return jnp.sum(y), {"steps": n}

    x, n = jnp.array([0.5, -0.2]), jnp.array(3)
    for method in METHODS:
        g_x, aux = adkit.grad(f, has_aux=True, method=method)(x, n)
        np.testing.assert_allclose(g_x, jax.grad(f, has_aux=True)(x, n)[0], rtol=1e-12)
        assert int(aux["steps"]) == 3
    _, pull = adkit.vjp(lambda x, n: f(x, n)[0], x, n)
    assert pull(np.float64(1.0))[1].dtype == jax.dtypes.float0


def test_forced_define_by_run_equals_staged_and_jit():
    def f(x):
        return jnp.sum(jnp.sin(x) ** 2 @ jnp.outer(x, x)) / (1.0 + jnp.max(x))

    x = jnp.array([0.3, -1.1, 2.0])
    staged = adkit.grad(f)(x)
    with adkit.define_by_run():
        for method in METHODS:
            np.testing.assert_allclose(adkit.grad(f, method=method)(x), staged, rtol=1e-13)
        np.testing.assert_allclose(adkit.jacfwd(f)(x), staged, rtol=1e-13)
    np.testing.assert_allclose(jax.jit(adkit.grad(f))(x), staged, rtol=1e-13)


def test_custom_rules_apply_define_by_run():
    @jax.custom_jvp
    def half_grad(x):
        return x

    half_grad.defjvp(lambda p, t: (p[0], 0.5 * t[0]))

    @jax.custom_vjp
    def scaled(x):
        return 2.0 * x

    scaled.defvjp(lambda x: (2.0 * x, None), lambda _, g: (10.0 * g,))

    def f(x):
        y = half_grad(x) * scaled(x)
        return y if x > 0 else -y

    for x in (np.float64(0.5), np.float64(-0.5)):
        for method in METHODS:
            np.testing.assert_allclose(adkit.grad(f, method=method)(x), jax.grad(f)(x), rtol=1e-12)
        g = lambda x: half_grad(x) ** 2 if x > 0 else jnp.sin(half_grad(x))
        np.testing.assert_allclose(adkit.jvp(g, (x,), (1.0,)), jax.jvp(g, (x,), (1.0,)))
        with pytest.raises(TypeError, match="custom_vjp"):  # as in JAX: a VJP rule only
            adkit.jvp(f, (x,), (1.0,))


def test_nested_define_by_run():
    def f(x):
        return x**3 if x > 0 else jnp.sin(x)

    for x in (np.float64(1.5), np.float64(-1.5)):
        np.testing.assert_allclose(
            adkit.grad(adkit.grad(f))(x), jax.grad(jax.grad(f))(x), rtol=1e-12
        )
        np.testing.assert_allclose(
            jax.grad(adkit.grad(f, method="transpose"))(x), jax.grad(jax.grad(f))(x), rtol=1e-12
        )


def test_under_jit_the_error_keeps_jax_words_and_adds_advice():
    with pytest.raises(jax.errors.TracerBoolConversionError) as info:
        jax.jit(adkit.grad(piecewise))(1.0)
    assert "jax.lax.cond" in "".join(info.value.__notes__)


def test_trace_prints_the_branch_taken():
    low, high = adkit.trace(piecewise, 0.5), adkit.trace(piecewise, 4.0)
    assert low.ops() == ["lt", "sin", "mul"]
    assert high.ops() == ["lt", "lt", "log", "cos", "mul"]
    assert "cos" in str(high) and "sin" not in str(high)
    np.testing.assert_allclose(high.output, piecewise(4.0), rtol=1e-12)
    closed, _ = path_jaxpr(newton_sqrt, (np.float64(2.0),))
    # the Newton loop ran a value-dependent number of times; the path holds each iteration
    divisions = sum(e.primitive.name == "div" for e in closed.eqns)
    x, steps = 2.0, 0
    while abs(x * x - 2.0) > 2e-10:
        x, steps = 0.5 * (x + 2.0 / x), steps + 1
    assert divisions == steps


def test_custom_rules_that_branch_on_values():
    @jax.custom_jvp
    def f(x):
        return jnp.sin(x) if x > 0 else jnp.cos(x)

    f.defjvp(lambda p, t: (f(p[0]), (2.0 if p[0] > 0 else 3.0) * t[0]))

    @jax.custom_vjp
    def g(x):
        return jnp.sin(x) if x > 0 else jnp.cos(x)

    g.defvjp(
        lambda x: (g(x), x),
        lambda x, ct: ((2.0 if x > 0 else 3.0) * ct,),
    )
    for x in (np.float64(2.0), np.float64(-2.0)):
        for method in METHODS:
            for fun in (f, g):
                np.testing.assert_allclose(adkit.grad(fun, method=method)(x), jax.grad(fun)(x))
        np.testing.assert_allclose(adkit.jvp(f, (x,), (1.0,)), jax.jvp(f, (x,), (1.0,)))


def test_linearize_follows_the_path_taken():
    f = lambda x: (jnp.array([1.0, 2.0]) * x if x[0] < 2 else jnp.cos(jnp.sin(x))).sum()
    t = jnp.array([0.3, -1.0])
    for x in (2.14 * jnp.ones(2), -2.14 * jnp.ones(2)):
        y, f_jvp = adkit.linearize(f, x)
        y_jax, f_jvp_jax = jax.linearize(f, x)
        np.testing.assert_allclose(y, y_jax, rtol=1e-14)
        np.testing.assert_allclose(f_jvp(t), f_jvp_jax(t), rtol=1e-14)


def test_custom_vjp_rules_branching_on_values_in_a_function_that_stages():
    @jax.custom_vjp
    def f(x):
        return jax.lax.cond(x > 0, jnp.sin, jnp.cos, x)  # stages: no Python branch here

    f.defvjp(
        lambda x: (jnp.sin(x), x) if x > 0 else (jnp.cos(x), x),  # ... but the rules branch
        lambda x, g: ((2.0 if x > 0 else 3.0) * g,),
    )
    for x in (np.float64(2.0), np.float64(-2.0)):
        for method in METHODS:
            np.testing.assert_allclose(
                adkit.value_and_grad(f, method=method)(x), jax.value_and_grad(f)(x)
            )
