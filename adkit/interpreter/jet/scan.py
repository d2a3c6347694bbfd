"""Taylor mode through `scan`: the series of a scan is a scan over series.

The carry holds the full series of each floating-point carry (a carry that starts constant may
be moved by the body); the scanned `xs` and the constants keep their pattern of moving values;
the stacked `ys` are the stacked series of the body's outputs. Each step walks the body with
this engine, so the loop stays a loop (its cost is the body's jet times the length).
"""

from __future__ import annotations

from jax import lax

from ... import _jax_compat as jc
from .._registry import JET_RULES
from ..rules.jet._series import dense
from .engine import has_series, jet_closed, moves, pack, unpack


@JET_RULES.register(jc.scan_p)
def _scan(operands, *, jaxpr, length, reverse, num_consts, num_carry, unroll, **_):
    k = len(operands[0]) - 1
    consts = operands[:num_consts]
    init = operands[num_consts : num_consts + num_carry]
    xs = operands[num_consts + num_carry :]
    moving_carry = [has_series(c[0]) for c in init]
    moving_xs = [moves(x) for x in xs]
    moving_ys = [has_series(a) for a in jaxpr.out_avals[num_carry:]]
    init = [dense(c) if m else c for c, m in zip(init, moving_carry, strict=True)]

    def step(carry_flat, x_flat):
        carry = unpack(carry_flat, moving_carry, k)
        x = unpack(x_flat, moving_xs, k)
        outs = jet_closed(jaxpr, [*consts, *carry, *x])
        return pack(outs[:num_carry], moving_carry), pack(outs[num_carry:], moving_ys)

    carry_flat, ys_flat = lax.scan(
        step,
        pack(init, moving_carry),
        pack(xs, moving_xs),
        length=length,
        reverse=reverse,
        unroll=unroll,
    )
    return [*unpack(carry_flat, moving_carry, k), *unpack(ys_flat, moving_ys, k)]
