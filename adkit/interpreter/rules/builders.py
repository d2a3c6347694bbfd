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
    """A scalar of x's dtype (keeps float32 programs in float32).

    `jax.lax` functions do not promote their operands, so a constant operand needs the other
    operand's dtype exactly: `lax.mul(x, const_like(x, 0.5))` works for any floating `x`, where
    `lax.mul(x, 0.5)` fails for a float32 `x` when x64 is enabled.

    Args:
        x: an array (or anything `jax.typeof` accepts) whose dtype the result takes.
        value: the scalar's value.

    Returns:
        A rank-0 numpy array of `value` in `x`'s dtype.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.interpreter.rules import const_like
        >>> const_like(jnp.ones(3, jnp.float16), 2)
        array(2., dtype=float16)
    """
    return np.array(value, dtype=jax.typeof(x).dtype)


def select_where(pred: Any, on_true: Any, on_false: Any) -> Any:
    """`on_true` where `pred`, else `on_false`, all three broadcast to the widest shape first:
    binary primitives accept size-1 dimensions and rank-0 operands next to larger arrays, but
    `select_n` wants one shape.

    Args:
        pred: a boolean array.
        on_true: the values where `pred` is True.
        on_false: the values where `pred` is False.

    Returns:
        An array of the broadcast shape of the three arguments.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.interpreter.rules import select_where
        >>> pred = jnp.array([True, False, True])
        >>> select_where(pred, jnp.array([1.0, 2.0, 3.0]), jnp.float32(0.0))  # 0.0 is broadcast
        Array([1., 0., 3.], dtype=float32)
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in (pred, on_true, on_false)))

    def widen(v):
        if np.shape(v) == shape:
            return v
        dims = tuple(range(len(shape) - np.ndim(v), len(shape)))
        return jax.lax.broadcast_in_dim(v, shape, dims)

    return jax.lax.select(widen(pred), widen(on_true), widen(on_false))


def zeros_like_out(out: Any) -> Any:
    """Zero tangents for a primitive's output (a list for multiple results).

    Args:
        out: the primitive's output: an array, or a list or tuple of arrays.

    Returns:
        A `Zero` of the output's shape and tangent dtype (float0 for integer and boolean
            outputs), or a list of them, one per output.

    Examples:
        >>> import jax.numpy as jnp
        >>> from adkit.interpreter.rules import zeros_like_out
        >>> zeros_like_out(jnp.ones((2, 3)))
        Zero(shape=(2, 3), dtype=dtype('float32'))
        >>> zeros_like_out([jnp.ones(2), jnp.arange(2)])  # an integer output: float0
        [Zero(shape=(2,), dtype=dtype('float32')), Zero(shape=(2,), dtype=dtype([('float0', 'V')]))]
    """
    if isinstance(out, list | tuple):
        return [Zero.like(o) for o in out]
    return Zero.like(out)


def add_tangents(a: Any, b: Any) -> Any:
    """a + b where either may be a symbolic zero.

    Args:
        a: a tangent (an array or a `Zero`).
        b: a tangent of the same shape.

    Returns:
        The other operand where one is a `Zero` (so two `Zero`s give a `Zero`), else `a + b`.

    Examples:
        >>> import numpy as np, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Zero, add_tangents
        >>> t = jnp.array([1.0, 2.0])
        >>> add_tangents(Zero((2,), np.dtype(np.float32)), t)
        Array([1., 2.], dtype=float32)
        >>> add_tangents(t, t)
        Array([2., 4.], dtype=float32)
    """
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    return a + b


def scale(t: Any, factor: Any) -> Any:
    """t * factor, skipping symbolic zeros.

    Args:
        t: a tangent (an array or a `Zero`).
        factor: what to multiply it by (an array or a scalar).

    Returns:
        `t` itself if it is a `Zero` (`factor` is not used), else `t * factor`.

    Examples:
        >>> import numpy as np, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Zero, scale
        >>> scale(jnp.array([1.0, 2.0]), 3.0)
        Array([3., 6.], dtype=float32)
        >>> scale(Zero((2,), np.dtype(np.float32)), 3.0)
        Zero(shape=(2,), dtype=dtype('float32'))
    """
    return t if is_zero(t) else t * factor


def linear(primitive: Primitive, only: Sequence[int] | None = None, held: Sequence[int] = ()):
    """The rule of a primitive that is linear in its operands: d f(x) = f(dx).

    By default every operand is linear (jointly: add, concatenate, pad, reshape, ...). `only`
    lists the linear operands when the others are indices or sizes (gather, dynamic_slice);
    `held` lists the operands that are not linear (the predicate of select_n). Non-linear
    operands keep their primal value in the tangent computation. Symbolic zero tangents of
    linear operands become arrays of zeros; if all of them are zero, the output tangent is a
    `Zero`.

    Args:
        primitive: the primitive; the rule binds it to the primals and to the tangents.
        only: the positions of the linear operands (default: all of them).
        held: positions of operands that are not linear.

    Returns:
        A JVP rule `rule(primals, tangents, **params) -> (out, tangent_out)`, for
            `adkit.register_jvp`.

    Examples:
        >>> import numpy as np, jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Zero, linear
        >>> rule = linear(jax.lax.add_p)  # d(x + y) = dx + dy
        >>> x, y = jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0])
        >>> rule([x, y], [jnp.array([1.0, 0.0]), Zero((2,), np.dtype(np.float32))])
        (Array([4., 6.], dtype=float32), Array([1., 0.], dtype=float32))
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
    where `y = f(x)` is already computed (handy for exp, tanh, sqrt, ...).

    Args:
        primitive: the primitive of f, of one operand.
        derivative: `derivative(x, y) -> f'(x)`, given the operand and the output.

    Returns:
        A JVP rule `rule(primals, tangents, **params) -> (out, tangent_out)`, for
            `adkit.register_jvp`.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> from jax.extend.core import Primitive
        >>> from adkit.interpreter.rules import JVP_RULES, unary
        >>> expm1_p = Primitive("expm1_unary_example")  # x -> eˣ - 1
        >>> _ = expm1_p.def_impl(jnp.expm1)
        >>> _ = expm1_p.def_abstract_eval(lambda x: x)
        >>> _ = adkit.register_jvp(expm1_p, unary(expm1_p, lambda x, y: y + 1))  # f' = eˣ
        >>> [float(v) for v in adkit.jvp(expm1_p.bind, (0.0,), (2.0,))]
        [0.0, 2.0]
        >>> del JVP_RULES[expm1_p]  # (keeps the shipped table as it was)
    """

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
    plumbing, floor/round/sign, ...): the output tangent is zero.

    Args:
        primitive: the primitive.

    Returns:
        A JVP rule `rule(primals, tangents, **params) -> (out, tangent_out)` whose tangent is a
            `Zero` (a list of them for a primitive with multiple results).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import zero_tangent
        >>> rule = zero_tangent(jax.lax.floor_p)
        >>> rule([jnp.array([1.5, -0.5])], [jnp.ones(2)])
        (Array([ 1., -1.], dtype=float32), Zero(shape=(2,), dtype=dtype('float32')))
    """

    def rule(primals, tangents, **params):
        out = primitive.bind(*primals, **params)
        return out, zeros_like_out(out)

    return rule


# --- VJP rules from rules adkit already has ---
def from_transpose(primitive: jc.Primitive, multilinear: bool = False) -> None:
    """Registers the VJP of a primitive linear in its active operands: its transpose rule.

    The VJP rule (tape path) calls the primitive's transpose rule, looked up in
    `TRANSPOSE_RULES` when the VJP is applied, with the active operands (those that need a
    cotangent) as `UndefinedPrimal` and the others as their values.

    Args:
        primitive: the primitive; it needs a transpose rule (`adkit.register_transpose`).
        multilinear: False (default) for a primitive jointly linear in its active operands (add,
            concatenate): one transpose call with all of them undefined. True for one linear in
            each operand with the others held (mul, dot_general): one call per active operand.

    Examples:
        >>> import adkit
        >>> from jax.extend.core import Primitive
        >>> from adkit.interpreter.rules import from_transpose, linear
        >>> from adkit.ops import remove_adkit_rules
        >>> triple_p = Primitive("triple_from_transpose_example")  # x -> 3x
        >>> _ = triple_p.def_impl(lambda x: 3 * x)
        >>> _ = triple_p.def_abstract_eval(lambda x: x)
        >>> _ = adkit.register_jvp(triple_p, linear(triple_p))
        >>> _ = adkit.register_transpose(triple_p, lambda ct, x: [triple_p.bind(ct)])
        >>> from_transpose(triple_p)
        >>> float(adkit.grad(triple_p.bind)(2.0))  # the tape path, by the transpose rule
        3.0
        >>> remove_adkit_rules(triple_p)  # (keeps the shipped tables as they were)
    """

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
    rounding, integer plumbing): nothing flows back.

    Args:
        primitive: the primitive.

    Examples:
        >>> import jax.numpy as jnp, adkit
        >>> from jax.extend.core import Primitive
        >>> from adkit.interpreter.rules import no_cotangent, zero_tangent
        >>> from adkit.ops import remove_adkit_rules
        >>> sign_p = Primitive("sign_no_cotangent_example")
        >>> _ = sign_p.def_impl(jnp.sign)
        >>> _ = sign_p.def_abstract_eval(lambda x: x)
        >>> _ = adkit.register_jvp(sign_p, zero_tangent(sign_p))
        >>> no_cotangent(sign_p)
        >>> float(adkit.grad(lambda x: x * sign_p.bind(x))(-2.0))  # sign(x) + x · 0
        -1.0
        >>> remove_adkit_rules(sign_p)  # (keeps the shipped tables as they were)
    """
    VJP_RULES.register(primitive, lambda ct, res, **params: [None] * len(res.inputs))


def refuse_scatter_apply(update_jaxpr) -> None:
    """Refuses `x.at[i].apply(f)` (a scatter carrying its own update function), as JAX does."""
    if update_jaxpr is not None:
        raise NotImplementedError(
            "adkit, like JAX, does not differentiate a scatter that applies a function to the "
            "elements it selects (`x.at[i].apply(f)`): its derivative would need f's. Write it as "
            "`x.at[i].set(f(x[i]))`, which differentiates through f."
        )
