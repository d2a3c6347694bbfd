"""Jet rules for structural primitives: reshaping, slicing, joining, padding and casting.

All are linear in their array operands, so each coefficient goes through the primitive on its
own: f(x)ₖ = f(xₖ). Shape operands (dynamic shapes) keep their primal values.
"""

from __future__ import annotations

from jax import lax

from ..._registry import JET_RULES
from ._builders import constant_output, linear, piecewise_linear

# f(x, y, ...)ₖ = f(xₖ, yₖ, ...): concatenate, stack and pad are linear in all pieces jointly
for _p in (
    lax.transpose_p,
    lax.squeeze_p,
    lax.rev_p,
    lax.slice_p,
    lax.concatenate_p,
    lax.pad_p,
    lax.split_p,
    lax.stack_p,
    lax.unstack_p,
    lax.tile_p,
    lax.sharding_constraint_p,
):
    JET_RULES.register(_p, linear(_p))

# broadcast_in_dim(x)ₖ = broadcast_in_dim(xₖ), reshape(x)ₖ = reshape(xₖ)
for _p in (lax.broadcast_in_dim_p, lax.reshape_p):
    JET_RULES.register(_p, linear(_p, only=(0,)))

# iota has no operands; bitcast_convert_type reinterprets bits (derivative zero, as in JAX)
for _p in (lax.iota_p, lax.bitcast_convert_type_p):
    JET_RULES.register(_p, constant_output(_p))

# device_put moves each operand on its own: its JVP rule, per coefficient
JET_RULES.register(lax.device_put_p, piecewise_linear(lax.device_put_p))
