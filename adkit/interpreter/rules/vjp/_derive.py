"""Two ways to obtain a VJP rule from rules adkit already has, each exact by construction.

- `from_transpose`: the VJP of a linear map is its transpose, so a primitive that is linear in
  its differentiable operands (add, reshape, reduce_sum, gather, ...) pulls back with its
  transpose rule. A *multilinear* primitive (mul, dot_general, conv) is linear in each operand
  with the others held: its VJP sends to operand i the transpose with respect to operand i.
- `transposed`: for a primitive whose derivative is only known as a JVP (a `custom_jvp`
  function's rule, a matrix decomposition), linearize that JVP at the primal point on the
  forward sweep, keep the linearization as the residual, and transpose it on the backward sweep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax

from .... import _jax_compat as jc
from ..._jvp import aval_struct, jvp_jaxpr, linearizing
from ..._linear import UndefinedPrimal, backward_pass, forward_pass
from ..._zeros import Zero
from .._table import register_vjp, transpose_rule


def from_transpose(primitive: jc.Primitive, multilinear: bool = False) -> None:
    """Registers the VJP of a primitive linear in its active operands: its transpose rule."""

    def rule(ct, res, **params):
        transpose = transpose_rule(primitive)
        groups = (
            [[i] for i, a in enumerate(res.active) if a]
            if multilinear
            else [[i for i, a in enumerate(res.active) if a]]
        )
        sends: list[Any] = [None] * len(res.inputs)
        for group in groups:
            operands = [
                UndefinedPrimal(jax.typeof(x)) if i in group else x
                for i, x in enumerate(res.inputs)
            ]
            for i, ct_i in enumerate(transpose(ct, *operands, **params)):
                if i in group:
                    sends[i] = None if isinstance(ct_i, Zero) else ct_i
        return sends

    register_vjp(primitive, rule)


@dataclasses.dataclass(frozen=True)
class Linearization:
    """The residual of a `transposed` rule: the linearized JVP's forward state."""

    state: Any
    active: tuple[bool, ...]
    nonzero_out: tuple[bool, ...]


jax.tree_util.register_pytree_node(
    Linearization,
    lambda r: ((r.state,), (r.active, r.nonzero_out)),
    lambda aux, children: Linearization(children[0], *aux),
)


def transposed(primitive: jc.Primitive) -> None:
    """Registers a VJP derived from the primitive's JVP rule by linearizing and transposing it."""

    def forward(primals, active, **params):
        closed = _one_equation(primitive, params, tuple(jax.typeof(x) for x in primals))
        with linearizing():
            lin, nonzero_out = jvp_jaxpr(closed, tuple(active))
        n_in, n_act = len(primals), sum(active)
        state = forward_pass(
            lin.jaxpr, lin.consts, [*primals, *[None] * n_act], [False] * n_in + [True] * n_act
        )
        outs = [_read(v, state.env) for v in lin.jaxpr.outvars[: len(closed.out_avals)]]
        res = Linearization(state, tuple(active), tuple(nonzero_out))
        return (outs if primitive.multiple_results else outs[0]), res

    def backward(ct, res, **params):
        cts = list(ct) if primitive.multiple_results else [ct]
        lin_cts = [c for c, nz in zip(cts, res.nonzero_out, strict=True) if nz]
        in_cts = iter(backward_pass(res.state, [None] * len(cts) + lin_cts)[len(res.active) :])
        sends = []
        for a in res.active:
            c = next(in_cts) if a else None
            sends.append(None if c is None or isinstance(c, Zero) else c)
        return sends

    register_vjp(primitive, backward, forward=forward, kind="transposed")


_CACHE: dict[Any, jc.ClosedJaxpr] = {}


def _one_equation(primitive, params, avals: Sequence[Any]) -> jc.ClosedJaxpr:
    """A closed jaxpr applying `primitive` once, cached per params and input types."""
    try:
        key = (primitive, tuple(sorted(params.items())), tuple(avals))
        hash(key)
    except TypeError:
        return _build(primitive, params, avals)
    if key not in _CACHE:
        _CACHE[key] = _build(primitive, params, avals)
    return _CACHE[key]


def _build(primitive, params, avals):
    structs = [aval_struct(a) for a in avals]

    def apply(*xs):
        out = primitive.bind(*xs, **primitive.get_bind_params(params))
        return list(out) if primitive.multiple_results else [out]

    return jax.make_jaxpr(apply)(*structs)


def _read(atom, env):
    return atom.val if isinstance(atom, jc.Literal) else env[atom]


def no_cotangent(primitive: jc.Primitive) -> None:
    """Registers the VJP of a primitive whose output does not vary with its inputs (comparisons,
    rounding, integer plumbing): nothing flows back."""
    register_vjp(primitive, lambda ct, res, **params: [None] * len(res.inputs))
