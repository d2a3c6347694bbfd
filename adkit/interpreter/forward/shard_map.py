"""Forward mode through `shard_map`: a `shard_map` of the JVP of its body.

Tangents are sharded like their primals. Every floating output returns a tangent, since the
body runs per shard and which tangents vanish is only known inside it.
"""

from __future__ import annotations

import jax

from ... import _jax_compat as jc
from .._registry import JVP_RULES
from .._zeros import Zero, instantiate, is_zero
from .engine import (
    jvp_open,
)


@JVP_RULES.register(jc.shard_map_p)
def _shard_map_jvp(
    primals, tangents, *, jaxpr, mesh, in_specs, out_specs, check_vma, newly_manual_axes
):
    # jvp(shard_map(f)) = shard_map(jvp(f)); every floating output returns a tangent (the body
    # runs per shard, so which tangents vanish is only known inside it)
    nonzero_in = [not is_zero(t) for t in tangents]
    has_tangent = [jax.dtypes.issubdtype(v.aval.dtype, jax.numpy.inexact) for v in jaxpr.outvars]

    def body(*args):
        local_primals, nz_tangents = args[: len(primals)], iter(args[len(primals) :])
        local_tangents = [
            next(nz_tangents) if nz else Zero.from_aval(v.aval)
            for nz, v in zip(nonzero_in, jaxpr.invars, strict=True)
        ]
        outs, touts = jvp_open(jaxpr, (), local_primals, local_tangents)
        kept = [instantiate(t) for t, keep in zip(touts, has_tangent, strict=True) if keep]
        return (*outs, *kept)  # a tuple, like the out_specs

    spec_in = (*in_specs, *(s for s, nz in zip(in_specs, nonzero_in, strict=True) if nz))
    spec_out = (*out_specs, *(s for s, keep in zip(out_specs, has_tangent, strict=True) if keep))
    mapped = jax.shard_map(
        body,
        mesh=mesh,
        in_specs=spec_in,
        out_specs=spec_out,
        axis_names=set(newly_manual_axes),
        check_vma=check_vma,
    )
    outs = mapped(*primals, *(t for t in tangents if not is_zero(t)))
    n = len(jaxpr.outvars)
    primal_outs, tangent_outs = list(outs[:n]), iter(outs[n:])
    touts = [
        next(tangent_outs) if keep else Zero.like(p)
        for p, keep in zip(primal_outs, has_tangent, strict=True)
    ]
    return primal_outs, touts
