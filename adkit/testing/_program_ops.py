"""The operations random programs are built from, keyed by the primitive each one exercises.

Every entry of `OPERATIONS` names a registered primitive (the test suite checks that the step's
jaxpr contains it and that adkit has rules for it), how many operands it takes, how to draw its
parameters for operands of given shapes, and how to apply it. Operands are kept in the
primitive's domain by a small map in front of it (`log` sees 1 + x², `acos` sees 0.9 tanh x,
`exp` sees 2 tanh x), so values stay finite and derivatives are defined.

A second operand is first *fitted* to a shape drawn for it (`fit`): its elements are tiled and
reshaped into a shape that broadcasts against the first operand (leading axes dropped, others
kept or set to 1), into a matrix for a contraction, and so on. So values of every rank meet each
other, and broadcasting happens on either side of a binary operation.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
from jax import lax

# A parameter drawer: draw(draw, *shapes) -> dict of parameters, or None where the operation
# does not apply to operands of these shapes (a reduction of a scalar, a transpose of a vector).
Params = Callable[..., "dict[str, Any] | None"]


@dataclasses.dataclass(frozen=True)
class Operation:
    """A kind of program step: `apply(*operands, **params)`, `params = draw(draw, *shapes)`."""

    primitive: str
    arity: int
    apply: Callable[..., Any]
    draw: Params = lambda draw, *shapes: {}


def fit(x, shape):
    """`x`'s elements, tiled as needed, reshaped to `shape` (differentiable in `x`)."""
    size, flat = math.prod(shape), jnp.ravel(x)
    if flat.size < size:
        flat = jnp.tile(flat, -(-size // flat.size))
    return flat[:size].reshape(shape)


# --- domains: maps in front of a primitive that keep its operand where it is smooth ---
def _real(x):
    return x


def _positive(x):  # log, sqrt, lgamma, ...: 1 + x² ≥ 1
    return 1.0 + x * x


def _above_one(x):  # acosh: 1.5 + x² > 1
    return 1.5 + x * x


def _open_unit(x):  # asin, acos, atanh, erf_inv: |0.9 tanh x| < 1
    return 0.9 * jnp.tanh(x)


def _moderate(x):  # exp, sinh, cosh: |2 tanh x| < 2, so repeated steps cannot overflow
    return 2.0 * jnp.tanh(x)


def _below_pi_half(x):  # tan: |1.2 tanh x| < π/2
    return 1.2 * jnp.tanh(x)


def _nonnegative(x):  # log1p: x² > -1
    return x * x


_UNARY_DOMAINS = {
    "sin": _real,
    "cos": _real,
    "tanh": _real,
    "atan": _real,
    "asinh": _real,
    "logistic": _real,
    "erf": _real,
    "erfc": _real,
    "abs": _real,
    "neg": _real,
    "sign": _real,
    "floor": _real,
    "round": _real,
    "square": _real,
    "bessel_i0e": _real,
    "bessel_i1e": _real,
    "exp": _moderate,
    "exp2": _moderate,
    "expm1": _moderate,
    "sinh": _moderate,
    "cosh": _moderate,
    "tan": _below_pi_half,
    "log": _positive,
    "sqrt": _positive,
    "rsqrt": _positive,
    "cbrt": _positive,
    "lgamma": _positive,
    "digamma": _positive,
    "log1p": _nonnegative,
    "asin": _open_unit,
    "acos": _open_unit,
    "atanh": _open_unit,
    "erf_inv": _open_unit,
    "acosh": _above_one,
}


def _elementwise(name: str) -> Operation:
    primitive, domain = getattr(lax, name), _UNARY_DOMAINS[name]
    return Operation(name, 1, lambda x: primitive(domain(x)))


ELEMENTWISE = {name: _elementwise(name) for name in _UNARY_DOMAINS}
ON_THE_REAL_LINE = frozenset(n for n, domain in _UNARY_DOMAINS.items() if domain is _real)


# --- binary elementwise with broadcasting: b is fitted to a shape that broadcasts against a ---
def _broadcast_pattern(draw, shape, _=None):
    dropped = draw.integer(0, len(shape))
    pattern = tuple(d if draw.integer(0, 1) else 1 for d in shape[dropped:])
    return {"pattern": pattern, "swap": bool(draw.integer(0, 1))}


def _binary(fn, left=_real, right=_real) -> Callable[..., Any]:
    def apply(a, b, pattern, swap):
        p, q = (fit(b, pattern), a) if swap else (a, fit(b, pattern))
        return fn(left(p), right(q))

    return apply


def _zero_or_tanh(y):  # exponents in (-1, 1), exactly 0 where y ≤ 0 (x⁰ has d²/dxdy = 1/x)
    return jnp.where(y > 0, jnp.tanh(y), 0.0)


BINARY = {
    "add": Operation("add", 2, _binary(jnp.add), _broadcast_pattern),
    "sub": Operation("sub", 2, _binary(jnp.subtract), _broadcast_pattern),
    "mul": Operation("mul", 2, _binary(jnp.multiply), _broadcast_pattern),
    "div": Operation("div", 2, _binary(jnp.divide, right=_positive), _broadcast_pattern),
    "max": Operation("max", 2, _binary(jnp.maximum), _broadcast_pattern),
    "min": Operation("min", 2, _binary(jnp.minimum), _broadcast_pattern),
    "atan2": Operation("atan2", 2, _binary(jnp.arctan2), _broadcast_pattern),
    "pow": Operation("pow", 2, _binary(jnp.power, _positive, _zero_or_tanh), _broadcast_pattern),
    "rem": Operation("rem", 2, _binary(jnp.remainder, right=_positive), _broadcast_pattern),
    "select_n": Operation(
        "select_n", 2, _binary(lambda p, q: jnp.where(p > q, p * q, p - q)), _broadcast_pattern
    ),
}


def _clamp(x, b):  # bounds from another value, so their derivatives are exercised too
    # Bounds of x's shape: JAX's own clamp JVP fails on scalar bounds ("select cases must have
    # the same shapes").
    low, high = jnp.min(b) - 0.25, jnp.max(b) + 0.25
    return lax.clamp(jnp.broadcast_to(low, x.shape), x, jnp.broadcast_to(high, x.shape))


def _integer_pow(x, k):  # x^k; negative powers of 1 + x²
    return lax.integer_pow(_positive(x) if k < 0 else x, k)


BINARY["clamp"] = Operation("clamp", 2, _clamp)
ELEMENTWISE["integer_pow"] = Operation(
    "integer_pow", 1, _integer_pow, lambda draw, shape: {"k": draw.choice((2, 3, -1, -2))}
)


# --- reductions and cumulative operations along drawn axes ---
def _axes(draw, shape, _=None):
    if not shape:
        return None
    axes = tuple(a for a in range(len(shape)) if draw.integer(0, 1)) or (len(shape) - 1,)
    return {"axes": axes, "keepdims": bool(draw.integer(0, 1))}


def _axis(draw, shape, _=None):
    if not shape:
        return None
    return {"axis": draw.integer(0, len(shape) - 1), "reverse": bool(draw.integer(0, 1))}


def _reduction(fn):
    return lambda x, axes, keepdims: fn(x, axis=axes, keepdims=keepdims)


def _cumulative(fn):
    return lambda x, axis, reverse: fn(x, axis, reverse)


REDUCTIONS = {
    "reduce_sum": Operation("reduce_sum", 1, _reduction(jnp.sum), _axes),
    "reduce_max": Operation("reduce_max", 1, _reduction(jnp.max), _axes),
    "reduce_min": Operation("reduce_min", 1, _reduction(jnp.min), _axes),
    "reduce_prod": Operation("reduce_prod", 1, _reduction(jnp.prod), _axes),
    "cumsum": Operation("cumsum", 1, _cumulative(lax.cumsum), _axis),
    "cumprod": Operation("cumprod", 1, _cumulative(lax.cumprod), _axis),
    "cummax": Operation("cummax", 1, _cumulative(lax.cummax), _axis),
    "cummin": Operation("cummin", 1, _cumulative(lax.cummin), _axis),
    "cumlogsumexp": Operation("cumlogsumexp", 1, _cumulative(lax.cumlogsumexp), _axis),
}


# --- structure: transposes, reshapes, slices, padding, concatenation ---
def _permutation(draw, shape, _=None):
    perms = [p for p in itertools.permutations(range(len(shape))) if p != tuple(range(len(shape)))]
    return {"permutation": draw.choice(perms)} if perms else None


def _new_shape(draw, shape, _=None):
    size = math.prod(shape)
    options = {(size,), (1, size), shape[::-1], (*shape, 1)}
    if len(shape) >= 2:
        options.add((shape[0] * shape[1], *shape[2:]))
    options = sorted(s for s in options if s != shape and len(s) <= 4)
    return {"new_sizes": draw.choice(options)} if options else None


def _squeezable(draw, shape, _=None):
    ones = [a for a, d in enumerate(shape) if d == 1]
    return {"dimensions": (draw.choice(ones),)} if ones else None


def _new_axis(draw, shape, _=None):
    return {"axis": draw.integer(0, len(shape))} if len(shape) < 4 else None


def _broadcast(x, axis):  # a new axis of size 2 at `axis`, and every size-1 axis widened to 2
    shape = tuple(2 if d == 1 else d for d in x.shape)
    out_shape = (*shape[:axis], 2, *shape[axis:])
    dims = tuple(a if a < axis else a + 1 for a in range(x.ndim))
    return lax.broadcast_in_dim(x, out_shape, dims)


def _some_axes(draw, shape, _=None):
    if not shape:
        return None
    return {"dimensions": tuple(a for a in range(len(shape)) if draw.integer(0, 1)) or (0,)}


def _slice_of(draw, shape, _=None):
    if not shape:
        return None
    start = [draw.integer(0, d - 1) for d in shape]
    limit = [draw.integer(s + 1, d) for s, d in zip(start, shape, strict=True)]
    return {
        "start": tuple(start),
        "limit": tuple(limit),
        "strides": tuple(draw.integer(1, 2) for _ in shape),
    }


def _padding(draw, shape, _=None):
    config = []
    for d in shape:
        low, high, interior = draw.integer(-1, 2), draw.integer(-1, 2), draw.integer(0, 1)
        while d + low + high + (d - 1) * interior < 1:
            low += 1
        config.append((low, high, interior))
    return {"config": tuple(config)}


def _pad(x, b, config):  # the padding value is a value of the program, so it gets a cotangent
    value = jnp.mean(b).astype(x.dtype)
    # x + 0·value: JAX's own pad transpose fails (reduce_sum of None) when the padding value has
    # a cotangent and the operand is constant (`sign(x)`, say); adkit's does not.
    return lax.pad(x + 0.0 * value, value, config)


def _concat_axis(draw, shape, _=None):
    if not shape:
        return None
    return {"axis": draw.integer(0, len(shape) - 1), "extra": draw.integer(1, 2)}


def _concatenate(a, b, axis, extra):
    other = fit(b, (*a.shape[:axis], extra, *a.shape[axis + 1 :]))
    return lax.concatenate([a, other], axis)


STRUCTURAL = {
    "transpose": Operation(
        "transpose", 1, lambda x, permutation: lax.transpose(x, permutation), _permutation
    ),
    "reshape": Operation("reshape", 1, lambda x, new_sizes: lax.reshape(x, new_sizes), _new_shape),
    "squeeze": Operation(
        "squeeze", 1, lambda x, dimensions: lax.squeeze(x, dimensions), _squeezable
    ),
    "broadcast_in_dim": Operation("broadcast_in_dim", 1, _broadcast, _new_axis),
    "rev": Operation("rev", 1, lambda x, dimensions: lax.rev(x, dimensions), _some_axes),
    "slice": Operation(
        "slice", 1, lambda x, start, limit, strides: lax.slice(x, start, limit, strides), _slice_of
    ),
    "pad": Operation("pad", 2, _pad, _padding),
    "concatenate": Operation("concatenate", 2, _concatenate, _concat_axis),
}
