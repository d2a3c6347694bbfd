"""Reverse mode by the tape: a forward sweep that stores residuals, a backward sweep over them.

This is the textbook algorithm on the Wengert list (the jaxpr):

1. *Forward sweep.* Walk the equations in order, computing every value. An equation that reads
   an *active* value (one that depends on the differentiated inputs) is recorded on the tape
   with its *residuals*: what its VJP rule needs later, by default the equation's input and
   output values.
2. *Backward sweep.* Seed the outputs' adjoints with the given cotangents, then walk the tape in
   reverse topological order (the reverse of the jaxpr's order, which is topological). Each
   recorded equation receives the adjoints of its outputs and sends to each active input its
   VJP rule's share; an input read by several equations (fan-out) adds up what they send.

The tape (`Sweep`) is a pytree of residual arrays, so it can be returned from `jax.jit`, carried
through `lax.scan` or stacked per iteration. Control flow brings its own forward step through
the rule table (see `_sweep_calls.py`, `_sweep_cond.py`, `_sweep_scan.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from .... import _jax_compat as jc
from ..._env import Env, literal_value
from ..._eval import eval_equation
from ..._registry import VJP_RULES, Residuals
from ..._zeros import Zero, instantiate, is_zero


@dataclasses.dataclass
class Sweep:
    """The tape of one jaxpr: the residuals of each recorded equation, by equation index."""

    jaxpr: jc.Jaxpr
    active: frozenset  # the variables that depend on the differentiated inputs
    records: dict[int, Any]  # equation index -> what its VJP rule stored


jax.tree_util.register_pytree_node(
    Sweep,
    lambda s: (tuple(s.records.values()), (s.jaxpr, s.active, tuple(s.records))),
    lambda aux, children: Sweep(aux[0], aux[1], dict(zip(aux[2], children, strict=True))),
)


class Static:
    """A residual known at trace time, held in the tape's structure (compared by value)."""

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Static) and np.array_equal(self.value, other.value)

    def __hash__(self):
        return hash(np.shape(self.value))


def is_active_type(aval: Any) -> bool:
    """Only real and complex values carry adjoints (integers, booleans and keys do not)."""
    return jax.dtypes.issubdtype(aval.dtype, np.inexact)


def forward_sweep(
    jaxpr: jc.Jaxpr, consts: Sequence[Any], args: Sequence[Any], active_in: Sequence[bool]
) -> tuple[list[Any], Sweep]:
    """Evaluates `jaxpr` and records, for each equation reading an active value, its residuals.

    Args:
        jaxpr: an open jaxpr.
        consts: values of its constvars (never active).
        args: values of its invars.
        active_in: which invars are differentiated.

    Returns:
        `(outputs, sweep)`.
    """
    env: Env[Any] = Env(literal_value)
    env.write_all(jaxpr.constvars, consts)
    env.write_all(jaxpr.invars, args)
    active = {v for v, a in zip(jaxpr.invars, active_in, strict=True) if a}
    records: dict[int, Any] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        invals = env.read_all(eqn.invars)
        act = tuple(isinstance(v, jc.Var) and v in active for v in eqn.invars)
        if not any(act):  # nothing to differentiate here: just compute
            outs = eval_equation(eqn, invals)
        else:
            rule = VJP_RULES.lookup(eqn.primitive)
            with eqn.ctx.manager:
                if rule.forward is None:
                    outs = eval_equation(eqn, invals)
                    records[i] = Residuals(tuple(invals), tuple(outs), act)
                else:
                    outs, records[i] = rule.forward(invals, act, **eqn.params)
                    outs = list(outs) if eqn.primitive.multiple_results else [outs]
            active.update(
                v for v in eqn.outvars if not isinstance(v, jc.DropVar) and is_active_type(v.aval)
            )
        env.write_all(eqn.outvars, outs)
    outs = env.read_all(jaxpr.outvars)
    return outs, Sweep(jaxpr, frozenset(active), records)


def backward_sweep(sweep: Sweep, cts_out: Sequence[Any]) -> list[Any]:
    """Pulls output cotangents back through the tape to the jaxpr's inputs.

    Args:
        sweep: the tape from `forward_sweep`.
        cts_out: one cotangent per output (`Zero` or None for none).

    Returns:
        One cotangent per input of the jaxpr: `Zero` where nothing flowed back (and for inputs
        that were not active).
    """
    jaxpr, active = sweep.jaxpr, sweep.active
    adjoint: dict[Any, Any] = {}

    def accumulate(var, ct):  # a value read several times adds up what each reader sends
        if ct is None or is_zero(ct) or not isinstance(var, jc.Var) or var not in active:
            return
        adjoint[var] = ct if var not in adjoint else jc.add_any_p.bind(adjoint[var], ct)

    for var, ct in zip(jaxpr.outvars, cts_out, strict=True):
        accumulate(var, ct)
    for i in reversed(range(len(jaxpr.eqns))):
        if i not in sweep.records:
            continue
        eqn = jaxpr.eqns[i]
        received = [adjoint.pop(v, None) for v in eqn.outvars]  # DropVars are never present
        if all(r is None for r in received):
            continue
        rule = VJP_RULES.lookup(eqn.primitive)
        received = [
            _missing(v.aval, rule.symbolic_zeros) if r is None else r
            for v, r in zip(eqn.outvars, received, strict=True)
        ]
        ct = received if eqn.primitive.multiple_results else received[0]
        with eqn.ctx.manager:
            sends = rule.backward(ct, sweep.records[i], **eqn.params)
        for var, send in zip(eqn.invars, sends, strict=True):
            accumulate(var, send)
    return [adjoint.get(v, Zero.from_aval(v.aval)) for v in jaxpr.invars]


def _missing(aval, symbolic: bool):
    """The cotangent of an output nothing was sent to: a symbolic `Zero` for rules that take
    one, zeros otherwise."""
    return Zero.from_aval(aval) if symbolic else instantiate(Zero.from_aval(aval))


def active_outputs(jaxpr: jc.Jaxpr, active_in: Sequence[bool]) -> list[bool]:
    """Which outputs of `jaxpr` the forward sweep will mark active, found without evaluating:
    an equation's real or complex outputs are active when it reads an active value."""
    active = {v for v, a in zip(jaxpr.invars, active_in, strict=True) if a}
    for eqn in jaxpr.eqns:
        if any(isinstance(v, jc.Var) and v in active for v in eqn.invars):
            active.update(
                v for v in eqn.outvars if not isinstance(v, jc.DropVar) and is_active_type(v.aval)
            )
    return [isinstance(v, jc.Var) and v in active for v in jaxpr.outvars]


def sends(cts):
    """Cotangents as a VJP rule returns them: None for symbolic zeros."""
    return [None if is_zero(c) else c for c in cts]


def split_residuals(tape: Any, known: Sequence[Any]) -> tuple[list[Any], tuple[Any, ...]]:
    """Splits a tape (a pytree of residuals) into its layout and the arrays it computed.

    Each leaf is one of the `known` values (a loop's constants, a shard_map's inputs: read again
    from them), a value known at trace time (kept as a `Static` in the layout), or an array the
    sweep computed, which a loop stacks or a shard_map returns. Returns `(layout, computed)`; the
    layout is static (it goes in a pytree's structure) and `rebuild` inverts the split.
    """
    leaves, treedef = jax.tree.flatten(tape)
    kinds, computed = [], []
    for leaf in leaves:
        i = next((i for i, a in enumerate(known) if leaf is a), None)
        if i is not None:
            kinds.append(("known", i))
        elif jc.is_concrete(leaf):
            kinds.append(("static", Static(leaf)))
        else:
            kinds.append(("computed", len(computed)))
            computed.append(leaf)
    return [treedef, tuple(kinds)], tuple(computed)


def rebuild(layout: Sequence[Any], known: Sequence[Any], computed: Sequence[Any]) -> Any:
    """The tape `split_residuals` split, from the known values and the computed arrays."""
    treedef, kinds = layout
    sources = {"known": known, "computed": computed}
    leaves = [ref.value if kind == "static" else sources[kind][ref] for kind, ref in kinds]
    return jax.tree.unflatten(treedef, leaves)
