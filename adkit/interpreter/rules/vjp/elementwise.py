"""VJP rules (tape path of reverse mode): elementwise primitives.

An elementwise y = f(x) pulls back by a product, x̄ = ȳ f'(x). For complex x this is JAX's
convention too: the pullback of t ↦ a t is c ↦ a c, with no conjugate (cotangents are linear
functionals, not Hermitian duals). A binary z = f(x, y) sends x̄ = z̄ ∂f/∂x and ȳ = z̄ ∂f/∂y;
lax lets a rank-0 operand meet an array, so each share is summed back to its operand's shape.

Each rule mirrors adkit's JVP rule (`rules/elementwise.py`) at special points: the same
one-sided choices at kinks, the same limits where a formula is 0/0.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from .... import _jax_compat as jc
from .._helpers import const_like, select_where
from .._table import register_vjp
from ..elementwise import abs_slope
from ..transpose._util import unbroadcast
from ._derive import from_transpose, no_cotangent


def _unary(primitive, slope):
    """Registers x̄ = ȳ f'(x) for an elementwise f, where `slope(x, y) = f'(x)`, y = f(x)."""

    def rule(ct, res, **params):
        (x,), (y,) = res.inputs, res.outputs
        return [ct * slope(x, y)]

    register_vjp(primitive, rule)


def _to_shape_of(x, ct):
    """`ct` summed down to operand x's shape (x may be a rank-0 operand next to an array)."""
    return unbroadcast(ct, jax.typeof(x))


# --- linear maps: the pullback is the transpose ---
for _p in (lax.neg_p, lax.add_p, lax.sub_p, jc.add_any_p, lax.real_p, lax.imag_p, lax.complex_p,
           lax.conj_p, lax.copy_p, lax.reduce_precision_p, lax.convert_element_type_p,
           lax.select_n_p):  # fmt: skip
    from_transpose(_p)  # select_n: linear in the cases; the predicate is an integer (no cotangent)


# --- constant almost everywhere, or integer/boolean/key valued: nothing flows back ---
for _p in (lax.sign_p, lax.floor_p, lax.ceil_p, lax.round_p, lax.is_finite_p,
           lax.stop_gradient_p,
           lax.eq_p, lax.ne_p, lax.lt_p, lax.le_p, lax.gt_p, lax.ge_p,
           lax.and_p, lax.or_p, lax.xor_p, lax.not_p, lax.population_count_p, lax.clz_p,
           lax.shift_left_p, lax.shift_right_arithmetic_p, lax.shift_right_logical_p,
           lax.iota_p, lax.bitcast_convert_type_p):  # fmt: skip
    no_cotangent(_p)
# (the random-number and platform primitives are in `misc.py`, next to their JVP rules' family)


# --- exponentials and logarithms ---
_unary(lax.exp_p, lambda x, y: y)  # x̄ = ȳ eˣ
_unary(lax.exp2_p, lambda x, y: y * const_like(x, np.log(2)))  # x̄ = ȳ 2ˣ ln 2
_unary(lax.expm1_p, lambda x, y: y + const_like(x, 1))  # x̄ = ȳ eˣ = ȳ (y + 1)
_unary(lax.log_p, lambda x, y: lax.reciprocal(x))  # x̄ = ȳ / x
_unary(lax.log1p_p, lambda x, y: lax.reciprocal(x + const_like(x, 1)))  # x̄ = ȳ / (1 + x)
_unary(lax.logistic_p, lambda x, y: y * (const_like(x, 1) - y))  # x̄ = ȳ y (1 - y)


# --- powers and roots ---
_unary(lax.sqrt_p, lambda x, y: lax.div(const_like(x, 0.5), y))  # x̄ = ȳ / (2 √x)
_unary(lax.rsqrt_p, lambda x, y: lax.div(y, x) * const_like(x, -0.5))  # x̄ = -ȳ x^(-3/2) / 2
_unary(lax.cbrt_p, lambda x, y: lax.integer_pow(y, -2) * const_like(x, 1 / 3))  # ȳ / (3 ∛x²)
_unary(lax.square_p, lambda x, y: x * const_like(x, 2))  # x̄ = 2 x ȳ


@register_vjp(lax.integer_pow_p)
def _integer_pow_vjp(ct, res, *, y):
    # x̄ = ȳ n xⁿ⁻¹  (nothing for n = 0, where xⁿ = 1)
    (x,) = res.inputs
    if y == 0:
        return [None]
    if y == 1:
        return [ct]
    return [ct * (lax.integer_pow(x, y - 1) * const_like(x, y))]


@register_vjp(lax.pow_p)
def _pow_vjp(ct, res):
    # z = xʸ:  x̄ = z̄ y xʸ⁻¹ (0 where y = 0),  ȳ = z̄ log(x) z (0 where x = 0), the limits as
    # JAX takes them; an integer exponent gets no cotangent
    x, y = res.inputs
    (z,) = res.outputs
    x_bar = y_bar = None
    if res.active[0]:
        y_real = lax.convert_element_type(y, jax.typeof(x).dtype)  # y may be an integer
        slope = y_real * lax.pow(x, y_real - const_like(x, 1))
        slope = select_where(y_real == const_like(x, 0), const_like(z, 0), slope)
        x_bar = _to_shape_of(x, ct * slope)
    if res.active[1]:
        safe_x = lax.select(x == const_like(x, 0), lax.full_like(x, 1), x)
        y_bar = _to_shape_of(y, ct * (lax.log(safe_x) * z))
    return [x_bar, y_bar]


# --- trigonometric and hyperbolic ---
_unary(lax.sin_p, lambda x, y: lax.cos(x))  # x̄ = ȳ cos x
_unary(lax.cos_p, lambda x, y: -lax.sin(x))  # x̄ = -ȳ sin x
_unary(lax.tan_p, lambda x, y: const_like(x, 1) + y * y)  # x̄ = ȳ (1 + tan²x)
_unary(lax.sinh_p, lambda x, y: lax.cosh(x))  # x̄ = ȳ cosh x
_unary(lax.cosh_p, lambda x, y: lax.sinh(x))  # x̄ = ȳ sinh x
_unary(lax.tanh_p, lambda x, y: const_like(x, 1) - y * y)  # x̄ = ȳ (1 - tanh²x)


def _one_minus_square(x):
    one = const_like(x, 1)
    return (one - x) * (one + x)


_unary(lax.asin_p, lambda x, y: lax.rsqrt(_one_minus_square(x)))  # x̄ = ȳ / √(1 - x²)
_unary(lax.acos_p, lambda x, y: -lax.rsqrt(_one_minus_square(x)))  # x̄ = -ȳ / √(1 - x²)
_unary(lax.atan_p, lambda x, y: lax.reciprocal(const_like(x, 1) + x * x))  # x̄ = ȳ / (1 + x²)
_unary(lax.asinh_p, lambda x, y: lax.rsqrt(x * x + const_like(x, 1)))  # x̄ = ȳ / √(x² + 1)
# x̄ = ȳ / √((x - 1)(x + 1))
_unary(lax.acosh_p, lambda x, y: lax.rsqrt((x - const_like(x, 1)) * (x + const_like(x, 1))))
_unary(lax.atanh_p, lambda x, y: lax.reciprocal(_one_minus_square(x)))  # x̄ = ȳ / (1 - x²)


@register_vjp(lax.atan2_p)
def _atan2_vjp(ct, res):
    # z = atan2(x, y):  x̄ = z̄ y / (x² + y²),  ȳ = -z̄ x / (x² + y²)
    x, y = res.inputs
    scaled = ct / (x * x + y * y)
    return [
        _to_shape_of(x, scaled * y) if res.active[0] else None,
        _to_shape_of(y, -scaled * x) if res.active[1] else None,
    ]


# --- special functions ---
_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)
_unary(lax.erf_p, lambda x, y: const_like(x, _TWO_OVER_SQRT_PI) * lax.exp(-x * x))  # 2/√π e^-x²
_unary(lax.erfc_p, lambda x, y: const_like(x, -_TWO_OVER_SQRT_PI) * lax.exp(-x * x))
# x̄ = ȳ (√π / 2) exp(erf⁻¹(x)²)
_unary(lax.erf_inv_p, lambda x, y: const_like(x, np.sqrt(np.pi) / 2) * lax.exp(y * y))
_unary(lax.lgamma_p, lambda x, y: lax.digamma(x))  # x̄ = ȳ ψ(x)
_unary(lax.digamma_p, lambda x, y: lax.polygamma(const_like(x, 1), x))  # x̄ = ȳ ψ⁽¹⁾(x)
# x̄ = ȳ (I1e(x) - sign(x) I0e(x))
_unary(lax.bessel_i0e_p, lambda x, y: lax.bessel_i1e(x) - lax.sign(x) * y)


def _bessel_i1e_slope(x, y):
    # I1e'(x) = I0e(x) - I1e(x) (sign(x) + 1/x), whose limit at x = 0 is 1/2
    eps = np.finfo(jax.typeof(x).dtype).eps
    not_tiny = lax.abs(x) > const_like(x, eps)
    safe_x = lax.select(not_tiny, x, lax.full_like(x, eps))
    slope = lax.bessel_i0e(safe_x) - y * (lax.sign(safe_x) + lax.reciprocal(safe_x))
    return lax.select(not_tiny, slope, lax.full_like(x, 0.5))


_unary(lax.bessel_i1e_p, _bessel_i1e_slope)  # x̄ = ȳ I1e'(x)


@register_vjp(lax.polygamma_p)
def _polygamma_vjp(ct, res):
    # z = ψ⁽ᵐ⁾(x):  x̄ = z̄ ψ⁽ᵐ⁺¹⁾(x); the order m is integer-valued (no cotangent)
    m, x = res.inputs
    return [None, _to_shape_of(x, ct * lax.polygamma(m + const_like(m, 1), x))]


# --- products, quotients, remainders ---
@register_vjp(lax.mul_p)
def _mul_vjp(ct, res, *, out_dtype=None):
    # z = x y:  x̄ = z̄ y,  ȳ = x z̄  (with out_dtype, each product is formed in its operand's type)
    x, y = res.inputs

    def product(a, b, like):
        return lax.mul(a, b, out_dtype=None if out_dtype is None else jax.typeof(like).dtype)

    return [
        _to_shape_of(x, product(ct, y, x)) if res.active[0] else None,
        _to_shape_of(y, product(x, ct, y)) if res.active[1] else None,
    ]


@register_vjp(lax.div_p)
def _div_vjp(ct, res):
    # z = x / y:  x̄ = z̄ / y,  ȳ = -z̄ x / y²
    x, y = res.inputs
    return [
        _to_shape_of(x, lax.div(ct, y)) if res.active[0] else None,
        _to_shape_of(y, -ct * x * lax.integer_pow(y, -2)) if res.active[1] else None,
    ]


@register_vjp(lax.rem_p)
def _rem_vjp(ct, res):
    # z = rem(x, y) = x - y trunc(x / y):  x̄ = z̄,  ȳ = -z̄ trunc(x / y)
    x, y = res.inputs
    quotient = lax.div(x, y)
    whole = lax.sign(quotient) * lax.floor(lax.abs(quotient))
    return [
        _to_shape_of(x, ct) if res.active[0] else None,
        _to_shape_of(y, -ct * whole) if res.active[1] else None,
    ]


@register_vjp(lax.nextafter_p)
def _nextafter_vjp(ct, res):
    # z = x moved one ulp towards y, following x (as adkit's JVP rule):  x̄ = z̄, nothing to y
    x, _ = res.inputs
    return [_to_shape_of(x, ct), None]


# --- extrema, absolute value, clamp ---
def _extremum_vjp(primitive, first_wins):
    # z = max(x, y):  x̄ = z̄ w, ȳ = z̄ (1 - w) with w = 1 where x wins, 0 where y wins and 1/2
    # where they tie (as JAX splits ties)
    def rule(ct, res):
        x, y = res.inputs
        (z,) = res.outputs
        one, zero, half = (lax.full_like(z, v) for v in (1, 0, 0.5))
        w = lax.select(x == y, half, lax.select(first_wins(x, y), one, zero))
        return [
            _to_shape_of(x, ct * w) if res.active[0] else None,
            _to_shape_of(y, ct * (one - w)) if res.active[1] else None,
        ]

    register_vjp(primitive, rule)


_extremum_vjp(lax.max_p, lambda x, y: x > y)
_extremum_vjp(lax.min_p, lambda x, y: x < y)


@register_vjp(lax.abs_p)
def _abs_vjp(ct, res):
    # real: x̄ = ȳ for x ≥ 0 (also at ±0), -ȳ for x < 0, as adkit's JVP rule;
    # complex: x̄ = ȳ conj(x) / |x| (0 at x = 0), the transpose of t ↦ Re(conj(x) t) / |x|
    (x,), (y,) = res.inputs, res.outputs
    if not np.issubdtype(jax.typeof(x).dtype, np.complexfloating):
        return [ct * abs_slope(x)]
    safe = lax.select(y == const_like(y, 0), lax.full_like(y, 1), y)
    return [lax.convert_element_type(ct / safe, jax.typeof(x).dtype) * lax.conj(x)]


@register_vjp(lax.clamp_p)
def _clamp_vjp(ct, res):
    # z = clamp(lo, x, hi): z̄ goes to x where lo < x < hi, to lo where x < lo < hi, to hi where
    # hi < x (JAX's convention, also for inverted bounds); scalar bounds sum their share
    lo, x, hi = res.inputs
    zero = lax.full_like(ct, 0)
    where = (
        lax.bitwise_and(lax.gt(lo, x), lax.lt(lo, hi)),
        lax.bitwise_and(lax.gt(x, lo), lax.lt(x, hi)),
        lax.lt(hi, x),
    )
    return [
        _to_shape_of(operand, lax.select(mask, ct, zero)) if active else None
        for operand, mask, active in zip(res.inputs, where, res.active, strict=True)
    ]
