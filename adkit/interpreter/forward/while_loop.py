"""Forward mode through `while`: a while loop on (primal, tangent) carries.

The condition reads only primals; the body is `jvp_jaxpr` of the body, with the nonzero carry
tangents widened to a fixed point as for `scan`.
"""

from __future__ import annotations

from jax import lax

from ... import _jax_compat as jc
from .._eval import eval_closed
from .._registry import JVP_RULES
from .._while_predicate import batched_predicate, scalar_predicate
from .._zeros import instantiate
from .engine import (
    carry_fixed_point,
    jvp_jaxpr,
    merge_tangents,
    nonzero_pattern,
    nonzero_values,
)


@JVP_RULES.register(jc.while_p)
def _while_jvp(primals, tangents, *, cond_nconsts, cond_jaxpr, body_nconsts, body_jaxpr):
    if batched_predicate(cond_jaxpr):  # from vmap: one flag per batch element
        params = dict(cond_nconsts=cond_nconsts, cond_jaxpr=cond_jaxpr)
        params |= dict(body_nconsts=body_nconsts, body_jaxpr=body_jaxpr)
        params, primals = scalar_predicate(params, primals)
        nc = cond_nconsts  # the condition's constants are now also the body's first ones
        return _while_jvp(primals, [*tangents[:nc], *tangents[:nc], *tangents[nc:]], **params)
    # jvp(while(cond, body)) = while(cond on primals, jvp(body)); the condition has no tangent
    nc, nb = cond_nconsts, body_nconsts
    cond_consts, body_consts, init = primals[:nc], primals[nc : nc + nb], primals[nc + nb :]
    t_body_consts, t_init = tangents[nc : nc + nb], tangents[nc + nb :]
    nz_consts = nonzero_pattern(t_body_consts)
    nz_carry = carry_fixed_point(body_jaxpr, nz_consts, nonzero_pattern(t_init), (), len(init))
    rule, _ = jvp_jaxpr(body_jaxpr, (*nz_consts, *nz_carry), nz_carry)
    const_t = nonzero_values(t_body_consts)
    n = len(init)

    def keep_going(carry):
        c, _ = carry
        return eval_closed(cond_jaxpr, [*cond_consts, *c])[0]

    def step(carry):
        c, ct = carry
        outs = eval_closed(rule, [*body_consts, *c, *const_t, *ct])
        return outs[:n], outs[n:]

    init_t = [instantiate(t) for t, nz in zip(t_init, nz_carry, strict=True) if nz]
    carry, carry_t = lax.while_loop(keep_going, step, (list(init), init_t))
    return list(carry), merge_tangents(carry, nz_carry, carry_t)
