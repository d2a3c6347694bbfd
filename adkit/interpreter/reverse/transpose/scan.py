"""Reverse mode through `scan`: a forward scan of the primal parts, a reverse scan of the
transposed linear parts.

The forward scan runs `forward_pass` on the body each iteration, carrying the primal carries
and stacking each iteration's residuals: only the values computed in the iteration, as on the
tape path (`split_residuals`); the scan's constants are read once, not stacked per iteration.
The backward scan runs the other way: each iteration rebuilds that iteration's state from the
constants and its slice of the stacked residuals, runs `backward_pass` with the
cotangents of the linear carries and outputs, carries the cotangents of the linear carries
back, and accumulates those of the linear constants.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jax import lax

from .... import _jax_compat as jc
from ..._registry import SPLIT_RULES
from ..._zeros import Zero, instantiate
from ..tape.engine import rebuild, split_residuals
from .engine import backward_pass, forward_pass


@jax.tree_util.register_dataclass
@dataclasses.dataclass
class ScanRecord:
    """The residuals of a scan: its known constants, the per-iteration values stacked, how to
    rebuild each iteration's state from them (`layout`), and the linearity pattern."""

    consts: tuple
    stacked: tuple
    layout: object = dataclasses.field(metadata={"static": True})
    in_linear: tuple = dataclasses.field(metadata={"static": True})
    out_linear: tuple = dataclasses.field(metadata={"static": True})


def _split(seq, nc, nk):
    return list(seq[:nc]), list(seq[nc : nc + nk]), list(seq[nc + nk :])


def _linear_pattern(body, in_linear, known_avals):
    """Which body outputs depend on the linear inputs (by tracing the forward pass)."""

    def run(*known):
        it = iter(known)
        values = [None if lin else next(it) for lin in in_linear]
        return forward_pass(body.jaxpr, body.consts, values, in_linear)

    st = jax.eval_shape(run, *known_avals)
    return [isinstance(v, jc.Var) and v in st.linear_vars for v in body.jaxpr.outvars]


def _forward_scan(eqn, state, reads_linear):
    p = eqn.params
    body, nc, nk = p["jaxpr"], p["num_consts"], p["num_carry"]
    lin_consts, lin_carry, lin_xs = _split(list(reads_linear), nc, nk)
    avals = [v.aval for v in body.jaxpr.invars]
    while True:  # widen the linear carries to a fixed point
        in_lin = [*lin_consts, *lin_carry, *lin_xs]
        known_avals = [
            jax.ShapeDtypeStruct(a.shape, a.dtype)
            for a, lin in zip(avals, in_lin, strict=True)
            if not lin
        ]
        out_lin = _linear_pattern(body, in_lin, known_avals)
        widened = [a or b for a, b in zip(lin_carry, out_lin[:nk], strict=True)]
        if widened == lin_carry:
            break
        lin_carry = widened
    out_lin = [*lin_carry, *out_lin[nk:]]
    consts, init, xs = _split(
        [
            None if lin else state.env.read(v)
            for v, lin in zip(eqn.invars, [*lin_consts, *lin_carry, *lin_xs], strict=True)
        ],
        nc,
        nk,
    )
    known_consts = [c for c, lin in zip(consts, lin_consts, strict=True) if not lin]
    known_init = [c for c, lin in zip(init, lin_carry, strict=True) if not lin]
    known_xs = [x for x, lin in zip(xs, lin_xs, strict=True) if not lin]

    def step(carry, x):
        cs, ks, xv = iter(known_consts), iter(carry), iter(x)
        values = [None if lin else next(cs) for lin in lin_consts]
        values += [None if lin else next(ks) for lin in lin_carry]
        values += [None if lin else next(xv) for lin in lin_xs]
        st = forward_pass(body.jaxpr, body.consts, values, in_lin)
        outs = [
            None if lin else st.env.read(v)
            for v, lin in zip(body.jaxpr.outvars, out_lin, strict=True)
        ]
        new_carry = [o for o, lin in zip(outs[:nk], lin_carry, strict=True) if not lin]
        ys = [o for o, lin in zip(outs[nk:], out_lin[nk:], strict=True) if not lin]
        layout[:], computed = split_residuals(st, known_consts)
        return new_carry, (ys, computed)

    layout = []
    carry, (ys, stacked) = lax.scan(
        step, known_init, known_xs, length=p["length"], reverse=p["reverse"], unroll=p["unroll"]
    )
    state.write_outputs(eqn.outvars, out_lin, [*carry, *ys])
    return ScanRecord(tuple(known_consts), stacked, tuple(layout), tuple(in_lin), tuple(out_lin))


def _backward_scan(eqn, record, ct_outs):
    p = eqn.params
    body, nc, nk = p["jaxpr"], p["num_consts"], p["num_carry"]
    lin_consts, lin_carry, lin_xs = _split(list(record.in_linear), nc, nk)
    out_lin = record.out_linear
    c_avals, k_avals, _ = _split([v.aval for v in body.jaxpr.invars], nc, nk)
    ct_carry = [
        instantiate(ct) if lin else None for ct, lin in zip(ct_outs[:nk], lin_carry, strict=True)
    ]
    ct_carry = [c for c in ct_carry if c is not None]
    ct_ys = [instantiate(ct) for ct, lin in zip(ct_outs[nk:], out_lin[nk:], strict=True) if lin]
    ct_consts = [
        jnp.zeros(a.shape, a.dtype) for a, lin in zip(c_avals, lin_consts, strict=True) if lin
    ]

    def step(carry, x):
        ct_c, acc = carry
        computed, ct_y = x
        st = rebuild(record.layout, record.consts, computed)
        cc, cy = iter(ct_c), iter(ct_y)
        cts_out = [
            next(cc) if lin else Zero.from_aval(v.aval)
            for v, lin in zip(body.jaxpr.outvars[:nk], lin_carry, strict=True)
        ]
        cts_out += [
            next(cy) if lin else Zero.from_aval(v.aval)
            for v, lin in zip(body.jaxpr.outvars[nk:], out_lin[nk:], strict=True)
        ]
        cts_in = backward_pass(st, cts_out)
        c_in, k_in, x_in = _split(cts_in, nc, nk)
        c_new = [instantiate(c) if c is not None else None for c in c_in]
        acc = [a + _inst(c, av) for a, c, av, lin in _zip_linear(acc, c_new, c_avals, lin_consts)]
        new_ct_c = [
            _inst(k, av) for k, av, lin in zip(k_in, k_avals, lin_carry, strict=True) if lin
        ]
        ct_x = [
            _inst(c, v.aval)
            for c, v, lin in zip(x_in, body.jaxpr.invars[nc + nk :], lin_xs, strict=True)
            if lin
        ]
        return (new_ct_c, acc), ct_x

    (ct_init, ct_consts), ct_xs = lax.scan(
        step,
        (ct_carry, ct_consts),
        (record.stacked, ct_ys),
        length=p["length"],
        reverse=not p["reverse"],
        unroll=p["unroll"],
    )
    ci, ki, xi = iter(ct_consts), iter(ct_init), iter(ct_xs)
    return (
        [next(ci) if lin else None for lin in lin_consts]
        + [next(ki) if lin else None for lin in lin_carry]
        + [next(xi) if lin else None for lin in lin_xs]
    )


def _inst(ct, aval):
    return instantiate(Zero.from_aval(aval)) if ct is None else instantiate(ct)


def _zip_linear(acc, cts, avals, lins):
    """(accumulator, cotangent, aval, True) for the linear constants only."""
    it = iter(acc)
    return [(next(it), c, a, lin) for c, a, lin in zip(cts, avals, lins, strict=True) if lin]


SPLIT_RULES.register(jc.scan_p, _forward_scan, backward=_backward_scan)
