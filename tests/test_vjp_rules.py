"""adkit's reverse mode (both paths) against JAX's, over the rule-case table.

For each case (the tape path) and one case per primitive (the transpose path: the transpose of
the JVP rule the forward tests check on every case): `adkit.vjp` equals `jax.vjp` to 1e-12
relative in float64, and the dot-product test <J t, c> = <t, Jᵀ c> holds between adkit's own
JVP and VJP. `adkit check` runs every case on both paths.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import compiled, compiled_vjp
from test_jvp_rules import _inputs, assert_close, distinct, one_per_primitive

import adkit
from adkit.testing.rule_cases import all_cases

# (a case that `raises` refuses forward mode only: a custom_vjp function is reversed all the same)
CASES = [c for c in all_cases() if c.oracle is None]

# Primitives whose reverse mode is not built yet: their cases are expected to raise
# adkit.MissingRuleError naming one of them (the test fails as soon as one starts to work,
# so this set shrinks with every rule that lands).
PENDING: set[str] = set()


def _cotangent_like(out, rng):
    return jax.tree.map(lambda o: jnp.asarray(rng.standard_normal(np.shape(o)), o.dtype)
                        if jnp.issubdtype(o.dtype, jnp.inexact)
                        else np.zeros(np.shape(o), jax.dtypes.float0), out)  # fmt: skip


def _vdot(a, b):
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return sum(jnp.vdot(x, y).real for x, y in pairs if x.dtype != jax.dtypes.float0)


def _params():
    tape = [pytest.param(c, "tape", id=f"{i}-tape") for c, i in distinct(CASES)]
    transpose = [
        pytest.param(c, "transpose", id=f"{i}-transpose")
        for c, i in one_per_primitive(distinct(CASES))
    ]
    return tape + transpose


@pytest.mark.parametrize(("case", "method"), _params())
def test_vjp_matches_jax(case, method):
    args, tangents = _inputs(case, np.dtype(np.float64))
    out = jax.eval_shape(case.fn, *args)
    ct = _cotangent_like(out, np.random.default_rng(3))
    if case.raises is not None and _raises(case.raises, lambda: jax.vjp(case.fn, *args)[1](ct)):
        with pytest.raises(case.raises):  # refused in reverse mode too, as JAX refuses it
            adkit.vjp(case.fn, *args, method=method)[1](ct)
        return
    try:
        out, expected = compiled_vjp(jax.vjp, case.fn, args, ct)
    except TypeError:  # e.g. a custom_linear_solve without transpose_solve: both refuse
        with pytest.raises(TypeError):
            adkit.vjp(case.fn, *args, method=method)[1](ct)
        return
    except (NotImplementedError, ValueError):
        if case.primitive == "while":
            # adkit refuses reverse mode through a general while_loop, as JAX does
            with pytest.raises(ValueError, match="while_loop"):
                adkit.vjp(case.fn, *args, method=method)[1](ct)
            return
        # JAX has no reverse rule here (reduce_window with window dilation, generic
        # reduce_window): adkit must pass the dot-product test against its own JVP, or say
        # which primitive it cannot reverse yet
        _check_against_own_jvp(case, args, tangents, ct, method)
        return
    try:
        # the tape path compiled (one program per case); the transpose path, one case per
        # primitive, eagerly: adkit's JVP rules and their transposes run on concrete values
        if method == "transpose":
            ours_out, ours_vjp = adkit.vjp(case.fn, *args, method=method)
            ours = ours_vjp(ct)
        else:
            ours_out, ours = compiled_vjp(adkit.vjp, case.fn, args, ct, method=method)
    except adkit.MissingRuleError as err:
        assert any(f"'{p}'" in str(err) for p in PENDING), str(err)
        return
    assert_close(ours_out, out, 1e-15)
    assert_close(ours, expected, 1e-12)
    if not case.dot_product or case.raises is not None:  # (no JVP to pair the VJP with)
        return
    # dot-product test between adkit's own JVP and VJP
    _, jt = compiled(lambda a, t: adkit.jvp(case.fn, a, t), args, tangents)
    lhs, rhs = _vdot(jt, ct), _vdot(tangents, ours)
    low_precision = any(jnp.finfo(x.dtype).bits < 64 for x in _inexact_leaves(jt))
    tol = 1e-5 if low_precision else 1e-10  # a case may compute in float32 on purpose
    np.testing.assert_allclose(lhs, rhs, rtol=tol, atol=tol * (1 + abs(float(lhs))))


def _raises(exception, thunk) -> bool:
    try:
        thunk()
    except exception:
        return True
    return False


def _check_against_own_jvp(case, args, tangents, ct, method):
    try:
        _, f_vjp = adkit.vjp(case.fn, *args, method=method)
        ours = f_vjp(ct)
    except adkit.MissingRuleError as err:
        assert case.primitive in str(err), str(err)
        return
    _, jt = adkit.jvp(case.fn, args, tangents)
    lhs, rhs = _vdot(jt, ct), _vdot(tangents, ours)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10 * (1 + abs(float(lhs))))


def _inexact_leaves(tree):
    return [x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
