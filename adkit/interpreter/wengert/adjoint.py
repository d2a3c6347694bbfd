"""The backward sweep over a tape: the adjoint table of the textbooks.

Reverse mode on the Wengert list: seed the output's adjoint (ȳ = 1 for a scalar), then walk the
rows from last to first. Each row receives the adjoint of what it wrote and sends to each value
it read that adjoint pulled back through its own operation (adkit's VJP rule for that
primitive, applied to the recorded values); a value read by several rows adds up what they send.
The adjoints the inputs end with are the gradient.

Rows inside a `jax.custom_jvp` function are swept as the primitives they are; at a point where
the user's rule differs from the body's derivative (relu at 0), `adkit.grad` follows the rule.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from .._registry import VJP_RULES, Residuals
from .render import format_table, format_value


@dataclasses.dataclass(frozen=True)
class AdjointRow:
    """One step of the backward sweep: a row's received adjoints and what it sent."""

    name: str
    op: str
    received: tuple[Any, ...]
    sends: tuple[tuple[str, Any], ...]


@dataclasses.dataclass(frozen=True)
class Adjoints:
    """The result of `Tape.backward`: the sweep's rows, every value's adjoint, the gradient."""

    tape: Any
    rows: tuple[AdjointRow, ...]
    adjoints: dict[str, Any]
    gradient: Any

    def __str__(self) -> str:
        table = [("var", "op", "adjoint", "sends")]
        for row in self.rows:
            sends = ", ".join(f"{n} += {format_value(v)}" for n, v in row.sends)
            table.append((row.name, row.op, format_value(row.received[0]), sends))
        for entry in self.tape.inputs:
            name = entry.outputs[0]
            table.append((name, entry.label, format_value(self.adjoints.get(name, 0.0)), ""))
        return format_table(
            f"Adjoint table of {self.tape.name} (reverse sweep from the output)", table
        )


def backward(tape, cotangent: Any = None) -> Adjoints:
    """Sweeps `tape` backwards from `cotangent` (1 for a scalar output by default)."""
    out_leaves = jax.tree.leaves(tape.output)
    if cotangent is None:
        if len(out_leaves) != 1 or jnp.shape(out_leaves[0]) != ():
            raise TypeError(
                "`Tape.backward()` seeds ȳ = 1 only for a scalar output; this tape's output is "
                f"{jax.tree.map(jnp.shape, tape.output)}. Pass `cotangent=` shaped like it."
            )
        cotangent = jnp.ones_like(out_leaves[0])
    known = {e.outputs[0] for e in tape.inputs} | {n for e in tape.entries for n in e.outputs}
    adjoint: dict[str, Any] = {}

    def send(name, value):
        if value is not None and name in known:
            adjoint[name] = value if name not in adjoint else adjoint[name] + value

    for name, ct in zip(tape.outputs, jax.tree.leaves(cotangent), strict=True):
        send(name, jnp.asarray(ct))
    rows = []
    for entry in reversed(tape.entries):
        received = [adjoint.get(n) for n in entry.outputs]
        if entry.op == "const" or all(r is None for r in received):
            continue
        received = [
            jnp.zeros_like(v) if r is None else r
            for r, v in zip(received, entry.values, strict=True)
        ]
        sends = _pullback(entry, received)
        for name, value in zip(entry.inputs, sends, strict=True):
            send(name, value)
        shown = tuple(
            (n, v) for n, v in zip(entry.inputs, sends, strict=True) if v is not None and n in known
        )
        rows.append(AdjointRow(entry.outputs[0], entry.op, tuple(received), shown))
    grads = [adjoint.get(e.outputs[0], jnp.zeros_like(e.values[0])) for e in tape.inputs]
    gradient = jax.tree.unflatten(jax.tree.structure(tape.args), grads)
    return Adjoints(tape, tuple(rows), adjoint, gradient)


def _pullback(entry, received):
    """What one row sends to the values it read: its VJP at the recorded values."""
    if entry.op == "scan.index":  # x -> x[i]
        [x] = entry.input_values
        return [jnp.zeros_like(x).at[entry.params["i"]].set(received[0])]
    if entry.op == "scan.stack":  # parts -> stack(parts)
        return list(received[0])
    if entry.op == "custom_jvp.rule":  # values pass through unchanged
        return list(received)
    prim, params = entry.primitive, entry.rule_params
    active = tuple(jnp.issubdtype(jnp.asarray(v).dtype, jnp.inexact) for v in entry.input_values)
    if not any(active):
        return [None] * len(entry.inputs)
    rule = VJP_RULES.lookup(prim)  # the tape path's own rule for this primitive
    if rule.forward is None:
        res = Residuals(tuple(entry.input_values), tuple(entry.values), active)
    else:
        _, res = rule.forward(list(entry.input_values), active, **params)
    ct = list(received) if prim.multiple_results else received[0]
    sends = rule.backward(ct, res, **params)
    return [s if a else None for s, a in zip(sends, active, strict=True)]
