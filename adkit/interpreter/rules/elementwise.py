"""JVP rules for elementwise arithmetic and mathematical functions.

Each rule states its derivative. Derivatives are written with `lax` so that the primitives the
rules emit are themselves in this table (the JVP of a JVP must work).
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from ..._jax_compat import add_any_p
from .._zeros import Zero, instantiate, is_zero
from ._helpers import (
    add_tangents,
    const_like,
    linear,
    scale,
    select_where,
    unary,
    zero_tangent,
    zeros_like_out,
)
from ._table import register_jvp


def _dtype(x):
    return np.dtype(jax.typeof(x).dtype)


# --- linear maps: d f(x) = f(dx) ---
for _p in (lax.neg_p, lax.add_p, lax.sub_p, lax.real_p, lax.imag_p, lax.complex_p, lax.conj_p,
           lax.reduce_precision_p, lax.copy_p, add_any_p):  # fmt: skip
    register_jvp(_p, linear(_p))
register_jvp(lax.select_n_p, linear(lax.select_n_p, held=(0,)))  # the predicate is held


# --- constant almost everywhere: the tangent is zero ---
for _p in (lax.sign_p, lax.floor_p, lax.ceil_p, lax.round_p, lax.is_finite_p,
           lax.stop_gradient_p,
           lax.eq_p, lax.ne_p, lax.lt_p, lax.le_p, lax.gt_p, lax.ge_p,
           lax.and_p, lax.or_p, lax.xor_p, lax.not_p, lax.population_count_p, lax.clz_p,
           lax.shift_left_p, lax.shift_right_arithmetic_p, lax.shift_right_logical_p):  # fmt: skip
    register_jvp(_p, zero_tangent(_p))


# --- exponentials and logarithms ---
register_jvp(lax.exp_p, unary(lax.exp_p, lambda x, y: y))  # d e^x = e^x dx
register_jvp(lax.exp2_p, unary(lax.exp2_p, lambda x, y: y * const_like(x, np.log(2))))  # 2^x ln2 dx
register_jvp(lax.expm1_p, unary(lax.expm1_p, lambda x, y: y + const_like(x, 1)))  # e^x dx
register_jvp(lax.log_p, unary(lax.log_p, lambda x, y: lax.reciprocal(x)))  # dx / x
register_jvp(lax.log1p_p, unary(lax.log1p_p, lambda x, y: lax.reciprocal(x + const_like(x, 1))))
register_jvp(lax.logistic_p, unary(lax.logistic_p, lambda x, y: y * (const_like(x, 1) - y)))


# --- powers and roots ---
register_jvp(lax.sqrt_p, unary(lax.sqrt_p, lambda x, y: lax.div(const_like(x, 0.5), y)))  # dx/(2√x)
register_jvp(lax.rsqrt_p, unary(lax.rsqrt_p, lambda x, y: lax.div(y, x) * const_like(x, -0.5)))
# d ∛x = dx / (3 ∛x²)
register_jvp(
    lax.cbrt_p, unary(lax.cbrt_p, lambda x, y: lax.integer_pow(y, -2) * const_like(x, 1 / 3))
)
register_jvp(lax.square_p, unary(lax.square_p, lambda x, y: x * const_like(x, 2)))  # 2x dx


@register_jvp(lax.integer_pow_p)
def _integer_pow_jvp(primals, tangents, *, y):
    # d x^n = n x^(n-1) dx   (and 0 for n = 0)
    (x,), (t,) = primals, tangents
    out = lax.integer_pow(x, y)
    if y == 0:
        return out, Zero.like(out)
    slope = const_like(x, y) if y == 1 else lax.integer_pow(x, y - 1) * const_like(x, y)
    return out, t * slope


@register_jvp(lax.pow_p)
def _pow_jvp(primals, tangents):
    # d x^y = y x^(y-1) dx + log(x) x^y dy, with the dx term 0 where y = 0 and the dy term 0
    # where x = 0 (the limits, as JAX defines them)
    (x, y), (tx, ty) = primals, tangents
    out = lax.pow(x, y)
    result = Zero.like(out)
    if not is_zero(tx):
        slope = select_where(y == 0, const_like(out, 0), y * lax.pow(x, y - const_like(y, 1)))
        result = add_tangents(result, tx * slope)
    if not is_zero(ty):
        safe_x = lax.select(x == 0, lax.full_like(x, 1), x)
        result = add_tangents(result, ty * (lax.log(safe_x) * out))
    return out, result


# --- trigonometric and hyperbolic ---
register_jvp(lax.sin_p, unary(lax.sin_p, lambda x, y: lax.cos(x)))  # d sin x = cos x dx
register_jvp(lax.cos_p, unary(lax.cos_p, lambda x, y: -lax.sin(x)))  # d cos x = -sin x dx
register_jvp(lax.tan_p, unary(lax.tan_p, lambda x, y: const_like(x, 1) + y * y))  # (1 + tan²x) dx
register_jvp(lax.sinh_p, unary(lax.sinh_p, lambda x, y: lax.cosh(x)))
register_jvp(lax.cosh_p, unary(lax.cosh_p, lambda x, y: lax.sinh(x)))
register_jvp(
    lax.tanh_p, unary(lax.tanh_p, lambda x, y: const_like(x, 1) - y * y)
)  # (1 - tanh²x) dx
# d asin x = dx / √(1 - x²);  d acos x = -dx / √(1 - x²)
register_jvp(lax.asin_p, unary(lax.asin_p, lambda x, y: lax.rsqrt(_one_minus_square(x))))
register_jvp(lax.acos_p, unary(lax.acos_p, lambda x, y: -lax.rsqrt(_one_minus_square(x))))
# d atan x = dx / (1 + x²)
register_jvp(lax.atan_p, unary(lax.atan_p, lambda x, y: lax.reciprocal(const_like(x, 1) + x * x)))
# d asinh x = dx / √(x² + 1);  d acosh x = dx / √((x - 1)(x + 1));  d atanh x = dx / (1 - x²)
register_jvp(lax.asinh_p, unary(lax.asinh_p, lambda x, y: lax.rsqrt(x * x + const_like(x, 1))))
register_jvp(lax.acosh_p, unary(lax.acosh_p, lambda x, y: lax.rsqrt(_square_minus_one(x))))
register_jvp(lax.atanh_p, unary(lax.atanh_p, lambda x, y: lax.reciprocal(_one_minus_square(x))))


def _one_minus_square(x):
    one = const_like(x, 1)
    return (one - x) * (one + x)


def _square_minus_one(x):
    one = const_like(x, 1)
    return (x - one) * (x + one)


@register_jvp(lax.nextafter_p)
def _nextafter_jvp(primals, tangents):
    # nextafter(x, y) is x moved one ulp towards y: it follows x, d = dx (JAX defines none)
    (x, y), (tx, _) = primals, tangents
    out = lax.nextafter(x, y)
    return out, Zero.like(out) if is_zero(tx) else tx


@register_jvp(lax.atan2_p)
def _atan2_jvp(primals, tangents):
    # atan2(x, y) = atan(x / y):  d = (y dx - x dy) / (x² + y²)
    (x, y), (tx, ty) = primals, tangents
    out = lax.atan2(x, y)
    denominator = x * x + y * y
    result = add_tangents(scale(tx, y), scale(ty, -x))
    return out, result / denominator


# --- special functions ---
_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)
register_jvp(
    lax.erf_p, unary(lax.erf_p, lambda x, y: const_like(x, _TWO_OVER_SQRT_PI) * lax.exp(-x * x))
)
register_jvp(
    lax.erfc_p, unary(lax.erfc_p, lambda x, y: const_like(x, -_TWO_OVER_SQRT_PI) * lax.exp(-x * x))
)
# erf_inv: d erf⁻¹(x) = (√π / 2) exp(erf⁻¹(x)²) dx
register_jvp(
    lax.erf_inv_p,
    unary(lax.erf_inv_p, lambda x, y: const_like(x, np.sqrt(np.pi) / 2) * lax.exp(y * y)),
)
register_jvp(lax.lgamma_p, unary(lax.lgamma_p, lambda x, y: lax.digamma(x)))  # d lnΓ = ψ dx
register_jvp(lax.digamma_p, unary(lax.digamma_p, lambda x, y: lax.polygamma(const_like(x, 1), x)))
# d I0e(x) = (I1e(x) - sign(x) I0e(x)) dx
register_jvp(
    lax.bessel_i0e_p, unary(lax.bessel_i0e_p, lambda x, y: lax.bessel_i1e(x) - lax.sign(x) * y)
)


def _bessel_i1e_slope(x, y):
    # d I1e(x) = (I0e(x) - I1e(x) (sign(x) + 1/x)) dx, whose limit at x = 0 is 1/2
    eps = np.finfo(_dtype(x)).eps
    not_tiny = lax.abs(x) > const_like(x, eps)
    safe_x = lax.select(not_tiny, x, lax.full_like(x, eps))
    slope = lax.bessel_i0e(safe_x) - y * (lax.sign(safe_x) + lax.reciprocal(safe_x))
    return lax.select(not_tiny, slope, lax.full_like(x, 0.5))


register_jvp(lax.bessel_i1e_p, unary(lax.bessel_i1e_p, _bessel_i1e_slope))


@register_jvp(lax.polygamma_p)
def _polygamma_jvp(primals, tangents):
    # d ψ⁽ᵐ⁾(x) = ψ⁽ᵐ⁺¹⁾(x) dx; the order m is an integer-valued parameter (no tangent)
    (m, x), (_, tx) = primals, tangents
    out = lax.polygamma(m, x)
    return out, scale(tx, lax.polygamma(m + const_like(m, 1), x))


# --- products, quotients, extrema ---
@register_jvp(lax.mul_p)
def _mul_jvp(primals, tangents, *, out_dtype=None):
    # d(x y) = dx y + x dy
    (x, y), (tx, ty) = primals, tangents
    mul = lambda a, b: lax.mul_p.bind(a, b, out_dtype=out_dtype)
    out = mul(x, y)
    left = Zero.like(out) if is_zero(tx) else mul(tx, y)
    right = Zero.like(out) if is_zero(ty) else mul(x, ty)
    return out, add_tangents(left, right)


@register_jvp(lax.div_p)
def _div_jvp(primals, tangents):
    # d(x / y) = dx / y - (x / y) dy / y
    (x, y), (tx, ty) = primals, tangents
    out = lax.div(x, y)
    numerator = add_tangents(tx, scale(ty, -out))
    return out, lax.div(instantiate(numerator) if is_zero(numerator) else numerator, y)


@register_jvp(lax.rem_p)
def _rem_jvp(primals, tangents):
    # rem(x, y) = x - y trunc(x / y):  d = dx - trunc(x / y) dy
    (x, y), (tx, ty) = primals, tangents
    out = lax.rem(x, y)
    quotient = lax.div(x, y)
    whole = lax.sign(quotient) * lax.floor(lax.abs(quotient))
    return out, add_tangents(tx, scale(ty, -whole))


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


register_jvp(lax.max_p, _extremum_jvp(lax.max_p, lambda x, y: x > y))
register_jvp(lax.min_p, _extremum_jvp(lax.min_p, lambda x, y: x < y))


@register_jvp(lax.abs_p)
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


@register_jvp(lax.clamp_p)
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


@register_jvp(lax.convert_element_type_p)
def _convert_element_type_jvp(primals, tangents, *, new_dtype, weak_type, sharding):
    # a change of float precision is linear; converting to an integer type has zero tangent
    (x,), (t,) = primals, tangents
    out = lax.convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type,
                                          sharding=sharding)  # fmt: skip
    if not jax.dtypes.issubdtype(new_dtype, np.inexact):  # (bfloat16 is inexact too)
        return out, zeros_like_out(out)
    tangent = lax.convert_element_type_p.bind(
        t, new_dtype=new_dtype, weak_type=weak_type, sharding=sharding
    )
    return out, tangent
