"""adkit's JVP rules against JAX's: every rule case, float32 and float64, first and second order.

Both sides are exact derivatives evaluated in floating point, so float64 agreement is held to
1e-12 relative (and absolute, scaled by the size of the values).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adkit
from adkit import _jax_compat as jc
from adkit.testing.rule_cases import all_cases

CASES = all_cases()
TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-5}


def _tangent_like(x, rng):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return np.zeros(x.shape, jax.dtypes.float0)
    return jnp.asarray(rng.standard_normal(x.shape), x.dtype)


def _inputs(case, dtype, seed=0):
    rng = np.random.default_rng(seed)
    args = tuple(jnp.asarray(a) for a in case.make_args(dtype, rng))
    tangents = tuple(_tangent_like(a, rng) for a in args)
    return args, tangents


def assert_close(actual, expected, rtol):
    a_leaves, a_tree = jax.tree.flatten(actual)
    e_leaves, e_tree = jax.tree.flatten(expected)
    assert a_tree == e_tree
    for a, e in zip(a_leaves, e_leaves, strict=True):
        a, e = np.asarray(a), np.asarray(e)
        assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
        if a.dtype == jax.dtypes.float0:
            continue
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale)


def _params(dtypes=(np.float32, np.float64), second=False):
    out = []
    for case in CASES:
        if second and (not case.second_order or case.oracle or case.raises):
            continue
        for dtype in dtypes:
            if np.dtype(dtype) == np.float32 and not case.float32:
                continue
            out.append(pytest.param(case, np.dtype(dtype), id=f"{case.id}-{np.dtype(dtype).name}"))
    return out


@pytest.mark.parametrize(("case", "dtype"), _params())
def test_jvp_matches_jax(case, dtype):
    args, tangents = _inputs(case, dtype)
    if case.raises is not None:
        with pytest.raises(case.raises):
            jax.jvp(case.fn, args, tangents)
        with pytest.raises(case.raises):
            adkit.jvp(case.fn, args, tangents)
        return
    if case.oracle is not None:
        expected = case.oracle(args, tangents)
    else:
        expected = jax.jvp(case.fn, args, tangents)
    actual = adkit.jvp(case.fn, args, tangents)
    assert_close(actual, expected, TOLERANCE[dtype])


@pytest.mark.parametrize(("case", "dtype"), _params((np.float64,), second=True))
def test_second_order_jvp_of_jvp_matches_jax(case, dtype):
    args, t1 = _inputs(case, dtype, seed=1)
    _, t2 = _inputs(case, dtype, seed=2)
    inner_adkit = lambda *a: adkit.jvp(case.fn, a, t1)[1]
    inner_jax = lambda *a: jax.jvp(case.fn, a, t1)[1]
    assert_close(adkit.jvp(inner_adkit, args, t2), jax.jvp(inner_jax, args, t2), 1e-10)


def test_every_primitive_with_a_rule_has_a_case():
    exercised = set()
    for case in CASES:
        args, _ = _inputs(case, np.dtype(np.float64))
        exercised |= jc.primitives_in(jax.make_jaxpr(case.fn)(*args))
    missing = sorted(set(adkit.rules.coverage()) - exercised)
    assert not missing, f"primitives with a JVP rule but no rule case: {missing}"


def test_each_case_uses_its_primitive():
    wrong = []
    for case in CASES:
        args, _ = _inputs(case, np.dtype(np.float64))
        if case.primitive not in jc.primitives_in(jax.make_jaxpr(case.fn)(*args)):
            wrong.append(case.id)
    assert not wrong, f"cases whose program does not contain their primitive: {wrong}"
