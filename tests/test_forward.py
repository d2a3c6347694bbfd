"""Forward-mode API: `adkit.jvp`, `jacfwd`, `linearize` behave like JAX's, on pytrees, integers,
custom rules, and under `jax.jit`/`jax.vmap`/`jax.grad`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.extend.core import Primitive
from test_jvp_rules import assert_close

import adkit


def _f(params, x):
    return {"y": jnp.tanh(params["w"] @ x + params["b"]), "norm": jnp.sum(x**2)}


PARAMS = {"w": jnp.array([[1.0, -2.0], [0.5, 0.3]]), "b": jnp.array([0.1, -0.2])}
X = jnp.array([0.7, -1.1])
T_PARAMS = jax.tree.map(lambda a: jnp.ones_like(a) * 0.3, PARAMS)
T_X = jnp.array([1.0, 2.0])


def test_pytrees_in_and_out():
    expected = jax.jvp(_f, (PARAMS, X), (T_PARAMS, T_X))
    assert_close(adkit.jvp(_f, (PARAMS, X), (T_PARAMS, T_X)), expected, 1e-12)


def test_has_aux_returns_aux_undifferentiated():
    f = lambda x: (jnp.sin(x), {"doubled": 2 * x})
    y, t, aux = adkit.jvp(f, (X,), (T_X,), has_aux=True)
    y2, t2, aux2 = jax.jvp(f, (X,), (T_X,), has_aux=True)
    assert_close((y, t, aux), (y2, t2, aux2), 1e-12)


def test_integer_inputs_and_outputs_get_float0_tangents():
    f = lambda x, n: (x * n, n * 2)
    n = jnp.int32(3)
    float0 = np.zeros((), jax.dtypes.float0)
    (_y, m), (ty, tm) = adkit.jvp(f, (X, n), (T_X, float0))
    np.testing.assert_array_equal(ty, T_X * 3)
    assert tm.dtype == jax.dtypes.float0 and int(m) == 6
    with pytest.raises(TypeError, match="needs a tangent of shape \\(\\) and dtype float0"):
        adkit.jvp(f, (X, n), (T_X, jnp.int32(1)))


def test_rejects_mismatched_tangents():
    with pytest.raises(TypeError, match="expects primals as a tuple or list"):
        adkit.jvp(jnp.sin, X, T_X)
    with pytest.raises(TypeError, match="same tree structure"):
        adkit.jvp(jnp.sin, (X,), (T_X, T_X))
    with pytest.raises(TypeError, match=r"needs a tangent of shape \(2,\) and dtype float64"):
        adkit.jvp(jnp.sin, (X,), (T_X.astype(jnp.float32),))


def test_custom_jvp_rules_are_honoured():
    assert float(adkit.jvp(jax.nn.relu, (0.0,), (1.0,))[1]) == 0.0  # relu'(0) = 0 by its rule

    @jax.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 7.0 * t[0]))
    assert float(adkit.jvp(f, (0.3,), (2.0,))[1]) == 14.0


def test_custom_vjp_functions_refuse_forward_mode():
    @jax.custom_vjp
    def f(x):
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), x), lambda r, g: (g,))
    with pytest.raises(
        TypeError, match=r"can't apply forward-mode autodiff \(jvp\) to a custom_vjp"
    ):
        adkit.jvp(f, (0.3,), (1.0,))
    # with no tangent flowing into it, it is just evaluated
    assert float(adkit.jacfwd(lambda x, y: f(y) * x, argnums=0)(1.0, 0.3)) == float(jnp.sin(0.3))


def test_no_tangent_work_for_arguments_not_differentiated():
    calls = []
    traced_p = Primitive("traced_identity")
    traced_p.def_impl(lambda x: x)
    traced_p.def_abstract_eval(lambda x: x)

    @adkit.register_jvp(traced_p)
    def _rule(primals, tangents):
        calls.append(1)
        return traced_p.bind(*primals), tangents[0]

    try:
        f = lambda x, y: jnp.sin(x) * traced_p.bind(y)
        d_dx = adkit.jacfwd(f, argnums=0)(1.0, 2.0)
        assert calls == [] and float(d_dx) == pytest.approx(np.cos(1.0) * 2.0, rel=1e-15)
        adkit.jacfwd(f, argnums=1)(1.0, 2.0)
        assert calls == [1]
    finally:
        del adkit.rules.JVP_RULES[traced_p]  # keep the global table as the library ships it


def test_missing_rule_names_the_primitive():
    lonely_p = Primitive("lonely_example")
    lonely_p.def_impl(lambda x: x)
    lonely_p.def_abstract_eval(lambda x: x)
    with pytest.raises(
        adkit.MissingRuleError,
        match=r"no JVP rule for the primitive 'lonely_example'.*register_jvp",
    ):
        adkit.jvp(lonely_p.bind, (1.0,), (1.0,))


def test_composes_with_jit_and_vmap():
    f = lambda x: jnp.sin(x) * jnp.exp(-x) + jax.lax.cond(x > 0, jnp.cos, jnp.tanh, x)
    xs = jnp.linspace(-2.0, 2.0, 7)
    ours = jax.jit(jax.vmap(lambda x: adkit.jvp(f, (x,), (1.5,))))(xs)
    theirs = jax.jit(jax.vmap(lambda x: jax.jvp(f, (x,), (1.5,))))(xs)
    assert_close(ours, theirs, 1e-12)


def test_composes_with_jax_grad_and_itself():
    f = lambda x: jnp.sin(x) * x**2
    d2_jax = jax.grad(jax.grad(f))(0.7)
    assert float(jax.grad(lambda x: adkit.jvp(f, (x,), (1.0,))[1])(0.7)) == pytest.approx(
        float(d2_jax), rel=1e-13
    )
    d2 = adkit.jvp(lambda x: adkit.jvp(f, (x,), (1.0,))[1], (0.7,), (1.0,))[1]
    assert float(d2) == pytest.approx(float(d2_jax), rel=1e-13)


def test_perturbations_do_not_get_confused():
    # d/dx [x * d/dy (x + y)] at 1 is exactly 1
    inner = lambda x: adkit.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    assert float(adkit.jvp(lambda x: x * inner(x), (1.0,), (1.0,))[1]) == 1.0


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacfwd_matches_jax(argnums):
    ours = adkit.jacfwd(_f, argnums=argnums)(PARAMS, X)
    theirs = jax.jacfwd(_f, argnums=argnums)(PARAMS, X)
    assert_close(ours, theirs, 1e-12)


def test_jacfwd_has_aux_and_errors():
    f = lambda x: (x**3, x[0])
    jac, aux = adkit.jacfwd(f, has_aux=True)(X)
    np.testing.assert_allclose(jac, np.diag(3 * np.asarray(X) ** 2), rtol=1e-14)
    assert float(aux) == float(X[0])
    with pytest.raises(TypeError, match=r"real floating-point inputs.*int32"):
        adkit.jacfwd(lambda n: n * 2.0)(jnp.arange(3, dtype=jnp.int32))
    with pytest.raises(ValueError, match="argnums"):
        adkit.jacfwd(jnp.sin, argnums=3)(X)


def test_linearize_matches_jax():
    f = lambda x: jnp.sin(x) * jnp.cumsum(x)
    y, f_jvp = adkit.linearize(f, X)
    y2, f_jvp2 = jax.linearize(f, X)
    assert_close((y, f_jvp(T_X)), (y2, f_jvp2(T_X)), 1e-12)


def test_trace_records_tangents_and_the_custom_rule():
    tape = adkit.trace(
        lambda x: jax.nn.relu(x) * 3.0, jnp.array([0.0, 2.0]), tangents=(jnp.ones(2),)
    )
    [rule_row] = [e for e in tape if e.op == "custom_jvp.rule"]
    np.testing.assert_array_equal(rule_row.tangents[0], [0.0, 1.0])  # not max's 0.5 at the tie
    np.testing.assert_array_equal(tape.output_tangent, [0.0, 3.0])


def test_a_changed_global_is_seen_on_the_next_call():
    # a jaxpr bakes in the globals a function read: reusing one would give a stale derivative
    global _SCALE
    f = lambda x: _SCALE * jnp.sin(x)
    for _SCALE in (2.0, 3.0):
        expected = jax.jvp(f, (0.0,), (1.0,))[1]
        np.testing.assert_allclose(adkit.jvp(f, (0.0,), (1.0,))[1], expected)
        np.testing.assert_allclose(adkit.vjp(f, 0.0)[1](1.0)[0], expected)
        np.testing.assert_allclose(adkit.vjp(f, 0.0, method="transpose")[1](1.0)[0], expected)
        np.testing.assert_allclose(adkit.grad(f)(0.0), expected)


_SCALE = 1.0


def test_the_garbage_collector_is_paused_while_tracing_and_restored_after():
    # tracing makes many long-lived objects and no cycles to speak of; Python's full-heap
    # collections over them made the cost per equation grow with the program's length
    import gc

    seen = []

    def f(x):
        seen.append(gc.isenabled())
        return jnp.sin(x)

    assert gc.isenabled()
    adkit.jvp(f, (1.0,), (1.0,))
    _, f_vjp = adkit.vjp(f, 1.0, method="transpose")
    f_vjp(1.0)
    adkit.grad(f)(1.0)
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(ZeroDivisionError):  # restored when the function raises, too
        adkit.grad(lambda x: 1 / 0)(1.0)
    assert gc.isenabled()
    gc.disable()  # paused by the user: left paused
    try:
        adkit.grad(f)(1.0)
        assert not gc.isenabled()
    finally:
        gc.enable()
