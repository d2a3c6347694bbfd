"""Jet rules for element-wise arithmetic and mathematical functions.

Each function z = f(x) gets its series from a recurrence (see `_series.py`): products are
Cauchy products, quotients and powers solve z · b = a and x z' = a z x', and every other
function solves the ODE its derivative states, z' = g · x', with g a series in x (log, atan,
erf, ...) or in z itself (exp, tanh, tan, logistic). All are O(K²) in the order K, where K
nested JVPs cost O(2ᴷ). Special functions whose derivatives at x₀ are known in closed form
(lgamma, digamma, polygamma) compose with their Taylor polynomial instead.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from ...._jax_compat import add_any_p
from ..._registry import JET_RULES
from ..._zeros import Zero, is_zero
from ..slopes import ZERO_SLOPE
from ._builders import bilinear, constant_output, linear, unary
from ._series import (
    Series,
    add,
    chain,
    compose,
    const,
    constant,
    derivative,
    integrate,
    order,
    power,
    product,
    quotient,
    reciprocal,
    scale,
    scaled_product,
    solve_ode,
    square_root,
    total,
)

# --- linear maps: f(x)ₖ = f(xₖ) ---
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
    lax.convert_element_type_p,  # to an integer type, the engine drops the coefficients
):
    JET_RULES.register(_p, linear(_p))
JET_RULES.register(lax.select_n_p, linear(lax.select_n_p, held=(0,)))  # the predicate is held

# --- constant almost everywhere: every higher coefficient is zero ---
for _p in ZERO_SLOPE:
    JET_RULES.register(_p, constant_output(_p))


@JET_RULES.register(lax.nextafter_p)
def _nextafter(operands, **params):
    # x moved one ulp towards y follows x: its series is x's (adkit's first-order convention)
    x, y = operands
    return [lax.nextafter(x[0], y[0]), *x[1:]]


# --- series helpers for the slopes below ---
def _shift(s: Series, c: float) -> Series:
    """s + c (a constant moves only the zeroth coefficient)."""
    return [s[0] + const(s[0], c), *s[1:]]


def _negate(s: Series) -> Series:
    return [c if is_zero(c) else -c for c in s]


def _exp_series(w: Series) -> Series:
    # (eʷ)' = eʷ w'
    return solve_ode(w, lax.exp(w[0]), lambda z, g, m: z[m])


def _below(x: Series) -> Series:
    """x truncated one order lower: a slope g in z' = g x' is needed to order K - 1."""
    return x[:-1]


def _one(z: Series, m: int):
    """The m-th coefficient of the constant 1 (for slopes such as 1 - z²)."""
    return lax.full_like(z[0], 1) if m == 0 else Zero.like(z[0])


def _cauchy(a: Series, b: Series, m: int):
    terms = [a[i] * b[m - i] for i in range(m + 1) if not (is_zero(a[i]) or is_zero(b[m - i]))]
    out = Zero.like(a[0])
    for t in terms:
        out = add(out, t)
    return out


def _minus(a, b):
    return add(a, b if is_zero(b) else -b)


def _sin_cos(x: Series, s0, c0, sign: float) -> tuple[Series, Series]:
    # s' = c x',  c' = sign · s x'  (sign -1: sin/cos; +1: sinh/cosh)
    s, c = [s0], [c0]
    for k in range(1, order(x) + 1):
        sk = [scaled_product(x[j], c[k - j], const(s0, j / k)) for j in range(1, k + 1)]
        ck = [scaled_product(x[j], s[k - j], const(s0, sign * j / k)) for j in range(1, k + 1)]
        s.append(total(sk, s0))
        c.append(total(ck, s0))
    return s, c


# --- element-wise functions of one argument: z' = g · x' ---
_SQRT_PI = np.sqrt(np.pi)
SERIES = {
    # (eˣ)' = eˣ;  (2ˣ)' = 2ˣ ln 2;  (eˣ - 1)' = (eˣ - 1) + 1
    lax.exp_p: lambda x, z0: solve_ode(x, z0, lambda z, g, m: z[m]),
    lax.exp2_p: lambda x, z0: solve_ode(x, z0, lambda z, g, m: scale(z[m], np.log(2))),
    lax.expm1_p: lambda x, z0: solve_ode(x, z0, lambda z, g, m: add(z[m], _one(z, m))),
    # (ln x)' = 1/x;  (ln(1 + x))' = 1/(1 + x)
    lax.log_p: lambda x, z0: chain(x, z0, reciprocal(_below(x))),
    lax.log1p_p: lambda x, z0: chain(x, z0, reciprocal(_shift(_below(x), 1))),
    # logistic' = logistic (1 - logistic)
    lax.logistic_p: lambda x, z0: solve_ode(x, z0, lambda z, g, m: _minus(z[m], _cauchy(z, z, m))),
    # z = √x from z² = x;  x^(-1/2) and x^(1/3) from x z' = a z x';  x² as x · x
    lax.sqrt_p: lambda x, z0: square_root(x, z0),
    lax.rsqrt_p: lambda x, z0: power(x, const(x[0], -0.5), z0),
    lax.cbrt_p: lambda x, z0: power(x, const(x[0], 1 / 3), z0),
    lax.square_p: lambda x, z0: product(x, x),
    # sin' = cos, cos' = -sin (solved together);  tan' = 1 + tan²
    lax.sin_p: lambda x, z0: _sin_cos(x, z0, lax.cos(x[0]), -1.0)[0],
    lax.cos_p: lambda x, z0: _sin_cos(x, lax.sin(x[0]), z0, -1.0)[1],
    lax.tan_p: lambda x, z0: solve_ode(x, z0, lambda z, g, m: add(_one(z, m), _cauchy(z, z, m))),
    # sinh' = cosh, cosh' = sinh;  tanh' = 1 - tanh²
    lax.sinh_p: lambda x, z0: _sin_cos(x, z0, lax.cosh(x[0]), 1.0)[0],
    lax.cosh_p: lambda x, z0: _sin_cos(x, lax.sinh(x[0]), z0, 1.0)[1],
    lax.tanh_p: lambda x, z0: solve_ode(
        x, z0, lambda z, g, m: _minus(_one(z, m), _cauchy(z, z, m))
    ),
    # asin' = (1 - x²)^(-1/2), acos' = -(1 - x²)^(-1/2), atan' = 1/(1 + x²)
    lax.asin_p: lambda x, z0: chain(x, z0, _inverse_sqrt_of(_below(x), -1.0, 1.0)),
    lax.acos_p: lambda x, z0: chain(x, z0, _negate(_inverse_sqrt_of(_below(x), -1.0, 1.0))),
    lax.atan_p: lambda x, z0: chain(x, z0, reciprocal(_quadratic(_below(x), 1.0, 1.0))),
    # asinh' = (x² + 1)^(-1/2), acosh' = (x² - 1)^(-1/2), atanh' = 1/(1 - x²)
    lax.asinh_p: lambda x, z0: chain(x, z0, _inverse_sqrt_of(_below(x), 1.0, 1.0)),
    lax.acosh_p: lambda x, z0: chain(x, z0, _inverse_sqrt_of(_below(x), 1.0, -1.0)),
    lax.atanh_p: lambda x, z0: chain(x, z0, reciprocal(_quadratic(_below(x), -1.0, 1.0))),
    # erf' = (2/√π) e^(-x²), erfc' = -erf';  (erf⁻¹)' = (√π/2) e^(z²)
    lax.erf_p: lambda x, z0: chain(x, z0, _gaussian(_below(x), 2 / _SQRT_PI)),
    lax.erfc_p: lambda x, z0: chain(x, z0, _gaussian(_below(x), -2 / _SQRT_PI)),
    lax.erf_inv_p: lambda x, z0: solve_ode(x, z0, _erf_inv_slope),
    # ln Γ: its derivatives are ψ, ψ⁽¹⁾, ψ⁽²⁾, ...;  ψ: ψ⁽¹⁾, ψ⁽²⁾, ...
    lax.lgamma_p: lambda x, z0: compose(x, [z0, *_polygammas(x[0], 0, order(x))]),
    lax.digamma_p: lambda x, z0: compose(x, [z0, *_polygammas(x[0], 1, order(x))]),
}


def _quadratic(x: Series, a: float, c: float) -> Series:
    """a x² + c."""
    return _shift([scale(t, a) for t in product(x, x)], c)


def _inverse_sqrt_of(x: Series, a: float, c: float) -> Series:
    """(a x² + c)^(-1/2)."""
    return power(_quadratic(x, a, c), const(x[0], -0.5))


def _gaussian(x: Series, c: float) -> Series:
    """c e^(-x²)."""
    return [scale(t, c) for t in _exp_series(_negate(product(x, x)))]


def _erf_inv_slope(z: Series, g: Series, m: int):
    # g = (√π/2) e^(z²): g₀ directly, then g' = 2 z z' g, i.e. gₘ = (1/m) Σⱼ j wⱼ gₘ₋ⱼ, w = z²
    if m == 0:
        return const(z[0], _SQRT_PI / 2) * lax.exp(z[0] * z[0])
    terms = [
        scaled_product(_cauchy(z, z, j), g[m - j], const(z[0], j / m)) for j in range(1, m + 1)
    ]
    return total(terms, z[0])


def _polygammas(x0, first: int, count: int) -> list:
    """ψ⁽ⁿ⁾(x₀) for n = first, ..., first + count - 1 (ψ⁽⁰⁾ = ψ)."""
    return [
        lax.digamma(x0) if n == 0 else lax.polygamma(const(x0, n), x0)
        for n in range(first, first + count)
    ]


for _p, _series_of in SERIES.items():
    JET_RULES.register(_p, unary(_p, _series_of))


@JET_RULES.register(lax.polygamma_p)
def _polygamma(operands, **params):
    # ψ⁽ⁿ⁾(x) for an order n the path does not move: its derivatives are ψ⁽ⁿ⁺ʲ⁾(x₀)
    n, x = operands
    if any(not is_zero(t) for t in n[1:]):
        raise NotImplementedError(
            "adkit's jet has no rule for polygamma(n, x) with a series in the order n: n is an "
            "integer order. Pass n as a constant."
        )
    z0 = lax.polygamma(n[0], x[0])
    derivs = [lax.polygamma(n[0] + const(n[0], j), x[0]) for j in range(1, order(x) + 1)]
    return compose(x, [z0, *derivs])


@JET_RULES.register(lax.abs_p)
def _abs(operands, **params):
    # real x: |x|ₖ = sign(x₀) xₖ, with sign(0) = 1 (JAX's convention at 0);
    # complex x: |x| = √(re(x)² + im(x)²), a real series wherever x₀ ≠ 0
    (x,) = operands
    z0 = lax.abs(x[0])
    if np.issubdtype(np.dtype(x[0].dtype), np.complexfloating):
        re = [c if is_zero(c) else lax.real(c) for c in x]
        im = [c if is_zero(c) else lax.imag(c) for c in x]
        re[0], im[0] = lax.real(x[0]), lax.imag(x[0])
        squares = [add(a, b) for a, b in zip(product(re, re), product(im, im), strict=True)]
        return [z0, *square_root(squares, z0)[1:]]
    sign = lax.select(x[0] >= const(x[0], 0), lax.full_like(x[0], 1), lax.full_like(x[0], -1))
    return [z0, *(scale_by(t, sign) for t in x[1:])]


def scale_by(t, factor):
    return t if is_zero(t) else t * factor


@JET_RULES.register(lax.integer_pow_p)
def _integer_pow(operands, *, y):
    # xⁿ by repeated squaring of the series (exact at x₀ = 0); x⁻ⁿ = 1 / xⁿ
    (x,) = operands
    z0 = lax.integer_pow(x[0], y)
    if y == 0:
        return constant(z0, order(x))
    result, base, n = None, x, abs(y)
    while n:
        if n & 1:
            result = base if result is None else product(result, base)
        n >>= 1
        if n:
            base = product(base, base)
    if y < 0:
        result = reciprocal(result)
    return [z0, *result[1:]]


JET_RULES.register(lax.mul_p, bilinear(lax.mul_p))  # (x y)ₖ = Σᵢ xᵢ yₖ₋ᵢ


@JET_RULES.register(lax.div_p)
def _div(operands, **params):
    # z = x / y from x = z y: zₖ = (xₖ - Σᵢ₌₀ᵏ⁻¹ zᵢ yₖ₋ᵢ) / y₀
    x, y = operands
    return quotient(x, y, lax.div(x[0], y[0]))


@JET_RULES.register(lax.pow_p)
def _pow(operands, **params):
    # xʸ: for a constant exponent, xᵃ's Taylor polynomial; otherwise e^(y ln x), except where
    # x₀ = 0: there ln x is -∞ and, as JAX takes ∂xʸ/∂y = 0 at x = 0, y is held at y₀
    x, y = operands
    z0 = lax.pow(x[0], y[0])
    held = _constant_power(x, lax.convert_element_type(y[0], x[0].dtype), z0)
    if all(is_zero(t) for t in y[1:]):
        return held
    zero = jax.numpy.broadcast_to(x[0] == const(x[0], 0), jax.numpy.shape(z0))
    safe = [jax.numpy.where(x[0] == const(x[0], 0), const(x[0], 1), x[0]), *x[1:]]
    log_x = [lax.log(safe[0]), *SERIES[lax.log_p](safe, lax.log(safe[0]))[1:]]
    exponent = product(
        [lax.convert_element_type(c, x[0].dtype) if not is_zero(c) else c for c in y], log_x
    )
    moving = _exp_series(exponent)
    return [z0, *(_where(zero, h, m, z0) for h, m in zip(held[1:], moving[1:], strict=True))]


def _where(pred, a, b, like):
    """a where pred, else b (either may be a symbolic zero)."""
    if is_zero(a) and is_zero(b):
        return a
    a = lax.full_like(like, 0) if is_zero(a) else a
    b = lax.full_like(like, 0) if is_zero(b) else b
    return lax.select(pred, a, b)


def _constant_power(x: Series, a, z0) -> Series:
    # xᵃ by its Taylor polynomial at x₀, (xᵃ)⁽ⁿ⁾ = a (a - 1) ... (a - n + 1) x₀ᵃ⁻ⁿ: exact at
    # x₀ = 0 too, where the recurrence x z' = a z x' divides by x₀ (0⁰ taken as 1, as JAX does)
    derivatives, falling = [z0], lax.full_like(z0, 1)
    for n in range(1, order(x) + 1):
        falling = falling * (a - const(x[0], n - 1))
        # a (a - 1) ... (a - n + 1) is 0 for an integer 0 <= a < n: x^a is a polynomial there,
        # its n-th derivative 0 even at x₀ = 0 (where x₀^(a-n) is infinite)
        power = lax.pow(x[0], a - const(x[0], n))
        vanishes = falling == const(x[0], 0)
        derivatives.append(lax.select(vanishes, lax.full_like(z0, 0), falling * power))
    return compose(x, derivatives)


@JET_RULES.register(lax.atan2_p)
def _atan2(operands, **params):
    # z = atan2(x, y): z' = (y x' - x y') / (x² + y²)
    x, y = operands
    xs, ys = _below(x), _below(y)
    numerator = [
        add(a, b if is_zero(b) else -b)
        for a, b in zip(product(ys, derivative(x)), product(xs, derivative(y)), strict=True)
    ]
    denominator = [add(a, b) for a, b in zip(product(xs, xs), product(ys, ys), strict=True)]
    return integrate(lax.atan2(x[0], y[0]), quotient(numerator, denominator))


@JET_RULES.register(lax.rem_p)
def _rem(operands, **params):
    # rem(x, y) = x - y trunc(x / y), trunc piecewise constant: zₖ = xₖ - trunc(x₀/y₀) yₖ
    x, y = operands
    q = lax.div(x[0], y[0])
    whole = lax.sign(q) * lax.floor(lax.abs(q))
    return [
        lax.rem(x[0], y[0]),
        *(add(a, scale_by(b, -whole)) for a, b in zip(x[1:], y[1:], strict=True)),
    ]


def _chooser(primitive, first_wins):
    def rule(operands, **params):
        # max/min take one operand's whole series by the primals; a tie takes the mean of both
        # (JAX's convention for the first derivative)
        x, y = operands
        z0 = primitive.bind(x[0], y[0])
        wx = lax.select(first_wins(x[0], y[0]), lax.full_like(z0, 1), lax.full_like(z0, 0))
        wx = lax.select(_wide(x[0] == y[0], z0), lax.full_like(z0, 0.5), _wide(wx, z0))
        wy = const(z0, 1) - wx
        return [
            z0,
            *(add(scale_by(a, wx), scale_by(b, wy)) for a, b in zip(x[1:], y[1:], strict=True)),
        ]

    return rule


JET_RULES.register(lax.max_p, _chooser(lax.max_p, lambda a, b: a > b))
JET_RULES.register(lax.min_p, _chooser(lax.min_p, lambda a, b: a < b))


def _wide(t, like):
    """t broadcast to like's shape (a binary primitive may pair a scalar with an array)."""
    return t if np.shape(t) == np.shape(like) else lax.broadcast_in_dim(t, np.shape(like), ())


@JET_RULES.register(lax.clamp_p)
def _clamp(operands, **params):
    # clamp(lo, x, hi): x's series where lo < x < hi, lo's where x < lo < hi, hi's where hi < x
    # (the regions of JAX's first derivative)
    lo, x, hi = operands
    z0 = lax.clamp(lo[0], x[0], hi[0])
    regions = (
        (x, lax.bitwise_and(_wide(x[0] > lo[0], z0), _wide(x[0] < hi[0], z0))),
        (lo, lax.bitwise_and(_wide(lo[0] > x[0], z0), _wide(lo[0] < hi[0], z0))),
        (hi, _wide(hi[0] < x[0], z0)),
    )
    zero = lax.full_like(z0, 0)
    out = [z0]
    for k in range(1, order(x) + 1):
        term = Zero.like(z0)
        for series, where in regions:
            if not is_zero(series[k]):
                term = add(term, lax.select(where, _wide(series[k], z0), zero))
        out.append(term)
    return out
