"""The tape interpreter: walks a jaxpr, inlining every sub-jaxpr, one `TapeEntry` per primitive.

With tangents, each primitive is applied through adkit's JVP rule, so every row also carries
its tangent: the forward-mode table of the textbooks. A `custom_jvp` function's rows are
inlined for their values, and a `custom_jvp.rule` row then applies the user's rule to give the
tangent JAX would (relu'(0) = 0).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from ... import _jax_compat as jc
from .._env import Env
from .._registry import JVP_RULES, WENGERT_RULES
from .._zeros import Zero, instantiate, is_zero
from .entry import TapeEntry

_NO_TANGENT = object()  # tangents are not being computed


@dataclasses.dataclass(frozen=True)
class Node:
    """What the tape interpreter keeps per variable: value, name on the tape, tangent."""

    value: Any
    name: str
    tangent: Any = _NO_TANGENT


class Recorder:
    """Walks jaxprs, inlining every sub-jaxpr, and appends one entry per primitive applied."""

    def __init__(self, with_tangents: bool = False) -> None:
        self.entries: list[TapeEntry] = []
        self.input_entries: list[TapeEntry] = []
        self.with_tangents = with_tangents
        self._count = 0
        self._consts = 0

    def _zero(self, value: Any) -> Any:
        return Zero.like(value) if self.with_tangents else _NO_TANGENT

    def add_inputs(self, leaves, labels, tangents=None) -> list[Node]:
        nodes = []
        tangents = tangents if tangents is not None else [_NO_TANGENT] * len(leaves)
        for k, (leaf, label, tangent) in enumerate(zip(leaves, labels, tangents, strict=True)):
            name = f"v{k + 1 - len(leaves)}"  # v-1, v0 for two inputs, as in the textbooks
            value = jnp.asarray(leaf)
            self.input_entries.append(
                TapeEntry("input", (), (name,), (value,), label=label, tangents=_shown_t([tangent]))
            )
            nodes.append(Node(value, name, tangent))
        return nodes

    def constant(self, value: Any, scope: str = "") -> Node:
        self._consts += 1
        name = f"c{self._consts}"
        self.entries.append(TapeEntry("const", (), (name,), (value,), scope=scope))
        return Node(value, name, self._zero(value))

    def record(
        self, op, inputs, values, params, scope, tangents=None, primitive=None, rule_params=None
    ) -> list[Node]:
        names = []
        for _ in values:
            self._count += 1
            names.append(f"v{self._count}")
        tangents = tangents if tangents is not None else [self._zero(v) for v in values]
        self.entries.append(
            TapeEntry(
                op,
                tuple(n.name for n in inputs),
                tuple(names),
                tuple(values),
                params,
                scope,
                tangents=_shown_t(tangents),
                primitive=primitive,
                input_values=tuple(n.value for n in inputs),
                rule_params=params if rule_params is None else rule_params,
            )
        )
        return [Node(v, n, t) for v, n, t in zip(values, names, tangents, strict=True)]

    def apply(self, eqn: jc.JaxprEqn, nodes: list[Node], scope: str) -> list[Node]:
        """Applies a first-order primitive (through its JVP rule when tangents flow)."""
        primals = [n.value for n in nodes]
        tangents = [n.tangent for n in nodes]
        if self.with_tangents and not all(is_zero(t) for t in tangents):
            with eqn.ctx.manager:
                out, tout = JVP_RULES.lookup(eqn.primitive)(primals, tangents, **eqn.params)
            many = eqn.primitive.multiple_results
            values, touts = (list(out), list(tout)) if many else ([out], [tout])
        else:
            values, touts = jc.bind_equation(eqn, primals), None
        return self.record(
            eqn.primitive.name,
            nodes,
            values,
            _shown(eqn.params),
            scope,
            touts,
            eqn.primitive,
            eqn.params,
        )

    def walk(self, jaxpr: jc.Jaxpr, consts, args, scope: str) -> list[Node]:
        env: Env[Node] = Env(self._literal)
        env.write_all(jaxpr.constvars, consts)
        env.write_all(jaxpr.invars, args)
        for eqn in jaxpr.eqns:
            nodes = env.read_all(eqn.invars)
            inline = WENGERT_RULES.get(eqn.primitive)
            outs = inline(self, eqn, nodes, scope) if inline else self.apply(eqn, nodes, scope)
            env.write_all(eqn.outvars, outs)
        return env.read_all(jaxpr.outvars)

    def walk_closed(self, closed: jc.ClosedJaxpr, args, scope: str) -> list[Node]:
        consts = [self.constant(c, scope) for c in closed.consts]
        return self.walk(closed.jaxpr, consts, args, scope)

    def _literal(self, lit: jc.Literal) -> Node:
        tangent = Zero.from_aval(lit.aval) if self.with_tangents else _NO_TANGENT
        return Node(lit.val, _literal_text(lit), tangent)


def _shown_t(tangents) -> tuple | None:
    """Tangents as stored on an entry: None when not computed, arrays (zeros filled in)."""
    if any(t is _NO_TANGENT for t in tangents):
        return None
    return tuple(instantiate(t) for t in tangents)


def nest(scope: str, inner: str) -> str:
    return f"{scope}/{inner}" if scope else inner


# --- helpers ---
def _literal_text(lit: jc.Literal) -> str:
    value = np.asarray(lit.val)
    return str(value.item()) if value.ndim == 0 else np.array2string(value)


def _shown(params: dict[str, Any]) -> dict[str, Any]:
    """The params without jaxprs (which the tape inlines rather than shows)."""
    return {k: v for k, v in params.items() if not isinstance(v, jc.ClosedJaxpr | jc.Jaxpr)}
