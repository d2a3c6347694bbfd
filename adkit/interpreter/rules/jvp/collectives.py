"""JVP rules for the collectives that run inside `shard_map`.

The collectives that sum, gather, permute or re-mark values across devices are linear, so each
is its own derivative: d psum(x) = psum(dx). `axis_index` is an integer. (The JVP of `shard_map`
itself recurses into its body: it is with the engine, in `forward/shard_map.py`.)
"""

from __future__ import annotations

from .... import _jax_compat as jc
from ..._registry import JVP_RULES
from ..builders import linear, zero_tangent

_LINEAR = ("psum_invariant", "pvary", "all_gather", "ppermute", "all_to_all", "reduce_scatter")
for _name in _LINEAR:
    _p = jc.primitive_by_name(_name)
    JVP_RULES.register(_p, linear(_p))  # d collective(x) = collective(dx)

JVP_RULES.register(
    jc.primitive_by_name("axis_index"), zero_tangent(jc.primitive_by_name("axis_index"))
)
