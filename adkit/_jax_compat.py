"""The one place where adkit touches JAX's jaxpr machinery and internals.

Everything version-sensitive lives here so that a JAX upgrade is one file's work. The rest of
adkit imports jaxpr types and helpers from this module only; nothing else imports `jax._src`,
`jax.interpreters` or `jax.extend.core` directly.

Checked against jax 0.10.2.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.extend.core as _jex
import jax.extend.core.primitives as _jex_primitives
from jax._src import core as _core
from jax._src import custom_derivatives as _custom_derivatives
from jax._src import debugging as _debugging
from jax._src import linear_util as _lu
from jax._src import shard_map as _shard_map
from jax._src.array import ArrayImpl as _ArrayImpl
from jax._src.lax import parallel as _parallel
from jax._src.lax.control_flow import conditionals as _conditionals
from jax._src.random import core as _random_core
from jax._src.random import prng as _prng
from jax.interpreters import ad as _ad
from jax.interpreters import batching as _batching
from jax.interpreters import mlir as _mlir

# --- jaxpr types ---
ClosedJaxpr = _jex.ClosedJaxpr
Jaxpr = _jex.Jaxpr
JaxprEqn = _jex.JaxprEqn
Var = _jex.Var
Literal = _jex.Literal
DropVar = _jex.DropVar
Primitive = _jex.Primitive
primal_dtype_to_tangent_dtype = _jex.primal_dtype_to_tangent_dtype
jaxpr_as_fun = _jex.jaxpr_as_fun  # a closed jaxpr as a function of its inputs (a list of outputs)

# --- the primitives adkit's interpreters treat specially ---
jit_p = _jex_primitives.jit_p
remat_p = _jex_primitives.remat_p  # named "remat2": `jax.checkpoint`
cond_p = _jex_primitives.cond_p
scan_p = _jex_primitives.scan_p
while_p = _jex_primitives.while_p
custom_jvp_call_p = _jex_primitives.custom_jvp_call_p
custom_vjp_call_p = _jex_primitives.custom_vjp_call_p
custom_linear_solve_p = _jex_primitives.linear_solve_p
add_any_p = _jex_primitives.add_jaxvals_p  # named "add_any": how JAX's own gradients accumulate
shard_map_p = _shard_map.shard_map_p
# `custom_vjp(optimize_remat=True)`: the fwd rule as a primitive that partial evaluation may
# replace by the primal function; it evaluates `fwd_jaxpr` (residuals, then outputs)
remat_opt_p = _custom_derivatives.remat_opt_p


def bind_equation(eqn: JaxprEqn, invals: Sequence[Any]) -> list[Any]:
    """Applies one equation's primitive to concrete or traced inputs; always returns a list.

    `get_bind_params` turns jaxpr-valued params back into the callables some primitives bind with
    (custom_jvp_call, custom_vjp_call); a plain `bind(**eqn.params)` breaks on those.
    """
    params = eqn.primitive.get_bind_params(eqn.params)
    with eqn.ctx.manager:
        out = eqn.primitive.bind(*invals, **params)
    return list(out) if eqn.primitive.multiple_results else [out]


def bind_custom_call(eqn: JaxprEqn, body: Callable[..., list[Any]], invals: Sequence[Any]):
    """Binds a `custom_jvp_call` / `custom_vjp_call` equation with its primal body replaced.

    The user's custom rules (the JVP jaxpr thunk, or the fwd thunk and bwd function) are kept as
    they are, so JAX's own transformations applied on top still see the user's rule; `body`, which
    computes the primal outputs from all inputs (consts first), is what runs when no
    transformation intervenes.
    """
    params = eqn.primitive.get_bind_params(eqn.params)
    fun, *rules = params["subfuns"]
    params["subfuns"] = (_lu.wrap_init(body, debug_info=fun.debug_info), *rules)
    with eqn.ctx.manager:
        return list(eqn.primitive.bind(*invals, **params))


def custom_jvp_rule(params: dict[str, Any], tangent_is_zero: Sequence[bool]):
    """The user's JVP rule of a `custom_jvp_call` equation, as a jaxpr.

    Returns `(jvp_jaxpr, consts, out_tangent_is_zero)`. Evaluating `jvp_jaxpr` on the non-const
    primals followed by the nonzero tangents yields the primal outputs, then the nonzero output
    tangents.
    """
    return params["jvp_jaxpr_fun"].call_wrapped(*tangent_is_zero)


def custom_vjp_forward(params: dict[str, Any], input_is_nonzero: Sequence[bool]):
    """The user's fwd rule of a `custom_vjp_call` equation: `(fwd_jaxpr, consts, out_trees)`.

    `fwd_jaxpr` (open) maps the non-const primal inputs to the residuals followed by the primal
    outputs.
    `out_trees` is `(out_tree, residual_tree, input_forwards)`; residual i is input
    `input_forwards[i]` when that entry is not None.
    """
    fwd_jaxpr, consts = params["fwd_jaxpr_thunk"].call_wrapped(*input_is_nonzero)
    return fwd_jaxpr, consts, params["out_trees"]()


def custom_vjp_backward(
    params: dict[str, Any],
    residuals: Sequence[Any],
    cotangents: Sequence[Any],
    out_avals: Sequence[Any] | None = None,
    symbolic_zeros: bool = False,
):
    """The user's bwd rule of a `custom_vjp_call` equation applied to residuals and cotangents.

    Given the outputs' `out_avals`, a cotangent may be None (the output received none): it
    reaches bwd as zeros, or, for a function defined with `symbolic_zeros=True`, as a
    `SymbolicZero`. Where bwd gives no cotangent (None for an integer argument), JAX's wrapper
    hands back its own symbolic zero; that is returned as None, which adkit's rules read as
    "no cotangent".
    """
    from jax._src import ad_util

    if out_avals is not None:
        cotangents = [
            (
                ad_util.SymbolicZero(aval.to_tangent_aval())
                if symbolic_zeros
                else _ad.instantiate_zeros(_ad.Zero(aval.to_tangent_aval()))
            )
            if ct is None
            else ct
            for ct, aval in zip(cotangents, out_avals, strict=True)
        ]
    cts = params["bwd"].call_wrapped(*residuals, *cotangents)
    return [None if isinstance(ct, _ad.Zero) else ct for ct in cts]


# --- walking nested jaxprs ---
def sub_jaxprs(eqn: JaxprEqn) -> Iterator[Jaxpr]:
    """The open jaxprs held directly in an equation's params (not recursive)."""
    yield from _jex.jaxprs_in_params(eqn.params)


def primitives_in(jaxpr: Jaxpr | ClosedJaxpr) -> set[str]:
    """Names of every primitive in a jaxpr, recursing into all nested jaxprs."""
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    names: set[str] = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for sub in sub_jaxprs(eqn):
            names |= primitives_in(sub)
    return names


# Primitives that appear in ordinary jaxprs but that no public module exports.
_UNEXPORTED = (
    _debugging.debug_print_p,
    _debugging.debug_callback_p,
    _prng.random_wrap_p,
    _prng.random_unwrap_p,
    _random_core.random_clone_p,
    _conditionals.platform_index_p,
    _shard_map.shard_map_p,
    _core.pvary_p,
    _parallel.psum_invariant_p,
    _parallel.pbroadcast_p,
    _parallel.all_gather_invariant_p,
    _parallel.reduce_scatter_p,
    _parallel.axis_index_p,
    _custom_derivatives.remat_opt_p,
)


@functools.cache
def _primitive_table() -> dict[str, Primitive]:
    table: dict[str, Primitive] = {p.name: p for p in _UNEXPORTED}
    for module in (_jex_primitives, jax.lax):
        for attr in dir(module):
            value = getattr(module, attr)
            if isinstance(value, Primitive):
                table.setdefault(value.name, value)
    return table


def primitive_by_name(name: str) -> Primitive:
    """Looks up a JAX primitive object by its name (as printed in jaxprs)."""
    table = _primitive_table()
    if name not in table:
        raise KeyError(
            f"No JAX primitive named {name!r} is exported by jax.lax or "
            "jax.extend.core.primitives. Check the spelling against a printed jaxpr, or pass "
            "the primitive object itself."
        )
    return table[name]


ARRAY_TYPE = _ArrayImpl
"""The exact type of a concrete `jax.Array` (not a tracer, not a NumPy array or a Python scalar):
the one type the sparse transforms' fast path takes, tested as `type(x) is ARRAY_TYPE`."""

aval_of = operator.attrgetter("aval")
"""A concrete array's abstract value (shape, dtype, weak type, sharding), read in C: arrays of
the same shape from the same program share the same object, so `is` compares signatures."""


def bcoo_around(template: Any, indices: Any) -> Callable[[Any], Any]:
    """A function from data to the BCOO shaped like `template` holding `indices` (the same
    buffer every time): what `BCOO.tree_unflatten` does, with its check of the aux data made
    once here instead of on every call (a sparse Jacobian's call on values is a few µs).

    The attributes are set one by one, in a fixed order, rather than by assigning a dict to
    `__dict__`: Python then keeps them in the instance's shared-key storage, which is cheaper to
    build and to free (0.14 against 0.22 µs alone; 0.3 µs of a 9 µs call on one core)."""
    _, aux = template.tree_flatten()
    if set(template.__dict__) != {"data", "indices", *aux} or set(aux) != {
        "shape",
        "indices_sorted",
        "unique_indices",
    }:
        raise TypeError(
            f"This JAX's BCOO holds the attributes {sorted(template.__dict__)} and the aux data "
            f"{sorted(aux)}, not the data, indices, shape, indices_sorted and unique_indices "
            "`bcoo_around` builds it from. Update `bcoo_around` in adkit/_jax_compat.py for "
            "this JAX version (or build the BCOO with `BCOO.tree_unflatten`)."
        )
    cls, new = type(template), object.__new__
    shape, ordered, unique = aux["shape"], aux["indices_sorted"], aux["unique_indices"]

    def wrap(data):
        obj = new(cls)
        obj.data = data
        obj.indices = indices
        obj.shape = shape
        obj.indices_sorted = ordered
        obj.unique_indices = unique
        return obj

    return wrap


def is_concrete(value: Any) -> bool:
    """True when `value` holds data now (not an abstract tracer under jit or vmap)."""
    return not isinstance(value, jax.core.Tracer)


@functools.lru_cache(maxsize=4096)
def close_jaxpr(jaxpr: Jaxpr) -> ClosedJaxpr:
    """An open jaxpr without constants as a closed one (the same object for the same jaxpr, so
    caches keyed on closed jaxprs keep hitting)."""
    return ClosedJaxpr(jaxpr, ())


# === adkit.ops: JAX's rule tables for primitives adkit defines (see adkit/ops/_primitive.py) ===
ShapedArray = _core.ShapedArray


def is_jax_zero(tangent: Any) -> bool:
    """True for JAX's symbolic zero tangent or cotangent (`ad.Zero`)."""
    return type(tangent) is _ad.Zero


def jax_zero_like(value: Any) -> Any:
    """JAX's symbolic zero tangent for a primal value (or for an abstract value)."""
    aval = value if isinstance(value, _core.AbstractValue) else jax.typeof(value)
    return _ad.Zero(aval.to_tangent_aval())


def is_jax_undefined(value: Any) -> bool:
    """True for the linear operand JAX hands a transpose rule (`ad.UndefinedPrimal`)."""
    return _ad.is_undefined_primal(value)


def set_jax_jvp(primitive: Primitive, rule: Callable[..., Any]) -> None:
    """JAX's JVP rule: `rule(primals, tangents, **params) -> (out, tangent_out)`."""
    _ad.primitive_jvps[primitive] = rule


def set_jax_transpose(primitive: Primitive, rule: Callable[..., Any]) -> None:
    """JAX's transpose rule: `rule(ct, *operands, **params) -> cotangents`."""
    _ad.primitive_transposes[primitive] = rule


def set_jax_batching(primitive: Primitive, rule: Callable[..., Any]) -> None:
    """JAX's batching rule: `rule(args, dims, **params) -> (out, out_dims)`, None = unbatched."""
    _batching.primitive_batchers[primitive] = rule


def set_jax_lowering(primitive: Primitive, fun: Callable[..., Any], multiple_results: bool):
    """Lowers `primitive` on every platform by tracing `fun` (plain JAX code) into HLO."""
    _mlir.register_lowering(primitive, _mlir.lower_fun(fun, multiple_results=multiple_results))


def count_equations(jaxpr: Jaxpr | ClosedJaxpr) -> int:
    """Number of equations in a jaxpr, counting those of every nested jaxpr."""
    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    return sum(1 + sum(count_equations(sub) for sub in sub_jaxprs(eqn)) for eqn in jaxpr.eqns)


# --- saved residuals (adkit.checkpoint.memory_report) ---
def saved_residuals(fun: Callable[..., Any], *args: Any) -> list[tuple[Any, str]]:
    """What `jax.vjp(fun, *args)` keeps for the backward pass: `(aval, where it comes from)`,
    the text JAX's `print_saved_residuals` prints ("from the argument x", or "output of sin
    from file.py:12 (f)")."""
    from jax._src import ad_checkpoint as _ad_checkpoint

    return list(_ad_checkpoint.saved_residuals(fun, *args))


# --- the define-by-run engine (`interpreter/eager/`): JAX's trace machinery ---
# A define-by-run engine is a `Trace` whose tracers carry concrete primal values: every
# primitive applied to them reaches `process_primitive` (custom_jvp/custom_vjp functions reach
# `process_custom_jvp_call` / `process_custom_vjp_call` with their Python callables).
Trace = _core.Trace
Tracer = _core.Tracer
TraceTag = _core.TraceTag
take_current_trace = _core.take_current_trace
set_current_trace = _core.set_current_trace
to_concrete_value = _core.to_concrete_value
get_referent = _core.get_referent
full_lower = _core.full_lower


def bind_with_trace(primitive: Primitive, trace: Any, args: Sequence[Any], params: dict) -> Any:
    """Applies `primitive` to `args` in `trace` (the parent of a define-by-run trace). For a
    custom_jvp/custom_vjp call, `params` holds its callables under `subfuns`, as JAX binds it."""
    avals = tuple(_core.typeof(x) for x in args)
    return primitive.bind_with_trace(trace, tuple(args), avals, params)


def symbolic_zero(aval: Any) -> Any:
    """The zero a `symbolic_zeros=True` custom rule receives for an input without a tangent."""
    from jax._src import ad_util

    return ad_util.SymbolicZero(aval)


def is_symbolic_zero(value: Any) -> bool:
    """Whether a custom rule returned a symbolic zero (JAX's `SymbolicZero` or internal `Zero`)."""
    from jax._src import ad_util

    return isinstance(value, ad_util.SymbolicZero | _ad.Zero)


# --- `jax_custom_vjp3`: custom_vjp as a "hi" primitive (`call_hi_primitive`, jax._src.hijax) ---
# The equation's `_prim` param is an object with the user's rules: `vjp_fwd(nonzeros, *args)`
# gives `(outputs, residuals[, output nonzeros])`, `vjp_bwd_retval(residuals, cotangents)` the
# arguments' cotangents, each as pytrees shaped by `_prim.in_tree` / `_prim.out_tree`.
def _hi_primitive():
    from jax._src import hijax

    return hijax.call_hi_primitive_p


call_hi_primitive_p = _hi_primitive()


def hi_vjp_forward(prim: Any, active: Sequence[bool], args: Sequence[Any]):
    """The user's fwd of a `call_hi_primitive`: `(flat outputs, flat residuals, residual tree)`."""
    from jax._src.tree_util import tracing_registry

    in_tree, out_tree = prim.in_tree, prim.out_tree
    out, residuals, *_ = prim.vjp_fwd(
        in_tree.unflatten(list(active)), *in_tree.unflatten(list(args))
    )
    res_flat, res_tree = tracing_registry.flatten(residuals)
    return out_tree.flatten_up_to(out), res_flat, res_tree


def hi_vjp_backward(prim: Any, res_flat: Sequence[Any], res_tree: Any, cts: Sequence[Any]):
    """The user's bwd of a `call_hi_primitive`: one cotangent per flat input (None for none).

    A missing output cotangent (None) is handed over as JAX's symbolic zero, which the rule
    instantiates, or passes to a `symbolic_zeros` bwd as a `SymbolicZero`.
    """
    out_cts = [
        _ad.Zero(aval.to_tangent_aval()) if c is None else c
        for aval, c in zip(prim.out_avals_flat, cts, strict=True)
    ]
    residuals = res_tree.unflatten(list(res_flat))
    in_cts = prim.vjp_bwd_retval(residuals, prim.out_tree.unflatten(out_cts))
    return [None if isinstance(c, _ad.Zero) else c for c in prim.in_tree.flatten_up_to(in_cts)]


class HiBackward:
    """A `call_hi_primitive`'s bwd in the form adkit's custom_vjp linearization calls:
    `call_wrapped(*residuals, *cotangents)`."""

    def __init__(self, prim: Any, res_tree: Any):
        self.prim, self.res_tree = prim, res_tree

    def call_wrapped(self, *flat: Any) -> list[Any]:
        n = self.res_tree.num_leaves
        cts = [None if is_symbolic_zero(c) else c for c in flat[n:]]
        return hi_vjp_backward(self.prim, flat[:n], self.res_tree, cts)


def custom_vjp3(enabled: bool = True):
    """A context in which `jax.custom_vjp` defines functions the `jax_custom_vjp3` way."""
    from jax._src import config

    return config.custom_vjp3(enabled)


# --- custom_vmap (`jax.custom_batching.custom_vmap`) ---
def _custom_vmap_primitive():
    from jax._src import custom_batching

    return custom_batching.custom_vmap_p


custom_vmap_p = _custom_vmap_primitive()


def vmap_unrestricted(
    fun: Callable[..., list[Any]], args: Sequence[Any], in_axes: Sequence[int | None], size: int
) -> tuple[list[Any], list[int | None]]:
    """`jax.vmap` of a function of flat arguments that reports where each output is batched
    (its axis, or None) instead of being told: `(outputs, out_axes)`."""
    from jax._src import custom_batching

    wrapped = _lu.wrap_init(fun, debug_info=_api_util_debug_info(fun, args))
    outs, out_axes = custom_batching.vmap_unrestricted(
        wrapped, *args, in_axes=list(in_axes), axis_name=_core.no_axis_name, axis_size=size
    )
    return list(outs), list(out_axes)


def _api_util_debug_info(fun, args):
    from jax._src import api_util

    return api_util.debug_info("adkit", fun, tuple(args), {})


# --- the conformance runner: the modules JAX's tests reach differentiation through ---
def jax_api_module() -> Any:
    """`jax._src.api`, which some of JAX's test files import as `api`."""
    from jax._src import api

    return api


def public_test_util_module() -> Any:
    """`jax._src.public_test_util`, whose module-level `api` `jtu.check_grads` calls."""
    from jax._src import public_test_util

    return public_test_util


def explicit_sharding(aval: Any, order: Sequence[int] | None = None) -> Any:
    """The sharding an array of type `aval` carries in its type, its dimensions put in `order`;
    None unless a mesh axis is Explicit (then ops whose output sharding JAX cannot infer, such as
    a dot_general contracting a sharded dimension, must be told it, as JAX's own rules do)."""
    sharding = getattr(aval, "sharding", None)
    mesh = getattr(sharding, "mesh", None)
    if mesh is None or jax.sharding.AxisType.Explicit not in tuple(mesh.axis_types):
        return None
    spec = tuple(sharding.spec) + (None,) * (aval.ndim - len(sharding.spec))
    if order is not None:
        spec = tuple(spec[d] for d in order)
    return sharding.update(spec=sharding.spec.update(partitions=spec))
