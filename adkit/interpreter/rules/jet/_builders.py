"""Builders for the common shapes of jet rules, so each family file states only its maths."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...._jax_compat import Primitive
from ..._registry import JVP_RULES
from ..._zeros import Zero, instantiate, is_zero
from ._series import Series, order, product


def linear(primitive: Primitive, held: Sequence[int] = (), only: Sequence[int] | None = None):
    """The rule of a primitive linear in its operands: f(x)ₖ = f(xₖ) for k ≥ 1.

    `held` lists the operands that are not linear (indices, a predicate), or `only` the ones
    that are: the others keep their primal value in every coefficient. A coefficient whose
    linear operands are all zero is zero.
    """
    if only is not None:
        return _linear_in(primitive, only)

    def rule(operands: list[Series], **params) -> Any:
        out0 = primitive.bind(*(o[0] for o in operands), **params)
        multiple = primitive.multiple_results
        coefficients = [out0]
        for k in range(1, order(operands[0]) + 1):
            linear_terms = [o[k] for i, o in enumerate(operands) if i not in held]
            if all(is_zero(t) for t in linear_terms):
                coefficients.append([Zero.like(o) for o in out0] if multiple else Zero.like(out0))
                continue
            args = [o[0] if i in held else instantiate(o[k]) for i, o in enumerate(operands)]
            coefficients.append(primitive.bind(*args, **params))
        return by_output(coefficients) if multiple else coefficients

    return rule


def by_output(coefficients: list[list[Any]]) -> list[Series]:
    """Per-coefficient lists of outputs -> one series per output (multiple-result primitives)."""
    return [list(column) for column in zip(*coefficients, strict=True)]


def unary(primitive: Primitive, series_of: Callable[[Series, Any], Series]):
    """The rule of an element-wise z = f(x), given `series_of(x, z0)`: z's series from x's,
    with z0 = f(x0) already computed by the primitive (so the primal is bit for bit f's)."""

    def rule(operands: list[Series], **params) -> Series:
        (x,) = operands
        z0 = primitive.bind(x[0], **params)
        z = series_of(x, z0)
        return [z0, *z[1:]]

    return rule


def constant_output(primitive: Primitive):
    """The rule of a primitive constant almost everywhere (sign, floor, comparisons, integer
    plumbing): every higher coefficient of the output is zero."""

    def rule(operands: list[Series], **params) -> Any:
        k = order(operands[0])
        out0 = primitive.bind(*(o[0] for o in operands), **params)
        if primitive.multiple_results:
            return [[o, *(Zero.like(o) for _ in range(k))] for o in out0]
        return [out0, *(Zero.like(out0) for _ in range(k))]

    return rule


def _linear_in(primitive: Primitive, only: Sequence[int]):
    def rule(operands: list[Series], **params) -> Any:
        held = [i for i in range(len(operands)) if i not in only]
        return linear(primitive, held=held)(operands, **params)

    return rule


def piecewise_linear(primitive: Primitive):
    """The rule of a primitive that is linear on each piece of its domain, the pieces chosen by
    the primal values (max, sort, scatter, a window's maximum): its second derivative is zero
    almost everywhere, so zₖ = J(x₀) xₖ, each coefficient pushed through adkit's own JVP rule
    at the primals (`JVP_RULES`), which makes the choice of piece."""

    def rule(operands: list[Series], **params) -> Any:
        jvp = JVP_RULES.lookup(primitive)
        primals = [o[0] for o in operands]
        out0 = primitive.bind(*primals, **params)
        multiple = primitive.multiple_results
        coefficients = [out0]
        for k in range(1, order(operands[0]) + 1):
            terms = [o[k] for o in operands]
            if all(is_zero(t) for t in terms):
                coefficients.append([Zero.like(o) for o in out0] if multiple else Zero.like(out0))
                continue
            _, tangent = jvp(primals, terms, **params)
            coefficients.append(tangent)
        return by_output(coefficients) if multiple else coefficients

    return rule


def bilinear(primitive: Primitive):
    """The rule of a primitive bilinear in its two operands (mul, dot_general, conv):
    f(x, y)ₖ = Σᵢ₌₀ᵏ f(xᵢ, yₖ₋ᵢ), the Cauchy product."""

    def rule(operands: list[Series], **params) -> Series:
        x, y = operands
        apply = lambda a, b: primitive.bind(a, b, **params)
        return product(x, y, apply)

    return rule
