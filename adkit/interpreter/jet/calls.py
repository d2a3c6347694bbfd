"""Taylor mode through calls: `jit`, `jax.checkpoint`, `custom_jvp` and `custom_vjp`.

A `jit` or checkpointed region is walked like the code around it (the series of a call is the
series of its body).

A `custom_jvp` function follows its rule, not its primal body: the rule gives z' = ż(x, ẋ),
the tangent output for the tangent input, so z's series is the integral of the series of ż
along the path, ż walked at order K - 1 with x's series and x''s series (the derivative of the
path) as inputs:

    zₖ = (ż(x(t), x'(t)))ₖ₋₁ / k,   z₀ from the rule's primal output.

The rule's jaxpr is walked by this engine, so a rule that calls the function again (or another
custom_jvp function) is followed to the order it is needed. A `custom_vjp` function has only a
reverse-mode rule; Taylor mode pushes series forward, so it is refused, as forward mode refuses
it.
"""

from __future__ import annotations

from ... import _jax_compat as jc
from .._registry import JET_RULES
from .engine import along_jvp, jet_closed, jet_open, moves


@JET_RULES.register(jc.jit_p)
def _jit(operands, *, jaxpr, **_):
    return jet_closed(jaxpr, operands)


@JET_RULES.register(jc.remat_p)
def _remat(operands, *, jaxpr, **_):
    return jet_open(jaxpr, (), operands)


@JET_RULES.register(jc.custom_jvp_call_p)
def _custom_jvp(operands, *, call_jaxpr, jvp_jaxpr_fun, num_consts, symbolic_zeros):
    # zₖ = (ż(x(t), x'(t)))ₖ₋₁ / k with ż the user's rule (see the module docstring)
    args = operands[num_consts:]
    moving = [not symbolic_zeros or moves(a) for a in args]  # tangents the rule receives
    rule, consts, out_zero = jc.custom_jvp_rule(
        {"jvp_jaxpr_fun": jvp_jaxpr_fun}, [not m for m in moving]
    )
    return along_jvp(rule, consts, args, moving, [not z for z in out_zero])


@JET_RULES.register(jc.custom_vjp_call_p)
def _custom_vjp(operands, **params):
    raise TypeError(
        "adkit.jet cannot push a Taylor series through a function with a `jax.custom_vjp` rule: "
        "Taylor mode pushes series forward, and the rule only says how to pull cotangents back "
        "(`jax.jvp` refuses such a function for the same reason). Define the function with "
        "`jax.custom_jvp`, whose rule Taylor mode follows, or differentiate it in reverse mode "
        '(`adkit.grad`, `adkit.hvp(..., mode="rev-over-rev")`).'
    )
