"""`jax.custom_vjp` functions: the user's fwd and bwd rules, in reverse mode.

Forward mode cannot use a VJP-only rule, so `adkit.jvp` refuses (as `jax.jvp` does). When
reverse mode linearizes, the rule runs the user's fwd on the primals (giving the outputs and
the residuals) and leaves the tangent map as one opaque linear equation,
`custom_vjp_lin(residuals, tangents)`, whose transpose is the user's bwd applied to the
residuals and the output cotangents.
"""

from __future__ import annotations

import dataclasses

import jax

from ... import _jax_compat as jc
from .._eval import eval_open
from .._jvp import LINEARIZING
from .._zeros import instantiate, is_zero
from ._table import register_jvp, register_transpose


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


@register_jvp(jc.custom_vjp_call_p)
def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, fwd_jaxpr_thunk, num_consts, bwd,
                         out_trees, symbolic_zeros):  # fmt: skip
    if not LINEARIZING.get():
        raise TypeError(
            "adkit cannot apply forward mode (jvp) to a `jax.custom_vjp` function: its "
            "user-defined rule is a VJP only. Use reverse mode (`adkit.vjp`/`adkit.grad`), or "
            "define the function with `jax.custom_jvp` to make it forward-differentiable."
        )
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
    residuals = [next(new_residuals) if f is None else args[f] for f in input_forwards]
    out_avals = [jax.typeof(o).to_tangent_aval() for o in primal_outs]
    tangent_outs = custom_vjp_lin_p.bind(
        *residuals, *(instantiate(t) for t in arg_tangents),
        num_residuals=len(residuals), bwd=_ByIdentity(bwd), out_avals=tuple(out_avals),
    )  # fmt: skip
    return list(primal_outs), list(tangent_outs)


@register_transpose(custom_vjp_lin_p)
def _custom_vjp_lin_transpose(cts, *operands, num_residuals, bwd, out_avals):
    # the user's bwd: (residuals, output cotangents) -> input cotangents
    residuals = operands[:num_residuals]
    input_cts = jc.custom_vjp_backward({"bwd": bwd.value}, residuals, [instantiate(c) for c in cts])
    return [None] * num_residuals + [None if ct is None else ct for ct in input_cts]
