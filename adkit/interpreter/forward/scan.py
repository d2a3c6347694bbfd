"""Forward mode through `scan`: the JVP of a scan is a scan of the JVP of its body.

Tangents of the constants are constants, of the carry carried, of the xs scanned; the stacked
ys get stacked tangents. The set of nonzero carry tangents must be a fixed point: a carry whose
tangent starts at zero may pick one up in the body, so the pattern is widened until it stops
changing (`carry_fixed_point`).
"""

from __future__ import annotations

from jax import lax

from ... import _jax_compat as jc
from .._eval import eval_closed
from .._registry import JVP_RULES
from .._zeros import instantiate
from .engine import (
    carry_fixed_point,
    jvp_jaxpr,
    merge_tangents,
    nonzero_pattern,
    nonzero_values,
)


@JVP_RULES.register(jc.scan_p)
def _scan_jvp(primals, tangents, *, reverse, length, jaxpr, num_consts, num_carry, unroll, **_):
    # jvp(scan(f)) = scan(jvp(f)): tangents of the consts are consts, of the carry carried,
    # of the xs scanned; the stacked ys get stacked tangents
    nc, nk = num_consts, num_carry
    consts, init, xs = primals[:nc], primals[nc : nc + nk], primals[nc + nk :]
    t_consts, t_init, t_xs = tangents[:nc], tangents[nc : nc + nk], tangents[nc + nk :]
    nz_consts, nz_xs = nonzero_pattern(t_consts), nonzero_pattern(t_xs)
    nz_carry = carry_fixed_point(jaxpr, nz_consts, nonzero_pattern(t_init), nz_xs, nk)
    n_ys = len(jaxpr.out_avals) - nk
    rule, nonzero_out = jvp_jaxpr(
        jaxpr, (*nz_consts, *nz_carry, *nz_xs), (*nz_carry, *[False] * n_ys)
    )
    const_t = nonzero_values(t_consts)
    init_t = [instantiate(t) for t, nz in zip(t_init, nz_carry, strict=True) if nz]
    n_carry_t = sum(nz_carry)

    def step(carry, x):
        c, ct = carry
        xv, xt = x
        outs = eval_closed(rule, [*consts, *c, *xv, *const_t, *ct, *xt])
        primal_outs, tangent_outs = outs[: nk + n_ys], outs[nk + n_ys :]
        return (primal_outs[:nk], tangent_outs[:n_carry_t]), (
            primal_outs[nk:],
            tangent_outs[n_carry_t:],
        )

    (carry, carry_t), (ys, ys_t) = lax.scan(
        step,
        (list(init), init_t),
        (list(xs), nonzero_values(t_xs)),
        length=length,
        reverse=reverse,
        unroll=unroll,
    )
    outs = [*carry, *ys]
    return outs, merge_tangents(outs, nonzero_out, [*carry_t, *ys_t])
