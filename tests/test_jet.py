"""adkit.jet against repeated `jax.jvp` and against `jax.experimental.jet`, on the rule-case table.

For every rule case whose primitive has a jet rule, a random polynomial path through the case's
float inputs is pushed through the program by `adkit.jet` (order 6 for the element-wise family,
3 for the others), and compared, in float64, with the derivatives of t ↦ f(x(t)) at 0 by nested
`jax.jvp` (exact, exponential in the order), and with `jax.experimental.jet` where JAX's jet
has rules for the program (it lacks atan, tan, asin, lgamma, sort, ...; and it differentiates
the primal of a custom_jvp function, so those cases are compared with nested JVPs only).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.experimental import jet as jax_jet

import adkit
from adkit.interpreter.rules import JET_RULES
from adkit.testing.rule_cases import all_cases

CASES = all_cases()
JET_NAMES = {p.name for p in JET_RULES}
# every rule case of a primitive with a jet rule, but the "-matrix" twins of element-wise
# "-vector" cases (the same recurrence at another shape; `adkit check --jet` runs them too)
_IDS = {c.id for c in CASES}
JET_CASES = [
    c
    for c in CASES
    if c.primitive in JET_NAMES
    and not (c.id.endswith("-matrix") and c.id.replace("-matrix", "-vector") in _IDS)
]
FIRST_ORDER_RULES = {  # the primitives whose jet rules live with the engine (sub-jaxprs)
    "cond",
    "scan",
    "while",
    "jit",
    "remat2",
    "custom_jvp_call",
    "custom_vjp_call",
}
RTOL = 1e-9


def _is_float(x):
    return jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)


def _path(case, k, seed=0):
    rng = np.random.default_rng(seed)
    args = tuple(jnp.asarray(a) for a in case.make_args(np.dtype(np.float64), rng))
    series = tuple(
        [
            jnp.asarray(rng.standard_normal(a.shape), a.dtype)
            if _is_float(a)
            else jnp.zeros(a.shape, a.dtype)
            for _ in range(k)
        ]
        for a in args
    )
    return args, series


def _derivative_of(h):
    return lambda t: jax.jvp(h, (t,), (jnp.ones_like(t),))[1]


def nested_jvps(f, args, series):
    """The first K derivatives of t ↦ f(x(t)) at 0, x(t) = x + Σₖ sₖ tᵏ / k!, by nested jvps."""
    k = len(series[0])

    def along(t):
        xs = [
            x + sum(s[n - 1] * t**n / math.factorial(n) for n in range(1, k + 1))
            if _is_float(x)
            else x
            for x, s in zip(args, series, strict=True)
        ]
        return f(*xs)

    outs, h = [], along
    for _ in range(k):
        h = _derivative_of(h)
        outs.append(h(jnp.float64(0.0)))
    return outs


def assert_terms_close(out, terms, reference, rtol=RTOL):
    """`terms` (adkit's: `out`'s tree with lists of terms at the leaves) against `reference`
    (a list of trees shaped like `out`)."""
    for j, leaf_terms in enumerate(jax.tree.structure(out).flatten_up_to(terms)):
        for n, a in enumerate(leaf_terms):
            b = np.asarray(jax.tree.leaves(reference[n])[j])
            if b.dtype == jax.dtypes.float0 or not _is_float(b):
                continue
            a = np.asarray(a)
            assert a.shape == b.shape, (n, a.shape, b.shape)
            scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=f"term {n + 1}")


@pytest.fixture(scope="module", autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _families():
    import importlib
    import pkgutil

    import adkit.testing.rule_cases as rc

    return {
        info.name: importlib.import_module(f"{rc.__name__}.{info.name}").CASES
        for info in pkgutil.iter_modules(rc.__path__)
    }


# Piecewise-linear cases with a closed form (JAX has no derivative, or its rule fails there):
# every term is the first-order map applied to that term. The total-order comparisons tell -0.0
# from +0.0, which the path x + t s cannot keep at t = 0, so they are compared this way too.
def _total_order(primitive):
    return lambda args, terms: jnp.where(primitive.bind(*args), terms[0], terms[1])


PIECEWISE = {
    "eq_to-special": _total_order(lax.eq_to_p),
    "lt_to-special": _total_order(lax.lt_to_p),
}
# Order 6 for the element-wise functions, whose recurrences the order exercises; 3 for the rest,
# linear or piecewise linear in each coefficient (or walking sub-jaxprs with the same rules),
# where order 3 already passes every coefficient through the rule.
ELEMENTWISE = {c.id for c in _families()["elementwise"]}


def _orders(case):
    """(order against JAX's jet, order against nested JVPs, exponential in the order)."""
    return (6, 4) if case.id in ELEMENTWISE else (3, 3)


# Where JAX's jet gives other numbers than nested `jax.jvp`s (and adkit), with the reason; those
# cases are compared with nested JVPs.
JAX_JET_DIFFERS = {
    "custom_jvp_call": "JAX's jet calls the primal body, not the custom rule (and in JAX 0.10.2 "
    "fails there with an escaped-tracer error)",
    "rem": "JAX's jet rounds x / y down where rem truncates it (wrong for negative x / y)",
    "gather-fill": "JAX's jet fills the terms of out-of-bounds reads with the fill value, not 0",
    "convert_element_type-to_int": "JAX's jet converts the terms to integers (nonzero terms of "
    "a piecewise-constant function)",
}
ROUNDING = {"reduce_precision": 1e-3}  # rounds each normalised coefficient (10 mantissa bits)


def _tolerance(case, out):
    if case.primitive in ROUNDING:
        return ROUNDING[case.primitive]
    dtypes = {np.dtype(jnp.asarray(o).dtype) for o in jax.tree.leaves(out)}
    return 1e-5 if np.dtype(np.float32) in dtypes else RTOL


def _jitted(case, *oracles):
    """adkit's jet and the oracles, compiled as one program (one compilation per case)."""

    def run(args, series):
        return [adkit.jet(case.fn, args, series), *(o(case.fn, args, series) for o in oracles)]

    return jax.jit(run)


def _jax_jet(f, args, series):
    """JAX's jet, as a list of K trees shaped like the output."""
    out, theirs = jax_jet.jet(f, args, series)
    tree = jax.tree.structure(out)
    per_leaf = tree.flatten_up_to(theirs)
    return [tree.unflatten([leaf[n] for leaf in per_leaf]) for n in range(len(series[0]))]


def _jax_jet_applies(case, args, series) -> bool:
    """Whether JAX's jet has rules for the case's program (traced, not run) and agrees."""
    if case.id in JAX_JET_DIFFERS or case.primitive in JAX_JET_DIFFERS:
        return False
    try:
        jax.eval_shape(lambda a, s: _jax_jet(case.fn, a, s), args, series)
    except Exception:  # a primitive without a rule in JAX's jet
        return False
    return True


@pytest.mark.parametrize("case", JET_CASES, ids=lambda c: c.id)
def test_jet_rule_case(case):
    """adkit's jet against JAX's jet where JAX's jet has the rules, else against nested
    `jax.jvp`s, at the orders of `_orders` (`adkit check --jet` runs every case at order 6
    against nested JVPs)."""
    order, nested_order = _orders(case)
    if case.raises is not None:
        args, series = _path(case, 2)
        with pytest.raises(case.raises):
            adkit.jet(case.fn, args, series)
        return
    closed_form = PIECEWISE.get(case.id) or (case.oracle and (lambda a, t: case.oracle(a, t)[1]))
    if closed_form is not None:  # piecewise linear: each term through the first-order map
        args, series = _path(case, order)
        [(out, terms)] = _jitted(case)(args, series)
        reference = [closed_form(args, [s[n] for s in series]) for n in range(order)]
    else:
        args, series = _path(case, order)
        if _jax_jet_applies(case, args, series):
            (out, terms), reference = _jitted(case, _jax_jet)(args, series)
        else:
            args, series = _path(case, nested_order)
            (out, terms), reference = _jitted(case, nested_jvps)(args, series)
    expected_out = case.fn(*args)
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(expected_out), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)
    assert_terms_close(out, terms, reference, _tolerance(case, out))


def test_every_primitive_with_a_jet_rule_has_a_case():
    missing = JET_NAMES - {c.primitive for c in CASES}
    assert not missing, f"jet rules without a rule case: {sorted(missing)}"
