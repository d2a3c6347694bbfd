"""The tape path through calls: `jit`, `jax.checkpoint`, `custom_vjp`, `custom_jvp`, `while`.

- `jit`: its body is swept in place; the call's residuals are the body's tape.
- `jax.checkpoint` (`remat2`): the forward sweep stores only the region's inputs. The backward
  sweep runs the region's forward sweep again from them (recomputing its residuals, behind an
  optimization barrier so XLA does not merge the two computations) and then its backward sweep.
  That trades compute for memory, which is the point of checkpointing.
- `custom_vjp`: the user's fwd computes the outputs and the residuals; the user's bwd pulls back.
- `custom_jvp`: the user's JVP rule is linearized at the primal point and transposed
  (`rules/vjp/_derive.py`), so relu'(0) = 0 holds in reverse mode too.
- `while`: the number of iterations is known only at run time, so there is no tape to store.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from jax import lax

from .. import _jax_compat as jc
from ._eval import eval_open
from ._sweep import backward_sweep, forward_sweep
from ._zeros import is_zero
from .rules._table import register_vjp
from .rules.vjp._derive import transposed


# --- jit: sweep the body in place ---
def _jit_forward(primals, active, *, jaxpr, **params):
    outs, sweep = forward_sweep(jaxpr.jaxpr, jaxpr.consts, primals, active)
    return outs, sweep


@register_vjp(jc.jit_p, forward=_jit_forward, symbolic_zeros=True)
def _jit_vjp(cts, sweep, **params):  # the body's own backward sweep
    return _sends(backward_sweep(sweep, cts))


def _sends(cts):
    return [None if is_zero(c) else c for c in cts]


# --- jax.checkpoint: store the inputs, recompute the rest in the backward sweep ---
@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Checkpointed:
    """The residual of a checkpointed region: only its input values."""

    inputs: tuple[Any, ...]
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _remat_forward(primals, active, *, jaxpr, **params):
    return eval_open(jaxpr, (), primals), Checkpointed(tuple(primals), tuple(active))


@register_vjp(jc.remat_p, forward=_remat_forward, symbolic_zeros=True)
def _remat_vjp(cts, res, *, jaxpr, prevent_cse, **params):
    inputs = list(res.inputs)
    if prevent_cse:  # keep XLA from reusing the first forward computation
        inputs = list(lax.optimization_barrier(inputs))
    _, sweep = forward_sweep(jaxpr, (), inputs, res.active)  # recompute the residuals
    return _sends(backward_sweep(sweep, cts))


# --- custom_vjp: the user's fwd and bwd ---
@dataclasses.dataclass(frozen=True)
class UserResiduals:
    """The residuals the user's fwd returned, and how many operands are closed-over consts."""

    values: tuple[Any, ...]
    num_consts: int
    num_args: int


jax.tree_util.register_pytree_node(
    UserResiduals,
    lambda r: ((r.values,), (r.num_consts, r.num_args)),
    lambda aux, children: UserResiduals(children[0], *aux),
)


def _custom_vjp_forward(primals, active, *, num_consts, fwd_jaxpr_thunk, out_trees, **params):
    if any(active[:num_consts]):
        raise TypeError(
            "A `jax.custom_vjp` function closes over a value being differentiated; its bwd rule "
            "cannot give that value's cotangent. Pass the value as an explicit argument."
        )
    args = primals[num_consts:]
    fwd, consts, (_, _, input_forwards) = jc.custom_vjp_forward(
        {"fwd_jaxpr_thunk": fwd_jaxpr_thunk, "out_trees": out_trees}, list(active[num_consts:])
    )
    outs = eval_open(fwd, consts, args)
    n_new = sum(f is None for f in input_forwards)
    new_residuals, primal_outs = iter(outs[:n_new]), outs[n_new:]
    residuals = [next(new_residuals) if f is None else args[f] for f in input_forwards]
    return list(primal_outs), UserResiduals(tuple(residuals), num_consts, len(args))


@register_vjp(jc.custom_vjp_call_p, forward=_custom_vjp_forward)
def _custom_vjp_vjp(cts, res, *, bwd, **params):  # the user's bwd(residuals, cotangents)
    sends = jc.custom_vjp_backward({"bwd": bwd}, res.values, list(cts))
    return [None] * res.num_consts + [
        None if s is None or is_zero(s) or jax.typeof(s).dtype == jax.dtypes.float0 else s
        for s in sends
    ]


# --- custom_jvp and custom_linear_solve: transpose the linearized rule ---
transposed(jc.custom_jvp_call_p)
transposed(jc.custom_linear_solve_p)


# --- while: refused in reverse mode, except a fori_loop whose bounds are known now ---
WHILE_ERROR = (
    "Reverse-mode differentiation does not work through `lax.while_loop` (or a `fori_loop` "
    "with bounds known only at run time): the number of iterations, and so what to store for "
    "the backward pass, is not known ahead. Use `lax.scan` or a `fori_loop` with static "
    "bounds, or forward mode (`adkit.jvp`); `adkit.checkpoint.while_loop` will offer bounded "
    "reverse mode."
)


@dataclasses.dataclass(frozen=True)
class Unrolled:
    """The tapes of a `fori_loop` run eagerly, one per iteration (its bounds were known)."""

    sweeps: tuple[Any, ...]
    active: tuple[bool, ...]
    body_nconsts: int


jax.tree_util.register_pytree_node(
    Unrolled,
    lambda r: ((r.sweeps,), (r.active, r.body_nconsts)),
    lambda aux, children: Unrolled(children[0], *aux),
)


def _while_forward(primals, active, *, cond_nconsts, body_nconsts, cond_jaxpr, body_jaxpr,
                   **params):  # fmt: skip
    body_consts = primals[cond_nconsts : cond_nconsts + body_nconsts]
    carry = primals[cond_nconsts + body_nconsts :]
    trip_count = fori_trip_count(cond_nconsts, cond_jaxpr, body_jaxpr, carry)
    if trip_count is None:
        raise ValueError(WHILE_ERROR)
    # a fori_loop whose bounds are known now: run it, keeping each iteration's tape
    body_active = tuple(active[cond_nconsts:])
    sweeps = []
    for _ in range(trip_count):
        carry, sweep = forward_sweep(body_jaxpr.jaxpr, body_jaxpr.consts,
                                     [*body_consts, *carry], body_active)  # fmt: skip
        sweeps.append(sweep)
        body_active = (*body_active[:body_nconsts], *_carry_activity(sweep, body_active))
    return carry, Unrolled(tuple(sweeps), tuple(active), body_nconsts)


def _carry_activity(sweep, active_in):
    return tuple(isinstance(v, jc.Var) and v in sweep.active for v in sweep.jaxpr.outvars)


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
        e.primitive is lax.add_p and e.outvars[0] is i_out and e.invars[0] is i_in
        and isinstance(e.invars[1], jc.Literal) and e.invars[1].val == 1
        for e in body.eqns
    )  # fmt: skip


@register_vjp(jc.while_p, forward=_while_forward)
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
    return [None] * cond_nconsts + const_cts + _sends(cts)
