"""Run as a script with 4 simulated CPU devices (the device count must be set before JAX
starts, so tests/test_sharding.py runs this in a fresh process). Exits non-zero on mismatch."""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import adkit

jax.config.update("jax_enable_x64", True)


def main():
    mesh = jax.make_mesh((4,), ("i",))

    def body(x, w):
        local = jnp.sin(x) * jax.lax.psum(jnp.sum(x * w), "i")
        return local, jax.lax.all_gather(x, "i", tiled=True) * 2.0

    f = jax.shard_map(body, mesh=mesh, in_specs=(P("i"), P()), out_specs=(P("i"), P("i")))
    x = jax.device_put(jnp.linspace(-1.0, 1.0, 8), NamedSharding(mesh, P("i")))
    w = jnp.float64(0.7)
    tangents = (jax.device_put(jnp.ones(8) * 0.5, NamedSharding(mesh, P("i"))), jnp.float64(1.0))
    ours = adkit.jvp(f, (x, w), tangents)
    theirs = jax.jvp(f, (x, w), tangents)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    names = adkit._jax_compat.primitives_in(jax.make_jaxpr(f)(x, w))
    assert {"shard_map", "psum_invariant", "pvary", "all_gather"} <= names, names
    print("sharded jvp ok", sorted(names))

    # reverse mode, both paths, against jax.vjp
    out, jax_vjp = jax.vjp(f, x, w)
    sharded = NamedSharding(mesh, P("i"))
    ct = jax.tree.map(lambda o: jax.device_put(jnp.cos(jnp.arange(o.size) * 1.0), sharded), out)
    expected = jax_vjp(ct)
    for method in ("tape", "transpose"):
        _, f_vjp = adkit.vjp(f, x, w, method=method)
        for a, b in zip(jax.tree.leaves(f_vjp(ct)), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
        loss = lambda x, w: jnp.sum(f(x, w)[0] ** 2) + jnp.sum(jnp.sin(f(x, w)[1]))
        with jax.set_mesh(mesh):  # the scalar loss lives on the mesh
            grads = jax.jit(adkit.grad(loss, (0, 1), method=method))(x, w)
            expected_grads = jax.grad(loss, (0, 1))(x, w)
        for a, b in zip(grads, expected_grads, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
        print("sharded vjp ok", method)

    explicit_mesh()


def explicit_mesh():
    """Under an Explicit mesh (make_mesh's default), array types carry their sharding; a
    cotangent through a dot_general contracting the sharded batch must be told its sharding."""
    mesh = jax.make_mesh((4,), ("i",), axis_types=(jax.sharding.AxisType.Explicit,))
    x = jax.device_put(jnp.linspace(-1.0, 1.0, 24).reshape(8, 3), NamedSharding(mesh, P("i")))
    w = jax.device_put(jnp.linspace(0.5, 1.5, 6).reshape(3, 2), NamedSharding(mesh, P()))
    loss = lambda w, x: jnp.mean(jnp.tanh(x @ w) ** 2)
    with jax.set_mesh(mesh):
        expected = jax.jit(jax.grad(loss, (0, 1)))(w, x)
        for method in ("tape", "transpose"):
            grads = jax.jit(adkit.grad(loss, (0, 1), method=method))(w, x)
            for a, b in zip(grads, expected, strict=True):
                assert a.sharding.spec == b.sharding.spec, (a.sharding, b.sharding)
                np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    print("explicit mesh grad ok")


if __name__ == "__main__":
    main()
