"""adkit's rule registry: one named table per kind of rule, all registered the same way.

Every interpreter in adkit walks a jaxpr equation by equation and looks the equation's primitive
up in a table. Each table is a `RuleTable`: a dict keyed by the JAX primitive object, with one
registration form, `TABLE.register(primitive, rule)` (or `@TABLE.register(primitive)` above
the rule), and one lookup, `TABLE.lookup(primitive)`, which raises a `MissingRuleError` naming
the primitive and the registration call when there is no rule.

The tables and what their rules compute:

| table | walked by | signature |
|---|---|---|
| `EVAL_RULES` | the evaluator (`_eval.py`) | `rule(eqn, invals) -> outvals` (higher-order) |
| `JVP_RULES` | forward mode | `rule(primals, tangents, **params) -> (out, tangent_out)` |
| `VJP_RULES` | the tape path | `VjpRule(backward, forward, kind, symbolic_zeros)` |
| `TRANSPOSE_RULES` | the transpose path | `rule(cotangent, *operands, **params) -> cotangents` |
| `SPLIT_RULES` | the transpose path | `SplitRule(forward, backward)` for control flow |
| `WENGERT_RULES` | `adkit.trace` | `rule(recorder, eqn, nodes, scope) -> nodes` (inlining) |
| `SPARSITY_RULES` | sparsity detection | `rule(operands, out_avals, **params) -> outputs` |
| `JET_RULES` | Taylor mode (`adkit.jet`) | `rule(series, **params) -> series` |

A JVP rule receives lists (one entry per operand, tangents possibly `Zero`) and returns single
values, or lists for primitives with multiple results; it is applied only when at least one
tangent is nonzero. A transpose rule receives the linear operands as `UndefinedPrimal` (only
their abstract type is known) and returns one cotangent per operand (None for the others). A
VJP rule receives the output's cotangent and what the forward sweep stored (by default a
`Residuals` with the equation's input and output values) and returns one cotangent per operand.

A new engine (sparsity detection, Taylor mode) adds a table here and a folder of rules; it changes
nothing else.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterable
from typing import Any

import jax

from .._jax_compat import Primitive, primitive_by_name


class MissingRuleError(NotImplementedError):
    """Raised when adkit meets a primitive it has no rule for.

    adkit never falls back to JAX's own derivative rules: the message names the primitive, the
    kind of rule missing and the call that registers one. It is a `NotImplementedError`.

    Examples:
        >>> import adkit
        >>> from jax.extend.core import Primitive
        >>> lonely_p = Primitive("lonely_example")  # a primitive with no adkit rules
        >>> _ = lonely_p.def_impl(lambda x: x)
        >>> _ = lonely_p.def_abstract_eval(lambda x: x)
        >>> adkit.jvp(lonely_p.bind, (1.0,), (1.0,))
        Traceback (most recent call last):
        ...
        adkit.interpreter._registry.MissingRuleError: adkit has no JVP rule for the primitive
        'lonely_example'. ... Register one with `adkit.register_jvp(<the lonely_example
        primitive>, rule)`, ...
        >>> issubclass(adkit.MissingRuleError, NotImplementedError)
        True
    """


class RuleTable(dict):
    """A table of rules keyed by JAX primitive, with one registration form and one lookup.

    Args:
        name: the table's name, as errors print it (e.g. `"JVP"`).
        missing: the sentence that ends a `MissingRuleError`: what needs the rule and how to
            register one. `{name}` is replaced by the primitive's name.
        make: builds the stored entry from `(rule, **options)`; by default the rule itself.
        api: how errors name the registration call, e.g. `"adkit.register_jvp"`.

    Examples:
        >>> from adkit.interpreter.rules import JVP_RULES
        >>> import jax
        >>> JVP_RULES.lookup(jax.lax.sin_p).__name__
        'rule'
    """

    def __init__(
        self, name: str, missing: str, make: Callable[..., Any] | None = None, api: str = ""
    ):
        super().__init__()
        self.api = api or f"{name} table's register"
        self.origin: dict[Primitive, str] = {}  # primitive -> the module that registered it
        self.name = name
        self._missing = missing
        self._make = make

    def register(self, primitive: Primitive | str, rule: Any = None, **options: Any):
        """Stores `rule` for `primitive` (a primitive object or its name); usable as a decorator.

        Returns:
            The rule, so that `@TABLE.register(prim)` leaves the function in place.
        """
        primitive = as_primitive(primitive, self.api)
        if rule is None:
            return lambda r: self.register(primitive, r, **options)
        self[primitive] = rule if self._make is None else self._make(rule, **options)
        self.origin[primitive] = _registering_module()
        return rule

    def lookup(self, primitive: Primitive) -> Any:
        """The rule for `primitive`, or a `MissingRuleError` that says how to add one."""
        try:
            return self[primitive]
        except KeyError:
            raise MissingRuleError(
                f"adkit has no {self.name} rule for the primitive '{primitive.name}'. "
                + self._missing.format(name=primitive.name)
            ) from None


def _registering_module() -> str:
    """The module that asked for a registration, looking past the registry and rule builders."""
    frame = sys._getframe(2)
    while frame.f_globals.get("__name__", "").endswith(_PASS_THROUGH):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "?")


_PASS_THROUGH = ("._registry", ".rules.builders", ".rules.registration", ".reverse.tape.derived")


def as_primitive(primitive: Primitive | str, api: str) -> Primitive:
    """The primitive object for a primitive or its name, or a TypeError saying what was given."""
    if isinstance(primitive, str):
        primitive = primitive_by_name(primitive)
    if not isinstance(primitive, Primitive):
        raise TypeError(
            f"`{api}` expects a JAX primitive (such as `jax.lax.sin_p`) or its name, "
            f"but received {primitive!r} of type {type(primitive).__name__}."
        )
    return primitive


def import_family_files(package: str, path: Iterable[str]) -> list[str]:
    """Imports every module of a rule folder, each registering its rules; returns their names.

    A rule folder's `__init__` calls `import_family_files(__name__, __path__)`, so a new family
    file is registered by being there.
    """
    names = sorted(i.name for i in pkgutil.iter_modules(list(path)) if not i.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Residuals:
    """What the forward sweep stores for one equation by default: its input and output values.

    `active` says which inputs depend on the differentiated arguments (only those need a
    cotangent; a rule may skip the work for the others).

    Attributes:
        inputs: the equation's input values, one per operand.
        outputs: its output values (one for a primitive with a single result).
        active: per input, whether it needs a cotangent (static: not a leaf of the pytree).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.interpreter.rules import Residuals, vjp_rule
        >>> x, y = jnp.array(2.0), jnp.array(3.0)
        >>> res = Residuals(inputs=(x, y), outputs=(x * y,), active=(True, True))
        >>> len(jax.tree.leaves(res))  # a pytree: the values are its leaves
        3
        >>> [float(c) for c in vjp_rule(jax.lax.mul_p).backward(jnp.array(1.0), res)]
        [3.0, 2.0]
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

    Examples:
        >>> import jax
        >>> from adkit.interpreter.rules import VJP_RULES
        >>> rule = VJP_RULES.lookup(jax.lax.mul_p)
        >>> rule.kind, rule.forward is None, rule.symbolic_zeros
        ('own', True, False)
    """

    backward: Callable[..., list[Any]]
    forward: Callable[..., tuple[Any, Any]] | None = None
    kind: str = "own"
    symbolic_zeros: bool = False


@dataclasses.dataclass(frozen=True)
class SplitRule:
    """How the transpose path splits a control-flow primitive into a primal and a linear part.

    Attributes:
        forward: `forward(eqn, state, reads_linear) -> record`: evaluates the primal part,
            marks the linear outputs in `state` and returns what the backward pass needs.
        backward: `backward(eqn, record, cotangents_out) -> cotangents_in`.

    Examples:
        >>> from adkit.interpreter.rules import SPLIT_RULES, SplitRule
        >>> sorted(p.name for p in SPLIT_RULES)
        ['cond', 'scan', ..., 'while']
        >>> all(isinstance(rule, SplitRule) for rule in SPLIT_RULES.values())
        True
    """

    forward: Callable[..., Any]
    backward: Callable[..., list[Any]]


EVAL_RULES = RuleTable(
    "evaluation",
    "The evaluator binds first-order primitives itself; a higher-order one needs a rule in "
    "`EVAL_RULES`.",
)
JVP_RULES = RuleTable(
    "JVP",
    "adkit never falls back to JAX's own differentiation. Register one with "
    "`adkit.register_jvp(<the {name} primitive>, rule)`, where `rule(primals, tangents, "
    "**params)` returns `(primal_out, tangent_out)`.",
    api="adkit.register_jvp",
)
TRANSPOSE_RULES = RuleTable(
    "transpose",
    "Reverse mode needs one where the linearized program applies it to tangents. Register one "
    "with `adkit.register_transpose(<the primitive>, rule)`, where `rule(cotangent, *operands, "
    "**params)` returns the operands' cotangents.",
    api="adkit.register_transpose",
)
VJP_RULES = RuleTable(
    "VJP",
    "The tape path of reverse mode needs one. Register one with `adkit.register_vjp(<the "
    "primitive>, rule)`, where `rule(cotangent, residuals, **params)` returns the operands' "
    'cotangents, or use `adkit.vjp(..., method="transpose")`.',
    make=lambda rule, forward=None, kind="own", symbolic_zeros=False: VjpRule(
        rule, forward, kind, symbolic_zeros
    ),
    api="adkit.register_vjp",
)
SPLIT_RULES = RuleTable(
    "split",
    "The transpose path splits control flow into primal and linear parts with a `SplitRule`.",
    make=lambda rule, backward: SplitRule(rule, backward),
)
WENGERT_RULES = RuleTable(
    "Wengert-list",
    "`adkit.trace` inlines higher-order primitives with a rule in `WENGERT_RULES`.",
)
SPARSITY_RULES = RuleTable(
    "sparsity",
    "Sparsity detection needs to know which inputs each output element depends on. Register a "
    "rule with `adkit.interpreter.rules.SPARSITY_RULES.register(<the {name} primitive>, rule)`, "
    "where `rule(operands, out_avals, **params)` returns the outputs' `IndexSets`, or pass "
    '`unknown="dense"` to treat every output element as depending on every input element.',
)
JET_RULES = RuleTable(
    "jet (Taylor-mode)",
    "adkit's Taylor mode never falls back to JAX's jet. Register one with "
    "`adkit.interpreter.rules.JET_RULES.register(<the {name} primitive>, rule)`, where "
    "`rule(operands, **params)` maps each operand's list of Taylor coefficients "
    "`[x0, x1, ..., xK]` to the output's (see `adkit.interpreter.rules.jet`).",
)
