"""Jet rules for the collectives that run inside `shard_map`: summing, gathering, permuting and
re-marking values across devices are linear, psum(x)ₖ = psum(xₖ); `axis_index` is an integer.
(The jet of `shard_map` itself walks its body: it is with the engine, in `jet/shard_map.py`.)"""

from __future__ import annotations

from .... import _jax_compat as jc
from ..._registry import JET_RULES
from ._builders import constant_output, linear

for _name in ("psum_invariant", "pvary", "all_gather", "ppermute", "all_to_all", "reduce_scatter"):
    _p = jc.primitive_by_name(_name)
    JET_RULES.register(_p, linear(_p))  # collective(x)ₖ = collective(xₖ)

_p = jc.primitive_by_name("axis_index")
JET_RULES.register(_p, constant_output(_p))
