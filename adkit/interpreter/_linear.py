"""Reverse mode by transposition: a VJP is the transpose of the linearized JVP.

`jvp_jaxpr` turns a function into a jaxpr of `(primals, tangents) -> (outputs, output tangents)`
whose equations are of two kinds: those that read no tangent (the primal computation and the
coefficients of the derivative, such as `cos x`) and those that do, which are linear in the
tangents (`mul t (cos x)`, `add t1 t2`, `reduce_sum t`, ...).

`forward_pass` evaluates the first kind and keeps their values (the residuals). `backward_pass`
then walks the second kind in reverse, applying each primitive's *transpose rule* to the
cotangent of its output to get cotangents for its linear inputs, and adds up cotangents where a
variable was read several times. For a linear map `t -> A t` this computes `c -> Aᵀ c`, so the
backward pass of the JVP jaxpr is the VJP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax

from .. import _jax_compat as jc
from ._env import literal_value
from ._eval import eval_equation
from ._zeros import Zero, is_zero
from .rules._table import MissingRuleError, transpose_rule


@dataclasses.dataclass(frozen=True)
class UndefinedPrimal:
    """Marks a linear input of an equation being transposed: its value is not known, only its
    abstract type; its cotangent is what the transpose rule computes."""

    aval: Any


def is_undefined(x: Any) -> bool:
    return type(x) is UndefinedPrimal


@dataclasses.dataclass
class Linearized:
    """What the forward pass leaves for the backward pass of one jaxpr."""

    jaxpr: jc.Jaxpr
    env: dict  # values of the non-linear variables (the residuals)
    linear_vars: set  # variables that depend on the linear inputs
    calls: dict  # per call equation with linear inputs (jit, checkpoint): its inner Linearized


# Calls whose body mixes primal and tangent work are linearized through, equation by equation.
_CALLS = {jc.jit_p: "jaxpr", jc.remat_p: "jaxpr"}
# Control flow whose JVP mixes primal and tangent work, which this path cannot split yet.
_NOT_YET = {jc.cond_p, jc.scan_p}
# primitive -> (forward(eqn, state, reads_linear) -> record, backward(eqn, record, cts) -> cts):
# control flow whose primal and linear parts are split (see `_linear_cond.py`).
STRUCTURED: dict = {}


def forward_pass(jaxpr: jc.Jaxpr, consts, values, linear: Sequence[bool]) -> Linearized:
    """Evaluates every equation that reads no linear variable, and marks the others linear."""
    state = Linearized(jaxpr, dict(zip(jaxpr.constvars, consts, strict=True)), set(), {})
    for var, value, is_lin in zip(jaxpr.invars, values, linear, strict=True):
        if is_lin:
            state.linear_vars.add(var)
        else:
            state.env[var] = value
    for eqn in jaxpr.eqns:
        reads_linear = [
            not isinstance(v, jc.Literal) and v in state.linear_vars for v in eqn.invars
        ]
        if not any(reads_linear):
            outs = eval_equation(eqn, [_read(v, state.env) for v in eqn.invars])
            state.env.update(zip(eqn.outvars, outs, strict=True))
        elif eqn.primitive in _CALLS:
            _forward_call(eqn, state, reads_linear)
        elif eqn.primitive in STRUCTURED:
            forward, _ = STRUCTURED[eqn.primitive]
            state.calls[id(eqn)] = forward(eqn, state, reads_linear)
        elif eqn.primitive not in _NOT_YET:
            transpose_rule(eqn.primitive)  # raises a MissingRuleError naming it if there is none
            state.linear_vars.update(eqn.outvars)
        else:
            raise MissingRuleError(
                f"adkit's reverse mode cannot yet differentiate through the primitive "
                f"'{eqn.primitive.name}' (its linearization mixes primal and tangent work that "
                "must be split first). Use `jax.grad` for this function for now, or forward "
                "mode (`adkit.jvp`, `adkit.jacfwd`)."
            )
    return state


def _forward_call(eqn, state: Linearized, reads_linear):
    body = eqn.params[_CALLS[eqn.primitive]]
    inner, consts = (body.jaxpr, body.consts) if isinstance(body, jc.ClosedJaxpr) else (body, ())
    values = [
        None if lin else _read(v, state.env)
        for v, lin in zip(eqn.invars, reads_linear, strict=True)
    ]
    inner_state = forward_pass(inner, consts, values, reads_linear)
    state.calls[id(eqn)] = inner_state
    for outer, var in zip(eqn.outvars, inner.outvars, strict=True):
        if isinstance(var, jc.Var) and var in inner_state.linear_vars:
            state.linear_vars.add(outer)
        else:
            state.env[outer] = _read(var, inner_state.env)


def _flatten_linearized(state: Linearized):
    keys = tuple(state.env)
    call_keys = tuple(state.calls)
    children = ([state.env[k] for k in keys], [state.calls[k] for k in call_keys])
    return children, (state.jaxpr, keys, frozenset(state.linear_vars), call_keys)


def _unflatten_linearized(aux, children):
    jaxpr, keys, linear_vars, call_keys = aux
    values, calls = children
    env = dict(zip(keys, values, strict=True))
    return Linearized(jaxpr, env, set(linear_vars), dict(zip(call_keys, calls, strict=True)))


# A Linearized state is a pytree of its residual values, so control flow can carry it.
jax.tree_util.register_pytree_node(Linearized, _flatten_linearized, _unflatten_linearized)


def _read(atom, env):
    return literal_value(atom) if isinstance(atom, jc.Literal) else env[atom]


def backward_pass(state: Linearized, cts_out: Sequence[Any]):
    """Transposes the linear equations, in reverse, from output cotangents to input ones.

    Returns the cotangents of the jaxpr's inputs (`Zero` where nothing flowed back; `None` for
    non-linear inputs).
    """
    jaxpr, env, linear_vars = state.jaxpr, state.env, state.linear_vars
    cts: dict[Any, Any] = {}

    def add_ct(var, ct):
        if isinstance(var, jc.Literal | jc.DropVar) or var not in linear_vars or is_zero(ct):
            return
        cts[var] = ct if var not in cts else jc.add_any_p.bind(cts[var], ct)

    for var, ct in zip(jaxpr.outvars, cts_out, strict=True):
        add_ct(var, ct)
    for eqn in reversed(jaxpr.eqns):
        if not any(v in linear_vars for v in eqn.outvars if not isinstance(v, jc.DropVar)):
            continue
        ct_outs = [cts.pop(v, None) if not isinstance(v, jc.DropVar) else None for v in eqn.outvars]
        ct_outs = [
            Zero.from_aval(v.aval) if ct is None else ct
            for v, ct in zip(eqn.outvars, ct_outs, strict=True)
        ]
        if all(is_zero(ct) for ct in ct_outs):
            continue
        if eqn.primitive in STRUCTURED:  # control flow split into primal and linear parts
            _, backward = STRUCTURED[eqn.primitive]
            ct_ins = backward(eqn, state.calls[id(eqn)], ct_outs)
        elif id(eqn) in state.calls:  # a call linearized through: transpose its body
            ct_ins = backward_pass(state.calls[id(eqn)], ct_outs)
        else:
            invals = [_operand(v, env, linear_vars) for v in eqn.invars]
            rule = transpose_rule(eqn.primitive)
            ct = ct_outs if eqn.primitive.multiple_results else ct_outs[0]
            with eqn.ctx.manager:
                ct_ins = rule(ct, *invals, **eqn.params)
        for var, ct_in in zip(eqn.invars, ct_ins, strict=True):
            if ct_in is not None:
                add_ct(var, ct_in)
    return [cts.get(v, Zero.from_aval(v.aval)) if v in linear_vars else None for v in jaxpr.invars]


def _operand(var, env, linear_vars):
    if isinstance(var, jc.Literal):
        return literal_value(var)
    if var in linear_vars:
        return UndefinedPrimal(var.aval)
    return env[var]
