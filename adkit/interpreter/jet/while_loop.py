"""Taylor mode through `while_loop`: the predicate reads primal values only, so the loop runs
as many steps as the program does, each step walking the body with this engine. The carry
holds the full series of each floating-point carry."""

from __future__ import annotations

from jax import lax

from ... import _jax_compat as jc
from .._eval import eval_closed
from .._registry import JET_RULES
from .._while_predicate import batched_predicate, scalar_predicate
from ..rules.jet._series import dense
from .engine import has_series, jet_closed, pack, unpack


@JET_RULES.register(jc.while_p)
def _while(operands, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    params = dict(
        cond_jaxpr=cond_jaxpr,
        body_jaxpr=body_jaxpr,
        cond_nconsts=cond_nconsts,
        body_nconsts=body_nconsts,
    )
    if batched_predicate(cond_jaxpr):  # from vmap: one flag per batch element
        params, operands = scalar_predicate(params, operands)
        return _while(operands, **params)
    k = len(operands[0]) - 1
    cond_consts = [c[0] for c in operands[:cond_nconsts]]
    body_consts = operands[cond_nconsts : cond_nconsts + body_nconsts]
    init = operands[cond_nconsts + body_nconsts :]
    moving = [has_series(c[0]) for c in init]
    init = [dense(c) if m else c for c, m in zip(init, moving, strict=True)]
    primal_positions = _primal_positions(moving, k)

    def keep_going(flat):
        primals = [flat[i] for i in primal_positions]
        [flag] = eval_closed(cond_jaxpr, [*cond_consts, *primals])
        return flag

    def step(flat):
        carry = unpack(flat, moving, k)
        return pack(jet_closed(body_jaxpr, [*body_consts, *carry]), moving)

    return unpack(lax.while_loop(keep_going, step, pack(init, moving)), moving, k)


def _primal_positions(moving, k):
    """Where each carry's primal sits in the packed list."""
    positions, i = [], 0
    for m in moving:
        positions.append(i)
        i += 1 + (k if m else 0)
    return positions
