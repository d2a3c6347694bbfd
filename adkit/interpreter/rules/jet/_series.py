"""Arithmetic on truncated Taylor series, coefficient by coefficient.

A series is a list `[x0, x1, ..., xK]` of arrays (or `Zero` for a coefficient known to be 0);
the k-th coefficient of a result depends only on the first k+1 of the operands. Everything here
is O(K²) array operations: the product is a Cauchy product, and quotients, powers and the
solutions of z' = g · x' are recurrences (Griewank and Walther, *Evaluating Derivatives*,
2nd ed., SIAM 2008, chapter 13).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax import lax

from ..._zeros import Zero, instantiate, is_zero
from ..builders import add_tangents as add  # a + b where either may be a symbolic zero

Series = list[Any]


def const(x: Any, value: Any) -> np.ndarray:
    """A scalar of x's dtype."""
    return np.array(value, dtype=jax.typeof(x).dtype)


def order(series: Sequence[Any]) -> int:
    return len(series) - 1


def constant(x0: Any, k: int) -> Series:
    """The series of a value the path does not move: x0, then k zeros."""
    return [x0, *(Zero.like(x0) for _ in range(k))]


def mul(a: Any, b: Any) -> Any:
    """a * b where either may be a symbolic zero."""
    if is_zero(a):
        return a
    if is_zero(b):
        return b
    return a * b


def scale(a: Any, factor: Any) -> Any:
    return a if is_zero(a) else a * const(a, factor)


def scaled_product(a: Any, b: Any, factor: Any) -> Any:
    """a * b * factor, a symbolic zero if a or b is one (`factor` a scalar or an array)."""
    if is_zero(a) or is_zero(b):
        return a if is_zero(a) else b
    return a * b * factor


def total(terms: Sequence[Any], like: Any) -> Any:
    """The sum of terms, skipping symbolic zeros (a Zero shaped like `like` if all are)."""
    out: Any = Zero.like(like)
    for t in terms:
        out = add(out, t)
    return out


def cauchy(a: Series, b: Series, k: int, product: Callable[[Any, Any], Any] = mul) -> Any:
    """The k-th coefficient of the product a · b: Σᵢ₌₀ᵏ aᵢ bₖ₋ᵢ (for any bilinear `product`)."""
    terms = [
        product(a[i], b[k - i]) for i in range(k + 1) if not (is_zero(a[i]) or is_zero(b[k - i]))
    ]
    return terms[0] if len(terms) == 1 else _sum(terms) if terms else None


def _sum(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def product(a: Series, b: Series, bilinear: Callable[[Any, Any], Any] = mul) -> Series:
    """The series of a · b (or of any bilinear map of a and b), truncated at their order."""
    z0 = bilinear(a[0], b[0])
    out: Series = [z0]
    for k in range(1, order(a) + 1):
        term = cauchy(a, b, k, bilinear)
        out.append(Zero.like(z0) if term is None else term)
    return out


def quotient(a: Series, b: Series, z0: Any | None = None) -> Series:
    """The series of z = a / b: from a = z · b, zₖ = (aₖ - Σᵢ₌₀ᵏ⁻¹ zᵢ bₖ₋ᵢ) / b₀."""
    z: Series = [a[0] / b[0] if z0 is None else z0]
    for k in range(1, order(a) + 1):
        known = [mul(z[i], b[k - i]) for i in range(k)]
        z.append(_divide(add(a[k], _negate(total(known, z[0]))), b[0], z[0]))
    return z


def reciprocal(b: Series) -> Series:
    one = lax.full_like(b[0], 1)
    return quotient(constant(one, order(b)), b)


def power(x: Series, a: Any, z0: Any | None = None) -> Series:
    """The series of z = x^a for an exponent a the path does not move (x₀ ≠ 0).

    From x z' = a z x': zₖ = Σⱼ₌₁ᵏ (a j - (k - j)) xⱼ zₖ₋ⱼ / (k x₀).
    """
    z: Series = [lax.pow(x[0], a) if z0 is None else z0]
    for k in range(1, order(x) + 1):
        terms = [
            scaled_product(x[j], z[k - j], a * const(x[0], j) - const(x[0], k - j))
            for j in range(1, k + 1)
        ]
        z.append(_divide(total(terms, z[0]), x[0] * const(x[0], k), z[0]))
    return z


def square_root(x: Series, z0: Any | None = None) -> Series:
    """The series of z = √x: from z · z = x, zₖ = (xₖ - Σᵢ₌₁ᵏ⁻¹ zᵢ zₖ₋ᵢ) / (2 z₀)."""
    z: Series = [lax.sqrt(x[0]) if z0 is None else z0]
    for k in range(1, order(x) + 1):
        inner = total([mul(z[i], z[k - i]) for i in range(1, k)], z[0])
        z.append(_divide(add(x[k], _negate(inner)), z[0] * const(z[0], 2), z[0]))
    return z


def derivative(x: Series) -> Series:
    """The series of x'(t), one order shorter: (x')ₘ = (m + 1) xₘ₊₁."""
    return [scale(x[m + 1], m + 1) for m in range(order(x))]


def integrate(z0: Any, slope: Series) -> Series:
    """The series of z with z(0) = z0 and z' = slope: zₖ = slopeₖ₋₁ / k."""
    return [z0, *(scale(s, 1 / k) for k, s in enumerate(slope, start=1))]


def solve_ode(x: Series, z0: Any, slope: Callable[[Series, Series, int], Any]) -> Series:
    """The series of z with z' = g · x', where g's m-th coefficient `slope(z, g, m)` may use
    z up to order m and g up to order m - 1 (tanh: g = 1 - z², exp: g = z).

    zₖ = (1/k) Σⱼ₌₁ᵏ j xⱼ gₖ₋ⱼ.
    """
    z: Series = [z0]
    g: Series = []
    for k in range(1, order(x) + 1):
        g.append(slope(z, g, k - 1))
        terms = [scaled_product(x[j], g[k - j], const(z0, j / k)) for j in range(1, k + 1)]
        z.append(total(terms, z0))
    return z


def chain(x: Series, z0: Any, g: Series) -> Series:
    """The series of z with z' = g · x', g given to order K - 1 (g a function of x alone)."""
    return solve_ode(x, z0, lambda z, gs, m: g[m])


def compose(x: Series, derivatives: Sequence[Any]) -> Series:
    """The series of f(x(t)) from f's derivatives at x₀, f⁽ⁿ⁾(x₀) for n = 0..K (Faà di Bruno):
    f(x(t)) = Σₙ f⁽ⁿ⁾(x₀)/n! δ(t)ⁿ with δ = x - x₀, whose n-th power starts at tⁿ (so f⁽ⁿ⁾
    reaches only the coefficients from n on)."""
    k = order(x)
    delta: Series = [Zero.like(x[0]), *x[1:]]
    out: Series = [derivatives[0], *(Zero.like(x[0]) for _ in range(k))]
    power_n: Series = constant(lax.full_like(x[0], 1), k)
    for n in range(1, k + 1):
        power_n = [Zero.like(x[0]) if c is None else c for c in _product_terms(power_n, delta)]
        weight = derivatives[n] * const(x[0], 1 / float(np.prod(np.arange(1, n + 1))))
        out = [*out[:n], *(add(out[m], mul(power_n[m], weight)) for m in range(n, k + 1))]
    return out


def _product_terms(a: Series, b: Series) -> list[Any]:
    return [None if i == 0 else cauchy(a, b, i) for i in range(order(a) + 1)]


def _negate(a: Any) -> Any:
    return a if is_zero(a) else -a


def _divide(a: Any, b: Any, like: Any) -> Any:
    return Zero.like(like) if is_zero(a) else a / b


def dense(series: Series) -> Series:
    """Every coefficient as an array (zeros for symbolic ones)."""
    return [instantiate(c) for c in series]
