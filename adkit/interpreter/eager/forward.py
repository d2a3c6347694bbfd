"""Forward mode, define-by-run: a tracer carrying `(primal, tangent)`, adkit's JVP rules.

Each primitive applied to a `JvpTracer` reaches `JvpTrace.process_primitive`, which looks the
primitive up in `JVP_RULES` and applies the rule to the primals and tangents, exactly as the
staged forward engine does for an equation. The primals are concrete arrays, so the function
can branch on them in Python. An output whose tangent is zero is returned as a plain value.

custom_jvp functions arrive with their Python callables instead of jaxprs: the user's JVP rule
is called on the primals and tangents (`custom.py`), as JAX does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

from ... import _jax_compat as jc
from .._errors import NO_FORWARD_MODE
from .._registry import JVP_RULES
from .._zeros import Zero, is_zero
from ..forward.engine import aval_struct
from .custom import custom_jvp_forward


class ValueTracer(jc.Tracer):
    """A define-by-run tracer: it carries a concrete primal, which Python may read (`bool`,
    `int`, `float` of it), so a function can branch on it."""

    __slots__ = ("primal",)

    def __init__(self, trace: jc.Trace, primal: Any):
        super().__init__(trace, jax.typeof(primal))
        self.primal = primal

    def to_concrete_value(self):
        return jc.to_concrete_value(self.primal)

    def get_referent(self):
        return jc.get_referent(self.primal)

    def full_lower(self):
        return self


class JvpTracer(ValueTracer):
    """A value in define-by-run forward mode: a concrete primal and its tangent."""

    __slots__ = ("tangent",)

    def __init__(self, trace: JvpTrace, primal: Any, tangent: Any):
        super().__init__(trace, primal)
        self.tangent = tangent


class JvpTrace(jc.Trace):
    """Applies adkit's JVP rule to each primitive as the function runs."""

    def __init__(self, parent: Any):
        super().__init__()
        self.parent = parent
        self.requires_low = False

    def pair(self, value: Any) -> tuple[Any, Any]:
        """`(primal, tangent)` of a value: a tracer of this trace, or a constant (zero)."""
        if isinstance(value, JvpTracer) and value._trace is self:
            return value.primal, value.tangent
        return value, Zero.like(value)

    def stage_value(self, value: Any) -> Any:  # the identity, applied in this trace
        primal, tangent = self.pair(value)
        primal = self.parent.stage_value(primal)
        return primal if is_zero(tangent) else self.wrap(primal, self.parent.stage_value(tangent))

    def wrap(self, primal: Any, tangent: Any) -> Any:
        """A tracer, or the plain value where the tangent is zero."""
        if is_zero(tangent) or jax.typeof(tangent).dtype == jax.dtypes.float0:
            return primal
        return JvpTracer(self, primal, tangent)

    def process_primitive(self, primitive, tracers, params, /):
        primals, tangents = zip(*map(self.pair, tracers), strict=True) if tracers else ((), ())
        if all(is_zero(t) for t in tangents):
            return jc.bind_with_trace(primitive, self.parent, primals, params)
        with jc.set_current_trace(self.parent):
            out, tangent_out = JVP_RULES.lookup(primitive)(list(primals), list(tangents), **params)
        if primitive.multiple_results:
            return [self.wrap(p, t) for p, t in zip(out, tangent_out, strict=True)]
        return self.wrap(out, tangent_out)

    def process_custom_jvp_call(self, primitive, fun, jvp, tracers, /, *, symbolic_zeros):
        primals, tangents = zip(*map(self.pair, tracers), strict=True)
        if all(is_zero(t) for t in tangents):
            params = dict(subfuns=(fun, jvp), symbolic_zeros=symbolic_zeros)
            return jc.bind_with_trace(primitive, self.parent, primals, params)
        with jc.set_current_trace(self.parent):
            outs, touts = custom_jvp_forward(jvp, symbolic_zeros, primals, tangents)
        return [self.wrap(p, t) for p, t in zip(outs, touts, strict=True)]

    def process_custom_vjp_call(self, primitive, fun, fwd, bwd, tracers, /, *, out_trees,
                                symbolic_zeros):  # fmt: skip
        primals, tangents = zip(*map(self.pair, tracers), strict=True)
        if all(is_zero(t) for t in tangents):
            params = dict(subfuns=(fun, fwd, bwd), out_trees=out_trees)
            params["symbolic_zeros"] = symbolic_zeros
            return jc.bind_with_trace(primitive, self.parent, primals, params)
        raise TypeError(NO_FORWARD_MODE)


def one_equation(primitive, params: dict, args: Sequence[Any]) -> jc.ClosedJaxpr:
    """The closed jaxpr of `primitive` applied to values like `args`: one equation (a custom
    call's callables are traced into its sub-jaxprs, once)."""
    structs = [aval_struct(jax.typeof(a)) for a in args]
    return jax.make_jaxpr(lambda *a: primitive.bind(*a, **params))(*structs)


def jvp_eager(
    flat_fun: Callable[..., list[Any]], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[list[Any], list[Any]]:
    """Runs `flat_fun` (flat leaves to a list of leaves) on JVP tracers.

    Args:
        flat_fun: the function, on flat lists of leaves.
        primals: the input leaves (concrete, or tracers holding values).
        tangents: one tangent per leaf (`Zero` for none).

    Returns:
        `(outputs, output_tangents)`, the tangents `Zero` where nothing depends on the inputs.
    """
    with jc.take_current_trace() as parent:
        trace = JvpTrace(parent)
        tracers = [trace.wrap(p, t) for p, t in zip(primals, tangents, strict=True)]
        with jc.set_current_trace(trace):
            outs = flat_fun(*tracers)
        pairs = [trace.pair(o) for o in outs]
    trace.invalidate()
    return [p for p, _ in pairs], [t for _, t in pairs]
