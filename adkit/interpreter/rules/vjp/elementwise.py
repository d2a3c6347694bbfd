"""VJP rules (tape path of reverse mode): elementwise primitives.

An elementwise y = f(x) pulls back by a product, x̄ = ȳ f'(x). For complex x this is JAX's
convention too: the pullback of t ↦ a t is c ↦ a c, with no conjugate (cotangents are linear
functionals, not Hermitian duals). A binary z = f(x, y) sends x̄ = z̄ ∂f/∂x and ȳ = z̄ ∂f/∂y;
lax lets a rank-0 operand meet an array, so each share is summed back to its operand's shape.

The slopes and partials are those of the JVP rules (`rules/slopes.py`); the other rules mirror
adkit's JVP rules (`rules/jvp/elementwise.py`) at special points: the same one-sided choices at
kinks, the same limits where a formula is 0/0.
"""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from .... import _jax_compat as jc
from ..._registry import VJP_RULES
from ..builders import const_like, from_transpose, no_cotangent
from ..jvp.elementwise import abs_slope
from ..slopes import PARTIALS, SLOPES, ZERO_SLOPE
from ..transpose._util import unbroadcast


def _unary(primitive, slope):
    """Registers x̄ = ȳ f'(x) for an elementwise f, where `slope(x, y) = f'(x)`, y = f(x)."""

    def rule(ct, res, **params):
        (x,), (y,) = res.inputs, res.outputs
        return [ct * slope(x, y)]

    VJP_RULES.register(primitive, rule)


def _binary(primitive, d_first, d_second):
    """Registers x̄ = z̄ ∂f/∂x, ȳ = z̄ ∂f/∂y for an elementwise z = f(x, y), where the partials
    are `d_first(x, y, z)` and `d_second(x, y, z)`."""

    def rule(ct, res, **params):
        x, y = res.inputs
        (z,) = res.outputs
        return [
            _to_shape_of(x, ct * d_first(x, y, z)) if res.active[0] else None,
            _to_shape_of(y, ct * d_second(x, y, z)) if res.active[1] else None,
        ]

    VJP_RULES.register(primitive, rule)


def _to_shape_of(x, ct):
    """`ct` summed down to operand x's shape (x may be a rank-0 operand next to an array)."""
    return unbroadcast(ct, jax.typeof(x))


# --- linear maps: the pullback is the transpose ---
for _p in (
    lax.neg_p,
    lax.add_p,
    lax.sub_p,
    jc.add_any_p,
    lax.real_p,
    lax.imag_p,
    lax.complex_p,
    lax.conj_p,
    lax.copy_p,
    lax.reduce_precision_p,
    lax.convert_element_type_p,
    lax.select_n_p,
):
    from_transpose(_p)  # select_n: linear in the cases; the predicate is an integer (no cotangent)


# --- constant almost everywhere, or integer/boolean/key valued: nothing flows back ---
for _p in ZERO_SLOPE:
    no_cotangent(_p)
# (the random-number and platform primitives are in `misc.py`, next to their JVP rules' family)


# --- element-wise functions of one argument: x̄ = ȳ f'(x), the slopes in rules/slopes.py ---
for _p, _slope in SLOPES.items():
    _unary(_p, _slope)

# --- binary functions whose partials are in rules/slopes.py: x̄ = z̄ ∂f/∂x, ȳ = z̄ ∂f/∂y ---
for _p, (_d_first, _d_second) in PARTIALS.items():
    _binary(_p, _d_first, _d_second)


# --- powers ---
@VJP_RULES.register(lax.integer_pow_p)
def _integer_pow_vjp(ct, res, *, y):
    # x̄ = ȳ n xⁿ⁻¹  (nothing for n = 0, where xⁿ = 1)
    (x,) = res.inputs
    if y == 0:
        return [None]
    if y == 1:
        return [ct]
    return [ct * (lax.integer_pow(x, y - 1) * const_like(x, y))]


@VJP_RULES.register(lax.polygamma_p)
def _polygamma_vjp(ct, res):
    # z = ψ⁽ᵐ⁾(x):  x̄ = z̄ ψ⁽ᵐ⁺¹⁾(x); the order m is integer-valued (no cotangent)
    m, x = res.inputs
    return [None, _to_shape_of(x, ct * lax.polygamma(m + const_like(m, 1), x))]


# --- products, quotients, remainders ---
@VJP_RULES.register(lax.mul_p)
def _mul_vjp(ct, res, *, out_dtype=None):
    # z = x y:  x̄ = z̄ y,  ȳ = x z̄  (with out_dtype, each product is formed in its operand's type)
    x, y = res.inputs

    def product(a, b, like):
        return lax.mul(a, b, out_dtype=None if out_dtype is None else jax.typeof(like).dtype)

    return [
        _to_shape_of(x, product(ct, y, x)) if res.active[0] else None,
        _to_shape_of(y, product(x, ct, y)) if res.active[1] else None,
    ]


@VJP_RULES.register(lax.div_p)
def _div_vjp(ct, res):
    # z = x / y:  x̄ = z̄ / y,  ȳ = -(z̄ y⁻² x), negated after any broadcast is summed away
    # (negating the full-size product first cost XLA 7.5 KiB more temp memory than jax.grad
    # in a 4x32x32 softmax followed by a matmul)
    x, y = res.inputs
    return [
        _to_shape_of(x, lax.div(ct, y)) if res.active[0] else None,
        lax.neg(_to_shape_of(y, ct * lax.integer_pow(y, -2) * x)) if res.active[1] else None,
    ]


@VJP_RULES.register(lax.nextafter_p)
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

    VJP_RULES.register(primitive, rule)


_extremum_vjp(lax.max_p, lambda x, y: x > y)
_extremum_vjp(lax.min_p, lambda x, y: x < y)


@VJP_RULES.register(lax.abs_p)
def _abs_vjp(ct, res):
    # real: x̄ = ȳ for x ≥ 0 (also at ±0), -ȳ for x < 0, as adkit's JVP rule;
    # complex: x̄ = ȳ conj(x) / |x| (0 at x = 0), the transpose of t ↦ Re(conj(x) t) / |x|
    (x,), (y,) = res.inputs, res.outputs
    if not np.issubdtype(jax.typeof(x).dtype, np.complexfloating):
        return [ct * abs_slope(x)]
    safe = lax.select(y == const_like(y, 0), lax.full_like(y, 1), y)
    return [lax.convert_element_type(ct / safe, jax.typeof(x).dtype) * lax.conj(x)]


@VJP_RULES.register(lax.clamp_p)
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
