"""A tape-path rule derived from the JVP rule, exact by construction.

`transposed(primitive)`: for a primitive whose derivative is only known as a JVP (a `custom_jvp`
  function's rule, a matrix decomposition), linearize that JVP at the primal point on the
  forward sweep, keep the linearization as the residual, and transpose it on the backward sweep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax

from .... import _jax_compat as jc
from ..._registry import VJP_RULES
from ..._zeros import Zero
from ...forward.engine import aval_struct, jvp_jaxpr, linearizing
from ..transpose.engine import backward_pass, forward_pass


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Linearization:
    """The residual of a `transposed` rule: the linearized JVP's forward state."""

    state: Any
    active: tuple[bool, ...] = dataclasses.field(metadata={"static": True})
    nonzero_out: tuple[bool, ...] = dataclasses.field(metadata={"static": True})


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
        outs = state.env.read_all(lin.jaxpr.outvars[: len(closed.out_avals)])
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

    VJP_RULES.register(primitive, backward, forward=forward, kind="transposed")


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
