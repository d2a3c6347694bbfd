"""The tape path through `shard_map`: each device sweeps its own block.

The forward sweep is a `shard_map` whose body runs `forward_sweep` on the local block and
returns, besides the outputs, the values of the local tape. Those leave the `shard_map` with one
extra leading axis split over all the mapped mesh axes, so device d's tape is block d of each
residual array. The backward sweep is a `shard_map` over the same mesh that hands each device its
block of the tape and runs `backward_sweep` locally.

Where the body reads a replicated input, JAX's vma typing marks the read with `pvary`, whose VJP
is a `psum`: the cotangent of a replicated input is summed over the devices, as it must be. With
`check_vma=False` there are no such marks, so the sums are added here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from jax import lax
from jax.sharding import AxisType, NamedSharding, PartitionSpec

from .... import _jax_compat as jc
from ..._registry import VJP_RULES
from ..._zeros import Zero, instantiate, is_zero
from .engine import backward_sweep, forward_sweep, is_active_type, rebuild, split_residuals


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ShardTape:
    """The residuals of a shard_map: every device's tape values, and how to rebuild a tape."""

    primals: Any
    stacked: Any
    layout: Any = dataclasses.field(metadata={"static": True})
    active: tuple = dataclasses.field(metadata={"static": True})


def _mapped(mesh, manual):
    return tuple(a for a in mesh.axis_names if a in manual)


def _shard_map_forward(
    primals, active, *, jaxpr, mesh, in_specs, out_specs, check_vma, newly_manual_axes
):
    axes = _mapped(mesh, newly_manual_axes)
    layout = []

    def body(*args):
        outs, sweep = forward_sweep(jaxpr, (), args, active)
        layout[:], computed = split_residuals(sweep, args)
        stacked = tuple(c[None] for c in computed)  # a new leading axis, split over the mesh
        return tuple(outs), stacked

    f = jax.shard_map(
        body,
        mesh=mesh,
        in_specs=tuple(in_specs),
        out_specs=(tuple(out_specs), PartitionSpec(axes)),
        axis_names=set(newly_manual_axes),
        check_vma=check_vma,
    )
    outs, stacked = f(*primals)
    return list(outs), ShardTape(tuple(primals), stacked, tuple(layout), tuple(active))


@VJP_RULES.register(jc.shard_map_p, forward=_shard_map_forward)
def _shard_map_vjp(cts, res, *, jaxpr, mesh, in_specs, out_specs, check_vma, newly_manual_axes):
    axes = _mapped(mesh, newly_manual_axes)
    has_ct = [is_active_type(v.aval) for v in jaxpr.outvars]
    cts_in = [c for c, h in zip(cts, has_ct, strict=True) if h]
    active_specs = tuple(s for s, a in zip(in_specs, res.active, strict=True) if a)

    def body(args, stacked, cts_in):
        it = iter(cts_in)
        cts_full = [next(it) if h else None for h in has_ct]
        got = backward_sweep(rebuild(res.layout, args, [s[0] for s in stacked]), cts_full)
        sends = []
        for g, v, spec, a in zip(got, jaxpr.invars, in_specs, res.active, strict=True):
            if not a:
                continue
            g = instantiate(Zero.from_aval(v.aval) if is_zero(g) else g)
            if not check_vma:  # a replicated input's cotangent is the sum over the devices
                unmentioned = tuple(ax for ax in axes if ax not in _spec_axes(spec))
                g = lax.psum(g, unmentioned) if unmentioned else g
            sends.append(g)
        return tuple(sends)

    spec_cts = tuple(s for s, h in zip(out_specs, has_ct, strict=True) if h)
    f = jax.shard_map(
        body,
        mesh=mesh,
        in_specs=(tuple(in_specs), PartitionSpec(axes), spec_cts),
        out_specs=active_specs,
        axis_names=set(newly_manual_axes),
        check_vma=check_vma,
    )
    # a cotangent computed outside may be laid out differently from its output: lay it out so
    cts_in = [_laid_out(c, mesh, s) for c, s in zip(cts_in, spec_cts, strict=True)]
    got = iter(f(tuple(res.primals), tuple(res.stacked), tuple(cts_in)))
    return [next(got) if a else None for a in res.active]


def _laid_out(x, mesh, spec):
    """`x` laid out on `mesh` as `spec` says (only explicitly sharded meshes type layouts)."""
    if AxisType.Explicit not in tuple(mesh.axis_types):
        return x
    return jax.reshard(x, NamedSharding(mesh, spec))


def _spec_axes(spec):
    names = set()
    for entry in spec:
        if entry is None:
            continue
        names.update(entry if isinstance(entry, tuple) else (entry,))
    return names
