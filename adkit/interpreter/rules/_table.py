"""adkit's rule tables: plain dicts keyed by the JAX primitive object.

A JVP rule has the signature

    rule(primals, tangents, **params) -> (primal_out, tangent_out)

where `primals` and `tangents` are lists (one entry per operand, tangents possibly `Zero`) and the
outputs are single values, or lists for primitives with multiple results. A rule is applied only
when at least one tangent is nonzero.

A transpose rule, for a primitive that is linear in some operands, has the signature

    rule(cotangent, *operands, **params) -> input_cotangents

where the linear operands arrive as `UndefinedPrimal` (only their abstract type is known) and
the others as values; it returns one cotangent per operand (None for the non-linear ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._jax_compat import Primitive, primitive_by_name

JvpRule = Callable[..., tuple[Any, Any]]
TransposeRule = Callable[..., list[Any]]

JVP_RULES: dict[Primitive, JvpRule] = {}
TRANSPOSE_RULES: dict[Primitive, TransposeRule] = {}


class MissingRuleError(NotImplementedError):
    """Raised when adkit meets a primitive it has no rule for."""


def register_jvp(primitive: Primitive | str, rule: JvpRule | None = None):
    """Registers adkit's JVP rule for a JAX primitive (usable as a decorator).

    Args:
        primitive: the primitive object (e.g. `jax.lax.sin_p`) or its name as printed in jaxprs.
        rule: `rule(primals, tangents, **params) -> (primal_out, tangent_out)`; `tangents` may
            hold `adkit.Zero` symbolic zeros (at least one is nonzero when the rule is called).

    Returns:
        The rule (so the function can be used as `@register_jvp(prim)`).

    Example:
        >>> import jax, jax.numpy as jnp, adkit
        >>> from jax.extend.core import Primitive
        >>> cube_p = Primitive("cube_example")
        >>> cube_p.def_impl(lambda x: x**3)
        <function <lambda> at ...>
        >>> cube_p.def_abstract_eval(lambda x: x)
        <function <lambda> at ...>
        >>> @adkit.register_jvp(cube_p)
        ... def cube_jvp(primals, tangents):  # d x^3 = 3 x^2 dx
        ...     (x,), (t,) = primals, tangents
        ...     return cube_p.bind(x), 3 * x**2 * t
        >>> adkit.jvp(cube_p.bind, (2.0,), (1.0,))[1]
        Array(12., dtype=float32, weak_type=True)
    """
    primitive = _as_primitive(primitive, "register_jvp")
    if rule is None:
        return lambda r: register_jvp(primitive, r)
    JVP_RULES[primitive] = rule
    return rule


def jvp_rule(primitive: Primitive) -> JvpRule:
    """The JVP rule for `primitive`, or a `MissingRuleError` that says how to add one."""
    try:
        return JVP_RULES[primitive]
    except KeyError:
        raise MissingRuleError(
            f"adkit has no JVP rule for the primitive '{primitive.name}'. adkit never falls back "
            "to JAX's own differentiation. Register one with "
            f"`adkit.register_jvp(<the {primitive.name} primitive>, rule)`, where "
            "`rule(primals, tangents, **params)` returns `(primal_out, tangent_out)`."
        ) from None


def _as_primitive(primitive: Primitive | str, api: str) -> Primitive:
    if isinstance(primitive, str):
        primitive = primitive_by_name(primitive)
    if not isinstance(primitive, Primitive):
        raise TypeError(
            f"`adkit.{api}` expects a JAX primitive (such as `jax.lax.sin_p`) or its name, "
            f"but received {primitive!r} of type {type(primitive).__name__}."
        )
    return primitive


def register_transpose(primitive: Primitive | str, rule: TransposeRule | None = None):
    """Registers adkit's transpose rule for a primitive linear in some operands (a decorator too).

    Args:
        primitive: the primitive object or its name.
        rule: `rule(cotangent, *operands, **params) -> input_cotangents`; linear operands
            arrive as `UndefinedPrimal`, and the rule returns None for non-linear ones.

    Example:
        >>> import jax, adkit
        >>> from adkit.interpreter.rules import register_transpose
        >>> # the transpose of negation is negation: <-t, c> = <t, -c>
        >>> _ = register_transpose(jax.lax.neg_p, lambda ct, x: [jax.lax.neg(ct)])
    """
    primitive = _as_primitive(primitive, "register_transpose")
    if rule is None:
        return lambda r: register_transpose(primitive, r)
    TRANSPOSE_RULES[primitive] = rule
    return rule


def transpose_rule(primitive: Primitive) -> TransposeRule:
    """The transpose rule for `primitive`, or a `MissingRuleError` that says how to add one."""
    try:
        return TRANSPOSE_RULES[primitive]
    except KeyError:
        raise MissingRuleError(
            f"adkit has no transpose rule for the primitive '{primitive.name}', which reverse "
            "mode needs where the linearized program applies it to tangents. Register one with "
            "`adkit.register_transpose(<the primitive>, rule)`, where "
            "`rule(cotangent, *operands, **params)` returns the operands' cotangents."
        ) from None


def coverage() -> dict[str, dict[str, bool]]:
    """Which primitives have which adkit rules: `{name: {"jvp": bool, "transpose": bool}}`.

    Every primitive with a JVP rule is listed; `transpose` says whether it also has a transpose
    rule (only primitives that are linear in some operand need one).
    """
    names = sorted(JVP_RULES, key=lambda p: p.name)
    return {p.name: {"jvp": True, "transpose": p in TRANSPOSE_RULES} for p in names}
