"""A checkpointed scan's gradient over a state sharded across 8 simulated CPU devices equals
`lax.scan`'s, under `jax.grad` and `adkit.grad`, and its forward mode `lax.scan`'s; the online
checkpointed while loop's gradient equals `lax.while_loop`'s forward mode.

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
tangents = (jnp.ones_like(w), jnp.zeros_like(h0), jnp.zeros_like(xs))
expected_jvp = jax.jvp(lambda *a: loss(jax.lax.scan, *a), (w, h0, xs), tangents)
for jvp in (jax.jvp, adkit.jvp):
    got = jax.jit(lambda *a, jvp=jvp: jvp(lambda *b: loss(revolve, *b), a, tangents))(w, h0, xs)
    np.testing.assert_allclose(got, expected_jvp, rtol=1e-12)


def until(loop, w, h0):
    body = lambda c: (c[0] + 1, jnp.tanh(w * c[1]) + 0.1)
    return jnp.sum(loop(lambda c: c[0] < 30, body, (0, h0))[1])


online = lambda c, b, i: checkpoint.while_loop(c, b, i, max_steps=50, snapshots=4)
expected = jax.jacfwd(lambda *a: until(jax.lax.while_loop, *a), (0, 1))(w, h0)
for gradient in (jax.grad, adkit.grad):
    got = jax.jit(gradient(lambda *a: until(online, *a), (0, 1)))(w, h0)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
print("sharded checkpointed gradient ok")
