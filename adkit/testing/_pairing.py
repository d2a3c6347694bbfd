"""The pairing of cotangents with tangents that every dot-product test uses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def pairing(a, b) -> float:
    """Re Σ a·b over matching leaves (JAX's convention: no conjugate), float0 leaves left out.

    Examples:
        >>> import jax.numpy as jnp
        >>> pairing((jnp.array([1.0, 2.0]),), (jnp.array([3.0, 4.0]),))
        11.0
    """
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    kept = [(x, y) for x, y in pairs if jnp.result_type(x) != jax.dtypes.float0]
    return float(sum(np.real(np.sum(np.asarray(x) * np.asarray(y))) for x, y in kept))
