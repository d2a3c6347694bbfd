"""Small builders for the common shapes of JVP rules, so each family file states only maths."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from ... import _jax_compat as jc
from ..._jax_compat import Primitive
from .._registry import TRANSPOSE_RULES, VJP_RULES
from .._zeros import UndefinedPrimal, Zero, instantiate, is_zero


def const_like(x: Any, value: Any) -> np.ndarray:
    """A scalar of x's dtype (keeps float32 programs in float32)."""
    return np.array(value, dtype=jax.typeof(x).dtype)


def select_where(pred: Any, on_true: Any, on_false: Any) -> Any:
    """`on_true` where `pred`, else `on_false`, all three broadcast to the widest shape first:
    binary primitives accept size-1 dimensions and rank-0 operands next to larger arrays, but
    `select_n` wants one shape."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in (pred, on_true, on_false)))

    def widen(v):
        if np.shape(v) == shape:
            return v
        dims = tuple(range(len(shape) - np.ndim(v), len(shape)))
        return jax.lax.broadcast_in_dim(v, shape, dims)

    return jax.lax.select(widen(pred), widen(on_true), widen(on_false))


def zeros_like_out(out: Any) -> Any:
    """Zero tangents for a primitive's output (a list for multiple results)."""
    if isinstance(out, list | tuple):
        return [Zero.like(o) for o in out]
    return Zero.like(out)


def add_tangents(a: Any, b: Any) -> Any:
    """a + b where either may be a symbolic zero."""
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    return a + b


def scale(t: Any, factor: Any) -> Any:
    """t * factor, skipping symbolic zeros."""
    return t if is_zero(t) else t * factor


def linear(primitive: Primitive, only: Sequence[int] | None = None, held: Sequence[int] = ()):
    """The rule of a primitive that is linear in its operands: d f(x) = f(dx).

    By default every operand is linear (jointly: add, concatenate, pad, reshape, ...). `only`
    lists the linear operands when the others are indices or sizes (gather, dynamic_slice);
    `held` lists the operands that are not linear (the predicate of select_n). Non-linear
    operands keep their primal value in the tangent computation.
    """

    def rule(primals, tangents, **params):
        out = primitive.bind(*primals, **params)
        positions = [
            i for i in range(len(primals)) if (only is None or i in only) and i not in held
        ]
        if all(is_zero(tangents[i]) for i in positions):
            return out, zeros_like_out(out)
        args = [instantiate(tangents[i]) if i in positions else p for i, p in enumerate(primals)]
        return out, primitive.bind(*args, **params)

    return rule


def unary(primitive: Primitive, derivative: Callable[..., Any]):
    """The rule of an elementwise f: d f(x) = f'(x) dx, with `derivative(x, y) = f'(x)`
    where `y = f(x)` is already computed (handy for exp, tanh, sqrt, ...)."""

    def rule(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        y = primitive.bind(x, **params)
        return y, scale(t, derivative(x, y))

    return rule


def binary(primitive: Primitive, d_first: Callable[..., Any], d_second: Callable[..., Any]):
    """The rule of an elementwise z = f(x, y): dz = ∂f/∂x dx + ∂f/∂y dy, with the partials
    given as `d_first(x, y, z)` and `d_second(x, y, z)`. A partial is formed only where its
    tangent is nonzero (∂P/∂a of igamma is a primitive without a derivative: differentiating
    in x twice must not meet it)."""

    def rule(primals, tangents, **params):
        (x, y), (tx, ty) = primals, tangents
        z = primitive.bind(x, y, **params)
        first = tx if is_zero(tx) else scale(tx, d_first(x, y, z))
        second = ty if is_zero(ty) else scale(ty, d_second(x, y, z))
        return z, add_tangents(first, second)

    return rule


def zero_tangent(primitive: Primitive):
    """The rule of a primitive whose output does not vary with its inputs (comparisons, integer
    plumbing, floor/round/sign, ...): the output tangent is zero."""

    def rule(primals, tangents, **params):
        out = primitive.bind(*primals, **params)
        return out, zeros_like_out(out)

    return rule


# --- VJP rules from rules adkit already has ---
def from_transpose(primitive: jc.Primitive, multilinear: bool = False) -> None:
    """Registers the VJP of a primitive linear in its active operands: its transpose rule."""

    def rule(ct, res, **params):
        transpose = TRANSPOSE_RULES.lookup(primitive)
        groups = (
            [[i] for i, a in enumerate(res.active) if a]
            if multilinear
            else [[i for i, a in enumerate(res.active) if a]]
        )
        sends: list[Any] = [None] * len(res.inputs)
        for group in groups:
            operands = [
                UndefinedPrimal(jax.typeof(x)) if i in group else x
                for i, x in enumerate(res.inputs)
            ]
            for i, ct_i in enumerate(transpose(ct, *operands, **params)):
                if i in group:
                    sends[i] = None if isinstance(ct_i, Zero) else ct_i
        return sends

    VJP_RULES.register(primitive, rule)


def no_cotangent(primitive: jc.Primitive) -> None:
    """Registers the VJP of a primitive whose output does not vary with its inputs (comparisons,
    rounding, integer plumbing): nothing flows back."""
    VJP_RULES.register(primitive, lambda ct, res, **params: [None] * len(res.inputs))


def refuse_scatter_apply(update_jaxpr) -> None:
    """Refuses `x.at[i].apply(f)` (a scatter carrying its own update function), as JAX does."""
    if update_jaxpr is not None:
        raise NotImplementedError(
            "adkit, like JAX, does not differentiate a scatter that applies a function to the "
            "elements it selects (`x.at[i].apply(f)`): its derivative would need f's. Write it as "
            "`x.at[i].set(f(x[i]))`, which differentiates through f."
        )
