"""The compressed products of a sparse Jacobian spread over 8 simulated CPU devices, one share
of the colors on each, with the same Jacobian as on one device.

Run by tests/test_sparse.py in a subprocess (the device count is fixed when JAX starts).
"""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"

import jax
import numpy as np

from adkit import sparse
from adkit.bench.suites import sparse_problems as problems

jax.config.update("jax_enable_x64", True)
assert jax.device_count() == 8

f, x = problems.brusselator(16)
one = sparse.prepare(f, x, mode="forward")
spread = sparse.prepare(f, x, mode="forward", devices=8)
_, b, _ = jax.jit(lambda p, v: p.products(v))(spread, x)
assert len(b.sharding.device_set) == 8 or b.shape[0] < 8, b.sharding
np.testing.assert_array_equal(jax.jit(lambda p, v: p.values(v))(spread, x), one.values(x))
np.testing.assert_array_equal(one(x).todense(), jax.jacfwd(f)(x))
print("sharded sparse jacobian ok")
