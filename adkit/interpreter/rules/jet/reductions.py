"""Jet rules for reductions and cumulative reductions.

Sums are linear: (Σx)ₖ = Σxₖ. A maximum or minimum takes the series of the element that attains
it (ties share equally, as in the first derivative), a choice made by the primals, so each
coefficient goes through adkit's JVP rule at the primals (`piecewise_linear`). Products are
polynomials in their operands and have no rule here yet (a clear error names them).
"""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import constant_output, linear, piecewise_linear

JET_RULES.register(lax.reduce_sum_p, linear(lax.reduce_sum_p))  # (Σx)ₖ = Σxₖ
JET_RULES.register(lax.cumsum_p, linear(lax.cumsum_p))  # cumsum(x)ₖ = cumsum(xₖ)
for _p in (lax.reduce_and_p, lax.reduce_or_p, lax.reduce_xor_p, lax.argmax_p, lax.argmin_p):
    JET_RULES.register(_p, constant_output(_p))  # booleans and indices
for _p in (lax.reduce_max_p, lax.reduce_min_p, lax.cummax_p, lax.cummin_p):
    JET_RULES.register(_p, piecewise_linear(_p))
