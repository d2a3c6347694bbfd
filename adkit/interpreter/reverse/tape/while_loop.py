"""The tape path through `while`: refused, except a `fori_loop` whose bounds are known now.

The number of iterations of a while loop is known only at run time, so there is no tape to
store ahead. A `fori_loop` called eagerly with integer bounds is the exception: it is run
iteration by iteration, keeping each iteration's tape, and swept back last iteration first.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from .... import _jax_compat as jc
from ..._registry import VJP_RULES
from ..._zeros import is_zero
from ..fori import WHILE_ERROR, fori_trip_count
from .engine import backward_sweep, forward_sweep, sends


# --- while: refused in reverse mode, except a fori_loop whose bounds are known now ---
@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Unrolled:
    """The tapes of a `fori_loop` run eagerly, one per iteration (its bounds were known)."""

    sweeps: tuple[Any, ...]
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})
    body_nconsts: int = dataclasses.field(metadata={"static": True})


def _while_forward(
    primals, active, *, cond_nconsts, body_nconsts, cond_jaxpr, body_jaxpr, **params
):
    body_consts = primals[cond_nconsts : cond_nconsts + body_nconsts]
    carry = primals[cond_nconsts + body_nconsts :]
    trip_count = fori_trip_count(cond_nconsts, cond_jaxpr, body_jaxpr, carry)
    if trip_count is None:
        raise ValueError(WHILE_ERROR)
    # a fori_loop whose bounds are known now: run it, keeping each iteration's tape
    body_active = tuple(active[cond_nconsts:])
    sweeps = []
    for _ in range(trip_count):
        carry, sweep = forward_sweep(
            body_jaxpr.jaxpr, body_jaxpr.consts, [*body_consts, *carry], body_active
        )
        sweeps.append(sweep)
        body_active = (*body_active[:body_nconsts], *_carry_activity(sweep, body_active))
    return carry, Unrolled(tuple(sweeps), tuple(active), body_nconsts)


def _carry_activity(sweep, active_in):
    return tuple(isinstance(v, jc.Var) and v in sweep.active for v in sweep.jaxpr.outvars)


@VJP_RULES.register(jc.while_p, forward=_while_forward)
def _while_vjp(cts, res, *, cond_nconsts, body_nconsts, **params):
    # the iterations' backward sweeps, last iteration first; the body's constants accumulate
    n_carry = len(cts)
    const_cts: list[Any] = [None] * body_nconsts
    for sweep in reversed(res.sweeps):
        got = backward_sweep(sweep, cts)
        for k, g in enumerate(got[:body_nconsts]):
            if not is_zero(g):
                const_cts[k] = g if const_cts[k] is None else const_cts[k] + g
        cts = got[body_nconsts:]
    assert len(cts) == n_carry, "adkit bug: while-loop carry mismatch; please report it."
    return [None] * cond_nconsts + const_cts + sends(cts)
