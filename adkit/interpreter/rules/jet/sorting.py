"""Jet rules for sorting: `sort` and `top_k` permute their operands by the primal keys, so each
coefficient is permuted the same way (adkit's JVP rule at the primals, `piecewise_linear`)."""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import piecewise_linear

for _p in (lax.sort_p, lax.top_k_p):
    JET_RULES.register(_p, piecewise_linear(_p))
