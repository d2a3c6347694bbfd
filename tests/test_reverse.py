"""Reverse-mode API: `adkit.vjp`, `grad`, `value_and_grad`, `jacrev`, `hessian` behave like
JAX's on pytrees, integers, custom rules, higher order, and under `jax.jit`/`jax.vmap`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from corpus import CORPUS
from helpers import program_args
from test_forward import PARAMS, X, _f
from test_jvp_rules import assert_close

import adkit
from adkit import _jax_compat as jc
from adkit.interpreter.reverse.tape.calls import Checkpointed
from adkit.interpreter.reverse.tape.engine import forward_sweep


@pytest.fixture(params=["tape", "transpose"])
def method(request):
    """Both reverse-mode paths."""
    return request.param


def test_vjp_on_pytrees(method):
    out, f_vjp = adkit.vjp(_f, PARAMS, X, method=method)
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


def test_sixth_derivative_of_reciprocal(method):
    f = lambda x: 1.0 / x
    for _ in range(6):
        f = adkit.grad(f, method=method)
    assert float(f(4.0)) == 0.0439453125  # 6! / 4^7


def test_perturbation_confusion(method):
    # d/dx [x * d/dy (x + y)] at 1 is exactly 1
    inner = lambda x: adkit.grad(lambda y: x + y, method=method)(1.0)
    assert float(adkit.grad(lambda x: x * inner(x), method=method)(1.0)) == 1.0


def test_custom_jvp_rules_are_honoured_in_reverse(method):
    assert float(adkit.grad(jax.nn.relu, method=method)(0.0)) == 0.0

    @jax.custom_jvp
    def f(x):
        return jnp.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 7.0 * t[0]))
    assert float(adkit.grad(f, method=method)(0.3)) == 7.0


def test_composes_with_jit_vmap_and_itself(method):
    f = lambda x: jnp.sin(x) * jnp.exp(-(x**2))
    grad = lambda f: adkit.grad(f, method=method)
    xs = jnp.linspace(-2.0, 2.0, 5)
    assert_close(jax.jit(jax.vmap(grad(f)))(xs), jax.vmap(jax.grad(f))(xs), 1e-12)
    assert_close(grad(jax.jit(f))(0.3), jax.grad(f)(0.3), 1e-12)
    assert_close(grad(grad(f))(0.3), jax.grad(jax.grad(f))(0.3), 1e-12)


def test_jacrev_and_hessian_match_jax():
    assert_close(
        adkit.jacrev(_f, argnums=(0, 1))(PARAMS, X),
        jax.jacrev(_f, argnums=(0, 1))(PARAMS, X),
        1e-12,
    )
    assert_close(adkit.jacrev(_f)(PARAMS, X), jax.jacrev(_f)(PARAMS, X), 1e-12)
    h = lambda x: jnp.sum(jnp.tanh(x) * x[0]) + jnp.prod(x)
    assert_close(adkit.hessian(h)(X), jax.hessian(h)(X), 1e-12)


def test_effects_are_not_repeated_by_the_backward_pass(capfd, method):
    def f(x):
        jax.debug.print("value {x}", x=x)
        return jnp.sin(x) * 2.0

    adkit.grad(f, method=method)(0.5)
    assert capfd.readouterr().out.count("value") == 1


MODELS = [p for p in CORPUS if p.family == "models"]  # equinox MLP, Conv2d + MaxPool, MHA, ...


@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in MODELS])
def test_equinox_model_gradients_match_jax(program, method):
    # the gradient of a loss over the model's parameters, in float64
    params, x = program_args(program, np.float64)
    loss = lambda p: sum(jnp.sum(jnp.sin(y)) for y in jax.tree.leaves(program.fn(p, x)))
    assert_close(adkit.grad(loss, method=method)(params), jax.grad(loss)(params), 1e-10)


def test_the_models_are_the_ones_promised():
    names = {p.name for p in MODELS}
    expected = {"eqx_mlp", "eqx_conv_pool", "eqx_multihead_attention", "eqx_gru_scan"}
    assert expected | {"eqx_layernorm_block"} <= names


def test_custom_vjp_rules_are_used_in_reverse(method):
    @jax.custom_vjp
    def f(x, y):
        return jnp.sin(x) * y

    # a deliberately "wrong" bwd (3x the true x-derivative) proves the user's rule is used
    f.defvjp(
        lambda x, y: (f(x, y), (jnp.cos(x), y, x)),
        lambda r, g: (3.0 * r[0] * r[1] * g, jnp.sin(r[2]) * g),
    )
    g = lambda x, y: f(x, y) ** 2 + x
    grad = lambda f, argnums=0: adkit.grad(f, argnums, method=method)
    assert_close(grad(g, (0, 1))(1.0, 2.0), jax.grad(g, (0, 1))(1.0, 2.0), 1e-12)
    assert_close(jax.jit(grad(g))(1.0, 2.0), jax.grad(g)(1.0, 2.0), 1e-12)
    seven = jax.custom_gradient(lambda x: (jnp.sin(x), lambda ct: (7.0 * ct,)))
    assert float(grad(seven)(0.3)) == 7.0


def test_register_transpose_extends_reverse_mode_to_a_new_primitive():
    double_p = jc.Primitive("double_example")
    double_p.def_impl(lambda x: 2.0 * x)
    double_p.def_abstract_eval(lambda x: x)
    adkit.register_jvp(double_p, lambda p, t: (double_p.bind(*p), double_p.bind(*t)))
    adkit.register_transpose(double_p, lambda ct, x: [double_p.bind(ct)])  # (2·)ᵀ = 2·
    try:
        x = jnp.array([0.5, -1.5])
        f = lambda x: jnp.sum(double_p.bind(x) * x)  # d Σ 2x² = 4x
        g = adkit.grad(f, method="transpose")(x)
        np.testing.assert_array_equal(g, 4.0 * x)
    finally:  # keep the global tables as the library ships them
        del adkit.rules.JVP_RULES[double_p]
        del adkit.rules.TRANSPOSE_RULES[double_p]


def test_register_vjp_extends_the_tape_path_to_a_new_primitive():
    cube_p = jc.Primitive("cube_test")
    cube_p.def_impl(lambda x: x**3)
    cube_p.def_abstract_eval(lambda x: x)
    adkit.register_vjp(cube_p, lambda ct, res: [3.0 * res.inputs[0] ** 2 * ct])  # x̄ = 3x² ȳ
    try:
        x = jnp.array([0.5, -1.5])
        g = adkit.grad(lambda x: jnp.sum(cube_p.bind(x) * x))(x)  # d Σ x⁴ = 4x³
        np.testing.assert_allclose(g, 4.0 * x**3, rtol=1e-15)
        with pytest.raises(adkit.MissingRuleError, match="cube_test"):  # no transpose path
            adkit.grad(lambda x: jnp.sum(cube_p.bind(x)), method="transpose")(x)
    finally:
        del adkit.rules.VJP_RULES[cube_p]


def test_every_primitive_works_on_both_reverse_paths():
    # an empty cell of the coverage report is a failure: every primitive with a JVP rule has a
    # VJP rule (its own, or derived by transposing the JVP rule); the jet column (Taylor mode)
    # covers what the page "Higher order" lists, and is checked there
    report = adkit.rules.coverage()
    empty = sorted(
        name
        for name, row in report.items()
        if not all(v for column, v in row.items() if column != "jet")
    )
    assert not empty, f"primitives with an empty cell in the coverage report: {empty}"
    assert report["sin"] == {"jvp": True, "vjp": "own", "transpose": "linearized", "jet": "own"}
    assert report["reduce_sum"]["transpose"] == "rule"
    assert report["custom_jvp_call"]["vjp"] == "transposed"


def test_while_loop_is_refused_naming_the_way_out(method):
    f = lambda x: jax.lax.while_loop(lambda c: c[1] < 3, lambda c: (c[0] * 2.0, c[1] + 1), (x, 0))
    with pytest.raises(ValueError, match=r"while_loop.*adkit\.checkpoint\.while_loop"):
        adkit.grad(lambda x: f(x)[0], method=method)(1.0)


@pytest.mark.parametrize("bound", ["scalar", "element"])
def test_fori_loop_with_bounds_known_at_call_time(method, bound):
    # An integer scalar argument is known when adkit stages the function eagerly, so the loop
    # is a scan. A bound read from an integer array stages as a while loop; eagerly its value
    # is known at sweep time, so both paths run it iteration by iteration (as JAX does). Under
    # jit neither is known.
    w = jnp.array([[0.5, 0.1], [0.2, 0.3]])
    upper = (lambda n: n) if bound == "scalar" else (lambda n: n[0])
    body = lambda i, c: jnp.sin(w @ c) + i * c
    f = lambda x, n: jnp.sum(jax.lax.fori_loop(0, upper(n), body, x))
    x, n = jnp.array([0.3, 0.7]), jnp.int32(3) if bound == "scalar" else jnp.array([3, 1])
    staged = jax.make_jaxpr(f)(x, n) if bound == "element" else None
    assert staged is None or "while" in jc.primitives_in(staged)
    ct = jnp.float64(1.5)
    vjp = lambda f, *a: adkit.vjp(f, *a, method=method)
    assert_close(vjp(f, x, n)[1](ct), jax.vjp(f, x, n)[1](ct), 1e-12)
    zero = jnp.int32(0) if bound == "scalar" else jnp.array([0, 1])
    assert_close(vjp(f, x, zero)[1](ct), jax.vjp(f, x, zero)[1](ct), 1e-12)
    if bound == "scalar":  # (n[0] computed while an outer adkit.grad stages is abstract)
        pull = lambda vjp: lambda x: jnp.sum(vjp(f, x, n)[1](ct)[0] ** 2)
        assert_close(adkit.grad(pull(vjp), method=method)(x), jax.grad(pull(jax.vjp))(x), 1e-12)
    with pytest.raises(ValueError, match="while_loop"):
        jax.jit(lambda x, n: vjp(f, x, n)[1](ct))(x, n)


def test_a_checkpointed_region_stores_only_its_inputs():
    # the algorithmic fact: the tape holds a checkpointed region's inputs and nothing computed
    # inside it; the backward sweep recomputes those
    w = jnp.full((8, 8), 0.1)
    x = jnp.ones(8)

    def body(x):
        for _ in range(4):
            x = jnp.tanh(x @ w)
        return x

    def tape(f):
        staged = jax.make_jaxpr(f)(x)
        return forward_sweep(staged.jaxpr, staged.consts, [x], [True])[1]

    records = list(tape(lambda x: jnp.sum(jax.checkpoint(body)(x))).records.values())
    [region] = [r for r in records if isinstance(r, Checkpointed)]
    assert sorted(a.shape for a in region.inputs) == [(8,), (8, 8)]  # x and w
    nbytes = lambda t: sum(leaf.nbytes for leaf in jax.tree.leaves(t))
    assert nbytes(records) < nbytes(tape(lambda x: jnp.sum(body(x))))
    f = lambda x: jnp.sum(jax.checkpoint(body)(x) ** 2)
    assert_close(adkit.grad(f)(x), jax.grad(f)(x), 1e-12)


def test_checkpoint_memory_matches_jax_grad():
    # XLA's memory analysis of the compiled gradient of a checkpointed scan: adkit's tape path
    # recomputes each step's internals as jax.grad does, so its temporary memory is within 10%
    w = jnp.full((64, 64), 0.01, jnp.float32)

    def step(x, _):
        for _ in range(4):
            x = jnp.tanh(x @ w)
        return x, None

    def f(x, remat):
        x, _ = jax.lax.scan(jax.checkpoint(step) if remat else step, x, None, length=8)
        return jnp.sum(x)

    x = jnp.ones((64, 64), jnp.float32)
    temp = lambda g: jax.jit(g).lower(x).compile().memory_analysis().temp_size_in_bytes
    ours = temp(adkit.grad(lambda x: f(x, True)))
    theirs = temp(jax.grad(lambda x: f(x, True)))
    stored = temp(adkit.grad(lambda x: f(x, False)))
    assert ours <= 1.1 * theirs
    assert ours < 0.5 * stored  # and checkpointing does save memory


@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_a_scan_stacks_no_constant_per_iteration(method):
    # the weights are read by every iteration's residuals; both paths read them once from the
    # scan's constants instead of stacking a copy per iteration (L x the weights' bytes)
    length, w = 40, jnp.eye(8) * 0.5

    def f(w, xs):
        step = lambda h, x: (jnp.tanh(w @ h + x), jnp.sum(h))
        return jnp.sum(jax.lax.scan(step, jnp.zeros(8), xs)[1])

    xs = jnp.ones((length, 8))
    closed = jax.make_jaxpr(adkit.grad(f, method=method))(w, xs)
    stacked = [
        tuple(v.aval.shape)
        for eqn in _all_equations(closed.jaxpr)
        if eqn.primitive.name == "scan"
        for v in eqn.outvars
    ]
    assert (length, 8) in stacked  # per-iteration residuals are stacked ...
    assert (length, *w.shape) not in stacked  # ... but not the constant weights
    np.testing.assert_allclose(
        adkit.grad(f, method=method)(w, xs), jax.grad(f)(w, xs), rtol=1e-6, atol=1e-6
    )


def _all_equations(jaxpr):
    for eqn in jaxpr.eqns:
        yield eqn
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            yield from _all_equations(sub)
