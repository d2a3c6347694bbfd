"""Jet rules derived from a primitive's JVP rule, for primitives without a recurrence of their own
(matrix factorizations and solves, special functions, products).

The JVP rule gives z' = ż(x, x'): the tangent output for a tangent input. As for a `custom_jvp`
function (`calls.py`), z's series is the integral of ż's series along the path, ż walked by this
engine at order K - 1 with x's series and the series of x' (the path's derivative) as inputs:

    zₖ = (ż(x(t), x'(t)))ₖ₋₁ / k,   z₀ the primitive's value.

The JVP jaxpr calls the primitive again (cholesky's JVP reads cholesky's output) and its
derivatives, so the walk recurses with the order going down by one each time: exact at every
order, but its cost grows like 2ᴷ instead of K². `adkit.rules.coverage()` marks these rules
`"derived"`, and the page "Higher order" lists them.
"""

from __future__ import annotations

import jax

from ... import _jax_compat as jc
from .._registry import JET_RULES, JVP_RULES
from ..forward.engine import jvp_jaxpr
from ..reverse.tape.derived import _one_equation
from .engine import along_jvp, moves


def from_jvp(primitive: jc.Primitive) -> None:
    """Registers a jet rule for `primitive` derived from its JVP rule in `JVP_RULES`."""

    def rule(operands, **params):
        # zₖ = (ż(x(t), x'(t)))ₖ₋₁ / k, with ż the primitive's JVP
        moving = tuple(moves(o) for o in operands)
        closed = _one_equation(primitive, params, tuple(jax.typeof(o[0]) for o in operands))
        jvp, nonzero_out = jvp_jaxpr(closed, moving)
        outs = along_jvp(jvp.jaxpr, jvp.consts, operands, moving, nonzero_out)
        return outs if primitive.multiple_results else outs[0]

    rule.derived = True  # for `coverage()`
    JVP_RULES.lookup(primitive)  # a clear error if there is no JVP rule to derive from
    JET_RULES.register(primitive, rule)


# the shipped primitives whose jet rule is derived (their JVP rules are in rules/jvp/ and, for
# custom_linear_solve, forward/calls.py)
DERIVED = (
    "bessel_i0e",
    "bessel_i1e",
    "cholesky",
    "cumlogsumexp",
    "cumprod",
    "custom_linear_solve",
    "eigh",
    "lu",
    "qr",
    "reduce_prod",
    "svd",
    "triangular_solve",
    "tridiagonal_solve",
)
# Not derived: igamma and igammac (their JVP in a is igamma_grad_a, which has no derivative, in
# JAX as in adkit), eig (its JVP rule differentiates eigenvectors, which the second order needs
# and refuses), scatter-mul (its second order at repeated indices disagrees with nested JVPs).
for _name in DERIVED:
    from_jvp(jc.primitive_by_name(_name))
