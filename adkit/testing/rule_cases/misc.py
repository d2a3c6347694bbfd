"""Rule cases for random keys and bits, debug effects, platform dispatch, total-order
comparisons and optimization barriers.

Random programs take either an integer seed or a key array as an argument (key arrays get
float0 tangents, as integers do).
"""

import jax
import jax.extend.random as jex_random
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import RuleCase, mixed, normal, values


def _with_key(*shapes):
    """Float arguments of the given shapes followed by a (new-style) key array."""
    return lambda dtype, rng: (*normal(*shapes)(dtype, rng), jax.random.key(7))


def _with_seed(*shapes):
    return mixed(normal(*shapes), lambda dtype, rng: (np.int32(11),))


def _noise_from_seed(x, seed):
    return x * jax.random.normal(jax.random.key(seed), x.shape, x.dtype)


def _noise_from_key(x, key):
    return jnp.sin(x) * jax.random.normal(key, x.shape, x.dtype)


def _split_noise(x, key):
    _, sub = jax.random.split(key)
    return x * jax.random.uniform(sub, x.shape, x.dtype)


def _fold_in_noise(x, key):
    return x**2 * jax.random.normal(jax.random.fold_in(key, 3), x.shape, x.dtype)


def _legacy_key_noise(x, seed):
    # PRNGKey: raw uint32 key data, wrapped into a key and unwrapped again
    return x * jax.random.normal(jax.random.PRNGKey(seed), x.shape, x.dtype)


def _clone_noise(x, key):
    return x * jax.random.normal(jax.random.clone(key), x.shape, x.dtype)


def _threefry_noise(x, seed):
    key = jnp.stack([seed, seed + 1]).astype(jnp.uint32)
    bits = jex_random.threefry_2x32(key, jnp.arange(x.size, dtype=jnp.uint32))
    return x * (bits >> 16).astype(x.dtype)


def _printed(x):
    jax.debug.print("adkit rule case: {}", x)
    return jnp.sin(x)


def _called_back(x, y):
    jax.debug.callback(lambda *_: None, x, y)
    return x * y


def _barrier(x, y):
    a, b, count = lax.optimization_barrier((x * y, jnp.cos(x), jnp.arange(3)))
    return a + b, count


def _barrier_partly_constant(x):
    a, b = lax.optimization_barrier((x, jnp.ones_like(x)))
    return a * b


def _total_order(primitive):
    return lambda x, y: jnp.where(primitive.bind(x, y), x, y)


_ORDER_SPECIAL = values([0.0, -0.0, 1.0, -2.0, 3.0], [-0.0, 0.0, 1.0, 2.0, -3.0])

CASES = [
    RuleCase("random_seed", _noise_from_seed, _with_seed((4,)), name="seed-argument"),
    RuleCase("random_bits", _noise_from_key, _with_key((2, 3)), name="key-argument"),
    RuleCase("random_split", _split_noise, _with_key((4,))),
    RuleCase("random_fold_in", _fold_in_noise, _with_key((3,))),
    RuleCase("random_wrap", _legacy_key_noise, _with_seed((4,))),
    RuleCase(
        "random_unwrap",
        lambda x, key: x * jax.random.key_data(key)[0].astype(x.dtype),
        _with_key((3,)),
    ),
    RuleCase("random_clone", _clone_noise, _with_key((3,))),
    RuleCase("threefry2x32", _threefry_noise, _with_seed((4,))),
    RuleCase("eq_to", _total_order(lax.eq_to_p), _ORDER_SPECIAL, name="special"),
    RuleCase("le_to", _total_order(lax.le_to_p), normal((4,), (4,))),
    RuleCase("lt_to", _total_order(lax.lt_to_p), _ORDER_SPECIAL, name="special"),
    RuleCase(
        "platform_index",
        lambda x: lax.platform_dependent(x, cpu=jnp.sin, default=jnp.cos),
        normal((3,)),
    ),
    RuleCase("platform_index", lambda x: jnp.diagonal(x) * 2, normal((3, 3)), name="diagonal"),
    RuleCase("debug_print", _printed, normal((3,))),
    RuleCase("debug_callback", _called_back, normal((3,), (3,))),
    RuleCase("optimization_barrier", _barrier, normal((3,), (3,))),
    RuleCase("optimization_barrier", _barrier_partly_constant, normal((2, 2)), name="constant"),
]
