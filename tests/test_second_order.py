"""Order-2 reverse mode over the whole rule-case table: forward-over-reverse and
reverse-over-forward.

For a program f, a cotangent c and a tangent t, both orders compute the same vector, H t where H
is the Hessian of x -> <c, f(x)>:

- forward over reverse: the JVP along t of x -> Jᵀ(x) c;
- reverse over forward: the VJP with c of x -> J(x) t.

Each is compared with JAX's same composition (float64, 1e-10). Where JAX cannot differentiate a
case twice, adkit's two reverse paths (tape and transpose) are compared with each other, and the
two orders too, which needs no oracle at all.

The suite runs one case per primitive (and every case with a special expectation below); the
first-order tests run every case. `adkit check` runs every case at second order too.
"""

import jax
import numpy as np
import pytest
from helpers import compiled
from test_jvp_rules import _inputs, assert_close, distinct, one_per_primitive
from test_vjp_rules import _cotangent_like

import adkit
import adkit.testing
from adkit.testing.rule_cases import all_cases

CASES = [c for c in all_cases() if c.second_order and c.oracle is None and c.raises is None]
# Gaps, each with its reason; a case listed here must still fail (so a fix updates the list).
KNOWN_GAPS = adkit.testing.rule_check_gaps()
# Derivatives defined for symmetric matrices only (the rule treats dA as symmetric while the
# primitive reads one triangle of A): not the derivative of a function of the whole matrix, so
# the two orders need not agree; the two paths must.
SYMMETRIC_ONLY = {"cholesky-unsymmetrized", "cholesky-cho_factor", "custom_linear_solve-symmetric"}


def _orders(case, args, t, ct, vjp, jvp, both=True):
    """Forward over reverse (and reverse over forward), as one compiled program."""

    def run(args, t, ct):
        pull = lambda *a: vjp(case.fn, *a)[1](ct)
        push = lambda *a: jvp(case.fn, a, t)[1]
        fwd_over_rev = jvp(pull, args, t)[1]
        if not both:
            return (fwd_over_rev,)
        rev_over_fwd = vjp(push, *args)[1](ct)
        return fwd_over_rev, rev_over_fwd

    return compiled(run, args, t, ct)


def _jax_cannot(err) -> bool:
    """JAX cannot take this second derivative (adkit may)."""
    return isinstance(err, NotImplementedError) or "Linearization failed" in str(err)


SUITE_CASES = one_per_primitive(distinct(CASES), keep=set(KNOWN_GAPS) | SYMMETRIC_ONLY)


@pytest.mark.parametrize("case", [pytest.param(c, id=i) for c, i in SUITE_CASES])
def test_second_order_reverse_mode(case):
    args, t = _inputs(case, np.dtype(np.float64), seed=1)
    ct = _cotangent_like(jax.eval_shape(case.fn, *args), np.random.default_rng(4))
    if case.id in KNOWN_GAPS:
        with pytest.raises(ValueError, match="while_loop"):
            _orders(case, args, t, ct, adkit.vjp, adkit.jvp)
        return
    # Both orders compute H t; JAX's forward over reverse is the oracle for both of adkit's
    # (JAX's other order only where the two differ: derivatives defined for symmetric inputs)
    symmetric_only = case.id in SYMMETRIC_ONLY
    try:
        theirs = _orders(case, args, t, ct, jax.vjp, jax.jvp, both=symmetric_only)
    except (TypeError, ValueError, NotImplementedError) as err:
        if not _jax_cannot(err):  # both refuse: while_loop, or a linear solve
            with pytest.raises(type(err)):  # without transpose_solve
                _orders(case, args, t, ct, adkit.vjp, adkit.jvp)
            return
        theirs = None
    ours = _orders(case, args, t, ct, adkit.vjp, adkit.jvp)
    if theirs is None:
        transpose_vjp = lambda *a, **k: adkit.vjp(*a, **k, method="transpose")
        assert_close(ours, _orders(case, args, t, ct, transpose_vjp, adkit.jvp), 1e-10)
        if not symmetric_only:
            assert_close(ours[0], ours[1], 1e-9)
        return
    if symmetric_only:
        assert_close(ours, theirs, 1e-10)
        return
    assert_close(ours[0], theirs[0], 1e-10)
    assert_close(ours[1], theirs[0], 1e-9)
