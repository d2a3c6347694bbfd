"""custom_jvp and custom_vjp functions, define-by-run: the user's rules, called once.

Applied to tracers, a custom function reaches the trace with its Python callables: the
function, and its JVP rule (custom_jvp) or its fwd and bwd (custom_vjp). As in JAX, only the
rule runs when there is something to differentiate (the function's own body does not):

- forward mode: `custom_jvp_forward` calls the JVP rule on the primals and tangents;
- reverse mode: `custom_jvp_pullback` runs the JVP rule with recorded tangents and sweeps
  that record backwards (the transpose); `custom_vjp_pullback` runs fwd and keeps its
  residuals, and the pullback calls bwd on them.

The pullbacks return `(outputs, pull)`: `pull` maps output cotangents (None for none) to one
cotangent per input (`Zero` for none). The rules run on concrete primals, so they may branch on
them in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ... import _jax_compat as jc
from .._zeros import Zero, instantiate, is_zero


def _tangent_aval(value):
    return jax.typeof(value).to_tangent_aval()


def _is_inexact(value) -> bool:
    return jnp.issubdtype(jax.typeof(value).dtype, jnp.inexact)


def _rule_tangents(primals, tangents, symbolic_zeros):
    """Tangents as a custom JVP rule takes them: `SymbolicZero`s or zeros for none."""
    return [
        (jc.symbolic_zero(_tangent_aval(p)) if symbolic_zeros else instantiate(Zero.like(p)))
        if is_zero(t)
        else t
        for p, t in zip(primals, tangents, strict=True)
    ]


def custom_jvp_forward(jvp, symbolic_zeros: bool, primals, tangents) -> tuple[list, list]:
    """The user's JVP rule applied to primals and tangents: `(outputs, output tangents)`."""
    outs = jvp.call_wrapped(*primals, *_rule_tangents(primals, tangents, symbolic_zeros))
    n = len(outs) // 2
    touts = [
        Zero.like(p) if jc.is_symbolic_zero(t) or not _is_inexact(p) else t
        for p, t in zip(outs[:n], outs[n:], strict=True)
    ]
    return list(outs[:n]), touts


def custom_jvp_pullback(jvp, symbolic_zeros: bool, values, active, vjp_of):
    """The user's JVP rule, run on the primals and on recorded tangents, and transposed.

    The primals are concrete, so the rule may branch on them; the tangents of the active inputs
    are recording tracers (zeros), so the rule's work on them is taped and the tape's backward
    sweep is the transpose. `vjp_of(flat_fun, leaves, differentiable) -> (outputs, pull)` is
    define-by-run reverse mode (`reverse.vjp_eager`).
    """
    zero_tangents = [instantiate(Zero.like(v)) for v, a in zip(values, active, strict=True) if a]
    inexact_out: list[bool] = []

    def rule(*nonzero_tangents):
        nonzero = iter(nonzero_tangents)
        tangents = [
            next(nonzero) if a else Zero.like(v) for v, a in zip(values, active, strict=True)
        ]
        primals, touts = custom_jvp_forward(jvp, symbolic_zeros, values, tangents)
        inexact_out[:] = [_is_inexact(p) for p in primals]
        return [*primals, *(instantiate(t) for t, i in zip(touts, inexact_out, strict=True) if i)]

    outs, pull_rule = vjp_of(rule, zero_tangents, [True] * len(zero_tangents))
    n_out = len(inexact_out)

    def pull(cts: Sequence[Any]) -> list[Any]:
        tangent_cts = [ct for ct, i in zip(cts, inexact_out, strict=True) if i]
        cts_in = iter(pull_rule([None] * n_out + tangent_cts))
        return [next(cts_in) if a else Zero.like(v) for v, a in zip(values, active, strict=True)]

    return list(outs[:n_out]), pull


def hi_pullback(prim, values, active):
    """A `call_hi_primitive` (`jax_custom_vjp3`): the user's fwd run on the values, and a
    pullback calling the user's bwd."""
    outs, residuals, res_tree = jc.hi_vjp_forward(prim, active, values)

    def pull(cts: Sequence[Any]) -> list[Any]:
        cts = [None if ct is None or is_zero(ct) else ct for ct in cts]
        sends = jc.hi_vjp_backward(prim, residuals, res_tree, cts)
        return [
            s if a and s is not None and jax.typeof(s).dtype != jax.dtypes.float0 else Zero.like(v)
            for v, a, s in zip(values, active, sends, strict=True)
        ]

    return outs, pull


def custom_vjp_pullback(fwd, bwd, out_trees, symbolic_zeros: bool, values, active):
    """The user's fwd, run on the values, and a pullback calling the user's bwd."""
    res_and_outs = fwd.call_wrapped(*[x for pair in zip(values, active, strict=True) for x in pair])
    _, res_tree, input_forwards = out_trees()
    n_res = res_tree.num_leaves - sum(f is not None for f in input_forwards)
    new_res, outs = iter(res_and_outs[:n_res]), list(res_and_outs[n_res:])
    residuals = [next(new_res) if f is None else values[f] for f in input_forwards]

    def pull(cts: Sequence[Any]) -> list[Any]:
        cts = [None if ct is None or is_zero(ct) else ct for ct in cts]
        out_avals = [jax.typeof(o) for o in outs]
        sends = jc.custom_vjp_backward({"bwd": bwd}, residuals, cts, out_avals, symbolic_zeros)
        return [
            s if a and s is not None and jax.typeof(s).dtype != jax.dtypes.float0 else Zero.like(v)
            for v, a, s in zip(values, active, sends, strict=True)
        ]

    return outs, pull
