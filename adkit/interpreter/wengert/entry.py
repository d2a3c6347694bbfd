"""One row of a tape."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class TapeEntry:
    """One row of the Wengert list.

    Attributes:
        op: the primitive's name, or `input`, `const`, `scan.index`, `scan.stack`.
        inputs: names of the values read (`v3`, `c1`, ...) or the text of an inline literal.
        outputs: names of the values written.
        values: the output values, in the order of `outputs`.
        params: the primitive's parameters (jaxpr-valued ones left out).
        scope: where the equation sat, e.g. `jit(relu)/custom_jvp` or `scan[2]`; empty at top.
        label: for inputs, the argument it came from, e.g. `x1` or `params['w']`.
        tangents: the output tangents when the tape was traced with tangents, else None.
        primitive: the JAX primitive applied (None for bookkeeping rows).
        input_values: the values read, in the order of `inputs`.
        rule_params: all of the equation's parameters, as its rules receive them.

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> tape = adkit.trace(lambda x, y: jnp.sin(x) * y, 0.0, 3.0, tangents=(1.0, 0.0))
        >>> tape.inputs[0].op, tape.inputs[0].label, tape.inputs[0].outputs
        ('input', 'x', ('v-1',))
        >>> entry = tape[1]  # the product: v2 = v1 * v0
        >>> entry.op, entry.inputs, entry.outputs, entry.primitive is jax.lax.mul_p
        ('mul', ('v1', 'v0'), ('v2',), True)
        >>> [float(v) for v in entry.values], [float(t) for t in entry.tangents]
        ([0.0], [3.0])
    """

    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    values: tuple[Any, ...]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    scope: str = ""
    label: str = ""
    tangents: tuple[Any, ...] | None = None
    primitive: Any = dataclasses.field(default=None, repr=False)
    input_values: tuple[Any, ...] = dataclasses.field(default=(), repr=False)
    rule_params: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
