"""How `adkit.trace` inlines `scan`: the rows of every iteration.

Loops need two bookkeeping rows that are not primitives of the program: `scan.index` takes
iteration i's slice of a scanned input and `scan.stack` stacks a scanned output.
"""

from __future__ import annotations

import jax.numpy as jnp

from ... import _jax_compat as jc
from .._registry import WENGERT_RULES
from .._zeros import Zero, instantiate, is_zero
from .engine import Node, nest


@WENGERT_RULES.register(jc.scan_p)
def _inline_scan(rec, eqn, nodes, scope):
    p = eqn.params
    n_consts, n_carry, length = p["num_consts"], p["num_carry"], p["length"]
    consts, carry, xs = (
        nodes[:n_consts],
        nodes[n_consts : n_consts + n_carry],
        nodes[n_consts + n_carry :],
    )
    steps = range(length - 1, -1, -1) if p["reverse"] else range(length)
    ys_per_step: dict[int, list[Node]] = {}
    for i in steps:
        here = nest(scope, f"scan[{i}]")
        x_i = [_index(rec, x, i, here) for x in xs]
        out = rec.walk_closed(p["jaxpr"], [*consts, *carry, *x_i], here)
        carry, ys_per_step[i] = out[:n_carry], out[n_carry:]
    ys_avals = eqn.params["jaxpr"].out_avals[n_carry:]
    stacked = []
    for k, aval in enumerate(ys_avals):
        parts = [ys_per_step[i][k] for i in range(length)]
        stacked += _stack(rec, parts, aval, scope)
    return [*carry, *stacked]


def _index(rec, x: Node, i: int, scope: str) -> Node:
    """Row `scan.index`: iteration i's slice of a scanned input (and of its tangent)."""
    tangent = None
    if rec.with_tangents:
        t = x.tangent
        tangent = [Zero(t.shape[1:], t.dtype) if is_zero(t) else t[i]]
    return rec.record("scan.index", [x], [x.value[i]], {"i": i}, scope, tangent)[0]


def _stack(rec, parts: list[Node], aval, scope: str) -> list[Node]:
    """Row `scan.stack`: the per-iteration outputs stacked (and their tangents)."""
    if not parts:
        value = jnp.zeros((0, *aval.shape), aval.dtype)
        return rec.record("scan.stack", parts, [value], {}, scope)
    value = jnp.stack([n.value for n in parts])
    tangent = None
    if rec.with_tangents:
        ts = [n.tangent for n in parts]
        zero = all(is_zero(t) for t in ts)
        tangent = [Zero.like(value) if zero else jnp.stack([instantiate(t) for t in ts])]
    return rec.record("scan.stack", parts, [value], {}, scope, tangent)
