"""A `while` whose predicate is batched, rewritten as one with a scalar predicate.

`jax.vmap` of a while loop whose stopping test depends on the batched values gives a `while`
equation whose condition returns `bool[N]` (one flag per batch element) rather than `bool[]`.
Its meaning: loop while any flag is set, and update a batch element's carry only while its own
flag is set. `lax.while_loop` takes scalar predicates only, so each adkit mode first rewrites
such an equation into that meaning, spelled with a scalar predicate:

    cond'(cc, carry)         = any(cond(cc, carry))
    body'(cc, bc, carry)     = where(cond(cc, carry), body(bc, carry), carry)   # per element

The condition's constants become the first constants of the new body. The rewrite is cached
per pair of jaxprs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from .. import _jax_compat as jc


def batched_predicate(cond_jaxpr: jc.ClosedJaxpr) -> bool:
    """Whether a `while` condition returns one flag per batch element."""
    return cond_jaxpr.out_avals[0].shape != ()


def scalar_predicate(params: dict[str, Any], operands: Sequence[Any]):
    """`(params, operands)` of the equivalent `while` with a scalar predicate."""
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    cond, body = _rewrite(params["cond_jaxpr"], params["body_jaxpr"], nc, nb)
    new_params = dict(params, cond_jaxpr=cond, body_jaxpr=body, body_nconsts=nc + nb)
    return new_params, [*operands[:nc], *operands[:nc], *operands[nc:]]


def _struct(aval) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)


def _per_element(flags, new, old):
    """`new` where the element's flag is set, else `old` (flags index the leading axes)."""
    if tuple(jnp.shape(old)[: flags.ndim]) != flags.shape:
        raise ValueError(
            f"A while loop's condition returns flags of shape {flags.shape}, but a carried value "
            f"has shape {jnp.shape(old)}, which does not start with it. adkit reads a batched "
            "condition as one flag per leading batch index of every carried value."
        )
    return jnp.where(flags.reshape(flags.shape + (1,) * (jnp.ndim(old) - flags.ndim)), new, old)


@functools.lru_cache(maxsize=256)
def _rewrite(cond_jaxpr: jc.ClosedJaxpr, body_jaxpr: jc.ClosedJaxpr, nc: int, nb: int):
    cond_fun, body_fun = jc.jaxpr_as_fun(cond_jaxpr), jc.jaxpr_as_fun(body_jaxpr)

    def any_going(*args):
        return [jnp.any(cond_fun(*args)[0])]

    def step(*args):
        cond_consts, body_consts, carry = args[:nc], args[nc : nc + nb], args[nc + nb :]
        [flags] = cond_fun(*cond_consts, *carry)
        new = body_fun(*body_consts, *carry)
        return [_per_element(flags, n, o) for n, o in zip(new, carry, strict=True)]

    cond_avals = cond_jaxpr.in_avals
    new_cond = jax.make_jaxpr(any_going)(*map(_struct, cond_avals))
    new_body = jax.make_jaxpr(step)(*map(_struct, [*cond_avals[:nc], *body_jaxpr.in_avals]))
    return new_cond, new_body
