"""Reverse mode through a `while` loop: refused, except a `fori_loop` whose bounds are known now.

Both reverse paths (`tape/while_loop.py`, `transpose/while_loop.py`) ask `fori_trip_count`
whether a while loop is a `fori_loop` they can run iteration by iteration, and otherwise raise
`WHILE_ERROR`, as JAX does.
"""

from __future__ import annotations

from jax import lax

from ... import _jax_compat as jc

WHILE_ERROR = (
    "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with "
    "dynamic start/stop values (JAX's words; adkit's reason is the same): the number of "
    "iterations, and so what to store for the backward pass, is not known ahead. Use "
    "`lax.scan` or a `fori_loop` with static bounds, forward mode (`adkit.jvp`), or "
    "`adkit.checkpoint.while_loop(cond, body, init, max_steps=...)` for reverse mode with a "
    "bound on the number of steps."
)


def fori_trip_count(cond_nconsts, cond_jaxpr, body_jaxpr, carry):
    """The number of iterations of a `fori_loop`-shaped while loop (carry `(i, upper, ...)`,
    condition `i < upper`, body `i + 1`) whose bounds are known now; None otherwise."""
    cond, body = cond_jaxpr.jaxpr, body_jaxpr.jaxpr
    if cond_nconsts or len(cond.eqns) != 1 or len(carry) < 2:
        return None
    [lt] = cond.eqns
    if lt.primitive is not lax.lt_p or list(lt.invars) != list(cond.invars[:2]):
        return None
    nb = len(body.invars) - len(carry)
    i_in, upper_in = body.invars[nb], body.invars[nb + 1]
    if body.outvars[1] is not upper_in or not _increments(body, i_in, body.outvars[0]):
        return None
    lower, upper = carry[0], carry[1]
    if not (jc.is_concrete(lower) and jc.is_concrete(upper)):
        return None
    return max(int(upper) - int(lower), 0)


def _increments(body, i_in, i_out):
    """Whether the body computes `i_out = i_in + 1`."""
    return any(
        e.primitive is lax.add_p
        and e.outvars[0] is i_out
        and e.invars[0] is i_in
        and isinstance(e.invars[1], jc.Literal)
        and e.invars[1].val == 1
        for e in body.eqns
    )
