"""The tape path through `cond` / `switch`: record the branch taken and its tape.

Eagerly the branch index is a known number, so the forward sweep simply sweeps that branch and
keeps its tape. Under a transformation (`jax.jit`, a scan body) the index is only known at run
time: the forward sweep is then a `lax.switch` whose every branch returns a slot for every
branch's tape (its own filled in, zeros in the others, so all branches return the same types),
and the backward sweep is a `lax.switch` on the same index that runs the matching branch's
backward sweep.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from .... import _jax_compat as jc
from ..._eval import switch
from ..._registry import VJP_RULES
from ..._zeros import Zero, instantiate, is_zero
from .engine import backward_sweep, forward_sweep


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class CondTape:
    """The residuals of a cond: the index, and the tapes (one slot per branch, or the one taken)."""

    index: Any
    slots: Any
    # the branch swept, when the index was known (then `slots` is its tape)
    taken: int | None = dataclasses.field(metadata={"static": True})
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _cond_forward(primals, active, *, branches, **params):
    index, *operands = primals
    active = tuple(active[1:])
    if jc.is_concrete(index):  # eager: sweep the branch taken
        k = int(np.clip(int(index), 0, len(branches) - 1))  # lax.switch clamps the same way
        b = branches[k]
        outs, sweep = forward_sweep(b.jaxpr, b.consts, operands, active)
        return outs, CondTape(index, sweep, k, active)

    def sweep_branch(k, ops):
        b = branches[k]
        return forward_sweep(b.jaxpr, b.consts, ops, active)

    shapes = [
        jax.eval_shape(lambda ops, k=k: sweep_branch(k, ops)[1], operands)
        for k in range(len(branches))
    ]

    def branch(k):
        def run(ops):
            outs, sweep = sweep_branch(k, ops)
            slots = [sweep if j == k else _zeros(s) for j, s in enumerate(shapes)]
            return outs, slots

        return run

    fns = [branch(k) for k in range(len(branches))]
    outs, slots = switch(index, fns, operands, platforms=params.get("branches_platforms"))
    return outs, CondTape(index, slots, None, active)


def _zeros(shape_tree):
    return jax.tree.map(lambda s: jax.numpy.zeros(s.shape, s.dtype), shape_tree)


@VJP_RULES.register(jc.cond_p, forward=_cond_forward)
def _cond_vjp(cts, res, *, branches, **params):  # operand cotangents from the branch taken
    avals = branches[0].in_avals
    if res.taken is not None:
        return [None, *_sends(backward_sweep(res.slots, cts), res.active)]

    def branch(k):
        def run(slots, cts):
            got = backward_sweep(slots[k], cts)
            return [
                instantiate(Zero.from_aval(a) if is_zero(c) else c)
                for c, a, act in zip(got, avals, res.active, strict=True)
                if act
            ]

        return run

    fns = [branch(k) for k in range(len(branches))]
    got = iter(switch(res.index, fns, res.slots, cts, platforms=params.get("branches_platforms")))
    return [None, *(next(got) if act else None for act in res.active)]


def _sends(cts, active):
    return [None if not a or is_zero(c) else c for c, a in zip(cts, active, strict=True)]
