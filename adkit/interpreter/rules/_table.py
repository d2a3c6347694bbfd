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

A VJP rule, used by the tape path of reverse mode, has the signature

    rule(cotangent, residuals, **params) -> input_cotangents

where `cotangent` is the output's cotangent (a list for primitives with multiple results; zeros
are instantiated) and `residuals` is what the forward sweep stored: by default a `Residuals`
holding the equation's input and output values. It returns one cotangent per operand, None where
an operand gets none. A rule may also bring its own forward step (`forward`), which computes the
outputs and chooses the residuals (control flow, `custom_vjp`, checkpointing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax

from ..._jax_compat import Primitive, primitive_by_name

JvpRule = Callable[..., tuple[Any, Any]]
TransposeRule = Callable[..., list[Any]]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Residuals:
    """What the forward sweep stores for one equation by default: its input and output values.

    `active` says which inputs depend on the differentiated arguments (only those need a
    cotangent; a rule may skip the work for the others).
    """

    inputs: tuple[Any, ...]
    outputs: tuple[Any, ...]
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


@dataclasses.dataclass(frozen=True)
class VjpRule:
    """A tape-path rule: `backward(cotangent, residuals, **params) -> input_cotangents`.

    Attributes:
        backward: pulls the output cotangent back to the inputs.
        forward: `forward(primals, active, **params) -> (outputs, residuals)`; None means
            "evaluate the primitive and store `Residuals(inputs, outputs, active)`".
        kind: `"own"` for a rule written for the primitive, `"transposed"` for one derived from
            the primitive's JVP rule by linearizing and transposing it.
        symbolic_zeros: whether `backward` takes a symbolic `Zero` for an output of a
            multiple-result primitive that received no cotangent (otherwise it gets zeros).
            eigh needs it: where eigenvalues repeat, the eigenvector term is 0 · ∞.
    """

    backward: Callable[..., list[Any]]
    forward: Callable[..., tuple[Any, Any]] | None = None
    kind: str = "own"
    symbolic_zeros: bool = False


JVP_RULES: dict[Primitive, JvpRule] = {}
TRANSPOSE_RULES: dict[Primitive, TransposeRule] = {}
VJP_RULES: dict[Primitive, VjpRule] = {}


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
        >>> float(adkit.jvp(cube_p.bind, (2.0,), (1.0,))[1])
        12.0
        >>> del adkit.rules.JVP_RULES[cube_p]  # (keeps the shipped table as it was)
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
        >>> import adkit
        >>> from jax.extend.core import Primitive
        >>> double_p = Primitive("double_example")  # x -> 2x
        >>> _ = double_p.def_impl(lambda x: 2 * x)
        >>> _ = double_p.def_abstract_eval(lambda x: x)
        >>> _ = adkit.register_jvp(double_p, lambda p, t: (double_p.bind(*p), double_p.bind(*t)))
        >>> # the transpose of t -> 2t is c -> 2c: <2t, c> = <t, 2c>
        >>> _ = adkit.register_transpose(double_p, lambda ct, x: [double_p.bind(ct)])
        >>> float(adkit.grad(double_p.bind, method="transpose")(3.0))
        2.0
        >>> del adkit.rules.JVP_RULES[double_p], adkit.rules.TRANSPOSE_RULES[double_p]
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


def register_vjp(
    primitive: Primitive | str,
    rule: Callable[..., list[Any]] | None = None,
    *,
    forward: Callable[..., tuple[Any, Any]] | None = None,
    kind: str = "own",
    symbolic_zeros: bool = False,
):
    """Registers adkit's VJP rule (tape path of reverse mode) for a primitive (a decorator too).

    Args:
        primitive: the primitive object or its name.
        rule: `rule(cotangent, residuals, **params) -> input_cotangents`, one per operand (None
            for operands without one). By default `residuals` is a `Residuals` with the
            equation's `inputs` and `outputs`.
        forward: optional `forward(primals, active, **params) -> (outputs, residuals)` choosing
            what to store; `active[i]` says whether operand i needs a cotangent.
        kind: `"own"`, or `"transposed"` for a rule derived from the JVP rule.
        symbolic_zeros: True if `rule` handles a symbolic `Zero` cotangent for an output of a
            multiple-result primitive that received none; otherwise it gets zeros.

    Returns:
        The rule.

    Example:
        >>> import jax, adkit
        >>> from jax.extend.core import Primitive
        >>> cube_p = Primitive("cube_vjp_example")
        >>> _ = cube_p.def_impl(lambda x: x**3)
        >>> _ = cube_p.def_abstract_eval(lambda x: x)
        >>> @adkit.register_vjp(cube_p)
        ... def cube_vjp(ct, res):  # x̄ = 3 x² ȳ
        ...     (x,) = res.inputs
        ...     return [3 * x**2 * ct]
        >>> float(adkit.grad(cube_p.bind)(2.0))
        12.0
        >>> del adkit.rules.VJP_RULES[cube_p]  # (keeps the shipped table as it was)
    """
    primitive = _as_primitive(primitive, "register_vjp")
    if rule is None:
        return lambda r: register_vjp(primitive, r, forward=forward, kind=kind,
                                      symbolic_zeros=symbolic_zeros)  # fmt: skip
    VJP_RULES[primitive] = VjpRule(rule, forward, kind, symbolic_zeros)
    return rule


def vjp_rule(primitive: Primitive) -> VjpRule:
    """The VJP rule for `primitive`, or a `MissingRuleError` that says how to add one."""
    try:
        return VJP_RULES[primitive]
    except KeyError:
        raise MissingRuleError(
            f"adkit has no VJP rule for the primitive '{primitive.name}', which the tape path "
            "of reverse mode needs. Register one with `adkit.register_vjp(<the primitive>, "
            "rule)`, where `rule(cotangent, residuals, **params)` returns the operands' "
            'cotangents, or use `adkit.vjp(..., method="transpose")`.'
        ) from None


def coverage() -> dict[str, dict[str, Any]]:
    """Which primitives have which adkit rules, one row per primitive.

    Returns:
        `{name: {"jvp": bool, "vjp": str | None, "transpose": str | None}}`:

        - `vjp` (tape path): `"own"` for a VJP rule written for the primitive, `"transposed"`
          for one derived from its JVP rule by linearizing and transposing it.
        - `transpose` (transpose path): `"rule"` for a primitive linear in some operand, which
          has a transpose rule; `"linearized"` for one whose JVP rule is linearized, its linear
          part being made of primitives that have transpose rules.

        The test suite runs every primitive's cases through both paths, so a filled cell is one
        that works; an empty cell fails a test.

    Example:
        >>> import adkit
        >>> adkit.rules.coverage()["sin"]
        {'jvp': True, 'vjp': 'own', 'transpose': 'linearized'}
    """
    prims = sorted(set(JVP_RULES) | set(VJP_RULES), key=lambda p: p.name)
    return {p.name: _coverage_row(p) for p in prims}


def _coverage_row(p: Primitive) -> dict[str, Any]:
    transpose = "rule" if p in TRANSPOSE_RULES else "linearized" if p in JVP_RULES else None
    vjp = VJP_RULES[p].kind if p in VJP_RULES else None
    return {"jvp": p in JVP_RULES, "vjp": vjp, "transpose": transpose}
