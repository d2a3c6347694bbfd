"""Reverse mode by transposition through a `while` loop: only a `fori_loop` whose bounds are
known when it runs (`adkit.vjp(f, x, n)` called eagerly with an integer `n`).

Such a loop is run iteration by iteration on the forward pass, each iteration's body split by
`forward_pass` into its residuals and its linear part; the backward pass transposes the
iterations' linear parts last to first, accumulating the cotangents of the body's constants.
Any other while loop is refused, as in JAX: how many iterations to store is not known ahead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from .... import _jax_compat as jc
from ..._env import kept
from ..._registry import SPLIT_RULES
from ..._zeros import Zero, is_zero
from ..fori import WHILE_ERROR, fori_trip_count
from .engine import backward_pass, forward_pass


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class UnrolledLinear:
    """The iterations' forward-pass states, and which body constants and carries were linear."""

    states: tuple[Any, ...]
    consts_linear: tuple[bool, ...] = dataclasses.field(metadata={"static": True})
    carry_linear: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _forward_while(eqn, state, reads_linear):
    p = eqn.params
    nc, nb, body = p["cond_nconsts"], p["body_nconsts"], p["body_jaxpr"]
    values = state.known_values(eqn.invars, reads_linear)
    consts, carry = values[nc : nc + nb], values[nc + nb :]
    consts_lin, carry_lin = list(reads_linear[nc : nc + nb]), list(reads_linear[nc + nb :])
    trips = fori_trip_count(nc, p["cond_jaxpr"], body, carry)
    if trips is None or any(lin for lin in carry_lin[:2]):
        raise ValueError(WHILE_ERROR)
    record = UnrolledLinear((), tuple(consts_lin), tuple(carry_lin))
    states = []
    for _ in range(trips):
        st = forward_pass(body.jaxpr, body.consts, [*consts, *carry], [*consts_lin, *carry_lin])
        states.append(st)
        carry_lin = [st.is_linear(v) for v in body.jaxpr.outvars]
        carry = st.known_values(body.jaxpr.outvars, carry_lin)
    state.write_outputs(eqn.outvars, carry_lin, kept(carry, [not lin for lin in carry_lin]))
    return dataclasses.replace(record, states=tuple(states))


def _backward_while(eqn, record, ct_outs):
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cts, const_cts = list(ct_outs), [None] * nb
    for st in reversed(record.states):
        got = backward_pass(st, cts)
        for k, g in enumerate(got[:nb]):
            if g is not None and not is_zero(g):
                const_cts[k] = g if const_cts[k] is None else jc.add_any_p.bind(const_cts[k], g)
        cts = [
            Zero.from_aval(v.aval) if g is None else g
            for g, v in zip(got[nb:], st.jaxpr.invars[nb:], strict=True)
        ]
    carry_cts = [c if lin else None for c, lin in zip(cts, record.carry_linear, strict=True)]
    consts = [c if lin else None for c, lin in zip(const_cts, record.consts_linear, strict=True)]
    return [None] * nc + consts + carry_cts


SPLIT_RULES.register(jc.while_p, _forward_while, backward=_backward_while)
