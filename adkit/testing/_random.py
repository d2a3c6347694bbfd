"""Random directions for derivative checks."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def random_like(tree: Any, rng: np.random.Generator) -> Any:
    """Standard normal draws shaped like each leaf of `tree` (arrays, scalars or
    `jax.ShapeDtypeStruct`s), complex for complex leaves, and float0 zeros for integer and
    boolean leaves (which have no tangent)."""

    def draw(x):
        if not hasattr(x, "dtype"):
            x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            return np.zeros(x.shape, jax.dtypes.float0)
        value = rng.standard_normal(x.shape)
        if jnp.issubdtype(x.dtype, jnp.complexfloating):
            value = value + 1j * rng.standard_normal(x.shape)
        return jnp.asarray(value, x.dtype)

    return jax.tree.map(draw, tree)
