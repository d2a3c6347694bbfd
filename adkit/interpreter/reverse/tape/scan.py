"""The tape path through `scan`: a forward scan that stacks each iteration's tape, and a
backward scan that runs the body's backward sweep over the iterations in reverse.

Which carries are active is found first, as a fixed point: a carry is active if it starts
active or if the body makes it depend on an active value.

A body's tape holds residual values of three kinds, and only the first is stacked:
- values computed in the iteration (stacked along the scan axis, one per iteration);
- the scan's constants (the same every iteration: read from the constants, not stacked);
- values known at trace time, such as literals (kept as they are).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from jax import lax

from .... import _jax_compat as jc
from ..._registry import VJP_RULES
from ..._zeros import Zero, instantiate, is_zero
from .engine import active_outputs, backward_sweep, forward_sweep, rebuild, split_residuals


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ScanTape:
    """The residuals of a scan: the stacked per-iteration values and how to rebuild each tape."""

    consts: tuple[Any, ...]  # the scan's constants, as read by the tapes
    stacked: tuple[Any, ...]  # per-iteration residuals, stacked
    # (treedef, per leaf: ("stacked", i) | ("const", j) | ("static", value))
    layout: Any = dataclasses.field(metadata={"static": True})  # see `split_residuals`
    # which operands (consts, carries, xs) are active
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _split(seq, nc, nk):
    return list(seq[:nc]), list(seq[nc : nc + nk]), list(seq[nc + nk :])


def carry_activity(body: jc.ClosedJaxpr, active: list[bool], nc: int, nk: int) -> list[bool]:
    """The operand activity with carries made active where the body makes them so."""
    a_consts, a_carry, a_xs = _split(active, nc, nk)
    while True:
        out = active_outputs(body.jaxpr, [*a_consts, *a_carry, *a_xs])
        new = [a or o for a, o in zip(a_carry, out[:nk], strict=True)]
        if new == a_carry:
            return [*a_consts, *a_carry, *a_xs]
        a_carry = new


def _scan_forward(
    primals, active, *, jaxpr, num_consts, num_carry, length, reverse, unroll, **params
):
    nc, nk = num_consts, num_carry
    active = tuple(carry_activity(jaxpr, list(active), nc, nk))
    consts, carry, xs = _split(primals, nc, nk)
    layout = []

    def body(carry, x):
        outs, sweep = forward_sweep(jaxpr.jaxpr, jaxpr.consts, [*consts, *carry, *x], active)
        layout[:], stacked = split_residuals(sweep, consts)
        return outs[:nk], (outs[nk:], stacked)

    carry_out, (ys, stacked) = lax.scan(
        body, carry, xs, length=length, reverse=reverse, unroll=unroll
    )
    return [*carry_out, *ys], ScanTape(tuple(consts), tuple(stacked), tuple(layout), active)


@VJP_RULES.register(jc.scan_p, forward=_scan_forward)
def _scan_vjp(cts, res, *, jaxpr, num_consts, num_carry, length, reverse, unroll, **params):
    nc, nk = num_consts, num_carry
    a_consts, a_carry, a_xs = _split(list(res.active), nc, nk)
    avals = jaxpr.in_avals
    ys_active = active_outputs(jaxpr.jaxpr, list(res.active))[nk:]
    ct_carry = cts[:nk]
    ct_ys = [c for c, a in zip(cts[nk:], ys_active, strict=True) if a]
    ct_carry = [c for c, a in zip(ct_carry, a_carry, strict=True) if a]
    ct_consts = [
        instantiate(Zero.from_aval(v)) for v, a in zip(avals[:nc], a_consts, strict=True) if a
    ]

    def body(carry, inp):
        ct_carry, ct_consts = carry
        stacked_slice, ct_y = inp
        it, it_y = iter(ct_carry), iter(ct_y)
        cts_out = [next(it) if a else None for a in a_carry]
        cts_out += [next(it_y) if a else None for a in ys_active]
        got = backward_sweep(rebuild(res.layout, res.consts, stacked_slice), cts_out)
        got = [
            instantiate(Zero.from_aval(v) if is_zero(g) else g) if a else None
            for g, v, a in zip(got, avals, res.active, strict=True)
        ]
        g_consts, g_carry, g_xs = _split(got, nc, nk)
        present = lambda gs: [g for g in gs if g is not None]
        ct_consts = [acc + g for acc, g in zip(ct_consts, present(g_consts), strict=True)]
        return (present(g_carry), ct_consts), present(g_xs)

    (ct_carry, ct_consts), ct_xs = lax.scan(
        body,
        (ct_carry, ct_consts),
        (res.stacked, ct_ys),
        length=length,
        reverse=not reverse,
        unroll=unroll,
    )
    it_c, it_k, it_x = iter(ct_consts), iter(ct_carry), iter(ct_xs)
    return [
        *(next(it_c) if a else None for a in a_consts),
        *(next(it_k) if a else None for a in a_carry),
        *(next(it_x) if a else None for a in a_xs),
    ]
