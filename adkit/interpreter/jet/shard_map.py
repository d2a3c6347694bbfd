"""Taylor mode through `shard_map`: a `shard_map` of the jet of its body.

Each coefficient is sharded like its primal. Every floating output returns its full series,
since the body runs per shard and which coefficients vanish is only known inside it.
"""

from __future__ import annotations

import jax

from ... import _jax_compat as jc
from .._registry import JET_RULES
from .engine import has_series, jet_open, moves, pack, unpack


@JET_RULES.register(jc.shard_map_p)
def _shard_map(operands, *, jaxpr, mesh, in_specs, out_specs, check_vma, newly_manual_axes):
    # jet(shard_map(f)) = shard_map(jet(f)), the coefficients laid out like their primals
    k = len(operands[0]) - 1
    moving_in = [moves(o) for o in operands]
    moving_out = [has_series(v.aval) for v in jaxpr.outvars]

    def body(*flat):
        return tuple(pack(jet_open(jaxpr, (), unpack(flat, moving_in, k)), moving_out))

    def specs(per_value, moving):
        return tuple(
            s for spec, m in zip(per_value, moving, strict=True) for s in [spec] * (1 + k * m)
        )

    mapped = jax.shard_map(
        body,
        mesh=mesh,
        in_specs=specs(in_specs, moving_in),
        out_specs=specs(out_specs, moving_out),
        axis_names=set(newly_manual_axes),
        check_vma=check_vma,
    )
    return unpack(list(mapped(*pack(operands, moving_in))), moving_out, k)
