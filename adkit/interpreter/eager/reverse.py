"""Reverse mode, define-by-run: a recording tracer, and a tape swept backwards.

Each value that depends on the differentiated inputs is a `RecordingTracer`: a concrete primal
and a node number. A primitive applied to such values is applied at once (so Python sees the
result and takes the real branch) and pushed on the tape with its pullback: adkit's VJP of that
one equation, by the tape path or the transpose path (`pullback_of`, given by the API). The
backward sweep walks the tape from the end, exactly as the staged tape path walks a jaxpr:

    adjoint[output nodes] = cotangents
    for (input nodes, output nodes, pullback) in reversed(tape):
        adjoint[input nodes] += pullback(adjoint[output nodes])

The tape holds the path the function actually took: a branch not taken leaves no entry.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import jax

from ... import _jax_compat as jc
from .._zeros import Zero, is_zero
from .custom import custom_jvp_pullback, custom_vjp_pullback, hi_pullback
from .forward import ValueTracer, one_equation

# pullback_of(closed_jaxpr, inputs, active) -> (outputs, pull); pull(cotangents) -> cotangents.
# None records the path only (`path.py`).
PullbackOf = Callable[[jc.ClosedJaxpr, list[Any], list[bool]], tuple[list[Any], Callable]]


class RecordingTracer(ValueTracer):
    """A value in define-by-run reverse mode: a concrete primal and its node on the tape."""

    __slots__ = ("node",)

    def __init__(self, trace: RecordingTrace, primal: Any, node: int):
        super().__init__(trace, primal)
        self.node = node


@dataclasses.dataclass(frozen=True)
class Entry:
    """One applied operation: its inputs' nodes (None: not differentiated), its outputs' nodes
    (None: not differentiable), its pullback, and how to replay it."""

    inputs: tuple[int | None, ...]
    outputs: tuple[int | None, ...]
    pull: Callable[[list[Any]], list[Any]] | None  # None when recording the path only
    replay: Callable[..., list[Any]] | None  # the outputs from the inputs (the path only)
    values: tuple[Any, ...]  # the input values (the constants among them are needed to replay)


class RecordingTrace(jc.Trace):
    """Applies each primitive and records it, with its pullback, on the tape."""

    def __init__(self, parent: Any, pullback_of: PullbackOf | None):
        super().__init__()
        self.parent = parent
        self.pullback_of = pullback_of
        self.requires_low = False
        self.tape: list[Entry] = []
        self._nodes = itertools.count()

    def unpack(self, value: Any) -> tuple[Any, int | None]:
        if isinstance(value, RecordingTracer) and value._trace is self:
            return value.primal, value.node
        return value, None

    def stage_value(self, value: Any) -> Any:  # the identity, applied in this trace
        primal, node = self.unpack(value)
        primal = self.parent.stage_value(primal)
        return primal if node is None else RecordingTracer(self, primal, node)

    def new(self, primal: Any) -> tuple[Any, int | None]:
        """A recording tracer for a real or complex value; other values have no adjoint."""
        if not jax.dtypes.issubdtype(jax.typeof(primal).dtype, jax.numpy.inexact):
            return primal, None
        node = next(self._nodes)
        return RecordingTracer(self, primal, node), node

    def process_primitive(self, primitive, tracers, params, /):
        def pullback(values, active):  # adkit's VJP of this one equation
            if primitive is jc.call_hi_primitive_p:  # a custom_vjp: its rules, on the values
                return hi_pullback(params["_prim"], values, active)
            return self.pullback_of(one_equation(primitive, params, values), values, active)

        outs = self._record(tracers, primitive, params, pullback)
        return outs if primitive.multiple_results else outs[0]

    def process_custom_jvp_call(self, primitive, fun, jvp, tracers, /, *, symbolic_zeros):
        def pullback(values, active):
            return custom_jvp_pullback(jvp, symbolic_zeros, values, active, self._vjp_of)

        params = dict(subfuns=(fun, jvp), symbolic_zeros=symbolic_zeros)
        return self._record(tracers, primitive, params, pullback)

    def process_custom_vjp_call(self, primitive, fun, fwd, bwd, tracers, /, *, out_trees,
                                symbolic_zeros):  # fmt: skip
        def pullback(values, active):
            return custom_vjp_pullback(fwd, bwd, out_trees, symbolic_zeros, values, active)

        params = dict(subfuns=(fun, fwd, bwd), out_trees=out_trees, symbolic_zeros=symbolic_zeros)
        return self._record(tracers, primitive, params, pullback)

    def _vjp_of(self, flat_fun, leaves, differentiable):
        return vjp_eager(flat_fun, leaves, differentiable, self.pullback_of)

    def _record(self, tracers, primitive, params, pullback) -> list[Any]:
        """Applies an operation; where an input is differentiated, records it on the tape with
        `pullback(values, active) -> (outputs, pull)`. Without a `pullback_of` (recording the
        path only), the operation is staged to one equation and that is what is recorded."""
        values, nodes = zip(*map(self.unpack, tracers), strict=True) if tracers else ((), ())
        values = list(values)
        if all(n is None for n in nodes):
            out = jc.bind_with_trace(primitive, self.parent, values, params)
            return list(out) if primitive.multiple_results else [out]
        active = [n is not None for n in nodes]
        with jc.set_current_trace(self.parent):
            if self.pullback_of is None:  # the path only: replayable, no pullback
                replay = jc.jaxpr_as_fun(one_equation(primitive, params, values))
                outs, pull = replay(*values), None
            else:
                (outs, pull), replay = pullback(values, active), None
        wrapped = [self.new(o) for o in outs]
        self.tape.append(Entry(nodes, tuple(n for _, n in wrapped), pull, replay, tuple(values)))
        return [w for w, _ in wrapped]


@dataclasses.dataclass(frozen=True)
class Recording:
    """A function run on recording tracers: its outputs, the nodes of its inputs and outputs
    (None where not differentiated) and the tape."""

    outputs: list[Any]
    in_nodes: list[int | None]
    out_nodes: list[int | None]
    tape: list[Entry]


def record(
    flat_fun: Callable[..., list[Any]],
    leaves: Sequence[Any],
    differentiable: Sequence[bool],
    pullback_of: PullbackOf | None,
) -> Recording:
    """Runs `flat_fun` (flat leaves to a list of leaves) on recording tracers."""
    with jc.take_current_trace() as parent:
        trace = RecordingTrace(parent, pullback_of)
        wrapped = [
            trace.new(x) if d else (x, None) for x, d in zip(leaves, differentiable, strict=True)
        ]
        with jc.set_current_trace(trace):
            outs = flat_fun(*[w for w, _ in wrapped])
        unpacked = [trace.unpack(o) for o in outs]
    trace.invalidate()
    return Recording(
        [p for p, _ in unpacked], [n for _, n in wrapped], [n for _, n in unpacked], trace.tape
    )


def vjp_eager(
    flat_fun: Callable[..., list[Any]],
    leaves: Sequence[Any],
    differentiable: Sequence[bool],
    pullback_of: PullbackOf,
) -> tuple[list[Any], Callable[[list[Any]], list[Any]]]:
    """Runs `flat_fun` on recording tracers and returns its outputs and the backward sweep.

    Args:
        flat_fun: the function, on flat lists of leaves.
        leaves: the input leaves (concrete, or tracers holding values).
        differentiable: which leaves are differentiated.
        pullback_of: adkit's VJP of a closed jaxpr (the tape or the transpose path).

    Returns:
        `(outputs, pull)`: `pull(cotangents)` takes one cotangent per output (None for none)
        and returns one per input leaf (`Zero` where nothing flowed back).
    """
    run = record(flat_fun, leaves, differentiable, pullback_of)

    def pull(cotangents: list[Any]) -> list[Any]:
        adjoint: dict[int, Any] = {}

        def accumulate(node, ct):
            if node is None or ct is None or is_zero(ct):
                return
            adjoint[node] = ct if node not in adjoint else jc.add_any_p.bind(adjoint[node], ct)

        for node, ct in zip(run.out_nodes, cotangents, strict=True):
            accumulate(node, ct)
        for entry in reversed(run.tape):
            received = [adjoint.pop(n, None) if n is not None else None for n in entry.outputs]
            if all(r is None for r in received):
                continue
            for node, ct in zip(entry.inputs, entry.pull(received), strict=True):
                accumulate(node, ct)
        return [
            adjoint.get(n, Zero.like(x)) if n is not None else Zero.like(x)
            for n, x in zip(run.in_nodes, leaves, strict=True)
        ]

    return run.outputs, pull
