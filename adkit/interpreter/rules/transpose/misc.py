"""Transpose rules for scheduling plumbing: `optimization_barrier` is the identity on its
elements, so the cotangents go back through one barrier together.
"""

from __future__ import annotations

from jax import lax

from ..._registry import TRANSPOSE_RULES
from ..._zeros import is_undefined
from ._util import materialize


@TRANSPOSE_RULES.register(lax.optimization_barrier_p)
def _optimization_barrier_transpose(cts, *operands):
    # the identity: the cotangents of the linear operands pass through one barrier together
    linear = [k for k, x in enumerate(operands) if is_undefined(x)]
    through = lax.optimization_barrier_p.bind(*(materialize(cts[k]) for k in linear))
    out = [None] * len(operands)
    for k, value in zip(linear, through, strict=True):
        out[k] = value
    return out
