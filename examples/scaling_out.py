"""Scaling out: adkit's gradients on 8 devices, two ways, checked against one device.

adkit's transformations emit ordinary JAX, so data parallelism is JAX's own: put the batch on a
mesh and let `jax.jit` partition the gradient (the compiler inserts the all-reduce), or write the
per-device program with `jax.shard_map` and average the gradients with `lax.pmean` yourself.
Both are shown on a small MLP regression, each checked against the same gradient computed on one
device by `jax.grad`.

Without accelerators, simulate 8 CPU devices; the flag must be set before JAX starts, which this
script does when run directly:

    python examples/scaling_out.py

On a machine with 8 GPUs or TPU cores, drop the flag: the same code runs there. Across several
machines, see "Scaling out" in the docs (`jax.distributed.initialize`).
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import adkit

DEVICES = 8


def init_params(key, sizes=(16, 64, 64, 1)):
    params = []
    keys = jax.random.split(key, len(sizes) - 1)
    for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:], strict=True):
        params.append(
            {"w": jax.random.normal(k, (n_in, n_out)) / jnp.sqrt(n_in), "b": jnp.zeros(n_out)}
        )
    return params


def loss(params, x, y):
    h = x
    for layer in params[:-1]:
        h = jnp.tanh(h @ layer["w"] + layer["b"])
    prediction = h @ params[-1]["w"] + params[-1]["b"]
    return jnp.mean((prediction[:, 0] - y) ** 2)


# --8<-- [start:main]
def main():
    if len(jax.devices()) < DEVICES:
        raise SystemExit(
            f"This example needs {DEVICES} devices and JAX sees {len(jax.devices())}. Run it as a "
            "script (it sets XLA_FLAGS=--xla_force_host_platform_device_count=8 before JAX "
            "starts), or set that flag yourself before importing jax."
        )
    key_params, key_x = jax.random.split(jax.random.key(0))
    params = init_params(key_params)
    x = jax.random.normal(key_x, (1024, 16))
    y = jnp.sin(x.sum(axis=1))
    reference = jax.jit(jax.grad(loss))(params, x, y)  # one device, JAX's autodiff

    mesh = jax.make_mesh((DEVICES,), ("data",))
    batch = NamedSharding(mesh, P("data"))  # rows split over the devices
    replicated = NamedSharding(mesh, P())
    xs, ys = jax.device_put(x, batch), jax.device_put(y, batch)
    ps = jax.device_put(params, replicated)
    print(
        f"batch {x.shape} on {len(xs.sharding.device_set)} devices, "
        f"{x.shape[0] // DEVICES} rows each"
    )

    # 1. Let the compiler partition adkit's gradient.
    grad_jit = jax.jit(adkit.grad(loss), out_shardings=replicated)
    grads = grad_jit(ps, xs, ys)
    compiled = grad_jit.lower(ps, xs, ys).compile().as_text()
    assert "all-reduce" in compiled  # the cross-device sum XLA inserted

    # 2. Write the per-device program. Inside shard_map, differentiate the global loss (the
    # mean of the devices' losses): the gradient of the replicated parameters then comes back
    # already summed over devices, as the transpose of their implicit broadcast. (Averaging
    # per-device gradients of the local loss with another pmean would count them 8 times.)
    def local_grad(params, x, y):
        return adkit.grad(lambda p: jax.lax.pmean(loss(p, x, y), "data"))(params)

    per_device = jax.jit(
        jax.shard_map(local_grad, mesh=mesh, in_specs=(P(), P("data"), P("data")), out_specs=P())
    )
    grads_shard_map = per_device(ps, xs, ys)

    for name, got in (("jit", grads), ("shard_map", grads_shard_map)):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(reference), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
        leaf = jax.tree.leaves(got)[0]
        print(
            f"{name:9s}: gradient on {len(leaf.sharding.device_set)} devices, replicated: "
            f"{leaf.sharding.is_fully_replicated}"
        )
    print("the 8-device gradients match one device's")


# --8<-- [end:main]


if __name__ == "__main__":
    main()
