"""VJP rules (tape path of reverse mode): the collectives that run inside `shard_map`.

Summing, gathering, scattering, permuting or re-marking values across devices is linear, so
each collective's VJP is its transpose rule (rules/transpose/misc.py):
  psum_invariant ↔ pvary,   all_gather ↔ reduce_scatter,   ppermute -> the inverse permutation,
  all_to_all -> all_to_all with the split and concatenation axes swapped.
`axis_index` is an integer: nothing flows back.
"""

from __future__ import annotations

from .... import _jax_compat as jc
from ..builders import from_transpose, no_cotangent

for _name in ("psum_invariant", "pvary", "all_gather", "ppermute", "all_to_all", "reduce_scatter"):
    from_transpose(jc.primitive_by_name(_name))

no_cotangent(jc.primitive_by_name("axis_index"))
