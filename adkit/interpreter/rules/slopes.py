"""The element-wise slopes f'(x), written once for every mode that needs them.

Each entry maps an element-wise primitive y = f(x) to `slope(x, y) = f'(x)`, given y already
computed (exp, tanh and sqrt reuse it). Forward mode multiplies a tangent by the slope,
dy = f'(x) dx (`jvp/elementwise.py`); the tape path multiplies a cotangent by it,
x̄ = ȳ f'(x) (`vjp/elementwise.py`). The slopes are written with `lax`, so their own
derivatives are in the tables too (second order works).

`PARTIALS` does the same for binary primitives z = f(x, y): `(∂f/∂x, ∂f/∂y)` as functions of
`(x, y, z)`.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from .builders import const_like, select_where


def _one_minus_square(x):
    one = const_like(x, 1)
    return (one - x) * (one + x)


def _square_minus_one(x):
    one = const_like(x, 1)
    return (x - one) * (x + one)


def _bessel_i1e_slope(x, y):
    # I1e'(x) = I0e(x) - I1e(x) (sign(x) + 1/x), whose limit at x = 0 is 1/2
    eps = np.finfo(jax.typeof(x).dtype).eps
    not_tiny = lax.abs(x) > const_like(x, eps)
    safe_x = lax.select(not_tiny, x, lax.full_like(x, eps))
    slope = lax.bessel_i0e(safe_x) - y * (lax.sign(safe_x) + lax.reciprocal(safe_x))
    return lax.select(not_tiny, slope, lax.full_like(x, 0.5))


_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)

SLOPES = {
    # exponentials and logarithms
    lax.exp_p: lambda x, y: y,  # (eˣ)' = eˣ
    lax.exp2_p: lambda x, y: y * const_like(x, np.log(2)),  # (2ˣ)' = 2ˣ ln 2
    lax.expm1_p: lambda x, y: y + const_like(x, 1),  # (eˣ - 1)' = eˣ
    lax.log_p: lambda x, y: lax.reciprocal(x),  # (ln x)' = 1 / x
    lax.log1p_p: lambda x, y: lax.reciprocal(x + const_like(x, 1)),  # 1 / (1 + x)
    lax.logistic_p: lambda x, y: y * (const_like(x, 1) - y),  # logistic' = logistic (1 - logistic)
    # powers and roots
    lax.sqrt_p: lambda x, y: lax.div(const_like(x, 0.5), y),  # 1 / (2 √x)
    lax.rsqrt_p: lambda x, y: lax.div(y, x) * const_like(x, -0.5),  # -x^(-3/2) / 2
    lax.cbrt_p: lambda x, y: lax.integer_pow(y, -2) * const_like(x, 1 / 3),  # 1 / (3 ∛x²)
    lax.square_p: lambda x, y: x * const_like(x, 2),  # 2x
    # trigonometric and hyperbolic
    lax.sin_p: lambda x, y: lax.cos(x),  # sin' = cos
    lax.cos_p: lambda x, y: -lax.sin(x),  # cos' = -sin
    lax.tan_p: lambda x, y: const_like(x, 1) + y * y,  # tan' = 1 + tan²
    lax.sinh_p: lambda x, y: lax.cosh(x),  # sinh' = cosh
    lax.cosh_p: lambda x, y: lax.sinh(x),  # cosh' = sinh
    lax.tanh_p: lambda x, y: const_like(x, 1) - y * y,  # tanh' = 1 - tanh²
    lax.asin_p: lambda x, y: lax.rsqrt(_one_minus_square(x)),  # 1 / √(1 - x²)
    lax.acos_p: lambda x, y: -lax.rsqrt(_one_minus_square(x)),  # -1 / √(1 - x²)
    lax.atan_p: lambda x, y: lax.reciprocal(const_like(x, 1) + x * x),  # 1 / (1 + x²)
    lax.asinh_p: lambda x, y: lax.rsqrt(x * x + const_like(x, 1)),  # 1 / √(x² + 1)
    lax.acosh_p: lambda x, y: lax.rsqrt(_square_minus_one(x)),  # 1 / √((x - 1)(x + 1))
    lax.atanh_p: lambda x, y: lax.reciprocal(_one_minus_square(x)),  # 1 / (1 - x²)
    # special functions
    lax.erf_p: lambda x, y: const_like(x, _TWO_OVER_SQRT_PI) * lax.exp(-x * x),  # 2/√π e^(-x²)
    lax.erfc_p: lambda x, y: const_like(x, -_TWO_OVER_SQRT_PI) * lax.exp(-x * x),
    # (erf⁻¹)'(x) = (√π / 2) exp(erf⁻¹(x)²)
    lax.erf_inv_p: lambda x, y: const_like(x, np.sqrt(np.pi) / 2) * lax.exp(y * y),
    lax.lgamma_p: lambda x, y: lax.digamma(x),  # (ln Γ)' = ψ
    lax.digamma_p: lambda x, y: lax.polygamma(const_like(x, 1), x),  # ψ' = ψ⁽¹⁾
    lax.bessel_i0e_p: lambda x, y: lax.bessel_i1e(x) - lax.sign(x) * y,  # I1e - sign(x) I0e
    lax.bessel_i1e_p: _bessel_i1e_slope,
}


# element-wise primitives constant almost everywhere, or with integer or boolean values: their
# slope is 0, so forward mode gives a zero tangent and reverse mode sends nothing back
ZERO_SLOPE = (
    lax.sign_p,
    lax.floor_p,
    lax.ceil_p,
    lax.round_p,
    lax.is_finite_p,
    lax.stop_gradient_p,
    lax.eq_p,
    lax.ne_p,
    lax.lt_p,
    lax.le_p,
    lax.gt_p,
    lax.ge_p,
    lax.and_p,
    lax.or_p,
    lax.xor_p,
    lax.not_p,
    lax.population_count_p,
    lax.clz_p,
    lax.shift_left_p,
    lax.shift_right_arithmetic_p,
    lax.shift_right_logical_p,
)


def _whole_quotient(x, y):
    quotient = lax.div(x, y)
    return lax.sign(quotient) * lax.floor(lax.abs(quotient))


def _pow_dx(x, y, z):
    # ∂xʸ/∂x = y xʸ⁻¹, which is 0 where y = 0. x is replaced by 1 where x = y = 0 so that the
    # formula stays finite there; no select on y, so its derivative in y survives:
    # ∂/∂y (y xʸ⁻¹) = 1/x at y = 0 (a select would make the second derivative 0)
    y = lax.convert_element_type(y, jax.typeof(x).dtype)  # the exponent may be an integer
    zero = const_like(x, 0)
    safe_x = select_where(lax.bitwise_and(x == zero, y == zero), lax.full_like(x, 1), x)
    return y * lax.pow(safe_x, y - const_like(x, 1))


def _pow_dy(x, y, z):
    # ∂xʸ/∂y = log(x) xʸ, taken as 0 where x = 0 (the limit JAX takes)
    safe_x = lax.select(x == const_like(x, 0), lax.full_like(x, 1), x)
    return lax.log(safe_x) * z


def _igamma_dx(a, x, z):
    # ∂P(a, x)/∂x = xᵃ⁻¹ e⁻ˣ / Γ(a), computed in logs
    return lax.exp(-x + (a - const_like(a, 1)) * lax.log(x) - lax.lgamma(a))


PARTIALS = {
    lax.pow_p: (_pow_dx, _pow_dy),
    # the regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x):
    # ∂P/∂a is its own primitive (igamma_grad_a, which has no derivative: as in JAX, adkit
    # differentiates P in a once)
    lax.igamma_p: (lambda a, x, z: lax.igamma_grad_a(a, x), _igamma_dx),
    lax.igammac_p: (
        lambda a, x, z: lax.neg(lax.igamma_grad_a(a, x)),
        lambda a, x, z: lax.neg(_igamma_dx(a, x, z)),
    ),
    # atan2(x, y):  ∂x = y / (x² + y²),  ∂y = -x / (x² + y²)
    lax.atan2_p: (
        lambda x, y, z: y / (x * x + y * y),
        lambda x, y, z: -x / (x * x + y * y),
    ),
    # rem(x, y) = x - y trunc(x / y):  ∂x = 1,  ∂y = -trunc(x / y)
    lax.rem_p: (
        lambda x, y, z: lax.full_like(z, 1),
        lambda x, y, z: -_whole_quotient(x, y),
    ),
}
