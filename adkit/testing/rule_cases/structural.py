"""Rule cases for structural primitives: reshaping, broadcasting, slicing, padding, joining,
splitting, device placement, and the zero-tangent iota and bitcast_convert_type."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import RuleCase, ints, mixed, normal


def _single_device(x):
    return jax.sharding.SingleDeviceSharding(jax.devices()[0])


CASES = [
    # broadcast_in_dim: jnp.broadcast_to, expand_dims (a broadcast_in_dim in jax 0.10.2), lax
    RuleCase("broadcast_in_dim", lambda x: jnp.broadcast_to(x, (2, 3)), normal((3,)), name="to"),
    RuleCase("broadcast_in_dim", lambda x: jnp.expand_dims(x, 1), normal((2, 3)), name="expand"),
    RuleCase(
        "broadcast_in_dim",
        lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (0, 2)),
        normal((2, 4)),
        name="middle",
    ),
    RuleCase("broadcast_in_dim", lambda x: jnp.broadcast_to(x, (2, 3)), normal(()), name="scalar"),
    RuleCase("reshape", lambda x: jnp.reshape(x, (3, 2)), normal((2, 3))),
    RuleCase("reshape", lambda x: jnp.reshape(x, (2, 1, 3)), normal((6,)), name="vector"),
    RuleCase(
        "reshape",
        lambda x: lax.reshape(x, (6,), dimensions=(1, 0)),
        normal((2, 3)),
        name="dimensions",
    ),
    RuleCase("transpose", lambda x: x.T, normal((2, 3))),
    RuleCase("transpose", lambda x: lax.transpose(x, (2, 0, 1)), normal((2, 3, 4)), name="3d"),
    RuleCase("squeeze", lambda x: jnp.squeeze(x), normal((1, 3, 1))),
    RuleCase("squeeze", lambda x: lax.squeeze(x, (0,)), normal((1, 2, 3)), name="one_axis"),
    RuleCase("concatenate", lambda x, y: jnp.concatenate([x, y]), normal((2,), (3,))),
    RuleCase(
        "concatenate",
        lambda x, y, z: jnp.concatenate([x, y, z], axis=1),
        normal((2, 1), (2, 3), (2, 2)),
        name="three",
    ),
    RuleCase(
        "concatenate", lambda x, y: jnp.concatenate([x, x * y]), normal((2,), (2,)), name="same"
    ),
    # pad: positive, negative and interior padding; the padding value is differentiable
    RuleCase("pad", lambda x, v: lax.pad(x, v, [(2, 1, 0)]), normal((3,), ())),
    RuleCase("pad", lambda x, v: lax.pad(x, v, [(1, -1, 2)]), normal((4,), ()), name="interior"),
    RuleCase(
        "pad",
        lambda x, v: lax.pad(x, v, [(-1, 2, 1), (0, -1, 0)]),
        normal((3, 3), ()),
        name="matrix",
    ),
    RuleCase("pad", lambda x: jnp.pad(x, (1, 2)), normal((3,)), name="jnp"),
    RuleCase("pad", lambda x, v: lax.pad(x, v, []), normal((), ()), name="scalar"),  # no axes
    RuleCase("rev", lambda x: lax.rev(x, (0,)), normal((4,))),
    RuleCase("rev", lambda x: jnp.flip(x, (0, 1)), normal((2, 3)), name="matrix"),
    RuleCase("slice", lambda x: x[1:3], normal((4,))),
    RuleCase(
        "slice", lambda x: lax.slice(x, (0, 1), (3, 4), (2, 2)), normal((3, 4)), name="strided"
    ),
    RuleCase("split", lambda x: jnp.split(x, [1, 3]), normal((5,))),
    RuleCase("split", lambda x: jnp.split(x, 2, axis=1), normal((2, 4)), name="axis1"),
    RuleCase("stack", lambda x, y: jnp.stack([x, y]), normal((3,), (3,))),
    RuleCase(
        "stack", lambda x, y: jnp.stack([x, y, x], axis=1), normal((2, 2), (2, 2)), name="axis1"
    ),
    RuleCase("unstack", lambda x: jnp.unstack(x), normal((3, 2))),
    RuleCase("unstack", lambda x: jnp.unstack(x, axis=1), normal((2, 3)), name="axis1"),
    RuleCase("tile", lambda x: jnp.tile(x, (2, 1)), normal((2, 3))),
    RuleCase("tile", lambda x: jnp.tile(x, 3), normal((2,)), name="vector"),
    RuleCase(
        "sharding_constraint",
        lambda x: lax.with_sharding_constraint(x, _single_device(x)) * x,
        normal((3,)),
    ),
    RuleCase("device_put", lambda x, y: jax.device_put(x) * y, normal((3,), (3,))),
    RuleCase(
        "device_put",
        lambda x, i: jax.device_put((x, i)),
        mixed(normal((3,)), ints(0, 5, (2,))),
        name="with_ints",
    ),
    # zero tangents: iota makes constants; bitcast_convert_type reinterprets bits
    RuleCase("iota", lambda x: x * lax.iota(x.dtype, 3), normal((3,))),
    RuleCase(
        "iota",
        lambda x: x * lax.broadcasted_iota(np.int32, (2, 3), 1).astype(x.dtype),
        normal((2, 3)),
        name="int",
    ),
    RuleCase(
        "bitcast_convert_type",
        lambda x: x * (lax.bitcast_convert_type(x, jnp.uint8)[..., 0] % 2).astype(x.dtype),
        normal((3,)),
    ),
    RuleCase(
        "bitcast_convert_type",
        lambda x: x * lax.bitcast_convert_type(lax.bitcast_convert_type(x, jnp.uint8), x.dtype),
        normal((3,)),
        name="round_trip",
    ),
]
