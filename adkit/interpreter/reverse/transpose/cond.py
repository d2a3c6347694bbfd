"""Reverse mode through `cond`: split each branch into its primal and its linear part.

A linearized `cond` mixes primal and tangent work. The forward pass runs a `cond` whose branches
run `forward_pass` on the chosen branch and return the primal outputs and that branch's
residuals (every branch returns a slot for every branch's residuals, zeros in the others').
The backward pass runs a `cond` on the same index whose branches rebuild their state from the
residuals and run `backward_pass`, returning the cotangents of the linear operands.
"""

from __future__ import annotations

import dataclasses

import jax

from .... import _jax_compat as jc
from ..._eval import switch
from ..._registry import SPLIT_RULES
from ..._zeros import Zero, instantiate
from .engine import backward_pass, forward_pass


def _zeros_like_tree(tree):
    return jax.tree.map(lambda s: jax.numpy.zeros(s.shape, s.dtype), tree)


def _forward_cond(eqn, state, reads_linear):
    index, *operands = eqn.invars
    lin = list(reads_linear[1:])
    branches = eqn.params["branches"]
    known = [state.env.read(v) for v, is_lin in zip(operands, lin, strict=True) if not is_lin]

    def run(k, known_values):
        it = iter(known_values)
        values = [None if is_lin else next(it) for is_lin in lin]
        closed = branches[k]
        return forward_pass(closed.jaxpr, closed.consts, values, lin)

    # which outputs are linear in any branch, and each branch's residual structure
    shapes = [jax.eval_shape(lambda *kv, k=k: run(k, kv), *known) for k in range(len(branches))]
    out_linear = [
        any(
            isinstance(b.jaxpr.outvars[i], jc.Var) and b.jaxpr.outvars[i] in s.linear_vars
            for b, s in zip(branches, shapes, strict=True)
        )
        for i in range(len(eqn.outvars))
    ]

    def branch_fn(k):
        def f(*known_values):
            st = run(k, known_values)
            outs = [
                st.env.read(v) for v, lo in zip(st.jaxpr.outvars, out_linear, strict=True) if not lo
            ]
            slots = [st if j == k else _zeros_like_tree(shapes[j]) for j in range(len(branches))]
            return outs, slots

        return f

    index_value = state.env.read(index)
    fns, platforms = (
        [branch_fn(k) for k in range(len(branches))],
        eqn.params.get("branches_platforms"),
    )
    outs, slots = switch(index_value, fns, *known, platforms=platforms)
    state.write_outputs(eqn.outvars, out_linear, outs)
    return CondRecord(index_value, slots, tuple(lin), tuple(out_linear))


@jax.tree_util.register_dataclass
@dataclasses.dataclass
class CondRecord:
    """What the forward pass keeps of a cond: the index, the residual slots, the patterns."""

    index: object
    slots: list
    lin: tuple = dataclasses.field(metadata={"static": True})
    out_linear: tuple = dataclasses.field(metadata={"static": True})


def _backward_cond(eqn, record, ct_outs):
    index_value, slots, lin, out_linear = record.index, record.slots, record.lin, record.out_linear
    branches = eqn.params["branches"]
    operands = eqn.invars[1:]
    cts = [instantiate(ct) if lo else None for ct, lo in zip(ct_outs, out_linear, strict=True)]

    def branch_fn(k):
        def f(slots, cts):
            st = slots[k]
            cts_full = [
                Zero.from_aval(v.aval) if c is None else c
                for v, c in zip(st.jaxpr.outvars, cts, strict=True)
            ]
            cts_in = backward_pass(st, cts_full)
            return [
                instantiate(c) if c is not None else instantiate(Zero.from_aval(a))
                for c, is_lin, a in zip(cts_in, lin, [v.aval for v in operands], strict=True)
                if is_lin
            ]

        return f

    fns, platforms = (
        [branch_fn(k) for k in range(len(branches))],
        eqn.params.get("branches_platforms"),
    )
    result = switch(index_value, fns, slots, cts, platforms=platforms)
    result = iter(result)
    return [None] + [next(result) if is_lin else None for is_lin in lin]


SPLIT_RULES.register(jc.cond_p, _forward_cond, backward=_backward_cond)
