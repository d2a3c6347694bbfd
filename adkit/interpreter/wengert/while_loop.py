"""How `adkit.trace` inlines `while`: the rows of every iteration, condition and body."""

from __future__ import annotations

from ... import _jax_compat as jc
from .._registry import WENGERT_RULES
from .._while_predicate import batched_predicate, scalar_predicate
from .engine import nest


@WENGERT_RULES.register(jc.while_p)
def _inline_while(rec, eqn, nodes, scope):
    p = eqn.params
    if batched_predicate(p["cond_jaxpr"]):  # from vmap: one flag per batch element
        p, nodes = scalar_predicate(p, nodes)
    n_cond, n_body = p["cond_nconsts"], p["body_nconsts"]
    cond_consts, body_consts, carry = (
        nodes[:n_cond],
        nodes[n_cond : n_cond + n_body],
        nodes[n_cond + n_body :],
    )
    step = 0
    while True:
        [flag] = rec.walk_closed(
            p["cond_jaxpr"], [*cond_consts, *carry], nest(scope, f"while[{step}].cond")
        )
        if not bool(flag.value):
            return carry
        carry = rec.walk_closed(
            p["body_jaxpr"], [*body_consts, *carry], nest(scope, f"while[{step}]")
        )
        step += 1
