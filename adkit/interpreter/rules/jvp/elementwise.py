"""JVP rules for elementwise arithmetic and mathematical functions.

Each rule states its derivative; the slopes f'(x) of the functions of one argument, and the
partials of some binary ones, are in `rules/slopes.py`, shared with the VJP rules. Derivatives
are written with `lax` so that the primitives the rules emit are themselves in this table (the
JVP of a JVP must work).
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from ...._jax_compat import add_any_p
from ..._registry import JVP_RULES
from ..._zeros import Zero, is_zero
from ..builders import (
    add_tangents,
    binary,
    const_like,
    linear,
    scale,
    unary,
    zero_tangent,
    zeros_like_out,
)
from ..slopes import PARTIALS, SLOPES, ZERO_SLOPE


def _dtype(x):
    return np.dtype(jax.typeof(x).dtype)


# --- linear maps: d f(x) = f(dx) ---
for _p in (
    lax.neg_p,
    lax.add_p,
    lax.sub_p,
    lax.real_p,
    lax.imag_p,
    lax.complex_p,
    lax.conj_p,
    lax.reduce_precision_p,
    lax.copy_p,
    add_any_p,
):
    JVP_RULES.register(_p, linear(_p))
JVP_RULES.register(lax.select_n_p, linear(lax.select_n_p, held=(0,)))  # the predicate is held


# --- constant almost everywhere: the tangent is zero ---
for _p in ZERO_SLOPE:
    JVP_RULES.register(_p, zero_tangent(_p))


# --- element-wise functions of one argument: d f(x) = f'(x) dx, the slopes in rules/slopes.py ---
for _p, _slope in SLOPES.items():
    JVP_RULES.register(_p, unary(_p, _slope))

# --- binary functions whose partials are in rules/slopes.py: dz = ∂f/∂x dx + ∂f/∂y dy ---
for _p, (_d_first, _d_second) in PARTIALS.items():
    JVP_RULES.register(_p, binary(_p, _d_first, _d_second))


# --- powers ---
@JVP_RULES.register(lax.integer_pow_p)
def _integer_pow_jvp(primals, tangents, *, y):
    # d x^n = n x^(n-1) dx   (and 0 for n = 0)
    (x,), (t,) = primals, tangents
    out = lax.integer_pow(x, y)
    if y == 0:
        return out, Zero.like(out)
    slope = const_like(x, y) if y == 1 else lax.integer_pow(x, y - 1) * const_like(x, y)
    return out, t * slope


@JVP_RULES.register(lax.nextafter_p)
def _nextafter_jvp(primals, tangents):
    # nextafter(x, y) is x moved one ulp towards y: it follows x, d = dx (JAX defines none)
    (x, y), (tx, _) = primals, tangents
    out = lax.nextafter(x, y)
    return out, Zero.like(out) if is_zero(tx) else tx


@JVP_RULES.register(lax.polygamma_p)
def _polygamma_jvp(primals, tangents):
    # d ψ⁽ᵐ⁾(x) = ψ⁽ᵐ⁺¹⁾(x) dx; the order m is an integer-valued parameter (no tangent)
    (m, x), (_, tx) = primals, tangents
    out = lax.polygamma(m, x)
    return out, scale(tx, lax.polygamma(m + const_like(m, 1), x))


# --- products, quotients, extrema ---
@JVP_RULES.register(lax.mul_p)
def _mul_jvp(primals, tangents, *, out_dtype=None):
    # d(x y) = dx y + x dy
    (x, y), (tx, ty) = primals, tangents
    mul = lambda a, b: lax.mul_p.bind(a, b, out_dtype=out_dtype)
    out = mul(x, y)
    left = Zero.like(out) if is_zero(tx) else mul(tx, y)
    right = Zero.like(out) if is_zero(ty) else mul(x, ty)
    return out, add_tangents(left, right)


@JVP_RULES.register(lax.div_p)
def _div_jvp(primals, tangents):
    # d(x / y) = dx / y - dy x / y²
    # (not dx / y - dy out / y: a tangent that reads the output keeps that output alive in XLA,
    # 16 KiB more temp memory than jax.jvp for one 4x32x32 softmax)
    (x, y), (tx, ty) = primals, tangents
    out = lax.div(x, y)
    left = Zero.like(out) if is_zero(tx) else lax.div(tx, y)
    right = (
        Zero.like(out) if is_zero(ty) else lax.mul(lax.mul(lax.neg(ty), x), lax.integer_pow(y, -2))
    )
    return out, add_tangents(left, right)


def _extremum_jvp(primitive, first_wins):
    # d max(x, y) = dx where x > y, dy where y > x, (dx + dy) / 2 where they tie (as JAX does)
    def rule(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        out = primitive.bind(x, y)
        half = const_like(out, 0.5)
        wx = lax.select(first_wins(x, y), lax.full_like(out, 1), lax.full_like(out, 0))
        wx = lax.select(x == y, lax.full_like(out, half), wx)
        return out, add_tangents(scale(tx, wx), scale(ty, const_like(out, 1) - wx))

    return rule


JVP_RULES.register(lax.max_p, _extremum_jvp(lax.max_p, lambda x, y: x > y))
JVP_RULES.register(lax.min_p, _extremum_jvp(lax.min_p, lambda x, y: x < y))


@JVP_RULES.register(lax.abs_p)
def _abs_jvp(primals, tangents):
    # real: d|x| = dx for x ≥ 0 (also at ±0, JAX's convention), -dx for x < 0;
    # complex: d|z| = Re(conj(z) dz) / |z|
    (x,), (t,) = primals, tangents
    out = lax.abs(x)
    if np.issubdtype(_dtype(x), np.complexfloating):
        safe = lax.select(out == 0, lax.full_like(out, 1), out)
        return out, lax.real(lax.conj(x) * t) / safe
    return out, t * abs_slope(x)


def abs_slope(x):
    """1 where x ≥ 0 (so at ±0), -1 where x < 0: the slope of |x| as JAX takes it."""
    one = lax.full_like(x, 1)
    return lax.select(lax.ge(x, const_like(x, 0)), one, lax.neg(one))


@JVP_RULES.register(lax.clamp_p)
def _clamp_jvp(primals, tangents):
    # clamp(lo, x, hi) = min(max(x, lo), hi):  dx where lo < x < hi, dlo where x < lo < hi,
    # dhi where hi < x (JAX's convention, also for inverted bounds)
    (lo, x, hi), (tlo, tx, thi) = primals, tangents
    out = lax.clamp(lo, x, hi)
    zero = lax.full_like(out, 0)
    pieces = (
        (tx, lax.bitwise_and(lax.gt(x, lo), lax.lt(x, hi))),
        (tlo, lax.bitwise_and(lax.gt(lo, x), lax.lt(lo, hi))),
        (thi, lax.lt(hi, x)),
    )
    result = Zero.like(out)
    for tangent, where in pieces:
        if not is_zero(tangent):
            where = _broadcast(where, out)
            result = add_tangents(result, lax.select(where, _broadcast(tangent, out), zero))
    return out, result


def _broadcast(t, like):
    return t if np.shape(t) == np.shape(like) else lax.broadcast_in_dim(t, np.shape(like), ())


@JVP_RULES.register(lax.convert_element_type_p)
def _convert_element_type_jvp(primals, tangents, *, new_dtype, weak_type, sharding):
    # a change of float precision is linear; converting to an integer type has zero tangent
    (x,), (t,) = primals, tangents
    out = lax.convert_element_type_p.bind(
        x, new_dtype=new_dtype, weak_type=weak_type, sharding=sharding
    )
    if not jax.dtypes.issubdtype(new_dtype, np.inexact):  # (bfloat16 is inexact too)
        return out, zeros_like_out(out)
    tangent = lax.convert_element_type_p.bind(
        t, new_dtype=new_dtype, weak_type=weak_type, sharding=sharding
    )
    return out, tangent
