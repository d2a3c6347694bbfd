"""How `adkit.trace` inlines calls: `jit` bodies, `jax.checkpoint` regions, custom-rule functions.

A `custom_jvp` function's rows are inlined for their values, and a `custom_jvp.rule` row then
applies the user's rule to give the tangent JAX would (relu'(0) = 0).
"""

from __future__ import annotations

from ... import _jax_compat as jc
from .._registry import JVP_RULES, WENGERT_RULES
from .._zeros import is_zero
from .engine import nest


@WENGERT_RULES.register(jc.jit_p)
def _inline_jit(rec, eqn, nodes, scope):
    inner = nest(scope, f"jit({eqn.params['name']})")
    return rec.walk_closed(eqn.params["jaxpr"], nodes, inner)


@WENGERT_RULES.register(jc.remat_p)
def _inline_remat(rec, eqn, nodes, scope):
    return rec.walk(eqn.params["jaxpr"], [], nodes, nest(scope, "checkpoint"))


def _inline_custom(rec, eqn, nodes, scope):
    kind = "custom_jvp" if eqn.primitive is jc.custom_jvp_call_p else "custom_vjp"
    tangents = [n.tangent for n in nodes]
    flowing = rec.with_tangents and not all(is_zero(t) for t in tangents)
    if flowing and kind == "custom_vjp":
        JVP_RULES.lookup(eqn.primitive)([n.value for n in nodes], tangents, **eqn.params)  # raises
    outs = rec.walk_closed(eqn.params["call_jaxpr"], nodes, nest(scope, kind))
    if not flowing:
        return outs
    # The rows above give the values; the tangent is the user's rule, as JAX would apply it.
    rule = JVP_RULES.lookup(eqn.primitive)
    _, touts = rule([n.value for n in nodes], tangents, **eqn.params)
    return rec.record("custom_jvp.rule", outs, [n.value for n in outs], {}, scope, list(touts))


WENGERT_RULES.register(jc.custom_jvp_call_p, _inline_custom)
WENGERT_RULES.register(jc.custom_vjp_call_p, _inline_custom)
