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

from .... import _jax_compat as jc
from ..._env import Env, kept, literal_value
from ..._eval import eval_equation
from ..._registry import SPLIT_RULES, TRANSPOSE_RULES
from ..._zeros import UndefinedPrimal, Zero, is_zero


@dataclasses.dataclass
class Linearized:
    """What the forward pass leaves for the backward pass of one jaxpr."""

    jaxpr: jc.Jaxpr
    env: Env  # values of the non-linear variables (the residuals)
    linear_vars: set  # variables that depend on the linear inputs
    calls: dict  # per call or control-flow equation with linear inputs: what its rule kept

    def is_linear(self, atom) -> bool:
        return isinstance(atom, jc.Var) and atom in self.linear_vars

    def known_values(self, atoms, linear: Sequence[bool]) -> list[Any]:
        """The values of `atoms`, None for the linear ones (unknown until transposed)."""
        return [None if lin else self.env.read(a) for a, lin in zip(atoms, linear, strict=True)]

    def write_outputs(self, outer_vars, linear: Sequence[bool], known: Sequence[Any]) -> None:
        """Marks the `linear` ones of `outer_vars` linear and gives the others, in order, the
        `known` values (the outputs of a call or of control flow, seen from outside)."""
        known = iter(known)
        for var, lin in zip(outer_vars, linear, strict=True):
            if lin:
                self.linear_vars.add(var)
            else:
                self.env.write(var, next(known))


# Calls whose body mixes primal and tangent work are linearized through, equation by equation.
# A custom_jvp function applied to tangents (a JVP rule may call one) is transposed through its
# body, as in JAX: its custom rule says how to differentiate it, not how to transpose it.
# A custom_vmap function (its JVP is one) is too: its batching rule says how to batch it.
_CALLS = {
    jc.jit_p: "jaxpr",
    jc.remat_p: "jaxpr",
    jc.custom_jvp_call_p: "call_jaxpr",
    jc.custom_vmap_p: "call",
}


def forward_pass(jaxpr: jc.Jaxpr, consts, values, linear: Sequence[bool]) -> Linearized:
    """Evaluates every equation that reads no linear variable, and marks the others linear."""
    state = Linearized(jaxpr, Env(literal_value), set(), {})
    state.env.write_all(jaxpr.constvars, consts)
    for var, value, is_lin in zip(jaxpr.invars, values, linear, strict=True):
        if is_lin:
            state.linear_vars.add(var)
        else:
            state.env.write(var, value)
    for eqn in jaxpr.eqns:
        reads_linear = [state.is_linear(v) for v in eqn.invars]
        if not any(reads_linear):
            state.env.write_all(eqn.outvars, eval_equation(eqn, state.env.read_all(eqn.invars)))
        elif eqn.primitive in _CALLS:
            _forward_call(eqn, state, reads_linear)
        elif eqn.primitive in SPLIT_RULES:  # control flow split into primal and linear parts
            state.calls[id(eqn)] = SPLIT_RULES[eqn.primitive].forward(eqn, state, reads_linear)
        else:
            TRANSPOSE_RULES.lookup(eqn.primitive)  # a MissingRuleError naming it if there is none
            state.linear_vars.update(eqn.outvars)
    return state


def _forward_call(eqn, state: Linearized, reads_linear):
    body = eqn.params[_CALLS[eqn.primitive]]
    inner, consts = (body.jaxpr, body.consts) if isinstance(body, jc.ClosedJaxpr) else (body, ())
    values = state.known_values(eqn.invars, reads_linear)
    inner_state = forward_pass(inner, consts, values, reads_linear)
    state.calls[id(eqn)] = inner_state
    out_linear = [inner_state.is_linear(v) for v in inner.outvars]
    known = inner_state.env.read_all(kept(inner.outvars, [not lin for lin in out_linear]))
    state.write_outputs(eqn.outvars, out_linear, known)


def _flatten_linearized(state: Linearized):
    keys = tuple(state.env.values)
    call_keys = tuple(state.calls)
    children = ([state.env.values[k] for k in keys], [state.calls[k] for k in call_keys])
    return children, (state.jaxpr, keys, frozenset(state.linear_vars), call_keys)


def _unflatten_linearized(aux, children):
    jaxpr, keys, linear_vars, call_keys = aux
    values, calls = children
    env = Env(literal_value, dict(zip(keys, values, strict=True)))
    return Linearized(jaxpr, env, set(linear_vars), dict(zip(call_keys, calls, strict=True)))


# A Linearized state is a pytree of its residual values, so control flow can carry it.
jax.tree_util.register_pytree_node(Linearized, _flatten_linearized, _unflatten_linearized)


def backward_pass(state: Linearized, cts_out: Sequence[Any]):
    """Transposes the linear equations, in reverse, from output cotangents to input ones.

    Returns the cotangents of the jaxpr's inputs (`Zero` where nothing flowed back; `None` for
    non-linear inputs).
    """
    jaxpr, linear_vars = state.jaxpr, state.linear_vars
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
        if eqn.primitive in SPLIT_RULES:  # control flow split into primal and linear parts
            ct_ins = SPLIT_RULES[eqn.primitive].backward(eqn, state.calls[id(eqn)], ct_outs)
        elif id(eqn) in state.calls:  # a call linearized through: transpose its body
            ct_ins = backward_pass(state.calls[id(eqn)], ct_outs)
        else:
            invals = [_operand(v, state) for v in eqn.invars]
            rule = TRANSPOSE_RULES.lookup(eqn.primitive)
            ct = ct_outs if eqn.primitive.multiple_results else ct_outs[0]
            with eqn.ctx.manager:
                ct_ins = rule(ct, *invals, **eqn.params)
        for var, ct_in in zip(eqn.invars, ct_ins, strict=True):
            if ct_in is not None:
                add_ct(var, ct_in)
    return [cts.get(v, Zero.from_aval(v.aval)) if v in linear_vars else None for v in jaxpr.invars]


def _operand(atom, state: Linearized):
    """A transpose rule's operand: an `UndefinedPrimal` for a linear one, else its value."""
    return UndefinedPrimal(atom.aval) if state.is_linear(atom) else state.env.read(atom)
