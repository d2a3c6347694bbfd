"""The tape path through calls: `jit`, `jax.checkpoint`, `custom_vjp`, `custom_jvp`, `while`.

- `jit`: its body is swept in place; the call's residuals are the body's tape.
- `jax.checkpoint` (`remat2`): the forward sweep stores only the region's inputs. The backward
  sweep runs the region's forward sweep again from them (recomputing its residuals, behind an
  optimization barrier so XLA does not merge the two computations) and then its backward sweep.
  That trades compute for memory, which is the point of checkpointing.
- `custom_vjp`: the user's fwd computes the outputs and the residuals; the user's bwd pulls back.
- `custom_jvp`: the user's JVP rule is linearized at the primal point and transposed
  (`rules/vjp/_derive.py`), so relu'(0) = 0 holds in reverse mode too.
- `while`: the number of iterations is known only at run time, so there is no tape to store.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from jax import lax

from .... import _jax_compat as jc
from ..._eval import eval_open
from ..._registry import VJP_RULES
from ..._zeros import is_zero
from .derived import transposed
from .engine import backward_sweep, forward_sweep, sends


# --- jit: sweep the body in place ---
def _jit_forward(primals, active, *, jaxpr, **params):
    outs, sweep = forward_sweep(jaxpr.jaxpr, jaxpr.consts, primals, active)
    return outs, sweep


@VJP_RULES.register(jc.jit_p, forward=_jit_forward, symbolic_zeros=True)
def _jit_vjp(cts, sweep, **params):  # the body's own backward sweep
    return sends(backward_sweep(sweep, cts))


# --- jax.checkpoint: store the inputs, recompute the rest in the backward sweep ---
@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Checkpointed:
    """The residual of a checkpointed region: only its input values."""

    inputs: tuple[Any, ...]
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _remat_forward(primals, active, *, jaxpr, **params):
    return eval_open(jaxpr, (), primals), Checkpointed(tuple(primals), tuple(active))


@VJP_RULES.register(jc.remat_p, forward=_remat_forward, symbolic_zeros=True)
def _remat_vjp(cts, res, *, jaxpr, prevent_cse, **params):
    inputs = list(res.inputs)
    if prevent_cse:  # keep XLA from reusing the first forward computation
        inputs = list(lax.optimization_barrier(inputs))
    _, sweep = forward_sweep(jaxpr, (), inputs, res.active)  # recompute the residuals
    return sends(backward_sweep(sweep, cts))


# --- custom_vjp: the user's fwd and bwd ---
@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class UserResiduals:
    """The residuals the user's fwd returned, and how many operands are closed-over consts."""

    values: tuple[Any, ...]
    num_consts: int = dataclasses.field(metadata={"static": True})
    num_args: int = dataclasses.field(metadata={"static": True})


def _custom_vjp_forward(primals, active, *, num_consts, fwd_jaxpr_thunk, out_trees, **params):
    if any(active[:num_consts]):
        raise TypeError(
            "A `jax.custom_vjp` function closes over a value being differentiated; its bwd rule "
            "cannot give that value's cotangent. Pass the value as an explicit argument."
        )
    args = primals[num_consts:]
    fwd, consts, (_, _, input_forwards) = jc.custom_vjp_forward(
        {"fwd_jaxpr_thunk": fwd_jaxpr_thunk, "out_trees": out_trees}, list(active[num_consts:])
    )
    outs = eval_open(fwd, consts, args)
    n_new = sum(f is None for f in input_forwards)
    new_residuals, primal_outs = iter(outs[:n_new]), outs[n_new:]
    # a forwarded residual's index counts the closed-over consts too (JAX reads primals_in)
    residuals = [next(new_residuals) if f is None else primals[f] for f in input_forwards]
    return list(primal_outs), UserResiduals(tuple(residuals), num_consts, len(args))


@VJP_RULES.register(jc.custom_vjp_call_p, forward=_custom_vjp_forward, symbolic_zeros=True)
def _custom_vjp_vjp(cts, res, *, bwd, call_jaxpr, symbolic_zeros, **params):
    # the user's bwd(residuals, cotangents); an output without a cotangent reaches it as zeros,
    # or as a SymbolicZero if the function was defined with `symbolic_zeros=True`
    cts = [None if is_zero(c) else c for c in cts]
    sends = jc.custom_vjp_backward(
        {"bwd": bwd}, res.values, cts, call_jaxpr.out_avals, symbolic_zeros
    )
    return [None] * res.num_consts + [
        None if s is None or is_zero(s) or jax.typeof(s).dtype == jax.dtypes.float0 else s
        for s in sends
    ]


# --- custom_vjp under `jax_custom_vjp3` (`call_hi_primitive`): the user's fwd and bwd ---
@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class HiResiduals:
    """The residuals the user's fwd returned (flat), their structure, and the active inputs."""

    values: tuple[Any, ...]
    tree: Any = dataclasses.field(metadata={"static": True})
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


def _call_hi_forward(primals, active, *, _prim):
    outs, residuals, res_tree = jc.hi_vjp_forward(_prim, active, primals)
    return list(outs), HiResiduals(tuple(residuals), res_tree, tuple(active))


@VJP_RULES.register(jc.call_hi_primitive_p, forward=_call_hi_forward, symbolic_zeros=True)
def _call_hi_vjp(cts, res, *, _prim):  # the user's bwd(residuals, cotangents)
    cts = [None if is_zero(c) else c for c in cts]
    sends = jc.hi_vjp_backward(_prim, res.values, res.tree, cts)
    return [
        s if a and s is not None and jax.typeof(s).dtype != jax.dtypes.float0 else None
        for s, a in zip(sends, res.active, strict=True)
    ]


# --- custom_jvp and custom_linear_solve: transpose the linearized rule ---
transposed(jc.custom_jvp_call_p)
transposed(jc.remat_opt_p)  # custom_vjp(optimize_remat=True)'s fwd rule, differentiated again
transposed(jc.custom_vmap_p)  # through its function (JAX's partial evaluation cannot)
transposed(jc.custom_linear_solve_p)
