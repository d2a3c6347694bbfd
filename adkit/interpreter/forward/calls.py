"""Forward mode through calls: `jit`, `jax.checkpoint`, `custom_jvp`, `custom_vjp` and
`custom_linear_solve` (`jnp.linalg.solve`).

Each transforms its sub-jaxprs with `jvp_jaxpr` (cached per sub-jaxpr and zero pattern) and
rebuilds the same construct around them, so the JVP of a `jit` is a `jit`, of a checkpointed
region a checkpointed region. The user's rules of a `custom_jvp` function are followed.

Forward mode cannot use a VJP-only rule, so `adkit.jvp` refuses a `custom_vjp` function (as
`jax.jvp` does). When reverse mode linearizes, its rule runs the user's fwd on the primals (giving
the outputs and the residuals) and leaves the tangent map as one opaque linear equation,
`custom_vjp_lin(residuals, tangents)`, whose transpose (in `reverse/transpose/calls.py`) is the
user's bwd applied to the residuals and the output cotangents.
"""

from __future__ import annotations

import dataclasses
import functools

import jax

from ... import _jax_compat as jc
from .._errors import NO_FORWARD_MODE, BatchedBeforeDifferentiated
from .._eval import call_closed, eval_closed, eval_open, jitted_walk
from .._registry import JVP_RULES
from .._zeros import Zero, instantiate, is_zero
from ..rules.builders import add_tangents, zeros_like_out
from .engine import (
    LINEARIZING,
    jvp_closed,
    jvp_jaxpr,
    merge_tangents,
    nonzero_pattern,
    nonzero_values,
)


@JVP_RULES.register(jc.jit_p)
def _jit_jvp(primals, tangents, *, jaxpr, name, **_):
    # jvp(jit(f)) = jit(jvp(f)): the tangent computation compiles with the primal one
    rule, nonzero_out = jvp_jaxpr(jaxpr, nonzero_pattern(tangents))
    outs = jitted_walk(rule, f"jvp({name})")(*primals, *nonzero_values(tangents))
    n = len(jaxpr.out_avals)
    return outs[:n], merge_tangents(outs[:n], nonzero_out, outs[n:])


@JVP_RULES.register(jc.remat_p)
def _remat_jvp(primals, tangents, *, jaxpr, prevent_cse, differentiated, policy):
    # jvp(checkpoint(f)) = checkpoint(jvp(f)), with the same saving policy
    del differentiated
    rule, nonzero_out = jvp_jaxpr(jc.close_jaxpr(jaxpr), nonzero_pattern(tangents))
    body = functools.partial(call_closed, rule)
    remat = jax.checkpoint(body, prevent_cse=prevent_cse, policy=policy)
    outs = list(remat(*primals, *nonzero_values(tangents)))
    n = len(jaxpr.outvars)
    primal_outs = outs[:n]
    if LINEARIZING.get():
        # Reverse mode takes a checkpointed region's values from the region itself and only its
        # tangents from the linearization, as the tape path and JAX do: a custom_vjp function
        # with `optimize_remat=True` inside gives f's value, not its fwd rule's.
        primal_outs = eval_open(jaxpr, (), primals)
    return primal_outs, merge_tangents(primal_outs, nonzero_out, outs[n:])


@JVP_RULES.register(jc.remat_opt_p)
def _remat_opt_jvp(primals, tangents, *, fwd_jaxpr, **params):
    # `custom_vjp(optimize_remat=True)`'s fwd rule as a primitive: it is `fwd_jaxpr` (consts and
    # arguments to residuals and outputs), so its JVP is the JVP of that jaxpr
    return jvp_closed(fwd_jaxpr, primals, tangents)


@JVP_RULES.register(jc.custom_jvp_call_p)
def _custom_jvp_call_jvp(
    primals, tangents, *, call_jaxpr, jvp_jaxpr_fun, num_consts, symbolic_zeros
):
    # the user's rule: evaluate the JVP jaxpr it defines (constants hoisted out of the function
    # body are not differentiated, as in JAX)
    params = {"jvp_jaxpr_fun": jvp_jaxpr_fun}
    args, arg_tangents = primals[num_consts:], tangents[num_consts:]
    if not symbolic_zeros:
        arg_tangents = [instantiate(t) for t in arg_tangents]
    zero_flags = [is_zero(t) for t in arg_tangents]
    rule, consts, out_zero = jc.custom_jvp_rule(params, zero_flags)
    n = len(out_zero)
    _check_rule_shapes(call_jaxpr, rule.outvars[:n])
    outs = eval_open(rule, consts, [*args, *nonzero_values(arg_tangents)])
    tangents = merge_tangents(outs[:n], [not z for z in out_zero], outs[n:])
    # a rule returns float0 zeros as the tangents of integer outputs: those are symbolic zeros
    return outs[:n], [
        Zero.like(p) if _is_float0(t) else t for p, t in zip(outs[:n], tangents, strict=True)
    ]


def _check_rule_shapes(call_jaxpr, rule_outvars):
    """Refuses a custom JVP rule whose primal outputs are shaped unlike the function's.

    Under `jax.vmap`, a custom_jvp function whose output does not depend on its batched input
    returns one unbatched value while its batched JVP rule returns one per batch element. JAX
    differentiates before it batches and never sees the mismatch; adkit differentiates the
    batched program, where the per-element tangents have nowhere to go.
    """
    for declared, got in zip(call_jaxpr.out_avals, rule_outvars, strict=True):
        if declared.shape != got.aval.shape:
            raise BatchedBeforeDifferentiated(
                f"A custom_jvp function returns {declared.str_short()}, but its JVP rule returns "
                f"a primal output of type {got.aval.str_short()}. This happens under `jax.vmap` "
                "when the function's output does not depend on its batched input: adkit "
                "differentiates the batched program, where that output is one value for the "
                "whole batch. On concrete inputs adkit differentiates define-by-run instead, in "
                "JAX's order (`adkit.define_by_run`); here the inputs are abstract (under "
                "`jax.jit`?). Make the output depend on the input (e.g. `jnp.zeros_like(x)`), "
                "or apply the adkit transformation inside the vmap."
            )


def _is_float0(tangent) -> bool:
    return not is_zero(tangent) and jax.typeof(tangent).dtype == jax.dtypes.float0


@dataclasses.dataclass(frozen=True, eq=False)
class _ByIdentity:
    """Holds a param JAX requires to be hashable (the user's bwd may not be): by identity."""

    value: object


custom_vjp_lin_p = jc.Primitive("adkit_custom_vjp_lin")
custom_vjp_lin_p.multiple_results = True


@custom_vjp_lin_p.def_impl
def _lin_impl(*args, **params):
    raise TypeError(
        "adkit's custom_vjp linearization was evaluated forwards; it only exists to be "
        "transposed. This is an adkit bug: please report it."
    )


@custom_vjp_lin_p.def_abstract_eval
def _lin_abstract_eval(*args, out_avals, **params):
    return out_avals


@JVP_RULES.register(jc.custom_vjp_call_p)
def _custom_vjp_call_jvp(
    primals, tangents, *, call_jaxpr, fwd_jaxpr_thunk, num_consts, bwd, out_trees, symbolic_zeros
):
    if not LINEARIZING.get():
        raise TypeError(NO_FORWARD_MODE)
    if any(not is_zero(t) for t in tangents[:num_consts]):
        raise TypeError(
            "A `jax.custom_vjp` function closes over a value being differentiated; its bwd rule "
            "cannot give that value's cotangent. Pass the value as an explicit argument."
        )
    args, arg_tangents = primals[num_consts:], tangents[num_consts:]
    params = {"fwd_jaxpr_thunk": fwd_jaxpr_thunk, "out_trees": out_trees}
    fwd, consts, (_, _, input_forwards) = jc.custom_vjp_forward(
        params, [not is_zero(t) for t in arg_tangents]
    )
    outs = eval_open(fwd, consts, args)
    n_new = sum(f is None for f in input_forwards)
    new_residuals, primal_outs = iter(outs[:n_new]), outs[n_new:]
    # a forwarded residual's index counts the closed-over consts too (JAX reads primals_in)
    residuals = [next(new_residuals) if f is None else primals[f] for f in input_forwards]
    out_avals = [jax.typeof(o).to_tangent_aval() for o in primal_outs]
    tangent_outs = custom_vjp_lin_p.bind(
        *residuals,
        *(instantiate(t) for t in arg_tangents),
        num_residuals=len(residuals),
        bwd=_ByIdentity(bwd),
        out_avals=tuple(out_avals),
        symbolic_zeros=symbolic_zeros,
    )
    return list(primal_outs), list(tangent_outs)


# --- custom_vjp under `jax_custom_vjp3`: the `call_hi_primitive` holding the user's rules ---
@JVP_RULES.register(jc.call_hi_primitive_p)
def _call_hi_jvp(primals, tangents, *, _prim):
    # as for custom_vjp: linearized only, to one opaque linear equation that bwd transposes
    if not LINEARIZING.get():
        raise TypeError(NO_FORWARD_MODE)
    active = [not is_zero(t) for t in tangents]
    outs, residuals, res_tree = jc.hi_vjp_forward(_prim, active, primals)
    tangent_outs = custom_vjp_lin_p.bind(
        *residuals,
        *(instantiate(t) for t in tangents),
        num_residuals=len(residuals),
        bwd=_ByIdentity(jc.HiBackward(_prim, res_tree)),
        out_avals=tuple(jax.typeof(o).to_tangent_aval() for o in outs),
        symbolic_zeros=True,  # (as None to `hi_vjp_backward`: the primitive decides)
    )
    return list(outs), list(tangent_outs)


# --- custom_vmap: the JVP keeps the custom batching rule ---
@JVP_RULES.register(jc.custom_vmap_p)
def _custom_vmap_jvp(primals, tangents, *, call, rule, in_tree, out_tree):
    # jvp(custom_vmap(f, rule)) = custom_vmap(jvp(f), jvp of rule): unbatched, adkit's JVP of f;
    # batched by an outer vmap, adkit's JVP of the user's rule (see `_jvp_of_rule`)
    tangents = [instantiate(t) for t in tangents]
    n_out = len(call.out_avals)
    jvp_call, _ = jvp_jaxpr(call, (True,) * len(primals), (True,) * n_out)
    outs = jc.custom_vmap_p.bind(
        *primals,
        *tangents,
        call=jvp_call,
        rule=functools.partial(_jvp_of_rule, rule, out_tree),
        in_tree=jax.tree_util.treedef_tuple((in_tree, in_tree)),
        out_tree=jax.tree_util.treedef_tuple((out_tree, out_tree)),
    )
    return list(outs[:n_out]), list(outs[n_out:])


def _jvp_of_rule(rule, out_tree, axis_size, in_batched, primals, tangents):
    """The batching rule of a custom_vmap's JVP, as JAX defines it: the user's rule is called
    with the inputs batched in both primal and tangent ("mutually"); the JVP of that (adkit's)
    is vmapped over what is batched in only one of them."""
    batched_p, batched_t = in_batched
    flat_p, tree = jax.tree.flatten(primals)
    flat_t = tree.flatten_up_to(tangents)
    flags_p, flags_t = tree.flatten_up_to(batched_p), tree.flatten_up_to(batched_t)
    mutual = [p and t for p, t in zip(flags_p, flags_t, strict=True)]
    out_mutual: list[bool] = []

    def rule_applied(*flat):  # the user's rule on mutually batched inputs
        out, out_batched = rule(axis_size, tree.unflatten(mutual), *tree.unflatten(list(flat)))
        out_mutual[:] = out_tree.flatten_up_to(out_batched)
        return out_tree.flatten_up_to(out)

    def pushforward(*flat):  # adkit's JVP of it
        ps, ts = flat[: len(flat_p)], flat[len(flat_p) :]
        closed = jax.make_jaxpr(rule_applied)(*ps)
        outs, touts = jvp_closed(closed, list(ps), list(ts))
        return [*outs, *(instantiate(t) for t in touts)]

    in_axes = [0 if p and not t else None for p, t in zip(flags_p, flags_t, strict=True)]
    in_axes += [0 if t and not p else None for p, t in zip(flags_p, flags_t, strict=True)]
    outs, out_axes = jc.vmap_unrestricted(pushforward, [*flat_p, *flat_t], in_axes, axis_size)
    outs = [
        o if a in (None, 0) else jax.numpy.moveaxis(o, a, 0)
        for o, a in zip(outs, out_axes, strict=True)
    ]
    n = len(outs) // 2
    extra = [a is not None for a in out_axes]
    batched_outs = [m or e for m, e in zip(out_mutual * 2, extra, strict=True)]
    return (
        (out_tree.unflatten(outs[:n]), out_tree.unflatten(outs[n:])),
        (out_tree.unflatten(batched_outs[:n]), out_tree.unflatten(batched_outs[n:])),
    )


# --- custom_linear_solve (jnp.linalg.solve) ---
@JVP_RULES.register(jc.custom_linear_solve_p)
def _custom_linear_solve_jvp(primals, tangents, *, const_lengths, jaxprs):
    # A x = b:  dA x + A dx = db  ⇒  dx = A⁻¹(db - dA x), another solve with the same operator.
    # A is the `matvec` function of its constants; dA x is matvec's tangent with x held fixed.
    # Tangents of the other functions' constants (the factors a solver precomputed) are not
    # used: the operator is defined by matvec. Auxiliary outputs get zero tangents.
    params = dict(const_lengths=const_lengths, jaxprs=jaxprs)
    out = list(jc.custom_linear_solve_p.bind(*primals, **params))
    n_consts = sum(const_lengths)
    b_tangents = tangents[n_consts:]
    n_x = len(b_tangents)
    rhs = _subtract_matvec_tangent(primals, tangents, out[:n_x], const_lengths, jaxprs.matvec)
    rhs = [add_tangents(t, r) for t, r in zip(b_tangents, rhs, strict=True)]
    if all(is_zero(r) for r in rhs):
        return out, zeros_like_out(out)
    rhs = [instantiate(r) for r in rhs]
    dx = jc.custom_linear_solve_p.bind(*primals[:n_consts], *rhs, **params)
    return out, [*dx[:n_x], *zeros_like_out(out[n_x:])]


def _subtract_matvec_tangent(primals, tangents, x, const_lengths, matvec):
    """-dA x as a list (symbolic zeros when matvec's constants have zero tangents)."""
    n = const_lengths.matvec
    consts, const_tangents = primals[:n], tangents[:n]
    nonzero = tuple(not is_zero(t) for t in const_tangents)
    if not any(nonzero):
        return [Zero.like(v) for v in x]
    rule, nonzero_out = jvp_jaxpr(matvec, (*nonzero, *[False] * len(x)))
    outs = eval_closed(rule, [*consts, *x, *(t for t in const_tangents if not is_zero(t))])
    nz_values = iter(outs[len(x) :])
    return [-next(nz_values) if nz else Zero.like(v) for v, nz in zip(x, nonzero_out, strict=True)]
