"""adkit.hvp (four modes), adkit.derivatives, jet's custom_jvp and error behaviour, and
perturbation confusion in nested derivatives.

Every HVP mode is compared with `jax.hessian(f)(x) @ v` in float64 to 1e-10, on an MLP loss,
Rosenbrock, log-sum-exp and a small attention layer.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import adkit
from adkit.higher import MODES


@pytest.fixture(scope="module", autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


# --- the test functions: each returns (f of one flat vector, x) ---
def rosenbrock():
    f = lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    return f, jnp.linspace(-1.2, 1.0, 6)


def log_sum_exp():
    a = jax.random.normal(jax.random.key(0), (5, 4))
    f = lambda x: jax.nn.logsumexp(a @ x) + 0.5 * jnp.sum(x**2)
    return f, jnp.linspace(-0.5, 0.5, 4)


def mlp_loss():
    model = eqx.nn.MLP(3, 2, width_size=5, depth=2, activation=jnp.tanh, key=jax.random.key(1))
    model = jax.tree.map(lambda a: a.astype(jnp.float64) if eqx.is_inexact_array(a) else a, model)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    flat, unravel = ravel_pytree(params)
    xs = jax.random.normal(jax.random.key(2), (7, 3))
    ys = jax.random.normal(jax.random.key(3), (7, 2))

    def f(p):
        net = eqx.combine(unravel(p), static)
        return jnp.mean((jax.vmap(net)(xs) - ys) ** 2)

    return f, flat


def attention():
    keys = jax.random.split(jax.random.key(4), 2)
    tokens = jax.random.normal(keys[0], (4, 3))
    d = 3

    def f(w):
        wq, wk, wv = (
            w[: d * d].reshape(d, d),
            w[d * d : 2 * d * d].reshape(d, d),
            w[2 * d * d :].reshape(d, d),
        )
        q, k, v = tokens @ wq, tokens @ wk, tokens @ wv
        weights = jax.nn.softmax(q @ k.T / jnp.sqrt(d), axis=-1)
        return jnp.sum((weights @ v) ** 2)

    return f, 0.3 * jax.random.normal(keys[1], (3 * d * d,))


PROBLEMS = [rosenbrock, log_sum_exp, mlp_loss, attention]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.__name__)
def test_hvp_equals_the_hessian_times_v(problem, mode):
    f, x = problem()
    v = jnp.cos(jnp.arange(x.size, dtype=x.dtype))
    expected = jax.hessian(f)(x) @ v
    [hv] = jax.jit(lambda x, v: adkit.hvp(f, (x,), (v,), mode=mode))(x, v)
    np.testing.assert_allclose(
        hv, expected, rtol=1e-10, atol=1e-10 * float(jnp.max(jnp.abs(expected)))
    )


@pytest.mark.parametrize("mode", MODES)
def test_hvp_pytrees_and_argnums(mode):
    # f(a, b, c) with a a dict, b an array, c held fixed (argnums=(0, 1))
    def f(a, b, c):
        return jnp.sum(jnp.sin(a["w"]) * b**2) + jnp.sum(a["u"] ** 3) * c + jnp.prod(b)

    a = {"w": jnp.array([0.3, -0.7]), "u": jnp.array([1.5])}
    b, c = jnp.array([0.9, 1.1]), 2.0
    v = ({"w": jnp.array([1.0, -2.0]), "u": jnp.array([0.5])}, jnp.array([0.25, 1.0]))
    flat, unravel = ravel_pytree((a, b))
    g = lambda z: f(*unravel(z), c)
    expected = unravel(jax.hessian(g)(flat) @ ravel_pytree(v)[0])
    out = adkit.hvp(f, (a, b, c), v, argnums=(0, 1), mode=mode)
    assert jax.tree.structure(out) == jax.tree.structure(v)
    for got, want in zip(jax.tree.leaves(out), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # a single argnum: the tangent of that argument only
    [hb] = adkit.hvp(f, (a, b, c), (v[1],), argnums=1, mode=mode)
    np.testing.assert_allclose(hb, jax.hessian(f, argnums=1)(a, b, c) @ v[1], rtol=1e-10)


def test_hvp_float32_stays_float32():
    f, x = rosenbrock()
    x = x.astype(jnp.float32)
    for mode in MODES:
        [hv] = adkit.hvp(f, (x,), (jnp.ones_like(x),), mode=mode)
        assert hv.dtype == jnp.float32
        np.testing.assert_allclose(hv, jax.hessian(f)(x) @ jnp.ones_like(x), rtol=2e-4)


def test_hvp_both_reverse_paths_agree():
    f, x = mlp_loss()
    v = jnp.ones_like(x)
    tape = adkit.hvp(f, (x,), (v,), mode="rev-over-rev", method="tape")[0]
    transpose = adkit.hvp(f, (x,), (v,), mode="rev-over-rev", method="transpose")[0]
    np.testing.assert_allclose(tape, transpose, rtol=1e-12, atol=1e-14)


def test_hvp_errors_say_what_to_do():
    f, x = rosenbrock()
    with pytest.raises(ValueError, match="mode must be one of"):
        adkit.hvp(f, (x,), (x,), mode="reverse")
    with pytest.raises(TypeError, match="real scalar"):
        adkit.hvp(lambda x: x**2, (x,), (x,))
    with pytest.raises(TypeError, match="one tangent per differentiated argument"):
        adkit.hvp(lambda x, y: jnp.sum(x * y), (x, x), (x,))
    with pytest.raises(TypeError, match="tuple or list"):
        adkit.hvp(f, x, (x,))


# --- derivatives and jet ---
def test_derivatives_of_the_reciprocal_are_exact():
    # (1/x)⁽ᵏ⁾ = (-1)ᵏ k! / xᵏ⁺¹: at 4, the sixth is 720 / 16384
    d = adkit.derivatives(lambda x: 1 / x, 4.0, order=6)
    assert float(d[5]) == 0.0439453125
    expected = [(-1) ** k * np.prod(np.arange(1, k + 1)) / 4.0 ** (k + 1) for k in range(1, 7)]
    np.testing.assert_array_equal(np.asarray(d), expected)
    with jax.enable_x64(False):
        assert float(adkit.derivatives(lambda x: 1 / x, 4.0, order=6)[5]) == 0.0439453125


def test_derivatives_of_sin_cycle():
    x = jnp.linspace(-2.0, 2.0, 5)
    d = adkit.derivatives(jnp.sin, x, order=8)
    cycle = [jnp.cos(x), -jnp.sin(x), -jnp.cos(x), jnp.sin(x)]
    np.testing.assert_allclose(d, jnp.stack(cycle * 2), rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="positive integer"):
        adkit.derivatives(jnp.sin, 1.0, order=0)


@jax.custom_jvp
def rounded(x):
    return jnp.round(x)


@rounded.defjvp
def _rounded_jvp(primals, tangents):
    # a straight-through rule: the derivative of the identity
    (x,), (t,) = primals, tangents
    return rounded(x), t


@jax.custom_jvp
def clipped_exp(x):
    return jnp.exp(jnp.minimum(x, 3.0))


@clipped_exp.defjvp
def _clipped_exp_jvp(primals, tangents):
    # a rule that calls the function itself: exp's ODE, z' = z x', followed to every order
    (x,), (t,) = primals, tangents
    y = clipped_exp(x)
    return y, y * t


def test_jet_follows_a_custom_jvp_rule():
    x = jnp.array([0.3, 1.7])
    series = ([jnp.ones(2), jnp.ones(2), jnp.zeros(2)],)
    _, terms = adkit.jet(lambda x: rounded(x) * 2.0, (x,), series)
    # the rule says d rounded = dx: the path x + t + t²/2 gives 2, 2, 0 (the rule's series)
    np.testing.assert_allclose(np.stack(terms), [[2.0, 2.0], [2.0, 2.0], [0.0, 0.0]])
    # a rule calling the function again, to order 5, against nested jvps (which follow rules)
    d = adkit.derivatives(clipped_exp, jnp.array([0.5, 4.0]), order=5)
    np.testing.assert_allclose(d, np.broadcast_to(np.exp([0.5, 3.0]), (5, 2)), rtol=1e-13)


def test_jet_refuses_custom_vjp_and_names_a_missing_rule():
    @jax.custom_vjp
    def f(x):
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda c, g: (c * g,))
    with pytest.raises(TypeError, match="custom_vjp"):
        adkit.jet(f, (1.0,), ([1.0],))
    with pytest.raises(adkit.MissingRuleError, match="'igamma'"):
        adkit.jet(lambda a: jax.scipy.special.gammainc(a, 2.0), (1.5,), ([1.0],))


def test_jet_composes_with_jit_and_vmap_and_takes_pytrees():
    f = lambda p: jnp.sum(jnp.tanh(p["a"]) * p["b"])
    p = {"a": jnp.array([0.1, 0.2]), "b": jnp.array([1.0, -1.0])}
    series = ([{"a": jnp.ones(2), "b": jnp.zeros(2)}, {"a": jnp.zeros(2), "b": jnp.ones(2)}],)
    eager = adkit.jet(f, (p,), series)
    jitted = jax.jit(lambda p, s: adkit.jet(f, (p,), (s,)))(p, series[0])
    np.testing.assert_allclose(jnp.stack(eager[1]), jnp.stack(jitted[1]), rtol=1e-14)
    xs = jnp.linspace(0.0, 1.0, 3)
    batched = jax.vmap(lambda x: adkit.derivatives(jnp.tanh, x, order=3))(xs)
    np.testing.assert_allclose(batched, adkit.derivatives(jnp.tanh, xs, order=3).T, rtol=1e-14)
    with pytest.raises(TypeError, match="same number of terms"):
        adkit.jet(lambda x, y: x * y, (1.0, 2.0), ([1.0], [1.0, 0.0]))
    with pytest.raises(TypeError, match="shaped like its argument"):
        adkit.jet(jnp.sin, (jnp.ones(2),), ([jnp.ones(3)],))


# --- perturbation confusion (Siskind and Pearlmutter, 2005) ---
def test_nested_forward_mode_keeps_perturbations_apart():
    # d/dx [x · (d/dy (x + y))(1)] at x = 1 is 1; confusing the two perturbations gives 2
    inner = lambda x: adkit.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    _, outer = adkit.jvp(lambda x: x * inner(x), (1.0,), (1.0,))
    assert float(outer) == 1.0


def test_nested_reverse_mode_keeps_perturbations_apart():
    # d/dx [x · (d/dy (x y))(2)] = d/dx x² = 2x = 6 at x = 3
    inner = lambda x: adkit.grad(lambda y: x * y)(2.0)
    for method in ("tape", "transpose"):
        assert float(adkit.grad(lambda x: x * inner(x), method=method)(3.0)) == 6.0
    # d/dx [(d/dy sin(x y))(x)]: d/dy = x cos(x y), at y = x: x cos(x²); its derivative is
    # cos(x²) - 2x² sin(x²)
    g = lambda x: adkit.grad(lambda y: jnp.sin(x * y))(x)
    x = 0.7
    expected = np.cos(x**2) - 2 * x**2 * np.sin(x**2)
    np.testing.assert_allclose(adkit.grad(g)(x), expected, rtol=1e-14)
    np.testing.assert_allclose(adkit.jvp(g, (x,), (1.0,))[1], expected, rtol=1e-14)


# --- the docs page "Higher order" ---
def _page():
    import pathlib

    return (pathlib.Path(__file__).parents[1] / "docs" / "higher.md").read_text()


def test_the_page_examples_run():
    import re

    blocks = re.findall(r"```python\n(.*?)```", _page(), flags=re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "docs/higher.md", "exec"), {})


def test_the_page_coverage_table_lists_every_jet_rule():
    import re

    page = _page()
    table = page[page.index("### Coverage") : page.index("No jet rule yet")]
    without = page[page.index("No jet rule yet") : page.index("## The k-th derivative")]
    listed = set(re.findall(r"`([a-z_0-9-]+)`", table)) - {"elementwise.py"}
    coverage = adkit.rules.coverage()
    with_rule = {n for n, row in coverage.items() if row["jet"]}
    assert with_rule <= listed, f"add to the coverage table: {sorted(with_rule - listed)}"
    missing = {n for n, row in coverage.items() if not row["jet"]}
    named = set(re.findall(r"`([a-z_0-9-]+)`", without))
    assert missing == named & set(coverage), missing ^ (named & set(coverage))


def _takes_accuracy(primitive):
    x = jnp.ones(2)
    try:
        primitive.bind(x)
    except TypeError:
        return True
    return False


def test_jet_rules_take_symbolic_zeros_anywhere_in_a_series():
    # a coefficient known to be zero may sit between nonzero ones (a path x₀ + x₂t²); every
    # element-wise rule gives what it gives for explicit zeros
    from adkit.interpreter.rules import JET_RULES, Zero
    from adkit.interpreter.rules.jet.elementwise import SERIES

    x0 = jnp.array([0.3, 0.6])
    x2 = jnp.array([0.5, -0.25])
    symbolic = [x0, Zero.like(x0), x2, Zero.like(x0)]
    ACCURACY = {p for p in SERIES if _takes_accuracy(p)}
    explicit = [x0, jnp.zeros(2), x2, jnp.zeros(2)]
    for primitive in SERIES:
        rule = JET_RULES[primitive]
        params = {"accuracy": None} if primitive in ACCURACY else {}
        if primitive is jax.lax.acosh_p:  # its domain is x > 1
            symbolic[0] = explicit[0] = x0 + 1.0
        else:
            symbolic[0] = explicit[0] = x0
        a, b = rule([symbolic], **params), rule([explicit], **params)
        for n, (got, want) in enumerate(zip(a, b, strict=True)):
            got = jnp.zeros(2) if isinstance(got, Zero) else got
            np.testing.assert_allclose(
                got, want, rtol=1e-14, atol=1e-15, err_msg=f"{primitive} {n}"
            )


def test_jet_follows_a_custom_jvp_rule_that_closes_over_arrays():
    weights = jnp.array([2.0, 3.0])  # a constant of the rule's jaxpr

    @jax.custom_jvp
    def scaled_sin(x):
        return jnp.sin(x) * weights

    @scaled_sin.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return scaled_sin(x), jnp.cos(x) * weights * t

    x = jnp.array([0.4, -1.1])
    d = adkit.derivatives(scaled_sin, x, order=4)
    cycle = [jnp.cos(x), -jnp.sin(x), -jnp.cos(x), jnp.sin(x)]
    np.testing.assert_allclose(d, jnp.stack(cycle) * weights, rtol=1e-14)
