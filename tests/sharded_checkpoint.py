"""A checkpointed scan's gradient over a state sharded across 8 simulated CPU devices equals
`lax.scan`'s, under `jax.grad` and `adkit.grad`.

Run by tests/test_checkpoint.py in a subprocess (the device count is fixed when JAX starts).
"""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import adkit
from adkit import checkpoint

jax.config.update("jax_enable_x64", True)
assert jax.device_count() == 8

mesh = Mesh(np.array(jax.devices()), ("d",))
rng = np.random.default_rng(0)
w = jnp.asarray(0.3 * rng.normal(size=(64,)))
h0 = jax.device_put(jnp.ones(64), NamedSharding(mesh, PartitionSpec("d")))
xs = jax.device_put(
    jnp.asarray(rng.normal(size=(40, 64))), NamedSharding(mesh, PartitionSpec(None, "d"))
)


def loss(scan, w, h0, xs):
    step = lambda h, x: (jnp.tanh(w * h + x), jnp.sum(h**2))
    h, ys = scan(step, h0, xs)
    return jnp.sum(h) + jnp.sum(ys)


expected = jax.grad(lambda *a: loss(jax.lax.scan, *a), (0, 1, 2))(w, h0, xs)
revolve = lambda f, init, xs: checkpoint.scan(f, init, xs, snapshots=4)
for gradient in (jax.grad, adkit.grad):
    got = jax.jit(gradient(lambda *a: loss(revolve, *a), (0, 1, 2)))(w, h0, xs)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
print("sharded checkpointed gradient ok")
