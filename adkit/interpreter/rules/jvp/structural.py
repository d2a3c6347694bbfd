"""JVP rules for structural primitives: ops that move, copy or rearrange elements.

Reshaping, broadcasting, transposing, slicing, padding, concatenating, stacking, splitting and
placing values on devices are linear maps of the array elements, so each is its own derivative:
d f(x) = f(dx). Values made from nothing (iota) or from raw bits (bitcast_convert_type) do not
vary smoothly with their inputs and have zero tangents.
"""

from __future__ import annotations

from jax import lax

from ..._registry import JVP_RULES
from ..._zeros import is_zero
from ..builders import linear, zero_tangent, zeros_like_out

# --- linear maps of all operands: d f(x, y, ...) = f(dx, dy, ...) ---
# concatenate and stack are linear in every piece jointly; pad in the operand and padding value
# (pad(x, v) places x's elements and fills with v, including under negative/interior padding).
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
    JVP_RULES.register(_p, linear(_p))

# --- linear in the array, not in the (dynamic) shape operands ---
# d broadcast_in_dim(x) = broadcast_in_dim(dx);  d reshape(x) = reshape(dx)
for _p in (lax.broadcast_in_dim_p, lax.reshape_p):
    JVP_RULES.register(_p, linear(_p, only=(0,)))

# --- no smooth dependence on the inputs: the tangent is zero ---
# iota has no operands (its rule is never called; registered so the table is complete);
# bitcast_convert_type reinterprets bits, which JAX defines to have a zero derivative.
for _p in (lax.iota_p, lax.bitcast_convert_type_p):
    JVP_RULES.register(_p, zero_tangent(_p))


@JVP_RULES.register(lax.device_put_p)
def _device_put_jvp(primals, tangents, *, devices, srcs, copy_semantics):
    # d device_put(x) = device_put(dx), operand by operand (zero tangents, which include the
    # float0 tangents of integer operands, stay symbolic)
    params = dict(devices=devices, srcs=srcs, copy_semantics=copy_semantics)
    outs = lax.device_put_p.bind(*primals, **params)
    touts = zeros_like_out(outs)
    for k, t in enumerate(tangents):
        if not is_zero(t):
            (touts[k],) = lax.device_put_p.bind(
                t, devices=(devices[k],), srcs=(srcs[k],), copy_semantics=(copy_semantics[k],)
            )
    return outs, touts
