"""Transpose rules for the linear reductions: sums and prefix sums."""

from __future__ import annotations

from jax import lax

from ..._registry import TRANSPOSE_RULES
from ._util import materialize


@TRANSPOSE_RULES.register(lax.reduce_sum_p)
def _reduce_sum_transpose(ct, x, *, axes, out_sharding=None):
    # Σ over axes transposes to broadcasting back along them
    kept = [d for d in range(len(x.aval.shape)) if d not in axes]
    return [lax.broadcast_in_dim(materialize(ct), x.aval.shape, kept)]


@TRANSPOSE_RULES.register(lax.cumsum_p)
def _cumsum_transpose(ct, x, *, axis, reverse):
    # prefix sums transpose to suffix sums
    return [lax.cumsum(materialize(ct), axis, reverse=not reverse)]
