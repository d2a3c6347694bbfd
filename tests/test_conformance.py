"""Cases from running JAX's own autodiff tests through adkit (`adkit.testing.conformance`).

Each fix found by the conformance run has its case here, so CI guards it without JAX's test
files; and the runner itself is checked on a small stand-in test file.
"""

import functools
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import exp1, expi

import adkit


# --- while_loop under vmap: a batched predicate (one flag per batch element) ---
def newton_sqrt(a):
    def body(carry):
        x, steps = carry
        return 0.5 * (x + a / x), steps + 1

    return jax.lax.while_loop(lambda c: jnp.abs(c[0] ** 2 - a) > 1e-12, body, (a, 0))


def test_batched_while_predicate_evaluates_and_differentiates():
    a = jnp.array([2.0, 9.0, 0.25, 1.0])
    batched = jax.vmap(newton_sqrt)
    closed = jax.make_jaxpr(batched)(a)
    cond = next(e for e in closed.eqns if e.primitive.name == "while").params["cond_jaxpr"]
    assert cond.out_avals[0].shape == (4,)  # the case: a per-element predicate
    out = adkit.eval_jaxpr(closed, a)
    expected = batched(a)
    np.testing.assert_array_equal(out[1], expected[1])  # each element stopped at its own step
    np.testing.assert_allclose(out[0], expected[0], rtol=1e-14)
    t = jnp.array([1.0, -1.0, 0.5, 2.0])
    np.testing.assert_allclose(
        adkit.jvp(batched, (a,), (t,))[1][0], jax.jvp(batched, (a,), (t,))[1][0], rtol=1e-12
    )
    rows = adkit.trace(lambda a: batched(a)[0], a).ops()
    assert rows.count("reduce_or") == int(expected[1].max()) + 1  # one test per iteration


@pytest.mark.parametrize("fun", [exp1, expi], ids=["exp1", "expi"])
@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_vmapped_special_functions_with_while_loops(fun, method):
    x = jnp.array([0.5, 1.5, 3.0])
    f = lambda x: jnp.sum(jax.vmap(fun)(x))
    np.testing.assert_allclose(adkit.grad(f, method=method)(x), jax.grad(f)(x), rtol=1e-12)


# --- the runner, on a stand-in for one of JAX's test files ---
STAND_IN = textwrap.dedent(
    """
    import jax
    import jax.numpy as jnp
    from jax import grad
    from jax._src import test_util as jtu

    def test_routed_and_passing():
        assert float(jax.grad(jnp.sin)(0.0)) == 1.0
        jtu.check_grads(jnp.tanh, (0.3,), order=2, modes=["fwd", "rev"])

    def test_imported_name_is_routed():
        assert float(grad(lambda x: x**3)(2.0)) == 12.0

    def test_not_differentiating():
        assert jnp.sin(0.0) == 0.0

    def test_sees_which_implementation():
        assert "adkit" not in jax.grad(jnp.sin).__code__.co_filename
    """
)


def test_conformance_runner_routes_counts_and_lists(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "lax_autodiff_test.py").write_text(STAND_IN)
    out = tmp_path / "report"
    command = [sys.executable, "-m", "adkit.testing.conformance", str(tmp_path), "-n", "1"]
    command += ["--files", "lax_autodiff_test.py", "--modes", "tape", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # one test passes on JAX only
    report = (out / "report.md").read_text()
    # 4 tests run, 3 differentiate, 3 pass on JAX, 2 on adkit
    assert "| `lax_autodiff_test.py` | 4 | 3 | 3 | 2 | 0 |" in report, report
    assert "test_sees_which_implementation" in report


# --- API parity: `allow_int`, `holomorphic`, JAX's words for while loops ---
@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_allow_int_gives_float0_and_holomorphic_matches_jax(method):
    f = lambda x, n: jnp.sum(jnp.sin(x) * n)
    x, n = jnp.array([1.0, 2.0]), jnp.array([3, 4])
    g_x, g_n = adkit.grad(f, argnums=(0, 1), allow_int=True, method=method)(x, n)
    np.testing.assert_allclose(g_x, jax.grad(f)(x, n), rtol=1e-13)
    assert g_n.dtype == jax.dtypes.float0 and g_n.shape == (2,)
    with pytest.raises(TypeError, match="allow_int=True"):
        adkit.grad(f, argnums=1, method=method)(x, n)
    z = jnp.array([1.0 + 2.0j, 0.5 - 1.0j])
    h = lambda z: jnp.sum(jnp.sin(z) * z)
    np.testing.assert_allclose(
        adkit.grad(h, holomorphic=True, method=method)(z), jax.grad(h, holomorphic=True)(z)
    )
    np.testing.assert_allclose(
        adkit.hessian(h, holomorphic=True, method=method)(z), jax.hessian(h, holomorphic=True)(z)
    )
    np.testing.assert_allclose(
        adkit.jacfwd(jnp.sin, holomorphic=True)(z), jax.jacfwd(jnp.sin, holomorphic=True)(z)
    )
    with pytest.raises(TypeError, match="holomorphic=True"):
        adkit.jacfwd(jnp.sin)(z)


def test_while_loop_error_starts_with_jax_words():
    f = lambda x: jax.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax"):
        adkit.grad(f)(1.0)


# --- custom rules: a custom_jvp applied to tangents, optimize_remat, vmap of a constant ---
@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_custom_jvp_applied_to_tangents_is_transposed_through_its_body(method):
    @jax.custom_jvp
    def div(x, y):
        return x / y

    div.defjvp(lambda p, t: (div(*p), div(t[0], p[1])))  # the rule calls div on a tangent
    f = lambda x: div(jnp.sin(x), 2.0)
    np.testing.assert_allclose(
        adkit.vjp(f, 0.3, method=method)[1](1.0), jax.vjp(f, 0.3)[1](1.0), rtol=1e-14
    )


@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_optimize_remat_custom_vjp_second_order(method):
    @jax.custom_vjp
    def f(x):
        return jnp.sin(x) * x

    f.defvjp(
        lambda x: (jnp.sin(x) * x, (x,)),
        lambda res, g: (g * (jnp.cos(res[0]) * res[0] + jnp.sin(res[0])),),
        optimize_remat=True,  # the fwd rule is bound as `remat_opt`: forward over reverse
    )
    g = lambda x: jnp.sum(f(x) ** 2)
    x = jnp.array([0.3, 1.2])
    np.testing.assert_allclose(adkit.hessian(g, method=method)(x), jax.hessian(g)(x), rtol=1e-13)


def test_vmapped_custom_jvp_with_a_constant_output():
    @jax.custom_jvp
    def zero(x):
        return np.zeros(x.shape, x.dtype)  # under vmap: one unbatched value

    zero.defjvp(lambda p, t: (zero(p[0]), t[0]))
    f = lambda x: jax.vmap(zero)(x).sum()
    x = jnp.arange(3.0)
    # eagerly, adkit differentiates define-by-run, in JAX's order: differentiate, then batch
    for method in ("tape", "transpose"):
        np.testing.assert_array_equal(adkit.grad(f, method=method)(x), jax.grad(f)(x))
    with pytest.raises(TypeError, match="define_by_run"):  # under jit the staged program only
        jax.jit(adkit.grad(f))(x)


def test_custom_rule_closing_over_a_vmap_tracer():
    # jax#8783: the rule closes over x, a vmap tracer gone by the time a staged program's rule
    # runs; define-by-run runs the rule while vmap is active
    def h(z):
        def f(x):
            @jax.custom_jvp
            def g(y):
                return x * y

            g.defjvp(lambda p, t: (x * p[0], x * t[0]))
            return g(z)

        return jax.vmap(f)(jnp.arange(3.0))

    z = np.float64(1.0)
    np.testing.assert_allclose(adkit.jvp(h, (z,), (2.0,)), jax.jvp(h, (z,), (2.0,)))
    for method in ("tape", "transpose"):
        np.testing.assert_allclose(adkit.jacrev(h, method=method)(z), jax.jacrev(h)(z))


@pytest.fixture
def custom_vjp3():
    """JAX's experimental custom_vjp (`jax_custom_vjp3`): the rules ride on `call_hi_primitive`."""
    jax.config.update("jax_custom_vjp3", True)
    yield
    jax.config.update("jax_custom_vjp3", False)


@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_custom_vjp3_call_hi_primitive(custom_vjp3, method):
    @jax.custom_vjp
    def f(x, y):
        return jnp.sin(x) * y

    f.defvjp(
        lambda x, y: (f(x, y), (jnp.cos(x), jnp.sin(x), y)),
        lambda res, g: (3.0 * res[0] * g * res[2], res[1] * g),  # not the true derivative
    )
    assert "call_hi_primitive" in str(jax.make_jaxpr(f)(1.0, 2.0))
    xs, y = jnp.array([0.1, 0.7, 2.0]), np.float64(1.5)
    g = lambda xs, y: jnp.sum(jax.vmap(f, (0, None))(xs, y) ** 2)
    got = adkit.grad(g, argnums=(0, 1), method=method)(xs, y)
    want = jax.grad(g, argnums=(0, 1))(xs, y)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14)
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        adkit.jvp(f, (1.0, 2.0), (1.0, 0.0))


def test_fori_loop_with_bounds_known_when_it_runs():
    # JAX refuses reverse mode here (the bounds depend on x). The tape path runs the loop
    # eagerly, its bounds known, and differentiates it: fori_loop(x, x + 2, c -> 2c, x) = 4x.
    # The transpose path needs the counter to be non-linear, and refuses as JAX does.
    np.testing.assert_allclose(adkit.grad(lax_cond_fori)(1.0), 4.0)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax"):
        adkit.grad(lax_cond_fori, method="transpose")(1.0)


def lax_cond_fori(x):
    body = lambda x, _: jax.lax.fori_loop(x, x + 2.0, lambda i, c: c * 2.0, x)
    return jax.lax.cond(True, body, lambda _, x: x, x, 1.0)


@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_platform_dependent_gradient_compiles_only_this_platforms_branch(method):
    x = np.arange(8, dtype=np.float32)
    dot = lambda x: jnp.dot(x, x)
    scan = lambda x: jax.lax.scan(lambda c, xi: (c + xi * xi, None), np.float32(0.0), x)[0]
    f = lambda x: jnp.sin(jax.lax.platform_dependent(x, cpu=dot, default=scan))
    np.testing.assert_allclose(
        adkit.grad(f, method=method)(x), jax.grad(lambda x: jnp.sin(dot(x)))(x), rtol=1e-6
    )
    hlo = jax.jit(adkit.grad(f, method=method)).lower(x).as_text("hlo")
    on_cpu = jax.default_backend() == "cpu"
    assert (" dot(" in hlo) == on_cpu and (" while(" in hlo) == (not on_cpu)


def test_custom_vmap_keeps_its_batching_rule_under_jvp():
    calls = []

    @jax.custom_batching.custom_vmap
    def f(x):
        return jnp.sin(x)

    @f.def_vmap
    def rule(axis_size, in_batched, xs):  # batched, f is cos: the rule must be what runs
        calls.append(list(in_batched))
        return jnp.cos(xs), in_batched[0]

    f_jvp = lambda x, t: adkit.jvp(f, (x,), (t,))
    xs, ts = jnp.arange(3.0), jnp.arange(3.0) * 2.0
    np.testing.assert_allclose(f_jvp(0.7, 2.0), jax.jvp(f, (0.7,), (2.0,)))
    np.testing.assert_allclose(
        jax.vmap(f_jvp)(xs, ts), jax.vmap(lambda x, t: jax.jvp(f, (x,), (t,)))(xs, ts)
    )
    assert calls[-1] == [True]
    # batched tangents only: the rule sees an unbatched primal, the tangents are vmapped
    y, ty = jax.vmap(f_jvp, in_axes=(None, 0), out_axes=(None, 0))(1.0, ts)
    np.testing.assert_allclose(y, jnp.cos(1.0), rtol=1e-14)
    np.testing.assert_allclose(ty, -jnp.sin(1.0) * ts, rtol=1e-14)
    assert calls[-1] == [False]
    for method in ("tape", "transpose"):  # reverse mode through f (JAX's partial eval refuses)
        np.testing.assert_allclose(adkit.grad(f, method=method)(0.5), jnp.cos(0.5), rtol=1e-14)


@pytest.mark.parametrize("method", ["tape", "transpose"])
def test_custom_vjp3_symbolic_zeros_and_value_branching_rules(custom_vjp3, method):
    zero_type = jax.custom_derivatives.SymbolicZero
    seen = []

    @jax.custom_vjp
    def f(x, y):
        return x, x

    def bwd(_, g):
        seen.append(tuple(type(c) is zero_type for c in g))
        return g[0], g[1]

    f.defvjp(lambda x, y: ((x.value, x.value), None), bwd, symbolic_zeros=True)
    grads = adkit.vjp(lambda x, y: f(x, y)[0], 2.0, 3.0, method=method)[1](1.0)
    assert seen == [(False, True)]  # the unused output's cotangent arrives as a SymbolicZero
    np.testing.assert_allclose(grads, (1.0, 0.0))

    @jax.custom_vjp
    def h(x):
        return jax.lax.cond(x > 0, jnp.sin, jnp.cos, x)

    h.defvjp(
        lambda x: (jnp.sin(x), x) if x > 0 else (jnp.cos(x), x),
        lambda x, g: ((2.0 if x > 0 else 3.0) * g,),
    )
    for x in (np.float64(2.0), np.float64(-2.0)):
        np.testing.assert_allclose(
            adkit.value_and_grad(h, method=method)(x), jax.value_and_grad(h)(x)
        )


def test_outputs_are_arrays_and_keys_pass_through_define_by_run():
    f = lambda x: jax.lax.cond(x < 3, lambda _: 2.0, lambda x: 2.0 * x, x)  # a literal output
    out, _ = adkit.vjp(f, 1.0)
    assert isinstance(out, jax.Array) and isinstance(adkit.jvp(f, (1.0,), (1.0,))[0], jax.Array)

    @functools.partial(jax.custom_jvp, nondiff_argnums=(0, 2))
    def sample(shape, param, seed):  # a key built inside: JAX stages it into the trace
        return jax.random.uniform(key=seed, shape=shape, minval=param)

    sample.defjvp(
        lambda shape, seed, p, t: (sample(shape, p[0], seed), sample(shape, p[0], seed) * t[0])
    )
    g = lambda x: sample((2, 3), x, jax.random.key(1))
    np.testing.assert_allclose(adkit.jvp(g, (1.0,), (1.0,)), jax.jvp(g, (1.0,), (1.0,)))
