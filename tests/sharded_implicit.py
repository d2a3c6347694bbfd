"""A DEQ gradient over a batch sharded across 8 simulated CPU devices equals the unsharded one.

Run by tests/test_implicit.py in a subprocess (the device count is fixed when JAX starts).
"""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from adkit import implicit
from adkit.bench.suites.implicit_problems import deq_cell, deq_params

jax.config.update("jax_enable_x64", True)
assert jax.device_count() == 8

params = deq_params(width=32, inputs=8)
xs = jax.random.normal(jax.random.key(0), (16, 8), jnp.float64)


def loss(params, xs):
    solve = lambda x: (
        implicit.anderson(
            deq_cell, jnp.zeros(32, jnp.float64), params, x, tol=1e-12, solve="neumann"
        ).value
    )
    return jnp.sum(jax.vmap(solve)(xs) ** 2)


mesh = Mesh(np.array(jax.devices()), ("batch",))
sharded_xs = jax.device_put(xs, NamedSharding(mesh, PartitionSpec("batch")))
with implicit.record() as stats:
    sharded = jax.block_until_ready(jax.jit(jax.grad(loss))(params, sharded_xs))
single = jax.jit(jax.grad(loss))(params, jax.device_put(xs, jax.devices()[0]))
for name in ("W", "U", "b"):
    np.testing.assert_allclose(sharded[name], single[name], rtol=1e-10)
assert sharded_xs.sharding.spec == PartitionSpec("batch")
assert stats and all(np.all(s.converged) for s in stats)
print("sharded implicit gradient ok")
