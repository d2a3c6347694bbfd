"""Reverse mode by transposition through `shard_map`: each device splits its own block.

The linearized program holds a `shard_map` whose body mixes primal and tangent work. The forward
pass runs a `shard_map` whose body runs `forward_pass` on the local block, returning the primal
outputs and the local residuals (with one extra leading axis split over the mapped mesh axes, so
device d's residuals are block d). The backward pass runs a `shard_map` that rebuilds each
device's state from its block and runs `backward_pass` there. (`_sweep_shard_map.py` does the
same for the tape path; the notes there on replicated inputs apply here too.)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from jax import lax
from jax.sharding import PartitionSpec

from .... import _jax_compat as jc
from ..._env import kept
from ..._registry import SPLIT_RULES
from ..._zeros import Zero, instantiate, is_zero
from ..tape.engine import rebuild, split_residuals
from ..tape.shard_map import _laid_out, _mapped, _spec_axes
from .engine import backward_pass, forward_pass


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ShardRecord:
    """The forward pass's record of a shard_map: residual blocks and the linearity pattern."""

    known: tuple
    stacked: Any
    layout: tuple = dataclasses.field(metadata={"static": True})
    lin: tuple = dataclasses.field(metadata={"static": True})
    out_linear: tuple = dataclasses.field(metadata={"static": True})


def _forward_shard_map(eqn, state, reads_linear):
    p = eqn.params
    body, lin = p["jaxpr"], tuple(reads_linear)
    known = tuple(state.env.read_all(kept(eqn.invars, [not is_lin for is_lin in lin])))
    known_specs = tuple(s for s, is_lin in zip(p["in_specs"], lin, strict=True) if not is_lin)
    layout, out_linear = [], []

    def local(*known_blocks):
        it = iter(known_blocks)
        st = forward_pass(body, (), [None if is_lin else next(it) for is_lin in lin], lin)
        out_linear[:] = [isinstance(v, jc.Var) and v in st.linear_vars for v in body.outvars]
        outs = tuple(  # linear outputs are computed in the backward pass: zeros stand in here
            jax.numpy.zeros(v.aval.shape, v.aval.dtype) if lo else st.env.read(v)
            for v, lo in zip(body.outvars, out_linear, strict=True)
        )
        layout[:], computed = split_residuals(st, known_blocks)
        stacked = tuple(c[None] for c in computed)  # a new leading axis, split over the mesh
        return outs, stacked

    axes = _mapped(p["mesh"], p["newly_manual_axes"])
    f = jax.shard_map(
        local,
        mesh=p["mesh"],
        in_specs=known_specs,
        out_specs=(tuple(p["out_specs"]), PartitionSpec(axes)),
        axis_names=set(p["newly_manual_axes"]),
        check_vma=p["check_vma"],
    )
    outs, stacked = f(*known)
    state.write_outputs(eqn.outvars, out_linear, kept(outs, [not lo for lo in out_linear]))
    return ShardRecord(known, stacked, tuple(layout), lin, tuple(out_linear))


def _backward_shard_map(eqn, record, ct_outs):
    p = eqn.params
    body, lin, out_linear = p["jaxpr"], record.lin, record.out_linear
    axes = _mapped(p["mesh"], p["newly_manual_axes"])
    cts = tuple(
        _laid_out(instantiate(ct), p["mesh"], spec)
        for ct, spec, lo in zip(ct_outs, p["out_specs"], out_linear, strict=True)
        if lo
    )

    def local(known_blocks, stacked, cts):
        st = rebuild(record.layout, known_blocks, [s[0] for s in stacked])
        it = iter(cts)
        got = backward_pass(st, [next(it) if lo else None for lo in out_linear])
        sends = []
        for g, v, spec, is_lin in zip(got, body.invars, p["in_specs"], lin, strict=True):
            if not is_lin:
                continue
            g = instantiate(Zero.from_aval(v.aval) if g is None or is_zero(g) else g)
            unmentioned = tuple(ax for ax in axes if ax not in _spec_axes(spec))
            if not p["check_vma"] and unmentioned:  # a replicated input: sum over devices
                g = lax.psum(g, unmentioned)
            sends.append(g)
        return tuple(sends)

    known_specs = tuple(s for s, is_lin in zip(p["in_specs"], lin, strict=True) if not is_lin)
    ct_specs = tuple(s for s, lo in zip(p["out_specs"], out_linear, strict=True) if lo)
    lin_specs = tuple(s for s, is_lin in zip(p["in_specs"], lin, strict=True) if is_lin)
    f = jax.shard_map(
        local,
        mesh=p["mesh"],
        in_specs=(known_specs, PartitionSpec(axes), ct_specs),
        out_specs=lin_specs,
        axis_names=set(p["newly_manual_axes"]),
        check_vma=p["check_vma"],
    )
    got = iter(f(tuple(record.known), tuple(record.stacked), cts))
    return [next(got) if is_lin else None for is_lin in lin]


SPLIT_RULES.register(jc.shard_map_p, _forward_shard_map, backward=_backward_shard_map)
