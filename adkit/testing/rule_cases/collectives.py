"""Rule cases for shard_map and collectives, on a one-device mesh (the test process has one
CPU device; tests/test_sharding.py runs a four-device program in a separate process)."""

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from . import RuleCase, normal

# Auto axes: inputs need no explicit sharding to match the in_specs.
_MESH = jax.make_mesh((1,), ("i",), axis_types=(jax.sharding.AxisType.Auto,))


def _mapped(body):
    return jax.shard_map(body, mesh=_MESH, in_specs=(P("i"),), out_specs=P("i"))


def _psum(x):
    return _mapped(lambda a: jnp.sin(a) * jax.lax.psum(jnp.sum(a**2), "i"))(x)


def _all_gather(x):
    return _mapped(lambda a: jax.lax.all_gather(a, "i", tiled=True) * a)(x)


def _ppermute(x):
    return _mapped(lambda a: jax.lax.ppermute(jnp.tanh(a), "i", perm=[(0, 0)]))(x)


def _all_to_all(x):
    return _mapped(lambda a: jax.lax.all_to_all(a * a, "i", 0, 0, tiled=True))(x)


def _psum_scatter(x):
    return _mapped(lambda a: jax.lax.psum_scatter(jnp.exp(a), "i", tiled=True))(x)


def _axis_index(x):
    return _mapped(lambda a: a * (jax.lax.axis_index("i") + 1).astype(a.dtype))(x)


CASES = [
    RuleCase("shard_map", _psum, normal((4,))),
    RuleCase("psum_invariant", _psum, normal((4,))),
    RuleCase("pvary", _psum, normal((4,))),
    RuleCase("all_gather", _all_gather, normal((4,))),
    # Second order needs a zero tangent materialized inside the shard_map body; adkit's Zero does
    # not yet carry JAX's varying-manual-axes type, so that zero is rejected by check_vma.
    RuleCase("ppermute", _ppermute, normal((4,)), second_order=False),
    RuleCase("all_to_all", _all_to_all, normal((4,))),
    RuleCase("reduce_scatter", _psum_scatter, normal((4,))),
    RuleCase("axis_index", _axis_index, normal((4,))),
]
