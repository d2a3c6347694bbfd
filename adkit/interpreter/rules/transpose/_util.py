"""Helpers shared by the transpose rules."""

from __future__ import annotations

import numpy as np
from jax import lax

from ..._zeros import Zero, instantiate, is_undefined, is_zero


def aval_of(x):
    """The abstract type of an operand, whether a value or an `UndefinedPrimal`."""
    import jax

    return x.aval if is_undefined(x) else jax.typeof(x)


def unbroadcast(ct, aval):
    """Sums a cotangent down to `aval`'s shape where the operand was broadcast implicitly:
    binary primitives accept size-1 dimensions and rank-0 operands next to larger arrays."""
    shape = tuple(aval.shape)
    if is_zero(ct) or tuple(np.shape(ct)) == shape:
        return ct
    lead = np.ndim(ct) - len(shape)
    stretched = [lead + d for d, n in enumerate(shape) if n == 1 and np.shape(ct)[lead + d] != 1]
    summed = lax.reduce_sum(ct, (*range(lead), *stretched))
    return lax.reshape(summed, shape)


def zeros(aval):
    return instantiate(Zero.from_aval(aval))


def materialize(ct):
    """An array for a cotangent that may be a symbolic zero."""
    return instantiate(ct)
