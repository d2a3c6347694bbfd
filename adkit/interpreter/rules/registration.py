"""The public registration functions and the coverage table of adkit's rule tables.

`register_jvp`, `register_vjp` and `register_transpose` are the documented doors into the
`JVP_RULES`, `VJP_RULES` and `TRANSPOSE_RULES` tables of `adkit.interpreter._registry`; every
shipped rule goes through the same `TABLE.register` they call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._jax_compat import Primitive
from .._registry import JET_RULES, JVP_RULES, TRANSPOSE_RULES, VJP_RULES, VjpRule

JvpRule = Callable[..., tuple[Any, Any]]
TransposeRule = Callable[..., list[Any]]


def register_jvp(primitive: Primitive | str, rule: JvpRule | None = None):
    """Registers adkit's JVP rule for a JAX primitive (usable as a decorator).

    Args:
        primitive: the primitive object (e.g. `jax.lax.sin_p`) or its name as printed in jaxprs.
        rule: `rule(primals, tangents, **params) -> (primal_out, tangent_out)`; `tangents` may
            hold `adkit.Zero` symbolic zeros (at least one is nonzero when the rule is called).

    Returns:
        The rule (so the function can be used as `@register_jvp(prim)`).

    Examples:
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
    return JVP_RULES.register(primitive, rule)


def jvp_rule(primitive: Primitive) -> JvpRule:
    """The JVP rule for `primitive`, or a `MissingRuleError` that says how to add one.

    Args:
        primitive: the primitive object (e.g. `jax.lax.mul_p`).

    Returns:
        The rule `rule(primals, tangents, **params) -> (primal_out, tangent_out)`, as
            registered with `adkit.register_jvp`.

    Raises:
        MissingRuleError: if adkit has no JVP rule for the primitive.

    Examples:
        >>> import numpy as np, jax, jax.numpy as jnp
        >>> from jax.extend.core import Primitive
        >>> from adkit.interpreter.rules import Zero, jvp_rule
        >>> x, y = jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0])
        >>> jvp_rule(jax.lax.mul_p)([x, y], [jnp.ones(2), Zero((2,), np.dtype(np.float32))])
        (Array([3., 8.], dtype=float32), Array([3., 4.], dtype=float32))
        >>> jvp_rule(Primitive("no_rule_example"))
        Traceback (most recent call last):
        ...
        adkit.interpreter._registry.MissingRuleError: adkit has no JVP rule for the primitive ...
    """
    return JVP_RULES.lookup(primitive)


def register_transpose(primitive: Primitive | str, rule: TransposeRule | None = None):
    """Registers adkit's transpose rule for a primitive linear in some operands (a decorator too).

    Args:
        primitive: the primitive object or its name.
        rule: `rule(cotangent, *operands, **params) -> input_cotangents`; linear operands
            arrive as `UndefinedPrimal`, and the rule returns None for non-linear ones.

    Examples:
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
    return TRANSPOSE_RULES.register(primitive, rule)


def transpose_rule(primitive: Primitive) -> TransposeRule:
    """The transpose rule for `primitive`, or a `MissingRuleError` that says how to add one.

    Only primitives linear in some operand have one (`coverage()` lists which).

    Args:
        primitive: the primitive object (e.g. `jax.lax.neg_p`).

    Returns:
        The rule `rule(cotangent, *operands, **params) -> input_cotangents`, as registered with
            `adkit.register_transpose`.

    Raises:
        MissingRuleError: if adkit has no transpose rule for the primitive.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import UndefinedPrimal, transpose_rule
        >>> x = UndefinedPrimal(jax.typeof(jnp.zeros(2)))
        >>> transpose_rule(jax.lax.neg_p)(jnp.array([1.0, 2.0]), x)  # the transpose of -x
        [Array([-1., -2.], dtype=float32)]
    """
    return TRANSPOSE_RULES.lookup(primitive)


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

    Examples:
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
    options = {"forward": forward, "kind": kind, "symbolic_zeros": symbolic_zeros}
    return VJP_RULES.register(primitive, rule, **options)


def vjp_rule(primitive: Primitive) -> VjpRule:
    """The VJP rule for `primitive`, or a `MissingRuleError` that says how to add one.

    Args:
        primitive: the primitive object (e.g. `jax.lax.mul_p`).

    Returns:
        The `VjpRule` registered with `adkit.register_vjp` (the tape path of reverse mode).

    Raises:
        MissingRuleError: if adkit has no VJP rule for the primitive.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Residuals, vjp_rule
        >>> rule = vjp_rule(jax.lax.mul_p)
        >>> rule.kind
        'own'
        >>> x, y = jnp.array([1.0, 2.0]), jnp.array([3.0, 4.0])
        >>> res = Residuals(inputs=(x, y), outputs=(x * y,), active=(True, False))
        >>> rule.backward(jnp.ones(2), res)  # x̄ = ȳ y; y is not active
        [Array([3., 4.], dtype=float32), None]
    """
    return VJP_RULES.lookup(primitive)


def coverage() -> dict[str, dict[str, Any]]:
    """Which primitives have which adkit rules, one row per primitive.

    Returns:
        `{name: {"jvp": bool, "vjp": str | None, "transpose": str | None, "jet": str | None}}`:

            - `vjp` (tape path): `"own"` for a VJP rule written for the primitive, `"transposed"`
              for one derived from its JVP rule by linearizing and transposing it.
            - `transpose` (transpose path): `"rule"` for a primitive linear in some operand, which
              has a transpose rule; `"linearized"` for one whose JVP rule is linearized, its linear
              part being made of primitives that have transpose rules.
            - `jet` (Taylor mode, `adkit.jet`): `"own"` for a rule written for the primitive (a
              recurrence, O(K²) in the order K), `"derived"` for one derived from its JVP rule
              (exact, but O(2ᴷ)).

            The test suite runs every primitive's cases through both paths, so a filled cell is one
            that works; an empty cell fails a test.

    Examples:
        >>> import adkit
        >>> adkit.rules.coverage()["sin"]
        {'jvp': True, 'vjp': 'own', 'transpose': 'linearized', 'jet': 'own'}
    """
    prims = sorted(set(JVP_RULES) | set(VJP_RULES), key=lambda p: p.name)
    return {p.name: _coverage_row(p) for p in prims}


def _coverage_row(p: Primitive) -> dict[str, Any]:
    transpose = "rule" if p in TRANSPOSE_RULES else "linearized" if p in JVP_RULES else None
    vjp = VJP_RULES[p].kind if p in VJP_RULES else None
    jet = (
        None
        if p not in JET_RULES
        else "derived"
        if getattr(JET_RULES[p], "derived", False)
        else "own"
    )
    return {"jvp": p in JVP_RULES, "vjp": vjp, "transpose": transpose, "jet": jet}
