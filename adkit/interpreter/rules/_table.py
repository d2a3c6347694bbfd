"""adkit's rule tables: plain dicts keyed by the JAX primitive object.

A JVP rule has the signature

    rule(primals, tangents, **params) -> (primal_out, tangent_out)

where `primals` and `tangents` are lists (one entry per operand, tangents possibly `Zero`) and the
outputs are single values, or lists for primitives with multiple results. A rule is applied only
when at least one tangent is nonzero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._jax_compat import Primitive, primitive_by_name

JvpRule = Callable[..., tuple[Any, Any]]

JVP_RULES: dict[Primitive, JvpRule] = {}


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
    if isinstance(primitive, str):
        primitive = primitive_by_name(primitive)
    if not isinstance(primitive, Primitive):
        raise TypeError(
            "`adkit.register_jvp` expects a JAX primitive (such as `jax.lax.sin_p`) or its name, "
            f"but received {primitive!r} of type {type(primitive).__name__}."
        )
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


def coverage() -> dict[str, dict[str, bool]]:
    """Which primitives have which adkit rules: `{primitive name: {"jvp": bool}}`."""
    return {p.name: {"jvp": True} for p in sorted(JVP_RULES, key=lambda p: p.name)}
