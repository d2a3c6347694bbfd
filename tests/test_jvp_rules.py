"""adkit's JVP rules against JAX's: every rule case in float64, first and second order; float32
values for a subset of the cases (`FLOAT32_CASES`), float32 dtypes and shapes for every case.

Both sides are exact derivatives evaluated in floating point, so float64 agreement is held to
1e-12 relative (and absolute, scaled by the size of the values).
"""

import dataclasses
import importlib
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import compiled

import adkit
import adkit.testing.rule_cases
from adkit import _jax_compat as jc
from adkit.testing.rule_cases import all_cases

CASES = all_cases()
TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-5}

# The rule-case families (`elementwise`, `linalg`, ...: the modules of adkit.testing.rule_cases).
FAMILIES = {
    info.name: importlib.import_module(f"{adkit.testing.rule_cases.__name__}.{info.name}").CASES
    for info in sorted(
        pkgutil.iter_modules(adkit.testing.rule_cases.__path__), key=lambda m: m.name
    )
}

# float32 values are compared with JAX's for a subset only: the first case of each family, and
# the cases named "special" (fixed points such as exp(50), logistic(-40), where float32 overflows
# or underflows and float64 does not). Every other float32 case computes what its float64 twin
# computes, to a looser tolerance, and running them all took about 90 s of the suite's CPU time.
# What float32 adds for every case is its dtypes (a rule that builds a float64 constant or drops a
# weak type turns a float32 tangent into float64): `test_jvp_keeps_float32_dtypes_and_shapes`
# checks those for every case by tracing alone, without compiling or running (2 s in all).
FLOAT32_CASES = {next(c.id for c in cases if c.float32) for cases in FAMILIES.values()} | {
    c.id for c in CASES if c.float32 and c.name == "special"
}


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


def _args_key(case):
    """The case's float64 inputs, as bytes (for the seeds the tests draw them with)."""
    keys = []
    for seed in (0, 1, 2):
        for a in jax.tree.leaves(case.make_args(np.dtype(np.float64), np.random.default_rng(seed))):
            if isinstance(a, jax.Array) and jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
                a = jax.random.key_data(a)
            a = np.asarray(a)
            keys.append((a.dtype.str, a.shape, a.tobytes()))
    return tuple(keys)


def distinct(cases):
    """`(case, id)` for the cases, where cases with the same program and the same inputs run once
    under one id naming them all (`shard_map`, `psum_invariant` and `pvary` are listed for three
    primitives of one program: the same computation three times)."""
    merged = {}
    for case in cases:
        fields = [
            getattr(case, f.name)
            for f in dataclasses.fields(case)
            if f.name not in ("primitive", "name", "make_args")
        ]
        key = (tuple(id(v) if callable(v) else v for v in fields), _args_key(case))
        merged.setdefault(key, []).append(case)
    return [(same[0], "+".join(c.id for c in same)) for same in merged.values()]


def one_per_primitive(cases_with_ids, keep=()):
    """The first of each primitive's `(case, id)` pairs, and those whose id is in `keep`.

    Second-order and Taylor-mode checks run on these in the suite (each primitive's rule is
    differentiated again at least once); `adkit check` runs every case through all of them.
    """
    seen, out = set(), []
    for case, case_id in cases_with_ids:
        if case.primitive not in seen or case.id in keep:
            seen.add(case.primitive)
            out.append((case, case_id))
    return out


def _params(dtypes=(np.float32, np.float64), second=False):
    out = []
    chosen = distinct(CASES)
    if second:
        chosen = one_per_primitive([(c, i) for c, i in chosen if c.second_order and not c.oracle])
    for case, case_id in chosen:
        if second and (not case.second_order or case.oracle or case.raises):
            continue
        for dtype in dtypes:
            if np.dtype(dtype) == np.float32 and case.id not in FLOAT32_CASES:
                continue
            out.append(pytest.param(case, np.dtype(dtype), id=f"{case_id}-{np.dtype(dtype).name}"))
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
        expected = compiled(lambda a, t: jax.jvp(case.fn, a, t), args, tangents)
    actual = compiled(lambda a, t: adkit.jvp(case.fn, a, t), args, tangents)
    assert_close(actual, expected, TOLERANCE[dtype])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_jvp_keeps_float32_dtypes_and_shapes(family):
    """Every float32 case, traced only: adkit's primal out has the program's dtypes and shapes,
    its tangent out the same (float0 for integer outputs)."""
    wrong = []
    for case in FAMILIES[family]:
        if not case.float32 or case.raises is not None:
            continue
        args, tangents = _inputs(case, np.dtype(np.float32))
        out = jax.eval_shape(case.fn, *args)
        jvp = jax.eval_shape(lambda a, t, fn=case.fn: adkit.jvp(fn, a, t), args, tangents)
        tangent = lambda o: (
            o.shape,
            o.dtype if jnp.issubdtype(o.dtype, jnp.inexact) else jax.dtypes.float0,
        )
        expected = jax.tree.map(lambda o: (o.shape, o.dtype), out), jax.tree.map(tangent, out)
        actual = jax.tree.map(lambda o: (o.shape, o.dtype), jvp)
        if actual != expected:
            wrong.append(f"{case.id}: {actual} != {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("case", "dtype"), _params((np.float64,), second=True))
def test_second_order_jvp_of_jvp_matches_jax(case, dtype):
    args, t1 = _inputs(case, dtype, seed=1)
    _, t2 = _inputs(case, dtype, seed=2)
    inner_adkit = lambda *a: adkit.jvp(case.fn, a, t1)[1]
    inner_jax = lambda *a: jax.jvp(case.fn, a, t1)[1]
    ours = compiled(lambda a, t: adkit.jvp(inner_adkit, a, t), args, t2)
    assert_close(ours, compiled(lambda a, t: jax.jvp(inner_jax, a, t), args, t2), 1e-10)


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
