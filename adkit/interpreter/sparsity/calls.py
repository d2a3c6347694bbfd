"""Sparsity through calls: `jit`, `jax.checkpoint`, `custom_jvp`, `custom_vjp` and
`custom_linear_solve`.

A `jit` or a checkpointed region is walked like the code around it. A function with a custom
derivative gets the sparsity of its derivative rule, not of its primal body, since that is what
every differentiation of it computes (a straight-through estimator's primal is piecewise
constant, its Jacobian is not zero):
- `custom_jvp`: the user's JVP rule is walked with the primals depending on nothing (their
  values only scale the tangents) and the tangents carrying the operands' sets; the output
  tangents' sets are the outputs'.
- `custom_vjp`: the user's fwd and bwd are traced into one pullback `(primals, cotangents) ->
  input cotangents`, walked with a fresh index per output element; input cotangent element a
  depends on output element o exactly where the Jacobian has (o, a): the transpose of what is
  needed, composed with the operands' sets.
"""

from __future__ import annotations

import jax
import numpy as np
import scipy.sparse as sp

from ... import _jax_compat as jc
from .._eval import eval_open
from .._registry import SPARSITY_RULES, MissingRuleError
from ..rules.sparsity._maps import MOVED, element_ids, from_ids
from ..rules.sparsity._sets import (
    IndexSets,
    dense,
    identity,
    known,
    offsets,
    stack_rows,
    unknown,
    with_matrix,
)
from .engine import differentiable, sparsity_closed, sparsity_open


def _values_only(o: IndexSets, num_inputs: int) -> IndexSets:
    """The same array, depending on nothing (its known value kept)."""
    return IndexSets(o.shape, unknown(o.shape, num_inputs).matrix, o.value)


def _sets_only(o: IndexSets) -> IndexSets:
    """The same dependence, value forgotten (a tangent's value is not the primal's)."""
    return IndexSets(o.shape, o.matrix)


@SPARSITY_RULES.register(jc.jit_p)
def _jit(operands, out_avals, *, jaxpr, **_):
    moved = moves_through(jaxpr, operands, out_avals)
    return moved if moved is not None else sparsity_closed(jaxpr, operands)


def moves_through(closed: jc.ClosedJaxpr, operands, out_avals) -> list[IndexSets] | None:
    """The outputs' sets when every equation of the called jaxpr only moves elements (slices
    and a concatenate: `jnp.roll`), else None.

    The equations' index maps (`_maps.py`) are composed on the operands' element numbers in
    NumPy, so the call costs one row gather per output instead of one per equation. Calls with
    a known operand are walked as usual, so that their known values are kept.
    """
    if closed.consts or any(o.known for o in operands):
        return None
    moves = []
    for eqn in closed.jaxpr.eqns:
        try:
            rule = SPARSITY_RULES.lookup(eqn.primitive)
        except MissingRuleError:
            return None
        if getattr(rule, "move", None) is None or rule.moved is not None or eqn.effects:
            return None
        moves.append(rule.move)
    env = dict(zip(closed.jaxpr.invars, element_ids(operands), strict=True))

    def read(atom):  # a literal depends on nothing: element number -1
        return np.full(np.shape(atom.val), -1, MOVED) if isinstance(atom, jc.Literal) else env[atom]

    for eqn, move in zip(closed.jaxpr.eqns, moves, strict=True):
        out = move(*map(read, eqn.invars), **eqn.params)
        outs = out if isinstance(out, list | tuple) else [out]
        env.update(zip(eqn.outvars, map(np.asarray, outs), strict=True))
    n = operands[0].num_inputs
    return [
        from_ids(operands, read(v)) if differentiable(a) else unknown(a.shape, n)
        for v, a in zip(closed.jaxpr.outvars, out_avals, strict=True)
    ]


@SPARSITY_RULES.register(jc.remat_p)
def _remat(operands, out_avals, *, jaxpr, **_):
    return sparsity_open(jaxpr, [], operands)


@SPARSITY_RULES.register(jc.custom_jvp_call_p)
def _custom_jvp(operands, out_avals, *, call_jaxpr, jvp_jaxpr_fun, num_consts, symbolic_zeros):
    # out = f(x) with f's JVP given by the user: out's sets are those of the rule's tangent out
    del call_jaxpr, symbolic_zeros
    n = operands[0].num_inputs
    args = operands[num_consts:]
    rule, consts, out_zero = jc.custom_jvp_rule(
        {"jvp_jaxpr_fun": jvp_jaxpr_fun}, [False] * len(args)
    )
    primals = [_values_only(a, n) for a in args]
    tangents = [_sets_only(a) for a in args]
    outs = sparsity_open(rule, [known(c, n) for c in consts], primals + tangents)
    tangent_outs = iter(outs[len(out_zero) :])
    return [
        unknown(a.shape, n) if zero else next(tangent_outs)
        for a, zero in zip(out_avals, out_zero, strict=True)
    ]


@SPARSITY_RULES.register(jc.custom_vjp_call_p)
def _custom_vjp(
    operands, out_avals, *, call_jaxpr, num_consts, fwd_jaxpr_thunk, bwd, out_trees, **_
):
    # J's pattern from the pullback's: cotangent-in element a depends on output element o
    # exactly where J[o, a] may be nonzero
    n = operands[0].num_inputs
    fwd, fwd_consts, (_, _, forwards) = jc.custom_vjp_forward(
        {"fwd_jaxpr_thunk": fwd_jaxpr_thunk, "out_trees": out_trees},
        [True] * (len(operands) - num_consts),
    )
    n_new = sum(f is None for f in forwards)

    def pullback(primals, cts):
        outs = eval_open(fwd, fwd_consts, primals[num_consts:])
        fresh = iter(outs[:n_new])
        residuals = [next(fresh) if f is None else primals[f] for f in forwards]
        sends = jc.custom_vjp_backward({"bwd": bwd}, residuals, cts)
        return [
            jax.numpy.zeros(o.shape) if s is None else s
            for s, o in zip(sends, operands[num_consts:], strict=True)
        ]

    structs = [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in out_avals]
    primal_structs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in call_jaxpr.in_avals]
    closed = jax.make_jaxpr(pullback)(primal_structs, structs)
    m = sum(int(np.prod(a.shape, dtype=np.int64)) for a in out_avals)
    seeds = [
        identity(a.shape, start, m)
        for a, start in zip(
            out_avals, offsets([unknown(a.shape, 0) for a in out_avals]), strict=True
        )
    ]
    primals = [_values_only(o, m) for o in operands]
    sends = sparsity_closed(closed, primals + seeds)
    transposed = sp.csr_array(stack_rows(sends).T)  # (m outputs) x (arg elements)
    args = stack_rows(operands[num_consts:])  # (arg elements) x (n inputs)
    flat = sp.csr_array(transposed @ args)
    rows = offsets([unknown(a.shape, n) for a in out_avals]) + [m]
    return [with_matrix(a.shape, flat[rows[i] : rows[i + 1]]) for i, a in enumerate(out_avals)]


@SPARSITY_RULES.register(jc.custom_linear_solve_p)
def _linear_solve(operands, out_avals, **_):
    # x = A⁻¹ b: in general every element of x depends on every element of b and of A
    return [dense(operands, a.shape) for a in out_avals]
