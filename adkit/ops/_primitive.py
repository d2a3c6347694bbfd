"""Defining a new JAX primitive with every rule, for JAX and for adkit, in one call.

A primitive is an operation JAX treats as opaque: transformations see it as one equation and
apply its rules instead of looking inside. `define_primitive` builds a
`jax.extend.core.Primitive` from an implementation written in plain JAX and registers:

- its evaluation (`impl`) and its output type (by default `jax.eval_shape` of `impl`);
- its lowering on every platform, by tracing `impl` into ordinary HLO (no custom call), so it
  compiles under `jax.jit` on CPU, GPU and TPU;
- one JVP rule and, for a linear primitive, one transpose rule, each written once and registered
  both in JAX's tables and in adkit's (`adkit.register_jvp`, `adkit.register_transpose`): the
  wrappers hide the difference between JAX's and adkit's symbolic zeros and linear operands;
- adkit's tape rule (`adkit.register_vjp`): the one given, or one derived from the rules above;
- adkit's Taylor-mode rule (`adkit.jet`), derived from the JVP rule;
- a batching rule for `jax.vmap`.

The conventions the rules are written in:

- `impl(*operands, **params)`: the value, in `jax.numpy` / `jax.lax`; `params` are the static
  keyword arguments given to `primitive.bind`.
- `jvp(primals, tangents, **params) -> (out, tangent_out)`: `tangents[i]` is an array, or None
  where it is zero (no work needed for it); `tangent_out` may be None when it is zero. The rule
  computes `out` by binding the primitive itself, and builds `tangent_out` from operations that
  are linear in the tangents (so that reverse mode can transpose them).
- `transpose(ct, *operands, **params) -> cotangents`: for a primitive linear in each operand
  with the others held (a sum, a matrix-vector product). The operands the map is linear in
  arrive as undefined (`is_undefined(x)` is True; `x.aval` has the shape and dtype), the others
  as values; `ct` is an array. It returns one cotangent per operand, None for the defined ones.
- `vjp(ct, res, **params) -> cotangents`: adkit's tape rule, exactly as for
  `adkit.register_vjp` (`res.inputs`, `res.outputs`, `res.active`).
- `batch(args, dims, **params) -> (out, out_dim)`: JAX's batching rule; `dims[i]` is the
  batched axis of `args[i]`, or None.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from .. import _jax_compat as jc
from ..interpreter.jet.derived import from_jvp
from ..interpreter.reverse.tape import transposed
from ..interpreter.rules import (
    JET_RULES,
    JVP_RULES,
    TRANSPOSE_RULES,
    VJP_RULES,
    UndefinedPrimal,
    Zero,
    from_transpose,
    instantiate,
    is_undefined,
    is_zero,
    register_jvp,
    register_transpose,
    register_vjp,
)

__all__ = ["define_primitive", "elementwise_batching", "is_undefined", "remove_adkit_rules"]


def define_primitive(
    name: str,
    impl: Callable[..., Any],
    *,
    jvp: Callable[..., tuple[Any, Any]] | None = None,
    transpose: Callable[..., Sequence[Any]] | None = None,
    vjp: Callable[..., Sequence[Any]] | None = None,
    batch: Callable[..., tuple[Any, Any]] | str | None = None,
    abstract_eval: Callable[..., Any] | None = None,
    multiple_results: bool = False,
) -> jc.Primitive:
    """Creates a JAX primitive and registers its rules with JAX and with adkit.

    The rule conventions are in this module's docstring; one `jvp` and one `transpose` serve JAX
    (`jax.grad`, `jax.jvp`, `jax.linear_transpose`, ...) and adkit (`adkit.grad`, `adkit.jvp`,
    both reverse-mode paths) alike.

    Args:
        name: the primitive's name, as printed in jaxprs.
        impl: `impl(*operands, **params)`, the value in plain JAX; also the lowering.
        jvp: `jvp(primals, tangents, **params) -> (out, tangent_out)`, zero tangents as None.
            Without it, JAX and adkit's forward mode cannot differentiate the primitive.
        transpose: for a primitive linear in each operand with the others held:
            `transpose(ct, *operands, **params) -> cotangents`, undefined operands marked.
        vjp: adkit's tape rule `vjp(ct, res, **params) -> cotangents`. By default it is derived:
            with `transpose`, operand i receives the transpose with respect to operand i;
            without, adkit linearizes `jvp` and transposes it (its linear part must use
            operations with transpose rules, such as `mul`).
        batch: JAX's batching rule, or `"elementwise"` for a primitive acting elementwise on
            operands of one shape (`elementwise_batching`). By default the batched value is
            `jax.vmap(impl)`: right, but the batched program shows `impl`'s operations rather
            than the primitive.
        abstract_eval: `abstract_eval(*avals, **params)` -> the output's `ShapedArray` (a list
            for multiple results); by default `jax.eval_shape` of `impl`.
        multiple_results: whether `impl` returns a list of arrays.

    Returns:
        The `jax.extend.core.Primitive`; call it with `primitive.bind(*operands, **params)`.

    Examples:
        >>> import jax, jax.numpy as jnp, adkit
        >>> from adkit.ops import define_primitive, remove_adkit_rules
        >>> def cube_jvp(primals, tangents):  # d x³ = 3 x² dx
        ...     (x,), (t,) = primals, tangents
        ...     return cube_p.bind(x), 3 * x**2 * t
        >>> cube_p = define_primitive("cube_doc_example", lambda x: x**3, jvp=cube_jvp,
        ...                           batch="elementwise")
        >>> float(cube_p.bind(2.0)), float(jax.grad(cube_p.bind)(2.0))
        (8.0, 12.0)
        >>> float(adkit.grad(cube_p.bind)(2.0)), float(adkit.hessian(cube_p.bind)(2.0))
        (12.0, 12.0)
        >>> jax.vmap(cube_p.bind)(jnp.array([1.0, 2.0])).tolist()
        [1.0, 8.0]
        >>> remove_adkit_rules(cube_p)  # (keeps adkit's shipped rule tables as they were)
    """
    primitive = jc.Primitive(name)
    primitive.multiple_results = multiple_results
    primitive.def_impl(impl)
    primitive.def_abstract_eval(abstract_eval or _eval_shape_of(impl, multiple_results))
    jc.set_jax_lowering(primitive, impl, multiple_results)
    if batch == "elementwise":
        batch = elementwise_batching(primitive)
    elif isinstance(batch, str):
        raise ValueError(
            f"`define_primitive` received batch={batch!r} for '{name}'; pass a batching rule "
            '`batch(args, dims, **params) -> (out, out_dim)`, "elementwise", or None (the '
            "default, `jax.vmap` of `impl`)."
        )
    jc.set_jax_batching(primitive, batch or _vmap_of(impl, multiple_results))
    if jvp is not None:
        jc.set_jax_jvp(primitive, _jax_jvp(jvp))
        register_jvp(primitive, _adkit_jvp(jvp))
        from_jvp(primitive)  # Taylor mode: the integral of the JVP along the path
    if transpose is not None:
        jc.set_jax_transpose(primitive, _jax_transpose(transpose, multiple_results))
        register_transpose(primitive, _adkit_transpose(transpose, multiple_results))
    if vjp is not None:
        register_vjp(primitive, vjp)
    elif transpose is not None:
        from_transpose(primitive, multilinear=True)  # x̄ᵢ = (∂f/∂xᵢ)ᵀ ȳ, the others held
    elif jvp is not None:
        transposed(primitive)  # linearize the JVP at the primal point, then transpose it
    return primitive


def remove_adkit_rules(primitive: jc.Primitive) -> None:
    """Removes a primitive's rules from adkit's tables (JAX's own tables are left as they are).

    Examples:
        >>> import adkit
        >>> from adkit.ops import define_primitive, remove_adkit_rules
        >>> twice_p = define_primitive("twice_doc_example", lambda x: 2 * x,
        ...                            jvp=lambda p, t: (twice_p.bind(*p), 2 * t[0]))
        >>> twice_p in adkit.rules.JVP_RULES
        True
        >>> remove_adkit_rules(twice_p)
        >>> twice_p in adkit.rules.JVP_RULES or twice_p in adkit.rules.VJP_RULES
        False
    """
    for table in (JVP_RULES, TRANSPOSE_RULES, VJP_RULES, JET_RULES):
        table.pop(primitive, None)


def elementwise_batching(primitive: jc.Primitive) -> Callable[..., tuple[Any, Any]]:
    """A batching rule for a primitive acting elementwise on operands of one shape.

    The batched axes are moved to the front and unbatched operands broadcast along it, then the
    primitive is applied once to the whole batch (it stays one equation under `jax.vmap`).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from adkit.ops import define_primitive, elementwise_batching
        >>> hypot_p = define_primitive("hypot_doc_example", lambda a, b: jnp.sqrt(a * a + b * b))
        >>> batched = elementwise_batching(hypot_p)
        >>> out, dim = batched((jnp.array([3.0, 0.0]), jnp.array(4.0)), (0, None))
        >>> out.tolist(), dim
        ([5.0, 4.0], 0)
    """

    def rule(args, dims, **params):
        size = next(a.shape[d] for a, d in zip(args, dims, strict=True) if d is not None)
        if len(args) == 1:  # one operand: apply where it is
            out, out_dim = primitive.bind(*args, **params), dims[0]
        else:
            moved = [
                jnp.moveaxis(a, d, 0) if d is not None else jnp.broadcast_to(a, (size, *a.shape))
                for a, d in zip(args, dims, strict=True)
            ]
            out, out_dim = primitive.bind(*moved, **params), 0
        if primitive.multiple_results:
            return out, [out_dim] * len(out)
        return out, out_dim

    return rule


# --- defaults ---
def _eval_shape_of(impl, multiple_results):
    def abstract_eval(*avals, **params):
        structs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in avals]
        out = jax.eval_shape(functools.partial(impl, **params), *structs)
        outs = list(out) if multiple_results else [out]
        avals_out = [jc.ShapedArray(o.shape, o.dtype) for o in outs]
        return avals_out if multiple_results else avals_out[0]

    return abstract_eval


def _vmap_of(impl, multiple_results):
    def rule(args, dims, **params):
        out = jax.vmap(functools.partial(impl, **params), in_axes=tuple(dims))(*args)
        return (out, [0] * len(out)) if multiple_results else (out, 0)

    return rule


# --- one user rule, two rule tables ---
def _jax_jvp(jvp):
    def rule(primals, tangents, **params):
        tangents = [None if jc.is_jax_zero(t) else t for t in tangents]
        out, tangent_out = jvp(list(primals), tangents, **params)
        return out, _zeros_where_none(out, tangent_out, jc.jax_zero_like)

    return rule


def _adkit_jvp(jvp):
    def rule(primals, tangents, **params):
        tangents = [None if is_zero(t) else t for t in tangents]
        out, tangent_out = jvp(list(primals), tangents, **params)
        return out, _zeros_where_none(out, tangent_out, Zero.like)

    return rule


def _zeros_where_none(out, tangent_out, zero_like):
    if isinstance(out, list | tuple):
        tangent_out = [None] * len(out) if tangent_out is None else tangent_out
        return [zero_like(o) if t is None else t for o, t in zip(out, tangent_out, strict=True)]
    return zero_like(out) if tangent_out is None else tangent_out


def _jax_transpose(transpose, multiple_results):
    def rule(ct, *operands, **params):
        if not multiple_results and jc.is_jax_zero(ct):
            return [None] * len(operands)  # nothing flows back
        if multiple_results:
            ct = [c.instantiate() if jc.is_jax_zero(c) else c for c in ct]
        operands = [UndefinedPrimal(x.aval) if jc.is_jax_undefined(x) else x for x in operands]
        return _checked(transpose(ct, *operands, **params), operands)

    return rule


def _adkit_transpose(transpose, multiple_results):
    def rule(ct, *operands, **params):
        ct = [instantiate(c) for c in ct] if multiple_results else instantiate(ct)
        return _checked(transpose(ct, *operands, **params), operands)

    return rule


def _checked(cts, operands):
    cts = list(cts)
    if len(cts) != len(operands):
        raise ValueError(
            f"A transpose rule given to `define_primitive` returned {len(cts)} cotangents for "
            f"{len(operands)} operands; return one per operand, None for the defined ones."
        )
    return [None if c is None or is_zero(c) else c for c in cts]
