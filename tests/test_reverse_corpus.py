"""Reverse mode over whole programs, on both paths (tape and transpose): every corpus program's
VJP equals JAX's, except where a
primitive's reverse mode is still pending (then adkit must say so, naming it)."""

import jax
import numpy as np
import pytest
from corpus import CORPUS
from helpers import compiled_vjp, program_args
from test_forward_corpus import _tangents
from test_jvp_rules import assert_close
from test_vjp_rules import PENDING, _cotangent_like, _vdot

import adkit


def _adkit_vjp(program, args, ct, method):
    try:
        return compiled_vjp(adkit.vjp, program.fn, args, ct, method=method)
    except adkit.MissingRuleError as err:
        assert any(f"'{p}'" in str(err) for p in PENDING), str(err)
        return None


@pytest.mark.parametrize("method", ["tape", "transpose"])
@pytest.mark.parametrize("program", [pytest.param(p, id=p.name) for p in CORPUS])
def test_program_vjp_matches_jax(program, method):
    args = program_args(program, np.float64)
    out = jax.eval_shape(program.fn, *args)
    ct = _cotangent_like(out, np.random.default_rng(5))
    try:
        expected_out, expected = compiled_vjp(jax.vjp, program.fn, args, ct)
    except ValueError as err:  # reverse mode through while_loop: refused by both
        assert "while" in str(err)
        with pytest.raises(ValueError, match="while_loop"):
            adkit.vjp(program.fn, *args, method=method)[1](ct)
        return
    except NotImplementedError:
        # JAX has no reverse rule here (nextafter, scatter-mul with repeated indices):
        # check adkit's VJP against adkit's JVP (itself checked against finite differences)
        # with the dot-product test <J t, c> = <t, Jᵀ c>.
        result = _adkit_vjp(program, args, ct, method)
        if result is not None:
            tangents = _tangents(args)
            _, jt = adkit.jvp(program.fn, args, tangents)
            lhs, rhs = _vdot(jt, ct), _vdot(tangents, result[1])
            np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9 * (1 + abs(float(lhs))))
        return
    result = _adkit_vjp(program, args, ct, method)
    if result is not None:
        assert_close(result[0], expected_out, 1e-12)
        assert_close(result[1], expected, 1e-10)
