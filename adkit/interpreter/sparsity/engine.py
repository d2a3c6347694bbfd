"""Sparsity detection: walk a jaxpr carrying, for each variable, the input indices each of its
elements may depend on (an `IndexSets`).

This is the evaluator's loop (see `_eval.py`) over a different kind of value. For each equation:
- every operand known (constants, iotas, loop counters): evaluate it, the result is known too;
- no operand depends on an input: the result depends on nothing either;
- otherwise its rule in `SPARSITY_RULES` maps the operands' sets to the outputs' sets.
Outputs that are not floating point (integers, booleans, keys) have no derivative and depend on
nothing. Higher-order primitives (jit, cond, scan, while, custom_jvp, ...) have their rules in
this folder, beside the engine, since they walk sub-jaxprs with it.

A primitive without a rule is an error naming it, unless the caller asked for
`unknown="dense"`: then every output element depends on everything the operands depend on.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ... import _jax_compat as jc
from .._env import Env
from .._registry import SPARSITY_RULES, MissingRuleError
from ..rules import sparsity as _rules  # noqa: F401  (registers the first-order rules)
from ..rules.sparsity._sets import IndexSets, dense, known, unknown

# How to treat a primitive without a rule: "error" (the default) or "dense".
UNKNOWN: contextvars.ContextVar[str] = contextvars.ContextVar("unknown", default="error")


@contextlib.contextmanager
def unknown_primitives(mode: str):
    token = UNKNOWN.set(mode)
    try:
        yield
    finally:
        UNKNOWN.reset(token)


def sparsity_open(
    jaxpr: jc.Jaxpr, consts: Sequence[IndexSets], args: Sequence[IndexSets]
) -> list[IndexSets]:
    """The outputs' dependency sets, given those of the constants and the inputs."""
    n = (list(consts) + list(args))[0].num_inputs if (consts or args) else 0
    env: Env[IndexSets] = Env(lambda lit: known(lit.val, n))
    env.write_all(jaxpr.constvars, list(consts))
    env.write_all(jaxpr.invars, list(args))
    for eqn in jaxpr.eqns:
        env.write_all(eqn.outvars, apply_equation(eqn, env.read_all(eqn.invars), n))
    return env.read_all(jaxpr.outvars)


def sparsity_closed(closed: jc.ClosedJaxpr, args: Sequence[IndexSets]) -> list[IndexSets]:
    n = args[0].num_inputs if args else 0
    return sparsity_open(closed.jaxpr, [known(c, n) for c in closed.consts], args)


def apply_equation(eqn: jc.JaxprEqn, operands: list[IndexSets], n: int) -> list[IndexSets]:
    """One equation: fold it, skip it, or apply its rule (see the module docstring)."""
    out_avals = [v.aval for v in eqn.outvars]
    if all(o.known for o in operands) and not eqn.effects:
        values = _folded(eqn, [o.value for o in operands])
        return [
            known(np.asarray(v), n) if _is_array(v) else unknown(a.shape, n)
            for v, a in zip(values, out_avals, strict=True)
        ]
    if all(o.independent for o in operands):
        return [unknown(a.shape, n) for a in out_avals]
    try:
        rule = SPARSITY_RULES.lookup(eqn.primitive)
    except MissingRuleError:
        if UNKNOWN.get() != "dense":
            raise
        return [dense(operands, a.shape) for a in out_avals]
    with eqn.ctx.manager:
        outs = rule(operands, out_avals, **eqn.params)
    outs = list(outs) if isinstance(outs, list | tuple) else [outs]
    return [
        o if differentiable(a) else unknown(a.shape, n)
        for o, a in zip(outs, out_avals, strict=True)
    ]


def _folded(eqn: jc.JaxprEqn, values: list) -> list:
    """A known equation's outputs. A conversion that NumPy performs exactly as XLA does (from
    bool or integer, or between floats) runs in NumPy: binding it would dispatch a compiled
    program (about 100 µs) for what is often a scalar (pad's padding value)."""
    if eqn.primitive.name == "convert_element_type":
        (value,) = values
        source, target = np.asarray(value).dtype, np.dtype(eqn.params["new_dtype"])
        exact = (target.kind == "f" and source.kind in "buif") or (
            target.kind in "iu" and source.kind == "b"
        )
        if exact:
            return [np.asarray(value).astype(target)]
    return jc.bind_equation(eqn, values)


def differentiable(aval) -> bool:
    """Whether values of this type have derivatives (floating point, real or complex)."""
    try:
        return bool(jnp.issubdtype(aval.dtype, jnp.inexact))
    except TypeError:  # extended dtypes (PRNG keys) have no NumPy form
        return False


def _is_array(value) -> bool:
    try:
        np.asarray(value)
    except Exception:  # a PRNG key array has no NumPy form: keep it unknown
        return False
    return True
